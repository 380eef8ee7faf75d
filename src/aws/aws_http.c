/*
** aws_http.c: signed AWS requests over libcurl multi, with retries and
** hedging. See aws_http.h for the contract and the retry rules.
**
** Usage: see aws_http.h. Spec: AWS SDKs and Tools Reference Guide, "Retry
** behavior" (standard mode: transient errors, throttling, full-jitter backoff).
*/
#include "aws/aws_http.h"
#include "aws/aws_curl.h"

#include <cJSON.h>
#include <expat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#define DEFAULT_MAX_BODY (64u << 20)
#define BIG_BODY (8u << 20)   /* bodies this large are sized once (body_reserve_big) */
#define HUGE_PAGE (2u << 20)
/* Receive buffer of GETs (libcurl's default is 16 KiB). Rationale
** (performance): large bodies arrive in 16x fewer write callbacks and recv()
** calls (s3_get of a 197 MB object on loopback, best of 5: 0.48 s -> 0.34 s). */
#define RECV_BUFFER (256L << 10)
#define ERR_BODY_MAX (64u << 10)
#define POOL_MAX 8

enum { ST_PENDING = 0, ST_ACTIVE, ST_DONE };

struct AwsClient {
    char *service;
    char *region;
    char *endpoint;      /* custom endpoint without trailing '/', or NULL */
    int path_style;
    int anonymous;
    AwsCredsCache *creds;
    int max_attempts, retry_base_ms, retry_cap_ms, connect_timeout_ms, timeout_ms, low_speed_s;
    int max_parallel, hedge_factor, hedge_min_ms;
    pthread_mutex_t mu; /* guards the fields below */
    double lat_ms;      /* EWMA time to first byte */
    double rate;        /* EWMA bytes per ms */
    AwsClientStats stats;
};

/* ---- process-wide counters ------------------------------------------------- */

/* Every client's requests, body bytes, retries and hedges since load
** (aws_http_global_stats). Rationale: clients are short-lived (one per SQL
** call or BzReadAt), so per-client stats cannot answer "what did this query
** cost"; relaxed atomics cost nothing next to a request. */
static _Atomic uint64_t g_requests, g_bytes, g_retries, g_hedges;

void aws_http_global_stats(AwsClientStats *out) {
    out->requests = atomic_load_explicit(&g_requests, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&g_bytes, memory_order_relaxed);
    out->retries = atomic_load_explicit(&g_retries, memory_order_relaxed);
    out->hedges = atomic_load_explicit(&g_hedges, memory_order_relaxed);
}

#define G_ADD(var, n) atomic_fetch_add_explicit(&(var), (uint64_t)(n), memory_order_relaxed)

/* ---- process-wide curl state ------------------------------------------------ */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_share_mu[CURL_LOCK_DATA_LAST];
static CURLSH *g_share;
static CURLM *g_pool[POOL_MAX];
static int g_npool;

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u) {
    (void)h;
    (void)a;
    (void)u;
    pthread_mutex_lock(&g_share_mu[d]);
}
static void share_unlock(CURL *h, curl_lock_data d, void *u) {
    (void)h;
    (void)u;
    pthread_mutex_unlock(&g_share_mu[d]);
}

/* Rationale: DNS and TLS sessions are shared process-wide (safe across
** threads with locks); connections are not (libcurl documents connection
** sharing across threads as unsafe), so each pooled multi handle keeps its own
** cache and a batch borrows one multi for its whole run. */
static void curl_global(void) {
    int i;
    if (aws_curl_load(NULL)) return; /* callers check curl_ready() */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&g_share_mu[i], NULL);
    g_share = curl_share_init();
    if (g_share) {
        curl_share_setopt(g_share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(g_share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
}

/* Load libcurl and its process-wide state once; BZ_OK or why not. */
static int curl_ready(BzErr *err) {
    pthread_once(&g_once, curl_global);
    return aws_curl_load(err);
}

static CURLM *pool_take(void) {
    CURLM *m = NULL;
    pthread_once(&g_once, curl_global);
    pthread_mutex_lock(&g_pool_mu);
    if (g_npool) m = g_pool[--g_npool];
    pthread_mutex_unlock(&g_pool_mu);
    if (!m) {
        m = curl_multi_init();
        if (m) curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 32L);
    }
    return m;
}

static void pool_give(CURLM *m) {
    if (!m) return;
    pthread_mutex_lock(&g_pool_mu);
    if (g_npool < POOL_MAX) {
        g_pool[g_npool++] = m;
        m = NULL;
    }
    pthread_mutex_unlock(&g_pool_mu);
    if (m) curl_multi_cleanup(m);
}

/* ---- small helpers ------------------------------------------------------------ */

static int env_int(const char *name, int dflt) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

static uint64_t rnd64(void) {
    static __thread uint64_t s;
    if (!s) s = bz_now_ns() ^ (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static void copy_trim(char *dst, size_t cap, const char *src, size_t n) {
    while (n && (*src == ' ' || *src == '\t')) src++, n--;
    while (n && (src[n - 1] == ' ' || src[n - 1] == '\r' || src[n - 1] == '\n' || src[n - 1] == '\t'))
        n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* ---- error bodies --------------------------------------------------------------- */

typedef struct ErrXml {
    int depth;
    char *cur; /* target buffer for the current element */
    size_t ncur;
    char *code, *msg, *rid, *region;
    size_t ncode, nmsg, nrid, nregion;
    int found;
} ErrXml;

static void ex_start(void *u, const XML_Char *name, const XML_Char **atts) {
    ErrXml *x = u;
    (void)atts;
    x->depth++;
    x->cur = NULL;
    if (x->depth == 1 && !strcmp(name, "Error")) x->found = 1;
    if (x->depth != 2 || !x->found) return;
    if (!strcmp(name, "Code")) x->cur = x->code, x->ncur = x->ncode;
    else if (!strcmp(name, "Message")) x->cur = x->msg, x->ncur = x->nmsg;
    else if (!strcmp(name, "RequestId")) x->cur = x->rid, x->ncur = x->nrid;
    else if (!strcmp(name, "Region")) x->cur = x->region, x->ncur = x->nregion;
    if (x->cur) x->cur[0] = 0;
}
static void ex_end(void *u, const XML_Char *name) {
    ErrXml *x = u;
    (void)name;
    x->depth--;
    x->cur = NULL;
}
static void ex_text(void *u, const XML_Char *s, int len) {
    ErrXml *x = u;
    size_t have;
    if (!x->cur) return;
    have = strlen(x->cur);
    if (have + (size_t)len >= x->ncur) len = (int)(x->ncur - have - 1);
    if (len <= 0) return;
    memcpy(x->cur + have, s, (size_t)len);
    x->cur[have + (size_t)len] = 0;
}

int aws_parse_error_body(const char *body, size_t n, char *code, size_t ncode, char *msg,
                         size_t nmsg, char *rid, size_t nrid, char *region, size_t nregion) {
    size_t i = 0;
    while (i < n && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
    if (i < n && body[i] == '<') {
        ErrXml x = {0, NULL, 0, code, msg, rid, region, ncode, nmsg, nrid, nregion, 0};
        XML_Parser p = XML_ParserCreate(NULL);
        if (!p) return 0;
        XML_SetUserData(p, &x);
        XML_SetElementHandler(p, ex_start, ex_end);
        XML_SetCharacterDataHandler(p, ex_text);
        XML_Parse(p, body, (int)BZ_MIN(n, (size_t)ERR_BODY_MAX), 1);
        XML_ParserFree(p);
        return x.found && code[0];
    }
    if (i < n && body[i] == '{') {
        cJSON *j = cJSON_ParseWithLength(body, n);
        const cJSON *t, *m;
        int found = 0;
        if (!j) return 0;
        t = cJSON_GetObjectItemCaseSensitive(j, "__type");
        if (!cJSON_IsString(t)) t = cJSON_GetObjectItemCaseSensitive(j, "code");
        if (!cJSON_IsString(t)) t = cJSON_GetObjectItemCaseSensitive(j, "Type");
        m = cJSON_GetObjectItemCaseSensitive(j, "message");
        if (!cJSON_IsString(m)) m = cJSON_GetObjectItemCaseSensitive(j, "Message");
        if (cJSON_IsString(t)) {
            /* "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" */
            const char *h = strrchr(t->valuestring, '#');
            snprintf(code, ncode, "%s", h ? h + 1 : t->valuestring);
            found = 1;
        }
        if (cJSON_IsString(m)) snprintf(msg, nmsg, "%s", m->valuestring);
        cJSON_Delete(j);
        return found;
    }
    return 0;
}

/* ---- client --------------------------------------------------------------------- */

int aws_client_new(const AwsClientOptions *o, AwsClient **out, BzErr *err) {
    AwsClient *cl;
    int rc;
    *out = NULL;
    if (!o || !o->service) return bz_err(err, BZ_MISUSE, "aws: service name is required");
    if ((rc = curl_ready(err)) != BZ_OK) return bz_err_prefix(err, "aws %s", o->service);
    cl = bz_calloc(1, sizeof *cl);
    if (!cl) return bz_err(err, BZ_NOMEM, "aws: out of memory");
    pthread_mutex_init(&cl->mu, NULL);
    cl->service = bz_strdup(o->service);
    cl->region = o->region && *o->region ? bz_strdup(o->region) : aws_region_resolve(o->profile);
    cl->endpoint = aws_endpoint_resolve(o->service, o->endpoint);
    if (!cl->service || !cl->region) {
        aws_client_free(cl);
        return bz_err(err, BZ_NOMEM, "aws: out of memory");
    }
    if (cl->endpoint) {
        size_t n = strlen(cl->endpoint);
        while (n && cl->endpoint[n - 1] == '/') cl->endpoint[--n] = 0;
        if (strncmp(cl->endpoint, "http://", 7) && strncmp(cl->endpoint, "https://", 8)) {
            rc = bz_err(err, BZ_MISUSE, "aws: endpoint \"%s\" must start with http:// or https://",
                        cl->endpoint);
            aws_client_free(cl);
            return rc;
        }
    }
    cl->path_style = o->path_style == 1 ? 1 : o->path_style == 2 ? 0 : cl->endpoint != NULL;
    cl->anonymous = o->anonymous;
    cl->max_attempts = o->max_attempts > 0 ? o->max_attempts : env_int("BZ_AWS_MAX_ATTEMPTS", 5);
    if (cl->max_attempts < 1) cl->max_attempts = 1;
    cl->retry_base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : env_int("BZ_AWS_RETRY_BASE_MS", 100);
    cl->retry_cap_ms = o->retry_cap_ms > 0 ? o->retry_cap_ms : 5000;
    cl->connect_timeout_ms =
        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : env_int("BZ_AWS_CONNECT_TIMEOUT_MS", 3000);
    cl->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : env_int("BZ_AWS_TIMEOUT_MS", 60000);
    cl->low_speed_s = o->low_speed_time_s > 0 ? o->low_speed_time_s : env_int("BZ_AWS_LOW_SPEED_TIME", 10);
    cl->max_parallel = o->max_parallel > 0 ? o->max_parallel : 16;
    cl->hedge_factor = o->hedge_factor > 0 ? o->hedge_factor : 4;
    cl->hedge_min_ms = o->hedge_min_ms > 0 ? o->hedge_min_ms : env_int("BZ_AWS_HEDGE_MIN_MS", 2000);
    cl->lat_ms = 50;
    cl->rate = 10000; /* 10 MB/s until measured */
    if (!cl->anonymous && (rc = aws_creds_cache_new(o->profile, &cl->creds, err)) != BZ_OK) {
        aws_client_free(cl);
        return rc;
    }
    *out = cl;
    return BZ_OK;
}

void aws_client_free(AwsClient *cl) {
    if (!cl) return;
    aws_creds_cache_free(cl->creds);
    bz_free(cl->service);
    bz_free(cl->region);
    bz_free(cl->endpoint);
    pthread_mutex_destroy(&cl->mu);
    bz_free(cl);
}

const char *aws_client_region(const AwsClient *cl) { return cl->region; }

void aws_client_stats(AwsClient *cl, AwsClientStats *out) {
    pthread_mutex_lock(&cl->mu);
    *out = cl->stats;
    pthread_mutex_unlock(&cl->mu);
}

/* Virtual-hosted style needs a DNS-compatible bucket name without dots (dots
** break the wildcard TLS certificate). */
static int vhost_ok(const char *b) {
    const char *p;
    size_t n = strlen(b);
    if (n < 3 || n > 63) return 0;
    for (p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) return 0;
    return b[0] != '-' && b[n - 1] != '-';
}

/* scheme://host[:port] and the Host header for a request; path prefix for
** path-style addressing. All three caller-freed. */
static int build_target(const AwsClient *cl, const char *bucket, const char *region, char **base,
                        char **host, char **prefix) {
    *base = *host = *prefix = NULL;
    if (cl->endpoint) {
        const char *h = strstr(cl->endpoint, "://") + 3;
        const char *slash = strchr(h, '/');
        size_t nh = slash ? (size_t)(slash - h) : strlen(h);
        const char *scheme_end = h;
        if (bucket && !cl->path_style) {
            *base = bz_mprintf("%.*s%s.%.*s", (int)(scheme_end - cl->endpoint), cl->endpoint, bucket,
                               (int)nh, h);
            *host = bz_mprintf("%s.%.*s", bucket, (int)nh, h);
            *prefix = bz_mprintf("%s", slash ? slash : "");
        } else {
            *base = bz_mprintf("%.*s", (int)(h - cl->endpoint + nh), cl->endpoint);
            *host = bz_mprintf("%.*s", (int)nh, h);
            *prefix = bz_mprintf("%s%s%s", slash ? slash : "", bucket ? "/" : "", bucket ? bucket : "");
        }
    } else if (!strcmp(cl->service, "s3") && bucket && !cl->path_style && vhost_ok(bucket)) {
        *host = bz_mprintf("%s.s3.%s.amazonaws.com", bucket, region);
        *prefix = bz_strdup("");
    } else {
        *host = bz_mprintf("%s.%s.amazonaws.com", cl->service, region);
        *prefix = bz_mprintf("%s%s", bucket ? "/" : "", bucket ? bucket : "");
    }
    if (!*base && *host) *base = bz_mprintf("https://%s", *host);
    if (!*base || !*host || !*prefix) {
        bz_free(*base);
        bz_free(*host);
        bz_free(*prefix);
        return BZ_NOMEM;
    }
    return BZ_OK;
}

char *aws_client_base_url(const AwsClient *cl, const char *bucket) {
    char *base, *host, *prefix, *r;
    if (build_target(cl, bucket, cl->region, &base, &host, &prefix)) return NULL;
    r = bz_mprintf("%s%s", base, prefix);
    bz_free(base);
    bz_free(host);
    bz_free(prefix);
    return r;
}

/* ---- transfers ------------------------------------------------------------------- */

typedef struct Transfer {
    AwsCall *call;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    uint64_t off;     /* first object byte this transfer asked for (range calls) */
    uint64_t want;    /* bytes asked for (range calls) */
    uint64_t got;     /* body bytes accepted */
    uint64_t skip;    /* bytes to drop when the server ignored Range (200) */
    uint64_t t_start; /* ms */
    uint64_t t_first; /* ms of first body byte, 0 before */
    long status;
    int is_hedge;
    int overflow;     /* body exceeded its cap */
    BzBuf body;       /* body when not writing to dst, and error bodies */
    char etag[160], last_modified[64], request_id[128], bucket_region[64], content_range[96];
    char error_type[64]; /* x-amzn-ErrorType (Lambda): the error code, ahead of the body's */
    uint64_t content_length;
    struct Transfer *next;
} Transfer;

static void transfer_free(Transfer *t) {
    curl_off_t dl = 0;
    if (!t) return;
    /* body bytes that came over the wire, kept or not (cancelled hedges, bodies of
    ** servers that ignored Range) */
    if (t->easy && curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &dl) == CURLE_OK && dl > 0)
        G_ADD(g_bytes, dl);
    if (t->easy) curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->hdrs);
    bz_free(t->url);
    bz_buf_free(&t->body);
    bz_free(t);
}

static size_t on_header(char *p, size_t size, size_t nitems, void *u) {
    Transfer *t = u;
    size_t n = size * nitems;
    const char *colon = memchr(p, ':', n);
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
        /* a new response (after 100-continue or a redirect): reset */
        t->etag[0] = t->last_modified[0] = t->request_id[0] = t->bucket_region[0] = 0;
        t->content_range[0] = t->error_type[0] = 0;
        t->content_length = 0;
        return n;
    }
    if (!colon) return n;
#define HDR(name, dst)                                                                           \
    if ((size_t)(colon - p) == sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1))     \
        copy_trim(dst, sizeof dst, colon + 1, n - (size_t)(colon - p) - 1);
    HDR("etag", t->etag)
    HDR("last-modified", t->last_modified)
    HDR("x-amz-request-id", t->request_id)
    HDR("x-amzn-requestid", t->request_id)
    HDR("x-amz-bucket-region", t->bucket_region)
    HDR("content-range", t->content_range)
    HDR("x-amzn-errortype", t->error_type)
#undef HDR
    if ((size_t)(colon - p) == 14 && !strncasecmp(p, "content-length", 14)) {
        char tmp[32];
        copy_trim(tmp, sizeof tmp, colon + 1, n - 15);
        t->content_length = strtoull(tmp, NULL, 10);
    }
    return n;
}

/* Size the body buffer of a large answer once, from Content-Length, and ask
** for transparent huge pages on it. Rationale (performance): receiving a
** large object is bound by first-touch page faults, not by the copy (on the
** benchmark VM 197 MB of fresh 4 KiB pages cost ~1 s, the copy itself 20 ms);
** one allocation instead of doubling, and 2 MiB pages where the kernel allows
** them (transparent_hugepage=madvise), cut that by up to 512x. Failure of
** either is harmless: the buffer grows as usual. */
static void body_reserve_big(BzBuf *b, uint64_t n) {
    uintptr_t lo, hi;
    if (bz_buf_reserve(b, (size_t)n) != BZ_OK) {
        b->rc = BZ_OK; /* let bz_buf_append report it */
        return;
    }
#ifdef MADV_HUGEPAGE
    lo = ((uintptr_t)b->data + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    hi = ((uintptr_t)b->data + b->cap) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)lo;
    (void)hi;
#endif
}

static size_t on_body(char *p, size_t size, size_t nitems, void *u) {
    Transfer *t = u;
    AwsCall *c = t->call;
    size_t n = size * nitems, take;
    if (!t->t_first) t->t_first = bz_now_ms();
    if (!t->status) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    if (c->dst && t->status / 100 == 2) {
        if (t->status == 200 && c->has_range && t->skip) {
            size_t s = (size_t)BZ_MIN((uint64_t)n, t->skip);
            t->skip -= s;
            p += s;
            n -= s;
        }
        take = (size_t)BZ_MIN((uint64_t)n, t->want - t->got);
        memcpy((char *)c->dst + (t->off - c->range_off) + t->got, p, take);
        t->got += take;
        if (take < n) {
            if (t->status == 200) return 0; /* server ignored Range: we have what we need */
            t->overflow = 1;
            return 0;
        }
        return size * nitems;
    }
    if (t->body.cap == 0 && t->status / 100 == 2 && t->content_length >= BIG_BODY &&
        t->content_length <= t->body.max)
        body_reserve_big(&t->body, t->content_length);
    bz_buf_append(&t->body, p, n);
    if (t->body.rc) {
        t->overflow = 1;
        return 0;
    }
    t->got += n;
    return n;
}

/* Pick the region for this call (a redirect may have changed it). */
static const char *call_region(const AwsClient *cl, const AwsCall *c) {
    return c->region_[0] ? c->region_ : cl->region;
}

static Transfer *transfer_new(AwsClient *cl, AwsCall *c, int is_hedge, BzErr *err) {
    Transfer *t = bz_calloc(1, sizeof *t);
    char *base = NULL, *host = NULL, *prefix = NULL, *path = NULL, *tmp = NULL;
    AwsHeader *h = NULL;
    AwsCreds cr = {0};
    AwsSigned s;
    AwsSigReq r;
    char range[80];
    int nh = 0, i, rc;
    memset(&s, 0, sizeof s);
    if (!t) {
        bz_err(err, BZ_NOMEM, "%s: out of memory", c->label);
        return NULL;
    }
    t->call = c;
    t->is_hedge = is_hedge;
    bz_buf_init(&t->body, c->dst ? ERR_BODY_MAX : (c->max_body ? c->max_body : DEFAULT_MAX_BODY));
    if (build_target(cl, c->bucket, call_region(cl, c), &base, &host, &prefix)) goto nomem;
    path = bz_mprintf("%s%s", prefix, c->path ? c->path : "/");
    h = bz_calloc((size_t)c->n_headers + 2, sizeof *h);
    if (!path || !h) goto nomem;
    for (i = 0; i < c->n_headers; i++) h[nh++] = c->headers[i];
    if (c->has_range) {
        t->off = c->range_off + c->progress_;
        t->want = c->range_len - c->progress_;
        snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)t->off,
                 (unsigned long long)(t->off + t->want - 1));
        h[nh++] = (AwsHeader){"Range", range};
        t->skip = t->off;
    }
    memset(&r, 0, sizeof r);
    r.method = c->method;
    r.host = host;
    r.path = path;
    r.params = c->params;
    r.n_params = c->n_params;
    r.headers = h;
    r.n_headers = nh;
    r.payload = c->body;
    r.n_payload = c->n_body;
    r.payload_hash = c->unsigned_payload ? AWS_UNSIGNED_PAYLOAD : NULL;
    r.service = cl->service;
    r.region = call_region(cl, c);
    if (cl->anonymous) {
        AwsCreds anon = {"anonymous", "anonymous", NULL, 0};
        rc = aws_sigv4_sign(&r, &anon, &s, err);
    } else {
        rc = aws_creds_cache_get(cl->creds, &cr, err);
        if (rc) {
            bz_err_prefix(err, "%s", c->label);
            goto fail;
        }
        rc = aws_sigv4_sign(&r, &cr, &s, err);
    }
    if (rc) goto fail;
    t->url = bz_mprintf("%s%s%s%s", base, s.url_path, s.query[0] ? "?" : "", s.query);
    if (!t->url) goto nomem;
    for (i = 0; i < nh; i++) {
        tmp = bz_mprintf("%s: %s", h[i].name, h[i].value ? h[i].value : "");
        if (!tmp) goto nomem;
        t->hdrs = curl_slist_append(t->hdrs, tmp);
        bz_free(tmp);
    }
    tmp = NULL;
    if (!cl->anonymous) {
        tmp = bz_mprintf("X-Amz-Date: %s", s.amz_date);
        t->hdrs = curl_slist_append(t->hdrs, tmp);
        bz_free(tmp);
        if (s.send_content_sha256) {
            tmp = bz_mprintf("X-Amz-Content-Sha256: %s", s.content_sha256);
            t->hdrs = curl_slist_append(t->hdrs, tmp);
            bz_free(tmp);
        }
        if (cr.session_token) {
            tmp = bz_mprintf("X-Amz-Security-Token: %s", cr.session_token);
            t->hdrs = curl_slist_append(t->hdrs, tmp);
            bz_free(tmp);
        }
        tmp = bz_mprintf("Authorization: %s", s.authorization);
        t->hdrs = curl_slist_append(t->hdrs, tmp);
        bz_free(tmp);
    }
    t->hdrs = curl_slist_append(t->hdrs, "Expect:");
    /* a default Content-Type unless the caller set (and signed) its own, e.g.
    ** DynamoDB's application/x-amz-json-1.0: two would break the signature */
    {
        int has_ct = 0;
        for (i = 0; i < c->n_headers; i++)
            if (!strcasecmp(c->headers[i].name, "Content-Type")) has_ct = 1;
        if (!has_ct && (c->body || !strcmp(c->method, "PUT") || !strcmp(c->method, "POST")))
            t->hdrs = curl_slist_append(t->hdrs, "Content-Type: application/octet-stream");
    }
    t->easy = curl_easy_init();
    if (!t->easy || !t->hdrs) goto nomem;
    curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)cl->connect_timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)cl->timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME, (long)cl->low_speed_s);
    curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    if (aws_curl_ca_file()) curl_easy_setopt(t->easy, CURLOPT_CAINFO, aws_curl_ca_file());
    if (!strcmp(c->method, "GET")) curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, RECV_BUFFER);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->easy, CURLOPT_PATH_AS_IS, 1L); /* S3 keys may hold "/./" and "/../" */
    if (g_share) curl_easy_setopt(t->easy, CURLOPT_SHARE, g_share);
    if (!strcmp(c->method, "HEAD")) {
        curl_easy_setopt(t->easy, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(c->method, "GET")) {
        curl_easy_setopt(t->easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, c->method);
        if (c->body || !strcmp(c->method, "PUT") || !strcmp(c->method, "POST")) {
            curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->n_body);
            curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, c->body ? (const char *)c->body : "");
        }
    }
    t->t_start = bz_now_ms();
    aws_creds_clear(&cr);
    aws_signed_free(&s);
    bz_free(base);
    bz_free(host);
    bz_free(prefix);
    bz_free(path);
    bz_free(h);
    return t;
nomem:
    bz_err(err, BZ_NOMEM, "%s: out of memory", c->label);
fail:
    aws_creds_clear(&cr);
    aws_signed_free(&s);
    bz_free(base);
    bz_free(host);
    bz_free(prefix);
    bz_free(path);
    bz_free(h);
    transfer_free(t);
    return NULL;
}

/* ---- outcome classification -------------------------------------------------------- */

enum { OUT_OK, OUT_RETRY, OUT_REDIRECT, OUT_REFRESH, OUT_FAIL };

static int status_code(long st, const char *code) {
    if (st == 404) return BZ_NOTFOUND;
    if (st == 401 || st == 403) return BZ_AUTH;
    if (!strcmp(code, "ExpiredToken") || !strcmp(code, "ExpiredTokenException") ||
        !strcmp(code, "InvalidAccessKeyId") || !strcmp(code, "UnrecognizedClientException"))
        return BZ_AUTH;
    if (st == 416) return BZ_MISUSE;
    if (st >= 500 || st == 429) return BZ_IO;
    return BZ_ERROR;
}

/* Decide what to do with a finished transfer; fills the call's error fields
** for failures. */
static int classify(AwsClient *cl, Transfer *t, CURLcode cc, BzErr *e, char *code, size_t ncode) {
    AwsCall *c = t->call;
    char msg[256] = "", rid[128] = "", region[64] = "";
    code[0] = 0;
    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && c->dst && t->got == t->want && !t->overflow)) {
        if (t->overflow) {
            bz_err(e, BZ_LIMIT, "%s: response body exceeds the %zu-byte limit", c->label,
                   t->body.max);
            return OUT_FAIL;
        }
        snprintf(code, ncode, "%s",
                 cc == CURLE_OPERATION_TIMEDOUT ? "RequestTimeout"
                 : cc == CURLE_COULDNT_CONNECT  ? "ConnectionRefused"
                 : cc == CURLE_PARTIAL_FILE     ? "IncompleteBody"
                 : cc == CURLE_COULDNT_RESOLVE_HOST ? "UnknownHost"
                                                    : "ConnectionError");
        bz_err(e, cc == CURLE_OPERATION_TIMEDOUT ? BZ_TIMEOUT : BZ_IO, "%s: %s: %s (endpoint %.*s)",
               c->label, code, curl_easy_strerror(cc), (int)strcspn(t->url, "?"), t->url);
        return OUT_RETRY;
    }
    if (t->status / 100 == 2) {
        if (c->dst && c->has_range && t->got < t->want) {
            snprintf(code, ncode, "IncompleteBody");
            bz_err(e, BZ_IO, "%s: IncompleteBody: got %llu of %llu bytes", c->label,
                   (unsigned long long)t->got, (unsigned long long)t->want);
            return OUT_RETRY;
        }
        if (!c->dst && t->content_length && strcmp(c->method, "HEAD") &&
            t->body.n < t->content_length) {
            snprintf(code, ncode, "IncompleteBody");
            bz_err(e, BZ_IO, "%s: IncompleteBody: got %zu of %llu bytes", c->label, t->body.n,
                   (unsigned long long)t->content_length);
            return OUT_RETRY;
        }
        return OUT_OK;
    }
    aws_parse_error_body(t->body.data ? t->body.data : "", t->body.n, code, ncode, msg, sizeof msg,
                         rid, sizeof rid, region, sizeof region);
    if (!rid[0]) snprintf(rid, sizeof rid, "%s", t->request_id);
    if (t->error_type[0]) /* "AccessDeniedException:http://internal.amazon.com/..." */
        snprintf(code, ncode, "%.*s", (int)strcspn(t->error_type, ":"), t->error_type);
    if (!code[0]) {
        /* HEAD answers have no body: name the status the way S3 does */
        snprintf(code, ncode, "%s",
                 t->status == 404   ? (c->path && strlen(c->path) > 1 ? "NoSuchKey" : "NoSuchBucket")
                 : t->status == 403 ? "AccessDenied"
                 : t->status == 301 ? "PermanentRedirect"
                 : t->status == 503 ? "ServiceUnavailable"
                 : t->status >= 500 ? "InternalError"
                                    : "HttpError");
    }
    if (!msg[0]) snprintf(msg, sizeof msg, "HTTP status %ld", t->status);
    bz_err(e, status_code(t->status, code), "%s: %s: %s (HTTP %ld%s%s)", c->label, code, msg,
           t->status, rid[0] ? ", request id " : "", rid);
    e->http_status = (int)t->status;
    if (!region[0]) snprintf(region, sizeof region, "%s", t->bucket_region);
    if ((t->status == 301 || t->status == 307 || !strcmp(code, "PermanentRedirect") ||
         !strcmp(code, "AuthorizationHeaderMalformed")) &&
        region[0] && strcmp(region, call_region(cl, c)) && !c->redirected_) {
        snprintf(c->region_, sizeof c->region_, "%s", region);
        return OUT_REDIRECT;
    }
    if ((!strcmp(code, "ExpiredToken") || !strcmp(code, "ExpiredTokenException") ||
         !strcmp(code, "RequestExpired")) && !c->refreshed_ && cl->creds)
        return OUT_REFRESH;
    if (t->status >= 500 || t->status == 429 || !strcmp(code, "SlowDown") ||
        !strcmp(code, "RequestTimeout") || !strcmp(code, "ThrottlingException") ||
        !strcmp(code, "ProvisionedThroughputExceededException") ||
        !strcmp(code, "RequestLimitExceeded") || !strcmp(code, "LimitExceededException"))
        return OUT_RETRY;
    return OUT_FAIL;
}

static void call_finish(AwsCall *c, Transfer *t, int rc, const BzErr *e, const char *code) {
    c->st_ = ST_DONE;
    c->rc = rc;
    if (rc) {
        c->err = *e;
        snprintf(c->err_code, sizeof c->err_code, "%s", code);
    }
    if (t) {
        c->status = t->status;
        memcpy(c->etag, t->etag, sizeof c->etag);
        memcpy(c->last_modified, t->last_modified, sizeof c->last_modified);
        memcpy(c->request_id, t->request_id, sizeof c->request_id);
        memcpy(c->bucket_region, t->bucket_region, sizeof c->bucket_region);
        memcpy(c->content_range, t->content_range, sizeof c->content_range);
        c->content_length = t->content_length;
        bz_buf_free(&c->body_out);
        c->body_out = t->body; /* hand over */
        bz_buf_init(&t->body, 1);
    }
}

void aws_call_free(AwsCall *c) {
    if (!c) return;
    bz_buf_free(&c->body_out);
    c->st_ = ST_PENDING;
    c->rc = 0;
    c->progress_ = 0;
    c->attempts = 0;
    c->redirected_ = c->refreshed_ = c->hedged_ = 0;
    c->region_[0] = 0;
}

static uint64_t backoff_ms(const AwsClient *cl, int attempt) {
    uint64_t cap = (uint64_t)cl->retry_base_ms << BZ_MIN(attempt, 20);
    if (cap > (uint64_t)cl->retry_cap_ms) cap = (uint64_t)cl->retry_cap_ms;
    return cap ? rnd64() % (cap + 1) : 0;
}

int aws_client_run(AwsClient *cl, AwsCall *calls, int n, BzErr *err) {
    CURLM *m = pool_take();
    Transfer *active = NULL;
    int i, ndone = 0, nactive = 0, rc = BZ_OK;
    if (!m) return bz_err(err, BZ_NOMEM, "aws: cannot create a curl multi handle");
    for (i = 0; i < n; i++) {
        AwsCall *c = &calls[i];
        c->st_ = ST_PENDING;
        c->ready_at_ = 0;
        c->progress_ = 0;
        c->active_ = 0;
        c->attempts = 0;
        c->rc = BZ_OK;
        c->redirected_ = c->refreshed_ = c->hedged_ = 0;
        c->region_[0] = 0;
        c->err_code[0] = 0;
        bz_err_clear(&c->err);
        if (!c->label) c->label = "aws";
        if (c->has_range && c->range_len == 0) {
            c->st_ = ST_DONE;
            ndone++;
        }
    }
    while (ndone < n) {
        uint64_t now = bz_now_ms(), next = now + 100;
        int running = 0, nq;
        CURLMsg *msg;
        /* start calls that are due */
        for (i = 0; i < n && nactive < cl->max_parallel; i++) {
            AwsCall *c = &calls[i];
            Transfer *t;
            BzErr e = {0};
            if (c->st_ != ST_PENDING) continue;
            if (c->ready_at_ > now) {
                next = BZ_MIN(next, c->ready_at_);
                continue;
            }
            t = transfer_new(cl, c, 0, &e);
            if (!t) {
                call_finish(c, NULL, e.code ? e.code : BZ_ERROR, &e, "");
                ndone++;
                continue;
            }
            c->attempts++;
            c->st_ = ST_ACTIVE;
            c->active_ = 1;
            t->next = active;
            active = t;
            nactive++;
            curl_multi_add_handle(m, t->easy);
            G_ADD(g_requests, 1);
        }
        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &nq)) != NULL) {
            Transfer *t = NULL, **pp;
            AwsCall *c;
            BzErr e = {0};
            char code[64];
            int out;
            if (msg->msg != CURLMSG_DONE) continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
            c = t->call;
            out = classify(cl, t, msg->data.result, &e, code, sizeof code);
            curl_multi_remove_handle(m, t->easy);
            for (pp = &active; *pp; pp = &(*pp)->next)
                if (*pp == t) {
                    *pp = t->next;
                    break;
                }
            nactive--;
            c->active_--;
            c->bytes += t->got;
            pthread_mutex_lock(&cl->mu);
            cl->stats.requests++;
            cl->stats.bytes += t->got;
            if (out == OUT_OK && t->t_first && t->got > 65536) {
                double lat = (double)(t->t_first - t->t_start);
                double dt = (double)(bz_now_ms() - t->t_first);
                cl->lat_ms = 0.8 * cl->lat_ms + 0.2 * lat;
                if (dt > 0) cl->rate = 0.8 * cl->rate + 0.2 * ((double)t->got / dt);
            }
            pthread_mutex_unlock(&cl->mu);
            if (c->st_ == ST_DONE) { /* a hedge partner already answered */
                transfer_free(t);
                continue;
            }
            if (c->dst && c->has_range && t->status / 100 == 2) {
                uint64_t p = t->off - c->range_off + t->got;
                if (p > c->progress_) c->progress_ = p;
            }
            if (out == OUT_OK) {
                Transfer *o, **q;
                call_finish(c, t, BZ_OK, &e, "");
                ndone++;
                /* cancel the other request of a hedged pair */
                for (q = &active; (o = *q) != NULL;) {
                    if (o->call == c) {
                        *q = o->next;
                        curl_multi_remove_handle(m, o->easy);
                        transfer_free(o);
                        nactive--;
                        c->active_--;
                    } else {
                        q = &o->next;
                    }
                }
            } else if (c->active_ > 0) {
                /* the hedge partner is still running: let it finish */
            } else if (out == OUT_REDIRECT) {
                c->redirected_ = 1;
                c->st_ = ST_PENDING;
                c->ready_at_ = 0;
                c->progress_ = 0;
            } else if (out == OUT_REFRESH) {
                c->refreshed_ = 1;
                aws_creds_cache_invalidate(cl->creds);
                c->st_ = ST_PENDING;
                c->ready_at_ = 0;
            } else if (out == OUT_RETRY && c->attempts < cl->max_attempts) {
                c->st_ = ST_PENDING;
                c->ready_at_ = bz_now_ms() + backoff_ms(cl, c->attempts);
                if (!c->dst) c->progress_ = 0;
                pthread_mutex_lock(&cl->mu);
                cl->stats.retries++;
                pthread_mutex_unlock(&cl->mu);
                G_ADD(g_retries, 1);
            } else {
                if (out == OUT_RETRY) {
                    size_t l = strlen(e.msg);
                    snprintf(e.msg + l, sizeof e.msg - l, " [gave up after %d attempts]",
                             c->attempts);
                }
                call_finish(c, t, e.code ? e.code : BZ_ERROR, &e, code);
                ndone++;
            }
            transfer_free(t);
        }
        /* hedge slow range reads */
        if (cl->hedge_factor > 0) {
            Transfer *t;
            uint64_t nowh = bz_now_ms();
            double lat, rate;
            pthread_mutex_lock(&cl->mu);
            lat = cl->lat_ms;
            rate = cl->rate;
            pthread_mutex_unlock(&cl->mu);
            for (t = active; t; t = t->next) {
                AwsCall *c = t->call;
                uint64_t expect, limit;
                Transfer *h;
                BzErr e = {0};
                if (!c->hedge || c->hedged_ || c->active_ != 1 || t->is_hedge || c->st_ != ST_ACTIVE)
                    continue;
                expect = (uint64_t)(lat + (double)t->want / (rate > 1 ? rate : 1));
                limit = BZ_MAX((uint64_t)cl->hedge_min_ms, expect * (uint64_t)cl->hedge_factor);
                if (nowh - t->t_start < limit) continue;
                if (c->dst) {
                    uint64_t p = t->off - c->range_off + t->got;
                    if (p > c->progress_) c->progress_ = p;
                }
                h = transfer_new(cl, c, 1, &e);
                if (!h) continue;
                c->hedged_ = 1;
                c->active_++;
                c->attempts++;
                h->next = active->next;
                active->next = h; /* insert behind the head: the loop need not see it */
                nactive++;
                curl_multi_add_handle(m, h->easy);
                G_ADD(g_requests, 1);
                G_ADD(g_hedges, 1);
                pthread_mutex_lock(&cl->mu);
                cl->stats.hedges++;
                pthread_mutex_unlock(&cl->mu);
            }
        }
        if (ndone < n) {
            uint64_t now2 = bz_now_ms();
            int wait = next > now2 ? (int)BZ_MIN(next - now2, 100u) : 0;
            if (nactive) curl_multi_poll(m, NULL, 0, wait ? wait : 1, NULL);
            else if (wait) {
                struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
    }
    while (active) {
        Transfer *t = active;
        active = t->next;
        curl_multi_remove_handle(m, t->easy);
        transfer_free(t);
    }
    pool_give(m);
    for (i = 0; i < n; i++) {
        if (calls[i].rc) {
            if (err) *err = calls[i].err;
            rc = calls[i].rc;
            break;
        }
    }
    return rc;
}

/* ---- plain requests ----------------------------------------------------------------- */

static size_t simple_body(char *p, size_t size, size_t nitems, void *u) {
    BzBuf *b = u;
    bz_buf_append(b, p, size * nitems);
    return b->rc ? 0 : size * nitems;
}

int aws_http_simple(const char *method, const char *url, const char *const *headers,
                    int timeout_ms, long *status, BzBuf *body, BzErr *err) {
    CURL *e;
    struct curl_slist *h = NULL;
    CURLcode cc;
    int i;
    if (curl_ready(err)) return bz_err_prefix(err, "%s", url);
    e = curl_easy_init();
    if (!e) return bz_err(err, BZ_NOMEM, "%s: cannot create a curl handle", url);
    for (i = 0; headers && headers[i]; i++) h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, simple_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (aws_curl_ca_file()) curl_easy_setopt(e, CURLOPT_CAINFO, aws_curl_ca_file());
    if (strcmp(method, "GET")) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "PUT")) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (body->max > (1u << 20)) body->max = 1u << 20;
    cc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    if (cc != CURLE_OK)
        return bz_err(err, cc == CURLE_OPERATION_TIMEDOUT ? BZ_TIMEOUT : BZ_IO, "%s: %s", url,
                      curl_easy_strerror(cc));
    return BZ_OK;
}
