/*
** plan_split.c: read back a `parquet` table's definition and cut its files
** into splits.
**
**     PlanDataset d;  PlanSplits sp;
**     plan_dataset_parse("CREATE VIRTUAL TABLE t USING parquet('data/x.parquet', "
**                        "hive_partitioning=0)", &d, &err);
**     plan_splits_list(&d, NULL, need, n_need, 64 << 20, 8, &sp, &err);  // fs: s3:// paths
**     for (i = 0; i < sp.n; i++) sp.a[i].zPath, sp.a[i].nRg, sp.a[i].nBytes ...
**     plan_splits_clear(&sp);  plan_dataset_clear(&d);
**
** The argument rules are the parquet table's (ext/vtab_parquet.c): an
** argument `key=value` whose key is a bare identifier is an option, any other
** argument a path, directory or glob; quotes ('x', "x", [x], `x`) are removed.
*/
#include "plan/plan.h"

#include <string.h>
#include <strings.h>

#include "parquet/pq_dataset.h"
#include "parquet/pq_reader.h"

static int push_str(char ***arr, int *n, char *z) {
    if (!z) return BZ_NOMEM;
    char **na = bz_realloc(*arr, (size_t)(*n + 1) * sizeof *na);
    if (!na) {
        bz_free(z);
        return BZ_NOMEM;
    }
    na[(*n)++] = z;
    *arr = na;
    return BZ_OK;
}

/* Classify one raw argument a[0..n). */
static int add_arg(PlanDataset *d, const char *a, size_t n) {
    const char *eq = memchr(a, '=', n);
    int is_opt = 0;
    const char *k = a;
    while (k < a + n && *k == ' ')
        k++;
    if (eq) {
        is_opt = k < eq && *k != '\'' && *k != '"';
        for (const char *q = k; q < eq && is_opt; q++)
            if (!(*q == '_' || *q == ' ' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                  (*q >= '0' && *q <= '9')))
                is_opt = 0;
    }
    if (!is_opt) return push_str(&d->azPath, &d->nPath, bz_unquote(a, n));
    const char *ke = eq;
    while (ke > k && ke[-1] == ' ')
        ke--;
    int nk = d->nOpt;
    if (push_str(&d->azKey, &nk, bz_strndup(k, (size_t)(ke - k)))) return BZ_NOMEM;
    if (push_str(&d->azVal, &d->nOpt, bz_unquote(eq + 1, (size_t)(a + n - eq - 1)))) {
        bz_free(d->azKey[nk - 1]);
        return BZ_NOMEM;
    }
    return BZ_OK;
}

int plan_dataset_parse(const char *zCreate, PlanDataset *d, BzErr *err) {
    static const char *const head[] = {"CREATE", "VIRTUAL", "TABLE"};
    PlanToken t;
    int pos = 0, rc;
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < BZ_ARRAY_LEN(head); i++) {
        if ((rc = plan_lex_next(zCreate, &pos, &t, err))) return rc;
        if (!plan_tok_is(&t, head[i])) goto not_parquet;
    }
    /* [IF NOT EXISTS] [schema.]name USING */
    for (;;) {
        if ((rc = plan_lex_next(zCreate, &pos, &t, err))) return rc;
        if (t.type == PT_EOF) goto not_parquet;
        if (plan_tok_is(&t, "USING")) break;
    }
    if ((rc = plan_lex_next(zCreate, &pos, &t, err))) return rc;
    if (plan_tok_is(&t, "DYNAMODB"))
        d->eKind = PLAN_DS_DYNAMODB;
    else if (!plan_tok_is(&t, "PARQUET"))
        goto not_parquet;
    if ((rc = plan_lex_next(zCreate, &pos, &t, err))) return rc;
    if (t.type == PT_EOF) return BZ_OK;
    if (t.type != PT_OP || t.z[0] != '(') goto not_parquet;
    int depth = 0;
    const char *arg = NULL, *arg_end = NULL;
    for (;;) {
        if ((rc = plan_lex_next(zCreate, &pos, &t, err))) goto fail;
        if (t.type == PT_EOF) {
            rc = bz_err(err, BZ_MISUSE, "unterminated argument list in the table definition");
            goto fail;
        }
        if (t.type == PT_OP && t.n == 1 && depth == 0 && (t.z[0] == ',' || t.z[0] == ')')) {
            if (arg && add_arg(d, arg, (size_t)(arg_end - arg))) {
                rc = bz_err(err, BZ_NOMEM, "out of memory");
                goto fail;
            }
            arg = NULL;
            if (t.z[0] == ')') break;
            continue;
        }
        if (t.type == PT_OP && t.n == 1 && t.z[0] == '(') depth++;
        if (t.type == PT_OP && t.n == 1 && t.z[0] == ')') depth--;
        if (!arg) arg = t.z;
        arg_end = t.z + t.n;
    }
    if (d->eKind == PLAN_DS_DYNAMODB && d->nPath > 0) {
        rc = bz_err(err, BZ_MISUSE, "dynamodb table definition: argument %.40s is not key=value",
                    d->azPath[0]);
        goto fail;
    }
    return BZ_OK;
not_parquet:
    return bz_err(err, BZ_MISUSE, "not a parquet or dynamodb table definition: %.80s", zCreate);
fail:
    plan_dataset_clear(d);
    return rc;
}

void plan_dataset_clear(PlanDataset *d) {
    for (int i = 0; i < d->nPath; i++)
        bz_free(d->azPath[i]);
    for (int i = 0; i < d->nOpt; i++) {
        bz_free(d->azKey[i]);
        bz_free(d->azVal[i]);
    }
    bz_free(d->azPath);
    bz_free(d->azKey);
    bz_free(d->azVal);
    memset(d, 0, sizeof *d);
}

const char *plan_dataset_option(const PlanDataset *d, const char *zKey) {
    for (int i = 0; i < d->nOpt; i++)
        if (strcasecmp(d->azKey[i], zKey) == 0) return d->azVal[i];
    return NULL;
}

int plan_ddb_option_shipped(const char *zKey) {
    static const char *const keys[] = {"table",     "columns", "index",  "consistent",
                                       "numbers",   "page_size", "region", "endpoint"};
    for (size_t i = 0; i < BZ_ARRAY_LEN(keys); i++)
        if (strcasecmp(zKey, keys[i]) == 0) return 1;
    return 0;
}

int plan_splits_segments(const PlanDataset *d, int nSegments, PlanSplits *out, BzErr *err) {
    const char *zTable = plan_dataset_option(d, "table");
    memset(out, 0, sizeof *out);
    if (!zTable || !*zTable)
        return bz_err(err, BZ_MISUSE, "the dynamodb table definition has no table= option");
    if (nSegments < 1 || nSegments > PLAN_DDB_MAX_SEGMENTS)
        return bz_err(err, BZ_MISUSE, "segments: expected 1 to %d, got %d", PLAN_DDB_MAX_SEGMENTS,
                      nSegments);
    out->a = bz_calloc((size_t)nSegments, sizeof *out->a);
    if (!out->a) return bz_err(err, BZ_NOMEM, "out of memory");
    for (int i = 0; i < nSegments; i++) {
        out->a[i].zPath = bz_strdup(zTable);
        out->a[i].iSegment = i;
        out->a[i].nSegments = nSegments;
        out->n = i + 1;
        if (!out->a[i].zPath) {
            plan_splits_clear(out);
            return bz_err(err, BZ_NOMEM, "out of memory");
        }
    }
    return BZ_OK;
}

int plan_group_row_groups(const int64_t *aSize, int n, int64_t target, int *aStart) {
    int k = 0;
    int64_t acc = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || (acc > 0 && acc + aSize[i] > target)) {
            aStart[k++] = i;
            acc = 0;
        }
        acc += aSize[i];
    }
    return k;
}

void plan_splits_clear(PlanSplits *s) {
    for (int i = 0; i < s->n; i++) {
        bz_free(s->a[i].zPath);
        bz_free(s->a[i].aRg);
    }
    bz_free(s->a);
    memset(s, 0, sizeof *s);
}

static int split_add(PlanSplits *s, const char *path, int first, int n, const int64_t *rows,
                     const int64_t *bytes) {
    PlanSplit *na = bz_realloc(s->a, (size_t)(s->n + 1) * sizeof *na);
    if (!na) return BZ_NOMEM;
    s->a = na;
    PlanSplit *sp = &na[s->n];
    memset(sp, 0, sizeof *sp);
    sp->zPath = bz_strdup(path);
    sp->aRg = bz_malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!sp->zPath || !sp->aRg) {
        bz_free(sp->zPath);
        bz_free(sp->aRg);
        return BZ_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        sp->aRg[i] = first + i;
        sp->nRows += rows[first + i];
        sp->nBytes += bytes[first + i];
    }
    sp->nRg = n;
    s->n++;
    return BZ_OK;
}

static int opt_bool(const PlanDataset *d, const char *key) {
    for (int i = 0; i < d->nOpt; i++)
        if (!strcmp(d->azKey[i], key))
            return !strcmp(d->azVal[i], "1") || !strcmp(d->azVal[i], "true") ||
                   !strcmp(d->azVal[i], "on") || !strcmp(d->azVal[i], "yes");
    return 0;
}

/* Row counts and needed compressed bytes per row group of one file. */
typedef struct FileRg {
    int n;          /* row groups */
    int64_t *rows;  /* per row group */
    int64_t *bytes; /* per row group: compressed bytes of the needed columns */
} FileRg;

static void file_rg_clear(FileRg *f) {
    bz_free(f->rows);
    bz_free(f->bytes);
    memset(f, 0, sizeof *f);
}

/* Open file iFile of fl and fill out with its row groups' rows and bytes. */
static int file_sizes(FileRg *out, const PlanFs *fs, const PqFileList *fl, int iFile,
                      const PlanDataset *d, char **azNeed, int nNeed, BzErr *err) {
    const char *path = fl->paths[iFile];
    BzReadAt *src;
    PqFile *pf = NULL;
    PqOpenOpts oo;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&oo, 0, sizeof oo);
    oo.binary_as_string = opt_bool(d, "binary_as_string");
    oo.decimal_as_text = opt_bool(d, "decimal_as_text");
    if (!strncmp(path, "s3://", 5))
        rc = fs->open(fs->ctx, path, fl->sizes ? fl->sizes[iFile] : UINT64_MAX,
                      fl->etags ? fl->etags[iFile] : NULL, &src, err);
    else
        rc = bz_file_open(path, &src, err);
    if (rc) return rc;
    if ((rc = pq_file_open(src, &oo, &pf, err))) return rc;
    const PqFileMeta *m = pf->meta;
    int n = m->n_row_groups;
    out->n = n;
    out->rows = bz_calloc((size_t)n + 1, sizeof *out->rows);
    out->bytes = bz_calloc((size_t)n + 1, sizeof *out->bytes);
    if (!out->rows || !out->bytes) {
        file_rg_clear(out);
        pq_file_close(pf);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    for (int g = 0; g < n; g++) {
        const PqRowGroup *rg = &m->row_groups[g];
        out->rows[g] = rg->num_rows;
        for (int c = 0; c < rg->n_columns; c++) {
            const PqColumnMeta *cm = &rg->columns[c].meta;
            if (!rg->columns[c].has_meta || cm->n_path < 1) continue;
            for (int k = 0; k < nNeed; k++)
                if (!strcmp(cm->path[0], azNeed[k])) {
                    out->bytes[g] += cm->total_compressed_size;
                    break;
                }
        }
    }
    pq_file_close(pf);
    return BZ_OK;
}

/* Append the splits of one file, row groups grouped to about target bytes. */
static int file_split(PlanSplits *out, const char *path, const FileRg *f, int64_t target,
                      BzErr *err) {
    int n = f->n, rc = BZ_OK;
    if (PLAN_SPLIT_FILES || n == 0)
        return split_add(out, path, 0, n, f->rows, f->bytes) ? bz_err(err, BZ_NOMEM, "out of memory")
                                                              : BZ_OK;
    int *starts = bz_calloc((size_t)n + 1, sizeof *starts);
    if (!starts) return bz_err(err, BZ_NOMEM, "out of memory");
    int k = plan_group_row_groups(f->bytes, n, target, starts);
    for (int i = 0; i < k && !rc; i++) {
        int end = i + 1 < k ? starts[i + 1] : n;
        if (split_add(out, path, starts[i], end - starts[i], f->rows, f->bytes))
            rc = bz_err(err, BZ_NOMEM, "out of memory");
    }
    bz_free(starts);
    return rc;
}

int64_t plan_split_target(int64_t total, int nSplits, int64_t split_bytes, int nMinSplits) {
    int64_t target = split_bytes > 0 ? split_bytes : 1;
    if (nMinSplits <= 0 || nSplits >= nMinSplits) return target;
    int64_t t = total / nMinSplits;
    if (t < PLAN_MIN_SPLIT_BYTES) t = PLAN_MIN_SPLIT_BYTES;
    return t < target ? t : target;
}

/* Splits plan_group_row_groups makes of the files at target bytes. */
static int count_splits(const FileRg *aF, int nFiles, int64_t target, int *starts) {
    int n = 0;
    for (int i = 0; i < nFiles; i++)
        n += PLAN_SPLIT_FILES || aF[i].n == 0 ? 1 : plan_group_row_groups(aF[i].bytes, aF[i].n,
                                                                           target, starts);
    return n;
}

int plan_splits_list(const PlanDataset *d, const PlanFs *fs, char **azNeed, int nNeed,
                     int64_t split_bytes, int nMinSplits, PlanSplits *out, BzErr *err) {
    PqFileList fl;
    FileRg *aF = NULL;
    int *starts = NULL;
    int64_t total = 0;
    int maxRg = 0, rc = BZ_OK;
    memset(out, 0, sizeof *out);
    memset(&fl, 0, sizeof fl);
    if (d->nPath == 0) return bz_err(err, BZ_MISUSE, "the parquet table has no path");
    for (int i = 0; i < d->nPath && !rc; i++) {
        if (!strncmp(d->azPath[i], "s3://", 5) && !fs)
            rc = bz_err(err, BZ_UNSUPPORTED, "hbee: no S3 access here (%s)", d->azPath[i]);
        else if (!strncmp(d->azPath[i], "s3://", 5))
            rc = fs->expand(fs->ctx, d->azPath[i], &fl, err);
        else
            rc = pq_expand_local(d->azPath[i], &fl, err);
    }
    if (!rc && fl.n == 0) rc = bz_err(err, BZ_NOTFOUND, "no file matches the given path(s)");
    if (!rc && !(aF = bz_calloc((size_t)fl.n + 1, sizeof *aF)))
        rc = bz_err(err, BZ_NOMEM, "out of memory");
    for (int i = 0; i < fl.n && !rc; i++) {
        rc = file_sizes(&aF[i], fs, &fl, i, d, azNeed, nNeed, err);
        for (int g = 0; !rc && g < aF[i].n; g++) total += aF[i].bytes[g];
        if (!rc && aF[i].n > maxRg) maxRg = aF[i].n;
    }
    if (!rc && !(starts = bz_calloc((size_t)maxRg + 1, sizeof *starts)))
        rc = bz_err(err, BZ_NOMEM, "out of memory");
    if (!rc) {
        int64_t target = split_bytes > 0 ? split_bytes : 1;
        if (nMinSplits > 0)
            target = plan_split_target(total, count_splits(aF, fl.n, target, starts), target,
                                       nMinSplits);
        for (int i = 0; i < fl.n && !rc; i++) rc = file_split(out, fl.paths[i], &aF[i], target, err);
    }
    for (int i = 0; aF && i < fl.n; i++) file_rg_clear(&aF[i]);
    bz_free(aF);
    bz_free(starts);
    out->nFiles = fl.n;
    pq_file_list_free(&fl);
    if (rc) plan_splits_clear(out);
    return rc;
}
