/*
** aws_s3.h: Amazon S3 objects: get/head/put (multipart over 16 MiB), list
** (ListObjectsV2 with continuation), glob listing, and a BzReadAt source.
**
** Spec: Amazon S3 API Reference: GetObject, HeadObject, PutObject,
** ListObjectsV2, CreateMultipartUpload / UploadPart / CompleteMultipartUpload /
** AbortMultipartUpload, "Error responses"; issue 3 (Parquet over S3).
**
** Options come from AwsS3Options, then the environment (see aws_config.h):
** AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (path-style), AWS_REGION, credentials
** chain; BZ_S3_ANONYMOUS=1 sends unsigned requests.
**
** Usage:
**     BzReadAt *src;
**     if (aws_s3_open_readat("s3://bucket/data/x.parquet", NULL, &src, &err)) return err.code;
**     BzRange r[2] = {{0, 4, head}, {src->size - 8, 8, tail}};
**     rc = bz_readat_ranges(src, r, 2, &err);   // parallel, coalesced
**     bz_readat_close(src);
**
**     AwsS3Object *objs; size_t n;
**     rc = aws_s3_glob_list("s3://bucket/data/{star}/part-{star}.parquet", NULL, &objs, &n, &err);
**     ... objs[i].key, objs[i].size, objs[i].etag ...
**     aws_s3_objects_free(objs, n);
*/
#ifndef AWS_S3_H
#define AWS_S3_H

#include "aws/aws_http.h"
#include "common/bz_readat.h"

typedef struct AwsS3Options {
    const char *endpoint;   /* NULL: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS */
    const char *region;     /* NULL: AWS_REGION / AWS_DEFAULT_REGION / profile */
    const char *profile;    /* NULL: AWS_PROFILE / default */
    int anonymous;          /* 1: unsigned requests (or BZ_S3_ANONYMOUS=1) */
    int path_style;         /* 0 auto, 1 always, 2 never */
    int max_attempts;       /* retries; 0 = default (5) */
    int connect_timeout_ms; /* 0 = default */
    int timeout_ms;         /* per attempt; 0 = default */
    int max_parallel;       /* concurrent requests; 0 = 16 */
    uint64_t coalesce_gap;  /* merge ranges closer than this; 0 = BZ_S3_COALESCE_GAP or 1 MiB */
    uint64_t max_coalesced; /* largest merged request; 0 = 64 MiB */
    int lazy;               /* readat: skip HEAD until size is needed (size = 0 until then) */
    int hedge_min_ms;       /* readat: earliest hedge; 0 = default (2000) */
    uint64_t part_size;     /* multipart part size; 0 = 8 MiB */
    uint64_t multipart_threshold; /* 0 = 16 MiB */
    int list_max_keys;      /* page size for ListObjectsV2; 0 = 1000 */
} AwsS3Options;

typedef struct AwsS3 AwsS3;

/* One listed or inspected object. Strings owned by the array / struct. */
typedef struct AwsS3Object {
    char *key;
    uint64_t size;
    char *etag;          /* with quotes removed */
    char *last_modified; /* as the service sent it (ISO 8601 or HTTP date) */
} AwsS3Object;

/* Split "s3://bucket/key" (also "bucket/key") into freshly allocated parts;
** key may be "" for a bucket URL. BZ_MISUSE for anything else. */
int aws_s3_parse_url(const char *url, char **bucket, char **key, BzErr *err);

/* Client for S3 with the options above (opt may be NULL). */
int aws_s3_new(const AwsS3Options *opt, AwsS3 **out, BzErr *err);
void aws_s3_free(AwsS3 *s3);
AwsClient *aws_s3_client(AwsS3 *s3);

/* GetObject. len UINT64_MAX reads to the end; off/len outside the object is
** BZ_MISUSE (InvalidRange). On BZ_OK *out (initialised by the caller with its
** cap) receives the bytes; *info (may be NULL) size/etag/last_modified (caller
** frees with aws_s3_object_clear). */
int aws_s3_get(AwsS3 *s3, const char *bucket, const char *key, uint64_t off, uint64_t len,
               BzBuf *out, AwsS3Object *info, BzErr *err);
/* HeadObject: size, ETag, Last-Modified. */
int aws_s3_head(AwsS3 *s3, const char *bucket, const char *key, AwsS3Object *info, BzErr *err);
/* PutObject, or a parallel multipart upload above the threshold (aborted on
** failure). *etag_out (may be NULL) receives the ETag without quotes. */
int aws_s3_put(AwsS3 *s3, const char *bucket, const char *key, const void *data, size_t n,
               char **etag_out, BzErr *err);
/* CreateBucket (test stacks); an existing bucket you own is not an error. */
int aws_s3_create_bucket(AwsS3 *s3, const char *bucket, BzErr *err);
/* DeleteObject. */
int aws_s3_delete(AwsS3 *s3, const char *bucket, const char *key, BzErr *err);

/* ListObjectsV2 under prefix (delimiter may be NULL), following continuation
** tokens. cb gets each object (return non-zero to stop, which is not an
** error) and, with a delimiter, each common prefix as an object with size
** UINT64_MAX and no etag. */
typedef int (*AwsS3ListCb)(void *ctx, const AwsS3Object *obj);
int aws_s3_list(AwsS3 *s3, const char *bucket, const char *prefix, const char *delimiter,
                AwsS3ListCb cb, void *ctx, BzErr *err);

void aws_s3_object_clear(AwsS3Object *o);
void aws_s3_objects_free(AwsS3Object *a, size_t n);

/* ---- glob listing (aws_s3_glob.c) ------------------------------------------ */
/* Objects matching "s3://bucket/pat" where pat uses bz_glob_match syntax
** ('*', '?', '**'). The literal prefix up to the first wildcard is listed;
** when the first wildcard segment is followed by more segments (and is not
** '**'), the matching sub-"directories" are found with a delimiter listing and
** listed in parallel. A URL without wildcards lists that exact key (or
** nothing). No match is an empty result, not an error. Results are sorted by
** key; cb is called in that order. */
int aws_s3_glob(AwsS3 *s3, const char *url, AwsS3ListCb cb, void *ctx, BzErr *err);
/* Same, collected into an array (caller frees with aws_s3_objects_free); opt
** may be NULL. */
int aws_s3_glob_list(const char *url, const AwsS3Options *opt, AwsS3Object **out, size_t *n,
                     BzErr *err);
/* Offset of the first wildcard in a key pattern (strlen when none). */
size_t aws_s3_glob_prefix_len(const char *pattern);

/* ---- BzReadAt source (aws_s3_readat.c) -------------------------------------- */
/* Open an S3 object as a BzReadAt ("s3://bucket/key" or "bucket/key"). HEAD
** gives size and ETag (unless opt->lazy); every later range GET sends
** If-Match with that ETag so a changed object fails instead of mixing
** versions. read_ranges fetches ranges in parallel over curl multi and merges
** ranges closer than coalesce_gap into one request; prefetch starts fetching
** in a background thread and read_ranges consults what it fetched; slow range
** GETs are hedged. bytes_read / n_requests count what went over the wire. */
int aws_s3_open_readat(const char *url_or_bucket_key, const AwsS3Options *opt, BzReadAt **out,
                       BzErr *err);

/* Same, for an object whose size and ETag are already known (from a
** listing): no HEAD request is made; etag may be NULL (then no If-Match). */
int aws_s3_open_readat_known(const char *url_or_bucket_key, const AwsS3Options *opt, uint64_t size,
                             const char *etag, BzReadAt **out, BzErr *err);

/* Plan used by read_ranges (exposed for tests): sort ranges by offset and
** merge overlapping ranges and gaps under min(gap, 8 KiB), then those whose
** gap is < gap, smallest gaps first, while the gap bytes stay within 1/16 of
** the bytes asked for; a merged request stays <= max_merge.
** group[i] receives the merged-request index of range i; starts/lens (each
** nr long) the merged requests. Returns the number of merged requests. */
int aws_s3_coalesce(const BzRange *r, int nr, uint64_t gap, uint64_t max_merge, int *group,
                    uint64_t *starts, uint64_t *lens);

#endif
