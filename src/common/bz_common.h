/*
** bz_common.h: the few things every buzzlite module shares.
**
**   - BzErr: the one error convention. A function that can fail returns an int
**     status (BZ_OK or one of the BZ_* codes below) and, on failure, fills the
**     BzErr passed down to it. The SQLite boundary (ext/) translates it once.
**   - bz_malloc & co: the one allocator entry point. The extension points it
**     at sqlite3_malloc64 so SQLite's memory accounting sees our buffers.
**   - BzBuf: a growable byte buffer with a hard size cap and a sticky status.
**
** Usage:
**     BzErr err = {0};
**     if (pq_file_open(&f, path, &err) != BZ_OK) report(err.msg);
**
** This module depends on nothing but libc.
*/
#ifndef BZ_COMMON_H
#define BZ_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Status codes. BZ_OK is 0 so `if (rc)` reads naturally. */
enum {
    BZ_OK = 0,
    BZ_ERROR = 1,       /* generic failure */
    BZ_NOMEM = 2,       /* allocation failed */
    BZ_CORRUPT = 3,     /* input is malformed (file, page, reply) */
    BZ_UNSUPPORTED = 4, /* valid input using a feature we do not implement */
    BZ_IO = 5,          /* read/write/network failure */
    BZ_NOTFOUND = 6,    /* file, key, table or object does not exist */
    BZ_LIMIT = 7,       /* input exceeds a configured safety limit */
    BZ_CONSTRAINT = 8,  /* uniqueness / condition violated */
    BZ_AUTH = 9,        /* credentials missing, expired or refused */
    BZ_TIMEOUT = 10,    /* operation ran out of time */
    BZ_MISUSE = 11,     /* bad arguments / options from the user */
    BZ_DONE = 100       /* iteration finished (not an error) */
};

/* Error object passed down the call chain. `code` repeats the returned status,
** `http_status` is set when a remote service answered (0 otherwise). */
typedef struct BzErr {
    int code;
    int http_status;
    char msg[512];
} BzErr;

/* Set *e (if not NULL) to code and a printf-formatted message; returns code so
** callers can write `return bz_err(e, BZ_CORRUPT, "bad magic");`. */
int bz_err(BzErr *e, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepend printf-formatted context to an already-set message:
** "page header truncated" -> "row group 3, column \"x\": page header truncated".
** A message that already starts with the same context and ": " is left as it
** is, so a name added at two levels appears once. Returns e->code. */
int bz_err_prefix(BzErr *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reset to "no error". */
void bz_err_clear(BzErr *e);

/* Short lower-case name of a status code, e.g. "corrupt". Static string. */
const char *bz_status_name(int code);

/* ---- Allocator ------------------------------------------------------- */
typedef struct BzAllocator {
    void *(*xMalloc)(size_t n);
    void *(*xRealloc)(void *p, size_t n);
    void (*xFree)(void *p);
} BzAllocator;

/* Install an allocator (NULL restores libc). Call once, before any other
** buzzlite function; not thread-safe against concurrent allocation. */
void bz_set_allocator(const BzAllocator *a);

/* Allocation entry points. All return NULL on failure (or for n == 0 they may
** return a valid pointer). bz_free(NULL) is a no-op. */
void *bz_malloc(size_t n);
void *bz_calloc(size_t count, size_t size); /* overflow-checked, zeroed */
void *bz_realloc(void *p, size_t n);
void bz_free(void *p);
/* Copy of z (NUL-terminated), or of its first n bytes with bz_strndup.
** Caller frees with bz_free. */
char *bz_strdup(const char *z);
char *bz_strndup(const char *z, size_t n);
/* printf into a new string; caller frees with bz_free. NULL on OOM. */
char *bz_mprintf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
char *bz_vmprintf(const char *fmt, va_list ap);

/* ---- BzBuf: capped growable buffer ------------------------------------ */
/* Sticky status: once an append fails (OOM or cap), `rc` stays set and later
** appends are no-ops, so builders check once at the end. */
typedef struct BzBuf {
    char *data;   /* owned; always NUL-terminated when n < cap */
    size_t n;     /* bytes used */
    size_t cap;   /* bytes allocated */
    size_t max;   /* hard cap on n (0 = 1 GiB default) */
    int rc;       /* BZ_OK, BZ_NOMEM or BZ_LIMIT */
} BzBuf;

void bz_buf_init(BzBuf *b, size_t max);
void bz_buf_free(BzBuf *b);
void bz_buf_reset(BzBuf *b); /* n = 0, rc = BZ_OK, keeps memory */
int bz_buf_reserve(BzBuf *b, size_t extra);
void bz_buf_append(BzBuf *b, const void *p, size_t n);
void bz_buf_appendz(BzBuf *b, const char *z);
void bz_buf_appendc(BzBuf *b, char c);
void bz_buf_printf(BzBuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Append z as a JSON string literal (quotes and escapes; invalid UTF-8 bytes
** become U+FFFD). */
void bz_buf_json_str(BzBuf *b, const char *z, size_t n);
/* The same escaping, written through put(ctx, bytes, n) pieces, for writers
** that are not a BzBuf. */
typedef void (*BzPutFn)(void *ctx, const char *p, size_t n);
void bz_json_str_put(const char *z, size_t n, BzPutFn put, void *ctx);
/* Detach the data (NUL-terminated, caller frees with bz_free) and reset. */
char *bz_buf_take(BzBuf *b);

/* ---- Misc ------------------------------------------------------------- */
/* Length (2..4) of the valid multi-byte UTF-8 sequence at p[0..n), 1 for
** ASCII, 0 if invalid (overlong, surrogate, truncated). */
size_t bz_utf8_seq_len(const unsigned char *p, size_t n);
/* 1 if p[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int bz_utf8_valid(const unsigned char *p, size_t n);
/* Monotonic clock in nanoseconds / milliseconds. */
uint64_t bz_now_ns(void);
uint64_t bz_now_ms(void);
/* Glob match with '*', '?', and '**' (crossing '/'); '*' and '?' do not match
** '/'. Returns 1 on match. */
int bz_glob_match(const char *pattern, const char *str);

/* Module arguments (CREATE VIRTUAL TABLE ... USING m(...)): trim blanks from
** z[0..n) and strip one level of SQL quoting ('x', "x", `x`, [x]; a doubled
** quote inside collapses). Caller frees the copy with bz_free; NULL on OOM. */
char *bz_unquote(const char *z, size_t n);
/* Boolean option values: 1/0, true/false, on/off, yes/no in any case.
** Returns 1 and sets *out when v is one of them, else 0. */
int bz_parse_bool(const char *v, int *out);

#define BZ_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BZ_MAX(a, b) ((a) > (b) ? (a) : (b))
#define BZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* BZ_COMMON_H */
