/*
** test_exec_cost.c: Lambda billing (GB-seconds, dollars), the estimate
** hbee_explain prints (longest-first schedule on N workers) and the
** progress line.
*/
#include "bz_test.h"
#include "exec/exec.h"

#include <math.h>
#include <stdlib.h>

static int near(double a, double b) {
    return fabs(a - b) <= 1e-12 + 1e-9 * fabs(b);
}

static void test_billing(void) {
    ExecPrice p;
    exec_price_default(&p);
    CHECK_EQ_INT(p.memoryMb, 1769);
    CHECK(near(p.usdPerGbS, 0.0000166667));
    CHECK(near(p.usdPer1MRequests, 0.20));
    CHECK_EQ_INT(exec_billed_ms(0), 1); /* rounded up to 1 ms */
    CHECK_EQ_INT(exec_billed_ms(-3), 1);
    CHECK_EQ_INT(exec_billed_ms(250), 250);
    /* 1000 ms at 1024 MB: exactly 1 GB-s */
    p.memoryMb = 1024;
    CHECK(near(exec_gb_s(&p, 1000), 1.0));
    CHECK(near(exec_cost_usd(&p, 1000, 0), 0.0000166667));
    CHECK(near(exec_cost_usd(&p, 0, 1000000), 0.20));
    /* 8 tasks of 125 ms at 1769 MB */
    p.memoryMb = 1769;
    CHECK(near(exec_gb_s(&p, 1000), 1769.0 / 1024.0));
    CHECK(near(exec_cost_usd(&p, 1000, 8), 1769.0 / 1024.0 * 0.0000166667 + 8 * 0.2e-6));
}

static void test_stats_json_cost(void) {
    ExecStats st;
    BzBuf b;
    memset(&st, 0, sizeof st);
    st.billedMs = 2000;
    st.requests = 3;
    st.price.memoryMb = 512;
    st.price.usdPerGbS = 0.00001;
    st.price.usdPer1MRequests = 1.0;
    bz_buf_init(&b, 0);
    exec_stats_json(&st, &b);
    CHECK(strstr(b.data, "\"memory_mb\": 512") != NULL);
    CHECK(strstr(b.data, "\"billed_ms\": 2000, \"requests\": 3") != NULL);
    CHECK(strstr(b.data, "\"gb_s\": 1.000000") != NULL);
    CHECK(strstr(b.data, "\"cost_usd\": 0.000013000") != NULL); /* 1e-5 + 3e-6 */
    bz_buf_free(&b);
    /* price left zero: the defaults */
    memset(&st, 0, sizeof st);
    bz_buf_init(&b, 0);
    exec_stats_json(&st, &b);
    CHECK(strstr(b.data, "\"memory_mb\": 1769") != NULL);
    bz_buf_free(&b);
}

static void test_estimate(void) {
    ExecPrice p;
    PlanSplit a[5];
    PlanSplits sp = {5, a, 5};
    ExecEstimate e;
    memset(a, 0, sizeof a);
    exec_price_default(&p);
    p.scanMbS = 10.0; /* 10,000 bytes per ms */
    int64_t bytes[5] = {1000000, 1000000, 1000000, 2000000, 0}; /* 110, 110, 110, 210, 10 ms */
    for (int i = 0; i < 5; i++)
        a[i].nBytes = bytes[i];
    CHECK_EQ_INT(exec_estimate(&p, &sp, 1, &e), BZ_OK);
    CHECK_EQ_INT(e.msWall, 550);
    CHECK_EQ_INT(e.billedMs, 550);
    CHECK_EQ_INT(e.requests, 5);
    CHECK(near(e.usd, exec_cost_usd(&p, 550, 5)));
    /* 2 workers, longest first: {210, 110}, {110, 110, 10} -> 320, 230 */
    CHECK_EQ_INT(exec_estimate(&p, &sp, 2, &e), BZ_OK);
    CHECK_EQ_INT(e.msWall, 320);
    CHECK_EQ_INT(e.billedMs, 550);
    /* more workers than splits: the longest split */
    CHECK_EQ_INT(exec_estimate(&p, &sp, 100, &e), BZ_OK);
    CHECK_EQ_INT(e.msWall, 210);
    sp.n = 0;
    CHECK_EQ_INT(exec_estimate(&p, &sp, 0, &e), BZ_OK);
    CHECK_EQ_INT(e.msWall, 0);
    CHECK_EQ_INT(e.nWorkers, 1);
}

static void test_progress_line(void) {
    ExecProgress p;
    char line[200];
    memset(&p, 0, sizeof p);
    p.splitsDone = 3;
    p.splitsTotal = 8;
    p.bytesDone = 3 * 1024 * 1024;
    p.bytesTotal = 8 * 1024 * 1024;
    p.msElapsed = 1450;
    int n = exec_progress_line(&p, line, sizeof line);
    CHECK_EQ_INT(n, (long long)strlen(line));
    CHECK_EQ_STR(line, "hbee  37% [#########...............] 3/8 splits, 3.0 MiB of 8.0 MiB read, "
                       "1.4 s");
    CHECK(strchr(line, '\r') == NULL && strchr(line, '\n') == NULL);
    /* a short buffer truncates, the length says what is there */
    n = exec_progress_line(&p, line, 10);
    CHECK_EQ_INT(n, 9);
    CHECK_EQ_INT((long long)strlen(line), 9);
    p.splitsTotal = 0; /* no splits: no division by zero */
    p.splitsDone = 0;
    exec_progress_line(&p, line, sizeof line);
    CHECK(strstr(line, "0/0 splits") != NULL);
}

int main(void) {
    test_billing();
    test_stats_json_cost();
    test_estimate();
    test_progress_line();
    TEST_DONE();
}
