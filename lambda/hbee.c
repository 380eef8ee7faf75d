/*
** hbee.c: the hbee worker binary. Runs hbee tasks with the same code as the
** local executor's threads (exec_conn_open + exec_task_run), on SQLite linked
** in (-lsqlite3) with buzzlite compiled in (ext/ sources with -DSQLITE_CORE).
**
**     hbee run task.json [-o result.bin] [--rows]
**         run one task (wire format v1 JSON, see src/wire/wire.h), print a
**         summary (status, rows, columns, rows and bytes scanned, time);
**         -o writes the encoded result, --rows prints the rows tab-separated.
**         Exit status: 0 task succeeded, 1 task failed, 2 usage or I/O error.
**     hbee lambda      the AWS Lambda runtime loop      (not implemented yet)
**     hbee redis URL   a worker on a Redis task stream  (not implemented yet)
**
** Only lambda/ prints and exits; the library code it calls reports through
** BzErr.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buzzlite.h"
#include "exec/exec.h"
#include "parquet/pq_cache.h"
#include "wire/wire.h"

static int init_db(sqlite3 *db, char **pzErr) {
    return sqlite3_buzzlite_init(db, pzErr, NULL);
}

/* The allocator sqlite3_buzzlite_init installs, set before anything is
** allocated so every buffer is freed by the allocator that made it. */
static void *sqlMalloc(size_t n) {
    return sqlite3_malloc64(n);
}
static void *sqlRealloc(void *p, size_t n) {
    return sqlite3_realloc64(p, n);
}
static void sqlFree(void *p) {
    sqlite3_free(p);
}
static const BzAllocator sql_alloc = {sqlMalloc, sqlRealloc, sqlFree};

/* ExecSql from the linked library (the extension fills the same table from
** its sqlite3_api_routines, see ext/vtab_hbee.c). */
static const ExecSql linked_sql = {
    sqlite3_open_v2,     sqlite3_close,          sqlite3_exec,          sqlite3_prepare_v2,
    sqlite3_step,        sqlite3_reset,          sqlite3_finalize,      sqlite3_column_count,
    sqlite3_column_type, sqlite3_column_int64,   sqlite3_column_double, sqlite3_column_text,
    sqlite3_column_blob, sqlite3_column_bytes,   sqlite3_column_name,   sqlite3_bind_int64,
    sqlite3_bind_double, sqlite3_bind_text,      sqlite3_bind_blob,     sqlite3_bind_null,
    sqlite3_errmsg,      sqlite3_set_authorizer, sqlite3_free,          init_db,
};

static int usage(void) {
    fprintf(stderr, "usage: hbee run task.json [-o result.bin] [--rows]\n"
                    "       hbee lambda\n"
                    "       hbee redis URL\n");
    return 2;
}

/* Read a whole file; caller frees. NULL on error (message printed). */
static char *read_file(const char *path, size_t *n) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    BzBuf b;
    char tmp[65536];
    size_t k;
    if (!f) {
        perror(path);
        return NULL;
    }
    bz_buf_init(&b, (size_t)64 << 20);
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
        bz_buf_append(&b, tmp, k);
    if (f != stdin) fclose(f);
    if (b.rc) {
        fprintf(stderr, "%s: %s\n", path, bz_status_name(b.rc));
        bz_buf_free(&b);
        return NULL;
    }
    *n = b.n;
    bz_buf_appendc(&b, 0);
    return bz_buf_take(&b);
}

static void print_value(const WireValue *v) {
    switch (v->type) {
    case WV_INT:
        printf("%lld", (long long)v->i);
        break;
    case WV_REAL:
        printf("%.17g", v->d);
        break;
    case WV_TEXT:
        fwrite(v->p, 1, v->n, stdout);
        break;
    case WV_BLOB:
        printf("x'");
        for (size_t i = 0; i < v->n; i++)
            printf("%02x", (unsigned char)v->p[i]);
        printf("'");
        break;
    default:
        printf("NULL");
        break;
    }
}

static int cmd_run(int argc, char **argv) {
    const char *task_path = NULL, *out_path = NULL;
    int show_rows = 0, rc, status = 2;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out_path = argv[++i];
        else if (!strcmp(argv[i], "--rows"))
            show_rows = 1;
        else if (!task_path)
            task_path = argv[i];
        else
            return usage();
    }
    if (!task_path) return usage();
    size_t n = 0;
    char *task = read_file(task_path, &n);
    if (!task) return 2;
    ExecConn *conn = NULL;
    BzErr err = {0};
    BzBuf out;
    bz_buf_init(&out, 0);
    rc = exec_conn_open(&linked_sql, &conn, &err);
    if (!rc) rc = exec_task_run(conn, task, n, &out, &err);
    exec_conn_close(conn);
    bz_free(task);
    if (rc) {
        fprintf(stderr, "hbee: %s\n", err.msg);
        bz_buf_free(&out);
        return 2;
    }
    if (out_path) {
        FILE *f = fopen(out_path, "wb");
        if (!f || fwrite(out.data, 1, out.n, f) != out.n) {
            perror(out_path);
            if (f) fclose(f);
            bz_buf_free(&out);
            return 2;
        }
        fclose(f);
    }
    WireReader r;
    if (wire_reader_open(&r, out.data, out.n, &err)) {
        fprintf(stderr, "hbee: %s\n", err.msg);
        bz_buf_free(&out);
        return 2;
    }
    if (r.hdr.status) {
        printf("task %lld: error (%s): %s\n", (long long)r.hdr.taskId, bz_status_name(r.hdr.status),
               r.zError);
        status = 1;
    } else {
        printf("task %lld: ok, %lld rows x %d columns, scanned %lld rows / %lld bytes in %lld ms, "
               "result %zu bytes\n",
               (long long)r.hdr.taskId, (long long)r.hdr.rows, r.nCol, (long long)r.hdr.rowsScanned,
               (long long)r.hdr.bytesScanned, (long long)r.hdr.ms, out.n);
        status = 0;
        if (show_rows) {
            WireValue *row = calloc((size_t)r.nCol + 1, sizeof *row);
            for (int i = 0; i < r.nCol; i++)
                printf("%s%s", i ? "\t" : "", r.azCol[i]);
            printf("\n");
            while (row && (rc = wire_reader_next(&r, row, &err)) == BZ_OK) {
                for (int i = 0; i < r.nCol; i++) {
                    if (i) printf("\t");
                    print_value(&row[i]);
                }
                printf("\n");
            }
            if (row && rc != BZ_DONE) {
                fprintf(stderr, "hbee: %s\n", err.msg);
                status = 2;
            }
            free(row);
        }
    }
    wire_reader_close(&r);
    bz_buf_free(&out);
    return status;
}

int main(int argc, char **argv) {
    bz_set_allocator(&sql_alloc);
    if (argc < 2) return usage();
    if (!strcmp(argv[1], "run")) {
        int rc = cmd_run(argc - 2, argv + 2);
        pq_footer_cache_limit(0); /* empty the process-wide footer cache before exit */
        return rc;
    }
    if (!strcmp(argv[1], "lambda") || !strcmp(argv[1], "redis")) {
        fprintf(stderr, "hbee %s: not implemented yet (the local executor is the only one)\n",
                argv[1]);
        return 2;
    }
    return usage();
}
