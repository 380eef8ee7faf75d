/*
** plan.h: the distributed planner. Parses the SQL subset `hbee` accepts and
** rewrites one query into a partial query (run by every worker over its split)
** and a combine query (run once over the union of the partial rows); lists the
** splits of a `parquet` dataset. Plain C: no SQLite in this module.
**
** Usage:
**     PlanSelect *sel;  PlanQuery *q;
**     if (plan_parse("SELECT g, avg(x) FROM t GROUP BY g", &sel, &err)) ...
**     // plan_select_table(sel) == "t": the caller looks up t's columns
**     if (plan_rewrite(sel, cols, n_cols, &q, &err)) ...
**     // q->partial: SELECT "g" AS _g0, total("x") AS _a0, count("x") AS _a1
**     //             FROM split GROUP BY "g"
**     // q->combine: SELECT _g0 AS "g", total(_a0) / sum(_a1) AS "avg(x)"
**     //             FROM partials GROUP BY _g0
**     plan_query_free(q);  plan_select_free(sel);
**
** Query subset: SELECT [DISTINCT] over one table (optionally aliased) with
** WHERE, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET; aggregates count, sum,
** total, avg, min, max, group_concat (with DISTINCT and FILTER) anywhere in
** the SELECT list, HAVING and ORDER BY. Joins, subqueries, compound SELECTs,
** CTEs, window functions, parameters and non-deterministic functions are
** refused with an error naming the construct.
**
** Sections: plan_lex.c (tokenizer), plan_parse.c (parser, AST),
** plan_rewrite.c (partial/combine SQL), plan_split.c (dataset definition and
** splits).
*/
#ifndef PLAN_H
#define PLAN_H

#include "common/bz_common.h"

/* ---- plan_lex.c --------------------------------------------------------- */

enum {
    PT_EOF = 0,
    PT_ID,       /* bare identifier or keyword */
    PT_QID,      /* "quoted", [bracketed] or `backquoted` identifier */
    PT_STRING,   /* 'text' */
    PT_BLOB,     /* x'hex' */
    PT_INTEGER,  /* 123, 0x1f */
    PT_FLOAT,    /* 1.5, .5, 1e3 */
    PT_VARIABLE, /* ?, ?1, :a, @a, $a */
    PT_OP        /* punctuation and operators: ( ) , ; . + - * / % || << >> etc. */
};

typedef struct PlanToken {
    int type;      /* PT_* */
    const char *z; /* points into the SQL text */
    int n;
} PlanToken;

/* Next token of z starting at *pos (comments and white space skipped); *pos
** moves past it. Returns BZ_OK (PT_EOF at the end) or BZ_MISUSE for an
** unrecognized or unterminated token, with the offset in the message. */
int plan_lex_next(const char *z, int *pos, PlanToken *tok, BzErr *err);

/* 1 if the token is the keyword kw (upper case), case-insensitively. */
int plan_tok_is(const PlanToken *t, const char *kw);

/* 1 if the word cannot be a bare identifier or alias in our grammar. */
int plan_is_reserved(const char *z, int n);

/* ---- plan_parse.c --------------------------------------------------------- */

/* Expression node kinds. */
enum {
    PE_LIT,     /* z: literal text as written (number, 'string', x'blob', NULL, TRUE) */
    PE_COL,     /* z: column name; zQual: table or alias qualifier (NULL if none) */
    PE_FUNC,    /* z: lower-case name; a: arguments; bStar, bDistinct; pFilter */
    PE_UNARY,   /* z: "-", "+", "~" or "NOT"; a[0] */
    PE_BINARY,  /* z: operator ("+", "AND", "IS NOT", "NOT LIKE"...); a[0], a[1],
                ** a[2] the ESCAPE expression of LIKE when present */
    PE_ISNULL,  /* bNot: IS NOT NULL; a[0] */
    PE_BETWEEN, /* bNot; a[0] BETWEEN a[1] AND a[2] */
    PE_IN,      /* bNot; a[0] IN (a[1], ...) */
    PE_CASE,    /* bBase: a[0] is the operand; then WHEN/THEN pairs; bElse: last is ELSE */
    PE_CAST,    /* a[0]; z: type name */
    PE_COLLATE, /* a[0]; z: collation name */
    PE_REF      /* z: a column of the partial result (rewrite output, printed bare) */
};

typedef struct PlanExpr PlanExpr;
struct PlanExpr {
    int op; /* PE_* */
    char *z;
    char *zQual;
    PlanExpr **a;
    int nA;
    PlanExpr *pFilter; /* aggregate FILTER (WHERE ...) */
    int bStar, bDistinct, bNot, bBase, bElse;
    int iCol;          /* PE_COL: index into the table's columns after resolution, else -1 */
    const char *zSpan; /* original text of the expression (points into the SQL) */
    int nSpan;
};

typedef struct PlanResultCol {
    PlanExpr *pExpr; /* NULL for * and t.* */
    char *zAlias;    /* AS name, NULL if none */
    char *zStarQual; /* t.* qualifier */
    int bStar;
} PlanResultCol;

typedef struct PlanOrderTerm {
    PlanExpr *pExpr;
    int bDesc;
    int nulls; /* 0 default, 1 NULLS FIRST, 2 NULLS LAST */
} PlanOrderTerm;

/* A parsed SELECT. Every node and string lives in the select's arena. */
typedef struct PlanSelect {
    struct PlanArena *arena;
    const char *zSql; /* private copy of the text the spans point into */
    int bDistinct;
    PlanResultCol *aCol;
    int nCol;
    char *zSchema; /* FROM schema.table: schema or NULL */
    char *zTable;
    char *zAlias;
    PlanExpr *pWhere;
    PlanExpr **aGroup;
    int nGroup;
    PlanExpr *pHaving;
    PlanOrderTerm *aOrder;
    int nOrder;
    PlanExpr *pLimit;
    PlanExpr *pOffset;
} PlanSelect;

/* Parse one SELECT statement (a trailing ';' is allowed). On success *out is
** owned by the caller (plan_select_free). Errors are BZ_MISUSE for syntax
** ("near \"FORM\": syntax error") and BZ_UNSUPPORTED for constructs outside
** the subset ("joins are not supported"). */
int plan_parse(const char *zSql, PlanSelect **out, BzErr *err);
void plan_select_free(PlanSelect *s);

/* Zeroed memory owned by the select's arena (freed with it); NULL on OOM. */
void *plan_select_alloc(PlanSelect *s, size_t n);

/* Append e as SQL text (identifiers double-quoted, PE_REF bare). */
void plan_expr_print(BzBuf *b, const PlanExpr *e);

/* 1 if a and b are the same expression (names case-insensitive, column
** references compared by resolved index when both are resolved). */
int plan_expr_equal(const PlanExpr *a, const PlanExpr *b);

/* Explicit collation of an expression following SQLite's rules (the
** leftmost COLLATE operand wins), or NULL. */
const char *plan_expr_collation(const PlanExpr *e);

/* Function classes for plan_func_class. */
enum {
    PF_UNKNOWN = 0, /* not allowed */
    PF_SCALAR,      /* deterministic scalar */
    PF_AGG,         /* aggregate we know how to split */
    PF_NONDET       /* non-deterministic: refused */
};
/* Class of function `name` called with nArg arguments (min/max with 2+
** arguments are scalar). Shared with the workers' authorizer. */
int plan_func_class(const char *zName, int nArg);

/* ---- plan_rewrite.c ---------------------------------------------------------- */

/* A column of the dataset table, as declared by the user's connection. */
typedef struct PlanColumn {
    const char *zName;
    const char *zType; /* declared type ("INTEGER", "REAL", "TEXT", "BLOB", "") */
    int bHidden;       /* not part of SELECT * (e.g. the parquet `filename` column) */
} PlanColumn;

/* The rewritten query. All strings and arrays are owned (bz_malloc). */
typedef struct PlanQuery {
    char *zPartial;     /* SQL each worker runs over table `split` */
    char *zCombine;     /* SQL run over table `partials` */
    char *zPartialsDdl; /* CREATE TABLE partials(...) with the partial columns' types */
    int nOut;
    char **azOut; /* output column names, unique */
    int nPart;
    char **azPart;     /* partial result columns (_g0, _a0, ...) */
    char **azPartType; /* their declared types ("" = none) */
    int nNeed;
    char **azNeed;  /* dataset columns the partial query reads */
    int bAggregate; /* GROUP BY / aggregates present */
    int64_t nTopN;  /* rows each split returns at most (-1: all) */
} PlanQuery;

/* Rewrite a parsed SELECT over a table with the given columns. Resolves
** column names (qualifiers must name the table or its alias), result-column
** aliases and positions in GROUP BY / ORDER BY, and checks aggregate use.
** On success *out is owned by the caller (plan_query_free). The select may
** be modified (resolution) but stays owned by the caller. */
int plan_rewrite(PlanSelect *s, const PlanColumn *aCol, int nCol, PlanQuery **out, BzErr *err);
void plan_query_free(PlanQuery *q);

/* ---- plan_split.c ------------------------------------------------------------- */

/* The definition of a `parquet` or `dynamodb` table read back from
** sqlite_schema.sql. */
enum { PLAN_DS_PARQUET = 0, PLAN_DS_DYNAMODB = 1 };
typedef struct PlanDataset {
    int eKind; /* PLAN_DS_* */
    int nPath;
    char **azPath; /* paths / globs as given (unquoted) */
    int nOpt;
    char **azKey; /* options, e.g. "hive_partitioning" */
    char **azVal; /* their values as written (unquoted) */
} PlanDataset;

/* Parse "CREATE VIRTUAL TABLE name USING parquet(args)" (or dynamodb(...))
** into paths and options with the parquet table's rules (an argument
** key=value with a bare identifier key is an option, anything else a path;
** a dynamodb table has options only). BZ_MISUSE when the text is not a
** CREATE VIRTUAL TABLE ... USING parquet / dynamodb. Caller frees with
** plan_dataset_clear. */
int plan_dataset_parse(const char *zCreate, PlanDataset *out, BzErr *err);
void plan_dataset_clear(PlanDataset *d);
/* Value of option zKey (case-insensitive), or NULL. */
const char *plan_dataset_option(const PlanDataset *d, const char *zKey);
/* 1 if a dynamodb table option travels to the workers in a task: table,
** columns, index, consistent, numbers, page_size, region, endpoint. Never
** profile (workers take credentials from their own environment or role),
** nor segments/full_scan/batch or executor options. Workers refuse others. */
int plan_ddb_option_shipped(const char *zKey);

/* One unit of work: row groups of one file, or one parallel-scan segment
** of a DynamoDB table (nSegments > 0; zPath is the table name). */
typedef struct PlanSplit {
    char *zPath;
    int iSegment, nSegments;
    int nRg;
    int *aRg;       /* row group indexes, ascending */
    int64_t nRows;  /* rows in those row groups */
    int64_t nBytes; /* compressed bytes of the needed columns in them */
} PlanSplit;

typedef struct PlanSplits {
    int n;
    PlanSplit *a;
    int64_t nFiles;
} PlanSplits;

/* Group consecutive row groups of sizes aSize[0..n) into ranges of about
** target bytes (a row group larger than target is a range alone). Writes
** range starts to aStart (n entries at most) and returns their count. */
int plan_group_row_groups(const int64_t *aSize, int n, int64_t target, int *aStart);

/* How the planner reaches remote files (s3://...): plan stays free of the
** network; src/exec supplies an implementation (exec_plan_fs_s3). */
struct PqFileList;
struct BzReadAt;
typedef struct PlanFs {
    void *ctx;
    /* Append the files matching a remote pattern (object, prefix or glob). */
    int (*expand)(void *ctx, const char *zPattern, struct PqFileList *out, BzErr *err);
    /* Open a remote file; size UINT64_MAX and etag NULL when unknown. */
    int (*open)(void *ctx, const char *zPath, uint64_t size, const char *zEtag,
                struct BzReadAt **out, BzErr *err);
} PlanFs;

/* Expand the dataset's paths (local files; s3:// ones through fs, refused
** when fs is NULL) and list its splits: splits of consecutive row groups of
** about split_bytes each (see PLAN_SPLIT_FILES), smaller when that gives
** fewer than nMinSplits splits (plan_split_target; 0: no minimum).
** azNeed names the columns whose bytes count. Caller frees with
** plan_splits_clear. */
int plan_splits_list(const PlanDataset *d, const PlanFs *fs, char **azNeed, int nNeed,
                     int64_t split_bytes, int nMinSplits, PlanSplits *out, BzErr *err);
/* The byte target plan_splits_list groups row groups by: split_bytes, or
** when the nSplits splits that gives are fewer than nMinSplits, total /
** nMinSplits (total: needed compressed bytes of the dataset) but not below
** PLAN_MIN_SPLIT_BYTES and never above split_bytes. A row group is never cut
** and never shares a split with another file's.
** Rationale: with as many splits as workers or fewer (one large file: one
** split), one worker runs the whole query or the slowest split sets the
** time; four splits a worker let the queue even out uneven splits and a
** busy core. The floor keeps the per-task cost (a CREATE VIRTUAL TABLE and
** a footer parse on the worker's connection, about 1 ms) small against the
** scan of each split. */
int64_t plan_split_target(int64_t total, int nSplits, int64_t split_bytes, int nMinSplits);
#define PLAN_MIN_SPLIT_BYTES ((int64_t)1 << 20)
void plan_splits_clear(PlanSplits *s);

/* DynamoDB TotalSegments bounds (DynamoDB accepts up to 1,000,000). */
#define PLAN_DDB_MAX_SEGMENTS 1000000
/* The splits of a dynamodb dataset: nSegments parallel-scan segments of its
** `table` (rows and bytes unknown: 0). BZ_MISUSE without a table option or
** with nSegments out of range. Caller frees with plan_splits_clear. */
int plan_splits_segments(const PlanDataset *d, int nSegments, PlanSplits *out, BzErr *err);

/* A worker reads its split through a `parquet` table over the split's file
** with the table's row_groups option; 1 would make every split a whole file. */
#define PLAN_SPLIT_FILES 0

#endif /* PLAN_H */
