/*
** vtab_parquet.c: the `parquet` virtual table (work in progress).
*/
#include "bz_ext.h"

int bz_register_parquet(sqlite3 *db) {
    (void)db;
    return SQLITE_OK;
}
