/*
** pq_dataset.c: local path expansion and hive partition parsing.
** See pq_dataset.h.
*/
#include "pq_dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int pq_has_wildcard(const char *z) {
    return strpbrk(z, "*?[") != NULL;
}

int pq_file_list_add_obj(PqFileList *l, const char *path, uint64_t size, const char *tag) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **p = bz_realloc(l->paths, (size_t)cap * sizeof *p);
        if (!p) return BZ_NOMEM;
        l->paths = p;
        uint64_t *sz = bz_realloc(l->sizes, (size_t)cap * sizeof *sz);
        if (!sz) return BZ_NOMEM;
        l->sizes = sz;
        char **et = bz_realloc(l->etags, (size_t)cap * sizeof *et);
        if (!et) return BZ_NOMEM;
        l->etags = et;
        l->cap = cap;
    }
    l->paths[l->n] = bz_strdup(path);
    l->sizes[l->n] = size;
    l->etags[l->n] = tag ? bz_strdup(tag) : NULL;
    if (!l->paths[l->n] || (tag && !l->etags[l->n])) {
        bz_free(l->paths[l->n]);
        bz_free(l->etags[l->n]);
        return BZ_NOMEM;
    }
    l->n++;
    return BZ_OK;
}

int pq_file_list_add(PqFileList *l, const char *path) {
    return pq_file_list_add_obj(l, path, UINT64_MAX, NULL);
}

void pq_file_list_free(PqFileList *l) {
    for (int i = 0; i < l->n; i++) {
        bz_free(l->paths[i]);
        bz_free(l->etags[i]);
    }
    bz_free(l->paths);
    bz_free(l->sizes);
    bz_free(l->etags);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk dir recursively (depth-limited), adding regular files that match
** pattern (or every visible file when pattern is NULL). */
static int walk(const char *dir, const char *pattern, PqFileList *out, int depth, BzErr *err) {
    DIR *d;
    struct dirent *e;
    int rc = BZ_OK;
    if (depth > 64) return BZ_OK;
    d = opendir(dir);
    if (!d) return BZ_OK; /* unreadable subdirectories are skipped, like a listing */
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        char *path;
        if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0)))
            continue;
        if (!pattern && (e->d_name[0] == '.' || e->d_name[0] == '_')) continue;
        path = strcmp(dir, ".") == 0 && pattern && strncmp(pattern, "./", 2) != 0
                   ? bz_strdup(e->d_name)
                   : bz_mprintf("%s/%s", dir, e->d_name);
        if (!path) {
            rc = bz_err(err, BZ_NOMEM, "out of memory");
            break;
        }
        if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                rc = walk(path, pattern, out, depth + 1, err);
            } else if (S_ISREG(st.st_mode) && (!pattern || bz_glob_match(pattern, path))) {
                if (pq_file_list_add(out, path)) rc = bz_err(err, BZ_NOMEM, "out of memory");
            }
        }
        bz_free(path);
        if (rc) break;
    }
    closedir(d);
    return rc;
}

int pq_expand_local(const char *pattern, PqFileList *out, BzErr *err) {
    return pq_expand_local_ex(pattern, 1, out, err);
}

int pq_expand_local_ex(const char *pattern, int bGlob, PqFileList *out, BzErr *err) {
    struct stat st;
    int first = out->n, rc;
    if (!bGlob || !pq_has_wildcard(pattern)) {
        if (stat(pattern, &st) != 0)
            return bz_err(err, errno == ENOENT ? BZ_NOTFOUND : BZ_IO, "%s: %s", pattern, strerror(errno));
        if (S_ISDIR(st.st_mode)) {
            rc = walk(pattern, NULL, out, 0, err);
        } else {
            rc = pq_file_list_add(out, pattern) ? bz_err(err, BZ_NOMEM, "out of memory") : BZ_OK;
        }
    } else {
        /* static prefix directory: up to the last '/' before the first wildcard */
        const char *w = strpbrk(pattern, "*?[");
        const char *slash = w;
        char *dir;
        while (slash > pattern && *slash != '/') slash--;
        if (*slash == '/') dir = bz_strndup(pattern, (size_t)(slash - pattern) ? (size_t)(slash - pattern) : 1);
        else dir = bz_strdup(".");
        if (!dir) return bz_err(err, BZ_NOMEM, "out of memory");
        rc = walk(dir, pattern, out, 0, err);
        bz_free(dir);
    }
    if (rc) return rc;
    /* nothing found: paths may be NULL, and qsort(NULL, 0, ...) is UB */
    if (out->n > first) qsort(out->paths + first, (size_t)(out->n - first), sizeof(char *), cmp_str);
    return BZ_OK;
}

void pq_hive_segments(const char *path, void (*cb)(void *, const char *, size_t, const char *,
                                                   size_t),
                      void *ctx) {
    const char *seg = path, *end;
    const char *last = strrchr(path, '/');
    if (!last) return;
    while (seg < last) {
        end = strchr(seg, '/');
        if (!end || end > last) end = last;
        const char *eq = memchr(seg, '=', (size_t)(end - seg));
        if (eq && eq > seg) cb(ctx, seg, (size_t)(eq - seg), eq + 1, (size_t)(end - eq - 1));
        seg = end + 1;
    }
}
