/*
** aws_s3.c: S3 object operations over AwsClient. See aws_s3.h.
**
** Spec: Amazon S3 API Reference, GetObject, HeadObject, PutObject,
** ListObjectsV2, multipart upload (Create/UploadPart/Complete/Abort).
** XML answers are parsed with expat; nothing is scanned by hand.
**
** Usage: see aws_s3.h.
*/
#include "aws/s3/aws_s3.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_MAX (16u << 20)
#define DEFAULT_PART (8u << 20)
#define DEFAULT_MULTIPART (16u << 20)

struct AwsS3 {
    AwsClient *cl;
    AwsS3Options opt;
};

AwsClient *aws_s3_client(AwsS3 *s3) { return s3->cl; }

int aws_s3_parse_url(const char *url, char **bucket, char **key, BzErr *err) {
    const char *p = url, *slash;
    *bucket = *key = NULL;
    if (!url) return bz_err(err, BZ_MISUSE, "S3 URL is NULL");
    if (!strncmp(p, "s3://", 5)) p += 5;
    else if (strstr(p, "://") || !strchr(p, '/'))
        return bz_err(err, BZ_MISUSE, "%s: not an s3:// URL (expected s3://bucket/key)", url);
    slash = strchr(p, '/');
    if (slash == p || !*p) return bz_err(err, BZ_MISUSE, "%s: missing bucket name", url);
    *bucket = slash ? bz_strndup(p, (size_t)(slash - p)) : bz_strdup(p);
    *key = bz_strdup(slash ? slash + 1 : "");
    if (!*bucket || !*key) {
        bz_free(*bucket);
        bz_free(*key);
        *bucket = *key = NULL;
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    return BZ_OK;
}

int aws_s3_new(const AwsS3Options *opt, AwsS3 **out, BzErr *err) {
    AwsS3 *s3 = bz_calloc(1, sizeof *s3);
    AwsClientOptions co;
    const char *anon = getenv("BZ_S3_ANONYMOUS");
    int rc;
    *out = NULL;
    if (!s3) return bz_err(err, BZ_NOMEM, "out of memory");
    if (opt) s3->opt = *opt;
    memset(&co, 0, sizeof co);
    co.service = "s3";
    co.region = s3->opt.region;
    co.endpoint = s3->opt.endpoint;
    co.profile = s3->opt.profile;
    co.anonymous = s3->opt.anonymous || (anon && !strcmp(anon, "1"));
    co.path_style = s3->opt.path_style;
    co.max_attempts = s3->opt.max_attempts;
    co.connect_timeout_ms = s3->opt.connect_timeout_ms;
    co.timeout_ms = s3->opt.timeout_ms;
    co.max_parallel = s3->opt.max_parallel;
    co.hedge_min_ms = s3->opt.hedge_min_ms;
    /* the copied option strings are borrowed only during aws_client_new */
    s3->opt.endpoint = s3->opt.region = s3->opt.profile = NULL;
    if ((rc = aws_client_new(&co, &s3->cl, err)) != BZ_OK) {
        bz_free(s3);
        return rc;
    }
    if (!s3->opt.part_size) s3->opt.part_size = DEFAULT_PART;
    if (s3->opt.part_size < (5u << 20)) s3->opt.part_size = 5u << 20;
    if (!s3->opt.multipart_threshold) s3->opt.multipart_threshold = DEFAULT_MULTIPART;
    if (!s3->opt.coalesce_gap) s3->opt.coalesce_gap = 1u << 20;
    if (!s3->opt.max_coalesced) s3->opt.max_coalesced = 64u << 20;
    *out = s3;
    return BZ_OK;
}

void aws_s3_free(AwsS3 *s3) {
    if (!s3) return;
    aws_client_free(s3->cl);
    bz_free(s3);
}

void aws_s3_object_clear(AwsS3Object *o) {
    if (!o) return;
    bz_free(o->key);
    bz_free(o->etag);
    bz_free(o->last_modified);
    memset(o, 0, sizeof *o);
}

void aws_s3_objects_free(AwsS3Object *a, size_t n) {
    size_t i;
    if (!a) return;
    for (i = 0; i < n; i++) aws_s3_object_clear(&a[i]);
    bz_free(a);
}

static char *unquote(const char *etag) {
    size_t n = strlen(etag);
    if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') return bz_strndup(etag + 1, n - 2);
    if (n >= 6 && !strncmp(etag, "&quot;", 6)) return bz_strndup(etag + 6, n >= 12 ? n - 12 : 0);
    return bz_strdup(etag);
}

static char *s3_label(const char *bucket, const char *key) {
    return bz_mprintf("s3://%s/%s", bucket, key ? key : "");
}

/* Fill info from a call's headers. */
static int info_from_call(const AwsCall *c, const char *key, AwsS3Object *info) {
    const char *slash;
    if (!info) return BZ_OK;
    memset(info, 0, sizeof *info);
    info->key = bz_strdup(key);
    info->etag = unquote(c->etag);
    info->last_modified = bz_strdup(c->last_modified);
    info->size = c->content_length;
    if (c->content_range[0] && (slash = strrchr(c->content_range, '/')) != NULL && slash[1] != '*')
        info->size = strtoull(slash + 1, NULL, 10);
    if (!info->key || !info->etag || !info->last_modified) {
        aws_s3_object_clear(info);
        return BZ_NOMEM;
    }
    return BZ_OK;
}

int aws_s3_head(AwsS3 *s3, const char *bucket, const char *key, AwsS3Object *info, BzErr *err) {
    char *label = s3_label(bucket, key), *path = bz_mprintf("/%s", key);
    AwsCall c;
    int rc;
    memset(&c, 0, sizeof c);
    if (!label || !path) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto fail;
    }
    c.method = "HEAD";
    c.bucket = bucket;
    c.path = path;
    c.label = label;
    rc = aws_client_run(s3->cl, &c, 1, err);
    if (rc == BZ_OK && info_from_call(&c, key, info)) rc = bz_err(err, BZ_NOMEM, "out of memory");
fail:
    aws_call_free(&c);
    bz_free(label);
    bz_free(path);
    return rc;
}

int aws_s3_get(AwsS3 *s3, const char *bucket, const char *key, uint64_t off, uint64_t len,
               BzBuf *out, AwsS3Object *info, BzErr *err) {
    char *label = s3_label(bucket, key), *path = bz_mprintf("/%s", key), range[80];
    AwsHeader h[1];
    AwsCall c;
    int rc;
    memset(&c, 0, sizeof c);
    if (!label || !path) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto fail;
    }
    c.method = "GET";
    c.bucket = bucket;
    c.path = path;
    c.label = label;
    c.max_body = out->max;
    if (off || len != UINT64_MAX) {
        if (len == 0) { /* an empty range is not expressible in HTTP */
            rc = BZ_OK;
            goto fail;
        }
        if (len == UINT64_MAX) snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)off);
        else
            snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off,
                     (unsigned long long)(off + len - 1));
        h[0] = (AwsHeader){"Range", range};
        c.headers = h;
        c.n_headers = 1;
    }
    rc = aws_client_run(s3->cl, &c, 1, err);
    if (rc == BZ_OK) {
        const char *p = c.body_out.data ? c.body_out.data : "";
        size_t n = c.body_out.n;
        /* a server that ignored Range answers 200 with everything */
        if (c.status == 200 && (off || len != UINT64_MAX)) {
            if (off >= n) n = 0, p = "";
            else {
                p += off;
                n -= (size_t)off;
                if (len < n) n = (size_t)len;
            }
        } else if (c.status == 206 && len != UINT64_MAX && n > len) {
            n = (size_t)len; /* s3rver-style over-long 206 */
        }
        if (out->n == 0 && p == c.body_out.data && n == c.body_out.n && n <= out->max) {
            /* the whole body is the answer: hand the buffer over instead of
            ** copying it (Rationale: first-touching a second copy of a large
            ** object costs as much as receiving it) */
            size_t max = out->max;
            bz_buf_free(out);
            *out = c.body_out;
            out->max = max;
            bz_buf_init(&c.body_out, 1);
        } else {
            bz_buf_append(out, p, n);
        }
        if (out->rc) rc = bz_err(err, out->rc, "%s: object larger than the %zu-byte limit", label, out->max);
        else if (info_from_call(&c, key, info)) rc = bz_err(err, BZ_NOMEM, "out of memory");
    }
fail:
    aws_call_free(&c);
    bz_free(label);
    bz_free(path);
    return rc;
}

int aws_s3_delete(AwsS3 *s3, const char *bucket, const char *key, BzErr *err) {
    char *label = s3_label(bucket, key), *path = bz_mprintf("/%s", key);
    AwsCall c;
    int rc;
    memset(&c, 0, sizeof c);
    if (!label || !path) rc = bz_err(err, BZ_NOMEM, "out of memory");
    else {
        c.method = "DELETE";
        c.bucket = bucket;
        c.path = path;
        c.label = label;
        rc = aws_client_run(s3->cl, &c, 1, err);
    }
    aws_call_free(&c);
    bz_free(label);
    bz_free(path);
    return rc;
}

int aws_s3_create_bucket(AwsS3 *s3, const char *bucket, BzErr *err) {
    char *label = s3_label(bucket, "");
    AwsCall c;
    int rc;
    memset(&c, 0, sizeof c);
    if (!label) return bz_err(err, BZ_NOMEM, "out of memory");
    c.method = "PUT";
    c.bucket = bucket;
    c.path = "/";
    c.label = label;
    rc = aws_client_run(s3->cl, &c, 1, err);
    if (rc && !strcmp(c.err_code, "BucketAlreadyOwnedByYou")) {
        rc = BZ_OK;
        bz_err_clear(err);
    }
    aws_call_free(&c);
    bz_free(label);
    return rc;
}

/* ---- XML ------------------------------------------------------------------ */

/* A tiny expat driver: calls on_end(ctx, depth, name, text) for every closing
** element with its text content (leaf text only). */
typedef struct XmlWalk {
    int depth;
    BzBuf text;
    void *ctx;
    int (*on_end)(void *ctx, int depth, const char *name, const char *text);
    void (*on_start)(void *ctx, int depth, const char *name);
    int rc;
} XmlWalk;

static void xw_start(void *u, const XML_Char *name, const XML_Char **atts) {
    XmlWalk *w = u;
    (void)atts;
    w->depth++;
    bz_buf_reset(&w->text);
    if (w->on_start) w->on_start(w->ctx, w->depth, name);
}
static void xw_end(void *u, const XML_Char *name) {
    XmlWalk *w = u;
    bz_buf_appendc(&w->text, 0);
    if (!w->rc && w->text.rc) w->rc = w->text.rc;
    if (!w->rc) w->rc = w->on_end(w->ctx, w->depth, name, w->text.data ? w->text.data : "");
    bz_buf_reset(&w->text);
    w->depth--;
}
static void xw_text(void *u, const XML_Char *s, int len) {
    XmlWalk *w = u;
    bz_buf_append(&w->text, s, (size_t)len);
}

static int xml_walk(const char *body, size_t n, void *ctx, void (*on_start)(void *, int, const char *),
                    int (*on_end)(void *, int, const char *, const char *), const char *label,
                    BzErr *err) {
    XmlWalk w;
    XML_Parser p = XML_ParserCreate("UTF-8");
    int ok;
    if (!p) return bz_err(err, BZ_NOMEM, "out of memory");
    memset(&w, 0, sizeof w);
    bz_buf_init(&w.text, 1u << 20);
    w.ctx = ctx;
    w.on_end = on_end;
    w.on_start = on_start;
    XML_SetUserData(p, &w);
    XML_SetElementHandler(p, xw_start, xw_end);
    XML_SetCharacterDataHandler(p, xw_text);
    ok = XML_Parse(p, body ? body : "", (int)n, 1) == XML_STATUS_OK;
    if (!ok && !w.rc)
        w.rc = bz_err(err, BZ_CORRUPT, "%s: malformed XML reply: %s at line %lu", label,
                      XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p));
    else if (w.rc == BZ_NOMEM || w.rc == BZ_LIMIT)
        bz_err(err, w.rc, "%s: XML reply too large", label);
    XML_ParserFree(p);
    bz_buf_free(&w.text);
    return w.rc;
}

/* ---- list ------------------------------------------------------------------ */

typedef struct ListPage {
    AwsS3Object cur;
    int in_contents, in_prefix;
    int truncated;
    char *next_token;
    AwsS3Object *objs;
    size_t n, cap;
} ListPage;

static void lp_start(void *u, int depth, const char *name) {
    ListPage *lp = u;
    if (depth == 2 && !strcmp(name, "Contents")) lp->in_contents = 1;
    if (depth == 2 && !strcmp(name, "CommonPrefixes")) lp->in_prefix = 1;
}

static int lp_push(ListPage *lp) {
    if (lp->n == lp->cap) {
        size_t nc = lp->cap ? lp->cap * 2 : 64;
        AwsS3Object *a = bz_realloc(lp->objs, nc * sizeof *a);
        if (!a) return BZ_NOMEM;
        lp->objs = a;
        lp->cap = nc;
    }
    lp->objs[lp->n++] = lp->cur;
    memset(&lp->cur, 0, sizeof lp->cur);
    return BZ_OK;
}

static int lp_end(void *u, int depth, const char *name, const char *text) {
    ListPage *lp = u;
    char **dst = NULL;
    if (depth == 2 && (!strcmp(name, "Contents") || !strcmp(name, "CommonPrefixes"))) {
        lp->in_contents = lp->in_prefix = 0;
        if (!lp->cur.key) {
            aws_s3_object_clear(&lp->cur);
            return BZ_OK;
        }
        if (!strcmp(name, "CommonPrefixes")) lp->cur.size = UINT64_MAX;
        return lp_push(lp);
    }
    if (depth == 2 && !strcmp(name, "IsTruncated")) lp->truncated = !strcmp(text, "true");
    if (depth == 2 && !strcmp(name, "NextContinuationToken")) dst = &lp->next_token;
    if (depth == 3 && lp->in_contents) {
        if (!strcmp(name, "Key")) dst = &lp->cur.key;
        else if (!strcmp(name, "ETag")) {
            bz_free(lp->cur.etag);
            lp->cur.etag = unquote(text);
            return lp->cur.etag ? BZ_OK : BZ_NOMEM;
        } else if (!strcmp(name, "LastModified")) dst = &lp->cur.last_modified;
        else if (!strcmp(name, "Size")) lp->cur.size = strtoull(text, NULL, 10);
    }
    if (depth == 3 && lp->in_prefix && !strcmp(name, "Prefix")) dst = &lp->cur.key;
    if (dst) {
        bz_free(*dst);
        *dst = bz_strdup(text);
        if (!*dst) return BZ_NOMEM;
    }
    return BZ_OK;
}

int aws_s3_list(AwsS3 *s3, const char *bucket, const char *prefix, const char *delimiter,
                AwsS3ListCb cb, void *ctx, BzErr *err) {
    char *label = s3_label(bucket, prefix), *token = NULL, maxkeys[16];
    int rc = BZ_OK, stop = 0;
    if (!label) return bz_err(err, BZ_NOMEM, "out of memory");
    snprintf(maxkeys, sizeof maxkeys, "%d", s3->opt.list_max_keys > 0 ? s3->opt.list_max_keys : 1000);
    while (!stop) {
        AwsParam q[5];
        int nq = 0;
        size_t i;
        AwsCall c;
        ListPage lp;
        memset(&c, 0, sizeof c);
        memset(&lp, 0, sizeof lp);
        q[nq++] = (AwsParam){"list-type", "2"};
        q[nq++] = (AwsParam){"max-keys", maxkeys};
        if (prefix && *prefix) q[nq++] = (AwsParam){"prefix", prefix};
        if (delimiter && *delimiter) q[nq++] = (AwsParam){"delimiter", delimiter};
        if (token) q[nq++] = (AwsParam){"continuation-token", token};
        c.method = "GET";
        c.bucket = bucket;
        c.path = "/";
        c.params = q;
        c.n_params = nq;
        c.label = label;
        c.max_body = XML_MAX;
        rc = aws_client_run(s3->cl, &c, 1, err);
        if (rc == BZ_OK)
            rc = xml_walk(c.body_out.data, c.body_out.n, &lp, lp_start, lp_end, label, err);
        if (rc == BZ_NOMEM) bz_err(err, BZ_NOMEM, "out of memory");
        aws_call_free(&c);
        for (i = 0; rc == BZ_OK && i < lp.n && !stop; i++) stop = cb(ctx, &lp.objs[i]);
        aws_s3_objects_free(lp.objs, lp.n);
        aws_s3_object_clear(&lp.cur);
        bz_free(token);
        token = lp.next_token;
        if (rc || !lp.truncated || !token) break;
    }
    bz_free(token);
    bz_free(label);
    return rc;
}

/* ---- put ------------------------------------------------------------------- */

typedef struct OneText {
    const char *want;
    char *val;
} OneText;

static int ot_end(void *u, int depth, const char *name, const char *text) {
    OneText *o = u;
    (void)depth;
    if (!o->val && !strcmp(name, o->want)) {
        o->val = bz_strdup(text);
        if (!o->val) return BZ_NOMEM;
    }
    return BZ_OK;
}

static int put_single(AwsS3 *s3, const char *bucket, const char *key, const void *data, size_t n,
                      char **etag_out, const char *label, BzErr *err) {
    char *path = bz_mprintf("/%s", key);
    AwsCall c;
    int rc;
    memset(&c, 0, sizeof c);
    if (!path) return bz_err(err, BZ_NOMEM, "out of memory");
    c.method = "PUT";
    c.bucket = bucket;
    c.path = path;
    c.body = data ? data : "";
    c.n_body = n;
    c.label = label;
    rc = aws_client_run(s3->cl, &c, 1, err);
    if (rc == BZ_OK && etag_out && !(*etag_out = unquote(c.etag)))
        rc = bz_err(err, BZ_NOMEM, "out of memory");
    aws_call_free(&c);
    bz_free(path);
    return rc;
}

static int put_multipart(AwsS3 *s3, const char *bucket, const char *key, const void *data,
                         size_t n, char **etag_out, const char *label, BzErr *err) {
    char *path = bz_mprintf("/%s", key), *upload_id = NULL;
    uint64_t psz = s3->opt.part_size;
    int nparts = (int)((n + psz - 1) / psz), i, rc;
    AwsCall c, *parts = NULL;
    AwsParam *pq = NULL;
    char (*pnum)[12] = NULL;
    OneText ot = {"UploadId", NULL};
    BzBuf xml;
    memset(&c, 0, sizeof c);
    bz_buf_init(&xml, 1u << 20);
    if (!path) return bz_err(err, BZ_NOMEM, "out of memory");
    {
        AwsParam q[] = {{"uploads", NULL}};
        c.method = "POST";
        c.bucket = bucket;
        c.path = path;
        c.params = q;
        c.n_params = 1;
        c.label = label;
        rc = aws_client_run(s3->cl, &c, 1, err);
        if (rc == BZ_OK) rc = xml_walk(c.body_out.data, c.body_out.n, &ot, NULL, ot_end, label, err);
        aws_call_free(&c);
    }
    if (rc) goto fail;
    upload_id = ot.val;
    if (!upload_id) {
        rc = bz_err(err, BZ_CORRUPT, "%s: CreateMultipartUpload reply has no UploadId", label);
        goto fail;
    }
    parts = bz_calloc((size_t)nparts, sizeof *parts);
    pq = bz_calloc((size_t)nparts * 2, sizeof *pq);
    pnum = bz_calloc((size_t)nparts, sizeof *pnum);
    if (!parts || !pq || !pnum) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto abort_upload;
    }
    for (i = 0; i < nparts; i++) {
        uint64_t off = (uint64_t)i * psz;
        snprintf(pnum[i], sizeof pnum[i], "%d", i + 1);
        pq[2 * i] = (AwsParam){"partNumber", pnum[i]};
        pq[2 * i + 1] = (AwsParam){"uploadId", upload_id};
        parts[i].method = "PUT";
        parts[i].bucket = bucket;
        parts[i].path = path;
        parts[i].params = &pq[2 * i];
        parts[i].n_params = 2;
        parts[i].body = (const char *)data + off;
        parts[i].n_body = (size_t)BZ_MIN(psz, n - off);
        parts[i].label = label;
    }
    rc = aws_client_run(s3->cl, parts, nparts, err);
    if (rc) goto abort_upload;
    bz_buf_appendz(&xml, "<CompleteMultipartUpload>");
    for (i = 0; i < nparts; i++)
        bz_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1,
                      parts[i].etag);
    bz_buf_appendz(&xml, "</CompleteMultipartUpload>");
    if (xml.rc) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto abort_upload;
    }
    {
        AwsParam q[] = {{"uploadId", upload_id}};
        char code[64] = "", msg[256] = "", rid[128] = "", reg[64] = "";
        OneText et = {"ETag", NULL};
        memset(&c, 0, sizeof c);
        c.method = "POST";
        c.bucket = bucket;
        c.path = path;
        c.params = q;
        c.n_params = 1;
        c.body = xml.data;
        c.n_body = xml.n;
        c.label = label;
        rc = aws_client_run(s3->cl, &c, 1, err);
        /* Complete can answer 200 with an <Error> body */
        if (rc == BZ_OK && aws_parse_error_body(c.body_out.data ? c.body_out.data : "", c.body_out.n,
                                                code, sizeof code, msg, sizeof msg, rid, sizeof rid,
                                                reg, sizeof reg))
            rc = bz_err(err, BZ_IO, "%s: %s: %s (request id %s)", label, code, msg, rid);
        if (rc == BZ_OK) rc = xml_walk(c.body_out.data, c.body_out.n, &et, NULL, ot_end, label, err);
        if (rc == BZ_OK && etag_out) {
            *etag_out = et.val ? unquote(et.val) : bz_strdup("");
            if (!*etag_out) rc = bz_err(err, BZ_NOMEM, "out of memory");
        }
        bz_free(et.val);
        aws_call_free(&c);
    }
    if (rc == BZ_OK) goto fail; /* done: shared cleanup */
abort_upload: {
    AwsParam q[] = {{"uploadId", upload_id}};
    BzErr e2 = {0};
    memset(&c, 0, sizeof c);
    c.method = "DELETE";
    c.bucket = bucket;
    c.path = path;
    c.params = q;
    c.n_params = 1;
    c.label = label;
    aws_client_run(s3->cl, &c, 1, &e2);
    aws_call_free(&c);
}
fail:
    if (parts)
        for (i = 0; i < nparts; i++) aws_call_free(&parts[i]);
    bz_free(parts);
    bz_free(pq);
    bz_free(pnum);
    bz_free(upload_id);
    bz_free(path);
    bz_buf_free(&xml);
    return rc;
}

int aws_s3_put(AwsS3 *s3, const char *bucket, const char *key, const void *data, size_t n,
               char **etag_out, BzErr *err) {
    char *label = s3_label(bucket, key);
    int rc;
    if (etag_out) *etag_out = NULL;
    if (!label) return bz_err(err, BZ_NOMEM, "out of memory");
    if (!*key) rc = bz_err(err, BZ_MISUSE, "%s: missing object key", label);
    else if (n > s3->opt.multipart_threshold)
        rc = put_multipart(s3, bucket, key, data, n, etag_out, label, err);
    else
        rc = put_single(s3, bucket, key, data, n, etag_out, label, err);
    bz_free(label);
    return rc;
}
