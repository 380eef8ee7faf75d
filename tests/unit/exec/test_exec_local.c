/*
** test_exec_local.c: the local executor's thread pool and its byte-level
** contract (tasks in as wire JSON, results out as wire results) with a
** runner that needs no SQLite; the SQL runner itself is exercised through
** the extension (tests/python/test_hbee_diff.py) and the hbee binary
** (tests/python/test_hbee_cli.py). Also the stats JSON.
*/
#include "bz_test.h"
#include "exec/exec.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int n_init, n_done;

static void *t_init(void *ctx) {
    (void)ctx;
    pthread_mutex_lock(&mu);
    n_init++;
    pthread_mutex_unlock(&mu);
    return malloc(1);
}

static void t_done(void *ctx, void *state) {
    (void)ctx;
    free(state);
    pthread_mutex_lock(&mu);
    n_done++;
    pthread_mutex_unlock(&mu);
}

/* Decode the task; answer task_id rows of (task_id, i, "split path"); task
** ids divisible by 7 fail. */
static int t_run(void *ctx, void *state, const char *task, size_t n, BzBuf *out, BzErr *err) {
    WireTask t;
    WireWriter w;
    BzErr terr = {0};
    char *names[] = {"id", "i", "path"};
    (void)ctx;
    CHECK(state != NULL);
    if (wire_task_decode(task, n, &t, &terr))
        return wire_result_error(0, terr.code, terr.msg, out, err);
    if (t.taskId % 7 == 0) {
        int rc = wire_result_error(t.taskId, BZ_NOTFOUND, "no such file", out, err);
        wire_task_clear(&t);
        return rc;
    }
    usleep((useconds_t)(rand() % 500));
    wire_writer_init(&w, 3, names, err);
    for (int64_t i = 0; i < t.taskId; i++) {
        wire_writer_value(&w, &(WireValue){WV_INT, t.taskId, 0, NULL, 0});
        wire_writer_value(&w, &(WireValue){WV_INT, i, 0, NULL, 0});
        wire_writer_value(&w, &(WireValue){WV_TEXT, 0, 0, t.zPath, strlen(t.zPath)});
    }
    WireHeader h;
    memset(&h, 0, sizeof h);
    h.taskId = t.taskId;
    h.rowsScanned = t.nRows;
    int rc = wire_writer_finish(&w, &h, out, err);
    wire_writer_free(&w);
    wire_task_clear(&t);
    return rc;
}

static void submit(Executor *ex, int64_t id) {
    WireTask t;
    BzBuf b;
    BzErr err = {0};
    char path[64];
    memset(&t, 0, sizeof t);
    snprintf(path, sizeof path, "/d/part-%lld.parquet", (long long)id);
    t.zQueryId = "q";
    t.taskId = id;
    t.zPath = path;
    t.nRows = id * 10;
    t.zSql = "SELECT 1";
    bz_buf_init(&b, 0);
    CHECK_EQ_INT(wire_task_encode(&t, &b, &err), BZ_OK);
    CHECK_EQ_INT(ex->submit(ex, b.data, b.n, &err), BZ_OK);
    bz_buf_free(&b);
}

static void test_pool(int threads, int ntasks) {
    Executor *ex;
    BzErr err = {0};
    ExecRunner r = {t_init, t_run, t_done, NULL};
    int *seen = calloc((size_t)ntasks, sizeof *seen);
    n_init = n_done = 0;
    CHECK_EQ_INT(exec_local_create(threads, &r, &ex, &err), BZ_OK);
    CHECK_EQ_STR(ex->zName, "local");
    CHECK_EQ_INT(ex->nWorkers, threads);
    uint8_t *res;
    size_t n;
    CHECK_EQ_INT(ex->collect(ex, &res, &n, &err), BZ_DONE); /* nothing pending */
    for (int i = 0; i < ntasks; i++)
        submit(ex, i);
    int got = 0, failed = 0, rc;
    while ((rc = ex->collect(ex, &res, &n, &err)) == BZ_OK) {
        WireReader rd;
        WireValue row[3];
        CHECK_EQ_INT(wire_reader_open(&rd, res, n, &err), BZ_OK);
        int64_t id = rd.hdr.taskId;
        CHECK(id >= 0 && id < ntasks);
        if (id >= 0 && id < ntasks) seen[id]++;
        if (rd.hdr.status) {
            failed++;
            CHECK_EQ_INT(rd.hdr.status, BZ_NOTFOUND);
            CHECK_EQ_STR(rd.zError, "no such file");
            CHECK(id % 7 == 0);
        } else {
            int64_t rows = 0;
            CHECK_EQ_INT(rd.hdr.rowsScanned, id * 10);
            while (wire_reader_next(&rd, row, &err) == BZ_OK) {
                CHECK_EQ_INT(row[0].i, id);
                CHECK_EQ_INT(row[1].i, rows);
                CHECK(row[2].type == WV_TEXT && row[2].n > 10);
                rows++;
            }
            CHECK_EQ_INT(rows, id);
        }
        wire_reader_close(&rd);
        bz_free(res);
        got++;
    }
    CHECK_EQ_INT(rc, BZ_DONE);
    CHECK_EQ_INT(got, ntasks);
    CHECK_EQ_INT(failed, (ntasks + 6) / 7);
    for (int i = 0; i < ntasks; i++)
        CHECK_EQ_INT(seen[i], 1);
    exec_close(ex);
    CHECK_EQ_INT(n_init, threads);
    CHECK_EQ_INT(n_done, threads);
    free(seen);
}

static void test_close_with_pending(void) {
    Executor *ex;
    BzErr err = {0};
    ExecRunner r = {t_init, t_run, t_done, NULL};
    CHECK_EQ_INT(exec_local_create(2, &r, &ex, &err), BZ_OK);
    for (int i = 0; i < 200; i++)
        submit(ex, i);
    exec_close(ex); /* running tasks finish, queued ones are dropped, no leak */
    exec_close(NULL);
}

static void test_stats_json(void) {
    ExecStats st;
    BzBuf b;
    memset(&st, 0, sizeof st);
    st.aTaskMs = bz_calloc(10, sizeof *st.aTaskMs);
    for (int i = 0; i < 10; i++)
        st.aTaskMs[i] = 10 - i; /* 10..1 */
    st.nTaskMs = 10;
    st.tasks = 10;
    st.rowsScanned = 1234;
    snprintf(st.zExecutor, sizeof st.zExecutor, "local");
    bz_buf_init(&b, 0);
    exec_stats_json(&st, &b);
    CHECK(strstr(b.data, "\"tasks\": 10") != NULL);
    CHECK(strstr(b.data, "\"rows_scanned\": 1234") != NULL);
    CHECK(strstr(b.data, "\"task_ms\": {\"p50\": 5, \"p90\": 9, \"p99\": 10, \"max\": 10}") !=
          NULL);
    bz_buf_free(&b);
    exec_stats_clear(&st);
    CHECK(exec_cores() >= 1);
}

int main(void) {
    test_pool(1, 20);
    test_pool(4, 150);
    test_pool(exec_cores(), 50);
    test_close_with_pending();
    test_stats_json();
    TEST_DONE();
}
