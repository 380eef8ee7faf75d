/*
** pq_bloom.h: XXH64 and the Parquet split-block bloom filter.
**
** A column chunk may carry a bloom filter (ColumnMetaData.bloom_filter_offset):
** a Thrift BloomFilterHeader, then `numBytes` bytes of bitset. Parsing that
** header is the reader's business; this module only hashes values and probes
** or fills the bitset.
**
** Usage:
**     int32_t v = 42;                       // plain encoding, little-endian
**     uint64_t h = pq_bloom_hash(&v, 4);    // on a little-endian host
**     if (!pq_bloom_check(bitset, nbytes, h)) skip_row_group();
**
** The hash input is the value's PLAIN encoding: INT32/INT64/FLOAT/DOUBLE as
** little-endian bytes, BYTE_ARRAY as its bytes without the length prefix,
** FIXED_LEN_BYTE_ARRAY as its bytes.
**
** Spec: parquet-format BloomFilter.md (split block bloom filter, XXH64 with
** seed 0); XXH64 from the xxHash specification (doc/xxhash_spec.md).
*/
#ifndef PQ_BLOOM_H
#define PQ_BLOOM_H

#include <stddef.h>
#include <stdint.h>

/* XXH64 of p[0..n) with `seed`. p may be NULL when n is 0. */
uint64_t pq_xxhash64(const void *p, size_t n, uint64_t seed);

/* The hash Parquet bloom filters use: XXH64 with seed 0 of the plain-encoded
** value (see above). */
uint64_t pq_bloom_hash(const void *p, size_t n);

/* Probe a split-block bitset of nbytes bytes (32-byte blocks of eight
** little-endian 32-bit words). Returns 0 if a value with this hash is
** definitely absent, 1 if it may be present. A bitset whose size is 0 or not
** a multiple of 32 cannot be probed: the answer is then 1, so a caller that
** skips data on 0 never skips wrongly. */
int pq_bloom_check(const uint8_t *bitset, size_t nbytes, uint64_t hash);

/* Set the eight bits of `hash` in the bitset (used by tests and writers). No-op
** when nbytes is 0 or not a multiple of 32. */
void pq_bloom_insert(uint8_t *bitset, size_t nbytes, uint64_t hash);

#endif /* PQ_BLOOM_H */
