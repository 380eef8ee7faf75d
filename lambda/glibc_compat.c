/*
** glibc_compat.c: arc4random and arc4random_buf for the Lambda bootstrap
** only (linked into $(B)/lambda/bootstrap, not into build/hbee).
**
** Rationale (portability): the provided.al2023 runtime has glibc 2.34, and a
** binary that needs a newer symbol version does not start there. Debian 12's
** libexpat and libstdc++ (through libsnappy) call arc4random_buf /
** arc4random, which glibc added in 2.36. The bootstrap links those two
** libraries statically, so their calls bind to these definitions at link
** time and the binary asks nothing above GLIBC_2.34 (tests/integration/
** hbee_lambda_zip.py checks every ELF file of the zip). Both draw from
** getrandom(2) (glibc 2.25), as glibc's own arc4random does.
**
** _dl_find_object (glibc 2.35) is what the static libgcc unwinder of GCC 12
** (libgcc_eh, linked with libstdc++) asks to find an address's .eh_frame
** when an exception unwinds; this one answers from dl_iterate_phdr (glibc
** 2.2.5), the walk libgcc itself did before glibc 2.35 had the call.
*/
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void arc4random_buf(void *p, size_t n) {
    unsigned char *b = p;
    while (n) {
        ssize_t k = getrandom(b, n, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            abort(); /* glibc's arc4random aborts too when the kernel has no entropy source */
        }
        b += k;
        n -= (size_t)k;
    }
}

uint32_t arc4random(void) {
    uint32_t v;
    arc4random_buf(&v, sizeof v);
    return v;
}

uint32_t arc4random_uniform(uint32_t upper) {
    uint32_t min, r;
    if (upper < 2) return 0;
    min = -upper % upper; /* reject the low values that would bias the modulo */
    do
        r = arc4random();
    while (r < min);
    return r % upper;
}

typedef struct FindCtx {
    uintptr_t pc;
    struct dl_find_object *out;
    int found;
} FindCtx;

static int find_cb(struct dl_phdr_info *info, size_t size, void *arg) {
    FindCtx *f = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0, eh = 0;
    int hit = 0;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            if (a < lo) lo = a;
            if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
            if (f->pc >= a && f->pc < a + ph->p_memsz) hit = 1;
        } else if (ph->p_type == PT_GNU_EH_FRAME) {
            eh = a;
        }
    }
    if (!hit) return 0;
    memset(f->out, 0, sizeof *f->out);
    f->out->dlfo_map_start = (void *)lo;
    f->out->dlfo_map_end = (void *)hi;
    f->out->dlfo_eh_frame = (void *)eh;
    f->found = 1;
    return 1;
}

int _dl_find_object(void *address, struct dl_find_object *result) {
    FindCtx f = {(uintptr_t)address, result, 0};
    dl_iterate_phdr(find_cb, &f);
    return f.found ? 0 : -1;
}
