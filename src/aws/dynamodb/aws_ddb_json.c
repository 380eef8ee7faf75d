/*
** aws_ddb_json.c: DynamoDB value codecs (see aws_ddb.h): scalar cells and
** plain JSON -> AttributeValue, base64, number spelling (the way back, from
** answers to cells and JSON, is aws_ddb_reply.c).
**
**     BzBuf b; bz_buf_init(&b, 0);
**     aws_ddb_json_to_av(&b, "{\"a\":[1,\"x\"]}", 13, &err);
**     // b: {"M":{"a":{"L":[{"N":"1"},{"S":"x"}]}}}
**
** Spec: Amazon DynamoDB Developer Guide, "Supported data types and naming
** rules" (numbers: up to 38 digits of precision, positive 1E-130 to
** 9.9999999999999999999999999999999999999E+125).
*/
#include "aws/dynamodb/aws_ddb_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DDB_JSON_MAX_DEPTH 64 /* DynamoDB allows 32 levels of nesting */

/* ---- base64 ----------------------------------------------------------------- */

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void aws_ddb_base64_encode(BzBuf *b, const void *p, size_t n) {
    const unsigned char *s = p;
    size_t i;
    char q[4];
    if (bz_buf_reserve(b, (n + 2) / 3 * 4 + 1)) return;
    for (i = 0; i + 2 < n; i += 3) {
        q[0] = kB64[s[i] >> 2];
        q[1] = kB64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        q[2] = kB64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        q[3] = kB64[s[i + 2] & 63];
        bz_buf_append(b, q, 4);
    }
    if (i < n) {
        q[0] = kB64[s[i] >> 2];
        if (i + 1 < n) {
            q[1] = kB64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
            q[2] = kB64[(s[i + 1] & 15) << 2];
        } else {
            q[1] = kB64[(s[i] & 3) << 4];
            q[2] = '=';
        }
        q[3] = '=';
        bz_buf_append(b, q, 4);
    }
}

static int b64_val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int aws_ddb_base64_decode_into(const char *z, size_t n, unsigned char *dst, size_t *out_n) {
    size_t o = 0, i;
    uint32_t acc = 0;
    int bits = 0;
    for (i = 0; i < n; i++) {
        int v;
        if (z[i] == '=') break;
        v = b64_val(z[i]);
        if (v < 0) return BZ_CORRUPT;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_n = o;
    return BZ_OK;
}

unsigned char *aws_ddb_base64_decode(const char *z, size_t n, size_t *out_n) {
    unsigned char *out = bz_malloc(n / 4 * 3 + 3);
    if (!out) return NULL;
    if (aws_ddb_base64_decode_into(z, n, out, out_n)) {
        bz_free(out);
        return NULL;
    }
    return out;
}

/* ---- numbers ------------------------------------------------------------------ */

int aws_ddb_is_number(const char *z, size_t n) {
    size_t i = 0, d = 0;
    if (i < n && (z[i] == '-' || z[i] == '+')) i++;
    while (i < n && z[i] >= '0' && z[i] <= '9') i++, d++;
    if (i < n && z[i] == '.') {
        i++;
        while (i < n && z[i] >= '0' && z[i] <= '9') i++, d++;
    }
    if (!d) return 0;
    if (i < n && (z[i] == 'e' || z[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < n && (z[i] == '-' || z[i] == '+')) i++;
        while (i < n && z[i] >= '0' && z[i] <= '9') i++, e++;
        if (!e) return 0;
    }
    return i == n;
}

void aws_ddb_format_double(char *buf, size_t n, double d) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

int aws_ddb_number_n(const char *z, size_t n, int mode, AwsDdbValue *out) {
    char small[128], *c = small;
    int rc = BZ_OK;
    memset(out, 0, sizeof *out);
    if (!aws_ddb_is_number(z, n)) return BZ_CORRUPT;
    if (mode == AWS_DDB_NUM_TEXT) {
        out->type = AWS_DDB_TEXT;
        out->z = bz_strndup(z, n);
        out->n = n;
        return out->z ? BZ_OK : BZ_NOMEM;
    }
    /* strtoll/strtod want a terminated string */
    if (n >= sizeof small && !(c = bz_malloc(n + 1))) return BZ_NOMEM;
    memcpy(c, z, n);
    c[n] = 0;
    if (strcspn(c, ".eE") == n) {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(c, &end, 10);
        if (errno == 0 && *end == 0) {
            out->type = AWS_DDB_INT;
            out->i = v;
            goto done;
        }
    }
    out->type = AWS_DDB_REAL;
    out->r = strtod(c, NULL);
    /* "5E+0", "1.0e3": integral values within int64 read as INTEGER */
    if (out->r == floor(out->r) && fabs(out->r) < 9.2e18) {
        out->type = AWS_DDB_INT;
        out->i = (int64_t)out->r;
    }
done:
    if (c != small) bz_free(c);
    return rc;
}

int aws_ddb_number(const char *z, int mode, AwsDdbValue *out) {
    return aws_ddb_number_n(z, strlen(z), mode, out);
}

/* ---- scalar -> AttributeValue ------------------------------------------------------ */

static void append_number_av(BzBuf *b, const char *digits) {
    bz_buf_appendz(b, "{\"N\":\"");
    bz_buf_appendz(b, digits);
    bz_buf_appendz(b, "\"}");
}

static int value_number_text(const AwsDdbValue *v, char *buf, size_t n, BzErr *err) {
    if (v->type == AWS_DDB_INT) {
        snprintf(buf, n, "%lld", (long long)v->i);
        return BZ_OK;
    }
    if (isnan(v->r) || isinf(v->r))
        return bz_err(err, BZ_MISUSE, "DynamoDB numbers cannot be NaN or infinite");
    aws_ddb_format_double(buf, n, v->r);
    return BZ_OK;
}

/* Skip JSON whitespace. */
static size_t skip_ws(const char *z, size_t i, size_t n) {
    while (i < n && (z[i] == ' ' || z[i] == '\t' || z[i] == '\n' || z[i] == '\r')) i++;
    return i;
}

int aws_ddb_value_json(BzBuf *b, const AwsDdbValue *v, char key_type, int json_ok, BzErr *err) {
    char num[40];
    switch (v->type) {
    case AWS_DDB_NULL:
        bz_buf_appendz(b, "{\"NULL\":true}");
        return BZ_OK;
    case AWS_DDB_INT:
    case AWS_DDB_REAL:
        if (value_number_text(v, num, sizeof num, err)) return err->code;
        if (key_type == 'S') {
            bz_buf_appendz(b, "{\"S\":\"");
            bz_buf_appendz(b, num);
            bz_buf_appendz(b, "\"}");
        } else {
            append_number_av(b, num);
        }
        return BZ_OK;
    case AWS_DDB_BLOB:
        bz_buf_appendz(b, "{\"B\":\"");
        aws_ddb_base64_encode(b, v->z, v->n);
        bz_buf_appendz(b, "\"}");
        return BZ_OK;
    case AWS_DDB_TEXT: {
        const char *z = v->z ? v->z : "";
        if (key_type == 'N') {
            size_t s = skip_ws(z, 0, v->n), e = v->n;
            while (e > s && (z[e - 1] == ' ' || z[e - 1] == '\t')) e--;
            if (aws_ddb_is_number(z + s, e - s)) {
                bz_buf_appendz(b, "{\"N\":\"");
                bz_buf_append(b, z + s, e - s);
                bz_buf_appendz(b, "\"}");
                return BZ_OK;
            }
        }
        if (!key_type && json_ok) {
            size_t s = skip_ws(z, 0, v->n);
            if (s < v->n && (z[s] == '{' || z[s] == '[')) {
                size_t mark = b->n;
                BzErr e2 = {0};
                if (aws_ddb_json_to_av(b, z, v->n, &e2) == BZ_OK) return BZ_OK;
                if (b->rc) return b->rc;
                b->n = mark;
                if (v->is_json) {
                    *err = e2;
                    return err->code;
                }
            }
        }
        bz_buf_appendz(b, "{\"S\":");
        bz_buf_json_str(b, z, v->n);
        bz_buf_appendc(b, '}');
        return BZ_OK;
    }
    default:
        return bz_err(err, BZ_MISUSE, "unknown value type %d", v->type);
    }
}

/* ---- plain JSON -> AttributeValue ---------------------------------------------------- */

typedef struct JsonIn {
    const char *z;
    size_t n, i;
    BzBuf *b;
    BzErr *err;
} JsonIn;

static int jin_fail(JsonIn *j, const char *what) {
    return bz_err(j->err, BZ_CORRUPT, "invalid JSON at offset %zu: %s", j->i, what);
}

/* Copy a JSON string literal (validated) from j->z[j->i] (the opening quote). */
static int jin_string(JsonIn *j) {
    size_t s = j->i++;
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->z[j->i];
        if (c == '"') {
            j->i++;
            bz_buf_append(j->b, j->z + s, j->i - s);
            return BZ_OK;
        }
        if (c < 0x20) return jin_fail(j, "control character in string");
        if (c == '\\') {
            char e;
            if (++j->i >= j->n) break;
            e = j->z[j->i];
            if (e == 'u') {
                for (int k = 1; k <= 4; k++) {
                    char h = j->i + (size_t)k < j->n ? j->z[j->i + (size_t)k] : 0;
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return jin_fail(j, "bad \\u escape");
                }
                j->i += 4;
            } else if (!strchr("\"\\/bfnrt", e) || !e) {
                return jin_fail(j, "bad escape");
            }
        }
        j->i++;
    }
    return jin_fail(j, "unterminated string");
}

static int jin_value(JsonIn *j, int depth);

static int jin_members(JsonIn *j, int depth, int *count) {
    int first = 1;
    j->i = skip_ws(j->z, j->i + 1, j->n); /* past '{' */
    if (j->i < j->n && j->z[j->i] == '}') {
        j->i++;
        return BZ_OK;
    }
    for (;;) {
        j->i = skip_ws(j->z, j->i, j->n);
        if (j->i >= j->n || j->z[j->i] != '"') return jin_fail(j, "expected a member name");
        if (!first) bz_buf_appendc(j->b, ',');
        first = 0;
        if (jin_string(j)) return j->err->code;
        j->i = skip_ws(j->z, j->i, j->n);
        if (j->i >= j->n || j->z[j->i] != ':') return jin_fail(j, "expected ':'");
        j->i++;
        bz_buf_appendc(j->b, ':');
        if (jin_value(j, depth + 1)) return j->err->code;
        (*count)++;
        j->i = skip_ws(j->z, j->i, j->n);
        if (j->i < j->n && j->z[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->i < j->n && j->z[j->i] == '}') {
            j->i++;
            return BZ_OK;
        }
        return jin_fail(j, "expected ',' or '}'");
    }
}

static int jin_value(JsonIn *j, int depth) {
    char c;
    if (depth > DDB_JSON_MAX_DEPTH) return jin_fail(j, "nested too deeply");
    j->i = skip_ws(j->z, j->i, j->n);
    if (j->i >= j->n) return jin_fail(j, "unexpected end");
    c = j->z[j->i];
    if (c == '{') {
        int cnt = 0;
        bz_buf_appendz(j->b, "{\"M\":{");
        if (jin_members(j, depth, &cnt)) return j->err->code;
        bz_buf_appendz(j->b, "}}");
        return BZ_OK;
    }
    if (c == '[') {
        int first = 1;
        bz_buf_appendz(j->b, "{\"L\":[");
        j->i = skip_ws(j->z, j->i + 1, j->n);
        if (j->i < j->n && j->z[j->i] == ']') {
            j->i++;
            bz_buf_appendz(j->b, "]}");
            return BZ_OK;
        }
        for (;;) {
            if (!first) bz_buf_appendc(j->b, ',');
            first = 0;
            if (jin_value(j, depth + 1)) return j->err->code;
            j->i = skip_ws(j->z, j->i, j->n);
            if (j->i < j->n && j->z[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->i < j->n && j->z[j->i] == ']') {
                j->i++;
                bz_buf_appendz(j->b, "]}");
                return BZ_OK;
            }
            return jin_fail(j, "expected ',' or ']'");
        }
    }
    if (c == '"') {
        bz_buf_appendz(j->b, "{\"S\":");
        if (jin_string(j)) return j->err->code;
        bz_buf_appendc(j->b, '}');
        return BZ_OK;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        size_t s = j->i;
        while (j->i < j->n && strchr("+-.eE0123456789", j->z[j->i]) && j->z[j->i]) j->i++;
        if (!aws_ddb_is_number(j->z + s, j->i - s) || j->z[s] == '+')
            return jin_fail(j, "bad number");
        bz_buf_appendz(j->b, "{\"N\":\"");
        bz_buf_append(j->b, j->z + s, j->i - s);
        bz_buf_appendz(j->b, "\"}");
        return BZ_OK;
    }
    if (j->n - j->i >= 4 && !memcmp(j->z + j->i, "true", 4)) {
        j->i += 4;
        bz_buf_appendz(j->b, "{\"BOOL\":true}");
        return BZ_OK;
    }
    if (j->n - j->i >= 5 && !memcmp(j->z + j->i, "false", 5)) {
        j->i += 5;
        bz_buf_appendz(j->b, "{\"BOOL\":false}");
        return BZ_OK;
    }
    if (j->n - j->i >= 4 && !memcmp(j->z + j->i, "null", 4)) {
        j->i += 4;
        bz_buf_appendz(j->b, "{\"NULL\":true}");
        return BZ_OK;
    }
    return jin_fail(j, "unexpected character");
}

int aws_ddb_json_to_av(BzBuf *b, const char *z, size_t n, BzErr *err) {
    JsonIn j = {z, n, 0, b, err};
    if (jin_value(&j, 0)) return err->code;
    j.i = skip_ws(z, j.i, n);
    if (j.i != n) return jin_fail(&j, "trailing characters");
    return b->rc;
}

int aws_ddb_json_object_members(BzBuf *b, const char *z, size_t n, int *n_members, BzErr *err) {
    JsonIn j = {z, n, 0, b, err};
    *n_members = 0;
    j.i = skip_ws(z, 0, n);
    if (j.i >= n || z[j.i] != '{') return bz_err(err, BZ_CORRUPT, "item is not a JSON object");
    if (jin_members(&j, 0, n_members)) return err->code;
    j.i = skip_ws(z, j.i, n);
    if (j.i != n) return jin_fail(&j, "trailing characters");
    return b->rc;
}
