/*
** pq_dataset.h: expand the paths a `parquet` table is declared over into a
** sorted list of files, and parse hive partition segments (`key=value/`).
**
** Usage:
**     PqFileList fl = {0};
**     if (pq_expand_local(pattern, &fl, &err)) ...
**     for (i = 0; i < fl.n; i++) use(fl.paths[i]);
**     pq_file_list_free(&fl);
**
** Local paths only; S3 listing lives in src/aws and fills the same list.
*/
#ifndef PQ_DATASET_H
#define PQ_DATASET_H

#include "common/bz_common.h"

typedef struct PqFileList {
    char **paths;    /* owned */
    uint64_t *sizes; /* known object sizes (from a listing), UINT64_MAX unknown */
    char **etags;    /* known version tags, NULL unknown (owned) */
    int n, cap;
} PqFileList;

/* 1 if the string has a glob wildcard (*, ?, [). */
int pq_has_wildcard(const char *z);

/* Append the files matching one pattern: a file, a directory (every file
** below it whose name does not start with '.' or '_'), or a glob with '*',
** '?' and '**'. A glob matching nothing adds nothing (not an error); a plain
** path that does not exist is BZ_NOTFOUND. Results of one call are sorted. */
int pq_expand_local(const char *pattern, PqFileList *out, BzErr *err);
/* The same; bGlob == 0 takes the pattern literally (a file or a directory
** whose name may contain '*', '?' or '['): what an hbee worker does with the
** one file of its split. */
int pq_expand_local_ex(const char *pattern, int bGlob, PqFileList *out, BzErr *err);
int pq_file_list_add(PqFileList *l, const char *path);
/* Add a listed object whose size and version tag are known (tag may be NULL). */
int pq_file_list_add_obj(PqFileList *l, const char *path, uint64_t size, const char *tag);
void pq_file_list_free(PqFileList *l);

/* Hive partitions of a path: each "key=value" directory segment. Calls
** cb(ctx, key, klen, value, vlen) for each, left to right. Values are
** URL-decoded by the caller if needed. */
void pq_hive_segments(const char *path, void (*cb)(void *ctx, const char *k, size_t kn,
                                                   const char *v, size_t vn), void *ctx);

#endif
