/*
** exec_cost.c: what a query costs (or would cost) on AWS Lambda, after the
** fact from the workers' task times and before running from the splits' sizes;
** and the one-line progress display of a running query.
**
**     ExecPrice p;  exec_price_default(&p);           // 1769 MB, x86_64 prices
**     double usd = exec_cost_usd(&p, st.billedMs, st.requests);
**     ExecEstimate e;  exec_estimate(&p, &splits, 8, &e);  // e.msWall, e.usd
**     char line[160];  exec_progress_line(&prog, line, sizeof line);
**
** Billing model (AWS Lambda pricing, x86_64, us-east-1): every invocation is
** billed its duration rounded up to 1 ms, times the configured memory in GB
** (memory_mb / 1024), at EXEC_USD_PER_GB_S per GB-second, plus
** EXEC_USD_PER_1M_REQUESTS per million requests. Durations are the workers'
** own task times (wire header `ms`, whole milliseconds, at least 1): the
** runtime's own overhead between tasks and the cold-start init phase are not
** counted, nor invocations that crashed or timed out (their time is unknown).
**
** Rationale (estimate): a worker's time is dominated by decoding the projected
** column chunks and handing rows to SQLite, so it is estimated as
** EXEC_EST_TASK_MS plus the split's compressed bytes of the needed columns at
** scan_mb_s (default EXEC_EST_MB_S, per worker). bench/RESULTS.md (### hbee)
** has the measured figures it comes from: about 55 MB/s for a filter-and-sum
** like TPC-H Q6 and 10 MB/s for a grouped aggregate of 8 sums like Q1 on one
** 2 vCPU core; the default sits between them, so estimates are within a
** factor of about 2.5 either way.
*/
#include "exec/exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void exec_price_default(ExecPrice *p) {
    p->memoryMb = EXEC_LAMBDA_MEMORY_MB;
    p->usdPerGbS = EXEC_USD_PER_GB_S;
    p->usdPer1MRequests = EXEC_USD_PER_1M_REQUESTS;
    p->scanMbS = EXEC_EST_MB_S;
}

double exec_gb_s(const ExecPrice *p, int64_t billedMs) {
    return (double)billedMs / 1000.0 * ((double)p->memoryMb / 1024.0);
}

double exec_cost_usd(const ExecPrice *p, int64_t billedMs, int64_t requests) {
    return exec_gb_s(p, billedMs) * p->usdPerGbS + (double)requests * p->usdPer1MRequests / 1e6;
}

int64_t exec_billed_ms(int64_t ms) {
    return ms < 1 ? 1 : ms;
}

static int cmp_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x > y ? -1 : x < y;
}

int exec_estimate(const ExecPrice *p, const PlanSplits *sp, int nWorkers, ExecEstimate *e) {
    double bytesPerMs = (p->scanMbS > 0 ? p->scanMbS : EXEC_EST_MB_S) * 1e6 / 1000.0;
    int64_t *ms = NULL, *load = NULL;
    int rc = BZ_OK;
    memset(e, 0, sizeof *e);
    if (nWorkers < 1) nWorkers = 1;
    e->nWorkers = nWorkers;
    e->requests = sp->n;
    if (sp->n == 0) return BZ_OK;
    ms = bz_malloc((size_t)sp->n * sizeof *ms);
    if (!ms) return BZ_NOMEM;
    for (int i = 0; i < sp->n; i++) {
        ms[i] = EXEC_EST_TASK_MS + (int64_t)((double)sp->a[i].nBytes / bytesPerMs + 0.999);
        e->billedMs += exec_billed_ms(ms[i]);
    }
    /* longest first onto the least loaded worker (LPT): within 4/3 of optimal */
    qsort(ms, (size_t)sp->n, sizeof *ms, cmp_desc);
    if (nWorkers >= sp->n) {
        e->msWall = ms[0];
    } else {
        load = bz_calloc((size_t)nWorkers, sizeof *load);
        if (!load) {
            rc = BZ_NOMEM;
        } else {
            for (int i = 0; i < sp->n; i++) {
                int k = 0;
                for (int w = 1; w < nWorkers; w++)
                    if (load[w] < load[k]) k = w;
                load[k] += ms[i];
            }
            for (int w = 0; w < nWorkers; w++)
                if (load[w] > e->msWall) e->msWall = load[w];
        }
    }
    e->gbS = exec_gb_s(p, e->billedMs);
    e->usd = exec_cost_usd(p, e->billedMs, e->requests);
    bz_free(ms);
    bz_free(load);
    return rc;
}

/* "12.3 MiB" style size into buf. */
static void fmt_bytes(char *buf, size_t n, int64_t v) {
    if (v < 1024 * 1024)
        snprintf(buf, n, "%.1f KiB", (double)v / 1024.0);
    else if (v < (int64_t)1024 * 1024 * 1024)
        snprintf(buf, n, "%.1f MiB", (double)v / (1024.0 * 1024.0));
    else
        snprintf(buf, n, "%.2f GiB", (double)v / (1024.0 * 1024.0 * 1024.0));
}

int exec_progress_line(const ExecProgress *p, char *buf, size_t n) {
    char done[32], total[32], bar[EXEC_PROGRESS_BAR + 1];
    int64_t tot = p->splitsTotal > 0 ? p->splitsTotal : 1;
    int filled = (int)(p->splitsDone * EXEC_PROGRESS_BAR / tot);
    int pct = (int)(p->splitsDone * 100 / tot);
    if (filled > EXEC_PROGRESS_BAR) filled = EXEC_PROGRESS_BAR;
    for (int i = 0; i < EXEC_PROGRESS_BAR; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[EXEC_PROGRESS_BAR] = 0;
    fmt_bytes(done, sizeof done, p->bytesDone);
    fmt_bytes(total, sizeof total, p->bytesTotal);
    int k = snprintf(buf, n, "hbee %3d%% [%s] %lld/%lld splits, %s of %s read, %.1f s", pct, bar,
                     (long long)p->splitsDone, (long long)p->splitsTotal, done, total,
                     (double)p->msElapsed / 1000.0);
    if (k < 0) k = 0;
    return (size_t)k >= n ? (int)(n ? n - 1 : 0) : k;
}
