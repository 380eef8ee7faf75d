/*
** fuzz_replay.c: run the fuzz targets of tests/fuzz/ without libFuzzer, and
** derive their seed corpus from the conformance files (zstd's regression
** driver, tests/fuzz/regression_driver.c, is the model).
**
** Built by the normal compiler into $(B)/tests/fuzz/test_fuzz_replay, so
** tests/run.sh runs it as a unit test of every build (plain and ASan+UBSan).
**
**   test_fuzz_replay                      seeds + regressions through every target
**   test_fuzz_replay TARGET PATH...       replay files (or directories of them)
**                                         through one target: file, meta,
**                                         codec, encoding
**   test_fuzz_replay --make-corpus DIR    write the seeds to DIR/<target>/
**                                         (scripts/fuzz.sh, into build-fuzz/)
**
** Seeds come from $BZ_SHARED/parquet-testing/{data,bad_data}/NAME.parquet(.encrypted)
** (BZ_SHARED defaults to ../shared), read at run time and never copied into
** the repository:
**   file      each file, plus damaged variants: truncations, a zeroed data
**             region under an intact footer, bytes flipped in the footer and
**             in the pages
**   meta      each footer; the page headers, column and offset indexes and
**             bloom filter headers it points to
**   codec     the compressed bodies of the first pages of every column chunk,
**             with their codec and uncompressed size
**   encoding  the decompressed value sections and levels of those pages,
**             with the selector of their encoding (see fuzz_encoding.c)
** Regressions (minimized crash inputs, committed) are in
** tests/fuzz/regressions/<target>/ (relative to $BZ_ROOT, default ".").
**
** Exit status 0 when every input ran; a bug shows up as a sanitizer report
** (ASan build) or a crash. Prints one summary line per target.
*/
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "codec/bz_codec.h"
#include "fuzz_common.h"
#include "parquet/pq_reader.h"

int fuzz_file_one(const uint8_t *data, size_t size);
int fuzz_meta_one(const uint8_t *data, size_t size);
int fuzz_codec_one(const uint8_t *data, size_t size);
int fuzz_encoding_one(const uint8_t *data, size_t size);

enum { T_FILE, T_META, T_CODEC, T_ENCODING, T_COUNT };
static const struct {
    const char *name;
    int (*one)(const uint8_t *, size_t);
} targets[T_COUNT] = {{"file", fuzz_file_one},
                      {"meta", fuzz_meta_one},
                      {"codec", fuzz_codec_one},
                      {"encoding", fuzz_encoding_one}};

#define MAX_PAGES_PER_CHUNK 3     /* pages per column chunk that become seeds */
#define MAX_SEED_BYTES (64 << 10) /* codec / encoding seeds larger than this are skipped */

/* ---- Where seeds go: run them, or write them to a directory ------------- */

typedef struct Sink {
    const char *dir;      /* --make-corpus: DIR; NULL: run in memory */
    long n[T_COUNT];      /* inputs per target */
    double secs[T_COUNT]; /* time per target */
    double slowest;       /* slowest single input */
    char slowest_name[2600];
    int failed; /* a file could not be written or read */
} Sink;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void emit(Sink *k, int t, const char *name, const uint8_t *p, size_t n) {
    k->n[t]++;
    if (k->dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/%s", k->dir, targets[t].name, name);
        FILE *fp = fopen(path, "wb");
        if (!fp || (n && fwrite(p, 1, n, fp) != n)) {
            fprintf(stderr, "cannot write %s\n", path);
            k->failed = 1;
        }
        if (fp) fclose(fp);
        return;
    }
    /* run from an exact-size heap copy, as libFuzzer does */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) abort();
    if (n) memcpy(copy, p, n);
    double t0 = now_s();
    targets[t].one(copy, n);
    double dt = now_s() - t0;
    free(copy);
    k->secs[t] += dt;
    if (dt > k->slowest) {
        k->slowest = dt;
        snprintf(k->slowest_name, sizeof k->slowest_name, "%s/%s", targets[t].name, name);
    }
}

/* emit() with a selector prefix of `nsel` bytes. */
static void emit_sel(Sink *k, int t, const char *name, const uint8_t *sel, size_t nsel,
                     const uint8_t *p, size_t n) {
    uint8_t *b = malloc(nsel + n + 1);
    if (!b) abort();
    memcpy(b, sel, nsel);
    if (n) memcpy(b + nsel, p, n);
    emit(k, t, name, b, nsel + n);
    free(b);
}

/* ---- Reading files and directories -------------------------------------- */

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    uint8_t *p = NULL;
    long len;
    if (!fp) return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
        p = malloc((size_t)len + 1);
        if (p && fread(p, 1, (size_t)len, fp) != (size_t)len) {
            free(p);
            p = NULL;
        }
        *n = (size_t)len;
    }
    fclose(fp);
    return p;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular files in dir (hidden ones skipped); NULL-terminated,
** free with free_names. NULL if dir cannot be opened. */
static char **list_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t n = 0, cap = 0;
    if (!d) return NULL;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        struct stat st;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (n + 2 > cap) {
            cap = cap * 2 + 16;
            v = realloc(v, cap * sizeof *v);
            if (!v) abort();
        }
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (!v) v = calloc(1, sizeof *v);
    if (!v) abort();
    v[n] = NULL;
    qsort(v, n, sizeof *v, cmp_str);
    return v;
}

static void free_names(char **v) {
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* ---- Seeds from one Parquet file ---------------------------------------- */

static int bits_for(int max_level) {
    int b = 0;
    while (max_level >> b)
        b++;
    return b;
}

/* Selector of fuzz_encoding.c for a value section, or -1. */
static int encoding_selector(int enc, int type) {
    switch (enc) {
    case PQ_ENC_PLAIN:
        return type == PQ_BYTE_ARRAY ? 4 : type == PQ_BOOLEAN ? 3 : 9;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        return 0;
    case PQ_ENC_RLE:
        return 0;
    case PQ_ENC_DELTA_BINARY_PACKED:
        return type == PQ_INT32 ? 5 : 6;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        return 7;
    case PQ_ENC_DELTA_BYTE_ARRAY:
        return 8;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        return 9;
    }
    return -1;
}

static int value_width(const PqLeaf *l) {
    switch (l->type) {
    case PQ_INT32:
    case PQ_FLOAT:
        return 4;
    case PQ_INT64:
    case PQ_DOUBLE:
        return 8;
    case PQ_INT96:
        return 12;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        return l->type_length > 0 ? l->type_length : 1;
    }
    return 1;
}

/* Seeds of the pages of one column chunk: headers, compressed bodies, value
** sections and levels. */
static void seed_pages(Sink *k, const char *base, const uint8_t *file, size_t size, const PqFile *f,
                       int g, int leaf) {
    const PqColumnChunk *cc = &f->meta->row_groups[g].columns[leaf];
    const PqColumnMeta *m = &cc->meta;
    const PqLeaf *l = &f->leaves[leaf];
    char name[600];
    uint64_t pos;
    if (!cc->has_meta || cc->encrypted) return;
    pos = (uint64_t)m->data_page_offset;
    if (m->dictionary_page_offset > 0 && (uint64_t)m->dictionary_page_offset < pos)
        pos = (uint64_t)m->dictionary_page_offset;
    for (int pg = 0; pg < MAX_PAGES_PER_CHUNK && pos < size; pg++) {
        PqPageHeader h;
        size_t used = 0;
        BzErr err = {0};
        const uint8_t sel_hdr = 1;
        if (pq_page_header_parse(file + pos, size - pos, &h, &used, &err) != BZ_OK) return;
        snprintf(name, sizeof name, "%s.rg%d.c%d.p%d", base, g, leaf, pg);
        emit_sel(k, T_META, name, &sel_hdr, 1, file + pos, used);
        const uint8_t *body = file + pos + used;
        if (h.compressed_size < 0 || h.uncompressed_size < 0 ||
            (uint64_t)h.compressed_size > size - pos - used)
            return;
        pos += used + (uint64_t)h.compressed_size;
        if (h.compressed_size > MAX_SEED_BYTES || h.uncompressed_size > MAX_SEED_BYTES) continue;
        /* v2: levels are stored uncompressed in front of the (maybe) compressed values */
        size_t lv = 0;
        if (h.type == PQ_PAGE_DATA_V2) {
            if (h.def_len < 0 || h.rep_len < 0 ||
                (int64_t)h.def_len + h.rep_len > (int64_t)h.compressed_size ||
                (int64_t)h.def_len + h.rep_len > (int64_t)h.uncompressed_size)
                continue;
            lv = (size_t)h.def_len + (size_t)h.rep_len;
        }
        size_t clen = (size_t)h.compressed_size - lv, ulen = (size_t)h.uncompressed_size - lv;
        int codec = (h.type == PQ_PAGE_DATA_V2 && !h.is_compressed) ? 0 : m->codec;
        uint8_t csel[5] = {(uint8_t)codec, (uint8_t)ulen, (uint8_t)(ulen >> 8),
                           (uint8_t)(ulen >> 16), (uint8_t)(ulen >> 24)};
        if (codec != BZ_CODEC_UNCOMPRESSED || pg == 0)
            emit_sel(k, T_CODEC, name, csel, 5, body + lv, clen);
        uint8_t *page = malloc(ulen + 1);
        if (!page) abort();
        if (bz_decompress(codec, body + lv, clen, page, ulen, &err) != BZ_OK) {
            free(page);
            continue;
        }
        /* locate levels and values */
        const uint8_t *vals = page;
        size_t vn = ulen;
        const uint8_t *def = NULL;
        size_t defn = 0;
        int enc = h.encoding;
        if (h.type == PQ_PAGE_DATA_V2) {
            def = body + h.rep_len;
            defn = (size_t)h.def_len;
        } else if (h.type == PQ_PAGE_DATA) {
            for (int lvl = 0; lvl < 2; lvl++) {
                int maxl = lvl == 0 ? l->max_rep : l->max_def;
                if (maxl == 0) continue;
                if (vn < 4 || fuzz_le32(vals) > vn - 4) goto next;
                size_t ln = fuzz_le32(vals);
                if (lvl == 1) {
                    def = vals + 4;
                    defn = ln;
                }
                vals += 4 + ln;
                vn -= 4 + ln;
            }
        } else if (h.type == PQ_PAGE_DICTIONARY) {
            enc = PQ_ENC_PLAIN;
        } else {
            goto next;
        }
        if (def && l->max_def > 0) {
            uint8_t sel[3] = {1, (uint8_t)bits_for(l->max_def), (uint8_t)pg};
            snprintf(name, sizeof name, "%s.rg%d.c%d.p%d.def", base, g, leaf, pg);
            emit_sel(k, T_ENCODING, name, sel, 3, def, defn);
        }
        int s = encoding_selector(enc, l->type);
        if (s >= 0 && !(s == 9 && enc == PQ_ENC_PLAIN && h.type != PQ_PAGE_DICTIONARY && pg > 0)) {
            uint8_t sel[3] = {(uint8_t)s, 0, (uint8_t)(g * 7 + pg)};
            snprintf(name, sizeof name, "%s.rg%d.c%d.p%d.val", base, g, leaf, pg);
            if (s == 9) sel[1] = (uint8_t)(value_width(l) - 1);
            if (s == 0 && l->type == PQ_BOOLEAN && enc == PQ_ENC_RLE && vn >= 4) {
                sel[1] = 1; /* RLE booleans: 4-byte length, bit width 1 */
                emit_sel(k, T_ENCODING, name, sel, 3, vals + 4, vn - 4);
            } else if (s == 0 && vn >= 1) {
                sel[1] = vals[0]; /* dictionary indices: the bit width byte */
                emit_sel(k, T_ENCODING, name, sel, 3, vals + 1, vn - 1);
            } else if (s != 0) {
                emit_sel(k, T_ENCODING, name, sel, 3, vals, vn);
            }
        }
    next:
        free(page);
    }
}

/* Seeds of one Parquet file (any bytes: a file that does not open still
** gives its whole-file seeds). */
static void seed_file(Sink *k, const char *base, const uint8_t *p, size_t n) {
    char name[600];
    PqFile *f = NULL;
    BzErr err = {0};
    uint8_t *v;
    emit(k, T_FILE, base, p, n);
    /* truncations: a few sizes around the footer and in the middle */
    static const size_t cut_from_end[] = {1, 4, 8, 9, 100};
    for (size_t i = 0; i < BZ_ARRAY_LEN(cut_from_end); i++) {
        if (cut_from_end[i] >= n) continue;
        snprintf(name, sizeof name, "%s.cut%zu", base, cut_from_end[i]);
        emit(k, T_FILE, name, p, n - cut_from_end[i]);
    }
    if (n > 24) {
        snprintf(name, sizeof name, "%s.half", base);
        emit(k, T_FILE, name, p, n / 2);
    }
    if (n < 12 || memcmp(p + n - 4, "PAR1", 4) != 0) return;
    size_t flen = fuzz_le32(p + n - 8);
    if (flen > n - 12) return;
    size_t fstart = n - 8 - flen;
    {
        const uint8_t sel = 0;
        snprintf(name, sizeof name, "%s.footer", base);
        emit_sel(k, T_META, name, &sel, 1, p + fstart, flen);
    }
    v = malloc(n);
    if (!v) abort();
    /* the data region zeroed under an intact footer */
    memcpy(v, p, n);
    if (fstart > 8) memset(v + 4, 0, fstart - 4);
    snprintf(name, sizeof name, "%s.zeroed", base);
    emit(k, T_FILE, name, v, n);
    /* bytes flipped in the pages (every 97th) and in the footer (every 31st) */
    memcpy(v, p, n);
    for (size_t i = 4 + 13; i < fstart; i += 97)
        v[i] ^= 0x5a;
    snprintf(name, sizeof name, "%s.flip-pages", base);
    emit(k, T_FILE, name, v, n);
    memcpy(v, p, n);
    for (size_t i = fstart + 3; i < n - 8; i += 31)
        v[i] ^= 0xff;
    snprintf(name, sizeof name, "%s.flip-footer", base);
    emit(k, T_FILE, name, v, n);
    free(v);
    /* what the footer points to */
    BzReadAt *src = fuzz_mem_open(p, n, base);
    if (!src || pq_file_open(src, NULL, &f, &err) != BZ_OK) return;
    for (int g = 0; g < f->meta->n_row_groups && g < 4; g++) {
        for (int c = 0; c < f->n_leaves && c < 64; c++) {
            const PqColumnChunk *cc = &f->meta->row_groups[g].columns[c];
            uint8_t sel;
            if (cc->column_index_offset >= 0 && cc->column_index_length > 0 &&
                (uint64_t)cc->column_index_offset + (uint64_t)cc->column_index_length <= n) {
                sel = 2;
                snprintf(name, sizeof name, "%s.rg%d.c%d.colidx", base, g, c);
                emit_sel(k, T_META, name, &sel, 1, p + cc->column_index_offset,
                         (size_t)cc->column_index_length);
            }
            if (cc->offset_index_offset >= 0 && cc->offset_index_length > 0 &&
                (uint64_t)cc->offset_index_offset + (uint64_t)cc->offset_index_length <= n) {
                sel = 3;
                snprintf(name, sizeof name, "%s.rg%d.c%d.offidx", base, g, c);
                emit_sel(k, T_META, name, &sel, 1, p + cc->offset_index_offset,
                         (size_t)cc->offset_index_length);
            }
            if (cc->has_meta && cc->meta.bloom_filter_offset > 0 &&
                (uint64_t)cc->meta.bloom_filter_offset < n) {
                size_t bl = BZ_MIN((size_t)64, n - (size_t)cc->meta.bloom_filter_offset);
                sel = 4;
                snprintf(name, sizeof name, "%s.rg%d.c%d.bloom", base, g, c);
                emit_sel(k, T_META, name, &sel, 1, p + cc->meta.bloom_filter_offset, bl);
            }
            seed_pages(k, base, p, n, f, g, c);
        }
    }
    pq_file_close(f);
}

/* Hand-made seeds that the corpus files do not cover. */
static void seed_extra(Sink *k) {
    /* codecs on empty and tiny streams, LZO (unsupported), an unknown id */
    static const uint8_t c0[] = {3, 4, 0, 0, 0, 'a', 'b', 'c', 'd'};
    static const uint8_t c1[] = {1, 0, 0, 0, 0};
    static const uint8_t c2[] = {7, 10, 0, 0, 0, 0x90, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0};
    /* encodings: RLE run of 2^32-1 values, bit width 33, a BSS of width 17 */
    static const uint8_t e0[] = {0, 1, 7, 0xfe, 0xff, 0xff, 0xff, 0x1f, 1};
    static const uint8_t e1[] = {0, 33, 0, 0x03, 0xff};
    static const uint8_t e2[] = {9, 16, 1,  1,  2,  3,  4,  5,  6,  7,
                                 8, 9,  10, 11, 12, 13, 14, 15, 16, 17};
    emit(k, T_CODEC, "extra-lzo", c0, sizeof c0);
    emit(k, T_CODEC, "extra-snappy-empty", c1, sizeof c1);
    emit(k, T_CODEC, "extra-lz4raw", c2, sizeof c2);
    emit(k, T_ENCODING, "extra-rle-huge-run", e0, sizeof e0);
    emit(k, T_ENCODING, "extra-rle-width33", e1, sizeof e1);
    emit(k, T_ENCODING, "extra-bss-17", e2, sizeof e2);
}

static void seed_all(Sink *k, const char *shared) {
    static const char *dirs[] = {"data", "bad_data"};
    for (size_t d = 0; d < BZ_ARRAY_LEN(dirs); d++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/parquet-testing/%s", shared, dirs[d]);
        char **names = list_dir(dir);
        if (!names) {
            fprintf(stderr, "cannot read %s (set BZ_SHARED)\n", dir);
            k->failed = 1;
            continue;
        }
        for (size_t i = 0; names[i]; i++) {
            char path[2048], base[256];
            size_t n;
            if (!strstr(names[i], ".parquet")) continue;
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            uint8_t *p = read_all(path, &n);
            if (!p) {
                fprintf(stderr, "cannot read %s\n", path);
                k->failed = 1;
                continue;
            }
            snprintf(base, sizeof base, "%s%s", d ? "bad-" : "", names[i]);
            seed_file(k, base, p, n);
            free(p);
        }
        free_names(names);
    }
    seed_extra(k);
}

/* Replay every file of dir (or dir itself, if it is a file) through target t. */
static void replay_path(Sink *k, int t, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        k->failed = 1;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        char **names = list_dir(path);
        for (size_t i = 0; names && names[i]; i++) {
            char sub[2048];
            snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
            replay_path(k, t, sub);
        }
        free_names(names);
        return;
    }
    size_t n;
    uint8_t *p = read_all(path, &n);
    if (!p) {
        fprintf(stderr, "cannot read %s\n", path);
        k->failed = 1;
        return;
    }
    emit(k, t, path, p, n);
    free(p);
}

static void summary(const Sink *k, const char *what) {
    for (int t = 0; t < T_COUNT; t++)
        if (k->n[t])
            printf("%-9s %-12s %6ld inputs %8.2fs\n", targets[t].name, what, k->n[t], k->secs[t]);
    if (k->slowest > 0) printf("slowest input: %s (%.2fs)\n", k->slowest_name, k->slowest);
}

int main(int argc, char **argv) {
    const char *shared = getenv("BZ_SHARED");
    const char *root = getenv("BZ_ROOT");
    Sink k;
    memset(&k, 0, sizeof k);
    if (!shared) shared = "../shared";
    if (!root) root = ".";
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc == 3 && strcmp(argv[1], "--make-corpus") == 0) {
        char dir[1024];
        mkdir(argv[2], 0777);
        for (int t = 0; t < T_COUNT; t++) {
            snprintf(dir, sizeof dir, "%s/%s", argv[2], targets[t].name);
            mkdir(dir, 0777);
        }
        k.dir = argv[2];
        seed_all(&k, shared);
        for (int t = 0; t < T_COUNT; t++)
            printf("%s/%s: %ld seeds\n", argv[2], targets[t].name, k.n[t]);
        return k.failed;
    }
    if (argc >= 3) {
        int t;
        for (t = 0; t < T_COUNT && strcmp(argv[1], targets[t].name) != 0; t++) {
        }
        if (t == T_COUNT) {
            fprintf(stderr, "unknown target %s (file, meta, codec, encoding)\n", argv[1]);
            return 2;
        }
        for (int i = 2; i < argc; i++)
            replay_path(&k, t, argv[i]);
        summary(&k, "replayed");
        return k.failed;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--make-corpus DIR | TARGET PATH...]\n", argv[0]);
        return 2;
    }
    seed_all(&k, shared);
    summary(&k, "seeds");
    Sink r;
    memset(&r, 0, sizeof r);
    for (int t = 0; t < T_COUNT; t++) {
        char dir[1024];
        struct stat st;
        snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/%s", root, targets[t].name);
        if (stat(dir, &st) == 0) replay_path(&r, t, dir);
    }
    summary(&r, "regressions");
    return k.failed || r.failed;
}
