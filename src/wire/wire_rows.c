/*
** wire_rows.c: hbee results in the binary format of wire.h: a small
** uncompressed header (status, statistics, column names) and a body of typed
** values compressed as one zstd frame.
**
**     WireWriter w;  wire_writer_init(&w, 2, names, &err);
**     wire_writer_value(&w, &(WireValue){WV_INT, 42});  ...
**     WireHeader h = {.taskId = 3, .ms = 12};  wire_writer_finish(&w, &h, &out, &err);
**     WireReader r;  wire_reader_open(&r, out.data, out.n, &err);
**     while (wire_reader_next(&r, row, &err) == BZ_OK) ...;  wire_reader_close(&r);
*/
#include "wire/wire.h"

#include <string.h>

#include "codec/bz_codec.h"

/* Rationale: zstd costs more than it saves on a few bytes. */
#define WIRE_COMPRESS_MIN 128

static const char magic[4] = {'H', 'B', 'R', '1'};

int wire_varint_put(uint8_t *p, uint64_t v) {
    int n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int wire_varint_get(const uint8_t *p, size_t n, uint64_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 10 && (size_t)i < n; i++) {
        uint64_t b = p[i];
        if (i == 9 && b > 1) return 0;
        x |= (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

static void put_varint(BzBuf *b, uint64_t v) {
    uint8_t tmp[10];
    bz_buf_append(b, tmp, (size_t)wire_varint_put(tmp, v));
}

static void put_str(BzBuf *b, const char *p, size_t n) {
    put_varint(b, n);
    bz_buf_append(b, p, n);
}

int wire_writer_init(WireWriter *w, int nCol, char *const *azCol, BzErr *err) {
    memset(w, 0, sizeof *w);
    bz_buf_init(&w->body, WIRE_MAX_BODY);
    if (nCol < 0 || nCol > WIRE_MAX_COLS) return bz_err(err, BZ_LIMIT, "too many result columns");
    w->azCol = bz_calloc((size_t)nCol + 1, sizeof(char *));
    if (!w->azCol) return bz_err(err, BZ_NOMEM, "out of memory");
    w->nCol = nCol;
    for (int i = 0; i < nCol; i++) {
        w->azCol[i] = bz_strdup(azCol[i] ? azCol[i] : "");
        if (!w->azCol[i]) return bz_err(err, BZ_NOMEM, "out of memory");
    }
    return BZ_OK;
}

void wire_writer_free(WireWriter *w) {
    bz_buf_free(&w->body);
    if (w->azCol)
        for (int i = 0; i < w->nCol; i++)
            bz_free(w->azCol[i]);
    bz_free(w->azCol);
    memset(w, 0, sizeof *w);
}

void wire_writer_value(WireWriter *w, const WireValue *v) {
    BzBuf *b = &w->body;
    uint8_t tmp[8];
    switch (v->type) {
    case WV_INT:
        bz_buf_appendc(b, WV_INT);
        put_varint(b, ((uint64_t)v->i << 1) ^ (uint64_t)(v->i >> 63));
        break;
    case WV_REAL: {
        uint64_t u;
        memcpy(&u, &v->d, 8);
        for (int i = 0; i < 8; i++)
            tmp[i] = (uint8_t)(u >> (8 * i));
        bz_buf_appendc(b, WV_REAL);
        bz_buf_append(b, tmp, 8);
        break;
    }
    case WV_TEXT:
    case WV_BLOB:
        bz_buf_appendc(b, (char)v->type);
        put_str(b, v->p ? v->p : "", v->p ? v->n : 0);
        break;
    default:
        bz_buf_appendc(b, WV_NULL);
        break;
    }
    w->nVal++;
}

static void put_header(BzBuf *out, const WireHeader *h, int flags, int64_t rows, int nCol,
                       char *const *azCol) {
    bz_buf_append(out, magic, 4);
    bz_buf_appendc(out, WIRE_RESULT_VERSION);
    bz_buf_appendc(out, (char)flags);
    put_varint(out, (uint64_t)h->taskId);
    put_varint(out, (uint64_t)h->status);
    const char *e = h->status && h->zError ? h->zError : "";
    put_str(out, e, strlen(e));
    put_varint(out, (uint64_t)(h->rowsScanned < 0 ? 0 : h->rowsScanned));
    put_varint(out, (uint64_t)(h->bytesScanned < 0 ? 0 : h->bytesScanned));
    put_varint(out, (uint64_t)rows);
    put_varint(out, (uint64_t)(h->ms < 0 ? 0 : h->ms));
    put_varint(out, (uint64_t)nCol);
    for (int i = 0; i < nCol; i++)
        put_str(out, azCol[i], strlen(azCol[i]));
}

int wire_writer_finish(WireWriter *w, const WireHeader *hdr, BzBuf *out, BzErr *err) {
    int rc = BZ_OK;
    if (w->body.rc)
        return bz_err(err, w->body.rc, "result too large: %s", bz_status_name(w->body.rc));
    if (w->nCol == 0 ? w->nVal != 0 : w->nVal % w->nCol)
        return bz_err(err, BZ_MISUSE, "result has %lld values for %d columns", (long long)w->nVal,
                      w->nCol);
    int64_t rows = w->nCol ? w->nVal / w->nCol : 0;
    int compress = !w->bStore && w->body.n >= WIRE_COMPRESS_MIN;
    put_header(out, hdr, compress ? 1 : 0, rows, w->nCol, w->azCol);
    put_varint(out, w->body.n);
    if (compress) {
        BzBuf z;
        bz_buf_init(&z, 0);
        rc = bz_zstd_compress(w->body.data, w->body.n, &z, 1, err);
        if (!rc) {
            put_varint(out, z.n);
            bz_buf_append(out, z.data, z.n);
        }
        bz_buf_free(&z);
    } else {
        put_varint(out, w->body.n);
        bz_buf_append(out, w->body.data, w->body.n);
    }
    bz_buf_reset(&w->body);
    w->nVal = 0;
    if (!rc && out->rc) rc = bz_err(err, out->rc, "result: %s", bz_status_name(out->rc));
    return rc;
}

int wire_result_error(int64_t taskId, int status, const char *zMsg, BzBuf *out, BzErr *err) {
    WireHeader h;
    memset(&h, 0, sizeof h);
    h.taskId = taskId;
    h.status = status ? status : BZ_ERROR;
    h.zError = zMsg ? zMsg : "";
    put_header(out, &h, 0, 0, 0, NULL);
    put_varint(out, 0);
    put_varint(out, 0);
    if (out->rc) return bz_err(err, out->rc, "result: %s", bz_status_name(out->rc));
    return BZ_OK;
}

/* ---- reader ------------------------------------------------------------------ */

typedef struct Cur {
    const uint8_t *p;
    size_t n, pos;
} Cur;

static int get_varint(Cur *c, uint64_t *v) {
    int k = wire_varint_get(c->p + c->pos, c->n - c->pos, v);
    c->pos += (size_t)k;
    return k > 0;
}

static int get_bytes(Cur *c, const uint8_t **p, size_t *n) {
    uint64_t len;
    if (!get_varint(c, &len) || len > c->n - c->pos) return 0;
    *p = c->p + c->pos;
    *n = (size_t)len;
    c->pos += (size_t)len;
    return 1;
}

static char *dup_bytes(const uint8_t *p, size_t n) {
    return bz_strndup((const char *)p, n);
}

void wire_reader_close(WireReader *r) {
    bz_free(r->zError);
    if (r->azCol)
        for (int i = 0; i < r->nCol; i++)
            bz_free(r->azCol[i]);
    bz_free(r->azCol);
    bz_free(r->body);
    memset(r, 0, sizeof *r);
}

#define CORRUPT(what)                                                                              \
    do {                                                                                           \
        rc = bz_err(err, BZ_CORRUPT, "result: %s", what);                                          \
        goto fail;                                                                                 \
    } while (0)

int wire_reader_open(WireReader *r, const void *data, size_t n, BzErr *err) {
    Cur c = {data, n, 0};
    uint64_t v, raw, stored;
    const uint8_t *p;
    size_t pn;
    int rc = BZ_OK, flags;
    memset(r, 0, sizeof *r);
    r->bytesShipped = (int64_t)n;
    if (n < 6 || memcmp(data, magic, 4)) CORRUPT("bad magic");
    if (c.p[4] != WIRE_RESULT_VERSION) {
        rc = bz_err(err, BZ_UNSUPPORTED, "result version %d is not supported", c.p[4]);
        goto fail;
    }
    flags = c.p[5];
    if (flags & ~1) CORRUPT("unknown flags");
    c.pos = 6;
    if (!get_varint(&c, &v) || v > ((uint64_t)1 << 62)) CORRUPT("truncated header");
    r->hdr.taskId = (int64_t)v;
    if (!get_varint(&c, &v) || v > 1000) CORRUPT("bad status");
    r->hdr.status = (int)v;
    if (!get_bytes(&c, &p, &pn)) CORRUPT("truncated error message");
    r->zError = dup_bytes(p, pn);
    if (!r->zError) goto nomem;
    r->hdr.zError = r->zError;
    uint64_t st[4];
    for (int i = 0; i < 4; i++)
        if (!get_varint(&c, &st[i]) || st[i] > ((uint64_t)1 << 62)) CORRUPT("truncated statistics");
    r->hdr.rowsScanned = (int64_t)st[0];
    r->hdr.bytesScanned = (int64_t)st[1];
    r->hdr.rows = (int64_t)st[2];
    r->hdr.ms = (int64_t)st[3];
    if (!get_varint(&c, &v) || v > WIRE_MAX_COLS) CORRUPT("bad column count");
    r->azCol = bz_calloc((size_t)v + 1, sizeof(char *));
    if (!r->azCol) goto nomem;
    for (uint64_t i = 0; i < v; i++) {
        if (!get_bytes(&c, &p, &pn)) CORRUPT("truncated column name");
        r->azCol[r->nCol] = dup_bytes(p, pn);
        if (!r->azCol[r->nCol]) goto nomem;
        r->nCol++;
    }
    if (!get_varint(&c, &raw) || raw > WIRE_MAX_BODY) CORRUPT("bad body size");
    if (!get_varint(&c, &stored) || stored != c.n - c.pos) CORRUPT("body length mismatch");
    if (r->nCol == 0 && r->hdr.rows != 0) CORRUPT("rows without columns");
    /* each value takes at least one byte */
    if (r->nCol && (uint64_t)r->hdr.rows > raw / (uint64_t)r->nCol)
        CORRUPT("row count exceeds body");
    r->body = bz_malloc(raw ? (size_t)raw : 1);
    if (!r->body) goto nomem;
    r->nBody = (size_t)raw;
    if (flags & 1) {
        if ((rc = bz_decompress(BZ_CODEC_ZSTD, c.p + c.pos, (size_t)stored, r->body, (size_t)raw,
                                err)))
            goto fail_prefix;
    } else {
        if (stored != raw) CORRUPT("stored body size differs from its size");
        if (raw) memcpy(r->body, c.p + c.pos, (size_t)raw);
    }
    return BZ_OK;
fail_prefix:
    bz_err_prefix(err, "result body");
    goto fail;
nomem:
    rc = bz_err(err, BZ_NOMEM, "out of memory");
fail:
    wire_reader_close(r);
    return rc;
}

int wire_reader_next(WireReader *r, WireValue *row, BzErr *err) {
    Cur c = {r->body, r->nBody, r->pos};
    uint64_t v;
    if (r->row >= r->hdr.rows) {
        if (r->pos != r->nBody)
            return bz_err(err, BZ_CORRUPT, "result: %zu bytes after the last row",
                          r->nBody - r->pos);
        return BZ_DONE;
    }
    for (int i = 0; i < r->nCol; i++) {
        WireValue *x = &row[i];
        memset(x, 0, sizeof *x);
        if (c.pos >= c.n)
            return bz_err(err, BZ_CORRUPT, "result: truncated row %lld", (long long)r->row);
        x->type = c.p[c.pos++];
        switch (x->type) {
        case WV_NULL:
            break;
        case WV_INT:
            if (!get_varint(&c, &v)) return bz_err(err, BZ_CORRUPT, "result: truncated integer");
            x->i = (int64_t)((v >> 1) ^ (~(v & 1) + 1));
            break;
        case WV_REAL: {
            if (c.n - c.pos < 8) return bz_err(err, BZ_CORRUPT, "result: truncated real");
            uint64_t u = 0;
            for (int k = 0; k < 8; k++)
                u |= (uint64_t)c.p[c.pos + (size_t)k] << (8 * k);
            memcpy(&x->d, &u, 8);
            c.pos += 8;
            break;
        }
        case WV_TEXT:
        case WV_BLOB: {
            const uint8_t *p;
            if (!get_bytes(&c, &p, &x->n)) return bz_err(err, BZ_CORRUPT, "result: truncated text");
            x->p = (const char *)p;
            break;
        }
        default:
            return bz_err(err, BZ_CORRUPT, "result: unknown value tag %d", x->type);
        }
    }
    r->pos = c.pos;
    r->row++;
    return BZ_OK;
}
