/*
** exec_run.c: one query end to end on any executor. Encodes a task per
** split, submits them all, loads each result into `partials` on a private
** in-memory connection as it arrives, then runs the combine query and
** encodes its rows (wire format, stored uncompressed) for the caller.
**
**     BzBuf res; ExecStats st;
**     exec_run(sql, ex, q, &splits, &dataset, "q7", &res, &st, &err);
**     WireReader r;  wire_reader_open(&r, res.data, res.n, &err);  ... rows ...
**     exec_stats_json(&st, &json);  exec_stats_clear(&st);
*/
#include "exec/exec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void exec_stats_clear(ExecStats *st) {
    bz_free(st->aTaskMs);
    memset(st, 0, sizeof *st);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void exec_stats_json(const ExecStats *st, BzBuf *b) {
    int64_t p50 = 0, p90 = 0, p99 = 0, mx = 0;
    int n = st->nTaskMs;
    if (n > 0) {
        int64_t *a = bz_malloc((size_t)n * sizeof *a);
        if (a) {
            memcpy(a, st->aTaskMs, (size_t)n * sizeof *a);
            qsort(a, (size_t)n, sizeof *a, cmp_i64);
            /* nearest rank */
            p50 = a[(n * 50 + 99) / 100 - 1];
            p90 = a[(n * 90 + 99) / 100 - 1];
            p99 = a[(n * 99 + 99) / 100 - 1];
            mx = a[n - 1];
            bz_free(a);
        }
    }
    bz_buf_printf(b,
                  "{\"executor\": \"%s\", \"workers\": %d, \"tasks\": %lld, \"splits\": %lld, "
                  "\"files\": %lld, \"rows_scanned\": %lld, \"bytes_scanned\": %lld, "
                  "\"rows_shipped\": %lld, \"bytes_shipped\": %lld, \"rows_out\": %lld, "
                  "\"ms_wall\": %lld, \"ms_combine\": %lld, "
                  "\"task_ms\": {\"p50\": %lld, \"p90\": %lld, \"p99\": %lld, \"max\": %lld}, "
                  "\"retries\": %lld, \"speculative\": %lld, \"duplicates\": %lld, "
                  "\"throttled\": %lld, ",
                  st->zExecutor[0] ? st->zExecutor : "none", st->nWorkers, (long long)st->tasks,
                  (long long)st->splits, (long long)st->files, (long long)st->rowsScanned,
                  (long long)st->bytesScanned, (long long)st->rowsShipped,
                  (long long)st->bytesShipped, (long long)st->rowsOut, (long long)st->msWall,
                  (long long)st->msCombine, (long long)p50, (long long)p90, (long long)p99,
                  (long long)mx, (long long)st->counters.retries,
                  (long long)st->counters.speculative, (long long)st->counters.duplicates,
                  (long long)st->counters.throttled);
    ExecPrice pr = st->price;
    if (pr.memoryMb <= 0) exec_price_default(&pr);
    bz_buf_printf(b,
                  "\"memory_mb\": %d, \"billed_ms\": %lld, \"requests\": %lld, "
                  "\"gb_s\": %.6f, \"cost_usd\": %.9f}",
                  pr.memoryMb, (long long)st->billedMs, (long long)st->requests,
                  exec_gb_s(&pr, st->billedMs), exec_cost_usd(&pr, st->billedMs, st->requests));
}

static int sql_fail(const ExecSql *s, sqlite3 *db, const char *what, BzErr *err) {
    return bz_err(err, BZ_ERROR, "%s: %s", what, db ? s->errmsg(db) : "cannot open");
}

static int exec_simple(const ExecSql *s, sqlite3 *db, const char *zSql, BzErr *err) {
    char *zErr = NULL;
    if (s->exec(db, zSql, NULL, NULL, &zErr) != SQLITE_OK) {
        bz_err(err, BZ_ERROR, "combine: %s", zErr ? zErr : s->errmsg(db));
        if (zErr) s->free(zErr);
        return BZ_ERROR;
    }
    return BZ_OK;
}

static int submit_all(Executor *ex, const PlanQuery *q, const PlanSplits *sp, const PlanDataset *d,
                      const char *zQid, BzErr *err) {
    BzBuf b;
    int rc = BZ_OK;
    char **aKey = bz_calloc((size_t)d->nOpt + 1, sizeof(char *));
    char **aVal = bz_calloc((size_t)d->nOpt + 1, sizeof(char *));
    if (!aKey || !aVal) {
        bz_free(aKey);
        bz_free(aVal);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    bz_buf_init(&b, 0);
    for (int i = 0; i < sp->n && !rc; i++) {
        WireTask t;
        memset(&t, 0, sizeof t);
        t.version = WIRE_VERSION;
        t.zQueryId = (char *)zQid;
        t.taskId = i;
        if (sp->a[i].nSegments > 0) { /* a DynamoDB segment (version 2) */
            t.zDdbTable = sp->a[i].zPath;
            t.iSegment = sp->a[i].iSegment;
            t.nSegments = sp->a[i].nSegments;
        } else if (!strncmp(sp->a[i].zPath, "s3://", 5))
            t.zUrl = sp->a[i].zPath;
        else
            t.zPath = sp->a[i].zPath;
        t.nRg = sp->a[i].nRg;
        t.aRg = sp->a[i].aRg;
        t.nRows = sp->a[i].nRows;
        t.nBytes = sp->a[i].nBytes;
        t.nCol = q->nNeed;
        t.azCol = q->azNeed;
        t.nOpt = d->nOpt;
        t.azKey = d->azKey;
        t.azVal = d->azVal;
        t.zSql = q->zPartial;
        if (t.zDdbTable) { /* only the options workers may see (no profile) */
            t.nOpt = 0;
            t.azKey = aKey;
            t.azVal = aVal;
            for (int k = 0; k < d->nOpt; k++)
                if (plan_ddb_option_shipped(d->azKey[k]) && strcasecmp(d->azKey[k], "table")) {
                    aKey[t.nOpt] = d->azKey[k];
                    aVal[t.nOpt++] = d->azVal[k];
                }
        }
        bz_buf_reset(&b);
        rc = wire_task_encode(&t, &b, err);
        if (!rc) rc = ex->submit(ex, b.data, b.n, err);
    }
    bz_buf_free(&b);
    bz_free(aKey);
    bz_free(aVal);
    return rc;
}

/* Insert the rows of one result into partials. */
static int load_result(const ExecSql *s, sqlite3 *db, sqlite3_stmt *ins, WireReader *r,
                       WireValue *row, ExecStats *st, BzErr *err) {
    int rc;
    while ((rc = wire_reader_next(r, row, err)) == BZ_OK) {
        for (int i = 0; i < r->nCol; i++) {
            const WireValue *v = &row[i];
            int brc;
            switch (v->type) {
            case WV_INT:
                brc = s->bind_int64(ins, i + 1, v->i);
                break;
            case WV_REAL:
                brc = s->bind_double(ins, i + 1, v->d);
                break;
            case WV_TEXT:
                brc = v->n > 0x7fffffff
                          ? SQLITE_TOOBIG
                          : s->bind_text(ins, i + 1, v->p, (int)v->n, SQLITE_TRANSIENT);
                break;
            case WV_BLOB:
                brc = v->n > 0x7fffffff
                          ? SQLITE_TOOBIG
                          : s->bind_blob(ins, i + 1, v->p, (int)v->n, SQLITE_TRANSIENT);
                break;
            default:
                brc = s->bind_null(ins, i + 1);
                break;
            }
            if (brc != SQLITE_OK) return sql_fail(s, db, "combine: loading partial rows", err);
        }
        if (s->step(ins) != SQLITE_DONE) {
            rc = sql_fail(s, db, "combine: loading partial rows", err);
            s->reset(ins);
            return rc;
        }
        s->reset(ins);
        st->rowsShipped++;
    }
    return rc == BZ_DONE ? BZ_OK : rc;
}

static int run_combine(const ExecSql *s, sqlite3 *db, const PlanQuery *q, BzBuf *out, ExecStats *st,
                       BzErr *err) {
    sqlite3_stmt *stmt = NULL;
    WireWriter w;
    int rc;
    if (s->prepare_v2(db, q->zCombine, -1, &stmt, NULL) != SQLITE_OK || !stmt)
        return sql_fail(s, db, "combine", err);
    int n = s->column_count(stmt);
    rc = wire_writer_init(&w, q->nOut, q->azOut, err);
    w.bStore = 1;
    if (!rc && n != q->nOut)
        rc = bz_err(err, BZ_ERROR, "combine: %d columns, planned %d", n, q->nOut);
    while (!rc) {
        int src = s->step(stmt);
        if (src == SQLITE_DONE) break;
        if (src != SQLITE_ROW) {
            rc = sql_fail(s, db, "combine", err);
            break;
        }
        for (int i = 0; i < n; i++) {
            WireValue v;
            memset(&v, 0, sizeof v);
            switch (s->column_type(stmt, i)) {
            case SQLITE_INTEGER:
                v.type = WV_INT;
                v.i = s->column_int64(stmt, i);
                break;
            case SQLITE_FLOAT:
                v.type = WV_REAL;
                v.d = s->column_double(stmt, i);
                break;
            case SQLITE_TEXT:
                v.type = WV_TEXT;
                v.p = (const char *)s->column_text(stmt, i);
                v.n = (size_t)s->column_bytes(stmt, i);
                break;
            case SQLITE_BLOB:
                v.type = WV_BLOB;
                v.p = s->column_blob(stmt, i);
                v.n = (size_t)s->column_bytes(stmt, i);
                break;
            default:
                v.type = WV_NULL;
                break;
            }
            wire_writer_value(&w, &v);
        }
        st->rowsOut++;
        if (w.body.rc) rc = bz_err(err, w.body.rc, "combine: result too large");
    }
    s->finalize(stmt);
    if (!rc) {
        WireHeader h;
        memset(&h, 0, sizeof h);
        h.rowsScanned = st->rowsScanned;
        h.bytesScanned = st->bytesScanned;
        rc = wire_writer_finish(&w, &h, out, err);
    }
    wire_writer_free(&w);
    return rc;
}

/* The progress ticker: a thread that reports every EXEC_PROGRESS_TICK_MS. */
typedef struct Ticker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int bStarted, bStop;
    uint64_t t0;
    ExecProgress p; /* guarded by mu */
    ExecProgressFn x;
    void *ctx;
} Ticker;

static void *ticker_main(void *arg) {
    Ticker *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->bStop) { /* a report at once, then every tick */
        ExecProgress p = t->p;
        p.msElapsed = (int64_t)(bz_now_ms() - t->t0);
        pthread_mutex_unlock(&t->mu);
        t->x(t->ctx, &p); /* outside the lock: the hook may write to a slow terminal */
        pthread_mutex_lock(&t->mu);
        if (t->bStop) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += EXEC_PROGRESS_TICK_MS * 1000000L;
        while (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static void ticker_start(Ticker *t, ExecProgressFn x, void *ctx, const PlanSplits *sp,
                         uint64_t t0) {
    memset(t, 0, sizeof *t);
    t->x = x;
    t->ctx = ctx;
    t->t0 = t0;
    t->p.splitsTotal = sp->n;
    for (int i = 0; i < sp->n; i++)
        t->p.bytesTotal += sp->a[i].nBytes;
    if (!x) return;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    /* no thread, no display: the query runs all the same */
    t->bStarted = pthread_create(&t->th, NULL, ticker_main, t) == 0;
    if (!t->bStarted) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
    }
}

static void ticker_add(Ticker *t, int64_t bytes) {
    if (!t->bStarted) return;
    pthread_mutex_lock(&t->mu);
    t->p.splitsDone++;
    t->p.bytesDone += bytes;
    pthread_mutex_unlock(&t->mu);
}

static void ticker_stop(Ticker *t) {
    if (!t->x) return;
    if (t->bStarted) {
        pthread_mutex_lock(&t->mu);
        t->bStop = 1;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->th, NULL);
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
    }
    t->p.bDone = 1;
    t->p.msElapsed = (int64_t)(bz_now_ms() - t->t0);
    t->x(t->ctx, &t->p);
}

int exec_run(const ExecSql *s, Executor *ex, const PlanQuery *q, const PlanSplits *sp,
             const PlanDataset *d, const char *zQid, BzBuf *out, ExecStats *st, BzErr *err) {
    return exec_run_progress(s, ex, q, sp, d, zQid, out, st, NULL, NULL, err);
}

int exec_run_progress(const ExecSql *s, Executor *ex, const PlanQuery *q, const PlanSplits *sp,
                      const PlanDataset *d, const char *zQid, BzBuf *out, ExecStats *st,
                      ExecProgressFn xProgress, void *ctx, BzErr *err) {
    uint64_t t0 = bz_now_ms();
    ExecPrice price = st->price; /* the one field the caller sets */
    Ticker tick;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    WireValue *row = NULL;
    BzBuf sql;
    int rc;
    memset(st, 0, sizeof *st);
    st->price = price;
    ticker_start(&tick, xProgress, ctx, sp, t0);
    snprintf(st->zExecutor, sizeof st->zExecutor, "%s", ex->zName);
    st->nWorkers = ex->nWorkers;
    st->splits = sp->n;
    st->files = sp->nFiles;
    bz_buf_init(&sql, 0);
    st->aTaskMs = bz_calloc((size_t)(sp->n < EXEC_MAX_TASK_MS ? sp->n : EXEC_MAX_TASK_MS) + 1,
                            sizeof *st->aTaskMs);
    row = bz_calloc((size_t)q->nPart + 1, sizeof *row);
    if (!st->aTaskMs || !row) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = submit_all(ex, q, sp, d, zQid, err))) goto done;
    if (s->open_v2(":memory:", &db,
                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                   NULL) != SQLITE_OK) {
        rc = sql_fail(s, db, "combine connection", err);
        goto done;
    }
    if ((rc = exec_simple(s, db, q->zPartialsDdl, err))) goto done;
    if ((rc = exec_simple(s, db, "BEGIN", err))) goto done;
    bz_buf_appendz(&sql, "INSERT INTO partials VALUES(");
    for (int i = 0; i < q->nPart; i++)
        bz_buf_appendz(&sql, i ? ", ?" : "?");
    bz_buf_appendc(&sql, ')');
    if (sql.rc) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto done;
    }
    if (s->prepare_v2(db, sql.data, -1, &ins, NULL) != SQLITE_OK) {
        rc = sql_fail(s, db, "combine", err);
        goto done;
    }
    for (;;) {
        uint8_t *res;
        size_t n;
        WireReader r;
        rc = ex->collect(ex, &res, &n, err);
        if (rc == BZ_DONE) {
            rc = BZ_OK;
            break;
        }
        if (rc) goto done;
        rc = wire_reader_open(&r, res, n, err);
        bz_free(res);
        if (rc) goto done;
        st->tasks++;
        st->bytesShipped += r.bytesShipped;
        if (r.hdr.status) {
            int64_t id = r.hdr.taskId;
            const PlanSplit *ps = id >= 0 && id < sp->n ? &sp->a[id] : NULL;
            if (ps && ps->nSegments > 0)
                rc = bz_err(err, r.hdr.status, "task %lld (dynamodb table %s, segment %d of %d): %s",
                            (long long)id, ps->zPath, ps->iSegment, ps->nSegments, r.zError);
            else
                rc = bz_err(err, r.hdr.status, "task %lld (%s): %s", (long long)id,
                            ps ? ps->zPath : "?", r.zError);
            wire_reader_close(&r);
            goto done;
        }
        st->rowsScanned += r.hdr.rowsScanned;
        st->bytesScanned += r.hdr.bytesScanned;
        st->billedMs += exec_billed_ms(r.hdr.ms);
        ticker_add(&tick, r.hdr.bytesScanned);
        if (st->nTaskMs < EXEC_MAX_TASK_MS && st->nTaskMs < sp->n)
            st->aTaskMs[st->nTaskMs++] = r.hdr.ms;
        if (r.nCol != q->nPart) {
            rc = bz_err(err, BZ_CORRUPT, "task %lld returned %d columns, planned %d",
                        (long long)r.hdr.taskId, r.nCol, q->nPart);
            wire_reader_close(&r);
            goto done;
        }
        rc = load_result(s, db, ins, &r, row, st, err);
        wire_reader_close(&r);
        if (rc) goto done;
    }
    if (st->tasks != sp->n) {
        rc = bz_err(err, BZ_ERROR, "%lld of %d tasks returned", (long long)st->tasks, sp->n);
        goto done;
    }
    s->finalize(ins);
    ins = NULL;
    if ((rc = exec_simple(s, db, "COMMIT", err))) goto done;
    {
        uint64_t tc = bz_now_ms();
        rc = run_combine(s, db, q, out, st, err);
        st->msCombine = (int64_t)(bz_now_ms() - tc);
    }
done:
    ticker_stop(&tick);
    st->counters = ex->counters;
    st->billedMs += st->counters.billedMs;
    st->requests = st->tasks + st->counters.retries + st->counters.speculative;
    if (ins) s->finalize(ins);
    if (db) s->close(db);
    bz_free(row);
    bz_buf_free(&sql);
    st->msWall = (int64_t)(bz_now_ms() - t0);
    return rc;
}
