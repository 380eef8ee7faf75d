/*
** vtab_redis.c: Redis queues as SQL. The `redis_list` and `redis_stream`
** virtual tables and the `redis_command(url, cmd, arg...)` function.
**
**   CREATE VIRTUAL TABLE jobs USING redis_list(url='redis://127.0.0.1:6379/0', key='jobs');
**   INSERT INTO jobs(value) SELECT 'job ' || value FROM generate_series(1, 10);  -- RPUSH
**   SELECT value FROM jobs WHERE idx < 5;                                        -- peek
**   CREATE VIRTUAL TABLE work USING redis_list(key='jobs', consume=1, consumer='w1');
**   INSERT INTO done SELECT value FROM work LIMIT 100;   -- reliably take 100 jobs
**
**   CREATE VIRTUAL TABLE ev USING redis_stream(key='events', group='etl', consumer='c1',
**                                              columns='kind TEXT, n INTEGER');
**   INSERT OR IGNORE INTO local(id, kind, n) SELECT id, kind, n FROM ev LIMIT 1000;
**
** Options (both tables): url (default $REDIS_URL), key (required),
** connect_timeout_ms (2000), timeout_ms (5000), reconnect_ms (5000),
** block_ms (0: never wait for an empty queue), batch (500 rows per round trip),
** max_bytes (512 MiB per message).
** redis_list: consume (0), consumer, visibility_timeout_ms (30000).
** redis_stream: group, consumer, columns, maxlen, claim_idle_ms (60000; 0 = off).
**
** ---- Transactions ---------------------------------------------------------
** Writes (INSERT = RPUSH / XADD, DELETE = LREM / XDEL) are buffered in the
** virtual table and reach Redis as one MULTI ... EXEC, EXEC sent at COMMIT
** from xSync, so a Redis failure fails the COMMIT; ROLLBACK (and ROLLBACK TO)
** drops them. Past 64 KiB the commands no savepoint can take back are
** streamed into the MULTI on a second connection before COMMIT (ops_stream);
** ROLLBACK then sends DISCARD. An autocommit statement is its own transaction.
**
** Consuming reads (redis_list consume=1, redis_stream with group=) take
** messages with a server-side step that leaves them recoverable, and
** acknowledge them from xCommit, which SQLite calls only after the local
** transaction is durable:
**   list:   LMOVE key -> <key>:bz:proc:<consumer> (a Lua script, one round trip
**           per page); COMMIT trims them off the processing list; ROLLBACK moves
**           them back to the head of the queue. Consumers register in the hash
**           <key>:bz:consumers (field = consumer, value = "<server ms> <token>").
**           At the start of each transaction a consumer moves back its own
**           leftovers and those of consumers silent for visibility_timeout_ms.
**           Every later step checks the token, so a consumer that was declared
**           dead and recovered never trims or moves what is no longer its own.
**   stream: XREADGROUP / XAUTOCLAIM put entries in this consumer's pending
**           list; COMMIT sends XACK; after a ROLLBACK or a crash they stay
**           pending and are read again (by this consumer, or claimed by
**           another after claim_idle_ms).
** Read order in a consuming stream SELECT: this consumer's own pending
** entries, then others' entries idle for claim_idle_ms (XAUTOCLAIM), then new
** ones (XREADGROUP >). Rationale: recovering first keeps old entries from
** starving behind a busy stream and keeps delivery close to stream order.
**
** SQLite calls xBegin/xCommit only for virtual tables that are written. A
** consuming read therefore enlists its table in the transaction by running
** the no-op `DELETE FROM <table> WHERE 0` (which makes SQLite call xBegin).
** When the statement is a read-only autocommit SELECT that no transaction
** survives, the enlisted transaction ends at once; such a statement is its own
** transaction and what it returned is acknowledged when its cursor closes.
**
** Delivery rule ("only rows returned to SQLite count"): a row counts as read
** once SQLite called xColumn on it or called xNext while positioned on it.
** Rows fetched ahead but never reached (LIMIT, an error, a statement reset
** early) are not: list messages are moved back to the head of the queue when
** the cursor closes, stream entries stay pending and are never acknowledged.
** Consequences: a WHERE clause on a consuming table consumes the rows it
** rejects; only one consuming cursor per table may be open at a time; a
** consuming table should be the outer (or only) table of a join.
**
** idxNum bits (xBestIndex -> xFilter; argv follows the bits in this order):
**   0x01  key =  ?   (idx for lists, id for streams)
**   0x02  key >  ?
**   0x04  key >= ?
**   0x08  key <  ?
**   0x10  key <= ?
**   0x20  LIMIT ?
**   0x40  OFFSET ?
**   0x80  ORDER BY key DESC (streams: XREVRANGE)
** Consuming tables use only 0x20/0x40. Stream id comparisons are in stream
** order (numeric), not text order, so they are always pushed down.
**
** Rationale (DIRECTONLY): these tables reach outside the process and change
** remote state, so like csv.c they may not be used from triggers or views.
*/
#include "bz_ext.h"
#include "redis/rq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RV_LIST 1
#define RV_STREAM 2

#define IX_EQ 0x01
#define IX_GT 0x02
#define IX_GE 0x04
#define IX_LT 0x08
#define IX_LE 0x10
#define IX_LIMIT 0x20
#define IX_OFFSET 0x40
#define IX_DESC 0x80

#define MAX_SAVEPOINTS 64

/* Declared stream column types. */
enum { CT_TEXT, CT_INT, CT_REAL, CT_BLOB, CT_NUM };

typedef struct RedisVtab {
    sqlite3_vtab base;
    sqlite3 *db;
    int eKind;
    char *zSchema, *zTable; /* for the enlisting DELETE */
    char *zUrl;
    char *zKey;
    RqOptions copts;
    RqConn *pConn; /* opened in xCreate, lazily after xConnect */
    int64_t block_ms, batch, max_bytes;
    /* list */
    int bConsume;
    char *zConsumer;
    char *zProc, *zProcPrefix, *zReg;
    int64_t visibility_ms;
    /* stream */
    char *zGroup;
    int nField;     /* declared columns, 0 = a `data` JSON column */
    char **azField; /* field names */
    int *aType;
    int64_t maxlen, claim_idle_ms;
    int bGroupReady;
    int bPelClean;        /* our pending list holds nothing but this transaction's reads */
    uint64_t lastClaimMs; /* when an XAUTOCLAIM scan last completed */
    /* read-ahead for the next statement (see "Read-ahead across statements") */
    int bAheadVt;             /* an XREADGROUP > for it is in flight on pConn */
    RqReply *pHeld;           /* owns entries fetched and not returned (ours, pending) */
    const RqReply *pHeldRows; /* their array; rows iHeld..nHeld-1 are still to return */
    size_t iHeld, nHeld;
    uint64_t heldMs; /* when they were asked for */
    /* transaction */
    int bInTxn, bEnlisting, nOpenConsumers;
    BzBuf ops; /* buffered writes, RESP, not sent yet */
    int nOps;
    /* writes streamed into a MULTI on pWConn before COMMIT (see ops_stream) */
    RqConn *pWConn;
    int bMulti;         /* MULTI sent on pWConn in this transaction */
    int bWLost;         /* pWConn failed after MULTI: nothing applied, only ROLLBACK is left */
    int nWUnread;       /* replies on pWConn still to read (+OK, +QUEUED) */
    int64_t nSentBytes; /* ops bytes and commands already streamed: savepoint */
    int64_t nSentOps;   /* marks count from the start of the transaction */
    BzBuf push;         /* lists: values of the RPUSH being built (RESP bulk strings);
                        ** streams: scratch for the fields of one XADD and for XACK */
    int nPush;
    int nSvpt;
    struct {
        int64_t nOpsBytes; /* marks since the transaction began (streamed bytes included) */
        int64_t nOps;
        int64_t nDelivered;
    } aSvpt[MAX_SAVEPOINTS];
    /* consumption within the current transaction */
    char zToken[33];
    int bListStarted, bListDirty;
    int64_t nListDelivered; /* list: delivered items, the head of the processing list */
    RqIdSet acks;           /* stream: delivered entry ids */
} RedisVtab;

typedef struct RedisCursor {
    sqlite3_vtab_cursor base;
    RqReply *pPage;       /* owns the current page */
    const RqReply *pRows; /* array of values (lists) or entries (streams) */
    size_t iRow, nRow;
    int bEof, bMarked, bStmtAck; /* bStmtAck: acknowledge at close (no transaction) */
    int64_t iIdx;                /* list idx of the current row; row counter otherwise */
    int idxNum;
    int64_t nWant;     /* rows SQLite may still want (LIMIT+OFFSET), -1 = all */
    int64_t nReturned; /* rows marked delivered by this cursor */
    int64_t nFetched;  /* list consume: items moved to the processing list */
    /* list peek bounds */
    int64_t lo, hi;
    /* stream range */
    char zStart[48], zEnd[48];
    int bMore;
    /* consuming stream */
    int phase;
    int bAhead;             /* an XREADGROUP > was sent and its reply not read yet */
    int bHoldable;          /* the page holds new or held entries (see stream_cursor_end) */
    uint64_t askMs, pageMs; /* when the last XREADGROUP > / the current page was asked for */
    int bBlocking;          /* the read timeout is raised for a blocking read */
    int64_t nAsked;         /* COUNT of the last XREADGROUP > */
    char zPendId[48], zClaimCursor[48];
    BzBuf tmp;
} RedisCursor;

/* ---- Small helpers ---------------------------------------------------- */

static int set_err(RedisVtab *p, int code, const char *fmt, ...) {
    BzErr e = {0};
    va_list ap;
    e.code = code;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return bz_vtab_error(&p->base, &e);
}

/* Translate err at the SQLite boundary, naming the table and key. */
static int vt_error(RedisVtab *p, BzErr *err) {
    bz_err_prefix(err, "%s(key='%s')", p->eKind == RV_LIST ? "redis_list" : "redis_stream",
                  p->zKey);
    return bz_vtab_error(&p->base, err);
}

static void held_land(RedisVtab *p);

/* The table's connection, opened on first use. A read-ahead still in flight
** is read first, so replies stay in step with the commands sent after it. */
static int vt_conn(RedisVtab *p, BzErr *err) {
    if (p->bAheadVt) held_land(p);
    if (p->pConn) return BZ_OK;
    return rq_conn_open(&p->pConn, p->zUrl, &p->copts, err);
}

/* Run one command on the table's connection. Caller frees *pp. */
static int vt_cmd(RedisVtab *p, int argc, const char **argv, const size_t *lens, RqReply **pp,
                  BzErr *err) {
    int rc = vt_conn(p, err);
    *pp = NULL;
    if (rc) return rc;
    return rq_conn_command(p->pConn, argc, argv, lens, pp, err);
}

/* ---- Lua scripts for the reliable list ---------------------------------- */
/* KEYS: queue, proc, registry. Registry value: "<ms> <token>". */
#define LUA_NOW "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "
#define LUA_MINE                                                                                   \
    "local v = redis.call('HGET', KEYS[3], ARGV[2]) "                                              \
    "if not v or string.sub(v, -#ARGV[3]) ~= ARGV[3] then return -1 end "

/* ARGV: vt_ms, consumer, token, proc prefix. Returns the number of messages moved back. */
static const char LUA_BEGIN[] =
    LUA_NOW "local moved = 0 "
            "while redis.call('LMOVE', KEYS[2], KEYS[1], 'RIGHT', 'LEFT') do moved = moved + 1 end "
            "local all = redis.call('HGETALL', KEYS[3]) "
            "for i = 1, #all, 2 do "
            "  local ts = tonumber(string.match(all[i + 1], '^%d+')) "
            "  if all[i] ~= ARGV[2] and (not ts or ts + tonumber(ARGV[1]) < now) then "
            "    local p = ARGV[4] .. all[i] "
            "    while redis.call('LMOVE', p, KEYS[1], 'RIGHT', 'LEFT') do moved = moved + 1 end "
            "    redis.call('HDEL', KEYS[3], all[i]) "
            "  end "
            "end "
            "redis.call('HSET', KEYS[3], ARGV[2], now .. ' ' .. ARGV[3]) "
            "return moved";

/* ARGV: n, consumer, token. Returns the messages taken (array), or -1. */
static const char LUA_TAKE[] =
    LUA_MINE "local out = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1) "
             "if #out > 0 then "
             "  redis.call('LTRIM', KEYS[1], #out, -1) "
             "  for i = 1, #out, 1000 do "
             "    redis.call('RPUSH', KEYS[2], unpack(out, i, math.min(i + 999, #out))) "
             "  end "
             "end " LUA_NOW "redis.call('HSET', KEYS[3], ARGV[2], now .. ' ' .. ARGV[3]) "
             "return out";

/* ARGV: n, consumer, token. Moves the last n of the processing list back to
** the head of the queue, keeping their order. */
static const char LUA_GIVEBACK[] =
    LUA_MINE "local n = tonumber(ARGV[1]) "
             "local v = redis.call('LRANGE', KEYS[2], -n, -1) "
             "if #v > 0 then "
             "  redis.call('LTRIM', KEYS[2], 0, -#v - 1) "
             "  for i = #v, 1, -1000 do "
             "    local chunk = {} "
             "    for j = i, math.max(1, i - 999), -1 do chunk[#chunk + 1] = v[j] end "
             "    redis.call('LPUSH', KEYS[1], unpack(chunk)) "
             "  end "
             "end return 1";

/* ARGV: n, consumer, token. Acknowledges (drops) the first n of the processing list. */
static const char LUA_ACK[] =
    LUA_MINE "redis.call('LTRIM', KEYS[2], tonumber(ARGV[1]), -1) " LUA_NOW
             "redis.call('HSET', KEYS[3], ARGV[2], now .. ' ' .. ARGV[3]) return 1";

static int list_script(RedisVtab *p, const char *zLua, const char *zArg1, RqReply **pp,
                       BzErr *err) {
    const char *zArg4 = p->zProcPrefix;
    const char *argv[] = {"EVAL",  zLua,  "3",          p->zKey,   p->zProc,
                          p->zReg, zArg1, p->zConsumer, p->zToken, zArg4};
    int argc = zLua == LUA_BEGIN ? 10 : 9;
    return vt_cmd(p, argc, argv, NULL, pp, err);
}

/* Run a list script taking a count. Returns BZ_OK, an error status, or -1
** when the script found that this consumer's messages are no longer its own. */
static int list_script_n(RedisVtab *p, const char *zLua, int64_t n, BzErr *err) {
    char z[24];
    RqReply *r = NULL;
    int rc;
    snprintf(z, sizeof z, "%lld", (long long)n);
    rc = list_script(p, zLua, z, &r, err);
    if (rc == BZ_OK && rq_reply_type(r) == RQ_INTEGER && rq_reply_int(r) < 0) rc = -1;
    rq_reply_free(r);
    return rc;
}

/* Start of a transaction's consumption: recover leftovers, register. */
static int list_begin(RedisVtab *p, BzErr *err) {
    unsigned char raw[16];
    char zVt[24];
    RqReply *r = NULL;
    int rc, i;
    if (p->bListStarted)
        return p->bListDirty ? bz_err(err, BZ_ERROR,
                                      "an earlier failure left this "
                                      "transaction's messages uncertain; "
                                      "ROLLBACK and retry")
                             : BZ_OK;
    sqlite3_randomness(sizeof raw, raw);
    for (i = 0; i < 16; i++)
        snprintf(p->zToken + 2 * i, 3, "%02x", raw[i]);
    snprintf(zVt, sizeof zVt, "%lld", (long long)p->visibility_ms);
    rc = list_script(p, LUA_BEGIN, zVt, &r, err);
    rq_reply_free(r);
    if (rc == BZ_OK) {
        p->bListStarted = 1;
        p->nListDelivered = 0;
    }
    return rc;
}

/* ---- Buffered writes ------------------------------------------------------ */

static void push_flush(RedisVtab *p);

static const char zMulti[] = "*1\r\n$5\r\nMULTI\r\n", zExec[] = "*1\r\n$4\r\nEXEC\r\n";
static const char zDiscard[] = "*1\r\n$7\r\nDISCARD\r\n";

/* The streamed MULTI cannot complete: drop the write connection, which makes
** Redis discard the MULTI (nothing of it is applied), and refuse everything
** but ROLLBACK from now on. Returns rc. */
static int ops_lost(RedisVtab *p, int rc, BzErr *err) {
    rq_conn_close(p->pWConn);
    p->pWConn = NULL;
    p->bMulti = 0;
    p->bWLost = 1;
    p->nWUnread = 0;
    bz_err_prefix(err, "the transaction's writes were discarded (nothing applied)");
    return rc;
}

static int ops_lost_err(BzErr *err) {
    return bz_err(err, BZ_IO,
                  "an earlier failure discarded this transaction's writes (nothing was "
                  "applied); ROLLBACK and retry");
}

/* Stream the buffered writes that no ROLLBACK TO can take back any more into
** a MULTI on the write connection, once there are RV_STREAM_CHUNK bytes of
** them; Redis queues them while SQLite produces the next rows, and EXEC
** (ops_flush) or DISCARD (ops_discard) ends the MULTI.
** Rationale: an INSERT of 100k entries costs SQLite ~0.1 s and Redis
** 0.15-0.2 s to queue them; sent at COMMIT the two add up, streamed they
** overlap. A separate connection keeps reads of the same transaction out of
** the MULTI. If that connection fails before EXEC, it is closed, so Redis
** discards the MULTI: the transaction's writes are all or nothing. Client
** memory stays at about one chunk (plus what an open savepoint holds back);
** the +QUEUED replies are read as they arrive, so Redis keeps none queued. */
#define RV_STREAM_CHUNK (64u << 10)
static int ops_stream(RedisVtab *p, BzErr *err) {
    size_t n = p->ops.n;
    int64_t k = p->nOps;
    int nDone = 0, rc;
    if (p->nSvpt > 0) { /* only what comes before the oldest open savepoint */
        n = (size_t)(p->aSvpt[0].nOpsBytes - p->nSentBytes);
        k = p->aSvpt[0].nOps - p->nSentOps;
    }
    if (n < RV_STREAM_CHUNK || k <= 0 || p->ops.rc) return BZ_OK;
    if (p->bWLost) return ops_lost_err(err);
    if (!p->bMulti) {
        if (!p->pWConn && (rc = rq_conn_open(&p->pWConn, p->zUrl, &p->copts, err)) != BZ_OK)
            return rc; /* nothing sent yet */
        if ((rc = rq_conn_write_raw(p->pWConn, zMulti, sizeof zMulti - 1, 1, err)) != BZ_OK)
            return ops_lost(p, rc, err);
        p->bMulti = 1;
        p->nWUnread = 1;
    } else if (rq_conn_broken(p->pWConn)) { /* never reconnect inside the MULTI */
        return ops_lost(p, bz_err(err, BZ_IO, "%s: connection lost", rq_conn_url(p->pWConn)), err);
    }
    if ((rc = rq_conn_write_raw(p->pWConn, p->ops.data, n, (int)k, err)) != BZ_OK)
        return ops_lost(p, rc, err);
    p->nWUnread += (int)k;
    p->nSentBytes += (int64_t)n;
    p->nSentOps += k;
    memmove(p->ops.data, p->ops.data + n, p->ops.n - n);
    p->ops.n -= n;
    p->ops.data[p->ops.n] = 0;
    p->nOps -= (int)k;
    rc = rq_conn_skip_ready(p->pWConn, p->nWUnread, &nDone, err);
    p->nWUnread -= nDone;
    if (rc != BZ_OK) return ops_lost(p, rc, err); /* an error while queuing: EXEC would abort */
    return BZ_OK;
}

/* End a streamed MULTI that will not be executed (ROLLBACK). */
static void ops_discard(RedisVtab *p) {
    BzErr err = {0};
    if (p->bMulti) {
        if (rq_conn_broken(p->pWConn) ||
            rq_conn_write_raw(p->pWConn, zDiscard, sizeof zDiscard - 1, 1, &err) != BZ_OK ||
            rq_conn_skip_replies(p->pWConn, p->nWUnread + 1, &err) == BZ_IO ||
            rq_conn_broken(p->pWConn)) {
            rq_conn_close(p->pWConn); /* a closed connection discards the MULTI too */
            p->pWConn = NULL;
        }
    }
    p->bMulti = 0;
    p->bWLost = 0;
    p->nWUnread = 0;
    p->nSentBytes = p->nSentOps = 0;
}

/* Send the buffered writes as MULTI ... EXEC (the rest of a streamed MULTI, then
** EXEC, when ops_stream began one). All replies are read even after
** an error so the connection stays in step.
** Rationale: the block goes to the socket straight from the buffer and the
** 2 + nOps replies (+OK, +QUEUED per command, the EXEC array) are read
** without building reply objects; only the first error is kept. */
static int ops_flush(RedisVtab *p, BzErr *err) {
    int rc;
    if (p->bWLost) return ops_lost_err(err);
    push_flush(p);
    if (p->bMulti) { /* the rest, then EXEC, on the write connection */
        if (p->ops.rc) {
            rc = bz_err(err, p->ops.rc, "transaction too large to buffer");
            ops_discard(p);
            goto done;
        }
        if (rq_conn_broken(p->pWConn)) {
            rc =
                ops_lost(p, bz_err(err, BZ_IO, "%s: connection lost", rq_conn_url(p->pWConn)), err);
            goto done;
        }
        if ((p->nOps > 0 &&
             (rc = rq_conn_write_raw(p->pWConn, p->ops.data, p->ops.n, p->nOps, err)) != BZ_OK) ||
            (rc = rq_conn_write_raw(p->pWConn, zExec, sizeof zExec - 1, 1, err)) != BZ_OK) {
            ops_lost(p, rc, err);
            goto done;
        }
        rc = rq_conn_skip_replies(p->pWConn, p->nWUnread + p->nOps + 1, err);
        if (rq_conn_broken(p->pWConn)) { /* EXEC was sent: its outcome is unknown */
            rq_conn_close(p->pWConn);
            p->pWConn = NULL;
        }
        p->bMulti = 0;
        p->nWUnread = 0;
        p->nSentBytes = p->nSentOps = 0;
        goto done;
    }
    if (p->nOps == 0) return BZ_OK;
    if (p->ops.rc) {
        rc = bz_err(err, p->ops.rc, "transaction too large to buffer");
        goto done;
    }
    if ((rc = vt_conn(p, err)) != BZ_OK) goto done;
    if ((rc = rq_conn_write_raw(p->pConn, zMulti, sizeof zMulti - 1, 1, err)) != BZ_OK) goto done;
    if ((rc = rq_conn_write_raw(p->pConn, p->ops.data, p->ops.n, p->nOps, err)) != BZ_OK) goto done;
    if ((rc = rq_conn_write_raw(p->pConn, zExec, sizeof zExec - 1, 1, err)) != BZ_OK) goto done;
    rc = rq_conn_skip_replies(p->pConn, p->nOps + 2, err);
done:
    bz_buf_reset(&p->ops);
    if (p->ops.cap > (1u << 20)) bz_buf_free(&p->ops); /* keep memory flat */
    if (p->push.cap > (1u << 20)) bz_buf_free(&p->push);
    p->nOps = 0;
    return rc;
}

/* Append a RESP header: c (`$` or `*`), the decimal n, CRLF. No printf: this
** runs once or twice per inserted value. */
static void resp_head(BzBuf *b, char c, size_t n) {
    char head[32], digits[24];
    int k = 0, d = 0;
    do
        digits[d++] = (char)('0' + n % 10), n /= 10;
    while (n);
    head[k++] = c;
    while (d)
        head[k++] = digits[--d];
    head[k++] = '\r';
    head[k++] = '\n';
    bz_buf_append(b, head, (size_t)k);
}

/* Append one RESP bulk string. */
static void resp_bulk(BzBuf *b, const char *z, size_t n) {
    resp_head(b, '$', n);
    if (bz_buf_reserve(b, n + 2)) return;
    memcpy(b->data + b->n, z, n);
    memcpy(b->data + b->n + n, "\r\n", 2);
    b->n += n + 2;
    b->data[b->n] = 0;
}

/* Turn the values collected for RPUSH into one command in ops.
** Rationale: one RPUSH of up to 1000 values instead of 1000 commands makes the
** MULTI ... EXEC several times cheaper for Redis to queue and run. (Stream
** entries are one plain XADD each: XADD adds one entry, and XADDs batched in
** a Lua script cost Redis about twice as much as the same XADDs in MULTI.) */
static void push_flush(RedisVtab *p) {
    if (p->nPush == 0) return;
    resp_head(&p->ops, '*', (size_t)(2 + p->nPush));
    resp_bulk(&p->ops, "RPUSH", 5);
    resp_bulk(&p->ops, p->zKey, strlen(p->zKey));
    bz_buf_append(&p->ops, p->push.data, p->push.n);
    if (p->push.rc) p->ops.rc = p->push.rc;
    p->nOps++;
    p->nPush = 0;
    bz_buf_reset(&p->push);
}

/* ---- Argument parsing ---------------------------------------------------- */

/* Dequote 'x', "x" or [x] in place (as csv.c does). */
static void dequote(char *z) {
    char q = z[0], c;
    size_t i, j;
    if (q == '[') q = ']';
    if (q != '\'' && q != '"' && q != ']') return;
    for (i = 1, j = 0; (c = z[i]) != 0; i++) {
        if (c == q) {
            if (z[i + 1] == q) {
                z[j++] = q;
                i++;
            } else {
                break;
            }
        } else {
            z[j++] = c;
        }
    }
    z[j] = 0;
}

/* Split "key = value" into trimmed, dequoted parts. Returns 0 on a missing '='. */
static int split_arg(const char *zArg, char **pzKey, char **pzVal) {
    const char *zEq = strchr(zArg, '=');
    const char *a = zArg, *e;
    if (!zEq) return 0;
    while (*a == ' ' || *a == '\t')
        a++;
    e = zEq;
    while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *pzKey = bz_strndup(a, (size_t)(e - a));
    a = zEq + 1;
    while (*a == ' ' || *a == '\t')
        a++;
    e = a + strlen(a);
    while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *pzVal = bz_strndup(a, (size_t)(e - a));
    if (*pzVal) dequote(*pzVal);
    return 1;
}

static int parse_int_opt(const char *zName, const char *zVal, int64_t lo, int64_t hi, int64_t *pOut,
                         char **pzErr) {
    char *zEnd;
    long long v = strtoll(zVal, &zEnd, 10);
    if (!*zVal || *zEnd || v < lo || v > hi) {
        *pzErr = sqlite3_mprintf("%s must be an integer in [%lld, %lld], not '%s'", zName,
                                 (long long)lo, (long long)hi, zVal);
        return 0;
    }
    *pOut = v;
    return 1;
}

static int col_type(const char *z) {
    char up[64];
    size_t i;
    for (i = 0; z[i] && i < sizeof up - 1; i++)
        up[i] = (char)(z[i] >= 'a' && z[i] <= 'z' ? z[i] - 32 : z[i]);
    up[i] = 0;
    if (strstr(up, "INT")) return CT_INT;
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT")) return CT_TEXT;
    if (strstr(up, "BLOB")) return CT_BLOB;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB")) return CT_REAL;
    if (!up[0]) return CT_TEXT;
    return CT_NUM;
}

/* Parse columns='a TEXT, b INTEGER' into p->azField/aType and append the SQL
** declarations to pSql. */
static int parse_columns(RedisVtab *p, const char *zCols, BzBuf *pSql, char **pzErr) {
    const char *z = zCols;
    while (*z) {
        const char *s, *e, *t, *te;
        char *zName;
        while (*z == ' ' || *z == ',' || *z == '\t' || *z == '\n')
            z++;
        if (!*z) break;
        s = z;
        while (*z && (z[0] == '_' || (z[0] >= '0' && z[0] <= '9') ||
                      ((z[0] | 32) >= 'a' && (z[0] | 32) <= 'z')))
            z++;
        e = z;
        if (e == s) {
            *pzErr = sqlite3_mprintf("columns: expected a column name at '%.20s'", s);
            return 0;
        }
        t = z;
        while (*z && *z != ',')
            z++;
        te = z;
        while (*t == ' ' || *t == '\t')
            t++;
        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        zName = bz_strndup(s, (size_t)(e - s));
        if (!zName) return 0;
        if (sqlite3_stricmp(zName, "id") == 0) {
            *pzErr = sqlite3_mprintf("columns: 'id' is reserved for the entry id");
            bz_free(zName);
            return 0;
        }
        {
            char **az = bz_realloc(p->azField, sizeof(char *) * (size_t)(p->nField + 1));
            int *at = bz_realloc(p->aType, sizeof(int) * (size_t)(p->nField + 1));
            if (az) p->azField = az;
            if (at) p->aType = at;
            if (!az || !at) {
                bz_free(zName);
                return 0;
            }
        }
        {
            char zType[64];
            size_t n = BZ_MIN((size_t)(te - t), sizeof zType - 1);
            memcpy(zType, t, n);
            zType[n] = 0;
            for (size_t k = 0; k < n; k++)
                if (!(zType[k] == ' ' || zType[k] == '(' || zType[k] == ')' || zType[k] == '_' ||
                      (zType[k] >= '0' && zType[k] <= '9') ||
                      ((zType[k] | 32) >= 'a' && (zType[k] | 32) <= 'z'))) {
                    *pzErr = sqlite3_mprintf("columns: bad type for '%s'", zName);
                    bz_free(zName);
                    return 0;
                }
            p->azField[p->nField] = zName;
            p->aType[p->nField] = col_type(zType);
            p->nField++;
            bz_buf_printf(pSql, ", \"%s\" %s", zName, zType);
        }
    }
    if (p->nField == 0) {
        *pzErr = sqlite3_mprintf("columns: no column declared");
        return 0;
    }
    return 1;
}

static void vt_free(RedisVtab *p) {
    int i;
    if (!p) return;
    rq_conn_close(p->pConn);
    rq_conn_close(p->pWConn);
    bz_free(p->zSchema);
    bz_free(p->zTable);
    bz_free(p->zUrl);
    bz_free(p->zKey);
    bz_free(p->zConsumer);
    bz_free(p->zProc);
    bz_free(p->zProcPrefix);
    bz_free(p->zReg);
    bz_free(p->zGroup);
    for (i = 0; i < p->nField; i++)
        bz_free(p->azField[i]);
    bz_free(p->azField);
    bz_free(p->aType);
    bz_buf_free(&p->ops);
    bz_buf_free(&p->push);
    rq_idset_free(&p->acks);
    rq_reply_free(p->pHeld);
    sqlite3_free(p->base.zErrMsg);
    bz_free(p);
}

/* Options, as bits of the "seen" mask (duplicates are rejected). */
static const char *const azOpt[] = {
    "url",          "key",     "consume",  "consumer",      "visibility_timeout_ms", "block_ms",
    "group",        "columns", "maxlen",   "claim_idle_ms", "connect_timeout_ms",    "timeout_ms",
    "reconnect_ms", "batch",   "max_bytes"};

static int redisConnectAny(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                           sqlite3_vtab **ppVtab, char **pzErr, int bCreate) {
    RedisVtab *p;
    BzBuf sql;
    BzErr err = {0};
    char *zCols = NULL;
    unsigned seen = 0;
    int i, rc = SQLITE_ERROR;
    int64_t v = 0;
    *ppVtab = NULL;
    bz_buf_init(&sql, 0);
    p = bz_calloc(1, sizeof *p);
    if (!p) return SQLITE_NOMEM;
    p->db = db;
    p->eKind = (int)(intptr_t)pAux;
    p->zSchema = bz_strdup(argv[1]);
    p->zTable = bz_strdup(argv[2]);
    p->visibility_ms = 30000;
    p->claim_idle_ms = 60000;
    p->batch = 500;
    p->max_bytes = 512 << 20;
    p->copts.connect_timeout_ms = 2000;
    p->copts.timeout_ms = 5000;
    p->copts.reconnect_ms = 5000;
    bz_buf_init(&p->ops, 0);
    bz_buf_init(&p->push, 0);
    for (i = 3; i < argc; i++) {
        char *zK = NULL, *zV = NULL;
        size_t o;
        int ok = 1;
        if (!split_arg(argv[i], &zK, &zV) || !zK || !zV) {
            *pzErr = sqlite3_mprintf("expected key=value, got: %s", argv[i]);
            bz_free(zK);
            bz_free(zV);
            goto fail;
        }
        for (o = 0; o < BZ_ARRAY_LEN(azOpt); o++)
            if (sqlite3_stricmp(zK, azOpt[o]) == 0) break;
        if (o == BZ_ARRAY_LEN(azOpt)) {
            *pzErr = sqlite3_mprintf("unknown option '%s'", zK);
            ok = 0;
        } else if (seen & (1u << o)) {
            *pzErr = sqlite3_mprintf("option '%s' given more than once", zK);
            ok = 0;
        } else if (p->eKind == RV_LIST && (o >= 6 && o <= 9)) {
            *pzErr = sqlite3_mprintf("option '%s' is for redis_stream", zK);
            ok = 0;
        } else if (p->eKind == RV_STREAM && (o == 2 || o == 4)) {
            *pzErr = sqlite3_mprintf("option '%s' is for redis_list", zK);
            ok = 0;
        }
        seen |= 1u << o;
        if (ok) switch (o) {
            case 0:
                p->zUrl = zV, zV = NULL;
                break;
            case 1:
                p->zKey = zV, zV = NULL;
                break;
            case 2:
                ok = parse_int_opt(zK, zV, 0, 1, &v, pzErr), p->bConsume = (int)v;
                break;
            case 3:
                p->zConsumer = zV, zV = NULL;
                break;
            case 4:
                ok = parse_int_opt(zK, zV, 1, INT32_MAX, &p->visibility_ms, pzErr);
                break;
            case 5:
                ok = parse_int_opt(zK, zV, 0, 24 * 3600 * 1000, &p->block_ms, pzErr);
                break;
            case 6:
                p->zGroup = zV, zV = NULL;
                break;
            case 7:
                zCols = zV, zV = NULL;
                break;
            case 8:
                ok = parse_int_opt(zK, zV, 1, INT64_MAX, &p->maxlen, pzErr);
                break;
            case 9:
                ok = parse_int_opt(zK, zV, 0, INT32_MAX, &p->claim_idle_ms, pzErr);
                break;
            case 10:
                ok = parse_int_opt(zK, zV, 1, 600000, &v, pzErr);
                p->copts.connect_timeout_ms = (int)v;
                break;
            case 11:
                ok = parse_int_opt(zK, zV, 1, 600000, &v, pzErr);
                p->copts.timeout_ms = (int)v;
                break;
            case 12:
                ok = parse_int_opt(zK, zV, 0, 600000, &v, pzErr);
                p->copts.reconnect_ms = v ? (int)v : -1;
                break;
            case 13:
                ok = parse_int_opt(zK, zV, 1, 100000, &p->batch, pzErr);
                break;
            case 14:
                ok = parse_int_opt(zK, zV, 1, 512 << 20, &p->max_bytes, pzErr);
                break;
            }
        bz_free(zK);
        bz_free(zV);
        if (!ok) goto fail;
    }
    if (!p->zUrl) {
        const char *zEnv = getenv("REDIS_URL");
        if (!zEnv || !*zEnv) {
            *pzErr = sqlite3_mprintf("url= is missing and REDIS_URL is not set");
            goto fail;
        }
        p->zUrl = bz_strdup(zEnv);
    }
    if (!p->zKey || !*p->zKey) {
        *pzErr = sqlite3_mprintf("key= is required");
        goto fail;
    }
    if (p->zConsumer && !*p->zConsumer) {
        *pzErr = sqlite3_mprintf("consumer= must not be empty");
        goto fail;
    }
    if (!p->zConsumer && (p->bConsume || p->zGroup)) {
        char zHost[64] = "host";
        unsigned char r[4];
        gethostname(zHost, sizeof zHost - 1);
        zHost[sizeof zHost - 1] = 0;
        sqlite3_randomness(sizeof r, r);
        p->zConsumer =
            bz_mprintf("%s-%ld-%02x%02x%02x%02x", zHost, (long)getpid(), r[0], r[1], r[2], r[3]);
    }
    if (p->bConsume) {
        p->zProcPrefix = bz_mprintf("%s:bz:proc:", p->zKey);
        p->zProc = bz_mprintf("%s:bz:proc:%s", p->zKey, p->zConsumer);
        p->zReg = bz_mprintf("%s:bz:consumers", p->zKey);
    }
    if (p->eKind == RV_LIST) {
        bz_buf_appendz(&sql, "CREATE TABLE x(value PRIMARY KEY, idx INTEGER HIDDEN) WITHOUT ROWID");
    } else {
        bz_buf_appendz(&sql, "CREATE TABLE x(id TEXT PRIMARY KEY");
        if (zCols) {
            if (!parse_columns(p, zCols, &sql, pzErr)) goto fail;
        } else {
            bz_buf_appendz(&sql, ", data TEXT");
        }
        bz_buf_appendz(&sql, ") WITHOUT ROWID");
    }
    if (!p->zSchema || !p->zTable || !p->zUrl || sql.rc ||
        (p->bConsume && (!p->zProc || !p->zReg || !p->zProcPrefix)) ||
        ((p->bConsume || p->zGroup) && !p->zConsumer)) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    if (bCreate) {
        /* Fail early and clearly: bad URL, unreachable server, wrong password, wrong type. */
        RqReply *r = NULL;
        const char *want = p->eKind == RV_LIST ? "list" : "stream";
        size_t n;
        const char *zType;
        if (vt_cmd(p, 2, (const char *[]){"TYPE", p->zKey}, NULL, &r, &err) != BZ_OK) {
            *pzErr = sqlite3_mprintf("%s: %s", p->eKind == RV_LIST ? "redis_list" : "redis_stream",
                                     err.msg);
            rq_reply_free(r);
            goto fail;
        }
        zType = rq_reply_str(r, &n);
        if (zType && strcmp(zType, "none") != 0 && strcmp(zType, want) != 0) {
            *pzErr = sqlite3_mprintf("%s: %s: key '%s' holds a %s, not a %s (WRONGTYPE)",
                                     p->eKind == RV_LIST ? "redis_list" : "redis_stream",
                                     rq_conn_url(p->pConn), p->zKey, zType, want);
            rq_reply_free(r);
            goto fail;
        }
        rq_reply_free(r);
    } else {
        /* Only the URL is checked now; the server is contacted on first use. */
        RqUrl u;
        if (rq_url_parse(&u, p->zUrl, &err) != BZ_OK) {
            *pzErr = sqlite3_mprintf("%s", err.msg);
            rq_url_free(&u);
            goto fail;
        }
        rq_url_free(&u);
    }
    rc = sqlite3_declare_vtab(db, sql.data);
    if (rc != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    bz_buf_free(&sql);
    bz_free(zCols);
    *ppVtab = &p->base;
    return SQLITE_OK;
fail:
    {   /* every message names the module, once */
        const char *zMod = p->eKind == RV_LIST ? "redis_list" : "redis_stream";
        size_t nMod = strlen(zMod);
        if (*pzErr && !(strncmp(*pzErr, zMod, nMod) == 0 && (*pzErr)[nMod] == ':')) {
            char *z = sqlite3_mprintf("%s: %s", zMod, *pzErr);
            if (z) {
                sqlite3_free(*pzErr);
                *pzErr = z;
            }
        }
    }
    bz_buf_free(&sql);
    bz_free(zCols);
    vt_free(p);
    return rc == SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
}

static int redisCreate(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
    return redisConnectAny(db, pAux, argc, argv, ppVtab, pzErr, 1);
}

static int redisConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                        sqlite3_vtab **ppVtab, char **pzErr) {
    return redisConnectAny(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

static int redisDisconnect(sqlite3_vtab *pVtab) {
    vt_free((RedisVtab *)pVtab);
    return SQLITE_OK;
}

/* ---- xBestIndex -------------------------------------------------------------- */

static int redisBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
    RedisVtab *p = (RedisVtab *)pVtab;
    int consuming = p->bConsume || p->zGroup;
    int keyCol = p->eKind == RV_LIST ? 1 : 0;
    int aIdx[7], i, bit, n = 0, idxNum = 0;
    double cost = 1e6;
    for (i = 0; i < 7; i++)
        aIdx[i] = -1;
    for (i = 0; i < pInfo->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
        if (!c->usable) continue;
        bit = -1;
        switch (c->op) {
        case SQLITE_INDEX_CONSTRAINT_LIMIT:
            bit = 5;
            break;
        case SQLITE_INDEX_CONSTRAINT_OFFSET:
            bit = 6;
            break;
        default:
            if (consuming || c->iColumn != keyCol) break;
            if (c->op == SQLITE_INDEX_CONSTRAINT_EQ)
                bit = 0;
            else if (c->op == SQLITE_INDEX_CONSTRAINT_GT)
                bit = 1;
            else if (c->op == SQLITE_INDEX_CONSTRAINT_GE)
                bit = 2;
            else if (c->op == SQLITE_INDEX_CONSTRAINT_LT)
                bit = 3;
            else if (c->op == SQLITE_INDEX_CONSTRAINT_LE)
                bit = 4;
        }
        if (bit >= 0 && aIdx[bit] < 0) aIdx[bit] = i;
    }
    for (bit = 0; bit < 7; bit++) {
        if (aIdx[bit] < 0) continue;
        idxNum |= 1 << bit;
        pInfo->aConstraintUsage[aIdx[bit]].argvIndex = ++n;
        /* Stream ids compare in stream order, not as text: never let SQLite re-check. */
        pInfo->aConstraintUsage[aIdx[bit]].omit = bit < 5 ? 1 : 0;
    }
    if (idxNum & IX_EQ)
        cost = 10;
    else if (idxNum & (IX_GT | IX_GE | IX_LT | IX_LE))
        cost = 1e4;
    if (!consuming && pInfo->nOrderBy == 1 && pInfo->aOrderBy[0].iColumn == keyCol) {
        pInfo->orderByConsumed = 1;
        if (pInfo->aOrderBy[0].desc) {
            if (p->eKind == RV_STREAM)
                idxNum |= IX_DESC;
            else
                pInfo->orderByConsumed = 0;
        }
    }
    pInfo->idxNum = idxNum;
    pInfo->estimatedCost = cost;
    return SQLITE_OK;
}

/* ---- Cursor --------------------------------------------------------------------- */

static int redisOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur) {
    RedisCursor *c = bz_calloc(1, sizeof *c);
    (void)pVtab;
    if (!c) return SQLITE_NOMEM;
    bz_buf_init(&c->tmp, 0);
    c->bEof = 1;
    *ppCur = &c->base;
    return SQLITE_OK;
}

static void cur_page_free(RedisCursor *c) {
    rq_reply_free(c->pPage);
    c->pPage = NULL;
    c->pRows = NULL;
    c->iRow = c->nRow = 0;
}

/* The id of stream entry row i of the current page. */
static const char *entry_id(const RqReply *pEntry, size_t *pn) {
    return rq_reply_str(rq_reply_at(pEntry, 0), pn);
}

/* Count the current row as read (see "Delivery rule" above). */
static int cur_mark(RedisCursor *c) {
    RedisVtab *p = (RedisVtab *)c->base.pVtab;
    if (c->bMarked || c->bEof) return BZ_OK;
    c->bMarked = 1;
    c->nReturned++;
    if (p->eKind == RV_LIST && p->bConsume) {
        p->nListDelivered++;
    } else if (p->eKind == RV_STREAM && p->zGroup) {
        size_t n;
        const char *z = entry_id(rq_reply_at(c->pRows, c->iRow), &n);
        RqId id;
        if (z && rq_id_parse(z, n, &id)) return rq_idset_add(&p->acks, id);
    }
    return BZ_OK;
}

/* Acknowledge what a statement-scoped cursor returned (no transaction). */
static void stmt_ack(RedisVtab *p, BzErr *err);
static void stream_drop_ahead(RedisCursor *c, RedisVtab *p);
static void stream_cursor_end(RedisCursor *c, RedisVtab *p);
static void held_drop(RedisVtab *p);

static int redisClose(sqlite3_vtab_cursor *pCur) {
    RedisCursor *c = (RedisCursor *)pCur;
    RedisVtab *p = (RedisVtab *)pCur->pVtab;
    BzErr err = {0};
    if (p->eKind == RV_LIST && p->bConsume && c->phase) {
        int64_t nBack = c->nFetched - c->nReturned;
        p->nOpenConsumers--;
        if (nBack > 0 && list_script_n(p, LUA_GIVEBACK, nBack, &err) != BZ_OK)
            p->bListDirty = 1; /* their place is uncertain: no more taking in this transaction */
    } else if (p->eKind == RV_STREAM && p->zGroup && c->phase) {
        p->nOpenConsumers--;
        stream_cursor_end(c, p);
    }
    if (c->bStmtAck) stmt_ack(p, &err);
    cur_page_free(c);
    bz_buf_free(&c->tmp);
    bz_free(c);
    return SQLITE_OK;
}

/* ---- Transactions ---------------------------------------------------------------- */

static void txn_reset(RedisVtab *p) {
    ops_discard(p);
    p->bInTxn = 0;
    p->nSvpt = 0;
    p->bListStarted = 0;
    p->bListDirty = 0;
    p->nListDelivered = 0;
    rq_idset_clear(&p->acks);
    bz_buf_reset(&p->ops);
    p->nOps = 0;
    bz_buf_reset(&p->push);
    p->nPush = 0;
}

/* XACK the delivered stream entries, up to 1000 ids per command, sent without
** waiting for the replies; errors leave them pending (they are delivered
** again). The commands are encoded straight into a reused buffer. */
static int stream_ack(RedisVtab *p, BzErr *err) {
    size_t i = 0, n = p->acks.nId, nKey = strlen(p->zKey), nGroup = strlen(p->zGroup);
    BzBuf *b = &p->push; /* streams use it only as scratch inside xUpdate */
    int rc = vt_conn(p, err);
    while (i < n && rc == BZ_OK) {
        size_t k = BZ_MIN(n - i, (size_t)1000), j;
        char zId[48];
        bz_buf_reset(b);
        resp_head(b, '*', k + 3);
        resp_bulk(b, "XACK", 4);
        resp_bulk(b, p->zKey, nKey);
        resp_bulk(b, p->zGroup, nGroup);
        for (j = 0; j < k; j++)
            resp_bulk(b, zId, (size_t)rq_id_format(p->acks.aId[i + j], zId));
        if (b->rc) return bz_err(err, b->rc, "out of memory");
        rc = rq_conn_send_raw_noreply(p->pConn, b->data, b->n, err);
        i += k;
    }
    bz_buf_reset(b);
    return rc;
}

/* Acknowledge everything the transaction read. */
static int consume_commit(RedisVtab *p, BzErr *err) {
    int rc = BZ_OK;
    if (p->eKind == RV_LIST && p->bConsume && p->bListStarted) {
        if (p->nListDelivered > 0) rc = list_script_n(p, LUA_ACK, p->nListDelivered, err);
        p->nListDelivered = 0;
        p->bListStarted = 0;
        if (rc < 0) rc = BZ_OK; /* recovered by another consumer: they are delivered again */
    } else if (p->eKind == RV_STREAM && p->zGroup) {
        rc = stream_ack(p, err);
        if (rc) p->bPelClean = 0;
        if (!p->bPelClean) held_drop(p);
        rq_idset_clear(&p->acks);
    }
    return rc;
}

static void stmt_ack(RedisVtab *p, BzErr *err) {
    if (p->nOpenConsumers > 0) return; /* the last cursor acknowledges */
    consume_commit(p, err);
    txn_reset(p);
}

static int redisBegin(sqlite3_vtab *pVtab) {
    RedisVtab *p = (RedisVtab *)pVtab;
    txn_reset(p);
    p->bInTxn = 1;
    return SQLITE_OK;
}

static int redisSync(sqlite3_vtab *pVtab) {
    RedisVtab *p = (RedisVtab *)pVtab;
    BzErr err = {0};
    if (ops_flush(p, &err) != BZ_OK) return vt_error(p, &err);
    return SQLITE_OK;
}

static int redisCommit(sqlite3_vtab *pVtab) {
    RedisVtab *p = (RedisVtab *)pVtab;
    BzErr err = {0};
    /* The local transaction is durable now; failures here only mean redelivery. */
    ops_flush(p, &err);
    consume_commit(p, &err);
    txn_reset(p);
    return SQLITE_OK;
}

/* Undo consumption back to nDelivered messages/entries. */
static void consume_rewind(RedisVtab *p, int64_t nDelivered) {
    BzErr err = {0};
    if (p->eKind == RV_LIST && p->bConsume && p->bListStarted) {
        int64_t nBack = p->nListDelivered - nDelivered;
        if (nBack > 0 && list_script_n(p, LUA_GIVEBACK, nBack, &err) != BZ_OK)
            p->bListDirty = nDelivered > 0;
        p->nListDelivered = nDelivered;
    } else if (p->eKind == RV_STREAM && p->zGroup) {
        if ((size_t)nDelivered < p->acks.nId) p->bPelClean = 0; /* the rest stays pending */
        if (!p->bPelClean) held_drop(p);
        rq_idset_truncate(&p->acks, (size_t)nDelivered);
    }
}

static int redisRollback(sqlite3_vtab *pVtab) {
    RedisVtab *p = (RedisVtab *)pVtab;
    consume_rewind(p, 0);
    txn_reset(p);
    return SQLITE_OK;
}

static int64_t delivered_count(RedisVtab *p) {
    return p->eKind == RV_LIST ? p->nListDelivered : (int64_t)p->acks.nId;
}

static int redisSavepoint(sqlite3_vtab *pVtab, int iSvpt) {
    RedisVtab *p = (RedisVtab *)pVtab;
    if (iSvpt < 0 || iSvpt >= MAX_SAVEPOINTS)
        return set_err(p, BZ_LIMIT, "redis: more than %d nested savepoints", MAX_SAVEPOINTS);
    push_flush(p);
    while (p->nSvpt <= iSvpt) {
        p->aSvpt[p->nSvpt].nOpsBytes = p->nSentBytes + (int64_t)p->ops.n;
        p->aSvpt[p->nSvpt].nOps = p->nSentOps + p->nOps;
        p->aSvpt[p->nSvpt].nDelivered = delivered_count(p);
        p->nSvpt++;
    }
    p->aSvpt[iSvpt].nOpsBytes = p->nSentBytes + (int64_t)p->ops.n;
    p->aSvpt[iSvpt].nOps = p->nSentOps + p->nOps;
    p->aSvpt[iSvpt].nDelivered = delivered_count(p);
    p->nSvpt = iSvpt + 1;
    return SQLITE_OK;
}

/* Releasing a savepoint (SQLite does it at the end of each statement of an
** explicit transaction) lets the rows it held back be streamed. A failure here
** is kept (bWLost) and reported by the next INSERT or the COMMIT. */
static int redisRelease(sqlite3_vtab *pVtab, int iSvpt) {
    RedisVtab *p = (RedisVtab *)pVtab;
    BzErr err = {0};
    if (iSvpt < p->nSvpt) p->nSvpt = iSvpt;
    push_flush(p);
    ops_stream(p, &err);
    return SQLITE_OK;
}

static int redisRollbackTo(sqlite3_vtab *pVtab, int iSvpt) {
    RedisVtab *p = (RedisVtab *)pVtab;
    if (iSvpt < 0 || iSvpt >= p->nSvpt) return SQLITE_OK;
    bz_buf_reset(&p->push); /* collected after the savepoint */
    p->nPush = 0;
    if (!p->ops.rc) { /* never below what was streamed: see ops_stream */
        p->ops.n = (size_t)(p->aSvpt[iSvpt].nOpsBytes - p->nSentBytes);
        p->nOps = (int)(p->aSvpt[iSvpt].nOps - p->nSentOps);
    }
    consume_rewind(p, p->aSvpt[iSvpt].nDelivered);
    p->nSvpt = iSvpt + 1;
    return SQLITE_OK;
}

/* 1 when a statement that writes is running: then the current statement is
** part of a write transaction and must not fall back to acknowledging at
** cursor close, before that transaction is durable. */
static int writer_active(sqlite3 *db) {
    sqlite3_stmt *s = NULL;
    while ((s = sqlite3_next_stmt(db, s)) != NULL)
        if (sqlite3_stmt_busy(s) && !sqlite3_stmt_readonly(s)) return 1;
    return 0;
}

/* Make sure this table takes part in the current transaction (see the file
** header). Sets *pbStmt when the statement is its own transaction. */
static int enlist(RedisVtab *p, int *pbStmt) {
    char *zSql, *zErr = NULL;
    int rc;
    *pbStmt = 0;
    if (p->bInTxn) return SQLITE_OK;
    zSql = sqlite3_mprintf("DELETE FROM \"%w\".\"%w\" WHERE 0", p->zSchema, p->zTable);
    if (!zSql) return SQLITE_NOMEM;
    p->bEnlisting = 1;
    rc = sqlite3_exec(p->db, zSql, 0, 0, &zErr);
    p->bEnlisting = 0;
    sqlite3_free(zSql);
    if (rc != SQLITE_OK && (!sqlite3_get_autocommit(p->db) || writer_active(p->db))) {
        set_err(p, BZ_ERROR, "cannot take part in the transaction: %s", zErr ? zErr : "");
        sqlite3_free(zErr);
        return rc;
    }
    sqlite3_free(zErr);
    if (!p->bInTxn) {
        txn_reset(p);
        *pbStmt = 1;
    }
    return SQLITE_OK;
}

static double floor_(double d) {
    double t = (double)(int64_t)d;
    return t > d ? t - 1 : t;
}

/* ---- Reading: lists ----------------------------------------------------------------- */

static int64_t cur_page_size(RedisCursor *c, RedisVtab *p) {
    int64_t n = p->batch;
    if (c->nWant >= 0) {
        int64_t left = c->nWant - c->nReturned;
        if (left < 1) left = 1;
        if (left < n)
            n = left;
        else if (c->nWant <= 10000 && c->nWant > n)
            n = left;
    }
    return n;
}

/* Fetch the next page of a peeking list cursor. */
static int list_peek_page(RedisCursor *c, RedisVtab *p, BzErr *err) {
    char zA[24], zB[24];
    int64_t n = cur_page_size(c, p), stop;
    int rc;
    cur_page_free(c);
    if (c->lo > c->hi) {
        c->bEof = 1;
        return BZ_OK;
    }
    stop = c->hi - c->lo < n - 1 ? c->hi : c->lo + n - 1;
    snprintf(zA, sizeof zA, "%lld", (long long)c->lo);
    snprintf(zB, sizeof zB, "%lld", (long long)stop);
    rc = vt_cmd(p, 4, (const char *[]){"LRANGE", p->zKey, zA, zB}, NULL, &c->pPage, err);
    if (rc) return rc;
    c->pRows = c->pPage;
    c->nRow = rq_reply_len(c->pPage);
    c->iIdx = c->lo;
    c->lo += (int64_t)c->nRow;
    if (c->nRow < (size_t)(stop - (c->iIdx) + 1)) c->hi = -1; /* end of list */
    if (c->nRow == 0) c->bEof = 1;
    return BZ_OK;
}

/* Take the next page for a consuming list cursor. */
static int list_take_page(RedisCursor *c, RedisVtab *p, BzErr *err) {
    char zN[24];
    int64_t n = cur_page_size(c, p);
    int rc;
    cur_page_free(c);
    if (c->nWant >= 0 && c->nReturned >= c->nWant) {
        c->bEof = 1;
        return BZ_OK;
    }
    snprintf(zN, sizeof zN, "%lld", (long long)n);
    rc = list_script(p, LUA_TAKE, zN, &c->pPage, err);
    if (rc) return rc;
    if (rq_reply_type(c->pPage) == RQ_INTEGER)
        return bz_err(err, BZ_ERROR,
                      "%s: consumer '%s' was declared dead (visibility_timeout_ms exceeded) "
                      "and its messages recovered by another consumer; ROLLBACK",
                      rq_conn_url(p->pConn), p->zConsumer);
    c->pRows = c->pPage;
    c->nRow = rq_reply_len(c->pPage);
    c->nFetched += (int64_t)c->nRow;
    if (c->nRow == 0 && p->block_ms > 0 && c->nReturned == 0) {
        /* Empty queue: wait once for a message, then carry on as usual. */
        char zT[32];
        RqReply *r = NULL;
        cur_page_free(c);
        snprintf(zT, sizeof zT, "%.3f", (double)p->block_ms / 1000.0);
        rq_conn_set_read_timeout(p->pConn, p->copts.timeout_ms + (int)p->block_ms);
        rc = vt_cmd(p, 6, (const char *[]){"BLMOVE", p->zKey, p->zProc, "LEFT", "RIGHT", zT}, NULL,
                    &r, err);
        rq_conn_set_read_timeout(p->pConn, 0);
        if (rc) {
            rq_reply_free(r);
            return rc;
        }
        if (rq_reply_type(r) == RQ_STRING) {
            /* Wrap the single value as a one-row page. */
            c->pPage = r;
            c->pRows = NULL;
            c->nRow = 1;
            c->nFetched += 1;
        } else {
            rq_reply_free(r);
        }
    }
    if (c->nRow == 0) c->bEof = 1;
    return BZ_OK;
}

/* ---- Reading: streams ----------------------------------------------------------------- */

/* Page of a non-consuming stream cursor (XRANGE / XREVRANGE). */
static int stream_range_page(RedisCursor *c, RedisVtab *p, BzErr *err) {
    char zN[24];
    int64_t n = cur_page_size(c, p);
    int desc = (c->idxNum & IX_DESC) != 0;
    int rc;
    size_t len;
    const char *zLast;
    cur_page_free(c);
    if (!c->bMore) {
        c->bEof = 1;
        return BZ_OK;
    }
    snprintf(zN, sizeof zN, "%lld", (long long)n);
    if (desc)
        rc = vt_cmd(p, 6, (const char *[]){"XREVRANGE", p->zKey, c->zEnd, c->zStart, "COUNT", zN},
                    NULL, &c->pPage, err);
    else
        rc = vt_cmd(p, 6, (const char *[]){"XRANGE", p->zKey, c->zStart, c->zEnd, "COUNT", zN},
                    NULL, &c->pPage, err);
    if (rc) return rc;
    c->pRows = c->pPage;
    c->nRow = rq_reply_len(c->pPage);
    if ((int64_t)c->nRow < n) c->bMore = 0;
    if (c->nRow == 0) {
        c->bEof = 1;
        return BZ_OK;
    }
    zLast = entry_id(rq_reply_at(c->pRows, c->nRow - 1), &len);
    if (!zLast || len > 44) return bz_err(err, BZ_CORRUPT, "unexpected XRANGE reply");
    /* Continue after the last id (exclusive ranges need Redis >= 6.2). */
    snprintf(desc ? c->zEnd : c->zStart, sizeof c->zStart, "(%.*s", (int)len, zLast);
    return BZ_OK;
}

static int stream_group_ready(RedisVtab *p, BzErr *err) {
    RqReply *r = NULL;
    int rc;
    if (p->bGroupReady) return BZ_OK;
    rc = vt_cmd(p, 6, (const char *[]){"XGROUP", "CREATE", p->zKey, p->zGroup, "0", "MKSTREAM"},
                NULL, &r, err);
    if (rc == BZ_ERROR) {
        size_t n;
        const char *z = rq_reply_str(r, &n);
        if (z && strncmp(z, "BUSYGROUP", 9) == 0) rc = BZ_OK, bz_err_clear(err);
    }
    rq_reply_free(r);
    if (rc == BZ_OK) p->bGroupReady = 1;
    return rc;
}

/* Keep the entries of the page that are not already read in this transaction
** (rebuilding the row list is not needed: skipped rows are jumped in xNext). */
static int entry_skippable(RedisVtab *p, const RqReply *pEntry) {
    size_t n;
    const char *z = entry_id(pEntry, &n);
    RqId id;
    if (!z || !rq_id_parse(z, n, &id)) return 1;
    if (rq_idset_has(&p->acks, id)) return 1;
    if (rq_reply_type(rq_reply_at(pEntry, 1)) != RQ_ARRAY) {
        /* Deleted while pending: nothing to return, acknowledge with the transaction. */
        rq_idset_add(&p->acks, id);
        return 1;
    }
    return 0;
}

/* Is an XAUTOCLAIM scan due? Entries cannot become claimable faster than
** claim_idle_ms, so scanning more than twice per claim_idle_ms only costs
** round trips (Rationale: this halves the round trips of a batch drain). */
static int claim_due(RedisVtab *p) {
    return p->claim_idle_ms > 0 &&
           (p->lastClaimMs == 0 || bz_now_ms() - p->lastClaimMs >= (uint64_t)p->claim_idle_ms / 2);
}

/* Send one XREADGROUP ... > for new entries (phase 3) without waiting for
** the reply, which the next page reads. A scan with a known LIMIT asks for at
** most RV_SUBPAGE of the rows it may still return (not counting the current
** page); an unbounded scan asks for n. A blocking read (block_ms, nothing
** returned yet) raises the read timeout until its reply is read.
** Rationale: Redis answers a pipeline read in one go only after it ran every
** command of it, so the requests go one at a time, each sent as soon as the
** previous reply arrives: Redis prepares page k+1 while SQLite consumes page
** k, and a batch costs the server's time plus one sub-page of the client's
** instead of the sum of both. Nothing beyond LIMIT is asked for; rows fetched
** but never returned stay pending (see "Delivery rule"). 500 rather than 250:
** fewer round trips for the server per batch, measured 3.3x python3-redis
** against 3.0x on the stream drain (bench/RESULTS.md ### Redis); -DRV_SUBPAGE
** overrides it for such measurements. */
#ifndef RV_SUBPAGE
#define RV_SUBPAGE 500
#endif
static int stream_ask_new(RedisCursor *c, RedisVtab *p, int64_t n, int bNext, BzErr *err) {
    int bBlock = !bNext && p->block_ms > 0 && c->nReturned == 0 && c->iRow >= c->nRow;
    int64_t k = n;
    char zN[24], zB[24];
    int rc;
    if ((rc = vt_conn(p, err)) != BZ_OK) return rc;
    if (bNext) {
        k = BZ_MIN(c->nWant, RV_SUBPAGE);
    } else if (c->nWant >= 0 && !bBlock) {
        int64_t left = c->nWant - c->nReturned - (int64_t)(c->nRow - c->iRow);
        k = BZ_MIN(BZ_MAX(left, 1), RV_SUBPAGE);
    }
    snprintf(zN, sizeof zN, "%lld", (long long)k);
    snprintf(zB, sizeof zB, "%lld", (long long)p->block_ms);
    bz_buf_reset(&c->tmp);
    rq_resp_cmd(&c->tmp, bBlock ? 11 : 9,
                bBlock ? (const char *[]){"XREADGROUP", "GROUP", p->zGroup, p->zConsumer, "COUNT",
                                          zN, "BLOCK", zB, "STREAMS", p->zKey, ">"}
                       : (const char *[]){"XREADGROUP", "GROUP", p->zGroup, p->zConsumer, "COUNT",
                                          zN, "STREAMS", p->zKey, ">"},
                NULL);
    if (c->tmp.rc) return bz_err(err, BZ_NOMEM, "out of memory");
    if (bBlock) {
        rq_conn_set_read_timeout(p->pConn, p->copts.timeout_ms + (int)p->block_ms);
        c->bBlocking = 1;
    }
    rc = rq_conn_write_raw(p->pConn, c->tmp.data, c->tmp.n, 1, err);
    if (rc == BZ_OK && bNext) {
        p->bAheadVt = 1;
        p->heldMs = bz_now_ms();
    } else if (rc == BZ_OK) {
        c->bAhead = 1;
        c->nAsked = k;
        c->askMs = bz_now_ms();
    }
    return rc;
}

/* ---- Read-ahead across statements ---------------------------------------
** A drain runs one statement per batch (`INSERT ... SELECT ... LIMIT n`, then
** COMMIT). When a consuming stream cursor takes the last page its LIMIT
** allows and that page was full, it asks for up to min(LIMIT, RV_SUBPAGE) new
** entries for the next statement, so Redis prepares them while SQLite
** consumes the page and commits; at COMMIT the reply is read (before the XACK
** goes out) and kept. Rows a cursor fetched and did not return are kept the
** same way. The next consuming cursor takes the kept entries as this
** consumer's own pending ones: they are exactly what `XREADGROUP ... 0` would
** return (same ids, same order) as long as the pending list holds nothing
** else (bPelClean), which is the only case they are used in. Otherwise (a
** ROLLBACK gave entries back, an XACK or the connection failed, or they were
** kept longer than held_max_age) they are dropped and read again with
** XREADGROUP 0: they stay pending, never acknowledged, and are delivered
** again like anything fetched ahead.
** Rationale: without it each batch waits one round trip plus Redis's work
** for its first page, and Redis idles while SQLite commits; with it a drain
** keeps both busy. The cost: up to min(LIMIT, 500) entries stay pending for
** this consumer between statements (a consumer that stops leaves them to
** XAUTOCLAIM after claim_idle_ms, or to itself when restarted under the same
** consumer= name). */

/* How long kept entries may be used: well within claim_idle_ms, so another
** consumer cannot have claimed them meanwhile. */
static uint64_t held_max_age(RedisVtab *p) {
    uint64_t m = 1000;
    if (p->claim_idle_ms > 0 && (uint64_t)p->claim_idle_ms / 2 < m)
        m = (uint64_t)p->claim_idle_ms / 2;
    return m;
}

/* Forget kept and in-flight read-ahead entries: they stay pending and are
** read again with XREADGROUP 0. */
static void held_drop(RedisVtab *p) {
    if (p->bAheadVt) {
        if (p->pConn) rq_conn_defer(p->pConn, 1);
        p->bAheadVt = 0;
        p->bPelClean = 0;
    }
    if (p->pHeld) {
        rq_reply_free(p->pHeld);
        p->pHeld = NULL;
        p->pHeldRows = NULL;
        p->iHeld = p->nHeld = 0;
        p->bPelClean = 0;
    }
}

/* Read the reply of the read-ahead in flight and keep its entries. */
static void held_land(RedisVtab *p) {
    BzErr err = {0};
    RqReply *r = NULL;
    const RqReply *rows;
    p->bAheadVt = 0;
    if (!p->pConn || p->pHeld) { /* cannot happen: one read-ahead at a time */
        if (p->pConn) rq_conn_defer(p->pConn, 1);
        p->bPelClean = 0;
        return;
    }
    if (rq_conn_get_reply(p->pConn, &r, &err) != BZ_OK) {
        rq_reply_free(r);
        p->bPelClean = 0; /* whether Redis delivered them is unknown */
        return;
    }
    rows = rq_reply_at(rq_reply_at(r, 0), 1);
    if (rq_reply_len(rows) == 0) {
        rq_reply_free(r);
        return;
    }
    p->pHeld = r;
    p->pHeldRows = rows;
    p->iHeld = 0;
    p->nHeld = rq_reply_len(rows);
}

/* A consuming stream cursor stops (closed or re-filtered): keep the rows it
** fetched and did not return for the next statement when they are the only
** pending entries not yet returned, else let them be read again. */
static void stream_cursor_end(RedisCursor *c, RedisVtab *p) {
    size_t iNext = c->iRow + (c->bMarked ? 1 : 0);
    int bRest = !c->bEof && c->pPage && iNext < c->nRow;
    if (bRest && c->bHoldable && !c->bAhead && !p->bAheadVt && !p->pHeld && p->bPelClean) {
        p->pHeld = c->pPage;
        p->pHeldRows = c->pRows;
        p->iHeld = iNext;
        p->nHeld = c->nRow;
        p->heldMs = c->pageMs;
        c->pPage = NULL;
        c->pRows = NULL;
        c->iRow = c->nRow = 0;
    } else if (bRest) {
        p->bPelClean = 0; /* fetched ahead: they stay pending for the next read */
    }
    stream_drop_ahead(c, p);
    if (!p->bPelClean) held_drop(p);
}

/* Phase 1 with entries kept from an earlier statement: take them as the
** page (see above). Returns 1 when the cursor has them, 0 to read the
** pending list from Redis instead. */
static int stream_take_held(RedisCursor *c, RedisVtab *p, int64_t n, BzErr *err) {
    if (!p->bAheadVt && !p->pHeld) return 0;
    if (!p->bPelClean || rq_conn_broken(p->pConn) || bz_now_ms() - p->heldMs > held_max_age(p)) {
        held_drop(p);
        return 0;
    }
    if (p->bAheadVt) held_land(p);
    if (!p->pHeld) return 0;
    c->pPage = p->pHeld;
    c->pRows = p->pHeldRows;
    c->iRow = p->iHeld;
    c->nRow = p->nHeld;
    c->pageMs = p->heldMs;
    c->bHoldable = 1;
    p->pHeld = NULL;
    p->pHeldRows = NULL;
    p->iHeld = p->nHeld = 0;
    c->phase = claim_due(p) ? 2 : 3;
    /* Keep the pipeline going: the next sub-page is asked for now. */
    if (c->phase == 3 &&
        (c->nWant < 0 || c->nWant - c->nReturned - (int64_t)(c->nRow - c->iRow) > 0) &&
        stream_ask_new(c, p, n, 0, err) != BZ_OK)
        return -1;
    return 1;
}

/* The cursor stops reading (closed or re-filtered): a reply still on its way
** is read and dropped before the next one; its entries stay pending. */
static void stream_drop_ahead(RedisCursor *c, RedisVtab *p) {
    if (c->bAhead && p->pConn) {
        rq_conn_defer(p->pConn, 1);
        p->bPelClean = 0;
    }
    if (c->bBlocking && p->pConn) rq_conn_set_read_timeout(p->pConn, 0);
    c->bAhead = c->bBlocking = 0;
}

/* Next page of a consuming stream cursor, walking the phases:
** 1 = own pending, 2 = XAUTOCLAIM, 3 = new entries, 4 = done. */
static int stream_group_page(RedisCursor *c, RedisVtab *p, BzErr *err) {
    char zN[24], zIdle[24];
    int rc;
    for (;;) {
        int64_t n = cur_page_size(c, p);
        cur_page_free(c);
        if (c->phase >= 4 || (c->nWant >= 0 && c->nReturned >= c->nWant)) {
            c->bEof = 1;
            return BZ_OK;
        }
        snprintf(zN, sizeof zN, "%lld", (long long)n);
        c->bHoldable = 0;
        if (c->phase == 1 && strcmp(c->zPendId, "0") == 0) {
            rc = stream_take_held(c, p, n, err);
            if (rc < 0) return BZ_IO;
            if (rc > 0) return BZ_OK;
        }
        if (c->phase == 1 && p->bPelClean && !rq_conn_broken(p->pConn) &&
            strcmp(c->zPendId, "0") == 0) {
            c->phase = claim_due(p) ? 2 : 3; /* nothing of ours is pending: skip a round trip */
            continue;
        }
        if (c->phase == 1) {
            rc = vt_cmd(p, 9,
                        (const char *[]){"XREADGROUP", "GROUP", p->zGroup, p->zConsumer, "COUNT",
                                         zN, "STREAMS", p->zKey, c->zPendId},
                        NULL, &c->pPage, err);
            if (rc) return rc;
            c->pRows = rq_reply_at(rq_reply_at(c->pPage, 0), 1);
            c->nRow = rq_reply_len(c->pRows);
            if (c->nRow == 0) {
                p->bPelClean = 1;
                c->phase = claim_due(p) ? 2 : 3;
                continue;
            }
            {
                size_t len;
                const char *z = entry_id(rq_reply_at(c->pRows, c->nRow - 1), &len);
                if (!z || len > 44) return bz_err(err, BZ_CORRUPT, "unexpected XREADGROUP reply");
                snprintf(c->zPendId, sizeof c->zPendId, "%.*s", (int)len, z);
            }
        } else if (c->phase == 2) {
            size_t len;
            const char *z;
            snprintf(zIdle, sizeof zIdle, "%lld", (long long)p->claim_idle_ms);
            rc = vt_cmd(p, 8,
                        (const char *[]){"XAUTOCLAIM", p->zKey, p->zGroup, p->zConsumer, zIdle,
                                         c->zClaimCursor, "COUNT", zN},
                        NULL, &c->pPage, err);
            if (rc) return rc;
            z = rq_reply_str(rq_reply_at(c->pPage, 0), &len);
            if (!z || len > 44) return bz_err(err, BZ_CORRUPT, "unexpected XAUTOCLAIM reply");
            snprintf(c->zClaimCursor, sizeof c->zClaimCursor, "%.*s", (int)len, z);
            if (strcmp(c->zClaimCursor, "0-0") == 0) {
                c->phase = 3;
                p->lastClaimMs = bz_now_ms();
            }
            c->pRows = rq_reply_at(c->pPage, 1);
            c->nRow = rq_reply_len(c->pRows);
            if (c->nRow == 0) continue;
        } else {
            if (!c->bAhead && (rc = stream_ask_new(c, p, n, 0, err)) != BZ_OK) return rc;
            c->bAhead = 0;
            c->pageMs = c->askMs;
            rc = rq_conn_get_reply(p->pConn, &c->pPage, err);
            if (c->bBlocking) {
                rq_conn_set_read_timeout(p->pConn, 0);
                c->bBlocking = 0;
            }
            if (rc) return rc;
            c->pRows = rq_reply_at(rq_reply_at(c->pPage, 0), 1);
            c->nRow = rq_reply_len(c->pRows);
            if (c->nRow == 0) {
                c->phase = 4;
                continue;
            }
            c->bHoldable = 1;
            /* Ask for the next page now, so Redis prepares it while SQLite takes
            ** this one; at the last page LIMIT allows, for the next statement. */
            if (c->nWant >= 0 ? c->nWant - c->nReturned - (int64_t)c->nRow > 0
                              : (int64_t)c->nRow >= c->nAsked) {
                if ((rc = stream_ask_new(c, p, n, 0, err)) != BZ_OK) return rc;
            } else if (c->nWant >= 0 && (int64_t)c->nRow >= c->nAsked && p->bPelClean &&
                       !p->pHeld && !p->bAheadVt) {
                if ((rc = stream_ask_new(c, p, n, 1, err)) != BZ_OK) return rc;
            }
        }
        /* Skip rows already read in this transaction (new entries never were). */
        while (c->phase != 3 && c->iRow < c->nRow &&
               entry_skippable(p, rq_reply_at(c->pRows, c->iRow)))
            c->iRow++;
        if (c->iRow < c->nRow) return BZ_OK;
    }
}

/* Load the next page for whatever kind of cursor this is. */
static int cur_next_page(RedisCursor *c, BzErr *err) {
    RedisVtab *p = (RedisVtab *)c->base.pVtab;
    if (p->eKind == RV_LIST)
        return p->bConsume ? list_take_page(c, p, err) : list_peek_page(c, p, err);
    return p->zGroup ? stream_group_page(c, p, err) : stream_range_page(c, p, err);
}

/* A page could not be read. For a consuming stream, what is pending for this
** consumer is no longer known (a page fetched, or a read sent, may be lost
** with the error), so the next statement reads its pending list again. */
static void cur_failed(RedisCursor *c, RedisVtab *p) {
    c->bEof = 1;
    if (p->eKind == RV_STREAM && p->zGroup) p->bPelClean = 0;
}

static int redisNext(sqlite3_vtab_cursor *pCur) {
    RedisCursor *c = (RedisCursor *)pCur;
    RedisVtab *p = (RedisVtab *)pCur->pVtab;
    BzErr err = {0};
    if (c->bEof) return SQLITE_OK;
    if (cur_mark(c) != BZ_OK) return SQLITE_NOMEM;
    c->bMarked = 0;
    c->iRow++;
    c->iIdx++;
    if (p->eKind == RV_STREAM && p->zGroup && c->phase != 3)
        while (c->iRow < c->nRow && entry_skippable(p, rq_reply_at(c->pRows, c->iRow)))
            c->iRow++;
    if (c->iRow >= c->nRow) {
        if (cur_next_page(c, &err) != BZ_OK) {
            cur_failed(c, p);
            return vt_error(p, &err);
        }
    }
    return SQLITE_OK;
}

static int redisFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr, int argc,
                       sqlite3_value **argv) {
    RedisCursor *c = (RedisCursor *)pCur;
    RedisVtab *p = (RedisVtab *)pCur->pVtab;
    BzErr err = {0};
    int consuming = p->bConsume || p->zGroup;
    int i = 0, bit, rc;
    int64_t limit = -1, offset = 0;
    (void)idxStr;
    (void)argc;
    cur_page_free(c);
    c->bEof = 0;
    c->bMarked = 0;
    c->idxNum = idxNum;
    c->nReturned = 0;
    c->nFetched = 0;
    c->iIdx = 0;
    c->lo = 0;
    c->hi = INT64_MAX;
    strcpy(c->zStart, "-");
    strcpy(c->zEnd, "+");
    c->bMore = 1;
    if (p->bEnlisting) { /* the enlisting DELETE ... WHERE 0: nothing to read */
        c->bEof = 1;
        return SQLITE_OK;
    }
    for (bit = 0; bit < 7; bit++) {
        sqlite3_value *v;
        if (!(idxNum & (1 << bit))) continue;
        v = argv[i++];
        if (bit == 5) {
            limit = sqlite3_value_int64(v);
            continue;
        }
        if (bit == 6) {
            offset = sqlite3_value_int64(v);
            continue;
        }
        if (sqlite3_value_type(v) == SQLITE_NULL) {
            c->bEof = 1; /* comparison with NULL matches nothing */
            return SQLITE_OK;
        }
        if (p->eKind == RV_LIST) {
            /* Integer bounds from any numeric value; text compares above every number. */
            int t = sqlite3_value_numeric_type(v);
            double d = sqlite3_value_double(v), lo, hi;
            if (t != SQLITE_INTEGER && t != SQLITE_FLOAT) {
                if (bit <= 2) c->hi = -1; /* idx =, >, >= text: nothing */
                continue;                 /* idx <, <= text: everything */
            }
            if (t == SQLITE_INTEGER) d = (double)sqlite3_value_int64(v);
            switch (bit) {
            case 0:
                if (d != (double)(int64_t)d) c->hi = -1;
                lo = hi = d;
                break;
            case 1:
                lo = floor_(d) + 1, hi = 9e18;
                break;
            case 2:
                lo = -floor_(-d), hi = 9e18;
                break;
            case 3:
                lo = -1, hi = -floor_(-d) - 1;
                break;
            default:
                lo = -1, hi = floor_(d);
                break;
            }
            if (t == SQLITE_INTEGER) {
                int64_t x = sqlite3_value_int64(v);
                if (bit == 0)
                    c->lo = BZ_MAX(c->lo, x), c->hi = BZ_MIN(c->hi, x);
                else if (bit == 1)
                    c->lo = BZ_MAX(c->lo, x == INT64_MAX ? x : x + 1);
                else if (bit == 2)
                    c->lo = BZ_MAX(c->lo, x);
                else if (bit == 3)
                    c->hi = BZ_MIN(c->hi, x == INT64_MIN ? -1 : x - 1);
                else
                    c->hi = BZ_MIN(c->hi, x);
                if (bit >= 1 && c->lo < 0) c->lo = 0;
                continue;
            }
            if (lo > 9e18)
                c->hi = -1;
            else if (lo > (double)c->lo)
                c->lo = (int64_t)lo;
            if (hi < -1)
                c->hi = -1;
            else if (hi < (double)c->hi)
                c->hi = (int64_t)hi;
        } else {
            const char *z = (const char *)sqlite3_value_text(v);
            RqId id;
            size_t n = z ? strlen(z) : 0;
            if (!z || !rq_id_parse(z, n, &id) || n > 42)
                return set_err(p, BZ_MISUSE, "redis_stream(key='%s'): '%s' is not a stream id",
                               p->zKey, z ? z : "");
            switch (bit) {
            case 0:
                snprintf(c->zStart, sizeof c->zStart, "%s", z),
                    snprintf(c->zEnd, sizeof c->zEnd, "%s", z);
                break;
            case 1:
                snprintf(c->zStart, sizeof c->zStart, "(%s", z);
                break;
            case 2:
                snprintf(c->zStart, sizeof c->zStart, "%s", z);
                break;
            case 3:
                snprintf(c->zEnd, sizeof c->zEnd, "(%s", z);
                break;
            case 4:
                snprintf(c->zEnd, sizeof c->zEnd, "%s", z);
                break;
            }
        }
    }
    c->nWant = limit >= 0 ? limit + BZ_MAX(offset, 0) : -1;
    if (c->nWant == 0) {
        c->bEof = 1;
        return SQLITE_OK;
    }
    if (consuming) {
        int bStmt = 0;
        if (c->phase) { /* re-filtered: close the previous scan first */
            int64_t nBack = c->nFetched - c->nReturned;
            if (p->eKind == RV_LIST && nBack > 0 && list_script_n(p, LUA_GIVEBACK, nBack, &err))
                p->bListDirty = 1;
            if (p->eKind == RV_STREAM) stream_cursor_end(c, p);
            p->nOpenConsumers--;
            c->phase = 0;
        }
        if (p->nOpenConsumers > 0)
            return set_err(p, BZ_MISUSE,
                           "%s(key='%s'): only one consuming cursor per table may be open at a "
                           "time (use it as the outer table of a join)",
                           p->eKind == RV_LIST ? "redis_list" : "redis_stream", p->zKey);
        rc = enlist(p, &bStmt);
        if (rc != SQLITE_OK) return rc;
        if (bStmt) c->bStmtAck = 1;
        if (p->eKind == RV_LIST)
            rc = list_begin(p, &err);
        else
            rc = stream_group_ready(p, &err);
        if (rc) return vt_error(p, &err);
        p->nOpenConsumers++;
        c->phase = 1;
        strcpy(c->zPendId, "0");
        strcpy(c->zClaimCursor, "0-0");
        c->nFetched = 0;
    }
    if (cur_next_page(c, &err) != BZ_OK) {
        cur_failed(c, p);
        return vt_error(p, &err);
    }
    return SQLITE_OK;
}

static int redisEof(sqlite3_vtab_cursor *pCur) {
    return ((RedisCursor *)pCur)->bEof;
}

/* Return a Redis string as TEXT, or BLOB when it is not valid UTF-8. */
static void result_bytes(sqlite3_context *ctx, const char *z, size_t n) {
    if (bz_utf8_valid((const unsigned char *)z, n))
        sqlite3_result_text64(ctx, z, n, SQLITE_TRANSIENT, SQLITE_UTF8);
    else
        sqlite3_result_blob64(ctx, z, n, SQLITE_TRANSIENT);
}

static void result_typed(sqlite3_context *ctx, const char *z, size_t n, int eType) {
    char buf[64], *zEnd;
    if (eType == CT_BLOB) {
        sqlite3_result_blob64(ctx, z, n, SQLITE_TRANSIENT);
        return;
    }
    if (eType != CT_TEXT && n > 0 && n < sizeof buf) {
        memcpy(buf, z, n);
        buf[n] = 0;
        if (eType != CT_REAL) {
            long long v = strtoll(buf, &zEnd, 10);
            if (*zEnd == 0) {
                sqlite3_result_int64(ctx, v);
                return;
            }
        }
        {
            double d = strtod(buf, &zEnd);
            if (*zEnd == 0) {
                sqlite3_result_double(ctx, d);
                return;
            }
        }
    }
    result_bytes(ctx, z, n);
}

static int redisColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int iCol) {
    RedisCursor *c = (RedisCursor *)pCur;
    RedisVtab *p = (RedisVtab *)pCur->pVtab;
    const RqReply *row;
    size_t n;
    const char *z;
    if (c->bEof) return SQLITE_OK;
    if (cur_mark(c) != BZ_OK) return SQLITE_NOMEM;
    row = c->pRows ? rq_reply_at(c->pRows, c->iRow) : c->pPage; /* single BLMOVE value */
    if (p->eKind == RV_LIST) {
        if (iCol == 0) {
            z = rq_reply_str(row, &n);
            if (z) result_bytes(ctx, z, n);
        } else if (!p->bConsume) {
            sqlite3_result_int64(ctx, c->iIdx);
        }
        return SQLITE_OK;
    }
    if (iCol == 0) {
        z = entry_id(row, &n);
        if (z) sqlite3_result_text64(ctx, z, n, SQLITE_TRANSIENT, SQLITE_UTF8);
        return SQLITE_OK;
    }
    {
        const RqReply *f = rq_reply_at(row, 1);
        size_t i, nf = rq_reply_len(f);
        if (p->nField == 0) {
            bz_buf_reset(&c->tmp);
            bz_buf_appendc(&c->tmp, '{');
            for (i = 0; i + 1 < nf; i += 2) {
                if (i) bz_buf_appendc(&c->tmp, ',');
                z = rq_reply_str(rq_reply_at(f, i), &n);
                bz_buf_json_str(&c->tmp, z ? z : "", n);
                bz_buf_appendc(&c->tmp, ':');
                z = rq_reply_str(rq_reply_at(f, i + 1), &n);
                bz_buf_json_str(&c->tmp, z ? z : "", n);
            }
            bz_buf_appendc(&c->tmp, '}');
            if (c->tmp.rc) return SQLITE_NOMEM;
            sqlite3_result_text64(ctx, c->tmp.data, c->tmp.n, SQLITE_TRANSIENT, SQLITE_UTF8);
            if (c->tmp.cap > (1u << 20)) bz_buf_free(&c->tmp);
            return SQLITE_OK;
        }
        if (iCol - 1 >= p->nField) return SQLITE_OK;
        for (i = 0; i + 1 < nf; i += 2) {
            z = rq_reply_str(rq_reply_at(f, i), &n);
            if (z && n == strlen(p->azField[iCol - 1]) && memcmp(z, p->azField[iCol - 1], n) == 0) {
                z = rq_reply_str(rq_reply_at(f, i + 1), &n);
                if (z) result_typed(ctx, z, n, p->aType[iCol - 1]);
                break;
            }
        }
    }
    return SQLITE_OK;
}

static int redisRowid(sqlite3_vtab_cursor *pCur, sqlite_int64 *pRowid) {
    *pRowid = ((RedisCursor *)pCur)->iIdx;
    return SQLITE_OK;
}

/* ---- Writing ------------------------------------------------------------------------ */

typedef struct FieldAcc {
    BzBuf *b;
    int n;
    int64_t max;
    BzErr *err;
} FieldAcc;

static int field_acc(void *pArg, const char *zKey, size_t nKey, const char *zVal, size_t nVal,
                     int bNull) {
    FieldAcc *a = pArg;
    if (bNull) return 0; /* null fields are left out */
    if ((int64_t)nVal > a->max)
        return bz_err(a->err, BZ_LIMIT, "field '%.*s' of %zu bytes exceeds max_bytes=%lld",
                      (int)BZ_MIN(nKey, 64), zKey, nVal, (long long)a->max);
    resp_bulk(a->b, zKey, nKey);
    resp_bulk(a->b, zVal, nVal);
    a->n += 2;
    return 0;
}

static int value_bytes(sqlite3_value *v, const char **pz, size_t *pn) {
    if (sqlite3_value_type(v) == SQLITE_BLOB) {
        *pz = sqlite3_value_blob(v);
        *pn = (size_t)sqlite3_value_bytes(v);
    } else {
        *pz = (const char *)sqlite3_value_text(v);
        *pn = (size_t)sqlite3_value_bytes(v);
    }
    if (!*pz) *pz = "";
    return BZ_OK;
}

static int redisUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv, sqlite_int64 *pRowid) {
    RedisVtab *p = (RedisVtab *)pVtab;
    BzErr err = {0};
    const char *z;
    size_t n;
    const char *zKind = p->eKind == RV_LIST ? "redis_list" : "redis_stream";
    (void)pRowid;
    if (argc > 1 && sqlite3_value_type(argv[0]) != SQLITE_NULL)
        return set_err(p, BZ_UNSUPPORTED, "%s(key='%s'): UPDATE is not supported", zKind, p->zKey);
    if (p->bWLost) {
        ops_lost_err(&err);
        return vt_error(p, &err);
    }
    if (argc == 1) {   /* DELETE: argv[0] is the primary key (value or id) */
        push_flush(p); /* keep the order of writes */
        value_bytes(argv[0], &z, &n);
        if (p->eKind == RV_LIST)
            rq_resp_cmd(&p->ops, 4, (const char *[]){"LREM", p->zKey, "0", z},
                        (const size_t[]){4, strlen(p->zKey), 1, n});
        else
            rq_resp_cmd(&p->ops, 3, (const char *[]){"XDEL", p->zKey, z},
                        (const size_t[]){4, strlen(p->zKey), n});
        p->nOps++;
        if (p->ops.rc)
            return set_err(p, p->ops.rc, "%s(key='%s'): transaction too large", zKind, p->zKey);
        return ops_stream(p, &err) != BZ_OK ? vt_error(p, &err) : SQLITE_OK;
    }
    if (p->eKind == RV_LIST) {
        if (sqlite3_value_type(argv[2]) == SQLITE_NULL)
            return set_err(p, BZ_CONSTRAINT, "redis_list(key='%s'): value must not be NULL",
                           p->zKey);
        value_bytes(argv[2], &z, &n);
        if ((int64_t)n > p->max_bytes)
            return set_err(p, BZ_LIMIT,
                           "redis_list(key='%s'): message of %zu bytes exceeds max_bytes=%lld",
                           p->zKey, n, (long long)p->max_bytes);
        resp_bulk(&p->push, z, n);
        if (++p->nPush >= 1000) push_flush(p);
    } else {
        /* One XADD per entry: "XADD key [MAXLEN ~ n] id field value ...". The
        ** fields go to the scratch buffer first: the argument count leads. */
        BzBuf *f = &p->push;
        FieldAcc acc;
        int i;
        bz_buf_reset(f);
        acc.b = f;
        acc.n = 0;
        acc.max = p->max_bytes;
        acc.err = &err;
        if (p->nField == 0) {
            if (sqlite3_value_type(argv[3]) != SQLITE_NULL) {
                z = (const char *)sqlite3_value_text(argv[3]);
                n = (size_t)sqlite3_value_bytes(argv[3]);
                if (rq_json_object(z ? z : "", n, field_acc, &acc, &err) != BZ_OK)
                    return vt_error(p, &err);
            }
        } else {
            for (i = 0; i < p->nField; i++) {
                sqlite3_value *v = argv[3 + i];
                if (sqlite3_value_type(v) == SQLITE_NULL) continue;
                value_bytes(v, &z, &n);
                if (field_acc(&acc, p->azField[i], strlen(p->azField[i]), z, n, 0))
                    return vt_error(p, &err);
            }
        }
        if (acc.n == 0)
            return set_err(p, BZ_CONSTRAINT,
                           "redis_stream(key='%s'): an entry needs at least one non-NULL field",
                           p->zKey);
        z = sqlite3_value_type(argv[2]) == SQLITE_NULL ? "*"
                                                       : (const char *)sqlite3_value_text(argv[2]);
        if (!z) z = "*";
        resp_head(&p->ops, '*', (size_t)((p->maxlen > 0 ? 6 : 3) + acc.n));
        resp_bulk(&p->ops, "XADD", 4);
        resp_bulk(&p->ops, p->zKey, strlen(p->zKey));
        if (p->maxlen > 0) {
            char zMax[24];
            snprintf(zMax, sizeof zMax, "%lld", (long long)p->maxlen);
            resp_bulk(&p->ops, "MAXLEN", 6);
            resp_bulk(&p->ops, "~", 1);
            resp_bulk(&p->ops, zMax, strlen(zMax));
        }
        resp_bulk(&p->ops, z, strlen(z));
        bz_buf_append(&p->ops, f->data ? f->data : "", f->n);
        if (f->rc) p->ops.rc = f->rc;
        if (f->cap > (1u << 20)) bz_buf_free(f);
        p->nOps++;
    }
    if (p->ops.rc)
        return set_err(p, p->ops.rc, "%s(key='%s'): transaction too large to buffer", zKind,
                       p->zKey);
    if (p->ops.n >= RV_STREAM_CHUNK && ops_stream(p, &err) != BZ_OK) return vt_error(p, &err);
    return SQLITE_OK;
}

static sqlite3_module redisModule = {
    2, /* iVersion */
    redisCreate,
    redisConnect,
    redisBestIndex,
    redisDisconnect,
    redisDisconnect,
    redisOpen,
    redisClose,
    redisFilter,
    redisNext,
    redisEof,
    redisColumn,
    redisRowid,
    redisUpdate,
    redisBegin,
    redisSync,
    redisCommit,
    redisRollback,
    0, /* xFindFunction */
    0, /* xRename */
    redisSavepoint,
    redisRelease,
    redisRollbackTo,
    0 /* xShadowName */
};

/* ---- redis_command(url, cmd, arg...) -------------------------------------------------- */

static void conn_destroy(void *p) {
    rq_conn_close(p);
}

/* Run one command and return its reply: strings as TEXT (BLOB if not UTF-8),
** integers as INTEGER, nil as NULL, arrays as JSON text; an error reply is an
** SQL error naming the URL. The connection is cached for the statement. */
static void redisCommandFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    RqConn *conn = sqlite3_get_auxdata(ctx, 0);
    BzErr err = {0};
    RqReply *r = NULL;
    const char **av;
    size_t *al;
    int i, rc;
    if (argc < 2) {
        sqlite3_result_error(ctx, "redis_command(url, cmd, arg...) needs a command", -1);
        return;
    }
    if (!conn) {
        const char *zUrl = (const char *)sqlite3_value_text(argv[0]);
        if (!zUrl || !*zUrl) zUrl = getenv("REDIS_URL");
        if (rq_conn_open(&conn, zUrl ? zUrl : "", NULL, &err) != BZ_OK) {
            char *z = sqlite3_mprintf("redis_command: %s", err.msg);
            sqlite3_result_error(ctx, z, -1);
            sqlite3_free(z);
            return;
        }
        sqlite3_set_auxdata(ctx, 0, conn, conn_destroy);
        conn = sqlite3_get_auxdata(ctx, 0);
        if (!conn) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
    }
    av = bz_malloc(sizeof(char *) * (size_t)argc);
    al = bz_malloc(sizeof(size_t) * (size_t)argc);
    if (!av || !al) {
        bz_free(av);
        bz_free(al);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (i = 1; i < argc; i++) {
        const char *z;
        size_t n;
        value_bytes(argv[i], &z, &n);
        av[i - 1] = z;
        al[i - 1] = n;
    }
    rc = rq_conn_command(conn, argc - 1, av, al, &r, &err);
    bz_free(av);
    bz_free(al);
    if (rc != BZ_OK) {
        char *z = sqlite3_mprintf("redis_command: %s", err.msg);
        sqlite3_result_error(ctx, z, -1);
        sqlite3_result_error_code(ctx, bz_sqlite_rc(rc == BZ_ERROR ? BZ_ERROR : rc));
        sqlite3_free(z);
        rq_reply_free(r);
        return;
    }
    switch (rq_reply_type(r)) {
    case RQ_STRING: {
        size_t n;
        const char *z = rq_reply_str(r, &n);
        result_bytes(ctx, z, n);
        break;
    }
    case RQ_STATUS: {
        size_t n;
        const char *z = rq_reply_str(r, &n);
        sqlite3_result_text64(ctx, z, n, SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    }
    case RQ_INTEGER:
        sqlite3_result_int64(ctx, rq_reply_int(r));
        break;
    case RQ_ARRAY: {
        BzBuf b;
        bz_buf_init(&b, 0);
        rq_reply_json(&b, r);
        if (b.rc)
            sqlite3_result_error_nomem(ctx);
        else
            sqlite3_result_text64(ctx, b.data, b.n, SQLITE_TRANSIENT, SQLITE_UTF8);
        bz_buf_free(&b);
        break;
    }
    default:
        sqlite3_result_null(ctx);
        break;
    }
    rq_reply_free(r);
}

int bz_register_redis(sqlite3 *db) {
    int rc = sqlite3_create_module(db, "redis_list", &redisModule, (void *)(intptr_t)RV_LIST);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_module(db, "redis_stream", &redisModule, (void *)(intptr_t)RV_STREAM);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "redis_command", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY, 0,
                                     redisCommandFunc, 0, 0);
    return rc;
}
