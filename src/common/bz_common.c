/*
** bz_common.c: error objects, the allocator entry point, capped buffers and
** small utilities shared by every module. See bz_common.h.
*/
#define _POSIX_C_SOURCE 200809L
#include "bz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- Errors ------------------------------------------------------------ */

int bz_err(BzErr *e, int code, const char *fmt, ...) {
    if (e) {
        va_list ap;
        e->code = code;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int bz_err_prefix(BzErr *e, const char *fmt, ...) {
    char head[256], old[sizeof e->msg];
    va_list ap;
    if (!e) return BZ_ERROR;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    {   /* a message that already starts with this context keeps it once */
        size_t h = strlen(head);
        if (h && strncmp(e->msg, head, h) == 0 && e->msg[h] == ':' && e->msg[h + 1] == ' ')
            return e->code;
    }
    memcpy(old, e->msg, sizeof old);
    {
        size_t h = strlen(head), o = strnlen(old, sizeof old - 1);
        size_t cap = sizeof e->msg - 1, k = 0;
        memcpy(e->msg, head, BZ_MIN(h, cap));
        k = BZ_MIN(h, cap);
        if (k + 2 <= cap) {
            memcpy(e->msg + k, ": ", 2);
            k += 2;
        }
        memcpy(e->msg + k, old, BZ_MIN(o, cap - k));
        k += BZ_MIN(o, cap - k);
        e->msg[k] = 0;
    }
    return e->code;
}

void bz_err_clear(BzErr *e) {
    if (!e) return;
    e->code = BZ_OK;
    e->http_status = 0;
    e->msg[0] = 0;
}

const char *bz_status_name(int code) {
    switch (code) {
    case BZ_OK: return "ok";
    case BZ_NOMEM: return "out of memory";
    case BZ_CORRUPT: return "corrupt";
    case BZ_UNSUPPORTED: return "unsupported";
    case BZ_IO: return "i/o error";
    case BZ_NOTFOUND: return "not found";
    case BZ_LIMIT: return "limit exceeded";
    case BZ_CONSTRAINT: return "constraint failed";
    case BZ_AUTH: return "access denied";
    case BZ_TIMEOUT: return "timeout";
    case BZ_MISUSE: return "misuse";
    case BZ_DONE: return "done";
    default: return "error";
    }
}

/* ---- Allocator ----------------------------------------------------------- */

static BzAllocator g_alloc = {malloc, realloc, free};

void bz_set_allocator(const BzAllocator *a) {
    if (a) {
        g_alloc = *a;
    } else {
        g_alloc.xMalloc = malloc;
        g_alloc.xRealloc = realloc;
        g_alloc.xFree = free;
    }
}

void *bz_malloc(size_t n) { return g_alloc.xMalloc(n ? n : 1); }

void *bz_calloc(size_t count, size_t size) {
    void *p;
    if (size && count > SIZE_MAX / size) return NULL;
    p = bz_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *bz_realloc(void *p, size_t n) { return g_alloc.xRealloc(p, n ? n : 1); }

void bz_free(void *p) {
    if (p) g_alloc.xFree(p);
}

char *bz_strndup(const char *z, size_t n) {
    char *r = bz_malloc(n + 1);
    if (r) {
        memcpy(r, z, n);
        r[n] = 0;
    }
    return r;
}

char *bz_strdup(const char *z) { return z ? bz_strndup(z, strlen(z)) : NULL; }

char *bz_vmprintf(const char *fmt, va_list ap) {
    va_list ap2;
    int n;
    char *r;
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return NULL;
    r = bz_malloc((size_t)n + 1);
    if (r) vsnprintf(r, (size_t)n + 1, fmt, ap);
    return r;
}

char *bz_mprintf(const char *fmt, ...) {
    va_list ap;
    char *r;
    va_start(ap, fmt);
    r = bz_vmprintf(fmt, ap);
    va_end(ap);
    return r;
}

/* ---- BzBuf ----------------------------------------------------------------- */

#define BZ_BUF_DEFAULT_MAX ((size_t)1 << 30)

void bz_buf_init(BzBuf *b, size_t max) {
    memset(b, 0, sizeof *b);
    b->max = max ? max : BZ_BUF_DEFAULT_MAX;
}

void bz_buf_free(BzBuf *b) {
    bz_free(b->data);
    b->data = NULL;
    b->n = b->cap = 0;
    b->rc = BZ_OK;
}

void bz_buf_reset(BzBuf *b) {
    b->n = 0;
    b->rc = BZ_OK;
    if (b->data) b->data[0] = 0;
}

int bz_buf_reserve(BzBuf *b, size_t extra) {
    size_t need, cap;
    char *p;
    if (b->rc) return b->rc;
    if (extra > b->max || b->n > b->max - extra) return b->rc = BZ_LIMIT;
    need = b->n + extra + 1; /* room for the NUL */
    if (need <= b->cap) return BZ_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap * 2;
    p = bz_realloc(b->data, cap);
    if (!p) return b->rc = BZ_NOMEM;
    b->data = p;
    b->cap = cap;
    return BZ_OK;
}

void bz_buf_append(BzBuf *b, const void *p, size_t n) {
    if (bz_buf_reserve(b, n)) return;
    if (n) memcpy(b->data + b->n, p, n);
    b->n += n;
    b->data[b->n] = 0;
}

void bz_buf_appendz(BzBuf *b, const char *z) { bz_buf_append(b, z, strlen(z)); }

void bz_buf_appendc(BzBuf *b, char c) {
    if (bz_buf_reserve(b, 1)) return;
    b->data[b->n++] = c;
    b->data[b->n] = 0;
}

void bz_buf_printf(BzBuf *b, const char *fmt, ...) {
    va_list ap, ap2;
    int n;
    if (b->rc) return;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n >= 0 && bz_buf_reserve(b, (size_t)n) == BZ_OK) {
        vsnprintf(b->data + b->n, (size_t)n + 1, fmt, ap);
        b->n += (size_t)n;
    }
    va_end(ap);
}

size_t bz_utf8_seq_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;
        if (c == 0xF4 && p[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

int bz_utf8_valid(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        /* fast path for ASCII runs */
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = bz_utf8_seq_len(p + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

void bz_json_str_put(const char *z, size_t n, BzPutFn put, void *ctx) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)z;
    size_t i = 0, run = 0;
    put(ctx, "\"", 1);
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        if (run) put(ctx, z + i - run, run);
        run = 0;
        if (c < 0x80) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '"': put(ctx, "\\\"", 2); break;
            case '\\': put(ctx, "\\\\", 2); break;
            case '\n': put(ctx, "\\n", 2); break;
            case '\r': put(ctx, "\\r", 2); break;
            case '\t': put(ctx, "\\t", 2); break;
            default: put(ctx, esc, 6); break;
            }
            i++;
        } else {
            size_t k = bz_utf8_seq_len(p + i, n - i);
            if (k) {
                put(ctx, z + i, k);
                i += k;
            } else {
                put(ctx, "\xEF\xBF\xBD", 3);
                i++;
            }
        }
    }
    if (run) put(ctx, z + i - run, run);
    put(ctx, "\"", 1);
}

static void buf_put(void *ctx, const char *p, size_t n) {
    bz_buf_append((BzBuf *)ctx, p, n);
}

void bz_buf_json_str(BzBuf *b, const char *z, size_t n) {
    bz_json_str_put(z, n, buf_put, b);
}

char *bz_buf_take(BzBuf *b) {
    char *r;
    if (!b->data && !b->rc) bz_buf_reserve(b, 0);
    r = b->data;
    b->data = NULL;
    b->n = b->cap = 0;
    return r;
}

/* ---- Module arguments ------------------------------------------------------ */

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char *bz_unquote(const char *z, size_t n) {
    while (n && is_blank(*z)) z++, n--;
    while (n && is_blank(z[n - 1])) n--;
    if (n >= 2 && (z[0] == '\'' || z[0] == '"' || z[0] == '`' || z[0] == '[')) {
        char q = z[0] == '[' ? ']' : z[0];
        if (z[n - 1] == q) {
            char *out = bz_malloc(n), *o = out;
            if (!out) return NULL;
            for (size_t i = 1; i < n - 1; i++) {
                *o++ = z[i];
                if (z[i] == q && i + 1 < n - 1 && z[i + 1] == q) i++;
            }
            *o = 0;
            return out;
        }
    }
    return bz_strndup(z, n);
}

int bz_parse_bool(const char *v, int *out) {
    static const char *const yes[] = {"1", "true", "on", "yes"}, *const no[] = {"0", "false", "off", "no"};
    for (size_t i = 0; i < BZ_ARRAY_LEN(yes); i++) {
        if (!strcasecmp(v, yes[i])) {
            *out = 1;
            return 1;
        }
        if (!strcasecmp(v, no[i])) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* ---- Misc ------------------------------------------------------------------ */

uint64_t bz_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bz_now_ms(void) { return bz_now_ns() / 1000000u; }

/* Recursive matcher; depth is bounded by the pattern length, which is small
** (a user-written path). Rationale: clarity over a backtracking state machine,
** since '**' and '*' have different rules about '/'. */
int bz_glob_match(const char *pat, const char *str) {
    for (;;) {
        if (*pat == 0) return *str == 0;
        if (pat[0] == '*' && pat[1] == '*') {
            const char *rest = pat + 2;
            if (*rest == '/') {
                /* "**" + "/" matches zero or more whole directories */
                rest++;
                if (bz_glob_match(rest, str)) return 1;
                for (; *str; str++)
                    if (*str == '/' && bz_glob_match(rest, str + 1)) return 1;
                return 0;
            }
            for (;; str++) {
                if (bz_glob_match(rest, str)) return 1;
                if (!*str) return 0;
            }
        }
        if (*pat == '*') {
            for (;; str++) {
                if (bz_glob_match(pat + 1, str)) return 1;
                if (!*str || *str == '/') return 0;
            }
        }
        if (*pat == '?') {
            if (!*str || *str == '/') return 0;
        } else if (*pat != *str) {
            return 0;
        }
        pat++;
        str++;
    }
}
