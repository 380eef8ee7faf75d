/*
** aws_ddb.c: the DynamoDB client (see aws_ddb.h): operations over
** aws_client_run, DescribeTable, reads with expression building and answer
** decoding, and the write set (merging, TransactWriteItems, BatchWriteItem).
**
**     AwsDdbTxn *x;
**     aws_ddb_txn_new(&ti, "sheep", &x, &err);
**     aws_ddb_txn_add(x, AWS_DDB_PUT_NEW, key, NULL, attrs, 2, &err);
**     rc = aws_ddb_txn_apply(d, x, 0, &err);  // "UNIQUE constraint failed: sheep.tattoo"
**     aws_ddb_txn_free(x);
**
** Every attribute name and value in an expression goes through
** ExpressionAttributeNames (#n0, #n1, ...) and ExpressionAttributeValues
** (:v0, ...), so reserved words ("size", "name") and names with dots or
** spaces need no quoting.
**
** Rationale (performance): request bodies are written straight into a BzBuf;
** read answers are decoded in one pass straight into cells (aws_ddb_reply.c),
** into rows whose memory is reused from page to page; aws_ddb_read_start
** fetches and decodes the next pages on a thread while the caller consumes
** the current ones.
*/
#include "aws/dynamodb/aws_ddb_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define DDB_MAX_BODY (64u << 20)      /* answers are at most ~16 MB (BatchGetItem) */
#define DDB_TXN_MAX 100               /* TransactWriteItems limit */
#define DDB_BATCH_WRITE 25            /* BatchWriteItem limit */
#define DDB_BATCH_GET 100             /* BatchGetItem limit */
#define DDB_UNPROCESSED_ROUNDS 64     /* rounds without any progress before giving up */

struct AwsDdb {
    AwsClient *cl;
    pthread_mutex_t mu;
    AwsDdbStats stats;
};

static void stats_add(AwsDdb *d, uint64_t req, uint64_t items, uint64_t retries) {
    pthread_mutex_lock(&d->mu);
    d->stats.requests += req;
    d->stats.items += items;
    d->stats.retries += retries;
    pthread_mutex_unlock(&d->mu);
}

void aws_ddb_stats(AwsDdb *d, AwsDdbStats *out) {
    AwsClientStats cs;
    pthread_mutex_lock(&d->mu);
    *out = d->stats;
    pthread_mutex_unlock(&d->mu);
    aws_client_stats(d->cl, &cs);
    out->retries += cs.retries; /* throttling, 5xx, resets (aws_client_run) */
}

int aws_ddb_new(const AwsDdbOptions *o, AwsDdb **out, BzErr *err) {
    AwsClientOptions co = {0};
    AwsDdb *d;
    int rc;
    *out = NULL;
    d = bz_calloc(1, sizeof *d);
    if (!d) return bz_err(err, BZ_NOMEM, "out of memory");
    co.service = "dynamodb";
    co.region = o->region;
    co.endpoint = o->endpoint;
    co.profile = o->profile;
    co.max_parallel = o->max_parallel > 0 ? o->max_parallel : 16;
    co.hedge_min_ms = 600000; /* writes are not idempotent under a hedge race */
    /* DynamoDB throttles by design: 10 attempts unless BZ_AWS_MAX_ATTEMPTS says */
    {
        const char *ma = getenv("BZ_AWS_MAX_ATTEMPTS");
        co.max_attempts = ma && *ma ? 0 : 10;
    }
    rc = aws_client_new(&co, &d->cl, err);
    if (rc) {
        bz_free(d);
        return rc;
    }
    pthread_mutex_init(&d->mu, NULL);
    *out = d;
    return BZ_OK;
}

void aws_ddb_free(AwsDdb *d) {
    if (!d) return;
    aws_client_free(d->cl);
    pthread_mutex_destroy(&d->mu);
    bz_free(d);
}

/* ---- calls -------------------------------------------------------------------- */

typedef struct DdbCall {
    AwsCall call;
    AwsHeader hdr[2];
    char target[64];
    char *body;      /* owned */
    size_t n_body;
} DdbCall;

static void ddb_call_init(DdbCall *c, const char *op, const char *label, char *body, size_t n) {
    memset(c, 0, sizeof *c);
    snprintf(c->target, sizeof c->target, "DynamoDB_20120810.%s", op);
    c->hdr[0].name = "Content-Type";
    c->hdr[0].value = "application/x-amz-json-1.0";
    c->hdr[1].name = "X-Amz-Target";
    c->hdr[1].value = c->target;
    c->body = body;
    c->n_body = n;
    c->call.method = "POST";
    c->call.path = "/";
    c->call.headers = c->hdr;
    c->call.n_headers = 2;
    c->call.body = body;
    c->call.n_body = n;
    c->call.max_body = DDB_MAX_BODY;
    c->call.label = label;
}

static void ddb_call_free(DdbCall *c) {
    aws_call_free(&c->call);
    bz_free(c->body);
    c->body = NULL;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Exponential backoff with full jitter: random(0, min(2000, 50 * 2^attempt)) ms
** (UnprocessedKeys / UnprocessedItems rounds). */
static void backoff(int attempt) {
    unsigned cap = 50u << (attempt < 6 ? attempt : 6);
    if (cap > 2000) cap = 2000;
    sleep_ms((unsigned)rand() % (cap + 1));
}

/* Run calls concurrently; returns the first failure. Throttling
** (ProvisionedThroughputExceededException, ThrottlingException,
** RequestLimitExceeded, LimitExceededException), 5xx and connection errors
** are retried with backoff by aws_client_run, within the client's budget.
** Rationale: a second retry loop here multiplied that budget (a persistent
** throttle sent 11 x max_attempts requests while the error said "gave up
** after <max_attempts> attempts"). */
static int ddb_run(AwsDdb *d, DdbCall *calls, int n, BzErr *err) {
    AwsCall *tmp = bz_malloc(sizeof(AwsCall) * (size_t)(n ? n : 1));
    int rc = BZ_OK, i;
    BzErr e = {0};
    if (!tmp) return bz_err(err, BZ_NOMEM, "out of memory");
    for (i = 0; i < n; i++) tmp[i] = calls[i].call;
    aws_client_run(d->cl, tmp, n, &e);
    stats_add(d, (uint64_t)n, 0, 0);
    for (i = 0; i < n; i++) calls[i].call = tmp[i];
    for (i = 0; i < n; i++)
        if (calls[i].call.rc) {
            *err = calls[i].call.err;
            rc = calls[i].call.rc;
            break;
        }
    bz_free(tmp);
    return rc;
}

int aws_ddb_call(AwsDdb *d, const char *op, const char *label, const char *body, size_t n_body,
                 char **reply, char *err_code, BzErr *err) {
    DdbCall c;
    int rc;
    *reply = NULL;
    if (err_code) err_code[0] = 0;
    ddb_call_init(&c, op, label, NULL, 0);
    c.call.body = body;
    c.call.n_body = n_body;
    rc = ddb_run(d, &c, 1, err);
    if (rc) {
        if (err_code) snprintf(err_code, 64, "%s", c.call.err_code);
        /* keep the error body for callers that read details (cancellation reasons) */
        if (c.call.body_out.data && c.call.body_out.n) *reply = bz_buf_take(&c.call.body_out);
    } else {
        if (c.call.body_out.rc) {
            rc = bz_err(err, BZ_NOMEM, "%s: out of memory reading the answer", label);
        } else {
            *reply = bz_buf_take(&c.call.body_out);
            if (!*reply) rc = bz_err(err, BZ_NOMEM, "out of memory");
        }
    }
    ddb_call_free(&c);
    return rc;
}

/* ---- DescribeTable -------------------------------------------------------------- */

static char attr_def_type(const cJSON *defs, const char *name) {
    const cJSON *e;
    cJSON_ArrayForEach(e, defs) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "AttributeName");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "AttributeType");
        if (cJSON_IsString(n) && cJSON_IsString(t) && !strcmp(n->valuestring, name))
            return t->valuestring[0];
    }
    return 0;
}

static int parse_key_schema(const cJSON *ks, const cJSON *defs, AwsDdbKey *k) {
    const cJSON *e;
    cJSON_ArrayForEach(e, ks) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "AttributeName");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "KeyType");
        if (!cJSON_IsString(n) || !cJSON_IsString(t)) return BZ_CORRUPT;
        if (!strcmp(t->valuestring, "HASH")) {
            k->hash = bz_strdup(n->valuestring);
            k->hash_type = attr_def_type(defs, n->valuestring);
            if (!k->hash) return BZ_NOMEM;
        } else if (!strcmp(t->valuestring, "RANGE")) {
            k->range = bz_strdup(n->valuestring);
            k->range_type = attr_def_type(defs, n->valuestring);
            if (!k->range) return BZ_NOMEM;
        }
    }
    return k->hash && k->hash_type ? BZ_OK : BZ_CORRUPT;
}

static void key_clear(AwsDdbKey *k) {
    bz_free(k->hash);
    bz_free(k->range);
    memset(k, 0, sizeof *k);
}

void aws_ddb_table_clear(AwsDdbTable *t) {
    if (!t) return;
    bz_free(t->name);
    key_clear(&t->key);
    for (int i = 0; i < t->n_indexes; i++) {
        bz_free(t->indexes[i].name);
        key_clear(&t->indexes[i].key);
    }
    bz_free(t->indexes);
    memset(t, 0, sizeof *t);
}

char aws_ddb_attr_type(const AwsDdbTable *t, const char *attr) {
    if (t->key.hash && !strcmp(t->key.hash, attr)) return t->key.hash_type;
    if (t->key.range && !strcmp(t->key.range, attr)) return t->key.range_type;
    for (int i = 0; i < t->n_indexes; i++) {
        const AwsDdbKey *k = &t->indexes[i].key;
        if (k->hash && !strcmp(k->hash, attr)) return k->hash_type;
        if (k->range && !strcmp(k->range, attr)) return k->range_type;
    }
    return 0;
}

static int add_indexes(AwsDdbTable *t, const cJSON *arr, const cJSON *defs, int global) {
    const cJSON *e;
    int n = cJSON_GetArraySize(arr);
    AwsDdbIndex *ni;
    if (n <= 0) return BZ_OK;
    ni = bz_realloc(t->indexes, sizeof *ni * (size_t)(t->n_indexes + n));
    if (!ni) return BZ_NOMEM;
    t->indexes = ni;
    cJSON_ArrayForEach(e, arr) {
        AwsDdbIndex *x = &t->indexes[t->n_indexes];
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "IndexName");
        memset(x, 0, sizeof *x);
        if (!cJSON_IsString(nm)) return BZ_CORRUPT;
        x->name = bz_strdup(nm->valuestring);
        x->global = global;
        t->n_indexes++;
        if (!x->name) return BZ_NOMEM;
        int rc = parse_key_schema(cJSON_GetObjectItemCaseSensitive(e, "KeySchema"), defs, &x->key);
        if (rc) return rc;
    }
    return BZ_OK;
}

static char *label_for(const char *table) { return bz_mprintf("dynamodb table %s", table); }

int aws_ddb_describe(AwsDdb *d, const char *table, AwsDdbTable *out, BzErr *err) {
    BzBuf b;
    char *reply = NULL, *label = label_for(table), code[64];
    cJSON *j = NULL;
    const cJSON *t, *defs;
    int rc;
    memset(out, 0, sizeof *out);
    bz_buf_init(&b, 0);
    bz_buf_appendz(&b, "{\"TableName\":");
    bz_buf_json_str(&b, table, strlen(table));
    bz_buf_appendc(&b, '}');
    if (b.rc || !label) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto done;
    }
    rc = aws_ddb_call(d, "DescribeTable", label, b.data, b.n, &reply, code, err);
    if (rc) {
        if (!strcmp(code, "ResourceNotFoundException")) err->code = rc = BZ_NOTFOUND;
        goto done;
    }
    j = cJSON_Parse(reply);
    t = cJSON_GetObjectItemCaseSensitive(j, "Table");
    defs = cJSON_GetObjectItemCaseSensitive(t, "AttributeDefinitions");
    if (!t) {
        rc = bz_err(err, BZ_CORRUPT, "%s: malformed DescribeTable answer", label);
        goto done;
    }
    out->name = bz_strdup(table);
    if (!out->name) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto done;
    }
    rc = parse_key_schema(cJSON_GetObjectItemCaseSensitive(t, "KeySchema"), defs, &out->key);
    if (!rc)
        rc = add_indexes(out, cJSON_GetObjectItemCaseSensitive(t, "GlobalSecondaryIndexes"), defs, 1);
    if (!rc)
        rc = add_indexes(out, cJSON_GetObjectItemCaseSensitive(t, "LocalSecondaryIndexes"), defs, 0);
    if (rc) {
        bz_err(err, rc, "%s: malformed key schema in DescribeTable answer", label);
        aws_ddb_table_clear(out);
        goto done;
    }
    {
        const cJSON *ic = cJSON_GetObjectItemCaseSensitive(t, "ItemCount");
        if (cJSON_IsNumber(ic)) out->item_count = (int64_t)ic->valuedouble;
    }
done:
    cJSON_Delete(j);
    bz_free(reply);
    bz_free(label);
    bz_buf_free(&b);
    return rc;
}

/* ---- keys ----------------------------------------------------------------------- */

char *aws_ddb_key_json(const AwsDdbKey *k, const AwsDdbValue *hash, const AwsDdbValue *range,
                       BzErr *err) {
    BzBuf b;
    bz_buf_init(&b, 0);
    bz_buf_appendc(&b, '{');
    bz_buf_json_str(&b, k->hash, strlen(k->hash));
    bz_buf_appendc(&b, ':');
    if (aws_ddb_value_json(&b, hash, k->hash_type, 0, err)) goto fail;
    if (k->range && range) {
        bz_buf_appendc(&b, ',');
        bz_buf_json_str(&b, k->range, strlen(k->range));
        bz_buf_appendc(&b, ':');
        if (aws_ddb_value_json(&b, range, k->range_type, 0, err)) goto fail;
    }
    bz_buf_appendc(&b, '}');
    if (b.rc) {
        bz_err(err, BZ_NOMEM, "out of memory");
        goto fail;
    }
    return bz_buf_take(&b);
fail:
    bz_buf_free(&b);
    return NULL;
}

/* ---- expressions ------------------------------------------------------------------ */

typedef struct Expr {
    BzBuf names;       /* "#n0":"attr",... */
    BzBuf values;      /* ":v0":{...},... */
    const char **nm;   /* distinct names so far (borrowed) */
    int n_nm, cap_nm;
    int n_val;
    int rc;
    BzErr *err;
} Expr;

static void expr_init(Expr *e, BzErr *err) {
    memset(e, 0, sizeof *e);
    bz_buf_init(&e->names, 0);
    bz_buf_init(&e->values, 0);
    e->err = err;
}

static void expr_free(Expr *e) {
    bz_buf_free(&e->names);
    bz_buf_free(&e->values);
    bz_free(e->nm);
}

/* Append "#nK" for attr to out. */
static void expr_name(Expr *e, BzBuf *out, const char *attr) {
    int i;
    for (i = 0; i < e->n_nm; i++)
        if (!strcmp(e->nm[i], attr)) break;
    if (i == e->n_nm) {
        if (e->n_nm == e->cap_nm) {
            int cap = e->cap_nm ? e->cap_nm * 2 : 8;
            const char **p = bz_realloc(e->nm, sizeof *p * (size_t)cap);
            if (!p) {
                e->rc = BZ_NOMEM;
                return;
            }
            e->nm = p;
            e->cap_nm = cap;
        }
        e->nm[e->n_nm++] = attr;
        bz_buf_printf(&e->names, "%s\"#n%d\":", i ? "," : "", i);
        bz_buf_json_str(&e->names, attr, strlen(attr));
    }
    bz_buf_printf(out, "#n%d", i);
}

/* Append ":vK" for a value given as AttributeValue JSON text. */
static void expr_value_raw(Expr *e, BzBuf *out, const char *av) {
    bz_buf_printf(&e->values, "%s\":v%d\":%s", e->n_val ? "," : "", e->n_val, av);
    bz_buf_printf(out, ":v%d", e->n_val++);
}

static void expr_value(Expr *e, BzBuf *out, const AwsDdbValue *v, char key_type) {
    int mark;
    if (e->rc) return;
    bz_buf_printf(&e->values, "%s\":v%d\":", e->n_val ? "," : "", e->n_val);
    mark = e->err->code;
    if (aws_ddb_value_json(&e->values, v, key_type, 0, e->err)) {
        e->rc = e->err->code;
        return;
    }
    (void)mark;
    bz_buf_printf(out, ":v%d", e->n_val++);
}

static void expr_cond(Expr *e, BzBuf *out, const AwsDdbCond *c) {
    static const char *const ops[] = {"", "=", "<>", "<", "<=", ">", ">="};
    switch (c->op) {
    case AWS_DDB_EQ:
    case AWS_DDB_NE:
    case AWS_DDB_LT:
    case AWS_DDB_LE:
    case AWS_DDB_GT:
    case AWS_DDB_GE:
        expr_name(e, out, c->attr);
        bz_buf_printf(out, " %s ", ops[c->op]);
        expr_value(e, out, &c->v, c->key_type);
        break;
    case AWS_DDB_BEGINS:
        bz_buf_appendz(out, "begins_with(");
        expr_name(e, out, c->attr);
        bz_buf_appendz(out, ", ");
        expr_value(e, out, &c->v, c->key_type);
        bz_buf_appendc(out, ')');
        break;
    case AWS_DDB_BETWEEN:
        expr_name(e, out, c->attr);
        bz_buf_appendz(out, " BETWEEN ");
        expr_value(e, out, &c->v, c->key_type);
        bz_buf_appendz(out, " AND ");
        expr_value(e, out, &c->v2, c->key_type);
        break;
    case AWS_DDB_ISNULL:
        bz_buf_appendz(out, "(attribute_not_exists(");
        expr_name(e, out, c->attr);
        bz_buf_appendz(out, ") OR attribute_type(");
        expr_name(e, out, c->attr);
        bz_buf_appendz(out, ", ");
        expr_value_raw(e, out, "{\"S\":\"NULL\"}");
        bz_buf_appendz(out, "))");
        break;
    case AWS_DDB_NOTNULL:
        bz_buf_appendz(out, "(attribute_exists(");
        expr_name(e, out, c->attr);
        bz_buf_appendz(out, ") AND NOT attribute_type(");
        expr_name(e, out, c->attr);
        bz_buf_appendz(out, ", ");
        expr_value_raw(e, out, "{\"S\":\"NULL\"}");
        bz_buf_appendz(out, "))");
        break;
    default:
        e->rc = bz_err(e->err, BZ_MISUSE, "unknown condition operator %d", c->op);
    }
}

static void json_key(BzBuf *b, const char *k) {
    bz_buf_appendc(b, ',');
    bz_buf_json_str(b, k, strlen(k));
    bz_buf_appendc(b, ':');
}

/* Append ,"ExpressionAttributeNames":{..},"ExpressionAttributeValues":{..}. */
static void expr_finish(Expr *e, BzBuf *b) {
    if (e->names.n) {
        bz_buf_appendz(b, ",\"ExpressionAttributeNames\":{");
        bz_buf_append(b, e->names.data, e->names.n);
        bz_buf_appendc(b, '}');
    }
    if (e->values.n) {
        bz_buf_appendz(b, ",\"ExpressionAttributeValues\":{");
        bz_buf_append(b, e->values.data, e->values.n);
        bz_buf_appendc(b, '}');
    }
    if (e->names.rc || e->values.rc) e->rc = BZ_NOMEM;
}

static void projection(Expr *e, BzBuf *b, const AwsDdbRead *r) {
    if (!r->project || r->count_only) return;
    bz_buf_appendz(b, ",\"ProjectionExpression\":\"");
    for (int i = 0; i < r->n_project; i++) {
        if (i) bz_buf_appendc(b, ',');
        expr_name(e, b, r->project[i]);
    }
    bz_buf_appendc(b, '"');
}

/* Body of a Scan or Query request. */
static char *read_body(const AwsDdbRead *r, size_t *n, BzErr *err) {
    BzBuf b;
    Expr e;
    int i;
    bz_buf_init(&b, 0);
    expr_init(&e, err);
    bz_buf_appendz(&b, "{\"TableName\":");
    bz_buf_json_str(&b, r->table, strlen(r->table));
    if (r->index) {
        json_key(&b, "IndexName");
        bz_buf_json_str(&b, r->index, strlen(r->index));
    }
    if (r->op == AWS_DDB_QUERY && r->n_keys) {
        bz_buf_appendz(&b, ",\"KeyConditionExpression\":\"");
        for (i = 0; i < r->n_keys; i++) {
            if (i) bz_buf_appendz(&b, " AND ");
            expr_cond(&e, &b, &r->keys[i]);
        }
        bz_buf_appendc(&b, '"');
        if (r->descending) bz_buf_appendz(&b, ",\"ScanIndexForward\":false");
    }
    if (r->n_filter) {
        bz_buf_appendz(&b, ",\"FilterExpression\":\"");
        for (i = 0; i < r->n_filter; i++) {
            if (i) bz_buf_appendz(&b, " AND ");
            expr_cond(&e, &b, &r->filter[i]);
        }
        bz_buf_appendc(&b, '"');
    }
    projection(&e, &b, r);
    if (r->count_only) bz_buf_appendz(&b, ",\"Select\":\"COUNT\"");
    if (r->consistent) bz_buf_appendz(&b, ",\"ConsistentRead\":true");
    if (r->limit > 0) bz_buf_printf(&b, ",\"Limit\":%lld", (long long)r->limit);
    if (r->op == AWS_DDB_SCAN && r->total_segments > 1)
        bz_buf_printf(&b, ",\"Segment\":%d,\"TotalSegments\":%d", r->segment, r->total_segments);
    if (r->start_key) {
        bz_buf_appendz(&b, ",\"ExclusiveStartKey\":");
        bz_buf_appendz(&b, r->start_key);
    }
    expr_finish(&e, &b);
    bz_buf_appendc(&b, '}');
    if (e.rc || b.rc) {
        int rc = e.rc ? e.rc : b.rc;
        if (rc == BZ_NOMEM || !err->msg[0]) bz_err(err, rc, "out of memory");
        expr_free(&e);
        bz_buf_free(&b);
        return NULL;
    }
    expr_free(&e);
    *n = b.n;
    return bz_buf_take(&b);
}

/* Body of a BatchGetItem (keys [from, to)) or GetItem (one key). */
static char *get_body(const AwsDdbRead *r, int from, int to, size_t *n, BzErr *err) {
    BzBuf b;
    Expr e;
    bz_buf_init(&b, 0);
    expr_init(&e, err);
    if (to - from == 1) {
        bz_buf_appendz(&b, "{\"TableName\":");
        bz_buf_json_str(&b, r->table, strlen(r->table));
        bz_buf_appendz(&b, ",\"Key\":");
        bz_buf_appendz(&b, r->get_keys[from]);
    } else {
        bz_buf_appendz(&b, "{\"RequestItems\":{");
        bz_buf_json_str(&b, r->table, strlen(r->table));
        bz_buf_appendz(&b, ":{\"Keys\":[");
        for (int i = from; i < to; i++) {
            if (i > from) bz_buf_appendc(&b, ',');
            bz_buf_appendz(&b, r->get_keys[i]);
        }
        bz_buf_appendc(&b, ']');
    }
    projection(&e, &b, r);
    if (r->consistent) bz_buf_appendz(&b, ",\"ConsistentRead\":true");
    expr_finish(&e, &b);
    bz_buf_appendz(&b, to - from == 1 ? "}" : "}}}");
    if (e.rc || b.rc) {
        bz_err(err, BZ_NOMEM, "out of memory");
        expr_free(&e);
        bz_buf_free(&b);
        return NULL;
    }
    expr_free(&e);
    *n = b.n;
    return bz_buf_take(&b);
}

/* ---- rows ------------------------------------------------------------------------ */

typedef struct RowSink {
    AwsDdbRows *rows;
    const char *const *cols;
    int num_mode;
    int want_items;
} RowSink;

static char *json_print_copy(const cJSON *j) {
    char *p = cJSON_PrintUnformatted(j), *r;
    if (!p) return NULL;
    r = bz_strdup(p);
    cJSON_free(p);
    return r;
}

/* Decode one Scan/Query/GetItem/BatchGetItem answer into the sink (one pass,
** aws_ddb_reply.c); Scan/Query update the request's start key. */
static int decode_page(AwsDdbRead *r, RowSink *s, const char *body, size_t n, const char *label,
                       AwsDdbReplyInfo *info, BzErr *err) {
    int rc = aws_ddb_reply_decode(body, n, r->table, s->cols, s->rows->n_cols, s->num_mode,
                                  s->want_items, s->rows, info);
    if (rc == BZ_NOMEM) return bz_err(err, rc, "%s: out of memory", label);
    if (rc)
        return bz_err(err, rc, "%s: malformed answer at offset %zu: %s", label, info->err_offset,
                      info->what);
    if (r->op == AWS_DDB_GET) {
        s->rows->count += info->n_items;
        return BZ_OK;
    }
    s->rows->count += info->count;
    s->rows->scanned += info->scanned;
    bz_free(r->start_key);
    r->start_key = NULL;
    if (info->last_key && !(r->start_key = bz_strndup(info->last_key, info->n_last_key)))
        return bz_err(err, BZ_NOMEM, "out of memory");
    r->done = r->start_key == NULL;
    return BZ_OK;
}

/* Every key of a GET request, BatchGetItem by 100, UnprocessedKeys retried. */
static int read_get(AwsDdb *d, AwsDdbRead *r, RowSink *s, const char *label, BzErr *err) {
    int nk = r->n_get_keys, nb = (nk + DDB_BATCH_GET - 1) / DDB_BATCH_GET, rc = BZ_OK, i;
    DdbCall *calls;
    char **pending = NULL; /* UnprocessedKeys bodies to send again */
    int n_pending = 0, rounds = 0;
    if (nk == 0) {
        r->done = 1;
        return BZ_OK;
    }
    calls = bz_calloc((size_t)nb, sizeof *calls);
    if (!calls) return bz_err(err, BZ_NOMEM, "out of memory");
    for (i = 0; i < nb; i++) {
        size_t n = 0;
        int from = i * DDB_BATCH_GET, to = BZ_MIN(nk, from + DDB_BATCH_GET);
        char *body = get_body(r, from, to, &n, err);
        if (!body) {
            rc = err->code;
            nb = i;
            goto done;
        }
        ddb_call_init(&calls[i], to - from == 1 ? "GetItem" : "BatchGetItem", label, body, n);
    }
    rc = ddb_run(d, calls, nb, err);
    for (;;) {
        if (rc) goto done;
        pending = NULL;
        n_pending = 0;
        for (i = 0; i < nb && !rc; i++) {
            const char *body = calls[i].call.body_out.data ? calls[i].call.body_out.data : "{}";
            size_t n = calls[i].call.body_out.data ? calls[i].call.body_out.n : 2;
            AwsDdbReplyInfo info;
            rc = decode_page(r, s, body, n, label, &info, err);
            if (!rc && info.unprocessed) {
                /* {"RequestItems": <UnprocessedKeys>} */
                char *again = bz_mprintf("{\"RequestItems\":%.*s}", (int)info.n_unprocessed,
                                         info.unprocessed);
                if (!again) rc = bz_err(err, BZ_NOMEM, "out of memory");
                else {
                    char **p = bz_realloc(pending, sizeof *p * (size_t)(n_pending + 1));
                    if (!p) {
                        bz_free(again);
                        rc = bz_err(err, BZ_NOMEM, "out of memory");
                    } else {
                        pending = p;
                        pending[n_pending++] = again;
                    }
                }
            }
        }
        for (i = 0; i < nb; i++) ddb_call_free(&calls[i]);
        nb = 0;
        if (rc || !n_pending) break;
        if (++rounds > DDB_UNPROCESSED_ROUNDS) {
            rc = bz_err(err, BZ_TIMEOUT, "%s: BatchGetItem keys still unprocessed after %d rounds",
                        label, rounds);
            break;
        }
        backoff(rounds);
        stats_add(d, 0, 0, (uint64_t)n_pending);
        {
            DdbCall *nc = bz_realloc(calls, sizeof *nc * (size_t)n_pending);
            if (!nc) {
                rc = bz_err(err, BZ_NOMEM, "out of memory");
                break;
            }
            calls = nc;
        }
        for (i = 0; i < n_pending; i++)
            ddb_call_init(&calls[i], "BatchGetItem", label, pending[i], strlen(pending[i]));
        nb = n_pending;
        bz_free(pending);
        pending = NULL;
        n_pending = 0;
        rc = ddb_run(d, calls, nb, err);
    }
done:
    for (i = 0; i < n_pending; i++) bz_free(pending[i]);
    bz_free(pending);
    for (i = 0; i < nb; i++) ddb_call_free(&calls[i]);
    bz_free(calls);
    r->done = 1;
    return rc;
}

int aws_ddb_read(AwsDdb *d, AwsDdbRead *reqs, int n, const char *const *cols, int n_cols,
                 int num_mode, int want_items, AwsDdbRows *rows, BzErr *err) {
    DdbCall *calls = NULL;
    int *idx = NULL, nc = 0, rc = BZ_OK, i;
    RowSink *sinks = NULL;
    char *label = NULL;
    for (i = 0; i < n; i++) {
        aws_ddb_rows_reset(&rows[i]);
        rows[i].n_cols = n_cols;
    }
    if (n == 0) return BZ_OK;
    label = label_for(reqs[0].table);
    calls = bz_calloc((size_t)n, sizeof *calls);
    idx = bz_calloc((size_t)n, sizeof *idx);
    sinks = bz_calloc((size_t)n, sizeof *sinks);
    if (!label || !calls || !idx || !sinks) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        RowSink *s = &sinks[i];
        s->rows = &rows[i];
        s->cols = cols;
        s->num_mode = num_mode;
        s->want_items = want_items;
        if (reqs[i].done) continue;
        if (reqs[i].op == AWS_DDB_GET) {
            rc = read_get(d, &reqs[i], s, label, err);
            if (rc) goto done;
            continue;
        }
        {
            size_t nb = 0;
            char *body = read_body(&reqs[i], &nb, err);
            if (!body) {
                rc = err->code;
                goto done;
            }
            ddb_call_init(&calls[nc], reqs[i].op == AWS_DDB_QUERY ? "Query" : "Scan", label, body, nb);
            idx[nc++] = i;
        }
    }
    if (nc) {
        rc = ddb_run(d, calls, nc, err);
        for (i = 0; i < nc && !rc; i++) {
            AwsDdbReplyInfo info;
            rc = decode_page(&reqs[idx[i]], &sinks[idx[i]], calls[i].call.body_out.data,
                             calls[i].call.body_out.n, label, &info, err);
        }
    }
    {
        uint64_t items = 0;
        for (i = 0; i < n; i++) items += (uint64_t)rows[i].n_rows;
        stats_add(d, 0, items, 0);
    }
done:
    for (i = 0; i < nc; i++) ddb_call_free(&calls[i]);
    bz_free(calls);
    bz_free(idx);
    bz_free(sinks);
    bz_free(label);
    if (rc)
        for (i = 0; i < n; i++) aws_ddb_rows_reset(&rows[i]);
    return rc;
}

/* ---- reads on a thread ------------------------------------------------------------- */

struct AwsDdbPrefetch {
    pthread_t th;
    int started;      /* a thread runs the read (else it already ran) */
    AwsDdb *d;
    AwsDdbRead *reqs;
    int n;
    const char *const *cols;
    int n_cols, num_mode, want_items;
    AwsDdbRows *rows;
    int rc;
    BzErr err;
};

static void *prefetch_main(void *arg) {
    AwsDdbPrefetch *pf = arg;
    pf->rc = aws_ddb_read(pf->d, pf->reqs, pf->n, pf->cols, pf->n_cols, pf->num_mode,
                          pf->want_items, pf->rows, &pf->err);
    return NULL;
}

int aws_ddb_read_start(AwsDdb *d, AwsDdbRead *reqs, int n, const char *const *cols, int n_cols,
                       int num_mode, int want_items, AwsDdbRows *rows, AwsDdbPrefetch **out,
                       BzErr *err) {
    AwsDdbPrefetch *pf = bz_calloc(1, sizeof *pf);
    *out = NULL;
    if (!pf) return bz_err(err, BZ_NOMEM, "out of memory");
    pf->d = d;
    pf->reqs = reqs;
    pf->n = n;
    pf->cols = cols;
    pf->n_cols = n_cols;
    pf->num_mode = num_mode;
    pf->want_items = want_items;
    pf->rows = rows;
    if (pthread_create(&pf->th, NULL, prefetch_main, pf) == 0) pf->started = 1;
    else prefetch_main(pf);
    *out = pf;
    return BZ_OK;
}

int aws_ddb_read_wait(AwsDdbPrefetch *pf, BzErr *err) {
    int rc;
    if (!pf) return BZ_OK;
    if (pf->started) pthread_join(pf->th, NULL);
    rc = pf->rc;
    if (rc) *err = pf->err;
    bz_free(pf);
    return rc;
}

int aws_ddb_get_item(AwsDdb *d, const char *table, const char *key_json, char **out, BzErr *err) {
    BzBuf b;
    char *reply = NULL, *label = label_for(table);
    cJSON *j;
    const cJSON *it;
    int rc;
    *out = NULL;
    bz_buf_init(&b, 0);
    bz_buf_appendz(&b, "{\"TableName\":");
    bz_buf_json_str(&b, table, strlen(table));
    bz_buf_appendz(&b, ",\"Key\":");
    bz_buf_appendz(&b, key_json);
    bz_buf_appendz(&b, ",\"ConsistentRead\":true}");
    if (b.rc || !label) {
        bz_buf_free(&b);
        bz_free(label);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    rc = aws_ddb_call(d, "GetItem", label, b.data, b.n, &reply, NULL, err);
    bz_buf_free(&b);
    if (rc) {
        bz_free(reply);
        bz_free(label);
        return rc;
    }
    j = cJSON_Parse(reply);
    it = cJSON_GetObjectItemCaseSensitive(j, "Item");
    if (!j) rc = bz_err(err, BZ_CORRUPT, "%s: malformed GetItem answer", label);
    else if (it && !(*out = json_print_copy(it))) rc = bz_err(err, BZ_NOMEM, "out of memory");
    cJSON_Delete(j);
    bz_free(reply);
    bz_free(label);
    return rc;
}

/* ---- write set ------------------------------------------------------------------- */

typedef struct TxnAttr {
    char *name;
    char *av;        /* AttributeValue JSON; NULL = REMOVE */
} TxnAttr;

typedef struct TxnOp {
    int kind;
    char *key;       /* canonical key JSON */
    uint64_t h;
    TxnAttr *a;
    int n_a, cap_a;
} TxnOp;

struct AwsDdbTxn {
    char *table;
    char *sql_name;
    char *key_cols;     /* "tattoo" or "pk, sk" qualified in messages */
    char *hash_attr;
    char *label;
    TxnOp *ops;
    int n, cap;
};

static uint64_t fnv1a(const char *z) {
    uint64_t h = 1469598103934665603ull;
    for (; *z; z++) h = (h ^ (unsigned char)*z) * 1099511628211ull;
    return h;
}

static void op_clear(TxnOp *o) {
    bz_free(o->key);
    for (int i = 0; i < o->n_a; i++) {
        bz_free(o->a[i].name);
        bz_free(o->a[i].av);
    }
    bz_free(o->a);
    memset(o, 0, sizeof *o);
}

int aws_ddb_txn_new(const AwsDdbTable *t, const char *sql_name, AwsDdbTxn **out, BzErr *err) {
    AwsDdbTxn *x = bz_calloc(1, sizeof *x);
    *out = NULL;
    if (!x) return bz_err(err, BZ_NOMEM, "out of memory");
    x->table = bz_strdup(t->name);
    x->sql_name = bz_strdup(sql_name);
    x->hash_attr = bz_strdup(t->key.hash);
    x->label = label_for(t->name);
    if (t->key.range)
        x->key_cols = bz_mprintf("%s.%s, %s.%s", sql_name, t->key.hash, sql_name, t->key.range);
    else
        x->key_cols = bz_mprintf("%s.%s", sql_name, t->key.hash);
    if (!x->table || !x->sql_name || !x->hash_attr || !x->label || !x->key_cols) {
        aws_ddb_txn_free(x);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    *out = x;
    return BZ_OK;
}

void aws_ddb_txn_free(AwsDdbTxn *x) {
    if (!x) return;
    aws_ddb_txn_truncate(x, 0);
    bz_free(x->ops);
    bz_free(x->table);
    bz_free(x->sql_name);
    bz_free(x->key_cols);
    bz_free(x->hash_attr);
    bz_free(x->label);
    bz_free(x);
}

int aws_ddb_txn_count(const AwsDdbTxn *x) { return x->n; }

void aws_ddb_txn_truncate(AwsDdbTxn *x, int n) {
    while (x->n > n) op_clear(&x->ops[--x->n]);
}

/* Set (or replace) attribute name to av (owned; NULL = remove). */
static int op_set(TxnOp *o, const char *name, char *av) {
    for (int i = 0; i < o->n_a; i++)
        if (!strcmp(o->a[i].name, name)) {
            bz_free(o->a[i].av);
            o->a[i].av = av;
            return BZ_OK;
        }
    if (o->n_a == o->cap_a) {
        int cap = o->cap_a ? o->cap_a * 2 : 8;
        TxnAttr *p = bz_realloc(o->a, sizeof *p * (size_t)cap);
        if (!p) {
            bz_free(av);
            return BZ_NOMEM;
        }
        o->a = p;
        o->cap_a = cap;
    }
    o->a[o->n_a].name = bz_strdup(name);
    if (!o->a[o->n_a].name) {
        bz_free(av);
        return BZ_NOMEM;
    }
    o->a[o->n_a++].av = av;
    return BZ_OK;
}

/* Lay the members of a DynamoDB JSON map over the op's attributes. */
static int op_set_map(TxnOp *o, const char *map_json, BzErr *err) {
    cJSON *j = cJSON_Parse(map_json), *e;
    int rc = BZ_OK;
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return bz_err(err, BZ_CORRUPT, "malformed item");
    }
    cJSON_ArrayForEach(e, j) {
        char *av = json_print_copy(e);
        if (!av || op_set(o, e->string, av)) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
    }
    cJSON_Delete(j);
    return rc;
}

int aws_ddb_txn_add(AwsDdbTxn *x, int kind, const char *key_json, const char *base_item,
                    const AwsDdbAttr *attrs, int n_attrs, BzErr *err) {
    TxnOp *o;
    int rc = BZ_OK;
    if (x->n == x->cap) {
        int cap = x->cap ? x->cap * 2 : 16;
        TxnOp *p = bz_realloc(x->ops, sizeof *p * (size_t)cap);
        if (!p) return bz_err(err, BZ_NOMEM, "out of memory");
        x->ops = p;
        x->cap = cap;
    }
    o = &x->ops[x->n];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->key = bz_strdup(key_json);
    if (!o->key) return bz_err(err, BZ_NOMEM, "out of memory");
    o->h = fnv1a(key_json);
    x->n++;
    if (kind != AWS_DDB_DELETE) {
        if (base_item && kind != AWS_DDB_UPDATE) rc = op_set_map(o, base_item, err);
        for (int i = 0; i < n_attrs && !rc; i++) {
            BzBuf b;
            char *av = NULL;
            if (attrs[i].v.type != AWS_DDB_NULL || kind == AWS_DDB_UPDATE) {
                if (attrs[i].v.type != AWS_DDB_NULL) {
                    bz_buf_init(&b, 0);
                    rc = aws_ddb_value_json(&b, &attrs[i].v, 0, 1, err);
                    if (!rc && b.rc) rc = bz_err(err, BZ_NOMEM, "out of memory");
                    if (rc) {
                        bz_err_prefix(err, "%s: column %s", x->label, attrs[i].name);
                        bz_buf_free(&b);
                        break;
                    }
                    av = bz_buf_take(&b);
                }
                if (op_set(o, attrs[i].name, av)) rc = bz_err(err, BZ_NOMEM, "out of memory");
            } else {
                /* NULL in a put: the attribute is left out (and dropped from a base item) */
                for (int k = 0; k < o->n_a; k++)
                    if (!strcmp(o->a[k].name, attrs[i].name)) {
                        bz_free(o->a[k].name);
                        bz_free(o->a[k].av);
                        o->a[k] = o->a[--o->n_a];
                        break;
                    }
            }
        }
        if (!rc && kind != AWS_DDB_UPDATE) rc = op_set_map(o, key_json, err);
    }
    if (rc) {
        op_clear(o);
        x->n--;
    }
    return rc;
}

/* Merge later into earlier (same key), in statement order. */
static int op_merge(AwsDdbTxn *x, TxnOp *m, TxnOp *o, BzErr *err) {
    int rc = BZ_OK;
    switch (o->kind) {
    case AWS_DDB_DELETE:
    case AWS_DDB_PUT:
        for (int i = 0; i < m->n_a; i++) {
            bz_free(m->a[i].name);
            bz_free(m->a[i].av);
        }
        m->n_a = 0;
        m->kind = o->kind;
        for (int i = 0; i < o->n_a && !rc; i++) {
            char *av = o->a[i].av ? bz_strdup(o->a[i].av) : NULL;
            if ((o->a[i].av && !av) || op_set(m, o->a[i].name, av)) rc = BZ_NOMEM;
        }
        break;
    case AWS_DDB_PUT_NEW:
        if (m->kind != AWS_DDB_DELETE)
            return bz_err(err, BZ_CONSTRAINT, "UNIQUE constraint failed: %s", x->key_cols);
        for (int i = 0; i < o->n_a && !rc; i++) {
            char *av = bz_strdup(o->a[i].av);
            if (!av || op_set(m, o->a[i].name, av)) rc = BZ_NOMEM;
        }
        m->kind = AWS_DDB_PUT; /* deleted earlier in this transaction */
        break;
    case AWS_DDB_UPDATE:
        if (m->kind == AWS_DDB_DELETE)
            return bz_err(err, BZ_CONSTRAINT,
                          "%s: UPDATE of a row deleted earlier in the same transaction", x->label);
        for (int i = 0; i < o->n_a && !rc; i++) {
            char *av = o->a[i].av ? bz_strdup(o->a[i].av) : NULL;
            if (o->a[i].av && !av) rc = BZ_NOMEM;
            else if (!av && m->kind != AWS_DDB_UPDATE) {
                /* REMOVE on a pending put: drop the attribute */
                for (int k = 0; k < m->n_a; k++)
                    if (!strcmp(m->a[k].name, o->a[i].name)) {
                        bz_free(m->a[k].name);
                        bz_free(m->a[k].av);
                        m->a[k] = m->a[--m->n_a];
                        break;
                    }
            } else if (op_set(m, o->a[i].name, av)) rc = BZ_NOMEM;
        }
        break;
    default:
        break;
    }
    return rc ? bz_err(err, rc, "out of memory") : BZ_OK;
}

/* Merge the ops in order into *out (distinct keys, first-occurrence order).
** The merged ops own copies. */
static int txn_merge(AwsDdbTxn *x, int kind_filter_ignore, TxnOp **out, int *n_out, BzErr *err) {
    int cap = 16, n = 0, rc = BZ_OK;
    size_t hcap = 16;
    int *slots;
    TxnOp *m;
    while (hcap < (size_t)x->n * 2) hcap *= 2;
    m = bz_calloc((size_t)(x->n ? x->n : 1), sizeof *m);
    slots = bz_malloc(sizeof *slots * hcap);
    (void)cap;
    if (!m || !slots) {
        bz_free(m);
        bz_free(slots);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < hcap; i++) slots[i] = -1;
    for (int i = 0; i < x->n && !rc; i++) {
        TxnOp *o = &x->ops[i];
        size_t s = (size_t)o->h & (hcap - 1);
        if ((o->kind == AWS_DDB_PUT_IGNORE) != (kind_filter_ignore != 0)) continue;
        while (slots[s] >= 0 && strcmp(m[slots[s]].key, o->key)) s = (s + 1) & (hcap - 1);
        if (slots[s] >= 0) {
            rc = op_merge(x, &m[slots[s]], o, err);
            continue;
        }
        m[n].kind = o->kind;
        m[n].h = o->h;
        m[n].key = bz_strdup(o->key);
        if (!m[n].key) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        for (int k = 0; k < o->n_a && !rc; k++) {
            char *av = o->a[k].av ? bz_strdup(o->a[k].av) : NULL;
            if ((o->a[k].av && !av) || op_set(&m[n], o->a[k].name, av))
                rc = bz_err(err, BZ_NOMEM, "out of memory");
        }
        slots[s] = n++;
    }
    bz_free(slots);
    if (rc) {
        for (int i = 0; i < n; i++) op_clear(&m[i]);
        bz_free(m);
        return rc;
    }
    *out = m;
    *n_out = n;
    return BZ_OK;
}

static void ops_free(TxnOp *m, int n) {
    for (int i = 0; i < n; i++) op_clear(&m[i]);
    bz_free(m);
}

/* The item of a put: {"a":{...},...} */
static void append_item(BzBuf *b, const TxnOp *o) {
    int first = 1;
    bz_buf_appendc(b, '{');
    for (int i = 0; i < o->n_a; i++) {
        if (!o->a[i].av) continue;
        if (!first) bz_buf_appendc(b, ',');
        first = 0;
        bz_buf_json_str(b, o->a[i].name, strlen(o->a[i].name));
        bz_buf_appendc(b, ':');
        bz_buf_appendz(b, o->a[i].av);
    }
    bz_buf_appendc(b, '}');
}

/* The inner object of a Put/Update/Delete (also the body of PutItem, ...).
** Returns 0 when the op writes nothing (an UPDATE with no change). */
static int append_op(BzBuf *b, const AwsDdbTxn *x, const TxnOp *o) {
    Expr e;
    BzErr dummy = {0};
    int has_set = 0, has_remove = 0;
    if (o->kind == AWS_DDB_UPDATE && o->n_a == 0) return 0;
    expr_init(&e, &dummy);
    bz_buf_appendz(b, "{\"TableName\":");
    bz_buf_json_str(b, x->table, strlen(x->table));
    switch (o->kind) {
    case AWS_DDB_PUT_NEW:
    case AWS_DDB_PUT_IGNORE:
        bz_buf_appendz(b, ",\"Item\":");
        append_item(b, o);
        bz_buf_appendz(b, ",\"ConditionExpression\":\"attribute_not_exists(");
        expr_name(&e, b, x->hash_attr);
        bz_buf_appendz(b, ")\"");
        break;
    case AWS_DDB_PUT:
        bz_buf_appendz(b, ",\"Item\":");
        append_item(b, o);
        break;
    case AWS_DDB_DELETE:
        bz_buf_appendz(b, ",\"Key\":");
        bz_buf_appendz(b, o->key);
        break;
    case AWS_DDB_UPDATE:
        bz_buf_appendz(b, ",\"Key\":");
        bz_buf_appendz(b, o->key);
        bz_buf_appendz(b, ",\"UpdateExpression\":\"");
        for (int i = 0; i < o->n_a; i++) {
            if (!o->a[i].av) continue;
            bz_buf_appendz(b, has_set ? ", " : "SET ");
            has_set = 1;
            expr_name(&e, b, o->a[i].name);
            bz_buf_appendz(b, " = ");
            expr_value_raw(&e, b, o->a[i].av);
        }
        for (int i = 0; i < o->n_a; i++) {
            if (o->a[i].av) continue;
            bz_buf_appendz(b, has_remove ? ", " : has_set ? " REMOVE " : "REMOVE ");
            has_remove = 1;
            expr_name(&e, b, o->a[i].name);
        }
        bz_buf_appendz(b, "\",\"ConditionExpression\":\"attribute_exists(");
        expr_name(&e, b, x->hash_attr);
        bz_buf_appendz(b, ")\"");
        break;
    default:
        break;
    }
    expr_finish(&e, b);
    bz_buf_appendc(b, '}');
    if (e.rc) b->rc = e.rc;
    expr_free(&e);
    return 1;
}

/* Constraint message for a failed condition of op o. */
static int condition_error(const AwsDdbTxn *x, const TxnOp *o, BzErr *err) {
    if (o->kind == AWS_DDB_UPDATE)
        return bz_err(err, BZ_CONSTRAINT,
                      "%s: UPDATE of an item that no longer exists (ConditionalCheckFailed)",
                      x->label);
    return bz_err(err, BZ_CONSTRAINT, "UNIQUE constraint failed: %s", x->key_cols);
}

/* Translate a TransactionCanceledException body into the first real reason. */
static int cancel_error(const AwsDdbTxn *x, const TxnOp *const *sent, int n, const char *body,
                        BzErr *err) {
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(j, "CancellationReasons"), *r;
    int i = 0, rc = BZ_OK;
    BzErr orig = *err;
    cJSON_ArrayForEach(r, reasons) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "Code");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "Message");
        if (cJSON_IsString(c) && strcmp(c->valuestring, "None")) {
            if (!strcmp(c->valuestring, "ConditionalCheckFailed") && i < n)
                rc = condition_error(x, sent[i], err);
            else
                rc = bz_err(err, !strcmp(c->valuestring, "TransactionConflict") ? BZ_IO : BZ_ERROR,
                            "%s: transaction cancelled: %s: %s", x->label, c->valuestring,
                            cJSON_IsString(m) ? m->valuestring : "");
            break;
        }
        i++;
    }
    cJSON_Delete(j);
    if (!rc) {
        *err = orig;
        rc = orig.code;
    }
    return rc;
}

/* One write (PutItem/UpdateItem/DeleteItem) or a TransactWriteItems of ops. */
static int apply_atomic(AwsDdb *d, AwsDdbTxn *x, TxnOp *m, int n, BzErr *err) {
    BzBuf b;
    const TxnOp **sent = NULL;
    int n_sent = 0, rc = BZ_OK;
    char *reply = NULL, code[64] = "";
    bz_buf_init(&b, 0);
    sent = bz_malloc(sizeof *sent * (size_t)(n ? n : 1));
    if (!sent) return bz_err(err, BZ_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (m[i].kind != AWS_DDB_UPDATE || m[i].n_a) sent[n_sent++] = &m[i];
    if (n_sent == 0) goto done;
    if (n_sent > DDB_TXN_MAX) {
        rc = bz_err(err, BZ_LIMIT,
                    "%s: the transaction writes %d items; TransactWriteItems takes at most %d "
                    "(use batch=1 for non-atomic bulk writes); nothing was written",
                    x->label, n_sent, DDB_TXN_MAX);
        goto done;
    }
    if (n_sent == 1) {
        static const char *const op_names[] = {"", "PutItem", "PutItem", "PutItem", "UpdateItem",
                                               "DeleteItem"};
        append_op(&b, x, sent[0]);
        if (b.rc) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            goto done;
        }
        rc = aws_ddb_call(d, op_names[sent[0]->kind], x->label, b.data, b.n, &reply, code, err);
        if (rc && !strcmp(code, "ConditionalCheckFailedException"))
            rc = condition_error(x, sent[0], err);
        goto done;
    }
    bz_buf_appendz(&b, "{\"TransactItems\":[");
    for (int i = 0; i < n_sent; i++) {
        const TxnOp *o = sent[i];
        if (i) bz_buf_appendc(&b, ',');
        bz_buf_appendz(&b, o->kind == AWS_DDB_UPDATE   ? "{\"Update\":"
                           : o->kind == AWS_DDB_DELETE ? "{\"Delete\":"
                                                       : "{\"Put\":");
        append_op(&b, x, o);
        bz_buf_appendc(&b, '}');
    }
    /* Rationale: an idempotency token, the same on every retry of this body.
    ** Without it a COMMIT whose answer was lost (connection reset, timeout,
    ** 500 after the write) was retried as a new transaction, whose
    ** attribute_not_exists conditions then failed on its own items: a
    ** "UNIQUE constraint failed" for a transaction that was applied. */
    {
        char tok[40];
        unsigned char r[16];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
            uint64_t a = bz_now_ns() ^ (uint64_t)(uintptr_t)&b;
            uint64_t c = (uint64_t)rand() << 32 ^ (uint64_t)rand();
            memcpy(r, &a, 8);
            memcpy(r + 8, &c, 8);
        }
        for (int i = 0; i < 16; i++) snprintf(tok + 2 * i, 3, "%02x", r[i]);
        bz_buf_appendz(&b, "],\"ClientRequestToken\":\"");
        bz_buf_appendz(&b, tok);
        bz_buf_appendz(&b, "\"}");
    }
    if (b.rc) {
        rc = bz_err(err, BZ_NOMEM, "out of memory");
        goto done;
    }
    rc = aws_ddb_call(d, "TransactWriteItems", x->label, b.data, b.n, &reply, code, err);
    if (rc && !strcmp(code, "TransactionCanceledException"))
        rc = cancel_error(x, sent, n_sent, reply, err);
done:
    bz_free(reply);
    bz_free((void *)sent);
    bz_buf_free(&b);
    return rc;
}

/* INSERT OR IGNORE rows: conditional PutItem each, a failed condition skipped. */
static int apply_ignore(AwsDdb *d, AwsDdbTxn *x, TxnOp *m, int n, BzErr *err) {
    DdbCall *calls = bz_calloc((size_t)(n ? n : 1), sizeof *calls);
    int rc = BZ_OK, i;
    if (!calls) return bz_err(err, BZ_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        BzBuf b;
        bz_buf_init(&b, 0);
        append_op(&b, x, &m[i]);
        if (b.rc) {
            bz_buf_free(&b);
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        ddb_call_init(&calls[i], "PutItem", x->label, NULL, b.n);
        calls[i].body = bz_buf_take(&b);
        calls[i].call.body = calls[i].body;
    }
    if (!rc) {
        ddb_run(d, calls, n, err);
        for (i = 0; i < n; i++)
            if (calls[i].call.rc && strcmp(calls[i].call.err_code, "ConditionalCheckFailedException")) {
                *err = calls[i].call.err;
                rc = err->code;
                break;
            }
    }
    for (i = 0; i < n; i++) ddb_call_free(&calls[i]);
    bz_free(calls);
    return rc;
}

/* batch=1: updates as UpdateItem calls, puts/deletes by BatchWriteItem. */
static int apply_batch(AwsDdb *d, AwsDdbTxn *x, TxnOp *m, int n, BzErr *err) {
    int n_upd = 0, n_pd = 0, rc = BZ_OK, i, nb, rounds = 0;
    DdbCall *calls;
    for (i = 0; i < n; i++) {
        if (m[i].kind == AWS_DDB_UPDATE) n_upd += m[i].n_a > 0;
        else n_pd++;
    }
    nb = n_upd + (n_pd + DDB_BATCH_WRITE - 1) / DDB_BATCH_WRITE;
    if (nb == 0) return BZ_OK;
    calls = bz_calloc((size_t)nb, sizeof *calls);
    if (!calls) return bz_err(err, BZ_NOMEM, "out of memory");
    nb = 0;
    for (i = 0; i < n && !rc; i++) {
        BzBuf b;
        if (m[i].kind != AWS_DDB_UPDATE || !m[i].n_a) continue;
        bz_buf_init(&b, 0);
        append_op(&b, x, &m[i]);
        if (b.rc) {
            bz_buf_free(&b);
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        ddb_call_init(&calls[nb], "UpdateItem", x->label, NULL, b.n);
        calls[nb].body = bz_buf_take(&b);
        calls[nb].call.body = calls[nb].body;
        nb++;
    }
    for (i = 0; i < n && !rc;) {
        BzBuf b;
        int k = 0;
        bz_buf_init(&b, 0);
        bz_buf_appendz(&b, "{\"RequestItems\":{");
        bz_buf_json_str(&b, x->table, strlen(x->table));
        bz_buf_appendz(&b, ":[");
        for (; i < n && k < DDB_BATCH_WRITE; i++) {
            if (m[i].kind == AWS_DDB_UPDATE) continue;
            if (k++) bz_buf_appendc(&b, ',');
            if (m[i].kind == AWS_DDB_DELETE) {
                bz_buf_appendz(&b, "{\"DeleteRequest\":{\"Key\":");
                bz_buf_appendz(&b, m[i].key);
            } else {
                bz_buf_appendz(&b, "{\"PutRequest\":{\"Item\":");
                append_item(&b, &m[i]);
            }
            bz_buf_appendz(&b, "}}");
        }
        bz_buf_appendz(&b, "]}}");
        if (!k) {
            bz_buf_free(&b);
            break;
        }
        if (b.rc) {
            bz_buf_free(&b);
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        ddb_call_init(&calls[nb], "BatchWriteItem", x->label, NULL, b.n);
        calls[nb].body = bz_buf_take(&b);
        calls[nb].call.body = calls[nb].body;
        nb++;
    }
    while (!rc && nb) {
        int n_again = 0;
        rc = ddb_run(d, calls, nb, err);
        if (rc) break;
        /* UnprocessedItems go out again as new BatchWriteItem bodies */
        for (i = 0; i < nb; i++) {
            cJSON *j;
            const cJSON *un;
            char *again = NULL;
            if (strcmp(calls[i].target + 18, "BatchWriteItem")) {
                ddb_call_free(&calls[i]);
                continue;
            }
            j = cJSON_ParseWithLength(calls[i].call.body_out.data ? calls[i].call.body_out.data : "",
                                      calls[i].call.body_out.n);
            un = cJSON_GetObjectItemCaseSensitive(j, "UnprocessedItems");
            if (un && un->child) {
                cJSON *req = cJSON_CreateObject();
                if (req && cJSON_AddItemReferenceToObject(req, "RequestItems", (cJSON *)un))
                    again = json_print_copy(req);
                cJSON_Delete(req);
                if (!again) rc = bz_err(err, BZ_NOMEM, "out of memory");
            }
            cJSON_Delete(j);
            ddb_call_free(&calls[i]);
            if (again) {
                ddb_call_init(&calls[n_again], "BatchWriteItem", x->label, again, strlen(again));
                n_again++;
            }
        }
        nb = n_again;
        if (nb) {
            if (++rounds > DDB_UNPROCESSED_ROUNDS) {
                rc = bz_err(err, BZ_TIMEOUT, "%s: BatchWriteItem items still unprocessed after %d rounds",
                            x->label, rounds);
                break;
            }
            stats_add(d, 0, 0, (uint64_t)nb);
            backoff(rounds);
        }
    }
    for (i = 0; i < nb; i++) ddb_call_free(&calls[i]);
    bz_free(calls);
    return rc;
}

int aws_ddb_txn_apply(AwsDdb *d, AwsDdbTxn *x, int batch, BzErr *err) {
    TxnOp *m = NULL;
    int n = 0, rc;
    if (x->n == 0) return BZ_OK;
    rc = txn_merge(x, 1, &m, &n, err);
    if (!rc && n) rc = apply_ignore(d, x, m, n, err);
    ops_free(m, n);
    m = NULL;
    n = 0;
    if (!rc) rc = txn_merge(x, 0, &m, &n, err);
    if (!rc && n) rc = batch ? apply_batch(d, x, m, n, err) : apply_atomic(d, x, m, n, err);
    ops_free(m, n);
    aws_ddb_txn_truncate(x, 0);
    return rc;
}
