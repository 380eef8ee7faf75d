/*
** test_wire.c: the hbee wire format: varints, task JSON round trip and bad
** input, result encode/decode, a seeded random round trip of many results,
** and every truncation and many bit flips of an encoded result decoding to
** an error (never a crash: run it under ASan too).
*/
#include "bz_test.h"
#include "wire/wire.h"

#include <math.h>
#include <stdlib.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_varint(void) {
    uint64_t vals[] = {0,         1, 127, 128, 300, 16383, 16384, UINT32_MAX, (uint64_t)INT64_MAX,
                       UINT64_MAX};
    uint8_t buf[16];
    for (size_t i = 0; i < BZ_ARRAY_LEN(vals); i++) {
        uint64_t v = 0;
        int n = wire_varint_put(buf, vals[i]);
        CHECK(n >= 1 && n <= 10);
        CHECK_EQ_INT(wire_varint_get(buf, (size_t)n, &v), n);
        CHECK(v == vals[i]);
        CHECK_EQ_INT(wire_varint_get(buf, (size_t)n - 1, &v), 0); /* truncated */
    }
    uint8_t over[11];
    memset(over, 0xff, sizeof over);
    uint64_t v;
    CHECK_EQ_INT(wire_varint_get(over, sizeof over, &v), 0); /* longer than 10 bytes */
}

static void test_task(void) {
    char *cols[] = {"x", "g\"q"};
    char *keys[] = {"hive_partitioning", "binary_as_string"};
    char *vals[] = {"0", "1"};
    int rgs[] = {0, 1, 5};
    WireTask t, u;
    BzBuf b;
    BzErr err = {0};
    memset(&t, 0, sizeof t);
    t.zQueryId = "q-7";
    t.taskId = 42;
    t.zPath = "/data/it's \"here\"/a.parquet";
    t.nRg = 3;
    t.aRg = rgs;
    t.nRows = 123456789012LL;
    t.nBytes = 1 << 20;
    t.nCol = 2;
    t.azCol = cols;
    t.nOpt = 2;
    t.azKey = keys;
    t.azVal = vals;
    t.zSql = "SELECT count(*) AS _a0 FROM split WHERE \"s\" = 'é\n'";
    bz_buf_init(&b, 0);
    CHECK_EQ_INT(wire_task_encode(&t, &b, &err), BZ_OK);
    CHECK(strstr(b.data, "\"version\": 1") != NULL);
    CHECK_EQ_INT(wire_task_decode(b.data, b.n, &u, &err), BZ_OK);
    CHECK_EQ_STR(u.zQueryId, "q-7");
    CHECK_EQ_INT(u.taskId, 42);
    CHECK_EQ_STR(u.zPath, t.zPath);
    CHECK(u.zUrl == NULL);
    CHECK_EQ_INT(u.nRg, 3);
    CHECK_EQ_INT(u.aRg[2], 5);
    CHECK_EQ_INT(u.nRows, 123456789012LL);
    CHECK_EQ_INT(u.nBytes, 1 << 20);
    CHECK_EQ_INT(u.nCol, 2);
    CHECK_EQ_STR(u.azCol[1], "g\"q");
    CHECK_EQ_INT(u.nOpt, 2);
    CHECK_EQ_STR(u.azKey[1], "binary_as_string");
    CHECK_EQ_STR(u.azVal[1], "1");
    CHECK_EQ_STR(u.zSql, t.zSql);
    wire_task_clear(&u);

    /* every prefix is malformed JSON or misses fields: an error, never a crash */
    for (size_t n = 0; n < b.n; n++) {
        int rc = wire_task_decode(b.data, n, &u, &err);
        CHECK(rc == BZ_CORRUPT);
        if (rc == BZ_OK) wire_task_clear(&u);
    }
    bz_buf_free(&b);

    static const char *bad[] = {
        "[]",
        "{\"version\": 3, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"path\": \"a\"}, "
        "\"sql\": \"x\"}",
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": -1, \"split\": {\"path\": \"a\"}, "
        "\"sql\": \"x\"}",
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1.5, \"split\": {\"path\": \"a\"}, "
        "\"sql\": \"x\"}",
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1, \"split\": {}, \"sql\": \"x\"}",
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"path\": \"a\", "
        "\"url\": "
        "\"s3://b/k\"}, \"sql\": \"x\"}",
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"path\": \"a\", "
        "\"row_groups\": [\"1\"]}, \"sql\": \"x\"}",
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"path\": \"a\"}, "
        "\"options\": {\"k\": 1}, \"sql\": \"x\"}",
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"path\": \"a\"}}",
    };
    for (size_t i = 0; i < BZ_ARRAY_LEN(bad); i++) {
        int rc = wire_task_decode(bad[i], strlen(bad[i]), &u, &err);
        CHECK(rc != BZ_OK);
        if (i == 1) CHECK_EQ_INT(rc, BZ_UNSUPPORTED);
    }
    const char *url = "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"url\": "
                      "\"s3://b/k.parquet\"}, \"sql\": \"SELECT 1\"}";
    CHECK_EQ_INT(wire_task_decode(url, strlen(url), &u, &err), BZ_OK);
    CHECK_EQ_STR(u.zUrl, "s3://b/k.parquet");
    CHECK_EQ_INT(u.nRg, 0);
    wire_task_clear(&u);
}

/* Version 2: a DynamoDB segment as the source; parquet tasks stay version 1. */
static void test_task_ddb(void) {
    WireTask t, u;
    BzErr err;
    BzBuf b;
    char *keys[] = {"region", "columns"}, *vals[] = {"eu-west-1", "a TEXT, \"b c\" REAL"};
    char *cols[] = {"a"};
    memset(&t, 0, sizeof t);
    t.zQueryId = "q9";
    t.taskId = 5;
    t.zDdbTable = "orders";
    t.iSegment = 3;
    t.nSegments = 8;
    t.nCol = 1;
    t.azCol = cols;
    t.nOpt = 2;
    t.azKey = keys;
    t.azVal = vals;
    t.zSql = "SELECT count(*) FROM split";
    bz_buf_init(&b, 0);
    CHECK_EQ_INT(wire_task_encode(&t, &b, &err), BZ_OK);
    bz_buf_appendc(&b, 0);
    b.n--;
    CHECK(strstr(b.data, "\"version\": 2") != NULL);
    CHECK(strstr(b.data, "\"dynamodb\": \"orders\", \"segment\": 3, \"segments\": 8") != NULL);
    CHECK_EQ_INT(wire_task_decode(b.data, b.n, &u, &err), BZ_OK);
    CHECK_EQ_INT(u.version, 2);
    CHECK_EQ_STR(u.zDdbTable, "orders");
    CHECK_EQ_INT(u.iSegment, 3);
    CHECK_EQ_INT(u.nSegments, 8);
    CHECK(u.zPath == NULL && u.zUrl == NULL && u.nRg == 0);
    CHECK_EQ_INT(u.nOpt, 2);
    CHECK_EQ_STR(u.azVal[1], vals[1]);
    CHECK_EQ_INT(u.taskId, 5);
    wire_task_clear(&u);
    for (size_t n = 0; n < b.n; n++) { /* every prefix: an error, never a crash */
        int rc = wire_task_decode(b.data, n, &u, &err);
        CHECK(rc == BZ_CORRUPT);
        if (rc == BZ_OK) wire_task_clear(&u);
    }
    bz_buf_free(&b);
    static const char *bad[] = {
        /* a version-1 task cannot carry a dynamodb split */
        "{\"version\": 1, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"dynamodb\": \"t\", "
        "\"segment\": 0, \"segments\": 1}, \"sql\": \"x\"}",
        "{\"version\": 2, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"dynamodb\": \"t\", "
        "\"segment\": 4, \"segments\": 4}, \"sql\": \"x\"}",
        "{\"version\": 2, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"dynamodb\": \"t\", "
        "\"segment\": -1, \"segments\": 4}, \"sql\": \"x\"}",
        "{\"version\": 2, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"dynamodb\": \"t\", "
        "\"segment\": 0, \"segments\": 1000001}, \"sql\": \"x\"}",
        "{\"version\": 2, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"dynamodb\": \"t\", "
        "\"segment\": 0}, \"sql\": \"x\"}",
        "{\"version\": 2, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"dynamodb\": \"\", "
        "\"segment\": 0, \"segments\": 1}, \"sql\": \"x\"}",
        "{\"version\": 2, \"query_id\": \"q\", \"task_id\": 1, \"split\": {\"dynamodb\": \"t\", "
        "\"segment\": 0, \"segments\": 1, \"path\": \"a\"}, \"sql\": \"x\"}",
    };
    for (size_t i = 0; i < BZ_ARRAY_LEN(bad); i++)
        CHECK_EQ_INT(wire_task_decode(bad[i], strlen(bad[i]), &u, &err), BZ_CORRUPT);
    /* a parquet task is still written as version 1 */
    memset(&t, 0, sizeof t);
    t.zQueryId = "q";
    t.zPath = "a.parquet";
    t.zSql = "SELECT 1";
    bz_buf_init(&b, 0);
    CHECK_EQ_INT(wire_task_encode(&t, &b, &err), BZ_OK);
    bz_buf_appendc(&b, 0);
    CHECK(strstr(b.data, "\"version\": 1") != NULL);
    bz_buf_free(&b);
}

/* Random value; text/blob bytes point into pool. */
static void random_value(WireValue *v, char *pool, size_t pool_n) {
    memset(v, 0, sizeof *v);
    switch (rnd() % 6) {
    case 0:
        v->type = WV_NULL;
        break;
    case 1:
        v->type = WV_INT;
        v->i = (int64_t)rnd() >> (rnd() % 64);
        if (rnd() & 1) v->i = -v->i;
        break;
    case 2:
        v->type = WV_INT;
        v->i = (rnd() & 1) ? INT64_MIN : INT64_MAX;
        break;
    case 3: {
        uint64_t u = rnd();
        v->type = WV_REAL;
        memcpy(&v->d, &u, 8);
        if (isnan(v->d)) v->d = 0.5;
        break;
    }
    default:
        v->type = (rnd() & 1) ? WV_TEXT : WV_BLOB;
        v->n = (size_t)(rnd() % 64);
        if (rnd() % 50 == 0) v->n = pool_n / 2;
        v->p = pool + rnd() % (pool_n - v->n);
        break;
    }
}

static int same(const WireValue *a, const WireValue *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case WV_INT:
        return a->i == b->i;
    case WV_REAL:
        return memcmp(&a->d, &b->d, 8) == 0;
    case WV_TEXT:
    case WV_BLOB:
        return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
    default:
        return 1;
    }
}

static void test_roundtrip_random(void) {
    static char pool[8192];
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (char)(rnd() % 7 == 0 ? 'a' : rnd());
    for (int iter = 0; iter < 300; iter++) {
        int ncol = (int)(rnd() % 6) + (iter == 0 ? 0 : 1);
        int nrow = ncol ? (int)(rnd() % (iter % 10 == 0 ? 2000 : 20)) : 0;
        char *names[8] = {"a", "b", "", "_a0", "col\"q", "é"};
        WireValue *vals = calloc((size_t)(ncol * nrow + 1), sizeof *vals);
        WireValue row[8];
        WireWriter w;
        BzBuf out;
        BzErr err = {0};
        WireHeader h;
        memset(&h, 0, sizeof h);
        h.taskId = iter;
        h.rowsScanned = (int64_t)(rnd() % 1000000);
        h.bytesScanned = (int64_t)(rnd() % 100000000);
        h.ms = iter;
        bz_buf_init(&out, 0);
        CHECK_EQ_INT(wire_writer_init(&w, ncol, names, &err), BZ_OK);
        w.bStore = iter % 3 == 0;
        for (int i = 0; i < ncol * nrow; i++) {
            random_value(&vals[i], pool, sizeof pool);
            wire_writer_value(&w, &vals[i]);
        }
        CHECK_EQ_INT(wire_writer_finish(&w, &h, &out, &err), BZ_OK);
        wire_writer_free(&w);
        WireReader r;
        int rc = wire_reader_open(&r, out.data, out.n, &err);
        CHECK_EQ_INT(rc, BZ_OK);
        if (rc == BZ_OK) {
            CHECK_EQ_INT(r.hdr.taskId, iter);
            CHECK_EQ_INT(r.hdr.status, BZ_OK);
            CHECK_EQ_INT(r.hdr.rows, nrow);
            CHECK_EQ_INT(r.hdr.rowsScanned, h.rowsScanned);
            CHECK_EQ_INT(r.hdr.bytesScanned, h.bytesScanned);
            CHECK_EQ_INT(r.nCol, ncol);
            if (ncol > 4) CHECK_EQ_STR(r.azCol[4], "col\"q");
            int k = 0, bad = 0;
            while ((rc = wire_reader_next(&r, row, &err)) == BZ_OK) {
                for (int c = 0; c < ncol; c++)
                    bad += !same(&row[c], &vals[k++]);
            }
            CHECK_EQ_INT(rc, BZ_DONE);
            CHECK_EQ_INT(bad, 0);
            CHECK_EQ_INT(k, ncol * nrow);
            wire_reader_close(&r);
        }
        /* truncations and bit flips: errors or (for flips in values) other values, never a
        ** crash or a read past the input */
        if (iter % 20 == 1) {
            for (size_t n = 0; n < out.n; n++) {
                uint8_t *cut = malloc(n + 1);
                memcpy(cut, out.data, n);
                CHECK(wire_reader_open(&r, cut, n, &err) != BZ_OK);
                free(cut);
            }
            for (int f = 0; f < 400; f++) {
                uint8_t *flip = malloc(out.n);
                memcpy(flip, out.data, out.n);
                flip[rnd() % out.n] ^= (uint8_t)(1u << (rnd() % 8));
                if (wire_reader_open(&r, flip, out.n, &err) == BZ_OK) {
                    while ((rc = wire_reader_next(&r, row, &err)) == BZ_OK) {
                    }
                    CHECK(rc == BZ_DONE || rc == BZ_CORRUPT);
                    wire_reader_close(&r);
                }
                free(flip);
            }
        }
        bz_buf_free(&out);
        free(vals);
    }
}

static void test_error_result(void) {
    BzBuf out;
    BzErr err = {0};
    WireReader r;
    WireValue row[1];
    bz_buf_init(&out, 0);
    CHECK_EQ_INT(wire_result_error(9, BZ_NOTFOUND, "x.parquet: no such file", &out, &err), BZ_OK);
    CHECK_EQ_INT(wire_reader_open(&r, out.data, out.n, &err), BZ_OK);
    CHECK_EQ_INT(r.hdr.taskId, 9);
    CHECK_EQ_INT(r.hdr.status, BZ_NOTFOUND);
    CHECK_EQ_STR(r.zError, "x.parquet: no such file");
    CHECK_EQ_INT(r.nCol, 0);
    CHECK_EQ_INT(wire_reader_next(&r, row, &err), BZ_DONE);
    wire_reader_close(&r);
    /* a writer with a partial row is refused */
    WireWriter w;
    char *names[] = {"a", "b"};
    WireHeader h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(wire_writer_init(&w, 2, names, &err), BZ_OK);
    wire_writer_value(&w, &(WireValue){WV_INT, 1, 0, NULL, 0});
    CHECK_EQ_INT(wire_writer_finish(&w, &h, &out, &err), BZ_MISUSE);
    wire_writer_free(&w);
    /* wrong magic / version */
    CHECK_EQ_INT(wire_reader_open(&r, "HBR2xx", 6, &err), BZ_CORRUPT);
    CHECK_EQ_INT(wire_reader_open(&r, "HBR1\x02\x00", 6, &err), BZ_UNSUPPORTED);
    bz_buf_free(&out);
}

int main(void) {
    test_varint();
    test_task();
    test_task_ddb();
    test_roundtrip_random();
    test_error_result();
    TEST_DONE();
}
