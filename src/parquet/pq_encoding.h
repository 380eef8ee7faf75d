/*
** pq_encoding.h: the value and level decoders of the Parquet reader.
**
** Implements apache/parquet-format Encodings.md:
**   PLAIN (booleans, BYTE_ARRAY; fixed-width types are a memcpy by the caller),
**   RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans),
**   BIT_PACKED (deprecated, levels only), DELTA_BINARY_PACKED,
**   DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
**
** Every decoder streams: the caller asks for a batch of `count` values into a
** buffer it owns, and the decoder never allocates for the value count a page
** claims. The only allocation is the DELTA_BYTE_ARRAY scratch buffer, capped
** per call. All decoders are bounds-checked against the page buffer and report
** malformed input as -1 with a short message in *err (no file name: callers
** prefix file, row group and column with bz_err_prefix).
**
** Usage (dictionary indices of a data page, after the 1-byte bit width):
**     PqRle r;
**     pq_rle_init(&r, page + 1, page_len - 1, page[0]);
**     while (left > 0) {
**         int got = pq_rle_decode(&r, idx, BZ_MIN(left, 4096), &err);
**         if (got <= 0) return got < 0 ? err.code : bz_err(&err, BZ_CORRUPT, "...");
**         ... check idx[i] < dict_size, gather ...
**         left -= got;
**     }
**
** The structs below are declared here so callers can keep decoders on the
** stack; their fields are private to pq_encoding.c.
*/
#ifndef PQ_ENCODING_H
#define PQ_ENCODING_H

#include "common/bz_common.h"

/* A byte-array value: n bytes at p. p is never NULL (an empty value points at
** a static empty byte), so memcpy(dst, v.p, v.n) is always valid. */
typedef struct PqBytes {
    const uint8_t *p;
    uint32_t n;
} PqBytes;

/* ---- RLE / bit-packed hybrid ------------------------------------------- */

/* Decoder state for <encoded-data> of the hybrid encoding. The caller strips
** any framing first: the 4-byte length of V1 levels, the 1-byte bit width of
** dictionary indices. Private fields. */
typedef struct PqRle {
    const uint8_t *p;  /* the encoded runs, not owned */
    size_t n;          /* bytes in p */
    size_t pos;        /* next run header */
    size_t gpos;       /* bit-packed run: next unread 8-value group */
    uint64_t run_left; /* values left in the current run (including buffered ones) */
    uint32_t value;    /* RLE run: the repeated value */
    int bit_width;     /* 0..32; anything else makes every call fail */
    int packed;        /* current run is bit-packed */
    int buf_pos;       /* next unread entry of buf; 8 = empty */
    uint32_t buf[8];   /* the group a batch boundary fell into */
} PqRle;

/* Start decoding n bytes at p (not copied: p must outlive the decoder) with
** values of bit_width bits. No allocation; nothing to free. A bit_width outside
** 0..32 is reported by the first decode call. */
void pq_rle_init(PqRle *d, const uint8_t *p, size_t n, int bit_width);

/* Decode up to count values into out (caller-owned, count entries). Returns the
** number decoded, less than count only when the data ends (a truncated
** bit-packed run yields the whole values it holds), or -1 with *err set when a
** run header is corrupt: over-long varint, truncated RLE value, or a repeated
** value wider than bit_width. */
int pq_rle_decode(PqRle *d, uint32_t *out, int count, BzErr *err);

/* Same, narrowed to bytes for definition/repetition levels. A value above 255
** is an error (-1). Fast path for bit widths 0..8. */
int pq_rle_decode_u8(PqRle *d, uint8_t *out, int count, BzErr *err);

/* Skip up to count values without producing them. Returns the number skipped
** (less than count only at the end of the data) or -1 with *err set. */
int pq_rle_skip(PqRle *d, int count, BzErr *err);

/* ---- BIT_PACKED (deprecated, levels only) ------------------------------- */

/* Decode values [first, first+count) of the MSB-first packing (no run headers)
** held in p[0..n) with bit_width 0..8 into out. Returns count, or -1 if n bytes
** hold fewer than first+count values or bit_width is out of range. */
int pq_bitpacked_legacy_decode(const uint8_t *p, size_t n, int bit_width, size_t first,
                               uint8_t *out, int count);

/* ---- PLAIN -------------------------------------------------------------- */

/* Booleans bit-packed LSB first: decode bits [first, first+count) of p[0..n)
** into out as 0/1 bytes. Returns count, or -1 if the buffer is too short. */
int pq_plain_bool(const uint8_t *p, size_t n, size_t first, uint8_t *out, int count);

/* BYTE_ARRAY: each value is a 4-byte little-endian length and its bytes.
** Decodes count values starting at offset *pos of p[0..n) and advances *pos.
** The values point into p. Returns count, or -1 with *err set when a length
** prefix or value runs past the page ("value length 4294967295 exceeds page"). */
int pq_plain_byte_array(const uint8_t *p, size_t n, size_t *pos, PqBytes *out, int count,
                        BzErr *err);

/* ---- DELTA_BINARY_PACKED ------------------------------------------------ */

/* Decoder state for INT32 and INT64 columns. INT32 arithmetic wraps modulo
** 2^32, INT64 modulo 2^64; an INT32 stream with miniblocks wider than 32 bits
** is accepted and wraps the same way. Miniblock bit widths above 64 are
** corrupt, except in the unused miniblocks of the last block, which are never
** read (the spec says readers must accept any value there). Private fields; no
** allocation, nothing to free, and the struct may be copied to decode ahead
** (pq_dlba_init does). */
typedef struct PqDelta {
    const uint8_t *p; /* not owned */
    size_t n;
    size_t pos;         /* end of the current miniblock (next header once it is read) */
    size_t gpos;        /* next unread 8-value group of the current miniblock */
    size_t widths;      /* offset of the current block's bit-width bytes */
    uint32_t mb_count;  /* miniblocks per block */
    uint32_t mb_size;   /* values per miniblock (multiple of 32) */
    uint32_t mb_index;  /* next miniblock of the current block; mb_count = need a block */
    uint32_t mb_left;   /* values left in the current miniblock (including buffered) */
    int64_t total;      /* value count from the header */
    int64_t left;       /* values not yet returned */
    uint64_t last;      /* last value returned (or the first value, pending) */
    uint64_t min_delta; /* of the current block */
    int width;          /* bit width of the current miniblock */
    int first_pending;  /* the header's first value has not been returned */
    int buf_pos;        /* next unread entry of buf; 8 = empty */
    uint64_t buf[8];    /* the group a batch boundary fell into (deltas) */
} PqDelta;

/* Parse the header of the block at p[0..n) (not copied). Returns BZ_OK or
** BZ_CORRUPT with *err set. */
int pq_delta_init(PqDelta *d, const uint8_t *p, size_t n, BzErr *err);

/* Total value count from the header. */
int64_t pq_delta_total(const PqDelta *d);

/* Decode up to count values into out. Returns the number decoded (less than
** count only after the last value) or -1 with *err set. */
int pq_delta_decode_i64(PqDelta *d, int64_t *out, int count, BzErr *err);
int pq_delta_decode_i32(PqDelta *d, int32_t *out, int count, BzErr *err);

/* Skip the remaining values (reading block headers, not values) and return the
** offset just past the encoded block, or -1 with *err set if it is corrupt or
** truncated. The decoder is left at the end. */
int64_t pq_delta_end(PqDelta *d, BzErr *err);

/* ---- DELTA_LENGTH_BYTE_ARRAY -------------------------------------------- */

/* Lengths (DELTA_BINARY_PACKED) followed by the concatenated bytes. Private
** fields; no allocation, nothing to free. */
typedef struct PqDlba {
    PqDelta len;      /* the lengths */
    const uint8_t *p; /* not owned */
    size_t n;
    size_t data; /* offset of the next value's bytes */
} PqDlba;

/* Parse the lengths header and locate the bytes (reads every lengths block
** header once). Returns BZ_OK or BZ_CORRUPT with *err set. */
int pq_dlba_init(PqDlba *d, const uint8_t *p, size_t n, BzErr *err);

/* Decode up to count values; they point into p. Returns the number decoded
** (less than count only after the last value) or -1 with *err set. */
int pq_dlba_decode(PqDlba *d, PqBytes *out, int count, BzErr *err);

/* ---- DELTA_BYTE_ARRAY --------------------------------------------------- */

/* Cap on the bytes one pq_dba_decode call may reconstruct. */
#define PQ_DBA_MAX_BYTES ((size_t)256 << 20)

/* Prefix lengths (DELTA_BINARY_PACKED) followed by the suffixes
** (DELTA_LENGTH_BYTE_ARRAY). For BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY.
** Owns a scratch buffer: release with pq_dba_free. */
typedef struct PqDba {
    PqDelta prefix;
    PqDlba suffix;
    uint8_t *buf;     /* owned scratch holding the values of the last call */
    size_t cap;       /* bytes allocated in buf */
    size_t max_bytes; /* cap per call; PQ_DBA_MAX_BYTES after init (tests lower it) */
    size_t last_off;  /* last value returned, in buf (needed for the next prefix) */
    uint32_t last_len;
    int have_last;
} PqDba;

/* Parse both headers of p[0..n) (not copied). Returns BZ_OK or BZ_CORRUPT with
** *err set. Does not allocate; pq_dba_free is safe after any init result. */
int pq_dba_init(PqDba *d, const uint8_t *p, size_t n, BzErr *err);

/* Decode up to count values. They point into the decoder's scratch buffer and
** stay valid until the next call or pq_dba_free. Returns the number decoded
** (less than count only after the last value) or -1 with *err set: BZ_CORRUPT,
** BZ_NOMEM, or BZ_LIMIT when the batch would exceed max_bytes. */
int pq_dba_decode(PqDba *d, PqBytes *out, int count, BzErr *err);

/* Free the scratch buffer; the decoder is unusable afterwards until re-init. */
void pq_dba_free(PqDba *d);

/* ---- BYTE_STREAM_SPLIT -------------------------------------------------- */

/* p[0..n) holds `width` byte streams of `total` values each (total = non-null
** values in the page). Decode values [start, start+count) into out
** (count*width bytes, caller-owned). Any width >= 1. Returns count, or -1 with
** *err set if n < total*width or the range is outside [0, total). */
int pq_bss_decode(const uint8_t *p, size_t n, int width, int64_t total, int64_t start, int count,
                  uint8_t *out, BzErr *err);

#endif /* PQ_ENCODING_H */
