/*
** aws_ddb_int.h: internal to src/aws/dynamodb/ (the only files that see
** cJSON trees of DynamoDB answers). One section per source file.
**
**     cJSON *av = cJSON_GetObjectItemCaseSensitive(item, "weight");
**     aws_ddb_av_cell(av, AWS_DDB_NUM_AUTO, &cell);
*/
#ifndef AWS_DDB_INT_H
#define AWS_DDB_INT_H

#include "aws/dynamodb/aws_ddb.h"

#include <cJSON.h>

/* ---- aws_ddb_json.c ---- */

/* Append an AttributeValue (cJSON) as plain JSON. BZ_CORRUPT if malformed. */
int aws_ddb_av_append_json(BzBuf *b, const cJSON *av);
/* Fill *out from an AttributeValue (NULL av -> SQL NULL). Strings are copied
** (out->z owned by the caller). BZ_OK, BZ_NOMEM or BZ_CORRUPT. */
int aws_ddb_av_cell(const cJSON *av, int num_mode, AwsDdbValue *out);
/* 1 if z[0..n) is a DynamoDB/JSON number literal. */
int aws_ddb_is_number(const char *z, size_t n);

#endif
