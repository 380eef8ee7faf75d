/*
** exec_lambda.c: the `lambda` executor. Each task is one synchronous AWS
** Lambda Invoke (POST /2015-03-31/functions/{name}/invocations with
** X-Amz-Invocation-Type: RequestResponse, SigV4-signed by aws_client_run;
** AWS_ENDPOINT_URL_LAMBDA overrides the endpoint). The payload and response
** formats are in exec.h (section exec_lambda.c).
**
**     ExecLambdaOptions o = {.zFunction = "buzzlite-hbee", .maxConcurrency = 100};
**     Executor *ex;
**     exec_lambda_create(&o, &ex, &err);
**     exec_run(sql, ex, ...);  exec_close(ex);
**
** At most maxConcurrency invocations are in flight, one per invoker thread
** (threads are started as tasks need them). aws_client_run retries 5xx and
** 429 with jittered backoff; a 429 that outlasts those retries is waited out
** here without using one of the task's issues. A function error (a crashed
** or timed-out instance: HTTP 200 whose body has errorType/errorMessage, as
** X-Amz-Function-Error answers carry) re-issues the task, up to
** EXEC_MAX_ISSUES. A task running longer than exec_rtasks_late_ms gets one
** speculative duplicate; the first result wins and the other is dropped.
**
** Rationale (close waits): an invocation cannot be cancelled once the
** function runs, and an invoker thread still inside curl when the host
** process exits crashed it; so close() waits for the copies still in flight
** (a straggler's original included) before freeing. The answer itself is
** complete as soon as every task has one result.
*/
#include "exec/exec.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_http.h"
#include "aws/dynamodb/aws_ddb.h"
#include "aws/s3/aws_s3.h"

#define DEFAULT_FUNCTION "buzzlite-hbee"
#define MAX_RESPONSE ((size_t)8 << 20) /* above Lambda's 6 MB: its own limit decides */

typedef struct Event {
    struct Event *next;
    int iTask;
    int rc;       /* BZ_OK: data holds a result; else msg says why */
    int bRetry;   /* a failure worth another issue */
    char msg[512];
    size_t n;
    uint8_t *data;
} Event;

typedef struct LambdaExec {
    Executor base;
    pthread_mutex_t mu;
    pthread_cond_t cvWork, cvEvent;
    int refs; /* the executor itself + one per thread */
    int stop;
    AwsClient *cl;
    AwsS3 *s3; /* scratch reads, or NULL */
    char *zPath, *zLabel, *zScratch;
    char *zFunction, *zRegion;
    int maxConc, nThreads, nIdle;
    pthread_t *aTh; /* every invoker started, joined by lambda_close */
    int nTh;
    ExecRTasks t;
    int *aRunq, nRunq, nRunqAlloc;
    Event *evHead, *evTail;
    int64_t pending;
} LambdaExec;

static void lx_free(LambdaExec *x) {
    Event *e;
    while ((e = x->evHead) != NULL) {
        x->evHead = e->next;
        bz_free(e->data);
        bz_free(e);
    }
    aws_client_free(x->cl);
    aws_s3_free(x->s3);
    exec_rtasks_free(&x->t);
    bz_free(x->aRunq);
    bz_free(x->aTh);
    bz_free(x->zPath);
    bz_free(x->zLabel);
    bz_free(x->zScratch);
    bz_free(x->zFunction);
    bz_free(x->zRegion);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cvWork);
    pthread_cond_destroy(&x->cvEvent);
    bz_free(x);
}

/* Drop one reference (mutex held); frees on the last. */
static void lx_unref_locked(LambdaExec *x) {
    int last = --x->refs == 0;
    pthread_mutex_unlock(&x->mu);
    if (last) lx_free(x);
}

static void push_event(LambdaExec *x, Event *e) {
    e->next = NULL;
    if (x->evTail)
        x->evTail->next = e;
    else
        x->evHead = e;
    x->evTail = e;
    pthread_cond_broadcast(&x->cvEvent);
}

/* The response body -> result bytes (ev->data) or a failure. */
static void parse_response(LambdaExec *x, const char *body, size_t n, Event *ev) {
    cJSON *j = cJSON_ParseWithLength(body, n);
    const cJSON *res = j ? cJSON_GetObjectItemCaseSensitive(j, "result") : NULL;
    const cJSON *s3 = j ? cJSON_GetObjectItemCaseSensitive(j, "s3") : NULL;
    const cJSON *et = j ? cJSON_GetObjectItemCaseSensitive(j, "errorType") : NULL;
    const cJSON *em = j ? cJSON_GetObjectItemCaseSensitive(j, "errorMessage") : NULL;
    if (cJSON_IsString(res)) {
        size_t k = 0;
        ev->data = aws_ddb_base64_decode(res->valuestring, strlen(res->valuestring), &k);
        ev->n = k;
        if (!ev->data) {
            ev->rc = BZ_CORRUPT;
            snprintf(ev->msg, sizeof ev->msg, "the response's result is not base64");
        }
    } else if (cJSON_IsString(s3)) {
        char *bucket = NULL, *key = NULL;
        BzErr e = {0};
        BzBuf b;
        bz_buf_init(&b, WIRE_MAX_BODY + ((size_t)1 << 20));
        if (!x->s3)
            ev->rc = bz_err(&e, BZ_MISUSE, "a result in S3 (%s) but no scratch is configured",
                            s3->valuestring);
        else if (!(ev->rc = aws_s3_parse_url(s3->valuestring, &bucket, &key, &e)) &&
                 !(ev->rc = aws_s3_get(x->s3, bucket, key, 0, UINT64_MAX, &b, NULL, &e))) {
            BzErr e2;
            aws_s3_delete(x->s3, bucket, key, &e2);
            ev->n = b.n;
            ev->data = (uint8_t *)bz_buf_take(&b);
            if (!ev->data) ev->rc = bz_err(&e, BZ_NOMEM, "out of memory");
        }
        if (ev->rc) {
            ev->bRetry = ev->rc != BZ_MISUSE;
            snprintf(ev->msg, sizeof ev->msg, "%s", e.msg);
        }
        bz_buf_free(&b);
        bz_free(bucket);
        bz_free(key);
    } else {
        ev->rc = BZ_ERROR;
        ev->bRetry = 1; /* a function error: crash, timeout, out of memory */
        snprintf(ev->msg, sizeof ev->msg, "function error %s: %.400s",
                 cJSON_IsString(et) ? et->valuestring : "(no errorType)",
                 cJSON_IsString(em) ? em->valuestring : j ? "(no errorMessage)" : "(not JSON)");
    }
    cJSON_Delete(j);
}

/* Say what to fix for the configuration errors of an Invoke (the service's
** message follows): the function missing in the region, or the caller not
** allowed to invoke it. */
static void lambda_explain(const LambdaExec *x, long st, const char *zCode, BzErr *e) {
    if (st == 404 && !strcmp(zCode, "ResourceNotFoundException"))
        bz_err_prefix(e, "function '%s' not found in region %s (deploy it there, or name another "
                      "with the hbee table's function= option)", x->zFunction, x->zRegion);
    else if (st == 403 || !strcmp(zCode, "AccessDeniedException"))
        bz_err_prefix(e, "not allowed to invoke function '%s' in region %s (the credentials "
                      "need lambda:InvokeFunction on it)", x->zFunction, x->zRegion);
    else if (!strcmp(zCode, "UnknownHost") || !strcmp(zCode, "ConnectionRefused"))
        bz_err_prefix(e, "cannot reach the Lambda endpoint of region %s", x->zRegion);
}

static void invoke(LambdaExec *x, const char *payload, size_t n, Event *ev) {
    AwsHeader h[] = {{"X-Amz-Invocation-Type", "RequestResponse"},
                     {"Content-Type", "application/json"}};
    int throttled = 0;
    for (;;) {
        AwsCall c;
        BzErr e = {0};
        memset(&c, 0, sizeof c);
        c.method = "POST";
        c.path = x->zPath;
        c.headers = h;
        c.n_headers = 2;
        c.body = payload;
        c.n_body = n;
        c.max_body = MAX_RESPONSE;
        c.label = x->zLabel;
        int rc = aws_client_run(x->cl, &c, 1, &e);
        if (!rc) {
            parse_response(x, c.body_out.data, c.body_out.n, ev);
            aws_call_free(&c);
            return;
        }
        long st = c.status;
        char zCode[64];
        snprintf(zCode, sizeof zCode, "%s", c.err_code);
        aws_call_free(&c);
        if (st == 429 && throttled < 100) { /* wait for a free instance */
            pthread_mutex_lock(&x->mu);
            x->base.counters.throttled++;
            int stop = x->stop;
            pthread_mutex_unlock(&x->mu);
            if (stop) break;
            throttled++;
            usleep((useconds_t)(50000 + (rand() % 200000)));
            continue;
        }
        ev->rc = rc;
        /* no reply at all (connection refused, reset) is worth another try;
        ** missing credentials or bad options are not */
        ev->bRetry = st >= 500 || st == 429 || (st == 0 && rc != BZ_AUTH && rc != BZ_MISUSE);
        lambda_explain(x, st, zCode, &e);
        snprintf(ev->msg, sizeof ev->msg, "%s", e.msg);
        return;
    }
    ev->rc = BZ_ERROR;
    snprintf(ev->msg, sizeof ev->msg, "cancelled");
}

static void *invoker_main(void *arg) {
    LambdaExec *x = arg;
    pthread_mutex_lock(&x->mu);
    for (;;) {
        x->nIdle++;
        while (!x->stop && x->nRunq == 0)
            pthread_cond_wait(&x->cvWork, &x->mu);
        x->nIdle--;
        if (x->stop) break;
        int i = x->aRunq[0];
        memmove(x->aRunq, x->aRunq + 1, (size_t)--x->nRunq * sizeof *x->aRunq);
        ExecRTask *r = &x->t.a[i];
        const char *payload = r->zTask; /* stable: owned by the task, freed with x */
        size_t n = r->nTask;
        r->nRunning++;
        r->tStart = bz_now_ms();
        pthread_mutex_unlock(&x->mu);
        Event *ev = bz_calloc(1, sizeof *ev);
        if (ev) {
            ev->iTask = i;
            invoke(x, payload, n, ev);
        }
        pthread_mutex_lock(&x->mu);
        x->t.a[i].nRunning--;
        if (ev) push_event(x, ev);
        else x->pending = -1; /* out of memory: collect reports it */
        pthread_cond_broadcast(&x->cvEvent);
    }
    x->nThreads--;
    pthread_cond_broadcast(&x->cvEvent);
    lx_unref_locked(x); /* unlocks */
    return NULL;
}

/* Queue task i for an invocation (mutex held); start a thread if none idle. */
static int enqueue_locked(LambdaExec *x, int i, BzErr *err) {
    if (x->nRunq == x->nRunqAlloc) {
        int na = x->nRunqAlloc ? 2 * x->nRunqAlloc : 64;
        int *a = bz_realloc(x->aRunq, (size_t)na * sizeof *a);
        if (!a) return bz_err(err, BZ_NOMEM, "out of memory");
        x->aRunq = a;
        x->nRunqAlloc = na;
    }
    x->aRunq[x->nRunq++] = i;
    x->t.a[i].nIssued++;
    if (x->nIdle < x->nRunq && x->nThreads < x->maxConc) {
        pthread_t th;
        pthread_attr_t at;
        if (!x->aTh) {
            x->aTh = bz_malloc((size_t)x->maxConc * sizeof *x->aTh);
            if (!x->aTh) return bz_err(err, BZ_NOMEM, "out of memory");
        }
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, (size_t)1 << 20);
        if (pthread_create(&th, &at, invoker_main, x) == 0) {
            x->aTh[x->nTh++] = th;
            x->nThreads++;
            x->refs++;
        }
        pthread_attr_destroy(&at);
        if (x->nThreads == 0) return bz_err(err, BZ_ERROR, "cannot start an invoker thread");
    }
    pthread_cond_signal(&x->cvWork);
    return BZ_OK;
}

static int lambda_submit(Executor *ex, const char *task, size_t n, BzErr *err) {
    LambdaExec *x = (LambdaExec *)ex;
    BzBuf b;
    bz_buf_init(&b, 0);
    if (x->zScratch) { /* {"scratch": "s3://...", <the task's members>} */
        const char *brace = memchr(task, '{', n);
        if (!brace) return bz_err(err, BZ_MISUSE, "lambda executor: the task is not a JSON object");
        bz_buf_appendz(&b, "{\"scratch\": ");
        bz_buf_json_str(&b, x->zScratch, strlen(x->zScratch));
        bz_buf_appendz(&b, ", ");
        bz_buf_append(&b, brace + 1, n - (size_t)(brace + 1 - task));
        if (b.rc) {
            bz_buf_free(&b);
            return bz_err(err, BZ_NOMEM, "out of memory");
        }
        task = b.data;
        n = b.n;
    }
    pthread_mutex_lock(&x->mu);
    int i = exec_rtasks_add(&x->t, task, n, err);
    int rc = i < 0 ? (err->code ? err->code : BZ_ERROR) : enqueue_locked(x, i, err);
    if (!rc) x->pending++;
    pthread_mutex_unlock(&x->mu);
    bz_buf_free(&b);
    return rc;
}

/* Start a duplicate of each straggler (mutex held). */
static void speculate_locked(LambdaExec *x) {
    uint64_t now = bz_now_ms();
    int64_t late = exec_rtasks_late_ms(&x->t);
    BzErr e;
    if (x->t.nDone == 0) return; /* nothing to compare with yet */
    for (int i = 0; i < x->t.n; i++) {
        ExecRTask *r = &x->t.a[i];
        if (r->bDone || r->nRunning != 1 || r->nIssued >= EXEC_MAX_ISSUES) continue;
        if ((int64_t)(now - r->tStart) < late) continue;
        if (enqueue_locked(x, i, &e) == BZ_OK) x->base.counters.speculative++;
    }
}

static int lambda_collect(Executor *ex, uint8_t **out, size_t *n, BzErr *err) {
    LambdaExec *x = (LambdaExec *)ex;
    int rc = BZ_DONE;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&x->mu);
    while (x->pending > 0) {
        Event *ev = x->evHead;
        if (!ev) {
            speculate_locked(x);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&x->cvEvent, &x->mu, &ts);
            continue;
        }
        x->evHead = ev->next;
        if (!x->evHead) x->evTail = NULL;
        ExecRTask *r = &x->t.a[ev->iTask];
        if (r->bDone) {
            if (ev->rc == BZ_OK) {
                WireReader wr;
                BzErr e2;
                x->base.counters.duplicates++;
                if (wire_reader_open(&wr, ev->data, ev->n, &e2) == BZ_OK) {
                    x->base.counters.billedMs += exec_billed_ms(wr.hdr.ms);
                    wire_reader_close(&wr);
                }
            }
        } else if (ev->rc == BZ_OK) {
            int64_t id;
            int status;
            WireReader wr;
            BzErr e2;
            int64_t ms = 0;
            if (exec_result_peek(ev->data, ev->n, &id, &status) == BZ_OK && id == r->id &&
                wire_reader_open(&wr, ev->data, ev->n, &e2) == BZ_OK) {
                ms = wr.hdr.ms;
                wire_reader_close(&wr);
            }
            exec_rtasks_done(&x->t, ev->iTask, ms);
            x->pending--;
            *out = ev->data;
            *n = ev->n;
            ev->data = NULL;
            bz_free(ev);
            rc = BZ_OK;
            break;
        } else if (r->nRunning == 0) {
            /* every copy has ended; a later event of this task decides if one is queued */
            int queued = 0;
            for (Event *o = x->evHead; o && !queued; o = o->next)
                queued = o->iTask == ev->iTask;
            if (!queued) {
                if (ev->bRetry && r->nIssued < EXEC_MAX_ISSUES &&
                    enqueue_locked(x, ev->iTask, err) == BZ_OK) {
                    x->base.counters.retries++;
                } else {
                    rc = bz_err(err, ev->rc ? ev->rc : BZ_ERROR,
                                "lambda executor: task %lld, %d attempt%s: %s", (long long)r->id,
                                r->nIssued, r->nIssued == 1 ? "" : "s", ev->msg);
                    bz_free(ev->data);
                    bz_free(ev);
                    break;
                }
            }
        }
        /* else: a copy is still running, it may succeed */
        bz_free(ev->data);
        bz_free(ev);
    }
    if (x->pending < 0) rc = bz_err(err, BZ_NOMEM, "out of memory in an invoker thread");
    pthread_mutex_unlock(&x->mu);
    return rc;
}

/* Joins every invoker thread before returning: a thread still running code
** of this library after close would crash a host that unloads the extension
** when the connection closes. */
static void lambda_close(Executor *ex) {
    LambdaExec *x = (LambdaExec *)ex;
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_cond_broadcast(&x->cvWork);
    pthread_mutex_unlock(&x->mu);
    for (int i = 0; i < x->nTh; i++)
        pthread_join(x->aTh[i], NULL);
    pthread_mutex_lock(&x->mu);
    lx_unref_locked(x);
}

int exec_lambda_create(const ExecLambdaOptions *o, Executor **out, BzErr *err) {
    const char *fn = o->zFunction && *o->zFunction ? o->zFunction : DEFAULT_FUNCTION;
    LambdaExec *x;
    AwsClientOptions co;
    int rc;
    *out = NULL;
    for (const char *c = fn; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == ':'))
            return bz_err(err, BZ_MISUSE, "lambda executor: bad function name '%.80s'", fn);
    x = bz_calloc(1, sizeof *x);
    if (!x) return bz_err(err, BZ_NOMEM, "out of memory");
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cvWork, NULL);
    pthread_cond_init(&x->cvEvent, NULL);
    x->refs = 1;
    x->maxConc = o->maxConcurrency > 0 ? o->maxConcurrency : 100;
    x->t.floorMs = o->floorMs;
    x->base.zName = "lambda";
    x->base.nWorkers = x->maxConc;
    x->base.submit = lambda_submit;
    x->base.collect = lambda_collect;
    x->base.close = lambda_close;
    x->zPath = bz_mprintf("/2015-03-31/functions/%s/invocations", fn);
    x->zLabel = bz_mprintf("lambda function %s", fn);
    x->zFunction = bz_strdup(fn);
    x->zRegion = aws_region_find(NULL);
    if (!x->zRegion) {
        /* Rationale: a Lambda function lives in one region; guessing
        ** us-east-1 (what S3 may do) would invoke the wrong one or none. */
        lx_free(x);
        return bz_err(err, BZ_MISUSE,
                      "lambda executor: no AWS region for function '%s': set AWS_REGION (or "
                      "AWS_DEFAULT_REGION, or region in the profile's AWS config file)",
                      fn);
    }
    if (!x->zPath || !x->zLabel || !x->zFunction) {
        lx_free(x);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    memset(&co, 0, sizeof co);
    co.service = "lambda";
    co.region = x->zRegion;
    co.timeout_ms = o->timeoutMs > 0 ? o->timeoutMs : 900000;
    co.low_speed_time_s = co.timeout_ms / 1000 + 1; /* an invocation sends nothing until done */
    co.max_parallel = 1;
    rc = aws_client_new(&co, &x->cl, err);
    if (!rc && o->zScratch && *o->zScratch) {
        if (strncmp(o->zScratch, "s3://", 5))
            rc = bz_err(err, BZ_MISUSE, "scratch: expected s3://bucket/prefix, got '%.80s'",
                        o->zScratch);
        else if (!(x->zScratch = bz_strdup(o->zScratch)))
            rc = bz_err(err, BZ_NOMEM, "out of memory");
        else
            rc = aws_s3_new(NULL, &x->s3, err);
    }
    if (rc) {
        bz_err_prefix(err, "lambda executor");
        lx_free(x);
        return rc;
    }
    *out = &x->base;
    return BZ_OK;
}

void exec_lambda_response(const uint8_t *res, size_t n, BzBuf *out) {
    bz_buf_appendz(out, "{\"result\": \"");
    aws_ddb_base64_encode(out, res, n);
    bz_buf_appendz(out, "\"}");
}
