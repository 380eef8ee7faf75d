/*
** exec_s3.c: the planner's view of S3 (a PlanFs), so hbee plans datasets
** declared over s3:// objects, prefixes and globs. Listing and footer reads
** use the same code as the parquet table (aws_s3_glob_list,
** aws_s3_open_readat_known / aws_s3_open_readat), with the dataset's
** endpoint, region and anonymous options.
**
**     ExecS3Fs s;  PlanFs fs;
**     exec_plan_fs_s3(&s, &dataset, &fs);
**     plan_splits_list(&dataset, &fs, need, n_need, split_bytes, 0, &splits, &err);
*/
#include "exec/exec.h"

#include <string.h>

#include "aws/s3/aws_s3.h"
#include "parquet/pq_dataset.h"

static int fs_expand(void *ctx, const char *pat, PqFileList *out, BzErr *err) {
    ExecS3Fs *s = ctx;
    AwsS3Object *objs = NULL;
    size_t n = 0, len = strlen(pat);
    char *url, *bucket = NULL, *key = NULL;
    int rc;
    if (!pq_has_wildcard(pat) && len && pat[len - 1] != '/')
        return pq_file_list_add(out, pat) ? bz_err(err, BZ_NOMEM, "out of memory") : BZ_OK;
    url = pat[len - 1] == '/' ? bz_mprintf("%s**", pat) : bz_strdup(pat);
    if (!url) return bz_err(err, BZ_NOMEM, "out of memory");
    rc = aws_s3_glob_list(url, &s->opt, &objs, &n, err);
    if (!rc) rc = aws_s3_parse_url(url, &bucket, &key, err);
    for (size_t i = 0; !rc && i < n; i++) {
        size_t kl = strlen(objs[i].key);
        if (kl && objs[i].key[kl - 1] == '/') continue; /* "directory" markers */
        char *full = bz_mprintf("s3://%s/%s", bucket, objs[i].key);
        if (!full || pq_file_list_add_obj(out, full, objs[i].size, objs[i].etag))
            rc = bz_err(err, BZ_NOMEM, "out of memory");
        bz_free(full);
    }
    aws_s3_objects_free(objs, n);
    bz_free(bucket);
    bz_free(key);
    bz_free(url);
    return rc;
}

static int fs_open(void *ctx, const char *path, uint64_t size, const char *etag, BzReadAt **out,
                   BzErr *err) {
    ExecS3Fs *s = ctx;
    if (size != UINT64_MAX) return aws_s3_open_readat_known(path, &s->opt, size, etag, out, err);
    AwsS3Options lazy = s->opt;
    lazy.lazy = 1; /* the footer read (a suffix range) learns the size */
    return aws_s3_open_readat(path, &lazy, out, err);
}

void exec_plan_fs_s3(ExecS3Fs *s, const PlanDataset *d, PlanFs *fs) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < d->nOpt; i++) {
        const char *k = d->azKey[i], *v = d->azVal[i];
        if (!strcmp(k, "endpoint")) s->opt.endpoint = v;
        else if (!strcmp(k, "region")) s->opt.region = v;
        else if (!strcmp(k, "anonymous"))
            s->opt.anonymous = !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on");
    }
    fs->ctx = s;
    fs->expand = fs_expand;
    fs->open = fs_open;
}
