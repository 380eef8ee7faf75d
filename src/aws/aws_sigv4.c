/*
** aws_sigv4.c: AWS Signature Version 4. See aws_sigv4.h.
**
** Spec: AWS General Reference, "Create a canonical request / string to sign /
** calculate the signature"; Amazon S3 API Reference, "Signature Calculations
** for the Authorization Header" and "Query String Authentication".
**
** Usage: see aws_sigv4.h. Everything built here goes through sticky BzBufs,
** so a failure anywhere surfaces once, at the end.
*/
#include "aws/aws_sigv4.h"

#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIG_BUF_MAX (64u << 20) /* canonical requests are small; this bounds hostile input */

/* ---- clock ---------------------------------------------------------------- */

static int64_t (*g_clock)(void);

int64_t aws_now(void) { return g_clock ? g_clock() : (int64_t)time(NULL); }

void aws_set_clock(int64_t (*fn)(void)) { g_clock = fn; }

static int parse_digits(const char *z, int n, int *out) {
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (z[i] < '0' || z[i] > '9') return -1;
        v = v * 10 + (z[i] - '0');
    }
    *out = v;
    return 0;
}

static int64_t make_time(int y, int mo, int d, int h, int mi, int s) {
    struct tm tm;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

int64_t aws_parse_amz_date(const char *z) {
    int y, mo, d, h, mi, s;
    if (!z || strlen(z) != 16 || z[8] != 'T' || z[15] != 'Z') return -1;
    if (parse_digits(z, 4, &y) || parse_digits(z + 4, 2, &mo) || parse_digits(z + 6, 2, &d) ||
        parse_digits(z + 9, 2, &h) || parse_digits(z + 11, 2, &mi) || parse_digits(z + 13, 2, &s))
        return -1;
    return make_time(y, mo, d, h, mi, s);
}

int64_t aws_parse_iso8601(const char *z) {
    int y, mo, d, h, mi, s, oh = 0, om = 0;
    int64_t t;
    const char *p;
    if (!z || strlen(z) < 19 || z[4] != '-' || z[7] != '-' || (z[10] != 'T' && z[10] != ' ') ||
        z[13] != ':' || z[16] != ':')
        return -1;
    if (parse_digits(z, 4, &y) || parse_digits(z + 5, 2, &mo) || parse_digits(z + 8, 2, &d) ||
        parse_digits(z + 11, 2, &h) || parse_digits(z + 14, 2, &mi) || parse_digits(z + 17, 2, &s))
        return -1;
    t = make_time(y, mo, d, h, mi, s);
    if (t < 0) return -1;
    p = z + 19;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++) {
        }
    if (*p == 'Z' || *p == 0) return t;
    if ((*p == '+' || *p == '-') && strlen(p) >= 6 && p[3] == ':' && !parse_digits(p + 1, 2, &oh) &&
        !parse_digits(p + 4, 2, &om))
        return *p == '+' ? t - (oh * 3600 + om * 60) : t + (oh * 3600 + om * 60);
    return -1;
}

/* ---- hashing -------------------------------------------------------------- */

static void to_hex(const unsigned char *p, size_t n, char *out) {
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = 0;
}

void aws_sha256_hex(const void *data, size_t n, char hex[65]) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data ? data : (const void *)"", n, md);
    to_hex(md, sizeof md, hex);
}

static void hmac(const void *key, size_t nkey, const char *msg, unsigned char out[32]) {
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)nkey, (const unsigned char *)msg, strlen(msg), out, &n);
}

/* ---- encoding ------------------------------------------------------------- */

void aws_uri_encode(BzBuf *b, const char *z, size_t n, int keep_slash) {
    static const char hx[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)z[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash)) {
            bz_buf_appendc(b, (char)c);
        } else {
            char e[3] = {'%', hx[c >> 4], hx[c & 15]};
            bz_buf_append(b, e, 3);
        }
    }
}

/* RFC 3986 remove_dot_segments plus removal of empty segments, as the SDKs do
** for every service but S3. Appends the result to b. */
static void normalize_path(BzBuf *b, const char *path) {
    size_t n = strlen(path), i = 0, base = b->n, nseg = 0;
    size_t *starts = bz_calloc(n / 2 + 2, sizeof *starts);
    if (!starts) {
        b->rc = BZ_NOMEM;
        return;
    }
    if (n == 0) {
        bz_buf_appendc(b, '/');
        bz_free(starts);
        return;
    }
    while (i <= n) {
        size_t j = i;
        while (j < n && path[j] != '/') j++;
        if (j > i && !(j - i == 1 && path[i] == '.')) {
            if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
                if (nseg) {
                    nseg--;
                    b->n = starts[nseg];
                }
            } else {
                starts[nseg++] = b->n;
                if (b->n > base || path[0] == '/') bz_buf_appendc(b, '/');
                bz_buf_append(b, path + i, j - i);
            }
        }
        i = j + 1;
    }
    if (nseg == 0 && path[0] == '/') bz_buf_appendc(b, '/');
    else if (nseg && path[n - 1] == '/') bz_buf_appendc(b, '/');
    if (b->rc == BZ_OK && b->n < b->cap) b->data[b->n] = 0;
    bz_free(starts);
}

/* ---- canonical pieces ----------------------------------------------------- */

typedef struct KV {
    char *k;
    char *v;
} KV;

static int kv_cmp(const void *a, const void *b) {
    const KV *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static void kv_free(KV *a, int n) {
    int i;
    if (!a) return;
    for (i = 0; i < n; i++) {
        bz_free(a[i].k);
        bz_free(a[i].v);
    }
    bz_free(a);
}

static char *encoded(const char *z, int keep_slash) {
    BzBuf b;
    bz_buf_init(&b, SIG_BUF_MAX);
    aws_uri_encode(&b, z ? z : "", z ? strlen(z) : 0, keep_slash);
    bz_buf_appendz(&b, "");
    if (b.rc) {
        bz_buf_free(&b);
        return NULL;
    }
    return bz_buf_take(&b);
}

/* Canonical query of r->params plus `extra` (already-raw pairs). */
static char *canonical_query(const AwsParam *p, int np, const AwsParam *extra, int nextra) {
    int n = np + nextra, i, ok = 1;
    KV *a = bz_calloc((size_t)n + 1, sizeof *a);
    BzBuf b;
    if (!a) return NULL;
    for (i = 0; i < n; i++) {
        const AwsParam *q = i < np ? &p[i] : &extra[i - np];
        a[i].k = encoded(q->key, 0);
        a[i].v = encoded(q->value ? q->value : "", 0);
        if (!a[i].k || !a[i].v) ok = 0;
    }
    if (!ok) {
        kv_free(a, n);
        return NULL;
    }
    qsort(a, (size_t)n, sizeof *a, kv_cmp);
    bz_buf_init(&b, SIG_BUF_MAX);
    for (i = 0; i < n; i++) bz_buf_printf(&b, "%s%s=%s", i ? "&" : "", a[i].k, a[i].v);
    bz_buf_appendz(&b, "");
    kv_free(a, n);
    if (b.rc) {
        bz_buf_free(&b);
        return NULL;
    }
    return bz_buf_take(&b);
}

/* Lower-cased name, whitespace-collapsed value. */
static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static char *collapse_ws(const char *v) {
    BzBuf b;
    int pending = 0;
    bz_buf_init(&b, SIG_BUF_MAX);
    for (; *v; v++) {
        if (is_ws(*v)) {
            pending = b.n > 0;
            continue;
        }
        if (pending) bz_buf_appendc(&b, ' ');
        pending = 0;
        bz_buf_appendc(&b, *v);
    }
    bz_buf_appendz(&b, "");
    if (b.rc) {
        bz_buf_free(&b);
        return NULL;
    }
    return bz_buf_take(&b);
}

static int skip_header(const char *lname) {
    return !strcmp(lname, "user-agent") || !strcmp(lname, "expect") ||
           !strcmp(lname, "x-amzn-trace-id") || !strcmp(lname, "authorization") ||
           !strcmp(lname, "x-amz-date") || !strcmp(lname, "x-amz-security-token") ||
           !strcmp(lname, "x-amz-content-sha256");
}

static int kv_cmp_name(const void *a, const void *b) {
    const KV *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    /* stable on insertion order: v carries a sequence number prefix */
    return c ? c : strcmp(x->v, y->v);
}

/* Build "name:value\n..." into canon and "a;b;c" into signed_names. */
static int canonical_headers(const AwsSigReq *r, const AwsHeader *extra, int nextra, BzBuf *canon,
                             BzBuf *names) {
    int n = r->n_headers + nextra + 1, i, k = 0, have_host = 0, rc = BZ_OK;
    KV *a = bz_calloc((size_t)n, sizeof *a);
    if (!a) return BZ_NOMEM;
    for (i = 0; i < r->n_headers + nextra; i++) {
        const AwsHeader *h = i < r->n_headers ? &r->headers[i] : &extra[i - r->n_headers];
        char *ln = bz_strdup(h->name), *cv, *p;
        if (!ln) {
            rc = BZ_NOMEM;
            goto fail;
        }
        for (p = ln; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (i < r->n_headers && skip_header(ln)) {
            bz_free(ln);
            continue;
        }
        if (!strcmp(ln, "host")) have_host = 1;
        cv = collapse_ws(h->value ? h->value : "");
        a[k].k = ln;
        a[k].v = cv ? bz_mprintf("%08d%s", i, cv) : NULL;
        bz_free(cv);
        k++;
        if (!a[k - 1].v) {
            rc = BZ_NOMEM;
            goto fail;
        }
    }
    if (!have_host) {
        a[k].k = bz_strdup("host");
        a[k].v = bz_mprintf("%08d%s", 0, r->host ? r->host : "");
        if (!a[k++].v) {
            rc = BZ_NOMEM;
            goto fail;
        }
    }
    qsort(a, (size_t)k, sizeof *a, kv_cmp_name);
    for (i = 0; i < k; i++) {
        if (i > 0 && !strcmp(a[i].k, a[i - 1].k)) {
            bz_buf_printf(canon, ",%s", a[i].v + 8);
            continue;
        }
        if (i > 0) bz_buf_appendc(canon, '\n');
        bz_buf_printf(canon, "%s:%s", a[i].k, a[i].v + 8);
        bz_buf_printf(names, "%s%s", names->n ? ";" : "", a[i].k);
    }
    bz_buf_appendc(canon, '\n');
    bz_buf_appendz(names, "");
    if (canon->rc || names->rc) rc = BZ_NOMEM;
fail:
    kv_free(a, n);
    return rc;
}

static void format_amz_date(int64_t t, char out[17]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* The signing key chain and final signature over string_to_sign. */
static void signature_hex(const char *secret, const char *date8, const char *region,
                          const char *service, const char *sts, char out[65]) {
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    char *kinit = bz_mprintf("AWS4%s", secret);
    if (!kinit) {
        out[0] = 0;
        return;
    }
    hmac(kinit, strlen(kinit), date8, k1);
    OPENSSL_cleanse(kinit, strlen(kinit));
    bz_free(kinit);
    hmac(k1, 32, region, k2);
    hmac(k2, 32, service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts, sig);
    to_hex(sig, 32, out);
    OPENSSL_cleanse(k4, sizeof k4);
}

void aws_signed_free(AwsSigned *s) {
    if (!s) return;
    bz_free(s->authorization);
    bz_free(s->url_path);
    bz_free(s->query);
    bz_free(s->canonical_request);
    bz_free(s->signature);
    memset(s, 0, sizeof *s);
}

/* Shared core: header form when expires == 0, presigned otherwise. */
static int sign_core(const AwsSigReq *r, const AwsCreds *c, int expires, AwsSigned *out,
                     BzErr *err) {
    int is_s3, rc = BZ_OK;
    int64_t t;
    char date8[9], sts_hash[65], sig[65];
    AwsHeader extra[3];
    int nextra = 0;
    AwsParam qextra[6];
    int nq = 0;
    char *credential = NULL, *expires_s = NULL;
    BzBuf path, canon_h, names, cr, sts;

    memset(out, 0, sizeof *out);
    bz_buf_init(&path, SIG_BUF_MAX);
    bz_buf_init(&canon_h, SIG_BUF_MAX);
    bz_buf_init(&names, SIG_BUF_MAX);
    bz_buf_init(&cr, SIG_BUF_MAX);
    bz_buf_init(&sts, SIG_BUF_MAX);
    if (!r->method || !r->service || !r->region || !c || !c->access_key_id || !c->secret_access_key) {
        rc = bz_err(err, BZ_MISUSE, "sigv4: method, service, region and credentials are required");
        goto fail;
    }
    is_s3 = !strcmp(r->service, "s3");
    t = r->time ? r->time : aws_now();
    format_amz_date(t, out->amz_date);
    memcpy(date8, out->amz_date, 8);
    date8[8] = 0;

    /* Path: encoded once for the wire; S3 signs exactly that, others
    ** normalise it and encode it a second time. */
    aws_uri_encode(&path, r->path ? r->path : "/", r->path ? strlen(r->path) : 1, 1);
    if (path.n == 0) bz_buf_appendc(&path, '/');
    bz_buf_appendz(&path, "");
    if (path.rc) goto nomem;
    out->url_path = bz_strdup(path.data);
    if (!out->url_path) goto nomem;

    if (expires) {
        out->send_content_sha256 = 0;
        strcpy(out->content_sha256, is_s3 ? AWS_UNSIGNED_PAYLOAD : "");
        if (!is_s3) aws_sha256_hex(r->payload, r->n_payload, out->content_sha256);
        credential = bz_mprintf("%s/%s/%s/%s/aws4_request", c->access_key_id, date8, r->region,
                                r->service);
        expires_s = bz_mprintf("%d", expires);
        if (!credential || !expires_s) goto nomem;
    } else {
        if (r->payload_hash)
            snprintf(out->content_sha256, sizeof out->content_sha256, "%s", r->payload_hash);
        else
            aws_sha256_hex(r->payload, r->n_payload, out->content_sha256);
        out->send_content_sha256 = is_s3;
        extra[nextra++] = (AwsHeader){"x-amz-date", out->amz_date};
        if (is_s3) extra[nextra++] = (AwsHeader){"x-amz-content-sha256", out->content_sha256};
        if (c->session_token) extra[nextra++] = (AwsHeader){"x-amz-security-token", c->session_token};
    }
    rc = canonical_headers(r, extra, nextra, &canon_h, &names);
    if (rc) goto nomem;
    if (expires) {
        qextra[nq++] = (AwsParam){"X-Amz-Algorithm", "AWS4-HMAC-SHA256"};
        qextra[nq++] = (AwsParam){"X-Amz-Credential", credential};
        qextra[nq++] = (AwsParam){"X-Amz-Date", out->amz_date};
        qextra[nq++] = (AwsParam){"X-Amz-Expires", expires_s};
        qextra[nq++] = (AwsParam){"X-Amz-SignedHeaders", names.data};
        if (c->session_token) qextra[nq++] = (AwsParam){"X-Amz-Security-Token", c->session_token};
    }
    out->query = canonical_query(r->params, r->n_params, qextra, nq);
    if (!out->query) goto nomem;

    bz_buf_printf(&cr, "%s\n", r->method);
    if (is_s3) {
        bz_buf_appendz(&cr, path.data);
    } else {
        BzBuf norm;
        bz_buf_init(&norm, SIG_BUF_MAX);
        normalize_path(&norm, path.data);
        bz_buf_appendz(&norm, "");
        if (norm.rc) {
            bz_buf_free(&norm);
            goto nomem;
        }
        aws_uri_encode(&cr, norm.data, norm.n, 1);
        bz_buf_free(&norm);
    }
    bz_buf_printf(&cr, "\n%s\n", out->query);
    bz_buf_append(&cr, canon_h.data, canon_h.n);
    bz_buf_printf(&cr, "\n%s\n%s", names.data, out->content_sha256);
    bz_buf_appendz(&cr, "");
    if (cr.rc) goto nomem;
    aws_sha256_hex(cr.data, cr.n, sts_hash);
    bz_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", out->amz_date, date8,
                  r->region, r->service, sts_hash);
    if (sts.rc) goto nomem;
    signature_hex(c->secret_access_key, date8, r->region, r->service, sts.data, sig);
    if (!sig[0]) goto nomem;
    out->signature = bz_strdup(sig);
    out->canonical_request = bz_buf_take(&cr);
    if (!out->signature || !out->canonical_request) goto nomem;
    if (expires) {
        char *q = bz_mprintf("%s&X-Amz-Signature=%s", out->query, sig);
        if (!q) goto nomem;
        bz_free(out->query);
        out->query = q;
    } else {
        out->authorization =
            bz_mprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                       "Signature=%s",
                       c->access_key_id, date8, r->region, r->service, names.data, sig);
        if (!out->authorization) goto nomem;
    }
    goto done;
nomem:
    rc = bz_err(err, BZ_NOMEM, "sigv4: out of memory");
fail:
    aws_signed_free(out);
done:
    bz_free(credential);
    bz_free(expires_s);
    bz_buf_free(&path);
    bz_buf_free(&canon_h);
    bz_buf_free(&names);
    bz_buf_free(&cr);
    bz_buf_free(&sts);
    return rc;
}

int aws_sigv4_sign(const AwsSigReq *r, const AwsCreds *c, AwsSigned *out, BzErr *err) {
    return sign_core(r, c, 0, out, err);
}

int aws_sigv4_presign(const AwsSigReq *r, const AwsCreds *c, int expires, AwsSigned *out,
                      BzErr *err) {
    if (expires < 1 || expires > 604800) {
        memset(out, 0, sizeof *out);
        return bz_err(err, BZ_MISUSE, "sigv4: presign expiry must be 1..604800 seconds");
    }
    return sign_core(r, c, expires, out, err);
}
