/*
** exec_task.c: run one hbee task on a worker connection. The same code runs
** in the local executor's threads and in the `hbee run task.json` binary.
**
**     ExecConn *c;  exec_conn_open(sql, &c, &err);
**     exec_task_run(c, json, json_len, &result, &err);   // result: wire bytes
**     exec_conn_close(c);
**
** Per task: decode the JSON, check the split (a local file; row groups must
** be the whole file until the parquet table can select row groups), create
** `temp.split` as a parquet table over the file with the task's options, run
** the partial query, encode its rows, drop the table.
**
** A task over a DynamoDB segment (wire version 2) creates `temp.split` as
** dynamodb(table=..., segment=i, segments=N, <shipped options>): a Scan of
** that one segment, with the worker's own credentials.
**
** Rationale (authorizer): a remote worker takes tasks from the network, so
** the connection allows only what a task needs: creating/dropping the temp
** parquet or dynamodb table `split` (while exec_task_run sets it up), SELECT, reading
** `split`, and the deterministic built-in functions of plan_func_class.
** Everything else (ATTACH, PRAGMA, other tables, writes, load_extension,
** buzzlite's network functions) is denied; so the dynamodb `split` is
** read-only (INSERT/UPDATE/DELETE on it are denied), and a task can only set
** the options plan_ddb_option_shipped names (no profile).
*/
#include "exec/exec.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "parquet/pq_reader.h"

enum { PHASE_QUERY = 0, PHASE_SETUP = 1 };

struct ExecConn {
    const ExecSql *sql;
    sqlite3 *db;
    int phase;
};

static int is_schema_table(const char *z) {
    return z && (!strcmp(z, "sqlite_master") || !strcmp(z, "sqlite_temp_master") ||
                 !strcmp(z, "sqlite_schema") || !strcmp(z, "sqlite_temp_schema"));
}

static int task_auth(void *ctx, int action, const char *a1, const char *a2, const char *zDb,
                     const char *zTrigger) {
    ExecConn *c = ctx;
    (void)zTrigger;
    if (c->phase == PHASE_SETUP) {
        switch (action) {
        case SQLITE_CREATE_VTABLE:
        case SQLITE_DROP_VTABLE:
            return a1 && a2 && zDb && !strcmp(a1, "split") &&
                           (!strcmp(a2, "parquet") || !strcmp(a2, "dynamodb")) &&
                           !strcmp(zDb, "temp")
                       ? SQLITE_OK
                       : SQLITE_DENY;
        case SQLITE_INSERT:
        case SQLITE_UPDATE:
        case SQLITE_READ:
            return is_schema_table(a1) ? SQLITE_OK : SQLITE_DENY;
        case SQLITE_DELETE:
            return is_schema_table(a1) || (a1 && !strcmp(a1, "split")) ? SQLITE_OK : SQLITE_DENY;
        default:
            return SQLITE_DENY;
        }
    }
    switch (action) {
    case SQLITE_SELECT:
        return SQLITE_OK;
    case SQLITE_READ:
        return a1 && !strcmp(a1, "split") ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_FUNCTION: {
        int cls = a2 ? plan_func_class(a2, 1) : PF_UNKNOWN;
        return cls == PF_SCALAR || cls == PF_AGG ? SQLITE_OK : SQLITE_DENY;
    }
    default:
        return SQLITE_DENY;
    }
}

int exec_conn_open(const ExecSql *sql, ExecConn **out, BzErr *err) {
    ExecConn *c = bz_calloc(1, sizeof *c);
    char *zErr = NULL;
    int rc;
    *out = NULL;
    if (!c) return bz_err(err, BZ_NOMEM, "out of memory");
    c->sql = sql;
    rc = sql->open_v2(":memory:", &c->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        bz_err(err, BZ_ERROR, "worker connection: %s", c->db ? sql->errmsg(c->db) : "cannot open");
        exec_conn_close(c);
        return BZ_ERROR;
    }
    rc = sql->init_db(c->db, &zErr);
    if (rc != SQLITE_OK) {
        bz_err(err, BZ_ERROR, "worker connection: buzzlite: %s", zErr ? zErr : sql->errmsg(c->db));
        if (zErr) sql->free(zErr);
        exec_conn_close(c);
        return BZ_ERROR;
    }
    c->phase = PHASE_QUERY;
    sql->set_authorizer(c->db, task_auth, c);
    *out = c;
    return BZ_OK;
}

void exec_conn_close(ExecConn *c) {
    if (!c) return;
    if (c->db) c->sql->close(c->db);
    bz_free(c);
}

static void sql_str(BzBuf *b, const char *z) {
    bz_buf_appendc(b, '\'');
    for (; *z; z++) {
        if (*z == '\'') bz_buf_appendc(b, '\'');
        bz_buf_appendc(b, *z);
    }
    bz_buf_appendc(b, '\'');
}

static int is_ident(const char *z) {
    if (!z || !(isalpha((unsigned char)*z) || *z == '_')) return 0;
    for (; *z; z++)
        if (!isalnum((unsigned char)*z) && *z != '_') return 0;
    return 1;
}

/* Check the split's row groups (the whole file, for now) and measure what
** the task scans: rows of its row groups, compressed bytes of its columns. */
static int split_check(const WireTask *t, int64_t *rows, int64_t *bytes, BzErr *err) {
    BzReadAt *src;
    PqFile *pf;
    PqOpenOpts oo;
    int rc;
    memset(&oo, 0, sizeof oo);
    *rows = *bytes = 0;
    if ((rc = bz_file_open(t->zPath, &src, err))) return rc;
    if ((rc = pq_file_open(src, &oo, &pf, err))) return rc;
    const PqFileMeta *m = pf->meta;
    for (int i = 0; i < t->nRg; i++)
        if (t->aRg[i] < 0 || t->aRg[i] >= m->n_row_groups) {
            int ng = m->n_row_groups;
            pq_file_close(pf);
            return bz_err(err, BZ_MISUSE, "%s: row group %d of a split is out of range (%d row groups)",
                          t->zPath, t->aRg[i], ng);
        }
    for (int g = 0; g < m->n_row_groups; g++) {
        int in = t->nRg == 0;
        for (int i = 0; i < t->nRg && !in; i++) in = t->aRg[i] == g;
        if (!in) continue;
        const PqRowGroup *rg = &m->row_groups[g];
        *rows += rg->num_rows;
        for (int c = 0; c < rg->n_columns; c++) {
            const PqColumnMeta *cm = &rg->columns[c].meta;
            if (!rg->columns[c].has_meta || cm->n_path < 1) continue;
            for (int k = 0; k < t->nCol; k++)
                if (!strcmp(cm->path[0], t->azCol[k])) {
                    *bytes += cm->total_compressed_size;
                    break;
                }
        }
    }
    pq_file_close(pf);
    return BZ_OK;
}

static int run_sql(ExecConn *c, const char *zSql, BzErr *err) {
    char *zErr = NULL;
    int rc = c->sql->exec(c->db, zSql, NULL, NULL, &zErr);
    if (rc != SQLITE_OK) {
        bz_err(err, BZ_ERROR, "%s", zErr ? zErr : c->sql->errmsg(c->db));
        if (zErr) c->sql->free(zErr);
        return BZ_ERROR;
    }
    return BZ_OK;
}

/* Create temp.split, run the partial query into w. */
static int task_query(ExecConn *c, const WireTask *t, WireWriter *w, int *created, BzErr *err) {
    const ExecSql *s = c->sql;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    BzBuf ddl;
    int rc;
    bz_buf_init(&ddl, 0);
    if (t->zDdbTable) {
        bz_buf_appendz(&ddl, "CREATE VIRTUAL TABLE temp.split USING dynamodb(table=");
        sql_str(&ddl, t->zDdbTable);
        bz_buf_printf(&ddl, ", segment=%d, segments=%d", t->iSegment, t->nSegments);
    } else {
        bz_buf_appendz(&ddl, "CREATE VIRTUAL TABLE temp.split USING parquet(");
        sql_str(&ddl, t->zUrl ? t->zUrl : t->zPath);
        bz_buf_appendz(&ddl, ", glob=0"); /* the split's one file, even one named b*.parquet */
    }
    for (int i = 0; i < t->nOpt; i++) {
        if (!is_ident(t->azKey[i])) {
            bz_buf_free(&ddl);
            return bz_err(err, BZ_MISUSE, "bad option name in task: %.40s", t->azKey[i]);
        }
        if (t->zDdbTable &&
            (!plan_ddb_option_shipped(t->azKey[i]) || !strcasecmp(t->azKey[i], "table"))) {
            bz_buf_free(&ddl);
            return bz_err(err, BZ_MISUSE, "option %.40s is not allowed in a dynamodb task",
                          t->azKey[i]);
        }
        bz_buf_printf(&ddl, ", %s=", t->azKey[i]);
        sql_str(&ddl, t->azVal[i]);
    }
    if (t->nRg > 0) { /* the split's row groups of its one file */
        bz_buf_appendz(&ddl, ", row_groups='");
        for (int i = 0; i < t->nRg; i++) bz_buf_printf(&ddl, "%s%d", i ? "," : "", t->aRg[i]);
        bz_buf_appendc(&ddl, '\'');
    }
    bz_buf_appendc(&ddl, ')');
    if (ddl.rc) {
        bz_buf_free(&ddl);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    c->phase = PHASE_SETUP;
    rc = run_sql(c, ddl.data, err);
    c->phase = PHASE_QUERY;
    bz_buf_free(&ddl);
    if (rc) return rc;
    *created = 1;
    rc = s->prepare_v2(c->db, t->zSql, -1, &st, &tail);
    if (rc != SQLITE_OK || !st) {
        if (rc != SQLITE_OK) {
            bz_err(err, BZ_ERROR, "%s", s->errmsg(c->db));
            s->finalize(st);
            return BZ_ERROR;
        }
        bz_err(err, BZ_ERROR, "%s", st ? s->errmsg(c->db) : "empty query");
        s->finalize(st);
        return BZ_ERROR;
    }
    while (tail && isspace((unsigned char)*tail))
        tail++;
    if (tail && *tail && *tail != ';') {
        s->finalize(st);
        return bz_err(err, BZ_MISUSE, "a task runs exactly one statement");
    }
    int n = s->column_count(st);
    char **names = bz_calloc((size_t)n + 1, sizeof(char *));
    if (!names) {
        s->finalize(st);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++)
        names[i] = (char *)s->column_name(st, i);
    rc = wire_writer_init(w, n, names, err);
    bz_free(names);
    while (!rc) {
        int src = s->step(st);
        if (src == SQLITE_DONE) break;
        if (src != SQLITE_ROW) {
            rc = bz_err(err, BZ_ERROR, "%s", s->errmsg(c->db));
            break;
        }
        for (int i = 0; i < n; i++) {
            WireValue v;
            memset(&v, 0, sizeof v);
            switch (s->column_type(st, i)) {
            case SQLITE_INTEGER:
                v.type = WV_INT;
                v.i = s->column_int64(st, i);
                break;
            case SQLITE_FLOAT:
                v.type = WV_REAL;
                v.d = s->column_double(st, i);
                break;
            case SQLITE_TEXT:
                v.type = WV_TEXT;
                v.p = (const char *)s->column_text(st, i);
                v.n = (size_t)s->column_bytes(st, i);
                break;
            case SQLITE_BLOB:
                v.type = WV_BLOB;
                v.p = s->column_blob(st, i);
                v.n = (size_t)s->column_bytes(st, i);
                break;
            default:
                v.type = WV_NULL;
                break;
            }
            wire_writer_value(w, &v);
        }
        if (w->body.rc) rc = bz_err(err, w->body.rc, "partial result too large");
    }
    s->finalize(st);
    return rc;
}

int exec_task_run(ExecConn *c, const char *task, size_t n, BzBuf *out, BzErr *err) {
    WireTask t;
    WireWriter w;
    BzErr terr;
    int64_t t0 = (int64_t)bz_now_ms(), rows = 0, bytes = 0;
    int rc, created = 0;
    memset(&w, 0, sizeof w);
    bz_err_clear(&terr);
    rc = wire_task_decode(task, n, &t, &terr);
    if (rc) return wire_result_error(0, rc, terr.msg, out, err);
    if (t.zDdbTable) {
        /* rows scanned are not known to the worker (the Scan's filter runs in
        ** DynamoDB); bytes neither */
    } else if (t.zUrl) {
        /* the parquet table checks the row groups when it opens the object;
        ** the planner's sizes stand for what is scanned (no extra footer read) */
        if (strncmp(t.zUrl, "s3://", 5))
            rc = bz_err(&terr, BZ_UNSUPPORTED, "split url %.80s: only s3:// is supported", t.zUrl);
        rows = t.nRows;
        bytes = t.nBytes;
    } else {
        rc = split_check(&t, &rows, &bytes, &terr);
    }
    if (!rc) rc = task_query(c, &t, &w, &created, &terr);
    if (created) {
        BzErr derr;
        c->phase = PHASE_SETUP;
        run_sql(c, "DROP TABLE temp.split", &derr);
        c->phase = PHASE_QUERY;
    }
    if (!rc) {
        WireHeader h;
        memset(&h, 0, sizeof h);
        h.taskId = t.taskId;
        h.rowsScanned = rows;
        h.bytesScanned = bytes;
        h.ms = (int64_t)bz_now_ms() - t0;
        rc = wire_writer_finish(&w, &h, out, err);
    } else {
        rc = wire_result_error(t.taskId, rc, terr.msg, out, err);
    }
    wire_writer_free(&w);
    wire_task_clear(&t);
    return rc;
}
