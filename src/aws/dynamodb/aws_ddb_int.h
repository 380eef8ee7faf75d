/*
** aws_ddb_int.h: internal to src/aws/dynamodb/ (the only files that see
** the text of DynamoDB answers). One section per source file.
**
**     AwsDdbReplyInfo info;
**     rc = aws_ddb_reply_decode(body, n, NULL, cols, 2, AWS_DDB_NUM_AUTO, 0, &rows, &info);
*/
#ifndef AWS_DDB_INT_H
#define AWS_DDB_INT_H

#include "aws/dynamodb/aws_ddb.h"

#include <cJSON.h>

/* ---- aws_ddb_json.c ---- */

/* 1 if z[0..n) is a DynamoDB/JSON number literal. */
int aws_ddb_is_number(const char *z, size_t n);
/* aws_ddb_number for z[0..n), not necessarily NUL-terminated. */
int aws_ddb_number_n(const char *z, size_t n, int mode, AwsDdbValue *out);
/* Base64-decode z[0..n) into dst (room for n / 4 * 3 + 3 bytes); *out_n the
** length. BZ_CORRUPT on a character outside the alphabet. */
int aws_ddb_base64_decode_into(const char *z, size_t n, unsigned char *dst, size_t *out_n);

/* ---- aws_ddb_reply.c ---- */

#define AWS_DDB_REPLY_MAX_DEPTH 256 /* JSON levels skipped in an answer */

/* What an answer said besides its items. Spans point into the answer text. */
typedef struct AwsDdbReplyInfo {
    int n_items;               /* items appended to the rows */
    int has_items;             /* an Items member was present */
    int has_count;
    int64_t count, scanned;    /* Count, ScannedCount */
    const char *last_key;      /* LastEvaluatedKey (JSON text) or NULL */
    size_t n_last_key;
    const char *unprocessed;   /* UnprocessedKeys when not empty, or NULL */
    size_t n_unprocessed;
    size_t err_offset;         /* on BZ_CORRUPT: where, and what */
    const char *what;
} AwsDdbReplyInfo;

/* Decode one answer of Scan/Query (Items), GetItem (Item) or BatchGetItem
** (Responses.<table>) in one pass, appending its items to rows as cells for
** cols[0..n_cols) (rows->n_cols is set) and, with want_items, each item as
** plain JSON in rows->items. Text and blobs live in the rows' arena until
** aws_ddb_rows_reset/free. Returns BZ_OK, BZ_NOMEM or BZ_CORRUPT (info->what
** at info->err_offset); on failure no row of this answer is kept. */
int aws_ddb_reply_decode(const char *body, size_t n, const char *table, const char *const *cols,
                         int n_cols, int num_mode, int want_items, AwsDdbRows *rows,
                         AwsDdbReplyInfo *info);

#endif
