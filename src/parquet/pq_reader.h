/*
** pq_reader.h: open a Parquet file through a BzReadAt and scan it as rows of
** SQL values, a column batch at a time.
**
** A PqFile is the parsed footer plus the schema flattened into top-level
** fields (the SQL columns) and leaves (the physical column chunks). A PqScan
** reads the projected fields of chosen row groups. Flat columns are decoded
** into batches of up to PQ_BATCH values; nested fields (LIST, MAP, STRUCT,
** bare repeated fields) are assembled per row into JSON text.
**
** Usage:
**     PqFile *f;  PqScan *s;  PqValue v;
**     if (pq_file_open(src, &f, &err)) ...            // takes ownership of src
**     PqScanOpts o = {0}; o.want = want_mask_of_fields;
**     if (pq_scan_open(f, &o, &s, &err)) ...
**     while ((rc = pq_scan_next(s, &err)) == BZ_OK)
**         for each field i: pq_scan_value(s, i, &v, &err) ... v.type ...
**     // rc == BZ_DONE at the end
**     pq_scan_close(s); pq_file_close(f);
**
** Memory: bounded by the projected column chunks of one row group (compressed
** bytes) plus one decompressed page per projected leaf.
*/
#ifndef PQ_READER_H
#define PQ_READER_H

#include "common/bz_readat.h"
#include "pq_meta.h"

#include <stddef.h>

#define PQ_BATCH 2048
/* Safety limits (Rationale: a hostile file must not make us allocate more
** than it justifies; real writers stay far below these). */
#define PQ_MAX_PAGE_SIZE ((size_t)256 << 20)   /* one page, uncompressed */
#define PQ_MAX_FOOTER_SIZE ((size_t)256 << 20)
#define PQ_MAX_CHUNK_SIZE ((size_t)2 << 30)

/* How a leaf's values become SQL values. */
enum {
    PK_BOOL, PK_INT32, PK_UINT32, PK_INT64, PK_UINT64, PK_FLOAT, PK_DOUBLE, PK_FLOAT16,
    PK_STRING, PK_BLOB, PK_UUID, PK_DECIMAL, PK_DATE, PK_TIME, PK_TIMESTAMP, PK_INT96,
    PK_INTERVAL, PK_NESTED
};

/* SQL value produced by a scan. Text/blob bytes stay valid until the next
** pq_scan_next or pq_scan_value on the same field. */
enum { PV_NULL = 0, PV_INT = 1, PV_REAL = 2, PV_TEXT = 3, PV_BLOB = 4 };
typedef struct PqValue {
    int type;
    int64_t i;
    double d;
    const char *p;
    size_t n;
} PqValue;

typedef struct PqLeaf {
    int node;           /* index into schema */
    int field;          /* top-level field it belongs to */
    int max_def, max_rep;
    int type, type_length;
    int kind;           /* PK_* */
    int scale, precision;
    int unit;           /* PQ_UNIT_* for TIME/TIMESTAMP */
    char *path;         /* dotted path, e.g. "a.list.element" */
} PqLeaf;

typedef struct PqNode {
    const PqSchemaElement *el;
    int parent;
    int *children;
    int n_children;
    int def, rep;       /* levels at this node (counting itself) */
    int leaf;           /* leaf index, or -1 for a group */
    int first_leaf, n_leaves;
    int shape;          /* NS_* below */
} PqNode;

/* How a node is rendered in JSON. */
enum { NS_LEAF, NS_STRUCT, NS_LIST, NS_MAP, NS_REPEATED };

typedef struct PqField {
    const char *name;
    int node;
    int first_leaf, n_leaves;
    int kind;           /* leaf kind for flat fields, PK_NESTED otherwise */
    int sql_type;       /* PV_INT, PV_REAL, PV_TEXT, PV_BLOB: declared type */
} PqField;

typedef struct PqFile {
    BzReadAt *src;
    PqFileMeta *meta;
    PqNode *nodes;      /* one per schema element */
    PqLeaf *leaves;
    int n_leaves;
    PqField *fields;
    int n_fields;
    int binary_as_string;
    int decimal_as_text;
    uint64_t footer_len;
} PqFile;

typedef struct PqOpenOpts {
    int binary_as_string;
    int decimal_as_text;
    size_t tail_size;      /* bytes read from the end to find the footer (0: 64 KiB) */
    /* Optional persistent footer cache (e.g. a SQLite database), consulted
    ** after the in-process cache for sources with a version tag. get returns
    ** 1 and a bz_malloc'd copy on a hit. */
    int (*footer_get)(void *ctx, const char *name, const char *tag, uint8_t **buf, size_t *n);
    void (*footer_put)(void *ctx, const char *name, const char *tag, const uint8_t *buf, size_t n);
    void *footer_ctx;
} PqOpenOpts;

/* Open: read and parse the footer (one read of the tail, a second only when
** the footer is larger; none when the footer cache has it), build the schema. Takes ownership of src, even on
** error. Errors name the source. */
int pq_file_open(BzReadAt *src, const PqOpenOpts *opts, PqFile **out, BzErr *err);
void pq_file_close(PqFile *f);
/* Append the dotted path of schema node `node` ("a.list.element") to b. */
void pq_node_path(const PqFile *f, int node, BzBuf *b);
/* Declared SQL type name of a field ("INTEGER", "REAL", "TEXT", "BLOB"). */
const char *pq_field_decltype(const PqFile *f, int field);

typedef struct PqScan PqScan;

/* A predicate on a top-level field, in SQL semantics (see pq_prune.c for
** how SQLite's ordering and NULL rules are mirrored). */
enum { PQ_OP_EQ, PQ_OP_LT, PQ_OP_LE, PQ_OP_GT, PQ_OP_GE, PQ_OP_NE, PQ_OP_ISNULL, PQ_OP_NOTNULL,
       PQ_OP_IN, PQ_OP_PREFIX };

typedef struct PqPred {
    int field;
    int op;
    PqValue val;        /* EQ..NE, PREFIX (text prefix); text/blob bytes owned by the caller */
    const PqValue *in;  /* IN list */
    int n_in;
} PqPred;

/* Compare two SQL values with SQLite's ordering: NULL < numbers < text <
** blob; text and blobs bytewise (BINARY collation). */
int pq_value_cmp(const PqValue *a, const PqValue *b);
/* 1 if value v of the predicate's field satisfies it (NULL and NaN are
** NULL). PREFIX tests only that text starts with the prefix: a necessary
** condition of the LIKE/GLOB it came from, never used as an exact filter. */
int pq_pred_eval(const PqPred *p, const PqValue *v);

typedef struct PqScanOpts {
    const uint8_t *want;   /* want[i] != 0: field i is read; NULL = all */
    const uint8_t *rg_skip;/* rg_skip[g] != 0: row group g is skipped; NULL = none */
    int64_t offset;        /* rows to skip before the first returned (>= 0) */
    int64_t limit;         /* rows to return at most (-1 = no limit) */
    int64_t expect;        /* > 0: a hint of the rows the caller may want (sizes the first
                           ** read windows; never a stop); 0 = unknown */
    const PqPred *filters; /* rows failing any of these are skipped inside the scan; */
    int n_filters;         /* OFFSET and LIMIT then count matching rows only */
    const PqPred *prune;   /* predicates used with the page index to skip pages */
    int n_prune;           /* (rows outside matching pages are never produced) */
} PqScanOpts;

int pq_scan_open(PqFile *f, const PqScanOpts *o, PqScan **out, BzErr *err);
/* Advance to the next row: BZ_OK, BZ_DONE at the end, or an error whose
** message names the file, row group and column. */
int pq_scan_next(PqScan *s, BzErr *err);
/* Value of field i in the current row (i must be wanted). */
int pq_scan_value(PqScan *s, int field, PqValue *v, BzErr *err);
/* Row number of the current row in the file (0-based). */
int64_t pq_scan_rowid(const PqScan *s);
void pq_scan_close(PqScan *s);

/* ---- process-wide counters (for tests, benchmarks and EXPLAIN-like
** inspection through the parquet_stats() SQL function) ---- */
typedef struct PqStats {
    uint64_t bytes_read;          /* bytes requested from sources (footers, chunks, blooms) */
    uint64_t reads;               /* read calls (a batch of ranges counts once per range) */
    uint64_t files_opened;        /* footers parsed */
    uint64_t row_groups_read;
    uint64_t row_groups_skipped;  /* pruned by statistics, bloom filters or the page index */
    uint64_t pages_read;          /* data pages decompressed */
    uint64_t pages_skipped;       /* data pages passed over without decompressing */
    uint64_t rows_filtered;       /* rows evaluated in the scanner and rejected */
} PqStats;
void pq_stats_get(PqStats *out);
/* Counters are updated through these (atomic). */
void pq_stats_add(size_t field_offset, uint64_t n);
#define PQ_STAT(field, n) pq_stats_add(offsetof(PqStats, field), (uint64_t)(n))
/* Read through a source and count it. */
int pq_read(BzReadAt *src, uint64_t off, size_t n, void *dst, BzErr *err);

/* ---- value rendering (shared with statistics and parquet_metadata) ---- */
/* Render one physical value of a leaf as an SQL value; text goes into buf
** (at least 64 bytes; nested never). p is the raw PLAIN-encoded value (for
** statistics) of n bytes. Returns BZ_OK or BZ_CORRUPT for a bad length. */
int pq_render_plain(const PqFile *f, const PqLeaf *leaf, const uint8_t *p, size_t n, char *buf,
                    PqValue *v);
/* 1 if the PLAIN-encoded value p (n bytes) of a leaf renders inside the range
** where its text sorts like the value itself; 0 for a DATE or TIMESTAMP whose
** year is outside 0000..9999 (a sign or a fifth digit) or a TIME outside
** 00:00:00..99:59:59. Text bounds (statistics) are only bounds inside that
** range. Always 1 for other kinds. */
int pq_text_ordered(const PqLeaf *leaf, const uint8_t *p, size_t n);

#endif
