/*
** aws_http.h: signed AWS requests over libcurl, in parallel, with retries.
**
** One entry point runs a batch of calls concurrently on a curl multi handle
** taken from a process-wide pool (each pooled multi keeps its connection
** cache, so connections are kept alive and reused across batches; DNS and TLS
** sessions are shared too). Every call is retried on its own:
**   - retried: 5xx (incl. 503 SlowDown), 429, connection refused/reset,
**     timeouts, bodies shorter than Content-Length, and the throttling codes
**     ThrottlingException, ProvisionedThroughputExceededException,
**     RequestLimitExceeded, LimitExceededException (HTTP 400); a range read
**     resumes at the first byte it has not received;
**   - not retried: other 4xx; 301/PermanentRedirect with x-amz-bucket-region
**     is followed once with that region; ExpiredToken refreshes credentials once;
**   - backoff: exponential with full jitter (AWS Architecture Blog,
**     "Exponential Backoff And Jitter"): sleep = random(0, min(cap, base*2^n)).
** A call marked `hedge` that runs far past its expected time (observed latency
** + size / observed rate, times a factor) gets a duplicate request; the first
** complete answer wins.
** Errors carry the service's code, message and request id, parsed from S3's
** XML error body or the JSON body (`__type`/`message`) of DynamoDB/Lambda.
**
** Usage:
**     AwsClientOptions o = {.service = "s3"};
**     AwsClient *cl;
**     if (aws_client_new(&o, &cl, &err)) return err.code;
**     AwsCall call = {.method = "GET", .bucket = "b", .path = "/k", .label = "s3://b/k"};
**     rc = aws_client_run(cl, &call, 1, &err);   // call.body holds the object
**     aws_call_free(&call);
**     aws_client_free(cl);
*/
#ifndef AWS_HTTP_H
#define AWS_HTTP_H

#include "aws/aws_config.h"
#include "aws/aws_sigv4.h"

typedef struct AwsClientOptions {
    const char *service;  /* "s3", "dynamodb", "lambda" (required) */
    const char *region;   /* NULL: aws_region_resolve(profile) */
    const char *endpoint; /* NULL: aws_endpoint_resolve(service, NULL); "http://127.0.0.1:9000" */
    const char *profile;  /* NULL: AWS_PROFILE or default */
    int anonymous;        /* 1: send requests unsigned */
    int path_style;       /* -1/0 auto (path-style on custom endpoints), 1 always, 2 never */
    int max_attempts;     /* 0: BZ_AWS_MAX_ATTEMPTS or 5 */
    int retry_base_ms;    /* 0: BZ_AWS_RETRY_BASE_MS or 100 */
    int retry_cap_ms;     /* 0: 5000 */
    int connect_timeout_ms; /* 0: BZ_AWS_CONNECT_TIMEOUT_MS or 3000 */
    int timeout_ms;         /* per attempt; 0: BZ_AWS_TIMEOUT_MS or 60000 */
    int low_speed_time_s;   /* abort an attempt below 1 KB/s for this long; 0: BZ_AWS_LOW_SPEED_TIME or 10 */
    int max_parallel;       /* concurrent transfers per batch; 0: 16 */
    int hedge_factor;       /* 0: 4 (hedge after 4x the expected time) */
    int hedge_min_ms;       /* 0: BZ_AWS_HEDGE_MIN_MS or 2000 */
} AwsClientOptions;

typedef struct AwsClient AwsClient;

/* Create a client: resolves region, endpoint and (unless anonymous) a
** credentials cache. Credentials themselves are fetched at the first request.
** Free with aws_client_free. */
int aws_client_new(const AwsClientOptions *o, AwsClient **out, BzErr *err);
void aws_client_free(AwsClient *cl);
const char *aws_client_region(const AwsClient *cl);
/* Endpoint actually used for a bucket ("https://b.s3.eu-west-1.amazonaws.com"),
** caller frees. */
char *aws_client_base_url(const AwsClient *cl, const char *bucket);

/* One request and its outcome. Request fields are borrowed (must outlive the
** run); response fields are owned by the call (aws_call_free). */
typedef struct AwsCall {
    /* request */
    const char *method;
    const char *bucket;       /* S3 bucket or NULL; addressing chosen by the client */
    const char *path;         /* raw path after the bucket, "/" or "/key" */
    const AwsParam *params;
    int n_params;
    const AwsHeader *headers;
    int n_headers;
    const void *body;
    size_t n_body;
    int unsigned_payload;     /* sign with UNSIGNED-PAYLOAD (S3) */
    int has_range;            /* send Range: bytes=range_off-(range_off+range_len-1) */
    uint64_t range_off;
    uint64_t range_len;
    void *dst;                /* range bytes land here (range_len bytes); else in `body_out` */
    size_t max_body;          /* cap for body_out (0 = 64 MiB) */
    int hedge;                /* allow a duplicate request when this one is slow */
    const char *label;        /* for errors, e.g. "s3://bucket/key" (no secrets) */

    /* response */
    long status;
    BzBuf body_out;           /* response body (error body for failures) */
    char etag[160];
    char last_modified[64];
    char request_id[128];
    char bucket_region[64];
    char content_range[96];
    uint64_t content_length;  /* from Content-Length (HEAD) */
    int attempts;             /* requests sent, hedges included */
    uint64_t bytes;           /* body bytes received over all attempts */
    int rc;                   /* BZ_OK or the failure status */
    BzErr err;                /* "<label>: <Code>: <message> (HTTP n, request id x)" */
    char err_code[64];        /* service error code ("NoSuchKey", "SlowDown", ...) */

    /* private */
    int st_;                  /* state */
    uint64_t ready_at_;
    uint64_t progress_;
    int active_;
    int redirected_;
    int refreshed_;
    int hedged_;
    char region_[64];
} AwsCall;

/* Run n calls concurrently; returns BZ_OK when every call succeeded, else the
** status of the first failed call with its error copied into *err. Each call's
** own rc/err say how it ended. Thread-safe: a client may run batches from
** several threads. */
int aws_client_run(AwsClient *cl, AwsCall *calls, int n, BzErr *err);

/* Free a call's response buffers (the call may be run again after). */
void aws_call_free(AwsCall *call);

/* Counters of a client (all batches so far). */
typedef struct AwsClientStats {
    uint64_t requests;
    uint64_t retries;
    uint64_t hedges;
    uint64_t bytes;
} AwsClientStats;
void aws_client_stats(AwsClient *cl, AwsClientStats *out);
/* Counters of every client in the process since load: requests sent (hedges
** included; credential fetches by aws_http_simple not), body bytes received
** (including those of cancelled hedges and discarded bodies), retries
** scheduled, hedges started. */
void aws_http_global_stats(AwsClientStats *out);

/* A plain unsigned HTTP request (credential providers): method, url, headers
** as "Name: value" (NULL-terminated array, may be NULL), timeout. The body is
** capped at 1 MiB. On BZ_OK *status is the HTTP status and body holds the
** reply. The URL is named in errors. */
int aws_http_simple(const char *method, const char *url, const char *const *headers,
                    int timeout_ms, long *status, BzBuf *body, BzErr *err);

/* Parse a service error body (S3 XML <Error> or JSON __type/code + message)
** into code/msg/request id buffers. Returns 1 if something was found. */
int aws_parse_error_body(const char *body, size_t n, char *code, size_t ncode, char *msg,
                         size_t nmsg, char *rid, size_t nrid, char *region, size_t nregion);

#endif
