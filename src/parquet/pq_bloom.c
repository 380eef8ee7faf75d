/*
** pq_bloom.c: XXH64 and the Parquet split-block bloom filter (see pq_bloom.h).
**
** XXH64 is written from the xxHash specification: four 64-bit accumulators
** consume 32-byte stripes, are merged, then the tail is folded in 8, 4 and 1
** bytes at a time, and a final avalanche mixes the result. All reads are
** byte-wise little-endian, so the hash is the same on every host and needs no
** alignment.
**
** The bloom filter follows BloomFilter.md: the top 32 bits of the hash pick a
** 32-byte block, the low 32 bits times eight SALT constants pick one bit in
** each of the block's eight words.
*/
#include "parquet/pq_bloom.h"

/* ---- XXH64 ----------------------------------------------------------------- */

#define P64_1 0x9E3779B185EBCA87ull
#define P64_2 0xC2B2AE3D27D4EB4Full
#define P64_3 0x165667B19E3779F9ull
#define P64_4 0x85EBCA77C2B2AE63ull
#define P64_5 0x27D4EB2F165667C5ull

static uint64_t rotl64(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

static uint64_t rd64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint64_t xx_round(uint64_t acc, uint64_t lane) {
    acc += lane * P64_2;
    acc = rotl64(acc, 31);
    return acc * P64_1;
}

static uint64_t xx_merge(uint64_t acc, uint64_t v) {
    acc ^= xx_round(0, v);
    return acc * P64_1 + P64_4;
}

uint64_t pq_xxhash64(const void *p, size_t n, uint64_t seed) {
    const uint8_t *s = p;
    size_t left = n;
    uint64_t acc;

    if (left >= 32) {
        uint64_t v1 = seed + P64_1 + P64_2, v2 = seed + P64_2, v3 = seed, v4 = seed - P64_1;
        for (; left >= 32; s += 32, left -= 32) {
            v1 = xx_round(v1, rd64(s));
            v2 = xx_round(v2, rd64(s + 8));
            v3 = xx_round(v3, rd64(s + 16));
            v4 = xx_round(v4, rd64(s + 24));
        }
        acc = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        acc = xx_merge(acc, v1);
        acc = xx_merge(acc, v2);
        acc = xx_merge(acc, v3);
        acc = xx_merge(acc, v4);
    } else {
        acc = seed + P64_5;
    }
    acc += (uint64_t)n;

    for (; left >= 8; s += 8, left -= 8) {
        acc ^= xx_round(0, rd64(s));
        acc = rotl64(acc, 27) * P64_1 + P64_4;
    }
    if (left >= 4) {
        acc ^= (uint64_t)rd32(s) * P64_1;
        acc = rotl64(acc, 23) * P64_2 + P64_3;
        s += 4;
        left -= 4;
    }
    for (; left > 0; s++, left--) {
        acc ^= (uint64_t)*s * P64_5;
        acc = rotl64(acc, 11) * P64_1;
    }

    /* Avalanche. */
    acc ^= acc >> 33;
    acc *= P64_2;
    acc ^= acc >> 29;
    acc *= P64_3;
    acc ^= acc >> 32;
    return acc;
}

uint64_t pq_bloom_hash(const void *p, size_t n) {
    return pq_xxhash64(p, n, 0);
}

/* ---- Split-block bloom filter ---------------------------------------------- */

static const uint32_t aSalt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                  0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

/* The block a hash falls in, or NULL if the bitset cannot be used. Beyond
** 2^32 blocks (128 GB) the multiply-shift would overflow: treated as unusable. */
static uint8_t *bloom_block(const uint8_t *bitset, size_t nbytes, uint64_t hash) {
    uint64_t nblocks = nbytes / 32;
    if (!bitset || nbytes == 0 || nbytes % 32 != 0 || nblocks > UINT32_MAX) return NULL;
    return (uint8_t *)bitset + (((hash >> 32) * nblocks) >> 32) * 32;
}

/* Bit i of the block mask: one bit in word i, chosen by the top 5 bits of
** key * SALT[i]. */
static uint32_t bloom_bit(uint32_t key, int i) {
    return 1u << ((key * aSalt[i]) >> 27);
}

int pq_bloom_check(const uint8_t *bitset, size_t nbytes, uint64_t hash) {
    const uint8_t *block = bloom_block(bitset, nbytes, hash);
    uint32_t key = (uint32_t)hash;
    if (!block) return 1;
    for (int i = 0; i < 8; i++) {
        if (!(rd32(block + 4 * i) & bloom_bit(key, i))) return 0;
    }
    return 1;
}

void pq_bloom_insert(uint8_t *bitset, size_t nbytes, uint64_t hash) {
    uint8_t *block = bloom_block(bitset, nbytes, hash);
    uint32_t key = (uint32_t)hash;
    if (!block) return;
    for (int i = 0; i < 8; i++)
        wr32(block + 4 * i, rd32(block + 4 * i) | bloom_bit(key, i));
}
