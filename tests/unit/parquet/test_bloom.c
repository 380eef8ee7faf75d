/*
** Unit tests for src/parquet/pq_bloom.c: XXH64 against known vectors, the
** split-block bloom filter against parquet-testing's bloom_filter.xxhash.bin
** (written by parquet-mr with "hello", "parquet", "bloom", "filter"), and a
** filter filled here.
**
** The shared folder is $BZ_SHARED (set by tests/run.sh), else $BZ_ROOT/../shared,
** else ../shared from the current directory (the repo root).
*/
#include "bz_test.h"
#include "common/bz_common.h"
#include "parquet/pq_bloom.h"

#include <stdlib.h>

/* XXH64 vectors. The first three are the published ones; the rest were
** computed with xxhsum 0.8.1 (`xxhsum -H1`), which covers the 32-byte stripe
** path, the 8/4/1-byte tails and their boundaries (31, 32, 65 bytes). */
static void test_xxhash64(void) {
    static const struct {
        const char *z;
        size_t n;
        uint64_t h;
    } aVec[] = {
        {"", 0, 0xEF46DB3751D8E999ull},
        {"a", 1, 0xD24EC4F1A98C6E5Bull},
        {"abc", 3, 0x44BC2CF5AD770999ull},
        {"hello", 5, 0x26C7827D889F6DA3ull},
        {"parquet", 7, 0x3C9D29275C52E429ull},
        {"Nobody inspects the spammish repetition", 39, 0xFBCEA83C8A378BF1ull},
        {"0123456789abcdef0123456789abcde", 31, 0x1FDFC63FEBACFDE7ull},
        {"0123456789abcdef0123456789abcdef", 32, 0x642A94958E71E6C5ull},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", 65,
         0x833CD5AA4EFE57A5ull},
        {"90\0\0", 4, 0x2C0274013CB15A19ull},                           /* INT32 12345, LE */
        {"\xf9\xff\xff\xff\xff\xff\xff\xff", 8, 0xA8D154F80F8CBA5Aull}, /* INT64 -7, LE */
    };
    uint8_t *big = malloc(1028);
    for (size_t i = 0; i < BZ_ARRAY_LEN(aVec); i++) {
        uint64_t h = pq_xxhash64(aVec[i].z, aVec[i].n, 0);
        if (h != aVec[i].h)
            fprintf(stderr, "xxh64(\"%s\") = %016llx, expected %016llx\n", aVec[i].z,
                    (unsigned long long)h, (unsigned long long)aVec[i].h);
        CHECK(h == aVec[i].h);
        CHECK(pq_bloom_hash(aVec[i].z, aVec[i].n) == aVec[i].h);
    }
    CHECK(pq_xxhash64(NULL, 0, 0) == 0xEF46DB3751D8E999ull);

    /* 1027 bytes: 0..255 four times then "xyz"; also from an odd address. */
    for (int i = 0; i < 1024; i++)
        big[1 + i] = (uint8_t)i;
    memcpy(big + 1025, "xyz", 3);
    CHECK(pq_xxhash64(big + 1, 1027, 0) == 0xE146CB31B65BC21Aull);

    /* The seed enters every path. */
    CHECK(pq_xxhash64("abc", 3, 1) != pq_xxhash64("abc", 3, 0));
    CHECK(pq_xxhash64(big + 1, 1027, 1) != pq_xxhash64(big + 1, 1027, 0));
    free(big);
}

/* Read a whole file from the shared folder; NULL if missing. */
static uint8_t *read_shared(const char *zRel, size_t *pn) {
    const char *zShared = getenv("BZ_SHARED"), *zRoot = getenv("BZ_ROOT");
    char path[4096];
    FILE *f;
    uint8_t *p;
    long n;
    if (zShared && *zShared)
        snprintf(path, sizeof path, "%s/%s", zShared, zRel);
    else if (zRoot && *zRoot)
        snprintf(path, sizeof path, "%s/../shared/%s", zRoot, zRel);
    else
        snprintf(path, sizeof path, "../shared/%s", zRel);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc(n > 0 ? (size_t)n : 1);
    *pn = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

static int popcount(const uint8_t *p, size_t n) {
    int c = 0;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            c += (p[i] >> b) & 1;
    return c;
}

/* bloom_filter.xxhash.bin = Thrift compact BloomFilterHeader, then the bitset.
** The header's first field is numBytes (field 1, i32: byte 0x15, then a zigzag
** varint); the bitset is the file's last numBytes bytes. */
static void test_parquet_mr_filter(void) {
    static const char *azIn[] = {"hello", "parquet", "bloom", "filter"};
    size_t n = 0, nbytes, pos = 1;
    uint8_t *file = read_shared("parquet-testing/data/bloom_filter.xxhash.bin", &n), *bits, *mine;
    uint64_t v = 0;
    int shift = 0, fp = 0;
    char key[64];

    CHECK(file != NULL);
    if (!file) return;
    CHECK(n > 2 && file[0] == 0x15);
    while (pos < n && pos < 6) {
        v |= (uint64_t)(file[pos] & 0x7f) << shift;
        shift += 7;
        if (!(file[pos++] & 0x80)) break;
    }
    nbytes = (size_t)((v >> 1) ^ (~(v & 1) + 1)); /* zigzag */
    CHECK_EQ_INT(nbytes, 1024);
    CHECK(nbytes < n);
    if (nbytes == 0 || nbytes >= n) {
        free(file);
        return;
    }
    bits = file + (n - nbytes);

    for (size_t i = 0; i < BZ_ARRAY_LEN(azIn); i++)
        CHECK_EQ_INT(pq_bloom_check(bits, nbytes, pq_bloom_hash(azIn[i], strlen(azIn[i]))), 1);
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(key, sizeof key, "absent-%d", i);
        fp += pq_bloom_check(bits, nbytes, pq_bloom_hash(key, (size_t)len));
    }
    CHECK(fp < 500); /* 4 values in 32 blocks: a few percent at most */

    /* Inserting the same four strings into an empty bitset gives back the
    ** file's bitset bit for bit: block choice, salts and word order agree. */
    CHECK_EQ_INT(popcount(bits, nbytes), 32);
    mine = calloc(nbytes, 1);
    for (size_t i = 0; i < BZ_ARRAY_LEN(azIn); i++)
        pq_bloom_insert(mine, nbytes, pq_bloom_hash(azIn[i], strlen(azIn[i])));
    CHECK(memcmp(mine, bits, nbytes) == 0);
    free(mine);
    free(file);
}

/* A filter filled here with INT64 values (plain encoding = 8 LE bytes). */
static void test_own_filter(void) {
    size_t nbytes = 4096;
    uint8_t *bits = calloc(nbytes, 1), le[8];
    int missing = 0, fp = 0;
    for (int64_t v = 0; v < 1000; v++) {
        for (int b = 0; b < 8; b++)
            le[b] = (uint8_t)((uint64_t)(v * 7919) >> (8 * b));
        pq_bloom_insert(bits, nbytes, pq_bloom_hash(le, 8));
    }
    for (int64_t v = 0; v < 1000; v++) {
        for (int b = 0; b < 8; b++)
            le[b] = (uint8_t)((uint64_t)(v * 7919) >> (8 * b));
        missing += !pq_bloom_check(bits, nbytes, pq_bloom_hash(le, 8));
    }
    CHECK_EQ_INT(missing, 0);
    for (int64_t v = 0; v < 10000; v++) {
        for (int b = 0; b < 8; b++)
            le[b] = (uint8_t)((uint64_t)(v * 7919 + 1) >> (8 * b));
        fp += pq_bloom_check(bits, nbytes, pq_bloom_hash(le, 8));
    }
    CHECK(fp < 500);
    free(bits);
}

/* Block selection at the edges, and bitsets that cannot be probed. */
static void test_edges(void) {
    uint8_t bits[96] = {0}, odd[33] = {0};
    uint64_t top = 0xFFFFFFFF00000000ull | 12345u, bottom = 12345u;
    pq_bloom_insert(bits, sizeof bits, top); /* ((2^32-1) * 3) >> 32 = block 2 */
    CHECK_EQ_INT(popcount(bits, 64), 0);
    CHECK_EQ_INT(popcount(bits + 64, 32), 8);
    pq_bloom_insert(bits, sizeof bits, bottom); /* block 0 */
    CHECK_EQ_INT(popcount(bits, 32), 8);
    CHECK_EQ_INT(popcount(bits + 32, 32), 0);
    CHECK_EQ_INT(pq_bloom_check(bits, sizeof bits, top), 1);
    CHECK_EQ_INT(pq_bloom_check(bits, sizeof bits, bottom), 1);
    /* Same key in the middle block: absent. */
    CHECK_EQ_INT(pq_bloom_check(bits, sizeof bits, 0x8000000000000000ull | 12345u), 0);

    /* Unusable bitsets answer "may be present" and are never written. */
    CHECK_EQ_INT(pq_bloom_check(NULL, 0, 1), 1);
    CHECK_EQ_INT(pq_bloom_check(bits, 0, 1), 1);
    CHECK_EQ_INT(pq_bloom_check(odd, sizeof odd, 1), 1);
    pq_bloom_insert(odd, sizeof odd, 1);
    pq_bloom_insert(NULL, 0, 1);
    CHECK_EQ_INT(popcount(odd, sizeof odd), 0);
}

int main(void) {
    test_xxhash64();
    test_parquet_mr_filter();
    test_own_filter();
    test_edges();
    TEST_DONE();
}
