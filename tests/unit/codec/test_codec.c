/*
** Unit tests for src/codec: every codec round-trips random and repetitive data
** compressed here with the codec's own library; concatenated gzip members and
** zstd frames; the three shapes of LZ4 (codec 5); sizes that lie both ways;
** truncated and garbage input; a decompression bomb; LZO and unknown ids;
** bz_zstd_compress into a capped BzBuf.
**
** Every decompression goes into a heap buffer of exactly dst_len bytes with a
** canary after it, so an overrun fails here as well as under ASan.
*/
#include "bz_test.h"
#include "codec/bz_codec.h"

#include <stdlib.h>

#include <brotli/encode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#define CANARY 16

/* ---- Data ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint8_t *make_random(size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng();
    return p;
}

static uint8_t *make_text(size_t n) {
    static const char z[] = "row,12345,hello parquet,3.25,true\n";
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)z[i % (sizeof z - 1)];
    return p;
}

/* A compressed blob the test owns (free with free()). */
typedef struct Blob {
    uint8_t *p;
    size_t n;
} Blob;

static void blob_append(Blob *b, const void *p, size_t n) {
    b->p = realloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* ---- Compressors (one per codec, each with the codec's own library) --------- */

static Blob c_snappy(const uint8_t *p, size_t n) {
    Blob b = {malloc(snappy_max_compressed_length(n)), snappy_max_compressed_length(n)};
    CHECK(snappy_compress((const char *)p, n, (char *)b.p, &b.n) == SNAPPY_OK);
    return b;
}

/* windowBits 15 + 16 writes a gzip member; 15 alone a zlib stream. */
static Blob c_deflate(const uint8_t *p, size_t n, int wbits) {
    z_stream z;
    Blob b;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    b.n = deflateBound(&z, n);
    b.p = malloc(b.n);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = b.p;
    z.avail_out = (uInt)b.n;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    b.n = z.total_out;
    deflateEnd(&z);
    return b;
}

static Blob c_gzip(const uint8_t *p, size_t n) {
    return c_deflate(p, n, 15 + 16);
}

static Blob c_brotli(const uint8_t *p, size_t n) {
    Blob b;
    b.n = BrotliEncoderMaxCompressedSize(n);
    b.p = malloc(b.n);
    CHECK(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, n, p, &b.n, b.p));
    return b;
}

static Blob c_lz4_raw(const uint8_t *p, size_t n) {
    Blob b;
    b.p = malloc((size_t)LZ4_compressBound((int)n));
    b.n = (size_t)LZ4_compress_default((const char *)p, (char *)b.p, (int)n,
                                       LZ4_compressBound((int)n));
    CHECK(b.n > 0);
    return b;
}

static void put_be32(uint8_t *d, uint32_t v) {
    d[0] = (uint8_t)(v >> 24);
    d[1] = (uint8_t)(v >> 16);
    d[2] = (uint8_t)(v >> 8);
    d[3] = (uint8_t)v;
}

/* Hadoop framing: [BE32 raw size][BE32 compressed size][block] per `block` bytes. */
static Blob c_lz4_hadoop(const uint8_t *p, size_t n, size_t block) {
    Blob b = {NULL, 0};
    size_t off = 0;
    do {
        size_t len = BZ_MIN(block, n - off);
        Blob raw = c_lz4_raw(p + off, len);
        uint8_t hdr[8];
        put_be32(hdr, (uint32_t)len);
        put_be32(hdr + 4, (uint32_t)raw.n);
        blob_append(&b, hdr, 8);
        blob_append(&b, raw.p, raw.n);
        free(raw.p);
        off += len;
    } while (off < n);
    return b;
}

static Blob c_lz4_hadoop1(const uint8_t *p, size_t n) {
    return c_lz4_hadoop(p, n, n ? n : 1);
}

static Blob c_lz4_frame(const uint8_t *p, size_t n) {
    Blob b;
    b.n = LZ4F_compressFrameBound(n, NULL);
    b.p = malloc(b.n);
    b.n = LZ4F_compressFrame(b.p, b.n, p, n, NULL);
    CHECK(!LZ4F_isError(b.n));
    return b;
}

static Blob c_zstd(const uint8_t *p, size_t n) {
    Blob b;
    b.n = ZSTD_compressBound(n);
    b.p = malloc(b.n);
    b.n = ZSTD_compress(b.p, b.n, p, n, 3);
    CHECK(!ZSTD_isError(b.n));
    return b;
}

/* A zstd frame whose header omits the content size (as streaming writers do). */
static Blob c_zstd_nosize(const uint8_t *p, size_t n) {
    ZSTD_CCtx *c = ZSTD_createCCtx();
    Blob b;
    b.n = ZSTD_compressBound(n);
    b.p = malloc(b.n);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    b.n = ZSTD_compress2(c, b.p, b.n, p, n);
    CHECK(!ZSTD_isError(b.n));
    ZSTD_freeCCtx(c);
    return b;
}

static Blob c_plain(const uint8_t *p, size_t n) {
    Blob b = {malloc(n ? n : 1), n};
    if (n) memcpy(b.p, p, n);
    return b;
}

typedef struct Case {
    int codec;
    const char *zName; /* for failure messages */
    Blob (*compress)(const uint8_t *, size_t);
} Case;

static const Case aCase[] = {
    {BZ_CODEC_UNCOMPRESSED, "plain", c_plain},
    {BZ_CODEC_SNAPPY, "snappy", c_snappy},
    {BZ_CODEC_GZIP, "gzip", c_gzip},
    {BZ_CODEC_BROTLI, "brotli", c_brotli},
    {BZ_CODEC_LZ4, "lz4 hadoop", c_lz4_hadoop1},
    {BZ_CODEC_LZ4, "lz4 frame", c_lz4_frame},
    {BZ_CODEC_LZ4, "lz4 raw block", c_lz4_raw},
    {BZ_CODEC_ZSTD, "zstd", c_zstd},
    {BZ_CODEC_ZSTD, "zstd no size", c_zstd_nosize},
    {BZ_CODEC_LZ4_RAW, "lz4_raw", c_lz4_raw},
};

/* ---- Decompression harness ------------------------------------------------- */

/* Decompress into exactly dst_len bytes followed by a canary; check the canary
** and, on success, compare with `want` (may be NULL). Returns the status. */
static int run(const char *zName, int codec, const uint8_t *src, size_t n, size_t dst_len,
               const uint8_t *want, BzErr *err) {
    uint8_t *dst = malloc(dst_len + CANARY);
    int rc, i;
    memset(dst, 0xA5, dst_len + CANARY);
    bz_err_clear(err);
    rc = bz_decompress(codec, src, n, dst, dst_len, err);
    for (i = 0; i < CANARY; i++) {
        if (dst[dst_len + i] != 0xA5) {
            fprintf(stderr, "%s: wrote past dst_len %zu\n", zName, dst_len);
            CHECK(0);
            break;
        }
    }
    if (rc == BZ_OK && want && dst_len && memcmp(dst, want, dst_len) != 0) {
        fprintf(stderr, "%s: output differs (%zu bytes)\n", zName, dst_len);
        CHECK(0);
    }
    if (rc != BZ_OK) CHECK_EQ_INT(err->code, rc);
    free(dst);
    return rc;
}

static void expect(int got, int want, const char *zName, const char *zWhat, const BzErr *err) {
    if (got != want)
        fprintf(stderr, "%s, %s: status %d, expected %d (%s)\n", zName, zWhat, got, want, err->msg);
    CHECK_EQ_INT(got, want);
}

/* ---- Tests ----------------------------------------------------------------- */

static void test_round_trips(void) {
    static const size_t aSize[] = {0, 1, 37, 1000, 70000, 300000};
    BzErr err;
    for (size_t c = 0; c < BZ_ARRAY_LEN(aCase); c++) {
        for (size_t s = 0; s < BZ_ARRAY_LEN(aSize); s++) {
            for (int kind = 0; kind < 2; kind++) {
                size_t n = aSize[s];
                uint8_t *data = kind ? make_text(n) : make_random(n);
                Blob b = aCase[c].compress(data, n);
                int rc = run(aCase[c].zName, aCase[c].codec, b.p, b.n, n, data, &err);
                expect(rc, BZ_OK, aCase[c].zName, kind ? "text round trip" : "random round trip",
                       &err);
                free(b.p);
                free(data);
            }
        }
    }
}

/* The page header claims more, or less, than the stream holds; both fail
** without writing past dst_len. */
static void test_size_mismatch(void) {
    BzErr err;
    for (size_t c = 0; c < BZ_ARRAY_LEN(aCase); c++) {
        for (int kind = 0; kind < 2; kind++) {
            size_t n = 5000;
            uint8_t *data = kind ? make_text(n) : make_random(n);
            Blob b = aCase[c].compress(data, n);
            expect(run(aCase[c].zName, aCase[c].codec, b.p, b.n, n + 20, NULL, &err), BZ_CORRUPT,
                   aCase[c].zName, "claims more", &err);
            expect(run(aCase[c].zName, aCase[c].codec, b.p, b.n, n - 20, NULL, &err), BZ_CORRUPT,
                   aCase[c].zName, "claims less", &err);
            expect(run(aCase[c].zName, aCase[c].codec, b.p, b.n, 0, NULL, &err), BZ_CORRUPT,
                   aCase[c].zName, "claims zero", &err);
            free(b.p);
            free(data);
        }
    }
}

static void test_messages(void) {
    BzErr err;
    uint8_t *data = make_text(100);
    Blob b = c_snappy(data, 100);
    run("snappy", BZ_CODEC_SNAPPY, b.p, b.n, 120, NULL, &err);
    CHECK_EQ_STR(err.msg, "snappy: decompressed 100 bytes, page header says 120");
    free(b.p);

    b = c_gzip(data, 100);
    run("gzip", BZ_CODEC_GZIP, b.p, b.n, 120, NULL, &err);
    CHECK_EQ_STR(err.msg, "gzip: decompressed 100 bytes, page header says 120");
    run("gzip", BZ_CODEC_GZIP, b.p, b.n, 80, NULL, &err);
    CHECK_EQ_STR(err.msg, "gzip: decompressed more than 80 bytes, page header says 80");
    free(b.p);

    b = c_zstd(data, 100);
    run("zstd", BZ_CODEC_ZSTD, b.p, b.n, 80, NULL, &err);
    CHECK_EQ_STR(err.msg, "zstd: decompressed more than 80 bytes, page header says 80");
    free(b.p);

    b = c_brotli(data, 100);
    run("brotli", BZ_CODEC_BROTLI, b.p, b.n, 120, NULL, &err);
    CHECK_EQ_STR(err.msg, "brotli: decompressed 100 bytes, page header says 120");
    free(b.p);

    run("plain", BZ_CODEC_UNCOMPRESSED, data, 100, 120, NULL, &err);
    CHECK_EQ_STR(err.msg, "uncompressed page has 100 bytes, page header says 120");
    run("plain", BZ_CODEC_UNCOMPRESSED, data, 0, 120, NULL, &err);
    CHECK_EQ_STR(err.msg, "uncompressed page has 0 bytes, page header says 120");
    run("empty", BZ_CODEC_ZSTD, data, 0, 120, NULL, &err);
    CHECK_EQ_STR(err.msg, "zstd: decompressed 0 bytes, page header says 120");
    free(data);
}

/* Cut the stream short at several points: never BZ_OK. */
static void test_truncated(void) {
    BzErr err;
    for (size_t c = 1; c < BZ_ARRAY_LEN(aCase); c++) { /* not UNCOMPRESSED */
        size_t n = 20000;
        uint8_t *data = make_text(n);
        Blob b = aCase[c].compress(data, n);
        size_t aCut[] = {1, 4, 9, b.n / 2, b.n - 1};
        for (size_t k = 0; k < BZ_ARRAY_LEN(aCut); k++) {
            int rc = run(aCase[c].zName, aCase[c].codec, b.p, aCut[k], n, data, &err);
            expect(rc, BZ_CORRUPT, aCase[c].zName, "truncated", &err);
        }
        free(b.p);
        free(data);
    }
}

static void test_garbage(void) {
    BzErr err;
    for (size_t c = 1; c < BZ_ARRAY_LEN(aCase); c++) {
        for (int t = 0; t < 20; t++) {
            size_t n = 1 + (size_t)(rng() % 3000), dst_len = (size_t)(rng() % 5000);
            uint8_t *junk = make_random(n);
            int rc = run(aCase[c].zName, aCase[c].codec, junk, n, dst_len, NULL, &err);
            expect(rc, BZ_CORRUPT, aCase[c].zName, "garbage", &err);
            free(junk);
        }
    }
    /* Valid streams with trailing junk. */
    {
        uint8_t *data = make_text(1000);
        Blob b = c_gzip(data, 1000);
        blob_append(&b, "junk", 4);
        expect(run("gzip", BZ_CODEC_GZIP, b.p, b.n, 1000, data, &err), BZ_CORRUPT, "gzip",
               "trailing junk", &err);
        free(b.p);
        b = c_brotli(data, 1000);
        blob_append(&b, "junk", 4);
        expect(run("brotli", BZ_CODEC_BROTLI, b.p, b.n, 1000, data, &err), BZ_CORRUPT, "brotli",
               "trailing junk", &err);
        free(b.p);
        b = c_zstd(data, 1000);
        blob_append(&b, "junk", 4);
        expect(run("zstd", BZ_CODEC_ZSTD, b.p, b.n, 1000, data, &err), BZ_CORRUPT, "zstd",
               "trailing junk", &err);
        free(b.p);
        free(data);
    }
}

/* 1 MB of zeros squeezed into a few hundred bytes, page header says 1000:
** every codec stops cleanly (the harness' canary and ASan watch the writes). */
static void test_bomb(void) {
    BzErr err;
    size_t n = (size_t)1 << 20;
    uint8_t *zeros = calloc(n, 1);
    for (size_t c = 1; c < BZ_ARRAY_LEN(aCase); c++) {
        Blob b = aCase[c].compress(zeros, n);
        CHECK(b.n < n / 16); /* snappy tops out near 21:1 */
        expect(run(aCase[c].zName, aCase[c].codec, b.p, b.n, 1000, NULL, &err), BZ_CORRUPT,
               aCase[c].zName, "bomb", &err);
        free(b.p);
    }
    free(zeros);
}

static void test_gzip_members(void) {
    BzErr err;
    size_t n = 50000;
    uint8_t *data = make_text(n);
    Blob all = {NULL, 0}, part;
    /* Three members: 10000, 0 and 40000 bytes. */
    part = c_gzip(data, 10000);
    blob_append(&all, part.p, part.n);
    free(part.p);
    part = c_gzip(data, 0);
    blob_append(&all, part.p, part.n);
    free(part.p);
    part = c_gzip(data + 10000, n - 10000);
    blob_append(&all, part.p, part.n);
    free(part.p);
    expect(run("gzip", BZ_CODEC_GZIP, all.p, all.n, n, data, &err), BZ_OK, "gzip", "3 members",
           &err);
    expect(run("gzip", BZ_CODEC_GZIP, all.p, all.n, n - 1, NULL, &err), BZ_CORRUPT, "gzip",
           "3 members, claims less", &err);
    expect(run("gzip", BZ_CODEC_GZIP, all.p, all.n, 10000, NULL, &err), BZ_CORRUPT, "gzip",
           "3 members, claims the first", &err);
    free(all.p);

    /* A raw zlib stream under the GZIP codec. */
    part = c_deflate(data, n, 15);
    expect(run("zlib", BZ_CODEC_GZIP, part.p, part.n, n, data, &err), BZ_OK, "zlib", "zlib stream",
           &err);
    free(part.p);
    free(data);
}

static void test_zstd_frames(void) {
    BzErr err;
    size_t n = 90000;
    uint8_t *data = make_random(n);
    /* A skippable frame: magic 0x184D2A50, 4-byte size, payload. */
    static const uint8_t skip[] = {0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'};
    Blob all = {NULL, 0}, part;
    part = c_zstd(data, 30000);
    blob_append(&all, part.p, part.n);
    free(part.p);
    blob_append(&all, skip, sizeof skip);
    part = c_zstd_nosize(data + 30000, 30000);
    blob_append(&all, part.p, part.n);
    free(part.p);
    part = c_zstd(data + 60000, 30000);
    blob_append(&all, part.p, part.n);
    free(part.p);
    expect(run("zstd", BZ_CODEC_ZSTD, all.p, all.n, n, data, &err), BZ_OK, "zstd", "3 frames",
           &err);
    expect(run("zstd", BZ_CODEC_ZSTD, all.p, all.n, n - 1, NULL, &err), BZ_CORRUPT, "zstd",
           "3 frames, claims less", &err);
    expect(run("zstd", BZ_CODEC_ZSTD, all.p, all.n, n + 1, NULL, &err), BZ_CORRUPT, "zstd",
           "3 frames, claims more", &err);
    free(all.p);

    /* A valid stream that decodes to nothing (page_v2_empty_compressed). */
    part = c_zstd(data, 0);
    expect(run("zstd", BZ_CODEC_ZSTD, part.p, part.n, 0, NULL, &err), BZ_OK, "zstd", "empty frame",
           &err);
    free(part.p);
    free(data);
}

static void test_lz4_shapes(void) {
    BzErr err;
    size_t n = 200000;
    uint8_t *data = make_text(n);
    Blob b, f;
    /* Hadoop framing with several blocks (the last one short). */
    b = c_lz4_hadoop(data, n, 65536);
    CHECK(b.n > 4 * 8);
    expect(run("lz4", BZ_CODEC_LZ4, b.p, b.n, n, data, &err), BZ_OK, "lz4 hadoop", "4 blocks",
           &err);
    expect(run("lz4", BZ_CODEC_LZ4, b.p, b.n, n - 1, NULL, &err), BZ_CORRUPT, "lz4 hadoop",
           "4 blocks, claims less", &err);
    /* The page header claims only the first three blocks. */
    expect(run("lz4", BZ_CODEC_LZ4, b.p, b.n, n - (n % 65536), NULL, &err), BZ_CORRUPT,
           "lz4 hadoop", "claims 3 of 4 blocks", &err);
    free(b.p);

    /* Two LZ4 frames back to back. */
    b = c_lz4_frame(data, 1000);
    f = c_lz4_frame(data + 1000, n - 1000);
    blob_append(&b, f.p, f.n);
    free(f.p);
    expect(run("lz4", BZ_CODEC_LZ4, b.p, b.n, n, data, &err), BZ_OK, "lz4 frame", "2 frames", &err);
    expect(run("lz4", BZ_CODEC_LZ4, b.p, b.n, n - 1, NULL, &err), BZ_CORRUPT, "lz4 frame",
           "2 frames, claims less", &err);
    free(b.p);

    /* LZ4_RAW does not accept Hadoop framing. */
    b = c_lz4_hadoop(data, 1000, 1000);
    expect(run("lz4_raw", BZ_CODEC_LZ4_RAW, b.p, b.n, 1000, NULL, &err), BZ_CORRUPT, "lz4_raw",
           "hadoop framing", &err);
    free(b.p);
    free(data);
}

static void test_unsupported(void) {
    BzErr err;
    uint8_t src[4] = {1, 2, 3, 4}, dst[4];
    CHECK_EQ_INT(bz_decompress(BZ_CODEC_LZO, src, 4, dst, 4, &err), BZ_UNSUPPORTED);
    CHECK_EQ_STR(err.msg, "LZO compression is not supported");
    CHECK_EQ_INT(bz_decompress(8, src, 4, dst, 4, &err), BZ_UNSUPPORTED);
    CHECK_EQ_INT(bz_decompress(-1, src, 4, dst, 4, &err), BZ_UNSUPPORTED);
    CHECK_EQ_INT(bz_decompress(BZ_CODEC_SNAPPY, NULL, 0, NULL, 0, &err), BZ_OK);
    CHECK_EQ_INT(bz_decompress(BZ_CODEC_SNAPPY, src, 4, dst, 4, NULL), BZ_CORRUPT); /* NULL err */
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_UNCOMPRESSED), "UNCOMPRESSED");
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_SNAPPY), "SNAPPY");
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_GZIP), "GZIP");
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_LZO), "LZO");
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_BROTLI), "BROTLI");
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_LZ4), "LZ4");
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_ZSTD), "ZSTD");
    CHECK_EQ_STR(bz_codec_name(BZ_CODEC_LZ4_RAW), "LZ4_RAW");
    CHECK_EQ_STR(bz_codec_name(42), "UNKNOWN");
}

static void test_zstd_compress(void) {
    BzErr err;
    BzBuf b;
    size_t n = 100000;
    uint8_t *data = make_text(n), *back = malloc(n);
    bz_buf_init(&b, 0);
    bz_buf_appendz(&b, "hdr:");
    CHECK_EQ_INT(bz_zstd_compress(data, n, &b, 0, &err), BZ_OK);
    CHECK(b.n > 4 && b.n < n / 10);
    CHECK(memcmp(b.data, "hdr:", 4) == 0);
    CHECK_EQ_INT(ZSTD_getFrameContentSize(b.data + 4, b.n - 4), n);
    CHECK_EQ_INT(bz_decompress(BZ_CODEC_ZSTD, (uint8_t *)b.data + 4, b.n - 4, back, n, &err),
                 BZ_OK);
    CHECK(memcmp(back, data, n) == 0);
    bz_buf_free(&b);

    /* The cap is checked against ZSTD_compressBound, and the failure sticks. */
    bz_buf_init(&b, 1000);
    CHECK_EQ_INT(bz_zstd_compress(data, n, &b, 3, &err), BZ_LIMIT);
    CHECK_EQ_INT(b.rc, BZ_LIMIT);
    CHECK_EQ_INT(b.n, 0);
    bz_buf_free(&b);

    bz_buf_init(&b, 0);
    CHECK_EQ_INT(bz_zstd_compress(NULL, 0, &b, 19, &err), BZ_OK);
    CHECK_EQ_INT(bz_decompress(BZ_CODEC_ZSTD, (uint8_t *)b.data, b.n, NULL, 0, &err), BZ_OK);
    bz_buf_free(&b);
    free(back);
    free(data);
}

int main(void) {
    test_round_trips();
    test_size_mismatch();
    test_messages();
    test_truncated();
    test_garbage();
    test_bomb();
    test_gzip_members();
    test_zstd_frames();
    test_lz4_shapes();
    test_unsupported();
    test_zstd_compress();
    TEST_DONE();
}
