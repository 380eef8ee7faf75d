/*
** rq_url.c: parse `redis://[user:password@]host:port/db` URLs and print them
** back without the password, so error messages can name the server safely.
**
**     RqUrl u;
**     BzErr err = {0};
**     if (rq_url_parse(&u, "redis://app:s3cret@10.0.0.5:6380/2", &err) == BZ_OK)
**         puts(u.zRedacted); // redis://app:***@10.0.0.5:6380/2
**     rq_url_free(&u);
**
** Accepted: scheme redis:// or rediss:// (TLS is recognised here and refused
** by rq_conn_open), optional userinfo (`:password@` for a password alone,
** `user:password@` for an ACL user), host name, IPv4 or [IPv6] literal,
** optional :port (1..65535, default 6379), optional /db (0..15999, default
** 0). Userinfo may be percent-encoded. Anything else is BZ_MISUSE.
*/
#include "redis/rq.h"

#include <ctype.h>
#include <string.h>

void rq_url_free(RqUrl *u) {
    if (!u) return;
    bz_free(u->zUser);
    bz_free(u->zPassword);
    bz_free(u->zHost);
    bz_free(u->zRedacted);
    memset(u, 0, sizeof *u);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode z[0..n) into a new string (caller frees), NULL on a bad
** escape, an embedded NUL or OOM (*pbNomem tells which). */
static char *pct_decode(const char *z, size_t n, int *pbNomem) {
    char *out = bz_malloc(n + 1);
    size_t i, k = 0;
    *pbNomem = out == NULL;
    if (!out) return NULL;
    for (i = 0; i < n; i++) {
        if (z[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)z[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)z[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                bz_free(out);
                return NULL;
            }
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[k++] = z[i];
        }
    }
    out[k] = 0;
    return out;
}

/* Parse a decimal number in z[0..n) within [lo, hi]; returns 1 on success. */
static int parse_num(const char *z, size_t n, long lo, long hi, int *pOut) {
    long v = 0;
    size_t i;
    if (n == 0 || n > 6) return 0;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)z[i])) return 0;
        v = v * 10 + (z[i] - '0');
    }
    if (v < lo || v > hi) return 0;
    *pOut = (int)v;
    return 1;
}

int rq_url_parse(RqUrl *u, const char *zUrl, BzErr *err) {
    const char *p, *zAt, *zHostEnd, *zEnd;
    int nomem = 0;
    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (!zUrl || !*zUrl) return bz_err(err, BZ_MISUSE, "empty redis URL");
    if (strncmp(zUrl, "redis://", 8) == 0) {
        p = zUrl + 8;
    } else if (strncmp(zUrl, "rediss://", 9) == 0) {
        p = zUrl + 9;
        u->bTls = 1;
    } else {
        return bz_err(err, BZ_MISUSE, "malformed redis URL (expected redis://host:port/db)");
    }
    zEnd = p + strcspn(p, "/?#");
    /* Userinfo: everything before the last '@' of the authority. */
    zAt = NULL;
    for (const char *q = p; q < zEnd; q++)
        if (*q == '@') zAt = q;
    if (zAt) {
        const char *zColon = memchr(p, ':', (size_t)(zAt - p));
        if (zColon) {
            if (zColon > p) u->zUser = pct_decode(p, (size_t)(zColon - p), &nomem);
            if (nomem) goto oom;
            if (zColon > p && !u->zUser) goto bad_userinfo;
            u->zPassword = pct_decode(zColon + 1, (size_t)(zAt - zColon - 1), &nomem);
            if (!u->zPassword) goto bad_userinfo;
        } else {
            /* "redis://secret@host": a bare userinfo is a password (redis-cli does this). */
            u->zPassword = pct_decode(p, (size_t)(zAt - p), &nomem);
            if (!u->zPassword) goto bad_userinfo;
        }
        p = zAt + 1;
    }
    /* Host. */
    if (*p == '[') {
        zHostEnd = memchr(p, ']', (size_t)(zEnd - p));
        if (!zHostEnd || zHostEnd == p + 1) goto bad_host;
        u->zHost = bz_strndup(p + 1, (size_t)(zHostEnd - p - 1));
        p = zHostEnd + 1;
    } else {
        zHostEnd = p;
        while (zHostEnd < zEnd && *zHostEnd != ':')
            zHostEnd++;
        if (zHostEnd == p) goto bad_host;
        for (const char *q = p; q < zHostEnd; q++)
            if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != '_') goto bad_host;
        u->zHost = bz_strndup(p, (size_t)(zHostEnd - p));
        p = zHostEnd;
    }
    if (!u->zHost) goto oom;
    if (p < zEnd) {
        if (*p != ':' || !parse_num(p + 1, (size_t)(zEnd - p - 1), 1, 65535, &u->port)) {
            bz_err(err, BZ_MISUSE, "malformed redis URL: bad port");
            goto fail;
        }
    }
    p = zEnd;
    if (*p == '/') {
        size_t n = strcspn(p + 1, "?#");
        if (n > 0 && !parse_num(p + 1, n, 0, 15999, &u->db)) {
            bz_err(err, BZ_MISUSE, "malformed redis URL: bad database number");
            goto fail;
        }
        p += 1 + n;
    }
    if (*p) {
        bz_err(err, BZ_MISUSE, "malformed redis URL: unexpected \"%.20s\"", p);
        goto fail;
    }
    {
        int v6 = strchr(u->zHost, ':') != NULL;
        u->zRedacted = bz_mprintf("%s://%s%s%s%s%s%s:%d/%d", u->bTls ? "rediss" : "redis",
                                  u->zUser ? u->zUser : "", u->zPassword ? ":***" : "",
                                  (u->zUser || u->zPassword) ? "@" : "", v6 ? "[" : "", u->zHost,
                                  v6 ? "]" : "", u->port, u->db);
        if (!u->zRedacted) goto oom;
    }
    return BZ_OK;
bad_userinfo:
    if (nomem) goto oom;
    bz_err(err, BZ_MISUSE, "malformed redis URL: bad percent-encoding in user or password");
    goto fail;
bad_host:
    bz_err(err, BZ_MISUSE, "malformed redis URL: bad host");
    goto fail;
oom:
    bz_err(err, BZ_NOMEM, "out of memory parsing redis URL");
fail:
    rq_url_free(u);
    return err ? err->code : BZ_MISUSE;
}
