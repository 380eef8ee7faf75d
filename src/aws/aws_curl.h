/*
** aws_curl.h: libcurl, loaded on first use. aws_http.c is the only user; it
** includes this header instead of <curl/curl.h> and calls curl_* as usual:
** the names below resolve to one table of function pointers that
** aws_curl_load fills from dlopen("libcurl.so.4") once per process.
**
**     BzErr err = {0};
**     if (aws_curl_load(&err)) return err.code;   // "cannot load libcurl.so.4: ..."
**     CURL *h = curl_easy_init();
**
** Rationale (performance): libcurl pulls about 30 shared libraries (TLS,
** HTTP/2, IDN, LDAP, Kerberos, SSH, RTMP...). Loading them took most of an
** hbee worker's start (23-27 ms fork to exit, /bin/true 8 ms); a worker that
** reads local files or Redis, and the Lambda runtime loop (plain HTTP on a
** loopback socket, lambda/hbee.c), never need them, so they are loaded only
** when the first AWS client is created. The library is found by the dynamic
** loader's usual search (the Lambda bootstrap's rpath $ORIGIN puts the
** bundled copy first).
*/
#ifndef AWS_CURL_H
#define AWS_CURL_H

#define CURL_DISABLE_TYPECHECK 1 /* the type-checking macros would call the real names */
#include <curl/curl.h>

#include "common/bz_common.h"

typedef struct AwsCurlApi {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} AwsCurlApi;

/* Filled by aws_curl_load; read-only after. */
extern AwsCurlApi aws_curl;

/* Load libcurl and fill aws_curl, once per process (thread-safe; later calls
** return the first outcome). BZ_OK, or BZ_UNSUPPORTED with a message naming
** the library and the loader's reason. */
int aws_curl_load(BzErr *err);

/* The CA bundle to set as CURLOPT_CAINFO, or NULL to keep libcurl's own
** default: $SSL_CERT_FILE when set, else, when libcurl's compiled-in bundle
** (Debian: /etc/ssl/certs/ca-certificates.crt) does not exist, the first of
** /etc/pki/tls/certs/ca-bundle.crt (Amazon Linux, the Lambda runtimes) and
** /etc/ssl/cert.pem that does. Valid after aws_curl_load. */
const char *aws_curl_ca_file(void);

/* 1 when libcurl is loaded in this process (tests, benchmarks). */
int aws_curl_loaded(void);

/* (curl.h defines the variadic ones as argument-count-checking macros) */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#undef curl_multi_setopt
#define curl_global_init aws_curl.global_init
#define curl_easy_init aws_curl.easy_init
#define curl_easy_setopt aws_curl.easy_setopt
#define curl_easy_getinfo aws_curl.easy_getinfo
#define curl_easy_perform aws_curl.easy_perform
#define curl_easy_cleanup aws_curl.easy_cleanup
#define curl_easy_strerror aws_curl.easy_strerror
#define curl_share_init aws_curl.share_init
#define curl_share_setopt aws_curl.share_setopt
#define curl_multi_init aws_curl.multi_init
#define curl_multi_setopt aws_curl.multi_setopt
#define curl_multi_add_handle aws_curl.multi_add_handle
#define curl_multi_remove_handle aws_curl.multi_remove_handle
#define curl_multi_perform aws_curl.multi_perform
#define curl_multi_poll aws_curl.multi_poll
#define curl_multi_info_read aws_curl.multi_info_read
#define curl_multi_cleanup aws_curl.multi_cleanup
#define curl_slist_append aws_curl.slist_append
#define curl_slist_free_all aws_curl.slist_free_all

#endif
