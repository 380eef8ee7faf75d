/*
** bz_codec.h: page decompression for the Parquet reader, zstd compression for
** the wire format.
**
** Codec ids are Parquet's CompressionCodec enum (parquet.thrift), so a column
** chunk's `codec` field is passed through unchanged. Every decoder writes into a
** caller buffer sized from the page header and succeeds only when the stream
** decodes to exactly that many bytes: a page that claims fewer bytes than its
** stream holds stops at the buffer's end (so a decompression bomb costs at most
** dst_len bytes of output), a page that claims more is reported, never padded.
**
** Usage:
**     uint8_t *page = bz_malloc(hdr.uncompressed_size);
**     if (bz_decompress(chunk->codec, raw, hdr.compressed_size, page,
**                       hdr.uncompressed_size, &err))
**         return bz_err_prefix(&err, "column \"%s\", page %d", name, i);
**
** Spec: parquet-format Compression.md (GZIP may hold several members, LZ4 is
** the deprecated Hadoop framing, LZ4_RAW a bare block).
*/
#ifndef BZ_CODEC_H
#define BZ_CODEC_H

#include "common/bz_common.h"

/* Parquet CompressionCodec numbering. */
enum {
    BZ_CODEC_UNCOMPRESSED = 0,
    BZ_CODEC_SNAPPY = 1,
    BZ_CODEC_GZIP = 2,
    BZ_CODEC_LZO = 3,
    BZ_CODEC_BROTLI = 4,
    BZ_CODEC_LZ4 = 5, /* deprecated: Hadoop framing, LZ4 frame or raw block */
    BZ_CODEC_ZSTD = 6,
    BZ_CODEC_LZ4_RAW = 7
};

/* Decompress src[0..n) (codec `codec`) into dst[0..dst_len). Succeeds only if
** the output is exactly dst_len bytes; never writes past dst_len. dst may be
** NULL when dst_len is 0. Returns BZ_OK; BZ_CORRUPT for a malformed stream or a
** size mismatch ("snappy: decompressed 100 bytes, page header says 120");
** BZ_UNSUPPORTED for LZO or an unknown id; BZ_NOMEM; BZ_LIMIT when a size does
** not fit the library's API (LZ4 takes int sizes). Messages name the codec but
** no file: callers prefix context. On failure dst holds unspecified bytes. */
int bz_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                  BzErr *err);

/* Parquet's name of a codec id ("UNCOMPRESSED", "SNAPPY", ... "LZ4_RAW"), or
** "UNKNOWN". Static string. */
const char *bz_codec_name(int codec);

/* Compress src[0..n) as one zstd frame (content size recorded) at `level`
** (0 = zstd's default) and append it to *out. Returns BZ_OK; BZ_LIMIT or
** BZ_NOMEM when *out cannot grow by ZSTD_compressBound(n) bytes (the buffer's
** sticky rc is then set too); BZ_ERROR if zstd fails. */
int bz_zstd_compress(const void *src, size_t n, BzBuf *out, int level, BzErr *err);

#endif /* BZ_CODEC_H */
