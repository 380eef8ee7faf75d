/*
** test_ddb_reply.c: offline checks of the one-pass decoder of DynamoDB read
** answers (aws_ddb_reply.c): the type mapping of every AttributeValue type,
** numbers (int64 edges, 38 digits, exponents, numbers=text), escapes and
** unicode (surrogate pairs, invalid UTF-8 in JSON output), the hidden item
** column, LastEvaluatedKey / Count / UnprocessedKeys, rows reused across
** pages, and malformed answers (truncations at every length, bad escapes,
** deep nesting) that must fail cleanly without keeping a partial row.
**
**   build/tests/aws/test_ddb_reply
*/
#include "aws/dynamodb/aws_ddb_int.h"
#include "bz_test.h"

#include <math.h>
#include <stdlib.h>

static int decode(const char *body, const char *const *cols, int n_cols, int mode, int items,
                  AwsDdbRows *rows, AwsDdbReplyInfo *info) {
    return aws_ddb_reply_decode(body, strlen(body), "t", cols, n_cols, mode, items, rows, info);
}

static const AwsDdbValue *cell(const AwsDdbRows *r, int row, int col) {
    return &r->cells[(size_t)row * (size_t)r->n_cols + (size_t)col];
}

static void test_types(void) {
    const char *cols[] = {"s", "n", "b", "t", "z", "m", "l", "ss", "ns", "bs", "absent"};
    const char *body =
        "{\"Items\":[{\"s\":{\"S\":\"h\\u00e9llo \\\"q\\\"\"},\"n\":{\"N\":\"-42\"},"
        "\"b\":{\"B\":\"AQID\"},\"t\":{\"BOOL\":true},\"z\":{\"NULL\":true},"
        "\"m\":{\"M\":{\"a\":{\"N\":\"1.50\"},\"b\":{\"L\":[{\"S\":\"x\"},{\"BOOL\":false},"
        "{\"NULL\":true}]}}},\"l\":{\"L\":[]},\"ss\":{\"SS\":[\"a\",\"b\\n\"]},"
        "\"ns\":{\"NS\":[\"1\",\"2.5\"]},\"bs\":{\"BS\":[\"AQ==\"]},\"other\":{\"S\":\"skip\"}}],"
        "\"Count\":1,\"ScannedCount\":7,\"ConsumedCapacity\":{\"TableName\":\"t\",\"x\":[1,2.5e3,null]}}";
    AwsDdbRows r = {0};
    AwsDdbReplyInfo info;
    CHECK_EQ_INT(decode(body, cols, 11, AWS_DDB_NUM_AUTO, 1, &r, &info), BZ_OK);
    CHECK_EQ_INT(r.n_rows, 1);
    CHECK_EQ_INT(info.n_items, 1);
    CHECK_EQ_INT((int)info.count, 1);
    CHECK_EQ_INT((int)info.scanned, 7);
    CHECK(info.last_key == NULL);
    CHECK_EQ_INT(cell(&r, 0, 0)->type, AWS_DDB_TEXT);
    CHECK_EQ_STR(cell(&r, 0, 0)->z, "h\xc3\xa9llo \"q\"");
    CHECK_EQ_INT((int)cell(&r, 0, 0)->n, 10);
    CHECK_EQ_INT(cell(&r, 0, 1)->type, AWS_DDB_INT);
    CHECK(cell(&r, 0, 1)->i == -42);
    CHECK_EQ_INT(cell(&r, 0, 2)->type, AWS_DDB_BLOB);
    CHECK_EQ_INT((int)cell(&r, 0, 2)->n, 3);
    CHECK(!memcmp(cell(&r, 0, 2)->z, "\1\2\3", 3));
    CHECK_EQ_INT(cell(&r, 0, 3)->type, AWS_DDB_INT);
    CHECK(cell(&r, 0, 3)->i == 1);
    CHECK_EQ_INT(cell(&r, 0, 4)->type, AWS_DDB_NULL);
    CHECK_EQ_INT(cell(&r, 0, 5)->type, AWS_DDB_TEXT);
    CHECK_EQ_INT(cell(&r, 0, 5)->is_json, 1);
    CHECK_EQ_STR(cell(&r, 0, 5)->z, "{\"a\":1.50,\"b\":[\"x\",false,null]}");
    CHECK_EQ_STR(cell(&r, 0, 6)->z, "[]");
    CHECK_EQ_STR(cell(&r, 0, 7)->z, "[\"a\",\"b\\n\"]");
    CHECK_EQ_STR(cell(&r, 0, 8)->z, "[1,2.5]");
    CHECK_EQ_STR(cell(&r, 0, 9)->z, "[\"AQ==\"]");
    CHECK_EQ_INT(cell(&r, 0, 10)->type, AWS_DDB_NULL);
    CHECK(r.items && r.items[0]);
    CHECK_EQ_STR(r.items[0],
                 "{\"s\":\"h\xc3\xa9llo \\\"q\\\"\",\"n\":-42,\"b\":\"AQID\",\"t\":true,\"z\":null,"
                 "\"m\":{\"a\":1.50,\"b\":[\"x\",false,null]},\"l\":[],\"ss\":[\"a\",\"b\\n\"],"
                 "\"ns\":[1,2.5],\"bs\":[\"AQ==\"],\"other\":\"skip\"}");
    aws_ddb_rows_free(&r);
}

static void test_numbers(void) {
    const char *cols[] = {"n"};
    static const struct {
        const char *n;
        int type;
        int64_t i;
        double r;
    } cases[] = {
        {"0", AWS_DDB_INT, 0, 0},
        {"-0", AWS_DDB_INT, 0, 0},
        {"999999999999999999", AWS_DDB_INT, 999999999999999999LL, 0},
        {"9223372036854775807", AWS_DDB_INT, INT64_MAX, 0},
        {"-9223372036854775808", AWS_DDB_INT, INT64_MIN, 0},
        {"9223372036854775808", AWS_DDB_REAL, 0, 9223372036854775808.0},
        {"12345678901234567890123456789012345678", AWS_DDB_REAL, 0, 1.2345678901234568e37},
        {"1E+3", AWS_DDB_INT, 1000, 0},
        {"2.5", AWS_DDB_REAL, 0, 2.5},
        {"-1.5E-130", AWS_DDB_REAL, 0, -1.5e-130},
        {"9.9999999999999999999999999999999999999E+125", AWS_DDB_REAL, 0, 1e126},
    };
    AwsDdbRows r = {0};
    AwsDdbReplyInfo info;
    char body[256];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(body, sizeof body, "{\"Items\":[{\"n\":{\"N\":\"%s\"}}]}", cases[k].n);
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(body, cols, 1, AWS_DDB_NUM_AUTO, 0, &r, &info), BZ_OK);
        CHECK_EQ_INT(cell(&r, 0, 0)->type, cases[k].type);
        if (cases[k].type == AWS_DDB_INT) CHECK(cell(&r, 0, 0)->i == cases[k].i);
        else CHECK(fabs(cell(&r, 0, 0)->r - cases[k].r) <= fabs(cases[k].r) * 1e-15);
        /* numbers=text keeps every digit */
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(body, cols, 1, AWS_DDB_NUM_TEXT, 0, &r, &info), BZ_OK);
        CHECK_EQ_INT(cell(&r, 0, 0)->type, AWS_DDB_TEXT);
        CHECK_EQ_STR(cell(&r, 0, 0)->z, cases[k].n);
    }
    /* a huge number literal (longer than any stack copy) */
    {
        size_t n = 5000;
        char *big = malloc(n + 64);
        memcpy(big, "{\"Items\":[{\"n\":{\"N\":\"", 21);
        memset(big + 21, '7', n);
        memcpy(big + 21 + n, "\"}}]}", 6);
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(big, cols, 1, AWS_DDB_NUM_AUTO, 0, &r, &info), BZ_OK);
        CHECK_EQ_INT(cell(&r, 0, 0)->type, AWS_DDB_REAL);
        CHECK(isinf(cell(&r, 0, 0)->r));
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(big, cols, 1, AWS_DDB_NUM_TEXT, 0, &r, &info), BZ_OK);
        CHECK_EQ_INT((int)cell(&r, 0, 0)->n, (int)n);
        free(big);
    }
    static const char *const bad[] = {"", "-", "1x", "1.2.3", "1e", "0x10", " 1", "1e+"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(body, sizeof body, "{\"Items\":[{\"n\":{\"N\":\"%s\"}}]}", bad[k]);
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(body, cols, 1, AWS_DDB_NUM_AUTO, 0, &r, &info), BZ_CORRUPT);
        CHECK_EQ_INT(r.n_rows, 0);
        CHECK_EQ_INT(decode(body, cols, 1, AWS_DDB_NUM_TEXT, 0, &r, &info), BZ_CORRUPT);
    }
    aws_ddb_rows_free(&r);
}

static void test_unicode(void) {
    const char *cols[] = {"s", "k\xc3\xa9y"};
    AwsDdbRows r = {0};
    AwsDdbReplyInfo info;
    /* escaped attribute name matches the UTF-8 column name; a surrogate pair
    ** is one 4-byte character; \u0000 is kept with its length; \/ is / */
    const char *body = "{\"Items\":[{\"k\\u00e9y\":{\"S\":\"\\ud83d\\ude00 a\\/b\\u0000c\"},"
                       "\"s\":{\"S\":\"\\b\\f\\n\\r\\t\\\\\"}}]}";
    CHECK_EQ_INT(decode(body, cols, 2, AWS_DDB_NUM_AUTO, 1, &r, &info), BZ_OK);
    CHECK_EQ_INT((int)cell(&r, 0, 1)->n, 10);
    CHECK(!memcmp(cell(&r, 0, 1)->z, "\xf0\x9f\x98\x80 a/b\0c", 10));
    CHECK_EQ_STR(cell(&r, 0, 0)->z, "\b\f\n\r\t\\");
    CHECK_EQ_STR(r.items[0], "{\"k\xc3\xa9y\":\"\xf0\x9f\x98\x80 a/b\\u0000c\","
                             "\"s\":\"\\u0008\\u000c\\n\\r\\t\\\\\"}");
    /* raw invalid UTF-8 is kept as bytes in a cell, U+FFFD in JSON output */
    aws_ddb_rows_reset(&r);
    CHECK_EQ_INT(decode("{\"Items\":[{\"s\":{\"L\":[{\"S\":\"\xff\xfe\"}]}}]}", cols, 1,
                        AWS_DDB_NUM_AUTO, 1, &r, &info), BZ_OK);
    CHECK_EQ_STR(cell(&r, 0, 0)->z, "[\"\xef\xbf\xbd\xef\xbf\xbd\"]");
    aws_ddb_rows_reset(&r);
    CHECK_EQ_INT(decode("{\"Items\":[{\"s\":{\"S\":\"\xff\"}}]}", cols, 1, AWS_DDB_NUM_AUTO, 0,
                        &r, &info), BZ_OK);
    CHECK_EQ_STR(cell(&r, 0, 0)->z, "\xff");
    /* lone and reversed surrogates, bad escapes, raw control characters */
    static const char *const bad[] = {"\\ud83d", "\\ude00\\ud83d", "\\ud83dx", "\\ud83d\\u0041",
                                      "\\x", "\\u12g4", "\\u12", "a\nb", "\\"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char b2[128];
        snprintf(b2, sizeof b2, "{\"Items\":[{\"s\":{\"S\":\"%s\"}}]}", bad[k]);
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(b2, cols, 1, AWS_DDB_NUM_AUTO, 0, &r, &info), BZ_CORRUPT);
        CHECK_EQ_INT(r.n_rows, 0);
    }
    aws_ddb_rows_free(&r);
}

static void test_pages(void) {
    const char *cols[] = {"pk", "w"};
    AwsDdbRows r = {0};
    AwsDdbReplyInfo info;
    char *body = malloc(200000);
    size_t o = 0;
    o += (size_t)sprintf(body + o, "{\"Count\":3000,\"Items\":[");
    for (int i = 0; i < 3000; i++)
        o += (size_t)sprintf(body + o, "%s{\"w\":{\"N\":\"%d\"},\"pk\":{\"S\":\"k%d\"}}", i ? "," : "",
                             i * 7, i);
    o += (size_t)sprintf(body + o, "],\"LastEvaluatedKey\":{\"pk\":{\"S\":\"k2999\"}} }");
    for (int round = 0; round < 3; round++) {
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(body, cols, 2, AWS_DDB_NUM_AUTO, 0, &r, &info), BZ_OK);
        CHECK_EQ_INT(r.n_rows, 3000);
        CHECK(r.items == NULL);
        CHECK_EQ_STR(cell(&r, 2999, 0)->z, "k2999");
        CHECK(cell(&r, 1234, 1)->i == 1234 * 7);
        CHECK_EQ_INT((int)info.count, 3000);
        CHECK(info.last_key && info.n_last_key == 20 &&
              !memcmp(info.last_key, "{\"pk\":{\"S\":\"k2999\"}}", 20));
    }
    /* one arena block after resets */
    CHECK(r.blocks_ != NULL);
    /* two answers appended to one rows set (BatchGetItem rounds) */
    aws_ddb_rows_reset(&r);
    CHECK_EQ_INT(decode("{\"Responses\":{\"other\":[{\"pk\":{\"S\":\"no\"}}],\"t\":[{\"pk\":{\"S\":\"a\"}}]},"
                        "\"UnprocessedKeys\":{}}", cols, 2, 0, 0, &r, &info), BZ_OK);
    CHECK(info.unprocessed == NULL);
    CHECK_EQ_INT(decode("{\"Responses\":{\"t\":[{\"pk\":{\"S\":\"b\"}}]},\"UnprocessedKeys\":"
                        "{\"t\":{\"Keys\":[{\"pk\":{\"S\":\"c\"}}]}}}", cols, 2, 0, 0, &r, &info), BZ_OK);
    CHECK_EQ_INT(r.n_rows, 2);
    CHECK_EQ_STR(cell(&r, 0, 0)->z, "a");
    CHECK_EQ_STR(cell(&r, 1, 0)->z, "b");
    CHECK(info.unprocessed && info.n_unprocessed == strlen("{\"t\":{\"Keys\":[{\"pk\":{\"S\":\"c\"}}]}}"));
    /* GetItem: Item, or nothing */
    aws_ddb_rows_reset(&r);
    CHECK_EQ_INT(decode("{\"Item\":{\"pk\":{\"S\":\"a\"},\"w\":{\"N\":\"1\"}}}", cols, 2, 0, 0, &r, &info), BZ_OK);
    CHECK_EQ_INT(info.n_items, 1);
    CHECK_EQ_INT(decode("{}", cols, 2, 0, 0, &r, &info), BZ_OK);
    CHECK_EQ_INT(info.n_items, 0);
    CHECK_EQ_INT(r.n_rows, 1);
    /* a failed answer keeps the rows of earlier ones and none of its own */
    CHECK_EQ_INT(decode("{\"Items\":[{\"pk\":{\"S\":\"b\"}},{\"pk\":{\"S\":1}}]}", cols, 2, 0, 0, &r, &info),
                 BZ_CORRUPT);
    CHECK_EQ_INT(r.n_rows, 1);
    CHECK(info.what != NULL);
    aws_ddb_rows_free(&r);
    free(body);
}

static void test_malformed(void) {
    const char *cols[] = {"a"};
    const char *good = "{\"Items\":[{\"a\":{\"M\":{\"x\":{\"SS\":[\"p\"]}}},\"b\":{\"N\":\"1\"}}],"
                       "\"Count\":1,\"LastEvaluatedKey\":{\"a\":{\"S\":\"z\"}}}";
    AwsDdbRows r = {0};
    AwsDdbReplyInfo info;
    size_t n = strlen(good);
    /* every truncation of a valid answer fails cleanly */
    for (size_t k = 0; k < n; k++) {
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(aws_ddb_reply_decode(good, k, "t", cols, 1, 0, 1, &r, &info), BZ_CORRUPT);
        CHECK_EQ_INT(r.n_rows, 0);
    }
    aws_ddb_rows_reset(&r);
    CHECK_EQ_INT(aws_ddb_reply_decode(good, n, "t", cols, 1, 0, 1, &r, &info), BZ_OK);
    static const char *const bad[] = {
        "",
        "[]",
        "{\"Items\":{}}",
        "{\"Items\":[1]}",
        "{\"Items\":[{\"a\":1}]}",
        "{\"Items\":[{\"a\":{}}]}",
        "{\"Items\":[{\"a\":{\"X\":\"1\"}}]}",
        "{\"Items\":[{\"a\":{\"S\":\"1\",\"N\":\"1\"}}]}",
        "{\"Items\":[{\"a\":{\"B\":\"$$$$\"}}]}",
        "{\"Items\":[{\"a\":{\"BOOL\":\"yes\"}}]}",
        "{\"Items\":[{\"a\":{\"NS\":[\"x\"]}}]}",
        "{\"Items\":[{\"a\":{\"L\":[{\"S\":\"x\"},]}}]}",
        "{\"Items\":[{\"a\":{\"S\":\"x\"}}]} x",
        "{\"Items\":[{\"a\":{\"S\":\"x\"}}],}",
        "{\"Items\":[],\"Count\":1.}",
        "{\"Items\":[],\"Other\":tru}",
        "{\"Items\":[],\"Other\":[1 2]}",
        "{\"Items\":[{\"b\":{\"S\":\"unterminated}}]}",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(bad[k], cols, 1, 0, 0, &r, &info), BZ_CORRUPT);
        CHECK_EQ_INT(r.n_rows, 0);
    }
    /* deep nesting: M inside M past the limit, and plain JSON past the skip limit */
    {
        int depth = 100;
        char *z = malloc((size_t)depth * 16 + 64), *p = z;
        p += sprintf(p, "{\"Items\":[{\"a\":");
        for (int i = 0; i < depth; i++) p += sprintf(p, "{\"M\":{\"k\":");
        p += sprintf(p, "{\"NULL\":true}");
        for (int i = 0; i < depth; i++) p += sprintf(p, "}}");
        p += sprintf(p, "}]}");
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(z, cols, 1, 0, 0, &r, &info), BZ_CORRUPT);
        CHECK(strstr(info.what, "deep") != NULL);
        free(z);
        depth = 20; /* within DynamoDB's 32 levels */
        z = malloc((size_t)depth * 16 + 64);
        p = z;
        p += sprintf(p, "{\"Items\":[{\"a\":");
        for (int i = 0; i < depth; i++) p += sprintf(p, "{\"L\":[");
        p += sprintf(p, "{\"N\":\"1\"}");
        for (int i = 0; i < depth; i++) p += sprintf(p, "]}");
        p += sprintf(p, "}]}");
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(z, cols, 1, 0, 0, &r, &info), BZ_OK);
        CHECK_EQ_INT((int)cell(&r, 0, 0)->n, 2 * depth + 1);
        free(z);
        z = malloc(100000);
        p = z;
        p += sprintf(p, "{\"Other\":");
        for (int i = 0; i < 40000; i++) *p++ = '[';
        for (int i = 0; i < 40000; i++) *p++ = ']';
        p += sprintf(p, ",\"Items\":[]}");
        aws_ddb_rows_reset(&r);
        CHECK_EQ_INT(decode(z, cols, 1, 0, 0, &r, &info), BZ_CORRUPT);
        free(z);
    }
    aws_ddb_rows_free(&r);
}

static void test_av_to_json(void) {
    BzErr err = {0};
    char *out = NULL;
    const char *in = "{\"M\":{\"s\":{\"SS\":[\"a\"]},\"n\":{\"NS\":[\"1\",\"2.5\"]},"
                     "\"b\":{\"B\":\"AQI=\"},\"t\":{\"BOOL\":false},\"z\":{\"NULL\":true}}}";
    CHECK_EQ_INT(aws_ddb_av_to_json(in, strlen(in), &out, &err), BZ_OK);
    CHECK_EQ_STR(out, "{\"s\":[\"a\"],\"n\":[1,2.5],\"b\":\"AQI=\",\"t\":false,\"z\":null}");
    bz_free(out);
    CHECK_EQ_INT(aws_ddb_av_to_json(" {\"S\":\"\\u00e9\"} ", 16, &out, &err), BZ_OK);
    CHECK_EQ_STR(out, "\"\xc3\xa9\"");
    bz_free(out);
    CHECK_EQ_INT(aws_ddb_av_to_json("{\"S\":\"x\"}{", 10, &out, &err), BZ_CORRUPT);
    CHECK(out == NULL);
    CHECK_EQ_INT(aws_ddb_av_to_json("", 0, &out, &err), BZ_CORRUPT);
}

int main(void) {
    test_types();
    test_numbers();
    test_unicode();
    test_pages();
    test_malformed();
    test_av_to_json();
    TEST_DONE();
}
