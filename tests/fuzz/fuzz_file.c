/*
** fuzz_file.c: libFuzzer target over a whole Parquet file.
**
** The input is the file. It goes through an in-memory BzReadAt into
** pq_file_open (footer: magic, length, Thrift FileMetaData, schema tree),
** then every field of every row group is scanned with pq_scan_next /
** pq_scan_value (page headers, codecs, level and value decoders, dictionary
** lookups, nested assembly), at most FUZZ_MAX_ROWS rows. Footer statistics
** and bloom filters are exercised too, as parquet_metadata and row-group
** pruning use them. Size limits are the reader's own (PQ_MAX_PAGE_SIZE ...).
**
** A few bits of the input size vary the options (binary_as_string,
** decimal_as_text, OFFSET/LIMIT, projecting every other field), so the
** mutator reaches those paths without a header that would stop seeds from
** being plain Parquet files.
**
**   make build-fuzz/fuzz_file && build-fuzz/fuzz_file build-fuzz/corpus/file
*/
#include "fuzz_common.h"

#include "parquet/pq_prune.h"
#include "parquet/pq_reader.h"

#define FUZZ_MAX_ROWS 100000

#ifdef FUZZ_DEBUG /* print what each input did: make ... CPPFLAGS+=-DFUZZ_DEBUG */
#include <stdio.h>
#define DEBUG_OUT(...) fprintf(stderr, __VA_ARGS__)
#else
#define DEBUG_OUT(...) ((void)0)
#endif

/* Touch every byte of a value so ASan sees a bad pointer or length. */
static volatile uint8_t fuzz_sink;
static void consume(const PqValue *v) {
    uint8_t x = 0;
    if (v->type == PV_TEXT || v->type == PV_BLOB)
        for (size_t i = 0; i < v->n; i++)
            x ^= (uint8_t)v->p[i];
    fuzz_sink ^= x;
}

/* Statistics rendering and pruning (with bloom filters) of every row group. */
static void check_footer_paths(PqFile *f) {
    char bmin[256], bmax[256];
    PqValue mn, mx;
    PqPred pred[2];
    for (int g = 0; g < f->meta->n_row_groups && g < 64; g++) {
        for (int k = 0; k < f->n_leaves && k < 64; k++) {
            if (pq_chunk_minmax(f, g, k, &mn, &mx, bmin, bmax)) {
                consume(&mn);
                consume(&mx);
            }
        }
        for (int fi = 0; fi < f->n_fields && fi < 16; fi++) {
            memset(pred, 0, sizeof pred);
            pred[0].field = fi;
            pred[0].op = PQ_OP_EQ;
            pred[0].val.type = PV_INT;
            pred[0].val.i = 1;
            pred[1].field = fi;
            pred[1].op = PQ_OP_GE;
            pred[1].val.type = PV_TEXT;
            pred[1].val.p = "m";
            pred[1].val.n = 1;
            (void)pq_rowgroup_may_match(f, g, pred, 2, 1);
        }
    }
}

FUZZ_TARGET(file) {
    BzErr err = {0};
    PqFile *f = NULL;
    PqScan *s = NULL;
    PqOpenOpts oo = {0};
    PqScanOpts so = {0};
    PqValue v;
    uint8_t *want = NULL;
    int rc, rows = 0;
    BzReadAt *src = fuzz_mem_open(data, size, "fuzz.parquet");
    if (!src) return 0;
    oo.binary_as_string = size & 1;
    oo.decimal_as_text = (size >> 1) & 1;
    if (pq_file_open(src, &oo, &f, &err)) {
        DEBUG_OUT("open: %s\n", err.msg);
        return 0;
    }
    check_footer_paths(f);
    so.limit = -1;
    if ((size >> 2) & 1) {
        so.offset = 3;
        so.limit = 1000;
    }
    if ((size >> 3) & 1) {
        want = bz_calloc((size_t)f->n_fields + 1, 1);
        if (!want) goto done;
        for (int i = 0; i < f->n_fields; i += 2)
            want[i] = 1;
        so.want = want;
    }
    if (pq_scan_open(f, &so, &s, &err)) goto done;
    while (rows++ < FUZZ_MAX_ROWS && (rc = pq_scan_next(s, &err)) == BZ_OK) {
        (void)pq_scan_rowid(s);
        for (int i = 0; i < f->n_fields; i++) {
            if (want && !want[i]) continue;
            if (pq_scan_value(s, i, &v, &err)) goto done;
            consume(&v);
            (void)pq_field_decltype(f, i);
        }
    }
done:
    DEBUG_OUT("%d rows%s%s\n", rows - 1, err.code ? ": " : "", err.code ? err.msg : "");
    pq_scan_close(s);
    bz_free(want);
    pq_file_close(f);
    return 0;
}
