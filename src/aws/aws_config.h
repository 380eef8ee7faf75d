/*
** aws_config.h: credentials, region and endpoint resolution, as the AWS SDKs do.
**
** Credentials chain (AWS SDKs and Tools Reference Guide, "Standardized
** credential providers"), first hit wins:
**   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
**   2. shared files for AWS_PROFILE (or "default"): AWS_SHARED_CREDENTIALS_FILE
**      (~/.aws/credentials, [name]) then AWS_CONFIG_FILE (~/.aws/config,
**      [profile name] / [default])
**   3. container: AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI (on
**      http://169.254.170.2), Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN
**      or the file named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
**   4. EC2 IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT (default
**      http://169.254.169.254), 1 s timeout; AWS_EC2_METADATA_DISABLED=true skips it.
** Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, "us-east-1".
** Endpoint: explicit option, AWS_ENDPOINT_URL_<SERVICE> (S3, DYNAMODB, LAMBDA),
** AWS_ENDPOINT_URL, else the AWS default for the region.
**
** Usage:
**     AwsCredsCache *cc;
**     if (aws_creds_cache_new(NULL, &cc, &err)) return err.code;
**     AwsCreds c = {0};
**     if (aws_creds_cache_get(cc, &c, &err) == BZ_OK) { ...sign...; aws_creds_clear(&c); }
**     aws_creds_cache_free(cc);
**
** Rationale: secrets are never formatted into a BzErr; messages name the
** source (file path, URL, variable name) only.
*/
#ifndef AWS_CONFIG_H
#define AWS_CONFIG_H

#include "aws/aws_sigv4.h"

/* Free the strings of c (wiping the secret) and zero it. */
void aws_creds_clear(AwsCreds *c);
/* Deep copy src into *dst (dst is overwritten). BZ_OK or BZ_NOMEM. */
int aws_creds_copy(AwsCreds *dst, const AwsCreds *src);

/* Resolve credentials once through the chain. `profile` NULL means
** AWS_PROFILE or "default". On success *out owns fresh strings (clear with
** aws_creds_clear) and *source (if not NULL) names the provider ("env",
** "profile", "container", "imds"). BZ_AUTH when no provider has credentials. */
int aws_creds_resolve(const char *profile, AwsCreds *out, const char **source, BzErr *err);

/* Thread-safe cache over the chain: refreshes credentials that expire within
** five minutes (AWS SDK behaviour) and reports BZ_AUTH for ones already
** expired that cannot be refreshed. */
typedef struct AwsCredsCache AwsCredsCache;
int aws_creds_cache_new(const char *profile, AwsCredsCache **out, BzErr *err);
/* Copy current credentials into *out (caller clears it). */
int aws_creds_cache_get(AwsCredsCache *cc, AwsCreds *out, BzErr *err);
/* Forget cached credentials (e.g. after an ExpiredToken answer). */
void aws_creds_cache_invalidate(AwsCredsCache *cc);
void aws_creds_cache_free(AwsCredsCache *cc);
/* Forget the process-wide container/IMDS cache (tests). */
void aws_creds_reset_remote_cache(void);

/* Region for `profile` (NULL = AWS_PROFILE/default). Caller frees; NULL on OOM. */
char *aws_region_resolve(const char *profile);
/* The same without the us-east-1 default: NULL when no region is configured
** (or on OOM). Caller frees. */
char *aws_region_find(const char *profile);

/* Endpoint override for a service ("s3", "dynamodb", "lambda"): `explicit_url`
** if not NULL, else the environment; NULL when AWS defaults apply. Caller frees. */
char *aws_endpoint_resolve(const char *service, const char *explicit_url);

/* Value of key in section of an INI-style AWS shared file; caller frees; NULL
** if absent. `section` is the full header text, e.g. "profile dev". */
char *aws_ini_get(const char *path, const char *section, const char *key);

#endif
