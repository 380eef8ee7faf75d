/*
** exec_remote.c: bookkeeping shared by the remote executors (redis,
** lambda): the tasks of one query with their issue and start times, the
** worker times of finished tasks, and the straggler deadline derived from
** them; and a header-only peek at an encoded result.
**
**     ExecRTasks t = {0};
**     int i = exec_rtasks_add(&t, json, n, &err);     // at submit
**     ...  i = exec_rtasks_find(&t, task_id);         // when a result arrives
**     exec_rtasks_done(&t, i, worker_ms);
**     if (now - t.a[i].tStart > exec_rtasks_late_ms(&t)) reissue(i);
**     exec_rtasks_free(&t);
**
** Rationale (straggler deadline): the median of the finished tasks' own
** times (reported by the workers, so queueing is not counted) times
** EXEC_STRAGGLER_K, with a floor so that millisecond tasks do not make
** every scheduling hiccup look like a lost worker.
*/
#include "exec/exec.h"

#include <stdlib.h>
#include <string.h>

int exec_rtasks_add(ExecRTasks *t, const char *task, size_t n, BzErr *err) {
    WireTask wt;
    if (wire_task_decode(task, n, &wt, err)) return -1;
    int64_t id = wt.taskId;
    wire_task_clear(&wt);
    if (t->n == t->nAlloc) {
        int na = t->nAlloc ? t->nAlloc * 2 : 16;
        ExecRTask *a = bz_realloc(t->a, (size_t)na * sizeof *a);
        if (!a) {
            bz_err(err, BZ_NOMEM, "out of memory");
            return -1;
        }
        t->a = a;
        t->nAlloc = na;
    }
    ExecRTask *r = &t->a[t->n];
    memset(r, 0, sizeof *r);
    r->zTask = bz_malloc(n + 1);
    if (!r->zTask) {
        bz_err(err, BZ_NOMEM, "out of memory");
        return -1;
    }
    memcpy(r->zTask, task, n);
    r->zTask[n] = 0;
    r->nTask = n;
    r->id = id;
    return t->n++;
}

int exec_rtasks_find(const ExecRTasks *t, int64_t id) {
    /* exec_run numbers tasks 0..n-1 in submit order: try that first */
    if (id >= 0 && id < t->n && t->a[id].id == id) return (int)id;
    for (int i = 0; i < t->n; i++)
        if (t->a[i].id == id) return i;
    return -1;
}

void exec_rtasks_done(ExecRTasks *t, int i, int64_t ms) {
    t->a[i].bDone = 1;
    t->nDone++;
    if (t->nMs == t->nMsAlloc) {
        int na = t->nMsAlloc ? t->nMsAlloc * 2 : 16;
        int64_t *a = bz_realloc(t->aMs, (size_t)na * sizeof *a);
        if (!a) return; /* the deadline just uses fewer samples */
        t->aMs = a;
        t->nMsAlloc = na;
    }
    /* keep aMs sorted (insertion): queries have thousands of tasks at most */
    int k = t->nMs++;
    while (k > 0 && t->aMs[k - 1] > ms) {
        t->aMs[k] = t->aMs[k - 1];
        k--;
    }
    t->aMs[k] = ms;
}

int64_t exec_rtasks_late_ms(const ExecRTasks *t) {
    int64_t floor = t->floorMs > 0 ? t->floorMs : EXEC_STRAGGLER_FLOOR_MS;
    if (t->nMs == 0) return t->firstMs > floor ? t->firstMs : floor;
    int64_t late = EXEC_STRAGGLER_K * t->aMs[(t->nMs - 1) / 2];
    return late > floor ? late : floor;
}

void exec_rtasks_free(ExecRTasks *t) {
    for (int i = 0; i < t->n; i++)
        bz_free(t->a[i].zTask);
    bz_free(t->a);
    bz_free(t->aMs);
    memset(t, 0, sizeof *t);
}

int exec_result_peek(const uint8_t *p, size_t n, int64_t *taskId, int *status) {
    uint64_t id, st;
    int k1, k2;
    if (n < 7 || memcmp(p, "HBR1", 4)) return BZ_CORRUPT;
    k1 = wire_varint_get(p + 6, n - 6, &id);
    if (!k1) return BZ_CORRUPT;
    k2 = wire_varint_get(p + 6 + k1, n - 6 - (size_t)k1, &st);
    if (!k2) return BZ_CORRUPT;
    *taskId = (int64_t)id;
    *status = (int)st;
    return BZ_OK;
}
