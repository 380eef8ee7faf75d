/*
** fuzz_codec.c: libFuzzer target over bz_decompress (src/codec).
**
** Input: byte 0 picks the codec (Parquet's CompressionCodec id, byte % 8, so
** LZO and the gaps are exercised as errors too), bytes 1..4 are the
** uncompressed size the page header would claim (little-endian, capped at
** FUZZ_MAX_OUT), the rest is the compressed stream. The output buffer is
** exactly the claimed size, so ASan catches a decoder writing past it, and a
** success must mean the stream filled it.
**
**   make build-fuzz/fuzz_codec && build-fuzz/fuzz_codec build-fuzz/corpus/codec
*/
#include "fuzz_common.h"

#include <stdlib.h>

#include "codec/bz_codec.h"

#define FUZZ_MAX_OUT ((size_t)1 << 20)

FUZZ_TARGET(codec) {
    BzErr err = {0};
    if (size < 5) return 0;
    int codec = data[0] % 8;
    size_t out_len = fuzz_le32(data + 1) % (FUZZ_MAX_OUT + 1);
    size_t n = size - 5;
    /* exact-size copies: reads past the input or writes past the output are caught */
    uint8_t *src = malloc(n ? n : 1);
    uint8_t *dst = out_len ? malloc(out_len) : NULL;
    if (!src || (out_len && !dst)) goto done;
    memcpy(src, data + 5, n);
    if (bz_decompress(codec, src, n, dst, out_len, &err) == BZ_OK && out_len) {
        volatile uint8_t x = 0;
        for (size_t i = 0; i < out_len; i += 61)
            x ^= dst[i]; /* initialised, says MSan/valgrind */
        (void)x;
    }
    (void)bz_codec_name(data[0]);
done:
    free(src);
    free(dst);
    return 0;
}
