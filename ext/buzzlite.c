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

#include <stdio.h>
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

/* ---- SQL text for hbee tasks (bz_ext.h) ---- */

void bz_sql_ident(BzBuf *b, const char *z) {
    bz_buf_appendc(b, '"');
    for (; *z; z++) {
        if (*z == '"') bz_buf_appendc(b, '"');
        bz_buf_appendc(b, *z);
    }
    bz_buf_appendc(b, '"');
}

int bz_sql_literal(sqlite3 *db, BzBuf *b, const WireValue *v) {
    switch (v->type) {
    case WV_NULL: bz_buf_appendz(b, "NULL"); return 1;
    case WV_INT:
        if (v->i == INT64_MIN) bz_buf_appendz(b, "(-9223372036854775807-1)");
        else bz_buf_printf(b, "%lld", (long long)v->i);
        return 1;
    case WV_REAL: {
        char lit[64], q[80];
        sqlite3_stmt *st = NULL;
        int ok = 0;
        if (v->d != v->d) return 0;
        if (v->d > 1.7976931348623157e308 || v->d < -1.7976931348623157e308) {
            bz_buf_appendz(b, v->d > 0 ? "9e999" : "-9e999");
            return 1;
        }
        snprintf(lit, sizeof lit, "%.17g", v->d);
        if (!strpbrk(lit, ".e")) strcat(lit, ".0");
        /* Rationale: SQLite's decimal parser is not always correctly rounded;
        ** ask it (the workers run the same library) rather than assume. */
        snprintf(q, sizeof q, "SELECT %s", lit);
        if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            double d = sqlite3_column_double(st, 0);
            ok = sqlite3_column_type(st, 0) == SQLITE_FLOAT && memcmp(&d, &v->d, sizeof d) == 0;
        }
        sqlite3_finalize(st);
        if (ok) bz_buf_appendz(b, lit);
        return ok;
    }
    case WV_TEXT:
        if (memchr(v->p, 0, v->n)) return 0;
        bz_buf_appendc(b, '\'');
        for (size_t i = 0; i < v->n; i++) {
            if (v->p[i] == '\'') bz_buf_appendc(b, '\'');
            bz_buf_appendc(b, v->p[i]);
        }
        bz_buf_appendc(b, '\'');
        return 1;
    case WV_BLOB:
        bz_buf_appendz(b, "x'");
        for (size_t i = 0; i < v->n; i++) bz_buf_printf(b, "%02x", (unsigned char)v->p[i]);
        bz_buf_appendc(b, '\'');
        return 1;
    default: return 0;
    }
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
    if (rc == SQLITE_OK) rc = bz_register_dynamodb(db, hbee);
    if (rc != SQLITE_OK && pzErrMsg) *pzErrMsg = sqlite3_mprintf("buzzlite: init failed (%d)", rc);
    return rc;
}
