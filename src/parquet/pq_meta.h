/*
** pq_meta.h: Parquet file metadata as C structs, and the Thrift compact
** protocol decoder that fills them (pq_meta.c).
**
** Implements the subset of apache/parquet-format parquet.thrift a reader
** needs: FileMetaData, SchemaElement (+LogicalType), RowGroup, ColumnChunk,
** ColumnMetaData, Statistics, PageHeader (v1, v2, dictionary), ColumnIndex,
** OffsetIndex and BloomFilterHeader. Unknown fields are skipped, so files
** from newer writers still parse.
**
** Usage:
**     PqFileMeta *m;
**     if (pq_meta_parse(footer, footer_len, &m, &err)) return err.code;
**     for (i = 0; i < m->n_row_groups; i++) ... m->row_groups[i].columns[c].meta.codec ...
**     pq_meta_free(m);
**
** Memory: every struct, array and binary value of a PqFileMeta lives in one
** arena owned by it (binaries point into a private copy of the footer).
** Rationale: one free, no per-field allocation, and no lifetime coupling to
** the caller's read buffer.
*/
#ifndef PQ_META_H
#define PQ_META_H

#include "common/bz_common.h"

/* ---- enums from parquet.thrift ---------------------------------------- */
enum { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_INT96 = 3, PQ_FLOAT = 4, PQ_DOUBLE = 5,
       PQ_BYTE_ARRAY = 6, PQ_FIXED_LEN_BYTE_ARRAY = 7 };
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_PLAIN_DICTIONARY = 2, PQ_ENC_RLE = 3, PQ_ENC_BIT_PACKED = 4,
       PQ_ENC_DELTA_BINARY_PACKED = 5, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
       PQ_ENC_DELTA_BYTE_ARRAY = 7, PQ_ENC_RLE_DICTIONARY = 8, PQ_ENC_BYTE_STREAM_SPLIT = 9 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3 };
/* ConvertedType */
enum { PQ_CT_NONE = -1, PQ_CT_UTF8 = 0, PQ_CT_MAP = 1, PQ_CT_MAP_KEY_VALUE = 2, PQ_CT_LIST = 3,
       PQ_CT_ENUM = 4, PQ_CT_DECIMAL = 5, PQ_CT_DATE = 6, PQ_CT_TIME_MILLIS = 7,
       PQ_CT_TIME_MICROS = 8, PQ_CT_TIMESTAMP_MILLIS = 9, PQ_CT_TIMESTAMP_MICROS = 10,
       PQ_CT_UINT_8 = 11, PQ_CT_UINT_16 = 12, PQ_CT_UINT_32 = 13, PQ_CT_UINT_64 = 14,
       PQ_CT_INT_8 = 15, PQ_CT_INT_16 = 16, PQ_CT_INT_32 = 17, PQ_CT_INT_64 = 18,
       PQ_CT_JSON = 19, PQ_CT_BSON = 20, PQ_CT_INTERVAL = 21 };
/* LogicalType union member (field id in parquet.thrift) */
enum { PQ_LT_NONE = 0, PQ_LT_STRING = 1, PQ_LT_MAP = 2, PQ_LT_LIST = 3, PQ_LT_ENUM = 4,
       PQ_LT_DECIMAL = 5, PQ_LT_DATE = 6, PQ_LT_TIME = 7, PQ_LT_TIMESTAMP = 8,
       PQ_LT_INTEGER = 10, PQ_LT_UNKNOWN = 11, PQ_LT_JSON = 12, PQ_LT_BSON = 13,
       PQ_LT_UUID = 14, PQ_LT_FLOAT16 = 15, PQ_LT_VARIANT = 16, PQ_LT_GEOMETRY = 17,
       PQ_LT_GEOGRAPHY = 18 };
enum { PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 };

typedef struct PqBin {
    const uint8_t *p; /* NULL when absent */
    uint32_t n;
} PqBin;

typedef struct PqLogicalType {
    int kind;       /* PQ_LT_* */
    int scale, precision;  /* DECIMAL */
    int utc;        /* TIME/TIMESTAMP isAdjustedToUTC */
    int unit;       /* TIME/TIMESTAMP PQ_UNIT_* */
    int bit_width;  /* INTEGER */
    int is_signed;  /* INTEGER */
} PqLogicalType;

typedef struct PqSchemaElement {
    int type;            /* PQ_BOOLEAN.. or -1 for groups */
    int type_length;
    int repetition;      /* PQ_REQUIRED.. or -1 when absent (root) */
    const char *name;    /* NUL-terminated */
    int num_children;    /* 0 for leaves */
    int converted_type;  /* PQ_CT_* or PQ_CT_NONE */
    int scale, precision;
    int field_id;
    PqLogicalType logical;
} PqSchemaElement;

typedef struct PqStatistics {
    PqBin max, min;               /* deprecated fields 1, 2 (signed order) */
    PqBin max_value, min_value;   /* fields 5, 6 (column order) */
    int64_t null_count;           /* -1 when absent */
    int64_t distinct_count;       /* -1 when absent */
    int max_exact, min_exact;     /* -1 absent, else 0/1 */
} PqStatistics;

typedef struct PqEncodingStats {
    int page_type, encoding, count;
} PqEncodingStats;

typedef struct PqColumnMeta {
    int type;
    int *encodings;
    int n_encodings;
    const char **path;           /* path_in_schema */
    int n_path;
    int codec;
    int64_t num_values;
    int64_t total_uncompressed_size, total_compressed_size;
    int64_t data_page_offset;
    int64_t index_page_offset;      /* -1 absent */
    int64_t dictionary_page_offset; /* -1 absent */
    int has_stats;
    PqStatistics stats;
    PqEncodingStats *encoding_stats;
    int n_encoding_stats;           /* 0 when absent */
    int64_t bloom_filter_offset;    /* -1 absent */
    int32_t bloom_filter_length;    /* -1 absent */
} PqColumnMeta;

typedef struct PqColumnChunk {
    const char *file_path;          /* NULL: same file */
    int64_t file_offset;
    int has_meta;
    PqColumnMeta meta;
    int64_t offset_index_offset;    /* -1 absent */
    int32_t offset_index_length;
    int64_t column_index_offset;    /* -1 absent */
    int32_t column_index_length;
    int encrypted;                  /* crypto_metadata or encrypted_column_metadata present */
} PqColumnChunk;

typedef struct PqRowGroup {
    PqColumnChunk *columns;
    int n_columns;
    int64_t total_byte_size;
    int64_t num_rows;
    int64_t file_offset;            /* -1 absent */
    int64_t total_compressed_size;  /* -1 absent */
    int ordinal;                    /* -1 absent */
} PqRowGroup;

typedef struct PqKeyValue {
    const char *key, *value;        /* value may be NULL */
} PqKeyValue;

typedef struct PqFileMeta {
    int version;
    PqSchemaElement *schema;
    int n_schema;
    int64_t num_rows;
    PqRowGroup *row_groups;
    int n_row_groups;
    PqKeyValue *kv;
    int n_kv;
    const char *created_by;         /* NULL when absent */
    int *column_orders;             /* 1 = TYPE_ORDER, 0 = unknown; NULL when absent */
    int n_column_orders;
    int encrypted;                  /* encryption_algorithm present (plaintext footer) */
    struct PqArena *arena;
} PqFileMeta;

/* Parse a FileMetaData from buf[0..n) (the footer without length and magic).
** On success *out is owned by the caller (free with pq_meta_free); buf may be
** freed right away. Errors: BZ_CORRUPT with the reason ("thrift: list of
** 4000000 elements exceeds footer"), BZ_NOMEM. */
int pq_meta_parse(const uint8_t *buf, size_t n, PqFileMeta **out, BzErr *err);
void pq_meta_free(PqFileMeta *m);

/* ---- Page headers ------------------------------------------------------- */
typedef struct PqPageHeader {
    int type;                       /* PQ_PAGE_* */
    int32_t uncompressed_size, compressed_size;
    int has_crc;
    uint32_t crc;
    /* data page v1 / v2 and dictionary page fields */
    int32_t num_values;
    int32_t num_nulls, num_rows;    /* v2 only, else -1 */
    int encoding;
    int def_encoding, rep_encoding; /* v1 only */
    int32_t def_len, rep_len;       /* v2: level byte lengths */
    int is_compressed;              /* v2 (default 1); 1 for v1 */
    int has_stats;
    PqStatistics stats;             /* binaries point into the parsed buffer */
    int dict_sorted;
    int has_body;                   /* the type-specific header was present */
} PqPageHeader;

/* Parse a PageHeader at buf[0..n). On success *consumed is the header size.
** If the header is incomplete, returns BZ_DONE with *consumed = 0 so the
** caller can read more bytes and retry (only when n < the header size).
** Statistics binaries point into buf. */
int pq_page_header_parse(const uint8_t *buf, size_t n, PqPageHeader *h, size_t *consumed,
                         BzErr *err);

/* ---- Page index ----------------------------------------------------------- */
typedef struct PqColumnIndex {
    int n_pages;
    uint8_t *null_pages;            /* 1 = page has only nulls */
    PqBin *min_values, *max_values;
    int boundary_order;             /* 0 unordered, 1 ascending, 2 descending */
    int64_t *null_counts;           /* NULL when absent */
    uint8_t *data;                  /* private copy the binaries point into */
} PqColumnIndex;

typedef struct PqPageLocation {
    int64_t offset;
    int32_t compressed_size;
    int64_t first_row;
} PqPageLocation;

typedef struct PqOffsetIndex {
    int n_pages;
    PqPageLocation *pages;
} PqOffsetIndex;

/* Parse a ColumnIndex / OffsetIndex; *out is freed with the matching free. */
int pq_column_index_parse(const uint8_t *buf, size_t n, PqColumnIndex **out, BzErr *err);
void pq_column_index_free(PqColumnIndex *ci);
int pq_offset_index_parse(const uint8_t *buf, size_t n, PqOffsetIndex **out, BzErr *err);
void pq_offset_index_free(PqOffsetIndex *oi);

/* BloomFilterHeader: returns numBytes and the header size in *consumed.
** BZ_UNSUPPORTED for an algorithm, hash or compression other than
** BLOCK/XXHASH/UNCOMPRESSED; BZ_DONE if buf is too short (read more). */
int pq_bloom_header_parse(const uint8_t *buf, size_t n, int32_t *num_bytes, size_t *consumed,
                          BzErr *err);

/* Names for messages and parquet_schema / parquet_metadata. Static strings. */
const char *pq_type_name(int type);
const char *pq_encoding_name(int enc);
const char *pq_repetition_name(int rep);
const char *pq_converted_type_name(int ct);
/* "DECIMAL(9,2)", "TIMESTAMP(MICROS,true)", "INTEGER(8,false)" ... into buf. */
void pq_logical_type_str(const PqSchemaElement *e, char *buf, size_t n);

#endif
