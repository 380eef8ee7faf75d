/*
** bz_ext.h: internal header shared by the ext/ files, the only code that
** talks to SQLite's extension API. One section per ext/ source file.
*/
#ifndef BZ_EXT_H
#define BZ_EXT_H

#include <sqlite3ext.h>
#ifndef BZ_EXT_MAIN
SQLITE_EXTENSION_INIT3
#endif

#include "common/bz_common.h"
#include "wire/wire.h"

/* Translate a buzzlite status into an SQLite result code. */
int bz_sqlite_rc(int bz_status);

/* Set pVtab->zErrMsg (freeing the old one) from a BzErr. Returns the SQLite
** code for err->code. */
int bz_vtab_error(sqlite3_vtab *pVtab, const BzErr *err);

/* Append z as a quoted SQL identifier. */
void bz_sql_ident(BzBuf *b, const char *z);
/* Append v as an SQL literal that SQLite (db: the same library the workers
** run) reads back as exactly v; 0 when it cannot (a NaN, a REAL whose text
** SQLite would parse back differently, text with a NUL): nothing useful is
** appended then and the caller rewinds b. */
int bz_sql_literal(sqlite3 *db, BzBuf *b, const WireValue *v);

/* ---- vtab_hbee.c: what other tables use of hbee ---- */
#include "exec/exec.h"

/* A connection's hbee state: hbee_config defaults and the last run's stats.
** Owned by the hbee module, freed when the connection closes. */
typedef struct HbeeConn BzHbee;

/* The hbee table and hbee_explain/hbee_config/hbee_last_stats; *out is the
** connection's state, for the tables that offload scans. */
int bz_register_hbee(sqlite3 *db, BzHbee **out);
/* How src/exec reaches SQLite from the extension (never NULL once
** bz_register_hbee ran). */
const ExecSql *bz_hbee_sql(void);
/* 1 if zKey is an executor option of hbee (executor, workers, split_bytes,
** redis, queue, function, scratch, max_concurrency, straggler_ms,
** memory_mb, price_*, scan_mb_s). */
int bz_hbee_is_option(const char *zKey);

/* An executor for a scan offload, from the connection's hbee_config
** defaults overridden by the n options azKey/azVal. */
typedef struct BzHbeeRun {
    Executor *ex;      /* caller closes with exec_close */
    int nInflight;     /* tasks in flight at most */
    int64_t splitBytes;
    int nDdbSegments;  /* TotalSegments of a dynamodb scan without segments= */
    ExecPrice price;
} BzHbeeRun;
/* With run NULL only check the options (errors name the option). */
int bz_hbee_scan_executor(BzHbee *h, int n, char *const *azKey, char *const *azVal, BzHbeeRun *run,
                          BzErr *err);
/* Make st the connection's hbee_last_stats (st's arrays taken over, st
** zeroed). */
void bz_hbee_set_last(BzHbee *h, ExecStats *st);

/* ---- vtab_parquet.c ---- */
/* h: the connection's hbee state (for executor=). */
int bz_register_parquet(sqlite3 *db, BzHbee *h);

/* ---- vtab_redis.c ---- */
int bz_register_redis(sqlite3 *db);

/* ---- vtab_dynamodb.c ---- */
/* h: the connection's hbee state (for executor=). */
int bz_register_dynamodb(sqlite3 *db, BzHbee *h);

/* ---- fn_s3.c ---- */
int bz_register_s3(sqlite3 *db);

#endif
