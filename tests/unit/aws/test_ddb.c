/*
** test_ddb.c: offline checks of the DynamoDB value codecs (aws_ddb.h):
** base64, numbers (INTEGER/REAL/TEXT, 38 digits), scalar -> AttributeValue
** (key coercion, JSON text -> M/L, NaN refused), plain JSON <-> AttributeValue
** (nesting, escapes, sets, bad JSON), keys, and the client's endpoint setup.
**
**   build/tests/aws/test_ddb
*/
#include "aws/dynamodb/aws_ddb.h"
#include "bz_test.h"

#include <math.h>
#include <stdlib.h>

static char *av(const AwsDdbValue *v, char key_type, int json_ok, int *rc) {
    BzBuf b;
    BzErr err = {0};
    bz_buf_init(&b, 0);
    *rc = aws_ddb_value_json(&b, v, key_type, json_ok, &err);
    return bz_buf_take(&b);
}

static void test_base64(void) {
    BzBuf b;
    size_t n;
    unsigned char *d;
    bz_buf_init(&b, 0);
    aws_ddb_base64_encode(&b, "f", 1);
    bz_buf_appendc(&b, ' ');
    aws_ddb_base64_encode(&b, "fo", 2);
    bz_buf_appendc(&b, ' ');
    aws_ddb_base64_encode(&b, "foobar", 6);
    CHECK_EQ_STR(b.data, "Zg== Zm8= Zm9vYmFy");
    bz_buf_free(&b);
    d = aws_ddb_base64_decode("Zm9vYg==", 8, &n);
    CHECK(d && n == 4 && !memcmp(d, "foob", 4));
    bz_free(d);
    CHECK(aws_ddb_base64_decode("Zm9$", 4, &n) == NULL);
}

static void test_numbers(void) {
    AwsDdbValue v;
    char buf[40];
    CHECK_EQ_INT(aws_ddb_number("42", AWS_DDB_NUM_AUTO, &v), BZ_OK);
    CHECK(v.type == AWS_DDB_INT && v.i == 42);
    CHECK_EQ_INT(aws_ddb_number("-9223372036854775808", AWS_DDB_NUM_AUTO, &v), BZ_OK);
    CHECK(v.type == AWS_DDB_INT && v.i == INT64_MIN);
    CHECK_EQ_INT(aws_ddb_number("9223372036854775808", AWS_DDB_NUM_AUTO, &v), BZ_OK);
    CHECK(v.type == AWS_DDB_REAL);
    CHECK_EQ_INT(aws_ddb_number("2.5", AWS_DDB_NUM_AUTO, &v), BZ_OK);
    CHECK(v.type == AWS_DDB_REAL && v.r == 2.5);
    CHECK_EQ_INT(aws_ddb_number("1E+3", AWS_DDB_NUM_AUTO, &v), BZ_OK);
    CHECK(v.type == AWS_DDB_INT && v.i == 1000);
    CHECK_EQ_INT(aws_ddb_number("12345678901234567890123456789012345678", AWS_DDB_NUM_TEXT, &v), BZ_OK);
    CHECK(v.type == AWS_DDB_TEXT && !strcmp(v.z, "12345678901234567890123456789012345678"));
    bz_free(v.z);
    CHECK_EQ_INT(aws_ddb_number("1.2.3", AWS_DDB_NUM_AUTO, &v), BZ_CORRUPT);
    CHECK_EQ_INT(aws_ddb_number("", AWS_DDB_NUM_AUTO, &v), BZ_CORRUPT);
    aws_ddb_format_double(buf, sizeof buf, 0.1);
    CHECK_EQ_STR(buf, "0.1");
    aws_ddb_format_double(buf, sizeof buf, 1.0 / 3);
    CHECK(strtod(buf, NULL) == 1.0 / 3);
}

static void test_value_json(void) {
    int rc;
    char *z;
    AwsDdbValue v = {0};
    v.type = AWS_DDB_INT;
    v.i = -5;
    z = av(&v, 0, 1, &rc);
    CHECK_EQ_STR(z, "{\"N\":\"-5\"}");
    bz_free(z);
    z = av(&v, 'S', 0, &rc); /* lossless coercion to an S key */
    CHECK_EQ_STR(z, "{\"S\":\"-5\"}");
    bz_free(z);
    v.type = AWS_DDB_REAL;
    v.r = NAN;
    z = av(&v, 0, 1, &rc);
    CHECK_EQ_INT(rc, BZ_MISUSE);
    bz_free(z);
    v.type = AWS_DDB_TEXT;
    v.z = " 12.50 ";
    v.n = strlen(v.z);
    z = av(&v, 'N', 0, &rc); /* numeric text for an N key */
    CHECK_EQ_STR(z, "{\"N\":\"12.50\"}");
    bz_free(z);
    v.z = "abc";
    v.n = 3;
    z = av(&v, 'N', 0, &rc); /* not a number: keeps its type, DynamoDB reports it */
    CHECK_EQ_STR(z, "{\"S\":\"abc\"}");
    bz_free(z);
    v.z = "{\"a\": [1, \"x\", true, null, {\"b\": -2.5e3}]}";
    v.n = strlen(v.z);
    z = av(&v, 0, 1, &rc);
    CHECK_EQ_STR(z, "{\"M\":{\"a\":{\"L\":[{\"N\":\"1\"},{\"S\":\"x\"},{\"BOOL\":true},"
                    "{\"NULL\":true},{\"M\":{\"b\":{\"N\":\"-2.5e3\"}}}]}}}");
    bz_free(z);
    z = av(&v, 0, 0, &rc); /* json_ok 0: stays a string */
    CHECK(z && !strncmp(z, "{\"S\":\"{", 7));
    bz_free(z);
    v.z = "[1, 2";
    v.n = 5;
    z = av(&v, 0, 1, &rc); /* looks like JSON but is not: a string */
    CHECK_EQ_STR(z, "{\"S\":\"[1, 2\"}");
    bz_free(z);
    v.is_json = 1;
    z = av(&v, 0, 1, &rc); /* marked JSON (json() subtype) but malformed: refused */
    CHECK_EQ_INT(rc, BZ_CORRUPT);
    bz_free(z);
    v.is_json = 0;
    v.type = AWS_DDB_BLOB;
    v.z = "\x01\x02";
    v.n = 2;
    z = av(&v, 0, 1, &rc);
    CHECK_EQ_STR(z, "{\"B\":\"AQI=\"}");
    bz_free(z);
    v.type = AWS_DDB_NULL;
    z = av(&v, 0, 1, &rc);
    CHECK_EQ_STR(z, "{\"NULL\":true}");
    bz_free(z);
}

static void test_json(void) {
    BzBuf b;
    BzErr err = {0};
    char *out;
    int n;
    static const char *bad[] = {"{", "[1,]", "{\"a\" 1}", "\"\\q\"", "01x", "[1] 2", "nul",
                                "\"a\nb\""};
    bz_buf_init(&b, 0);
    CHECK_EQ_INT(aws_ddb_json_to_av(&b, "\"\\u00e9\\n\"", 10, &err), BZ_OK);
    CHECK_EQ_STR(b.data, "{\"S\":\"\\u00e9\\n\"}");
    for (size_t i = 0; i < BZ_ARRAY_LEN(bad); i++) {
        bz_buf_reset(&b);
        CHECK_EQ_INT(aws_ddb_json_to_av(&b, bad[i], strlen(bad[i]), &err), BZ_CORRUPT);
    }
    {
        /* nesting is capped */
        char deep[300];
        memset(deep, '[', 150);
        memset(deep + 150, ']', 150);
        bz_buf_reset(&b);
        CHECK_EQ_INT(aws_ddb_json_to_av(&b, deep, 300, &err), BZ_CORRUPT);
    }
    bz_buf_reset(&b);
    CHECK_EQ_INT(aws_ddb_json_object_members(&b, "{\"a\":1,\"b\":\"x\"}", 15, &n, &err), BZ_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(b.data, "\"a\":{\"N\":\"1\"},\"b\":{\"S\":\"x\"}");
    bz_buf_reset(&b);
    CHECK_EQ_INT(aws_ddb_json_object_members(&b, "[1]", 3, &n, &err), BZ_CORRUPT);
    bz_buf_free(&b);
    {
        const char *in = "{\"M\":{\"s\":{\"SS\":[\"a\"]},\"n\":{\"NS\":[\"1\",\"2.5\"]},"
                         "\"b\":{\"B\":\"AQI=\"},\"t\":{\"BOOL\":false},\"z\":{\"NULL\":true}}}";
        CHECK_EQ_INT(aws_ddb_av_to_json(in, strlen(in), &out, &err), BZ_OK);
        CHECK_EQ_STR(out, "{\"s\":[\"a\"],\"n\":[1,2.5],\"b\":\"AQI=\",\"t\":false,\"z\":null}");
        bz_free(out);
        CHECK_EQ_INT(aws_ddb_av_to_json("{\"X\":1}", 7, &out, &err), BZ_CORRUPT);
        CHECK_EQ_INT(aws_ddb_av_to_json("{\"N\":\"1x\"}", 10, &out, &err), BZ_CORRUPT);
    }
}

static void test_keys(void) {
    AwsDdbKey k = {"pk", 'S', "sk", 'N'};
    AwsDdbValue h = {0}, r = {0};
    BzErr err = {0};
    char *z;
    h.type = AWS_DDB_TEXT;
    h.z = "a\"b";
    h.n = 3;
    r.type = AWS_DDB_INT;
    r.i = 7;
    z = aws_ddb_key_json(&k, &h, &r, &err);
    CHECK_EQ_STR(z, "{\"pk\":{\"S\":\"a\\\"b\"},\"sk\":{\"N\":\"7\"}}");
    bz_free(z);
    k.range = NULL;
    z = aws_ddb_key_json(&k, &h, NULL, &err);
    CHECK_EQ_STR(z, "{\"pk\":{\"S\":\"a\\\"b\"}}");
    bz_free(z);
}

static void test_client(void) {
    AwsDdb *d = NULL;
    BzErr err = {0};
    AwsDdbOptions o = {0};
    setenv("AWS_ACCESS_KEY_ID", "x", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "y", 1);
    setenv("BZ_AWS_MAX_ATTEMPTS", "1", 1);
    o.endpoint = "ftp://nope";
    CHECK_EQ_INT(aws_ddb_new(&o, &d, &err), BZ_MISUSE);
    CHECK(d == NULL);
    o.endpoint = "http://127.0.0.1:1";
    CHECK_EQ_INT(aws_ddb_new(&o, &d, &err), BZ_OK);
    if (d) {
        AwsDdbTable t;
        /* nothing listens on port 1: an I/O error naming the table, not a crash */
        CHECK(aws_ddb_describe(d, "sheep", &t, &err) != BZ_OK);
        CHECK(strstr(err.msg, "dynamodb table sheep") != NULL);
        aws_ddb_free(d);
    }
}

int main(void) {
    test_base64();
    test_numbers();
    test_value_json();
    test_json();
    test_keys();
    test_client();
    TEST_DONE();
}
