/*
** wire.h: the hbee wire format, versions 1 and 2. What a coordinator sends a worker
** (a task, JSON) and what the worker sends back (a result, binary). Every
** executor (local threads, Redis workers, Lambda) moves exactly these bytes,
** so the local executor exercises the same encoders as the remote ones.
**
** Usage:
**     BzBuf b; bz_buf_init(&b, 0);
**     wire_task_encode(&task, &b, &err);            // coordinator
**     wire_task_decode(b.data, b.n, &task2, &err);  // worker
**     WireWriter w; wire_writer_init(&w, n_cols, names);
**     wire_writer_value(&w, &v) ... once per value, row after row;
**     wire_writer_finish(&w, &hdr, &out, &err);     // worker -> bytes
**     WireReader r; wire_reader_open(&r, out.data, out.n, &err);
**     while (wire_reader_next(&r, row, &err) == BZ_OK) use(row);   // BZ_DONE at the end
**     wire_reader_close(&r);
**
** ---- Task (JSON, UTF-8) ----------------------------------------------------
**   {"version": 1,                  format version; a worker refuses others
**    "query_id": "q-1f2e",          coordinator's id of the query
**    "task_id": 3,                  index of the task within the query
**    "split": {"path": "/d/a.parquet" | "url": "s3://b/k.parquet",
**              "row_groups": [0, 1],    row groups to read ([] = the whole file)
**              "rows": 2048, "bytes": 65536},  planning-time size of the split
**    "columns": ["x", "g"],         dataset columns the SQL reads
**    "options": {"hive_partitioning": "0"},  parquet table options (strings)
**    "sql": "SELECT ... FROM split ..."}     the partial query
**
** Version 2 adds a second source kind, a DynamoDB parallel-scan segment;
** a task over a parquet split is still written as version 1 (so workers of
** either version take it), a task over a segment as version 2 (a version-1
** worker refuses it with "task version 2 is not supported"):
**   {"version": 2, "query_id": ..., "task_id": ...,
**    "split": {"dynamodb": "orders",   the DynamoDB table name
**              "segment": 3,           Scan Segment, 0 <= segment < segments
**              "segments": 8},         Scan TotalSegments (1 to 1000000)
**    "columns": [...],
**    "options": {"region": "eu-west-1", "columns": "amount REAL, ..."},
**    "sql": "SELECT ... FROM split ..."}
** The options are the user's dynamodb table's (table, columns, index,
** consistent, numbers, page_size, region, endpoint; see plan_ddb_option_shipped),
** never credentials or a profile: a worker signs with its own environment's
** or role's credentials, as for S3. The worker reads its split through
** `dynamodb(table=..., segment=i, segments=N, <options>)`, read-only.
**
** ---- Result (binary) ---------------------------------------------------------
**   magic "HBR1" | u8 version (1) | u8 flags (bit 0: body is one zstd frame)
**   varint task_id | varint status (0 = ok, else a BZ_* code) | str error
**   varint rows_scanned | varint bytes_scanned | varint rows | varint ms
**   varint n_cols | n_cols x str name
**   varint body_len (decoded) | varint stored_len | stored_len bytes of body
**   body = rows x n_cols values, row-major; each value is a type tag byte
**   then its payload:
**     0 NULL       -
**     1 INTEGER    zigzag varint
**     2 REAL       8 bytes, IEEE 754 little-endian
**     3 TEXT       varint length, bytes (UTF-8 as SQLite returned it)
**     4 BLOB       varint length, bytes
**   (varint: unsigned LEB128, at most 10 bytes; str: varint length, bytes)
** The decoder checks every length against what remains, the body against
** WIRE_MAX_BODY before allocating, and that the body holds exactly `rows`
** rows: a result that fails any check is BZ_CORRUPT, never a crash.
*/
#ifndef WIRE_H
#define WIRE_H

#include "common/bz_common.h"

#define WIRE_VERSION 2         /* highest version this code reads and writes */
#define WIRE_VERSION_PARQUET 1 /* version of a task over a parquet split */
#define WIRE_RESULT_VERSION 1  /* results are unchanged by task version 2 */
/* Rationale: results come from the network in the remote executors; a
** hostile or broken worker must not make the coordinator allocate more. */
#define WIRE_MAX_BODY ((size_t)1 << 30)
#define WIRE_MAX_COLS 4096

/* ---- wire_task.c ------------------------------------------------------------ */

typedef struct WireTask {
    int version;
    char *zQueryId;
    int64_t taskId;
    char *zPath; /* local file, or NULL */
    char *zUrl;  /* remote object, or NULL */
    char *zDdbTable;        /* DynamoDB table (version 2), or NULL */
    int iSegment, nSegments; /* its parallel-scan segment */
    int nRg;
    int *aRg;
    int64_t nRows, nBytes;
    int nCol;
    char **azCol;
    int nOpt;
    char **azKey, **azVal;
    char *zSql;
} WireTask;

/* Append the task as JSON to out (version 2 with zDdbTable, else 1; the
** version field of t is not read). BZ_NOMEM/BZ_LIMIT from the buffer. */
int wire_task_encode(const WireTask *t, BzBuf *out, BzErr *err);
/* Parse JSON z[0..n) into *t (all strings owned; free with wire_task_clear).
** BZ_CORRUPT for malformed JSON or missing/mistyped fields (a version-1
** task with a DynamoDB split included), BZ_UNSUPPORTED for another version. */
int wire_task_decode(const char *z, size_t n, WireTask *t, BzErr *err);
void wire_task_clear(WireTask *t);

/* ---- wire_rows.c -------------------------------------------------------------- */

enum { WV_NULL = 0, WV_INT = 1, WV_REAL = 2, WV_TEXT = 3, WV_BLOB = 4 };

typedef struct WireValue {
    int type; /* WV_* */
    int64_t i;
    double d;
    const char *p; /* TEXT/BLOB bytes (not NUL-terminated) */
    size_t n;
} WireValue;

typedef struct WireHeader {
    int64_t taskId;
    int status;         /* BZ_OK or the task's failure */
    const char *zError; /* message when status != BZ_OK */
    int64_t rowsScanned, bytesScanned, rows, ms;
} WireHeader;

typedef struct WireWriter {
    BzBuf body;
    int nCol;
    char **azCol; /* copies */
    int64_t nVal;
    int bStore; /* 1: never compress (results that stay in the process) */
} WireWriter;

/* Start a result with these columns (names copied). */
int wire_writer_init(WireWriter *w, int nCol, char *const *azCol, BzErr *err);
/* Append one value; values fill rows left to right. Errors are sticky in
** the body buffer and reported by finish. */
void wire_writer_value(WireWriter *w, const WireValue *v);
/* Encode header + body into out (appended). hdr->rows is ignored and taken
** from the values written (which must be a whole number of rows). Leaves the
** writer empty (reusable after wire_writer_init). */
int wire_writer_finish(WireWriter *w, const WireHeader *hdr, BzBuf *out, BzErr *err);
void wire_writer_free(WireWriter *w);
/* An error result (no columns, no rows). */
int wire_result_error(int64_t taskId, int status, const char *zMsg, BzBuf *out, BzErr *err);

typedef struct WireReader {
    WireHeader hdr;
    char *zError; /* owned */
    int nCol;
    char **azCol;  /* owned */
    uint8_t *body; /* owned, decoded */
    size_t nBody, pos;
    int64_t row;          /* rows returned so far */
    int64_t bytesShipped; /* size of the encoded result */
} WireReader;

/* Decode a result's header and body (decompressed into the reader). */
int wire_reader_open(WireReader *r, const void *data, size_t n, BzErr *err);
/* Next row into aRow[0..nCol): BZ_OK, BZ_DONE after the last row, or
** BZ_CORRUPT. Text and blob pointers stay valid until wire_reader_close. */
int wire_reader_next(WireReader *r, WireValue *aRow, BzErr *err);
void wire_reader_close(WireReader *r);

/* Varints (exposed for tests). put returns bytes written (<= 10); get
** returns bytes read, 0 when truncated or longer than 10 bytes. */
int wire_varint_put(uint8_t *p, uint64_t v);
int wire_varint_get(const uint8_t *p, size_t n, uint64_t *v);

#endif /* WIRE_H */
