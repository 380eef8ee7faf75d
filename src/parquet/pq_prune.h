/*
** pq_prune.h: decide from footer statistics (and bloom filters) whether a
** row group can hold a row matching a predicate. SQL comparison semantics
** follow SQLite's: NULL < numbers < text < blob, text compared bytewise
** (BINARY collation). Every "no" must be certain: statistics are used only
** where they are trustworthy (see pq_prune.c).
*/
#ifndef PQ_PRUNE_H
#define PQ_PRUNE_H

#include "pq_reader.h"

/* Compare two SQL values with SQLite's ordering. */
int pq_value_cmp(const PqValue *a, const PqValue *b);

/* 0 if row group rg certainly has no row satisfying every predicate, else 1.
** Reads bloom filters through f->src for EQ/IN predicates when present
** (use_bloom); errors while reading a bloom filter just disable it. */
int pq_rowgroup_may_match(PqFile *f, int rg, const PqPred *preds, int n, int use_bloom);

/* The statistics test shared by row groups and pages: may a range of `rows`
** rows with min/max mn/mx (have = they are valid) and `nulls` nulls (-1
** unknown) of a leaf of kind `kind` hold a row satisfying p? */
int pq_stats_may_match(const PqPred *p, int kind, int have, const PqValue *mn, const PqValue *mx,
                       int64_t nulls, int64_t rows);
/* Page `page` of a column index: may its `rows` rows satisfy p? */
int pq_page_may_match(const PqFile *f, int leaf, const PqColumnIndex *ci, int page, int64_t rows,
                      const PqPred *p);

/* Min/max of a flat field's chunk as SQL values, if trustworthy. Returns 1
** when both are set (buffers hold rendered text, 256 bytes each). */
int pq_chunk_minmax(const PqFile *f, int rg, int leaf, PqValue *mn, PqValue *mx, char *bmin,
                    char *bmax);

#endif
