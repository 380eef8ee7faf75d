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

#include <errno.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

typedef struct RqArena RqArena;
/* The reader's privdata while building replies: the arena of the reply in progress. */
typedef struct RqBuild {
    RqArena *pArena;
} RqBuild;

struct RqConn {
    RqUrl url;
    RqOptions opts;
    redisContext *ctx; /* NULL or broken until reconnected */
    int bBroken;
    int nPending;  /* replies still to read in the current pipeline */
    int nDeferred; /* of those, replies of rq_conn_send_noreply to discard first */
    RqBuild build; /* the reader's privdata (reply arena in progress) */
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
/* ---- Reply arena ---------------------------------------------------------------
** hiredis builds replies through an object-function table; ours places every
** object of one top-level reply (redisReply structs, element arrays, string
** copies) in chunks owned by a header just before the root object, so a reply
** costs a few allocations instead of two per value, and one free walk.
** Rationale: an XREADGROUP page of 250 entries is ~1,500 objects; with
** malloc/free per object the allocator was the largest client-side cost of a
** stream drain. */

typedef struct RqChunk {
    struct RqChunk *pNext;
    size_t n, cap; /* bytes used / usable after the header */
} RqChunk;

struct RqArena {      /* sits just before the root object */
    RqChunk *pChunks; /* newest first */
    size_t nNext;     /* size of the next chunk */
};

#define RQ_ALIGN(n) (((n) + 15) & ~(size_t)15)
#define RQ_CHUNK_HDR RQ_ALIGN(sizeof(RqChunk))
#define RQ_ARENA_HDR RQ_ALIGN(sizeof(RqArena))

static void *arena_alloc(RqArena *a, size_t n) {
    RqChunk *k = a->pChunks;
    n = RQ_ALIGN(n);
    if (!k || k->cap - k->n < n) {
        size_t cap = BZ_MAX(a->nNext, n);
        k = bz_malloc(RQ_CHUNK_HDR + cap);
        if (!k) return NULL;
        k->n = 0;
        k->cap = cap;
        k->pNext = a->pChunks;
        a->pChunks = k;
        if (a->nNext < (64u << 10)) a->nNext *= 2;
    }
    k->n += n;
    return (char *)k + RQ_CHUNK_HDR + k->n - n;
}

/* A new reply object for task t with extra bytes after it (string or elements). */
static redisReply *arena_object(const redisReadTask *t, int type, size_t nExtra) {
    RqBuild *b = t->privdata;
    redisReply *r;
    if (!b) return NULL;
    if (!t->parent) { /* root: a new arena, its header first in the first chunk */
        RqChunk *k;
        size_t need = RQ_ARENA_HDR + RQ_ALIGN(sizeof(redisReply)) + RQ_ALIGN(nExtra);
        size_t cap = BZ_MAX((size_t)1024, need);
        k = bz_malloc(RQ_CHUNK_HDR + cap);
        if (!k) return NULL;
        k->pNext = NULL;
        k->cap = cap;
        k->n = RQ_ARENA_HDR;
        b->pArena = (RqArena *)((char *)k + RQ_CHUNK_HDR);
        b->pArena->pChunks = k;
        b->pArena->nNext = 8192;
    } else if (!b->pArena) {
        return NULL;
    }
    r = arena_alloc(b->pArena, RQ_ALIGN(sizeof(redisReply)) + nExtra);
    if (!r) return NULL;
    memset(r, 0, sizeof *r);
    r->type = type;
    if (t->parent) {
        redisReply *parent = t->parent->obj;
        parent->element[t->idx] = r;
    }
    return r;
}

static void *build_string(const redisReadTask *t, char *z, size_t n) {
    redisReply *r = arena_object(t, t->type, n + 1);
    if (!r) return NULL;
    r->str = (char *)r + RQ_ALIGN(sizeof(redisReply));
    memcpy(r->str, z, n);
    r->str[n] = 0;
    r->len = n;
    return r;
}
static void *build_array(const redisReadTask *t, int n) {
    redisReply *r =
        arena_object(t, REDIS_REPLY_ARRAY, n > 0 ? sizeof(redisReply *) * (size_t)n : 0);
    if (!r) return NULL;
    if (n > 0) {
        r->element = (redisReply **)((char *)r + RQ_ALIGN(sizeof(redisReply)));
        memset(r->element, 0, sizeof(redisReply *) * (size_t)n);
    }
    r->elements = n > 0 ? (size_t)n : 0;
    return r;
}
static void *build_integer(const redisReadTask *t, long long v) {
    redisReply *r = arena_object(t, REDIS_REPLY_INTEGER, 0);
    if (r) r->integer = v;
    return r;
}
static void *build_nil(const redisReadTask *t) {
    return arena_object(t, REDIS_REPLY_NIL, 0);
}
static void build_free(void *p) {
    RqChunk *k, *next;
    if (!p) return;
    k = ((RqArena *)((char *)p - RQ_ARENA_HDR))->pChunks;
    while (k) { /* the first chunk, holding the header, is last in the list */
        next = k->pNext;
        bz_free(k);
        k = next;
    }
}
static redisReplyObjectFunctions build_fns = {build_string, build_array, build_integer, build_nil,
                                              build_free};

void rq_reply_free(RqReply *r) {
    build_free(r);
}

int rq_reply_parse(const char *z, size_t n, RqReply **ppOut, BzErr *err) {
    redisReader *rd = redisReaderCreateWithFunctions(&build_fns);
    RqBuild b = {0};
    void *out = NULL;
    int rc;
    *ppOut = NULL;
    if (!rd) return bz_err(err, BZ_NOMEM, "out of memory");
    rd->privdata = &b;
    rc = redisReaderFeed(rd, z, n);
    if (rc == REDIS_OK) rc = redisReaderGetReply(rd, &out);
    if (rc != REDIS_OK || !out) {
        bz_err(err, BZ_CORRUPT, "bad RESP reply: %s", rc != REDIS_OK ? rd->errstr : "incomplete");
        build_free(out);
        redisReaderFree(rd);
        return BZ_CORRUPT;
    }
    redisReaderFree(rd);
    *ppOut = out;
    return BZ_OK;
}

/* ---- Skipping replies --------------------------------------------------------
** A reader whose object functions allocate nothing: every value is the same
** static sentinel, and the first error reply at any depth is copied into the
** RqSkip passed as the reader's privdata.
** Rationale: a MULTI of 100k XADDs answers with 100k +QUEUED lines and an EXEC
** array of 100k ids; building (and freeing) 200k redisReply objects for them
** costs more client time than Redis spends adding the entries. */

typedef struct RqSkip {
    int bErr;
    char zErr[256];
} RqSkip;

static char skip_obj;

static void *skip_string(const redisReadTask *t, char *z, size_t n) {
    RqSkip *s = t->privdata;
    if (t->type == REDIS_REPLY_ERROR && s && !s->bErr) {
        s->bErr = 1;
        snprintf(s->zErr, sizeof s->zErr, "%.*s", (int)BZ_MIN(n, sizeof s->zErr - 1), z);
    }
    return &skip_obj;
}
static void *skip_array(const redisReadTask *t, int n) {
    (void)t, (void)n;
    return &skip_obj;
}
static void *skip_integer(const redisReadTask *t, long long v) {
    (void)t, (void)v;
    return &skip_obj;
}
static void *skip_nil(const redisReadTask *t) {
    (void)t;
    return &skip_obj;
}
static void skip_free(void *p) {
    (void)p;
}
static redisReplyObjectFunctions skip_fns = {skip_string, skip_array, skip_integer, skip_nil,
                                             skip_free};

int rq_reply_scan(const char *z, size_t n, int nReply, char *zErr, size_t nErr, BzErr *err) {
    redisReader *rd = redisReaderCreateWithFunctions(&skip_fns);
    RqSkip skip = {0};
    void *out = NULL;
    int i, rc = REDIS_OK;
    if (zErr && nErr) zErr[0] = 0;
    if (!rd) return bz_err(err, BZ_NOMEM, "out of memory");
    rd->privdata = &skip;
    rc = redisReaderFeed(rd, z, n);
    for (i = 0; i < nReply && rc == REDIS_OK; i++) {
        out = NULL;
        rc = redisReaderGetReply(rd, &out);
        if (rc == REDIS_OK && !out) break;
    }
    if (rc != REDIS_OK || i < nReply) {
        bz_err(err, BZ_CORRUPT, "bad RESP reply: %s", rc != REDIS_OK ? rd->errstr : "incomplete");
        redisReaderFree(rd);
        return BZ_CORRUPT;
    }
    redisReaderFree(rd);
    if (!skip.bErr) return BZ_OK;
    if (zErr && nErr) snprintf(zErr, nErr, "%s", skip.zErr);
    return BZ_ERROR;
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

/* A failed raw send: mark the connection broken. */
static int send_error(RqConn *c, int e, BzErr *err) {
    c->bBroken = 1;
    c->nPending = c->nDeferred = 0;
    if (e == EAGAIN || e == EWOULDBLOCK)
        return bz_err(err, BZ_TIMEOUT, "%s: send: timed out", c->url.zRedacted);
    return bz_err(err, BZ_IO, "%s: send: %s", c->url.zRedacted, strerror(e));
}

/* Send what hiredis holds in its output buffer. hiredis 0.14 writes with
** write(2), and a write to a connection the server has closed raises SIGPIPE,
** whose default action kills the host process (the sqlite3 shell, a worker);
** send(2) with MSG_NOSIGNAL returns EPIPE instead. Every byte buzzlite sends
** goes through here or through rq_conn_write_raw, so hiredis itself only
** reads (redisGetReply writes nothing when the buffer is empty). */
static int flush_out(RqConn *c, BzErr *err) {
    size_t off = 0, n = sdslen(c->ctx->obuf);
    while (off < n) {
        ssize_t k = send(c->ctx->fd, c->ctx->obuf + off, n - off, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            sdsclear(c->ctx->obuf);
            return send_error(c, errno, err);
        }
        off += (size_t)k;
    }
    sdsclear(c->ctx->obuf);
    return BZ_OK;
}

/* Run a setup command (AUTH, SELECT) on a fresh context. */
static int setup_cmd(RqConn *c, int argc, const char **argv, int code_on_error, BzErr *err) {
    void *pr = NULL;
    redisReply *r;
    int rc;
    if (redisAppendCommandArgv(c->ctx, argc, argv, NULL) != REDIS_OK) return ctx_error(c, argv[0], err);
    if ((rc = flush_out(c, err)) != BZ_OK) return rc;
    if (redisGetReply(c->ctx, &pr) != REDIS_OK || !pr) return ctx_error(c, argv[0], err);
    r = pr;
    if (r->type == REDIS_REPLY_ERROR) {
        bz_err(err, code_on_error, "%s: %s: %s", c->url.zRedacted, argv[0], r->str);
        rq_reply_free(r);
        c->bBroken = 1;
        return code_on_error;
    }
    rq_reply_free(r);
    return BZ_OK;
}

/* (Re)connect once: TCP, AUTH, SELECT. */
static int connect_once(RqConn *c, BzErr *err) {
    if (c->ctx) redisFree(c->ctx);
    c->ctx = redisConnectWithTimeout(c->url.zHost, c->url.port, ms_tv(c->opts.connect_timeout_ms));
    c->nPending = c->nDeferred = 0;
    if (!c->ctx || c->ctx->err) return ctx_error(c, "connect", err);
    c->build.pArena = NULL;
    c->ctx->reader->fn = &build_fns;
    c->ctx->reader->privdata = &c->build;
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


int rq_conn_write_raw(RqConn *c, const char *z, size_t n, int nCmd, BzErr *err) {
    int rc;
    if (c->nPending == 0 && (rc = ensure(c, err)) != BZ_OK) return rc;
    if ((rc = flush_out(c, err)) != BZ_OK) return rc; /* whatever hiredis holds goes first */
    while (n > 0) {
        ssize_t k = send(c->ctx->fd, z, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            return send_error(c, errno, err);
        }
        z += k;
        n -= (size_t)k;
    }
    c->nPending += nCmd;
    return BZ_OK;
}

int rq_conn_send_raw_noreply(RqConn *c, const char *z, size_t n, BzErr *err) {
    int rc = rq_conn_write_raw(c, z, n, 1, err);
    if (rc == BZ_OK) c->nDeferred++;
    return rc;
}

int rq_conn_skip_replies(RqConn *c, int n, BzErr *err) {
    RqSkip skip = {0};
    redisReplyObjectFunctions *fn;
    void *r = NULL;
    int i;
    if (c->bBroken || !c->ctx) return bz_err(err, BZ_IO, "%s: connection lost", c->url.zRedacted);
    if ((i = flush_out(c, err)) != BZ_OK) return i;
    while (c->nDeferred > 0) { /* replies of rq_conn_send_noreply, with the usual objects */
        if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) return ctx_error(c, "read reply", err);
        rq_reply_free(r);
        r = NULL;
        c->nDeferred--;
        if (c->nPending > 0) c->nPending--;
    }
    fn = c->ctx->reader->fn;
    c->ctx->reader->fn = &skip_fns;
    c->ctx->reader->privdata = &skip;
    for (i = 0; i < n; i++) {
        if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
            /* The reader may hold a partial reply made of sentinels: it keeps the
            ** skipping functions until the broken context is freed. */
            c->ctx->reader->privdata = NULL;
            return ctx_error(c, "read reply", err);
        }
        if (c->nPending > 0) c->nPending--;
    }
    c->ctx->reader->fn = fn;
    c->ctx->reader->privdata = &c->build;
    if (skip.bErr) return bz_err(err, BZ_ERROR, "%s: %s", c->url.zRedacted, skip.zErr);
    return BZ_OK;
}

int rq_conn_skip_ready(RqConn *c, int nMax, int *pnDone, BzErr *err) {
    RqSkip skip = {0};
    char buf[16384];
    void *r = NULL;
    ssize_t k;
    *pnDone = 0;
    if (c->bBroken || !c->ctx) return bz_err(err, BZ_IO, "%s: connection lost", c->url.zRedacted);
    if (nMax <= 0 || c->nDeferred > 0) return BZ_OK;
    for (;;) {
        k = recv(c->ctx->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k > 0) {
            if (redisReaderFeed(c->ctx->reader, buf, (size_t)k) != REDIS_OK)
                return ctx_error(c, "read reply", err);
            if ((size_t)k < sizeof buf) break;
            continue;
        }
        if (k == 0) {
            c->bBroken = 1;
            c->nPending = c->nDeferred = 0;
            return bz_err(err, BZ_IO, "%s: read reply: connection closed by server",
                          c->url.zRedacted);
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return send_error(c, errno, err);
    }
    c->ctx->reader->fn = &skip_fns;
    c->ctx->reader->privdata = &skip;
    while (*pnDone < nMax) {
        r = NULL;
        if (redisReaderGetReply(c->ctx->reader, &r) != REDIS_OK) {
            c->ctx->reader->privdata = NULL;
            return ctx_error(c, "read reply", err);
        }
        if (!r) break;
        (*pnDone)++;
        if (c->nPending > 0) c->nPending--;
    }
    /* A partial reply made of sentinels keeps the skipping functions (only
    ** rq_conn_skip_replies may finish it). */
    if (c->ctx->reader->ridx == -1) {
        c->ctx->reader->fn = &build_fns;
        c->ctx->reader->privdata = &c->build;
    } else {
        c->ctx->reader->privdata = NULL;
    }
    if (skip.bErr) return bz_err(err, BZ_ERROR, "%s: %s", c->url.zRedacted, skip.zErr);
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
    int rc = rq_conn_append(c, argc, argv, argvlen, err);
    if (rc) return rc;
    if ((rc = flush_out(c, err)) != BZ_OK) return rc;
    c->nDeferred++;
    return BZ_OK;
}

void rq_conn_defer(RqConn *c, int n) {
    if (!c->bBroken && c->ctx && n > 0) c->nDeferred += n;
}

int rq_conn_get_reply(RqConn *c, RqReply **ppReply, BzErr *err) {
    void *r = NULL;
    int rc;
    *ppReply = NULL;
    if (c->bBroken || !c->ctx) return bz_err(err, BZ_IO, "%s: connection lost", c->url.zRedacted);
    if ((rc = flush_out(c, err)) != BZ_OK) return rc;
    while (c->nDeferred > 0) {
        if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) return ctx_error(c, "read reply", err);
        rq_reply_free(r);
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
