/*
** pq_pool.h: a process-wide, size-bounded pool of large scan buffers
** (column chunk bytes, decompressed pages, dictionaries), so a scan that
** ends hands its buffers to the next scan instead of back to the C library.
**
** Usage:
**     size_t cap;
**     uint8_t *p = pq_pool_get(n, &cap);   // at least n bytes, cap >= n
**     ...
**     pq_pool_put(p, cap);                  // kept for the next get, or freed
**
** Thread-safe (one mutex, taken once per column chunk, never per value).
**
** Rationale: freed multi-megabyte buffers go back to the kernel (glibc trims
** a thread's arena and unmaps large blocks), so every scan paid a page fault
** per 4 KiB of its buffers again, plus TLB shootdowns on every core of the
** process. A short query of many small splits (hbee tasks of one row group)
** spent over a third of its CPU there. Memory held: at most the limit
** (default 64 MiB, about what two concurrent scans of a wide table use).
*/
#ifndef PQ_POOL_H
#define PQ_POOL_H

#include "common/bz_common.h"

/* A buffer of at least n bytes (contents undefined), its capacity in *cap:
** the smallest pooled one that fits, else a new bz_malloc'd one. NULL on
** OOM. The caller owns it and gives it back with pq_pool_put (or bz_free). */
void *pq_pool_get(size_t n, size_t *cap);
/* Give back a buffer of capacity cap from pq_pool_get (NULL is a no-op): it
** is kept when the pool has room (smaller pooled buffers are freed to make
** room for a larger one), else freed. */
void pq_pool_put(void *p, size_t cap);
/* Byte limit (default 64 MiB); 0 disables the pool and frees what it holds. */
void pq_pool_limit(size_t bytes);
/* Buffers and bytes held, for tests. */
void pq_pool_usage(size_t *buffers, size_t *bytes);

#endif
