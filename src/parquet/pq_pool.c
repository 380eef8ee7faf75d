/*
** pq_pool.c: the scan buffer pool. See pq_pool.h.
** A small array of free buffers; get takes the best fit, put evicts the
** smallest buffers when a larger one needs the room.
*/
#include "pq_pool.h"

#include <pthread.h>

#define POOL_SLOTS 64

typedef struct Slot {
    void *p;
    size_t cap;
} Slot;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static Slot g_slot[POOL_SLOTS];
static int g_n;
static size_t g_bytes, g_limit = (size_t)64 << 20;

/* Remove slot i (g_mu held); returns its buffer. */
static void *take(int i, size_t *cap) {
    void *p = g_slot[i].p;
    *cap = g_slot[i].cap;
    g_bytes -= g_slot[i].cap;
    g_slot[i] = g_slot[--g_n];
    return p;
}

void *pq_pool_get(size_t n, size_t *cap) {
    void *p = NULL;
    int best = -1;
    if (n == 0) n = 1;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < g_n; i++)
        if (g_slot[i].cap >= n && (best < 0 || g_slot[i].cap < g_slot[best].cap)) best = i;
    if (best >= 0) p = take(best, cap);
    pthread_mutex_unlock(&g_mu);
    if (p) return p;
    p = bz_malloc(n);
    *cap = p ? n : 0;
    return p;
}

void pq_pool_put(void *p, size_t cap) {
    void *drop[POOL_SLOTS + 1];
    int nDrop = 0;
    if (!p) return;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        if (cap <= g_limit && g_n < POOL_SLOTS && g_bytes + cap <= g_limit) {
            g_slot[g_n].p = p;
            g_slot[g_n].cap = cap;
            g_n++;
            g_bytes += cap;
            p = NULL;
            break;
        }
        int small = -1; /* the smallest pooled buffer, if smaller than p */
        for (int i = 0; i < g_n; i++)
            if (g_slot[i].cap < cap && (small < 0 || g_slot[i].cap < g_slot[small].cap)) small = i;
        if (small < 0 || cap > g_limit) break;
        size_t c;
        drop[nDrop++] = take(small, &c);
    }
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < nDrop; i++) bz_free(drop[i]);
    bz_free(p);
}

void pq_pool_limit(size_t bytes) {
    void *drop[POOL_SLOTS];
    int nDrop = 0;
    pthread_mutex_lock(&g_mu);
    g_limit = bytes;
    while (g_n > 0 && g_bytes > g_limit) {
        size_t c;
        drop[nDrop++] = take(g_n - 1, &c);
    }
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < nDrop; i++) bz_free(drop[i]);
}

void pq_pool_usage(size_t *buffers, size_t *bytes) {
    pthread_mutex_lock(&g_mu);
    *buffers = (size_t)g_n;
    *bytes = g_bytes;
    pthread_mutex_unlock(&g_mu);
}
