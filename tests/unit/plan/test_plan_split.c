/*
** Unit tests for the split planner's minimum split count (src/plan/plan_split.c):
** plan_split_target's rule, and plan_splits_list over data/lineitem.parquet
** (6 row groups, run from the repository root as tests/run.sh does): with a
** minimum, the file's one 64 MiB split becomes several runs of row groups
** that still cover every row group exactly once, in order.
*/
#include "bz_test.h"
#include "common/bz_common.h"
#include "plan/plan.h"

#define MIB ((int64_t)1 << 20)

static void test_target(void) {
    /* no minimum, or enough splits already: split_bytes */
    CHECK_EQ_INT(plan_split_target(100 * MIB, 2, 64 * MIB, 0), 64 * MIB);
    CHECK_EQ_INT(plan_split_target(100 * MIB, 8, 64 * MIB, 8), 64 * MIB);
    CHECK_EQ_INT(plan_split_target(100 * MIB, 9, 64 * MIB, 8), 64 * MIB);
    /* too few: total / minimum */
    CHECK_EQ_INT(plan_split_target(48 * MIB, 1, 64 * MIB, 8), 6 * MIB);
    CHECK_EQ_INT(plan_split_target(80 * MIB, 2, 64 * MIB, 4), 20 * MIB);
    /* never below the floor, never above split_bytes */
    CHECK_EQ_INT(plan_split_target(2 * MIB, 1, 64 * MIB, 8), PLAN_MIN_SPLIT_BYTES);
    CHECK_EQ_INT(plan_split_target(0, 1, 64 * MIB, 8), PLAN_MIN_SPLIT_BYTES);
    CHECK_EQ_INT(plan_split_target(2 * MIB, 1, 1000, 8), 1000);
    CHECK_EQ_INT(plan_split_target(100 * MIB, 1, 0, 8), 1); /* split_bytes <= 0 acts as 1 */
}

/* Every row group of the file in exactly one split, in order; returns the
** number of splits, checks rows against the total. */
static int check_cover(const PlanSplits *sp, int nRg, int64_t rows) {
    int next = 0;
    int64_t r = 0;
    for (int i = 0; i < sp->n; i++) {
        CHECK(sp->a[i].nRg > 0);
        for (int k = 0; k < sp->a[i].nRg; k++) CHECK_EQ_INT(sp->a[i].aRg[k], next++);
        r += sp->a[i].nRows;
    }
    CHECK_EQ_INT(next, nRg);
    CHECK_EQ_INT(r, rows);
    return sp->n;
}

static void test_list(void) {
    PlanDataset d;
    PlanSplits sp;
    BzErr err;
    char *azNeed[] = {"l_orderkey", "l_partkey", "l_suppkey", "l_linenumber", "l_quantity",
                      "l_extendedprice", "l_discount", "l_tax", "l_returnflag",
                      "l_linestatus", "l_shipdate", "l_commitdate", "l_receiptdate",
                      "l_shipinstruct", "l_shipmode", "l_comment"};
    int nNeed = (int)BZ_ARRAY_LEN(azNeed);
    CHECK_EQ_INT(plan_dataset_parse("CREATE VIRTUAL TABLE t USING parquet('data/lineitem.parquet')",
                                    &d, &err), BZ_OK);
    /* no minimum: one split of the whole file */
    CHECK_EQ_INT(plan_splits_list(&d, NULL, azNeed, nNeed, 64 * MIB, 0, &sp, &err), BZ_OK);
    CHECK_EQ_INT(check_cover(&sp, 6, 60012), 1);
    int64_t total = sp.a[0].nBytes;
    CHECK(total > PLAN_MIN_SPLIT_BYTES); /* else the floor would leave one split */
    plan_splits_clear(&sp);
    /* minimum 4: target max(total / 4, floor), so at least 2 splits, none
    ** over the target unless it is one row group */
    CHECK_EQ_INT(plan_splits_list(&d, NULL, azNeed, nNeed, 64 * MIB, 4, &sp, &err), BZ_OK);
    int n = check_cover(&sp, 6, 60012);
    int64_t t = plan_split_target(total, 1, 64 * MIB, 4);
    CHECK(n >= 2 && n <= 6);
    CHECK(n >= (int)(total / t));
    for (int i = 0; i < sp.n; i++) CHECK(sp.a[i].nBytes <= t || sp.a[i].nRg == 1);
    plan_splits_clear(&sp);
    /* one small column: the floor keeps it one split whatever the minimum */
    CHECK_EQ_INT(plan_splits_list(&d, NULL, azNeed, 1, 64 * MIB, 100, &sp, &err), BZ_OK);
    CHECK(sp.n == 1 && sp.a[0].nBytes < PLAN_MIN_SPLIT_BYTES);
    CHECK_EQ_INT(check_cover(&sp, 6, 60012), 1);
    plan_splits_clear(&sp);
    /* an explicit small split_bytes wins over the minimum */
    CHECK_EQ_INT(plan_splits_list(&d, NULL, azNeed, nNeed, 1, 2, &sp, &err), BZ_OK);
    CHECK_EQ_INT(check_cover(&sp, 6, 60012), 6);
    plan_splits_clear(&sp);
    plan_dataset_clear(&d);
}

int main(void) {
    test_target();
    test_list();
    TEST_DONE();
}
