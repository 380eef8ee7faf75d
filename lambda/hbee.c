/*
** hbee.c: the hbee worker binary. Runs hbee tasks with the same code as the
** local executor's threads (exec_conn_open + exec_task_run), on SQLite linked
** in (-lsqlite3) with buzzlite compiled in (ext/ sources with -DSQLITE_CORE).
**
**     hbee run task.json [-o result.bin] [--rows]
**         run one task (wire format v1 JSON, see src/wire/wire.h), print a
**         summary (status, rows, columns, rows and bytes scanned, time);
**         -o writes the encoded result, --rows prints the rows tab-separated.
**         Exit status: 0 task succeeded, 1 task failed, 2 usage or I/O error.
**     hbee worker --redis URL [--queue Q] [--claim-idle-ms N] [--max-tasks N]
**         a worker on a Redis task stream (protocol: src/exec/exec.h,
**         exec_redis.c); runs until SIGTERM/SIGINT. HBEE_TEST_DELAY_MS
**         (tests only) sleeps that long after taking each task.
**     hbee lambda      the AWS Lambda custom runtime loop; also what the
**         binary does when AWS_LAMBDA_RUNTIME_API is set (deployed as
**         `bootstrap`): GET .../invocation/next, run the task, POST
**         .../invocation/<id>/response ({"result": "<HBR1 base64>"}, or
**         {"s3": "s3://..."} when the result is over the inline limit and the
**         task names a "scratch" prefix) or .../error; .../init/error when
**         the worker connection cannot be opened. Logs go to stderr and never
**         contain credentials. HBEE_MAX_INLINE: response bytes above which a
**         result goes to S3 (default 6291456, Lambda's limit).
**
** Only lambda/ prints and exits; the library code it calls reports through
** BzErr.
*/
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "buzzlite.h"
#include "aws/s3/aws_s3.h"
#include "exec/exec.h"
#include "parquet/pq_cache.h"
#include "wire/wire.h"

static int init_db(sqlite3 *db, char **pzErr) {
    return sqlite3_buzzlite_init(db, pzErr, NULL);
}

/* The allocator sqlite3_buzzlite_init installs, set before anything is
** allocated so every buffer is freed by the allocator that made it. */
static void *sqlMalloc(size_t n) {
    return sqlite3_malloc64(n);
}
static void *sqlRealloc(void *p, size_t n) {
    return sqlite3_realloc64(p, n);
}
static void sqlFree(void *p) {
    sqlite3_free(p);
}
static const BzAllocator sql_alloc = {sqlMalloc, sqlRealloc, sqlFree};

/* ExecSql from the linked library (the extension fills the same table from
** its sqlite3_api_routines, see ext/vtab_hbee.c). */
static const ExecSql linked_sql = {
    sqlite3_open_v2,     sqlite3_close,          sqlite3_exec,          sqlite3_prepare_v2,
    sqlite3_step,        sqlite3_reset,          sqlite3_finalize,      sqlite3_column_count,
    sqlite3_column_type, sqlite3_column_int64,   sqlite3_column_double, sqlite3_column_text,
    sqlite3_column_blob, sqlite3_column_bytes,   sqlite3_column_name,   sqlite3_bind_int64,
    sqlite3_bind_double, sqlite3_bind_text,      sqlite3_bind_blob,     sqlite3_bind_null,
    sqlite3_errmsg,      sqlite3_set_authorizer, sqlite3_free,          init_db,
};

static int usage(void) {
    fprintf(stderr, "usage: hbee run task.json [-o result.bin] [--rows]\n"
                    "       hbee worker --redis URL [--queue Q] [--claim-idle-ms N] [--max-tasks N]\n"
                    "       hbee lambda   (or AWS_LAMBDA_RUNTIME_API set)\n");
    return 2;
}

/* Read a whole file; caller frees. NULL on error (message printed). */
static char *read_file(const char *path, size_t *n) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    BzBuf b;
    char tmp[65536];
    size_t k;
    if (!f) {
        perror(path);
        return NULL;
    }
    bz_buf_init(&b, (size_t)64 << 20);
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
        bz_buf_append(&b, tmp, k);
    if (f != stdin) fclose(f);
    if (b.rc) {
        fprintf(stderr, "%s: %s\n", path, bz_status_name(b.rc));
        bz_buf_free(&b);
        return NULL;
    }
    *n = b.n;
    bz_buf_appendc(&b, 0);
    return bz_buf_take(&b);
}

static void print_value(const WireValue *v) {
    switch (v->type) {
    case WV_INT:
        printf("%lld", (long long)v->i);
        break;
    case WV_REAL:
        printf("%.17g", v->d);
        break;
    case WV_TEXT:
        fwrite(v->p, 1, v->n, stdout);
        break;
    case WV_BLOB:
        printf("x'");
        for (size_t i = 0; i < v->n; i++)
            printf("%02x", (unsigned char)v->p[i]);
        printf("'");
        break;
    default:
        printf("NULL");
        break;
    }
}

static int cmd_run(int argc, char **argv) {
    const char *task_path = NULL, *out_path = NULL;
    int show_rows = 0, rc, status = 2;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out_path = argv[++i];
        else if (!strcmp(argv[i], "--rows"))
            show_rows = 1;
        else if (!task_path)
            task_path = argv[i];
        else
            return usage();
    }
    if (!task_path) return usage();
    size_t n = 0;
    char *task = read_file(task_path, &n);
    if (!task) return 2;
    ExecConn *conn = NULL;
    BzErr err = {0};
    BzBuf out;
    bz_buf_init(&out, 0);
    rc = exec_conn_open(&linked_sql, &conn, &err);
    if (!rc) rc = exec_task_run(conn, task, n, &out, &err);
    exec_conn_close(conn);
    bz_free(task);
    if (rc) {
        fprintf(stderr, "hbee: %s\n", err.msg);
        bz_buf_free(&out);
        return 2;
    }
    if (out_path) {
        FILE *f = fopen(out_path, "wb");
        if (!f || fwrite(out.data, 1, out.n, f) != out.n) {
            perror(out_path);
            if (f) fclose(f);
            bz_buf_free(&out);
            return 2;
        }
        fclose(f);
    }
    WireReader r;
    if (wire_reader_open(&r, out.data, out.n, &err)) {
        fprintf(stderr, "hbee: %s\n", err.msg);
        bz_buf_free(&out);
        return 2;
    }
    if (r.hdr.status) {
        printf("task %lld: error (%s): %s\n", (long long)r.hdr.taskId, bz_status_name(r.hdr.status),
               r.zError);
        status = 1;
    } else {
        printf("task %lld: ok, %lld rows x %d columns, scanned %lld rows / %lld bytes in %lld ms, "
               "result %zu bytes\n",
               (long long)r.hdr.taskId, (long long)r.hdr.rows, r.nCol, (long long)r.hdr.rowsScanned,
               (long long)r.hdr.bytesScanned, (long long)r.hdr.ms, out.n);
        status = 0;
        if (show_rows) {
            WireValue *row = calloc((size_t)r.nCol + 1, sizeof *row);
            for (int i = 0; i < r.nCol; i++)
                printf("%s%s", i ? "\t" : "", r.azCol[i]);
            printf("\n");
            while (row && (rc = wire_reader_next(&r, row, &err)) == BZ_OK) {
                for (int i = 0; i < r.nCol; i++) {
                    if (i) printf("\t");
                    print_value(&row[i]);
                }
                printf("\n");
            }
            if (row && rc != BZ_DONE) {
                fprintf(stderr, "hbee: %s\n", err.msg);
                status = 2;
            }
            free(row);
        }
    }
    wire_reader_close(&r);
    bz_buf_free(&out);
    return status;
}

/* ---- hbee worker --redis URL ------------------------------------------------ */

static volatile int g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static void log_line(void *ctx, const char *msg) {
    (void)ctx;
    fprintf(stderr, "hbee[%d]: %s\n", (int)getpid(), msg);
}

static int cmd_worker(int argc, char **argv) {
    ExecWorkerOptions o;
    BzErr err = {0};
    memset(&o, 0, sizeof o);
    o.zUrl = getenv("REDIS_URL");
    for (int i = 0; i < argc; i++) {
        if (i + 1 >= argc) return usage();
        if (!strcmp(argv[i], "--redis"))
            o.zUrl = argv[++i];
        else if (!strcmp(argv[i], "--queue"))
            o.zQueue = argv[++i];
        else if (!strcmp(argv[i], "--claim-idle-ms"))
            o.claimIdleMs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-tasks"))
            o.maxTasks = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--consumer"))
            o.zConsumer = argv[++i];
        else
            return usage();
    }
    if (!o.zUrl) return usage();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    o.pbStop = &g_stop;
    if (getenv("HBEE_TEST_DELAY_MS")) o.testDelayMs = atoi(getenv("HBEE_TEST_DELAY_MS"));
    o.xLog = log_line;
    int rc = exec_redis_work(&linked_sql, &o, &err);
    if (rc) {
        fprintf(stderr, "hbee worker: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* ---- hbee lambda: the Lambda runtime API client -------------------------------- */

/* The Runtime API client: HTTP/1.1 over one kept-alive TCP connection to
** AWS_LAMBDA_RUNTIME_API ("host:port", always a local plain-HTTP endpoint).
** Rationale (performance): curl and its ~30 libraries are not loaded for the
** loop itself (aws_curl.h), which is what an instance's cold start waits for;
** S3 reads load them on first use. */
typedef struct RtConn {
    const char *zApi; /* host:port */
    int fd;           /* -1: not connected */
    BzBuf in;         /* bytes received and not yet consumed */
} RtConn;

typedef struct RtResp {
    BzBuf body;
    char zReqId[128];
    long long deadline;
} RtResp;

static void rt_close(RtConn *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    bz_buf_reset(&c->in);
}

static int rt_connect(RtConn *c) {
    char host[256];
    const char *colon = strrchr(c->zApi, ':');
    struct addrinfo hints, *ai = NULL, *p;
    size_t lh = colon ? (size_t)(colon - c->zApi) : strlen(c->zApi);
    if (lh >= sizeof host) return -1;
    memcpy(host, c->zApi, lh);
    host[lh] = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon ? colon + 1 : "80", &hints, &ai)) return -1;
    for (p = ai; p; p = p->ai_next) {
        int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, p->ai_addr, p->ai_addrlen) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(ai);
    return c->fd >= 0 ? 0 : -1;
}

static int rt_send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Receive more bytes into c->in; 0, or -1 on EOF/error. */
static int rt_fill(RtConn *c) {
    char tmp[65536];
    ssize_t k;
    do
        k = recv(c->fd, tmp, sizeof tmp, 0);
    while (k < 0 && errno == EINTR);
    if (k <= 0) return -1;
    bz_buf_append(&c->in, tmp, (size_t)k);
    return c->in.rc ? -1 : 0;
}

/* Drop the first n received bytes. */
static void rt_consume(RtConn *c, size_t n) {
    memmove(c->in.data, c->in.data + n, c->in.n - n);
    c->in.n -= n;
}

/* Value of header `name` in a header block (lines ending in \r\n), copied to
** out; 1 if found. */
static int rt_header(const char *hdr, size_t n, const char *name, char *out, size_t nout) {
    size_t ln = strlen(name);
    const char *p = hdr, *end = hdr + n;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if ((size_t)(eol - p) > ln && p[ln] == ':' && !strncasecmp(p, name, ln)) {
            const char *v = p + ln + 1;
            const char *e = eol;
            while (v < e && (*v == ' ' || *v == '\t')) v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ')) e--;
            size_t k = BZ_MIN((size_t)(e - v), nout - 1);
            memcpy(out, v, k);
            out[k] = 0;
            return 1;
        }
        p = eol + 1;
    }
    return 0;
}

/* One request/response on the connection (reconnecting once if the kept
** connection was closed). Returns the HTTP status, 0 on transport errors. */
static long rt_exchange(RtConn *c, const char *method, const char *path, const char *body,
                        size_t n, const char *errType, RtResp *resp) {
    char head[512], v[128];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hbee/" BUZZLITE_VERSION "\r\n"
                      "%s%s%sContent-Length: %zu\r\n%s\r\n",
                      method, path, c->zApi, errType ? "Lambda-Runtime-Function-Error-Type: " : "",
                      errType ? errType : "", errType ? "\r\n" : "", n,
                      body ? "Content-Type: application/json\r\n" : "");
    if (hl <= 0 || (size_t)hl >= sizeof head) return 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *eoh;
        size_t hn;
        long status;
        if (c->fd < 0 && rt_connect(c)) return 0;
        if (rt_send_all(c->fd, head, (size_t)hl) || (n && rt_send_all(c->fd, body, n))) {
            rt_close(c);
            continue; /* a kept-alive connection the server closed */
        }
        while (!(eoh = c->in.n ? memmem(c->in.data, c->in.n, "\r\n\r\n", 4) : NULL))
            if (rt_fill(c)) break;
        if (!eoh) {
            int fresh = c->in.n == 0;
            rt_close(c);
            if (fresh) continue;
            return 0;
        }
        hn = (size_t)(eoh - c->in.data) + 4;
        if (c->in.n < 12 || memcmp(c->in.data, "HTTP/1.", 7)) {
            rt_close(c);
            return 0;
        }
        status = strtol(c->in.data + 9, NULL, 10);
        /* (a POST's answer has no request id: the one being answered stays) */
        rt_header(c->in.data, hn, "Lambda-Runtime-Aws-Request-Id", resp->zReqId,
                  sizeof resp->zReqId);
        if (rt_header(c->in.data, hn, "Lambda-Runtime-Deadline-Ms", v, sizeof v))
            resp->deadline = atoll(v);
        int bClose = rt_header(c->in.data, hn, "Connection", v, sizeof v) &&
                     !strcasecmp(v, "close");
        if (rt_header(c->in.data, hn, "Transfer-Encoding", v, sizeof v) &&
            !strcasecmp(v, "chunked")) {
            rt_consume(c, hn);
            for (;;) { /* chunk-size CRLF data CRLF ... 0 CRLF CRLF */
                char *eol;
                while (!(eol = c->in.n ? memmem(c->in.data, c->in.n, "\r\n", 2) : NULL))
                    if (rt_fill(c)) goto broken;
                char *end;
                unsigned long long k64 = strtoull(c->in.data, &end, 16);
                size_t skip = (size_t)(eol - c->in.data) + 2;
                /* a chunk size that is no hex number, or one the body's cap
                ** cannot take, ends the connection (never a wrapped size) */
                if (end == c->in.data || !isxdigit((unsigned char)c->in.data[0]) ||
                    k64 > resp->body.max)
                    goto broken;
                size_t k = (size_t)k64;
                while (c->in.n < skip + k + 2)
                    if (rt_fill(c)) goto broken;
                bz_buf_append(&resp->body, c->in.data + skip, k);
                rt_consume(c, skip + k + 2);
                if (k == 0) break; /* (no trailers are sent by the Runtime API) */
            }
        } else {
            size_t len = rt_header(c->in.data, hn, "Content-Length", v, sizeof v)
                             ? (size_t)strtoull(v, NULL, 10)
                             : 0;
            while (c->in.n < hn + len)
                if (rt_fill(c)) goto broken;
            bz_buf_append(&resp->body, c->in.data + hn, len);
            rt_consume(c, hn + len);
        }
        if (bClose) rt_close(c);
        return status;
    broken:
        rt_close(c);
        return 0;
    }
    return 0;
}

static void rt_error_body(BzBuf *b, const char *type, const char *msg) {
    bz_buf_appendz(b, "{\"errorType\": ");
    bz_buf_json_str(b, type, strlen(type));
    bz_buf_appendz(b, ", \"errorMessage\": ");
    bz_buf_json_str(b, msg, strlen(msg));
    bz_buf_appendz(b, "}");
}

static long long now_epoch_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Put a large result under the task's scratch prefix; *zUrl (bz_malloc) names it. */
static int put_scratch(const char *zScratch, const char *zQid, int64_t taskId, const char *zReqId,
                       const BzBuf *res, char **zUrl, BzErr *err) {
    char *bucket = NULL, *prefix = NULL, *key = NULL;
    AwsS3 *s3 = NULL;
    int rc = aws_s3_parse_url(zScratch, &bucket, &prefix, err);
    if (!rc) {
        size_t lp = strlen(prefix);
        key = bz_mprintf("%s%s%s/%lld-%s.hbr", prefix, lp && prefix[lp - 1] != '/' ? "/" : "",
                         zQid, (long long)taskId, zReqId);
        if (!key) rc = bz_err(err, BZ_NOMEM, "out of memory");
    }
    if (!rc) rc = aws_s3_new(NULL, &s3, err);
    if (!rc) rc = aws_s3_put(s3, bucket, key, res->data, res->n, NULL, err);
    if (!rc && !(*zUrl = bz_mprintf("s3://%s/%s", bucket, key)))
        rc = bz_err(err, BZ_NOMEM, "out of memory");
    aws_s3_free(s3);
    bz_free(bucket);
    bz_free(prefix);
    bz_free(key);
    return rc;
}

static int cmd_lambda(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *zMax = getenv("HBEE_MAX_INLINE");
    size_t maxInline = zMax && atoll(zMax) > 0 ? (size_t)atoll(zMax) : (size_t)6291456;
    char url[512];
    ExecConn *conn = NULL;
    BzErr err = {0};
    RtConn rc_ = {api, -1, {0}}, *h = &rc_;
    RtResp resp;
    BzBuf out, reply;
    if (!api || !*api) {
        fprintf(stderr, "hbee lambda: AWS_LAMBDA_RUNTIME_API is not set\n");
        return 2;
    }
    uint64_t t0 = bz_now_ms();
    bz_buf_init(&h->in, (size_t)64 << 20);
    memset(&resp, 0, sizeof resp);
    bz_buf_init(&resp.body, (size_t)64 << 20);
    bz_buf_init(&out, WIRE_MAX_BODY + ((size_t)1 << 20));
    bz_buf_init(&reply, 0);
    if (exec_conn_open(&linked_sql, &conn, &err)) {
        fprintf(stderr, "hbee lambda: init failed: %s\n", err.msg);
        rt_error_body(&reply, "Runtime.InitError", err.msg);
        snprintf(url, sizeof url, "/2018-06-01/runtime/init/error");
        rt_exchange(h, "POST", url, reply.data, reply.n, "Runtime.InitError", &resp);
        return 1;
    }
    fprintf(stderr, "hbee lambda: ready in %llu ms (runtime API %s)\n",
            (unsigned long long)(bz_now_ms() - t0), api);
    while (!g_stop) {
        bz_buf_reset(&resp.body);
        resp.zReqId[0] = 0;
        resp.deadline = 0;
        snprintf(url, sizeof url, "/2018-06-01/runtime/invocation/next");
        long st = rt_exchange(h, "GET", url, NULL, 0, NULL, &resp);
        if (st == 200 && resp.zReqId[0] && resp.body.rc) {
            /* an event we cannot hold: answer it, or it runs to its deadline */
            fprintf(stderr, "hbee lambda: invocation %s: event too large\n", resp.zReqId);
            bz_buf_reset(&reply);
            rt_error_body(&reply, "Runtime.EventTooLarge", "the task is larger than hbee accepts");
            snprintf(url, sizeof url, "/2018-06-01/runtime/invocation/%s/error", resp.zReqId);
            rt_exchange(h, "POST", url, reply.data, reply.n, "Runtime.EventTooLarge", &resp);
            continue;
        }
        if (st != 200 || !resp.zReqId[0]) {
            fprintf(stderr, "hbee lambda: invocation/next answered %ld; retrying\n", st);
            usleep(st == 0 ? 100000 : 20000);
            continue;
        }
        uint64_t t1 = bz_now_ms();
        const char *zErrType = NULL;
        char zWhy[600];
        bz_buf_reset(&out);
        bz_buf_reset(&reply);
        int rc = exec_task_run(conn, resp.body.data, resp.body.n, &out, &err);
        int64_t taskId = 0;
        int status = 0;
        if (rc || out.rc) {
            zErrType = "Runtime.OutOfMemory";
            snprintf(zWhy, sizeof zWhy, "%s", rc ? err.msg : "result too large");
        } else {
            exec_result_peek((const uint8_t *)out.data, out.n, &taskId, &status);
            if (out.n / 3 * 4 + 64 > maxInline) {
                /* over the response limit: the task's scratch prefix, if any */
                cJSON *j = cJSON_ParseWithLength(resp.body.data, resp.body.n);
                const cJSON *sc = j ? cJSON_GetObjectItemCaseSensitive(j, "scratch") : NULL;
                const cJSON *qid = j ? cJSON_GetObjectItemCaseSensitive(j, "query_id") : NULL;
                char *zUrl = NULL;
                if (cJSON_IsString(sc) && cJSON_IsString(qid) &&
                    put_scratch(sc->valuestring, qid->valuestring, taskId, resp.zReqId, &out,
                                &zUrl, &err) == BZ_OK) {
                    bz_buf_appendz(&reply, "{\"s3\": ");
                    bz_buf_json_str(&reply, zUrl, strlen(zUrl));
                    bz_buf_appendz(&reply, "}");
                } else {
                    char msg[700];
                    snprintf(msg, sizeof msg,
                             "the result (%zu bytes) is over the %zu-byte response limit%s%s",
                             out.n, maxInline,
                             cJSON_IsString(sc) ? "; scratch upload failed: "
                                                : "; set the hbee table's scratch=s3://... option",
                             cJSON_IsString(sc) ? err.msg : "");
                    bz_buf_reset(&out);
                    wire_result_error(taskId, BZ_LIMIT, msg, &out, &err);
                    exec_lambda_response((const uint8_t *)out.data, out.n, &reply);
                }
                bz_free(zUrl);
                cJSON_Delete(j);
            } else {
                exec_lambda_response((const uint8_t *)out.data, out.n, &reply);
            }
            if (reply.rc) {
                zErrType = "Runtime.OutOfMemory";
                snprintf(zWhy, sizeof zWhy, "response too large");
            }
        }
        if (zErrType) {
            bz_buf_reset(&reply);
            rt_error_body(&reply, zErrType, zWhy);
            snprintf(url, sizeof url, "/2018-06-01/runtime/invocation/%s/error", resp.zReqId);
        } else {
            snprintf(url, sizeof url, "/2018-06-01/runtime/invocation/%s/response", resp.zReqId);
        }
        int bS3 = !zErrType && reply.n > 6 && !memcmp(reply.data, "{\"s3\":", 6);
        bz_buf_reset(&resp.body);
        st = rt_exchange(h, "POST", url, reply.data, reply.n, zErrType, &resp);
        fprintf(stderr,
                "hbee lambda: request %s task %lld: %s, result %zu bytes%s, %llu ms "
                "(%lld ms before the deadline), posted: HTTP %ld\n",
                resp.zReqId, (long long)taskId, zErrType ? zErrType : status ? "task error" : "ok",
                out.n, bS3 ? " via s3://" : "", (unsigned long long)(bz_now_ms() - t1),
                resp.deadline ? resp.deadline - now_epoch_ms() : -1, st);
    }
    exec_conn_close(conn);
    rt_close(h);
    bz_buf_free(&h->in);
    bz_buf_free(&resp.body);
    bz_buf_free(&out);
    bz_buf_free(&reply);
    return 0;
}

int main(int argc, char **argv) {
    bz_set_allocator(&sql_alloc);
    /* deployed as the Lambda `bootstrap`: no arguments, the runtime API set */
    if (argc < 2 && getenv("AWS_LAMBDA_RUNTIME_API")) return cmd_lambda();
    if (argc < 2) return usage();
    if (!strcmp(argv[1], "run")) {
        int rc = cmd_run(argc - 2, argv + 2);
        pq_footer_cache_limit(0); /* empty the process-wide footer cache before exit */
        return rc;
    }
    if (!strcmp(argv[1], "worker")) return cmd_worker(argc - 2, argv + 2);
    if (!strcmp(argv[1], "lambda")) return cmd_lambda();
    return usage();
}
