/*
** fn_s3.c: s3_list, s3_get, s3_put (work in progress).
*/
#include "bz_ext.h"

int bz_register_s3(sqlite3 *db) {
    (void)db;
    return SQLITE_OK;
}
