/*
** pq_cache.h: a process-wide, size-bounded LRU cache of raw Parquet footers
** keyed by (source name, version tag), so repeated queries and new tables
** over the same files do not fetch and re-read their footers. The version
** tag is the S3 ETag, or size+mtime for local files: a changed file misses.
**
** Usage:
**     uint8_t *f; size_t n;
**     if (pq_footer_cache_get("s3://b/k", etag, &f, &n)) { parse(f, n); bz_free(f); }
**     ...
**     pq_footer_cache_put("s3://b/k", etag, footer, n);
**
** Thread-safe (one mutex). Rationale: footers are parsed once per table
** anyway; the cache saves the network round trips, which dominate.
*/
#ifndef PQ_CACHE_H
#define PQ_CACHE_H

#include "common/bz_common.h"

/* 1 and a copy in *out (caller frees with bz_free) on a hit, else 0. */
int pq_footer_cache_get(const char *name, const char *tag, uint8_t **out, size_t *n);
/* Insert (or refresh) an entry; evicts least recently used entries beyond
** the byte limit. Silently does nothing on OOM or when n exceeds the limit. */
void pq_footer_cache_put(const char *name, const char *tag, const uint8_t *footer, size_t n);
/* 1 if some version of `name` is cached (then a cheap size/tag check of the
** source is worth more than reading its tail). */
int pq_footer_cache_has_name(const char *name);
/* Byte limit (default 64 MiB); 0 disables and empties the cache. */
void pq_footer_cache_limit(size_t bytes);
/* Entries and bytes held, for tests. */
void pq_footer_cache_usage(size_t *entries, size_t *bytes);

#endif
