/*
** buzzlite.c: the extension's entry point. Registers every virtual table and
** function group, each implemented in its own ext/ file.
**
**     sqlite3 -cmd '.load ./build/buzzlite'
*/
#define BZ_EXT_MAIN
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#include "bz_ext.h"
#include "buzzlite.h"

#include <string.h>

/* Route buzzlite's allocator through SQLite so its accounting sees us. */
static void *bzSqlMalloc(size_t n) { return sqlite3_malloc64(n); }
static void *bzSqlRealloc(void *p, size_t n) { return sqlite3_realloc64(p, n); }
static void bzSqlFree(void *p) { sqlite3_free(p); }

int bz_sqlite_rc(int s) {
    switch (s) {
    case BZ_OK: return SQLITE_OK;
    case BZ_NOMEM: return SQLITE_NOMEM;
    case BZ_CORRUPT: return SQLITE_ERROR; /* corrupt *input*, not the database */
    case BZ_CONSTRAINT: return SQLITE_CONSTRAINT;
    case BZ_AUTH: return SQLITE_AUTH;
    case BZ_IO: return SQLITE_ERROR;
    default: return SQLITE_ERROR;
    }
}

int bz_vtab_error(sqlite3_vtab *pVtab, const BzErr *err) {
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = sqlite3_mprintf("%s", err->msg[0] ? err->msg : bz_status_name(err->code));
    return bz_sqlite_rc(err->code);
}

static void bzVersionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, BUZZLITE_VERSION, -1, SQLITE_STATIC);
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
int sqlite3_buzzlite_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
    static const BzAllocator alloc = {bzSqlMalloc, bzSqlRealloc, bzSqlFree};
    static int allocator_set = 0;
    int rc;
    SQLITE_EXTENSION_INIT2(pApi);
    if (!allocator_set) {
        bz_set_allocator(&alloc);
        allocator_set = 1;
    }
    rc = sqlite3_create_function(db, "buzzlite_version", 0,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, 0,
                                 bzVersionFunc, 0, 0);
    BzHbee *hbee = NULL;
    if (rc == SQLITE_OK) rc = bz_register_hbee(db, &hbee);
    if (rc == SQLITE_OK) rc = bz_register_parquet(db, hbee);
    if (rc == SQLITE_OK) rc = bz_register_redis(db);
    if (rc == SQLITE_OK) rc = bz_register_s3(db);
    if (rc == SQLITE_OK) rc = bz_register_dynamodb(db);
    if (rc != SQLITE_OK && pzErrMsg) *pzErrMsg = sqlite3_mprintf("buzzlite: init failed (%d)", rc);
    return rc;
}
