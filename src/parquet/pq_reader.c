/*
** pq_reader.c: Parquet files as rows of SQL values. See pq_reader.h.
**
** Layers, bottom up:
**   Chunk   one column chunk of one row group: its bytes (fetched whole, or
**           in growing windows when a LIMIT means few rows are needed), its
**           dictionary, the current page decompressed once, and decoders
**           that yield batches of (repetition, definition, value) entries.
**   Cursor  a batch of entries of one leaf and the position in it.
**   Field   a top-level column: a flat leaf read entry by entry, or a nested
**           field assembled per row into JSON text (Dremel record assembly).
**   Scan    row groups, rows, OFFSET/LIMIT, and lazy catch-up: a field that
**           is not read on some rows skips them when it is next read, whole
**           pages at a time where the page headers allow it.
*/
#include "pq_reader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdatomic.h>

#include "codec/bz_codec.h"
#include "pq_cache.h"
#include "pq_pool.h"
#include "pq_encoding.h"
#include "pq_prune.h"

/* ======================================================================
** Small helpers
*/
static uint32_t rd_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd_le64(const uint8_t *p) {
    return (uint64_t)rd_le32(p) | (uint64_t)rd_le32(p + 4) << 32;
}

/* Size in bytes of one decoded value of a physical type in a cursor's array. */
static size_t value_size(int type) {
    switch (type) {
    case PQ_BOOLEAN: return 1;
    case PQ_INT32: return 4;
    case PQ_FLOAT: return 4;
    case PQ_INT64: return 8;
    case PQ_DOUBLE: return 8;
    default: return sizeof(PqBytes); /* INT96, BYTE_ARRAY, FLBA */
    }
}

/* ======================================================================
** Counters
*/
#define PQ_N_STATS (sizeof(PqStats) / sizeof(uint64_t))
static _Atomic uint64_t g_stats[PQ_N_STATS];

void pq_stats_add(size_t off, uint64_t n) {
    atomic_fetch_add_explicit(&g_stats[off / sizeof(uint64_t)], n, memory_order_relaxed);
}

void pq_stats_get(PqStats *out) {
    uint64_t *o = (uint64_t *)(void *)out;
    for (size_t i = 0; i < PQ_N_STATS; i++) o[i] = atomic_load_explicit(&g_stats[i], memory_order_relaxed);
}

int pq_read(BzReadAt *src, uint64_t off, size_t n, void *dst, BzErr *err) {
    PQ_STAT(bytes_read, n);
    PQ_STAT(reads, 1);
    return src->read_at(src, off, n, dst, err);
}

/* ======================================================================
** Schema
*/

/* Leaf kind from physical + logical/converted type. */
static int leaf_kind(const PqFile *f, const PqSchemaElement *e, int *unit) {
    const PqLogicalType *lt = &e->logical;
    int ct = e->converted_type;
    *unit = 0;
    if (lt->kind == PQ_LT_DECIMAL || ct == PQ_CT_DECIMAL) {
        if (e->type == PQ_INT32 || e->type == PQ_INT64 || e->type == PQ_BYTE_ARRAY ||
            e->type == PQ_FIXED_LEN_BYTE_ARRAY)
            return PK_DECIMAL;
    }
    switch (e->type) {
    case PQ_BOOLEAN: return PK_BOOL;
    case PQ_INT32:
        if (lt->kind == PQ_LT_DATE || ct == PQ_CT_DATE) return PK_DATE;
        if (lt->kind == PQ_LT_TIME || ct == PQ_CT_TIME_MILLIS) {
            *unit = PQ_UNIT_MILLIS;
            return PK_TIME;
        }
        if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed) || ct == PQ_CT_UINT_8 ||
            ct == PQ_CT_UINT_16 || ct == PQ_CT_UINT_32)
            return PK_UINT32;
        return PK_INT32;
    case PQ_INT64:
        if (lt->kind == PQ_LT_TIME) {
            *unit = lt->unit ? lt->unit : PQ_UNIT_MICROS;
            return PK_TIME;
        }
        if (ct == PQ_CT_TIME_MICROS) {
            *unit = PQ_UNIT_MICROS;
            return PK_TIME;
        }
        if (lt->kind == PQ_LT_TIMESTAMP) {
            *unit = lt->unit ? lt->unit : PQ_UNIT_MICROS;
            return PK_TIMESTAMP;
        }
        if (ct == PQ_CT_TIMESTAMP_MILLIS || ct == PQ_CT_TIMESTAMP_MICROS) {
            *unit = ct == PQ_CT_TIMESTAMP_MILLIS ? PQ_UNIT_MILLIS : PQ_UNIT_MICROS;
            return PK_TIMESTAMP;
        }
        if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed) || ct == PQ_CT_UINT_64) return PK_UINT64;
        return PK_INT64;
    case PQ_INT96: return PK_INT96;
    case PQ_FLOAT: return PK_FLOAT;
    case PQ_DOUBLE: return PK_DOUBLE;
    case PQ_BYTE_ARRAY:
        if (lt->kind == PQ_LT_STRING || lt->kind == PQ_LT_ENUM || lt->kind == PQ_LT_JSON ||
            ct == PQ_CT_UTF8 || ct == PQ_CT_ENUM || ct == PQ_CT_JSON || f->binary_as_string)
            return PK_STRING;
        return PK_BLOB;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (lt->kind == PQ_LT_UUID && e->type_length == 16) return PK_UUID;
        if (lt->kind == PQ_LT_FLOAT16 && e->type_length == 2) return PK_FLOAT16;
        if (ct == PQ_CT_INTERVAL && e->type_length == 12) return PK_INTERVAL;
        if (f->binary_as_string) return PK_STRING;
        return PK_BLOB;
    }
    return PK_BLOB;
}

static int kind_sql_type(const PqFile *f, int kind) {
    switch (kind) {
    case PK_BOOL: case PK_INT32: case PK_UINT32: case PK_INT64: return PV_INT;
    case PK_UINT64: return PV_INT;
    case PK_FLOAT: case PK_DOUBLE: case PK_FLOAT16: return PV_REAL;
    case PK_DECIMAL: return f->decimal_as_text ? PV_TEXT : PV_REAL;
    case PK_BLOB: return PV_BLOB;
    default: return PV_TEXT;
    }
}

const char *pq_field_decltype(const PqFile *f, int field) {
    switch (f->fields[field].sql_type) {
    case PV_INT: return "INTEGER";
    case PV_REAL: return "REAL";
    case PV_BLOB: return "BLOB";
    default: return "TEXT";
    }
}

static int is_list_annot(const PqSchemaElement *e) {
    return e->logical.kind == PQ_LT_LIST || e->converted_type == PQ_CT_LIST;
}
static int is_map_annot(const PqSchemaElement *e) {
    return e->logical.kind == PQ_LT_MAP || e->converted_type == PQ_CT_MAP ||
           e->converted_type == PQ_CT_MAP_KEY_VALUE;
}

void pq_node_path(const PqFile *f, int node, BzBuf *b) {
    int chain[64], depth = 0; /* schema nesting is limited to 64 when built */
    for (int j = node; j > 0 && depth < 64; j = f->nodes[j].parent) chain[depth++] = j;
    while (depth > 0) {
        bz_buf_appendz(b, f->nodes[chain[--depth]].el->name);
        if (depth) bz_buf_appendc(b, '.');
    }
}

/* Build the node tree from the flattened (depth-first) schema. */
static int build_schema(PqFile *f, BzErr *err) {
    PqFileMeta *m = f->meta;
    int n = m->n_schema, i, top = 0;
    int stack[64], left[64]; /* parent index and children still expected */
    if (n < 1) return bz_err(err, BZ_CORRUPT, "schema is empty");
    f->nodes = bz_calloc((size_t)n, sizeof(PqNode));
    f->leaves = bz_calloc((size_t)n, sizeof(PqLeaf));
    if (!f->nodes || !f->leaves) return bz_err(err, BZ_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        const PqSchemaElement *e = &m->schema[i];
        PqNode *nd = &f->nodes[i];
        nd->el = e;
        nd->leaf = -1;
        if (!bz_utf8_valid((const unsigned char *)e->name, strlen(e->name)))
            return bz_err(err, BZ_CORRUPT, "schema element %d has a name that is not valid UTF-8", i);
        if (e->num_children < 0 || e->num_children > n - 1 - i)
            return bz_err(err, BZ_CORRUPT, "schema element \"%s\" claims %d children", e->name,
                          e->num_children);
        if (i == 0) {
            nd->parent = -1;
        } else {
            while (top > 0 && left[top - 1] == 0) top--;
            if (top == 0) return bz_err(err, BZ_CORRUPT, "schema has more elements than the tree");
            nd->parent = stack[top - 1];
            left[top - 1]--;
            PqNode *p = &f->nodes[nd->parent];
            p->children[p->n_children++] = i;
            nd->def = p->def + (e->repetition == PQ_OPTIONAL || e->repetition == PQ_REPEATED);
            nd->rep = p->rep + (e->repetition == PQ_REPEATED);
        }
        if (e->num_children > 0) {
            if (e->type >= 0 && i > 0) {
                /* a group with a physical type: treat as corrupt */
                return bz_err(err, BZ_CORRUPT, "schema element \"%s\" has a type and children",
                              e->name);
            }
            nd->children = bz_calloc((size_t)e->num_children, sizeof(int));
            if (!nd->children) return bz_err(err, BZ_NOMEM, "out of memory");
            if (top == 64) return bz_err(err, BZ_CORRUPT, "schema nesting deeper than 64");
            stack[top] = i;
            left[top] = e->num_children;
            top++;
        } else if (i > 0) {
            if (e->type < 0 || e->type > 7)
                return bz_err(err, BZ_CORRUPT, "column \"%s\" has no physical type", e->name);
            if (e->type == PQ_FIXED_LEN_BYTE_ARRAY && (e->type_length <= 0 || e->type_length > (1 << 20)))
                return bz_err(err, BZ_CORRUPT, "column \"%s\" has fixed length %d", e->name,
                              e->type_length);
            nd->leaf = f->n_leaves++;
        }
    }
    while (top > 0 && left[top - 1] == 0) top--;
    if (top != 0) return bz_err(err, BZ_CORRUPT, "schema tree is truncated");
    if (f->nodes[0].n_children == 0) return bz_err(err, BZ_CORRUPT, "schema has no columns");

    /* leaf ranges (leaves are numbered depth-first, so subtrees are contiguous) */
    for (i = n - 1; i >= 0; i--) {
        PqNode *nd = &f->nodes[i];
        if (nd->leaf >= 0) {
            nd->first_leaf = nd->leaf;
            nd->n_leaves = 1;
        } else if (nd->n_children > 0) {
            nd->first_leaf = f->nodes[nd->children[0]].first_leaf;
            nd->n_leaves = 0;
            for (int c = 0; c < nd->n_children; c++) nd->n_leaves += f->nodes[nd->children[c]].n_leaves;
        }
        if (i > 0 && nd->leaf < 0 && nd->n_children == 0)
            return bz_err(err, BZ_CORRUPT, "group \"%s\" has no children", nd->el->name);
    }
    /* shapes */
    for (i = 1; i < n; i++) {
        PqNode *nd = &f->nodes[i];
        const PqSchemaElement *e = nd->el;
        if (nd->leaf >= 0) nd->shape = NS_LEAF;
        else if (is_list_annot(e) && nd->n_children == 1 &&
                 f->nodes[nd->children[0]].el->repetition == PQ_REPEATED)
            nd->shape = NS_LIST;
        else if (is_map_annot(e) && nd->n_children == 1 &&
                 f->nodes[nd->children[0]].el->repetition == PQ_REPEATED &&
                 f->nodes[nd->children[0]].n_children >= 1 && f->nodes[nd->children[0]].n_children <= 2)
            nd->shape = NS_MAP;
        else
            nd->shape = NS_STRUCT;
    }
    /* leaves */
    {
        int k = 0;
        for (i = 1; i < n; i++) {
            PqNode *nd = &f->nodes[i];
            if (nd->leaf < 0) continue;
            PqLeaf *l = &f->leaves[k++];
            const PqSchemaElement *e = nd->el;
            BzBuf path;
            l->node = i;
            l->max_def = nd->def;
            l->max_rep = nd->rep;
            l->type = e->type;
            l->type_length = e->type_length;
            l->kind = leaf_kind(f, e, &l->unit);
            l->scale = e->logical.kind == PQ_LT_DECIMAL ? e->logical.scale : e->scale;
            l->precision = e->logical.kind == PQ_LT_DECIMAL ? e->logical.precision : e->precision;
            if (l->scale < 0 || l->scale > 76) l->scale = 0;
            bz_buf_init(&path, 0);
            pq_node_path(f, i, &path);
            if (path.rc) return bz_err(err, BZ_NOMEM, "out of memory");
            l->path = bz_buf_take(&path);
            if (l->max_def > 255 || l->max_rep > 255)
                return bz_err(err, BZ_UNSUPPORTED, "column \"%s\" is nested deeper than 255", l->path);
        }
    }
    /* top-level fields */
    f->n_fields = f->nodes[0].n_children;
    f->fields = bz_calloc((size_t)f->n_fields, sizeof(PqField));
    if (!f->fields) return bz_err(err, BZ_NOMEM, "out of memory");
    for (i = 0; i < f->n_fields; i++) {
        PqField *fd = &f->fields[i];
        const PqNode *nd = &f->nodes[f->nodes[0].children[i]];
        fd->name = nd->el->name;
        fd->node = f->nodes[0].children[i];
        fd->first_leaf = nd->first_leaf;
        fd->n_leaves = nd->n_leaves;
        for (int j = 0; j < nd->n_leaves; j++) f->leaves[nd->first_leaf + j].field = i;
        if (nd->leaf >= 0 && nd->el->repetition != PQ_REPEATED) {
            fd->kind = f->leaves[nd->leaf].kind;
        } else {
            fd->kind = PK_NESTED;
        }
        fd->sql_type = fd->kind == PK_NESTED ? PV_TEXT : kind_sql_type(f, fd->kind);
    }
    return BZ_OK;
}

/* ======================================================================
** Open / close
*/
#define PQ_TAIL_READ 65536

int pq_file_open(BzReadAt *src, const PqOpenOpts *opts, PqFile **out, BzErr *err) {
    PqFile *f = NULL;
    uint8_t *tail = NULL, *footer = NULL;
    uint64_t size = src->size, tail_len, flen;
    int rc;
    *out = NULL;
    f = bz_calloc(1, sizeof *f);
    if (!f) {
        bz_readat_close(src);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    f->src = src;
    if (opts) {
        f->binary_as_string = opts->binary_as_string;
        f->decimal_as_text = opts->decimal_as_text;
    }
    /* A source that does not know its size yet learns it with the tail read
    ** (one request instead of a HEAD plus a GET). */
    if (src->size_unknown && src->read_tail && pq_footer_cache_has_name(src->name)) {
        /* a version of this file's footer is cached: learn the tag cheaply */
        size_t got = 0;
        PQ_STAT(reads, 1);
        rc = src->read_tail(src, 0, NULL, &got, err);
        if (rc) goto fail;
        size = src->size;
    }
    if (src->size_unknown && src->read_tail) {
        size_t got = 0;
        tail_len = opts && opts->tail_size >= 12 ? opts->tail_size : PQ_TAIL_READ;
        tail = bz_malloc(tail_len);
        if (!tail) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            goto fail;
        }
        PQ_STAT(reads, 1);
        rc = src->read_tail(src, tail_len, tail, &got, err);
        if (rc) goto fail;
        PQ_STAT(bytes_read, got);
        size = src->size;
        if (got != (size < tail_len ? size : tail_len)) {
            rc = bz_err(err, BZ_IO, "tail read returned %zu bytes", got);
            goto fail;
        }
        tail_len = got;
    }
    if (size < 12) {
        rc = bz_err(err, BZ_CORRUPT, "file is too small to be Parquet (%llu bytes)",
                    (unsigned long long)size);
        goto fail;
    }
    /* cached footer: no read at all */
    if (!tail && src->etag && src->etag[0]) {
        size_t cn = 0;
        int hit = pq_footer_cache_get(src->name, src->etag, &footer, &cn);
        if (!hit && opts && opts->footer_get &&
            opts->footer_get(opts->footer_ctx, src->name, src->etag, &footer, &cn)) {
            pq_footer_cache_put(src->name, src->etag, footer, cn);
            hit = 1;
        }
        if (hit) {
            if (cn > size - 12) {
                rc = bz_err(err, BZ_CORRUPT, "cached footer is larger than the file");
                goto fail;
            }
            f->footer_len = cn;
            rc = pq_meta_parse(footer, cn, &f->meta, err);
            if (rc) {
                bz_err_prefix(err, "cached footer");
                goto fail;
            }
            goto parsed;
        }
    }
    if (!tail) {
        tail_len = opts && opts->tail_size >= 12 ? opts->tail_size : PQ_TAIL_READ;
        if (tail_len > size) tail_len = size;
        tail = bz_malloc(tail_len);
        if (!tail) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            goto fail;
        }
        rc = pq_read(src, size - tail_len, tail_len, tail, err);
        if (rc) goto fail;
    }
    if (memcmp(tail + tail_len - 4, "PARE", 4) == 0) {
        rc = bz_err(err, BZ_UNSUPPORTED, "file is encrypted (encrypted footer); Parquet modular "
                                         "encryption is not supported");
        goto fail;
    }
    if (memcmp(tail + tail_len - 4, "PAR1", 4) != 0) {
        rc = bz_err(err, BZ_CORRUPT, "not a Parquet file (bad magic at the end)");
        goto fail;
    }
    /* The leading magic: free when the tail covers the file; one small read
    ** for local files; skipped on remote sources (a request per file). */
    if (tail_len == size || src->local) {
        uint8_t head[4];
        if (tail_len == size) memcpy(head, tail, 4);
        else if ((rc = pq_read(src, 0, 4, head, err)) != BZ_OK) goto fail;
        if (memcmp(head, "PAR1", 4) != 0) {
            rc = bz_err(err, BZ_CORRUPT, "not a Parquet file (bad magic at the start)");
            goto fail;
        }
    }
    flen = rd_le32(tail + tail_len - 8);
    if (flen > size - 12 || flen > PQ_MAX_FOOTER_SIZE) {
        rc = bz_err(err, BZ_CORRUPT, "footer length %llu exceeds the file (%llu bytes)",
                    (unsigned long long)flen, (unsigned long long)size);
        goto fail;
    }
    f->footer_len = flen;
    {
        const uint8_t *fp; /* the footer: inside the tail, or read on its own */
        rc = BZ_OK;
        if (flen + 8 <= tail_len) {
            fp = tail + tail_len - 8 - flen;
        } else {
            footer = bz_malloc(flen);
            if (!footer) {
                rc = bz_err(err, BZ_NOMEM, "out of memory");
                goto fail;
            }
            rc = pq_read(src, size - 8 - flen, flen, footer, err);
            fp = footer;
        }
        if (!rc) rc = pq_meta_parse(fp, flen, &f->meta, err);
        if (rc) {
            bz_err_prefix(err, "footer");
            goto fail;
        }
        if (src->etag && src->etag[0]) {
            pq_footer_cache_put(src->name, src->etag, fp, flen);
            if (opts && opts->footer_put) opts->footer_put(opts->footer_ctx, src->name, src->etag, fp, flen);
        }
    }
parsed:
    if (f->meta->encrypted) {
        rc = bz_err(err, BZ_UNSUPPORTED, "file is encrypted (plaintext footer, encrypted "
                                         "columns); Parquet modular encryption is not supported");
        goto fail;
    }
    rc = build_schema(f, err);
    if (rc) goto fail;
    for (int g = 0; g < f->meta->n_row_groups; g++) {
        const PqRowGroup *rg = &f->meta->row_groups[g];
        if (rg->n_columns != f->n_leaves) {
            rc = bz_err(err, BZ_CORRUPT, "row group %d has %d columns, schema has %d", g,
                        rg->n_columns, f->n_leaves);
            goto fail;
        }
        if (rg->num_rows < 0) {
            rc = bz_err(err, BZ_CORRUPT, "row group %d has %lld rows", g, (long long)rg->num_rows);
            goto fail;
        }
    }
    bz_free(tail);
    bz_free(footer);
    PQ_STAT(files_opened, 1);
    *out = f;
    return BZ_OK;
fail:
    bz_free(tail);
    bz_free(footer);
    bz_err_prefix(err, "%s", src->name);
    pq_file_close(f);
    return rc;
}

void pq_file_close(PqFile *f) {
    if (!f) return;
    if (f->nodes && f->meta)
        for (int i = 0; i < f->meta->n_schema; i++) bz_free(f->nodes[i].children);
    if (f->leaves)
        for (int i = 0; i < f->n_leaves; i++) bz_free(f->leaves[i].path);
    bz_free(f->nodes);
    bz_free(f->leaves);
    bz_free(f->fields);
    pq_meta_free(f->meta);
    bz_readat_close(f->src);
    bz_free(f);
}

/* ======================================================================
** Chunk: one column chunk of one row group
*/
typedef struct Chunk {
    PqFile *f;
    const PqLeaf *leaf;
    const PqColumnChunk *cc;
    int rg;
    /* raw bytes [start, start+len) of the file; buf holds [start, start+have) */
    uint64_t start, len;
    uint8_t *buf;             /* capacity buf_cap (kept from the cursor's previous chunk) */
    uint64_t buf_cap;
    uint64_t have;
    uint64_t pos;             /* next page header, relative to start */
    int64_t values_left;      /* entries (levels) left in the chunk per metadata */
    /* dictionary */
    uint8_t *dict_page;       /* owned decompressed dictionary page (capacity dict_page_cap) */
    size_t dict_page_cap;
    void *dict;               /* decoded values (value_size(type) each): dict_mem when the
                              ** chunk has a dictionary, else NULL */
    void *dict_mem;           /* owned, capacity dict_cap */
    size_t dict_cap;
    int dict_n;
    /* current data page */
    uint8_t *page;            /* owned decompressed page (capacity page_cap) */
    size_t page_cap;
    const uint8_t *vals;      /* value section */
    size_t vals_len;
    int page_left;            /* entries left in the page */
    int page_entries;         /* entries in the page */
    int encoding;
    PqRle rep, def;           /* level decoders */
    int rep_legacy, def_legacy; /* BIT_PACKED levels */
    const uint8_t *rep_raw, *def_raw;
    size_t rep_raw_n, def_raw_n, legacy_pos;
    size_t plain_pos;         /* PLAIN: byte offset; booleans: bit offset */
    PqRle idx;                /* dictionary indices / RLE booleans */
    PqDelta delta;
    PqDlba dlba;
    PqDba dba;
    int dba_live;
    int64_t bss_total, bss_pos;
    uint8_t *scratch;         /* FLBA BSS values, dictionary indices */
    size_t scratch_cap;
    PqOffsetIndex *oi;        /* page locations, when the file has a page index (owned) */
    int cur_page;             /* oi index of the page loaded last (-1 none) */
} Chunk;

static int chunk_err(Chunk *c, BzErr *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int chunk_err(Chunk *c, BzErr *err, int code, const char *fmt, ...) {
    va_list ap;
    char msg[400];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bz_err(err, code, "%s: row group %d, column \"%s\": %s", c->f->src->name, c->rg,
                  c->leaf->path, msg);
}

/* Add the chunk's name to an error raised below it (decoders, codecs). */
static int chunk_wrap(Chunk *c, BzErr *err, int rc) {
    if (rc && rc != BZ_DONE)
        bz_err_prefix(err, "%s: row group %d, column \"%s\"", c->f->src->name, c->rg, c->leaf->path);
    return rc;
}

static void chunk_free_page_state(Chunk *c) {
    if (c->dba_live) {
        pq_dba_free(&c->dba);
        c->dba_live = 0;
    }
}

/* Forget the chunk but keep its buffers and their capacities for the next
** chunk read through the same cursor.
** Rationale: a column chunk buffer is megabytes and a decompressed page a
** few hundred KiB; freed at every row group, glibc gives them back to the
** kernel (a thread's arena trims at every free) and the next row group
** pays a page fault per 4 KiB again, plus a TLB shootdown on every core the
** process runs on. That was a fifth of a Q6 scan's CPU time. */
static void chunk_reset(Chunk *c) {
    Chunk keep = *c;
    chunk_free_page_state(c);
    pq_offset_index_free(c->oi);
    memset(c, 0, sizeof *c);
    c->buf = keep.buf;
    c->buf_cap = keep.buf_cap;
    c->dict_page = keep.dict_page;
    c->dict_page_cap = keep.dict_page_cap;
    c->dict_mem = keep.dict_mem;
    c->dict_cap = keep.dict_cap;
    c->page = keep.page;
    c->page_cap = keep.page_cap;
    c->scratch = keep.scratch;
    c->scratch_cap = keep.scratch_cap;
}

/* Free the chunk, its buffers back to the pool; c is zeroed (a no-op on a
** zeroed chunk). */
static void chunk_close(Chunk *c) {
    if (!c) return;
    chunk_free_page_state(c);
    pq_pool_put(c->buf, (size_t)c->buf_cap);
    pq_pool_put(c->dict_page, c->dict_page_cap);
    pq_pool_put(c->dict_mem, c->dict_cap);
    pq_pool_put(c->page, c->page_cap);
    pq_pool_put(c->scratch, c->scratch_cap);
    pq_offset_index_free(c->oi);
    memset(c, 0, sizeof *c);
}

/* Make *p hold at least n bytes (contents not kept); *cap is its capacity.
** Buffers come from and go back to the scan buffer pool (pq_pool.h). */
static int mem_reserve(void *pp, size_t *cap, size_t n) {
    void **p = pp;
    if (*p && n <= *cap) return BZ_OK;
    pq_pool_put(*p, *cap);
    *p = pq_pool_get(n, cap);
    return *p ? BZ_OK : BZ_NOMEM;
}

/* Compute the byte range of a column chunk. */
static int chunk_range(PqFile *f, int rg, int leaf, uint64_t *start, uint64_t *len, BzErr *err) {
    const PqColumnChunk *cc = &f->meta->row_groups[rg].columns[leaf];
    const PqColumnMeta *m = &cc->meta;
    int64_t s;
    if (cc->encrypted)
        return bz_err(err, BZ_UNSUPPORTED, "%s: row group %d, column \"%s\": column is encrypted; "
                      "Parquet modular encryption is not supported", f->src->name, rg,
                      f->leaves[leaf].path);
    if (!cc->has_meta)
        return bz_err(err, BZ_CORRUPT, "%s: row group %d, column \"%s\": no column metadata",
                      f->src->name, rg, f->leaves[leaf].path);
    if (cc->file_path)
        return bz_err(err, BZ_UNSUPPORTED, "%s: row group %d, column \"%s\": column data in "
                      "another file (%s) is not supported", f->src->name, rg,
                      f->leaves[leaf].path, cc->file_path);
    s = m->data_page_offset;
    if (m->dictionary_page_offset > 0 && m->dictionary_page_offset < s) s = m->dictionary_page_offset;
    if (s < 4 || m->total_compressed_size < 0 || (uint64_t)s > f->src->size ||
        (uint64_t)m->total_compressed_size > f->src->size - (uint64_t)s)
        return bz_err(err, BZ_CORRUPT, "%s: row group %d, column \"%s\": column chunk at offset "
                      "%lld with %lld bytes lies outside the file (%llu bytes)", f->src->name, rg,
                      f->leaves[leaf].path, (long long)s, (long long)m->total_compressed_size,
                      (unsigned long long)f->src->size);
    if ((uint64_t)m->total_compressed_size > PQ_MAX_CHUNK_SIZE)
        return bz_err(err, BZ_LIMIT, "%s: row group %d, column \"%s\": column chunk of %lld bytes "
                      "exceeds the limit", f->src->name, rg, f->leaves[leaf].path,
                      (long long)m->total_compressed_size);
    *start = (uint64_t)s;
    *len = (uint64_t)m->total_compressed_size;
    return BZ_OK;
}

/* Set c up for column `leaf` of row group rg, reusing the buffers c holds
** (c is zeroed or was reset by chunk_reset). */
static int chunk_init(Chunk *c, PqFile *f, int rg, int leaf, BzErr *err) {
    int rc;
    chunk_reset(c);
    c->f = f;
    c->rg = rg;
    c->leaf = &f->leaves[leaf];
    c->cc = &f->meta->row_groups[rg].columns[leaf];
    rc = chunk_range(f, rg, leaf, &c->start, &c->len, err);
    if (rc) return rc;
    if (c->cc->meta.type != c->leaf->type)
        return chunk_err(c, err, BZ_CORRUPT, "column chunk type %s differs from schema type %s",
                         pq_type_name(c->cc->meta.type), pq_type_name(c->leaf->type));
    c->values_left = c->cc->meta.num_values;
    c->cur_page = -1;
    size_t cap = (size_t)c->buf_cap;
    rc = mem_reserve(&c->buf, &cap, (size_t)c->len);
    c->buf_cap = cap;
    if (rc) return chunk_err(c, err, BZ_NOMEM, "out of memory for %llu bytes",
                             (unsigned long long)c->len);
    return BZ_OK;
}

/* Make buf hold at least `upto` bytes (relative), reading from the source in
** windows that at least double, so a LIMIT query reads only the first pages. */
static int chunk_ensure(Chunk *c, uint64_t upto, BzErr *err) {
    uint64_t want;
    int rc;
    if (upto <= c->have) return BZ_OK;
    if (upto > c->len) upto = c->len;
    want = c->have * 2;
    if (want < 65536) want = 65536;
    if (want < upto) want = upto;
    if (want > c->len) want = c->len;
    rc = pq_read(c->f->src, c->start + c->have, want - c->have, c->buf + c->have, err);
    if (rc) return chunk_wrap(c, err, rc);
    c->have = want;
    return BZ_OK;
}

/* Extend the chunk to `len` bytes (a page that overruns the declared chunk
** size), reading the new bytes; fails if that leaves the file. */
static int chunk_grow(Chunk *c, uint64_t len, BzErr *err) {
    uint8_t *nb;
    if (len <= c->len) return BZ_OK;
    if (len > c->f->src->size - c->start || len > PQ_MAX_CHUNK_SIZE) return BZ_OK; /* caller reports */
    nb = bz_realloc(c->buf, len);
    if (!nb) return chunk_err(c, err, BZ_NOMEM, "out of memory");
    c->buf = nb;
    c->buf_cap = len;
    c->len = len;
    return chunk_ensure(c, len, err);
}

/* Ensure scratch has n bytes. */
static int chunk_scratch(Chunk *c, size_t n, BzErr *err) {
    if (mem_reserve(&c->scratch, &c->scratch_cap, n))
        return chunk_err(c, err, BZ_NOMEM, "out of memory");
    return BZ_OK;
}

/* Read the next page header; on success *h is set and c->pos points at the
** body. Returns BZ_DONE at the end of the chunk. */
static int chunk_page_header(Chunk *c, PqPageHeader *h, BzErr *err) {
    size_t used = 0;
    uint64_t want = 256;
    int rc;
    if (c->pos >= c->len) return BZ_DONE;
    for (;;) {
        rc = chunk_ensure(c, BZ_MIN(c->pos + want, c->len), err);
        if (rc) return rc;
        rc = pq_page_header_parse(c->buf + c->pos, c->have - c->pos, h, &used, err);
        if (rc == BZ_DONE) {
            if (c->have >= c->len)
                return chunk_err(c, err, BZ_CORRUPT, "page header at offset %llu is truncated",
                                 (unsigned long long)(c->start + c->pos));
            want *= 4;
            continue;
        }
        if (rc) return chunk_wrap(c, err, rc);
        break;
    }
    if (h->compressed_size >= 0 && (uint64_t)h->compressed_size > c->len - c->pos - used &&
        c->values_left > 0) {
        /* Some writers understate total_compressed_size; like other readers we
        ** accept a page that runs past the declared chunk while it stays
        ** inside the file. */
        rc = chunk_grow(c, c->pos + used + (uint64_t)h->compressed_size, err);
        if (rc) return rc;
    }
    if (h->compressed_size < 0 || (uint64_t)h->compressed_size > c->len - c->pos - used)
        return chunk_err(c, err, BZ_CORRUPT, "page at offset %llu claims %d bytes, chunk has %llu left",
                         (unsigned long long)(c->start + c->pos), h->compressed_size,
                         (unsigned long long)(c->len - c->pos - used));
    if ((size_t)h->uncompressed_size > PQ_MAX_PAGE_SIZE)
        return chunk_err(c, err, BZ_LIMIT, "page claims %d bytes uncompressed (limit %zu)",
                         h->uncompressed_size, PQ_MAX_PAGE_SIZE);
    c->pos += used;
    rc = chunk_ensure(c, c->pos + (uint64_t)h->compressed_size, err);
    return rc;
}

/* Decompress a page body into dst (dst_len bytes). */
static int chunk_decompress(Chunk *c, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                            BzErr *err) {
    int rc = bz_decompress(c->cc->meta.codec, src, n, dst, dst_len, err);
    return chunk_wrap(c, err, rc);
}

/* Decode `n` PLAIN values of the chunk's type from p[0..len) into out. */
static int decode_plain(Chunk *c, const uint8_t *p, size_t len, size_t *pos, void *out, int n,
                        BzErr *err) {
    const PqLeaf *l = c->leaf;
    size_t need;
    int i;
    switch (l->type) {
    case PQ_BOOLEAN:
        if (pq_plain_bool(p, len, *pos, out, n) != n)
            return chunk_err(c, err, BZ_CORRUPT, "PLAIN booleans run past the page");
        *pos += (size_t)n;
        return BZ_OK;
    case PQ_INT32:
    case PQ_FLOAT:
    case PQ_INT64:
    case PQ_DOUBLE:
        need = (size_t)n * value_size(l->type);
        if (*pos > len || need > len - *pos)
            return chunk_err(c, err, BZ_CORRUPT, "PLAIN values run past the page (%d values)", n);
        memcpy(out, p + *pos, need);
        *pos += need;
        return BZ_OK;
    case PQ_INT96:
    case PQ_FIXED_LEN_BYTE_ARRAY: {
        size_t w = l->type == PQ_INT96 ? 12 : (size_t)l->type_length;
        PqBytes *b = out;
        need = (size_t)n * w;
        if (*pos > len || need / w != (size_t)n || need > len - *pos)
            return chunk_err(c, err, BZ_CORRUPT, "PLAIN values run past the page (%d values)", n);
        for (i = 0; i < n; i++) {
            b[i].p = p + *pos + (size_t)i * w;
            b[i].n = (uint32_t)w;
        }
        *pos += need;
        return BZ_OK;
    }
    case PQ_BYTE_ARRAY:
        if (pq_plain_byte_array(p, len, pos, out, n, err) != n) return chunk_wrap(c, err, BZ_CORRUPT);
        return BZ_OK;
    }
    return chunk_err(c, err, BZ_CORRUPT, "bad physical type");
}

static int chunk_read_dictionary(Chunk *c, const PqPageHeader *h, BzErr *err) {
    size_t pos = 0;
    int rc;
    if (c->dict) return chunk_err(c, err, BZ_CORRUPT, "second dictionary page");
    if (h->num_values < 0 || (size_t)h->num_values > (size_t)h->uncompressed_size * 8 + 8)
        return chunk_err(c, err, BZ_CORRUPT, "dictionary claims %d values in %d bytes",
                         h->num_values, h->uncompressed_size);
    if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return chunk_err(c, err, BZ_UNSUPPORTED, "dictionary page encoding %s",
                         pq_encoding_name(h->encoding));
    if (mem_reserve(&c->dict_page, &c->dict_page_cap, (size_t)h->uncompressed_size + 1) ||
        mem_reserve(&c->dict_mem, &c->dict_cap,
                    ((size_t)h->num_values + 1) * value_size(c->leaf->type)))
        return chunk_err(c, err, BZ_NOMEM, "out of memory");
    c->dict = c->dict_mem;
    rc = chunk_decompress(c, c->buf + c->pos, (size_t)h->compressed_size, c->dict_page,
                          (size_t)h->uncompressed_size, err);
    if (rc) return rc;
    rc = decode_plain(c, c->dict_page, (size_t)h->uncompressed_size, &pos, c->dict, h->num_values,
                      err);
    if (rc) return chunk_err(c, err, rc, "dictionary page: %s", err->msg);
    c->dict_n = h->num_values;
    return BZ_OK;
}

/* Set up a levels decoder for v1 pages: returns bytes consumed. */
static int levels_v1(Chunk *c, int enc, int max, int n_values, const uint8_t *p, size_t len,
                     PqRle *dec, int *legacy, const uint8_t **raw, size_t *raw_n, size_t *used,
                     BzErr *err) {
    int bw = 0;
    while ((1 << bw) <= max) bw++;
    if (enc == PQ_ENC_RLE) {
        uint32_t n;
        if (len < 4) return chunk_err(c, err, BZ_CORRUPT, "levels length runs past the page");
        n = rd_le32(p);
        if (n > len - 4) return chunk_err(c, err, BZ_CORRUPT, "levels claim %u bytes, page has %zu", n, len - 4);
        pq_rle_init(dec, p + 4, n, bw);
        *legacy = 0;
        *used = 4 + (size_t)n;
        return BZ_OK;
    }
    if (enc == PQ_ENC_BIT_PACKED) {
        size_t n = ((size_t)n_values * (size_t)bw + 7) / 8;
        if (n > len) return chunk_err(c, err, BZ_CORRUPT, "BIT_PACKED levels run past the page");
        *legacy = 1;
        *raw = p;
        *raw_n = n;
        *used = n;
        return BZ_OK;
    }
    return chunk_err(c, err, BZ_UNSUPPORTED, "level encoding %s", pq_encoding_name(enc));
}

static int bit_width_of(int max) {
    int bw = 0;
    while ((1 << bw) <= max) bw++;
    return bw;
}

/* Load the next data page (skipping dictionary and index pages). BZ_DONE at
** the end of the chunk. */
static int chunk_next_page(Chunk *c, BzErr *err) {
    PqPageHeader h;
    int rc;
    const PqLeaf *l = c->leaf;
    for (;;) {
        uint64_t hdr_at = c->start + c->pos;
        rc = chunk_page_header(c, &h, err);
        if (rc) return rc;
        if (c->oi && (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2)) {
            int k = c->cur_page + 1;
            while (k < c->oi->n_pages && (uint64_t)c->oi->pages[k].offset < hdr_at) k++;
            if (k < c->oi->n_pages && (uint64_t)c->oi->pages[k].offset == hdr_at) c->cur_page = k;
        }
        const uint8_t *body = c->buf + c->pos;
        size_t body_n = (size_t)h.compressed_size;
        if (h.type == PQ_PAGE_DICTIONARY) {
            if (!h.has_body) return chunk_err(c, err, BZ_CORRUPT, "dictionary page without header");
            rc = chunk_read_dictionary(c, &h, err);
            c->pos += body_n;
            if (rc) return rc;
            continue;
        }
        if (h.type != PQ_PAGE_DATA && h.type != PQ_PAGE_DATA_V2) {
            c->pos += body_n; /* index pages and unknown page types are skipped */
            continue;
        }
        if (!h.has_body) return chunk_err(c, err, BZ_CORRUPT, "data page without header");
        if (h.num_values < 0) return chunk_err(c, err, BZ_CORRUPT, "page claims %d values", h.num_values);
        if (h.num_values == 0) {
            c->pos += body_n;
            continue;
        }
        chunk_free_page_state(c);
        size_t ulen = (size_t)h.uncompressed_size;
        if (mem_reserve(&c->page, &c->page_cap, ulen + 16))
            return chunk_err(c, err, BZ_NOMEM, "out of memory for a %zu-byte page", ulen);
        const uint8_t *p;
        size_t len, used;
        if (h.type == PQ_PAGE_DATA) {
            rc = chunk_decompress(c, body, body_n, c->page, ulen, err);
            if (rc) return rc;
            p = c->page;
            len = ulen;
            if (l->max_rep > 0) {
                rc = levels_v1(c, h.rep_encoding, l->max_rep, h.num_values, p, len, &c->rep,
                               &c->rep_legacy, &c->rep_raw, &c->rep_raw_n, &used, err);
                if (rc) return rc;
                p += used;
                len -= used;
            }
            if (l->max_def > 0) {
                rc = levels_v1(c, h.def_encoding, l->max_def, h.num_values, p, len, &c->def,
                               &c->def_legacy, &c->def_raw, &c->def_raw_n, &used, err);
                if (rc) return rc;
                p += used;
                len -= used;
            }
        } else {
            size_t lv;
            if (h.def_len < 0 || h.rep_len < 0 ||
                (size_t)h.def_len + (size_t)h.rep_len > BZ_MIN(ulen, body_n))
                return chunk_err(c, err, BZ_CORRUPT, "page v2 level lengths %d+%d exceed the page",
                                 h.rep_len, h.def_len);
            lv = (size_t)h.def_len + (size_t)h.rep_len;
            memcpy(c->page, body, lv);
            if (h.is_compressed && c->cc->meta.codec != BZ_CODEC_UNCOMPRESSED) {
                rc = chunk_decompress(c, body + lv, body_n - lv, c->page + lv, ulen - lv, err);
                if (rc) return rc;
            } else {
                if (body_n - lv != ulen - lv)
                    return chunk_err(c, err, BZ_CORRUPT, "uncompressed page v2 has %zu bytes, header says %zu",
                                     body_n - lv, ulen - lv);
                memcpy(c->page + lv, body + lv, ulen - lv);
            }
            pq_rle_init(&c->rep, c->page, (size_t)h.rep_len, bit_width_of(l->max_rep));
            pq_rle_init(&c->def, c->page + h.rep_len, (size_t)h.def_len, bit_width_of(l->max_def));
            c->rep_legacy = c->def_legacy = 0;
            p = c->page + lv;
            len = ulen - lv;
        }
        c->pos += body_n;
        PQ_STAT(pages_read, 1);
        c->legacy_pos = 0;
        c->vals = p;
        c->vals_len = len;
        c->page_left = c->page_entries = h.num_values;
        c->encoding = h.encoding;
        c->plain_pos = 0;
        switch (h.encoding) {
        case PQ_ENC_PLAIN: break;
        case PQ_ENC_PLAIN_DICTIONARY:
        case PQ_ENC_RLE_DICTIONARY:
            if (!c->dict) return chunk_err(c, err, BZ_CORRUPT, "dictionary-encoded page without a dictionary");
            if (len < 1) {
                pq_rle_init(&c->idx, p, 0, 0);
                break;
            }
            if (p[0] > 32) return chunk_err(c, err, BZ_CORRUPT, "dictionary index bit width %d", p[0]);
            pq_rle_init(&c->idx, p + 1, len - 1, p[0]);
            break;
        case PQ_ENC_RLE:
            if (l->type != PQ_BOOLEAN) return chunk_err(c, err, BZ_UNSUPPORTED, "RLE encoding for %s values", pq_type_name(l->type));
            if (len < 4 || rd_le32(p) > len - 4) return chunk_err(c, err, BZ_CORRUPT, "RLE boolean length runs past the page");
            pq_rle_init(&c->idx, p + 4, rd_le32(p), 1);
            break;
        case PQ_ENC_DELTA_BINARY_PACKED:
            if (l->type != PQ_INT32 && l->type != PQ_INT64)
                return chunk_err(c, err, BZ_CORRUPT, "DELTA_BINARY_PACKED for %s values", pq_type_name(l->type));
            rc = pq_delta_init(&c->delta, p, len, err);
            if (rc) return chunk_wrap(c, err, rc);
            break;
        case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
            if (l->type != PQ_BYTE_ARRAY)
                return chunk_err(c, err, BZ_CORRUPT, "DELTA_LENGTH_BYTE_ARRAY for %s values", pq_type_name(l->type));
            rc = pq_dlba_init(&c->dlba, p, len, err);
            if (rc) return chunk_wrap(c, err, rc);
            break;
        case PQ_ENC_DELTA_BYTE_ARRAY:
            if (l->type != PQ_BYTE_ARRAY && l->type != PQ_FIXED_LEN_BYTE_ARRAY)
                return chunk_err(c, err, BZ_CORRUPT, "DELTA_BYTE_ARRAY for %s values", pq_type_name(l->type));
            rc = pq_dba_init(&c->dba, p, len, err);
            if (rc) return chunk_wrap(c, err, rc);
            c->dba_live = 1;
            break;
        case PQ_ENC_BYTE_STREAM_SPLIT: {
            size_t w = l->type == PQ_FIXED_LEN_BYTE_ARRAY ? (size_t)l->type_length : value_size(l->type);
            if (l->type == PQ_BOOLEAN || l->type == PQ_BYTE_ARRAY || l->type == PQ_INT96)
                return chunk_err(c, err, BZ_CORRUPT, "BYTE_STREAM_SPLIT for %s values", pq_type_name(l->type));
            c->bss_total = (int64_t)(len / w);
            c->bss_pos = 0;
            break;
        }
        default:
            return chunk_err(c, err, BZ_UNSUPPORTED, "encoding %s (%d)", pq_encoding_name(h.encoding), h.encoding);
        }
        return BZ_OK;
    }
}

/* Decode n non-null values of the current page into out. */
static int chunk_values(Chunk *c, void *out, int n, BzErr *err) {
    const PqLeaf *l = c->leaf;
    size_t vs = value_size(l->type);
    int i, got;
    if (n == 0) return BZ_OK;
    switch (c->encoding) {
    case PQ_ENC_PLAIN:
        return decode_plain(c, c->vals, c->vals_len, &c->plain_pos, out, n, err);
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        uint32_t *idx;
        int rc = chunk_scratch(c, (size_t)n * 4, err);
        if (rc) return rc;
        idx = (uint32_t *)(void *)c->scratch;
        got = pq_rle_decode(&c->idx, idx, n, err);
        if (got < 0) return chunk_wrap(c, err, BZ_CORRUPT);
        if (got < n) return chunk_err(c, err, BZ_CORRUPT, "dictionary indices end early (%d of %d)", got, n);
        uint8_t *o = out;
        const uint8_t *d = c->dict;
        for (i = 0; i < n; i++) {
            if (idx[i] >= (uint32_t)c->dict_n)
                return chunk_err(c, err, BZ_CORRUPT, "dictionary index %u out of range (dictionary has %d values)",
                                 idx[i], c->dict_n);
        }
        switch (vs) {
        case 1: for (i = 0; i < n; i++) o[i] = d[idx[i]]; break;
        case 4: for (i = 0; i < n; i++) ((uint32_t *)out)[i] = ((const uint32_t *)c->dict)[idx[i]]; break;
        case 8: for (i = 0; i < n; i++) ((uint64_t *)out)[i] = ((const uint64_t *)c->dict)[idx[i]]; break;
        default: for (i = 0; i < n; i++) ((PqBytes *)out)[i] = ((const PqBytes *)c->dict)[idx[i]]; break;
        }
        return BZ_OK;
    }
    case PQ_ENC_RLE: {
        uint32_t tmp[256];
        uint8_t *o = out;
        for (i = 0; i < n;) {
            int k = BZ_MIN(n - i, 256);
            got = pq_rle_decode(&c->idx, tmp, k, err);
            if (got < 0) return chunk_wrap(c, err, BZ_CORRUPT);
            if (got < k) return chunk_err(c, err, BZ_CORRUPT, "RLE booleans end early");
            for (int j = 0; j < k; j++) o[i + j] = (uint8_t)(tmp[j] != 0);
            i += k;
        }
        return BZ_OK;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        got = l->type == PQ_INT32 ? pq_delta_decode_i32(&c->delta, out, n, err)
                                  : pq_delta_decode_i64(&c->delta, out, n, err);
        if (got < 0) return chunk_wrap(c, err, BZ_CORRUPT);
        if (got < n) return chunk_err(c, err, BZ_CORRUPT, "DELTA_BINARY_PACKED values end early (%d of %d)", got, n);
        return BZ_OK;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        got = pq_dlba_decode(&c->dlba, out, n, err);
        if (got < 0) return chunk_wrap(c, err, BZ_CORRUPT);
        if (got < n) return chunk_err(c, err, BZ_CORRUPT, "DELTA_LENGTH_BYTE_ARRAY values end early");
        return BZ_OK;
    case PQ_ENC_DELTA_BYTE_ARRAY:
        got = pq_dba_decode(&c->dba, out, n, err);
        if (got < 0) return chunk_wrap(c, err, err->code ? err->code : BZ_CORRUPT);
        if (got < n) return chunk_err(c, err, BZ_CORRUPT, "DELTA_BYTE_ARRAY values end early");
        if (l->type == PQ_FIXED_LEN_BYTE_ARRAY)
            for (i = 0; i < n; i++)
                if (((PqBytes *)out)[i].n != (uint32_t)l->type_length)
                    return chunk_err(c, err, BZ_CORRUPT, "DELTA_BYTE_ARRAY value of %u bytes in a "
                                     "FIXED_LEN_BYTE_ARRAY(%d) column", ((PqBytes *)out)[i].n, l->type_length);
        return BZ_OK;
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        int w = l->type == PQ_FIXED_LEN_BYTE_ARRAY ? l->type_length : (int)vs;
        uint8_t *dst = out;
        if (l->type == PQ_FIXED_LEN_BYTE_ARRAY) {
            int rc = chunk_scratch(c, (size_t)n * (size_t)w, err);
            if (rc) return rc;
            dst = c->scratch;
        }
        got = pq_bss_decode(c->vals, c->vals_len, w, c->bss_total, c->bss_pos, n, dst, err);
        if (got < 0) return chunk_wrap(c, err, BZ_CORRUPT);
        if (got < n) return chunk_err(c, err, BZ_CORRUPT, "BYTE_STREAM_SPLIT values end early");
        c->bss_pos += n;
        if (l->type == PQ_FIXED_LEN_BYTE_ARRAY)
            for (i = 0; i < n; i++) {
                ((PqBytes *)out)[i].p = c->scratch + (size_t)i * (size_t)w;
                ((PqBytes *)out)[i].n = (uint32_t)w;
            }
        return BZ_OK;
    }
    }
    return chunk_err(c, err, BZ_UNSUPPORTED, "encoding %d", c->encoding);
}

/* Decode up to max entries of the current page (loading a page if needed):
** levels into rep/def, non-null values into vals. *n = entries, *nv = values.
** BZ_DONE at the end of the chunk. */
static int chunk_read(Chunk *c, int max, uint8_t *rep, uint8_t *def, void *vals, int *n, int *nv,
                      BzErr *err) {
    const PqLeaf *l = c->leaf;
    int k, i, nonnull, rc;
    *n = *nv = 0;
    while (c->page_left == 0) {
        if (c->values_left <= 0 && c->pos >= c->len) return BZ_DONE;
        rc = chunk_next_page(c, err);
        if (rc) return rc;
    }
    k = BZ_MIN(max, c->page_left);
    if (l->max_rep > 0) {
        if (c->rep_legacy) {
            if (pq_bitpacked_legacy_decode(c->rep_raw, c->rep_raw_n, bit_width_of(l->max_rep),
                                           c->legacy_pos, rep, k) != k)
                return chunk_err(c, err, BZ_CORRUPT, "repetition levels end early");
        } else {
            int got = pq_rle_decode_u8(&c->rep, rep, k, err);
            if (got < 0) return chunk_wrap(c, err, BZ_CORRUPT);
            if (got < k) return chunk_err(c, err, BZ_CORRUPT, "repetition levels end early (%d of %d)", got, k);
        }
        for (i = 0; i < k; i++)
            if (rep[i] > l->max_rep) return chunk_err(c, err, BZ_CORRUPT, "repetition level %d > max %d", rep[i], l->max_rep);
        if (c->page_left == c->page_entries && rep[0] != 0)
            return chunk_err(c, err, BZ_CORRUPT, "page starts inside a record (repetition level %d)", rep[0]);
    } else {
        memset(rep, 0, (size_t)k);
    }
    if (l->max_def > 0) {
        if (c->def_legacy) {
            if (pq_bitpacked_legacy_decode(c->def_raw, c->def_raw_n, bit_width_of(l->max_def),
                                           c->legacy_pos, def, k) != k)
                return chunk_err(c, err, BZ_CORRUPT, "definition levels end early");
        } else {
            int got = pq_rle_decode_u8(&c->def, def, k, err);
            if (got < 0) return chunk_wrap(c, err, BZ_CORRUPT);
            if (got < k) return chunk_err(c, err, BZ_CORRUPT, "definition levels end early (%d of %d)", got, k);
        }
        nonnull = 0;
        for (i = 0; i < k; i++) {
            if (def[i] > l->max_def) return chunk_err(c, err, BZ_CORRUPT, "definition level %d > max %d", def[i], l->max_def);
            nonnull += def[i] == l->max_def;
        }
    } else {
        memset(def, 0, (size_t)k);
        nonnull = k;
    }
    c->legacy_pos += (size_t)k;
    rc = chunk_values(c, vals, nonnull, err);
    if (rc) return rc;
    c->page_left -= k;
    c->values_left -= k;
    *n = k;
    *nv = nonnull;
    return BZ_OK;
}

/* Skip whole data pages while `rows` is at least their entry count (flat
** columns only, where entries are rows). Returns rows skipped. Pages skipped
** this way are never decompressed. */
static int chunk_skip_pages(Chunk *c, int64_t rows, int64_t *skipped, BzErr *err) {
    PqPageHeader h;
    int rc;
    *skipped = 0;
    if (c->leaf->max_rep > 0 || c->page_left > 0) return BZ_OK;
    while (rows > 0 && c->pos < c->len) {
        uint64_t save = c->pos;
        rc = chunk_page_header(c, &h, err);
        if (rc) return rc == BZ_DONE ? BZ_OK : rc;
        if (h.type == PQ_PAGE_DICTIONARY || (h.type != PQ_PAGE_DATA && h.type != PQ_PAGE_DATA_V2) ||
            !h.has_body || h.num_values > rows || h.num_values < 0) {
            c->pos = save; /* let chunk_next_page handle it */
            return BZ_OK;
        }
        c->pos += (uint64_t)h.compressed_size;
        PQ_STAT(pages_skipped, 1);
        rows -= h.num_values;
        c->values_left -= h.num_values;
        *skipped += h.num_values;
    }
    return BZ_OK;
}

/* Flat column with an offset index, positioned (no page loaded or current
** page exhausted) at row `from`: jump straight to the page holding row
** `target` without reading the pages between; the dictionary page, if any,
** is read first. *skipped = rows jumped over (0: no jump possible). */
static int chunk_seek(Chunk *c, int64_t from, int64_t target, int64_t *skipped, BzErr *err) {
    const PqOffsetIndex *oi = c->oi;
    int p, next, rc;
    *skipped = 0;
    if (!oi || c->leaf->max_rep > 0 || c->page_left > 0 || target <= from) return BZ_OK;
    next = c->cur_page + 1; /* the page a sequential read would load */
    p = next;
    while (p + 1 < oi->n_pages && oi->pages[p + 1].first_row <= target) p++;
    if (p <= next || p >= oi->n_pages || oi->pages[p].first_row <= from) return BZ_OK;
    if ((uint64_t)oi->pages[p].offset < c->start || (uint64_t)oi->pages[p].offset >= c->start + c->len)
        return BZ_OK;
    if (c->cur_page < 0 && !c->dict && (uint64_t)oi->pages[0].offset > c->start + c->pos) {
        /* pages before the first data page: the dictionary */
        PqPageHeader h;
        rc = chunk_page_header(c, &h, err);
        if (rc) return rc == BZ_DONE ? BZ_OK : rc;
        if (h.type == PQ_PAGE_DICTIONARY && h.has_body) {
            rc = chunk_read_dictionary(c, &h, err);
            if (rc) return rc;
        }
        c->pos += (uint64_t)h.compressed_size;
    }
    PQ_STAT(pages_skipped, p - next);
    c->pos = (uint64_t)oi->pages[p].offset - c->start;
    c->cur_page = p - 1;
    c->values_left = c->cc->meta.num_values - oi->pages[p].first_row;
    *skipped = oi->pages[p].first_row - from;
    return BZ_OK;
}

/* Read and parse a chunk's offset index (and column index when ci != NULL).
** A missing or unreadable index is not an error: *oi / *ci stay NULL. */
static void load_page_index(PqFile *f, int rg, int leaf, PqColumnIndex **ci, PqOffsetIndex **oi) {
    const PqColumnChunk *cc = &f->meta->row_groups[rg].columns[leaf];
    BzErr e;
    uint8_t *buf;
    *oi = NULL;
    if (ci) *ci = NULL;
    if (cc->offset_index_offset < 0 || cc->offset_index_length <= 0 ||
        (uint64_t)cc->offset_index_offset + (uint64_t)cc->offset_index_length > f->src->size)
        return;
    buf = bz_malloc((size_t)cc->offset_index_length);
    if (!buf) return;
    if (pq_read(f->src, (uint64_t)cc->offset_index_offset, (size_t)cc->offset_index_length, buf, &e) ||
        pq_offset_index_parse(buf, (size_t)cc->offset_index_length, oi, &e))
        *oi = NULL;
    bz_free(buf);
    if (*oi) { /* sanity: first rows ascending from 0 */
        for (int i = 0; i < (*oi)->n_pages; i++)
            if ((i == 0 && (*oi)->pages[0].first_row != 0) ||
                (i > 0 && (*oi)->pages[i].first_row < (*oi)->pages[i - 1].first_row) ||
                (*oi)->pages[i].first_row > f->meta->row_groups[rg].num_rows) {
                pq_offset_index_free(*oi);
                *oi = NULL;
                break;
            }
    }
    if (!ci || !*oi || cc->column_index_offset < 0 || cc->column_index_length <= 0 ||
        (uint64_t)cc->column_index_offset + (uint64_t)cc->column_index_length > f->src->size)
        return;
    buf = bz_malloc((size_t)cc->column_index_length);
    if (!buf) return;
    if (pq_read(f->src, (uint64_t)cc->column_index_offset, (size_t)cc->column_index_length, buf, &e) ||
        pq_column_index_parse(buf, (size_t)cc->column_index_length, ci, &e))
        *ci = NULL;
    bz_free(buf);
    if (*ci && (*ci)->n_pages != (*oi)->n_pages) {
        pq_column_index_free(*ci);
        *ci = NULL;
    }
}

/* ======================================================================
** Leaf cursor: a batch of entries
*/
typedef struct Cursor {
    Chunk ch;
    int live;
    uint8_t rep[PQ_BATCH], def[PQ_BATCH];
    void *vals;       /* PQ_BATCH * value_size */
    int n, i;         /* entries in batch, next entry */
    int vi;           /* next value */
    int eof;
} Cursor;

static int cur_fill(Cursor *cu, BzErr *err) {
    int nv, rc;
    cu->i = cu->vi = 0;
    rc = chunk_read(&cu->ch, PQ_BATCH, cu->rep, cu->def, cu->vals, &cu->n, &nv, err);
    if (rc == BZ_DONE) {
        cu->eof = 1;
        cu->n = 0;
        return BZ_OK;
    }
    return rc;
}

/* Make sure an entry is available; *has = 0 at the end of the chunk. */
static int cur_peek(Cursor *cu, int *has, BzErr *err) {
    if (cu->i >= cu->n && !cu->eof) {
        int rc = cur_fill(cu, err);
        if (rc) return rc;
    }
    *has = cu->i < cu->n;
    return BZ_OK;
}

static void cur_advance(Cursor *cu) {
    if (cu->def[cu->i] == cu->ch.leaf->max_def) cu->vi++;
    cu->i++;
}

/* ======================================================================
** Value rendering
*/

/* Days since 1970-01-01 to civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

/* Write v as exactly `w` zero-padded digits (v >= 0). */
static void put_digits(char *p, int64_t v, int w) {
    while (w-- > 0) {
        p[w] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* 'YYYY-MM-DD' without printf (hot: every DATE value of a scan). */
static int fmt_date(char *buf, int64_t days) {
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) {
        put_digits(buf, y, 4);
        buf[4] = '-';
        put_digits(buf + 5, m, 2);
        buf[7] = '-';
        put_digits(buf + 8, d, 2);
        buf[10] = 0;
        return 10;
    }
    return sprintf(buf, "%lld-%02u-%02u", (long long)y, m, d);
}

/* Time of day from a count of `unit`s; digits: 3, 6 or 9. */
static int fmt_time(char *buf, int64_t v, int unit) {
    int64_t per = unit == PQ_UNIT_MILLIS ? 1000 : unit == PQ_UNIT_NANOS ? 1000000000 : 1000000;
    int digits = unit == PQ_UNIT_MILLIS ? 3 : unit == PQ_UNIT_NANOS ? 9 : 6;
    int64_t secs = v / per, frac = v % per;
    int n;
    if (frac < 0) {
        frac += per;
        secs -= 1;
    }
    if (secs < 0) secs = 0;
    if (secs / 3600 < 100) {
        put_digits(buf, secs / 3600, 2);
        buf[2] = ':';
        put_digits(buf + 3, secs / 60 % 60, 2);
        buf[5] = ':';
        put_digits(buf + 6, secs % 60, 2);
        buf[8] = 0;
        n = 8;
    } else {
        n = sprintf(buf, "%02lld:%02lld:%02lld", (long long)(secs / 3600),
                    (long long)(secs / 60 % 60), (long long)(secs % 60));
    }
    if (frac) {
        buf[n++] = '.';
        put_digits(buf + n, frac, digits);
        n += digits;
        /* nanosecond values print only the digits they need: .123456 not .123456000 */
        while (digits > 3 && memcmp(buf + n - 3, "000", 3) == 0) {
            n -= 3;
            digits -= 3;
        }
        buf[n] = 0;
    }
    return n;
}

static int fmt_timestamp(char *buf, int64_t v, int unit) {
    int64_t per = unit == PQ_UNIT_MILLIS ? 1000 : unit == PQ_UNIT_NANOS ? 1000000000 : 1000000;
    int64_t per_day = per * 86400;
    int64_t days = v / per_day, rem = v % per_day;
    int n;
    if (rem < 0) {
        rem += per_day;
        days -= 1;
    }
    n = fmt_date(buf, days);
    buf[n++] = ' ';
    return n + fmt_time(buf + n, rem, unit);
}

/* ======================================================================
** Filters on DATE and TIMESTAMP values in their physical domain
**
** Rationale: DATE and TIMESTAMP read as text ('YYYY-MM-DD',
** 'YYYY-MM-DD HH:MM:SS[.fff[fff[fff]]]'), so a pushed comparison is SQLite's
** BINARY comparison of that text with the constant. Formatting every value of
** a scan to compare it was about a third of TPC-H Q6's scan. For a value
** whose year is 0000..9999 the text is fixed-width up to the fraction, and
** the fraction drops only whole trailing groups of zeros, so the rendering is
** strictly increasing: a < b exactly when text(a) < text(b). Hence for ANY
** text constant c, canonical or not ('1994-1-1', '1994-01-01x', '', a
** timestamp with other precision), the in-range values with text(v) < c are
** those below one key lo, the least in-range v with text(v) >= c, found once
** by bisection (at most 64 renderings per constraint and file); text(v) == c
** only for v == lo, and only when text(lo) == c. A number on the right sorts
** below any text and a blob above it (SQLite's order), which the same bound
** expresses. Values outside 0000..9999 (a sign or a fifth digit breaks the
** order) and NULL or NaN constants take the text path: render, then
** pq_pred_eval.
*/
enum { KP_TEXT, KP_CMP, KP_IN, KP_NULL };

typedef struct KeyPred {
    int mode;           /* KP_TEXT: render and pq_pred_eval; KP_NULL: IS [NOT] NULL
                        ** from the definition level; KP_CMP, KP_IN on the key */
    int64_t a, b;       /* keys whose year is 0000..9999 */
    int none;           /* KP_CMP: every key's text is below the constant */
    int64_t lo;         /* KP_CMP: else the least key in [a, b] whose text is >= it */
    int eq;             /* KP_CMP: and text(lo) equals it */
    int64_t *keys;      /* KP_IN: keys whose text equals a value of the list (owned) */
    int n_keys;
} KeyPred;

/* Keys of a DATE (int32 days) or TIMESTAMP (int64 units) leaf whose text has
** a year 0000..9999: [*a, *b]. 0 for other leaves. */
static int key_range(const PqLeaf *l, int64_t *a, int64_t *b) {
    const int64_t d0 = -719528, d1 = 2932896; /* 0000-01-01, 9999-12-31 */
    if (l->kind == PK_DATE && l->type == PQ_INT32) {
        *a = d0;
        *b = d1;
        return 1;
    }
    if (l->kind == PK_TIMESTAMP && l->type == PQ_INT64) {
        if (l->unit == PQ_UNIT_NANOS) { /* int64 nanoseconds span 1677..2262 */
            *a = INT64_MIN;
            *b = INT64_MAX;
            return 1;
        }
        int64_t per = l->unit == PQ_UNIT_MILLIS ? 1000 : 1000000;
        *a = d0 * 86400 * per;
        *b = (d1 + 1) * 86400 * per - 1;
        return 1;
    }
    return 0;
}

int pq_text_ordered(const PqLeaf *l, const uint8_t *p, size_t n) {
    int64_t a, b, x;
    if (l->kind != PK_DATE && l->kind != PK_TIME && l->kind != PK_TIMESTAMP) return 1;
    if (l->type == PQ_INT32 && n == 4) x = (int32_t)rd_le32(p);
    else if (l->type == PQ_INT64 && n == 8) x = (int64_t)rd_le64(p);
    else return 0;
    if (l->kind == PK_TIME) { /* '00:00:00' .. '99:59:59.999...'; negatives render oddly */
        int64_t per = l->unit == PQ_UNIT_MILLIS ? 1000 : l->unit == PQ_UNIT_NANOS ? 1000000000 : 1000000;
        return x >= 0 && x < 100 * 3600 * per;
    }
    return key_range(l, &a, &b) && x >= a && x <= b;
}

/* SQLite's BINARY comparison of text(x) with the n bytes at p: <0, 0, >0. */
static int key_text_cmp(const PqLeaf *l, int64_t x, const char *p, size_t n) {
    char buf[64];
    size_t m = (size_t)(l->kind == PK_DATE ? fmt_date(buf, x) : fmt_timestamp(buf, x, l->unit));
    int c = memcmp(buf, p, m < n ? m : n);
    if (c) return c;
    return m < n ? -1 : m > n;
}

/* Least key in [a, b] whose text is >= the text c: returns 1 and sets *lo
** and *eq (its text equals c); 0 when every key's text is below c. Bisection
** is exact because the text is increasing on [a, b]. */
static int key_bound(const PqLeaf *l, int64_t a, int64_t b, const PqValue *c, int64_t *lo,
                     int *eq) {
    int64_t x = a, y = b; /* text(y) >= c */
    if (key_text_cmp(l, b, c->p, c->n) < 0) return 0;
    while (x < y) {
        int64_t mid = x + (int64_t)(((uint64_t)y - (uint64_t)x) / 2);
        if (key_text_cmp(l, mid, c->p, c->n) >= 0) y = mid;
        else x = mid + 1;
    }
    *lo = x;
    *eq = key_text_cmp(l, x, c->p, c->n) == 0;
    return 1;
}

/* Plan predicate p on leaf l (of a flat field) in the key domain. kp->keys is
** bz_malloc'd (freed with keypred_free). BZ_OK or BZ_NOMEM. */
static int keypred_compile(const PqLeaf *l, const PqPred *p, KeyPred *kp) {
    memset(kp, 0, sizeof *kp);
    if (!key_range(l, &kp->a, &kp->b)) return BZ_OK;
    switch (p->op) {
    case PQ_OP_ISNULL: case PQ_OP_NOTNULL:
        kp->mode = KP_NULL;
        return BZ_OK;
    case PQ_OP_EQ: case PQ_OP_NE: case PQ_OP_LT: case PQ_OP_LE: case PQ_OP_GT: case PQ_OP_GE:
        switch (p->val.type) {
        case PV_TEXT: kp->none = !key_bound(l, kp->a, kp->b, &p->val, &kp->lo, &kp->eq); break;
        case PV_INT: kp->lo = kp->a; break;        /* text > every number */
        case PV_REAL:
            if (isnan(p->val.d)) return BZ_OK;     /* NULL: the text path says no */
            kp->lo = kp->a;
            break;
        case PV_BLOB: kp->none = 1; break;         /* text < every blob */
        default: return BZ_OK;
        }
        kp->mode = KP_CMP;
        return BZ_OK;
    case PQ_OP_IN:
        kp->keys = bz_malloc(sizeof(int64_t) * ((size_t)p->n_in + 1));
        if (!kp->keys) return BZ_NOMEM;
        for (int i = 0; i < p->n_in; i++) { /* only text can equal text */
            int64_t k;
            int eq;
            if (p->in[i].type == PV_TEXT && key_bound(l, kp->a, kp->b, &p->in[i], &k, &eq) && eq)
                kp->keys[kp->n_keys++] = k;
        }
        kp->mode = KP_IN;
        return BZ_OK;
    }
    return BZ_OK; /* PREFIX: the text path */
}

static void keypred_free(KeyPred *kp) {
    bz_free(kp->keys);
    kp->keys = NULL;
}

/* Evaluate a KP_CMP/KP_IN/KP_NULL predicate with operator op on a value
** (is_null, or key x): 1 or 0, or -1 when x is out of range (text path). */
static int keypred_eval(const KeyPred *kp, int op, int is_null, int64_t x) {
    if (kp->mode == KP_NULL) return op == PQ_OP_ISNULL ? is_null : !is_null;
    if (is_null) return 0;
    if (x < kp->a || x > kp->b) return -1;
    if (kp->mode == KP_IN) {
        for (int i = 0; i < kp->n_keys; i++)
            if (kp->keys[i] == x) return 1;
        return 0;
    }
    int c = kp->none || x < kp->lo ? -1 : x == kp->lo && kp->eq ? 0 : 1;
    switch (op) {
    case PQ_OP_EQ: return c == 0;
    case PQ_OP_NE: return c != 0;
    case PQ_OP_LT: return c < 0;
    case PQ_OP_LE: return c <= 0;
    case PQ_OP_GT: return c > 0;
    case PQ_OP_GE: return c >= 0;
    }
    return -1;
}

static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v;
    if (e == 0) v = ldexp(m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Big-endian two's complement bytes to decimal text with `scale`. */
static int fmt_decimal_bytes(char *buf, size_t cap, const uint8_t *p, size_t n, int scale) {
    uint8_t mag[64];
    char digits[160];
    int nd = 0, neg, len = 0;
    size_t i;
    if (n == 0) return snprintf(buf, cap, "0");
    if (n > sizeof mag) return -1;
    neg = p[0] & 0x80;
    memcpy(mag, p, n);
    if (neg) { /* two's complement negate */
        int carry = 1;
        for (i = n; i-- > 0;) {
            int v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    for (;;) { /* repeated division by 10 */
        int rem = 0, nz = 0;
        for (i = 0; i < n; i++) {
            int cur = rem * 256 + mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            nz |= mag[i];
        }
        digits[nd++] = (char)('0' + rem);
        if (!nz || nd >= (int)sizeof digits - 1) break;
    }
    while (nd <= scale) digits[nd++] = '0';
    if (neg && (size_t)len < cap) buf[len++] = '-';
    for (int k = nd - 1; k >= 0 && (size_t)len + 2 < cap; k--) {
        buf[len++] = digits[k];
        if (k == scale && scale > 0) buf[len++] = '.';
    }
    buf[len] = 0;
    return len;
}

static int fmt_decimal_i64(char *buf, int64_t v, int scale) {
    uint8_t be[8];
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    return fmt_decimal_bytes(buf, 64, be, 8, scale);
}

/* 10^-scale; scale is 0..76 (checked when the schema is built). */
static double pow10_neg(int scale) {
    static double table[77];
    static int ready;
    if (!ready) { /* idempotent: racing threads write the same values */
        for (int i = 0; i < 77; i++) table[i] = pow(10.0, -i);
        ready = 1;
    }
    return table[scale];
}

/* Render one decoded value (from a cursor's value array) as an SQL value.
** buf must hold at least 200 bytes. */
static void render_value(const PqFile *f, const PqLeaf *l, const void *vals, int vi, char *buf,
                         PqValue *v) {
    memset(v, 0, sizeof *v);
    switch (l->kind) {
    case PK_BOOL: v->type = PV_INT; v->i = ((const uint8_t *)vals)[vi] != 0; return;
    case PK_INT32: v->type = PV_INT; v->i = ((const int32_t *)vals)[vi]; return;
    case PK_UINT32: v->type = PV_INT; v->i = (uint32_t)((const int32_t *)vals)[vi]; return;
    case PK_INT64: v->type = PV_INT; v->i = ((const int64_t *)vals)[vi]; return;
    case PK_UINT64: {
        uint64_t u = (uint64_t)((const int64_t *)vals)[vi];
        if (u <= INT64_MAX) { v->type = PV_INT; v->i = (int64_t)u; }
        else { v->type = PV_REAL; v->d = (double)u; }
        return;
    }
    case PK_FLOAT: v->type = PV_REAL; v->d = ((const float *)vals)[vi]; return;
    case PK_DOUBLE: v->type = PV_REAL; v->d = ((const double *)vals)[vi]; return;
    case PK_FLOAT16: {
        const PqBytes *b = &((const PqBytes *)vals)[vi];
        v->type = PV_REAL;
        v->d = half_to_double((uint16_t)(b->p[0] | b->p[1] << 8));
        return;
    }
    case PK_STRING: {
        const PqBytes *b = &((const PqBytes *)vals)[vi];
        v->type = PV_TEXT; v->p = (const char *)b->p; v->n = b->n;
        return;
    }
    case PK_BLOB: {
        const PqBytes *b = &((const PqBytes *)vals)[vi];
        v->type = PV_BLOB; v->p = (const char *)b->p; v->n = b->n;
        return;
    }
    case PK_UUID: {
        const uint8_t *u = ((const PqBytes *)vals)[vi].p;
        int n = 0;
        for (int i = 0; i < 16; i++) {
            n += sprintf(buf + n, "%02x", u[i]);
            if (i == 3 || i == 5 || i == 7 || i == 9) buf[n++] = '-';
        }
        buf[n] = 0;
        v->type = PV_TEXT; v->p = buf; v->n = (size_t)n;
        return;
    }
    case PK_DECIMAL: {
        int n;
        if (l->type == PQ_INT32 || l->type == PQ_INT64) {
            int64_t x = l->type == PQ_INT32 ? ((const int32_t *)vals)[vi] : ((const int64_t *)vals)[vi];
            if (!f->decimal_as_text) {
                v->type = PV_REAL;
                v->d = (double)x * pow10_neg(l->scale);
                return;
            }
            n = fmt_decimal_i64(buf, x, l->scale);
        } else {
            const PqBytes *b = &((const PqBytes *)vals)[vi];
            n = fmt_decimal_bytes(buf, 200, b->p, b->n, l->scale);
            if (n < 0) { v->type = PV_NULL; return; }
            if (!f->decimal_as_text) {
                v->type = PV_REAL;
                v->d = strtod(buf, NULL);
                return;
            }
        }
        v->type = PV_TEXT; v->p = buf; v->n = (size_t)n;
        return;
    }
    case PK_DATE:
        v->type = PV_TEXT; v->p = buf;
        v->n = (size_t)fmt_date(buf, ((const int32_t *)vals)[vi]);
        return;
    case PK_TIME: {
        int64_t x = l->type == PQ_INT32 ? ((const int32_t *)vals)[vi] : ((const int64_t *)vals)[vi];
        v->type = PV_TEXT; v->p = buf;
        v->n = (size_t)fmt_time(buf, x, l->unit);
        return;
    }
    case PK_TIMESTAMP:
        v->type = PV_TEXT; v->p = buf;
        v->n = (size_t)fmt_timestamp(buf, ((const int64_t *)vals)[vi], l->unit);
        return;
    case PK_INT96: {
        /* Spark semantics: julian micros = day * 86400e6 + nanos / 1000 in
        ** wrapping 64-bit arithmetic (Spark writes dates beyond the int64
        ** nanosecond range that way), then shift to the Unix epoch. */
        const uint8_t *p = ((const PqBytes *)vals)[vi].p;
        int64_t nanos = (int64_t)rd_le64(p);
        int64_t jd = (int32_t)rd_le32(p + 8);
        uint64_t jus = (uint64_t)jd * 86400000000ULL + (uint64_t)(nanos / 1000);
        int64_t us = (int64_t)(jus - 2440588ULL * 86400000000ULL);
        int64_t sub = nanos % 1000;
        int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
        if (rem < 0) { rem += 86400000000LL; days--; }
        if (sub < 0) sub += 1000;
        int n = fmt_date(buf, days);
        buf[n++] = ' ';
        n += fmt_time(buf + n, rem * 1000 + sub, PQ_UNIT_NANOS);
        v->type = PV_TEXT; v->p = buf; v->n = (size_t)n;
        return;
    }
    case PK_INTERVAL: {
        const uint8_t *p = ((const PqBytes *)vals)[vi].p;
        int n = sprintf(buf, "{\"months\":%u,\"days\":%u,\"millis\":%u}", rd_le32(p), rd_le32(p + 4), rd_le32(p + 8));
        v->type = PV_TEXT; v->p = buf; v->n = (size_t)n;
        return;
    }
    }
    v->type = PV_NULL;
}

int pq_render_plain(const PqFile *f, const PqLeaf *l, const uint8_t *p, size_t n, char *buf,
                    PqValue *v) {
    union { uint8_t b; int32_t i32; int64_t i64; float fl; double d; PqBytes bytes; } u;
    size_t need = l->type == PQ_BOOLEAN ? 1 : l->type == PQ_INT32 || l->type == PQ_FLOAT ? 4
                  : l->type == PQ_INT64 || l->type == PQ_DOUBLE ? 8 : l->type == PQ_INT96 ? 12
                  : l->type == PQ_FIXED_LEN_BYTE_ARRAY ? (size_t)l->type_length : n;
    if (n != need) return BZ_CORRUPT;
    switch (l->type) {
    case PQ_BOOLEAN: u.b = p[0] != 0; break;
    case PQ_INT32: case PQ_FLOAT: memcpy(&u.i32, p, 4); break;
    case PQ_INT64: case PQ_DOUBLE: memcpy(&u.i64, p, 8); break;
    default: u.bytes.p = p; u.bytes.n = (uint32_t)n; break;
    }
    render_value(f, l, &u, 0, buf, v);
    return BZ_OK;
}

/* JSON rendering of one value for nested fields. */
static void json_value(const PqFile *f, const PqLeaf *l, const void *vals, int vi, BzBuf *out) {
    char buf[256];
    PqValue v;
    render_value(f, l, vals, vi, buf, &v);
    switch (v.type) {
    case PV_NULL: bz_buf_appendz(out, "null"); break;
    case PV_INT:
        if (l->kind == PK_BOOL) bz_buf_appendz(out, v.i ? "true" : "false");
        else bz_buf_printf(out, "%lld", (long long)v.i);
        break;
    case PV_REAL:
        if (isnan(v.d)) bz_buf_appendz(out, "null");
        else if (isinf(v.d)) bz_buf_appendz(out, v.d > 0 ? "9e999" : "-9e999");
        else {
            /* shortest text that reads back as the same double: 4.8, not 4.7999999999999998 */
            char tmp[40];
            for (int prec = 15; prec <= 17; prec++) {
                snprintf(tmp, sizeof tmp, "%.*g", prec, v.d);
                if (strtod(tmp, NULL) == v.d) break;
            }
            bz_buf_appendz(out, tmp);
        }
        break;
    case PV_TEXT: bz_buf_json_str(out, v.p, v.n); break;
    case PV_BLOB: {
        /* JSON has no bytes: printable ASCII as is, other bytes (and the
        ** backslash) as \xHH, as DuckDB renders blobs */
        static const char hex[] = "0123456789ABCDEF";
        bz_buf_appendc(out, '"');
        for (size_t k = 0; k < v.n; k++) {
            unsigned char ch = (unsigned char)v.p[k];
            if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"') {
                bz_buf_appendc(out, (char)ch);
            } else {
                char e[6] = {'\\', '\\', 'x', hex[ch >> 4], hex[ch & 15], 0};
                bz_buf_append(out, e, 5);
            }
        }
        bz_buf_appendc(out, '"');
        break;
    }
    }
}

/* ======================================================================
** Scan
*/
typedef struct FieldState {
    int64_t row;       /* row (within the row group) the cursors are positioned at */
    BzBuf json;        /* nested rendering */
    char buf[256];     /* flat text rendering */
    PqValue last;      /* value of row `row - 1`, returned again if asked twice */
    /* flat fields: row `row - 1`'s value as decoded, rendered into `last` only
    ** when asked for (a filter on the key may reject the row first) */
    int pending;       /* `last` not rendered yet */
    int raw_null;
    union { uint8_t b; int32_t i32; int64_t i64; float fl; double d; PqBytes bytes; } raw;
} FieldState;

struct PqScan {
    PqFile *f;
    PqScanOpts o;
    uint8_t *want;       /* per field */
    uint8_t *leaf_want;  /* per leaf */
    Cursor *cur;         /* per leaf */
    FieldState *fs;      /* per field */
    int rg;              /* current row group, -1 before the first */
    int64_t rg_rows;     /* rows in current row group */
    int64_t row;         /* current row within the row group (-1 before first) */
    int64_t rg_first_row;/* file row number of the row group's first row */
    int64_t to_skip;     /* OFFSET rows still to skip */
    int64_t returned;
    int64_t n_filtered;  /* rows_filtered not yet added to the process-wide counter */
    int done;
    int64_t *sel;        /* page-index selection: [lo, hi) row ranges of the row group */
    int n_sel, sel_i;    /* n_sel < 0: no selection (every row) */
    KeyPred *kp;         /* per filter: its plan in the key domain (DATE, TIMESTAMP) */
};

static int field_read_flat(PqScan *s, int fi, BzErr *err);

/* Rationale: rows_filtered is counted per row; an atomic add per row on a
** counter shared by every thread made two scanning threads fight over one
** cache line (Q6 on 2 threads: 20% of their time on that lock add). The
** scan keeps its own count and publishes it once per row group. */
static void scan_close_rg(PqScan *s) {
    if (s->n_filtered) {
        PQ_STAT(rows_filtered, s->n_filtered);
        s->n_filtered = 0;
    }
    for (int i = 0; i < s->f->n_leaves; i++) {
        if (s->cur[i].live) chunk_reset(&s->cur[i].ch);
        s->cur[i].live = 0;
    }
}

/* Intersect the sorted range list a (na pairs) with b (nb pairs) into out;
** returns the number of pairs. out has room for na + nb pairs. */
static int ranges_intersect(const int64_t *a, int na, const int64_t *b, int nb, int64_t *out) {
    int i = 0, j = 0, n = 0;
    while (i < na && j < nb) {
        int64_t lo = BZ_MAX(a[2 * i], b[2 * j]), hi = BZ_MIN(a[2 * i + 1], b[2 * j + 1]);
        if (lo < hi) {
            out[2 * n] = lo;
            out[2 * n + 1] = hi;
            n++;
        }
        if (a[2 * i + 1] < b[2 * j + 1]) i++;
        else j++;
    }
    return n;
}

/* Page-index pruning for row group g: s->sel becomes the row ranges of the
** pages that may match every prune predicate (n_sel = -1: no index used).
** Offset indexes of wanted flat leaves are kept in their chunks for seeking. */
static int scan_select_pages(PqScan *s, int g, BzErr *err) {
    PqFile *f = s->f;
    int64_t rows = f->meta->row_groups[g].num_rows;
    bz_free(s->sel);
    s->sel = NULL;
    s->n_sel = -1;
    s->sel_i = 0;
    for (int k = 0; k < s->o.n_prune; k++) {
        const PqPred *p = &s->o.prune[k];
        const PqField *fd = &f->fields[p->field];
        PqColumnIndex *ci;
        PqOffsetIndex *oi;
        int leaf = fd->first_leaf, np = 0;
        if (fd->kind == PK_NESTED) continue;
        load_page_index(f, g, leaf, &ci, &oi);
        if (!ci || !oi) {
            pq_column_index_free(ci);
            pq_offset_index_free(oi);
            continue;
        }
        int64_t *mine = bz_malloc(sizeof(int64_t) * 2 * (size_t)(oi->n_pages + 1));
        if (!mine) {
            pq_column_index_free(ci);
            pq_offset_index_free(oi);
            return bz_err(err, BZ_NOMEM, "out of memory");
        }
        for (int pg = 0; pg < oi->n_pages; pg++) {
            int64_t lo = oi->pages[pg].first_row;
            int64_t hi = pg + 1 < oi->n_pages ? oi->pages[pg + 1].first_row : rows;
            if (hi <= lo || !pq_page_may_match(f, leaf, ci, pg, hi - lo, p)) continue;
            if (np && mine[2 * np - 1] == lo) {
                mine[2 * np - 1] = hi;
            } else {
                mine[2 * np] = lo;
                mine[2 * np + 1] = hi;
                np++;
            }
        }
        pq_column_index_free(ci);
        pq_offset_index_free(oi);
        if (s->n_sel < 0) {
            s->sel = mine;
            s->n_sel = np;
        } else {
            int64_t *both = bz_malloc(sizeof(int64_t) * 2 * (size_t)(np + s->n_sel + 1));
            if (!both) {
                bz_free(mine);
                return bz_err(err, BZ_NOMEM, "out of memory");
            }
            s->n_sel = ranges_intersect(s->sel, s->n_sel, mine, np, both);
            bz_free(s->sel);
            bz_free(mine);
            s->sel = both;
        }
    }
    return BZ_OK;
}

/* Small LIMIT: fetch only the dictionary and first data page of each wanted
** chunk, in two batches of ranges (so S3 coalesces neighbouring chunks into
** one request each): first a window at the start of every chunk, then, from
** the page headers in it, whatever the first data page still needs. Later
** pages, if any, are read on demand. ranges has room for one per leaf. */
/* Rationale: without an offset index the first page's size is only known
** from its header, so a LIMIT query reads a window of each chunk first and
** then whatever the first data page still needs. On a remote source a round
** trip costs about as much as a few MB of transfer (tens of ms at ~100 MB/s),
** so the window is 2 MiB there: the whole first page of most columns (writers
** cut pages at about 1 MiB) in one batch. Local reads cost little, so the
** window stays small. */
#define PQ_FIRST_WINDOW_REMOTE ((uint64_t)2 << 20)
#define PQ_FIRST_WINDOW_LOCAL ((uint64_t)256 << 10)
static int scan_read_first_pages(PqScan *s, BzRange *ranges, BzErr *err) {
    PqFile *f = s->f;
    int nr = 0, i, rc, pass;
    for (pass = 0; pass < 2; pass++) {
        nr = 0;
        for (i = 0; i < f->n_leaves; i++) {
            Chunk *c = &s->cur[i].ch;
            uint64_t want = 0;
            if (!s->leaf_want[i] || !c->len) continue;
            if (pass == 0) {
                want = BZ_MIN(c->len, f->src->local ? PQ_FIRST_WINDOW_LOCAL : PQ_FIRST_WINDOW_REMOTE);
            } else { /* walk the headers: dictionary page, then the first data page */
                uint64_t p = 0;
                for (int k = 0; k < 4 && p < c->have; k++) {
                    PqPageHeader h;
                    size_t used;
                    BzErr e2;
                    if (pq_page_header_parse(c->buf + p, c->have - p, &h, &used, &e2) != BZ_OK) break;
                    uint64_t end = p + used + (uint64_t)(h.compressed_size > 0 ? h.compressed_size : 0);
                    want = BZ_MIN(end, c->len);
                    if (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2) break;
                    p = end;
                }
            }
            if (want <= c->have) continue;
            ranges[nr].off = c->start + c->have;
            ranges[nr].n = want - c->have;
            ranges[nr].dst = c->buf + c->have;
            nr++;
        }
        if (!nr) continue;
        for (i = 0; i < nr; i++) PQ_STAT(bytes_read, ranges[i].n);
        PQ_STAT(reads, nr);
        rc = bz_readat_ranges(f->src, ranges, nr, err);
        if (rc) return rc;
        for (i = 0; i < nr; i++) {
            for (int l = 0; l < f->n_leaves; l++) {
                Chunk *c = &s->cur[l].ch;
                if (s->leaf_want[l] && ranges[i].dst == c->buf + c->have) {
                    c->have += ranges[i].n;
                    break;
                }
            }
        }
    }
    return BZ_OK;
}

/* Open the chunks of the wanted leaves for row group g and fetch their bytes
** in one batch of ranges (parallel and coalesced on S3). With a page-index
** selection and offset indexes on every wanted leaf, only the dictionary and
** the selected pages are fetched; with a small LIMIT, chunks are read in
** growing windows instead. Returns BZ_DONE when the page index rules out
** every row of the group. */
static int scan_open_rg(PqScan *s, int g, BzErr *err) {
    PqFile *f = s->f;
    BzRange *ranges = NULL;
    int nr = 0, cap = 0, rc = BZ_OK, i, sparse;
    int64_t want = s->o.limit >= 0 ? s->o.limit : s->o.expect > 0 ? s->o.expect : -1;
    int small = want >= 0 && want + s->to_skip < 10000;
    for (i = 0; i < f->n_fields; i++) s->fs[i].row = 0;
    rc = scan_select_pages(s, g, err);
    if (rc) return rc;
    if (s->n_sel == 0) return BZ_DONE;
    sparse = s->n_sel > 0 && !small;
    for (i = 0; i < f->n_leaves; i++) {
        Cursor *cu = &s->cur[i];
        if (!s->leaf_want[i]) continue;
        rc = chunk_init(&cu->ch, f, g, i, err);
        cu->live = 1;
        cu->n = cu->i = cu->vi = 0;
        cu->eof = 0;
        if (rc) return rc;
        if (f->leaves[i].max_rep == 0 && (s->n_sel > 0 || s->to_skip > 0))
            load_page_index(f, g, i, NULL, &cu->ch.oi);
        if (!cu->ch.oi || f->leaves[i].max_rep > 0) sparse = 0;
        cap += cu->ch.oi ? cu->ch.oi->n_pages + 1 : 1;
    }
    ranges = bz_calloc((size_t)cap + 1, sizeof *ranges);
    if (!ranges) return bz_err(err, BZ_NOMEM, "out of memory");
    if (small) {
        rc = scan_read_first_pages(s, ranges, err);
        goto done;
    }
    for (i = 0; i < f->n_leaves; i++) {
        Chunk *c = &s->cur[i].ch;
        if (!s->leaf_want[i] || !c->len) continue;
        if (!sparse) {
            ranges[nr].off = c->start;
            ranges[nr].n = c->len;
            ranges[nr].dst = c->buf;
            nr++;
            continue;
        }
        /* dictionary (bytes before the first data page) + selected pages */
        const PqOffsetIndex *oi = c->oi;
        int64_t rows = f->meta->row_groups[g].num_rows;
        uint64_t first = (uint64_t)oi->pages[0].offset;
        if (first > c->start && first <= c->start + c->len) {
            ranges[nr].off = c->start;
            ranges[nr].n = first - c->start;
            ranges[nr].dst = c->buf;
            nr++;
        }
        for (int pg = 0, si = 0; pg < oi->n_pages; pg++) {
            int64_t lo = oi->pages[pg].first_row;
            int64_t hi = pg + 1 < oi->n_pages ? oi->pages[pg + 1].first_row : rows;
            uint64_t off = (uint64_t)oi->pages[pg].offset, n = (uint64_t)oi->pages[pg].compressed_size;
            while (si < s->n_sel && s->sel[2 * si + 1] <= lo) si++;
            if (si >= s->n_sel || s->sel[2 * si] >= hi) continue;
            if (off < c->start || n > c->len || off - c->start > c->len - n) {
                rc = bz_err(err, BZ_CORRUPT, "%s: row group %d, column \"%s\": offset index "
                            "points outside the column chunk", f->src->name, g, f->leaves[i].path);
                goto done;
            }
            if (nr && ranges[nr - 1].dst && (char *)ranges[nr - 1].dst + ranges[nr - 1].n ==
                (char *)c->buf + (off - c->start) && ranges[nr - 1].off + ranges[nr - 1].n == off) {
                ranges[nr - 1].n += n;
            } else {
                ranges[nr].off = off;
                ranges[nr].n = n;
                ranges[nr].dst = c->buf + (off - c->start);
                nr++;
            }
        }
    }
    if (nr) {
        for (i = 0; i < nr; i++) PQ_STAT(bytes_read, ranges[i].n);
        PQ_STAT(reads, nr);
        rc = bz_readat_ranges(f->src, ranges, nr, err);
        if (rc) goto done;
        /* sparse chunks: pages outside the selection are never touched,
        ** because rows outside it are never produced and cursors seek */
        for (i = 0; i < f->n_leaves; i++)
            if (s->leaf_want[i]) s->cur[i].ch.have = s->cur[i].ch.len;
    }
    /* hint the next row group's ranges to the source */
    if (f->src->prefetch && !small) {
        int ng = g + 1;
        while (ng < f->meta->n_row_groups && s->o.rg_skip && s->o.rg_skip[ng]) ng++;
        if (ng < f->meta->n_row_groups) {
            BzRange *pr = bz_calloc((size_t)f->n_leaves + 1, sizeof *pr);
            int np = 0;
            for (i = 0; pr && i < f->n_leaves; i++) {
                uint64_t st, ln;
                BzErr e2;
                if (!s->leaf_want[i] || chunk_range(f, ng, i, &st, &ln, &e2)) continue;
                pr[np].off = st;
                pr[np].n = ln;
                np++;
            }
            if (np) f->src->prefetch(f->src, pr, np);
            bz_free(pr);
        }
    }
done:
    bz_free(ranges);
    return rc;
}

int pq_scan_open(PqFile *f, const PqScanOpts *o, PqScan **out, BzErr *err) {
    PqScan *s = bz_calloc(1, sizeof *s);
    int i;
    *out = NULL;
    if (!s) return bz_err(err, BZ_NOMEM, "out of memory");
    s->f = f;
    if (o) s->o = *o;
    else s->o.limit = -1;
    s->want = bz_calloc((size_t)f->n_fields + 1, 1);
    s->leaf_want = bz_calloc((size_t)f->n_leaves + 1, 1);
    s->cur = bz_calloc((size_t)f->n_leaves + 1, sizeof(Cursor));
    s->fs = bz_calloc((size_t)f->n_fields + 1, sizeof(FieldState));
    if (!s->want || !s->leaf_want || !s->cur || !s->fs) {
        pq_scan_close(s);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    for (i = 0; i < f->n_fields; i++) {
        s->want[i] = !s->o.want || s->o.want[i];
        bz_buf_init(&s->fs[i].json, (size_t)256 << 20);
        if (s->want[i])
            for (int j = 0; j < f->fields[i].n_leaves; j++) s->leaf_want[f->fields[i].first_leaf + j] = 1;
    }
    for (i = 0; i < f->n_leaves; i++) {
        if (!s->leaf_want[i]) continue;
        s->cur[i].vals = bz_malloc(PQ_BATCH * value_size(f->leaves[i].type));
        if (!s->cur[i].vals) {
            pq_scan_close(s);
            return bz_err(err, BZ_NOMEM, "out of memory");
        }
    }
    s->kp = bz_calloc((size_t)s->o.n_filters + 1, sizeof(KeyPred));
    if (!s->kp) {
        pq_scan_close(s);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    for (i = 0; i < s->o.n_filters; i++) {
        const PqPred *p = &s->o.filters[i];
        const PqField *fd;
        if (p->field < 0 || p->field >= f->n_fields || !s->want[p->field]) continue;
        fd = &f->fields[p->field];
        if (fd->kind == PK_NESTED || fd->n_leaves != 1) continue;
        if (keypred_compile(&f->leaves[fd->first_leaf], p, &s->kp[i])) {
            pq_scan_close(s);
            return bz_err(err, BZ_NOMEM, "out of memory");
        }
    }
    s->rg = -1;
    s->row = -1;
    s->n_sel = -1;
    s->to_skip = s->o.offset > 0 ? s->o.offset : 0;
    *out = s;
    return BZ_OK;
}

void pq_scan_close(PqScan *s) {
    if (!s) return;
    if (s->cur) {
        scan_close_rg(s);
        for (int i = 0; i < s->f->n_leaves; i++) {
            chunk_close(&s->cur[i].ch);
            bz_free(s->cur[i].vals);
        }
    }
    if (s->fs)
        for (int i = 0; i < s->f->n_fields; i++) bz_buf_free(&s->fs[i].json);
    if (s->kp)
        for (int i = 0; i < s->o.n_filters; i++) keypred_free(&s->kp[i]);
    bz_free(s->kp);
    bz_free(s->sel);
    bz_free(s->want);
    bz_free(s->leaf_want);
    bz_free(s->cur);
    bz_free(s->fs);
    bz_free(s);
}

/* Move to the next row position, opening row groups as needed; no
** filtering. Whole row groups inside OFFSET are skipped only when there are
** no filters (with filters OFFSET counts matching rows). */
static int scan_advance(PqScan *s, BzErr *err) {
    PqFileMeta *m = s->f->meta;
    s->row++;
    for (;;) {
        /* rows outside the page-index selection are never produced */
        if (s->rg >= 0 && s->n_sel >= 0 && s->row < s->rg_rows) {
            while (s->sel_i < s->n_sel && s->row >= s->sel[2 * s->sel_i + 1]) s->sel_i++;
            if (s->sel_i >= s->n_sel) s->row = s->rg_rows;
            else if (s->row < s->sel[2 * s->sel_i]) s->row = s->sel[2 * s->sel_i];
        }
        if (s->rg >= 0 && s->row < s->rg_rows) break;
        int g = s->rg + 1;
        if (s->rg >= 0) s->rg_first_row += s->rg_rows;
        scan_close_rg(s);
        for (; g < m->n_row_groups; g++) {
            if (s->o.rg_skip && s->o.rg_skip[g]) { /* counted by whoever pruned it */
                s->rg_first_row += m->row_groups[g].num_rows;
                continue;
            }
            if (!s->o.n_filters && s->to_skip >= m->row_groups[g].num_rows) {
                s->to_skip -= m->row_groups[g].num_rows;
                s->rg_first_row += m->row_groups[g].num_rows;
                continue;
            }
            break;
        }
        if (g >= m->n_row_groups) {
            s->done = 1;
            s->rg = g;
            return BZ_DONE;
        }
        s->rg = g;
        s->rg_rows = m->row_groups[g].num_rows;
        s->row = 0;
        if (!s->o.n_filters) {
            s->row = s->to_skip;
            s->to_skip = 0;
        }
        int rc = scan_open_rg(s, g, err);
        if (rc == BZ_DONE) { /* the page index rules out every row */
            PQ_STAT(row_groups_skipped, 1);
            s->row = s->rg_rows;
            continue;
        }
        if (rc) return rc;
        PQ_STAT(row_groups_read, 1);
    }
    return BZ_OK;
}

int pq_scan_next(PqScan *s, BzErr *err) {
    PqValue v;
    int rc;
    if (s->done) return BZ_DONE;
    if (s->o.limit >= 0 && s->returned >= s->o.limit) {
        s->done = 1;
        scan_close_rg(s);
        return BZ_DONE;
    }
    for (;;) {
        rc = scan_advance(s, err);
        if (rc) return rc;
        if (!s->o.n_filters) break;
        int pass = 1;
        for (int i = 0; i < s->o.n_filters && pass; i++) {
            const PqPred *p = &s->o.filters[i];
            if (s->kp[i].mode != KP_TEXT) { /* on the key, not its text */
                const FieldState *fs = &s->fs[p->field];
                rc = field_read_flat(s, p->field, err);
                if (rc) return rc;
                int is32 = s->f->leaves[s->f->fields[p->field].first_leaf].type == PQ_INT32;
                pass = keypred_eval(&s->kp[i], p->op, fs->raw_null, is32 ? fs->raw.i32 : fs->raw.i64);
                if (pass >= 0) continue; /* else out of range: compare the text */
            }
            rc = pq_scan_value(s, p->field, &v, err);
            if (rc) return rc;
            pass = pq_pred_eval(p, &v);
        }
        if (!pass) {
            s->n_filtered++;
            continue;
        }
        if (s->to_skip > 0) {
            s->to_skip--;
            continue;
        }
        break;
    }
    s->returned++;
    return BZ_OK;
}


int64_t pq_scan_rowid(const PqScan *s) { return s->rg_first_row + s->row; }

/* ---- nested assembly ---- */
typedef struct Asm {
    PqScan *s;
    BzBuf *out;
    BzErr *err;
    int rc;
} Asm;

static int asm_peek(Asm *a, int leaf, int *def, int *rep) {
    int has;
    Cursor *cu = &a->s->cur[leaf];
    if (a->rc) return 0;
    a->rc = cur_peek(cu, &has, a->err);
    if (a->rc) return 0;
    if (!has) {
        a->rc = chunk_err(&cu->ch, a->err, BZ_CORRUPT, "column ends before its row group's rows");
        return 0;
    }
    *def = cu->def[cu->i];
    *rep = cu->rep[cu->i];
    return 1;
}

/* Consume one entry from every leaf under node n (a null or empty at n). */
static void asm_skip_one(Asm *a, const PqNode *n) {
    int d, r;
    for (int j = 0; j < n->n_leaves; j++) {
        if (!asm_peek(a, n->first_leaf + j, &d, &r)) return;
        cur_advance(&a->s->cur[n->first_leaf + j]);
    }
}

static void asm_node(Asm *a, int ni);

static void asm_instance(Asm *a, int ni);

/* Array of the instances of repeated node r; each element rendered by
** asm_node(elem) (3-level list) or asm_instance(r) (elem < 0). */
static void asm_repeated(Asm *a, int ri, int elem) {
    const PqNode *r = &a->s->f->nodes[ri];
    int d, rep, first = 1;
    if (!asm_peek(a, r->first_leaf, &d, &rep)) return;
    if (d < r->def) {
        asm_skip_one(a, r);
        bz_buf_appendz(a->out, "[]");
        return;
    }
    bz_buf_appendc(a->out, '[');
    for (;;) {
        if (!first) bz_buf_appendc(a->out, ',');
        first = 0;
        if (elem >= 0) asm_node(a, elem);
        else asm_instance(a, ri);
        if (a->rc) return;
        Cursor *cu = &a->s->cur[r->first_leaf];
        int has;
        a->rc = cur_peek(cu, &has, a->err);
        if (a->rc || !has) break;
        if (cu->rep[cu->i] != r->rep) break;
    }
    bz_buf_appendc(a->out, ']');
}

static void asm_map(Asm *a, int kvi) {
    const PqFile *f = a->s->f;
    const PqNode *kv = &f->nodes[kvi];
    int d, rep, first = 1;
    if (!asm_peek(a, kv->first_leaf, &d, &rep)) return;
    if (d < kv->def) {
        asm_skip_one(a, kv);
        bz_buf_appendz(a->out, "{}");
        return;
    }
    bz_buf_appendc(a->out, '{');
    for (;;) {
        if (!first) bz_buf_appendc(a->out, ',');
        first = 0;
        /* key: render, then make sure it is a JSON string */
        size_t at = a->out->n;
        asm_node(a, kv->children[0]);
        if (a->rc) return;
        if (a->out->rc == BZ_OK && a->out->data[at] != '"') {
            size_t len = a->out->n - at;
            char tmp[512];
            if (len < sizeof tmp) {
                memcpy(tmp, a->out->data + at, len);
                a->out->n = at;
                bz_buf_json_str(a->out, tmp, len);
            }
        }
        bz_buf_appendc(a->out, ':');
        if (kv->n_children > 1) asm_node(a, kv->children[1]);
        else bz_buf_appendz(a->out, "null");
        if (a->rc) return;
        Cursor *cu = &a->s->cur[kv->first_leaf];
        int has;
        a->rc = cur_peek(cu, &has, a->err);
        if (a->rc || !has) break;
        if (cu->rep[cu->i] != kv->rep) break;
    }
    bz_buf_appendc(a->out, '}');
}

/* Render one instance of node n (n is known to be present). */
static void asm_instance(Asm *a, int ni) {
    const PqFile *f = a->s->f;
    const PqNode *n = &f->nodes[ni];
    int d, r;
    if (a->rc) return;
    if (n->leaf >= 0) {
        Cursor *cu = &a->s->cur[n->leaf];
        if (!asm_peek(a, n->leaf, &d, &r)) return;
        if (d == f->leaves[n->leaf].max_def) json_value(f, &f->leaves[n->leaf], cu->vals, cu->vi, a->out);
        else bz_buf_appendz(a->out, "null");
        cur_advance(cu);
        return;
    }
    if (n->shape == NS_LIST) {
        int ci = n->children[0];
        const PqNode *c = &f->nodes[ci];
        /* 3-level list: repeated group with one child that is not named
        ** "array" or "<list>_tuple" -> elements are that child. */
        int three = c->leaf < 0 && c->n_children == 1 && strcmp(c->el->name, "array") != 0;
        if (three) {
            char tuple[300];
            snprintf(tuple, sizeof tuple, "%s_tuple", n->el->name);
            if (strcmp(c->el->name, tuple) == 0) three = 0;
        }
        asm_repeated(a, ci, three ? c->children[0] : -1);
        return;
    }
    if (n->shape == NS_MAP) {
        asm_map(a, n->children[0]);
        return;
    }
    /* struct */
    bz_buf_appendc(a->out, '{');
    for (int k = 0; k < n->n_children; k++) {
        const PqNode *c = &f->nodes[n->children[k]];
        if (k) bz_buf_appendc(a->out, ',');
        bz_buf_json_str(a->out, c->el->name, strlen(c->el->name));
        bz_buf_appendc(a->out, ':');
        asm_node(a, n->children[k]);
        if (a->rc) return;
    }
    bz_buf_appendc(a->out, '}');
}

/* Render node n in its parent's slot (n may be null, or repeated). */
static void asm_node(Asm *a, int ni) {
    const PqNode *n = &a->s->f->nodes[ni];
    int d, r;
    if (a->rc) return;
    if (n->el->repetition == PQ_REPEATED) {
        asm_repeated(a, ni, -1);
        return;
    }
    if (n->el->repetition == PQ_OPTIONAL) {
        if (!asm_peek(a, n->first_leaf, &d, &r)) return;
        if (d < n->def) {
            asm_skip_one(a, n);
            bz_buf_appendz(a->out, "null");
            return;
        }
    }
    asm_instance(a, ni);
}

/* Skip one row of field fi: one entry with rep 0 then all with rep > 0, per leaf. */
static int field_skip_row(PqScan *s, int fi, BzErr *err) {
    const PqField *fd = &s->f->fields[fi];
    for (int j = 0; j < fd->n_leaves; j++) {
        Cursor *cu = &s->cur[fd->first_leaf + j];
        int has, first = 1, rc;
        for (;;) {
            rc = cur_peek(cu, &has, err);
            if (rc) return rc;
            if (!has) {
                if (first) return chunk_err(&cu->ch, err, BZ_CORRUPT, "column ends before its row group's rows");
                break;
            }
            if (!first && cu->rep[cu->i] == 0) break;
            cur_advance(cu);
            first = 0;
        }
    }
    return BZ_OK;
}

/* Move field fi's cursors forward to the scan's current row. */
static int field_catch_up(PqScan *s, int fi, BzErr *err) {
    FieldState *fs = &s->fs[fi];
    const PqField *fd = &s->f->fields[fi];
    int64_t gap = s->row - fs->row;
    int rc;
    if (gap <= 0) return BZ_OK;
    if (fd->kind != PK_NESTED) {
        Cursor *cu = &s->cur[fd->first_leaf];
        while (gap > 0) {
            int avail = cu->n - cu->i;
            if (avail > 0) {
                int k = (int)BZ_MIN((int64_t)avail, gap);
                const uint8_t *def = cu->def + cu->i;
                int md = cu->ch.leaf->max_def;
                for (int j = 0; j < k; j++) cu->vi += def[j] == md;
                cu->i += k;
                gap -= k;
                continue;
            }
            int64_t skipped;
            rc = chunk_seek(&cu->ch, s->row - gap, s->row, &skipped, err);
            if (rc) return rc;
            gap -= skipped;
            if (gap <= 0) break;
            if (!skipped) {
                rc = chunk_skip_pages(&cu->ch, gap, &skipped, err);
                if (rc) return rc;
                gap -= skipped;
            }
            if (gap <= 0) break;
            int has;
            rc = cur_peek(cu, &has, err);
            if (rc) return rc;
            if (!has) return chunk_err(&cu->ch, err, BZ_CORRUPT, "column ends before its row group's rows");
        }
    } else {
        while (gap-- > 0) {
            rc = field_skip_row(s, fi, err);
            if (rc) return rc;
        }
    }
    fs->row = s->row;
    return BZ_OK;
}

/* Read the current row's value of flat field fi into fs->raw (not rendered:
** fs->pending), unless already read. The field must be wanted. */
static int field_read_flat(PqScan *s, int fi, BzErr *err) {
    FieldState *fs = &s->fs[fi];
    Cursor *cu = &s->cur[s->f->fields[fi].first_leaf];
    int has, rc;
    if (fs->row == s->row + 1) return BZ_OK;
    rc = field_catch_up(s, fi, err);
    if (rc) return rc;
    rc = cur_peek(cu, &has, err);
    if (rc) return rc;
    if (!has) return chunk_err(&cu->ch, err, BZ_CORRUPT, "column ends before its row group's rows");
    fs->raw_null = cu->def[cu->i] != cu->ch.leaf->max_def;
    if (!fs->raw_null) {
        size_t vs = value_size(cu->ch.leaf->type);
        memcpy(&fs->raw, (const char *)cu->vals + (size_t)cu->vi * vs, vs);
    }
    cur_advance(cu);
    fs->row++;
    fs->pending = 1;
    return BZ_OK;
}

int pq_scan_value(PqScan *s, int fi, PqValue *v, BzErr *err) {
    FieldState *fs = &s->fs[fi];
    const PqField *fd = &s->f->fields[fi];
    int rc;
    memset(v, 0, sizeof *v);
    if (!s->want[fi] || s->done || s->rg < 0) return BZ_OK;
    if (fd->kind != PK_NESTED) {
        rc = field_read_flat(s, fi, err);
        if (rc) return rc;
        if (fs->pending) {
            memset(&fs->last, 0, sizeof fs->last);
            if (!fs->raw_null)
                render_value(s->f, &s->f->leaves[fd->first_leaf], &fs->raw, 0, fs->buf, &fs->last);
            fs->pending = 0;
        }
        *v = fs->last;
        return BZ_OK;
    }
    if (fs->row == s->row + 1) { /* SQLite may ask for a column more than once */
        *v = fs->last;
        return BZ_OK;
    }
    rc = field_catch_up(s, fi, err);
    if (rc) return rc;
    {
        Asm a = {s, &fs->json, err, BZ_OK};
        bz_buf_reset(&fs->json);
        asm_node(&a, fd->node);
        if (a.rc) return a.rc;
        if (fs->json.rc)
            return bz_err(err, fs->json.rc, "%s: row group %d, column \"%s\": nested value too large",
                          s->f->src->name, s->rg, fd->name);
        /* a top-level optional group that is null renders "null": SQL NULL */
        if (fs->json.n == 4 && memcmp(fs->json.data, "null", 4) == 0) {
            v->type = PV_NULL;
        } else {
            v->type = PV_TEXT;
            v->p = fs->json.data;
            v->n = fs->json.n;
        }
        /* the row's remaining entries (rep > 0) were consumed by the assembly */
        fs->row++;
        fs->last = *v;
        return BZ_OK;
    }
}

