/*
** rq_conn.c: one connection to a Redis server through hiredis. hiredis types
** stay in this file; callers see RqConn and the opaque RqReply.
**
**     RqConn *c;
**     BzErr err = {0};
**     rq_conn_open(&c, "redis://:pw@127.0.0.1:6379/0", NULL, &err);
**     rq_conn_append(c, 3, (const char *[]){"RPUSH", "q", "a"}, NULL, &err);
**     rq_conn_append(c, 2, (const char *[]){"LLEN", "q"}, NULL, &err);
**     rq_conn_get_reply(c, &r1, &err);  rq_conn_get_reply(c, &r2, &err);
**     rq_conn_close(c);
**
** Reconnect rule: a connection that failed (I/O error, timeout, EOF) is
** marked broken. The *next* command reconnects first, retrying with an
** exponential backoff (50 ms doubling up to 1 s) for at most reconnect_ms.
** The command that hit the failure is never retried here: the server may have
** executed it, and only the caller knows whether repeating it is safe.
**
** Rationale (TLS): Debian's hiredis 0.14 has no TLS support, so rediss://
** is refused with a clear "not supported" error instead of silently falling
** back to plain text.
*/
#include "redis/rq.h"

#include <hiredis/hiredis.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

struct RqConn {
    RqUrl url;
    RqOptions opts;
    redisContext *ctx; /* NULL or broken until reconnected */
    int bBroken;
    int nPending;  /* replies still to read in the current pipeline */
    int nDeferred; /* of those, replies of rq_conn_send_noreply to discard first */
};

/* ---- Replies ------------------------------------------------------------ */

int rq_reply_type(const RqReply *r) {
    return r ? r->type : RQ_NIL;
}
long long rq_reply_int(const RqReply *r) {
    return r && r->type == RQ_INTEGER ? r->integer : 0;
}
const char *rq_reply_str(const RqReply *r, size_t *pn) {
    if (!r || (r->type != RQ_STRING && r->type != RQ_STATUS && r->type != RQ_ERROR)) {
        if (pn) *pn = 0;
        return NULL;
    }
    if (pn) *pn = r->len;
    return r->str;
}
size_t rq_reply_len(const RqReply *r) {
    return r && r->type == RQ_ARRAY ? r->elements : 0;
}
const RqReply *rq_reply_at(const RqReply *r, size_t i) {
    return r && r->type == RQ_ARRAY && i < r->elements ? r->element[i] : NULL;
}
void rq_reply_free(RqReply *r) {
    if (r) freeReplyObject(r);
}

int rq_reply_parse(const char *z, size_t n, RqReply **ppOut, BzErr *err) {
    redisReader *rd = redisReaderCreate();
    void *out = NULL;
    int rc;
    *ppOut = NULL;
    if (!rd) return bz_err(err, BZ_NOMEM, "out of memory");
    rc = redisReaderFeed(rd, z, n);
    if (rc == REDIS_OK) rc = redisReaderGetReply(rd, &out);
    if (rc != REDIS_OK || !out) {
        bz_err(err, BZ_CORRUPT, "bad RESP reply: %s", rc != REDIS_OK ? rd->errstr : "incomplete");
        if (out) freeReplyObject(out);
        redisReaderFree(rd);
        return BZ_CORRUPT;
    }
    redisReaderFree(rd);
    *ppOut = out;
    return BZ_OK;
}

/* ---- RESP encoding ---------------------------------------------------------- */

void rq_resp_cmd(BzBuf *b, int argc, const char **argv, const size_t *argvlen) {
    int i;
    bz_buf_printf(b, "*%d\r\n", argc);
    for (i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        bz_buf_printf(b, "$%zu\r\n", n);
        bz_buf_append(b, argv[i], n);
        bz_buf_append(b, "\r\n", 2);
    }
}

/* ---- Connection ------------------------------------------------------------- */

static struct timeval ms_tv(int ms) {
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

/* Describe a hiredis context failure; returns BZ_IO or BZ_TIMEOUT. */
static int ctx_error(RqConn *c, const char *zWhat, BzErr *err) {
    const char *z = c->ctx ? c->ctx->errstr : "cannot allocate connection";
    int code = BZ_IO;
    if (c->ctx && c->ctx->err == REDIS_ERR_IO && strstr(z, "temporarily unavailable")) {
        code = BZ_TIMEOUT;
        z = "timed out";
    } else if (c->ctx && c->ctx->err == REDIS_ERR_EOF) {
        z = "connection closed by server";
    }
    c->bBroken = 1;
    c->nPending = c->nDeferred = 0;
    return bz_err(err, code, "%s: %s: %s", c->url.zRedacted, zWhat, z);
}

/* Run a setup command (AUTH, SELECT) on a fresh context. */
static int setup_cmd(RqConn *c, int argc, const char **argv, int code_on_error, BzErr *err) {
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, NULL);
    if (!r) return ctx_error(c, argv[0], err);
    if (r->type == REDIS_REPLY_ERROR) {
        bz_err(err, code_on_error, "%s: %s: %s", c->url.zRedacted, argv[0], r->str);
        freeReplyObject(r);
        c->bBroken = 1;
        return code_on_error;
    }
    freeReplyObject(r);
    return BZ_OK;
}

/* (Re)connect once: TCP, AUTH, SELECT. */
static int connect_once(RqConn *c, BzErr *err) {
    if (c->ctx) redisFree(c->ctx);
    c->ctx = redisConnectWithTimeout(c->url.zHost, c->url.port, ms_tv(c->opts.connect_timeout_ms));
    c->nPending = c->nDeferred = 0;
    if (!c->ctx || c->ctx->err) return ctx_error(c, "connect", err);
    if (redisSetTimeout(c->ctx, ms_tv(c->opts.timeout_ms)) != REDIS_OK)
        return ctx_error(c, "set timeout", err);
    redisEnableKeepAlive(c->ctx);
    if (c->url.zPassword) {
        const char *argv[3] = {"AUTH", c->url.zUser, c->url.zPassword};
        int rc = c->url.zUser
                     ? setup_cmd(c, 3, argv, BZ_AUTH, err)
                     : setup_cmd(c, 2, (const char *[]){"AUTH", c->url.zPassword}, BZ_AUTH, err);
        if (rc) return rc;
    }
    if (c->url.db != 0) {
        char zDb[16];
        snprintf(zDb, sizeof zDb, "%d", c->url.db);
        int rc = setup_cmd(c, 2, (const char *[]){"SELECT", zDb}, BZ_MISUSE, err);
        if (rc) return rc;
    }
    c->bBroken = 0;
    return BZ_OK;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Make sure the connection is usable, reconnecting with backoff. Auth and
** configuration errors are not retried. */
static int ensure(RqConn *c, BzErr *err) {
    uint64_t t0;
    int delay = 50, rc;
    if (c->ctx && !c->bBroken && !c->ctx->err) return BZ_OK;
    t0 = bz_now_ms();
    for (;;) {
        rc = connect_once(c, err);
        if (rc == BZ_OK || (rc != BZ_IO && rc != BZ_TIMEOUT)) return rc;
        if (bz_now_ms() - t0 + (uint64_t)delay > (uint64_t)c->opts.reconnect_ms) return rc;
        sleep_ms(delay);
        delay = BZ_MIN(delay * 2, 1000);
    }
}

int rq_conn_open(RqConn **ppConn, const char *zUrl, const RqOptions *opts, BzErr *err) {
    RqConn *c;
    int rc;
    *ppConn = NULL;
    c = bz_calloc(1, sizeof *c);
    if (!c) return bz_err(err, BZ_NOMEM, "out of memory");
    rc = rq_url_parse(&c->url, zUrl, err);
    if (rc) goto fail;
    if (c->url.bTls) {
        rc = bz_err(err, BZ_UNSUPPORTED,
                    "%s: rediss:// (TLS) is not supported by this build (hiredis without TLS)",
                    c->url.zRedacted);
        goto fail;
    }
    if (opts) c->opts = *opts;
    if (c->opts.connect_timeout_ms <= 0) c->opts.connect_timeout_ms = 2000;
    if (c->opts.timeout_ms <= 0) c->opts.timeout_ms = 5000;
    if (c->opts.reconnect_ms == 0) c->opts.reconnect_ms = 5000;
    if (c->opts.reconnect_ms < 0) c->opts.reconnect_ms = 0; /* -1: never retry */
    rc = connect_once(c, err);
    if (rc) goto fail;
    *ppConn = c;
    return BZ_OK;
fail:
    rq_conn_close(c);
    return rc;
}

void rq_conn_close(RqConn *c) {
    if (!c) return;
    if (c->ctx) redisFree(c->ctx);
    rq_url_free(&c->url);
    bz_free(c);
}

const char *rq_conn_url(const RqConn *c) {
    return c->url.zRedacted;
}
int rq_conn_broken(const RqConn *c) {
    return !c->ctx || c->bBroken || c->ctx->err;
}

void rq_conn_set_read_timeout(RqConn *c, int ms) {
    if (c->ctx && !c->bBroken) redisSetTimeout(c->ctx, ms_tv(ms > 0 ? ms : c->opts.timeout_ms));
}

int rq_conn_append_raw(RqConn *c, const char *z, size_t n, int nCmd, BzErr *err) {
    int rc;
    if (c->nPending == 0 && (rc = ensure(c, err)) != BZ_OK) return rc;
    if (redisAppendFormattedCommand(c->ctx, z, n) != REDIS_OK) return ctx_error(c, "send", err);
    c->nPending += nCmd;
    return BZ_OK;
}

int rq_conn_append(RqConn *c, int argc, const char **argv, const size_t *argvlen, BzErr *err) {
    int rc;
    if (c->nPending == 0 && (rc = ensure(c, err)) != BZ_OK) return rc;
    if (redisAppendCommandArgv(c->ctx, argc, argv, argvlen) != REDIS_OK)
        return ctx_error(c, argv[0], err);
    c->nPending++;
    return BZ_OK;
}

int rq_conn_send_noreply(RqConn *c, int argc, const char **argv, const size_t *argvlen,
                         BzErr *err) {
    int done = 0, rc = rq_conn_append(c, argc, argv, argvlen, err);
    if (rc) return rc;
    while (!done)
        if (redisBufferWrite(c->ctx, &done) != REDIS_OK) return ctx_error(c, argv[0], err);
    c->nDeferred++;
    return BZ_OK;
}

int rq_conn_get_reply(RqConn *c, RqReply **ppReply, BzErr *err) {
    void *r = NULL;
    *ppReply = NULL;
    if (c->bBroken || !c->ctx) return bz_err(err, BZ_IO, "%s: connection lost", c->url.zRedacted);
    while (c->nDeferred > 0) {
        if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) return ctx_error(c, "read reply", err);
        freeReplyObject(r);
        r = NULL;
        c->nDeferred--;
        if (c->nPending > 0) c->nPending--;
    }
    if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) return ctx_error(c, "read reply", err);
    if (c->nPending > 0) c->nPending--;
    *ppReply = r;
    if (((redisReply *)r)->type == REDIS_REPLY_ERROR)
        return bz_err(err, BZ_ERROR, "%s: %s", c->url.zRedacted, ((redisReply *)r)->str);
    return BZ_OK;
}

int rq_conn_command(RqConn *c, int argc, const char **argv, const size_t *argvlen,
                    RqReply **ppReply, BzErr *err) {
    int rc;
    *ppReply = NULL;
    rc = rq_conn_append(c, argc, argv, argvlen, err);
    if (rc) return rc;
    return rq_conn_get_reply(c, ppReply, err);
}
