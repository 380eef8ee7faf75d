/*
** pq_meta.c: Thrift compact protocol decoding of Parquet metadata.
**
** Spec: Apache Thrift compact protocol (THRIFT-110) and parquet.thrift.
** The decoder keeps a sticky status: after the first error every read
** returns zero and the struct loops end, so field handlers stay short.
**
** Rationale (safety): every length and list size is checked against the
** bytes left before anything is allocated (each element takes at least one
** byte), nesting is limited to 64 levels, and varints to 10 bytes, so a
** hostile footer can neither allocate more than its own size justifies nor
** recurse without bound.
*/
#include "pq_meta.h"

#include <stdio.h>
#include <string.h>

/* ---- Arena ----------------------------------------------------------- */
typedef struct PqArenaChunk {
    struct PqArenaChunk *next;
    size_t used, cap;
    /* Rationale: uint64_t, not max_align_t: bz_malloc promises only 8-byte
    ** alignment (sqlite3_malloc64 puts an 8-byte header in front of the
    ** block), and a 16-aligned type made every chunk access misaligned UB. */
    uint64_t data[];
} PqArenaChunk;

typedef struct PqArena {
    PqArenaChunk *head;
} PqArena;

static void *arena_alloc(PqArena *a, size_t n) {
    PqArenaChunk *c = a->head;
    n = (n + 15) & ~(size_t)15;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        c = bz_malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(PqArena *a) {
    PqArenaChunk *c, *next;
    if (!a) return;
    for (c = a->head; c; c = next) {
        next = c->next;
        bz_free(c);
    }
    bz_free(a);
}

/* ---- Compact protocol reader ------------------------------------------ */
enum { T_STOP = 0, T_TRUE = 1, T_FALSE = 2, T_BYTE = 3, T_I16 = 4, T_I32 = 5, T_I64 = 6,
       T_DOUBLE = 7, T_BINARY = 8, T_LIST = 9, T_SET = 10, T_MAP = 11, T_STRUCT = 12 };

#define TR_MAX_DEPTH 64

typedef struct Tr {
    const uint8_t *p, *end;
    int rc;
    int depth;
    BzErr *err;
    PqArena *arena; /* NULL when not allocating */
    int bool_val;   /* value of the last boolean field header */
    int short_input; /* the failure was running out of bytes (more may help) */
} Tr;

static int tr_fail(Tr *t, const char *fmt, const char *detail);

/* Running out of input: an error that a caller reading a prefix may retry. */
static int tr_short(Tr *t, const char *what) {
    if (!t->rc) t->short_input = 1;
    return tr_fail(t, "%s", what);
}

static int tr_fail(Tr *t, const char *fmt, const char *detail) {
    if (!t->rc) {
        char msg[200];
        snprintf(msg, sizeof msg, fmt, detail);
        t->rc = bz_err(t->err, BZ_CORRUPT, "thrift: %s", msg);
    }
    return 0;
}

static uint64_t tr_varint(Tr *t) {
    uint64_t v = 0;
    int shift = 0;
    while (!t->rc) {
        if (t->p >= t->end) return tr_short(t, "truncated varint");
        uint8_t b = *t->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
        shift += 7;
        if (shift > 63) return tr_fail(t, "%s", "varint too long");
    }
    return 0;
}

static int64_t tr_zz64(Tr *t) {
    uint64_t u = tr_varint(t);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static int32_t tr_zz32(Tr *t) {
    int64_t v = tr_zz64(t);
    if (v < INT32_MIN || v > INT32_MAX) return tr_fail(t, "%s", "i32 out of range");
    return (int32_t)v;
}

static void tr_need(Tr *t, uint64_t n) {
    if (!t->rc && (uint64_t)(t->end - t->p) < n) tr_short(t, "value runs past the end");
}

static PqBin tr_binary(Tr *t) {
    PqBin b = {NULL, 0};
    uint64_t n = tr_varint(t);
    tr_need(t, n);
    if (t->rc) return b;
    b.p = t->p;
    b.n = (uint32_t)n;
    t->p += n;
    if (!b.p) b.p = (const uint8_t *)"";
    return b;
}

static const char *tr_string(Tr *t) {
    PqBin b = tr_binary(t);
    char *s;
    if (t->rc) return NULL;
    s = arena_alloc(t->arena, b.n + 1);
    if (!s) {
        t->rc = bz_err(t->err, BZ_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(s, b.p, b.n);
    s[b.n] = 0;
    return s;
}

/* Read a list header: element type and count, count checked against bytes left. */
static int64_t tr_list(Tr *t, int *etype) {
    uint8_t h;
    int64_t n;
    if (t->p >= t->end) return tr_short(t, "truncated list header");
    h = *t->p++;
    *etype = h & 0x0f;
    n = h >> 4;
    if (n == 15) n = (int64_t)tr_varint(t);
    if (n < 0 || n > t->end - t->p) {
        char d[64];
        snprintf(d, sizeof d, "%lld", (long long)n);
        return tr_fail(t, "list of %s elements exceeds the buffer", d);
    }
    return t->rc ? 0 : n;
}

static void tr_skip(Tr *t, int type);

static void tr_skip_struct(Tr *t) {
    int16_t last = 0;
    if (++t->depth > TR_MAX_DEPTH) {
        tr_fail(t, "%s", "nesting too deep");
        return;
    }
    while (!t->rc) {
        if (t->p >= t->end) {
            tr_short(t, "truncated struct");
            break;
        }
        uint8_t h = *t->p++;
        int type = h & 0x0f;
        if (type == T_STOP) break;
        if (h >> 4)
            last = (int16_t)(last + (h >> 4));
        else
            last = (int16_t)tr_zz32(t);
        tr_skip(t, type);
    }
    t->depth--;
}

static void tr_skip(Tr *t, int type) {
    int64_t i, n;
    int et;
    if (t->rc) return;
    switch (type) {
    case T_TRUE:
    case T_FALSE: break; /* value is in the field header */
    case T_BYTE: tr_need(t, 1); if (!t->rc) t->p++; break;
    case T_I16:
    case T_I32:
    case T_I64: tr_varint(t); break;
    case T_DOUBLE: tr_need(t, 8); if (!t->rc) t->p += 8; break;
    case T_BINARY: tr_binary(t); break;
    case T_LIST:
    case T_SET:
        n = tr_list(t, &et);
        if (++t->depth > TR_MAX_DEPTH) {
            tr_fail(t, "%s", "nesting too deep");
            return;
        }
        for (i = 0; i < n && !t->rc; i++) {
            if (et == T_TRUE || et == T_FALSE) {
                tr_need(t, 1);
                if (!t->rc) t->p++;
            } else {
                tr_skip(t, et);
            }
        }
        t->depth--;
        break;
    case T_MAP: {
        n = (int64_t)tr_varint(t);
        if (n > t->end - t->p) {
            tr_fail(t, "%s", "map exceeds the buffer");
            return;
        }
        if (n == 0) break;
        tr_need(t, 1);
        if (t->rc) return;
        uint8_t kv = *t->p++;
        if (++t->depth > TR_MAX_DEPTH) {
            tr_fail(t, "%s", "nesting too deep");
            return;
        }
        for (i = 0; i < n && !t->rc; i++) {
            int kt = kv >> 4, vt = kv & 0x0f;
            if (kt == T_TRUE || kt == T_FALSE) t->p++; else tr_skip(t, kt);
            if (vt == T_TRUE || vt == T_FALSE) t->p++; else tr_skip(t, vt);
        }
        t->depth--;
        break;
    }
    case T_STRUCT: tr_skip_struct(t); break;
    default: {
        char d[16];
        snprintf(d, sizeof d, "%d", type);
        tr_fail(t, "unknown field type %s", d);
    }
    }
}

/* Iterate the fields of a struct: returns 1 with *id and *type set, 0 at STOP or
** error. `last` is the previous field id (starts at 0). */
static int tr_field(Tr *t, int16_t *last, int16_t *id, int *type) {
    uint8_t h;
    if (t->rc) return 0;
    if (t->p >= t->end) return tr_short(t, "truncated struct");
    h = *t->p++;
    *type = h & 0x0f;
    if (*type == T_STOP) return 0;
    if (h >> 4)
        *last = (int16_t)(*last + (h >> 4));
    else
        *last = (int16_t)tr_zz32(t);
    *id = *last;
    if (*type == T_TRUE || *type == T_FALSE) t->bool_val = (*type == T_TRUE);
    return !t->rc;
}

static int tr_enter(Tr *t) {
    if (++t->depth > TR_MAX_DEPTH) return tr_fail(t, "%s", "nesting too deep");
    return 1;
}

/* Field readers that check the wire type; a mismatch is skipped. */
#define IS_INT(ty) ((ty) == T_I32 || (ty) == T_I16 || (ty) == T_BYTE || (ty) == T_I64)
static int64_t tr_int(Tr *t, int type) {
    if (type == T_BYTE) {
        tr_need(t, 1);
        return t->rc ? 0 : (int8_t)*t->p++;
    }
    return tr_zz64(t);
}
#define GET_I32(dst)                                                                               \
    do {                                                                                           \
        if (IS_INT(type)) {                                                                        \
            int64_t v_ = tr_int(t, type);                                                          \
            if (v_ < INT32_MIN || v_ > INT32_MAX) tr_fail(t, "%s", "i32 field out of range");     \
            (dst) = (int32_t)v_;                                                                   \
        } else                                                                                     \
            tr_skip(t, type);                                                                      \
    } while (0)
#define GET_I64(dst)                                                                               \
    do {                                                                                           \
        if (IS_INT(type))                                                                          \
            (dst) = tr_int(t, type);                                                               \
        else                                                                                       \
            tr_skip(t, type);                                                                      \
    } while (0)
#define GET_BOOL(dst)                                                                              \
    do {                                                                                           \
        if (type == T_TRUE || type == T_FALSE)                                                     \
            (dst) = t->bool_val;                                                                   \
        else                                                                                       \
            tr_skip(t, type);                                                                      \
    } while (0)

static void *tr_array(Tr *t, int64_t n, size_t size) {
    void *p;
    if (t->rc) return NULL;
    p = arena_alloc(t->arena, (size_t)(n ? n : 1) * size);
    if (!p) {
        t->rc = bz_err(t->err, BZ_NOMEM, "out of memory");
        return NULL;
    }
    memset(p, 0, (size_t)(n ? n : 1) * size);
    return p;
}

/* ---- Structs ------------------------------------------------------------ */

static void rd_statistics(Tr *t, PqStatistics *s) {
    int16_t last = 0, id;
    int type;
    s->null_count = s->distinct_count = -1;
    s->max_exact = s->min_exact = -1;
    if (!tr_enter(t)) return;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1: if (type == T_BINARY) s->max = tr_binary(t); else tr_skip(t, type); break;
        case 2: if (type == T_BINARY) s->min = tr_binary(t); else tr_skip(t, type); break;
        case 3: GET_I64(s->null_count); break;
        case 4: GET_I64(s->distinct_count); break;
        case 5: if (type == T_BINARY) s->max_value = tr_binary(t); else tr_skip(t, type); break;
        case 6: if (type == T_BINARY) s->min_value = tr_binary(t); else tr_skip(t, type); break;
        case 7: GET_BOOL(s->max_exact); break;
        case 8: GET_BOOL(s->min_exact); break;
        default: tr_skip(t, type);
        }
    }
    t->depth--;
}

/* TimeUnit union: returns PQ_UNIT_* */
static int rd_time_unit(Tr *t) {
    int16_t last = 0, id;
    int type, unit = 0;
    if (!tr_enter(t)) return 0;
    while (tr_field(t, &last, &id, &type)) {
        if (id >= 1 && id <= 3 && type == T_STRUCT) unit = id;
        tr_skip(t, type);
    }
    t->depth--;
    return unit;
}

static void rd_logical_type(Tr *t, PqLogicalType *lt) {
    int16_t last = 0, id, l2, id2;
    int type, ty2;
    if (!tr_enter(t)) return;
    while (tr_field(t, &last, &id, &type)) {
        if (type != T_STRUCT) {
            tr_skip(t, type);
            continue;
        }
        lt->kind = id;
        if (id != PQ_LT_DECIMAL && id != PQ_LT_TIME && id != PQ_LT_TIMESTAMP &&
            id != PQ_LT_INTEGER) {
            tr_skip(t, type);
            continue;
        }
        if (!tr_enter(t)) break;
        l2 = 0;
        while (tr_field(t, &l2, &id2, &ty2)) {
            int type = ty2; /* for the GET_ macros */
            if (id == PQ_LT_DECIMAL && id2 == 1) GET_I32(lt->scale);
            else if (id == PQ_LT_DECIMAL && id2 == 2) GET_I32(lt->precision);
            else if ((id == PQ_LT_TIME || id == PQ_LT_TIMESTAMP) && id2 == 1) GET_BOOL(lt->utc);
            else if ((id == PQ_LT_TIME || id == PQ_LT_TIMESTAMP) && id2 == 2 && ty2 == T_STRUCT)
                lt->unit = rd_time_unit(t);
            else if (id == PQ_LT_INTEGER && id2 == 1) GET_I32(lt->bit_width);
            else if (id == PQ_LT_INTEGER && id2 == 2) GET_BOOL(lt->is_signed);
            else tr_skip(t, ty2);
        }
        t->depth--;
    }
    t->depth--;
}

static void rd_schema_element(Tr *t, PqSchemaElement *e) {
    int16_t last = 0, id;
    int type;
    e->type = e->repetition = -1;
    e->converted_type = PQ_CT_NONE;
    e->field_id = -1;
    e->name = "";
    if (!tr_enter(t)) return;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1: GET_I32(e->type); break;
        case 2: GET_I32(e->type_length); break;
        case 3: GET_I32(e->repetition); break;
        case 4: if (type == T_BINARY) e->name = tr_string(t); else tr_skip(t, type); break;
        case 5: GET_I32(e->num_children); break;
        case 6: GET_I32(e->converted_type); break;
        case 7: GET_I32(e->scale); break;
        case 8: GET_I32(e->precision); break;
        case 9: GET_I32(e->field_id); break;
        case 10: if (type == T_STRUCT) rd_logical_type(t, &e->logical); else tr_skip(t, type); break;
        default: tr_skip(t, type);
        }
    }
    if (!e->name) e->name = "";
    t->depth--;
}

static void rd_column_meta(Tr *t, PqColumnMeta *m) {
    int16_t last = 0, id;
    int type, et;
    int64_t i, n;
    m->index_page_offset = m->dictionary_page_offset = m->bloom_filter_offset = -1;
    m->bloom_filter_length = -1;
    m->type = -1;
    if (!tr_enter(t)) return;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1: GET_I32(m->type); break;
        case 2:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            m->encodings = tr_array(t, n, sizeof(int));
            for (i = 0; i < n && !t->rc; i++) m->encodings[i] = tr_zz32(t);
            m->n_encodings = (int)n;
            break;
        case 3:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            m->path = tr_array(t, n, sizeof(char *));
            for (i = 0; i < n && !t->rc; i++) m->path[i] = tr_string(t);
            m->n_path = (int)n;
            break;
        case 4: GET_I32(m->codec); break;
        case 5: GET_I64(m->num_values); break;
        case 6: GET_I64(m->total_uncompressed_size); break;
        case 7: GET_I64(m->total_compressed_size); break;
        case 9: GET_I64(m->data_page_offset); break;
        case 10: GET_I64(m->index_page_offset); break;
        case 11: GET_I64(m->dictionary_page_offset); break;
        case 12:
            if (type != T_STRUCT) { tr_skip(t, type); break; }
            m->has_stats = 1;
            rd_statistics(t, &m->stats);
            break;
        case 13:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            m->encoding_stats = tr_array(t, n, sizeof(PqEncodingStats));
            for (i = 0; i < n && !t->rc; i++) {
                int16_t l2 = 0, id2;
                int ty2;
                PqEncodingStats *s = &m->encoding_stats[i];
                if (!tr_enter(t)) break;
                while (tr_field(t, &l2, &id2, &ty2)) {
                    int type = ty2;
                    if (id2 == 1) GET_I32(s->page_type);
                    else if (id2 == 2) GET_I32(s->encoding);
                    else if (id2 == 3) GET_I32(s->count);
                    else tr_skip(t, ty2);
                }
                t->depth--;
            }
            m->n_encoding_stats = (int)n;
            break;
        case 14: GET_I64(m->bloom_filter_offset); break;
        case 15: GET_I32(m->bloom_filter_length); break;
        default: tr_skip(t, type);
        }
    }
    t->depth--;
}

static void rd_column_chunk(Tr *t, PqColumnChunk *c) {
    int16_t last = 0, id;
    int type;
    c->offset_index_offset = c->column_index_offset = -1;
    if (!tr_enter(t)) return;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1: if (type == T_BINARY) c->file_path = tr_string(t); else tr_skip(t, type); break;
        case 2: GET_I64(c->file_offset); break;
        case 3:
            if (type != T_STRUCT) { tr_skip(t, type); break; }
            c->has_meta = 1;
            rd_column_meta(t, &c->meta);
            break;
        case 4: GET_I64(c->offset_index_offset); break;
        case 5: GET_I32(c->offset_index_length); break;
        case 6: GET_I64(c->column_index_offset); break;
        case 7: GET_I32(c->column_index_length); break;
        case 8:
        case 9: c->encrypted = 1; tr_skip(t, type); break;
        default: tr_skip(t, type);
        }
    }
    t->depth--;
}

static void rd_row_group(Tr *t, PqRowGroup *g) {
    int16_t last = 0, id;
    int type, et;
    int64_t i, n;
    g->file_offset = g->total_compressed_size = -1;
    g->ordinal = -1;
    if (!tr_enter(t)) return;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            g->columns = tr_array(t, n, sizeof(PqColumnChunk));
            for (i = 0; i < n && !t->rc; i++) rd_column_chunk(t, &g->columns[i]);
            g->n_columns = (int)n;
            break;
        case 2: GET_I64(g->total_byte_size); break;
        case 3: GET_I64(g->num_rows); break;
        case 5: GET_I64(g->file_offset); break;
        case 6: GET_I64(g->total_compressed_size); break;
        case 7: GET_I32(g->ordinal); break;
        default: tr_skip(t, type);
        }
    }
    t->depth--;
}

static void rd_file_meta(Tr *t, PqFileMeta *m) {
    int16_t last = 0, id;
    int type, et;
    int64_t i, n;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1: GET_I32(m->version); break;
        case 2:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            m->schema = tr_array(t, n, sizeof(PqSchemaElement));
            for (i = 0; i < n && !t->rc; i++) rd_schema_element(t, &m->schema[i]);
            m->n_schema = (int)n;
            break;
        case 3: GET_I64(m->num_rows); break;
        case 4:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            m->row_groups = tr_array(t, n, sizeof(PqRowGroup));
            for (i = 0; i < n && !t->rc; i++) rd_row_group(t, &m->row_groups[i]);
            m->n_row_groups = (int)n;
            break;
        case 5:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            m->kv = tr_array(t, n, sizeof(PqKeyValue));
            for (i = 0; i < n && !t->rc; i++) {
                int16_t l2 = 0, id2;
                int ty2;
                if (!tr_enter(t)) break;
                while (tr_field(t, &l2, &id2, &ty2)) {
                    if (id2 == 1 && ty2 == T_BINARY) m->kv[i].key = tr_string(t);
                    else if (id2 == 2 && ty2 == T_BINARY) m->kv[i].value = tr_string(t);
                    else tr_skip(t, ty2);
                }
                if (!m->kv[i].key) m->kv[i].key = "";
                t->depth--;
            }
            m->n_kv = (int)n;
            break;
        case 6: if (type == T_BINARY) m->created_by = tr_string(t); else tr_skip(t, type); break;
        case 7:
            if (type != T_LIST) { tr_skip(t, type); break; }
            n = tr_list(t, &et);
            m->column_orders = tr_array(t, n, sizeof(int));
            for (i = 0; i < n && !t->rc; i++) {
                int16_t l2 = 0, id2;
                int ty2;
                if (!tr_enter(t)) break;
                while (tr_field(t, &l2, &id2, &ty2)) {
                    if (id2 == 1 && ty2 == T_STRUCT) m->column_orders[i] = 1;
                    tr_skip(t, ty2);
                }
                t->depth--;
            }
            m->n_column_orders = (int)n;
            break;
        case 8: m->encrypted = 1; tr_skip(t, type); break;
        default: tr_skip(t, type);
        }
    }
}

int pq_meta_parse(const uint8_t *buf, size_t n, PqFileMeta **out, BzErr *err) {
    Tr t;
    PqArena *arena = NULL;
    PqFileMeta *m = NULL;
    uint8_t *copy;
    *out = NULL;
    arena = bz_calloc(1, sizeof *arena);
    if (!arena) return bz_err(err, BZ_NOMEM, "out of memory");
    copy = arena_alloc(arena, n);
    m = arena_alloc(arena, sizeof *m);
    if (!copy || !m) {
        arena_free(arena);
        return bz_err(err, BZ_NOMEM, "out of memory reading a %zu-byte footer", n);
    }
    memcpy(copy, buf, n);
    memset(m, 0, sizeof *m);
    m->arena = arena;
    memset(&t, 0, sizeof t);
    t.p = copy;
    t.end = copy + n;
    t.err = err;
    t.arena = arena;
    rd_file_meta(&t, m);
    if (t.rc) {
        arena_free(arena);
        return t.rc;
    }
    *out = m;
    return BZ_OK;
}

void pq_meta_free(PqFileMeta *m) {
    if (m) arena_free(m->arena);
}

/* ---- Page headers ----------------------------------------------------------- */

static void rd_page_body(Tr *t, PqPageHeader *h, int which) {
    int16_t last = 0, id;
    int type;
    if (!tr_enter(t)) return;
    h->has_body = 1;
    while (tr_field(t, &last, &id, &type)) {
        if (which == 5) { /* DataPageHeader */
            switch (id) {
            case 1: GET_I32(h->num_values); break;
            case 2: GET_I32(h->encoding); break;
            case 3: GET_I32(h->def_encoding); break;
            case 4: GET_I32(h->rep_encoding); break;
            case 5:
                if (type == T_STRUCT) { h->has_stats = 1; rd_statistics(t, &h->stats); }
                else tr_skip(t, type);
                break;
            default: tr_skip(t, type);
            }
        } else if (which == 7) { /* DictionaryPageHeader */
            switch (id) {
            case 1: GET_I32(h->num_values); break;
            case 2: GET_I32(h->encoding); break;
            case 3: GET_BOOL(h->dict_sorted); break;
            default: tr_skip(t, type);
            }
        } else { /* DataPageHeaderV2 */
            switch (id) {
            case 1: GET_I32(h->num_values); break;
            case 2: GET_I32(h->num_nulls); break;
            case 3: GET_I32(h->num_rows); break;
            case 4: GET_I32(h->encoding); break;
            case 5: GET_I32(h->def_len); break;
            case 6: GET_I32(h->rep_len); break;
            case 7: GET_BOOL(h->is_compressed); break;
            case 8:
                if (type == T_STRUCT) { h->has_stats = 1; rd_statistics(t, &h->stats); }
                else tr_skip(t, type);
                break;
            default: tr_skip(t, type);
            }
        }
    }
    t->depth--;
}

int pq_page_header_parse(const uint8_t *buf, size_t n, PqPageHeader *h, size_t *consumed,
                         BzErr *err) {
    Tr t;
    int16_t last = 0, id;
    int type;
    BzErr local;
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->num_nulls = h->num_rows = -1;
    h->is_compressed = 1;
    h->uncompressed_size = h->compressed_size = -1;
    *consumed = 0;
    memset(&t, 0, sizeof t);
    t.p = buf;
    t.end = buf + n;
    t.err = &local;
    while (tr_field(&t, &last, &id, &type)) {
        switch (id) {
        case 1: if (IS_INT(type)) h->type = (int)tr_zz32(&t); else tr_skip(&t, type); break;
        case 2: if (IS_INT(type)) h->uncompressed_size = tr_zz32(&t); else tr_skip(&t, type); break;
        case 3: if (IS_INT(type)) h->compressed_size = tr_zz32(&t); else tr_skip(&t, type); break;
        case 4:
            if (IS_INT(type)) { h->has_crc = 1; h->crc = (uint32_t)tr_zz32(&t); }
            else tr_skip(&t, type);
            break;
        case 5:
        case 7:
        case 8:
            if (type == T_STRUCT) rd_page_body(&t, h, id); else tr_skip(&t, type);
            break;
        default: tr_skip(&t, type);
        }
    }
    if (t.rc) {
        /* A truncated buffer may just mean "read more"; let the caller retry. */
        if (t.short_input) return BZ_DONE;
        if (err) *err = local;
        return t.rc;
    }
    if (h->type < 0 || h->uncompressed_size < 0 || h->compressed_size < 0)
        return bz_err(err, BZ_CORRUPT, "page header lacks type or sizes");
    *consumed = (size_t)(t.p - buf);
    return BZ_OK;
}

/* ---- Page index --------------------------------------------------------------- */

int pq_column_index_parse(const uint8_t *buf, size_t n, PqColumnIndex **out, BzErr *err) {
    Tr t;
    int16_t last = 0, id;
    int type, et;
    int64_t i, cnt;
    int64_t n_null = -1, n_min = -1, n_max = -1, n_nc = -1;
    PqColumnIndex *ci;
    *out = NULL;
    ci = bz_calloc(1, sizeof *ci);
    if (!ci) return bz_err(err, BZ_NOMEM, "out of memory");
    ci->data = bz_malloc(n ? n : 1);
    if (!ci->data) {
        bz_free(ci);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    memcpy(ci->data, buf, n);
    memset(&t, 0, sizeof t);
    t.p = ci->data;
    t.end = ci->data + n;
    t.err = err;
    while (tr_field(&t, &last, &id, &type)) {
        if (type != T_LIST) {
            if (id == 4 && IS_INT(type)) ci->boundary_order = tr_zz32(&t);
            else tr_skip(&t, type);
            continue;
        }
        if (id < 1 || id > 5 || id == 4) {
            tr_skip(&t, type);
            continue;
        }
        cnt = tr_list(&t, &et);
        if (t.rc) break;
        if (id == 1) {
            if (ci->null_pages) { tr_fail(&t, "%s", "duplicate field"); break; }
            ci->null_pages = bz_calloc((size_t)cnt + 1, 1);
            if (!ci->null_pages) { t.rc = bz_err(err, BZ_NOMEM, "out of memory"); break; }
            for (i = 0; i < cnt && !t.rc; i++) {
                tr_need(&t, 1);
                if (!t.rc) ci->null_pages[i] = (*t.p++ == 1);
            }
            n_null = cnt;
        } else if (id == 2 || id == 3) {
            PqBin **dst = id == 2 ? &ci->min_values : &ci->max_values;
            if (*dst) { tr_fail(&t, "%s", "duplicate field"); break; }
            *dst = bz_calloc((size_t)cnt + 1, sizeof(PqBin));
            if (!*dst) { t.rc = bz_err(err, BZ_NOMEM, "out of memory"); break; }
            for (i = 0; i < cnt && !t.rc; i++) (*dst)[i] = tr_binary(&t);
            if (id == 2) n_min = cnt; else n_max = cnt;
        } else {
            if (ci->null_counts) { tr_fail(&t, "%s", "duplicate field"); break; }
            ci->null_counts = bz_calloc((size_t)cnt + 1, sizeof(int64_t));
            if (!ci->null_counts) { t.rc = bz_err(err, BZ_NOMEM, "out of memory"); break; }
            for (i = 0; i < cnt && !t.rc; i++) ci->null_counts[i] = tr_zz64(&t);
            n_nc = cnt;
        }
    }
    if (!t.rc && (n_null < 0 || n_min != n_null || n_max != n_null || (n_nc >= 0 && n_nc != n_null)))
        t.rc = bz_err(err, BZ_CORRUPT, "column index lists have different lengths");
    if (t.rc) {
        pq_column_index_free(ci);
        return t.rc;
    }
    ci->n_pages = (int)n_null;
    *out = ci;
    return BZ_OK;
}

void pq_column_index_free(PqColumnIndex *ci) {
    if (!ci) return;
    bz_free(ci->null_pages);
    bz_free(ci->min_values);
    bz_free(ci->max_values);
    bz_free(ci->null_counts);
    bz_free(ci->data);
    bz_free(ci);
}

int pq_offset_index_parse(const uint8_t *buf, size_t n, PqOffsetIndex **out, BzErr *err) {
    Tr t;
    int16_t last = 0, id;
    int type, et;
    int64_t i, cnt;
    PqOffsetIndex *oi;
    *out = NULL;
    oi = bz_calloc(1, sizeof *oi);
    if (!oi) return bz_err(err, BZ_NOMEM, "out of memory");
    memset(&t, 0, sizeof t);
    t.p = buf;
    t.end = buf + n;
    t.err = err;
    while (tr_field(&t, &last, &id, &type)) {
        if (id != 1 || type != T_LIST || oi->pages) {
            tr_skip(&t, type);
            continue;
        }
        cnt = tr_list(&t, &et);
        if (t.rc) break;
        oi->pages = bz_calloc((size_t)cnt + 1, sizeof(PqPageLocation));
        if (!oi->pages) { t.rc = bz_err(err, BZ_NOMEM, "out of memory"); break; }
        for (i = 0; i < cnt && !t.rc; i++) {
            int16_t l2 = 0, id2;
            int ty2;
            PqPageLocation *pl = &oi->pages[i];
            pl->offset = pl->first_row = -1;
            pl->compressed_size = -1;
            if (!tr_enter(&t)) break;
            while (tr_field(&t, &l2, &id2, &ty2)) {
                if (id2 == 1 && IS_INT(ty2)) pl->offset = tr_zz64(&t);
                else if (id2 == 2 && IS_INT(ty2)) pl->compressed_size = tr_zz32(&t);
                else if (id2 == 3 && IS_INT(ty2)) pl->first_row = tr_zz64(&t);
                else tr_skip(&t, ty2);
            }
            t.depth--;
            if (!t.rc && (pl->offset < 0 || pl->compressed_size < 0 || pl->first_row < 0))
                t.rc = bz_err(err, BZ_CORRUPT, "offset index page %lld lacks a field", (long long)i);
        }
        oi->n_pages = (int)cnt;
    }
    if (!t.rc && !oi->pages) t.rc = bz_err(err, BZ_CORRUPT, "offset index has no page locations");
    if (t.rc) {
        pq_offset_index_free(oi);
        return t.rc;
    }
    *out = oi;
    return BZ_OK;
}

void pq_offset_index_free(PqOffsetIndex *oi) {
    if (!oi) return;
    bz_free(oi->pages);
    bz_free(oi);
}

int pq_bloom_header_parse(const uint8_t *buf, size_t n, int32_t *num_bytes, size_t *consumed,
                          BzErr *err) {
    Tr t;
    int16_t last = 0, id;
    int type;
    BzErr local;
    *num_bytes = -1;
    *consumed = 0;
    memset(&t, 0, sizeof t);
    t.p = buf;
    t.end = buf + n;
    t.err = &local;
    while (tr_field(&t, &last, &id, &type)) {
        if (id == 1 && IS_INT(type)) {
            *num_bytes = tr_zz32(&t);
        } else if (id >= 2 && id <= 4 && type == T_STRUCT) {
            /* union: BLOCK=1 / XXHASH=1 / UNCOMPRESSED=1 are the only members defined */
            int16_t l2 = 0, id2;
            int ty2;
            if (!tr_enter(&t)) break;
            while (tr_field(&t, &l2, &id2, &ty2)) {
                if (id2 != 1) {
                    t.depth--;
                    return bz_err(err, BZ_UNSUPPORTED, "bloom filter uses an unknown %s",
                                  id == 2 ? "algorithm" : id == 3 ? "hash" : "compression");
                }
                tr_skip(&t, ty2);
            }
            t.depth--;
        } else {
            tr_skip(&t, type);
        }
    }
    if (t.rc) {
        if (t.short_input) return BZ_DONE;
        if (err) *err = local;
        return t.rc;
    }
    if (*num_bytes < 0) return bz_err(err, BZ_CORRUPT, "bloom filter header lacks numBytes");
    *consumed = (size_t)(t.p - buf);
    return BZ_OK;
}

/* ---- Names -------------------------------------------------------------------- */

const char *pq_type_name(int type) {
    static const char *names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
                                  "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return type >= 0 && type < 8 ? names[type] : "";
}

const char *pq_encoding_name(int enc) {
    switch (enc) {
    case 0: return "PLAIN";
    case 2: return "PLAIN_DICTIONARY";
    case 3: return "RLE";
    case 4: return "BIT_PACKED";
    case 5: return "DELTA_BINARY_PACKED";
    case 6: return "DELTA_LENGTH_BYTE_ARRAY";
    case 7: return "DELTA_BYTE_ARRAY";
    case 8: return "RLE_DICTIONARY";
    case 9: return "BYTE_STREAM_SPLIT";
    default: return "UNKNOWN";
    }
}

const char *pq_repetition_name(int rep) {
    return rep == 0 ? "REQUIRED" : rep == 1 ? "OPTIONAL" : rep == 2 ? "REPEATED" : "";
}

const char *pq_converted_type_name(int ct) {
    static const char *names[] = {"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL",
                                  "DATE", "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS",
                                  "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32", "UINT_64",
                                  "INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON",
                                  "INTERVAL"};
    return ct >= 0 && ct < (int)BZ_ARRAY_LEN(names) ? names[ct] : "";
}

void pq_logical_type_str(const PqSchemaElement *e, char *buf, size_t n) {
    static const char *units[] = {"", "MILLIS", "MICROS", "NANOS"};
    const PqLogicalType *lt = &e->logical;
    const char *u = lt->unit >= 1 && lt->unit <= 3 ? units[lt->unit] : "";
    switch (lt->kind) {
    case PQ_LT_STRING: snprintf(buf, n, "STRING"); break;
    case PQ_LT_MAP: snprintf(buf, n, "MAP"); break;
    case PQ_LT_LIST: snprintf(buf, n, "LIST"); break;
    case PQ_LT_ENUM: snprintf(buf, n, "ENUM"); break;
    case PQ_LT_DECIMAL: snprintf(buf, n, "DECIMAL(%d,%d)", lt->precision, lt->scale); break;
    case PQ_LT_DATE: snprintf(buf, n, "DATE"); break;
    case PQ_LT_TIME: snprintf(buf, n, "TIME(%s,%s)", u, lt->utc ? "true" : "false"); break;
    case PQ_LT_TIMESTAMP:
        snprintf(buf, n, "TIMESTAMP(%s,%s)", u, lt->utc ? "true" : "false");
        break;
    case PQ_LT_INTEGER:
        snprintf(buf, n, "INTEGER(%d,%s)", lt->bit_width, lt->is_signed ? "true" : "false");
        break;
    case PQ_LT_UNKNOWN: snprintf(buf, n, "UNKNOWN"); break;
    case PQ_LT_JSON: snprintf(buf, n, "JSON"); break;
    case PQ_LT_BSON: snprintf(buf, n, "BSON"); break;
    case PQ_LT_UUID: snprintf(buf, n, "UUID"); break;
    case PQ_LT_FLOAT16: snprintf(buf, n, "FLOAT16"); break;
    case PQ_LT_VARIANT: snprintf(buf, n, "VARIANT"); break;
    case PQ_LT_GEOMETRY: snprintf(buf, n, "GEOMETRY"); break;
    case PQ_LT_GEOGRAPHY: snprintf(buf, n, "GEOGRAPHY"); break;
    default:
        if (e->converted_type == PQ_CT_DECIMAL)
            snprintf(buf, n, "DECIMAL(%d,%d)", e->precision, e->scale);
        else
            snprintf(buf, n, "%s", pq_converted_type_name(e->converted_type));
    }
}
