/*
** rq.h: the redis module, plain C that knows nothing of SQLite. One section
** per source file:
**
**   rq_url.c   parse `redis://[user:password@]host:port/db` and print it back
**              without the password (for error messages).
**   rq_conn.c  a connection (hiredis inside, never outside): connect with a
**              timeout, AUTH, SELECT, reconnect with backoff, single commands
**              and pipelines, raw sends from the caller's buffer, replies
**              skipped without building objects, RESP encoding of commands
**              into a BzBuf, and an opaque reply type (built in one arena per
**              reply) with accessors.
**   rq_json.c  replies as JSON, a flat JSON object parser (stream fields),
**              stream ids and a set of them.
**
** Usage:
**     BzErr err = {0};
**     RqConn *c = NULL;
**     RqReply *r = NULL;
**     const char *argv[] = {"LLEN", "jobs"};
**     if (rq_conn_open(&c, "redis://127.0.0.1:6379/0", NULL, &err) == BZ_OK &&
**         rq_conn_command(c, 2, argv, NULL, &r, &err) == BZ_OK)
**         printf("%lld\n", rq_reply_int(r));
**     rq_reply_free(r);
**     rq_conn_close(c);
**
** Depends on common and hiredis.
*/
#ifndef BZ_RQ_H
#define BZ_RQ_H

#include "common/bz_common.h"

/* ---- rq_url.c --------------------------------------------------------- */

typedef struct RqUrl {
    char *zUser;     /* NULL when absent; percent-decoded */
    char *zPassword; /* NULL when absent; percent-decoded */
    char *zHost;     /* never NULL after a successful parse */
    int port;        /* default 6379 */
    int db;          /* default 0 */
    int bTls;        /* 1 for rediss:// */
    char *zRedacted; /* the URL with the password replaced by "***" */
} RqUrl;

/* Parse zUrl into *pUrl (zeroed first). On failure returns BZ_MISUSE with a
** message that never contains the password. The caller frees the fields with
** rq_url_free (also after a failure). */
int rq_url_parse(RqUrl *pUrl, const char *zUrl, BzErr *err);
void rq_url_free(RqUrl *pUrl);

/* ---- rq_conn.c -------------------------------------------------------- */

/* Reply types, the same numbers hiredis uses. */
enum { RQ_STRING = 1, RQ_ARRAY = 2, RQ_INTEGER = 3, RQ_NIL = 4, RQ_STATUS = 5, RQ_ERROR = 6 };

typedef struct redisReply RqReply; /* opaque: use the accessors below */

int rq_reply_type(const RqReply *r);
long long rq_reply_int(const RqReply *r);
/* String, status and error payloads; *pn gets the length. NULL otherwise. */
const char *rq_reply_str(const RqReply *r, size_t *pn);
size_t rq_reply_len(const RqReply *r);                  /* elements of an array */
const RqReply *rq_reply_at(const RqReply *r, size_t i); /* NULL when out of range */
void rq_reply_free(RqReply *r);                         /* NULL is a no-op */

/* Parse one complete RESP reply from bytes (tests and fuzzing). The caller
** frees *ppOut with rq_reply_free. BZ_CORRUPT on malformed or partial input. */
int rq_reply_parse(const char *z, size_t n, RqReply **ppOut, BzErr *err);

/* Check that z[0..n) holds nReply complete replies without building them
** (the reader of rq_conn_skip_replies). BZ_OK, BZ_ERROR when an error reply
** appears at any depth (its text copied to zErr), BZ_CORRUPT otherwise. */
int rq_reply_scan(const char *z, size_t n, int nReply, char *zErr, size_t nErr, BzErr *err);

typedef struct RqOptions {
    int connect_timeout_ms; /* default 2000 */
    int timeout_ms;         /* read/write timeout, default 5000; blocking reads add to it */
    int reconnect_ms;       /* retry budget after a dropped connection, default 5000; -1 = none */
} RqOptions;

typedef struct RqConn RqConn;

/* Connect to zUrl (AUTH and SELECT included). opts may be NULL for the
** defaults. *ppConn is NULL on failure; the message names the redacted URL.
** The caller closes the connection with rq_conn_close. */
int rq_conn_open(RqConn **ppConn, const char *zUrl, const RqOptions *opts, BzErr *err);
void rq_conn_close(RqConn *c); /* NULL is a no-op */
/* The URL with the password replaced by "***"; owned by the connection. */
const char *rq_conn_url(const RqConn *c);

/* Run one command. A connection found broken beforehand is re-established
** first (with backoff, up to reconnect_ms); a failure during the command is
** reported (BZ_IO or BZ_TIMEOUT) and never retried, because the server may
** have executed it. An error reply is BZ_ERROR with Redis's text, and
** *ppReply is still set. argvlen may be NULL for NUL-terminated arguments.
** The caller frees *ppReply with rq_reply_free (NULL on I/O failure). */
int rq_conn_command(RqConn *c, int argc, const char **argv, const size_t *argvlen,
                    RqReply **ppReply, BzErr *err);

/* Pipelining: queue commands (already RESP-encoded in z[0..n), nCmd of them,
** e.g. built with rq_resp_cmd), then read the replies one by one. */
int rq_conn_append_raw(RqConn *c, const char *z, size_t n, int nCmd, BzErr *err);
int rq_conn_append(RqConn *c, int argc, const char **argv, const size_t *argvlen, BzErr *err);
/* Next reply of the pipeline; same ownership and errors as rq_conn_command. */
int rq_conn_get_reply(RqConn *c, RqReply **ppReply, BzErr *err);
/* Send z[0..n) (nCmd RESP-encoded commands) now, straight from the caller's
** buffer (no copy into hiredis), after anything already queued. */
int rq_conn_write_raw(RqConn *c, const char *z, size_t n, int nCmd, BzErr *err);
/* Read the next n replies without building reply objects. BZ_OK, BZ_ERROR
** with the text of the first error reply found at any depth (all n replies
** are still read), or BZ_IO/BZ_TIMEOUT. */
int rq_conn_skip_replies(RqConn *c, int n, BzErr *err);
/* Read, without waiting, whatever replies already arrived, up to nMax, and
** skip them like rq_conn_skip_replies; *pnDone gets how many. Meant for
** simple-line replies (+QUEUED of a MULTI being streamed). BZ_OK, BZ_ERROR
** with the first error reply among them, or BZ_IO. */
int rq_conn_skip_ready(RqConn *c, int nMax, int *pnDone, BzErr *err);
/* Send a command now without waiting for its reply, which is read and
** discarded before the next reply (used for acknowledgements: saves a round
** trip per batch). Errors in that reply are ignored. */
int rq_conn_send_noreply(RqConn *c, int argc, const char **argv, const size_t *argvlen, BzErr *err);
/* The same for one command already RESP-encoded in z[0..n). */
int rq_conn_send_raw_noreply(RqConn *c, const char *z, size_t n, BzErr *err);
/* The next n replies of the pipeline are not wanted: they are read and
** discarded before the next reply, like those of rq_conn_send_noreply. */
void rq_conn_defer(RqConn *c, int n);
/* 1 when the connection is known to be broken (the next command reconnects). */
int rq_conn_broken(const RqConn *c);
/* Set the read timeout for the next replies (ms; 0 restores timeout_ms). */
void rq_conn_set_read_timeout(RqConn *c, int ms);

/* Append one command in RESP form to b (sticky errors, see BzBuf). */
void rq_resp_cmd(BzBuf *b, int argc, const char **argv, const size_t *argvlen);

/* ---- rq_json.c -------------------------------------------------------- */

/* Append r as JSON: strings and statuses as JSON strings (invalid UTF-8
** becomes U+FFFD), integers as numbers, nil as null, arrays as arrays and
** errors as {"error":"..."}. Depth is limited to 64. */
void rq_reply_json(BzBuf *b, const RqReply *r);

/* Callback for rq_json_object: one field. zVal is the decoded string for
** JSON strings, and the literal text for numbers, true, false and nested
** values; bNull is set for null. Return non-zero to stop (that value is
** returned). */
typedef int (*RqFieldFn)(void *pArg, const char *zKey, size_t nKey, const char *zVal, size_t nVal,
                         int bNull);

/* Parse a JSON object `{"k": v, ...}` and call xField for each member in
** order. Returns BZ_OK, BZ_CORRUPT with a message for malformed input, or
** whatever xField returned. */
int rq_json_object(const char *z, size_t n, RqFieldFn xField, void *pArg, BzErr *err);

/* A stream entry id "ms-seq". */
typedef struct RqId {
    uint64_t ms, seq;
} RqId;

/* Parse "ms-seq" (or "ms", seq = 0). Returns 1 on success. */
int rq_id_parse(const char *z, size_t n, RqId *pId);
/* Format into z (at least 42 bytes); returns the length. */
int rq_id_format(RqId id, char *z);
int rq_id_cmp(RqId a, RqId b);

/* A set of ids in insertion order (the acknowledgements of a transaction):
** an array plus an open-addressing hash index. Zero-initialise; free with
** rq_idset_free. Memory is kept across rq_idset_clear. */
typedef struct RqIdSet {
    RqId *aId;
    size_t nId, nAlloc;
    uint32_t *aHash; /* 1-based positions in aId; 0 = empty slot */
    size_t nHash;    /* power of two */
} RqIdSet;

/* Add id; returns BZ_OK (also when already present) or BZ_NOMEM. */
int rq_idset_add(RqIdSet *s, RqId id);
int rq_idset_has(const RqIdSet *s, RqId id);
void rq_idset_truncate(RqIdSet *s, size_t n); /* keep the first n (savepoint rollback) */
void rq_idset_clear(RqIdSet *s);
void rq_idset_free(RqIdSet *s);

#endif /* BZ_RQ_H */
