/*
** test_sigv4.c: SigV4 against AWS's published examples, plus a driver mode.
**
**   build/tests/aws/test_sigv4          run the checks (AWS S3 API Reference
**                                       "Examples: Signature Calculations",
**                                       the sigv4 test suite's get-vanilla, URI
**                                       encoding, dates)
**   build/tests/aws/test_sigv4 --cli    read requests as JSON lines on stdin,
**                                       print one Authorization header (or
**                                       presigned query) per line; used by
**                                       tests/python/test_sigv4_botocore.py
**
** JSON line: {"method","host","path","params":[[k,v|null]...],"headers":[[k,v]...],
**             "payload_hex","unsigned":bool,"service","region","akid","secret",
**             "token"|null,"date":"20130524T000000Z","presign":seconds|0}
*/
#include "aws/aws_sigv4.h"
#include "bz_test.h"

#include <cJSON.h>
#include <stdlib.h>

#define EX_AKID "AKIAIOSFODNN7EXAMPLE"
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int64_t fixed_clock(void) { return aws_parse_amz_date("20130524T000000Z"); }

static void test_examples(void) {
    AwsCreds c = {EX_AKID, EX_SECRET, NULL, 0};
    AwsSigned s;
    BzErr err = {0};

    /* GET Object with Range (S3 API Reference example 1) */
    {
        AwsHeader h[] = {{"Range", "bytes=0-9"}};
        AwsSigReq r = {.method = "GET", .host = "examplebucket.s3.amazonaws.com",
                       .path = "/test.txt", .headers = h, .n_headers = 1,
                       .service = "s3", .region = "us-east-1"};
        CHECK_EQ_INT(aws_sigv4_sign(&r, &c, &s, &err), BZ_OK);
        CHECK_EQ_STR(s.authorization,
                     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                     "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                     "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
        CHECK_EQ_STR(s.content_sha256, EMPTY_SHA);
        CHECK_EQ_STR(s.amz_date, "20130524T000000Z");
        CHECK(s.send_content_sha256);
        aws_signed_free(&s);
    }
    /* PUT Object (example 2): key with '$', Date header, storage class */
    {
        const char *body = "Welcome to Amazon S3.";
        AwsHeader h[] = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                         {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
        AwsSigReq r = {.method = "PUT", .host = "examplebucket.s3.amazonaws.com",
                       .path = "/test$file.text", .headers = h, .n_headers = 2,
                       .payload = body, .n_payload = strlen(body),
                       .service = "s3", .region = "us-east-1"};
        CHECK_EQ_INT(aws_sigv4_sign(&r, &c, &s, &err), BZ_OK);
        CHECK_EQ_STR(s.authorization,
                     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                     "aws4_request, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                     "x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd"
                     "77a1b5971af0ece108bd");
        CHECK_EQ_STR(s.url_path, "/test%24file.text");
        aws_signed_free(&s);
    }
    /* GET Bucket Lifecycle (example 3): parameter without '=' */
    {
        AwsParam q[] = {{"lifecycle", NULL}};
        AwsSigReq r = {.method = "GET", .host = "examplebucket.s3.amazonaws.com", .path = "/",
                       .params = q, .n_params = 1, .service = "s3", .region = "us-east-1"};
        CHECK_EQ_INT(aws_sigv4_sign(&r, &c, &s, &err), BZ_OK);
        CHECK(strstr(s.authorization, "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac"
                                      "7a200a0136783543") != NULL);
        CHECK_EQ_STR(s.query, "lifecycle=");
        aws_signed_free(&s);
    }
    /* GET Bucket (List Objects) (example 4): sorted parameters */
    {
        AwsParam q[] = {{"prefix", "J"}, {"max-keys", "2"}};
        AwsSigReq r = {.method = "GET", .host = "examplebucket.s3.amazonaws.com", .path = "/",
                       .params = q, .n_params = 2, .service = "s3", .region = "us-east-1"};
        CHECK_EQ_INT(aws_sigv4_sign(&r, &c, &s, &err), BZ_OK);
        CHECK(strstr(s.authorization, "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db667"
                                      "0ed5711ef69dc6f7") != NULL);
        CHECK_EQ_STR(s.query, "max-keys=2&prefix=J");
        aws_signed_free(&s);
    }
    /* Presigned URL (Query String Authentication example) */
    {
        AwsSigReq r = {.method = "GET", .host = "examplebucket.s3.amazonaws.com",
                       .path = "/test.txt", .service = "s3", .region = "us-east-1"};
        CHECK_EQ_INT(aws_sigv4_presign(&r, &c, 86400, &s, &err), BZ_OK);
        CHECK_EQ_STR(s.query,
                     "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F"
                     "20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&"
                     "X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
                     "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
        aws_signed_free(&s);
        CHECK_EQ_INT(aws_sigv4_presign(&r, &c, 0, &s, &err), BZ_MISUSE);
    }
    /* sigv4 test suite "get-vanilla" (generic service, other date/key) */
    {
        AwsCreds c2 = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0};
        AwsSigReq r = {.method = "GET", .host = "example.amazonaws.com", .path = "/",
                       .service = "service", .region = "us-east-1",
                       .time = aws_parse_amz_date("20150830T123600Z")};
        CHECK_EQ_INT(aws_sigv4_sign(&r, &c2, &s, &err), BZ_OK);
        CHECK_EQ_STR(s.authorization,
                     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                     "aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf19"
                     "42676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        CHECK(!s.send_content_sha256);
        aws_signed_free(&s);
        /* get-relative-relative: "/example1/example2/../.." normalises to "/" */
        r.path = "/example1/example2/../..";
        CHECK_EQ_INT(aws_sigv4_sign(&r, &c2, &s, &err), BZ_OK);
        CHECK(strstr(s.authorization, "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d"
                                      "9b8aae1d763fbf31") != NULL);
        aws_signed_free(&s);
        /* get-space: "/example space/" double-encoded for non-S3 */
        r.path = "/example space/";
        CHECK_EQ_INT(aws_sigv4_sign(&r, &c2, &s, &err), BZ_OK);
        CHECK(strstr(s.canonical_request, "\n/example%2520space/\n") != NULL);
        aws_signed_free(&s);
    }
    /* S3 keeps '//' and dot segments, encodes once; session token signed */
    {
        AwsCreds ct = {EX_AKID, EX_SECRET, "TOKEN/+=", 0};
        AwsSigReq r = {.method = "GET", .host = "b.s3.amazonaws.com",
                       .path = "/a//b/./c/../d e+f=g~h\xc3\xa9", .service = "s3",
                       .region = "eu-west-1", .payload_hash = AWS_UNSIGNED_PAYLOAD};
        CHECK_EQ_INT(aws_sigv4_sign(&r, &ct, &s, &err), BZ_OK);
        CHECK_EQ_STR(s.url_path, "/a//b/./c/../d%20e%2Bf%3Dg~h%C3%A9");
        CHECK(strstr(s.canonical_request, "x-amz-security-token:TOKEN/+=\n") != NULL);
        CHECK(strstr(s.authorization, "x-amz-date;x-amz-security-token") != NULL);
        CHECK_EQ_STR(s.content_sha256, "UNSIGNED-PAYLOAD");
        CHECK(strstr(s.canonical_request, EX_SECRET) == NULL);
        aws_signed_free(&s);
    }
    /* missing credentials is a misuse error, not a crash */
    {
        AwsCreds none = {0};
        AwsSigReq r = {.method = "GET", .host = "h", .path = "/", .service = "s3",
                       .region = "us-east-1"};
        CHECK_EQ_INT(aws_sigv4_sign(&r, &none, &s, &err), BZ_MISUSE);
    }
}

static void test_dates(void) {
    CHECK_EQ_INT(aws_parse_amz_date("20130524T000000Z"), 1369353600);
    CHECK_EQ_INT(aws_parse_amz_date("2013-05-24"), -1);
    CHECK_EQ_INT(aws_parse_iso8601("2013-05-24T00:00:00Z"), 1369353600);
    CHECK_EQ_INT(aws_parse_iso8601("2013-05-24T00:00:00.123Z"), 1369353600);
    CHECK_EQ_INT(aws_parse_iso8601("2013-05-24T02:00:00+02:00"), 1369353600);
    CHECK_EQ_INT(aws_parse_iso8601("garbage"), -1);
}

/* ---- driver mode ---------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int cli_one(const char *line) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *ps, *hs, *it;
    AwsParam *q = NULL;
    AwsHeader *h = NULL;
    unsigned char *body = NULL;
    size_t nbody = 0;
    int nq = 0, nh = 0, rc = 1, presign;
    const char *hex;
    AwsCreds c;
    AwsSigReq r;
    AwsSigned s;
    BzErr err = {0};
    if (!j) return 1;
    ps = cJSON_GetObjectItemCaseSensitive(j, "params");
    hs = cJSON_GetObjectItemCaseSensitive(j, "headers");
    q = bz_calloc((size_t)cJSON_GetArraySize(ps) + 1, sizeof *q);
    h = bz_calloc((size_t)cJSON_GetArraySize(hs) + 1, sizeof *h);
    cJSON_ArrayForEach(it, ps) {
        q[nq].key = cJSON_GetArrayItem(it, 0)->valuestring;
        q[nq].value = cJSON_IsString(cJSON_GetArrayItem(it, 1)) ? cJSON_GetArrayItem(it, 1)->valuestring
                                                                : NULL;
        nq++;
    }
    cJSON_ArrayForEach(it, hs) {
        h[nh].name = cJSON_GetArrayItem(it, 0)->valuestring;
        h[nh].value = cJSON_GetArrayItem(it, 1)->valuestring;
        nh++;
    }
    hex = jstr(j, "payload_hex");
    if (hex) {
        size_t i, n = strlen(hex) / 2;
        body = bz_malloc(n + 1);
        for (i = 0; i < n; i++) body[i] = (unsigned char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
        nbody = n;
    }
    c = (AwsCreds){(char *)jstr(j, "akid"), (char *)jstr(j, "secret"), (char *)jstr(j, "token"), 0};
    memset(&r, 0, sizeof r);
    r.method = jstr(j, "method");
    r.host = jstr(j, "host");
    r.path = jstr(j, "path");
    r.params = q;
    r.n_params = nq;
    r.headers = h;
    r.n_headers = nh;
    r.payload = body;
    r.n_payload = nbody;
    r.payload_hash = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "unsigned")) ? AWS_UNSIGNED_PAYLOAD
                                                                                  : NULL;
    r.service = jstr(j, "service");
    r.region = jstr(j, "region");
    r.time = aws_parse_amz_date(jstr(j, "date"));
    presign = cJSON_GetObjectItemCaseSensitive(j, "presign")
                  ? cJSON_GetObjectItemCaseSensitive(j, "presign")->valueint
                  : 0;
    if (presign ? aws_sigv4_presign(&r, &c, presign, &s, &err) : aws_sigv4_sign(&r, &c, &s, &err)) {
        printf("ERROR %s\n", err.msg);
    } else {
        printf("%s\n", presign ? s.query : s.authorization);
        aws_signed_free(&s);
        rc = 0;
    }
    bz_free(q);
    bz_free(h);
    bz_free(body);
    cJSON_Delete(j);
    return rc;
}

static int cli(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int bad = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n') line[n - 1] = 0;
        if (!line[0]) continue;
        bad |= cli_one(line);
        fflush(stdout);
    }
    free(line);
    return bad;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--cli")) return cli();
    aws_set_clock(fixed_clock);
    test_examples();
    test_dates();
    aws_set_clock(NULL);
    TEST_DONE();
}
