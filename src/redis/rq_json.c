/*
** rq_json.c: JSON in and out of the redis module, and stream ids.
**
**   - rq_reply_json: any reply as JSON (what `redis_command` returns for
**     arrays, and how `redis_stream` shows an entry's fields as `data`).
**   - rq_json_object: a small parser for the flat JSON objects given to
**     `INSERT INTO stream(data) VALUES('{"k":"v"}')`.
**   - RqId / RqIdSet: "ms-seq" stream ids, and the set of ids a transaction
**     has read (to acknowledge at COMMIT and to skip when re-reading).
**
**     BzBuf b; bz_buf_init(&b, 0);
**     rq_reply_json(&b, reply);   // ["a",1,null]
**
** Rationale: the parser only needs one level (fields are flat strings in
** Redis), so nested values are passed through as their JSON text instead of
** pulling in a full JSON library with a second allocator.
*/
#include "redis/rq.h"

#include <stdio.h>
#include <string.h>

/* ---- Reply -> JSON ---------------------------------------------------- */

static void reply_json(BzBuf *b, const RqReply *r, int depth) {
    size_t n, i;
    const char *z;
    if (depth > 64) {
        bz_buf_appendz(b, "null");
        return;
    }
    switch (rq_reply_type(r)) {
    case RQ_STRING:
    case RQ_STATUS:
        z = rq_reply_str(r, &n);
        bz_buf_json_str(b, z, n);
        break;
    case RQ_ERROR:
        z = rq_reply_str(r, &n);
        bz_buf_appendz(b, "{\"error\":");
        bz_buf_json_str(b, z, n);
        bz_buf_appendc(b, '}');
        break;
    case RQ_INTEGER:
        bz_buf_printf(b, "%lld", rq_reply_int(r));
        break;
    case RQ_ARRAY:
        bz_buf_appendc(b, '[');
        for (i = 0, n = rq_reply_len(r); i < n; i++) {
            if (i) bz_buf_appendc(b, ',');
            reply_json(b, rq_reply_at(r, i), depth + 1);
        }
        bz_buf_appendc(b, ']');
        break;
    default:
        bz_buf_appendz(b, "null");
        break;
    }
}

void rq_reply_json(BzBuf *b, const RqReply *r) {
    reply_json(b, r, 0);
}

/* ---- Flat JSON object parser ------------------------------------------- */

typedef struct JP {
    const char *z;
    size_t n, i;
    BzErr *err;
} JP;

static void jp_ws(JP *p) {
    while (p->i < p->n &&
           (p->z[p->i] == ' ' || p->z[p->i] == '\t' || p->z[p->i] == '\n' || p->z[p->i] == '\r'))
        p->i++;
}

static int jp_fail(JP *p, const char *zWhat) {
    return bz_err(p->err, BZ_CORRUPT, "malformed JSON object at offset %zu: %s", p->i, zWhat);
}

static void put_utf8(BzBuf *b, unsigned cp) {
    char u[4];
    if (cp < 0x80) {
        bz_buf_appendc(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 63));
        bz_buf_append(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 63));
        u[2] = (char)(0x80 | (cp & 63));
        bz_buf_append(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 63));
        u[2] = (char)(0x80 | ((cp >> 6) & 63));
        u[3] = (char)(0x80 | (cp & 63));
        bz_buf_append(b, u, 4);
    }
}

static int hex4(const char *z, unsigned *pOut) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = z[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *pOut = v;
    return 1;
}

/* Parse a JSON string at p->i (on the quote) and decode it into b. */
static int jp_string(JP *p, BzBuf *b) {
    p->i++;
    while (p->i < p->n) {
        char c = p->z[p->i++];
        if (c == '"') return b->rc ? bz_err(p->err, b->rc, "JSON string too large") : BZ_OK;
        if ((unsigned char)c < 0x20) return jp_fail(p, "control character in string");
        if (c != '\\') {
            bz_buf_appendc(b, c);
            continue;
        }
        if (p->i >= p->n) break;
        c = p->z[p->i++];
        switch (c) {
        case '"':
            bz_buf_appendc(b, '"');
            break;
        case '\\':
            bz_buf_appendc(b, '\\');
            break;
        case '/':
            bz_buf_appendc(b, '/');
            break;
        case 'b':
            bz_buf_appendc(b, '\b');
            break;
        case 'f':
            bz_buf_appendc(b, '\f');
            break;
        case 'n':
            bz_buf_appendc(b, '\n');
            break;
        case 'r':
            bz_buf_appendc(b, '\r');
            break;
        case 't':
            bz_buf_appendc(b, '\t');
            break;
        case 'u': {
            unsigned cp, lo;
            if (p->i + 4 > p->n || !hex4(p->z + p->i, &cp)) return jp_fail(p, "bad \\u escape");
            p->i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p->i + 6 <= p->n && p->z[p->i] == '\\' &&
                p->z[p->i + 1] == 'u' && hex4(p->z + p->i + 2, &lo) && lo >= 0xDC00 &&
                lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p->i += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            put_utf8(b, cp);
            break;
        }
        default:
            return jp_fail(p, "bad escape");
        }
    }
    return jp_fail(p, "unterminated string");
}

/* Skip any JSON value (used for numbers, literals and nested values). */
static int jp_skip(JP *p) {
    int depth = 0;
    jp_ws(p);
    if (p->i >= p->n) return jp_fail(p, "missing value");
    do {
        char c;
        jp_ws(p);
        if (p->i >= p->n) return jp_fail(p, "unterminated value");
        c = p->z[p->i];
        if (c == '"') {
            BzBuf t;
            int rc;
            bz_buf_init(&t, 0);
            rc = jp_string(p, &t);
            bz_buf_free(&t);
            if (rc) return rc;
        } else if (c == '{' || c == '[') {
            if (++depth > 64) return jp_fail(p, "nested too deep");
            p->i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return jp_fail(p, "unexpected bracket");
            depth--;
            p->i++;
        } else if (c == ',' || c == ':') {
            if (depth == 0) return jp_fail(p, "unexpected separator");
            p->i++;
        } else {
            size_t s = p->i;
            while (p->i < p->n && strchr("0123456789+-.eEtrufalsn", p->z[p->i]))
                p->i++;
            if (p->i == s) return jp_fail(p, "unexpected character");
        }
    } while (depth > 0);
    return BZ_OK;
}

int rq_json_object(const char *z, size_t n, RqFieldFn xField, void *pArg, BzErr *err) {
    JP p = {z, n, 0, err};
    BzBuf k, v;
    int rc = BZ_OK;
    bz_buf_init(&k, 0);
    bz_buf_init(&v, 0);
    jp_ws(&p);
    if (p.i >= n || z[p.i] != '{') {
        rc = jp_fail(&p, "expected '{'");
        goto done;
    }
    p.i++;
    jp_ws(&p);
    if (p.i < n && z[p.i] == '}') {
        p.i++;
        goto tail;
    }
    for (;;) {
        size_t s;
        jp_ws(&p);
        if (p.i >= n || z[p.i] != '"') {
            rc = jp_fail(&p, "expected a member name");
            goto done;
        }
        bz_buf_reset(&k);
        bz_buf_reset(&v);
        if ((rc = jp_string(&p, &k)) != BZ_OK) goto done;
        jp_ws(&p);
        if (p.i >= n || z[p.i] != ':') {
            rc = jp_fail(&p, "expected ':'");
            goto done;
        }
        p.i++;
        jp_ws(&p);
        s = p.i;
        if (p.i < n && z[p.i] == '"') {
            if ((rc = jp_string(&p, &v)) != BZ_OK) goto done;
            bz_buf_append(&v, "", 0);
            rc = xField(pArg, k.data ? k.data : "", k.n, v.data ? v.data : "", v.n, 0);
        } else {
            if ((rc = jp_skip(&p)) != BZ_OK) goto done;
            if (p.i - s == 4 && memcmp(z + s, "null", 4) == 0)
                rc = xField(pArg, k.data ? k.data : "", k.n, NULL, 0, 1);
            else
                rc = xField(pArg, k.data ? k.data : "", k.n, z + s, p.i - s, 0);
        }
        if (rc) goto done;
        jp_ws(&p);
        if (p.i < n && z[p.i] == ',') {
            p.i++;
            continue;
        }
        if (p.i < n && z[p.i] == '}') {
            p.i++;
            break;
        }
        rc = jp_fail(&p, "expected ',' or '}'");
        goto done;
    }
tail:
    jp_ws(&p);
    if (p.i != n) rc = jp_fail(&p, "trailing characters");
done:
    bz_buf_free(&k);
    bz_buf_free(&v);
    return rc;
}

/* ---- Stream ids ------------------------------------------------------------ */

static int parse_u64(const char *z, size_t n, uint64_t *pOut) {
    uint64_t v = 0;
    size_t i;
    if (n == 0 || n > 20) return 0;
    for (i = 0; i < n; i++) {
        unsigned d;
        if (z[i] < '0' || z[i] > '9') return 0;
        d = (unsigned)(z[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *pOut = v;
    return 1;
}

int rq_id_parse(const char *z, size_t n, RqId *pId) {
    const char *zDash = memchr(z, '-', n);
    RqId id = {0, 0};
    if (!zDash) {
        if (!parse_u64(z, n, &id.ms)) return 0;
    } else if (!parse_u64(z, (size_t)(zDash - z), &id.ms) ||
               !parse_u64(zDash + 1, n - (size_t)(zDash - z) - 1, &id.seq)) {
        return 0;
    }
    *pId = id;
    return 1;
}

/* Decimal digits of v at z; returns the count (no printf: this runs per acknowledged id). */
static int u64_format(uint64_t v, char *z) {
    char tmp[20];
    int n = 0, i;
    do
        tmp[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    for (i = 0; i < n; i++)
        z[i] = tmp[n - 1 - i];
    return n;
}

int rq_id_format(RqId id, char *z) {
    int n = u64_format(id.ms, z);
    z[n++] = '-';
    n += u64_format(id.seq, z + n);
    z[n] = 0;
    return n;
}

int rq_id_cmp(RqId a, RqId b) {
    if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
    return 0;
}

/* ---- Id set ------------------------------------------------------------------ */

static size_t id_hash(RqId id, size_t mask) {
    uint64_t h = id.ms * 0x9E3779B97F4A7C15ull ^ (id.seq + 0x632BE59BD9B4E019ull);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (size_t)h & mask;
}

static int idset_rehash(RqIdSet *s, size_t nHash) {
    uint32_t *a = bz_calloc(nHash, sizeof *a);
    size_t i;
    if (!a) return BZ_NOMEM;
    bz_free(s->aHash);
    s->aHash = a;
    s->nHash = nHash;
    for (i = 0; i < s->nId; i++) {
        size_t h = id_hash(s->aId[i], nHash - 1);
        while (a[h])
            h = (h + 1) & (nHash - 1);
        a[h] = (uint32_t)(i + 1);
    }
    return BZ_OK;
}

int rq_idset_has(const RqIdSet *s, RqId id) {
    size_t h;
    if (!s->nHash) return 0;
    h = id_hash(id, s->nHash - 1);
    while (s->aHash[h]) {
        const RqId *p = &s->aId[s->aHash[h] - 1];
        if (p->ms == id.ms && p->seq == id.seq) return 1;
        h = (h + 1) & (s->nHash - 1);
    }
    return 0;
}

int rq_idset_add(RqIdSet *s, RqId id) {
    size_t h;
    if (rq_idset_has(s, id)) return BZ_OK;
    if (s->nId >= UINT32_MAX - 1) return BZ_LIMIT;
    if (s->nId == s->nAlloc) {
        size_t nNew = s->nAlloc ? s->nAlloc * 2 : 64;
        RqId *a = bz_realloc(s->aId, nNew * sizeof *a);
        if (!a) return BZ_NOMEM;
        s->aId = a;
        s->nAlloc = nNew;
    }
    if ((s->nId + 1) * 2 > s->nHash) {
        if (idset_rehash(s, s->nHash ? s->nHash * 2 : 128)) return BZ_NOMEM;
    }
    s->aId[s->nId++] = id;
    h = id_hash(id, s->nHash - 1);
    while (s->aHash[h])
        h = (h + 1) & (s->nHash - 1);
    s->aHash[h] = (uint32_t)s->nId;
    return BZ_OK;
}

void rq_idset_truncate(RqIdSet *s, size_t n) {
    if (n >= s->nId) return;
    s->nId = n;
    if (!s->nHash) return;
    memset(s->aHash, 0, s->nHash * sizeof *s->aHash); /* rebuild in place: no allocation */
    for (size_t i = 0; i < n; i++) {
        size_t h = id_hash(s->aId[i], s->nHash - 1);
        while (s->aHash[h])
            h = (h + 1) & (s->nHash - 1);
        s->aHash[h] = (uint32_t)(i + 1);
    }
}

void rq_idset_clear(RqIdSet *s) {
    if (s->nAlloc > (1u << 16)) { /* a huge transaction: give the memory back */
        rq_idset_free(s);
        return;
    }
    s->nId = 0;
    if (s->aHash) memset(s->aHash, 0, s->nHash * sizeof *s->aHash);
}

void rq_idset_free(RqIdSet *s) {
    bz_free(s->aId);
    bz_free(s->aHash);
    memset(s, 0, sizeof *s);
}
