/*
** fuzz_meta.c: libFuzzer target over the Thrift compact decoders of
** src/parquet/pq_meta.c.
**
** Input: one selector byte, then the bytes to parse.
**   selector % 5 == 0   pq_meta_parse         (FileMetaData, a footer)
**                    1   pq_page_header_parse (PageHeader; then again on every
**                                              shorter prefix that must say BZ_DONE
**                                              or fail, never read further)
**                    2   pq_column_index_parse
**                    3   pq_offset_index_parse
**                    4   pq_bloom_header_parse
** Parsed results are walked (names, schema strings, statistics) so a bad
** pointer or length inside them is touched.
**
**   make build-fuzz/fuzz_meta && build-fuzz/fuzz_meta build-fuzz/corpus/meta
*/
#include "fuzz_common.h"

#include <stdlib.h>

#include "parquet/pq_meta.h"

static volatile uint8_t fuzz_sink;
static void touch(const void *p, size_t n) {
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= ((const uint8_t *)p)[i];
    fuzz_sink ^= x;
}
static void touch_bin(PqBin b) {
    if (b.p) touch(b.p, b.n);
}
static void touch_z(const char *z) {
    if (z) touch(z, strlen(z));
}

static void walk_meta(const PqFileMeta *m) {
    char buf[128];
    for (int i = 0; i < m->n_schema; i++) {
        touch_z(m->schema[i].name);
        pq_logical_type_str(&m->schema[i], buf, sizeof buf);
        touch_z(pq_type_name(m->schema[i].type));
        touch_z(pq_repetition_name(m->schema[i].repetition));
        touch_z(pq_converted_type_name(m->schema[i].converted_type));
    }
    for (int g = 0; g < m->n_row_groups; g++) {
        const PqRowGroup *rg = &m->row_groups[g];
        for (int c = 0; c < rg->n_columns; c++) {
            const PqColumnChunk *cc = &rg->columns[c];
            touch_z(cc->file_path);
            if (!cc->has_meta) continue;
            for (int e = 0; e < cc->meta.n_encodings; e++)
                touch_z(pq_encoding_name(cc->meta.encodings[e]));
            for (int p = 0; p < cc->meta.n_path; p++)
                touch_z(cc->meta.path[p]);
            for (int p = 0; p < cc->meta.n_encoding_stats; p++)
                touch(&cc->meta.encoding_stats[p], sizeof cc->meta.encoding_stats[p]);
            touch_bin(cc->meta.stats.min);
            touch_bin(cc->meta.stats.max);
            touch_bin(cc->meta.stats.min_value);
            touch_bin(cc->meta.stats.max_value);
        }
    }
    for (int i = 0; i < m->n_kv; i++) {
        touch_z(m->kv[i].key);
        touch_z(m->kv[i].value);
    }
    touch_z(m->created_by);
    if (m->column_orders) touch(m->column_orders, (size_t)m->n_column_orders * sizeof(int));
}

FUZZ_TARGET(meta) {
    BzErr err = {0};
    if (size < 1) return 0;
    int sel = data[0] % 5;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    /* Parse from a copy of exactly n bytes so ASan catches any read past it. */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) return 0;
    memcpy(copy, p, n);
    switch (sel) {
    case 0: {
        PqFileMeta *m = NULL;
        if (pq_meta_parse(copy, n, &m, &err) == BZ_OK) {
            walk_meta(m);
            pq_meta_free(m);
        }
        break;
    }
    case 1: {
        PqPageHeader h;
        size_t used = 0;
        int rc = pq_page_header_parse(copy, n, &h, &used, &err);
        if (rc == BZ_OK) {
            if (used == 0 || used > n) abort(); /* contract: 0 < consumed <= n */
            touch_bin(h.stats.min);
            touch_bin(h.stats.max);
            touch_bin(h.stats.min_value);
            touch_bin(h.stats.max_value);
            /* every shorter prefix is incomplete (BZ_DONE) or an error */
            for (size_t k = 0; k < used; k += 1 + used / 16) {
                size_t u2 = 7;
                uint8_t *pre = malloc(k ? k : 1);
                if (!pre) break;
                memcpy(pre, copy, k);
                int rc2 = pq_page_header_parse(pre, k, &h, &u2, &err);
                free(pre);
                if ((rc2 == BZ_OK && (u2 == 0 || u2 > k)) || (rc2 == BZ_DONE && u2 != 0)) abort();
            }
        } else if (rc == BZ_DONE && used != 0) {
            abort();
        }
        break;
    }
    case 2: {
        PqColumnIndex *ci = NULL;
        if (pq_column_index_parse(copy, n, &ci, &err) == BZ_OK) {
            for (int i = 0; i < ci->n_pages; i++) {
                touch(&ci->null_pages[i], 1);
                touch_bin(ci->min_values[i]);
                touch_bin(ci->max_values[i]);
                if (ci->null_counts) touch(&ci->null_counts[i], sizeof(int64_t));
            }
            pq_column_index_free(ci);
        }
        break;
    }
    case 3: {
        PqOffsetIndex *oi = NULL;
        if (pq_offset_index_parse(copy, n, &oi, &err) == BZ_OK) {
            touch(oi->pages, (size_t)oi->n_pages * sizeof *oi->pages);
            pq_offset_index_free(oi);
        }
        break;
    }
    default: {
        int32_t nb;
        size_t used;
        (void)pq_bloom_header_parse(copy, n, &nb, &used, &err);
        break;
    }
    }
    free(copy);
    return 0;
}
