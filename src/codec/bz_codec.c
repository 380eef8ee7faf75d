/*
** bz_codec.c: one static decoder per Parquet codec behind bz_decompress(), and
** zstd compression into a BzBuf.
**
** Every decoder follows the same contract (see bz_codec.h): output goes to the
** caller's dst_len-byte buffer and must fill it exactly. Streaming decoders
** (gzip, brotli, LZ4 frame) are given a one-byte "spill" buffer once dst is
** full: a byte written there proves the stream holds more than the page header
** says, and decoding stops at once.
**
** Rationale (security): the page header's sizes come from the file and may
** lie. Bounding output by dst_len means a bomb (1 MB of zeros in 1 KB) costs at
** most dst_len bytes; the caller already capped dst_len. Library state is the
** only other allocation: zlib's 32 KB window, brotli's ring buffer (at most
** 16 MB, sized by the stream's window bits), an LZ4 frame's block buffer (at
** most 4 MB + 128 KB). zstd is decoded single-shot straight into dst, so it
** allocates no window at all whatever the frame header claims.
**
** Spec: parquet-format Compression.md; RFC 1950/1952 (zlib, gzip members),
** RFC 7932 (brotli), RFC 8878 (zstd frames), lz4 Block_format.md and
** Frame_format.md, Hadoop's BlockCompressorStream for codec 5.
*/
#include "codec/bz_codec.h"

#include <limits.h>
#include <string.h>

#include <brotli/decode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* Lower-case names for messages; Parquet's names for bz_codec_name(). */
static const char *const azCodecMsg[] = {"uncompressed", "snappy", "gzip", "lzo",
                                         "brotli",       "lz4",    "zstd", "lz4_raw"};
static const char *const azCodecName[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                          "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};

const char *bz_codec_name(int codec) {
    if (codec < 0 || codec >= (int)BZ_ARRAY_LEN(azCodecName)) return "UNKNOWN";
    return azCodecName[codec];
}

/* The one "wrong size" message: got < want, or got == SIZE_MAX for "more". */
static int size_mismatch(BzErr *err, const char *zCodec, size_t got, size_t want) {
    if (got == SIZE_MAX)
        return bz_err(err, BZ_CORRUPT, "%s: decompressed more than %zu bytes, page header says %zu",
                      zCodec, want, want);
    return bz_err(err, BZ_CORRUPT, "%s: decompressed %zu bytes, page header says %zu", zCodec, got,
                  want);
}

/* ---- UNCOMPRESSED ---------------------------------------------------------- */

static int copy_plain(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, BzErr *err) {
    if (n != dst_len)
        return bz_err(err, BZ_CORRUPT, "uncompressed page has %zu bytes, page header says %zu", n,
                      dst_len);
    if (n) memcpy(dst, src, n);
    return BZ_OK;
}

/* ---- SNAPPY ---------------------------------------------------------------- */

/* Snappy's stream starts with its uncompressed length: check it before
** decoding, so a lying header is caught without touching dst. */
static int dec_snappy(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, BzErr *err) {
    size_t len = 0, out = dst_len;
    if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK)
        return bz_err(err, BZ_CORRUPT, "snappy: invalid stream header");
    if (len != dst_len) return size_mismatch(err, "snappy", len, dst_len);
    if (snappy_uncompress((const char *)src, n, (char *)dst, &out) != SNAPPY_OK)
        return bz_err(err, BZ_CORRUPT, "snappy: corrupt stream");
    if (out != dst_len) return size_mismatch(err, "snappy", out, dst_len);
    return BZ_OK;
}

/* ---- GZIP (and zlib) ------------------------------------------------------- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
    (void)opaque;
    return bz_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p) {
    (void)opaque;
    bz_free(p);
}

/* Inflate gzip members back to back (each member ends with Z_STREAM_END; the
** next one starts after inflateReset) or a zlib stream: windowBits 15 + 32
** detects the header of each member. Trailing bytes that are not a member are
** corruption. */
static int dec_gzip(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, BzErr *err) {
    z_stream z;
    uint8_t spill[1];
    const uint8_t *in_end = src + n;
    int ret, rc = BZ_OK, spilled = 0;

    memset(&z, 0, sizeof z);
    z.zalloc = z_alloc;
    z.zfree = z_free;
    if (inflateInit2(&z, 15 + 32) != Z_OK) return bz_err(err, BZ_NOMEM, "gzip: out of memory");
    z.next_in = (Bytef *)src;
    z.next_out = dst;
    for (;;) {
        size_t in_left = (size_t)(in_end - z.next_in);
        z.avail_in = (uInt)BZ_MIN(in_left, (size_t)UINT_MAX);
        if (!spilled) {
            size_t out_left = dst_len - (size_t)(z.next_out - dst);
            if (out_left == 0) {
                z.next_out = spill;
                z.avail_out = 1;
                spilled = 1;
            } else {
                z.avail_out = (uInt)BZ_MIN(out_left, (size_t)UINT_MAX);
            }
        }
        ret = inflate(&z, Z_NO_FLUSH);
        if (spilled && z.avail_out == 0) {
            rc = size_mismatch(err, "gzip", SIZE_MAX, dst_len);
            break;
        }
        if (ret == Z_STREAM_END) {
            if (z.next_in == in_end) break;
            if (inflateReset(&z) != Z_OK) {
                rc = bz_err(err, BZ_CORRUPT, "gzip: cannot start the next member");
                break;
            }
            continue;
        }
        if (ret == Z_OK) continue;
        if (ret == Z_BUF_ERROR) { /* output space was free, so input ran out */
            rc = bz_err(err, BZ_CORRUPT, "gzip: truncated stream (%zu of %zu bytes decompressed)",
                        spilled ? dst_len : (size_t)(z.next_out - dst), dst_len);
        } else if (ret == Z_MEM_ERROR) {
            rc = bz_err(err, BZ_NOMEM, "gzip: out of memory");
        } else if (ret == Z_NEED_DICT) {
            rc = bz_err(err, BZ_CORRUPT, "gzip: stream needs a preset dictionary");
        } else {
            rc = bz_err(err, BZ_CORRUPT, "gzip: %s", z.msg ? z.msg : "corrupt stream");
        }
        break;
    }
    if (rc == BZ_OK && !spilled && (size_t)(z.next_out - dst) != dst_len)
        rc = size_mismatch(err, "gzip", (size_t)(z.next_out - dst), dst_len);
    inflateEnd(&z);
    return rc;
}

/* ---- BROTLI ---------------------------------------------------------------- */

static void *br_alloc(void *opaque, size_t n) {
    (void)opaque;
    return bz_malloc(n);
}

static void br_free(void *opaque, void *p) {
    (void)opaque;
    bz_free(p);
}

/* Brotli's allocation failures are the BROTLI_DECODER_ERROR_ALLOC_* codes. */
static int br_is_alloc_error(BrotliDecoderErrorCode ec) {
    switch (ec) {
    case BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES:
    case BROTLI_DECODER_ERROR_ALLOC_TREE_GROUPS:
    case BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MAP:
    case BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_1:
    case BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_2:
    case BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES:
        return 1;
    default:
        return 0;
    }
}

static int dec_brotli(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, BzErr *err) {
    BrotliDecoderState *s = BrotliDecoderCreateInstance(br_alloc, br_free, NULL);
    BrotliDecoderResult r;
    const uint8_t *next_in = src;
    size_t avail_in = n, avail_out = dst_len;
    uint8_t *next_out = dst, spill[1];
    int rc = BZ_OK, spilled = 0;

    if (!s) return bz_err(err, BZ_NOMEM, "brotli: out of memory");
    for (;;) {
        r = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
        if (spilled && avail_out == 0) {
            rc = size_mismatch(err, "brotli", SIZE_MAX, dst_len);
            break;
        }
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
            if (avail_in)
                rc = bz_err(err, BZ_CORRUPT, "brotli: %zu bytes after the stream", avail_in);
            else if (!spilled && avail_out)
                rc = size_mismatch(err, "brotli", dst_len - avail_out, dst_len);
            break;
        }
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT && !spilled && avail_out == 0) {
            next_out = spill;
            avail_out = 1;
            spilled = 1;
            continue;
        }
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
            rc = bz_err(err, BZ_CORRUPT, "brotli: truncated stream (%zu of %zu bytes decompressed)",
                        spilled ? dst_len : dst_len - avail_out, dst_len);
        } else {
            BrotliDecoderErrorCode ec = BrotliDecoderGetErrorCode(s);
            rc = bz_err(err, br_is_alloc_error(ec) ? BZ_NOMEM : BZ_CORRUPT, "brotli: %s",
                        BrotliDecoderErrorString(ec));
        }
        break;
    }
    BrotliDecoderDestroyInstance(s);
    return rc;
}

/* ---- ZSTD ------------------------------------------------------------------ */

/* Single-shot decoding accepts any sequence of zstd and skippable frames and
** writes at most dst_len bytes, reporting dstSize_tooSmall beyond that. */
static int dec_zstd(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, BzErr *err) {
    size_t r = ZSTD_decompress(dst, dst_len, src, n);
    if (ZSTD_isError(r)) {
        ZSTD_ErrorCode ec = ZSTD_getErrorCode(r);
        if (ec == ZSTD_error_dstSize_tooSmall) return size_mismatch(err, "zstd", SIZE_MAX, dst_len);
        if (ec == ZSTD_error_memory_allocation) return bz_err(err, BZ_NOMEM, "zstd: out of memory");
        return bz_err(err, BZ_CORRUPT, "zstd: %s", ZSTD_getErrorName(r));
    }
    if (r != dst_len) return size_mismatch(err, "zstd", r, dst_len);
    return BZ_OK;
}

/* ---- LZ4_RAW and LZ4 ------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A bare LZ4 block decoding to exactly dst_len bytes? 1 yes, 0 no. LZ4 itself
** accepts the one-zero-byte empty block when dst_len is 0. */
static int lz4_block_ok(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len) {
    return LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)dst_len) ==
           (int)dst_len;
}

static int dec_lz4_raw(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, BzErr *err) {
    int r;
    if (n > INT_MAX || dst_len > INT_MAX)
        return bz_err(err, BZ_LIMIT, "lz4_raw: page larger than 2 GB");
    r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)dst_len);
    if (r >= 0)
        return (size_t)r == dst_len ? BZ_OK : size_mismatch(err, "lz4_raw", (size_t)r, dst_len);
    /* LZ4 reports one error for a corrupt block and for output past dst_len. */
    return bz_err(err, BZ_CORRUPT,
                  "lz4_raw: corrupt block, or it decompresses to more than the %zu bytes the "
                  "page header says",
                  dst_len);
}

/* Hadoop framing: blocks of [BE32 uncompressed size][BE32 compressed size]
** [raw LZ4 block]. Returns 0 if src is not shaped that way (the headers do not
** chain exactly to n bytes); otherwise 1, with BZ_OK in *rc and dst filled, or
** an error in *rc/err naming what is wrong. */
static int lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, int *rc,
                      BzErr *err) {
    size_t pos = 0, out = 0;
    uint64_t total = 0; /* no overflow: n / 8 sizes of at most 4 GB each */
    int iblock = 0;
    while (pos < n) { /* shape and total first, writing nothing */
        size_t csize;
        if (n - pos < 8) return 0;
        csize = be32(src + pos + 4);
        if (csize > n - pos - 8) return 0;
        total += be32(src + pos);
        pos += 8 + csize;
    }
    if (n == 0) return 0;
    if (total != dst_len) {
        *rc = size_mismatch(err, "lz4 (hadoop)", (size_t)BZ_MIN(total, SIZE_MAX - 1), dst_len);
        return 1;
    }
    for (pos = 0; pos < n; iblock++) {
        size_t usize = be32(src + pos), csize = be32(src + pos + 4);
        if (!lz4_block_ok(src + pos + 8, csize, dst + out, usize)) {
            *rc = bz_err(err, BZ_CORRUPT, "lz4 (hadoop): block %d is corrupt", iblock);
            return 1;
        }
        pos += 8 + csize;
        out += usize;
    }
    *rc = BZ_OK;
    return 1;
}

/* One or more LZ4 frames. Returns 0 if src does not start with the frame
** magic; otherwise 1 with the status in *rc (and err). */
static int lz4_frame(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, int *rc,
                     BzErr *err) {
    LZ4F_dctx *dctx = NULL;
    size_t pos = 0, out = 0, hint = 1;
    uint8_t spill[1];

    if (n < 4 || !(src[0] == 0x04 && src[1] == 0x22 && src[2] == 0x4D && src[3] == 0x18)) return 0;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
        *rc = bz_err(err, BZ_NOMEM, "lz4 frame: out of memory");
        return 1;
    }
    *rc = BZ_OK;
    /* Feed all input; then, if the decoder still holds output, drain it. */
    while (pos < n || hint != 0) {
        size_t in_sz = n - pos, out_sz = out < dst_len ? dst_len - out : 1;
        uint8_t *o = out < dst_len ? dst + out : spill;
        hint = LZ4F_decompress(dctx, o, &out_sz, in_sz ? src + pos : NULL, &in_sz, NULL);
        if (LZ4F_isError(hint)) {
            *rc = bz_err(err, BZ_CORRUPT, "lz4 frame: %s", LZ4F_getErrorName(hint));
            break;
        }
        if (o == spill && out_sz) {
            *rc = size_mismatch(err, "lz4 frame", SIZE_MAX, dst_len);
            break;
        }
        pos += in_sz;
        out += out_sz;
        if (in_sz == 0 && out_sz == 0) { /* no progress: input ended inside a frame */
            *rc = bz_err(err, BZ_CORRUPT, "lz4 frame: truncated (%zu of %zu bytes decompressed)",
                         out, dst_len);
            break;
        }
    }
    if (*rc == BZ_OK && out != dst_len) *rc = size_mismatch(err, "lz4 frame", out, dst_len);
    LZ4F_freeDecompressionContext(dctx);
    return 1;
}

/* Codec 5 was written three ways over the years (see Compression.md): try
** the Hadoop framing, then the LZ4 frame format, then a bare block, as Arrow
** does. Each attempt checks sizes exactly. When all fail, the error is that of
** the first shape the input had. */
static int dec_lz4(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, BzErr *err) {
    BzErr e1 = {0}, e2 = {0};
    int rc1 = BZ_OK, rc2 = BZ_OK, is_hadoop, is_frame;
    if (n > INT_MAX || dst_len > INT_MAX)
        return bz_err(err, BZ_LIMIT, "lz4: page larger than 2 GB");
    is_hadoop = lz4_hadoop(src, n, dst, dst_len, &rc1, &e1);
    if (is_hadoop && rc1 == BZ_OK) return BZ_OK;
    is_frame = lz4_frame(src, n, dst, dst_len, &rc2, &e2);
    if (is_frame && rc2 == BZ_OK) return BZ_OK;
    if (lz4_block_ok(src, n, dst, dst_len)) return BZ_OK;
    if (is_hadoop) return bz_err(err, rc1, "%s", e1.msg);
    if (is_frame) return bz_err(err, rc2, "%s", e2.msg);
    return bz_err(err, BZ_CORRUPT,
                  "lz4: corrupt block, or it decompresses to more than the %zu bytes the page "
                  "header says",
                  dst_len);
}

/* ---- Entry points ---------------------------------------------------------- */

int bz_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                  BzErr *err) {
    uint8_t empty[1];
    if (codec == BZ_CODEC_LZO)
        return bz_err(err, BZ_UNSUPPORTED, "LZO compression is not supported");
    if (codec < 0 || codec > BZ_CODEC_LZ4_RAW)
        return bz_err(err, BZ_UNSUPPORTED, "unknown compression codec %d", codec);
    /* Writers skip the codec for an empty page (datapage_v2_empty_datapage). */
    if (n == 0 && dst_len == 0) return BZ_OK;
    if (n == 0 && codec != BZ_CODEC_UNCOMPRESSED)
        return size_mismatch(err, azCodecMsg[codec], 0, dst_len);
    if (dst_len == 0) dst = empty; /* decoders may then do arithmetic on dst */
    switch (codec) {
    case BZ_CODEC_UNCOMPRESSED:
        return copy_plain(src, n, dst, dst_len, err);
    case BZ_CODEC_SNAPPY:
        return dec_snappy(src, n, dst, dst_len, err);
    case BZ_CODEC_GZIP:
        return dec_gzip(src, n, dst, dst_len, err);
    case BZ_CODEC_BROTLI:
        return dec_brotli(src, n, dst, dst_len, err);
    case BZ_CODEC_LZ4:
        return dec_lz4(src, n, dst, dst_len, err);
    case BZ_CODEC_ZSTD:
        return dec_zstd(src, n, dst, dst_len, err);
    default:
        return dec_lz4_raw(src, n, dst, dst_len, err);
    }
}

int bz_zstd_compress(const void *src, size_t n, BzBuf *out, int level, BzErr *err) {
    size_t bound = ZSTD_compressBound(n), r;
    if (ZSTD_isError(bound)) return bz_err(err, BZ_LIMIT, "zstd: input of %zu bytes too large", n);
    if (bz_buf_reserve(out, bound))
        return bz_err(err, out->rc, "zstd: output buffer cannot grow by %zu bytes", bound);
    r = ZSTD_compress(out->data + out->n, bound, src, n, level);
    if (ZSTD_isError(r)) return bz_err(err, BZ_ERROR, "zstd: %s", ZSTD_getErrorName(r));
    out->n += r;
    out->data[out->n] = 0;
    return BZ_OK;
}
