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

typedef struct Executor Executor;
struct Executor {
    const char *zName; /* "local", ... */
    int nWorkers;
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
} ExecStats;

/* Run q over the splits on ex: encode one task per split (query id zQid),
** submit all, load each result into `partials` on a private in-memory
** connection, run the combine query, and append the final rows as one
** encoded result (uncompressed values in wire format) to out. Stats are
** filled even on failure. The first failing task's message is returned,
** prefixed with its file. */
int exec_run(const ExecSql *sql, Executor *ex, const PlanQuery *q, const PlanSplits *sp,
             const PlanDataset *d, const char *zQid, BzBuf *out, ExecStats *st, BzErr *err);
void exec_stats_clear(ExecStats *st);
/* Append the stats as JSON: tasks, rows and bytes scanned, bytes shipped,
** per-task time percentiles (p50, p90, p99, max). */
void exec_stats_json(const ExecStats *st, BzBuf *b);

#endif /* EXEC_H */
