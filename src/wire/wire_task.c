/*
** wire_task.c: hbee tasks as JSON (format in wire.h). Encoding writes with
** BzBuf; decoding parses with cJSON, whose objects never leave this file.
**
**     WireTask t = {0};  t.zQueryId = "q1"; t.zPath = "a.parquet"; t.zSql = "SELECT ...";
**     wire_task_encode(&t, &buf, &err);
**     WireTask u;  wire_task_decode(buf.data, buf.n, &u, &err);  ...  wire_task_clear(&u);
*/
#include "wire/wire.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

static void json_key(BzBuf *b, const char *k, int first) {
    if (!first) bz_buf_appendz(b, ", ");
    bz_buf_json_str(b, k, strlen(k));
    bz_buf_appendz(b, ": ");
}

static void json_strz(BzBuf *b, const char *z) {
    if (z)
        bz_buf_json_str(b, z, strlen(z));
    else
        bz_buf_appendz(b, "null");
}

int wire_task_encode(const WireTask *t, BzBuf *b, BzErr *err) {
    bz_buf_appendc(b, '{');
    json_key(b, "version", 1);
    bz_buf_printf(b, "%d", t->zDdbTable ? WIRE_VERSION : WIRE_VERSION_PARQUET);
    json_key(b, "query_id", 0);
    json_strz(b, t->zQueryId ? t->zQueryId : "");
    json_key(b, "task_id", 0);
    bz_buf_printf(b, "%lld", (long long)t->taskId);
    json_key(b, "split", 0);
    bz_buf_appendc(b, '{');
    if (t->zDdbTable) {
        json_key(b, "dynamodb", 1);
        json_strz(b, t->zDdbTable);
        json_key(b, "segment", 0);
        bz_buf_printf(b, "%d", t->iSegment);
        json_key(b, "segments", 0);
        bz_buf_printf(b, "%d", t->nSegments);
        bz_buf_appendc(b, '}');
        goto columns;
    }
    json_key(b, t->zUrl ? "url" : "path", 1);
    json_strz(b, t->zUrl ? t->zUrl : t->zPath ? t->zPath : "");
    json_key(b, "row_groups", 0);
    bz_buf_appendc(b, '[');
    for (int i = 0; i < t->nRg; i++)
        bz_buf_printf(b, "%s%d", i ? ", " : "", t->aRg[i]);
    bz_buf_appendc(b, ']');
    json_key(b, "rows", 0);
    bz_buf_printf(b, "%lld", (long long)t->nRows);
    json_key(b, "bytes", 0);
    bz_buf_printf(b, "%lld", (long long)t->nBytes);
    bz_buf_appendc(b, '}');
columns:
    json_key(b, "columns", 0);
    bz_buf_appendc(b, '[');
    for (int i = 0; i < t->nCol; i++) {
        if (i) bz_buf_appendz(b, ", ");
        json_strz(b, t->azCol[i]);
    }
    bz_buf_appendc(b, ']');
    json_key(b, "options", 0);
    bz_buf_appendc(b, '{');
    for (int i = 0; i < t->nOpt; i++) {
        json_key(b, t->azKey[i], i == 0);
        json_strz(b, t->azVal[i]);
    }
    bz_buf_appendc(b, '}');
    json_key(b, "sql", 0);
    json_strz(b, t->zSql ? t->zSql : "");
    bz_buf_appendc(b, '}');
    if (b->rc) return bz_err(err, b->rc, "task JSON: %s", bz_status_name(b->rc));
    return BZ_OK;
}

void wire_task_clear(WireTask *t) {
    bz_free(t->zQueryId);
    bz_free(t->zPath);
    bz_free(t->zUrl);
    bz_free(t->zDdbTable);
    bz_free(t->aRg);
    for (int i = 0; i < t->nCol; i++)
        bz_free(t->azCol[i]);
    bz_free(t->azCol);
    for (int i = 0; i < t->nOpt; i++) {
        bz_free(t->azKey[i]);
        bz_free(t->azVal[i]);
    }
    bz_free(t->azKey);
    bz_free(t->azVal);
    bz_free(t->zSql);
    memset(t, 0, sizeof *t);
}

/* Integer value of a JSON number that is integral and in range. */
static int get_int(const cJSON *j, int64_t lo, int64_t hi, int64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || floor(d) != d) return 0;
    *out = (int64_t)d;
    return 1;
}

static int get_str(const cJSON *j, char **out) {
    if (!cJSON_IsString(j) || !j->valuestring) return 0;
    *out = bz_strdup(j->valuestring);
    return *out != NULL;
}

#define BAD(what)                                                                                  \
    do {                                                                                           \
        rc = bz_err(err, BZ_CORRUPT, "task JSON: %s", what);                                       \
        goto fail;                                                                                 \
    } while (0)

int wire_task_decode(const char *z, size_t n, WireTask *t, BzErr *err) {
    cJSON *root;
    const cJSON *j, *sp, *it;
    int64_t v;
    int rc = BZ_OK, k;
    memset(t, 0, sizeof *t);
    root = cJSON_ParseWithLength(z, n);
    if (!root) return bz_err(err, BZ_CORRUPT, "task JSON: malformed");
    if (!cJSON_IsObject(root)) BAD("not an object");
    if (!get_int(cJSON_GetObjectItemCaseSensitive(root, "version"), 0, 1000, &v))
        BAD("missing \"version\"");
    t->version = (int)v;
    if (v < WIRE_VERSION_PARQUET || v > WIRE_VERSION) {
        rc = bz_err(err, BZ_UNSUPPORTED, "task version %d is not supported (this worker speaks %d)",
                    (int)v, WIRE_VERSION);
        goto fail;
    }
    if (!get_str(cJSON_GetObjectItemCaseSensitive(root, "query_id"), &t->zQueryId))
        BAD("missing \"query_id\"");
    if (!get_int(cJSON_GetObjectItemCaseSensitive(root, "task_id"), 0, INT64_C(1) << 52,
                 &t->taskId))
        BAD("missing \"task_id\"");
    sp = cJSON_GetObjectItemCaseSensitive(root, "split");
    if (!cJSON_IsObject(sp)) BAD("missing \"split\"");
    j = cJSON_GetObjectItemCaseSensitive(sp, "dynamodb");
    if (j) {
        int64_t seg, nseg;
        if (t->version < 2) BAD("\"split.dynamodb\" needs version 2");
        if (!get_str(j, &t->zDdbTable) || !*t->zDdbTable) BAD("bad \"split.dynamodb\"");
        if (!get_int(cJSON_GetObjectItemCaseSensitive(sp, "segments"), 1, 1000000, &nseg))
            BAD("bad \"split.segments\" (1 to 1000000)");
        if (!get_int(cJSON_GetObjectItemCaseSensitive(sp, "segment"), 0, nseg - 1, &seg))
            BAD("bad \"split.segment\" (0 to segments - 1)");
        t->iSegment = (int)seg;
        t->nSegments = (int)nseg;
        if (cJSON_GetObjectItemCaseSensitive(sp, "path") ||
            cJSON_GetObjectItemCaseSensitive(sp, "url"))
            BAD("\"split\" has both \"dynamodb\" and a file");
        goto columns;
    }
    j = cJSON_GetObjectItemCaseSensitive(sp, "path");
    if (j && !get_str(j, &t->zPath)) BAD("bad \"split.path\"");
    j = cJSON_GetObjectItemCaseSensitive(sp, "url");
    if (j && !get_str(j, &t->zUrl)) BAD("bad \"split.url\"");
    if (!t->zPath == !t->zUrl) BAD("\"split\" needs exactly one of \"path\" and \"url\"");
    j = cJSON_GetObjectItemCaseSensitive(sp, "row_groups");
    if (j) {
        if (!cJSON_IsArray(j)) BAD("bad \"split.row_groups\"");
        int cnt = cJSON_GetArraySize(j);
        t->aRg = bz_calloc((size_t)cnt + 1, sizeof(int));
        if (!t->aRg) goto nomem;
        cJSON_ArrayForEach(it, j) {
            if (!get_int(it, 0, INT32_MAX, &v)) BAD("bad \"split.row_groups\" entry");
            t->aRg[t->nRg++] = (int)v;
        }
    }
    j = cJSON_GetObjectItemCaseSensitive(sp, "rows");
    if (j && !get_int(j, 0, INT64_C(1) << 53, &t->nRows)) BAD("bad \"split.rows\"");
    j = cJSON_GetObjectItemCaseSensitive(sp, "bytes");
    if (j && !get_int(j, 0, INT64_C(1) << 53, &t->nBytes)) BAD("bad \"split.bytes\"");
columns:
    j = cJSON_GetObjectItemCaseSensitive(root, "columns");
    if (j) {
        if (!cJSON_IsArray(j)) BAD("bad \"columns\"");
        int cnt = cJSON_GetArraySize(j);
        t->azCol = bz_calloc((size_t)cnt + 1, sizeof(char *));
        if (!t->azCol) goto nomem;
        cJSON_ArrayForEach(it, j) {
            if (!get_str(it, &t->azCol[t->nCol])) BAD("bad \"columns\" entry");
            t->nCol++;
        }
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "options");
    if (j) {
        if (!cJSON_IsObject(j)) BAD("bad \"options\"");
        int cnt = cJSON_GetArraySize(j);
        t->azKey = bz_calloc((size_t)cnt + 1, sizeof(char *));
        t->azVal = bz_calloc((size_t)cnt + 1, sizeof(char *));
        if (!t->azKey || !t->azVal) goto nomem;
        k = 0;
        cJSON_ArrayForEach(it, j) {
            if (!it->string || !get_str(it, &t->azVal[k])) BAD("bad \"options\" entry");
            t->azKey[k] = bz_strdup(it->string);
            t->nOpt = ++k;
            if (!t->azKey[k - 1]) goto nomem;
        }
    }
    if (!get_str(cJSON_GetObjectItemCaseSensitive(root, "sql"), &t->zSql)) BAD("missing \"sql\"");
    cJSON_Delete(root);
    return BZ_OK;
nomem:
    rc = bz_err(err, BZ_NOMEM, "out of memory");
fail:
    cJSON_Delete(root);
    wire_task_clear(t);
    return rc;
}
