/*
** exec.h: running a planned query on hbees. One code path for every
** executor: tasks are encoded (wire_task_encode), handed to an Executor as
** bytes, run by exec_task_run on a worker's own SQLite connection, and come
** back as encoded results that exec_run decodes, loads into the combine
** connection's `partials` table and combines.
**
** How src/exec reaches SQLite (ExecSql). This module runs SQLite itself but
** is linked into two different programs: the loadable extension, where the
** sqlite3_* symbols do not exist and every call must go through the
** sqlite3_api_routines table SQLite hands to the extension, and the `hbee`
** worker binary, which links libsqlite3. So src/exec never calls sqlite3_*
** directly: it calls through an ExecSql table of the few entry points it
** needs, filled by ext/vtab_hbee.c from the extension routines and by
** lambda/hbee.c from the linked library. <sqlite3.h> is included for the
** types and constants only.
**
** Usage:
**     Executor *ex;
**     exec_local_create_sql(sql, 4, &ex, &err);            // 4 threads
**     exec_run(sql, ex, &q, &splits, &dataset, "q1", &result, &stats, &err);
**     ex->close(ex);
**     WireReader r; wire_reader_open(&r, result.data, result.n, &err); ... rows ...
*/
#ifndef EXEC_H
#define EXEC_H

#include <sqlite3.h>

#include "common/bz_common.h"
#include "plan/plan.h"
#include "wire/wire.h"

/* The SQLite entry points src/exec uses (same signatures as sqlite3_*). */
typedef struct ExecSql {
    int (*open_v2)(const char *zName, sqlite3 **pDb, int flags, const char *zVfs);
    int (*close)(sqlite3 *db);
    int (*exec)(sqlite3 *db, const char *zSql, int (*cb)(void *, int, char **, char **), void *arg,
                char **pzErr);
    int (*prepare_v2)(sqlite3 *db, const char *zSql, int nByte, sqlite3_stmt **ppStmt,
                      const char **pzTail);
    int (*step)(sqlite3_stmt *pStmt);
    int (*reset)(sqlite3_stmt *pStmt);
    int (*finalize)(sqlite3_stmt *pStmt);
    int (*column_count)(sqlite3_stmt *pStmt);
    int (*column_type)(sqlite3_stmt *pStmt, int i);
    sqlite3_int64 (*column_int64)(sqlite3_stmt *pStmt, int i);
    double (*column_double)(sqlite3_stmt *pStmt, int i);
    const unsigned char *(*column_text)(sqlite3_stmt *pStmt, int i);
    const void *(*column_blob)(sqlite3_stmt *pStmt, int i);
    int (*column_bytes)(sqlite3_stmt *pStmt, int i);
    const char *(*column_name)(sqlite3_stmt *pStmt, int i);
    int (*bind_int64)(sqlite3_stmt *pStmt, int i, sqlite3_int64 v);
    int (*bind_double)(sqlite3_stmt *pStmt, int i, double v);
    int (*bind_text)(sqlite3_stmt *pStmt, int i, const char *z, int n, void (*del)(void *));
    int (*bind_blob)(sqlite3_stmt *pStmt, int i, const void *p, int n, void (*del)(void *));
    int (*bind_null)(sqlite3_stmt *pStmt, int i);
    const char *(*errmsg)(sqlite3 *db);
    int (*set_authorizer)(sqlite3 *db,
                          int (*x)(void *, int, const char *, const char *, const char *,
                                   const char *),
                          void *arg);
    void (*free)(void *p);
    /* Register buzzlite (the parquet table) on a new connection: the
    ** extension calls sqlite3_buzzlite_init with its routines, the hbee
    ** binary with NULL. Returns an SQLite code; *pzErr freed with free. */
    int (*init_db)(sqlite3 *db, char **pzErr);
} ExecSql;

/* ---- exec_task.c: one task on one connection ------------------------------ */

typedef struct ExecConn ExecConn;

/* Open a worker connection: in-memory, buzzlite registered, and an
** authorizer that allows only creating, reading and dropping the temp table
** `split` (module parquet) and calling allowlisted deterministic functions:
** no ATTACH, no PRAGMA, no load_extension, no other table, no writes.
** Caller closes with exec_conn_close. */
int exec_conn_open(const ExecSql *sql, ExecConn **out, BzErr *err);
void exec_conn_close(ExecConn *c);

/* Run one encoded task (JSON) and append its encoded result to out. Task
** failures (bad JSON, SQL errors, missing files) become error results, so
** the return is BZ_OK unless out itself cannot grow (BZ_NOMEM/BZ_LIMIT). */
int exec_task_run(ExecConn *c, const char *task, size_t n, BzBuf *out, BzErr *err);

/* ---- exec_local.c: the executor interface and the local executor ----------- */

/* What an executor did beyond running each task once (remote executors). */
typedef struct ExecCounters {
    int64_t retries;     /* tasks issued again after a failure or a lost worker */
    int64_t speculative; /* duplicates started for stragglers */
    int64_t duplicates;  /* results dropped because their task had one already */
    int64_t throttled;   /* invocations refused for concurrency (429), as seen */
    int64_t billedMs;    /* worker ms of dropped duplicates (billed all the same) */
} ExecCounters;

typedef struct Executor Executor;
struct Executor {
    const char *zName; /* "local", "redis", "lambda" */
    int nWorkers;
    ExecCounters counters; /* updated by the executor, read by exec_run */
    /* Queue one encoded task (bytes copied). */
    int (*submit)(Executor *ex, const char *task, size_t n, BzErr *err);
    /* Wait for the next finished task: *out is its encoded result, bz_malloc'd
    ** and freed by the caller. BZ_DONE when no task is pending. */
    int (*collect)(Executor *ex, uint8_t **out, size_t *n, BzErr *err);
    /* Stop the workers (running tasks finish) and free; NULL is a no-op
    ** through exec_close. */
    void (*close)(Executor *ex);
};
void exec_close(Executor *ex);

/* How a local worker thread runs tasks: per-thread state (e.g. a
** connection) and the run function. exec_local_create_sql supplies one built
** on exec_conn_open/exec_task_run; tests supply their own. */
typedef struct ExecRunner {
    void *(*thread_init)(void *ctx); /* NULL state is allowed */
    int (*run)(void *ctx, void *state, const char *task, size_t n, BzBuf *out, BzErr *err);
    void (*thread_done)(void *ctx, void *state);
    void *ctx;
} ExecRunner;

/* A pool of nThreads threads (0 = number of cores) running tasks with r. */
int exec_local_create(int nThreads, const ExecRunner *r, Executor **out, BzErr *err);
int exec_local_create_sql(const ExecSql *sql, int nThreads, Executor **out, BzErr *err);
/* Number of online CPU cores (at least 1). */
int exec_cores(void);

/* ---- exec_cost.c: Lambda cost, estimates, the progress line ------------------------- */

#define EXEC_LAMBDA_MEMORY_MB 1769           /* memory_mb default: one full vCPU */
#define EXEC_USD_PER_GB_S 0.0000166667       /* x86_64, us-east-1 */
#define EXEC_USD_PER_1M_REQUESTS 0.20        /* x86_64, us-east-1 */
#define EXEC_EST_MB_S 25.0                   /* scan_mb_s default (see exec_cost.c) */
#define EXEC_EST_TASK_MS 10                  /* per-task overhead of the estimate */
#define EXEC_PROGRESS_BAR 24                 /* characters of the progress bar */

typedef struct ExecPrice {
    int memoryMb;            /* configured function memory */
    double usdPerGbS;        /* price of one GB-second */
    double usdPer1MRequests; /* price of a million requests */
    double scanMbS;          /* estimate: compressed column MB/s one worker scans */
} ExecPrice;

void exec_price_default(ExecPrice *p);
/* A task's billed milliseconds from its measured whole ms (at least 1). */
int64_t exec_billed_ms(int64_t ms);
/* GB-seconds of billedMs at p->memoryMb. */
double exec_gb_s(const ExecPrice *p, int64_t billedMs);
/* Dollars for billedMs of duration and `requests` invocations. */
double exec_cost_usd(const ExecPrice *p, int64_t billedMs, int64_t requests);

typedef struct ExecEstimate {
    int nWorkers;
    int64_t msWall;   /* splits scheduled longest first on nWorkers */
    int64_t billedMs; /* sum of the splits' estimated times */
    int64_t requests; /* one per split */
    double gbS, usd;
} ExecEstimate;

/* Estimate time and Lambda cost of running the splits on nWorkers workers
** (see exec_cost.c for the model). BZ_OK or BZ_NOMEM. */
int exec_estimate(const ExecPrice *p, const PlanSplits *sp, int nWorkers, ExecEstimate *e);

/* Where a running query is, for a progress display. */
typedef struct ExecProgress {
    int64_t splitsDone, splitsTotal;
    int64_t bytesDone, bytesTotal; /* compressed column bytes of finished / all splits */
    int64_t msElapsed;
    int bDone; /* last call: the query has ended (erase the display) */
} ExecProgress;

/* Format one progress line (no newline, no \r) into buf; returns its length. */
int exec_progress_line(const ExecProgress *p, char *buf, size_t n);

/* ---- exec_run.c: one query end to end ------------------------------------------ */

#define EXEC_MAX_TASK_MS 4096 /* per-task times kept for percentiles */

typedef struct ExecStats {
    int64_t tasks, splits, files;
    int64_t rowsScanned, bytesScanned; /* as reported by the workers */
    int64_t rowsShipped, bytesShipped; /* partial rows and encoded result bytes */
    int64_t rowsOut;
    int64_t msWall, msCombine;
    int64_t *aTaskMs; /* owned; nTaskMs entries */
    int nTaskMs;
    char zExecutor[16];
    int nWorkers;
    ExecCounters counters; /* retries, speculative duplicates, dropped duplicates */
    int64_t billedMs;      /* sum of exec_billed_ms(task ms) + counters.billedMs */
    int64_t requests;      /* invocations: tasks + retries + speculative duplicates */
    ExecPrice price;       /* set by the caller for exec_stats_json (0: defaults) */
} ExecStats;

/* Run q over the splits on ex: encode one task per split (query id zQid),
** submit all, load each result into `partials` on a private in-memory
** connection, run the combine query, and append the final rows as one
** encoded result (uncompressed values in wire format) to out. Stats are
** filled even on failure. The first failing task's message is returned,
** prefixed with its file. */
int exec_run(const ExecSql *sql, Executor *ex, const PlanQuery *q, const PlanSplits *sp,
             const PlanDataset *d, const char *zQid, BzBuf *out, ExecStats *st, BzErr *err);
/* exec_run with a progress hook: xProgress(ctx, p) is called from a helper
** thread at once and then every EXEC_PROGRESS_TICK_MS while the tasks run, and once more from
** the caller's thread with p->bDone set when they have all ended (or failed).
** xProgress NULL: exactly exec_run. */
#define EXEC_PROGRESS_TICK_MS 100
typedef void (*ExecProgressFn)(void *ctx, const ExecProgress *p);
int exec_run_progress(const ExecSql *sql, Executor *ex, const PlanQuery *q, const PlanSplits *sp,
                      const PlanDataset *d, const char *zQid, BzBuf *out, ExecStats *st,
                      ExecProgressFn xProgress, void *ctx, BzErr *err);
void exec_stats_clear(ExecStats *st);
/* Append the stats as JSON: tasks, rows and bytes scanned, bytes shipped,
** per-task time percentiles (p50, p90, p99, max), and what the run costs on
** Lambda at st->price (memory_mb, billed_ms, requests, gb_s, cost_usd). */
void exec_stats_json(const ExecStats *st, BzBuf *b);

/* ---- exec_scan.c: scan offload (no aggregate, no combine) ------------------------ */

typedef struct ExecScan ExecScan;

/* Append the encoded task of split i (its task_id must be idBase + i) to out. */
typedef int (*ExecScanTaskFn)(void *ctx, int i, BzBuf *out, BzErr *err);

/* Start a scan of nTask splits on ex (borrowed: the caller closes it after
** exec_scan_close), at most nInflight tasks submitted and not yet handed
** out. Task ids are idBase + split, so one executor can serve several
** scans in turn (results of an earlier scan's tasks are dropped). Nothing
** is submitted before the first exec_scan_next. Caller frees with
** exec_scan_close. */
int exec_scan_open(Executor *ex, int64_t idBase, int nTask, int nInflight, ExecScanTaskFn xTask,
                   void *ctx, ExecScan **out, BzErr *err);
/* The next split's result, in split order: *out points to a reader owned by
** the scan, valid until the next call (rows through wire_reader_next), and
** *piTask is its split. BZ_DONE after the last split. A task that failed
** returns its error (status and message) when its turn comes. */
int exec_scan_next(ExecScan *s, WireReader **out, int *piTask, BzErr *err);
/* The next row, in split order, into row[0..nCol) (values point into the
** scan's current result, valid until the next call): BZ_OK, BZ_DONE after the
** last, or an error (a failed task's own when its turn comes; BZ_CORRUPT for
** a result whose column count is not nCol). *piTask is the split of the row
** or of the error, -1 when none is known. Callers use either this or
** exec_scan_next. */
int exec_scan_row(ExecScan *s, WireValue *row, int nCol, int *piTask, BzErr *err);
/* 1 when no task is in flight (every submitted result was handed out). */
int exec_scan_idle(const ExecScan *s);
/* The running stats (the caller counts rowsOut). */
ExecStats *exec_scan_stats(ExecScan *s);
/* Free the scan and the results it holds (tasks still running are left to
** the executor, which the caller closes next). With st, hand the stats over
** (st's old arrays freed; st->price kept); NULL: drop them. */
void exec_scan_close(ExecScan *s, ExecStats *st);

/* ---- exec_s3.c: S3 datasets for the planner ------------------------------------- */

#include "aws/s3/aws_s3.h"

typedef struct ExecS3Fs {
    AwsS3Options opt; /* strings borrowed from the dataset */
} ExecS3Fs;

/* Fill fs with S3 listing and reading for plan_splits_list, using the
** dataset's endpoint/region/anonymous options (s must outlive the call). */
void exec_plan_fs_s3(ExecS3Fs *s, const PlanDataset *d, PlanFs *fs);

/* ---- exec_remote.c: what the remote executors share ------------------------- */

/* Straggler policy: a running task is late after max(floor, K x the median
** time of the tasks finished so far), or after first_ms while none has
** finished. */
#define EXEC_STRAGGLER_K 4
#define EXEC_STRAGGLER_FLOOR_MS 1000
#define EXEC_MAX_ISSUES 4 /* times a task is issued at most (first run included) */

typedef struct ExecRTask {
    int64_t id;     /* task_id from the task JSON */
    char *zTask;    /* the task (owned, NUL-terminated) */
    size_t nTask;
    uint64_t tIssue; /* last issue (ms, bz_now_ms) */
    uint64_t tStart; /* last start reported by a worker, 0 if none yet */
    int nIssued;     /* times issued */
    int nRunning;    /* copies in flight (lambda) */
    int bDone;
} ExecRTask;

typedef struct ExecRTasks {
    ExecRTask *a;
    int n, nAlloc;
    int nDone;
    int64_t *aMs; /* worker times of finished tasks */
    int nMs, nMsAlloc;
    int64_t floorMs, firstMs;
} ExecRTasks;

/* Add a task (bytes copied; its task_id read from the JSON). Returns its
** index or -1 with *err set. */
int exec_rtasks_add(ExecRTasks *t, const char *task, size_t n, BzErr *err);
/* Index of task id, -1 if unknown. */
int exec_rtasks_find(const ExecRTasks *t, int64_t id);
/* Record a finished task's worker time. */
void exec_rtasks_done(ExecRTasks *t, int i, int64_t ms);
/* Milliseconds after which a running task is a straggler. */
int64_t exec_rtasks_late_ms(const ExecRTasks *t);
void exec_rtasks_free(ExecRTasks *t);
/* task_id and status of an encoded result, reading its header only. */
int exec_result_peek(const uint8_t *p, size_t n, int64_t *taskId, int *status);

/* ---- exec_redis.c: the `redis` executor and its worker ------------------------- */

/* Protocol (one stream per deployment, one reply list per query):
**   coordinator  XGROUP CREATE <queue> hbee 0 MKSTREAM
**                XADD <queue> * id <task_id> task <json> reply <list> deadline <epoch ms>
**   worker       XREADGROUP GROUP hbee <consumer> COUNT 1 BLOCK 1000 STREAMS <queue> >
**                (or XAUTOCLAIM <queue> hbee <consumer> <idle ms> 0-0 COUNT 1: the
**                pending entries of a dead worker)
**                RPUSH <list> "S<task_id>"               (started)
**                exec_task_run
**                RPUSH <list> <HBR1 result>; EXPIRE <list> <ttl>; XACK; XDEL
**   coordinator  BLPOP <list>: start notices and results; a started task
**                with no result after exec_rtasks_late_ms is added again;
**                results of a task already done are dropped; DEL <list>.
** Entries past their deadline are acknowledged and skipped by workers. */
typedef struct ExecRedisOptions {
    const char *zUrl;   /* redis://... (required) */
    const char *zQueue; /* stream key; NULL: "hbee:tasks" */
    int ttlS;           /* reply list TTL; 0: 600 */
    int timeoutMs;      /* fail when nothing at all is heard for this long; 0: 60000 */
    int floorMs;        /* straggler floor; 0: EXEC_STRAGGLER_FLOOR_MS */
} ExecRedisOptions;

int exec_redis_create(const ExecRedisOptions *o, Executor **out, BzErr *err);

typedef struct ExecWorkerOptions {
    const char *zUrl;
    const char *zQueue;      /* NULL: "hbee:tasks" */
    const char *zConsumer;   /* NULL: host-pid */
    int claimIdleMs;         /* XAUTOCLAIM entries idle this long; 0: 5000 */
    int64_t maxTasks;        /* stop after this many (0: never) */
    int testDelayMs;         /* tests: sleep this long after taking each task */
    volatile int *pbStop;    /* set to stop (checked between tasks, each second) */
    /* log hook (lambda/ prints; library code never does); may be NULL */
    void (*xLog)(void *ctx, const char *zMsg);
    void *logCtx;
} ExecWorkerOptions;

/* Run tasks from the queue until *pbStop or maxTasks. Returns BZ_OK or the
** connection error that ended the loop. */
int exec_redis_work(const ExecSql *sql, const ExecWorkerOptions *o, BzErr *err);

/* ---- exec_lambda.c: the `lambda` executor ---------------------------------------- */

/* Invoke (RequestResponse) per task. Payload: the task JSON, with a
** top-level "scratch" member when a scratch prefix is set (ignored by the
** task decoder). Response: {"result": "<HBR1 base64>"} or, for a result
** over the response limit, {"s3": "s3://bucket/key"} (the coordinator gets
** then deletes that object). A function error (body with errorType /
** errorMessage) is retried; so are 429 and 5xx (by aws_client_run). */
typedef struct ExecLambdaOptions {
    const char *zFunction; /* NULL: "buzzlite-hbee" */
    const char *zScratch;  /* s3://bucket/prefix or NULL */
    int maxConcurrency;    /* 0: 100 */
    int floorMs;           /* straggler floor; 0: EXEC_STRAGGLER_FLOOR_MS */
    int timeoutMs;         /* per invocation; 0: 900000 (the Lambda maximum) */
} ExecLambdaOptions;

int exec_lambda_create(const ExecLambdaOptions *o, Executor **out, BzErr *err);

/* Response body of a Lambda worker for an encoded result: appends
** {"result": "<base64>"} to out. */
void exec_lambda_response(const uint8_t *res, size_t n, BzBuf *out);

#endif /* EXEC_H */
