/*
** bz_readat.h: the read-at interface every Parquet byte goes through.
**
** The Parquet reader never knows where bytes come from: a local file
** (bz_file_open, below) or an S3 object (src/aws) implement the same small
** vtable. A source reports what it served in `bytes_read` / `n_requests` so
** tests and benchmarks can check that a query read only what it needed.
**
** Usage:
**     BzReadAt *src;
**     if (bz_file_open("x.parquet", &src, &err)) return err.code;
**     rc = src->read_at(src, src->size - 8, 8, tail, &err);
**     bz_readat_close(src);
*/
#ifndef BZ_READAT_H
#define BZ_READAT_H

#include "bz_common.h"

/* One range to read: `n` bytes at `off` into `dst` (caller-owned, n bytes). */
typedef struct BzRange {
    uint64_t off;
    size_t n;
    void *dst;
} BzRange;

typedef struct BzReadAt BzReadAt;
struct BzReadAt {
    /* Read exactly n bytes at off into dst. Returns BZ_OK, or an error (BZ_IO,
    ** BZ_CORRUPT for a short object, ...) with err naming the source. */
    int (*read_at)(BzReadAt *src, uint64_t off, size_t n, void *dst, BzErr *err);
    /* Read several ranges, possibly in parallel and coalesced. May be NULL:
    ** bz_readat_ranges() then loops over read_at. */
    int (*read_ranges)(BzReadAt *src, const BzRange *r, int nr, BzErr *err);
    /* Hint: these ranges will be read soon (prefetch). May be NULL. The
    ** source copies the array; dst pointers are ignored. */
    void (*prefetch)(BzReadAt *src, const BzRange *r, int nr);
    /* Read the last min(n, size) bytes into dst and set *got; for a source
    ** opened without knowing its size (size_unknown), this one request also
    ** learns size and etag (an S3 suffix range). n == 0 only learns size and
    ** etag (an S3 HEAD). May be NULL: callers then use read_at at size - n. */
    int (*read_tail)(BzReadAt *src, size_t n, void *dst, size_t *got, BzErr *err);
    /* Release everything; the struct itself included. */
    void (*close)(BzReadAt *src);

    uint64_t size;        /* object size in bytes */
    char *name;           /* for error messages (path or URL, no secrets) */
    char *etag;           /* version tag for caches (mtime+size for files); may be NULL */
    uint64_t bytes_read;  /* bytes actually fetched from the medium */
    uint64_t n_requests;  /* read calls / HTTP requests issued */
    int local;            /* 1: reads are cheap (a local file), so small checks may read */
    int size_unknown;     /* size (and etag) not known until read_tail is called */
};

/* Open a local file for reading. On success *out owns an fd; close with
** bz_readat_close. Errors name the path and the OS reason. */
int bz_file_open(const char *path, BzReadAt **out, BzErr *err);

/* Read several ranges through src->read_ranges or a read_at loop. */
int bz_readat_ranges(BzReadAt *src, const BzRange *r, int nr, BzErr *err);

/* Close and free; NULL is a no-op. */
void bz_readat_close(BzReadAt *src);

#endif
