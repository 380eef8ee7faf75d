/*
** vtab_hbee.c: the `hbee` virtual table and the hbee_explain, hbee_config
** and hbee_last_stats functions: a query over a `parquet` table, split by
** files, run on a pool of workers and combined.
**
**   CREATE VIRTUAL TABLE t USING parquet('data/trips');
**   CREATE VIRTUAL TABLE r USING hbee(
**       query='SELECT zone, count(*) AS n, avg(fare) FROM t GROUP BY zone',
**       executor=local, workers=4, split_bytes=67108864);
**   SELECT * FROM r ORDER BY n DESC;        -- every scan runs the query
**   SELECT hbee_explain('SELECT count(*) FROM t');
**   SELECT hbee_config('workers', 2);       -- this connection's default
**   SELECT hbee_last_stats();               -- JSON of the last run
**
** Options (CREATE arguments; defaults from hbee_config, then built-ins):
**   query        the SELECT (required); its FROM names a parquet table of
**                this connection, whose definition (sqlite_schema.sql) gives
**                the paths and options every worker uses
**   executor     local (threads in this process), redis (`hbee worker` processes
**                fed through a Redis stream) or lambda (one AWS Lambda Invoke
**                per split)
**   workers      threads of the local executor (default: number of cores)
**   redis        redis://[user:password@]host:port/db of the redis executor
**                (default: $REDIS_URL); never shown with its password
**   queue        the stream the redis workers read (default hbee:tasks)
**   function     Lambda function of the lambda executor (default buzzlite-hbee),
**                invoked in AWS_REGION; AWS_ENDPOINT_URL_LAMBDA overrides the endpoint
**   max_concurrency  invocations in flight at most (default 100)
**   scratch      s3://bucket/prefix where Lambda workers put results over the
**                6 MB response limit (the coordinator reads and deletes them)
**   straggler_ms floor of the straggler deadline of the remote executors
**                (default 1000; the deadline is max(floor, 4 x median task time))
**   split_bytes  target compressed bytes per split (default 64 MiB): a split
**                is a run of consecutive row groups of one file, read by the
**                worker through the parquet table's row_groups option. With
**                the local executor, splits are made smaller (down to 1 MiB)
**                when there would be fewer than HBEE_SPLITS_PER_WORKER per
**                thread (plan_split_target)
**   memory_mb    Lambda function memory the cost is computed at (default 1769,
**                128 to 10240); hbee_last_stats reports billed GB-seconds and
**                dollars for every executor (what the run costs, or would, on Lambda)
**   price_gb_s   dollars per GB-second (default 0.0000166667, x86_64)
**   price_1m_requests  dollars per million requests (default 0.20, x86_64)
**   scan_mb_s    hbee_explain's throughput assumption: compressed column MB per
**                second one worker scans (default 25; see src/exec/exec_cost.c)
**
** Progress: while a query runs longer than a second and stderr is a terminal,
** one line (splits done/total, bytes read, elapsed) is redrawn on stderr with
** \r and erased at the end, like DuckDB's shell. BZ_PROGRESS=1 shows it even
** when stderr is not a terminal, BZ_PROGRESS=0 never; BZ_PROGRESS_DELAY_MS
** replaces the one-second delay (tests use 0).
**
** How the executors reach SQLite: src/exec calls SQLite through an ExecSql
** table (see src/exec/exec.h). This file fills it from the extension
** routines (sqlite3_api), or from the linked library when compiled with
** SQLITE_CORE into the hbee binary. Each worker connection registers
** buzzlite by calling sqlite3_buzzlite_init directly.
**
** The table is DIRECTONLY (like csv.c): it reads files and starts threads,
** so it must not be usable from triggers or views of an untrusted schema.
*/
#include "bz_ext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buzzlite.h"
#include "aws/aws_config.h"
#include "exec/exec.h"
#include "plan/plan.h"
#include "redis/rq.h"
#include "wire/wire.h"

#define HBEE_DEFAULT_SPLIT_BYTES ((int64_t)64 << 20)

/* Per-connection state shared by the module and the functions. */
/* Options of the remote executors (strings kept in fixed buffers so option
** sets copy by assignment). */
typedef struct HbeeRemote {
    char zRedis[512];
    char zQueue[128];
    char zFunction[160];
    char zScratch[512];
    int maxConcurrency;
    int stragglerMs;
} HbeeRemote;

typedef struct HbeeConn {
    char zExecutor[16];
    int nWorkers; /* 0 = cores */
    int64_t splitBytes;
    HbeeRemote rem;
    ExecPrice price;
    uint64_t nQuery;
    ExecStats last;
    int bHaveLast;
} HbeeConn;

typedef struct HbeeOpts {
    char zExecutor[16];
    int nWorkers;
    int64_t splitBytes;
    HbeeRemote rem;
    ExecPrice price;
} HbeeOpts;

static ExecSql hbee_sql;

static int hbeeInitDb(sqlite3 *db, char **pzErr) {
#ifdef SQLITE_CORE
    return sqlite3_buzzlite_init(db, pzErr, NULL);
#else
    return sqlite3_buzzlite_init(db, pzErr, sqlite3_api);
#endif
}

static void hbeeFree(void *p) {
    sqlite3_free(p);
}

static void fill_exec_sql(ExecSql *s) {
    s->open_v2 = sqlite3_open_v2;
    s->close = sqlite3_close;
    s->exec = sqlite3_exec;
    s->prepare_v2 = sqlite3_prepare_v2;
    s->step = sqlite3_step;
    s->reset = sqlite3_reset;
    s->finalize = sqlite3_finalize;
    s->column_count = sqlite3_column_count;
    s->column_type = sqlite3_column_type;
    s->column_int64 = sqlite3_column_int64;
    s->column_double = sqlite3_column_double;
    s->column_text = sqlite3_column_text;
    s->column_blob = sqlite3_column_blob;
    s->column_bytes = sqlite3_column_bytes;
    s->column_name = sqlite3_column_name;
    s->bind_int64 = sqlite3_bind_int64;
    s->bind_double = sqlite3_bind_double;
    s->bind_text = sqlite3_bind_text;
    s->bind_blob = sqlite3_bind_blob;
    s->bind_null = sqlite3_bind_null;
    s->errmsg = sqlite3_errmsg;
    s->set_authorizer = sqlite3_set_authorizer;
    s->free = hbeeFree;
    s->init_db = hbeeInitDb;
}

/* ---- options -------------------------------------------------------------- */

static int set_option(HbeeOpts *o, const char *k, const char *v, BzErr *err) {
    char *end;
    if (!sqlite3_stricmp(k, "executor")) {
        if (sqlite3_stricmp(v, "local") == 0) {
            snprintf(o->zExecutor, sizeof o->zExecutor, "local");
            return BZ_OK;
        }
        if (!sqlite3_stricmp(v, "redis") || !sqlite3_stricmp(v, "lambda")) {
            snprintf(o->zExecutor, sizeof o->zExecutor, "%s", !sqlite3_stricmp(v, "redis") ? "redis" : "lambda");
            return BZ_OK;
        }
        return bz_err(err, BZ_MISUSE, "unknown executor '%s' (local, redis, lambda)", v);
    }
    if (!sqlite3_stricmp(k, "workers")) {
        long n = strtol(v, &end, 10);
        if (*v == 0 || *end || n < 0 || n > 256)
            return bz_err(err, BZ_MISUSE, "workers: expected 0 (cores) to 256, got '%s'", v);
        o->nWorkers = (int)n;
        return BZ_OK;
    }
    if (!sqlite3_stricmp(k, "split_bytes")) {
        long long n = strtoll(v, &end, 10);
        if (*v == 0 || *end || n < 1)
            return bz_err(err, BZ_MISUSE, "split_bytes: expected a positive integer, got '%s'", v);
        o->splitBytes = n;
        return BZ_OK;
    }
    if (!sqlite3_stricmp(k, "memory_mb")) {
        long n = strtol(v, &end, 10);
        if (*v == 0 || *end || n < 128 || n > 10240)
            return bz_err(err, BZ_MISUSE, "memory_mb: expected 128 to 10240, got '%s'", v);
        o->price.memoryMb = (int)n;
        return BZ_OK;
    }
    if (!sqlite3_stricmp(k, "price_gb_s") || !sqlite3_stricmp(k, "price_1m_requests") ||
        !sqlite3_stricmp(k, "scan_mb_s")) {
        double d = strtod(v, &end);
        int bScan = !sqlite3_stricmp(k, "scan_mb_s");
        if (*v == 0 || *end || !(d >= 0) || d > 1e9 || (bScan && d <= 0))
            return bz_err(err, BZ_MISUSE, "%s: expected a %s number, got '%s'", k,
                          bScan ? "positive" : "non-negative", v);
        if (bScan)
            o->price.scanMbS = d;
        else if (!sqlite3_stricmp(k, "price_gb_s"))
            o->price.usdPerGbS = d;
        else
            o->price.usdPer1MRequests = d;
        return BZ_OK;
    }
    if (!sqlite3_stricmp(k, "max_concurrency") || !sqlite3_stricmp(k, "straggler_ms")) {
        long n = strtol(v, &end, 10);
        int bConc = !sqlite3_stricmp(k, "max_concurrency");
        if (*v == 0 || *end || n < 1 || n > (bConc ? 10000 : 86400000))
            return bz_err(err, BZ_MISUSE, "%s: expected a positive integer%s, got '%s'", k,
                          bConc ? " up to 10000" : "", v);
        if (bConc)
            o->rem.maxConcurrency = (int)n;
        else
            o->rem.stragglerMs = (int)n;
        return BZ_OK;
    }
    {
        char *dst = NULL;
        size_t cap = 0;
        if (!sqlite3_stricmp(k, "redis")) dst = o->rem.zRedis, cap = sizeof o->rem.zRedis;
        if (!sqlite3_stricmp(k, "queue")) dst = o->rem.zQueue, cap = sizeof o->rem.zQueue;
        if (!sqlite3_stricmp(k, "function")) dst = o->rem.zFunction, cap = sizeof o->rem.zFunction;
        if (!sqlite3_stricmp(k, "scratch")) dst = o->rem.zScratch, cap = sizeof o->rem.zScratch;
        if (dst) {
            if (strlen(v) >= cap) return bz_err(err, BZ_MISUSE, "%s: value too long", k);
            if (!sqlite3_stricmp(k, "scratch") && *v && sqlite3_strnicmp(v, "s3://", 5))
                return bz_err(err, BZ_MISUSE, "scratch: expected s3://bucket/prefix");
            snprintf(dst, cap, "%s", v);
            return BZ_OK;
        }
    }
    return bz_err(err, BZ_MISUSE, "unknown option %s", k);
}

static void opts_from_conn(HbeeOpts *o, const HbeeConn *c) {
    snprintf(o->zExecutor, sizeof o->zExecutor, "%s", c->zExecutor);
    o->nWorkers = c->nWorkers;
    o->splitBytes = c->splitBytes;
    o->rem = c->rem;
    o->price = c->price;
}

/* ---- planning against the user's connection --------------------------------- */

typedef struct HbeePlan {
    PlanSelect *sel;
    PlanQuery *q;
    PlanDataset ds;
    PlanSplits sp;
    char *zCreate; /* the dataset's CREATE VIRTUAL TABLE text */
} HbeePlan;

static void hbee_plan_free(HbeePlan *p) {
    plan_query_free(p->q);
    plan_select_free(p->sel);
    plan_dataset_clear(&p->ds);
    plan_splits_clear(&p->sp);
    bz_free(p->zCreate);
    memset(p, 0, sizeof *p);
}

/* Columns of the dataset table through pragma_table_xinfo. */
static int load_columns(sqlite3 *db, const char *zSchema, const char *zTable, PlanColumn **paCol,
                        int *pnCol, BzErr *err) {
    sqlite3_stmt *st = NULL;
    PlanColumn *a = NULL;
    int n = 0, rc = BZ_OK;
    *paCol = NULL;
    *pnCol = 0;
    if (sqlite3_prepare_v2(db, "SELECT name, type, hidden FROM pragma_table_xinfo(?1, ?2)", -1, &st,
                           NULL) != SQLITE_OK)
        return bz_err(err, BZ_ERROR, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, zTable, -1, SQLITE_STATIC);
    if (zSchema) sqlite3_bind_text(st, 2, zSchema, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        PlanColumn *na = bz_realloc(a, (size_t)(n + 1) * sizeof *na);
        if (!na) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        a = na;
        const char *nm = (const char *)sqlite3_column_text(st, 0);
        const char *ty = (const char *)sqlite3_column_text(st, 1);
        a[n].zName = bz_strdup(nm ? nm : "");
        a[n].zType = bz_strdup(ty ? ty : "");
        a[n].bHidden = sqlite3_column_int(st, 2) != 0;
        n++;
        if (!a[n - 1].zName || !a[n - 1].zType) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
    }
    sqlite3_finalize(st);
    if (!rc && n == 0) rc = bz_err(err, BZ_NOTFOUND, "no such table: %s", zTable);
    *paCol = a;
    *pnCol = n;
    return rc;
}

static void free_columns(PlanColumn *a, int n) {
    for (int i = 0; i < n; i++) {
        bz_free((char *)a[i].zName);
        bz_free((char *)a[i].zType);
    }
    bz_free(a);
}

/* The CREATE text of the dataset table: temp first, then main (SQLite's
** lookup order), or the named schema. */
static int load_create(sqlite3 *db, const char *zSchema, const char *zTable, char **out,
                       BzErr *err) {
    const char *schemas[2] = {"temp", "main"};
    int ns = 2;
    *out = NULL;
    if (zSchema) {
        schemas[0] = zSchema;
        ns = 1;
    }
    for (int i = 0; i < ns && !*out; i++) {
        char *q = sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_schema WHERE type = 'table' AND "
                                  "name = ?1 COLLATE NOCASE",
                                  schemas[i]);
        sqlite3_stmt *st = NULL;
        if (!q) return bz_err(err, BZ_NOMEM, "out of memory");
        int rc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
        sqlite3_free(q);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            continue;
        }
        sqlite3_bind_text(st, 1, zTable, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            *out = bz_strdup((const char *)sqlite3_column_text(st, 0));
            if (!*out) {
                sqlite3_finalize(st);
                return bz_err(err, BZ_NOMEM, "out of memory");
            }
        }
        sqlite3_finalize(st);
    }
    if (!*out) return bz_err(err, BZ_NOTFOUND, "no such table: %s", zTable);
    return BZ_OK;
}

/* Splits the planner makes at least when the row groups allow: for the
** local executor HBEE_SPLITS_PER_WORKER per thread; none for the remote
** executors, where a task costs a round trip or an invocation (measured in
** bench/RESULTS.md ### hbee: Q6 on one 188 MiB file was one 64 MiB split). */
#define HBEE_SPLITS_PER_WORKER 4
static int min_splits(const HbeeOpts *o) {
    if (strcmp(o->zExecutor, "local")) return 0;
    return HBEE_SPLITS_PER_WORKER * (o->nWorkers ? o->nWorkers : exec_cores());
}

/* Workers the executor runs at once: local threads, the redis `workers`
** option (default 4: the coordinator cannot count the listening workers) or
** Lambda's max_concurrency (default 100). */
static int executor_width(const HbeeOpts *o) {
    if (!strcmp(o->zExecutor, "lambda")) return o->rem.maxConcurrency ? o->rem.maxConcurrency : 100;
    if (!strcmp(o->zExecutor, "redis")) return o->nWorkers ? o->nWorkers : 4;
    return o->nWorkers ? o->nWorkers : exec_cores();
}

/* TotalSegments of an hbee query over a dynamodb table: the table's
** segments= when given, else twice the threads or redis workers (so a slow
** segment does not hold a worker idle at the end) or Lambda's
** max_concurrency (each invocation is a worker of its own), at most
** HBEE_DDB_MAX_SEGMENTS.
** Rationale: a segment costs one task (one Lambda request) and at least one
** Scan request however few items it has; these defaults keep every worker
** busy without paying for many nearly empty segments. */
#define HBEE_DDB_MAX_SEGMENTS 128
static int ddb_default_segments(const HbeeOpts *o) {
    int n = (strcmp(o->zExecutor, "lambda") ? 2 : 1) * executor_width(o);
    return n > HBEE_DDB_MAX_SEGMENTS ? HBEE_DDB_MAX_SEGMENTS : n;
}

static int ddb_segments(const PlanDataset *d, const HbeeOpts *o, int *pn, BzErr *err) {
    const char *z = plan_dataset_option(d, "segments");
    if (z) {
        char *end;
        long v = strtol(z, &end, 10);
        if (!*z || *end || v < 1 || v > PLAN_DDB_MAX_SEGMENTS)
            return bz_err(err, BZ_MISUSE, "option segments: bad value '%s'", z);
        *pn = (int)v;
        return BZ_OK;
    }
    *pn = ddb_default_segments(o);
    return BZ_OK;
}

/* The region the user's dynamodb table reads (its region= option, else the
** coordinator's AWS_REGION / AWS_DEFAULT_REGION / profile region) as an
** explicit option, so workers scan the same region whatever theirs is. */
static int ddb_ship_region(PlanDataset *d, BzErr *err) {
    if (plan_dataset_option(d, "region")) return BZ_OK;
    char *r = aws_region_resolve(plan_dataset_option(d, "profile"));
    char *k = bz_strdup("region");
    char **ak = bz_realloc(d->azKey, (size_t)(d->nOpt + 1) * sizeof *ak);
    if (ak) d->azKey = ak;
    char **av = ak ? bz_realloc(d->azVal, (size_t)(d->nOpt + 1) * sizeof *av) : NULL;
    if (av) d->azVal = av;
    if (!r || !k || !ak || !av) {
        bz_free(r);
        bz_free(k);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    d->azKey[d->nOpt] = k;
    d->azVal[d->nOpt++] = r;
    return BZ_OK;
}

/* Parse and rewrite zQuery against db; with bSplits also read the dataset
** definition and list its splits. */
static int hbee_plan(sqlite3 *db, const char *zQuery, const HbeeOpts *o, int bSplits, HbeePlan *p,
                     BzErr *err) {
    PlanColumn *cols = NULL;
    int ncol = 0, rc;
    memset(p, 0, sizeof *p);
    rc = plan_parse(zQuery, &p->sel, err);
    if (!rc) rc = load_create(db, p->sel->zSchema, p->sel->zTable, &p->zCreate, err);
    if (!rc) {
        rc = plan_dataset_parse(p->zCreate, &p->ds, err);
        if (rc)
            bz_err(err, rc,
                   "%s is not a parquet or dynamodb table (hbee reads only those)",
                   p->sel->zTable);
    }
    if (!rc) rc = load_columns(db, p->sel->zSchema, p->sel->zTable, &cols, &ncol, err);
    if (!rc && p->ds.eKind == PLAN_DS_DYNAMODB) {
        /* A dynamodb column's declared type is no promise about its values
        ** (virtual table values get no affinity: an N attribute of a REAL
        ** column may be an INTEGER): the partial rows keep them as sent. */
        for (int i = 0; i < ncol; i++)
            ((char *)cols[i].zType)[0] = 0;
        rc = ddb_ship_region(&p->ds, err);
    }
    if (!rc) rc = plan_rewrite(p->sel, cols, ncol, &p->q, err);
    if (!rc && bSplits && p->ds.eKind == PLAN_DS_DYNAMODB) {
        int n = 1;
        rc = ddb_segments(&p->ds, o, &n, err);
        if (!rc) rc = plan_splits_segments(&p->ds, n, &p->sp, err);
        if (rc) bz_err_prefix(err, "dynamodb table %s", p->sel->zTable);
    } else if (!rc && bSplits) {
        ExecS3Fs s3;
        PlanFs fs;
        exec_plan_fs_s3(&s3, &p->ds, &fs);
        rc = plan_splits_list(&p->ds, &fs, p->q->azNeed, p->q->nNeed, o->splitBytes,
                              min_splits(o), &p->sp, err);
    }
    free_columns(cols, ncol);
    if (rc) hbee_plan_free(p);
    return rc;
}

/* The lambda executor's function and scratch prefix: the option, else the
** environment (HBEE_FUNCTION, HBEE_SCRATCH: what infra/'s client_env and
** `make stack-env` export), else NULL (function buzzlite-hbee, no scratch). */
static const char *hbee_function(const HbeeOpts *o) {
    const char *z = getenv("HBEE_FUNCTION");
    return o->rem.zFunction[0] ? o->rem.zFunction : z && *z ? z : NULL;
}
static const char *hbee_scratch(const HbeeOpts *o) {
    const char *z = getenv("HBEE_SCRATCH");
    return o->rem.zScratch[0] ? o->rem.zScratch : z && *z ? z : NULL;
}

static int make_executor(const HbeeOpts *o, Executor **ex, BzErr *err) {
    if (!strcmp(o->zExecutor, "redis")) {
        ExecRedisOptions ro;
        memset(&ro, 0, sizeof ro);
        ro.zUrl = o->rem.zRedis[0] ? o->rem.zRedis : getenv("REDIS_URL");
        ro.zQueue = o->rem.zQueue[0] ? o->rem.zQueue : NULL;
        ro.floorMs = o->rem.stragglerMs;
        return exec_redis_create(&ro, ex, err);
    }
    if (!strcmp(o->zExecutor, "lambda")) {
        ExecLambdaOptions lo;
        memset(&lo, 0, sizeof lo);
        lo.zFunction = hbee_function(o);
        lo.zScratch = hbee_scratch(o);
        lo.maxConcurrency = o->rem.maxConcurrency;
        lo.floorMs = o->rem.stragglerMs;
        return exec_lambda_create(&lo, ex, err);
    }
    return exec_local_create_sql(&hbee_sql, o->nWorkers, ex, err);
}

/* "executor: ..." line of hbee_explain (the Redis URL without its password). */
static void explain_executor(BzBuf *b, const HbeeOpts *o) {
    if (!strcmp(o->zExecutor, "redis")) {
        const char *url = o->rem.zRedis[0] ? o->rem.zRedis : getenv("REDIS_URL");
        RqUrl u;
        BzErr e;
        memset(&u, 0, sizeof u);
        int ok = url && rq_url_parse(&u, url, &e) == BZ_OK;
        bz_buf_printf(b, "executor: redis (%s, queue %s)\n", ok ? u.zRedacted : "no URL",
                      o->rem.zQueue[0] ? o->rem.zQueue : "hbee:tasks");
        rq_url_free(&u);
    } else if (!strcmp(o->zExecutor, "lambda")) {
        const char *fn = hbee_function(o), *scratch = hbee_scratch(o);
        bz_buf_printf(b, "executor: lambda (function %s, max_concurrency=%d%s%s)\n",
                      fn ? fn : "buzzlite-hbee",
                      o->rem.maxConcurrency ? o->rem.maxConcurrency : 100,
                      scratch ? ", scratch " : "", scratch ? scratch : "");
    } else {
        bz_buf_printf(b, "executor: %s (workers=%d)\n", o->zExecutor,
                      o->nWorkers ? o->nWorkers : exec_cores());
    }
}

/* Workers the estimate schedules on: local threads, Lambda's concurrency,
** or for redis the `workers` option (default 1: the coordinator cannot know
** how many workers will be listening when the query runs). */
static int estimate_workers(const HbeeOpts *o, int nSplits) {
    if (!strcmp(o->zExecutor, "lambda")) {
        int c = o->rem.maxConcurrency ? o->rem.maxConcurrency : 100;
        return c < nSplits ? c : (nSplits > 0 ? nSplits : 1);
    }
    if (!strcmp(o->zExecutor, "redis")) return o->nWorkers ? o->nWorkers : 1;
    return o->nWorkers ? o->nWorkers : exec_cores();
}

/* "estimate: ..." line of hbee_explain. */
static void explain_estimate(BzBuf *b, const HbeeOpts *o, const PlanSplits *sp) {
    ExecEstimate e;
    if (exec_estimate(&o->price, sp, estimate_workers(o, sp->n), &e)) {
        bz_buf_appendz(b, "estimate: out of memory\n");
        return;
    }
    bz_buf_printf(b,
                  "estimate: %lld tasks on %d workers, ~%.2f s (assuming scan_mb_s=%g MB/s of "
                  "compressed column bytes per worker, +%d ms a task); on Lambda at "
                  "memory_mb=%d: %.3f GB-s, %lld requests, $%.7f (price_gb_s=%.10g, "
                  "price_1m_requests=%.4g)\n",
                  (long long)e.requests, e.nWorkers, (double)e.msWall / 1000.0, o->price.scanMbS,
                  EXEC_EST_TASK_MS, o->price.memoryMb, e.gbS, (long long)e.requests, e.usd,
                  o->price.usdPerGbS, o->price.usdPer1MRequests);
}

/* ---- progress display ------------------------------------------------------------- */

/* Rationale (printing from the extension): library code never prints, but
** this display is the table's user interface, like the sqlite3 shell's own
** progress; it goes to stderr only, only to a terminal unless BZ_PROGRESS=1
** forces it, and leaves nothing behind (the line is erased at the end). */
typedef struct HbeeProgress {
    int64_t delayMs;
    int width; /* characters on screen, 0: nothing shown */
} HbeeProgress;

static void write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(2, p, n);
        if (k <= 0) return;
        p += k;
        n -= (size_t)k;
    }
}

static void progressFn(void *ctx, const ExecProgress *p) {
    HbeeProgress *h = ctx;
    char line[256];
    if (p->bDone || p->msElapsed < h->delayMs) {
        if (p->bDone && h->width > 0) { /* erase: \r, spaces, \r */
            int n = h->width < (int)sizeof line - 2 ? h->width : (int)sizeof line - 2;
            line[0] = '\r';
            memset(line + 1, ' ', (size_t)n);
            line[n + 1] = '\r';
            write_all(line, (size_t)n + 2);
            h->width = 0;
        }
        return;
    }
    line[0] = '\r';
    int n = exec_progress_line(p, line + 1, sizeof line - 1);
    int w = n;
    while (n < h->width && n + 2 < (int)sizeof line) /* cover a longer previous line */
        line[1 + n++] = ' ';
    write_all(line, (size_t)n + 1);
    h->width = w > h->width ? w : h->width;
}

/* NULL when no display is wanted; else fills h. */
static ExecProgressFn progress_wanted(HbeeProgress *h) {
    const char *force = getenv("BZ_PROGRESS");
    const char *delay = getenv("BZ_PROGRESS_DELAY_MS");
    memset(h, 0, sizeof *h);
    if (force && !strcmp(force, "0")) return NULL;
    if (!(force && !strcmp(force, "1")) && !isatty(2)) return NULL;
    h->delayMs = delay && *delay ? strtoll(delay, NULL, 10) : 1000;
    return progressFn;
}

/* ---- the virtual table --------------------------------------------------------- */

typedef struct HbeeTable {
    sqlite3_vtab base;
    sqlite3 *db;
    HbeeConn *conn;
    char *zQuery;
    HbeeOpts opts;
    int nOut;
} HbeeTable;

typedef struct HbeeCursor {
    sqlite3_vtab_cursor base;
    BzBuf result;
    WireReader rd;
    int bOpen;
    WireValue *row;
    int64_t rowid;
    int eof;
} HbeeCursor;

static void table_free(HbeeTable *t) {
    if (!t) return;
    bz_free(t->zQuery);
    sqlite3_free(t);
}

static int hbeeConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
    HbeeConn *conn = pAux;
    HbeeTable *t = sqlite3_malloc(sizeof *t);
    HbeePlan plan;
    BzErr err;
    BzBuf ddl;
    uint8_t seen[14] = {0};
    static const char *const keys[] = {"query",           "executor",     "workers",
                                       "split_bytes",     "redis",        "queue",
                                       "function",        "scratch",      "max_concurrency",
                                       "straggler_ms",    "memory_mb",    "price_gb_s",
                                       "price_1m_requests", "scan_mb_s"};
    bz_err_clear(&err);
    memset(&plan, 0, sizeof plan);
    bz_buf_init(&ddl, 0);
    if (!t) return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->db = db;
    t->conn = conn;
    opts_from_conn(&t->opts, conn);
    for (int i = 3; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq) {
            bz_err(&err, BZ_MISUSE, "expected key=value, got %s", argv[i]);
            goto fail;
        }
        char *k = bz_strndup(argv[i], (size_t)(eq - argv[i]));
        char *v = bz_unquote(eq + 1, strlen(eq + 1));
        if (!k || !v) {
            bz_free(k);
            bz_free(v);
            bz_err(&err, BZ_NOMEM, "out of memory");
            goto fail;
        }
        char *ks = k, *ke = k + strlen(k);
        while (*ks == ' ')
            ks++;
        while (ke > ks && ke[-1] == ' ')
            *--ke = 0;
        size_t ki;
        for (ki = 0; ki < BZ_ARRAY_LEN(keys); ki++)
            if (!sqlite3_stricmp(ks, keys[ki])) break;
        int rc = BZ_OK;
        if (ki < BZ_ARRAY_LEN(keys) && seen[ki])
            rc = bz_err(&err, BZ_MISUSE, "duplicate option %s", ks);
        else if (ki == 0) {
            t->zQuery = v;
            v = NULL;
        } else
            rc = set_option(&t->opts, ks, v, &err);
        if (ki < BZ_ARRAY_LEN(keys)) seen[ki] = 1;
        bz_free(k);
        bz_free(v);
        if (rc) goto fail;
    }
    if (!t->zQuery) {
        bz_err(&err, BZ_MISUSE, "missing query: USING hbee(query='SELECT ...')");
        goto fail;
    }
    if (hbee_plan(db, t->zQuery, &t->opts, 0, &plan, &err)) goto fail;
    bz_buf_appendz(&ddl, "CREATE TABLE x(");
    for (int i = 0; i < plan.q->nOut; i++) {
        bz_buf_appendz(&ddl, i ? ", \"" : "\"");
        for (const char *c = plan.q->azOut[i]; *c; c++) {
            if (*c == '"') bz_buf_appendc(&ddl, '"');
            bz_buf_appendc(&ddl, *c);
        }
        bz_buf_appendc(&ddl, '"');
    }
    bz_buf_appendc(&ddl, ')');
    t->nOut = plan.q->nOut;
    hbee_plan_free(&plan);
    if (ddl.rc) {
        bz_err(&err, BZ_NOMEM, "out of memory");
        goto fail;
    }
    if (sqlite3_declare_vtab(db, ddl.data) != SQLITE_OK) {
        bz_err(&err, BZ_ERROR, "cannot declare the table: %s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    bz_buf_free(&ddl);
    *ppVtab = &t->base;
    return SQLITE_OK;
fail:
    bz_buf_free(&ddl);
    *pzErr = sqlite3_mprintf("hbee: %s", err.msg);
    table_free(t);
    return bz_sqlite_rc(err.code);
}

static int hbeeDisconnect(sqlite3_vtab *pVtab) {
    table_free((HbeeTable *)pVtab);
    return SQLITE_OK;
}

static int hbeeBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *info) {
    (void)pVtab;
    /* Every scan runs the whole query; SQLite applies the constraints. */
    info->estimatedCost = 1e9;
    info->estimatedRows = 1000;
    return SQLITE_OK;
}

static int hbeeOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur) {
    HbeeCursor *c = sqlite3_malloc(sizeof *c);
    (void)pVtab;
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    bz_buf_init(&c->result, 0);
    *ppCur = &c->base;
    return SQLITE_OK;
}

static void cursor_reset(HbeeCursor *c) {
    if (c->bOpen) wire_reader_close(&c->rd);
    c->bOpen = 0;
    bz_buf_free(&c->result);
    bz_buf_init(&c->result, 0);
    bz_free(c->row);
    c->row = NULL;
    c->rowid = 0;
    c->eof = 1;
}

static int hbeeClose(sqlite3_vtab_cursor *cur) {
    HbeeCursor *c = (HbeeCursor *)cur;
    cursor_reset(c);
    bz_buf_free(&c->result);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int cursor_step(HbeeCursor *c, BzErr *err) {
    int rc = wire_reader_next(&c->rd, c->row, err);
    if (rc == BZ_DONE) {
        c->eof = 1;
        return BZ_OK;
    }
    if (rc == BZ_OK) c->rowid++;
    return rc;
}

/* Run the table's query; fills the connection's last stats. */
static int run_query(sqlite3 *db, HbeeConn *conn, const char *zQuery, const HbeeOpts *o, BzBuf *out,
                     BzErr *err) {
    HbeePlan plan;
    Executor *ex = NULL;
    ExecStats st;
    char qid[32];
    int rc;
    memset(&st, 0, sizeof st);
    rc = hbee_plan(db, zQuery, o, 1, &plan, err);
    if (!rc) rc = make_executor(o, &ex, err);
    if (!rc) {
        HbeeProgress prog;
        ExecProgressFn xProg = progress_wanted(&prog);
        snprintf(qid, sizeof qid, "q%llu", (unsigned long long)++conn->nQuery);
        st.price = o->price;
        rc = exec_run_progress(&hbee_sql, ex, plan.q, &plan.sp, &plan.ds, qid, out, &st, xProg,
                               &prog, err);
        exec_stats_clear(&conn->last);
        conn->last = st;
        conn->bHaveLast = 1;
    }
    exec_close(ex);
    hbee_plan_free(&plan);
    return rc;
}

static int hbeeFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
    HbeeCursor *c = (HbeeCursor *)cur;
    HbeeTable *t = (HbeeTable *)cur->pVtab;
    BzErr err;
    int rc;
    (void)idxNum;
    (void)idxStr;
    (void)argc;
    (void)argv;
    bz_err_clear(&err);
    cursor_reset(c);
    rc = run_query(t->db, t->conn, t->zQuery, &t->opts, &c->result, &err);
    if (!rc) rc = wire_reader_open(&c->rd, c->result.data, c->result.n, &err);
    if (!rc) {
        c->bOpen = 1;
        if (c->rd.nCol != t->nOut)
            rc = bz_err(&err, BZ_ERROR, "the query now has %d columns, the table %d (recreate it)",
                        c->rd.nCol, t->nOut);
    }
    if (!rc) {
        c->row = bz_calloc((size_t)t->nOut + 1, sizeof *c->row);
        if (!c->row) rc = bz_err(&err, BZ_NOMEM, "out of memory");
    }
    if (!rc) {
        c->eof = 0;
        rc = cursor_step(c, &err);
    }
    if (rc) {
        bz_err_prefix(&err, "hbee");
        return bz_vtab_error(cur->pVtab, &err);
    }
    return SQLITE_OK;
}

static int hbeeNext(sqlite3_vtab_cursor *cur) {
    HbeeCursor *c = (HbeeCursor *)cur;
    BzErr err;
    bz_err_clear(&err);
    if (cursor_step(c, &err)) return bz_vtab_error(cur->pVtab, &err);
    return SQLITE_OK;
}

static int hbeeEof(sqlite3_vtab_cursor *cur) {
    return ((HbeeCursor *)cur)->eof;
}

static int hbeeColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
    HbeeCursor *c = (HbeeCursor *)cur;
    const WireValue *v;
    if (i < 0 || i >= c->rd.nCol) return SQLITE_OK;
    v = &c->row[i];
    switch (v->type) {
    case WV_INT:
        sqlite3_result_int64(ctx, v->i);
        break;
    case WV_REAL:
        sqlite3_result_double(ctx, v->d);
        break;
    case WV_TEXT:
        sqlite3_result_text64(ctx, v->p, v->n, SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    case WV_BLOB:
        sqlite3_result_blob64(ctx, v->p, v->n, SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_result_null(ctx);
        break;
    }
    return SQLITE_OK;
}

static int hbeeRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid) {
    *pRowid = ((HbeeCursor *)cur)->rowid;
    return SQLITE_OK;
}

static sqlite3_module hbeeModule = {
    0,           /* iVersion */
    hbeeConnect, /* xCreate */
    hbeeConnect, /* xConnect */
    hbeeBestIndex,
    hbeeDisconnect,
    hbeeDisconnect,
    hbeeOpen,
    hbeeClose,
    hbeeFilter,
    hbeeNext,
    hbeeEof,
    hbeeColumn,
    hbeeRowid,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
};

/* ---- functions -------------------------------------------------------------------- */

static void explainFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    HbeeConn *conn = sqlite3_user_data(ctx);
    sqlite3 *db = sqlite3_context_db_handle(ctx);
    const char *zQuery = (const char *)sqlite3_value_text(argv[0]);
    HbeeOpts o;
    HbeePlan plan;
    BzErr err;
    BzBuf b;
    (void)argc;
    bz_err_clear(&err);
    if (!zQuery) return;
    opts_from_conn(&o, conn);
    if (hbee_plan(db, zQuery, &o, 1, &plan, &err)) {
        char *m = sqlite3_mprintf("hbee: %s", err.msg);
        sqlite3_result_error(ctx, m ? m : "hbee: out of memory", -1);
        sqlite3_free(m);
        return;
    }
    bz_buf_init(&b, 0);
    int64_t rows = 0, bytes = 0;
    for (int i = 0; i < plan.sp.n; i++) {
        rows += plan.sp.a[i].nRows;
        bytes += plan.sp.a[i].nBytes;
    }
    explain_executor(&b, &o);
    explain_estimate(&b, &o, &plan.sp);
    bz_buf_printf(&b, "dataset: %s\n", plan.zCreate);
    if (plan.ds.eKind == PLAN_DS_DYNAMODB) {
        bz_buf_printf(&b, "splits: %d (parallel Scan segments of dynamodb table %s)\n", plan.sp.n,
                      plan.sp.n ? plan.sp.a[0].zPath : "?");
        for (int i = 0; i < plan.sp.n && i < 3; i++)
            bz_buf_printf(&b, "  split %d: segment %d of %d\n", i, plan.sp.a[i].iSegment,
                          plan.sp.a[i].nSegments);
        if (plan.sp.n > 3) bz_buf_appendz(&b, "  ...\n");
    } else
    bz_buf_printf(&b,
                  "splits: %d (files: %lld, split_bytes=%lld), rows %lld, "
                  "bytes %lld\n",
                  plan.sp.n, (long long)plan.sp.nFiles, (long long)o.splitBytes, (long long)rows,
                  (long long)bytes);
    for (int i = 0; i < plan.sp.n && plan.ds.eKind == PLAN_DS_PARQUET; i++) {
        const PlanSplit *s = &plan.sp.a[i];
        bz_buf_printf(&b, "  split %d: %s row_groups=", i, s->zPath);
        if (s->nRg == 0)
            bz_buf_appendz(&b, "none");
        else if (s->nRg == 1)
            bz_buf_printf(&b, "%d", s->aRg[0]);
        else
            bz_buf_printf(&b, "%d-%d", s->aRg[0], s->aRg[s->nRg - 1]);
        bz_buf_printf(&b, " rows=%lld bytes=%lld\n", (long long)s->nRows, (long long)s->nBytes);
    }
    bz_buf_appendz(&b, "columns:");
    for (int i = 0; i < plan.q->nNeed; i++)
        bz_buf_printf(&b, " %s", plan.q->azNeed[i]);
    bz_buf_printf(&b, "\npartial (each split, table split%s):\n  %s\n",
                  plan.q->nTopN >= 0 ? ", top-N" : "", plan.q->zPartial);
    bz_buf_printf(&b, "combine (table partials):\n  %s\n  %s\n", plan.q->zPartialsDdl,
                  plan.q->zCombine);
    hbee_plan_free(&plan);
    if (b.rc) {
        bz_buf_free(&b);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_text64(ctx, b.data, b.n, SQLITE_TRANSIENT, SQLITE_UTF8);
    bz_buf_free(&b);
}

static void configFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    HbeeConn *conn = sqlite3_user_data(ctx);
    const char *k = (const char *)sqlite3_value_text(argv[0]);
    BzErr err;
    bz_err_clear(&err);
    if (!k) return;
    if (argc == 2) {
        HbeeOpts o;
        const char *v = (const char *)sqlite3_value_text(argv[1]);
        opts_from_conn(&o, conn);
        if (!v || set_option(&o, k, v, &err)) {
            char *m = sqlite3_mprintf("hbee_config: %s", v ? err.msg : "value is NULL");
            sqlite3_result_error(ctx, m ? m : "out of memory", -1);
            sqlite3_free(m);
            return;
        }
        snprintf(conn->zExecutor, sizeof conn->zExecutor, "%s", o.zExecutor);
        conn->nWorkers = o.nWorkers;
        conn->splitBytes = o.splitBytes;
        conn->rem = o.rem;
        conn->price = o.price;
    }
    if (!sqlite3_stricmp(k, "executor"))
        sqlite3_result_text(ctx, conn->zExecutor, -1, SQLITE_TRANSIENT);
    else if (!sqlite3_stricmp(k, "workers"))
        sqlite3_result_int(ctx, conn->nWorkers);
    else if (!sqlite3_stricmp(k, "split_bytes"))
        sqlite3_result_int64(ctx, conn->splitBytes);
    else if (!sqlite3_stricmp(k, "redis")) {
        RqUrl u;
        BzErr e;
        memset(&u, 0, sizeof u);
        if (conn->rem.zRedis[0] && rq_url_parse(&u, conn->rem.zRedis, &e) == BZ_OK)
            sqlite3_result_text(ctx, u.zRedacted, -1, SQLITE_TRANSIENT);
        rq_url_free(&u);
    } else if (!sqlite3_stricmp(k, "queue"))
        sqlite3_result_text(ctx, conn->rem.zQueue, -1, SQLITE_TRANSIENT);
    else if (!sqlite3_stricmp(k, "function"))
        sqlite3_result_text(ctx, conn->rem.zFunction, -1, SQLITE_TRANSIENT);
    else if (!sqlite3_stricmp(k, "scratch"))
        sqlite3_result_text(ctx, conn->rem.zScratch, -1, SQLITE_TRANSIENT);
    else if (!sqlite3_stricmp(k, "max_concurrency"))
        sqlite3_result_int(ctx, conn->rem.maxConcurrency ? conn->rem.maxConcurrency : 100);
    else if (!sqlite3_stricmp(k, "straggler_ms"))
        sqlite3_result_int(ctx, conn->rem.stragglerMs ? conn->rem.stragglerMs : EXEC_STRAGGLER_FLOOR_MS);
    else if (!sqlite3_stricmp(k, "memory_mb"))
        sqlite3_result_int(ctx, conn->price.memoryMb);
    else if (!sqlite3_stricmp(k, "price_gb_s"))
        sqlite3_result_double(ctx, conn->price.usdPerGbS);
    else if (!sqlite3_stricmp(k, "price_1m_requests"))
        sqlite3_result_double(ctx, conn->price.usdPer1MRequests);
    else if (!sqlite3_stricmp(k, "scan_mb_s"))
        sqlite3_result_double(ctx, conn->price.scanMbS);
    else
        sqlite3_result_error(ctx,
                             "hbee_config: unknown key (executor, workers, split_bytes, redis, "
                             "queue, function, scratch, max_concurrency, straggler_ms, "
                             "memory_mb, price_gb_s, price_1m_requests, scan_mb_s)",
                             -1);
}

static void statsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    HbeeConn *conn = sqlite3_user_data(ctx);
    BzBuf b;
    (void)argc;
    (void)argv;
    if (!conn->bHaveLast) return; /* NULL before the first run */
    bz_buf_init(&b, 0);
    exec_stats_json(&conn->last, &b);
    if (b.rc)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_text64(ctx, b.data, b.n, SQLITE_TRANSIENT, SQLITE_UTF8);
    bz_buf_free(&b);
}

static void conn_destroy(void *p) {
    HbeeConn *c = p;
    if (!c) return;
    exec_stats_clear(&c->last);
    bz_free(c);
}

const ExecSql *bz_hbee_sql(void) {
    return &hbee_sql;
}

int bz_hbee_is_option(const char *zKey) {
    static const char *const keys[] = {"executor",  "workers",           "split_bytes",
                                       "redis",     "queue",             "function",
                                       "scratch",   "max_concurrency",   "straggler_ms",
                                       "memory_mb", "price_gb_s",        "price_1m_requests",
                                       "scan_mb_s"};
    for (size_t i = 0; i < BZ_ARRAY_LEN(keys); i++)
        if (!sqlite3_stricmp(zKey, keys[i])) return 1;
    return 0;
}

/* Rationale (tasks in flight): each result in flight is held by the
** coordinator until its turn, so the window bounds memory: twice the
** threads locally (one running, one waiting per thread), twice the
** `workers` (default 4) for redis, and max_concurrency (default 16 for a
** scan, not hbee's 100) for Lambda. */
int bz_hbee_scan_executor(BzHbee *h, int n, char *const *azKey, char *const *azVal, BzHbeeRun *run,
                          BzErr *err) {
    HbeeOpts o;
    int rc;
    opts_from_conn(&o, h);
    for (int i = 0; i < n; i++)
        if ((rc = set_option(&o, azKey[i], azVal[i], err))) {
            size_t k = strlen(azKey[i]);
            if (!sqlite3_strnicmp(err->msg, azKey[i], (int)k) && err->msg[k] == ':' &&
                err->msg[k + 1] == ' ') /* "workers: expected ..." -> "option workers: ..." */
                memmove(err->msg, err->msg + k + 2, strlen(err->msg + k + 2) + 1);
            return bz_err_prefix(err, "option %s", azKey[i]);
        }
    if (!run) return BZ_OK;
    memset(run, 0, sizeof *run);
    run->splitBytes = o.splitBytes;
    run->price = o.price;
    if (!strcmp(o.zExecutor, "lambda"))
        run->nInflight = o.rem.maxConcurrency ? o.rem.maxConcurrency : 16;
    else if (!strcmp(o.zExecutor, "redis"))
        run->nInflight = 2 * (o.nWorkers ? o.nWorkers : 4);
    else
        run->nInflight = 2 * (o.nWorkers ? o.nWorkers : exec_cores());
    if (!strcmp(o.zExecutor, "lambda") && !o.rem.maxConcurrency) o.rem.maxConcurrency = 16;
    run->nDdbSegments = ddb_default_segments(&o);
    return make_executor(&o, &run->ex, err);
}

void bz_hbee_set_last(BzHbee *h, ExecStats *st) {
    exec_stats_clear(&h->last);
    h->last = *st;
    h->bHaveLast = 1;
    memset(st, 0, sizeof *st);
}

int bz_register_hbee(sqlite3 *db, BzHbee **out) {
    HbeeConn *c;
    int rc;
    *out = NULL;
    if (!hbee_sql.open_v2) fill_exec_sql(&hbee_sql);
    c = bz_calloc(1, sizeof *c);
    if (!c) return SQLITE_NOMEM;
    snprintf(c->zExecutor, sizeof c->zExecutor, "local");
    c->splitBytes = HBEE_DEFAULT_SPLIT_BYTES;
    exec_price_default(&c->price);
    /* the module owns c and frees it when the connection closes */
    rc = sqlite3_create_module_v2(db, "hbee", &hbeeModule, c, conn_destroy);
    if (rc != SQLITE_OK) return rc;
    *out = c;
    rc = sqlite3_create_function(db, "hbee_explain", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, c,
                                 explainFunc, 0, 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "hbee_config", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, c,
                                     configFunc, 0, 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "hbee_config", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, c,
                                     configFunc, 0, 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "hbee_last_stats", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, c,
                                     statsFunc, 0, 0);
    return rc;
}
