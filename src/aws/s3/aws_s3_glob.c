/*
** aws_s3_glob.c: list the objects matching an s3:// glob. See aws_s3.h.
**
** Spec: issue 3 ("read_parquet('s3://bucket/data/ * /part-*.parquet')"):
** the literal prefix up to the first wildcard is listed with ListObjectsV2;
** keys are matched with bz_glob_match. When the first wildcard sits in a
** middle path segment ("data/ * /x.parquet"), that level is expanded with a
** delimiter listing and the matching sub-prefixes are listed in parallel.
**
** Usage:
**     AwsS3Object *a; size_t n;
**     if (aws_s3_glob_list("s3://b/data/ * /p-*.parquet", NULL, &a, &n, &err)) ...
**     aws_s3_objects_free(a, n);
*/
#include "aws/s3/aws_s3.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GLOB_THREADS 8

size_t aws_s3_glob_prefix_len(const char *p) { return strcspn(p, "*?["); }

typedef struct Coll {
    const char *pattern; /* NULL: accept all */
    const char *exact;   /* non-NULL: accept only this key */
    AwsS3Object *a;
    size_t n, cap;
    int rc;
} Coll;

static int coll_add(void *u, const AwsS3Object *o) {
    Coll *c = u;
    AwsS3Object *d;
    if (c->exact && strcmp(o->key, c->exact)) return 0;
    if (c->pattern && !bz_glob_match(c->pattern, o->key)) return 0;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        AwsS3Object *na = bz_realloc(c->a, nc * sizeof *na);
        if (!na) return c->rc = BZ_NOMEM;
        c->a = na;
        c->cap = nc;
    }
    d = &c->a[c->n];
    memset(d, 0, sizeof *d);
    d->key = bz_strdup(o->key);
    d->etag = bz_strdup(o->etag ? o->etag : "");
    d->last_modified = bz_strdup(o->last_modified ? o->last_modified : "");
    d->size = o->size;
    if (!d->key || !d->etag || !d->last_modified) {
        aws_s3_object_clear(d);
        return c->rc = BZ_NOMEM;
    }
    c->n++;
    return 0;
}

static int obj_cmp(const void *a, const void *b) {
    return strcmp(((const AwsS3Object *)a)->key, ((const AwsS3Object *)b)->key);
}

/* Parallel listing of several prefixes. */
typedef struct Par {
    AwsS3 *s3;
    const char *bucket;
    const char *pattern;
    AwsS3Object *prefixes;
    size_t nprefix;
    size_t next;
    pthread_mutex_t mu;
    Coll *out; /* one per prefix */
    int *rcs;
    BzErr *errs;
} Par;

static void *par_worker(void *u) {
    Par *p = u;
    for (;;) {
        size_t i;
        pthread_mutex_lock(&p->mu);
        i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->nprefix) break;
        p->out[i].pattern = p->pattern;
        p->rcs[i] = aws_s3_list(p->s3, p->bucket, p->prefixes[i].key, NULL, coll_add, &p->out[i],
                                &p->errs[i]);
        if (!p->rcs[i] && p->out[i].rc) p->rcs[i] = bz_err(&p->errs[i], BZ_NOMEM, "out of memory");
    }
    return NULL;
}

static int list_parallel(AwsS3 *s3, const char *bucket, const char *pattern, AwsS3Object *prefixes,
                         size_t np, Coll *all, BzErr *err) {
    Par p;
    pthread_t th[GLOB_THREADS];
    int nth = (int)BZ_MIN(np, (size_t)GLOB_THREADS), started = 0, i, rc = BZ_OK;
    size_t k, j;
    memset(&p, 0, sizeof p);
    p.s3 = s3;
    p.bucket = bucket;
    p.pattern = pattern;
    p.prefixes = prefixes;
    p.nprefix = np;
    pthread_mutex_init(&p.mu, NULL);
    p.out = bz_calloc(np, sizeof *p.out);
    p.rcs = bz_calloc(np, sizeof *p.rcs);
    p.errs = bz_calloc(np, sizeof *p.errs);
    if (!p.out || !p.rcs || !p.errs) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto done;
    }
    for (i = 1; i < nth; i++)
        if (pthread_create(&th[started], NULL, par_worker, &p) == 0) started++;
    par_worker(&p); /* this thread works too */
    for (i = 0; i < started; i++) pthread_join(th[i], NULL);
    for (k = 0; k < np && rc == BZ_OK; k++)
        if (p.rcs[k]) {
            rc = p.rcs[k];
            if (err) *err = p.errs[k];
        }
    for (k = 0; k < np; k++) {
        for (j = 0; j < p.out[k].n; j++) {
            if (rc == BZ_OK && coll_add(all, &p.out[k].a[j])) rc = bz_err(err, BZ_NOMEM, "out of memory");
        }
        aws_s3_objects_free(p.out[k].a, p.out[k].n);
    }
done:
    pthread_mutex_destroy(&p.mu);
    bz_free(p.out);
    bz_free(p.rcs);
    bz_free(p.errs);
    return rc;
}

int aws_s3_glob(AwsS3 *s3, const char *url, AwsS3ListCb cb, void *ctx, BzErr *err) {
    char *bucket = NULL, *pat = NULL, *prefix = NULL, *level = NULL;
    Coll all, dirs;
    size_t plen, seg_start, seg_end, i;
    int rc;
    memset(&all, 0, sizeof all);
    memset(&dirs, 0, sizeof dirs);
    if ((rc = aws_s3_parse_url(url, &bucket, &pat, err)) != BZ_OK) return rc;
    plen = aws_s3_glob_prefix_len(pat);
    if (plen == strlen(pat)) {
        /* no wildcard: that exact key, if it exists */
        all.exact = pat;
        rc = aws_s3_list(s3, bucket, pat, NULL, coll_add, &all, err);
        goto done;
    }
    seg_start = plen;
    while (seg_start > 0 && pat[seg_start - 1] != '/') seg_start--;
    seg_end = plen + strcspn(pat + plen, "/");
    if (pat[seg_end] == '/' && !strstr(pat + seg_start, "**")) {
        /* "a/b*c/rest": find the matching "a/b*c/" levels, list them in parallel */
        prefix = bz_strndup(pat, seg_start);
        level = bz_strndup(pat, seg_end + 1);
        if (!prefix || !level) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            goto done;
        }
        dirs.pattern = level;
        rc = aws_s3_list(s3, bucket, prefix, "/", coll_add, &dirs, err);
        if (rc == BZ_OK && dirs.rc) rc = bz_err(err, BZ_NOMEM, "out of memory");
        if (rc == BZ_OK) {
            /* keep common prefixes only (objects at this level cannot match) */
            size_t k = 0;
            for (i = 0; i < dirs.n; i++) {
                if (dirs.a[i].size == UINT64_MAX) dirs.a[k++] = dirs.a[i];
                else aws_s3_object_clear(&dirs.a[i]);
            }
            dirs.n = k;
            if (k) rc = list_parallel(s3, bucket, pat, dirs.a, k, &all, err);
        }
    } else {
        prefix = bz_strndup(pat, plen);
        if (!prefix) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            goto done;
        }
        all.pattern = pat;
        rc = aws_s3_list(s3, bucket, prefix, NULL, coll_add, &all, err);
    }
done:
    if (rc == BZ_OK && all.rc) rc = bz_err(err, BZ_NOMEM, "out of memory");
    if (rc == BZ_OK) {
        if (all.n) qsort(all.a, all.n, sizeof *all.a, obj_cmp);
        for (i = 0; i < all.n; i++)
            if (cb(ctx, &all.a[i])) break;
    }
    aws_s3_objects_free(all.a, all.n);
    aws_s3_objects_free(dirs.a, dirs.n);
    bz_free(bucket);
    bz_free(pat);
    bz_free(prefix);
    bz_free(level);
    return rc;
}

int aws_s3_glob_list(const char *url, const AwsS3Options *opt, AwsS3Object **out, size_t *n,
                     BzErr *err) {
    AwsS3 *s3;
    Coll c;
    int rc;
    *out = NULL;
    *n = 0;
    memset(&c, 0, sizeof c);
    if ((rc = aws_s3_new(opt, &s3, err)) != BZ_OK) return rc;
    rc = aws_s3_glob(s3, url, coll_add, &c, err);
    if (rc == BZ_OK && c.rc) rc = bz_err(err, BZ_NOMEM, "out of memory");
    aws_s3_free(s3);
    if (rc) {
        aws_s3_objects_free(c.a, c.n);
        return rc;
    }
    *out = c.a;
    *n = c.n;
    return BZ_OK;
}
