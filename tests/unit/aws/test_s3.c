/*
** test_s3.c: offline checks of the AWS/S3 layer, plus driver modes that the
** integration tests run against the test stack.
**
**   test_s3                      offline: URL parsing, coalescing plan, glob
**                                prefix, error bodies (XML and JSON), shared
**                                files, region/endpoint, credential chain
**                                order, no-credentials error, secrets never in
**                                error text
**   test_s3 creds                resolve credentials with the chain; prints
**                                "source akid token|-" (never the secret) or
**                                "ERROR <status> <message>"
**   test_s3 readat URL FILE      open URL as a BzReadAt and compare reads,
**                                coalescing, prefetch and counters against the
**                                local copy FILE; prints "ok ..." lines
**   test_s3 get URL OFF LEN      one range read through the BzReadAt; prints
**                                the bytes as hex, or "ERROR ..."
**   test_s3 glob URL             prints "key size etag" per match
**   test_s3 put URL FILE         PutObject (multipart above 16 MiB); prints the ETag
*/
#include "aws/s3/aws_s3.h"
#include "bz_test.h"

#include <stdlib.h>
#include <unistd.h>

static const char *SECRET = "SeCrEt/NEVER+SHOWN0123456789abcdefghijkl";

static void test_urls(void) {
    char *b, *k;
    BzErr err = {0};
    CHECK_EQ_INT(aws_s3_parse_url("s3://bkt/a/b c.parquet", &b, &k, &err), BZ_OK);
    CHECK_EQ_STR(b, "bkt");
    CHECK_EQ_STR(k, "a/b c.parquet");
    bz_free(b);
    bz_free(k);
    CHECK_EQ_INT(aws_s3_parse_url("s3://bkt", &b, &k, &err), BZ_OK);
    CHECK_EQ_STR(k, "");
    bz_free(b);
    bz_free(k);
    CHECK_EQ_INT(aws_s3_parse_url("http://x/y", &b, &k, &err), BZ_MISUSE);
    CHECK_EQ_INT(aws_s3_parse_url("s3:///key", &b, &k, &err), BZ_MISUSE);
    CHECK_EQ_INT(aws_s3_parse_url("nope", &b, &k, &err), BZ_MISUSE); /* no scheme, no slash */
    CHECK(strstr(err.msg, "nope: not an s3:// URL") != NULL);
    CHECK_EQ_INT(aws_s3_glob_prefix_len("data/x=1/*.parquet"), 9);
    CHECK_EQ_INT(aws_s3_glob_prefix_len("plain/key"), 9);
}

static void test_coalesce(void) {
    BzRange r[5] = {{5000000, 10, 0}, {0, 100, 0}, {200, 50, 0}, {1100000, 10, 0}, {300, 0, 0}};
    int g[5];
    uint64_t s[5], l[5];
    int ng = aws_s3_coalesce(r, 5, 1u << 20, 64u << 20, g, s, l);
    CHECK_EQ_INT(ng, 3);
    CHECK_EQ_INT(g[1], 0);
    CHECK_EQ_INT(g[2], 0);
    CHECK_EQ_INT(g[3], 1); /* 1 099 750 past the end of group 0: more than 1 MiB */
    CHECK_EQ_INT(g[0], 2);
    CHECK_EQ_INT(g[4], -1);
    CHECK_EQ_INT(s[0], 0);
    CHECK_EQ_INT(l[0], 250);
    /* a tiny max_merge keeps them apart */
    ng = aws_s3_coalesce(r, 5, 1u << 20, 100, g, s, l);
    CHECK_EQ_INT(ng, 4);
    /* gaps above 8 KiB merge only within a waste budget of 1/16 of the bytes asked for */
    {
        BzRange t[3] = {{0, 100000, 0}, {110000, 100000, 0}, {400000, 100000, 0}};
        /* gap 10000 fits in the budget (300000 / 16 = 18750), gap 190000 does not */
        CHECK_EQ_INT(aws_s3_coalesce(t, 3, 1u << 20, 64u << 20, g, s, l), 2);
        CHECK_EQ_INT(l[0], 210000);
        CHECK_EQ_INT(g[2], 1);
    }
    /* gap 0: only touching/overlapping ranges merge */
    {
        BzRange t[3] = {{0, 10, 0}, {10, 10, 0}, {21, 1, 0}};
        CHECK_EQ_INT(aws_s3_coalesce(t, 3, 0, 1000, g, s, l), 2);
    }
}

static void test_error_bodies(void) {
    char code[64], msg[256], rid[64], reg[64];
    const char *xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified "
                      "key does not exist.</Message><Key>a</Key><RequestId>R1</RequestId></Error>";
    const char *redir = "<Error><Code>PermanentRedirect</Code><Message>m</Message>"
                        "<Region>eu-west-1</Region></Error>";
    const char *json = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                       "\"message\":\"Requested resource not found\"}";
    code[0] = msg[0] = rid[0] = reg[0] = 0;
    CHECK(aws_parse_error_body(xml, strlen(xml), code, 64, msg, 256, rid, 64, reg, 64));
    CHECK_EQ_STR(code, "NoSuchKey");
    CHECK_EQ_STR(msg, "The specified key does not exist.");
    CHECK_EQ_STR(rid, "R1");
    code[0] = msg[0] = rid[0] = reg[0] = 0;
    CHECK(aws_parse_error_body(redir, strlen(redir), code, 64, msg, 256, rid, 64, reg, 64));
    CHECK_EQ_STR(reg, "eu-west-1");
    code[0] = msg[0] = 0;
    CHECK(aws_parse_error_body(json, strlen(json), code, 64, msg, 256, rid, 64, reg, 64));
    CHECK_EQ_STR(code, "ResourceNotFoundException");
    CHECK_EQ_STR(msg, "Requested resource not found");
    code[0] = 0;
    CHECK(!aws_parse_error_body("garbage", 7, code, 64, msg, 256, rid, 64, reg, 64));
    CHECK(!aws_parse_error_body("<Error><Code>", 13, code, 64, msg, 256, rid, 64, reg, 64) ||
          code[0] == 0);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void clear_env(void) {
    const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                          "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                          "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL",
                          "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_LAMBDA",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT"};
    size_t i;
    for (i = 0; i < BZ_ARRAY_LEN(vars); i++) unsetenv(vars[i]);
    /* never reach the real instance metadata service from a test */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void test_config(void) {
    char dir[] = "/tmp/bz_aws_test_XXXXXX", cpath[256], kpath[256];
    AwsCreds c;
    const char *src;
    BzErr err = {0};
    char *v;
    if (!mkdtemp(dir)) return;
    snprintf(cpath, sizeof cpath, "%s/credentials", dir);
    snprintf(kpath, sizeof kpath, "%s/config", dir);
    write_file(cpath, "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n"
                      "# comment\n[dev]\n aws_access_key_id=AKIDDEV \naws_secret_access_key= s2\n"
                      "aws_session_token = tok2\n");
    write_file(kpath, "[default]\nregion = eu-north-1\n[profile dev]\nregion = ap-south-1\n"
                      "[profile cfgonly]\naws_access_key_id = AKIDCFG\naws_secret_access_key = s3\n");
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", cpath, 1);
    setenv("AWS_CONFIG_FILE", kpath, 1);

    v = aws_ini_get(kpath, "profile dev", "region");
    CHECK_EQ_STR(v, "ap-south-1");
    bz_free(v);
    CHECK(aws_ini_get(kpath, "profile nope", "region") == NULL);

    /* profile files */
    CHECK_EQ_INT(aws_creds_resolve(NULL, &c, &src, &err), BZ_OK);
    CHECK_EQ_STR(c.access_key_id, "AKIDDEFAULT");
    CHECK_EQ_STR(src, "profile");
    aws_creds_clear(&c);
    setenv("AWS_PROFILE", "dev", 1);
    CHECK_EQ_INT(aws_creds_resolve(NULL, &c, &src, &err), BZ_OK);
    CHECK_EQ_STR(c.access_key_id, "AKIDDEV");
    CHECK_EQ_STR(c.session_token, "tok2");
    aws_creds_clear(&c);
    v = aws_region_resolve(NULL);
    CHECK_EQ_STR(v, "ap-south-1");
    bz_free(v);
    CHECK_EQ_INT(aws_creds_resolve("cfgonly", &c, &src, &err), BZ_OK);
    CHECK_EQ_STR(c.access_key_id, "AKIDCFG");
    aws_creds_clear(&c);
    CHECK_EQ_INT(aws_creds_resolve("missing", &c, &src, &err), BZ_AUTH);
    CHECK(strstr(err.msg, "missing") != NULL);

    /* environment wins over files; region env wins over profile */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", "envtok", 1);
    CHECK_EQ_INT(aws_creds_resolve(NULL, &c, &src, &err), BZ_OK);
    CHECK_EQ_STR(c.access_key_id, "AKIDENV");
    CHECK_EQ_STR(src, "env");
    aws_creds_clear(&c);
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    v = aws_region_resolve(NULL);
    CHECK_EQ_STR(v, "us-west-1");
    bz_free(v);
    setenv("AWS_REGION", "us-west-2", 1);
    v = aws_region_resolve(NULL);
    CHECK_EQ_STR(v, "us-west-2");
    bz_free(v);

    /* endpoints */
    CHECK(aws_endpoint_resolve("s3", NULL) == NULL);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
    v = aws_endpoint_resolve("dynamodb", NULL);
    CHECK_EQ_STR(v, "http://127.0.0.1:1");
    bz_free(v);
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2", 1);
    v = aws_endpoint_resolve("s3", NULL);
    CHECK_EQ_STR(v, "http://127.0.0.1:2");
    bz_free(v);
    v = aws_endpoint_resolve("s3", "http://explicit:3");
    CHECK_EQ_STR(v, "http://explicit:3");
    bz_free(v);

    /* addressing: virtual-hosted on AWS, path-style on custom endpoints */
    {
        AwsClientOptions o = {.service = "s3", .region = "eu-west-1"};
        AwsClient *cl;
        unsetenv("AWS_ENDPOINT_URL");
        unsetenv("AWS_ENDPOINT_URL_S3");
        CHECK_EQ_INT(aws_client_new(&o, &cl, &err), BZ_OK);
        v = aws_client_base_url(cl, "my-bucket");
        CHECK_EQ_STR(v, "https://my-bucket.s3.eu-west-1.amazonaws.com");
        bz_free(v);
        v = aws_client_base_url(cl, "dotted.bucket");
        CHECK_EQ_STR(v, "https://s3.eu-west-1.amazonaws.com/dotted.bucket");
        bz_free(v);
        aws_client_free(cl);
        o.endpoint = "http://127.0.0.1:9000/";
        CHECK_EQ_INT(aws_client_new(&o, &cl, &err), BZ_OK);
        v = aws_client_base_url(cl, "my-bucket");
        CHECK_EQ_STR(v, "http://127.0.0.1:9000/my-bucket");
        bz_free(v);
        aws_client_free(cl);
        o.endpoint = "ftp://x";
        CHECK_EQ_INT(aws_client_new(&o, &cl, &err), BZ_MISUSE);
    }

    /* no credentials at all (IMDS disabled): a clear error */
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    CHECK_EQ_INT(aws_creds_resolve(NULL, &c, &src, &err), BZ_AUTH);
    CHECK(strstr(err.msg, "no AWS credentials") != NULL);

    /* a request without credentials fails before any network I/O, naming the URL */
    {
        AwsS3Options o = {.endpoint = "http://127.0.0.1:9"};
        BzBuf b;
        AwsS3 *s3;
        bz_buf_init(&b, 0);
        CHECK_EQ_INT(aws_s3_new(&o, &s3, &err), BZ_OK);
        CHECK_EQ_INT(aws_s3_get(s3, "bkt", "k", 0, UINT64_MAX, &b, NULL, &err), BZ_AUTH);
        CHECK(strstr(err.msg, "s3://bkt/k") != NULL);
        aws_s3_free(s3);
        bz_buf_free(&b);
    }

    /* secrets never in error text: unreachable endpoint with real-looking creds */
    {
        AwsS3Options o = {.endpoint = "http://127.0.0.1:9", .max_attempts = 2,
                          .connect_timeout_ms = 500};
        BzBuf b;
        AwsS3 *s3;
        uint64_t t0;
        setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
        setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
        setenv("AWS_SESSION_TOKEN", "TOKEN-SHOULD-NOT-LEAK", 1);
        bz_buf_init(&b, 0);
        CHECK_EQ_INT(aws_s3_new(&o, &s3, &err), BZ_OK);
        t0 = bz_now_ms();
        CHECK_EQ_INT(aws_s3_get(s3, "bkt", "k", 0, 10, &b, NULL, &err), BZ_IO);
        CHECK(bz_now_ms() - t0 < 5000);
        CHECK(strstr(err.msg, "s3://bkt/k") != NULL);
        CHECK(strstr(err.msg, "ConnectionRefused") != NULL);
        CHECK(strstr(err.msg, SECRET) == NULL);
        CHECK(strstr(err.msg, "TOKEN-SHOULD-NOT-LEAK") == NULL);
        aws_s3_free(s3);
        bz_buf_free(&b);
    }
    /* a malformed container reply is reported without echoing it */
    clear_env();
    unlink(cpath);
    unlink(kpath);
    rmdir(dir);
}

/* ---- driver modes ---------------------------------------------------------- */

static int mode_creds(void) {
    AwsCreds c;
    const char *src = NULL;
    BzErr err = {0};
    AwsCredsCache *cc;
    if (aws_creds_cache_new(NULL, &cc, &err) || aws_creds_cache_get(cc, &c, &err)) {
        printf("ERROR %s %s\n", bz_status_name(err.code), err.msg);
        aws_creds_cache_free(cc);
        return 0;
    }
    {
        /* a second get: served from the cache, or refreshed when expiring soon */
        AwsCreds c2;
        if (aws_creds_cache_get(cc, &c2, &err) == BZ_OK) aws_creds_clear(&c2);
    }
    {
        AwsCreds tmp;
        if (aws_creds_resolve(NULL, &tmp, &src, &err) == BZ_OK) aws_creds_clear(&tmp);
    }
    printf("%s %s %s %lld\n", src ? src : "?", c.access_key_id, c.session_token ? c.session_token : "-",
           (long long)c.expires_at);
    aws_creds_clear(&c);
    aws_creds_cache_free(cc);
    return 0;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    char *p;
    long sz;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)sz + 1);
    if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)sz;
    return p;
}

static int mode_readat(const char *url, const char *file) {
    size_t n;
    char *want = slurp(file, &n);
    BzReadAt *src;
    BzErr err = {0};
    int bad = 0, i;
    uint64_t req0;
    if (!want) return printf("cannot read %s\n", file), 1;
    if (aws_s3_open_readat(url, NULL, &src, &err)) {
        printf("ERROR %s\n", err.msg);
        free(want);
        return 1;
    }
#define EXPECT(c, ...) \
    do { if (c) printf("ok   " __VA_ARGS__); else { bad++; printf("FAIL " __VA_ARGS__); } } while (0)
    EXPECT(src->size == n, "size %llu\n", (unsigned long long)src->size);
    EXPECT(src->etag && src->etag[0], "etag %s\n", src->etag ? src->etag : "");
    EXPECT(src->n_requests == 1, "HEAD counted (%llu)\n", (unsigned long long)src->n_requests);
    {
        char tail[8];
        int rc = src->read_at(src, n - 8, 8, tail, &err);
        EXPECT(rc == 0 && !memcmp(tail, want + n - 8, 8), "tail read %s\n", rc ? err.msg : "");
    }
    /* 6 ranges: 3 near the start (two requests), 2 near 2 MiB (one), 1 at the end */
    {
        BzRange r[6];
        char *bufs[6];
        uint64_t offs[6] = {0, 1000, 70000, 2u << 20, (2u << 20) + 5000, n - 100000};
        size_t lens[6] = {100, 5000, 30000, 4096, 10000, 100000};
        uint64_t b0 = src->bytes_read;
        req0 = src->n_requests;
        for (i = 0; i < 6; i++) {
            bufs[i] = malloc(lens[i]);
            r[i] = (BzRange){offs[i], lens[i], bufs[i]};
        }
        i = bz_readat_ranges(src, r, 6, &err);
        EXPECT(i == 0, "read_ranges %s\n", i ? err.msg : "");
        for (i = 0; i < 6; i++)
            EXPECT(!memcmp(bufs[i], want + offs[i], lens[i]), "range %d bytes match\n", i);
        /* the 900-byte gap merges (under 8 KiB); the 64,000-byte gap would waste
        ** more than 1/16 of the 149,196 bytes asked for, so it stays a request */
        EXPECT(src->n_requests - req0 == 4, "coalesced into 4 requests (%llu)\n",
               (unsigned long long)(src->n_requests - req0));
        EXPECT(src->bytes_read - b0 == 6000 + 30000 + 15000 + 100000, "bytes_read %llu\n",
               (unsigned long long)(src->bytes_read - b0));
        /* prefetch, then the same read is served without new requests */
        src->prefetch(src, r, 6);
        usleep(200000);
        req0 = src->n_requests;
        memset(bufs[3], 0, lens[3]);
        i = bz_readat_ranges(src, r, 6, &err);
        EXPECT(i == 0 && !memcmp(bufs[3], want + offs[3], lens[3]), "read after prefetch\n");
        EXPECT(src->n_requests == req0, "served from the prefetch cache (%llu new requests)\n",
               (unsigned long long)(src->n_requests - req0));
        for (i = 0; i < 6; i++) free(bufs[i]);
    }
    /* many ranges far apart: parallel requests */
    {
        BzRange r[16];
        char *buf = malloc(16 * 1000);
        uint64_t t0 = bz_now_ms();
        for (i = 0; i < 16; i++) r[i] = (BzRange){(uint64_t)i * (n / 16), 1000, buf + i * 1000};
        i = bz_readat_ranges(src, r, 16, &err);
        EXPECT(i == 0, "16 far ranges %s (%llu ms)\n", i ? err.msg : "",
               (unsigned long long)(bz_now_ms() - t0));
        for (i = 0; i < 16; i++)
            if (memcmp(buf + i * 1000, want + (uint64_t)i * (n / 16), 1000)) break;
        EXPECT(i == 16, "16 far ranges match\n");
        free(buf);
    }
    /* past the end is an error naming the URL */
    {
        char b[4];
        i = src->read_at(src, n - 2, 4, b, &err);
        EXPECT(i == BZ_CORRUPT && strstr(err.msg, url + 5), "past end: %s\n", err.msg);
    }
    bz_readat_close(src);
    free(want);
    printf("%d failed\n", bad);
    return bad ? 1 : 0;
}

static int mode_get(const char *url, uint64_t off, size_t len) {
    BzReadAt *src;
    BzErr err = {0};
    unsigned char *b = malloc(len + 1);
    size_t i;
    int rc = aws_s3_open_readat(url, NULL, &src, &err);
    if (!rc) {
        rc = src->read_at(src, off, len, b, &err);
        if (!rc) {
            for (i = 0; i < len; i++) printf("%02x", b[i]);
            printf("\n");
            fprintf(stderr, "requests=%llu bytes=%llu\n", (unsigned long long)src->n_requests,
                    (unsigned long long)src->bytes_read);
        }
        bz_readat_close(src);
    }
    if (rc) printf("ERROR %s %s\n", bz_status_name(err.code), err.msg);
    free(b);
    return 0;
}

static int print_obj(void *u, const AwsS3Object *o) {
    (void)u;
    printf("%s %llu %s\n", o->key, (unsigned long long)o->size, o->etag);
    return 0;
}

static int mode_glob(const char *url) {
    AwsS3 *s3;
    BzErr err = {0};
    int rc = aws_s3_new(NULL, &s3, &err);
    if (!rc) rc = aws_s3_glob(s3, url, print_obj, NULL, &err);
    if (rc) printf("ERROR %s %s\n", bz_status_name(err.code), err.msg);
    aws_s3_free(s3);
    return 0;
}

static int mode_put(const char *url, const char *file) {
    size_t n;
    char *data = slurp(file, &n), *b = NULL, *k = NULL, *etag = NULL;
    AwsS3 *s3 = NULL;
    BzErr err = {0};
    int rc = aws_s3_parse_url(url, &b, &k, &err);
    if (!rc) rc = aws_s3_new(NULL, &s3, &err);
    if (!rc) rc = aws_s3_put(s3, b, k, data, n, &etag, &err);
    if (rc) printf("ERROR %s %s\n", bz_status_name(err.code), err.msg);
    else printf("%s\n", etag);
    bz_free(etag);
    bz_free(b);
    bz_free(k);
    aws_s3_free(s3);
    free(data);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "creds")) return mode_creds();
    if (argc > 3 && !strcmp(argv[1], "readat")) return mode_readat(argv[2], argv[3]);
    if (argc > 4 && !strcmp(argv[1], "get"))
        return mode_get(argv[2], strtoull(argv[3], NULL, 10), (size_t)strtoull(argv[4], NULL, 10));
    if (argc > 2 && !strcmp(argv[1], "glob")) return mode_glob(argv[2]);
    if (argc > 3 && !strcmp(argv[1], "put")) return mode_put(argv[2], argv[3]);
    test_urls();
    test_coalesce();
    test_error_bodies();
    test_config();
    TEST_DONE();
}
