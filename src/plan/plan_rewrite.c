/*
** plan_rewrite.c: turn a parsed SELECT into the partial query every worker
** runs over its split (table `split`) and the combine query run over the
** union of the partial rows (table `partials`).
**
**     plan_rewrite(sel, cols, n, &q, &err);
**     // SELECT g, avg(x) FROM t WHERE y > 0 GROUP BY g HAVING count(*) > 2
**     // partial: SELECT "g" AS _g0, total("x") AS _a0, count("x") AS _a1, count(*) AS _a2
**     //          FROM split WHERE "y" > 0 GROUP BY "g"
**     // combine: SELECT _g0 AS "g", total(_a0) / sum(_a1) AS "avg(x)" FROM partials
**     //          GROUP BY _g0 HAVING coalesce(sum(_a2), 0) > 2
**
** Partial result columns:
**   _gN  GROUP BY key N            _aN  partial aggregate state
**   _bN  bare column (no aggregate, SQLite picks a row; with one min/max the row of it)
**   _dN  argument of a DISTINCT aggregate (the partial groups by it too, so
**        each split ships its distinct values per group)
**   _cN  result column N of a query without aggregates
**   _oN  ORDER BY term not among the result columns (no aggregates)
**
** Decompositions (partial -> combine):
**   count(x), count(*)   count          -> coalesce(sum(_a), 0)   (0 on no rows)
**   sum(x)               sum            -> sum(_a)
**   total(x)             total          -> total(_a)
**   avg(x)               total, count   -> total(_a) / sum(_a')   (NULL when count is 0)
**   min(x), max(x)       min, max       -> min(_a), max(_a)       (collation kept)
**   group_concat(x[,s])  group_concat   -> group_concat(_a[, s])
**   agg(DISTINCT x)      x as _d        -> agg(DISTINCT _d)
** FILTER (WHERE ...) stays on the partial aggregate. HAVING, ORDER BY, LIMIT
** and OFFSET of an aggregate query run only in the combine query; a query
** without aggregates sorts and limits each split to LIMIT+OFFSET rows (when
** both are literals) and again in the combine query.
**
** Rationale for types: the partial columns are declared with the type of the
** dataset column (or CAST) they came from, so comparisons in the combine
** query see the same affinity as they would over the dataset table.
*/
#include "plan/plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C_SELECT, C_WHERE, C_GROUP, C_HAVING, C_ORDER };

typedef struct PartCol {
    char *zName; /* _g0 ... (bz_malloc) */
    char *zExpr; /* expression text in the partial query (bz_malloc) */
    const char *zType;
    const PlanExpr *src;
} PartCol;

typedef struct AggEntry {
    const PlanExpr *f; /* the aggregate call */
    int first;         /* index of its first _a column in aState */
} AggEntry;

typedef struct Rw {
    PlanSelect *s;
    const PlanColumn *aCol;
    int nCol;
    BzErr *err;
    int rc;
    /* result columns after * expansion */
    int nOut;
    PlanExpr **aOut;
    char **azOut;
    uint8_t *need; /* per dataset column */
    /* partial columns by kind */
    PartCol g[64], b[64], d[64], a[128], c[256], o[64];
    int ng, nb, nd, na, nc, no;
    AggEntry agg[128];
    int nagg;
} Rw;

#define RW_MAX(arr) ((int)BZ_ARRAY_LEN(arr))

static int rw_fail(Rw *r, int code, const char *fmt, const char *a1, const char *a2) {
    if (!r->rc) r->rc = bz_err(r->err, code, fmt, a1 ? a1 : "", a2 ? a2 : "");
    return r->rc;
}

static int ieq(const char *a, const char *b) {
    while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return tolower((unsigned char)*a) == tolower((unsigned char)*b);
}

static PlanExpr *new_node(Rw *r, int op, const char *z) {
    PlanExpr *e = plan_select_alloc(r->s, sizeof *e);
    if (!e) {
        rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
        return NULL;
    }
    e->op = op;
    e->iCol = -1;
    e->z = (char *)z;
    return e;
}

static int add_child(Rw *r, PlanExpr *e, PlanExpr *c) {
    if (!e || !c) return r->rc ? r->rc : rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
    PlanExpr **na = plan_select_alloc(r->s, (size_t)(e->nA + 1) * sizeof *na);
    if (!na) return rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
    if (e->nA) memcpy(na, e->a, (size_t)e->nA * sizeof *na);
    na[e->nA++] = c;
    e->a = na;
    return BZ_OK;
}

static char *expr_text(Rw *r, const PlanExpr *e) {
    BzBuf b;
    bz_buf_init(&b, 0);
    plan_expr_print(&b, e);
    if (b.rc) {
        bz_buf_free(&b);
        rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
        return NULL;
    }
    return bz_buf_take(&b);
}

/* ---- resolution ---------------------------------------------------------- */

static int is_agg_call(const PlanExpr *e) {
    return e->op == PE_FUNC && plan_func_class(e->z, e->bStar ? 1 : e->nA) == PF_AGG;
}

static int has_agg(const PlanExpr *e) {
    if (!e) return 0;
    if (is_agg_call(e)) return 1;
    for (int i = 0; i < e->nA; i++)
        if (has_agg(e->a[i])) return 1;
    return 0;
}

static int find_col(Rw *r, const char *z) {
    for (int i = 0; i < r->nCol; i++)
        if (ieq(r->aCol[i].zName, z)) return i;
    return -1;
}

static int lookup_alias(Rw *r, const char *z) {
    int out = 0;
    for (int i = 0; i < r->s->nCol; i++) {
        const PlanResultCol *c = &r->s->aCol[i];
        if (c->bStar) {
            /* expanded columns have no alias; skip their outputs */
            for (int j = 0; j < r->nCol; j++)
                if (!r->aCol[j].bHidden) out++;
            continue;
        }
        if (c->zAlias && ieq(c->zAlias, z)) return out;
        out++;
    }
    return -1;
}

static int check_func(Rw *r, PlanExpr *e) {
    int cls = plan_func_class(e->z, e->bStar ? 1 : e->nA);
    if (cls == PF_NONDET)
        return rw_fail(r, BZ_UNSUPPORTED,
                       "non-deterministic function %s() is not supported by hbee", e->z, NULL);
    if (cls == PF_UNKNOWN)
        return rw_fail(r, BZ_UNSUPPORTED, "function %s() is not supported by hbee%s", e->z, NULL);
    if (ieq(e->z, "date") || ieq(e->z, "time") || ieq(e->z, "datetime") || ieq(e->z, "julianday") ||
        ieq(e->z, "unixepoch") || ieq(e->z, "strftime")) {
        int nondet = ieq(e->z, "strftime") ? e->nA < 2 : e->nA < 1;
        for (int i = 0; i < e->nA; i++)
            if (e->a[i]->op == PE_LIT && ieq(e->a[i]->z, "'now'")) nondet = 1;
        if (nondet)
            return rw_fail(
                r, BZ_UNSUPPORTED,
                "non-deterministic function %s() (current time) is not supported by hbee", e->z,
                NULL);
    }
    if (cls == PF_AGG) {
        int n = e->nA;
        int ok;
        if (ieq(e->z, "count"))
            ok = e->bStar ? n == 0 && !e->bDistinct : n <= 1;
        else if (ieq(e->z, "group_concat"))
            ok = !e->bStar && (n == 1 || (n == 2 && !e->bDistinct));
        else if (ieq(e->z, "string_agg"))
            ok = !e->bStar && n == 2 && !e->bDistinct;
        else
            ok = !e->bStar && n == 1;
        if (!ok)
            return rw_fail(r, BZ_MISUSE, "wrong number of arguments to function %s()%s", e->z,
                           NULL);
        if (ieq(e->z, "count") && n == 0) e->bStar = 1;
        if (e->bDistinct && e->pFilter)
            return rw_fail(r, BZ_UNSUPPORTED,
                           "FILTER on a DISTINCT aggregate (%s) is not supported by hbee%s", e->z,
                           NULL);
    } else {
        if (e->bStar)
            return rw_fail(r, BZ_MISUSE, "wrong number of arguments to function %s()%s", e->z,
                           NULL);
        if (e->bDistinct)
            return rw_fail(r, BZ_MISUSE,
                           "DISTINCT aggregates must have exactly one argument (%s)%s", e->z, NULL);
        if (e->pFilter)
            return rw_fail(r, BZ_MISUSE, "FILTER may not be used with non-aggregate %s()%s", e->z,
                           NULL);
    }
    return BZ_OK;
}

/* Resolve names in *pe for clause `cl`; may replace *pe by a result column's
** expression (aliases, positions). */
static int resolve(Rw *r, PlanExpr **pe, int cl, int top) {
    PlanExpr *e = *pe;
    if (!e || r->rc) return r->rc;
    if (top && (cl == C_GROUP || cl == C_ORDER) && e->op == PE_LIT && e->z[0] >= '0' &&
        e->z[0] <= '9' && !strchr(e->z, '.') && !strchr(e->z, 'e') && !strchr(e->z, 'E')) {
        long k = strtol(e->z, NULL, 0);
        if (k < 1 || k > r->nOut) {
            char num[32], lim[32];
            snprintf(num, sizeof num, "%ld", k);
            snprintf(lim, sizeof lim, "%d", r->nOut);
            r->rc = bz_err(r->err, BZ_MISUSE,
                           "%s BY term out of range (%s) - should be between 1 and %s",
                           cl == C_GROUP ? "GROUP" : "ORDER", num, lim);
            return r->rc;
        }
        *pe = r->aOut[k - 1];
        if (cl == C_GROUP && has_agg(*pe))
            return rw_fail(r, BZ_MISUSE,
                           "aggregate functions are not allowed in the GROUP BY clause%s%s", NULL,
                           NULL);
        return BZ_OK;
    }
    if (e->op == PE_COL && e->iCol < 0) {
        if (e->zQual) {
            const char *t = r->s->zAlias ? r->s->zAlias : r->s->zTable;
            if (!ieq(e->zQual, t))
                return rw_fail(r, BZ_MISUSE, "no such column: %s.%s", e->zQual, e->z);
        }
        int alias = -1;
        if (!e->zQual && cl != C_SELECT) alias = lookup_alias(r, e->z);
        int col = find_col(r, e->z);
        if (alias >= 0 && (col < 0 || (cl == C_ORDER && top))) {
            *pe = r->aOut[alias];
            if ((cl == C_WHERE || cl == C_GROUP) && has_agg(*pe))
                return rw_fail(r, BZ_MISUSE, "misuse of aliased aggregate %s%s", e->z, NULL);
            return BZ_OK;
        }
        if (col < 0) {
            if (ieq(e->z, "rowid") || ieq(e->z, "oid") || ieq(e->z, "_rowid_"))
                return rw_fail(r, BZ_UNSUPPORTED,
                               "%s is not supported by hbee (row numbers are per split)%s", e->z,
                               NULL);
            return e->zQual ? rw_fail(r, BZ_MISUSE, "no such column: %s.%s", e->zQual, e->z)
                            : rw_fail(r, BZ_MISUSE, "no such column: %s%s", e->z, NULL);
        }
        e->iCol = col;
        e->zQual = NULL;
        e->z = (char *)r->aCol[col].zName;
        r->need[col] = 1;
        return BZ_OK;
    }
    if (e->op == PE_FUNC && check_func(r, e)) return r->rc;
    for (int i = 0; i < e->nA; i++)
        if (resolve(r, &e->a[i], cl, 0)) return r->rc;
    if (e->pFilter && resolve(r, &e->pFilter, cl, 0)) return r->rc;
    return BZ_OK;
}

/* Aggregates may not nest, nor appear in WHERE or GROUP BY. */
static int check_agg_use(Rw *r, const PlanExpr *e, int cl, int inside) {
    if (!e || r->rc) return r->rc;
    if (is_agg_call(e)) {
        if (inside)
            return rw_fail(r, BZ_MISUSE, "misuse of aggregate function %s() (nested aggregate)%s",
                           e->z, NULL);
        if (cl == C_WHERE)
            return rw_fail(r, BZ_MISUSE, "misuse of aggregate function %s() in WHERE%s", e->z,
                           NULL);
        if (cl == C_GROUP)
            return rw_fail(r, BZ_MISUSE,
                           "aggregate functions are not allowed in the GROUP BY clause%s%s", NULL,
                           NULL);
        inside = 1;
    }
    for (int i = 0; i < e->nA; i++)
        if (check_agg_use(r, e->a[i], cl, inside)) return r->rc;
    if (e->pFilter) check_agg_use(r, e->pFilter, cl, 1);
    return r->rc;
}

/* ---- partial columns --------------------------------------------------------- */

static const char *expr_type(Rw *r, const PlanExpr *e) {
    while (e && e->op == PE_COLLATE)
        e = e->a[0];
    if (!e) return "";
    if (e->op == PE_COL && e->iCol >= 0)
        return r->aCol[e->iCol].zType ? r->aCol[e->iCol].zType : "";
    if (e->op == PE_CAST) return e->z;
    return "";
}

/* Add (or find) a partial column of kind `k` ('g', 'b', 'd', 'c', 'o') for
** expression e. Returns its index or -1. */
static int part_add(Rw *r, char k, const PlanExpr *e) {
    PartCol *arr;
    int *n, max;
    switch (k) {
    case 'g':
        arr = r->g;
        n = &r->ng;
        max = RW_MAX(r->g);
        break;
    case 'b':
        arr = r->b;
        n = &r->nb;
        max = RW_MAX(r->b);
        break;
    case 'd':
        arr = r->d;
        n = &r->nd;
        max = RW_MAX(r->d);
        break;
    case 'c':
        arr = r->c;
        n = &r->nc;
        max = RW_MAX(r->c);
        break;
    default:
        arr = r->o;
        n = &r->no;
        max = RW_MAX(r->o);
        break;
    }
    if (k != 'c')
        for (int i = 0; i < *n; i++)
            if (plan_expr_equal(arr[i].src, e)) return i;
    if (*n >= max) {
        rw_fail(r, BZ_LIMIT, "query too large for hbee (too many partial columns)%s%s", NULL, NULL);
        return -1;
    }
    PartCol *p = &arr[*n];
    p->zName = bz_mprintf("_%c%d", k, *n);
    p->zExpr = expr_text(r, e);
    p->zType = expr_type(r, e);
    p->src = e;
    if (!p->zName || !p->zExpr) {
        bz_free(p->zName);
        bz_free(p->zExpr);
        rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
        return -1;
    }
    return (*n)++;
}

static int agg_state_add(Rw *r, char *zExpr) {
    if (!zExpr) return rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL), -1;
    if (r->na >= RW_MAX(r->a)) {
        bz_free(zExpr);
        rw_fail(r, BZ_LIMIT, "query too large for hbee (too many aggregates)%s%s", NULL, NULL);
        return -1;
    }
    PartCol *p = &r->a[r->na];
    p->zName = bz_mprintf("_a%d", r->na);
    p->zExpr = zExpr;
    p->zType = "";
    if (!p->zName) {
        bz_free(zExpr);
        rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
        return -1;
    }
    return r->na++;
}

/* Reference to partial column `name`, with the explicit collation of the
** expression it stands for. */
static PlanExpr *make_ref(Rw *r, const char *name, const PlanExpr *orig) {
    PlanExpr *ref = new_node(r, PE_REF, name);
    const char *coll = plan_expr_collation(orig);
    if (!ref || !coll) return ref;
    PlanExpr *c = new_node(r, PE_COLLATE, coll);
    if (add_child(r, c, ref)) return NULL;
    return c;
}

static PlanExpr *call(Rw *r, const char *fn, PlanExpr *arg) {
    PlanExpr *f = new_node(r, PE_FUNC, fn);
    if (add_child(r, f, arg)) return NULL;
    return f;
}

/* Printed text of a FUNC node with another name / first argument. */
static char *agg_partial_text(Rw *r, const PlanExpr *f, const char *fn) {
    PlanExpr copy = *f;
    copy.z = (char *)fn;
    return expr_text(r, &copy);
}

static int has_col(const PlanExpr *e) {
    if (!e) return 0;
    if (e->op == PE_COL) return 1;
    for (int i = 0; i < e->nA; i++)
        if (has_col(e->a[i])) return 1;
    return 0;
}

static PlanExpr *agg_combine(Rw *r, const PlanExpr *f) {
    const char *fn = f->z;
    int distinct = f->bDistinct && !ieq(fn, "min") && !ieq(fn, "max");
    if (distinct) {
        int k = part_add(r, 'd', f->a[0]);
        if (k < 0) return NULL;
        PlanExpr *c = new_node(r, PE_FUNC, fn);
        if (!c) return NULL;
        c->bDistinct = 1;
        if (add_child(r, c, make_ref(r, r->d[k].zName, f->a[0]))) return NULL;
        return c;
    }
    int first = -1;
    for (int i = 0; i < r->nagg; i++)
        if (plan_expr_equal(r->agg[i].f, f)) first = r->agg[i].first;
    if (first < 0) {
        if (r->nagg >= RW_MAX(r->agg)) {
            rw_fail(r, BZ_LIMIT, "query too large for hbee (too many aggregates)%s%s", NULL, NULL);
            return NULL;
        }
        if (ieq(fn, "avg")) {
            first = agg_state_add(r, agg_partial_text(r, f, "total"));
            if (first >= 0 && agg_state_add(r, agg_partial_text(r, f, "count")) < 0) first = -1;
        } else {
            first = agg_state_add(r, expr_text(r, f));
        }
        if (first < 0) return NULL;
        r->agg[r->nagg].f = f;
        r->agg[r->nagg].first = first;
        r->nagg++;
    }
    const char *s0 = r->a[first].zName;
    if (ieq(fn, "count")) {
        PlanExpr *c = new_node(r, PE_FUNC, "coalesce");
        if (add_child(r, c, call(r, "sum", new_node(r, PE_REF, s0)))) return NULL;
        if (add_child(r, c, new_node(r, PE_LIT, "0"))) return NULL;
        return c;
    }
    if (ieq(fn, "sum") || ieq(fn, "total"))
        return call(r, ieq(fn, "sum") ? "sum" : "total", new_node(r, PE_REF, s0));
    if (ieq(fn, "avg")) {
        PlanExpr *div = new_node(r, PE_BINARY, "/");
        if (add_child(r, div, call(r, "total", new_node(r, PE_REF, s0)))) return NULL;
        if (add_child(r, div, call(r, "sum", new_node(r, PE_REF, r->a[first + 1].zName))))
            return NULL;
        return div;
    }
    if (ieq(fn, "min") || ieq(fn, "max"))
        return call(r, ieq(fn, "min") ? "min" : "max", make_ref(r, s0, f->a[0]));
    /* group_concat / string_agg */
    PlanExpr *c = new_node(r, PE_FUNC, fn);
    if (add_child(r, c, new_node(r, PE_REF, s0))) return NULL;
    if (f->nA > 1) {
        if (has_col(f->a[1])) {
            rw_fail(r, BZ_UNSUPPORTED,
                    "%s() with a separator that depends on the row is not supported by hbee%s", fn,
                    NULL);
            return NULL;
        }
        if (add_child(r, c, f->a[1])) return NULL;
    }
    return c;
}

/* Combine-side version of an expression of an aggregate query. */
static PlanExpr *rw_combine(Rw *r, const PlanExpr *e) {
    if (!e || r->rc) return NULL;
    for (int i = 0; i < r->ng; i++)
        if (plan_expr_equal(r->g[i].src, e)) return make_ref(r, r->g[i].zName, e);
    if (is_agg_call(e)) return agg_combine(r, e);
    if (e->op == PE_COL) {
        int k = part_add(r, 'b', e);
        return k < 0 ? NULL : new_node(r, PE_REF, r->b[k].zName);
    }
    if (e->op == PE_LIT || e->op == PE_REF) return (PlanExpr *)e;
    PlanExpr *n = plan_select_alloc(r->s, sizeof *n);
    if (!n) {
        rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
        return NULL;
    }
    *n = *e;
    n->a = NULL;
    n->nA = 0;
    for (int i = 0; i < e->nA; i++)
        if (add_child(r, n, rw_combine(r, e->a[i]))) return NULL;
    return n;
}

/* ---- output ------------------------------------------------------------------ */

static void print_order_suffix(BzBuf *b, const PlanOrderTerm *o) {
    if (o->bDesc) bz_buf_appendz(b, " DESC");
    if (o->nulls == 1) bz_buf_appendz(b, " NULLS FIRST");
    if (o->nulls == 2) bz_buf_appendz(b, " NULLS LAST");
}

static void print_ident(BzBuf *b, const char *z) {
    bz_buf_appendc(b, '"');
    for (; *z; z++) {
        if (*z == '"') bz_buf_appendc(b, '"');
        bz_buf_appendc(b, *z);
    }
    bz_buf_appendc(b, '"');
}

/* Integer value of a literal (optionally negated); 0 if not one. */
static int literal_int(const PlanExpr *e, int64_t *v) {
    int neg = 0;
    if (!e) return 0;
    if (e->op == PE_UNARY && (e->z[0] == '-' || e->z[0] == '+')) {
        neg = e->z[0] == '-';
        e = e->a[0];
    }
    if (e->op != PE_LIT || !isdigit((unsigned char)e->z[0])) return 0;
    for (const char *c = e->z; *c; c++)
        if (!isxdigit((unsigned char)*c) && *c != 'x' && *c != 'X') return 0;
    long long x = strtoll(e->z, NULL, 0);
    *v = neg ? -x : x;
    return 1;
}

static void print_cols(BzBuf *b, PartCol *arr, int n, int *first) {
    for (int i = 0; i < n; i++) {
        bz_buf_appendz(b, *first ? "" : ", ");
        *first = 0;
        bz_buf_printf(b, "%s AS %s", arr[i].zExpr, arr[i].zName);
    }
}

static int add_out_name(Rw *r, int i, const char *base) {
    char *z = bz_strdup(base);
    for (int k = 1; z; k++) {
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = ieq(r->azOut[j], z);
        if (!dup) break;
        bz_free(z);
        z = bz_mprintf("%s:%d", base, k);
    }
    if (!z) return rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
    r->azOut[i] = z;
    return BZ_OK;
}

static int expand_result(Rw *r) {
    PlanSelect *s = r->s;
    int n = 0;
    for (int i = 0; i < s->nCol; i++) {
        if (s->aCol[i].bStar) {
            const char *q = s->aCol[i].zStarQual;
            if (q && !ieq(q, s->zAlias ? s->zAlias : s->zTable))
                return rw_fail(r, BZ_MISUSE, "no such table: %s%s", q, NULL);
            for (int j = 0; j < r->nCol; j++)
                n += !r->aCol[j].bHidden;
        } else {
            n++;
        }
    }
    if (n == 0) return rw_fail(r, BZ_MISUSE, "the dataset has no columns%s%s", NULL, NULL);
    r->aOut = bz_calloc((size_t)n, sizeof *r->aOut);
    r->azOut = bz_calloc((size_t)n, sizeof *r->azOut);
    if (!r->aOut || !r->azOut) return rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
    for (int i = 0; i < s->nCol; i++) {
        PlanResultCol *c = &s->aCol[i];
        if (c->bStar) {
            for (int j = 0; j < r->nCol; j++) {
                if (r->aCol[j].bHidden) continue;
                PlanExpr *e = new_node(r, PE_COL, r->aCol[j].zName);
                if (!e) return r->rc;
                e->iCol = j;
                r->need[j] = 1;
                r->aOut[r->nOut] = e;
                if (add_out_name(r, r->nOut, r->aCol[j].zName)) return r->rc;
                r->nOut++;
            }
            continue;
        }
        if (resolve(r, &c->pExpr, C_SELECT, 1)) return r->rc;
        r->aOut[r->nOut] = c->pExpr;
        char *span = NULL;
        const char *name = c->zAlias;
        if (!name && c->pExpr->op == PE_COL) name = c->pExpr->z;
        if (!name) {
            span = bz_strndup(c->pExpr->zSpan, (size_t)c->pExpr->nSpan);
            if (!span) return rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
            name = span;
        }
        int rc = add_out_name(r, r->nOut, name);
        bz_free(span);
        if (rc) return rc;
        r->nOut++;
    }
    return BZ_OK;
}

static char *dup_or_fail(Rw *r, const char *z) {
    char *d = bz_strdup(z);
    if (!d) rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
    return d;
}

static int finish(Rw *r, BzBuf *partial, BzBuf *combine, PlanQuery *q) {
    PartCol *kinds[] = {r->g, r->b, r->d, r->a, r->c, r->o};
    int counts[] = {r->ng, r->nb, r->nd, r->na, r->nc, r->no};
    int n = 0;
    for (int k = 0; k < 6; k++)
        n += counts[k];
    q->azPart = bz_calloc((size_t)n + 1, sizeof(char *));
    q->azPartType = bz_calloc((size_t)n + 1, sizeof(char *));
    q->azOut = bz_calloc((size_t)r->nOut + 1, sizeof(char *));
    int nNeed = 0;
    for (int i = 0; i < r->nCol; i++)
        nNeed += r->need[i];
    q->azNeed = bz_calloc((size_t)nNeed + 1, sizeof(char *));
    if (!q->azPart || !q->azPartType || !q->azOut || !q->azNeed)
        return rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
    BzBuf ddl;
    bz_buf_init(&ddl, 0);
    bz_buf_appendz(&ddl, "CREATE TABLE partials(");
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < counts[k]; i++) {
            PartCol *p = &kinds[k][i];
            bz_buf_printf(&ddl, "%s%s%s%s", q->nPart ? ", " : "", p->zName, p->zType[0] ? " " : "",
                          p->zType);
            q->azPart[q->nPart] = dup_or_fail(r, p->zName);
            q->azPartType[q->nPart] = dup_or_fail(r, p->zType);
            q->nPart++;
        }
    bz_buf_appendc(&ddl, ')');
    for (int i = 0; i < r->nOut; i++)
        q->azOut[q->nOut++] = dup_or_fail(r, r->azOut[i]);
    for (int i = 0; i < r->nCol; i++)
        if (r->need[i]) q->azNeed[q->nNeed++] = dup_or_fail(r, r->aCol[i].zName);
    if (partial->rc || combine->rc || ddl.rc) r->rc = bz_err(r->err, BZ_NOMEM, "out of memory");
    q->zPartial = bz_buf_take(partial);
    q->zCombine = bz_buf_take(combine);
    q->zPartialsDdl = bz_buf_take(&ddl);
    if (!r->rc && (!q->zPartial || !q->zCombine || !q->zPartialsDdl))
        r->rc = bz_err(r->err, BZ_NOMEM, "out of memory");
    return r->rc;
}

static void rw_free(Rw *r) {
    PartCol *kinds[] = {r->g, r->b, r->d, r->a, r->c, r->o};
    int counts[] = {r->ng, r->nb, r->nd, r->na, r->nc, r->no};
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < counts[k]; i++) {
            bz_free(kinds[k][i].zName);
            bz_free(kinds[k][i].zExpr);
        }
    if (r->azOut)
        for (int i = 0; i < r->nOut; i++)
            bz_free(r->azOut[i]);
    bz_free(r->azOut);
    bz_free(r->aOut);
    bz_free(r->need);
}

void plan_query_free(PlanQuery *q) {
    if (!q) return;
    bz_free(q->zPartial);
    bz_free(q->zCombine);
    bz_free(q->zPartialsDdl);
    for (int i = 0; i < q->nOut; i++)
        bz_free(q->azOut[i]);
    for (int i = 0; i < q->nPart; i++) {
        bz_free(q->azPart[i]);
        bz_free(q->azPartType[i]);
    }
    for (int i = 0; i < q->nNeed; i++)
        bz_free(q->azNeed[i]);
    bz_free(q->azOut);
    bz_free(q->azPart);
    bz_free(q->azPartType);
    bz_free(q->azNeed);
    bz_free(q);
}

static void rewrite_aggregate(Rw *r, BzBuf *pb, BzBuf *cb) {
    PlanSelect *s = r->s;
    PlanExpr **sel = bz_calloc((size_t)r->nOut, sizeof *sel);
    PlanExpr *having = NULL;
    PlanExpr **order = s->nOrder ? bz_calloc((size_t)s->nOrder, sizeof *order) : NULL;
    if (!sel || (s->nOrder && !order)) {
        rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
        goto done;
    }
    for (int i = 0; i < s->nGroup && !r->rc; i++)
        part_add(r, 'g', s->aGroup[i]);
    for (int i = 0; i < r->nOut && !r->rc; i++)
        sel[i] = rw_combine(r, r->aOut[i]);
    if (s->pHaving) having = rw_combine(r, s->pHaving);
    for (int i = 0; i < s->nOrder && !r->rc; i++)
        order[i] = rw_combine(r, s->aOrder[i].pExpr);
    if (r->rc) goto done;
    if (r->ng + r->nb + r->nd + r->na == 0) agg_state_add(r, bz_strdup("count(*)"));
    /* partial */
    int first = 1;
    bz_buf_appendz(pb, "SELECT ");
    print_cols(pb, r->g, r->ng, &first);
    print_cols(pb, r->b, r->nb, &first);
    print_cols(pb, r->d, r->nd, &first);
    print_cols(pb, r->a, r->na, &first);
    bz_buf_appendz(pb, " FROM split");
    if (s->pWhere) {
        bz_buf_appendz(pb, " WHERE ");
        plan_expr_print(pb, s->pWhere);
    }
    if (r->ng + r->nd) {
        bz_buf_appendz(pb, " GROUP BY ");
        for (int i = 0; i < r->ng; i++)
            bz_buf_printf(pb, "%s%s", i ? ", " : "", r->g[i].zExpr);
        for (int i = 0; i < r->nd; i++)
            bz_buf_printf(pb, "%s%s", r->ng + i ? ", " : "", r->d[i].zExpr);
    }
    /* combine */
    bz_buf_appendz(cb, s->bDistinct ? "SELECT DISTINCT " : "SELECT ");
    for (int i = 0; i < r->nOut; i++) {
        if (i) bz_buf_appendz(cb, ", ");
        plan_expr_print(cb, sel[i]);
        bz_buf_appendz(cb, " AS ");
        print_ident(cb, r->azOut[i]);
    }
    bz_buf_appendz(cb, " FROM partials");
    if (r->ng) {
        bz_buf_appendz(cb, " GROUP BY ");
        for (int i = 0; i < r->ng; i++) {
            if (i) bz_buf_appendz(cb, ", ");
            PlanExpr *ref = make_ref(r, r->g[i].zName, r->g[i].src);
            if (ref) plan_expr_print(cb, ref);
        }
    }
    if (having) {
        bz_buf_appendz(cb, " HAVING ");
        plan_expr_print(cb, having);
    }
    for (int i = 0; i < s->nOrder; i++) {
        bz_buf_appendz(cb, i ? ", " : " ORDER BY ");
        plan_expr_print(cb, order[i]);
        print_order_suffix(cb, &s->aOrder[i]);
    }
    if (s->pLimit) {
        bz_buf_appendz(cb, " LIMIT ");
        plan_expr_print(cb, s->pLimit);
        if (s->pOffset) {
            bz_buf_appendz(cb, " OFFSET ");
            plan_expr_print(cb, s->pOffset);
        }
    }
done:
    bz_free(sel);
    bz_free(order);
}

static void rewrite_plain(Rw *r, BzBuf *pb, BzBuf *cb, int64_t *topn) {
    PlanSelect *s = r->s;
    int64_t lim = -1, off = 0;
    int *oref = s->nOrder ? bz_calloc((size_t)s->nOrder, sizeof *oref) : NULL;
    if (s->nOrder && !oref) {
        rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
        return;
    }
    for (int i = 0; i < r->nOut && !r->rc; i++)
        part_add(r, 'c', r->aOut[i]);
    /* ORDER BY terms: a result column (by equality) or an extra _o column */
    for (int i = 0; i < s->nOrder && !r->rc; i++) {
        const PlanExpr *e = s->aOrder[i].pExpr;
        oref[i] = -1;
        for (int k = 0; k < r->nc && oref[i] < 0; k++)
            if (plan_expr_equal(r->c[k].src, e)) oref[i] = k;
        if (oref[i] < 0) {
            int k = part_add(r, 'o', e);
            oref[i] = k < 0 ? -1 : 1000 + k;
        }
    }
    *topn = -1;
    if (s->pLimit && literal_int(s->pLimit, &lim) && (!s->pOffset || literal_int(s->pOffset, &off)))
        *topn = lim < 0 ? -1 : lim + (off > 0 ? off : 0);
    if (r->rc) goto done;
    int first = 1;
    bz_buf_appendz(pb, s->bDistinct ? "SELECT DISTINCT " : "SELECT ");
    print_cols(pb, r->c, r->nc, &first);
    print_cols(pb, r->o, r->no, &first);
    bz_buf_appendz(pb, " FROM split");
    if (s->pWhere) {
        bz_buf_appendz(pb, " WHERE ");
        plan_expr_print(pb, s->pWhere);
    }
    if (*topn >= 0) {
        for (int i = 0; i < s->nOrder; i++) {
            bz_buf_appendz(pb, i ? ", " : " ORDER BY ");
            plan_expr_print(pb, s->aOrder[i].pExpr);
            print_order_suffix(pb, &s->aOrder[i]);
        }
        bz_buf_printf(pb, " LIMIT %lld", (long long)*topn);
    }
    bz_buf_appendz(cb, s->bDistinct ? "SELECT DISTINCT " : "SELECT ");
    for (int i = 0; i < r->nOut; i++) {
        bz_buf_printf(cb, "%s%s AS ", i ? ", " : "", r->c[i].zName);
        print_ident(cb, r->azOut[i]);
    }
    bz_buf_appendz(cb, " FROM partials");
    for (int i = 0; i < s->nOrder; i++) {
        bz_buf_appendz(cb, i ? ", " : " ORDER BY ");
        const PartCol *p = oref[i] >= 1000 ? &r->o[oref[i] - 1000] : &r->c[oref[i]];
        PlanExpr *ref = make_ref(r, p->zName, s->aOrder[i].pExpr);
        if (ref) plan_expr_print(cb, ref);
        print_order_suffix(cb, &s->aOrder[i]);
    }
    if (s->pLimit) {
        bz_buf_appendz(cb, " LIMIT ");
        plan_expr_print(cb, s->pLimit);
        if (s->pOffset) {
            bz_buf_appendz(cb, " OFFSET ");
            plan_expr_print(cb, s->pOffset);
        }
    }
done:
    bz_free(oref);
}

int plan_rewrite(PlanSelect *s, const PlanColumn *aCol, int nCol, PlanQuery **out, BzErr *err) {
    Rw *r = bz_calloc(1, sizeof *r);
    PlanQuery *q = bz_calloc(1, sizeof *q);
    BzBuf pb, cb;
    int rc;
    *out = NULL;
    bz_buf_init(&pb, 0);
    bz_buf_init(&cb, 0);
    if (!r || !q) {
        bz_free(r);
        bz_free(q);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    r->s = s;
    r->aCol = aCol;
    r->nCol = nCol;
    r->err = err;
    r->need = bz_calloc((size_t)nCol + 1, 1);
    if (!r->need) rw_fail(r, BZ_NOMEM, "out of memory%s%s", NULL, NULL);
    if (!r->rc) expand_result(r);
    if (!r->rc) resolve(r, &s->pWhere, C_WHERE, 1);
    for (int i = 0; i < s->nGroup && !r->rc; i++)
        resolve(r, &s->aGroup[i], C_GROUP, 1);
    if (!r->rc) resolve(r, &s->pHaving, C_HAVING, 1);
    for (int i = 0; i < s->nOrder && !r->rc; i++)
        resolve(r, &s->aOrder[i].pExpr, C_ORDER, 1);
    if (!r->rc) resolve(r, &s->pLimit, C_SELECT, 0);
    if (!r->rc) resolve(r, &s->pOffset, C_SELECT, 0);
    if (!r->rc && (has_col(s->pLimit) || has_col(s->pOffset)))
        rw_fail(r, BZ_MISUSE, "LIMIT and OFFSET must be constant%s%s", NULL, NULL);
    int agg = s->nGroup > 0 || s->pHaving != NULL;
    for (int i = 0; i < r->nOut && !r->rc; i++) {
        check_agg_use(r, r->aOut[i], C_SELECT, 0);
        agg |= has_agg(r->aOut[i]);
    }
    if (!r->rc) check_agg_use(r, s->pWhere, C_WHERE, 0);
    for (int i = 0; i < s->nGroup && !r->rc; i++)
        check_agg_use(r, s->aGroup[i], C_GROUP, 0);
    if (!r->rc) check_agg_use(r, s->pHaving, C_HAVING, 0);
    for (int i = 0; i < s->nOrder && !r->rc; i++) {
        check_agg_use(r, s->aOrder[i].pExpr, C_ORDER, 0);
        agg |= has_agg(s->aOrder[i].pExpr);
    }
    if (!r->rc && (has_agg(s->pLimit) || has_agg(s->pOffset)))
        rw_fail(r, BZ_MISUSE, "misuse of aggregate in LIMIT%s%s", NULL, NULL);
    q->nTopN = -1;
    q->bAggregate = agg;
    if (!r->rc) {
        if (agg)
            rewrite_aggregate(r, &pb, &cb);
        else
            rewrite_plain(r, &pb, &cb, &q->nTopN);
    }
    if (!r->rc) finish(r, &pb, &cb, q);
    rc = r->rc;
    bz_buf_free(&pb);
    bz_buf_free(&cb);
    rw_free(r);
    bz_free(r);
    if (rc) {
        plan_query_free(q);
        return rc;
    }
    *out = q;
    return BZ_OK;
}
