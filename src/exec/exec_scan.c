/*
** exec_scan.c: scan offload. A plain scan of a table (no aggregate, no
** combine step) cut into splits, each split's filtered projection run as a
** task on any executor, the results handed back in split order as they
** arrive, with a bounded number of tasks in flight.
**
**     ExecScan *s;
**     exec_scan_open(ex, 0, nSplits, 8, xTask, ctx, &s, &err);  // task i: xTask(ctx, i, ...)
**     while ((rc = exec_scan_next(s, &rd, &iSplit, &err)) == BZ_OK) {
**         while (wire_reader_next(rd, row, &err) == BZ_OK) use(row);
**     }                                                      // BZ_DONE after the last split
**     exec_scan_close(s, &stats);   // cancels what is still in flight
**
** Order and memory. Split i's rows come out after split i-1's, so a scan
** returns its rows in the order of the in-process scan (LIMIT/OFFSET and
** rowids keep their meaning). At most nInflight tasks are submitted and not
** yet handed out; a result that arrives before its predecessors waits in its
** slot. So the coordinator holds at most nInflight results, never the whole
** table, and a scan stopped early has submitted at most one window more.
**
** Errors. A failed task's message is reported when its turn comes, so a
** scan stopped early (LIMIT) does not fail for a split it never needed,
** just as the in-process scan would not have read it.
*/
#include "exec/exec.h"

#include <stdio.h>
#include <string.h>

typedef struct ScanSlot {
    uint8_t *data; /* encoded result, NULL while the task runs */
    size_t n;
} ScanSlot;

struct ExecScan {
    Executor *ex;
    int nTask, nInflight;
    int64_t idBase; /* task i has task_id idBase + i */
    int iNext;  /* next task to submit */
    int iYield; /* next task to hand out */
    ExecScanTaskFn xTask;
    void *ctx;
    ScanSlot *aSlot; /* nInflight slots, task i in aSlot[i % nInflight] */
    WireReader rd;
    int bRd;
    int iRowTask; /* exec_scan_row: split of the result being read, -1 for none */
    BzBuf task;
    ExecStats st;
    ExecCounters c0; /* the executor's counters at open: a kept executor's earlier scans are not ours */
    uint64_t t0;
};

int exec_scan_open(Executor *ex, int64_t idBase, int nTask, int nInflight, ExecScanTaskFn xTask,
                   void *ctx, ExecScan **out, BzErr *err) {
    ExecScan *s;
    *out = NULL;
    if (nInflight < 1) nInflight = 1;
    s = bz_calloc(1, sizeof *s);
    if (!s) return bz_err(err, BZ_NOMEM, "out of memory");
    s->aSlot = bz_calloc((size_t)nInflight, sizeof *s->aSlot);
    s->st.aTaskMs = bz_calloc((size_t)(nTask < EXEC_MAX_TASK_MS ? nTask : EXEC_MAX_TASK_MS) + 1,
                              sizeof *s->st.aTaskMs);
    if (!s->aSlot || !s->st.aTaskMs) {
        bz_free(s->aSlot);
        bz_free(s->st.aTaskMs);
        bz_free(s);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    s->ex = ex;
    s->nTask = nTask;
    s->nInflight = nInflight;
    s->idBase = idBase;
    s->xTask = xTask;
    s->ctx = ctx;
    s->t0 = bz_now_ms();
    s->c0 = ex->counters;
    s->iRowTask = -1;
    bz_buf_init(&s->task, 0);
    snprintf(s->st.zExecutor, sizeof s->st.zExecutor, "%s", ex->zName);
    s->st.nWorkers = ex->nWorkers;
    s->st.splits = nTask;
    *out = s;
    return BZ_OK;
}

/* Submit tasks until the window is full or none is left. */
static int scan_fill(ExecScan *s, BzErr *err) {
    while (s->iNext < s->nTask && s->iNext - s->iYield < s->nInflight) {
        int rc;
        bz_buf_reset(&s->task);
        rc = s->xTask(s->ctx, s->iNext, &s->task, err);
        if (!rc && s->task.rc) rc = bz_err(err, BZ_NOMEM, "out of memory");
        if (!rc) rc = s->ex->submit(s->ex, s->task.data, s->task.n, err);
        if (rc) return rc;
        s->iNext++;
    }
    return BZ_OK;
}

/* Collect one result into its slot; results of unknown or already
** delivered tasks (a duplicate the executor let through) are dropped. */
static int scan_collect(ExecScan *s, BzErr *err) {
    uint8_t *p;
    size_t n;
    int64_t id;
    int status;
    int rc = s->ex->collect(s->ex, &p, &n, err);
    if (rc == BZ_DONE)
        return bz_err(err, BZ_ERROR, "scan: the executor has no result for split %d", s->iYield);
    if (rc) return rc;
    if (exec_result_peek(p, n, &id, &status)) {
        bz_free(p);
        return bz_err(err, BZ_CORRUPT, "scan: a result is not in the wire format");
    }
    id -= s->idBase;
    if (id < s->iYield || id >= s->iNext || s->aSlot[id % s->nInflight].data) {
        s->ex->counters.duplicates++;
        bz_free(p);
        return BZ_OK;
    }
    s->aSlot[id % s->nInflight].data = p;
    s->aSlot[id % s->nInflight].n = n;
    return BZ_OK;
}

int exec_scan_next(ExecScan *s, WireReader **out, int *piTask, BzErr *err) {
    int rc;
    *out = NULL;
    *piTask = s->iYield < s->nTask ? s->iYield : -1; /* the split waited for, also on error */
    if (s->bRd) {
        wire_reader_close(&s->rd);
        s->bRd = 0;
    }
    if (s->iYield >= s->nTask) return BZ_DONE;
    if ((rc = scan_fill(s, err))) return rc;
    ScanSlot *slot = &s->aSlot[s->iYield % s->nInflight];
    while (!slot->data)
        if ((rc = scan_collect(s, err))) return rc;
    rc = wire_reader_open(&s->rd, slot->data, slot->n, err);
    bz_free(slot->data);
    slot->data = NULL;
    s->iYield++;
    if (rc) return bz_err_prefix(err, "split %d", *piTask);
    s->bRd = 1;
    s->st.tasks++;
    s->st.bytesShipped += s->rd.bytesShipped;
    if (s->rd.hdr.status)
        return bz_err(err, s->rd.hdr.status, "%s", s->rd.zError ? s->rd.zError : "task failed");
    s->st.rowsScanned += s->rd.hdr.rowsScanned;
    s->st.bytesScanned += s->rd.hdr.bytesScanned;
    s->st.rowsShipped += s->rd.hdr.rows;
    s->st.billedMs += exec_billed_ms(s->rd.hdr.ms);
    if (s->st.nTaskMs < EXEC_MAX_TASK_MS && s->st.nTaskMs < s->nTask)
        s->st.aTaskMs[s->st.nTaskMs++] = s->rd.hdr.ms;
    /* keep the workers busy while the caller reads this result */
    if ((rc = scan_fill(s, err))) return rc;
    *out = &s->rd;
    return BZ_OK;
}

int exec_scan_row(ExecScan *s, WireValue *row, int nCol, int *piTask, BzErr *err) {
    for (;;) {
        if (s->iRowTask < 0) {
            WireReader *rd;
            int rc = exec_scan_next(s, &rd, piTask, err);
            if (rc) return rc;
            if (rd->nCol != nCol)
                return bz_err(err, BZ_CORRUPT, "a worker returned %d columns, expected %d",
                              rd->nCol, nCol);
            s->iRowTask = *piTask;
        }
        *piTask = s->iRowTask;
        int rc = wire_reader_next(&s->rd, row, err);
        if (rc != BZ_DONE) return rc;
        s->iRowTask = -1;
    }
}

int exec_scan_idle(const ExecScan *s) {
    return s->iNext == s->iYield;
}

ExecStats *exec_scan_stats(ExecScan *s) {
    return &s->st;
}

void exec_scan_close(ExecScan *s, ExecStats *st) {
    if (!s) return;
    if (s->bRd) wire_reader_close(&s->rd);
    for (int i = 0; i < s->nInflight; i++)
        bz_free(s->aSlot[i].data);
    bz_free(s->aSlot);
    bz_buf_free(&s->task);
    s->st.counters.retries = s->ex->counters.retries - s->c0.retries;
    s->st.counters.speculative = s->ex->counters.speculative - s->c0.speculative;
    s->st.counters.duplicates = s->ex->counters.duplicates - s->c0.duplicates;
    s->st.counters.throttled = s->ex->counters.throttled - s->c0.throttled;
    s->st.counters.billedMs = s->ex->counters.billedMs - s->c0.billedMs;
    s->st.billedMs += s->st.counters.billedMs;
    s->st.requests = s->st.tasks + s->st.counters.retries + s->st.counters.speculative;
    s->st.msWall = (int64_t)(bz_now_ms() - s->t0);
    if (st) {
        ExecPrice price = st->price;
        exec_stats_clear(st);
        *st = s->st;
        st->price = price;
    } else {
        exec_stats_clear(&s->st);
    }
    bz_free(s);
}
