/*
** aws_ddb_reply.c: a one-pass decoder of DynamoDB read answers (Scan, Query,
** GetItem, BatchGetItem) straight into AwsDdbRows, and of single
** AttributeValues into plain JSON (aws_ddb_av_to_json).
**
**     AwsDdbRows rows = {.n_cols = 2};
**     AwsDdbReplyInfo info;
**     const char *cols[] = {"tattoo", "weight"};
**     rc = aws_ddb_reply_decode(body, n, NULL, cols, 2, AWS_DDB_NUM_AUTO, 0, &rows, &info);
**     // rows.cells[2 * i + 1].i, info.last_key[0 .. info.n_last_key)
**     aws_ddb_rows_reset(&rows);   // next page: same memory
**     aws_ddb_rows_free(&rows);
**
** The answer text is read once, left to right: the top-level members that
** matter (Items, Item, Responses.<table>, Count, ScannedCount,
** LastEvaluatedKey, UnprocessedKeys) are handled as they come, everything else
** is skipped after being checked. Each item's attributes are matched against
** the requested names and decoded in place into the row's cells:
** N -> INTEGER/REAL (or TEXT with every digit), S -> TEXT, B -> BLOB, BOOL ->
** 0/1, NULL -> NULL, M/L/SS/NS/BS -> JSON text (sets as arrays, binary as
** base64 strings). The whole item as JSON (the hidden `item` column) is
** written only when asked.
**
** Rationale (performance): a cJSON tree per page cost one allocation per JSON
** value and one per cell, then as many frees (~40% of the client's CPU on a
** projected Scan). Here a page costs no allocation in the steady state: text,
** blobs and JSON land in an arena block of the rows, sized from the answer
** before decoding starts (every decoded form is at most 3 bytes per byte of
** its source: unescaping only shrinks, re-escaping turns an invalid UTF-8 byte
** into U+FFFD), and the block and the cell array are kept for the next page
** (aws_ddb_rows_reset). Writes are still bounds-checked.
**
** Rationale (security): the answer comes from the network. Nesting is limited
** (AWS_DDB_REPLY_MAX_DEPTH JSON levels, DDB_AV_MAX_DEPTH AttributeValue
** levels; DynamoDB itself allows 32), every string escape and surrogate pair
** is checked, and any malformed input is BZ_CORRUPT with its offset, never a
** crash or a partial row.
**
** Spec: RFC 8259 (JSON); Amazon DynamoDB API Reference, AttributeValue, Scan
** and BatchGetItem response elements.
*/
#include "aws/dynamodb/aws_ddb_int.h"

#include <stdlib.h>
#include <string.h>

#define DDB_AV_MAX_DEPTH 64        /* M/L levels turned into JSON */
#define DDB_BLOCK_MIN (64u << 10)  /* smallest arena block */

/* ---- arena blocks of a rows set -------------------------------------------------- */

struct AwsDdbBlock {
    struct AwsDdbBlock *next;
    size_t cap, used;
    char data[];
};

void aws_ddb_rows_reset(AwsDdbRows *r) {
    AwsDdbBlock *keep = NULL, *b, *next;
    /* keep the largest block only, so a rows set settles on one block */
    for (b = r->blocks_; b; b = b->next)
        if (!keep || b->cap > keep->cap) keep = b;
    for (b = r->blocks_; b; b = next) {
        next = b->next;
        if (b != keep) bz_free(b);
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    r->blocks_ = keep;
    r->n_rows = 0;
    r->count = 0;
    r->scanned = 0;
}

void aws_ddb_rows_free(AwsDdbRows *r) {
    AwsDdbBlock *b, *next;
    if (!r) return;
    for (b = r->blocks_; b; b = next) {
        next = b->next;
        bz_free(b);
    }
    bz_free(r->cells);
    bz_free(r->items);
    memset(r, 0, sizeof *r);
}

/* A block with at least need free bytes (a new one if none has). */
static AwsDdbBlock *rows_block(AwsDdbRows *r, size_t need) {
    AwsDdbBlock *b;
    size_t cap;
    for (b = r->blocks_; b; b = b->next)
        if (b->cap - b->used >= need) return b;
    cap = need > DDB_BLOCK_MIN ? need : DDB_BLOCK_MIN;
    b = bz_malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = r->blocks_;
    r->blocks_ = b;
    return b;
}

/* Room for one more row (cells, and items when want_items). */
static int rows_grow(AwsDdbRows *r, int want_items) {
    int cap = r->cap_rows_ ? r->cap_rows_ * 2 : 256;
    size_t nc = (size_t)(r->n_cols ? r->n_cols : 1);
    AwsDdbValue *c;
    if (r->n_rows < r->cap_rows_ && (!want_items || r->items)) return BZ_OK;
    if (r->n_rows < r->cap_rows_) cap = r->cap_rows_;
    c = bz_realloc(r->cells, sizeof *c * (size_t)cap * nc);
    if (!c) return BZ_NOMEM;
    r->cells = c;
    if (want_items || r->items) {
        char **p = bz_realloc(r->items, sizeof *p * (size_t)cap);
        if (!p) return BZ_NOMEM;
        r->items = p;
    }
    r->cap_rows_ = cap;
    return BZ_OK;
}

/* ---- reader and writer ----------------------------------------------------------------- */

typedef struct Rd {
    const unsigned char *z;
    size_t n, i;
    int rc;             /* BZ_OK, BZ_CORRUPT or BZ_NOMEM */
    const char *what;   /* what was wrong, at offset i */
    char *out;          /* output (arena) */
    size_t o, cap;
    BzBuf scratch;      /* unescaped strings that carried escapes */
} Rd;

static int rd_fail(Rd *r, const char *what) {
    if (!r->rc) {
        r->rc = BZ_CORRUPT;
        r->what = what;
    }
    return r->rc;
}

static void rd_ws(Rd *r) {
    while (r->i < r->n) {
        unsigned char c = r->z[r->i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        r->i++;
    }
}

/* Skip whitespace, then expect c. */
static int rd_expect(Rd *r, char c) {
    rd_ws(r);
    if (r->i >= r->n || r->z[r->i] != (unsigned char)c) {
        static const char *const msg[] = {"expected '{'", "expected '}'", "expected '['",
                                          "expected ']'", "expected ':'", "expected a string"};
        const char *m = c == '{' ? msg[0] : c == '}' ? msg[1] : c == '[' ? msg[2]
                      : c == ']' ? msg[3] : c == ':' ? msg[4] : msg[5];
        return rd_fail(r, m);
    }
    r->i++;
    return BZ_OK;
}

/* After a member or element: 1 when another follows (a ',' was read), 0 at
** the closing bracket (read), -1 on error. */
static int rd_more(Rd *r, char close) {
    rd_ws(r);
    if (r->i < r->n && r->z[r->i] == ',') {
        r->i++;
        return 1;
    }
    if (r->i < r->n && r->z[r->i] == (unsigned char)close) {
        r->i++;
        return 0;
    }
    rd_fail(r, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    return -1;
}

/* 1 if the container just opened is empty (and consume its closing bracket). */
static int rd_empty(Rd *r, char close) {
    rd_ws(r);
    if (r->i < r->n && r->z[r->i] == (unsigned char)close) {
        r->i++;
        return 1;
    }
    return 0;
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const unsigned char *p) {
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

/* A string literal at r->i (after whitespace): checks it and sets the span of
** its content; *esc is 1 when it holds escapes. */
static int rd_str(Rd *r, size_t *s, size_t *len, int *esc) {
    const unsigned char *z = r->z;
    size_t i, n = r->n;
    *esc = 0;
    if (rd_expect(r, '"')) return r->rc;
    i = r->i;
    *s = i;
    for (;;) {
        unsigned char c;
        while (i < n && (c = z[i]) != '"' && c != '\\' && c >= 0x20) i++;
        if (i >= n) {
            r->i = i;
            return rd_fail(r, "unterminated string");
        }
        c = z[i];
        if (c == '"') break;
        if (c < 0x20) {
            r->i = i;
            return rd_fail(r, "control character in string");
        }
        /* backslash */
        *esc = 1;
        if (i + 1 >= n) {
            r->i = i;
            return rd_fail(r, "unterminated string");
        }
        c = z[i + 1];
        if (c == 'u') {
            if (i + 6 > n || hex4(z + i + 2) < 0) {
                r->i = i;
                return rd_fail(r, "bad \\u escape");
            }
            i += 6;
        } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                   c == 'r' || c == 't') {
            i += 2;
        } else {
            r->i = i;
            return rd_fail(r, "bad escape");
        }
    }
    *len = i - *s;
    r->i = i + 1;
    return BZ_OK;
}

/* Unescape a checked string content z[0..n) into dst (room for n bytes).
** Returns the length, or -1 for a lone or reversed surrogate. */
static long unescape(const unsigned char *z, size_t n, char *dst) {
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned c = z[i];
        if (c != '\\') {
            dst[o++] = (char)c;
            i++;
            continue;
        }
        c = z[i + 1];
        i += 2;
        switch (c) {
        case 'b': dst[o++] = '\b'; break;
        case 'f': dst[o++] = '\f'; break;
        case 'n': dst[o++] = '\n'; break;
        case 'r': dst[o++] = '\r'; break;
        case 't': dst[o++] = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)hex4(z + i);
            i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo;
                if (i + 6 > n || z[i] != '\\' || z[i + 1] != 'u') return -1;
                lo = hex4(z + i + 2);
                if (lo < 0xDC00 || lo > 0xDFFF) return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
                i += 6;
            }
            if (cp < 0x80) {
                dst[o++] = (char)cp;
            } else if (cp < 0x800) {
                dst[o++] = (char)(0xC0 | cp >> 6);
                dst[o++] = (char)(0x80 | (cp & 63));
            } else if (cp < 0x10000) {
                dst[o++] = (char)(0xE0 | cp >> 12);
                dst[o++] = (char)(0x80 | (cp >> 6 & 63));
                dst[o++] = (char)(0x80 | (cp & 63));
            } else {
                dst[o++] = (char)(0xF0 | cp >> 18);
                dst[o++] = (char)(0x80 | (cp >> 12 & 63));
                dst[o++] = (char)(0x80 | (cp >> 6 & 63));
                dst[o++] = (char)(0x80 | (cp & 63));
            }
            break;
        }
        default: dst[o++] = (char)c; break; /* " \ / */
        }
    }
    return (long)o;
}

/* The text of a string just read by rd_str: the answer's own bytes when it had
** no escape, else its unescaped copy in r->scratch (valid until the next call). */
static int rd_text(Rd *r, size_t s, size_t len, int esc, const char **p, size_t *n) {
    long k;
    if (!esc) {
        *p = (const char *)r->z + s;
        *n = len;
        return BZ_OK;
    }
    bz_buf_reset(&r->scratch);
    if (bz_buf_reserve(&r->scratch, len + 1)) {
        r->rc = BZ_NOMEM;
        return r->rc;
    }
    k = unescape(r->z + s, len, r->scratch.data);
    if (k < 0) {
        r->i = s;
        return rd_fail(r, "bad surrogate pair");
    }
    *p = r->scratch.data;
    *n = (size_t)k;
    return BZ_OK;
}

/* Reserve k output bytes; the write position is r->out + r->o. */
static int out_room(Rd *r, size_t k) {
    if (r->cap - r->o < k) return rd_fail(r, "decoded answer larger than its bound");
    return BZ_OK;
}

static void out_put(Rd *r, const void *p, size_t k) {
    if (out_room(r, k)) return;
    memcpy(r->out + r->o, p, k);
    r->o += k;
}

static void out_c(Rd *r, char c) {
    if (out_room(r, 1)) return;
    r->out[r->o++] = c;
}

static void rd_put(void *ctx, const char *p, size_t n) {
    out_put((Rd *)ctx, p, n);
}

/* Write text as a JSON string literal, escaped as bz_buf_json_str does. */
static void out_json_str(Rd *r, const char *z, size_t n) {
    bz_json_str_put(z, n, rd_put, r);
}

/* ---- generic skip ------------------------------------------------------------------------ */

static int rd_skip(Rd *r, int depth);

static int rd_literal(Rd *r, const char *word, size_t k) {
    if (r->n - r->i < k || memcmp(r->z + r->i, word, k)) return rd_fail(r, "unexpected character");
    r->i += k;
    return BZ_OK;
}

/* A JSON number literal at r->i: its span. */
static int rd_number(Rd *r, size_t *s, size_t *len) {
    const unsigned char *z = r->z;
    size_t i = r->i, n = r->n, d = 0;
    *s = i;
    if (i < n && z[i] == '-') i++;
    while (i < n && z[i] >= '0' && z[i] <= '9') i++, d++;
    if (!d) return rd_fail(r, "bad number");
    if (i < n && z[i] == '.') {
        d = 0;
        i++;
        while (i < n && z[i] >= '0' && z[i] <= '9') i++, d++;
        if (!d) return rd_fail(r, "bad number");
    }
    if (i < n && (z[i] == 'e' || z[i] == 'E')) {
        d = 0;
        i++;
        if (i < n && (z[i] == '-' || z[i] == '+')) i++;
        while (i < n && z[i] >= '0' && z[i] <= '9') i++, d++;
        if (!d) return rd_fail(r, "bad number");
    }
    *len = i - *s;
    r->i = i;
    return BZ_OK;
}

static int rd_skip(Rd *r, int depth) {
    unsigned char c;
    size_t s, len;
    int esc;
    if (depth > AWS_DDB_REPLY_MAX_DEPTH) return rd_fail(r, "nested too deeply");
    rd_ws(r);
    if (r->i >= r->n) return rd_fail(r, "unexpected end");
    c = r->z[r->i];
    switch (c) {
    case '{':
        r->i++;
        if (rd_empty(r, '}')) return BZ_OK;
        do {
            if (rd_str(r, &s, &len, &esc) || rd_expect(r, ':') || rd_skip(r, depth + 1)) return r->rc;
        } while (rd_more(r, '}') > 0);
        return r->rc;
    case '[':
        r->i++;
        if (rd_empty(r, ']')) return BZ_OK;
        do {
            if (rd_skip(r, depth + 1)) return r->rc;
        } while (rd_more(r, ']') > 0);
        return r->rc;
    case '"': return rd_str(r, &s, &len, &esc);
    case 't': return rd_literal(r, "true", 4);
    case 'f': return rd_literal(r, "false", 5);
    case 'n': return rd_literal(r, "null", 4);
    default: return rd_number(r, &s, &len);
    }
}

/* true/false at r->i into *v. */
static int rd_bool(Rd *r, int *v) {
    rd_ws(r);
    if (r->i < r->n && r->z[r->i] == 't') {
        *v = 1;
        return rd_literal(r, "true", 4);
    }
    *v = 0;
    return rd_literal(r, "false", 5);
}

/* ---- AttributeValue -> plain JSON --------------------------------------------------------- */

enum { TAG_S = 1, TAG_N, TAG_B, TAG_BOOL, TAG_NULL, TAG_M, TAG_L, TAG_SS, TAG_NS, TAG_BS };

/* Read `{"<tag>":` and return the tag (0 after an error). */
static int rd_tag(Rd *r) {
    size_t s, len;
    int esc;
    const char *t;
    if (rd_expect(r, '{') || rd_str(r, &s, &len, &esc) || rd_expect(r, ':')) return 0;
    t = (const char *)r->z + s;
    if (!esc) {
        if (len == 1) {
            switch (t[0]) {
            case 'S': return TAG_S;
            case 'N': return TAG_N;
            case 'B': return TAG_B;
            case 'M': return TAG_M;
            case 'L': return TAG_L;
            }
        } else if (len == 2 && t[1] == 'S') {
            if (t[0] == 'S') return TAG_SS;
            if (t[0] == 'N') return TAG_NS;
            if (t[0] == 'B') return TAG_BS;
        } else if (len == 4) {
            if (!memcmp(t, "BOOL", 4)) return TAG_BOOL;
            if (!memcmp(t, "NULL", 4)) return TAG_NULL;
        }
    }
    r->i = s;
    rd_fail(r, "unknown AttributeValue type");
    return 0;
}

/* A string element/value as JSON: a string, or (num) a checked number. */
static int av_json_scalar(Rd *r, int num) {
    size_t s, len, k;
    int esc;
    const char *p;
    if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k)) return r->rc;
    if (num) {
        if (!aws_ddb_is_number(p, k)) {
            r->i = s;
            return rd_fail(r, "bad number");
        }
        out_put(r, p, k);
    } else {
        out_json_str(r, p, k);
    }
    return r->rc;
}

/* The value of an AttributeValue whose tag was read, as plain JSON; then the
** closing '}'. */
static int av_json_body(Rd *r, int tag, int depth) {
    int b;
    size_t s, len, k;
    int esc;
    const char *p;
    if (depth > DDB_AV_MAX_DEPTH) return rd_fail(r, "nested too deeply");
    switch (tag) {
    case TAG_S:
    case TAG_B: av_json_scalar(r, 0); break;
    case TAG_N: av_json_scalar(r, 1); break;
    case TAG_BOOL:
        if (!rd_bool(r, &b)) out_put(r, b ? "true" : "false", b ? 4 : 5);
        break;
    case TAG_NULL:
        if (!rd_bool(r, &b)) out_put(r, "null", 4);
        break;
    case TAG_M:
        if (rd_expect(r, '{')) break;
        out_c(r, '{');
        if (!rd_empty(r, '}')) {
            int more;
            do {
                if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k)) break;
                out_json_str(r, p, k);
                out_c(r, ':');
                if (rd_expect(r, ':')) break;
                if (av_json_body(r, rd_tag(r), depth + 1)) break;
                more = rd_more(r, '}');
                if (more > 0) out_c(r, ',');
            } while (more > 0);
        }
        out_c(r, '}');
        break;
    case TAG_L:
    case TAG_SS:
    case TAG_NS:
    case TAG_BS:
        if (rd_expect(r, '[')) break;
        out_c(r, '[');
        if (!rd_empty(r, ']')) {
            int more;
            do {
                if (tag == TAG_L) {
                    if (av_json_body(r, rd_tag(r), depth + 1)) break;
                } else if (av_json_scalar(r, tag == TAG_NS)) {
                    break;
                }
                more = rd_more(r, ']');
                if (more > 0) out_c(r, ',');
            } while (more > 0);
        }
        out_c(r, ']');
        break;
    default: return rd_fail(r, "unknown AttributeValue type");
    }
    if (r->rc) return r->rc;
    return rd_expect(r, '}');
}

/* ---- AttributeValue -> cell ------------------------------------------------------------------ */

/* NUL-terminated copy of text into the output; *dst its start. */
static int out_text(Rd *r, const char *p, size_t k, char **dst) {
    if (out_room(r, k + 1)) return r->rc;
    *dst = r->out + r->o;
    memcpy(*dst, p, k);
    (*dst)[k] = 0;
    r->o += k + 1;
    return BZ_OK;
}

static int cell_number(Rd *r, const char *p, size_t k, size_t at, int num_mode, AwsDdbValue *v) {
    if (num_mode == AWS_DDB_NUM_TEXT) {
        if (!aws_ddb_is_number(p, k)) {
            r->i = at;
            return rd_fail(r, "bad number");
        }
        v->type = AWS_DDB_TEXT;
        v->n = k;
        return out_text(r, p, k, &v->z);
    }
    /* fast path: up to 18 digits fit an int64 */
    if (k && k <= 18) {
        size_t j = p[0] == '-';
        int64_t x = 0;
        if (j < k) {
            for (; j < k && p[j] >= '0' && p[j] <= '9'; j++) x = x * 10 + (p[j] - '0');
            if (j == k) {
                v->type = AWS_DDB_INT;
                v->i = p[0] == '-' ? -x : x;
                return BZ_OK;
            }
        }
    }
    if (aws_ddb_number_n(p, k, AWS_DDB_NUM_AUTO, v)) {
        r->i = at;
        return rd_fail(r, "bad number");
    }
    return BZ_OK;
}

/* One AttributeValue at r->i into *v (zeroed by the caller). */
static int av_cell(Rd *r, int num_mode, AwsDdbValue *v) {
    size_t s, len, k;
    int esc, b, tag;
    const char *p;
    tag = rd_tag(r);
    switch (tag) {
    case 0: return r->rc;
    case TAG_S:
        if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k)) return r->rc;
        v->type = AWS_DDB_TEXT;
        v->n = k;
        if (out_text(r, p, k, &v->z)) return r->rc;
        break;
    case TAG_N:
        if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k)) return r->rc;
        if (cell_number(r, p, k, s, num_mode, v)) return r->rc;
        break;
    case TAG_B: {
        size_t nb = 0;
        if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k)) return r->rc;
        if (out_room(r, k / 4 * 3 + 3)) return r->rc;
        if (aws_ddb_base64_decode_into(p, k, (unsigned char *)r->out + r->o, &nb)) {
            r->i = s;
            return rd_fail(r, "bad base64");
        }
        v->type = AWS_DDB_BLOB;
        v->z = r->out + r->o;
        v->n = nb;
        r->o += nb;
        break;
    }
    case TAG_BOOL:
        if (rd_bool(r, &b)) return r->rc;
        v->type = AWS_DDB_INT;
        v->i = b;
        break;
    case TAG_NULL:
        if (rd_bool(r, &b)) return r->rc;
        break;
    default: {
        size_t o = r->o;
        if (av_json_body(r, tag, 1)) return r->rc;
        out_c(r, 0);
        if (r->rc) return r->rc;
        v->type = AWS_DDB_TEXT;
        v->is_json = 1;
        v->z = r->out + o;
        v->n = r->o - o - 1;
        return BZ_OK;
    }
    }
    return rd_expect(r, '}');
}

/* ---- items ------------------------------------------------------------------------------------ */

typedef struct Dec {
    Rd r;
    AwsDdbRows *rows;
    const char *const *cols;
    const size_t *col_len;
    int num_mode;
    int want_items;
} Dec;

static int col_find(const Dec *d, const char *p, size_t k) {
    for (int c = 0; c < d->rows->n_cols; c++)
        if (d->col_len[c] == k && !memcmp(d->cols[c], p, k)) return c;
    return -1;
}

/* The item at r->i, appended as a row. */
static int dec_item(Dec *d) {
    Rd *r = &d->r;
    AwsDdbRows *rows = d->rows;
    AwsDdbValue *row;
    size_t s, len, k, start;
    int esc, c;
    const char *p;
    if (rows_grow(rows, d->want_items)) {
        r->rc = BZ_NOMEM;
        return r->rc;
    }
    row = rows->cells + (size_t)rows->n_rows * (size_t)rows->n_cols;
    memset(row, 0, sizeof *row * (size_t)rows->n_cols);
    rd_ws(r);
    start = r->i;
    if (rd_expect(r, '{')) return r->rc;
    if (!rd_empty(r, '}')) {
        do {
            if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k) || rd_expect(r, ':'))
                return r->rc;
            c = col_find(d, p, k);
            if (c >= 0) {
                memset(&row[c], 0, sizeof row[c]); /* a repeated name: the last one wins */
                if (av_cell(r, d->num_mode, &row[c])) return r->rc;
            } else if (rd_skip(r, 1)) {
                return r->rc;
            }
        } while (rd_more(r, '}') > 0);
        if (r->rc) return r->rc;
    }
    if (d->want_items) {
        /* second pass over the same item, now as one JSON object */
        size_t end = r->i, o = r->o;
        r->i = start + 1;
        out_c(r, '{');
        if (!rd_empty(r, '}')) {
            int more;
            do {
                if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k)) return r->rc;
                out_json_str(r, p, k);
                out_c(r, ':');
                if (rd_expect(r, ':') || av_json_body(r, rd_tag(r), 1)) return r->rc;
                more = rd_more(r, '}');
                if (more > 0) out_c(r, ',');
            } while (more > 0);
        }
        out_c(r, '}');
        out_c(r, 0);
        if (r->rc) return r->rc;
        rows->items[rows->n_rows] = r->out + o;
        r->i = end;
    } else if (rows->items) {
        rows->items[rows->n_rows] = NULL;
    }
    rows->n_rows++;
    return BZ_OK;
}

static int dec_items(Dec *d, int *n_items) {
    Rd *r = &d->r;
    if (rd_expect(r, '[')) return r->rc;
    if (rd_empty(r, ']')) return BZ_OK;
    do {
        if (dec_item(d)) return r->rc;
        (*n_items)++;
    } while (rd_more(r, ']') > 0);
    return r->rc;
}

/* An integer member (Count, ScannedCount). */
static int rd_int(Rd *r, int64_t *out) {
    size_t s, len;
    int64_t x = 0;
    rd_ws(r);
    if (rd_number(r, &s, &len)) return r->rc;
    for (size_t j = 0; j < len && r->z[s + j] >= '0' && r->z[s + j] <= '9'; j++)
        x = x * 10 + (r->z[s + j] - '0');
    *out = x;
    return BZ_OK;
}

static int is_name(const char *p, size_t k, const char *name) {
    return strlen(name) == k && !memcmp(p, name, k);
}

int aws_ddb_reply_decode(const char *body, size_t n, const char *table, const char *const *cols,
                         int n_cols, int num_mode, int want_items, AwsDdbRows *rows,
                         AwsDdbReplyInfo *info) {
    Dec d;
    Rd *r = &d.r;
    AwsDdbBlock *blk;
    size_t lens_small[32], *lens = lens_small, s, len, k;
    int esc, n_rows0 = rows->n_rows;
    const char *p;

    memset(info, 0, sizeof *info);
    memset(&d, 0, sizeof d);
    rows->n_cols = n_cols;
    if (n_cols > 32) {
        lens = bz_malloc(sizeof *lens * (size_t)n_cols);
        if (!lens) return BZ_NOMEM;
    }
    for (int c = 0; c < n_cols; c++) lens[c] = strlen(cols[c]);
    blk = rows_block(rows, (want_items ? 6 : 3) * n + 64);
    if (!blk) {
        if (lens != lens_small) bz_free(lens);
        return BZ_NOMEM;
    }
    r->z = (const unsigned char *)(body ? body : "");
    r->n = body ? n : 0;
    r->out = blk->data + blk->used;
    r->cap = blk->cap - blk->used;
    bz_buf_init(&r->scratch, 0);
    d.rows = rows;
    d.cols = cols;
    d.col_len = lens;
    d.num_mode = num_mode;
    d.want_items = want_items;

    if (rd_expect(r, '{')) goto done;
    if (!rd_empty(r, '}')) {
        do {
            size_t vs;
            if (rd_str(r, &s, &len, &esc) || rd_text(r, s, len, esc, &p, &k) || rd_expect(r, ':'))
                goto done;
            rd_ws(r);
            vs = r->i;
            if (is_name(p, k, "Items")) {
                info->has_items = 1;
                dec_items(&d, &info->n_items);
            } else if (is_name(p, k, "Item")) {
                if (!dec_item(&d)) info->n_items++;
            } else if (is_name(p, k, "Responses")) {
                if (rd_expect(r, '{')) goto done;
                if (!rd_empty(r, '}')) do {
                    size_t ts, tl, tk;
                    const char *tp;
                    if (rd_str(r, &ts, &tl, &esc) || rd_text(r, ts, tl, esc, &tp, &tk) ||
                        rd_expect(r, ':'))
                        goto done;
                    if (table && is_name(tp, tk, table)) dec_items(&d, &info->n_items);
                    else rd_skip(r, 2);
                } while (!r->rc && rd_more(r, '}') > 0);
            } else if (is_name(p, k, "Count")) {
                info->has_count = 1;
                rd_int(r, &info->count);
            } else if (is_name(p, k, "ScannedCount")) {
                rd_int(r, &info->scanned);
            } else if (is_name(p, k, "LastEvaluatedKey")) {
                if (!rd_skip(r, 1)) {
                    info->last_key = (const char *)r->z + vs;
                    info->n_last_key = r->i - vs;
                }
            } else if (is_name(p, k, "UnprocessedKeys")) {
                if (!rd_skip(r, 1) && r->z[vs] == '{') {
                    size_t save = r->i;
                    r->i = vs + 1;
                    if (!rd_empty(r, '}')) {
                        info->unprocessed = (const char *)r->z + vs;
                        info->n_unprocessed = save - vs;
                    }
                    r->i = save;
                }
            } else {
                rd_skip(r, 1);
            }
            if (r->rc) goto done;
        } while (rd_more(r, '}') > 0);
    }
    if (r->rc) goto done;
    rd_ws(r);
    if (r->i != r->n) rd_fail(r, "trailing characters");
done:
    if (r->rc) {
        rows->n_rows = n_rows0;
        info->n_items = 0;
        info->err_offset = r->i;
        info->what = r->what ? r->what : "out of memory";
    } else {
        blk->used += r->o;
    }
    bz_buf_free(&r->scratch);
    if (lens != lens_small) bz_free(lens);
    return r->rc;
}

int aws_ddb_av_to_json(const char *z, size_t n, char **out, BzErr *err) {
    Rd r;
    char *buf;
    *out = NULL;
    memset(&r, 0, sizeof r);
    buf = bz_malloc(3 * n + 16);
    if (!buf) return bz_err(err, BZ_NOMEM, "out of memory");
    r.z = (const unsigned char *)z;
    r.n = n;
    r.out = buf;
    r.cap = 3 * n + 16;
    bz_buf_init(&r.scratch, 0);
    if (!av_json_body(&r, rd_tag(&r), 1)) {
        rd_ws(&r);
        if (r.i != r.n) rd_fail(&r, "trailing characters");
    }
    out_c(&r, 0);
    bz_buf_free(&r.scratch);
    if (r.rc) {
        bz_free(buf);
        if (r.rc == BZ_NOMEM) return bz_err(err, BZ_NOMEM, "out of memory");
        return bz_err(err, BZ_CORRUPT, "malformed AttributeValue at offset %zu: %s", r.i,
                      r.what ? r.what : "?");
    }
    *out = buf;
    return BZ_OK;
}
