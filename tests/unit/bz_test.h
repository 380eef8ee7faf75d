/*
** bz_test.h: tiny check macros for the C unit tests. Each test binary
** returns non-zero when any CHECK failed and prints "N checks, N failed".
*/
#ifndef BZ_TEST_H
#define BZ_TEST_H
#include <stdio.h>
#include <string.h>

static int bzt_checks, bzt_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        bzt_checks++;                                                                              \
        if (!(cond)) {                                                                             \
            bzt_failed++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        bzt_checks++;                                                                              \
        if (_a != _b) {                                                                            \
            bzt_failed++;                                                                          \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        bzt_checks++;                                                                              \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                   \
            bzt_failed++;                                                                          \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,      \
                    _a ? _a : "(null)", _b ? _b : "(null)");                                       \
        }                                                                                          \
    } while (0)

#define TEST_DONE()                                                                                \
    do {                                                                                           \
        printf("%d checks, %d failed\n", bzt_checks, bzt_failed);                                  \
        return bzt_failed ? 1 : 0;                                                                 \
    } while (0)

#endif
