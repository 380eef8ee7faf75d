/* Unit tests for src/common: errors, capped buffers, JSON strings, UTF-8, glob. */
#include "bz_test.h"
#include "common/bz_common.h"

static void test_err(void) {
    BzErr e = {0};
    CHECK_EQ_INT(bz_err(&e, BZ_CORRUPT, "bad %s", "magic"), BZ_CORRUPT);
    CHECK_EQ_STR(e.msg, "bad magic");
    bz_err_prefix(&e, "file %s", "x.parquet");
    CHECK_EQ_STR(e.msg, "file x.parquet: bad magic");
    CHECK_EQ_INT(e.code, BZ_CORRUPT);
    bz_err_prefix(&e, "file %s", "x.parquet"); /* same context: kept once */
    CHECK_EQ_STR(e.msg, "file x.parquet: bad magic");
    bz_err_prefix(&e, "file"); /* a shorter head is new context */
    CHECK_EQ_STR(e.msg, "file: file x.parquet: bad magic");
}

static void test_buf(void) {
    BzBuf b;
    bz_buf_init(&b, 8);
    bz_buf_appendz(&b, "abcd");
    CHECK_EQ_INT(b.rc, BZ_OK);
    bz_buf_appendz(&b, "efghi"); /* 9 > cap 8 */
    CHECK_EQ_INT(b.rc, BZ_LIMIT);
    bz_buf_appendz(&b, "x"); /* sticky: no-op */
    CHECK_EQ_INT((int)b.n, 4);
    bz_buf_free(&b);

    bz_buf_init(&b, 0);
    bz_buf_json_str(&b, "a\"b\\\n\x01\xff\xc3\xa9", 9);
    CHECK_EQ_STR(b.data, "\"a\\\"b\\\\\\n\\u0001\xEF\xBF\xBD\xc3\xa9\"");
    bz_buf_free(&b);
}

static void test_utf8(void) {
    CHECK(bz_utf8_valid((const unsigned char *)"h\xc3\xa9llo", 6));
    CHECK(!bz_utf8_valid((const unsigned char *)"\xc0\x80", 2));     /* overlong */
    CHECK(!bz_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3)); /* surrogate */
    CHECK(!bz_utf8_valid((const unsigned char *)"\xe2\x82", 2));     /* truncated */
}

static void test_glob(void) {
    CHECK(bz_glob_match("*.parquet", "a.parquet"));
    CHECK(!bz_glob_match("*.parquet", "d/a.parquet"));
    CHECK(bz_glob_match("**/*.parquet", "a.parquet"));
    CHECK(bz_glob_match("**/*.parquet", "x/y/a.parquet"));
    CHECK(bz_glob_match("d/**/b.parquet", "d/b.parquet"));
    CHECK(bz_glob_match("d/**/b.parquet", "d/x/y/b.parquet"));
    CHECK(!bz_glob_match("d/**/b.parquet", "d/xb.parquet"));
    CHECK(bz_glob_match("d/**", "d/x/y"));
    CHECK(bz_glob_match("a?c", "abc"));
    CHECK(!bz_glob_match("a?c", "a/c"));
    CHECK(bz_glob_match("year=*/m*/*.parquet", "year=2020/m1/f.parquet"));
}

static void test_args(void) {
    char *z;
    int b = -1;
    z = bz_unquote("  'it''s'  ", 11);
    CHECK_EQ_STR(z, "it's");
    bz_free(z);
    z = bz_unquote("[a b]", 5);
    CHECK_EQ_STR(z, "a b");
    bz_free(z);
    z = bz_unquote("\"x\"\"y\"", 6);
    CHECK_EQ_STR(z, "x\"y");
    bz_free(z);
    z = bz_unquote(" bare ", 6);
    CHECK_EQ_STR(z, "bare");
    bz_free(z);
    z = bz_unquote("'unclosed", 9);
    CHECK_EQ_STR(z, "'unclosed");
    bz_free(z);
    CHECK(bz_parse_bool("TRUE", &b) && b == 1);
    CHECK(bz_parse_bool("off", &b) && b == 0);
    CHECK(bz_parse_bool("0", &b) && b == 0);
    CHECK(!bz_parse_bool("2", &b));
    CHECK(!bz_parse_bool("", &b));
}

int main(void) {
    test_args();
    test_err();
    test_buf();
    test_utf8();
    test_glob();
    TEST_DONE();
}
