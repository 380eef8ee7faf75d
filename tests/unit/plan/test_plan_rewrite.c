/*
** test_plan_rewrite.c: the hbee planner: tokenizer, parser errors, and the
** partial/combine rewrite as golden SQL.
*/
#include "bz_test.h"
#include "plan/plan.h"

#include <stdlib.h>

static const PlanColumn cols[] = {
    {"g", "TEXT", 0}, {"x", "INTEGER", 0},     {"y", "REAL", 0},
    {"s", "TEXT", 0}, {"filename", "TEXT", 1},
};

typedef struct Golden {
    const char *sql, *partial, *combine;
} Golden;

static const Golden golden[] = {
    {"SELECT g, avg(x) FROM t WHERE y > 0 GROUP BY g HAVING count(*) > 2",
     "SELECT \"g\" AS _g0, total(\"x\") AS _a0, count(\"x\") AS _a1, count(*) AS _a2 FROM split "
     "WHERE \"y\" > 0 GROUP BY \"g\"",
     "SELECT _g0 AS \"g\", total(_a0) / sum(_a1) AS \"avg(x)\" FROM partials GROUP BY _g0 HAVING "
     "coalesce(sum(_a2), 0) > 2"},
    {"select count(*), sum(x), total(x), min(y), max(s) from t",
     "SELECT count(*) AS _a0, sum(\"x\") AS _a1, total(\"x\") AS _a2, min(\"y\") AS _a3, "
     "max(\"s\") AS "
     "_a4 FROM split",
     "SELECT coalesce(sum(_a0), 0) AS \"count(*)\", sum(_a1) AS \"sum(x)\", total(_a2) AS "
     "\"total(x)\", min(_a3) AS \"min(y)\", max(_a4) AS \"max(s)\" FROM partials"},
    {"SELECT count(x), count() FROM t", "SELECT count(\"x\") AS _a0, count(*) AS _a1 FROM split",
     "SELECT coalesce(sum(_a0), 0) AS \"count(x)\", coalesce(sum(_a1), 0) AS \"count()\" FROM "
     "partials"},
    {"SELECT sum(x) / count(*) + 1 AS r FROM t",
     "SELECT sum(\"x\") AS _a0, count(*) AS _a1 FROM split",
     "SELECT (sum(_a0) / coalesce(sum(_a1), 0)) + 1 AS \"r\" FROM partials"},
    {"SELECT count(*), count(*) FROM t", "SELECT count(*) AS _a0 FROM split",
     "SELECT coalesce(sum(_a0), 0) AS \"count(*)\", coalesce(sum(_a0), 0) AS \"count(*):1\" FROM "
     "partials"},
    {"SELECT min(s COLLATE NOCASE), max(x, y) FROM t",
     "SELECT \"x\" AS _b0, \"y\" AS _b1, min(\"s\" COLLATE NOCASE) AS _a0 FROM split",
     "SELECT min(_a0 COLLATE NOCASE) AS \"min(s COLLATE NOCASE)\", max(_b0, _b1) AS \"max(x, y)\" "
     "FROM partials"},
    {"SELECT group_concat(s), group_concat(s, '; ') FROM t",
     "SELECT group_concat(\"s\") AS _a0, group_concat(\"s\", '; ') AS _a1 FROM split",
     "SELECT group_concat(_a0) AS \"group_concat(s)\", group_concat(_a1, '; ') AS "
     "\"group_concat(s, '; ')\" FROM partials"},
    {"SELECT count(DISTINCT g), sum(DISTINCT x), avg(DISTINCT x), count(*) FROM t",
     "SELECT \"g\" AS _d0, \"x\" AS _d1, count(*) AS _a0 FROM split GROUP BY \"g\", \"x\"",
     "SELECT count(DISTINCT _d0) AS \"count(DISTINCT g)\", sum(DISTINCT _d1) AS \"sum(DISTINCT "
     "x)\", avg(DISTINCT _d1) AS \"avg(DISTINCT x)\", coalesce(sum(_a0), 0) AS \"count(*)\" FROM "
     "partials"},
    {"SELECT g, count(DISTINCT s) FROM t GROUP BY g",
     "SELECT \"g\" AS _g0, \"s\" AS _d0 FROM split GROUP BY \"g\", \"s\"",
     "SELECT _g0 AS \"g\", count(DISTINCT _d0) AS \"count(DISTINCT s)\" FROM partials GROUP BY "
     "_g0"},
    {"SELECT sum(x) FILTER (WHERE y > 1) FROM t",
     "SELECT sum(\"x\") FILTER (WHERE \"y\" > 1) AS _a0 FROM split",
     "SELECT sum(_a0) AS \"sum(x) FILTER (WHERE y > 1)\" FROM partials"},
    {"SELECT g AS k, sum(x) AS s1 FROM t AS tt WHERE tt.y < 3 GROUP BY 1 ORDER BY s1 DESC, k "
     "LIMIT 5 OFFSET 1",
     "SELECT \"g\" AS _g0, sum(\"x\") AS _a0 FROM split WHERE \"y\" < 3 GROUP BY \"g\"",
     "SELECT _g0 AS \"k\", sum(_a0) AS \"s1\" FROM partials GROUP BY _g0 ORDER BY sum(_a0) DESC, "
     "_g0 LIMIT 5 OFFSET 1"},
    {"SELECT g, x, max(y) FROM t GROUP BY g",
     "SELECT \"g\" AS _g0, \"x\" AS _b0, max(\"y\") AS _a0 FROM split GROUP BY \"g\"",
     "SELECT _g0 AS \"g\", _b0 AS \"x\", max(_a0) AS \"max(y)\" FROM partials GROUP BY _g0"},
    {"SELECT upper(g), count(*) FROM t GROUP BY g",
     "SELECT \"g\" AS _g0, count(*) AS _a0 FROM split GROUP BY \"g\"",
     "SELECT upper(_g0) AS \"upper(g)\", coalesce(sum(_a0), 0) AS \"count(*)\" FROM partials GROUP "
     "BY _g0"},
    {"SELECT x % 3, count(*) FROM t GROUP BY x % 3",
     "SELECT \"x\" % 3 AS _g0, count(*) AS _a0 FROM split GROUP BY \"x\" % 3",
     "SELECT _g0 AS \"x % 3\", coalesce(sum(_a0), 0) AS \"count(*)\" FROM partials GROUP BY _g0"},
    {"SELECT s, count(*) FROM t GROUP BY s COLLATE NOCASE",
     "SELECT \"s\" COLLATE NOCASE AS _g0, \"s\" AS _b0, count(*) AS _a0 FROM split GROUP BY \"s\" "
     "COLLATE NOCASE",
     "SELECT _b0 AS \"s\", coalesce(sum(_a0), 0) AS \"count(*)\" FROM partials GROUP BY _g0 "
     "COLLATE "
     "NOCASE"},
    {"SELECT DISTINCT g, count(*) FROM t GROUP BY g, x",
     "SELECT \"g\" AS _g0, \"x\" AS _g1, count(*) AS _a0 FROM split GROUP BY \"g\", \"x\"",
     "SELECT DISTINCT _g0 AS \"g\", coalesce(sum(_a0), 0) AS \"count(*)\" FROM partials GROUP BY "
     "_g0, _g1"},
    {"SELECT g FROM t GROUP BY g", "SELECT \"g\" AS _g0 FROM split GROUP BY \"g\"",
     "SELECT _g0 AS \"g\" FROM partials GROUP BY _g0"},
    {"SELECT g FROM t GROUP BY g ORDER BY count(*) DESC",
     "SELECT \"g\" AS _g0, count(*) AS _a0 FROM split GROUP BY \"g\"",
     "SELECT _g0 AS \"g\" FROM partials GROUP BY _g0 ORDER BY coalesce(sum(_a0), 0) DESC"},
    /* no aggregates: projection on the workers, top-N per split */
    {"SELECT * FROM t WHERE x BETWEEN 1 AND 5 ORDER BY y DESC LIMIT 10 OFFSET 2",
     "SELECT \"g\" AS _c0, \"x\" AS _c1, \"y\" AS _c2, \"s\" AS _c3 FROM split WHERE \"x\" BETWEEN "
     "1 AND 5 ORDER BY \"y\" DESC LIMIT 12",
     "SELECT _c0 AS \"g\", _c1 AS \"x\", _c2 AS \"y\", _c3 AS \"s\" FROM partials ORDER BY _c2 "
     "DESC "
     "LIMIT 10 OFFSET 2"},
    {"SELECT x + 1 AS a, upper(s) FROM t ORDER BY y NULLS LAST, 1",
     "SELECT \"x\" + 1 AS _c0, upper(\"s\") AS _c1, \"y\" AS _o0 FROM split",
     "SELECT _c0 AS \"a\", _c1 AS \"upper(s)\" FROM partials ORDER BY _o0 NULLS LAST, _c0"},
    {"SELECT s FROM t ORDER BY s COLLATE NOCASE LIMIT 3",
     "SELECT \"s\" AS _c0, \"s\" COLLATE NOCASE AS _o0 FROM split ORDER BY \"s\" COLLATE NOCASE "
     "LIMIT 3",
     "SELECT _c0 AS \"s\" FROM partials ORDER BY _o0 COLLATE NOCASE LIMIT 3"},
    {"SELECT DISTINCT g FROM t LIMIT 3", "SELECT DISTINCT \"g\" AS _c0 FROM split LIMIT 3",
     "SELECT DISTINCT _c0 AS \"g\" FROM partials LIMIT 3"},
    {"SELECT x FROM t LIMIT -1", "SELECT \"x\" AS _c0 FROM split",
     "SELECT _c0 AS \"x\" FROM partials LIMIT -1"},
    {"SELECT x FROM t LIMIT 2, 5", "SELECT \"x\" AS _c0 FROM split LIMIT 7",
     "SELECT _c0 AS \"x\" FROM partials LIMIT 5 OFFSET 2"},
    {"SELECT filename, t.x FROM t", "SELECT \"filename\" AS _c0, \"x\" AS _c1 FROM split",
     "SELECT _c0 AS \"filename\", _c1 AS \"x\" FROM partials"},
    /* expressions survive printing */
    {"SELECT -x, - -x, NOT x, x IS NOT NULL, x NOTNULL, x IS DISTINCT FROM y, "
     "CASE x WHEN 1 THEN 'a' END, CAST(x AS REAL), x NOT IN (1, 2), s NOT LIKE 'a%' ESCAPE '!', "
     "x || 'q', s GLOB '*z' FROM t",
     "SELECT -\"x\" AS _c0, -(-\"x\") AS _c1, NOT \"x\" AS _c2, \"x\" IS NOT NULL AS _c3, \"x\" IS "
     "NOT NULL AS _c4, \"x\" IS NOT \"y\" AS _c5, CASE \"x\" WHEN 1 THEN 'a' END AS _c6, "
     "CAST(\"x\" AS REAL) AS _c7, \"x\" NOT IN (1, 2) AS _c8, \"s\" NOT LIKE 'a%' ESCAPE '!' AS "
     "_c9, \"x\" || 'q' AS _c10, \"s\" GLOB '*z' AS _c11 FROM split",
     NULL},
    {"SELECT \"g\"\"q\" FROM t", NULL, NULL}, /* no such column */
};

typedef struct ErrCase {
    const char *sql, *msg;
} ErrCase;

static const ErrCase errors[] = {
    {"SELECT * FROM t JOIN u", "joins are not supported by hbee"},
    {"SELECT * FROM t, u", "joins are not supported by hbee"},
    {"SELECT * FROM t LEFT JOIN u ON 1", "joins are not supported by hbee"},
    {"SELECT * FROM (SELECT 1)", "subqueries in FROM are not supported by hbee"},
    {"SELECT (SELECT 1) FROM t", "subqueries are not supported by hbee"},
    {"SELECT * FROM t WHERE x IN (SELECT 1)", "subqueries (IN (SELECT ...)) are not supported"},
    {"SELECT * FROM t WHERE EXISTS (SELECT 1)", "subqueries (EXISTS) are not supported"},
    {"SELECT sum(x) OVER () FROM t", "window functions (OVER) are not supported by hbee"},
    {"SELECT x FROM t WINDOW w AS ()", "window functions (WINDOW) are not supported"},
    {"SELECT x FROM t UNION SELECT x FROM t", "compound SELECTs"},
    {"WITH c AS (SELECT 1) SELECT x FROM t", "common table expressions (WITH)"},
    {"SELECT random() FROM t", "non-deterministic function random() is not supported by hbee"},
    {"SELECT datetime('now') FROM t", "non-deterministic function datetime() (current time)"},
    {"SELECT CURRENT_TIMESTAMP FROM t", "non-deterministic CURRENT_TIMESTAMP"},
    {"SELECT x FROM t WHERE x = ?", "parameters (?, :name) are not supported"},
    {"SELECT readfile('x') FROM t", "function readfile() is not supported by hbee"},
    {"SELECT json_group_array(x) FROM t", "function json_group_array() is not supported"},
    {"SELECT x FROM t WHERE sum(x) > 0", "misuse of aggregate function sum() in WHERE"},
    {"SELECT sum(max(x)) FROM t", "nested aggregate"},
    {"SELECT x FROM t GROUP BY count(*)", "aggregate functions are not allowed in the GROUP BY"},
    {"SELECT nope FROM t", "no such column: nope"},
    {"SELECT u.x FROM t", "no such column: u.x"},
    {"SELECT rowid FROM t", "rowid is not supported by hbee"},
    {"SELECT x FROM t ORDER BY 3", "ORDER BY term out of range (3) - should be between 1 and 1"},
    {"SELECT 1", "a query without FROM"},
    {"DELETE FROM t", "only SELECT statements can run on hbee (got DELETE)"},
    {"SELECT x FROM t; SELECT 1 FROM t", "only one statement"},
    {"SELECT x FORM t", "near \"t\": syntax error"},
    {"SELECT 'abc FROM t", "unterminated string"},
    {"SELECT x FROM t LIMIT x", "LIMIT and OFFSET must be constant"},
    {"SELECT count(DISTINCT x) FILTER (WHERE y > 0) FROM t", "FILTER on a DISTINCT aggregate"},
    {"SELECT group_concat(s, s) FROM t", "separator that depends on the row"},
    {"SELECT sum(x, y) FROM t", "wrong number of arguments to function sum()"},
    {"SELECT x FROM t WHERE s MATCH 'a'", "MATCH and REGEXP are not supported"},
    {"SELECT (x, y) FROM t", "row values are not supported"},
    {"SELECT * FROM f(1)", "table-valued functions are not supported"},
};

static void test_lexer(void) {
    const char *sql = "SELECT \"a\"\"b\", [c d], `e`, 'it''s', x'00ff', 1.5e3, .5, 0x1F, ?1 -- c\n"
                      "/* c */ <= <> != || ->> ;";
    int types[] = {PT_ID,     PT_QID,     PT_OP,   PT_QID,      PT_OP,    PT_QID, PT_OP,
                   PT_STRING, PT_OP,      PT_BLOB, PT_OP,       PT_FLOAT, PT_OP,  PT_FLOAT,
                   PT_OP,     PT_INTEGER, PT_OP,   PT_VARIABLE, PT_OP,    PT_OP,  PT_OP,
                   PT_OP,     PT_OP,      PT_OP,   PT_EOF};
    int pos = 0;
    BzErr err = {0};
    for (size_t i = 0; i < BZ_ARRAY_LEN(types); i++) {
        PlanToken t;
        CHECK_EQ_INT(plan_lex_next(sql, &pos, &t, &err), BZ_OK);
        CHECK_EQ_INT(t.type, types[i]);
    }
    pos = 0;
    PlanToken t;
    CHECK_EQ_INT(plan_lex_next("x'0f", &pos, &t, &err), BZ_MISUSE);
    pos = 0;
    CHECK_EQ_INT(plan_lex_next("12abc", &pos, &t, &err), BZ_MISUSE);
    pos = 0;
    CHECK_EQ_INT(plan_lex_next("#", &pos, &t, &err), BZ_MISUSE);
}

static void test_golden(void) {
    for (size_t i = 0; i < BZ_ARRAY_LEN(golden); i++) {
        const Golden *g = &golden[i];
        PlanSelect *s = NULL;
        PlanQuery *q = NULL;
        BzErr err = {0};
        int rc = plan_parse(g->sql, &s, &err);
        CHECK_EQ_INT(rc, BZ_OK);
        if (rc) {
            fprintf(stderr, "  %s: %s\n", g->sql, err.msg);
            continue;
        }
        rc = plan_rewrite(s, cols, (int)BZ_ARRAY_LEN(cols), &q, &err);
        if (!g->partial) {
            if (!strstr(g->sql, "\"g\"\"q\"")) {
                CHECK_EQ_INT(rc, BZ_OK);
                if (!rc) CHECK(q->zPartial != NULL);
            } else {
                CHECK_EQ_INT(rc, BZ_MISUSE);
                CHECK_EQ_STR(err.msg, "no such column: g\"q");
            }
        } else {
            CHECK_EQ_INT(rc, BZ_OK);
            if (!rc) {
                CHECK_EQ_STR(q->zPartial, g->partial);
                if (g->combine) CHECK_EQ_STR(q->zCombine, g->combine);
            } else {
                fprintf(stderr, "  %s: %s\n", g->sql, err.msg);
            }
        }
        if (!rc && g->partial && strstr(g->sql, "ORDER BY y DESC LIMIT 10")) {
            CHECK_EQ_INT(q->nTopN, 12);
            CHECK_EQ_INT(q->bAggregate, 0);
            CHECK_EQ_STR(q->zPartialsDdl,
                         "CREATE TABLE partials(_c0 TEXT, _c1 INTEGER, _c2 REAL, _c3 TEXT)");
            CHECK_EQ_INT(q->nNeed, 4);
        }
        plan_query_free(q);
        plan_select_free(s);
    }
}

static void test_output_names(void) {
    PlanSelect *s;
    PlanQuery *q;
    BzErr err = {0};
    CHECK_EQ_INT(plan_parse("SELECT x, x, x AS \"x:1\", (y+1), count(*) AS 'n', tt.s FROM t tt "
                            "GROUP BY x, y, s",
                            &s, &err),
                 BZ_OK);
    CHECK_EQ_INT(plan_rewrite(s, cols, 5, &q, &err), BZ_OK);
    CHECK_EQ_INT(q->nOut, 6);
    CHECK_EQ_STR(q->azOut[0], "x");
    CHECK_EQ_STR(q->azOut[1], "x:1");
    CHECK_EQ_STR(q->azOut[2], "x:1:1");
    CHECK_EQ_STR(q->azOut[3], "(y+1)");
    CHECK_EQ_STR(q->azOut[4], "n");
    CHECK_EQ_STR(q->azOut[5], "s");
    CHECK_EQ_INT(q->bAggregate, 1);
    CHECK_EQ_INT(q->nNeed, 3);
    plan_query_free(q);
    plan_select_free(s);
    CHECK_EQ_INT(plan_parse("select * from main.t", &s, &err), BZ_OK);
    CHECK_EQ_STR(s->zSchema, "main");
    CHECK_EQ_STR(s->zTable, "t");
    plan_select_free(s);
}

static void test_errors(void) {
    for (size_t i = 0; i < BZ_ARRAY_LEN(errors); i++) {
        PlanSelect *s = NULL;
        PlanQuery *q = NULL;
        BzErr err = {0};
        int rc = plan_parse(errors[i].sql, &s, &err);
        if (!rc) rc = plan_rewrite(s, cols, 5, &q, &err);
        CHECK(rc != BZ_OK);
        CHECK(strstr(err.msg, errors[i].msg) != NULL);
        if (!strstr(err.msg, errors[i].msg))
            fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", errors[i].sql, err.msg,
                    errors[i].msg);
        plan_query_free(q);
        plan_select_free(s);
    }
}

static void test_dataset(void) {
    PlanDataset d;
    BzErr err = {0};
    CHECK_EQ_INT(plan_dataset_parse("CREATE VIRTUAL TABLE t USING parquet('data/a b.parquet', "
                                    "\"x,y\", hive_partitioning=1, binary_as_string = 'on')",
                                    &d, &err),
                 BZ_OK);
    CHECK_EQ_INT(d.nPath, 2);
    CHECK_EQ_STR(d.azPath[0], "data/a b.parquet");
    CHECK_EQ_STR(d.azPath[1], "x,y");
    CHECK_EQ_INT(d.nOpt, 2);
    CHECK_EQ_STR(d.azKey[0], "hive_partitioning");
    CHECK_EQ_STR(d.azVal[0], "1");
    CHECK_EQ_STR(d.azKey[1], "binary_as_string");
    CHECK_EQ_STR(d.azVal[1], "on");
    plan_dataset_clear(&d);
    CHECK_EQ_INT(plan_dataset_parse("create virtual table if not exists main.\"t\" using "
                                    "PARQUET('it''s.parquet')",
                                    &d, &err),
                 BZ_OK);
    CHECK_EQ_STR(d.azPath[0], "it's.parquet");
    plan_dataset_clear(&d);
    CHECK_EQ_INT(plan_dataset_parse("CREATE VIRTUAL TABLE t USING csv('x')", &d, &err), BZ_MISUSE);
    CHECK_EQ_INT(plan_dataset_parse("CREATE TABLE t(a)", &d, &err), BZ_MISUSE);
    CHECK_EQ_INT(plan_dataset_parse("CREATE VIRTUAL TABLE t USING parquet('x'", &d, &err),
                 BZ_MISUSE);
}

static void test_grouping(void) {
    int64_t sz[] = {10, 10, 10, 50, 5, 5, 100, 1};
    int st[8];
    int k = plan_group_row_groups(sz, 8, 30, st);
    CHECK_EQ_INT(k, 5);
    CHECK_EQ_INT(st[0], 0); /* 10+10+10 */
    CHECK_EQ_INT(st[1], 3); /* 50 alone */
    CHECK_EQ_INT(st[2], 4); /* 5+5 */
    CHECK_EQ_INT(st[3], 6); /* 100 */
    CHECK_EQ_INT(st[4], 7); /* 1 */
    CHECK_EQ_INT(plan_group_row_groups(sz, 0, 30, st), 0);
}

static void test_func_class(void) {
    CHECK_EQ_INT(plan_func_class("COUNT", 1), PF_AGG);
    CHECK_EQ_INT(plan_func_class("min", 2), PF_SCALAR);
    CHECK_EQ_INT(plan_func_class("substr", 2), PF_SCALAR);
    CHECK_EQ_INT(plan_func_class("random", 0), PF_NONDET);
    CHECK_EQ_INT(plan_func_class("load_extension", 1), PF_UNKNOWN);
    CHECK_EQ_INT(plan_func_class("s3_get", 1), PF_UNKNOWN);
}

int main(void) {
    test_lexer();
    test_golden();
    test_output_names();
    test_errors();
    test_dataset();
    test_grouping();
    test_func_class();
    TEST_DONE();
}
