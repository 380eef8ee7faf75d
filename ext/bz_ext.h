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

/* Translate a buzzlite status into an SQLite result code. */
int bz_sqlite_rc(int bz_status);

/* Set pVtab->zErrMsg (freeing the old one) from a BzErr. Returns the SQLite
** code for err->code. */
int bz_vtab_error(sqlite3_vtab *pVtab, const BzErr *err);

/* ---- vtab_parquet.c ---- */
int bz_register_parquet(sqlite3 *db);

/* ---- vtab_redis.c ---- */
int bz_register_redis(sqlite3 *db);

/* ---- vtab_dynamodb.c ---- */
int bz_register_dynamodb(sqlite3 *db);

/* ---- fn_s3.c ---- */
int bz_register_s3(sqlite3 *db);

/* ---- vtab_hbee.c ---- */
/* The hbee table and hbee_explain/hbee_config/hbee_last_stats. */
int bz_register_hbee(sqlite3 *db);

#endif
