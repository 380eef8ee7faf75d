/*
** fuzz_common.h: what the fuzz targets of tests/fuzz/ share.
**
**   - fuzz_mem_open(): a BzReadAt over bytes in memory, so a target can hand
**     its input to pq_file_open as a whole Parquet file (no file system).
**   - FUZZ_TARGET(name): the entry point. Built for libFuzzer (clang
**     -fsanitize=fuzzer, see the Makefile's build-fuzz rules) it is
**     LLVMFuzzerTestOneInput; built into the replay driver (fuzz_replay.c, the
**     normal compiler, no libFuzzer) every target keeps its own name,
**     fuzz_<name>_one, so one binary can run them all.
**
** Usage (a target):
**     #include "fuzz_common.h"
**     FUZZ_TARGET(meta) { ... parse data[0..size) ...; return 0; }
**
** Targets must not print, exit or leak: an input that makes the code under
** test misbehave is found by the sanitizers, never by the target itself.
*/
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/bz_readat.h"

#ifdef FUZZ_REPLAY
#define FUZZ_TARGET(name) int fuzz_##name##_one(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name)                                                                          \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

/* Little-endian 32-bit read (inputs carry sizes this way). */
static inline uint32_t fuzz_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- In-memory BzReadAt ---------------------------------------------- */

typedef struct FuzzMem {
    BzReadAt base;
    const uint8_t *data; /* not owned: the fuzzer's input outlives the PqFile */
} FuzzMem;

static inline int fuzz_mem_read_at(BzReadAt *src, uint64_t off, size_t n, void *dst, BzErr *err) {
    FuzzMem *m = (FuzzMem *)src;
    if (off > src->size || n > src->size - off)
        return bz_err(err, BZ_CORRUPT, "%s: read of %zu bytes at offset %llu is past the end",
                      src->name, n, (unsigned long long)off);
    src->n_requests++;
    src->bytes_read += n;
    if (n) memcpy(dst, m->data + off, n);
    return BZ_OK;
}

static inline void fuzz_mem_close(BzReadAt *src) {
    bz_free(src->name);
    bz_free(src);
}

/* A source over data[0..size) named `name`. Returns NULL on OOM; the caller
** passes it to pq_file_open (which takes ownership) or bz_readat_close. */
static inline BzReadAt *fuzz_mem_open(const uint8_t *data, size_t size, const char *name) {
    FuzzMem *m = bz_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->data = data;
    m->base.read_at = fuzz_mem_read_at;
    m->base.close = fuzz_mem_close;
    m->base.size = size;
    m->base.name = bz_strdup(name);
    if (!m->base.name) {
        bz_free(m);
        return NULL;
    }
    return &m->base;
}

#endif /* FUZZ_COMMON_H */
