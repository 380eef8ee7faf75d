/*
** aws_config.c: the credentials chain, region and endpoint. See aws_config.h.
**
** Spec: AWS SDKs and Tools Reference Guide, "Shared config and credentials
** files", "Container credential provider", "IMDS credential provider",
** "Service-specific endpoints" (AWS_ENDPOINT_URL_<SERVICE>).
**
** Usage: see aws_config.h.
*/
#include "aws/aws_config.h"
#include "aws/aws_http.h"

#include <cJSON.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REFRESH_WINDOW_S 300 /* refresh credentials expiring within 5 minutes */
#define IMDS_TIMEOUT_MS 1000
#define CONTAINER_TIMEOUT_MS 2000

void aws_creds_clear(AwsCreds *c) {
    if (!c) return;
    if (c->secret_access_key) OPENSSL_cleanse(c->secret_access_key, strlen(c->secret_access_key));
    bz_free(c->access_key_id);
    bz_free(c->secret_access_key);
    bz_free(c->session_token);
    memset(c, 0, sizeof *c);
}

int aws_creds_copy(AwsCreds *dst, const AwsCreds *src) {
    memset(dst, 0, sizeof *dst);
    dst->access_key_id = bz_strdup(src->access_key_id ? src->access_key_id : "");
    dst->secret_access_key = bz_strdup(src->secret_access_key ? src->secret_access_key : "");
    dst->session_token = src->session_token ? bz_strdup(src->session_token) : NULL;
    dst->expires_at = src->expires_at;
    if (!dst->access_key_id || !dst->secret_access_key || (src->session_token && !dst->session_token)) {
        aws_creds_clear(dst);
        return BZ_NOMEM;
    }
    return BZ_OK;
}

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* ---- shared files --------------------------------------------------------- */

static char *trim(char *s) {
    char *e;
    while (*s == ' ' || *s == '\t') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = 0;
    return s;
}

char *aws_ini_get(const char *path, const char *section, const char *key) {
    FILE *f = fopen(path, "r");
    char line[4096], *val = NULL;
    int in = 0;
    if (!f) return NULL;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line), *eq;
        if (*s == '#' || *s == ';' || !*s) continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e) *e = 0;
            in = !strcmp(trim(s + 1), section);
            continue;
        }
        if (!in || !(eq = strchr(s, '='))) continue;
        *eq = 0;
        if (!strcmp(trim(s), key)) {
            bz_free(val);
            val = bz_strdup(trim(eq + 1));
        }
    }
    fclose(f);
    return val;
}

static char *home_file(const char *envname, const char *rel) {
    const char *p = env(envname), *home;
    if (p) return bz_strdup(p);
    home = env("HOME");
    return home ? bz_mprintf("%s/%s", home, rel) : NULL;
}

static const char *profile_name(const char *profile) {
    if (profile && *profile) return profile;
    if (env("AWS_PROFILE")) return env("AWS_PROFILE");
    if (env("AWS_DEFAULT_PROFILE")) return env("AWS_DEFAULT_PROFILE");
    return "default";
}

/* Look key up for a profile: credentials file [name], then config file
** [profile name] (or [default]). Caller frees. */
static char *profile_get(const char *profile, const char *key, int creds_file_first) {
    const char *name = profile_name(profile);
    char *cf = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    char *kf = home_file("AWS_CONFIG_FILE", ".aws/config");
    char *sec = !strcmp(name, "default") ? bz_strdup("default") : bz_mprintf("profile %s", name);
    char *v = NULL;
    if (creds_file_first && cf) v = aws_ini_get(cf, name, key);
    if (!v && kf && sec) v = aws_ini_get(kf, sec, key);
    bz_free(cf);
    bz_free(kf);
    bz_free(sec);
    return v;
}

char *aws_region_find(const char *profile) {
    if (env("AWS_REGION")) return bz_strdup(env("AWS_REGION"));
    if (env("AWS_DEFAULT_REGION")) return bz_strdup(env("AWS_DEFAULT_REGION"));
    return profile_get(profile, "region", 0);
}

char *aws_region_resolve(const char *profile) {
    char *r = aws_region_find(profile);
    return r ? r : bz_strdup("us-east-1");
}

char *aws_endpoint_resolve(const char *service, const char *explicit_url) {
    char name[64];
    size_t i;
    if (explicit_url && *explicit_url) return bz_strdup(explicit_url);
    snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", service);
    for (i = 17; name[i]; i++)
        name[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i] == '-' ? '_' : name[i]);
    if (env(name)) return bz_strdup(env(name));
    if (env("AWS_ENDPOINT_URL")) return bz_strdup(env("AWS_ENDPOINT_URL"));
    return NULL;
}

/* ---- remote providers ----------------------------------------------------- */

/* Parse {"AccessKeyId","SecretAccessKey","Token","Expiration"}; BZ_AUTH when
** fields are missing. `src` names the provider in errors; the body is never
** echoed (it holds the secret). */
static int parse_creds_json(const char *body, size_t n, const char *src, AwsCreds *out,
                            BzErr *err) {
    cJSON *j = cJSON_ParseWithLength(body, n);
    const cJSON *a, *s, *t, *x;
    int rc = BZ_OK;
    memset(out, 0, sizeof *out);
    if (!j) return bz_err(err, BZ_AUTH, "credentials from %s: reply is not JSON", src);
    a = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
    s = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
    t = cJSON_GetObjectItemCaseSensitive(j, "Token");
    x = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
    if (!cJSON_IsString(a) || !cJSON_IsString(s)) {
        rc = bz_err(err, BZ_AUTH, "credentials from %s: reply lacks AccessKeyId/SecretAccessKey", src);
    } else {
        AwsCreds tmp = {a->valuestring, s->valuestring, cJSON_IsString(t) ? t->valuestring : NULL, 0};
        if (cJSON_IsString(x)) {
            tmp.expires_at = aws_parse_iso8601(x->valuestring);
            if (tmp.expires_at < 0) tmp.expires_at = 0;
        }
        if (aws_creds_copy(out, &tmp)) rc = bz_err(err, BZ_NOMEM, "out of memory");
    }
    if (s && cJSON_IsString(s)) OPENSSL_cleanse(s->valuestring, strlen(s->valuestring));
    cJSON_Delete(j);
    return rc;
}

static int container_creds(AwsCreds *out, BzErr *err) {
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    char *url, *auth = NULL, *filetok = NULL;
    const char *hdrs[2] = {NULL, NULL};
    BzBuf body;
    long st = 0;
    int rc;
    url = rel ? bz_mprintf("http://169.254.170.2%s", rel) : bz_strdup(full);
    if (!url) return bz_err(err, BZ_NOMEM, "out of memory");
    if (tokfile) {
        FILE *f = fopen(tokfile, "r");
        char line[4096];
        if (!f) {
            rc = bz_err(err, BZ_AUTH, "container credentials: cannot read token file %s", tokfile);
            bz_free(url);
            return rc;
        }
        if (fgets(line, sizeof line, f)) filetok = bz_strdup(trim(line));
        fclose(f);
        tok = filetok;
    }
    if (tok) auth = bz_mprintf("Authorization: %s", tok);
    hdrs[0] = auth;
    bz_buf_init(&body, 1u << 20);
    rc = aws_http_simple("GET", url, hdrs, CONTAINER_TIMEOUT_MS, &st, &body, err);
    if (rc == BZ_OK && st != 200)
        rc = bz_err(err, BZ_AUTH, "container credentials from %s: HTTP %ld", url, st);
    if (rc == BZ_OK) rc = parse_creds_json(body.data ? body.data : "", body.n, url, out, err);
    else if (rc != BZ_AUTH) bz_err_prefix(err, "container credentials");
    if (body.data) OPENSSL_cleanse(body.data, body.n);
    bz_buf_free(&body);
    if (auth) OPENSSL_cleanse(auth, strlen(auth));
    bz_free(auth);
    bz_free(filetok);
    bz_free(url);
    if (rc && err) err->code = BZ_AUTH;
    return rc ? BZ_AUTH : BZ_OK;
}

static int imds_creds(AwsCreds *out, BzErr *err) {
    const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    char *base = bz_strdup(ep ? ep : "http://169.254.169.254"), *url = NULL, *tokh = NULL;
    char role[256];
    const char *hdrs[2] = {NULL, NULL};
    BzBuf body;
    long st = 0;
    int rc;
    size_t n;
    bz_buf_init(&body, 1u << 20);
    if (!base) return bz_err(err, BZ_NOMEM, "out of memory");
    n = strlen(base);
    while (n && base[n - 1] == '/') base[--n] = 0;
    /* IMDSv2: a session token first */
    url = bz_mprintf("%s/latest/api/token", base);
    hdrs[0] = "X-aws-ec2-metadata-token-ttl-seconds: 21600";
    rc = aws_http_simple("PUT", url, hdrs, IMDS_TIMEOUT_MS, &st, &body, err);
    if (rc == BZ_OK && st != 200) rc = bz_err(err, BZ_AUTH, "IMDS %s: HTTP %ld", url, st);
    if (rc) goto fail;
    bz_buf_appendz(&body, "");
    tokh = bz_mprintf("X-aws-ec2-metadata-token: %s", trim(body.data));
    hdrs[0] = tokh;
    bz_free(url);
    url = bz_mprintf("%s/latest/meta-data/iam/security-credentials/", base);
    bz_buf_reset(&body);
    rc = aws_http_simple("GET", url, hdrs, IMDS_TIMEOUT_MS, &st, &body, err);
    if (rc == BZ_OK && st != 200) rc = bz_err(err, BZ_AUTH, "IMDS %s: HTTP %ld (no instance role?)", url, st);
    if (rc) goto fail;
    bz_buf_appendz(&body, "");
    snprintf(role, sizeof role, "%s", trim(body.data));
    role[strcspn(role, "\n")] = 0;
    bz_free(url);
    url = bz_mprintf("%s/latest/meta-data/iam/security-credentials/%s", base, role);
    bz_buf_reset(&body);
    rc = aws_http_simple("GET", url, hdrs, IMDS_TIMEOUT_MS, &st, &body, err);
    if (rc == BZ_OK && st != 200) rc = bz_err(err, BZ_AUTH, "IMDS %s: HTTP %ld", url, st);
    if (rc == BZ_OK) rc = parse_creds_json(body.data ? body.data : "", body.n, "IMDS", out, err);
fail:
    if (body.data) OPENSSL_cleanse(body.data, body.n);
    bz_buf_free(&body);
    bz_free(tokh);
    bz_free(url);
    bz_free(base);
    if (rc && err) err->code = BZ_AUTH;
    return rc ? BZ_AUTH : BZ_OK;
}

/* Container and IMDS answers are cached process-wide (until 5 minutes before
** they expire) so that many short-lived clients do not hammer the endpoint. */
static pthread_mutex_t g_remote_mu = PTHREAD_MUTEX_INITIALIZER;
static AwsCreds g_remote;
static const char *g_remote_src;

void aws_creds_reset_remote_cache(void) {
    pthread_mutex_lock(&g_remote_mu);
    aws_creds_clear(&g_remote);
    g_remote_src = NULL;
    pthread_mutex_unlock(&g_remote_mu);
}

static int fresh(const AwsCreds *c) {
    return c->access_key_id && (!c->expires_at || c->expires_at - REFRESH_WINDOW_S > aws_now());
}

static int remote_creds(const char *which, AwsCreds *out, BzErr *err) {
    int rc = BZ_OK;
    pthread_mutex_lock(&g_remote_mu);
    if (!(g_remote_src && !strcmp(g_remote_src, which) && fresh(&g_remote))) {
        AwsCreds c;
        rc = !strcmp(which, "container") ? container_creds(&c, err) : imds_creds(&c, err);
        if (rc == BZ_OK) {
            aws_creds_clear(&g_remote);
            g_remote = c;
            g_remote_src = which;
        }
    }
    if (rc == BZ_OK && aws_creds_copy(out, &g_remote)) rc = bz_err(err, BZ_NOMEM, "out of memory");
    pthread_mutex_unlock(&g_remote_mu);
    return rc;
}

int aws_creds_resolve(const char *profile, AwsCreds *out, const char **source, BzErr *err) {
    const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
    const char *dis = env("AWS_EC2_METADATA_DISABLED");
    char *pa, *ps, *pt;
    memset(out, 0, sizeof *out);
    if (source) *source = NULL;
    if (ak && sk) {
        AwsCreds c = {(char *)ak, (char *)sk, (char *)env("AWS_SESSION_TOKEN"), 0};
        if (source) *source = "env";
        return aws_creds_copy(out, &c) ? bz_err(err, BZ_NOMEM, "out of memory") : BZ_OK;
    }
    pa = profile_get(profile, "aws_access_key_id", 1);
    ps = profile_get(profile, "aws_secret_access_key", 1);
    pt = profile_get(profile, "aws_session_token", 1);
    if (pa && ps) {
        AwsCreds c = {pa, ps, pt, 0};
        int rc = aws_creds_copy(out, &c);
        if (source) *source = "profile";
        bz_free(pa);
        OPENSSL_cleanse(ps, strlen(ps));
        bz_free(ps);
        bz_free(pt);
        return rc ? bz_err(err, BZ_NOMEM, "out of memory") : BZ_OK;
    }
    bz_free(pa);
    if (ps) OPENSSL_cleanse(ps, strlen(ps));
    bz_free(ps);
    bz_free(pt);
    if (profile && *profile && strcmp(profile, "default"))
        return bz_err(err, BZ_AUTH, "no credentials for profile \"%s\" in the shared AWS files",
                      profile);
    if (env("AWS_CONTAINER_CREDENTIALS_FULL_URI") || env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
        if (source) *source = "container";
        return remote_creds("container", out, err);
    }
    if (!(dis && !strcasecmp(dis, "true"))) {
        BzErr e2 = {0};
        if (remote_creds("imds", out, &e2) == BZ_OK) {
            if (source) *source = "imds";
            return BZ_OK;
        }
        return bz_err(err, BZ_AUTH,
                      "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, "
                      "or container/instance credentials (%s)",
                      e2.msg);
    }
    return bz_err(err, BZ_AUTH,
                  "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE with "
                  "~/.aws/credentials, or container credentials");
}

/* ---- cache ------------------------------------------------------------------ */

struct AwsCredsCache {
    pthread_mutex_t mu;
    char *profile;
    AwsCreds cur;
    const char *source;
};

int aws_creds_cache_new(const char *profile, AwsCredsCache **out, BzErr *err) {
    AwsCredsCache *cc = bz_calloc(1, sizeof *cc);
    *out = NULL;
    if (!cc) return bz_err(err, BZ_NOMEM, "out of memory");
    pthread_mutex_init(&cc->mu, NULL);
    if (profile && *profile && !(cc->profile = bz_strdup(profile))) {
        aws_creds_cache_free(cc);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    *out = cc;
    return BZ_OK;
}

int aws_creds_cache_get(AwsCredsCache *cc, AwsCreds *out, BzErr *err) {
    int rc = BZ_OK;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&cc->mu);
    if (!fresh(&cc->cur)) {
        AwsCreds c;
        const char *src = NULL;
        rc = aws_creds_resolve(cc->profile, &c, &src, err);
        if (rc == BZ_OK) {
            aws_creds_clear(&cc->cur);
            cc->cur = c;
            cc->source = src;
        } else if (cc->cur.access_key_id && cc->cur.expires_at > aws_now()) {
            rc = BZ_OK; /* refresh failed but the old set is still valid: keep using it */
            bz_err_clear(err);
        }
    }
    if (rc == BZ_OK && cc->cur.expires_at && cc->cur.expires_at <= aws_now())
        rc = bz_err(err, BZ_AUTH, "AWS credentials from %s expired %lld seconds ago",
                    cc->source ? cc->source : "provider",
                    (long long)(aws_now() - cc->cur.expires_at));
    if (rc == BZ_OK && aws_creds_copy(out, &cc->cur)) rc = bz_err(err, BZ_NOMEM, "out of memory");
    pthread_mutex_unlock(&cc->mu);
    return rc;
}

void aws_creds_cache_invalidate(AwsCredsCache *cc) {
    if (!cc) return;
    pthread_mutex_lock(&cc->mu);
    aws_creds_clear(&cc->cur);
    pthread_mutex_unlock(&cc->mu);
    aws_creds_reset_remote_cache();
}

void aws_creds_cache_free(AwsCredsCache *cc) {
    if (!cc) return;
    aws_creds_clear(&cc->cur);
    bz_free(cc->profile);
    pthread_mutex_destroy(&cc->mu);
    bz_free(cc);
}
