/*
** aws_ddb.h: DynamoDB over the JSON protocol (API version 2012-08-10), for
** the `dynamodb` virtual table. Plain C: no SQLite here.
**
**   - a client (AwsDdb) that sends `POST /` with `X-Amz-Target:
**     DynamoDB_20120810.<Op>`, signed for service "dynamodb", through
**     aws_client_run (so calls run concurrently and are retried);
**   - DescribeTable as a plain struct (key schema, indexes);
**   - reads (Scan, parallel Scan, Query, GetItem, BatchGetItem) whose answers
**     come back as rows of AwsDdbValue cells for a list of attribute names;
**   - a write set (AwsDdbTxn) applied with TransactWriteItems (atomic, up to
**     100 items) or BatchWriteItem (non-atomic, unlimited);
**   - the value codecs: DynamoDB AttributeValue <-> SQLite-like scalars and
**     plain JSON (M/L/sets <-> JSON text), base64, numbers.
** cJSON is used inside this module only (read answers are decoded in one
** pass without it, aws_ddb_reply.c); everything that crosses the header is a
** C struct or text.
**
** Usage:
**     AwsDdb *d;
**     AwsDdbTable ti;
**     if (aws_ddb_new(&(AwsDdbOptions){0}, &d, &err)) return err.code;
**     if (aws_ddb_describe(d, "sheep", &ti, &err)) ...;
**     const char *cols[] = {"tattoo", "weight"};
**     AwsDdbRead r = {.op = AWS_DDB_SCAN, .table = "sheep"};
**     AwsDdbRows rows = {0};
**     do {
**         if (aws_ddb_read(d, &r, 1, cols, 2, 0, 0, &rows, &err)) break;
**         ... rows.cells[i * 2 + 1].i ...  // r.start_key now holds the next page
**     } while (r.start_key);
**     aws_ddb_rows_free(&rows);
**     aws_ddb_table_clear(&ti);
**     aws_ddb_free(d);
**
** Spec: Amazon DynamoDB API Reference (Scan, Query, GetItem, BatchGetItem,
** PutItem, UpdateItem, DeleteItem, TransactWriteItems, BatchWriteItem,
** DescribeTable; "Data types" for AttributeValue).
*/
#ifndef AWS_DDB_H
#define AWS_DDB_H

#include "aws/aws_http.h"
#include "common/bz_common.h"

#include <stdint.h>

/* ---- values ---------------------------------------------------------------- */

enum { AWS_DDB_NULL = 0, AWS_DDB_INT, AWS_DDB_REAL, AWS_DDB_TEXT, AWS_DDB_BLOB };

/* A scalar as SQLite sees it. In rows returned by this module z lives in the
** rows' arena (until aws_ddb_rows_reset/free); in requests it is borrowed. */
typedef struct AwsDdbValue {
    int type;       /* AWS_DDB_* */
    int is_json;    /* TEXT holding JSON (from M, L, SS, NS, BS) */
    int64_t i;
    double r;
    char *z;        /* TEXT (NUL-terminated) or BLOB bytes */
    size_t n;
} AwsDdbValue;

/* How N (number) attributes read: AUTO gives INTEGER when integral and within
** int64, else REAL; TEXT keeps every digit as TEXT. */
enum { AWS_DDB_NUM_AUTO = 0, AWS_DDB_NUM_TEXT = 1 };

/* Append v as a DynamoDB AttributeValue object ({"S":..}, {"N":..}, ...).
** key_type 'S', 'N' or 'B' coerces losslessly to a key's type (numeric text
** for N, numbers for S); 0 picks from the value: INTEGER/REAL -> N, BLOB -> B,
** TEXT -> M/L when json_ok and the text is a JSON object or array, else S.
** NULL appends {"NULL":true}. Returns BZ_OK, or BZ_MISUSE for NaN/infinity or
** invalid JSON marked is_json (message in *err). */
int aws_ddb_value_json(BzBuf *b, const AwsDdbValue *v, char key_type, int json_ok, BzErr *err);

/* Convert plain JSON text (object, array, string, number, true/false, null)
** into a DynamoDB AttributeValue, appended to b; number literals keep their
** digits. BZ_CORRUPT (with the offset) when z is not JSON. */
int aws_ddb_json_to_av(BzBuf *b, const char *z, size_t n, BzErr *err);
/* Same for an object, appending its members as AttributeValue map entries
** (`"a":{"S":"x"},...`, no braces; *n_members counts them). */
int aws_ddb_json_object_members(BzBuf *b, const char *z, size_t n, int *n_members, BzErr *err);

/* Convert an AttributeValue given as DynamoDB JSON text into plain JSON text
** (M -> object, L/SS/NS -> array, B -> base64 string, BOOL -> true/false).
** Caller frees *out with bz_free. */
int aws_ddb_av_to_json(const char *z, size_t n, char **out, BzErr *err);

/* Base64 (RFC 4648, with padding). encode appends; decode returns a bz_malloc
** buffer (caller frees) or NULL on bad input/OOM. */
void aws_ddb_base64_encode(BzBuf *b, const void *p, size_t n);
unsigned char *aws_ddb_base64_decode(const char *z, size_t n, size_t *out_n);

/* Parse a DynamoDB number into *out per mode (AUTO: INTEGER or REAL).
** Returns BZ_OK or BZ_CORRUPT. TEXT copies the digits (owned by out->z). */
int aws_ddb_number(const char *z, int mode, AwsDdbValue *out);

/* Shortest "%.*g" spelling of d that reads back exactly ("0.1", "1e+300"). */
void aws_ddb_format_double(char *buf, size_t n, double d);

/* ---- table description ------------------------------------------------------- */

typedef struct AwsDdbKey {
    char *hash;        /* partition key attribute */
    char hash_type;    /* 'S', 'N', 'B' */
    char *range;       /* sort key attribute or NULL */
    char range_type;
} AwsDdbKey;

typedef struct AwsDdbIndex {
    char *name;
    int global;        /* GSI (eventually consistent only) or LSI */
    AwsDdbKey key;
} AwsDdbIndex;

typedef struct AwsDdbTable {
    char *name;
    AwsDdbKey key;
    AwsDdbIndex *indexes;
    int n_indexes;
    int64_t item_count;  /* DescribeTable's estimate (updated every ~6 hours by AWS) */
} AwsDdbTable;

/* Type ('S', 'N', 'B') of an attribute named in AttributeDefinitions, 0 if
** not a key of the table or of one of its indexes. */
char aws_ddb_attr_type(const AwsDdbTable *t, const char *attr);
void aws_ddb_table_clear(AwsDdbTable *t);

/* ---- client ----------------------------------------------------------------- */

typedef struct AwsDdbOptions {
    const char *region;    /* NULL: the usual resolution (aws_config.h) */
    const char *endpoint;  /* NULL: AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL / AWS */
    const char *profile;
    int max_parallel;      /* concurrent requests per batch; 0: 16 */
} AwsDdbOptions;

typedef struct AwsDdb AwsDdb;

/* Create a client (no request is sent). Free with aws_ddb_free. */
int aws_ddb_new(const AwsDdbOptions *o, AwsDdb **out, BzErr *err);
void aws_ddb_free(AwsDdb *d);

/* Counters: requests sent and read/write capacity reported (for tests and
** benchmarks). */
typedef struct AwsDdbStats {
    uint64_t requests;   /* DynamoDB operations (each page counts) */
    uint64_t items;      /* items received */
    uint64_t retries;    /* retried requests (throttling, 5xx, resets) and unprocessed rounds */
} AwsDdbStats;
void aws_ddb_stats(AwsDdb *d, AwsDdbStats *out);

/* Send one operation with a JSON body; on BZ_OK *reply owns the answer body
** (caller frees with bz_free). Errors read
** "dynamodb table <label>: <Code>: <message> (HTTP 400, request id ..)";
** err_code (if not NULL, 64 bytes) receives DynamoDB's error code. Throttling
** (incl. RequestLimitExceeded), 5xx and connection errors are retried with
** backoff by aws_client_run: 10 attempts in all, or BZ_AWS_MAX_ATTEMPTS. */
int aws_ddb_call(AwsDdb *d, const char *op, const char *label, const char *body, size_t n_body,
                 char **reply, char *err_code, BzErr *err);

/* DescribeTable into *out (caller clears with aws_ddb_table_clear).
** BZ_NOTFOUND when the table does not exist. */
int aws_ddb_describe(AwsDdb *d, const char *table, AwsDdbTable *out, BzErr *err);

/* ---- reads --------------------------------------------------------------------- */

enum { AWS_DDB_SCAN = 1, AWS_DDB_QUERY, AWS_DDB_GET };

/* Comparison operators of conditions. */
enum {
    AWS_DDB_EQ = 1, AWS_DDB_NE, AWS_DDB_LT, AWS_DDB_LE, AWS_DDB_GT, AWS_DDB_GE,
    AWS_DDB_BEGINS,   /* begins_with(a, v) */
    AWS_DDB_BETWEEN,  /* a BETWEEN v AND v2 */
    AWS_DDB_ISNULL,   /* attribute absent or of type NULL */
    AWS_DDB_NOTNULL   /* attribute present and not of type NULL */
};

/* One condition on an attribute. key_type forces a key's type (see
** aws_ddb_value_json); 0 lets the value's type decide. */
typedef struct AwsDdbCond {
    const char *attr;
    int op;
    AwsDdbValue v, v2;
    char key_type;
} AwsDdbCond;

/* One read request. For QUERY, keys[0] is the partition key (EQ) and keys[1]
** the optional sort-key condition. For GET, keys are n_keys full keys given
** as DynamoDB JSON key objects (aws_ddb_key_json) in get_keys; they are read
** with GetItem (one key) or BatchGetItem (100 per request, UnprocessedKeys
** retried), and paging does not apply. */
typedef struct AwsDdbRead {
    int op;
    const char *table;
    const char *index;               /* Query/Scan on a GSI or LSI */
    const AwsDdbCond *keys;
    int n_keys;
    const AwsDdbCond *filter;        /* ANDed into a FilterExpression */
    int n_filter;
    const char *const *project;      /* ProjectionExpression; NULL: every attribute */
    int n_project;
    int count_only;                  /* Select=COUNT: rows stay empty, count is set */
    int consistent;
    int descending;                  /* Query: ScanIndexForward=false */
    int64_t limit;                   /* DynamoDB Limit per page (0: none) */
    int segment, total_segments;     /* parallel Scan (total 0: off) */
    char *const *get_keys;           /* GET */
    int n_get_keys;
    /* in/out: LastEvaluatedKey of the previous page (owned, bz_free), NULL
    ** before the first page; NULL again after the last page. */
    char *start_key;
    int done;                        /* set when no page follows */
} AwsDdbRead;

typedef struct AwsDdbBlock AwsDdbBlock;

/* The items of one answer, as cells for the requested attribute names. Text,
** blobs and items live in arena blocks of the rows; a rows set is reused from
** page to page (aws_ddb_read resets it, keeping its memory). Start zeroed;
** free with aws_ddb_rows_free. */
typedef struct AwsDdbRows {
    int n_rows;
    int n_cols;
    AwsDdbValue *cells;  /* n_rows * n_cols, row-major; absent attributes are NULL */
    char **items;        /* when asked, per row the whole item as plain JSON, else NULL */
    int64_t count;       /* Count of the answer (items after the filter) */
    int64_t scanned;     /* ScannedCount */
    /* private */
    int cap_rows_;
    AwsDdbBlock *blocks_;
} AwsDdbRows;

/* Run n read requests concurrently (parallel Scan segments, one Query per IN
** value) and fill rows[0..n) with one page each; each request's start_key /
** done advance. Requests already done get empty rows. want_items asks for
** rows.items. num_mode is AWS_DDB_NUM_*. */
int aws_ddb_read(AwsDdb *d, AwsDdbRead *reqs, int n, const char *const *cols, int n_cols,
                 int num_mode, int want_items, AwsDdbRows *rows, BzErr *err);
/* Empty rows, keeping their memory for the next page. */
void aws_ddb_rows_reset(AwsDdbRows *r);
void aws_ddb_rows_free(AwsDdbRows *r);

/* The same read on a thread of its own (the next pages while the caller
** consumes the current ones). reqs, cols and rows belong to the read until
** aws_ddb_read_wait, which joins it, returns aws_ddb_read's status and frees
** the handle. When no thread can be started the read runs at once. */
typedef struct AwsDdbPrefetch AwsDdbPrefetch;
int aws_ddb_read_start(AwsDdb *d, AwsDdbRead *reqs, int n, const char *const *cols, int n_cols,
                       int num_mode, int want_items, AwsDdbRows *rows, AwsDdbPrefetch **out,
                       BzErr *err);
int aws_ddb_read_wait(AwsDdbPrefetch *pf, BzErr *err);

/* A key as DynamoDB JSON ({"pk":{"S":"a"},"sk":{"N":"1"}}), the canonical
** form used in GetItem/DeleteItem/UpdateItem and in the write set; range may
** be NULL for a table without sort key. Values are coerced to the key types
** when lossless; a value that cannot be (TEXT 'x' for an N key) keeps its own
** type, so DynamoDB reports the mismatch. Caller frees. NULL on OOM/NaN with
** *err set. */
char *aws_ddb_key_json(const AwsDdbKey *k, const AwsDdbValue *hash, const AwsDdbValue *range,
                       BzErr *err);

/* Fetch one item (consistent read) as DynamoDB JSON map text ("{"a":{"S":..},..}"),
** *out NULL when absent. Caller frees. */
int aws_ddb_get_item(AwsDdb *d, const char *table, const char *key_json, char **out,
                     BzErr *err);

/* ---- writes ---------------------------------------------------------------------- */

enum {
    AWS_DDB_PUT_NEW = 1, /* PutItem with attribute_not_exists(hash key): INSERT */
    AWS_DDB_PUT,         /* unconditional PutItem: INSERT OR REPLACE */
    AWS_DDB_PUT_IGNORE,  /* INSERT OR IGNORE: conditional, a duplicate is skipped */
    AWS_DDB_UPDATE,      /* UpdateItem SET/REMOVE with attribute_exists(hash key) */
    AWS_DDB_DELETE       /* DeleteItem */
};

/* One attribute of a write: value (NULL type removes it in an UPDATE and is
** left out of a PUT). */
typedef struct AwsDdbAttr {
    const char *name;
    AwsDdbValue v;
} AwsDdbAttr;

typedef struct AwsDdbTxn AwsDdbTxn;

/* A write set for one table, applied by aws_ddb_txn_apply. `sql_name` and
** `key_cols` ("sheep", "tattoo" or "a, b") make the constraint messages read
** like SQLite's. Free with aws_ddb_txn_free. */
int aws_ddb_txn_new(const AwsDdbTable *t, const char *sql_name, AwsDdbTxn **out, BzErr *err);
void aws_ddb_txn_free(AwsDdbTxn *x);
/* Number of writes added (savepoints truncate back to such a count). */
int aws_ddb_txn_count(const AwsDdbTxn *x);
void aws_ddb_txn_truncate(AwsDdbTxn *x, int n);

/* Add a write. key_json from aws_ddb_key_json (copied). For PUT kinds,
** base_item (may be NULL) is a DynamoDB JSON map the attrs are laid over (the
** hidden `item` column or the old item of a moved row); the key attributes
** are always set from key_json. For UPDATE, attrs are SET (or REMOVE when
** NULL). DELETE ignores attrs. Values are encoded now: BZ_MISUSE for bad
** numbers or JSON. */
int aws_ddb_txn_add(AwsDdbTxn *x, int kind, const char *key_json, const char *base_item,
                    const AwsDdbAttr *attrs, int n_attrs, BzErr *err);

/* Apply and empty the set. Writes to the same key are first merged in order
** (a put then an update is one put, ...). batch 0: one request, PutItem /
** UpdateItem / DeleteItem for a single write, else TransactWriteItems
** (all or nothing; more than 100 distinct items is BZ_LIMIT before anything
** is sent). batch 1: BatchWriteItem, 25 per request, requests in parallel,
** UnprocessedItems retried until done; updates go out as UpdateItem calls;
** not atomic. PUT_IGNORE writes are sent first, one PutItem each, outside
** the transaction. A failed condition is BZ_CONSTRAINT with a message like
** "UNIQUE constraint failed: sheep.tattoo". */
int aws_ddb_txn_apply(AwsDdb *d, AwsDdbTxn *x, int batch, BzErr *err);

#endif
