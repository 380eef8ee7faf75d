/*
** aws_sigv4.h: AWS Signature Version 4 (header and presigned-URL forms).
**
** Implements the "Signature Version 4 signing process" of the AWS General
** Reference (canonical request, string to sign, signing key, Authorization
** header) and the S3 variants of the Amazon S3 API Reference, "Authenticating
** Requests (AWS Signature Version 4)": S3 paths are URI-encoded once and never
** normalised ("a//b", "./x" are kept); other services get the generic rules
** (dot segments and empty segments removed, then encoded twice), exactly as
** the AWS SDKs (botocore) do.
**
** Usage:
**     AwsParam q[] = {{"prefix", "J"}, {"max-keys", "2"}};
**     AwsSigReq r = {.method = "GET", .host = "examplebucket.s3.amazonaws.com",
**                    .path = "/", .params = q, .n_params = 2,
**                    .service = "s3", .region = "us-east-1"};
**     AwsSigned s;
**     if (aws_sigv4_sign(&r, &creds, &s, &err)) return err.code;
**     ... send s.url_path "?" s.query with s.authorization, s.amz_date ...
**     aws_signed_free(&s);
*/
#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

#include "common/bz_common.h"

#include <stdint.h>
#include <time.h>

/* A credential set. Strings are owned by whoever built the struct (see
** aws_creds_copy / aws_creds_clear in aws_config.h). */
typedef struct AwsCreds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when not temporary */
    int64_t expires_at;  /* unix seconds; 0 = does not expire */
} AwsCreds;

/* A name/value pair. Query parameters are given decoded (raw); the signer
** encodes them. value NULL means "key without '='" and signs as "key=". */
typedef struct AwsParam {
    const char *key;
    const char *value;
} AwsParam;

/* A header to send and sign (the signer lowercases names, trims and collapses
** whitespace in values, joins repeated names with ','). Host, X-Amz-Date,
** X-Amz-Content-Sha256 and X-Amz-Security-Token are added by the signer. */
typedef struct AwsHeader {
    const char *name;
    const char *value;
} AwsHeader;

#define AWS_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct AwsSigReq {
    const char *method;  /* "GET", ... */
    const char *host;    /* Host header: "bucket.s3.us-east-1.amazonaws.com", "127.0.0.1:9000" */
    const char *path;    /* raw (decoded) path starting with '/': "/bucket/my key.txt" */
    const AwsParam *params;
    int n_params;
    const AwsHeader *headers;
    int n_headers;
    const void *payload; /* body bytes (may be NULL with n_payload 0) */
    size_t n_payload;
    const char *payload_hash; /* NULL: SHA-256 of payload; or AWS_UNSIGNED_PAYLOAD / a hex hash */
    const char *service;      /* "s3", "dynamodb", "lambda", ... */
    const char *region;
    int64_t time;             /* unix seconds; 0 = aws_now() */
} AwsSigReq;

/* Signer output. All strings owned by the struct; free with aws_signed_free. */
typedef struct AwsSigned {
    char *authorization;      /* header form: "AWS4-HMAC-SHA256 Credential=..." (NULL for presign) */
    char *url_path;           /* path as sent on the wire (URI-encoded once) */
    char *query;              /* canonical query string, usable as the URL query ("" if none) */
    char *canonical_request;  /* for debugging and tests; contains no secret */
    char *signature;          /* hex */
    char amz_date[17];        /* "20130524T000000Z" */
    char content_sha256[65];  /* value of x-amz-content-sha256 ("UNSIGNED-PAYLOAD" fits) */
    int send_content_sha256;  /* 1 if the x-amz-content-sha256 header must be sent (S3) */
} AwsSigned;

/* Sign a request for the Authorization header. Credentials with a session
** token add X-Amz-Security-Token (send it). For service "s3" the
** x-amz-content-sha256 header is added and signed. Returns BZ_OK or
** BZ_MISUSE/BZ_NOMEM. On success the caller frees *out with aws_signed_free. */
int aws_sigv4_sign(const AwsSigReq *r, const AwsCreds *c, AwsSigned *out, BzErr *err);

/* Presign a request: out->query receives the full signed query string
** (including X-Amz-Signature) and out->url_path the encoded path. The
** payload is UNSIGNED-PAYLOAD for S3. `expires` is in seconds (1..604800). */
int aws_sigv4_presign(const AwsSigReq *r, const AwsCreds *c, int expires, AwsSigned *out,
                      BzErr *err);

void aws_signed_free(AwsSigned *s);

/* URI-encode bytes as SigV4 requires: everything but A-Z a-z 0-9 - _ . ~ is
** %XX (upper-case hex); '/' is kept when keep_slash. Appends to b. */
void aws_uri_encode(BzBuf *b, const char *z, size_t n, int keep_slash);

/* Lowercase hex SHA-256 of data into hex[65]. */
void aws_sha256_hex(const void *data, size_t n, char hex[65]);

/* ---- clock hook --------------------------------------------------------- */
/* Current unix time in seconds, through a hook tests can pin. */
int64_t aws_now(void);
/* Pin the clock (fn NULL restores time(2)). Not thread-safe: set it once. */
void aws_set_clock(int64_t (*fn)(void));
/* "20130524T000000Z" -> unix seconds; -1 if malformed. */
int64_t aws_parse_amz_date(const char *z);
/* ISO 8601 "2013-05-24T00:00:00Z" (fraction and offset allowed) -> unix seconds; -1 if malformed. */
int64_t aws_parse_iso8601(const char *z);

#endif
