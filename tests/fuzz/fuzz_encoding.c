/*
** fuzz_encoding.c: libFuzzer target over the value and level decoders of
** src/parquet/pq_encoding.c.
**
** Input: byte 0 picks the decoder (byte % 11, table below), byte 1 its
** parameter (bit width, value width or first value), byte 2 the batch sizes;
** the rest is the encoded data, copied to a buffer of exactly that size so a
** read past it is caught.
**
**   0 RLE hybrid -> uint32 (bit width = param % 34: 33 must fail cleanly)
**   1 RLE hybrid -> uint8 levels, interleaved with pq_rle_skip
**   2 BIT_PACKED legacy levels (bit width = param % 10)
**   3 PLAIN booleans            4 PLAIN BYTE_ARRAY
**   5 DELTA_BINARY_PACKED int32 6 DELTA_BINARY_PACKED int64, then pq_delta_end
**   7 DELTA_LENGTH_BYTE_ARRAY   8 DELTA_BYTE_ARRAY (max_bytes lowered to 4 MB)
**   9 BYTE_STREAM_SPLIT (width = param % 17 + 1, total from the data size)
**  10 DELTA_BINARY_PACKED int64 skipped with pq_delta_end only
**
** Each run decodes at most FUZZ_MAX_VALUES values (an RLE run header can
** claim 2^32 of them in five bytes).
**
**   make build-fuzz/fuzz_encoding && build-fuzz/fuzz_encoding build-fuzz/corpus/encoding
*/
#include "fuzz_common.h"

#include <stdlib.h>

#include "parquet/pq_encoding.h"

#define FUZZ_MAX_VALUES 1000000
#define FUZZ_BATCH_MAX 1024

static volatile uint8_t fuzz_sink;
static void touch_bytes(const PqBytes *b, int n) {
    uint8_t x = 0;
    for (int i = 0; i < n; i++)
        for (uint32_t j = 0; j < b[i].n; j++)
            x ^= b[i].p[j];
    fuzz_sink ^= x;
}

/* Batch sizes cycle through a small table chosen by the third input byte. */
static int batch_of(int sel, int k) {
    static const int sizes[8] = {1, 3, 8, 31, 64, 100, 513, FUZZ_BATCH_MAX};
    return sizes[(sel + k * ((sel >> 3) | 1)) & 7];
}

FUZZ_TARGET(encoding) {
    BzErr err = {0};
    static uint32_t u32[FUZZ_BATCH_MAX];
    static uint8_t u8[FUZZ_BATCH_MAX * 17];
    static int32_t i32[FUZZ_BATCH_MAX];
    static int64_t i64[FUZZ_BATCH_MAX];
    static PqBytes bytes[FUZZ_BATCH_MAX];
    if (size < 3) return 0;
    int which = data[0] % 11, param = data[1], bsel = data[2];
    size_t n = size - 3;
    uint8_t *p = malloc(n ? n : 1);
    if (!p) return 0;
    memcpy(p, data + 3, n);
    int64_t done = 0;
    int got = 0;
    switch (which) {
    case 0: {
        PqRle r;
        pq_rle_init(&r, p, n, param % 34);
        for (int k = 0; done < FUZZ_MAX_VALUES; k++) {
            if ((got = pq_rle_decode(&r, u32, batch_of(bsel, k), &err)) <= 0) break;
            done += got;
        }
        break;
    }
    case 1: {
        PqRle r;
        pq_rle_init(&r, p, n, param % 34);
        for (int k = 0; done < FUZZ_MAX_VALUES; k++) {
            int b = batch_of(bsel, k);
            got = (k & 3) == 3 ? pq_rle_skip(&r, b, &err) : pq_rle_decode_u8(&r, u8, b, &err);
            if (got <= 0) break;
            done += got;
        }
        break;
    }
    case 2: {
        int bw = param % 10;
        for (int k = 0; done < FUZZ_MAX_VALUES; k++) {
            int b = batch_of(bsel, k);
            if (pq_bitpacked_legacy_decode(p, n, bw, (size_t)done, u8, b) != b) break;
            done += b;
        }
        break;
    }
    case 3:
        for (int k = 0; done < FUZZ_MAX_VALUES; k++) {
            int b = batch_of(bsel, k);
            if (pq_plain_bool(p, n, (size_t)done, u8, b) != b) break;
            done += b;
        }
        break;
    case 4: {
        size_t pos = 0;
        for (int k = 0; done < FUZZ_MAX_VALUES; k++) {
            int b = batch_of(bsel, k);
            if ((got = pq_plain_byte_array(p, n, &pos, bytes, b, &err)) != b) break;
            touch_bytes(bytes, got);
            done += got;
        }
        break;
    }
    case 5:
    case 6:
    case 10: {
        PqDelta d;
        if (pq_delta_init(&d, p, n, &err)) break;
        (void)pq_delta_total(&d);
        for (int k = 0; which != 10 && done < FUZZ_MAX_VALUES; k++) {
            int b = batch_of(bsel, k);
            got = which == 5 ? pq_delta_decode_i32(&d, i32, b, &err)
                             : pq_delta_decode_i64(&d, i64, b, &err);
            if (got <= 0) break;
            done += got;
        }
        if (which != 5) (void)pq_delta_end(&d, &err);
        break;
    }
    case 7: {
        PqDlba d;
        if (pq_dlba_init(&d, p, n, &err)) break;
        for (int k = 0; done < FUZZ_MAX_VALUES; k++) {
            if ((got = pq_dlba_decode(&d, bytes, batch_of(bsel, k), &err)) <= 0) break;
            touch_bytes(bytes, got);
            done += got;
        }
        break;
    }
    case 8: {
        PqDba d;
        if (pq_dba_init(&d, p, n, &err) == BZ_OK) {
            d.max_bytes = (size_t)4 << 20;
            for (int k = 0; done < FUZZ_MAX_VALUES; k++) {
                if ((got = pq_dba_decode(&d, bytes, batch_of(bsel, k), &err)) <= 0) break;
                touch_bytes(bytes, got);
                done += got;
            }
        }
        pq_dba_free(&d);
        break;
    }
    default: {
        int width = param % 17 + 1;
        int64_t total = (int64_t)(n / (size_t)width) + (bsel & 1); /* sometimes one too many */
        for (int k = 0; done < total && done < FUZZ_MAX_VALUES; k++) {
            int b = batch_of(bsel, k);
            if (b > total - done) b = (int)(total - done);
            if (pq_bss_decode(p, n, width, total, done, b, u8, &err) != b) break;
            done += b;
        }
        break;
    }
    }
    free(p);
    return 0;
}
