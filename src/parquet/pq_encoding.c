/*
** pq_encoding.c: Parquet value and level decoders (apache/parquet-format
** Encodings.md). See pq_encoding.h for the contracts.
**
** Layout: byte helpers and varints, the bit unpackers shared by the hybrid and
** delta decoders, then one section per encoding in the order of the header.
**
** Rationale (performance): values move in caller-sized batches. Bit-packed
** data is unpacked 8 values (one group of bit_width bytes) per step by a
** function specialised for each bit width 0..32, chosen once per batch; each
** value is one unaligned 64-bit load, a constant shift and a constant mask. A
** group is unpacked in place only when the buffer holds bit_width + 8 bytes
** from its start (the furthest a 64-bit load reaches); the last groups of a
** buffer are copied into a zero-padded stack array first.
**
** Rationale (security): every offset is a size_t checked against the buffer
** length before use, run and value counts from the input are only ever used as
** loop bounds (never as allocation sizes), all value arithmetic is unsigned so
** the wrap-around the spec asks for is defined behaviour, and shift counts are
** constants or bounded by the validated bit width.
*/
#include "parquet/pq_encoding.h"

#include <limits.h>
#include <string.h>

/* Target of empty values so PqBytes.p is never NULL. */
static const uint8_t pq_empty[1];

/* ---- Byte helpers ------------------------------------------------------- */

static inline uint64_t ld64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void st64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* ULEB128 of at most 64 bits at p[*pos..n). Returns 1 and advances *pos, 0 if
** *pos == n (clean end of data), -1 if truncated or wider than 64 bits
** (*v is 0 then). */
static int uleb64(const uint8_t *p, size_t n, size_t *pos, uint64_t *v) {
    size_t i = *pos;
    uint64_t r = 0;
    *v = 0;
    if (i >= n) return 0;
    for (int shift = 0; shift <= 63; shift += 7) {
        uint8_t b;
        if (i >= n) return -1;
        b = p[i++];
        if (shift == 63 && (b & 0xFE)) return -1;
        r |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *pos = i;
            *v = r;
            return 1;
        }
    }
    return -1;
}

/* ULEB128 of at most 32 bits (at most 5 bytes); same returns as uleb64. */
static int uleb32(const uint8_t *p, size_t n, size_t *pos, uint32_t *v) {
    size_t i = *pos;
    uint64_t r = 0;
    int rc = uleb64(p, n, &i, &r);
    *v = 0;
    if (rc != 1) return rc;
    if (i - *pos > 5 || r > UINT32_MAX) return -1;
    *pos = i;
    *v = (uint32_t)r;
    return 1;
}

static inline uint64_t unzigzag(uint64_t u) {
    return (u >> 1) ^ (0 - (u & 1));
}

/* ---- Bit unpacking ------------------------------------------------------ */

/* unpack32_<BW>(in, out, ng): ng groups of 8 values of BW bits, LSB first,
** from ng*BW bytes at in into out[0..8*ng). Reads up to BW + 8 bytes past the
** start of the last group (see fast_groups). unpack8_<BW> is the same into
** bytes for BW <= 8, with a single 64-bit load per group. */
#define PQ_MASK(BW) ((((uint64_t)1) << (BW)) - 1)
#define PQ_VAL(BW, I) ((ld64(in + ((I) * (BW)) / 8) >> (((I) * (BW)) % 8)) & PQ_MASK(BW))
#define PQ_UNPACK32(BW)                                                                            \
    static void unpack32_##BW(const uint8_t *in, uint32_t *out, size_t ng) {                       \
        for (; ng > 0; ng--, in += (BW), out += 8) {                                               \
            out[0] = (uint32_t)PQ_VAL(BW, 0);                                                      \
            out[1] = (uint32_t)PQ_VAL(BW, 1);                                                      \
            out[2] = (uint32_t)PQ_VAL(BW, 2);                                                      \
            out[3] = (uint32_t)PQ_VAL(BW, 3);                                                      \
            out[4] = (uint32_t)PQ_VAL(BW, 4);                                                      \
            out[5] = (uint32_t)PQ_VAL(BW, 5);                                                      \
            out[6] = (uint32_t)PQ_VAL(BW, 6);                                                      \
            out[7] = (uint32_t)PQ_VAL(BW, 7);                                                      \
        }                                                                                          \
    }
#define PQ_UNPACK_SMALL(BW)                                                                        \
    static void unpack32_##BW(const uint8_t *in, uint32_t *out, size_t ng) {                       \
        for (; ng > 0; ng--, in += (BW), out += 8) {                                               \
            uint64_t w = ld64(in);                                                                 \
            for (int i = 0; i < 8; i++)                                                            \
                out[i] = (uint32_t)((w >> (i * (BW))) & PQ_MASK(BW));                              \
        }                                                                                          \
    }                                                                                              \
    static void unpack8_##BW(const uint8_t *in, uint8_t *out, size_t ng) {                         \
        for (; ng > 0; ng--, in += (BW), out += 8) {                                               \
            uint64_t w = ld64(in);                                                                 \
            for (int i = 0; i < 8; i++)                                                            \
                out[i] = (uint8_t)((w >> (i * (BW))) & PQ_MASK(BW));                               \
        }                                                                                          \
    }

static void unpack32_0(const uint8_t *in, uint32_t *out, size_t ng) {
    (void)in;
    memset(out, 0, ng * 8 * sizeof *out);
}
static void unpack8_0(const uint8_t *in, uint8_t *out, size_t ng) {
    (void)in;
    memset(out, 0, ng * 8);
}
PQ_UNPACK_SMALL(1)
PQ_UNPACK_SMALL(2)
PQ_UNPACK_SMALL(3)
PQ_UNPACK_SMALL(4)
PQ_UNPACK_SMALL(5)
PQ_UNPACK_SMALL(6)
PQ_UNPACK_SMALL(7)
PQ_UNPACK_SMALL(8)
PQ_UNPACK32(9)
PQ_UNPACK32(10)
PQ_UNPACK32(11)
PQ_UNPACK32(12)
PQ_UNPACK32(13)
PQ_UNPACK32(14)
PQ_UNPACK32(15)
PQ_UNPACK32(16)
PQ_UNPACK32(17)
PQ_UNPACK32(18)
PQ_UNPACK32(19)
PQ_UNPACK32(20)
PQ_UNPACK32(21)
PQ_UNPACK32(22)
PQ_UNPACK32(23)
PQ_UNPACK32(24)
PQ_UNPACK32(25)
PQ_UNPACK32(26)
PQ_UNPACK32(27)
PQ_UNPACK32(28)
PQ_UNPACK32(29)
PQ_UNPACK32(30)
PQ_UNPACK32(31)
PQ_UNPACK32(32)

typedef void (*Unpack32Fn)(const uint8_t *in, uint32_t *out, size_t ng);
typedef void (*Unpack8Fn)(const uint8_t *in, uint8_t *out, size_t ng);

static const Unpack32Fn unpack32[33] = {
    unpack32_0,  unpack32_1,  unpack32_2,  unpack32_3,  unpack32_4,  unpack32_5,  unpack32_6,
    unpack32_7,  unpack32_8,  unpack32_9,  unpack32_10, unpack32_11, unpack32_12, unpack32_13,
    unpack32_14, unpack32_15, unpack32_16, unpack32_17, unpack32_18, unpack32_19, unpack32_20,
    unpack32_21, unpack32_22, unpack32_23, unpack32_24, unpack32_25, unpack32_26, unpack32_27,
    unpack32_28, unpack32_29, unpack32_30, unpack32_31, unpack32_32};

static const Unpack8Fn unpack8[9] = {unpack8_0, unpack8_1, unpack8_2, unpack8_3, unpack8_4,
                                     unpack8_5, unpack8_6, unpack8_7, unpack8_8};

/* How many of `want` groups of bw bytes starting at offset off of an n-byte
** buffer can be unpacked in place. */
static inline size_t fast_groups(size_t n, size_t off, int bw, size_t want) {
    size_t avail, g;
    if (bw == 0) return want;
    if (off >= n || n - off < (size_t)bw + 8) return 0;
    avail = n - off;
    g = (avail - (size_t)bw - 8) / (size_t)bw + 1;
    return g < want ? g : want;
}

/* Unpack one group (bw <= 32) of which only `have` bytes may exist, through a
** zero-padded copy. */
static void unpack32_padded(const uint8_t *src, size_t have, int bw, uint32_t *out) {
    uint8_t tmp[48] = {0};
    memcpy(tmp, src, have < (size_t)bw ? have : (size_t)bw);
    unpack32[bw](tmp, out, 1);
}

/* Unpack ng groups at p[off..) of an n-byte buffer (all group bytes present or
** zero-padded at the end), bw <= 32. */
static void unpack32_groups(const uint8_t *p, size_t n, size_t off, int bw, uint32_t *out,
                            size_t ng) {
    size_t fast = fast_groups(n, off, bw, ng);
    if (fast) unpack32[bw](p + off, out, fast);
    for (size_t g = fast; g < ng; g++) {
        size_t at = off + g * (size_t)bw;
        unpack32_padded(p + at, n - at, bw, out + 8 * g);
    }
}

/* One group of bw (33..64) bits per value; all bw bytes must exist. */
static void unpack64_group(const uint8_t *src, int bw, uint64_t *out) {
    uint8_t tmp[80] = {0};
    uint64_t mask = bw == 64 ? ~(uint64_t)0 : PQ_MASK(bw);
    memcpy(tmp, src, (size_t)bw);
    for (int i = 0; i < 8; i++) {
        unsigned bit = (unsigned)(i * bw), s = bit % 8;
        uint64_t v = ld64(tmp + bit / 8) >> s;
        if (s) v |= (uint64_t)tmp[bit / 8 + 8] << (64 - s);
        out[i] = v & mask;
    }
}

/* ---- RLE / bit-packed hybrid -------------------------------------------- */

void pq_rle_init(PqRle *d, const uint8_t *p, size_t n, int bit_width) {
    memset(d, 0, sizeof *d);
    d->p = p;
    d->n = n;
    d->bit_width = bit_width;
    d->buf_pos = 8;
}

static int rle_bad_width(const PqRle *d, BzErr *err) {
    bz_err(err, BZ_CORRUPT, "RLE: bit width %d > 32", d->bit_width);
    if (d->bit_width < 0) bz_err(err, BZ_CORRUPT, "RLE: bit width %d < 0", d->bit_width);
    return -1;
}

/* Read the next run header. Returns 1, 0 at the end of the data, -1 if corrupt.
** A bit-packed run claiming more bytes than remain keeps the whole values
** present (as Arrow does); the caller then sees the data end. */
static int rle_next_run(PqRle *d, BzErr *err) {
    size_t at = d->pos;
    uint32_t h;
    int rc = uleb32(d->p, d->n, &d->pos, &h), bw = d->bit_width;
    if (rc <= 0) {
        if (rc < 0) bz_err(err, BZ_CORRUPT, "RLE: corrupt run header at offset %zu", at);
        return rc;
    }
    d->buf_pos = 8;
    if (h & 1) {
        uint64_t groups = h >> 1, bytes = groups * (uint64_t)bw, avail = d->n - d->pos;
        d->gpos = d->pos;
        if (bw == 0) {
            d->packed = 0;
            d->value = 0;
            d->run_left = groups * 8;
        } else if (bytes <= avail) {
            d->packed = 1;
            d->run_left = groups * 8;
            d->pos += (size_t)bytes;
        } else {
            d->packed = 1;
            d->run_left = avail * 8 / (uint64_t)bw;
            d->pos = d->n;
        }
    } else {
        size_t nb = ((size_t)bw + 7) / 8;
        uint32_t v = 0;
        if (d->n - d->pos < nb) {
            bz_err(err, BZ_CORRUPT, "RLE: run value truncated at offset %zu", d->pos);
            return -1;
        }
        for (size_t i = 0; i < nb; i++)
            v |= (uint32_t)d->p[d->pos + i] << (8 * i);
        d->pos += nb;
        if (bw < 32 && (v >> bw) != 0) {
            bz_err(err, BZ_CORRUPT, "RLE: run value %u wider than bit width %d", v, bw);
            return -1;
        }
        d->packed = 0;
        d->value = v;
        d->run_left = h >> 1;
    }
    return 1;
}

/* Unpack the group at gpos into buf and advance gpos. */
static void rle_fill_buf(PqRle *d) {
    unpack32_padded(d->p + d->gpos, d->n - d->gpos, d->bit_width, d->buf);
    d->gpos += (size_t)d->bit_width;
    d->buf_pos = 0;
}

/* Produce k values (k <= run_left) of the current bit-packed run. */
static void rle_packed32(PqRle *d, uint32_t *out, uint32_t k) {
    int bw = d->bit_width;
    size_t ng;
    while (k > 0 && d->buf_pos < 8) {
        *out++ = d->buf[d->buf_pos++];
        k--;
    }
    ng = k / 8;
    if (ng) {
        unpack32_groups(d->p, d->n, d->gpos, bw, out, ng);
        d->gpos += ng * (size_t)bw;
        out += ng * 8;
    }
    k %= 8;
    if (k) {
        rle_fill_buf(d);
        memcpy(out, d->buf, k * sizeof *out);
        d->buf_pos = (int)k;
    }
}

/* Same into bytes, bw <= 8. */
static void rle_packed8(PqRle *d, uint8_t *out, uint32_t k) {
    int bw = d->bit_width;
    size_t ng, fast;
    while (k > 0 && d->buf_pos < 8) {
        *out++ = (uint8_t)d->buf[d->buf_pos++];
        k--;
    }
    ng = k / 8;
    fast = fast_groups(d->n, d->gpos, bw, ng);
    if (fast) {
        unpack8[bw](d->p + d->gpos, out, fast);
        d->gpos += fast * (size_t)bw;
        out += fast * 8;
    }
    for (; fast < ng; fast++) {
        rle_fill_buf(d);
        for (int i = 0; i < 8; i++)
            *out++ = (uint8_t)d->buf[i];
        d->buf_pos = 8;
    }
    k %= 8;
    if (k) {
        rle_fill_buf(d);
        for (uint32_t i = 0; i < k; i++)
            out[i] = (uint8_t)d->buf[i];
        d->buf_pos = (int)k;
    }
}

int pq_rle_decode(PqRle *d, uint32_t *out, int count, BzErr *err) {
    int done = 0;
    if (d->bit_width < 0 || d->bit_width > 32) return rle_bad_width(d, err);
    while (done < count) {
        uint32_t k;
        if (d->run_left == 0) {
            int rc = rle_next_run(d, err);
            if (rc < 0) return -1;
            if (rc == 0) break;
            continue;
        }
        k = (uint32_t)BZ_MIN((uint64_t)(count - done), d->run_left);
        if (d->packed) {
            rle_packed32(d, out + done, k);
        } else {
            uint32_t v = d->value, *o = out + done;
            for (uint32_t i = 0; i < k; i++)
                o[i] = v;
        }
        d->run_left -= k;
        done += (int)k;
    }
    return done;
}

int pq_rle_decode_u8(PqRle *d, uint8_t *out, int count, BzErr *err) {
    int done = 0;
    if (d->bit_width < 0 || d->bit_width > 32) return rle_bad_width(d, err);
    if (d->bit_width > 8) {
        /* Rare (more than 255 levels): decode wide, then narrow with a check. */
        uint32_t tmp[256];
        while (done < count) {
            int m = pq_rle_decode(d, tmp, BZ_MIN(count - done, 256), err);
            if (m < 0) return -1;
            if (m == 0) break;
            for (int i = 0; i < m; i++) {
                if (tmp[i] > 255) {
                    bz_err(err, BZ_CORRUPT, "RLE: level %u > 255", tmp[i]);
                    return -1;
                }
                out[done + i] = (uint8_t)tmp[i];
            }
            done += m;
        }
        return done;
    }
    while (done < count) {
        uint32_t k;
        if (d->run_left == 0) {
            int rc = rle_next_run(d, err);
            if (rc < 0) return -1;
            if (rc == 0) break;
            continue;
        }
        k = (uint32_t)BZ_MIN((uint64_t)(count - done), d->run_left);
        if (d->packed)
            rle_packed8(d, out + done, k);
        else
            memset(out + done, (int)d->value, k);
        d->run_left -= k;
        done += (int)k;
    }
    return done;
}

int pq_rle_skip(PqRle *d, int count, BzErr *err) {
    int done = 0;
    if (d->bit_width < 0 || d->bit_width > 32) return rle_bad_width(d, err);
    while (done < count) {
        uint32_t k;
        if (d->run_left == 0) {
            int rc = rle_next_run(d, err);
            if (rc < 0) return -1;
            if (rc == 0) break;
            continue;
        }
        k = (uint32_t)BZ_MIN((uint64_t)(count - done), d->run_left);
        if (d->packed) {
            uint32_t b = BZ_MIN(k, (uint32_t)(8 - d->buf_pos)), r = k - b;
            d->buf_pos += (int)b;
            d->gpos += (size_t)(r / 8) * (size_t)d->bit_width;
            if (r % 8) {
                rle_fill_buf(d);
                d->buf_pos = (int)(r % 8);
            }
        }
        d->run_left -= k;
        done += (int)k;
    }
    return done;
}

/* ---- BIT_PACKED (deprecated) -------------------------------------------- */

int pq_bitpacked_legacy_decode(const uint8_t *p, size_t n, int bit_width, size_t first,
                               uint8_t *out, int count) {
    size_t avail, bit;
    unsigned mask;
    if (bit_width < 0 || bit_width > 8 || count < 0) return -1;
    if (count == 0) return 0;
    if (bit_width == 0) {
        memset(out, 0, (size_t)count);
        return count;
    }
    avail = (n > SIZE_MAX / 8 ? SIZE_MAX : n * 8) / (size_t)bit_width;
    if (first > avail || (size_t)count > avail - first) return -1;
    mask = (1u << bit_width) - 1;
    bit = first * (size_t)bit_width;
    for (int i = 0; i < count; i++, bit += (size_t)bit_width) {
        size_t byte = bit / 8;
        unsigned w = (unsigned)p[byte] << 8 | (byte + 1 < n ? p[byte + 1] : 0u);
        out[i] = (uint8_t)((w >> (16 - (bit % 8) - (size_t)bit_width)) & mask);
    }
    return count;
}

/* ---- PLAIN -------------------------------------------------------------- */

int pq_plain_bool(const uint8_t *p, size_t n, size_t first, uint8_t *out, int count) {
    size_t bits, bit = first;
    int i = 0;
    if (count < 0) return -1;
    if (count == 0) return 0;
    bits = n > SIZE_MAX / 8 ? SIZE_MAX : n * 8;
    if (first > bits || (size_t)count > bits - first) return -1;
    while (i < count && (bit % 8)) {
        out[i++] = (uint8_t)((p[bit / 8] >> (bit % 8)) & 1);
        bit++;
    }
    /* Spread the 8 bits of a byte over 8 bytes: replicate, keep bit k in byte
    ** k, turn non-zero bytes into 0x80+ and shift that bit down. */
    for (; count - i >= 8; i += 8, bit += 8) {
        uint64_t x = (uint64_t)p[bit / 8] * 0x0101010101010101ULL;
        x &= 0x8040201008040201ULL;
        x = ((x + 0x7F7F7F7F7F7F7F7FULL) >> 7) & 0x0101010101010101ULL;
        st64(out + i, x);
    }
    for (; i < count; i++, bit++)
        out[i] = (uint8_t)((p[bit / 8] >> (bit % 8)) & 1);
    return count;
}

int pq_plain_byte_array(const uint8_t *p, size_t n, size_t *pos, PqBytes *out, int count,
                        BzErr *err) {
    size_t at = *pos;
    for (int i = 0; i < count; i++) {
        uint32_t len;
        if (at > n || n - at < 4) {
            bz_err(err, BZ_CORRUPT, "value length prefix truncated at offset %zu", at);
            *pos = at;
            return -1;
        }
        len = ld32(p + at);
        if (len > n - at - 4) {
            bz_err(err, BZ_CORRUPT, "value length %u exceeds page", len);
            *pos = at;
            return -1;
        }
        out[i].p = p + at + 4;
        out[i].n = len;
        at += 4 + (size_t)len;
    }
    *pos = at;
    return count < 0 ? 0 : count;
}

/* ---- DELTA_BINARY_PACKED ------------------------------------------------ */

static int delta_varint(PqDelta *d, size_t *pos, uint64_t *v, const char *what, BzErr *err) {
    int rc = uleb64(d->p, d->n, pos, v);
    if (rc == 1) return BZ_OK;
    return bz_err(err, BZ_CORRUPT, "DELTA_BINARY_PACKED: %s %s", what,
                  rc == 0 ? "missing" : "truncated or over-long");
}

int pq_delta_init(PqDelta *d, const uint8_t *p, size_t n, BzErr *err) {
    uint64_t block, mbc, total, first;
    size_t pos = 0;
    memset(d, 0, sizeof *d);
    d->p = p;
    d->n = n;
    d->buf_pos = 8;
    if (delta_varint(d, &pos, &block, "block size", err) ||
        delta_varint(d, &pos, &mbc, "miniblock count", err) ||
        delta_varint(d, &pos, &total, "value count", err) ||
        delta_varint(d, &pos, &first, "first value", err))
        return BZ_CORRUPT;
    if (block == 0 || block % 128 != 0 || block > INT32_MAX)
        return bz_err(err, BZ_CORRUPT,
                      "DELTA_BINARY_PACKED: block size %llu is not a multiple of 128",
                      (unsigned long long)block);
    if (mbc == 0 || block % mbc != 0 || (block / mbc) % 32 != 0)
        return bz_err(err, BZ_CORRUPT,
                      "DELTA_BINARY_PACKED: %llu miniblocks do not split a block of %llu values",
                      (unsigned long long)mbc, (unsigned long long)block);
    if (total > INT64_MAX)
        return bz_err(err, BZ_CORRUPT, "DELTA_BINARY_PACKED: value count %llu too large",
                      (unsigned long long)total);
    d->mb_count = (uint32_t)mbc;
    d->mb_size = (uint32_t)(block / mbc);
    d->mb_index = d->mb_count;
    d->total = d->left = (int64_t)total;
    d->last = unzigzag(first);
    d->first_pending = total > 0;
    d->pos = pos;
    return BZ_OK;
}

int64_t pq_delta_total(const PqDelta *d) {
    return d->total;
}

/* Enter the next miniblock, reading a block header first when the current
** block is used up. The whole miniblock must be present (the last one is
** padded, per the spec). */
static int delta_next_mb(PqDelta *d, BzErr *err) {
    uint64_t bytes;
    int w;
    if (d->mb_index >= d->mb_count) {
        uint64_t md;
        if (delta_varint(d, &d->pos, &md, "min delta", err)) return BZ_CORRUPT;
        if (d->n - d->pos < d->mb_count)
            return bz_err(err, BZ_CORRUPT, "DELTA_BINARY_PACKED: bit widths truncated");
        d->min_delta = unzigzag(md);
        d->widths = d->pos;
        d->pos += d->mb_count;
        d->mb_index = 0;
    }
    w = d->p[d->widths + d->mb_index++];
    if (w > 64)
        return bz_err(err, BZ_CORRUPT, "DELTA_BINARY_PACKED: miniblock bit width %d > 64", w);
    bytes = (uint64_t)(d->mb_size / 8) * (uint64_t)w;
    if (bytes > d->n - d->pos)
        return bz_err(err, BZ_CORRUPT, "DELTA_BINARY_PACKED: miniblock truncated");
    d->width = w;
    d->gpos = d->pos;
    d->pos += (size_t)bytes;
    d->mb_left = d->mb_size;
    d->buf_pos = 8;
    return BZ_OK;
}

/* Turn m deltas into values after *last, into o64 or o32 at index at. */
static inline void delta_emit(uint64_t *last, uint64_t md, const uint32_t *dl, size_t m,
                              int64_t *o64, int32_t *o32) {
    uint64_t v = *last;
    if (o64) {
        for (size_t i = 0; i < m; i++) {
            v += md + dl[i];
            o64[i] = (int64_t)v;
        }
    } else {
        uint32_t v32 = (uint32_t)v, md32 = (uint32_t)md;
        for (size_t i = 0; i < m; i++) {
            v32 += md32 + dl[i];
            o32[i] = (int32_t)v32;
        }
        v = v32;
    }
    *last = v;
}

static inline void delta_put(int64_t *o64, int32_t *o32, int i, uint64_t v) {
    if (o64)
        o64[i] = (int64_t)v;
    else
        o32[i] = (int32_t)(uint32_t)v;
}

/* Decode into exactly one of o64 / o32. */
static int delta_decode(PqDelta *d, int64_t *o64, int32_t *o32, int count, BzErr *err) {
    int want, done = 0;
    uint64_t last = d->last;
    if (count <= 0 || d->left <= 0) return 0;
    want = d->left < count ? (int)d->left : count;
    if (d->first_pending) {
        delta_put(o64, o32, done++, last);
        d->first_pending = 0;
    }
    while (done < want) {
        uint32_t k;
        uint64_t md;
        if (d->mb_left == 0 && delta_next_mb(d, err)) {
            d->last = last;
            d->left -= done;
            return -1;
        }
        k = BZ_MIN((uint32_t)(want - done), d->mb_left);
        d->mb_left -= k;
        md = d->min_delta;
        while (k > 0 && d->buf_pos < 8) {
            last += md + d->buf[d->buf_pos++];
            delta_put(o64, o32, done++, last);
            k--;
        }
        if (d->width == 0) {
            for (; k > 0; k--) {
                last += md;
                delta_put(o64, o32, done++, last);
            }
            continue;
        }
        while (k >= 8) {
            uint32_t tmp[256];
            size_t ng = BZ_MIN(k / 8, (uint32_t)BZ_ARRAY_LEN(tmp) / 8);
            if (d->width <= 32) {
                unpack32_groups(d->p, d->n, d->gpos, d->width, tmp, ng);
                delta_emit(&last, md, tmp, ng * 8, o64 ? o64 + done : NULL,
                           o32 ? o32 + done : NULL);
                done += (int)(ng * 8);
            } else {
                for (size_t g = 0; g < ng; g++) {
                    uint64_t v[8];
                    unpack64_group(d->p + d->gpos + g * (size_t)d->width, d->width, v);
                    for (int i = 0; i < 8; i++) {
                        last += md + v[i];
                        delta_put(o64, o32, done++, last);
                    }
                }
            }
            d->gpos += ng * (size_t)d->width;
            k -= (uint32_t)(ng * 8);
        }
        if (k > 0) {
            if (d->width <= 32) {
                uint32_t v[8];
                unpack32_padded(d->p + d->gpos, d->n - d->gpos, d->width, v);
                for (int i = 0; i < 8; i++)
                    d->buf[i] = v[i];
            } else {
                unpack64_group(d->p + d->gpos, d->width, d->buf);
            }
            d->gpos += (size_t)d->width;
            d->buf_pos = 0;
            while (k > 0) {
                last += md + d->buf[d->buf_pos++];
                delta_put(o64, o32, done++, last);
                k--;
            }
        }
    }
    d->last = last;
    d->left -= done;
    return done;
}

int pq_delta_decode_i64(PqDelta *d, int64_t *out, int count, BzErr *err) {
    return delta_decode(d, out, NULL, count, err);
}

int pq_delta_decode_i32(PqDelta *d, int32_t *out, int count, BzErr *err) {
    return delta_decode(d, NULL, out, count, err);
}

int64_t pq_delta_end(PqDelta *d, BzErr *err) {
    if (d->first_pending && d->left > 0) {
        d->first_pending = 0;
        d->left--;
    }
    while (d->left > 0) {
        uint64_t k;
        if (d->mb_left == 0 && delta_next_mb(d, err)) return -1;
        k = BZ_MIN((uint64_t)d->left, (uint64_t)d->mb_left);
        d->left -= (int64_t)k;
        d->mb_left -= (uint32_t)k;
    }
    d->buf_pos = 8;
    return (int64_t)d->pos;
}

/* ---- DELTA_LENGTH_BYTE_ARRAY -------------------------------------------- */

int pq_dlba_init(PqDlba *d, const uint8_t *p, size_t n, BzErr *err) {
    PqDelta scan;
    int64_t end;
    memset(d, 0, sizeof *d);
    d->p = p;
    d->n = n;
    if (pq_delta_init(&d->len, p, n, err)) return bz_err_prefix(err, "lengths");
    scan = d->len;
    end = pq_delta_end(&scan, err);
    if (end < 0) return bz_err_prefix(err, "lengths");
    d->data = (size_t)end;
    return BZ_OK;
}

int pq_dlba_decode(PqDlba *d, PqBytes *out, int count, BzErr *err) {
    int done = 0;
    while (done < count) {
        int32_t lens[256];
        int m = pq_delta_decode_i32(&d->len, lens, BZ_MIN(count - done, 256), err);
        if (m < 0) {
            bz_err_prefix(err, "lengths");
            return -1;
        }
        if (m == 0) break;
        for (int i = 0; i < m; i++) {
            if (lens[i] < 0 || (size_t)lens[i] > d->n - d->data) {
                bz_err(err, BZ_CORRUPT, "DELTA_LENGTH_BYTE_ARRAY: value length %d %s", lens[i],
                       lens[i] < 0 ? "is negative" : "exceeds page");
                return -1;
            }
            out[done + i].p = d->p + d->data;
            out[done + i].n = (uint32_t)lens[i];
            d->data += (size_t)lens[i];
        }
        done += m;
    }
    return done;
}

/* ---- DELTA_BYTE_ARRAY --------------------------------------------------- */

int pq_dba_init(PqDba *d, const uint8_t *p, size_t n, BzErr *err) {
    PqDelta scan;
    int64_t end;
    memset(d, 0, sizeof *d);
    d->max_bytes = PQ_DBA_MAX_BYTES;
    if (pq_delta_init(&d->prefix, p, n, err)) return bz_err_prefix(err, "prefix lengths");
    scan = d->prefix;
    end = pq_delta_end(&scan, err);
    if (end < 0) return bz_err_prefix(err, "prefix lengths");
    if (pq_dlba_init(&d->suffix, p + end, n - (size_t)end, err))
        return bz_err_prefix(err, "suffixes");
    if (pq_delta_total(&d->prefix) != pq_delta_total(&d->suffix.len))
        return bz_err(err, BZ_CORRUPT, "DELTA_BYTE_ARRAY: %lld prefix lengths but %lld suffixes",
                      (long long)pq_delta_total(&d->prefix),
                      (long long)pq_delta_total(&d->suffix.len));
    return BZ_OK;
}

/* Grow the scratch to hold need bytes (need <= max_bytes). */
static int dba_reserve(PqDba *d, size_t need, BzErr *err) {
    size_t cap = d->cap ? d->cap : 4096;
    uint8_t *nb;
    while (cap < need)
        cap = cap > d->max_bytes / 2 ? d->max_bytes : cap * 2;
    nb = bz_realloc(d->buf, cap);
    if (!nb) return bz_err(err, BZ_NOMEM, "DELTA_BYTE_ARRAY: out of memory (%zu bytes)", cap);
    d->buf = nb;
    d->cap = cap;
    return BZ_OK;
}

int pq_dba_decode(PqDba *d, PqBytes *out, int count, BzErr *err) {
    size_t used = 0, prev_off = 0, base, off;
    uint32_t prev_len = 0;
    int done = 0, rc = 0;
    /* The previous value moves to the front: it is the next prefix source, and
    ** the values of the previous call are now invalid. */
    if (d->have_last && d->last_len) {
        memmove(d->buf, d->buf + d->last_off, d->last_len);
        prev_len = d->last_len;
        used = prev_len;
    }
    base = used;
    while (done < count && rc == 0) {
        int32_t pl[256];
        int m = pq_delta_decode_i32(&d->prefix, pl, BZ_MIN(count - done, 256), err), s;
        if (m < 0) {
            rc = bz_err_prefix(err, "prefix lengths");
            break;
        }
        if (m == 0) break;
        s = pq_dlba_decode(&d->suffix, out + done, m, err);
        if (s < 0) {
            rc = bz_err_prefix(err, "suffixes");
            break;
        }
        if (s != m) {
            rc = bz_err(err, BZ_CORRUPT, "DELTA_BYTE_ARRAY: suffixes end before prefix lengths");
            break;
        }
        for (int i = 0, at = done; i < m; i++) {
            PqBytes sfx = out[at + i];
            uint64_t len;
            if (pl[i] < 0 || (uint32_t)pl[i] > prev_len) {
                rc = bz_err(err, BZ_CORRUPT,
                            "DELTA_BYTE_ARRAY: prefix length %d exceeds previous value length %u",
                            pl[i], prev_len);
                break;
            }
            len = (uint64_t)pl[i] + sfx.n;
            if (len > d->max_bytes - used) {
                rc = bz_err(err, BZ_LIMIT, "DELTA_BYTE_ARRAY: one batch of values exceeds %zu MiB",
                            d->max_bytes >> 20);
                break;
            }
            if (used + len > d->cap && (rc = dba_reserve(d, used + (size_t)len, err)) != 0) break;
            if (pl[i]) memcpy(d->buf + used, d->buf + prev_off, (size_t)pl[i]);
            if (sfx.n) memcpy(d->buf + used + pl[i], sfx.p, sfx.n);
            out[at + i].n = (uint32_t)len;
            prev_off = used;
            prev_len = (uint32_t)len;
            used += (size_t)len;
            d->have_last = 1;
            done++;
        }
    }
    /* Values were placed back to back from base; pointers only now, since the
    ** scratch may have moved while growing. */
    off = base;
    for (int i = 0; i < done; i++) {
        out[i].p = d->buf ? d->buf + off : pq_empty;
        off += out[i].n;
    }
    d->last_off = prev_off;
    d->last_len = prev_len;
    return rc ? -1 : done;
}

void pq_dba_free(PqDba *d) {
    if (!d) return;
    bz_free(d->buf);
    d->buf = NULL;
    d->cap = 0;
    d->have_last = 0;
}

/* ---- BYTE_STREAM_SPLIT -------------------------------------------------- */

int pq_bss_decode(const uint8_t *p, size_t n, int width, int64_t total, int64_t start, int count,
                  uint8_t *out, BzErr *err) {
    size_t t, w = (size_t)width;
    const uint8_t *s;
    if (width < 1 || total < 0 || start < 0 || count < 0 || start > total ||
        count > total - start) {
        bz_err(err, BZ_CORRUPT,
               "BYTE_STREAM_SPLIT: values [%lld, %lld) of width %d outside 0..%lld",
               (long long)start, (long long)start + count, width, (long long)total);
        return -1;
    }
    if ((uint64_t)total > SIZE_MAX / w || n < (size_t)total * w) {
        bz_err(err, BZ_CORRUPT,
               "BYTE_STREAM_SPLIT: %zu bytes hold fewer than %lld values of %d bytes", n,
               (long long)total, width);
        return -1;
    }
    if (count == 0) return 0;
    t = (size_t)total;
    s = p + start;
    switch (width) {
    case 2:
        for (size_t i = 0; i < (size_t)count; i++) {
            out[2 * i] = s[i];
            out[2 * i + 1] = s[t + i];
        }
        break;
    case 4:
        for (size_t i = 0; i < (size_t)count; i++) {
            out[4 * i] = s[i];
            out[4 * i + 1] = s[t + i];
            out[4 * i + 2] = s[2 * t + i];
            out[4 * i + 3] = s[3 * t + i];
        }
        break;
    case 8:
        for (size_t i = 0; i < (size_t)count; i++)
            for (size_t k = 0; k < 8; k++)
                out[8 * i + k] = s[k * t + i];
        break;
    default:
        for (size_t k = 0; k < w; k++) {
            const uint8_t *sk = s + k * t;
            for (size_t i = 0; i < (size_t)count; i++)
                out[i * w + k] = sk[i];
        }
        break;
    }
    return count;
}
