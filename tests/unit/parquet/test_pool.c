/*
** Unit tests for src/parquet/pq_pool.c: a buffer given back is handed out
** again (best fit), the byte limit holds, a larger buffer evicts smaller
** ones, limit 0 empties and disables the pool, and two threads sharing the
** pool never get the same buffer at once.
*/
#include "bz_test.h"
#include "common/bz_common.h"
#include "parquet/pq_pool.h"

#include <pthread.h>
#include <stdint.h>

static void test_reuse(void) {
    size_t n, bytes, cap, cap2;
    pq_pool_limit((size_t)1 << 20);
    uint8_t *a = pq_pool_get(1000, &cap);
    CHECK(a != NULL);
    CHECK_EQ_INT(cap, 1000);
    uint8_t *b = pq_pool_get(5000, &cap2);
    CHECK_EQ_INT(cap2, 5000);
    memset(a, 1, cap);
    memset(b, 2, cap2);
    pq_pool_put(a, cap);
    pq_pool_put(b, cap2);
    pq_pool_usage(&n, &bytes);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(bytes, 6000);
    /* best fit: 900 bytes come from the 1000-byte buffer, 1001 from the 5000 one */
    uint8_t *c = pq_pool_get(900, &cap);
    CHECK(c == a);
    CHECK_EQ_INT(cap, 1000);
    uint8_t *d = pq_pool_get(1001, &cap2);
    CHECK(d == b);
    CHECK_EQ_INT(cap2, 5000);
    pq_pool_usage(&n, &bytes);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(bytes, 0);
    /* nothing fits: a new buffer of exactly n */
    pq_pool_put(c, 1000);
    uint8_t *e = pq_pool_get(2000, &cap);
    CHECK(e != NULL && e != c);
    CHECK_EQ_INT(cap, 2000);
    pq_pool_usage(&n, &bytes);
    CHECK_EQ_INT(n, 1);
    pq_pool_put(d, cap2);
    pq_pool_put(e, cap);
    pq_pool_put(NULL, 123); /* no-op */
    pq_pool_usage(&n, &bytes);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(bytes, 8000);
    pq_pool_limit(0);
    pq_pool_usage(&n, &bytes);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(bytes, 0);
}

static void test_limit(void) {
    size_t n, bytes, cap;
    void *p[4];
    size_t aCap[4];
    pq_pool_limit(10000);
    for (int i = 0; i < 4; i++) p[i] = pq_pool_get(3000, &aCap[i]);
    for (int i = 0; i < 4; i++) pq_pool_put(p[i], aCap[i]);
    pq_pool_usage(&n, &bytes);
    CHECK_EQ_INT(n, 3); /* the fourth would pass the limit */
    CHECK_EQ_INT(bytes, 9000);
    /* a larger buffer evicts smaller ones to fit */
    void *big = pq_pool_get(8000, &cap);
    CHECK_EQ_INT(cap, 8000);
    pq_pool_put(big, cap);
    pq_pool_usage(&n, &bytes);
    CHECK(bytes <= 10000);
    void *again = pq_pool_get(7000, &cap);
    CHECK(again == big);
    pq_pool_put(again, cap);
    /* a buffer over the whole limit is never kept */
    void *huge = pq_pool_get(20000, &cap);
    pq_pool_put(huge, cap);
    pq_pool_usage(&n, &bytes);
    CHECK(bytes <= 10000);
    void *h2 = pq_pool_get(20000, &cap);
    CHECK(h2 != NULL);
    bz_free(h2); /* a pool buffer may also be freed directly */
    /* limit 0: nothing is kept */
    pq_pool_limit(0);
    void *z = pq_pool_get(100, &cap);
    pq_pool_put(z, cap);
    pq_pool_usage(&n, &bytes);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(bytes, 0);
}

/* Each thread writes its id over a pooled buffer and checks it is still
** there before giving it back: a buffer handed to both would be caught. */
static int g_bad;
static void *worker(void *arg) {
    uint8_t id = (uint8_t)(uintptr_t)arg;
    for (int k = 0; k < 20000; k++) {
        size_t cap, n = 64 + (size_t)(k % 7) * 100;
        uint8_t *p = pq_pool_get(n, &cap);
        if (!p || cap < n) {
            __atomic_add_fetch(&g_bad, 1, __ATOMIC_RELAXED);
            continue;
        }
        memset(p, id, n);
        for (size_t i = 0; i < n; i++)
            if (p[i] != id) {
                __atomic_add_fetch(&g_bad, 1, __ATOMIC_RELAXED);
                break;
            }
        pq_pool_put(p, cap);
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t t[4];
    pq_pool_limit((size_t)1 << 20);
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(g_bad, 0);
    pq_pool_limit(0);
}

int main(void) {
    test_reuse();
    test_limit();
    test_threads();
    TEST_DONE();
}
