/*
** vtab_parquet.c: the `parquet` virtual table and the `parquet_schema` and
** `parquet_metadata` table-valued functions.
**
**   CREATE VIRTUAL TABLE t USING parquet('data/sales', hive_partitioning=1);
**   SELECT count(*) FROM t WHERE l_shipdate >= '1994-01-01';
**   SELECT * FROM parquet_schema('x.parquet');
**   SELECT * FROM parquet_metadata('x.parquet');
**
** Arguments: one or more paths (files, directories, globs with * ? **), then
** options key=value:
**   hive_partitioning  columns from key=value/ path segments (default: on
**                      when the first file's path has such segments)
**   union_by_name      files may differ in schema; columns are matched by
**                      name, missing ones read as NULL (default 0: files must
**                      have the same columns, or the error names both files)
**   binary_as_string   BYTE_ARRAY without annotation reads as TEXT
**   decimal_as_text    DECIMAL reads as exact TEXT instead of REAL
**   pushdown           0 turns off every pushdown (for tests); default 1
**   row_groups         '0,3-5': read only these row groups of the one file (a
**                      split, as hbee workers read it); rowids stay the file's
**   executor           local, redis or lambda: scans run on hbee workers (scan
**                      offload, see the section "scan offload" below); with it the
**                      options of hbee(...) (workers, split_bytes, redis, queue,
**                      function, scratch, max_concurrency, straggler_ms, ...)
**
** The plan chosen by xBestIndex travels in idxStr, a string of
** space-separated tokens, and in argv in the same order:
**
**   token      meaning                       argv
**   ---------  ----------------------------  ----------------------------
**   u<hex>     colUsed bitmask (projection)  -
**   c<i>:<op>  constraint on column i        the right-hand value
**   ...x       (suffix) evaluated exactly in the scanner and omitted
**   n<i>       column i IN (...), all values the IN list (sqlite3_vtab_in)
**   L          LIMIT                         the limit (a hint)
**   O          OFFSET                        the offset (added to the hint)
**
** Constraints are used to skip row groups (statistics, bloom filters) and
** files (hive partitions). Comparisons whose SQLite semantics we reproduce
** exactly (see exact_constraint) are also evaluated inside the scanner on
** decoded values and marked omit, so rows that fail never reach SQLite;
** the others are re-checked by SQLite. LIMIT/OFFSET are passed only when
** every constraint of the query is evaluated exactly by the scanner, and only
** as a hint: SQLite applies both (see pqtabBestIndex).
*/
#include "bz_ext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3/aws_s3.h"
#include "codec/bz_codec.h"
#include "exec/exec.h"
#include "parquet/pq_cache.h"
#include "parquet/pq_dataset.h"
#include "parquet/pq_prune.h"
#include "parquet/pq_reader.h"

/* ---- table ------------------------------------------------------------ */

typedef struct HiveCol {
    char *name;
    int is_int;        /* every value parses as an integer */
} HiveCol;

typedef struct PqTable {
    sqlite3_vtab base;
    sqlite3 *db;
    PqFileList files;
    PqOpenOpts oopts;
    int union_by_name;
    int hive;
    int pushdown;
    /* columns: data columns (names from the first file or the union), then
    ** hive columns, then the hidden `filename` */
    int n_data;
    char **data_names;
    int *data_sqltype;
    int n_hive;
    HiveCol *hive_cols;
    int n_cols;
    PqFile **cache;    /* per file, opened footers kept for the table's life */
    /* S3 */
    AwsS3Options s3opt;
    char *endpoint, *region;
    int anonymous;
    int require_files; /* a path matching nothing is an error (default: empty table) */
    int glob;          /* 0: paths are literal names (glob=0; hbee workers' splits) */
    char *row_groups;  /* row_groups= option: only these row groups of the one file */
    uint8_t *rg_only;  /* parsed row_groups, per row group of the file (NULL: all) */
    sqlite3 *mcache;   /* metadata_cache database, or NULL */
    /* scan offload (executor=) */
    BzHbee *hbee;      /* the connection's hbee state (hbee_config defaults, last stats) */
    int n_exec;        /* executor options as given (executor=, workers=, ...) */
    char **exec_keys, **exec_vals;
    int n_fwd;         /* options the workers' split tables get */
    char **fwd_keys, **fwd_vals;
} PqTable;

/* LIMIT + OFFSET up to this many rows stays in-process even with
** executor=: reading the first pages here costs less than a task. */
#define PQ_OFFLOAD_MIN_LIMIT 1000

/* A split of a scan offload: row groups of one file and the SQL a worker
** runs on it. */
typedef struct OffSplit {
    int file;
    int n_rg;
    int *rg;
    int64_t rows, bytes;
    char *sql;    /* owned */
    char **cols;  /* file columns read (names owned: the file may be closed first) */
    int n_cols;
    int *check;   /* indexes into the cursor's preds the coordinator evaluates */
    int n_check;
} OffSplit;

#define PQ_CACHE_MAX 256 /* files whose footers stay open; beyond, reopen per scan */

typedef struct PqCursor {
    sqlite3_vtab_cursor base;
    int file;          /* index into files */
    PqFile *pf;        /* current file (owned if not cached) */
    int pf_owned;
    PqScan *scan;
    int *map;          /* table data column -> field of the current file, -1 missing */
    uint8_t *want;     /* per field of the current file */
    uint8_t *rg_skip;
    int64_t rowid;
    int eof;
    /* plan */
    uint64_t used;
    PqPred *preds;
    uint8_t *preds_exact; /* evaluated by the scanner (omitted by SQLite) */
    int n_preds;
    PqPred *filters;      /* exact predicates mapped to the current file's fields */
    PqPred *prune;        /* every predicate mapped to the current file's fields */
    int n_prune;
    char **owned;      /* copies of text/blob constraint values and IN lists */
    int n_owned;
    int64_t limit;     /* LIMIT + OFFSET: rows the statement may take (a hint), -1 unknown */
    int64_t returned;
    /* hive values of the current file */
    char **hive_vals;
    /* scan offload: this scan's rows come from hbees (see offload_start) */
    int off;
    BzHbeeRun run;     /* executor, kept across scans of this cursor */
    int64_t id_base;   /* task ids used so far by run.ex */
    int64_t task_base; /* task id of this scan's split 0 */
    ExecScan *xs;
    int split;
    WireValue *row;
    OffSplit *splits;
    int n_splits;
    int *pos;          /* table data column -> position in a worker's row, -1: not read */
    int n_need;
} PqCursor;

static void strs_free(char **a, int n) {
    for (int i = 0; i < n; i++) bz_free(a[i]);
    bz_free(a);
}

static int strs_push(char ***a, int *n, const char *z) {
    char **na = bz_realloc(*a, (size_t)(*n + 1) * sizeof *na);
    if (!na) return BZ_NOMEM;
    *a = na;
    na[*n] = bz_strdup(z);
    if (!na[*n]) return BZ_NOMEM;
    (*n)++;
    return BZ_OK;
}

static void table_free(PqTable *t) {
    if (!t) return;
    strs_free(t->exec_keys, t->n_exec);
    strs_free(t->exec_vals, t->n_exec);
    strs_free(t->fwd_keys, t->n_fwd);
    strs_free(t->fwd_vals, t->n_fwd);
    bz_free(t->endpoint);
    bz_free(t->region);
    bz_free(t->row_groups);
    bz_free(t->rg_only);
    if (t->mcache) sqlite3_close(t->mcache);
    if (t->cache) { /* before the file list, whose length bounds it */
        for (int i = 0; i < t->files.n && i < PQ_CACHE_MAX; i++) pq_file_close(t->cache[i]);
        bz_free(t->cache);
    }
    pq_file_list_free(&t->files);
    for (int i = 0; i < t->n_data; i++) bz_free(t->data_names[i]);
    bz_free(t->data_names);
    bz_free(t->data_sqltype);
    for (int i = 0; i < t->n_hive; i++) bz_free(t->hive_cols[i].name);
    bz_free(t->hive_cols);

    sqlite3_free(t);
}

static int is_s3(const char *path) {
    return sqlite3_strnicmp(path, "s3://", 5) == 0;
}

/* A BzReadAt for a local path or an s3:// URL; size/etag known from a
** listing avoid the HEAD request (size UINT64_MAX: unknown). */
static int open_source(const char *path, const AwsS3Options *o, uint64_t size, const char *etag,
                       BzReadAt **src, BzErr *err) {
    if (!is_s3(path)) return bz_file_open(path, src, err);
    if (size != UINT64_MAX) return aws_s3_open_readat_known(path, o, size, etag, src, err);
    /* size unknown: no HEAD; the reader's footer read (a suffix range) learns it */
    AwsS3Options lazy;
    if (o) lazy = *o;
    else memset(&lazy, 0, sizeof lazy);
    lazy.lazy = 1;
    return aws_s3_open_readat(path, &lazy, src, err);
}

/* Expand one path argument into t->files: local paths, directories and
** globs, or s3:// objects, prefixes ("s3://b/dir/") and globs. */
static int expand_path(PqTable *t, const char *pat, BzErr *err) {
    AwsS3Object *objs = NULL;
    size_t n = 0, i;
    char *url = NULL;
    int rc;
    if (!is_s3(pat)) return pq_expand_local_ex(pat, t->glob, &t->files, err);
    if (t->glob && (pq_has_wildcard(pat) || pat[strlen(pat) - 1] == '/')) {
        url = pat[strlen(pat) - 1] == '/' ? bz_mprintf("%s**", pat) : bz_strdup(pat);
        if (!url) return bz_err(err, BZ_NOMEM, "out of memory");
        rc = aws_s3_glob_list(url, &t->s3opt, &objs, &n, err);
        if (rc) {
            bz_free(url);
            return rc;
        }
        char *bucket = NULL, *key = NULL;
        rc = aws_s3_parse_url(url, &bucket, &key, err);
        for (i = 0; !rc && i < n; i++) {
            size_t kl = strlen(objs[i].key);
            if (kl && objs[i].key[kl - 1] == '/') continue; /* "directory" markers */
            char *full = bz_mprintf("s3://%s/%s", bucket, objs[i].key);
            if (!full || pq_file_list_add_obj(&t->files, full, objs[i].size, objs[i].etag))
                rc = bz_err(err, BZ_NOMEM, "out of memory");
            bz_free(full);
        }
        bz_free(bucket);
        bz_free(key);
        aws_s3_objects_free(objs, n);
        bz_free(url);
        return rc;
    }
    /* one object: size and ETag come from a HEAD when it is opened */
    return pq_file_list_add(&t->files, pat) ? bz_err(err, BZ_NOMEM, "out of memory") : BZ_OK;
}

/* ---- metadata_cache: footers kept in a SQLite database across processes ---- */
static int mcache_get(void *ctx, const char *name, const char *tag, uint8_t **buf, size_t *n) {
    sqlite3_stmt *st = NULL;
    int hit = 0;
    if (sqlite3_prepare_v2((sqlite3 *)ctx, "SELECT footer FROM footers WHERE name=?1 AND tag=?2",
                           -1, &st, 0) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int len = sqlite3_column_bytes(st, 0);
        const void *p = sqlite3_column_blob(st, 0);
        *buf = bz_malloc((size_t)len + 1);
        if (*buf) {
            if (len) memcpy(*buf, p, (size_t)len);
            *n = (size_t)len;
            hit = 1;
        }
    }
    sqlite3_finalize(st);
    return hit;
}

static void mcache_put(void *ctx, const char *name, const char *tag, const uint8_t *buf, size_t n) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2((sqlite3 *)ctx,
                           "INSERT OR REPLACE INTO footers(name, tag, footer) VALUES (?1, ?2, ?3)",
                           -1, &st, 0) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 3, buf, n, SQLITE_STATIC);
    sqlite3_step(st); /* a full disk only costs the cache entry */
    sqlite3_finalize(st);
}

static int mcache_open(PqTable *t, const char *path, BzErr *err) {
    int rc = sqlite3_open_v2(path, &t->mcache, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 0);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(t->mcache, 5000);
        rc = sqlite3_exec(t->mcache,
                          "PRAGMA journal_mode=WAL;"
                          "CREATE TABLE IF NOT EXISTS footers(name TEXT NOT NULL, tag TEXT NOT NULL, "
                          "footer BLOB NOT NULL, PRIMARY KEY(name, tag)) WITHOUT ROWID",
                          0, 0, 0);
    }
    if (rc != SQLITE_OK)
        return bz_err(err, BZ_IO, "metadata_cache %s: %s", path,
                      t->mcache ? sqlite3_errmsg(t->mcache) : "cannot open");
    t->oopts.footer_get = mcache_get;
    t->oopts.footer_put = mcache_put;
    t->oopts.footer_ctx = t->mcache;
    return BZ_OK;
}

/* Open file i of the table (from the cache when possible). */
static int table_open_file(PqTable *t, int i, PqFile **out, int *owned, BzErr *err) {
    BzReadAt *src;
    int rc;
    if (i < PQ_CACHE_MAX && t->cache[i]) {
        *out = t->cache[i];
        *owned = 0;
        return BZ_OK;
    }
    rc = open_source(t->files.paths[i], &t->s3opt, t->files.sizes ? t->files.sizes[i] : UINT64_MAX,
                     t->files.etags ? t->files.etags[i] : NULL, &src, err);
    if (rc) return rc;
    rc = pq_file_open(src, &t->oopts, out, err);
    if (rc) return rc;
    if (i < PQ_CACHE_MAX) {
        t->cache[i] = *out;
        *owned = 0;
    } else {
        *owned = 1;
    }
    return BZ_OK;
}

static int find_name(char **names, int n, const char *z) {
    for (int i = 0; i < n; i++)
        if (sqlite3_stricmp(names[i], z) == 0) return i;
    return -1;
}

typedef struct HiveCtx {
    PqTable *t;
    int rc;
} HiveCtx;

static void hive_collect(void *ctx, const char *k, size_t kn, const char *v, size_t vn) {
    HiveCtx *h = ctx;
    PqTable *t = h->t;
    char *name = bz_strndup(k, kn);
    int i;
    (void)v;
    (void)vn;
    if (!name) {
        h->rc = BZ_NOMEM;
        return;
    }
    for (i = 0; i < t->n_hive; i++)
        if (sqlite3_stricmp(t->hive_cols[i].name, name) == 0) break;
    if (i < t->n_hive) {
        bz_free(name);
    } else {
        HiveCol *nc = bz_realloc(t->hive_cols, (size_t)(t->n_hive + 1) * sizeof *nc);
        if (!nc) {
            bz_free(name);
            h->rc = BZ_NOMEM;
            return;
        }
        t->hive_cols = nc;
        nc[t->n_hive].name = name;
        nc[t->n_hive].is_int = 1;
        i = t->n_hive++;
    }
    /* integer-typed only if every value is an integer literal */
    if (vn == 0 || vn > 18) t->hive_cols[i].is_int = 0;
    for (size_t j = 0; j < vn; j++)
        if (!((v[j] >= '0' && v[j] <= '9') || (j == 0 && v[j] == '-' && vn > 1))) t->hive_cols[i].is_int = 0;
}

/* Value of hive column `name` in path, as a new string (or NULL). */
typedef struct HiveFind {
    const char *name;
    char *val;
} HiveFind;
static void hive_find(void *ctx, const char *k, size_t kn, const char *v, size_t vn) {
    HiveFind *h = ctx;
    if (strlen(h->name) == kn && sqlite3_strnicmp(h->name, k, (int)kn) == 0) {
        bz_free(h->val);
        h->val = bz_strndup(v, vn);
    }
}

static int add_data_col(PqTable *t, const char *name, int sqltype) {
    char **nn = bz_realloc(t->data_names, (size_t)(t->n_data + 1) * sizeof *nn);
    if (!nn) return BZ_NOMEM;
    t->data_names = nn;
    int *ty = bz_realloc(t->data_sqltype, (size_t)(t->n_data + 1) * sizeof *ty);
    if (!ty) return BZ_NOMEM;
    t->data_sqltype = ty;
    t->data_names[t->n_data] = bz_strdup(name);
    if (!t->data_names[t->n_data]) return BZ_NOMEM;
    t->data_sqltype[t->n_data] = sqltype;
    t->n_data++;
    return BZ_OK;
}

static const char *sqltype_name(int t) {
    return t == PV_INT ? "INTEGER" : t == PV_REAL ? "REAL" : t == PV_BLOB ? "BLOB" : "TEXT";
}

static int pqtabConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                        sqlite3_vtab **ppVtab, char **pzErr) {
    PqTable *t;
    BzErr err = {0};
    BzBuf sql;
    int rc = SQLITE_OK, hive_opt = -1, i, npat = 0, nseen = 0;
    char **pats = NULL;
    char *seen[32];
    t = sqlite3_malloc(sizeof *t);
    if (!t) return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->db = db;
    t->hbee = pAux;
    t->pushdown = 1;
    t->glob = 1;
    bz_buf_init(&sql, 0);
    for (i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        char *val;
        /* an option is key=value with a bare identifier key */
        int is_opt = 0;
        if (eq) {
            const char *k = a;
            while (*k == ' ') k++;
            is_opt = k < eq && *k != '\'' && *k != '"';
            for (const char *q = k; q < eq && is_opt; q++)
                if (!(q[0] == '_' || q[0] == ' ' || (q[0] >= 'a' && q[0] <= 'z') || (q[0] >= 'A' && q[0] <= 'Z') || (q[0] >= '0' && q[0] <= '9')))
                    is_opt = 0;
        }
        if (!is_opt) {
            val = bz_unquote(a, strlen(a));
            if (!val) goto nomem;
            char **np = bz_realloc(pats, (size_t)(npat + 1) * sizeof *np);
            if (!np) {
                bz_free(val);
                goto nomem;
            }
            pats = np;
            pats[npat++] = val;
            continue;
        }
        char *key = bz_strndup(a, (size_t)(eq - a));
        if (!key) goto nomem;
        /* trim key */
        char *ke = key + strlen(key);
        while (ke > key && ke[-1] == ' ') *--ke = 0;
        char *ks = key;
        while (*ks == ' ') ks++;
        val = bz_unquote(eq + 1, strlen(eq + 1));
        if (!val) {
            bz_free(key);
            goto nomem;
        }
        for (int k = 0; k < nseen; k++)
            if (!sqlite3_stricmp(seen[k], ks)) {
                bz_err(&err, BZ_MISUSE, "option %s given twice", ks);
                bz_free(key);
                bz_free(val);
                goto fail;
            }
        if (nseen < (int)BZ_ARRAY_LEN(seen)) seen[nseen++] = sqlite3_mprintf("%s", ks);
        int b = 0, ok = bz_parse_bool(val, &b), known = 1;
        char *end = NULL;
        if (t->hbee && bz_hbee_is_option(ks)) {
            int nk = t->n_exec;
            if (strs_push(&t->exec_keys, &nk, ks) || strs_push(&t->exec_vals, &t->n_exec, val)) {
                if (nk > t->n_exec) bz_free(t->exec_keys[--nk]);
                bz_free(key);
                bz_free(val);
                goto nomem;
            }
            bz_free(key);
            bz_free(val);
            continue;
        }
        /* what a worker's split table needs to read a file as this table does */
        if (!sqlite3_stricmp(ks, "binary_as_string") || !sqlite3_stricmp(ks, "decimal_as_text") ||
            !sqlite3_stricmp(ks, "pushdown") || !sqlite3_stricmp(ks, "anonymous") ||
            !sqlite3_stricmp(ks, "endpoint") || !sqlite3_stricmp(ks, "region") ||
            !sqlite3_stricmp(ks, "tail_size")) {
            int nk = t->n_fwd;
            if (strs_push(&t->fwd_keys, &nk, ks) || strs_push(&t->fwd_vals, &t->n_fwd, val)) {
                if (nk > t->n_fwd) bz_free(t->fwd_keys[--nk]);
                bz_free(key);
                bz_free(val);
                goto nomem;
            }
        }
        if (!sqlite3_stricmp(ks, "hive_partitioning")) { if (ok) hive_opt = b; }
        else if (!sqlite3_stricmp(ks, "union_by_name")) { if (ok) t->union_by_name = b; }
        else if (!sqlite3_stricmp(ks, "binary_as_string")) { if (ok) t->oopts.binary_as_string = b; }
        else if (!sqlite3_stricmp(ks, "decimal_as_text")) { if (ok) t->oopts.decimal_as_text = b; }
        else if (!sqlite3_stricmp(ks, "pushdown")) { if (ok) t->pushdown = b; }
        else if (!sqlite3_stricmp(ks, "anonymous")) { if (ok) t->anonymous = b; }
        else if (!sqlite3_stricmp(ks, "require_files")) { if (ok) t->require_files = b; }
        else if (!sqlite3_stricmp(ks, "glob")) { if (ok) t->glob = b; }
        else if (!sqlite3_stricmp(ks, "endpoint")) { bz_free(t->endpoint); t->endpoint = bz_strdup(val); ok = t->endpoint != NULL; }
        else if (!sqlite3_stricmp(ks, "region")) { bz_free(t->region); t->region = bz_strdup(val); ok = t->region != NULL; }
        else if (!sqlite3_stricmp(ks, "row_groups")) { bz_free(t->row_groups); t->row_groups = bz_strdup(val); ok = t->row_groups != NULL; }
        else if (!sqlite3_stricmp(ks, "tail_size")) {
            long long v = strtoll(val, &end, 10);
            ok = end && !*end && v >= 12 && v <= (64 << 20);
            if (ok) t->oopts.tail_size = (size_t)v;
        } else if (!sqlite3_stricmp(ks, "metadata_cache")) {
            ok = val[0] != 0;
            if (ok && mcache_open(t, val, &err)) {
                bz_free(key);
                bz_free(val);
                goto fail;
            }
        } else {
            known = 0;
        }
        if (!known || !ok) {
            bz_err(&err, BZ_MISUSE, !known ? "unknown option %s (value '%s')"
                   : !sqlite3_stricmp(ks, "tail_size") ? "option %s: bad value '%s' (expected bytes, 12 to 67108864)"
                   : !sqlite3_stricmp(ks, "endpoint") || !sqlite3_stricmp(ks, "region") || !sqlite3_stricmp(ks, "metadata_cache") ||
                     !sqlite3_stricmp(ks, "row_groups")
                       ? "option %s: bad value '%s'"
                       : "option %s: bad value '%s' (expected 0 or 1)",
                   ks, val);
            bz_free(key);
            bz_free(val);
            goto fail;
        }
        bz_free(key);
        bz_free(val);
    }
    if (t->n_exec) { /* executor options: checked now, applied at each scan */
        int has_ex = 0;
        for (i = 0; i < t->n_exec; i++) has_ex |= !sqlite3_stricmp(t->exec_keys[i], "executor");
        if (!has_ex) {
            bz_err(&err, BZ_MISUSE, "option %s needs executor= (local, redis, lambda) to run scans on hbees",
                   t->exec_keys[0]);
            goto fail;
        }
        if (bz_hbee_scan_executor(t->hbee, t->n_exec, t->exec_keys, t->exec_vals, NULL, &err)) goto fail;
    }
    t->s3opt.endpoint = t->endpoint;
    t->s3opt.region = t->region;
    t->s3opt.anonymous = t->anonymous;
    for (i = 0; i < npat; i++) {
        if (expand_path(t, pats[i], &err)) goto fail;
    }
    if (npat == 0) {
        bz_err(&err, BZ_MISUSE, "no path given: USING parquet('file.parquet' | 'dir' | 'glob/**/*.parquet')");
        goto fail;
    }
    if (t->files.n == 0 && t->require_files) {
        BzBuf names;
        bz_buf_init(&names, 4096);
        for (i = 0; i < npat; i++) bz_buf_printf(&names, "%s%s", i ? ", " : "", pats[i]);
        bz_err(&err, BZ_NOTFOUND, "no file matches %s", names.data ? names.data : "");
        bz_buf_free(&names);
        goto fail;
    }
    t->cache = bz_calloc((size_t)(t->files.n < PQ_CACHE_MAX ? t->files.n : PQ_CACHE_MAX) + 1, sizeof(PqFile *));
    if (!t->cache) goto nomem;
    /* schema: from the first file, or the union of all files by name */
    for (i = 0; i < t->files.n; i++) {
        PqFile *pf;
        int owned;
        if (table_open_file(t, i, &pf, &owned, &err)) goto fail;
        for (int f = 0; f < pf->n_fields; f++) {
            const char *nm = pf->fields[f].name;
            int ty = pf->fields[f].sql_type;
            int k = find_name(t->data_names, t->n_data, nm);
            if (i == 0 || (t->union_by_name && k < 0)) {
                if (i == 0 && k >= 0) {
                    bz_err(&err, BZ_UNSUPPORTED, "%s: duplicate column name \"%s\"", t->files.paths[0], nm);
                    if (owned) pq_file_close(pf);
                    goto fail;
                }
                if (add_data_col(t, nm, ty)) goto nomem;
            } else if (k < 0 || (!t->union_by_name && k != f)) {
                bz_err(&err, BZ_MISUSE, "schema mismatch: %s has column \"%s\" that %s does not have "
                       "at that position (use union_by_name=1)", t->files.paths[i], nm, t->files.paths[0]);
                if (owned) pq_file_close(pf);
                goto fail;
            } else if (t->data_sqltype[k] != ty) {
                if (!t->union_by_name) {
                    bz_err(&err, BZ_MISUSE, "schema mismatch: column \"%s\" is %s in %s but %s in %s",
                           nm, sqltype_name(t->data_sqltype[k]), t->files.paths[0], sqltype_name(ty),
                           t->files.paths[i]);
                    if (owned) pq_file_close(pf);
                    goto fail;
                }
            }
        }
        if (!t->union_by_name && i > 0 && pf->n_fields != t->n_data) {
            bz_err(&err, BZ_MISUSE, "schema mismatch: %s has %d columns, %s has %d (use union_by_name=1)",
                   t->files.paths[i], pf->n_fields, t->files.paths[0], t->n_data);
            if (owned) pq_file_close(pf);
            goto fail;
        }
        if (owned) pq_file_close(pf);
        /* without union_by_name, only the first files' footers are checked
        ** up front; later files are checked when scanned */
        if (!t->union_by_name && i >= 16) break;
    }
    /* row_groups='0,3-5': a split of one file (what hbee workers read) */
    if (t->row_groups) {
        PqFile *pf;
        int owned, ng;
        const char *q = t->row_groups;
        if (t->files.n != 1) {
            bz_err(&err, BZ_MISUSE, "option row_groups needs exactly one file (the paths match %d)", t->files.n);
            goto fail;
        }
        if (table_open_file(t, 0, &pf, &owned, &err)) goto fail;
        ng = pf->meta->n_row_groups;
        if (owned) pq_file_close(pf);
        t->rg_only = bz_calloc((size_t)ng + 1, 1);
        if (!t->rg_only) goto nomem;
        while (*q) {
            char *e1 = NULL, *e2 = NULL;
            long a = strtol(q, &e1, 10), b = a;
            if (e1 == q) break;
            if (*e1 == '-') {
                b = strtol(e1 + 1, &e2, 10);
                if (e2 == e1 + 1) break;
                e1 = e2;
            }
            if (a < 0 || b < a || b >= ng) {
                bz_err(&err, BZ_MISUSE, "option row_groups: %ld-%ld is out of range: %s has %d row groups",
                       a, b, t->files.paths[0], ng);
                goto fail;
            }
            for (long k = a; k <= b; k++) t->rg_only[k] = 1;
            q = e1;
            while (*q == ' ') q++;
            if (*q == ',') q++;
            while (*q == ' ') q++;
            if (!*q) break;
        }
        if (*q) {
            bz_err(&err, BZ_MISUSE, "option row_groups: bad value '%s' (expected e.g. '0,3-5')", t->row_groups);
            goto fail;
        }
    }
    /* hive partitions */
    {
        HiveCtx hc = {t, BZ_OK};
        for (i = 0; i < t->files.n; i++) pq_hive_segments(t->files.paths[i], hive_collect, &hc);
        if (hc.rc) goto nomem;
        t->hive = hive_opt < 0 ? t->n_hive > 0 : hive_opt;
        if (!t->hive) {
            for (i = 0; i < t->n_hive; i++) bz_free(t->hive_cols[i].name);
            t->n_hive = 0;
        }
        for (i = 0; i < t->n_hive; i++)
            if (find_name(t->data_names, t->n_data, t->hive_cols[i].name) >= 0) {
                bz_err(&err, BZ_MISUSE, "hive partition column \"%s\" is also a column in the files",
                       t->hive_cols[i].name);
                goto fail;
            }
    }
    t->n_cols = t->n_data + t->n_hive;
    bz_buf_appendz(&sql, "CREATE TABLE x(");
    for (i = 0; i < t->n_data; i++) {
        if (i) bz_buf_appendz(&sql, ", ");
        bz_buf_appendc(&sql, '"');
        for (const char *p = t->data_names[i]; *p; p++) {
            if (*p == '"') bz_buf_appendc(&sql, '"');
            bz_buf_appendc(&sql, *p);
        }
        bz_buf_printf(&sql, "\" %s", sqltype_name(t->data_sqltype[i]));
    }
    for (i = 0; i < t->n_hive; i++)
        bz_buf_printf(&sql, "%s\"%s\" %s", t->n_data || i ? ", " : "", t->hive_cols[i].name,
                      t->hive_cols[i].is_int ? "INTEGER" : "TEXT");
    bz_buf_printf(&sql, "%sfilename TEXT HIDDEN)", t->n_cols ? ", " : "");
    if (sql.rc) goto nomem;
    rc = sqlite3_declare_vtab(db, sql.data);
    if (rc != SQLITE_OK) {
        bz_err(&err, BZ_ERROR, "cannot declare the table: %s", sqlite3_errmsg(db));
        goto fail;
    }
    bz_buf_free(&sql);
    for (i = 0; i < npat; i++) bz_free(pats[i]);
    bz_free(pats);
    for (i = 0; i < nseen; i++) sqlite3_free(seen[i]);
    *ppVtab = &t->base;
    return SQLITE_OK;
nomem:
    bz_err(&err, BZ_NOMEM, "out of memory");
fail:
    for (i = 0; i < npat; i++) bz_free(pats[i]);
    bz_free(pats);
    for (i = 0; i < nseen; i++) sqlite3_free(seen[i]);
    bz_buf_free(&sql);
    *pzErr = sqlite3_mprintf("parquet: %s", err.msg);
    table_free(t);
    return err.code == BZ_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
}

static int pqtabDisconnect(sqlite3_vtab *pVtab) {
    table_free((PqTable *)pVtab);
    return SQLITE_OK;
}

/* ---- planning ---------------------------------------------------------- */

static int op_of(int sqlop) {
    switch (sqlop) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return PQ_OP_EQ;
    case SQLITE_INDEX_CONSTRAINT_IS: return PQ_OP_EQ; /* IS non-NULL value; NULL handled in filter */
    case SQLITE_INDEX_CONSTRAINT_LT: return PQ_OP_LT;
    case SQLITE_INDEX_CONSTRAINT_LE: return PQ_OP_LE;
    case SQLITE_INDEX_CONSTRAINT_GT: return PQ_OP_GT;
    case SQLITE_INDEX_CONSTRAINT_GE: return PQ_OP_GE;
    case SQLITE_INDEX_CONSTRAINT_NE: return PQ_OP_NE;
    case SQLITE_INDEX_CONSTRAINT_ISNOT: return PQ_OP_NE;
    case SQLITE_INDEX_CONSTRAINT_ISNULL: return PQ_OP_ISNULL;
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return PQ_OP_NOTNULL;
    case SQLITE_INDEX_CONSTRAINT_LIKE: return PQ_OP_PREFIX + 100; /* marks LIKE */
    case SQLITE_INDEX_CONSTRAINT_GLOB: return PQ_OP_PREFIX + 200; /* marks GLOB */
    default: return -1;
    }
}

/* Can the scanner evaluate constraint i exactly as SQLite would?
** Rationale: our evaluation applies the column's affinity to the right-hand
** value (numeric affinity for INTEGER/REAL columns, none for BLOB). For TEXT
** columns SQLite's result also depends on the right-hand side's own affinity
** (a numeric column on the right converts our text), so we only take a
** constant TEXT right-hand side. Non-BINARY collations are never exact. */
static int exact_constraint(PqTable *t, sqlite3_index_info *info, int i, int is_in) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    const char *coll;
    sqlite3_value *rhs = NULL;
    if (c->iColumn < 0 || c->iColumn >= t->n_data) return 0;
    switch (c->op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: case SQLITE_INDEX_CONSTRAINT_IS: case SQLITE_INDEX_CONSTRAINT_LT:
    case SQLITE_INDEX_CONSTRAINT_LE: case SQLITE_INDEX_CONSTRAINT_GT: case SQLITE_INDEX_CONSTRAINT_GE:
    case SQLITE_INDEX_CONSTRAINT_NE: break;
    case SQLITE_INDEX_CONSTRAINT_ISNULL: case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return 1;
    default: return 0;
    }
    coll = sqlite3_vtab_collation(info, i);
    if (coll && sqlite3_stricmp(coll, "BINARY") != 0) return 0;
    if (t->data_sqltype[c->iColumn] != PV_TEXT) return 1;
    if (is_in) return 0;
    return sqlite3_vtab_rhs_value(info, i, &rhs) == SQLITE_OK && rhs &&
           (sqlite3_value_type(rhs) == SQLITE_TEXT || sqlite3_value_type(rhs) == SQLITE_NULL);
}

static int pqtabBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *info) {
    PqTable *t = (PqTable *)pVtab;
    BzBuf plan;
    int argv_i = 0, other = 0, i, limit_i = -1, offset_i = -1;
    double cost = 1e6;
    bz_buf_init(&plan, 0);
    bz_buf_printf(&plan, "u%llx", (unsigned long long)info->colUsed);
    for (i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (!c->usable) continue;
        if (c->op == SQLITE_INDEX_CONSTRAINT_LIMIT) { limit_i = i; continue; }
        if (c->op == SQLITE_INDEX_CONSTRAINT_OFFSET) { offset_i = i; continue; }
        other++;
        if (!t->pushdown || c->iColumn < 0 || c->iColumn >= t->n_cols) continue;
        int op = op_of(c->op);
        if (op < 0) continue;
        /* byte comparisons in pruning are only right for BINARY collation */
        const char *coll = sqlite3_vtab_collation(info, i);
        if (coll && sqlite3_stricmp(coll, "BINARY") != 0) continue;
        int is_in = c->op == SQLITE_INDEX_CONSTRAINT_EQ && sqlite3_vtab_in(info, i, -1);
        int exact = exact_constraint(t, info, i, is_in);
        if (is_in) {
            sqlite3_vtab_in(info, i, 1);
            bz_buf_printf(&plan, " n%d", c->iColumn);
        } else {
            bz_buf_printf(&plan, " c%d:%d", c->iColumn, c->op);
        }
        if (exact) bz_buf_appendc(&plan, 'x');
        info->aConstraintUsage[i].argvIndex = ++argv_i;
        info->aConstraintUsage[i].omit = (unsigned char)exact;
        if (exact) other--;
        cost /= 2;
    }
    /* Also count unusable constraints: LIMIT is only safe with none at all. */
    for (i = 0; i < info->nConstraint; i++)
        if (!info->aConstraint[i].usable) other++;
    /* LIMIT/OFFSET are a hint only: how many rows the statement may want
    ** (small first read windows, small LIMITs kept in-process), never a
    ** stop. SQLite (3.40) offers LIMIT even when a WHERE term it does not
    ** show here remains to be checked (`a > b * 10`, both columns of this
    ** table): stopping after LIMIT rows, or skipping OFFSET rows, would lose
    ** rows. SQLite applies both itself (OFFSET is not omitted). Only usable
    ** when the scan order is the output order (no ORDER BY). */
    if (t->pushdown && other == 0 && info->nOrderBy == 0) {
        if (limit_i >= 0) {
            info->aConstraintUsage[limit_i].argvIndex = ++argv_i;
            bz_buf_appendz(&plan, " L");
        }
        if (limit_i >= 0 && offset_i >= 0) {
            info->aConstraintUsage[offset_i].argvIndex = ++argv_i;
            bz_buf_appendz(&plan, " O");
        }
    }
    if (plan.rc) {
        bz_buf_free(&plan);
        return SQLITE_NOMEM;
    }
    info->idxStr = sqlite3_mprintf("%s", plan.data);
    info->needToFreeIdxStr = 1;
    bz_buf_free(&plan);
    info->estimatedCost = cost;
    return info->idxStr ? SQLITE_OK : SQLITE_NOMEM;
}

/* ---- cursor ---------------------------------------------------------------- */

static int pqtabOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur) {
    PqCursor *c = sqlite3_malloc(sizeof *c);
    (void)pVtab;
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->eof = 1;
    *ppCur = &c->base;
    return SQLITE_OK;
}

static void cursor_close_file(PqCursor *c) {
    PqTable *t = (PqTable *)c->base.pVtab;
    pq_scan_close(c->scan);
    c->scan = NULL;
    if (c->pf_owned) pq_file_close(c->pf);
    c->pf = NULL;
    c->pf_owned = 0;
    bz_free(c->map);
    c->map = NULL;
    bz_free(c->want);
    c->want = NULL;
    bz_free(c->rg_skip);
    c->rg_skip = NULL;
    bz_free(c->filters);
    c->filters = NULL;
    bz_free(c->prune);
    c->prune = NULL;
    c->n_prune = 0;
    if (c->hive_vals) {
        for (int i = 0; i < t->n_hive; i++) bz_free(c->hive_vals[i]);
        bz_free(c->hive_vals);
        c->hive_vals = NULL;
    }
}

static void cursor_reset_plan(PqCursor *c) {
    for (int i = 0; i < c->n_owned; i++) bz_free(c->owned[i]);
    bz_free(c->owned);
    bz_free(c->preds);
    bz_free(c->preds_exact);
    c->owned = NULL;
    c->n_owned = 0;
    c->preds = NULL;
    c->preds_exact = NULL;
    c->n_preds = 0;
}

static void offload_stop(PqCursor *c);

static int pqtabClose(sqlite3_vtab_cursor *cur) {
    PqCursor *c = (PqCursor *)cur;
    offload_stop(c);
    exec_close(c->run.ex);
    cursor_close_file(c);
    cursor_reset_plan(c);
    sqlite3_free(c);
    return SQLITE_OK;
}

/* Convert an SQLite value to a PqValue with the comparison affinity of a
** column of SQL type `coltype`; text/blob bytes are copied into c->owned. */
static int to_pqvalue(PqCursor *c, sqlite3_value *v, int coltype, PqValue *out) {
    int vt = sqlite3_value_type(v);
    memset(out, 0, sizeof *out);
    if (vt == SQLITE_NULL) return SQLITE_OK;
    if ((coltype == PV_INT || coltype == PV_REAL) && vt == SQLITE_TEXT) {
        int nt = sqlite3_value_numeric_type(v);
        if (nt == SQLITE_INTEGER || nt == SQLITE_FLOAT) vt = nt;
    }
    if (coltype == PV_TEXT && (vt == SQLITE_INTEGER || vt == SQLITE_FLOAT)) vt = SQLITE_TEXT;
    switch (vt) {
    case SQLITE_INTEGER: out->type = PV_INT; out->i = sqlite3_value_int64(v); return SQLITE_OK;
    case SQLITE_FLOAT: out->type = PV_REAL; out->d = sqlite3_value_double(v); return SQLITE_OK;
    default: {
        sqlite3_value *d = sqlite3_value_dup(v);
        const void *p;
        int n;
        char *copy, **no;
        if (!d) return SQLITE_NOMEM;
        if (vt == SQLITE_TEXT) {
            p = sqlite3_value_text(d);
            out->type = PV_TEXT;
        } else {
            p = sqlite3_value_blob(d);
            out->type = PV_BLOB;
        }
        n = sqlite3_value_bytes(d);
        copy = bz_malloc((size_t)n + 1);
        no = bz_realloc(c->owned, (size_t)(c->n_owned + 1) * sizeof *no);
        if (!copy || !no) {
            bz_free(copy);
            if (no) c->owned = no;
            sqlite3_value_free(d);
            return SQLITE_NOMEM;
        }
        c->owned = no;
        if (n) memcpy(copy, p, (size_t)n);
        copy[n] = 0;
        c->owned[c->n_owned++] = copy;
        sqlite3_value_free(d);
        out->p = copy;
        out->n = (size_t)n;
        return SQLITE_OK;
    }
    }
}

static int col_sqltype(PqTable *t, int col) {
    if (col < t->n_data) return t->data_sqltype[col];
    return t->hive_cols[col - t->n_data].is_int ? PV_INT : PV_TEXT;
}

/* Literal prefix of a LIKE/GLOB pattern usable for a byte range: for LIKE
** only when the prefix has no letters (LIKE folds ASCII case). */
static size_t pattern_prefix(const char *p, size_t n, int glob) {
    size_t k = 0;
    for (; k < n; k++) {
        char ch = p[k];
        if (glob ? (ch == '*' || ch == '?' || ch == '[') : (ch == '%' || ch == '_')) break;
        if (!glob && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (unsigned char)ch >= 0x80)) return 0;
    }
    return k;
}

/* Can a file whose hive value for column col is `val` (NULL: the path has no
** such segment) hold a row satisfying p? */
static int hive_may_match(PqTable *t, const char *val, int col, const PqPred *p) {
    PqValue hv = {0};
    if (val && t->hive_cols[col - t->n_data].is_int) {
        hv.type = PV_INT;
        hv.i = strtoll(val, NULL, 10);
    } else if (val) {
        hv.type = PV_TEXT;
        hv.p = val;
        hv.n = strlen(val);
    }
    return pq_pred_eval(p, &hv);
}

/* The hive values of file c->file into c->hive_vals. */
static int load_hive_vals(PqCursor *c) {
    PqTable *t = (PqTable *)c->base.pVtab;
    if (!t->n_hive) return BZ_OK;
    c->hive_vals = bz_calloc((size_t)t->n_hive, sizeof(char *));
    if (!c->hive_vals) return BZ_NOMEM;
    for (int i = 0; i < t->n_hive; i++) {
        HiveFind hf = {t->hive_cols[i].name, NULL};
        pq_hive_segments(t->files.paths[c->file], hive_find, &hf);
        c->hive_vals[i] = hf.val;
    }
    return BZ_OK;
}

/* Prepare file c->file for reading (the cursor's file state must be
** closed): hive pruning, then open it and fill map, want, rg_skip, prune
** and the exact filters (*pnFilters of them). *pSkip: nothing in the file
** can match (the file may be left open; cursor_close_file cleans up). */
static int file_prepare(PqCursor *c, int *pSkip, int *pnFilters, BzErr *err) {
    PqTable *t = (PqTable *)c->base.pVtab;
    int i, rc;
    const char *path = t->files.paths[c->file];
    *pSkip = 1;
    *pnFilters = 0;
    /* hive partition pruning before the file is opened */
    if (t->n_hive) {
        if (load_hive_vals(c)) return bz_err(err, BZ_NOMEM, "out of memory");
        for (i = 0; i < c->n_preds; i++) {
            int col = c->preds[i].field;
            if (col >= t->n_data &&
                !hive_may_match(t, c->hive_vals[col - t->n_data], col, &c->preds[i]))
                return BZ_OK;
        }
    }
    rc = table_open_file(t, c->file, &c->pf, &c->pf_owned, err);
    if (rc) return rc;
    {
        PqFile *pf = c->pf;
        c->map = bz_malloc(sizeof(int) * (size_t)(t->n_data + 1));
        c->want = bz_calloc((size_t)pf->n_fields + 1, 1);
        c->rg_skip = bz_calloc((size_t)pf->meta->n_row_groups + 1, 1);
        if (!c->map || !c->want || !c->rg_skip) return bz_err(err, BZ_NOMEM, "out of memory");
        for (i = 0; i < t->n_data; i++) {
            int k = -1;
            if (!t->union_by_name) {
                k = i < pf->n_fields ? i : -1;
                if (k < 0 || sqlite3_stricmp(pf->fields[i].name, t->data_names[i]) != 0 ||
                    pf->fields[i].sql_type != t->data_sqltype[i])
                    return bz_err(err, BZ_MISUSE, "schema mismatch: %s differs from %s at column \"%s\" "
                                  "(use union_by_name=1)", path, t->files.paths[0], t->data_names[i]);
            } else {
                for (int f = 0; f < pf->n_fields; f++)
                    if (sqlite3_stricmp(pf->fields[f].name, t->data_names[i]) == 0) k = f;
            }
            c->map[i] = k;
            int bit = i < 63 ? i : 63;
            if (k >= 0 && (c->used & ((uint64_t)1 << bit))) c->want[k] = 1;
        }
        if (!t->union_by_name && pf->n_fields != t->n_data)
            return bz_err(err, BZ_MISUSE, "schema mismatch: %s has %d columns, %s has %d (use union_by_name=1)",
                          path, pf->n_fields, t->files.paths[0], t->n_data);
        /* row-group pruning: translate predicates to this file's fields */
        int any = 0;
        if (c->n_preds) {
            PqPred *fp = bz_calloc((size_t)c->n_preds, sizeof *fp);
            int nf = 0;
            if (!fp) return bz_err(err, BZ_NOMEM, "out of memory");
            for (i = 0; i < c->n_preds; i++) {
                int col = c->preds[i].field;
                if (col >= t->n_data || c->map[col] < 0) continue;
                fp[nf] = c->preds[i];
                fp[nf].field = c->map[col];
                nf++;
            }
            for (int g = 0; g < pf->meta->n_row_groups; g++) {
                c->rg_skip[g] = (t->rg_only && !t->rg_only[g]) ||
                                (nf && !pq_rowgroup_may_match(pf, g, fp, nf, 1));
                if (c->rg_skip[g] && (!t->rg_only || t->rg_only[g])) PQ_STAT(row_groups_skipped, 1);
                any |= !c->rg_skip[g];
            }
            c->prune = fp; /* the scanner uses them again with the page index */
            c->n_prune = nf;
        } else {
            for (int g = 0; g < pf->meta->n_row_groups; g++) {
                c->rg_skip[g] = t->rg_only && !t->rg_only[g];
                any |= !c->rg_skip[g];
            }
        }
        if (!any) return BZ_OK;
        /* exact predicates become scanner filters; on a column this file
        ** lacks (union_by_name) the value is NULL for every row */
        int nf = 0, none = 0;
        c->filters = bz_calloc((size_t)c->n_preds + 1, sizeof(PqPred));
        if (!c->filters) return bz_err(err, BZ_NOMEM, "out of memory");
        for (i = 0; i < c->n_preds; i++) {
            int col = c->preds[i].field;
            if (!c->preds_exact[i]) continue;
            if (c->map[col] < 0) {
                PqValue nullv = {0};
                if (!pq_pred_eval(&c->preds[i], &nullv)) none = 1;
                continue;
            }
            c->filters[nf] = c->preds[i];
            c->filters[nf].field = c->map[col];
            c->want[c->map[col]] = 1;
            nf++;
        }
        if (none) return BZ_OK;
        *pnFilters = nf;
        *pSkip = 0;
        return BZ_OK;
    }
}

/* Open the next file that may match; sets c->eof when none is left. */
static int cursor_next_file(PqCursor *c) {
    PqTable *t = (PqTable *)c->base.pVtab;
    BzErr err = {0};
    int rc;
    for (;;) {
        int skip, nf;
        cursor_close_file(c);
        c->file++;
        if (c->file >= t->files.n) {
            c->eof = 1;
            return SQLITE_OK;
        }
        rc = file_prepare(c, &skip, &nf, &err);
        if (rc) goto fail;
        if (skip) continue;
        PqScanOpts so;
        memset(&so, 0, sizeof so);
        so.want = c->want;
        so.rg_skip = c->rg_skip;
        so.limit = -1;
        so.expect = c->limit > c->returned ? c->limit - c->returned : 0;
        so.filters = c->filters;
        so.n_filters = nf;
        so.prune = t->pushdown ? c->prune : NULL;
        so.n_prune = t->pushdown ? c->n_prune : 0;
        rc = pq_scan_open(c->pf, &so, &c->scan, &err);
        if (rc) goto fail;
        return SQLITE_OK;
    }
fail:
    bz_err_prefix(&err, "parquet");
    return bz_vtab_error(c->base.pVtab, &err);
}

/* Step to the next row, across files; handles OFFSET across files. */
static int cursor_step(PqCursor *c) {
    BzErr err = {0};
    for (;;) {
        if (c->eof) return SQLITE_OK;
        if (!c->scan) {
            int rc = cursor_next_file(c);
            if (rc || c->eof) return rc;
            continue;
        }
        int rc = pq_scan_next(c->scan, &err);
        if (rc == BZ_OK) {
            c->returned++;
            /* stable across scans (SQLite's OR-by-union de-duplicates on it):
            ** the file's index and the row's number in that file, from 1 (a
            ** one-file table numbers its rows 1..N, like an ordinary table) */
            c->rowid = ((int64_t)c->file << 40) | (pq_scan_rowid(c->scan) + 1);
            return SQLITE_OK;
        }
        if (rc != BZ_DONE) {
            bz_err_prefix(&err, "parquet");
            return bz_vtab_error(c->base.pVtab, &err);
        }
        pq_scan_close(c->scan);
        c->scan = NULL;
    }
}

/* ---- scan offload (executor=) ------------------------------------------------
** With executor= the table's scans run on hbees: xFilter plans the splits
** here (hive and row-group pruning as above, then runs of row groups of
** about split_bytes of the columns read), and each worker runs
**     SELECT <columns read>, rowid FROM split WHERE <exact constraints>
** on a parquet table over its split's file and row groups (row_groups=).
** Results come back in split order (exec_scan), so rows, their order and
** rowids are the in-process scan's: the worker's rowid is the row's number
** in its file, and this side adds the file index. Hive columns and filename
** are filled here from the split's path. Constraints SQLite re-checks are
** left to SQLite; the exact ones (omitted by SQLite) go to the worker as
** literals, or are evaluated here on the rows received when a literal could
** not carry the value exactly (a REAL SQLite would parse back differently,
** text with a NUL) or the file's column type differs from the table's
** (union_by_name); LIMIT + OFFSET goes to the worker only when no such
** check is left here. */

static void offload_splits_free(PqCursor *c) {
    for (int i = 0; i < c->n_splits; i++) {
        bz_free(c->splits[i].rg);
        bz_free(c->splits[i].sql);
        for (int k = 0; c->splits[i].cols && k < c->splits[i].n_cols; k++)
            bz_free(c->splits[i].cols[k]);
        bz_free(c->splits[i].cols);
        bz_free(c->splits[i].check);
    }
    bz_free(c->splits);
    c->splits = NULL;
    c->n_splits = 0;
    bz_free(c->pos);
    c->pos = NULL;
    bz_free(c->row);
    c->row = NULL;
    c->n_need = 0;
}

/* End the scan offload in progress: record its stats as hbee_last_stats;
** an executor with tasks still in flight (LIMIT, a reset statement) is
** closed (remote tasks already queued still run; their results are
** dropped) so the next scan starts clean. */
static void offload_stop(PqCursor *c) {
    PqTable *t = (PqTable *)c->base.pVtab;
    if (c->xs) {
        ExecStats st;
        int idle = exec_scan_idle(c->xs);
        int64_t files = 0;
        for (int i = 0; i < c->n_splits; i++) files += i == 0 || c->splits[i].file != c->splits[i - 1].file;
        memset(&st, 0, sizeof st);
        st.price = c->run.price;
        exec_scan_close(c->xs, &st);
        c->xs = NULL;
        st.files = files;
        if (t->hbee) bz_hbee_set_last(t->hbee, &st);
        exec_stats_clear(&st);
        if (!idle) {
            exec_close(c->run.ex);
            c->run.ex = NULL;
        }
    }
    c->off = 0;
    offload_splits_free(c);
}

/* A parquet value as the wire's (PV_* and WV_* agree). */
static int sql_literal(sqlite3 *db, BzBuf *b, const PqValue *v) {
    WireValue w;
    w.type = v->type;
    w.i = v->i;
    w.d = v->d;
    w.p = v->p;
    w.n = v->n;
    return bz_sql_literal(db, b, &w);
}

/* Append predicate p on column zCol as SQL; 0 when a value cannot be
** carried exactly (nothing useful appended then: the caller rewinds). */
static int sql_pred(sqlite3 *db, BzBuf *b, const char *zCol, const PqPred *p) {
    static const char *const ops[] = {"=", "<", "<=", ">", ">=", "<>"};
    bz_sql_ident(b, zCol);
    switch (p->op) {
    case PQ_OP_ISNULL: bz_buf_appendz(b, " IS NULL"); return 1;
    case PQ_OP_NOTNULL: bz_buf_appendz(b, " IS NOT NULL"); return 1;
    case PQ_OP_IN:
        bz_buf_appendz(b, " IN (");
        for (int i = 0; i < p->n_in; i++) {
            if (i) bz_buf_appendz(b, ", ");
            if (!sql_literal(db, b, &p->in[i])) return 0;
        }
        bz_buf_appendc(b, ')');
        return 1;
    default: break;
    }
    int k = p->op == PQ_OP_EQ ? 0 : p->op == PQ_OP_LT ? 1 : p->op == PQ_OP_LE ? 2
          : p->op == PQ_OP_GT ? 3 : p->op == PQ_OP_GE ? 4 : p->op == PQ_OP_NE ? 5 : -1;
    if (k < 0) return 0;
    bz_buf_printf(b, " %s ", ops[k]);
    return sql_literal(db, b, &p->val);
}

/* Plan the splits of this scan (c->preds, c->used, c->limit set). */
static int offload_plan(PqCursor *c, BzErr *err) {
    PqTable *t = (PqTable *)c->base.pVtab;
    BzBuf sql;
    int rc = BZ_OK, i;
    int64_t *rg_bytes = NULL;
    c->pos = bz_malloc(sizeof(int) * (size_t)(t->n_data + 1));
    if (!c->pos) return bz_err(err, BZ_NOMEM, "out of memory");
    for (i = 0; i < t->n_data; i++) {
        int bit = i < 63 ? i : 63;
        c->pos[i] = (c->used & ((uint64_t)1 << bit)) ? c->n_need++ : -1;
    }
    for (i = 0; i < c->n_preds; i++) /* columns of checks done here */
        if (c->preds_exact[i] && c->preds[i].field < t->n_data && c->pos[c->preds[i].field] < 0)
            c->pos[c->preds[i].field] = c->n_need++;
    c->row = bz_calloc((size_t)c->n_need + 2, sizeof *c->row);
    if (!c->row) return bz_err(err, BZ_NOMEM, "out of memory");
    bz_buf_init(&sql, 0);
    for (c->file = 0; c->file < t->files.n && !rc; c->file++) {
        int skip, nf, *check = NULL, n_check = 0;
        char **cols = NULL;
        cursor_close_file(c);
        if ((rc = file_prepare(c, &skip, &nf, err)) || skip) continue;
        PqFile *pf = c->pf;
        /* SELECT <needed columns in table order, NULL where the file lacks one>, rowid */
        bz_buf_reset(&sql);
        bz_buf_appendz(&sql, "SELECT ");
        cols = bz_calloc((size_t)c->n_need + 1, sizeof *cols);
        check = bz_calloc((size_t)c->n_preds + 1, sizeof *check);
        rg_bytes = bz_calloc((size_t)pf->meta->n_row_groups + 1, sizeof *rg_bytes);
        if (!cols || !check || !rg_bytes) {
            bz_free(cols);
            bz_free(check);
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        int n_cols = 0;
        for (int k = 0; k < c->n_need; k++) {
            int col = -1;
            for (i = 0; i < t->n_data && col < 0; i++)
                if (c->pos[i] == k) col = i;
            if (k) bz_buf_appendz(&sql, ", ");
            if (c->map[col] < 0) {
                bz_buf_appendz(&sql, "NULL");
            } else {
                bz_sql_ident(&sql, pf->fields[c->map[col]].name);
                cols[n_cols++] = (char *)pf->fields[c->map[col]].name;
            }
        }
        /* the row number under a name no column of the file has (SQLite resolves
        ** rowid to a column called rowid) */
        static const char *const azRowid[] = {"rowid", "_rowid_", "oid"};
        const char *zRowid = NULL;
        for (int a = 0; a < 3 && !zRowid; a++) {
            int f = 0;
            while (f < pf->n_fields && sqlite3_stricmp(pf->fields[f].name, azRowid[a])) f++;
            if (f == pf->n_fields) zRowid = azRowid[a];
        }
        if (!zRowid) {
            bz_free(cols);
            bz_free(check);
            rc = bz_err(err, BZ_UNSUPPORTED,
                        "%s: columns rowid, _rowid_ and oid hide the row number a scan on hbees "
                        "needs; use the table without executor=", t->files.paths[c->file]);
            break;
        }
        if (c->n_need) bz_buf_appendz(&sql, ", ");
        bz_buf_appendz(&sql, zRowid);
        bz_buf_appendz(&sql, " FROM split");
        /* WHERE: the exact constraints (the others SQLite re-checks) */
        int n_where = 0;
        for (i = 0; i < c->n_preds; i++) {
            int col = c->preds[i].field;
            if (!c->preds_exact[i] || col >= t->n_data || c->map[col] < 0) continue;
            const PqField *fd = &pf->fields[c->map[col]];
            size_t mark = sql.n;
            bz_buf_appendz(&sql, n_where ? " AND " : " WHERE ");
            if (fd->sql_type != t->data_sqltype[col] || !sql_pred(t->db, &sql, fd->name, &c->preds[i])) {
                sql.n = mark; /* rewind: evaluated here instead */
                check[n_check++] = i;
                continue;
            }
            n_where++;
        }

        if (sql.rc) {
            bz_free(cols);
            bz_free(check);
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        /* compressed bytes of the columns read, per row group */
        for (int g = 0; g < pf->meta->n_row_groups; g++) {
            const PqRowGroup *rg = &pf->meta->row_groups[g];
            if (c->rg_skip[g]) continue;
            for (int k = 0; k < rg->n_columns; k++) {
                const PqColumnMeta *cm = &rg->columns[k].meta;
                if (!rg->columns[k].has_meta || cm->n_path < 1) continue;
                for (int f = 0; f < pf->n_fields; f++)
                    if (c->want[f] && !strcmp(cm->path[0], pf->fields[f].name)) {
                        rg_bytes[g] += cm->total_compressed_size;
                        break;
                    }
            }
        }
        /* row groups left, in runs of about split_bytes */
        int first = c->n_splits;
        for (int g = 0; g < pf->meta->n_row_groups && !rc; g++) {
            if (c->rg_skip[g]) continue;
            OffSplit *sp = c->n_splits > first ? &c->splits[c->n_splits - 1] : NULL;
            if (!sp || (sp->n_rg > 0 && sp->bytes + rg_bytes[g] > c->run.splitBytes)) {
                OffSplit *ns = bz_realloc(c->splits, (size_t)(c->n_splits + 1) * sizeof *ns);
                if (!ns) { rc = bz_err(err, BZ_NOMEM, "out of memory"); break; }
                c->splits = ns;
                sp = &ns[c->n_splits++];
                memset(sp, 0, sizeof *sp);
                sp->file = c->file;
                sp->sql = bz_strdup(sql.data);
                sp->rg = bz_malloc(sizeof(int) * (size_t)(pf->meta->n_row_groups + 1));
                sp->cols = bz_calloc((size_t)n_cols + 1, sizeof(char *));
                sp->check = bz_malloc(sizeof(int) * (size_t)(n_check + 1));
                if (!sp->sql || !sp->rg || !sp->cols || !sp->check) { rc = bz_err(err, BZ_NOMEM, "out of memory"); break; }
                /* the names are copied: a file past the footer cache is
                ** closed before its splits' tasks are encoded */
                for (int k = 0; k < n_cols && !rc; k++)
                    if (!(sp->cols[k] = bz_strdup(cols[k]))) rc = bz_err(err, BZ_NOMEM, "out of memory");
                sp->n_cols = n_cols;
                if (rc) break;
                memcpy(sp->check, check, sizeof(int) * (size_t)n_check);
                sp->n_check = n_check;
            }
            sp->rg[sp->n_rg++] = g;
            sp->rows += pf->meta->row_groups[g].num_rows;
            sp->bytes += rg_bytes[g];
        }
        bz_free(cols);
        bz_free(check);
        bz_free(rg_bytes);
        rg_bytes = NULL;
    }
    bz_free(rg_bytes);
    cursor_close_file(c);
    bz_buf_free(&sql);
    c->file = -1;
    return rc;
}

/* The task of split i (ExecScanTaskFn). */
static int offload_task(void *ctx, int i, BzBuf *out, BzErr *err) {
    PqCursor *c = ctx;
    PqTable *t = (PqTable *)c->base.pVtab;
    const OffSplit *sp = &c->splits[i];
    const char *path = t->files.paths[sp->file];
    WireTask wt;
    char qid[48];
    char *keys[16], *vals[16];
    int n = 0;
    for (int k = 0; k < t->n_fwd && n < 15; k++) {
        keys[n] = t->fwd_keys[k];
        vals[n++] = t->fwd_vals[k];
    }
    /* hive columns are filled by the coordinator from the full path */
    keys[n] = "hive_partitioning";
    vals[n++] = "0";
    memset(&wt, 0, sizeof wt);
    snprintf(qid, sizeof qid, "scan-%llx", (unsigned long long)(uintptr_t)c);
    wt.version = WIRE_VERSION;
    wt.zQueryId = qid;
    wt.taskId = c->task_base + i;
    if (is_s3(path)) wt.zUrl = (char *)path;
    else wt.zPath = (char *)path;
    wt.nRg = sp->n_rg;
    wt.aRg = sp->rg;
    wt.nRows = sp->rows;
    wt.nBytes = sp->bytes;
    wt.nCol = sp->n_cols;
    wt.azCol = sp->cols;
    wt.nOpt = n;
    wt.azKey = keys;
    wt.azVal = vals;
    wt.zSql = sp->sql;
    return wire_task_encode(&wt, out, err);
}

/* Step to the next row of an offloaded scan. */
static int offload_step(PqCursor *c) {
    PqTable *t = (PqTable *)c->base.pVtab;
    BzErr err = {0};
    int rc;
    for (;;) {
        if (c->eof) return SQLITE_OK;
        int k = -1;
        rc = exec_scan_row(c->xs, c->row, c->n_need + 1, &k, &err);
        if (rc == BZ_DONE) {
            c->eof = 1;
            return SQLITE_OK;
        }
        if (rc) {
            if (k >= 0 && k < c->n_splits)
                bz_err_prefix(&err, "parquet: %s (split %d of %d, executor %s)",
                              t->files.paths[c->splits[k].file], k, c->n_splits, c->run.ex->zName);
            else
                bz_err_prefix(&err, "parquet (executor %s)", c->run.ex->zName);
            return bz_vtab_error(c->base.pVtab, &err);
        }
        if (k != c->split) {
            if (c->split < 0 || c->splits[c->split].file != c->splits[k].file) {
                cursor_close_file(c); /* hive values of the previous file */
                c->file = c->splits[k].file;
                if (load_hive_vals(c)) return SQLITE_NOMEM;
            }
            c->split = k;
        }
        const OffSplit *sp = &c->splits[c->split];
        int pass = 1;
        for (int k = 0; k < sp->n_check && pass; k++) {
            const PqPred *p = &c->preds[sp->check[k]];
            const WireValue *w = &c->row[c->pos[p->field]];
            PqValue v;
            v.type = w->type; /* WV_* and PV_* agree */
            v.i = w->i;
            v.d = w->d;
            v.p = w->p;
            v.n = w->n;
            pass = pq_pred_eval(p, &v);
        }
        if (!pass) continue;
        c->returned++;
        exec_scan_stats(c->xs)->rowsOut++;
        c->rowid = ((int64_t)c->file << 40) | c->row[c->n_need].i;
        return SQLITE_OK;
    }
}

/* Start an offloaded scan (the plan is parsed into the cursor). */
static int offload_start(PqCursor *c) {
    PqTable *t = (PqTable *)c->base.pVtab;
    BzErr err = {0};
    int rc = BZ_OK;
    c->off = 1;
    c->split = -1;
    if (!c->run.ex)
        rc = bz_hbee_scan_executor(t->hbee, t->n_exec, t->exec_keys, t->exec_vals, &c->run, &err);
    if (!rc) rc = offload_plan(c, &err);
    c->task_base = c->id_base;
    if (!rc)
        rc = exec_scan_open(c->run.ex, c->task_base, c->n_splits, c->run.nInflight, offload_task, c,
                            &c->xs, &err);
    c->id_base += c->n_splits;
    if (rc) {
        bz_err_prefix(&err, "parquet");
        return bz_vtab_error(c->base.pVtab, &err);
    }
    return offload_step(c);
}

static int pqtabFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                       sqlite3_value **argv) {
    PqCursor *c = (PqCursor *)cur;
    PqTable *t = (PqTable *)cur->pVtab;
    const char *p = idxStr ? idxStr : "";
    int ai = 0, rc;
    int64_t offset = 0;
    (void)idxNum;
    offload_stop(c);
    cursor_close_file(c);
    cursor_reset_plan(c);
    c->file = -1;
    c->eof = 0;
    c->used = ~(uint64_t)0;
    c->limit = -1;
    c->returned = 0;
    c->rowid = 0;
    c->preds = bz_calloc((size_t)argc + 1, sizeof(PqPred));
    c->preds_exact = bz_calloc((size_t)argc + 1, 1);
    if (!c->preds || !c->preds_exact) return SQLITE_NOMEM;
    while (*p) {
        char kind = *p++;
        if (kind == 'u') {
            c->used = strtoull(p, (char **)&p, 16);
        } else if (kind == 'c' || kind == 'n') {
            int col = (int)strtol(p, (char **)&p, 10), sqlop = 0;
            if (kind == 'c' && *p == ':') sqlop = (int)strtol(p + 1, (char **)&p, 10);
            int exact = *p == 'x';
            if (exact) p++;
            if (ai >= argc) break;
            c->preds_exact[c->n_preds] = (uint8_t)exact;
            sqlite3_value *v = argv[ai++];
            PqPred *pr = &c->preds[c->n_preds];
            pr->field = col;
            if (kind == 'n') {
                sqlite3_value *x;
                int n = 0, cap = 16;
                PqValue *vals = bz_malloc(sizeof(PqValue) * (size_t)cap);
                if (!vals) return SQLITE_NOMEM;
                for (rc = sqlite3_vtab_in_first(v, &x); rc == SQLITE_OK && x; rc = sqlite3_vtab_in_next(v, &x)) {
                    if (n == cap) {
                        PqValue *nv = bz_realloc(vals, sizeof(PqValue) * (size_t)(cap *= 2));
                        if (!nv) { bz_free(vals); return SQLITE_NOMEM; }
                        vals = nv;
                    }
                    if (to_pqvalue(c, x, col_sqltype(t, col), &vals[n])) { bz_free(vals); return SQLITE_NOMEM; }
                    n++;
                }
                if (rc != SQLITE_OK && rc != SQLITE_DONE) { bz_free(vals); return rc; }
                char **no = bz_realloc(c->owned, (size_t)(c->n_owned + 1) * sizeof *no);
                if (!no) { bz_free(vals); return SQLITE_NOMEM; }
                c->owned = no;
                c->owned[c->n_owned++] = (char *)vals;
                pr->op = PQ_OP_IN;
                pr->in = vals;
                pr->n_in = n;
                c->n_preds++;
                continue;
            }
            int op = op_of(sqlop);
            if (op >= PQ_OP_PREFIX + 100) {
                int glob = op >= PQ_OP_PREFIX + 200;
                if (sqlite3_value_type(v) != SQLITE_TEXT || col_sqltype(t, col) != PV_TEXT) continue;
                const char *pat = (const char *)sqlite3_value_text(v);
                size_t k = pattern_prefix(pat, (size_t)sqlite3_value_bytes(v), glob);
                if (k == 0) continue;
                sqlite3_value *pv = sqlite3_value_dup(v);
                if (!pv) return SQLITE_NOMEM;
                rc = to_pqvalue(c, pv, PV_TEXT, &pr->val);
                sqlite3_value_free(pv);
                if (rc) return rc;
                pr->val.n = k;
                pr->op = PQ_OP_PREFIX;
                c->n_preds++;
                continue;
            }
            /* IS NULL / IS NOT NULL arrive as ISNULL/NOTNULL; "x IS NULL" via IS with NULL too */
            if ((sqlop == SQLITE_INDEX_CONSTRAINT_IS || sqlop == SQLITE_INDEX_CONSTRAINT_ISNOT) &&
                sqlite3_value_type(v) == SQLITE_NULL)
                op = sqlop == SQLITE_INDEX_CONSTRAINT_IS ? PQ_OP_ISNULL : PQ_OP_NOTNULL;
            else if (sqlop == SQLITE_INDEX_CONSTRAINT_ISNOT)
                continue; /* IS NOT value: true for NULLs too; no pruning */
            pr->op = op;
            if (op != PQ_OP_ISNULL && op != PQ_OP_NOTNULL) {
                rc = to_pqvalue(c, v, col_sqltype(t, col), &pr->val);
                if (rc) return rc;
            }
            c->n_preds++;
        } else if (kind == 'L') {
            if (ai < argc) c->limit = sqlite3_value_int64(argv[ai++]);
            if (c->limit < 0) c->limit = -1;
        } else if (kind == 'O') {
            if (ai < argc) offset = sqlite3_value_int64(argv[ai++]);
            if (offset < 0) offset = 0;
        }
        while (*p == ' ') p++;
    }
    if (c->limit >= 0) c->limit += offset; /* SQLite applies both (pqtabBestIndex) */
    if (t->n_exec && !(c->limit >= 0 && c->limit <= PQ_OFFLOAD_MIN_LIMIT))
        return offload_start(c);
    return cursor_step(c);
}

static int pqtabNext(sqlite3_vtab_cursor *cur) {
    PqCursor *c = (PqCursor *)cur;
    return c->off ? offload_step(c) : cursor_step(c);
}

static int pqtabEof(sqlite3_vtab_cursor *cur) {
    return ((PqCursor *)cur)->eof;
}

static int pqtabColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    PqCursor *c = (PqCursor *)cur;
    PqTable *t = (PqTable *)cur->pVtab;
    PqValue v;
    BzErr err = {0};
    if (col == t->n_cols) { /* filename */
        sqlite3_result_text(ctx, t->files.paths[c->file], -1, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    if (col >= t->n_data) {
        const char *hv = c->hive_vals ? c->hive_vals[col - t->n_data] : NULL;
        if (col - t->n_data >= t->n_hive) return SQLITE_OK;
        if (!hv) return SQLITE_OK;
        if (t->hive_cols[col - t->n_data].is_int) sqlite3_result_int64(ctx, strtoll(hv, NULL, 10));
        else sqlite3_result_text(ctx, hv, -1, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    if (c->off) {
        const WireValue *w = c->pos[col] >= 0 ? &c->row[c->pos[col]] : NULL;
        if (!w) return SQLITE_OK;
        switch (w->type) {
        case WV_INT: sqlite3_result_int64(ctx, w->i); break;
        case WV_REAL: sqlite3_result_double(ctx, w->d); break;
        case WV_TEXT: sqlite3_result_text64(ctx, w->p, w->n, SQLITE_TRANSIENT, SQLITE_UTF8); break;
        case WV_BLOB: sqlite3_result_blob64(ctx, w->p, w->n, SQLITE_TRANSIENT); break;
        default: break;
        }
        return SQLITE_OK;
    }
    int f = c->map[col];
    if (f < 0) return SQLITE_OK; /* column missing in this file (union_by_name) */
    int rc = pq_scan_value(c->scan, f, &v, &err);
    if (rc) {
        bz_err_prefix(&err, "parquet");
        sqlite3_result_error(ctx, err.msg, -1);
        return bz_vtab_error(cur->pVtab, &err);
    }
    switch (v.type) {
    case PV_INT: sqlite3_result_int64(ctx, v.i); break;
    case PV_REAL: sqlite3_result_double(ctx, v.d); break;
    case PV_TEXT: sqlite3_result_text64(ctx, v.p, v.n, SQLITE_TRANSIENT, SQLITE_UTF8); break;
    case PV_BLOB: sqlite3_result_blob64(ctx, v.p, v.n, SQLITE_TRANSIENT); break;
    default: break;
    }
    return SQLITE_OK;
}

static int pqtabRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid) {
    *pRowid = ((PqCursor *)cur)->rowid;
    return SQLITE_OK;
}

static sqlite3_module parquetModule = {
    0, pqtabConnect, pqtabConnect, pqtabBestIndex, pqtabDisconnect, pqtabDisconnect,
    pqtabOpen, pqtabClose, pqtabFilter, pqtabNext, pqtabEof, pqtabColumn, pqtabRowid,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* ======================================================================
** parquet_schema(path) and parquet_metadata(path): eponymous tables with a
** hidden `path` argument; the whole result is built in xFilter.
*/
typedef struct MetaCell {
    int type; /* PV_* */
    int64_t i;
    char *z;
} MetaCell;

typedef struct MetaCursor {
    sqlite3_vtab_cursor base;
    char *path;      /* the argument, for the hidden column */
    MetaCell *cells;
    int n_rows, n_cols, row;
} MetaCursor;

typedef struct MetaTable {
    sqlite3_vtab base;
    int which; /* 0 schema, 1 metadata */
} MetaTable;

static const char *kSchemaSql =
    "CREATE TABLE x(name TEXT, path TEXT, physical_type TEXT, logical_type TEXT, "
    "repetition TEXT, type_length INTEGER, precision INTEGER, scale INTEGER, "
    "num_children INTEGER, field_id INTEGER, file TEXT HIDDEN)";
static const char *kMetaSql =
    "CREATE TABLE x(row_group INTEGER, num_rows INTEGER, column_id INTEGER, path TEXT, "
    "physical_type TEXT, compression TEXT, encodings TEXT, total_compressed_size INTEGER, "
    "total_uncompressed_size INTEGER, num_values INTEGER, data_page_offset INTEGER, "
    "dictionary_page_offset INTEGER, min TEXT, max TEXT, null_count INTEGER, "
    "has_page_index INTEGER, has_bloom_filter INTEGER, file TEXT HIDDEN)";

static int metaConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
    MetaTable *t;
    int which = pAux != NULL;
    int rc = sqlite3_declare_vtab(db, which ? kMetaSql : kSchemaSql);
    (void)argc;
    (void)argv;
    (void)pzErr;
    if (rc) return rc;
    t = sqlite3_malloc(sizeof *t);
    if (!t) return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->which = which;
    *ppVtab = &t->base;
    return SQLITE_OK;
}

static int metaDisconnect(sqlite3_vtab *v) {
    sqlite3_free(v);
    return SQLITE_OK;
}

static int metaBestIndex(sqlite3_vtab *v, sqlite3_index_info *info) {
    MetaTable *t = (MetaTable *)v;
    int hidden = t->which ? 17 : 10, found = 0;
    for (int i = 0; i < info->nConstraint; i++) {
        if (info->aConstraint[i].iColumn == hidden && info->aConstraint[i].op == SQLITE_INDEX_CONSTRAINT_EQ) {
            if (!info->aConstraint[i].usable) return SQLITE_CONSTRAINT;
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            found = 1;
        }
    }
    info->estimatedCost = found ? 10 : 1e12;
    info->idxNum = found;
    return SQLITE_OK;
}

static int metaOpen(sqlite3_vtab *v, sqlite3_vtab_cursor **pp) {
    MetaCursor *c = sqlite3_malloc(sizeof *c);
    (void)v;
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *pp = &c->base;
    return SQLITE_OK;
}

static void meta_free_cells(MetaCursor *c) {
    for (int i = 0; i < c->n_rows * c->n_cols; i++) bz_free(c->cells[i].z);
    bz_free(c->cells);
    c->cells = NULL;
    c->n_rows = c->row = 0;
}

static int metaClose(sqlite3_vtab_cursor *cur) {
    meta_free_cells((MetaCursor *)cur);
    bz_free(((MetaCursor *)cur)->path);
    sqlite3_free(cur);
    return SQLITE_OK;
}

typedef struct CellSink {
    MetaCursor *c;
    int cap;
    int rc;
} CellSink;

static MetaCell *sink_row(CellSink *s) {
    MetaCursor *c = s->c;
    if (s->rc) return NULL;
    if (c->n_rows == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        MetaCell *n = bz_realloc(c->cells, sizeof(MetaCell) * (size_t)cap * (size_t)c->n_cols);
        if (!n) {
            s->rc = SQLITE_NOMEM;
            return NULL;
        }
        c->cells = n;
        s->cap = cap;
    }
    MetaCell *r = &c->cells[(size_t)c->n_rows * (size_t)c->n_cols];
    memset(r, 0, sizeof(MetaCell) * (size_t)c->n_cols);
    c->n_rows++;
    return r;
}

static void cell_text(CellSink *s, MetaCell *cell, const char *z, size_t n) {
    cell->type = PV_TEXT;
    cell->z = bz_strndup(z, n);
    if (!cell->z) s->rc = SQLITE_NOMEM;
}
static void cell_int(MetaCell *cell, int64_t v) {
    cell->type = PV_INT;
    cell->i = v;
}

static int metaFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
    MetaCursor *c = (MetaCursor *)cur;
    MetaTable *t = (MetaTable *)cur->pVtab;
    BzErr err = {0};
    BzReadAt *src;
    PqFile *pf;
    CellSink s = {c, 0, SQLITE_OK};
    const char *path;
    int rc;
    (void)idxStr;
    meta_free_cells(c);
    if (!idxNum || argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_free(cur->pVtab->zErrMsg);
        cur->pVtab->zErrMsg = sqlite3_mprintf("%s: a file path argument is required",
                                              t->which ? "parquet_metadata" : "parquet_schema");
        return SQLITE_ERROR;
    }
    path = (const char *)sqlite3_value_text(argv[0]);
    bz_free(c->path);
    c->path = bz_strdup(path);
    rc = open_source(path, NULL, UINT64_MAX, NULL, &src, &err);
    if (!rc) rc = pq_file_open(src, NULL, &pf, &err);
    if (rc) {
        bz_err_prefix(&err, "%s", t->which ? "parquet_metadata" : "parquet_schema");
        return bz_vtab_error(cur->pVtab, &err);
    }
    c->n_cols = t->which ? 17 : 10;
    if (!t->which) {
        for (int i = 1; i < pf->meta->n_schema; i++) {
            const PqSchemaElement *e = &pf->meta->schema[i];
            MetaCell *r = sink_row(&s);
            char lt[64];
            if (!r) break;
            BzBuf pb;
            bz_buf_init(&pb, 0);
            pq_node_path(pf, i, &pb);
            cell_text(&s, &r[0], e->name, strlen(e->name));
            cell_text(&s, &r[1], pb.data ? pb.data : "", pb.n);
            bz_buf_free(&pb);
            if (e->type >= 0) cell_text(&s, &r[2], pq_type_name(e->type), strlen(pq_type_name(e->type)));
            pq_logical_type_str(e, lt, sizeof lt);
            if (lt[0]) cell_text(&s, &r[3], lt, strlen(lt));
            if (e->repetition >= 0)
                cell_text(&s, &r[4], pq_repetition_name(e->repetition), strlen(pq_repetition_name(e->repetition)));
            if (e->type == PQ_FIXED_LEN_BYTE_ARRAY) cell_int(&r[5], e->type_length);
            if (e->logical.kind == PQ_LT_DECIMAL || e->converted_type == PQ_CT_DECIMAL) {
                cell_int(&r[6], e->logical.kind == PQ_LT_DECIMAL ? e->logical.precision : e->precision);
                cell_int(&r[7], e->logical.kind == PQ_LT_DECIMAL ? e->logical.scale : e->scale);
            }
            cell_int(&r[8], e->num_children);
            if (e->field_id >= 0) cell_int(&r[9], e->field_id);
        }
    } else {
        for (int g = 0; g < pf->meta->n_row_groups; g++) {
            const PqRowGroup *rg = &pf->meta->row_groups[g];
            for (int k = 0; k < rg->n_columns; k++) {
                const PqColumnChunk *cc = &rg->columns[k];
                const PqColumnMeta *m = &cc->meta;
                MetaCell *r = sink_row(&s);
                char bmin[256], bmax[256];
                PqValue mn, mx;
                if (!r) break;
                cell_int(&r[0], g);
                cell_int(&r[1], rg->num_rows);
                cell_int(&r[2], k);
                cell_text(&s, &r[3], pf->leaves[k].path, strlen(pf->leaves[k].path));
                cell_text(&s, &r[4], pq_type_name(m->type), strlen(pq_type_name(m->type)));
                const char *codec = cc->has_meta ? bz_codec_name(m->codec) : "";
                cell_text(&s, &r[5], codec, strlen(codec));
                BzBuf eb;
                bz_buf_init(&eb, 0);
                for (int e = 0; e < m->n_encodings; e++)
                    bz_buf_printf(&eb, "%s%s", e ? "," : "", pq_encoding_name(m->encodings[e]));
                cell_text(&s, &r[6], eb.data ? eb.data : "", eb.n);
                bz_buf_free(&eb);
                cell_int(&r[7], m->total_compressed_size);
                cell_int(&r[8], m->total_uncompressed_size);
                cell_int(&r[9], m->num_values);
                cell_int(&r[10], m->data_page_offset);
                if (m->dictionary_page_offset >= 0) cell_int(&r[11], m->dictionary_page_offset);
                if (pq_chunk_minmax(pf, g, k, &mn, &mx, bmin, bmax)) {
                    char tmp[64];
                    const PqValue *vv[2] = {&mn, &mx};
                    for (int q = 0; q < 2; q++) {
                        const PqValue *x = vv[q];
                        if (x->type == PV_INT) snprintf(tmp, sizeof tmp, "%lld", (long long)x->i), cell_text(&s, &r[12 + q], tmp, strlen(tmp));
                        else if (x->type == PV_REAL) snprintf(tmp, sizeof tmp, "%.17g", x->d), cell_text(&s, &r[12 + q], tmp, strlen(tmp));
                        else if (x->type == PV_TEXT) cell_text(&s, &r[12 + q], x->p, x->n);
                    }
                }
                if (m->has_stats && m->stats.null_count >= 0) cell_int(&r[14], m->stats.null_count);
                cell_int(&r[15], cc->column_index_offset >= 0 && cc->offset_index_offset >= 0);
                cell_int(&r[16], m->bloom_filter_offset >= 0);
            }
        }
    }
    pq_file_close(pf);
    c->row = 0;
    return s.rc;
}

static int metaNext(sqlite3_vtab_cursor *cur) {
    ((MetaCursor *)cur)->row++;
    return SQLITE_OK;
}
static int metaEof(sqlite3_vtab_cursor *cur) {
    MetaCursor *c = (MetaCursor *)cur;
    return c->row >= c->n_rows;
}
static int metaColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    MetaCursor *c = (MetaCursor *)cur;
    if (col >= c->n_cols) { /* the hidden argument column */
        if (c->path) sqlite3_result_text(ctx, c->path, -1, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    MetaCell *cell = &c->cells[(size_t)c->row * (size_t)c->n_cols + (size_t)col];
    if (cell->type == PV_INT) sqlite3_result_int64(ctx, cell->i);
    else if (cell->type == PV_TEXT) sqlite3_result_text(ctx, cell->z, -1, SQLITE_TRANSIENT);
    return SQLITE_OK;
}
static int metaRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *r) {
    *r = ((MetaCursor *)cur)->row;
    return SQLITE_OK;
}

static sqlite3_module metaModule = {
    0, 0, metaConnect, metaBestIndex, metaDisconnect, 0, metaOpen, metaClose, metaFilter,
    metaNext, metaEof, metaColumn, metaRowid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* parquet_stats(): the reader's process-wide counters as JSON. */
static void statsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    PqStats st;
    (void)argc;
    (void)argv;
    pq_stats_get(&st);
    char *z = sqlite3_mprintf(
        "{\"bytes_read\":%llu,\"reads\":%llu,\"files_opened\":%llu,\"row_groups_read\":%llu,"
        "\"row_groups_skipped\":%llu,\"pages_read\":%llu,\"pages_skipped\":%llu,"
        "\"rows_filtered\":%llu}",
        (unsigned long long)st.bytes_read, (unsigned long long)st.reads,
        (unsigned long long)st.files_opened, (unsigned long long)st.row_groups_read,
        (unsigned long long)st.row_groups_skipped, (unsigned long long)st.pages_read,
        (unsigned long long)st.pages_skipped, (unsigned long long)st.rows_filtered);
    if (!z) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

int bz_register_parquet(sqlite3 *db, BzHbee *h) {
    int rc = sqlite3_create_module(db, "parquet", &parquetModule, h);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "parquet_stats", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, 0, statsFunc, 0, 0);
    if (rc == SQLITE_OK) rc = sqlite3_create_module(db, "parquet_schema", &metaModule, 0);
    if (rc == SQLITE_OK) rc = sqlite3_create_module(db, "parquet_metadata", &metaModule, (void *)1);
    return rc;
}
