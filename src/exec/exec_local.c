/*
** exec_local.c: the `local` executor, a pool of threads in this process.
** Each thread has its own state from the runner (for exec_local_create_sql:
** its own in-memory SQLite connection with buzzlite and the task
** authorizer) and takes encoded tasks from a queue; encoded results go to a
** second queue that collect() drains. Only bytes cross between threads, as
** they would cross the network with the remote executors.
**
**     Executor *ex;
**     exec_local_create_sql(sql, 0, &ex, &err);        // one thread per core
**     ex->submit(ex, json, n, &err);  ...
**     while (ex->collect(ex, &res, &res_n, &err) == BZ_OK) { use(res); bz_free(res); }
**     exec_close(ex);
*/
#include "exec/exec.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

typedef struct Msg {
    struct Msg *next;
    size_t n;
    uint8_t data[]; /* n bytes */
} Msg;

typedef struct MsgQueue {
    Msg *head, *tail;
} MsgQueue;

typedef struct LocalExec {
    Executor base;
    ExecRunner runner;
    pthread_t *threads;
    int nThreads; /* started */
    pthread_mutex_t mu;
    pthread_cond_t cvTask, cvResult;
    MsgQueue tasks, results;
    int64_t pending; /* submitted and not yet collected */
    int stop;
    const ExecSql *sql; /* for the SQL runner */
} LocalExec;

static void q_push(MsgQueue *q, Msg *m) {
    m->next = NULL;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
}

static Msg *q_pop(MsgQueue *q) {
    Msg *m = q->head;
    if (m) {
        q->head = m->next;
        if (!q->head) q->tail = NULL;
    }
    return m;
}

static void q_free(MsgQueue *q) {
    Msg *m;
    while ((m = q_pop(q)) != NULL)
        bz_free(m);
}

static Msg *msg_new(const void *p, size_t n) {
    Msg *m = bz_malloc(sizeof *m + n + 1);
    if (!m) return NULL;
    m->n = n;
    if (n) memcpy(m->data, p, n);
    m->data[n] = 0;
    return m;
}

static void *worker_main(void *arg) {
    LocalExec *x = arg;
    void *state = x->runner.thread_init ? x->runner.thread_init(x->runner.ctx) : NULL;
    BzBuf out;
    bz_buf_init(&out, WIRE_MAX_BODY + ((size_t)1 << 20));
    for (;;) {
        pthread_mutex_lock(&x->mu);
        while (!x->stop && !x->tasks.head)
            pthread_cond_wait(&x->cvTask, &x->mu);
        Msg *t = x->stop ? NULL : q_pop(&x->tasks);
        pthread_mutex_unlock(&x->mu);
        if (!t) break;
        BzErr err;
        bz_err_clear(&err);
        bz_buf_reset(&out);
        int rc = x->runner.run(x->runner.ctx, state, (const char *)t->data, t->n, &out, &err);
        bz_free(t);
        Msg *r = NULL;
        if (rc == BZ_OK && !out.rc) r = msg_new(out.data, out.n);
        if (!r) {
            /* the result could not be encoded: send a short error result */
            BzBuf e;
            bz_buf_init(&e, 0);
            wire_result_error(0, rc ? rc : BZ_NOMEM, err.msg[0] ? err.msg : "result too large", &e,
                              &err);
            r = e.rc ? NULL : msg_new(e.data, e.n);
            bz_buf_free(&e);
        }
        pthread_mutex_lock(&x->mu);
        if (r) {
            q_push(&x->results, r);
        } else {
            /* out of memory even for the error: make collect() report it */
            x->pending = -(x->pending + 1);
        }
        pthread_cond_broadcast(&x->cvResult);
        pthread_mutex_unlock(&x->mu);
    }
    bz_buf_free(&out);
    if (x->runner.thread_done) x->runner.thread_done(x->runner.ctx, state);
    return NULL;
}

static int local_submit(Executor *ex, const char *task, size_t n, BzErr *err) {
    LocalExec *x = (LocalExec *)ex;
    Msg *m = msg_new(task, n);
    if (!m) return bz_err(err, BZ_NOMEM, "out of memory");
    pthread_mutex_lock(&x->mu);
    q_push(&x->tasks, m);
    if (x->pending >= 0) x->pending++;
    pthread_cond_signal(&x->cvTask);
    pthread_mutex_unlock(&x->mu);
    return BZ_OK;
}

static int local_collect(Executor *ex, uint8_t **out, size_t *n, BzErr *err) {
    LocalExec *x = (LocalExec *)ex;
    int rc = BZ_OK;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&x->mu);
    for (;;) {
        if (x->pending < 0) {
            rc = bz_err(err, BZ_NOMEM, "out of memory in a worker thread");
            break;
        }
        if (x->pending == 0) {
            rc = BZ_DONE;
            break;
        }
        Msg *m = q_pop(&x->results);
        if (m) {
            x->pending--;
            pthread_mutex_unlock(&x->mu);
            /* hand the bytes over as a plain buffer */
            uint8_t *p = bz_malloc(m->n + 1);
            if (!p) {
                bz_free(m);
                return bz_err(err, BZ_NOMEM, "out of memory");
            }
            memcpy(p, m->data, m->n);
            *out = p;
            *n = m->n;
            bz_free(m);
            return BZ_OK;
        }
        pthread_cond_wait(&x->cvResult, &x->mu);
    }
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static void local_close(Executor *ex) {
    LocalExec *x = (LocalExec *)ex;
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_cond_broadcast(&x->cvTask);
    pthread_mutex_unlock(&x->mu);
    for (int i = 0; i < x->nThreads; i++)
        pthread_join(x->threads[i], NULL);
    q_free(&x->tasks);
    q_free(&x->results);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cvTask);
    pthread_cond_destroy(&x->cvResult);
    bz_free(x->threads);
    bz_free(x);
}

void exec_close(Executor *ex) {
    if (ex) ex->close(ex);
}

int exec_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

int exec_local_create(int nThreads, const ExecRunner *r, Executor **out, BzErr *err) {
    LocalExec *x;
    *out = NULL;
    if (nThreads <= 0) nThreads = exec_cores();
    if (nThreads > 256) return bz_err(err, BZ_MISUSE, "workers=%d: at most 256 threads", nThreads);
    x = bz_calloc(1, sizeof *x);
    if (!x) return bz_err(err, BZ_NOMEM, "out of memory");
    x->threads = bz_calloc((size_t)nThreads, sizeof *x->threads);
    if (!x->threads) {
        bz_free(x);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    x->base.zName = "local";
    x->base.nWorkers = nThreads;
    x->base.submit = local_submit;
    x->base.collect = local_collect;
    x->base.close = local_close;
    x->runner = *r;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cvTask, NULL);
    pthread_cond_init(&x->cvResult, NULL);
    for (int i = 0; i < nThreads; i++) {
        if (pthread_create(&x->threads[i], NULL, worker_main, x) != 0) {
            local_close(&x->base);
            return bz_err(err, BZ_ERROR, "cannot start worker thread %d", i);
        }
        x->nThreads++;
    }
    *out = &x->base;
    return BZ_OK;
}

/* ---- the SQL runner: one worker connection per thread ---------------------- */

typedef struct SqlState {
    ExecConn *conn;
    BzErr err; /* why the connection could not be opened */
} SqlState;

static void *sql_thread_init(void *ctx) {
    SqlState *s = bz_calloc(1, sizeof *s);
    if (s && exec_conn_open((const ExecSql *)ctx, &s->conn, &s->err)) s->conn = NULL;
    return s;
}

static int sql_run(void *ctx, void *state, const char *task, size_t n, BzBuf *out, BzErr *err) {
    SqlState *s = state;
    (void)ctx;
    if (!s) return wire_result_error(0, BZ_NOMEM, "out of memory", out, err);
    if (!s->conn) return wire_result_error(0, s->err.code, s->err.msg, out, err);
    return exec_task_run(s->conn, task, n, out, err);
}

static void sql_thread_done(void *ctx, void *state) {
    SqlState *s = state;
    (void)ctx;
    if (s) exec_conn_close(s->conn);
    bz_free(s);
}

int exec_local_create_sql(const ExecSql *sql, int nThreads, Executor **out, BzErr *err) {
    ExecRunner r;
    r.thread_init = sql_thread_init;
    r.run = sql_run;
    r.thread_done = sql_thread_done;
    r.ctx = (void *)sql;
    return exec_local_create(nThreads, &r, out, err);
}
