/*
** vtab_redis.c: the `redis_list` and `redis_stream` virtual tables and the
** `redis_command` function (work in progress).
*/
#include "bz_ext.h"

int bz_register_redis(sqlite3 *db) {
    (void)db;
    return SQLITE_OK;
}
