/*
** pq_prune.c: row-group pruning from statistics and bloom filters.
**
** Rationale (when statistics are trusted):
**   - min_value/max_value (fields 5/6) follow the column order; they are used
**     when the file declares TYPE_ORDER for the column (or declares nothing
**     and the type is one whose signed order is the value order).
**   - deprecated min/max (fields 1/2) were written with signed comparison:
**     used only for BOOLEAN, signed INT32/INT64, FLOAT and DOUBLE.
**   - never for INT96, INTERVAL, unsigned integers from deprecated fields,
**     or floating point statistics that are NaN.
**   - truncated binary statistics are still bounds (writers round the max
**     up), so they are used as bounds.
**   - DATE, TIME and TIMESTAMP bounds only where the text rendering sorts like
**     the values (pq_text_ordered): a date of year 10000 reads '10000-01-01',
**     below '1994-01-01', so [min, max] spanning it bounds nothing in text.
*/
#include "pq_prune.h"

#include <math.h>
#include <string.h>

#include "pq_bloom.h"

static int type_rank(int t) {
    switch (t) {
    case PV_NULL: return 0;
    case PV_INT:
    case PV_REAL: return 1;
    case PV_TEXT: return 2;
    default: return 3;
    }
}

int pq_value_cmp(const PqValue *a, const PqValue *b) {
    int ra = type_rank(a->type), rb = type_rank(b->type);
    if (ra != rb) return ra < rb ? -1 : 1;
    if (ra == 0) return 0;
    if (ra == 1) {
        if (a->type == PV_INT && b->type == PV_INT) return a->i < b->i ? -1 : a->i > b->i;
        long double x = a->type == PV_INT ? (long double)a->i : a->d;
        long double y = b->type == PV_INT ? (long double)b->i : b->d;
        return x < y ? -1 : x > y;
    }
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

static int is_null(const PqValue *v) {
    return v->type == PV_NULL || (v->type == PV_REAL && isnan(v->d));
}

int pq_pred_eval(const PqPred *p, const PqValue *v) {
    int c;
    if (p->op == PQ_OP_ISNULL) return is_null(v);
    if (p->op == PQ_OP_NOTNULL) return !is_null(v);
    if (is_null(v)) return 0;
    if (p->op == PQ_OP_IN) {
        for (int i = 0; i < p->n_in; i++)
            if (!is_null(&p->in[i]) && pq_value_cmp(v, &p->in[i]) == 0) return 1;
        return 0;
    }
    if (p->op == PQ_OP_PREFIX) /* necessary for LIKE 'prefix%' / GLOB 'prefix*' */
        return v->type == PV_TEXT && v->n >= p->val.n && memcmp(v->p, p->val.p, p->val.n) == 0;
    if (is_null(&p->val)) return 0;
    c = pq_value_cmp(v, &p->val);
    switch (p->op) {
    case PQ_OP_EQ: return c == 0;
    case PQ_OP_NE: return c != 0;
    case PQ_OP_LT: return c < 0;
    case PQ_OP_LE: return c <= 0;
    case PQ_OP_GT: return c > 0;
    case PQ_OP_GE: return c >= 0;
    }
    return 1;
}

static int deprecated_ok(const PqLeaf *l) {
    switch (l->kind) {
    case PK_BOOL: case PK_INT32: case PK_INT64: case PK_FLOAT: case PK_DOUBLE: case PK_DATE:
    case PK_TIME: case PK_TIMESTAMP:
        return 1;
    case PK_DECIMAL: return l->type == PQ_INT32 || l->type == PQ_INT64;
    default: return 0;
    }
}

/* Are a leaf's min/max in column order (ColumnIndex, fields 5/6) usable? */
static int orderable(const PqFile *f, int leaf) {
    const PqLeaf *l = &f->leaves[leaf];
    if (l->kind == PK_INT96 || l->kind == PK_INTERVAL || l->kind == PK_NESTED) return 0;
    return !f->meta->column_orders ||
           (leaf < f->meta->n_column_orders && f->meta->column_orders[leaf] == 1);
}

int pq_page_may_match(const PqFile *f, int leaf, const PqColumnIndex *ci, int page, int64_t rows,
                      const PqPred *p) {
    const PqLeaf *l = &f->leaves[leaf];
    PqValue mn, mx;
    char bmin[256], bmax[256];
    int have = 0;
    int64_t nulls = ci->null_counts ? ci->null_counts[page] : -1;
    if (ci->null_pages[page]) {
        nulls = rows;
    } else if (orderable(f, leaf) &&
               pq_text_ordered(l, ci->min_values[page].p, ci->min_values[page].n) &&
               pq_text_ordered(l, ci->max_values[page].p, ci->max_values[page].n) &&
               pq_render_plain(f, l, ci->min_values[page].p, ci->min_values[page].n, bmin, &mn) == BZ_OK &&
               pq_render_plain(f, l, ci->max_values[page].p, ci->max_values[page].n, bmax, &mx) == BZ_OK &&
               mn.type != PV_NULL && mx.type != PV_NULL && !(mn.type == PV_REAL && isnan(mn.d)) &&
               !(mx.type == PV_REAL && isnan(mx.d)) && pq_value_cmp(&mn, &mx) <= 0) {
        have = 1;
    }
    return pq_stats_may_match(p, l->kind, have, &mn, &mx, nulls, rows);
}

int pq_chunk_minmax(const PqFile *f, int rg, int leaf, PqValue *mn, PqValue *mx, char *bmin,
                    char *bmax) {
    const PqLeaf *l = &f->leaves[leaf];
    const PqColumnMeta *m = &f->meta->row_groups[rg].columns[leaf].meta;
    const PqStatistics *s = &m->stats;
    PqBin lo, hi;
    int type_order;
    if (!m->has_stats || l->kind == PK_INT96 || l->kind == PK_INTERVAL || l->kind == PK_NESTED)
        return 0;
    type_order = !f->meta->column_orders || (leaf < f->meta->n_column_orders && f->meta->column_orders[leaf] == 1);
    if (s->min_value.p && s->max_value.p && type_order) {
        lo = s->min_value;
        hi = s->max_value;
    } else if (s->min.p && s->max.p && deprecated_ok(l)) {
        lo = s->min;
        hi = s->max;
    } else {
        return 0;
    }
    if (!pq_text_ordered(l, lo.p, lo.n) || !pq_text_ordered(l, hi.p, hi.n)) return 0;
    if (pq_render_plain(f, l, lo.p, lo.n, bmin, mn) || pq_render_plain(f, l, hi.p, hi.n, bmax, mx))
        return 0;
    if (mn->type == PV_NULL || mx->type == PV_NULL) return 0;
    if (mn->type == PV_REAL && isnan(mn->d)) return 0;
    if (mx->type == PV_REAL && isnan(mx->d)) return 0;
    if (pq_value_cmp(mn, mx) > 0) return 0; /* inconsistent statistics: ignore */
    return 1;
}

/* Plain-encoded bytes of v for hashing into the leaf's bloom filter. */
static int bloom_bytes(const PqLeaf *l, const PqValue *v, uint8_t *tmp, const void **p, size_t *n) {
    switch (l->kind) {
    case PK_INT32:
        if (v->type != PV_INT || v->i < INT32_MIN || v->i > INT32_MAX) return 0;
        {
            int32_t x = (int32_t)v->i;
            memcpy(tmp, &x, 4);
        }
        *p = tmp;
        *n = 4;
        return 1;
    case PK_INT64:
        if (v->type != PV_INT) return 0;
        memcpy(tmp, &v->i, 8);
        *p = tmp;
        *n = 8;
        return 1;
    case PK_DOUBLE:
        if (v->type != PV_REAL && v->type != PV_INT) return 0;
        {
            double d = v->type == PV_INT ? (double)v->i : v->d;
            if (v->type == PV_INT && (int64_t)d != v->i) return 0;
            memcpy(tmp, &d, 8);
        }
        *p = tmp;
        *n = 8;
        return 1;
    case PK_STRING:
    case PK_BLOB:
        if (l->type != PQ_BYTE_ARRAY) return 0;
        if (v->type != (l->kind == PK_STRING ? PV_TEXT : PV_BLOB)) return 0;
        *p = v->p;
        *n = v->n;
        return 1;
    default: return 0;
    }
}

/* Bloom filter of (rg, leaf): 1 = may contain one of vals, 0 = contains none. */
static int bloom_may_contain(PqFile *f, int rg, int leaf, const PqValue *vals, int nv) {
    const PqColumnMeta *m = &f->meta->row_groups[rg].columns[leaf].meta;
    const PqLeaf *l = &f->leaves[leaf];
    uint8_t head[64], *bits = NULL, tmp[8];
    int32_t nbytes;
    size_t used, hn;
    BzErr err;
    int found = 1, i;
    if (m->bloom_filter_offset < 0 || (uint64_t)m->bloom_filter_offset >= f->src->size) return 1;
    hn = (size_t)BZ_MIN((uint64_t)sizeof head, f->src->size - (uint64_t)m->bloom_filter_offset);
    if (pq_read(f->src, (uint64_t)m->bloom_filter_offset, hn, head, &err)) return 1;
    if (pq_bloom_header_parse(head, hn, &nbytes, &used, &err)) return 1;
    if (nbytes <= 0 || nbytes > (128 << 20) || (uint64_t)m->bloom_filter_offset + used + (uint64_t)nbytes > f->src->size)
        return 1;
    bits = bz_malloc((size_t)nbytes);
    if (!bits) return 1;
    if (pq_read(f->src, (uint64_t)m->bloom_filter_offset + used, (size_t)nbytes, bits, &err) == BZ_OK) {
        found = 0;
        for (i = 0; i < nv && !found; i++) {
            const void *p;
            size_t n;
            if (!bloom_bytes(l, &vals[i], tmp, &p, &n)) {
                found = 1;
                break;
            }
            found = pq_bloom_check(bits, (size_t)nbytes, pq_bloom_hash(p, n));
        }
    }
    bz_free(bits);
    return found;
}

int pq_stats_may_match(const PqPred *p, int kind, int have, const PqValue *mn, const PqValue *mx,
                       int64_t nulls, int64_t rows) {
    /* SQLite stores NaN as NULL, so a float column's NaNs satisfy IS NULL:
    ** a null count of 0 proves nothing there. */
    if (p->op == PQ_OP_ISNULL)
        return !(nulls == 0 && kind != PK_FLOAT && kind != PK_DOUBLE && kind != PK_FLOAT16);
    if (p->op == PQ_OP_NOTNULL) return !(nulls >= 0 && nulls == rows);
    /* every other operator is false on NULL: an all-null range has no match */
    if (nulls >= 0 && nulls == rows && rows > 0) return 0;
    switch (p->op) {
    case PQ_OP_EQ:
        if (p->val.type == PV_NULL) return 0;
        return !have || (pq_value_cmp(&p->val, mn) >= 0 && pq_value_cmp(&p->val, mx) <= 0);
    case PQ_OP_IN:
        for (int i = 0; i < p->n_in; i++) {
            if (p->in[i].type == PV_NULL) continue;
            if (!have || (pq_value_cmp(&p->in[i], mn) >= 0 && pq_value_cmp(&p->in[i], mx) <= 0)) return 1;
        }
        return 0;
    case PQ_OP_LT: return p->val.type == PV_NULL ? 0 : !have || pq_value_cmp(mn, &p->val) < 0;
    case PQ_OP_LE: return p->val.type == PV_NULL ? 0 : !have || pq_value_cmp(mn, &p->val) <= 0;
    case PQ_OP_GT: return p->val.type == PV_NULL ? 0 : !have || pq_value_cmp(mx, &p->val) > 0;
    case PQ_OP_GE: return p->val.type == PV_NULL ? 0 : !have || pq_value_cmp(mx, &p->val) >= 0;
    case PQ_OP_NE:
        if (p->val.type == PV_NULL) return 0;
        return !have || !(pq_value_cmp(mn, &p->val) == 0 && pq_value_cmp(mx, &p->val) == 0);
    case PQ_OP_PREFIX: {
        /* text values with the prefix lie in [prefix, prefix + 0xFF...) */
        if (!have || mn->type != PV_TEXT || mx->type != PV_TEXT) return 1;
        size_t k = p->val.n;
        PqValue mxp = *mx, mnp = *mn;
        if (mxp.n > k) mxp.n = k;
        if (mnp.n > k) mnp.n = k;
        /* max truncated to k bytes must be >= prefix, min truncated must be <= prefix */
        if (pq_value_cmp(&mxp, &p->val) < 0) return 0;
        if (pq_value_cmp(&mnp, &p->val) > 0) return 0;
        return 1;
    }
    }
    return 1;
}

static int pred_may_match(PqFile *f, int rg, const PqPred *p, int use_bloom) {
    const PqField *fd = &f->fields[p->field];
    const PqColumnMeta *m;
    PqValue mn, mx;
    char bmin[256], bmax[256];
    int leaf, have;
    if (fd->kind == PK_NESTED) return 1;
    leaf = fd->first_leaf;
    m = &f->meta->row_groups[rg].columns[leaf].meta;
    have = pq_chunk_minmax(f, rg, leaf, &mn, &mx, bmin, bmax);
    if (!pq_stats_may_match(p, fd->kind, have, &mn, &mx, m->has_stats ? m->stats.null_count : -1,
                            f->meta->row_groups[rg].num_rows))
        return 0;
    if (use_bloom && p->op == PQ_OP_EQ && !bloom_may_contain(f, rg, leaf, &p->val, 1)) return 0;
    if (use_bloom && p->op == PQ_OP_IN && !bloom_may_contain(f, rg, leaf, p->in, p->n_in)) return 0;
    return 1;
}

int pq_rowgroup_may_match(PqFile *f, int rg, const PqPred *preds, int n, int use_bloom) {
    for (int i = 0; i < n; i++)
        if (!pred_may_match(f, rg, &preds[i], use_bloom)) return 0;
    return 1;
}
