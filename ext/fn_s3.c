/*
** fn_s3.c: S3 objects as SQL. The `s3_list` table-valued function and the
** `s3_get` / `s3_put` scalar functions (issue 3, "S3 functions").
**
**   SELECT key, size, last_modified, etag FROM s3_list('s3://bucket/data/');
**   SELECT key FROM s3_list('s3://bucket/data/{star}/part-{star}.parquet');  -- glob
**   SELECT s3_get('s3://bucket/a.bin');              -- whole object, BLOB
**   SELECT s3_get('s3://bucket/a.bin', 100, 16);     -- 16 bytes at offset 100
**   SELECT s3_put('s3://bucket/b.bin', x'00ff');     -- ETag (multipart > 16 MiB)
**   SELECT s3_stats();  -- {"requests":..,"bytes":..,"retries":..,"hedges":..}
**
** ({star} stands for '*', which cannot appear in this comment.)
** s3_list: a URL without wildcards lists every key under that prefix; with
** '*', '?' or '**' it lists the keys matching the glob (bz_glob_match).
** Options come from the environment: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL,
** AWS_REGION / AWS_DEFAULT_REGION, the credentials chain (AWS_ACCESS_KEY_ID...,
** AWS_PROFILE, container, IMDS), BZ_S3_ANONYMOUS=1 for unsigned requests;
** retries/timeouts from BZ_AWS_MAX_ATTEMPTS, BZ_AWS_TIMEOUT_MS,
** BZ_AWS_CONNECT_TIMEOUT_MS.
**
** Rationale (security): these functions reach outside the process with the
** user's AWS credentials, so all are SQLITE_DIRECTONLY (as csv.c marks its
** table): a schema or view cannot call them behind the user's back.
*/
#include "bz_ext.h"

#include "aws/s3/aws_s3.h"

#include <string.h>

static void bzFreeCb(void *p) { bz_free(p); }

static void result_err(sqlite3_context *ctx, const BzErr *err) {
    if (err->code == BZ_NOMEM) sqlite3_result_error_nomem(ctx);
    else sqlite3_result_error(ctx, err->msg[0] ? err->msg : bz_status_name(err->code), -1);
}

/* ---- s3_get(url [, offset, length]) ------------------------------------------ */

static void s3GetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    const char *url = (const char *)sqlite3_value_text(argv[0]);
    char *bucket = NULL, *key = NULL;
    AwsS3 *s3 = NULL;
    BzErr err = {0};
    BzBuf out;
    uint64_t off = 0, len = UINT64_MAX;
    int rc;
    bz_buf_init(&out, (size_t)sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1));
    if (!url) return; /* NULL in, NULL out */
    if (argc >= 2 && sqlite3_value_type(argv[1]) != SQLITE_NULL) {
        if (sqlite3_value_int64(argv[1]) < 0) {
            sqlite3_result_error(ctx, "s3_get: offset must be >= 0", -1);
            return;
        }
        off = (uint64_t)sqlite3_value_int64(argv[1]);
    }
    if (argc >= 3 && sqlite3_value_type(argv[2]) != SQLITE_NULL) {
        if (sqlite3_value_int64(argv[2]) < 0) {
            sqlite3_result_error(ctx, "s3_get: length must be >= 0", -1);
            return;
        }
        len = (uint64_t)sqlite3_value_int64(argv[2]);
    }
    rc = aws_s3_parse_url(url, &bucket, &key, &err);
    if (rc == BZ_OK && !key[0]) rc = bz_err(&err, BZ_MISUSE, "%s: missing object key", url);
    if (rc == BZ_OK) rc = aws_s3_new(NULL, &s3, &err);
    if (rc == BZ_OK) rc = aws_s3_get(s3, bucket, key, off, len, &out, NULL, &err);
    if (rc) result_err(ctx, &err);
    else if (out.n == 0) sqlite3_result_zeroblob(ctx, 0);
    else {
        size_t n = out.n;
        sqlite3_result_blob64(ctx, bz_buf_take(&out), n, bzFreeCb);
    }
    bz_buf_free(&out);
    aws_s3_free(s3);
    bz_free(bucket);
    bz_free(key);
}

/* ---- s3_put(url, blob) ---------------------------------------------------------- */

static void s3PutFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    const char *url = (const char *)sqlite3_value_text(argv[0]);
    const void *data;
    size_t n;
    char *bucket = NULL, *key = NULL, *etag = NULL;
    AwsS3 *s3 = NULL;
    BzErr err = {0};
    int rc;
    (void)argc;
    if (!url) {
        sqlite3_result_error(ctx, "s3_put: url is NULL", -1);
        return;
    }
    data = sqlite3_value_blob(argv[1]);
    n = (size_t)sqlite3_value_bytes(argv[1]);
    rc = aws_s3_parse_url(url, &bucket, &key, &err);
    if (rc == BZ_OK && !key[0]) rc = bz_err(&err, BZ_MISUSE, "%s: missing object key", url);
    if (rc == BZ_OK) rc = aws_s3_new(NULL, &s3, &err);
    if (rc == BZ_OK) rc = aws_s3_put(s3, bucket, key, data, n, &etag, &err);
    if (rc) result_err(ctx, &err);
    else sqlite3_result_text(ctx, etag, -1, bzFreeCb), etag = NULL;
    bz_free(etag);
    aws_s3_free(s3);
    bz_free(bucket);
    bz_free(key);
}

/* ---- s3_stats() ------------------------------------------------------------------ */

/* The process-wide HTTP counters of every AWS client (aws_http_global_stats),
** cumulative since load: requests sent (hedges included), body bytes
** received, retries, hedges. Take the difference around a query to see what
** it cost; the `parquet` table's S3 reads are included. */
static void s3StatsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    AwsClientStats st;
    char *z;
    (void)argc;
    (void)argv;
    aws_http_global_stats(&st);
    z = sqlite3_mprintf("{\"requests\":%llu,\"bytes\":%llu,\"retries\":%llu,\"hedges\":%llu}",
                        (unsigned long long)st.requests, (unsigned long long)st.bytes,
                        (unsigned long long)st.retries, (unsigned long long)st.hedges);
    if (!z) sqlite3_result_error_nomem(ctx);
    else sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

/* ---- s3_list(url) ------------------------------------------------------------------ */

#define S3L_KEY 0
#define S3L_SIZE 1
#define S3L_LAST_MODIFIED 2
#define S3L_ETAG 3
#define S3L_URL 4 /* hidden argument column */

typedef struct S3ListCursor {
    sqlite3_vtab_cursor base;
    AwsS3Object *a;
    size_t n, cap, i;
    int nomem;
} S3ListCursor;

static int s3listConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                         sqlite3_vtab **ppVtab, char **pzErr) {
    sqlite3_vtab *v;
    int rc;
    (void)pAux;
    (void)argc;
    (void)argv;
    (void)pzErr;
    rc = sqlite3_declare_vtab(db, "CREATE TABLE x(key TEXT, size INTEGER, last_modified TEXT, "
                                  "etag TEXT, url HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    v = sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    *ppVtab = v;
    return SQLITE_OK;
}

static int s3listDisconnect(sqlite3_vtab *v) {
    sqlite3_free(v);
    return SQLITE_OK;
}

/* idxNum: 1 = the url argument is bound to argv[0]; 0 = no url (xFilter errors). */
static int s3listBestIndex(sqlite3_vtab *v, sqlite3_index_info *info) {
    int i, seen = 0;
    (void)v;
    for (i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn != S3L_URL) continue;
        seen = 1;
        if (!c->usable) continue;
        if (c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        info->aConstraintUsage[i].argvIndex = 1;
        info->aConstraintUsage[i].omit = 1;
        info->idxNum = 1;
        info->estimatedCost = 1000;
        info->estimatedRows = 1000;
        return SQLITE_OK;
    }
    if (seen) return SQLITE_CONSTRAINT; /* url exists but is not usable in this plan */
    info->idxNum = 0;
    info->estimatedCost = 1e12;
    return SQLITE_OK;
}

static int s3listOpen(sqlite3_vtab *v, sqlite3_vtab_cursor **pp) {
    S3ListCursor *c = sqlite3_malloc(sizeof *c);
    (void)v;
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *pp = &c->base;
    return SQLITE_OK;
}

static void cursor_reset(S3ListCursor *c) {
    aws_s3_objects_free(c->a, c->n);
    c->a = NULL;
    c->n = c->cap = c->i = 0;
}

static int s3listClose(sqlite3_vtab_cursor *cur) {
    S3ListCursor *c = (S3ListCursor *)cur;
    cursor_reset(c);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int collect(void *u, const AwsS3Object *o) {
    S3ListCursor *c = u;
    AwsS3Object *d;
    if (o->size == UINT64_MAX) return 0; /* a common prefix */
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        AwsS3Object *na = bz_realloc(c->a, nc * sizeof *na);
        if (!na) return c->nomem = 1;
        c->a = na;
        c->cap = nc;
    }
    d = &c->a[c->n];
    d->key = bz_strdup(o->key);
    d->etag = bz_strdup(o->etag ? o->etag : "");
    d->last_modified = bz_strdup(o->last_modified ? o->last_modified : "");
    d->size = o->size;
    c->n++;
    if (!d->key || !d->etag || !d->last_modified) return c->nomem = 1;
    return 0;
}

static int s3listFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                        sqlite3_value **argv) {
    S3ListCursor *c = (S3ListCursor *)cur;
    const char *url;
    char *bucket = NULL, *key = NULL;
    AwsS3 *s3 = NULL;
    BzErr err = {0};
    int rc;
    (void)idxStr;
    cursor_reset(c);
    if (idxNum != 1 || argc < 1 || !(url = (const char *)sqlite3_value_text(argv[0]))) {
        bz_err(&err, BZ_MISUSE, "s3_list: a URL argument is required, e.g. s3_list('s3://bucket/prefix/')");
        return bz_vtab_error(cur->pVtab, &err);
    }
    rc = aws_s3_parse_url(url, &bucket, &key, &err);
    if (rc == BZ_OK) rc = aws_s3_new(NULL, &s3, &err);
    if (rc == BZ_OK) {
        if (aws_s3_glob_prefix_len(key) < strlen(key))
            rc = aws_s3_glob(s3, url, collect, c, &err);
        else
            rc = aws_s3_list(s3, bucket, key, NULL, collect, c, &err);
    }
    if (rc == BZ_OK && c->nomem) rc = bz_err(&err, BZ_NOMEM, "out of memory");
    aws_s3_free(s3);
    bz_free(bucket);
    bz_free(key);
    if (rc) {
        cursor_reset(c);
        return bz_vtab_error(cur->pVtab, &err);
    }
    return SQLITE_OK;
}

static int s3listNext(sqlite3_vtab_cursor *cur) {
    ((S3ListCursor *)cur)->i++;
    return SQLITE_OK;
}

static int s3listEof(sqlite3_vtab_cursor *cur) {
    S3ListCursor *c = (S3ListCursor *)cur;
    return c->i >= c->n;
}

static int s3listColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    S3ListCursor *c = (S3ListCursor *)cur;
    const AwsS3Object *o = &c->a[c->i];
    switch (col) {
    case S3L_KEY: sqlite3_result_text(ctx, o->key, -1, SQLITE_TRANSIENT); break;
    case S3L_SIZE: sqlite3_result_int64(ctx, (sqlite3_int64)o->size); break;
    case S3L_LAST_MODIFIED: sqlite3_result_text(ctx, o->last_modified, -1, SQLITE_TRANSIENT); break;
    case S3L_ETAG: sqlite3_result_text(ctx, o->etag, -1, SQLITE_TRANSIENT); break;
    default: break;
    }
    return SQLITE_OK;
}

static int s3listRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid) {
    *pRowid = (sqlite3_int64)((S3ListCursor *)cur)->i + 1;
    return SQLITE_OK;
}

/* Eponymous-only (no xCreate): use it as s3_list('s3://...'). */
static sqlite3_module s3listModule = {
    .iVersion = 0,
    .xConnect = s3listConnect,
    .xBestIndex = s3listBestIndex,
    .xDisconnect = s3listDisconnect,
    .xOpen = s3listOpen,
    .xClose = s3listClose,
    .xFilter = s3listFilter,
    .xNext = s3listNext,
    .xEof = s3listEof,
    .xColumn = s3listColumn,
    .xRowid = s3listRowid,
};

int bz_register_s3(sqlite3 *db) {
    int rc = sqlite3_create_module(db, "s3_list", &s3listModule, 0);
    const int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
    if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "s3_get", 1, flags, 0, s3GetFunc, 0, 0);
    if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "s3_get", 3, flags, 0, s3GetFunc, 0, 0);
    if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "s3_put", 2, flags, 0, s3PutFunc, 0, 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "s3_stats", 0, flags, 0, s3StatsFunc, 0, 0);
    return rc;
}
