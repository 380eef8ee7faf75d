/* Unit tests for src/redis: URL parsing and redaction, RESP encoding, replies
** as JSON, replies built in an arena and skipped without objects, the flat
** JSON object parser, stream ids and id sets. No server. */
#include "bz_test.h"
#include "redis/rq.h"

static void test_url(void) {
    RqUrl u;
    BzErr e = {0};
    CHECK_EQ_INT(rq_url_parse(&u, "redis://127.0.0.1:6380/2", &e), BZ_OK);
    CHECK_EQ_STR(u.zHost, "127.0.0.1");
    CHECK_EQ_INT(u.port, 6380);
    CHECK_EQ_INT(u.db, 2);
    CHECK(u.zUser == NULL && u.zPassword == NULL);
    CHECK_EQ_STR(u.zRedacted, "redis://127.0.0.1:6380/2");
    rq_url_free(&u);

    CHECK_EQ_INT(rq_url_parse(&u, "redis://app:s%40cret@cache.local/1", &e), BZ_OK);
    CHECK_EQ_STR(u.zUser, "app");
    CHECK_EQ_STR(u.zPassword, "s@cret");
    CHECK_EQ_INT(u.port, 6379);
    CHECK_EQ_STR(u.zRedacted, "redis://app:***@cache.local:6379/1");
    rq_url_free(&u);

    CHECK_EQ_INT(rq_url_parse(&u, "redis://:pw@h:1", &e), BZ_OK);
    CHECK(u.zUser == NULL);
    CHECK_EQ_STR(u.zPassword, "pw");
    CHECK_EQ_STR(u.zRedacted, "redis://:***@h:1/0");
    rq_url_free(&u);

    CHECK_EQ_INT(rq_url_parse(&u, "rediss://[::1]:7000", &e), BZ_OK);
    CHECK_EQ_INT(u.bTls, 1);
    CHECK_EQ_STR(u.zHost, "::1");
    CHECK_EQ_STR(u.zRedacted, "rediss://[::1]:7000/0");
    rq_url_free(&u);

    /* Malformed: the message never shows the password. */
    const char *bad[] = {"http://h:1/0",
                         "redis://",
                         "redis://u:topsecret@h:99999/0",
                         "redis://u:topsecret@h:1/x",
                         "redis://u:top%zzsecret@h/0",
                         "redis://h:1/0 trailing",
                         "redis://ho st/0",
                         ""};
    for (size_t i = 0; i < BZ_ARRAY_LEN(bad); i++) {
        bz_err_clear(&e);
        CHECK_EQ_INT(rq_url_parse(&u, bad[i], &e), BZ_MISUSE);
        CHECK(strstr(e.msg, "malformed") || strstr(e.msg, "empty"));
        CHECK(!strstr(e.msg, "topsecret"));
        rq_url_free(&u);
    }
}

static void test_resp_json(void) {
    BzBuf b;
    BzErr e = {0};
    RqReply *r = NULL;
    const char *argv[] = {"SET", "k", "a\r\nb"};
    bz_buf_init(&b, 0);
    rq_resp_cmd(&b, 3, argv, NULL);
    CHECK_EQ_STR(b.data, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n");
    bz_buf_free(&b);

    const char *resp = "*5\r\n$3\r\nabc\r\n:42\r\n$-1\r\n*2\r\n+OK\r\n-ERR bad\r\n$2\r\n\xff\"\r\n";
    CHECK_EQ_INT(rq_reply_parse(resp, strlen(resp), &r, &e), BZ_OK);
    CHECK_EQ_INT(rq_reply_type(r), RQ_ARRAY);
    CHECK_EQ_INT(rq_reply_len(r), 5);
    CHECK_EQ_INT(rq_reply_int(rq_reply_at(r, 1)), 42);
    CHECK(rq_reply_at(r, 5) == NULL);
    bz_buf_init(&b, 0);
    rq_reply_json(&b, r);
    CHECK_EQ_STR(b.data, "[\"abc\",42,null,[\"OK\",{\"error\":\"ERR bad\"}],\"\xEF\xBF\xBD\\\"\"]");
    bz_buf_free(&b);
    rq_reply_free(r);

    CHECK_EQ_INT(rq_reply_parse("*2\r\n:1\r\n", 8, &r, &e), BZ_CORRUPT);
    CHECK(r == NULL);
    CHECK_EQ_INT(rq_reply_parse("?x\r\n", 4, &r, &e), BZ_CORRUPT);
}

/* Replies live in an arena: deep, wide and large ones parse, read back and free. */
static void test_reply_arena(void) {
    BzBuf b;
    BzErr e = {0};
    RqReply *r = NULL;
    size_t n, i;
    const char *z;
    bz_buf_init(&b, 0);
    /* An XREADGROUP-shaped reply of 3000 entries, one value of 100 kB. */
    bz_buf_appendz(&b, "*1\r\n*2\r\n$1\r\ns\r\n*3000\r\n");
    for (i = 0; i < 3000; i++) {
        char id[32], v[32];
        snprintf(id, sizeof id, "%zu-0", i);
        snprintf(v, sizeof v, "message-%zu", i);
        bz_buf_printf(&b, "*2\r\n$%zu\r\n%s\r\n*2\r\n$1\r\nm\r\n", strlen(id), id);
        if (i == 1500) {
            bz_buf_appendz(&b, "$100000\r\n");
            for (int k = 0; k < 100000; k++)
                bz_buf_appendc(&b, (char)('a' + k % 26));
            bz_buf_appendz(&b, "\r\n");
        } else {
            bz_buf_printf(&b, "$%zu\r\n%s\r\n", strlen(v), v);
        }
    }
    CHECK_EQ_INT(b.rc, BZ_OK);
    CHECK_EQ_INT(rq_reply_parse(b.data, b.n, &r, &e), BZ_OK);
    const RqReply *rows = rq_reply_at(rq_reply_at(r, 0), 1);
    CHECK_EQ_INT(rq_reply_len(rows), 3000);
    z = rq_reply_str(rq_reply_at(rq_reply_at(rq_reply_at(rows, 2999), 1), 1), &n);
    CHECK(z && n == 12 && memcmp(z, "message-2999", 12) == 0 && z[n] == 0);
    z = rq_reply_str(rq_reply_at(rq_reply_at(rq_reply_at(rows, 1500), 1), 1), &n);
    CHECK(z && n == 100000 && z[99999] == 'a' + 99999 % 26 && z[n] == 0);
    CHECK_EQ_STR(rq_reply_str(rq_reply_at(rq_reply_at(rows, 7), 0), NULL), "7-0");
    rq_reply_free(r);
    bz_buf_free(&b);

    /* Scalars, empty and nil arrays, nesting to the reader's depth. */
    const char *resp = "*4\r\n*0\r\n*-1\r\n:-7\r\n*1\r\n*1\r\n*1\r\n+deep\r\n";
    CHECK_EQ_INT(rq_reply_parse(resp, strlen(resp), &r, &e), BZ_OK);
    CHECK_EQ_INT(rq_reply_type(rq_reply_at(r, 0)), RQ_ARRAY);
    CHECK_EQ_INT(rq_reply_len(rq_reply_at(r, 0)), 0);
    CHECK_EQ_INT(rq_reply_type(rq_reply_at(r, 1)), RQ_NIL);
    CHECK_EQ_INT(rq_reply_int(rq_reply_at(r, 2)), -7);
    CHECK_EQ_STR(
        rq_reply_str(rq_reply_at(rq_reply_at(rq_reply_at(rq_reply_at(r, 3), 0), 0), 0), NULL),
        "deep");
    rq_reply_free(r);
    CHECK_EQ_INT(rq_reply_parse("+OK\r\n", 5, &r, &e), BZ_OK);
    CHECK_EQ_STR(rq_reply_str(r, NULL), "OK");
    rq_reply_free(r);
    rq_reply_free(NULL);
}

/* The skipping reader: counts replies, finds the first error at any depth. */
static void test_reply_scan(void) {
    BzErr e = {0};
    char zErr[64];
    /* MULTI, two queued commands, EXEC whose second result failed. */
    const char *exec = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$3\r\n1-0\r\n"
                       "-ERR The ID specified in XADD is equal or smaller\r\n";
    CHECK_EQ_INT(rq_reply_scan(exec, strlen(exec), 4, zErr, sizeof zErr, &e), BZ_ERROR);
    CHECK_EQ_STR(zErr, "ERR The ID specified in XADD is equal or smaller");
    const char *ok = "+OK\r\n+QUEUED\r\n*2\r\n$3\r\n1-0\r\n*1\r\n:1\r\n";
    CHECK_EQ_INT(rq_reply_scan(ok, strlen(ok), 3, zErr, sizeof zErr, &e), BZ_OK);
    CHECK_EQ_STR(zErr, "");
    /* Two errors: the first is kept. */
    const char *two = "-EXECABORT first\r\n*1\r\n-WRONGTYPE second\r\n";
    CHECK_EQ_INT(rq_reply_scan(two, strlen(two), 2, zErr, sizeof zErr, &e), BZ_ERROR);
    CHECK_EQ_STR(zErr, "EXECABORT first");
    /* Fewer replies than announced, or garbage. */
    CHECK_EQ_INT(rq_reply_scan(ok, strlen(ok), 4, zErr, sizeof zErr, &e), BZ_CORRUPT);
    CHECK_EQ_INT(rq_reply_scan(ok, strlen(ok) - 3, 3, zErr, sizeof zErr, &e), BZ_CORRUPT);
    CHECK_EQ_INT(rq_reply_scan("?\r\n", 3, 1, zErr, sizeof zErr, &e), BZ_CORRUPT);
}

typedef struct Fields {
    BzBuf b;
} Fields;

static int collect(void *pArg, const char *zKey, size_t nKey, const char *zVal, size_t nVal,
                   int bNull) {
    Fields *f = pArg;
    bz_buf_append(&f->b, zKey, nKey);
    bz_buf_appendc(&f->b, '=');
    if (bNull)
        bz_buf_appendz(&f->b, "NULL");
    else
        bz_buf_append(&f->b, zVal, nVal);
    bz_buf_appendc(&f->b, ';');
    return 0;
}

static void test_json_object(void) {
    Fields f;
    BzErr e = {0};
    const char *z = " {\"a\": \"x\\\"y\\u00e9\\ud83d\\ude00\", \"n\": -1.5e3, \"t\": true, "
                    "\"z\": null, \"o\": {\"k\": [1, \"]\"]}} ";
    bz_buf_init(&f.b, 0);
    CHECK_EQ_INT(rq_json_object(z, strlen(z), collect, &f, &e), BZ_OK);
    CHECK_EQ_STR(f.b.data, "a=x\"y\xc3\xa9\xf0\x9f\x98\x80;n=-1.5e3;t=true;z=NULL;"
                           "o={\"k\": [1, \"]\"]};");
    bz_buf_free(&f.b);

    const char *bad[] = {"[1]", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":\"x}", "{} x", "{\"a\":}", ""};
    for (size_t i = 0; i < BZ_ARRAY_LEN(bad); i++) {
        bz_buf_init(&f.b, 0);
        CHECK_EQ_INT(rq_json_object(bad[i], strlen(bad[i]), collect, &f, &e), BZ_CORRUPT);
        bz_buf_free(&f.b);
    }
    bz_buf_init(&f.b, 0);
    CHECK_EQ_INT(rq_json_object("{}", 2, collect, &f, &e), BZ_OK);
    bz_buf_free(&f.b);
}

static void test_ids(void) {
    RqId a, b;
    char z[42];
    RqIdSet s = {0};
    CHECK(rq_id_parse("1700000000000-5", 15, &a));
    CHECK(a.ms == 1700000000000ull && a.seq == 5);
    CHECK(rq_id_parse("12", 2, &b) && b.ms == 12 && b.seq == 0);
    CHECK(!rq_id_parse("1-", 2, &b));
    CHECK(!rq_id_parse("x-1", 3, &b));
    CHECK(!rq_id_parse("99999999999999999999999-1", 25, &b));
    CHECK_EQ_INT(rq_id_format(a, z), 15);
    CHECK_EQ_STR(z, "1700000000000-5");
    CHECK(rq_id_cmp(a, b) > 0 && rq_id_cmp(b, a) < 0 && rq_id_cmp(a, a) == 0);
    CHECK_EQ_INT(rq_id_format((RqId){0, 0}, z), 3);
    CHECK_EQ_STR(z, "0-0");
    CHECK_EQ_INT(rq_id_format((RqId){UINT64_MAX, UINT64_MAX}, z), 41);
    CHECK_EQ_STR(z, "18446744073709551615-18446744073709551615");

    for (uint64_t i = 0; i < 1000; i++)
        CHECK_EQ_INT(rq_idset_add(&s, (RqId){i / 3, i % 3}), 0);
    CHECK_EQ_INT(rq_idset_add(&s, (RqId){0, 0}), 0); /* duplicate */
    CHECK_EQ_INT(s.nId, 1000);
    CHECK(rq_idset_has(&s, (RqId){333, 0}));
    CHECK(!rq_idset_has(&s, (RqId){334, 0}));
    rq_idset_clear(&s);
    CHECK(!rq_idset_has(&s, (RqId){1, 1}));
    CHECK_EQ_INT(s.nId, 0);
    rq_idset_free(&s);
}

int main(void) {
    test_url();
    test_resp_json();
    test_reply_arena();
    test_reply_scan();
    test_json_object();
    test_ids();
    TEST_DONE();
}
