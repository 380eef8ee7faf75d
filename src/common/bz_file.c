/*
** bz_file.c: BzReadAt over a local file with pread(2). See bz_readat.h.
*/
#include "bz_readat.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct BzFile {
    BzReadAt base;
    int fd;
} BzFile;

static int file_read_at(BzReadAt *src, uint64_t off, size_t n, void *dst, BzErr *err) {
    BzFile *f = (BzFile *)src;
    size_t done = 0;
    if (off > src->size || n > src->size - off)
        return bz_err(err, BZ_CORRUPT, "%s: read of %zu bytes at offset %llu is past the end (%llu bytes)",
                      src->name, n, (unsigned long long)off, (unsigned long long)src->size);
    src->n_requests++;
    while (done < n) {
        ssize_t k = pread(f->fd, (char *)dst + done, n - done, (off_t)(off + done));
        if (k < 0) {
            if (errno == EINTR) continue;
            return bz_err(err, BZ_IO, "%s: read failed: %s", src->name, strerror(errno));
        }
        if (k == 0) return bz_err(err, BZ_CORRUPT, "%s: file shrank while reading", src->name);
        done += (size_t)k;
    }
    src->bytes_read += n;
    return BZ_OK;
}

static void file_close(BzReadAt *src) {
    BzFile *f = (BzFile *)src;
    if (f->fd >= 0) close(f->fd);
    bz_free(src->name);
    bz_free(src->etag);
    bz_free(f);
}

int bz_file_open(const char *path, BzReadAt **out, BzErr *err) {
    struct stat st;
    BzFile *f;
    int fd;
    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bz_err(err, errno == ENOENT ? BZ_NOTFOUND : BZ_IO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bz_err(err, BZ_IO, "%s: not a regular file", path);
    }
    f = bz_calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return bz_err(err, BZ_NOMEM, "%s: out of memory", path);
    }
    f->fd = fd;
    f->base.read_at = file_read_at;
    f->base.close = file_close;
    f->base.size = (uint64_t)st.st_size;
    f->base.local = 1;
    f->base.name = bz_strdup(path);
    f->base.etag = bz_mprintf("%lld-%lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                              (long)st.st_mtim.tv_nsec);
    if (!f->base.name || !f->base.etag) {
        file_close(&f->base);
        return bz_err(err, BZ_NOMEM, "%s: out of memory", path);
    }
    *out = &f->base;
    return BZ_OK;
}

int bz_readat_ranges(BzReadAt *src, const BzRange *r, int nr, BzErr *err) {
    int i, rc;
    if (src->read_ranges) return src->read_ranges(src, r, nr, err);
    for (i = 0; i < nr; i++) {
        rc = src->read_at(src, r[i].off, r[i].n, r[i].dst, err);
        if (rc) return rc;
    }
    return BZ_OK;
}

void bz_readat_close(BzReadAt *src) {
    if (src) src->close(src);
}
