/*
** exec_redis.c: the `redis` executor (coordinator side) and the worker loop
** that `hbee worker --redis URL` runs. Tasks go on one Redis stream read by
** a consumer group; results come back on a list per query. The protocol is
** in exec.h (section exec_redis.c).
**
**     ExecRedisOptions o = {.zUrl = "redis://127.0.0.1:6379/0"};
**     Executor *ex;
**     exec_redis_create(&o, &ex, &err);
**     exec_run(sql, ex, ...);  exec_close(ex);
**
**     ExecWorkerOptions w = {.zUrl = url, .pbStop = &stop};
**     exec_redis_work(sql, &w, &err);        // in the worker process
**
** Reliability: a worker acknowledges an entry only after its result is on
** the reply list, so a worker killed mid-task leaves the entry pending, and
** another worker claims it (XAUTOCLAIM) once it has been idle claimIdleMs.
** Independently the coordinator adds a task again when it started and has
** no result after exec_rtasks_late_ms (or never started while nothing at
** all happens for the query); duplicate results are dropped by task id, so
** each split is counted once.
**
** Rationale (start notices): the worker pushes "S<task id>" before running
** a task, so lateness is measured from the start of the work, not from the
** time the task waited in the queue behind others.
*/
#include "exec/exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "redis/rq.h"

#define DEFAULT_QUEUE "hbee:tasks"
#define GROUP "hbee"

static int64_t epoch_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* XGROUP CREATE, an existing group being fine. */
static int ensure_group(RqConn *c, const char *zQueue, BzErr *err) {
    const char *argv[] = {"XGROUP", "CREATE", zQueue, GROUP, "0", "MKSTREAM"};
    RqReply *r = NULL;
    int rc = rq_conn_command(c, 6, argv, NULL, &r, err);
    if (rc == BZ_ERROR && r) {
        size_t n;
        const char *z = rq_reply_str(r, &n);
        if (z && n >= 9 && !memcmp(z, "BUSYGROUP", 9)) rc = BZ_OK;
    }
    rq_reply_free(r);
    return rc;
}

/* ---- coordinator ------------------------------------------------------------- */

typedef struct RedisExec {
    Executor base;
    RqConn *conn;
    char *zQueue;
    char zReply[96];
    int ttlS, timeoutMs;
    ExecRTasks t;
    int64_t pending; /* tasks without a result */
    uint64_t tHeard; /* last time anything came back (or the last submit) */
} RedisExec;

static int issue(RedisExec *x, int i, BzErr *err) {
    ExecRTask *r = &x->t.a[i];
    char id[24], deadline[24];
    snprintf(id, sizeof id, "%lld", (long long)r->id);
    snprintf(deadline, sizeof deadline, "%lld", (long long)(epoch_ms() + (int64_t)x->ttlS * 1000));
    const char *argv[] = {"XADD", x->zQueue, "*",   "id",     id,       "task",
                          r->zTask, "reply", x->zReply, "deadline", deadline};
    size_t len[11];
    for (int k = 0; k < 11; k++)
        len[k] = argv[k] == r->zTask ? r->nTask : strlen(argv[k]);
    RqReply *rep = NULL;
    int rc = rq_conn_command(x->conn, 11, argv, len, &rep, err);
    rq_reply_free(rep);
    if (rc) return bz_err_prefix(err, "redis executor: XADD");
    r->nIssued++;
    r->tIssue = bz_now_ms();
    r->tStart = 0;
    return BZ_OK;
}

static int redis_submit(Executor *ex, const char *task, size_t n, BzErr *err) {
    RedisExec *x = (RedisExec *)ex;
    int i = exec_rtasks_add(&x->t, task, n, err);
    if (i < 0) return err->code ? err->code : BZ_ERROR;
    x->pending++;
    x->tHeard = bz_now_ms();
    return issue(x, i, err);
}

/* Re-issue late tasks; BZ_TIMEOUT when a task used all its issues or
** nothing was heard for timeoutMs. */
static int check_late(RedisExec *x, BzErr *err) {
    uint64_t now = bz_now_ms();
    int64_t late = exec_rtasks_late_ms(&x->t);
    for (int i = 0; i < x->t.n; i++) {
        ExecRTask *r = &x->t.a[i];
        if (r->bDone || !r->tStart || (int64_t)(now - r->tStart) < late) continue;
        if (r->nIssued >= EXEC_MAX_ISSUES)
            return bz_err(err, BZ_TIMEOUT,
                          "redis executor: task %lld has no result after %d attempts",
                          (long long)r->id, r->nIssued);
        int rc = issue(x, i, err);
        if (rc) return rc;
        x->base.counters.retries++;
    }
    if ((int64_t)(now - x->tHeard) > x->timeoutMs) {
        int started = 0;
        for (int i = 0; i < x->t.n; i++)
            started += !x->t.a[i].bDone && x->t.a[i].tStart;
        return bz_err(err, BZ_TIMEOUT,
                      "redis executor: nothing heard for %d ms from the workers on %s "
                      "(%lld tasks pending, %d of them started); are `hbee worker` processes "
                      "running?",
                      x->timeoutMs, rq_conn_url(x->conn), (long long)x->pending, started);
    }
    return BZ_OK;
}

static int redis_collect(Executor *ex, uint8_t **out, size_t *n, BzErr *err) {
    RedisExec *x = (RedisExec *)ex;
    *out = NULL;
    *n = 0;
    while (x->pending > 0) {
        int rc = check_late(x, err);
        if (rc) return rc;
        const char *argv[] = {"BLPOP", x->zReply, "0.2"};
        RqReply *r = NULL;
        rc = rq_conn_command(x->conn, 3, argv, NULL, &r, err);
        if (rc) {
            rq_reply_free(r);
            return bz_err_prefix(err, "redis executor: BLPOP");
        }
        if (rq_reply_type(r) != RQ_ARRAY || rq_reply_len(r) != 2) {
            rq_reply_free(r); /* timed out */
            continue;
        }
        size_t len = 0;
        const char *z = rq_reply_str(rq_reply_at(r, 1), &len);
        x->tHeard = bz_now_ms();
        if (z && len > 1 && z[0] == 'S') { /* start notice */
            int i = exec_rtasks_find(&x->t, strtoll(z + 1, NULL, 10));
            if (i >= 0 && !x->t.a[i].bDone) x->t.a[i].tStart = bz_now_ms();
            rq_reply_free(r);
            continue;
        }
        int64_t id;
        int status, i;
        if (!z || exec_result_peek((const uint8_t *)z, len, &id, &status) ||
            (i = exec_rtasks_find(&x->t, id)) < 0) {
            rq_reply_free(r);
            return bz_err(err, BZ_CORRUPT, "redis executor: a reply on %s is not a result",
                          x->zReply);
        }
        if (x->t.a[i].bDone) {
            WireReader wr;
            BzErr e2;
            x->base.counters.duplicates++;
            if (wire_reader_open(&wr, (const uint8_t *)z, len, &e2) == BZ_OK) {
                x->base.counters.billedMs += exec_billed_ms(wr.hdr.ms);
                wire_reader_close(&wr);
            }
            rq_reply_free(r);
            continue;
        }
        uint8_t *p = bz_malloc(len + 1);
        if (!p) {
            rq_reply_free(r);
            return bz_err(err, BZ_NOMEM, "out of memory");
        }
        memcpy(p, z, len);
        rq_reply_free(r);
        WireReader wr;
        int64_t ms = 0;
        BzErr e2;
        if (wire_reader_open(&wr, p, len, &e2) == BZ_OK) {
            ms = wr.hdr.ms;
            wire_reader_close(&wr);
        }
        exec_rtasks_done(&x->t, i, ms);
        x->pending--;
        *out = p;
        *n = len;
        return BZ_OK;
    }
    return BZ_DONE;
}

static void redis_close(Executor *ex) {
    RedisExec *x = (RedisExec *)ex;
    if (x->conn) {
        const char *argv[] = {"DEL", x->zReply};
        RqReply *r = NULL;
        BzErr e;
        rq_conn_command(x->conn, 2, argv, NULL, &r, &e);
        rq_reply_free(r);
    }
    rq_conn_close(x->conn);
    exec_rtasks_free(&x->t);
    bz_free(x->zQueue);
    bz_free(x);
}

int exec_redis_create(const ExecRedisOptions *o, Executor **out, BzErr *err) {
    RedisExec *x;
    RqOptions ro = {0};
    int rc;
    *out = NULL;
    if (!o->zUrl || !*o->zUrl)
        return bz_err(err, BZ_MISUSE, "redis executor: no URL (redis= option or REDIS_URL)");
    x = bz_calloc(1, sizeof *x);
    if (!x) return bz_err(err, BZ_NOMEM, "out of memory");
    x->zQueue = bz_strdup(o->zQueue && *o->zQueue ? o->zQueue : DEFAULT_QUEUE);
    x->ttlS = o->ttlS > 0 ? o->ttlS : 600;
    x->timeoutMs = o->timeoutMs > 0 ? o->timeoutMs : 60000;
    x->t.floorMs = o->floorMs;
    x->t.firstMs = x->timeoutMs;
    x->base.zName = "redis";
    x->base.submit = redis_submit;
    x->base.collect = redis_collect;
    x->base.close = redis_close;
    if (!x->zQueue) {
        redis_close(&x->base);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    /* a unique reply list: host time, pid and randomness */
    uint64_t rnd = bz_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)x;
    snprintf(x->zReply, sizeof x->zReply, "%s:reply:%llx", x->zQueue,
             (unsigned long long)(rnd * 0x9e3779b97f4a7c15ull));
    ro.timeout_ms = 5000; /* BLPOP blocks 0.2 s */
    rc = rq_conn_open(&x->conn, o->zUrl, &ro, err);
    if (!rc) rc = ensure_group(x->conn, x->zQueue, err);
    if (rc) {
        bz_err_prefix(err, "redis executor");
        redis_close(&x->base);
        return rc;
    }
    /* workers currently in the group (for the stats; 0 if unknown) */
    {
        const char *argv[] = {"XINFO", "CONSUMERS", x->zQueue, GROUP};
        RqReply *r = NULL;
        BzErr e;
        if (rq_conn_command(x->conn, 4, argv, NULL, &r, &e) == BZ_OK && rq_reply_type(r) == RQ_ARRAY)
            x->base.nWorkers = (int)rq_reply_len(r);
        rq_reply_free(r);
    }
    *out = &x->base;
    return BZ_OK;
}

/* ---- worker ----------------------------------------------------------------------- */

static void wlog(const ExecWorkerOptions *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void wlog(const ExecWorkerOptions *o, const char *fmt, ...) {
    char buf[600];
    va_list ap;
    if (!o->xLog) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->xLog(o->logCtx, buf);
}

/* One stream entry: [id, [field, value, ...]]. Fields point into the reply. */
typedef struct Entry {
    const char *zId;
    size_t nId;
    const char *task, *reply, *deadline, *tid;
    size_t nTask, nReply, nDeadline, nTid;
} Entry;

static int entry_parse(const RqReply *e, Entry *en) {
    memset(en, 0, sizeof *en);
    if (!e || rq_reply_type(e) != RQ_ARRAY || rq_reply_len(e) != 2) return 0;
    en->zId = rq_reply_str(rq_reply_at(e, 0), &en->nId);
    const RqReply *f = rq_reply_at(e, 1);
    if (!en->zId || rq_reply_type(f) != RQ_ARRAY) return 0; /* deleted entry: nil fields */
    for (size_t i = 0; i + 1 < rq_reply_len(f); i += 2) {
        size_t nk, nv;
        const char *k = rq_reply_str(rq_reply_at(f, i), &nk);
        const char *v = rq_reply_str(rq_reply_at(f, i + 1), &nv);
        if (!k || !v) continue;
        if (nk == 4 && !memcmp(k, "task", 4)) en->task = v, en->nTask = nv;
        else if (nk == 5 && !memcmp(k, "reply", 5)) en->reply = v, en->nReply = nv;
        else if (nk == 8 && !memcmp(k, "deadline", 8)) en->deadline = v, en->nDeadline = nv;
        else if (nk == 2 && !memcmp(k, "id", 2)) en->tid = v, en->nTid = nv;
    }
    return 1;
}

/* Acknowledge and delete an entry (pipelined, replies not awaited). */
static void ack(RqConn *c, const char *zQueue, const Entry *en) {
    BzErr e;
    const char *a1[] = {"XACK", zQueue, GROUP, en->zId};
    const char *a2[] = {"XDEL", zQueue, en->zId};
    size_t l1[] = {4, strlen(zQueue), strlen(GROUP), en->nId};
    size_t l2[] = {4, strlen(zQueue), en->nId};
    rq_conn_send_noreply(c, 4, a1, l1, &e);
    rq_conn_send_noreply(c, 3, a2, l2, &e);
}

/* Run one entry: start notice, task, result, ack. */
static int run_entry(RqConn *c, ExecConn *ec, const ExecWorkerOptions *o, const char *zQueue,
                     const Entry *en, BzBuf *out, BzErr *err) {
    char tmp[32];
    BzErr e;
    int rc;
    if (!en->task || !en->reply) {
        wlog(o, "entry %.*s: no task or reply field; dropped", (int)en->nId, en->zId);
        ack(c, zQueue, en);
        return BZ_OK;
    }
    if (en->deadline) {
        snprintf(tmp, sizeof tmp, "%.*s", (int)BZ_MIN(en->nDeadline, 20), en->deadline);
        if (strtoll(tmp, NULL, 10) < epoch_ms()) {
            wlog(o, "entry %.*s: past its deadline; dropped", (int)en->nId, en->zId);
            ack(c, zQueue, en);
            return BZ_OK;
        }
    }
    if (en->tid) {
        char s[32];
        int ns = snprintf(s, sizeof s, "S%.*s", (int)BZ_MIN(en->nTid, 20), en->tid);
        const char *a[] = {"RPUSH", en->reply, s};
        size_t l[] = {5, en->nReply, (size_t)ns};
        rq_conn_send_noreply(c, 3, a, l, &e);
    }
    if (o->testDelayMs > 0) usleep((useconds_t)o->testDelayMs * 1000);
    uint64_t t0 = bz_now_ms();
    bz_buf_reset(out);
    rc = exec_task_run(ec, en->task, en->nTask, out, err);
    if (rc || out->rc) {
        /* the result itself could not be built: answer with an error result */
        BzErr e2;
        bz_buf_reset(out);
        wire_result_error(en->tid ? strtoll(en->tid, NULL, 10) : 0, rc ? rc : out->rc,
                          rc ? err->msg : "result too large", out, &e2);
    }
    int64_t id = 0;
    int status = 0;
    exec_result_peek((const uint8_t *)out->data, out->n, &id, &status);
    const char *a1[] = {"RPUSH", en->reply, out->data};
    size_t l1[] = {5, en->nReply, out->n};
    const char *a2[] = {"EXPIRE", en->reply, "600"};
    size_t l2[] = {6, en->nReply, 3};
    RqReply *r = NULL;
    rq_conn_send_noreply(c, 3, a1, l1, &e);
    rc = rq_conn_command(c, 3, a2, l2, &r, err); /* waits for the push too */
    rq_reply_free(r);
    if (rc) return rc; /* not acknowledged: another worker will claim it */
    ack(c, zQueue, en);
    wlog(o, "task %lld: %s, %zu bytes, %llu ms", (long long)id, status ? "error" : "ok", out->n,
         (unsigned long long)(bz_now_ms() - t0));
    return BZ_OK;
}

/* A worker outlives its Redis: after a dropped connection (a restart, a
** failover, CLIENT KILL) or a server that lost the group, it logs, waits
** (100 ms doubling to 5 s), reconnects and re-creates the group (NOGROUP, or
** UNBLOCKED when the stream was deleted under a blocked read), and goes on;
** an entry it held unacknowledged is claimed again (XAUTOCLAIM) and any
** duplicate result is dropped by the coordinator. Returns 1 when err was such
** a failure (err cleared), 0 for any other error (err kept). */
static int worker_recover(RqConn *c, const ExecWorkerOptions *o, const char *zQueue, int *pDelayMs,
                          BzErr *err) {
    if (!rq_conn_broken(c) && !strstr(err->msg, "NOGROUP") && !strstr(err->msg, "UNBLOCKED"))
        return 0;
    wlog(o, "%s; reconnecting in %d ms", err->msg, *pDelayMs);
    usleep((useconds_t)*pDelayMs * 1000);
    *pDelayMs = BZ_MIN(*pDelayMs * 2, 5000);
    bz_err_clear(err);
    if (ensure_group(c, zQueue, err) == BZ_OK) {
        wlog(o, "reconnected to %s, stream %s", rq_conn_url(c), zQueue);
        *pDelayMs = 100;
    } else {
        wlog(o, "%s", err->msg);
    }
    bz_err_clear(err);
    return 1;
}

int exec_redis_work(const ExecSql *sql, const ExecWorkerOptions *o, BzErr *err) {
    const char *zQueue = o->zQueue && *o->zQueue ? o->zQueue : DEFAULT_QUEUE;
    char zConsumer[128], idle[24];
    RqConn *c = NULL;
    ExecConn *ec = NULL;
    RqOptions ro = {0};
    BzBuf out;
    int64_t done = 0;
    int rc, delayMs = 100;
    uint64_t lastClaim = 0;
    if (o->zConsumer && *o->zConsumer)
        snprintf(zConsumer, sizeof zConsumer, "%s", o->zConsumer);
    else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(zConsumer, sizeof zConsumer, "%s-%d", host, (int)getpid());
    }
    snprintf(idle, sizeof idle, "%d", o->claimIdleMs > 0 ? o->claimIdleMs : 5000);
    bz_buf_init(&out, WIRE_MAX_BODY + ((size_t)1 << 20));
    ro.timeout_ms = 5000; /* XREADGROUP blocks 1 s */
    ro.reconnect_ms = 30000;
    rc = rq_conn_open(&c, o->zUrl, &ro, err);
    if (!rc) rc = ensure_group(c, zQueue, err);
    if (!rc) rc = exec_conn_open(sql, &ec, err);
    if (!rc) wlog(o, "worker %s on %s, stream %s", zConsumer, rq_conn_url(c), zQueue);
    while (!rc && !(o->pbStop && *o->pbStop) && !(o->maxTasks && done >= o->maxTasks)) {
        RqReply *r = NULL;
        const RqReply *e = NULL;
        uint64_t now = bz_now_ms();
        if (now - lastClaim >= 1000) { /* entries a dead worker left pending */
            lastClaim = now;
            const char *a[] = {"XAUTOCLAIM", zQueue, GROUP, zConsumer, idle, "0-0", "COUNT", "1"};
            rc = rq_conn_command(c, 8, a, NULL, &r, err);
            if (rc) goto failed;
            const RqReply *list = rq_reply_at(r, 1);
            if (list && rq_reply_len(list) > 0) {
                e = rq_reply_at(list, 0);
                wlog(o, "claimed an entry idle for over %s ms", idle);
            }
        }
        if (!e) {
            rq_reply_free(r);
            r = NULL;
            const char *a[] = {"XREADGROUP", "GROUP", GROUP,    zConsumer, "COUNT", "1",
                               "BLOCK",      "1000",  "STREAMS", zQueue,   ">"};
            rc = rq_conn_command(c, 11, a, NULL, &r, err);
            if (rc) goto failed;
            /* [[stream, [[id, fields]]]] or nil */
            if (rq_reply_type(r) == RQ_ARRAY && rq_reply_len(r) > 0) {
                const RqReply *entries = rq_reply_at(rq_reply_at(r, 0), 1);
                if (entries && rq_reply_len(entries) > 0) e = rq_reply_at(entries, 0);
            }
        }
        Entry en;
        if (e && entry_parse(e, &en)) {
            rc = run_entry(c, ec, o, zQueue, &en, &out, err);
            done++;
        }
    failed:
        rq_reply_free(r);
        if (rc && worker_recover(c, o, zQueue, &delayMs, err)) rc = BZ_OK;
    }
    if (rc) bz_err_prefix(err, "worker %s", zConsumer);
    exec_conn_close(ec);
    rq_conn_close(c);
    bz_buf_free(&out);
    return rc;
}
