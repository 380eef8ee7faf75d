/*
** aws_curl.c: dlopen("libcurl.so.4") on first use and fill the aws_curl
** table (see aws_curl.h for why).
*/
#include "aws/aws_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CURL_SONAME "libcurl.so.4"

AwsCurlApi aws_curl;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_rc = BZ_OK;
static char g_msg[400];
static const char *g_ca;

/* Rationale (portability): the bundled Debian libcurl looks for Debian's CA
** bundle path, which Amazon Linux does not have. */
static void pick_ca(void *h) {
    static const char *const azOther[] = {"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"};
    curl_version_info_data *(*version_info)(CURLversion) = NULL;
    const char *env = getenv("SSL_CERT_FILE");
    if (env && *env) {
        g_ca = env;
        return;
    }
    *(void **)&version_info = dlsym(h, "curl_version_info");
    curl_version_info_data *vi = version_info ? version_info(CURLVERSION_NOW) : NULL;
    if (!vi || !vi->cainfo || access(vi->cainfo, R_OK) == 0) return;
    for (size_t i = 0; i < sizeof azOther / sizeof *azOther; i++)
        if (access(azOther[i], R_OK) == 0) {
            g_ca = azOther[i];
            return;
        }
}

static void load(void) {
    /* RTLD_NODELETE: handles and callbacks may outlive any notion of "done" */
    void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    AwsCurlApi a;
    if (!h) {
        const char *why = dlerror();
        g_rc = BZ_UNSUPPORTED;
        snprintf(g_msg, sizeof g_msg, "cannot load %s (needed for S3, DynamoDB and Lambda): %s",
                 CURL_SONAME, why ? why : "unknown reason");
        return;
    }
    memset(&a, 0, sizeof a);
    /* one line per entry; a missing symbol names itself */
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        *(void **)&a.field = dlsym(h, name);                                                       \
        if (!a.field) {                                                                            \
            g_rc = BZ_UNSUPPORTED;                                                                 \
            snprintf(g_msg, sizeof g_msg, "%s has no %s (libcurl 7.66 or newer is needed)",        \
                     CURL_SONAME, name);                                                           \
            return;                                                                                \
        }                                                                                          \
    } while (0)
    SYM(global_init, "curl_global_init");
    SYM(easy_init, "curl_easy_init");
    SYM(easy_setopt, "curl_easy_setopt");
    SYM(easy_getinfo, "curl_easy_getinfo");
    SYM(easy_perform, "curl_easy_perform");
    SYM(easy_cleanup, "curl_easy_cleanup");
    SYM(easy_strerror, "curl_easy_strerror");
    SYM(share_init, "curl_share_init");
    SYM(share_setopt, "curl_share_setopt");
    SYM(multi_init, "curl_multi_init");
    SYM(multi_setopt, "curl_multi_setopt");
    SYM(multi_add_handle, "curl_multi_add_handle");
    SYM(multi_remove_handle, "curl_multi_remove_handle");
    SYM(multi_perform, "curl_multi_perform");
    SYM(multi_poll, "curl_multi_poll");
    SYM(multi_info_read, "curl_multi_info_read");
    SYM(multi_cleanup, "curl_multi_cleanup");
    SYM(slist_append, "curl_slist_append");
    SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
    pick_ca(h);
    aws_curl = a;
}

int aws_curl_load(BzErr *err) {
    pthread_once(&g_once, load);
    if (g_rc) return bz_err(err, g_rc, "%s", g_msg);
    return BZ_OK;
}

int aws_curl_loaded(void) {
    return aws_curl.easy_init != NULL;
}

const char *aws_curl_ca_file(void) {
    return g_ca;
}
