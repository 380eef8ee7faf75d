/*
** pq_cache.c: the footer cache. See pq_cache.h.
** A fixed array of hash buckets with chaining, plus an LRU list.
*/
#include "pq_cache.h"

#include <pthread.h>
#include <string.h>

#define NBUCKETS 4096

typedef struct Entry {
    struct Entry *hnext;         /* bucket chain */
    struct Entry *prev, *next;   /* LRU list, most recent first */
    uint64_t hash;
    char *key;                   /* name + '\n' + tag */
    uint8_t *data;
    size_t n;
} Entry;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static Entry *g_buckets[NBUCKETS];
static Entry *g_head, *g_tail;
static size_t g_bytes, g_entries, g_limit = (size_t)64 << 20;

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static char *make_key(const char *name, const char *tag) {
    return bz_mprintf("%s\n%s", name, tag ? tag : "");
}

static void lru_unlink(Entry *e) {
    if (e->prev) e->prev->next = e->next;
    else g_head = e->next;
    if (e->next) e->next->prev = e->prev;
    else g_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(Entry *e) {
    e->next = g_head;
    e->prev = NULL;
    if (g_head) g_head->prev = e;
    g_head = e;
    if (!g_tail) g_tail = e;
}

static Entry *find(const char *key, uint64_t h) {
    for (Entry *e = g_buckets[h % NBUCKETS]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->key, key) == 0) return e;
    return NULL;
}

static void drop(Entry *e) {
    Entry **pp = &g_buckets[e->hash % NBUCKETS];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(e);
    g_bytes -= e->n;
    g_entries--;
    bz_free(e->key);
    bz_free(e->data);
    bz_free(e);
}

int pq_footer_cache_get(const char *name, const char *tag, uint8_t **out, size_t *n) {
    char *key = make_key(name, tag);
    uint64_t h;
    Entry *e;
    int hit = 0;
    *out = NULL;
    *n = 0;
    if (!key) return 0;
    h = fnv1a(key);
    pthread_mutex_lock(&g_mu);
    e = find(key, h);
    if (e && (*out = bz_malloc(e->n ? e->n : 1)) != NULL) {
        memcpy(*out, e->data, e->n);
        *n = e->n;
        lru_unlink(e);
        lru_push(e);
        hit = 1;
    }
    pthread_mutex_unlock(&g_mu);
    bz_free(key);
    return hit;
}

void pq_footer_cache_put(const char *name, const char *tag, const uint8_t *footer, size_t n) {
    char *key;
    Entry *e;
    uint64_t h;
    if (!tag || !tag[0]) return; /* no version tag: a cached footer could be stale */
    key = make_key(name, tag);
    if (!key) return;
    h = fnv1a(key);
    pthread_mutex_lock(&g_mu);
    if (n > g_limit || find(key, h)) {
        pthread_mutex_unlock(&g_mu);
        bz_free(key);
        return;
    }
    e = bz_calloc(1, sizeof *e);
    if (e) e->data = bz_malloc(n ? n : 1);
    if (!e || !e->data) {
        if (e) bz_free(e);
        pthread_mutex_unlock(&g_mu);
        bz_free(key);
        return;
    }
    memcpy(e->data, footer, n);
    e->n = n;
    e->key = key;
    e->hash = h;
    e->hnext = g_buckets[h % NBUCKETS];
    g_buckets[h % NBUCKETS] = e;
    lru_push(e);
    g_bytes += n;
    g_entries++;
    while (g_bytes > g_limit && g_tail) drop(g_tail);
    pthread_mutex_unlock(&g_mu);
}

int pq_footer_cache_has_name(const char *name) {
    size_t n = strlen(name);
    int found = 0;
    pthread_mutex_lock(&g_mu);
    for (Entry *e = g_head; e && !found; e = e->next)
        found = strncmp(e->key, name, n) == 0 && e->key[n] == '\n';
    pthread_mutex_unlock(&g_mu);
    return found;
}

void pq_footer_cache_limit(size_t bytes) {
    pthread_mutex_lock(&g_mu);
    g_limit = bytes;
    while (g_bytes > g_limit && g_tail) drop(g_tail);
    if (bytes == 0)
        while (g_tail) drop(g_tail);
    pthread_mutex_unlock(&g_mu);
}

void pq_footer_cache_usage(size_t *entries, size_t *bytes) {
    pthread_mutex_lock(&g_mu);
    *entries = g_entries;
    *bytes = g_bytes;
    pthread_mutex_unlock(&g_mu);
}

/* Empty the cache when the library is unloaded (SQLite dlclose()s an
** extension when the last connection that loaded it closes), so the memory
** goes back to the allocator instead of being orphaned. */
#if defined(__GNUC__)
__attribute__((destructor)) static void cache_unload(void) {
    pq_footer_cache_limit(0);
}
#endif
