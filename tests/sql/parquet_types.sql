-- Type mapping of the parquet table: Parquet physical/logical type -> SQLite value.
-- tests/data/types.parquet is written by tests/tools/gen_sample.mjs (DuckDB); the
-- other files are from the shared parquet-testing corpus.
CREATE VIRTUAL TABLE ty USING parquet('tests/data/types.parquet');
CREATE VIRTUAL TABLE ty_dec USING parquet('tests/data/types.parquet', decimal_as_text=1);
CREATE VIRTUAL TABLE ty_bin USING parquet('tests/data/types.parquet', binary_as_string=1);

-- declared column types
SELECT 'decl_int', (SELECT type FROM pragma_table_xinfo('ty') WHERE name = 'id') = 'INTEGER';
SELECT 'decl_bool', (SELECT type FROM pragma_table_xinfo('ty') WHERE name = 'c_bool') = 'INTEGER';
SELECT 'decl_blob', (SELECT type FROM pragma_table_xinfo('ty') WHERE name = 'c_blob') = 'BLOB';
SELECT 'decl_date', (SELECT type FROM pragma_table_xinfo('ty') WHERE name = 'c_date') = 'TEXT';
SELECT 'decl_dec_real', (SELECT type FROM pragma_table_xinfo('ty') WHERE name = 'c_dec') = 'REAL';
SELECT 'decl_dec_text', (SELECT type FROM pragma_table_xinfo('ty_dec') WHERE name = 'c_dec') = 'TEXT';
SELECT 'decl_bin_text', (SELECT type FROM pragma_table_xinfo('ty_bin') WHERE name = 'c_blob') = 'TEXT';
SELECT 'decl_nested', (SELECT group_concat(type) FROM pragma_table_xinfo('ty')
                       WHERE name IN ('c_list', 'c_struct', 'c_map')) = 'TEXT,TEXT,TEXT';
SELECT 'decl_filename_hidden', (SELECT hidden FROM pragma_table_xinfo('ty') WHERE name = 'filename') = 1;

-- BOOLEAN -> INTEGER 0/1
SELECT 'bool', (SELECT group_concat(quote(c_bool), ',') FROM ty) = '1,0,NULL,1';
SELECT 'bool_typeof', (SELECT typeof(c_bool) FROM ty WHERE id = 2) = 'integer';
-- DATE -> 'YYYY-MM-DD'
SELECT 'date', (SELECT group_concat(quote(c_date), ',') FROM ty) = '''2024-02-29'',''1969-12-31'',NULL,''0001-01-01''';
SELECT 'date_usable', (SELECT date(c_date, '+1 day') FROM ty WHERE id = 1) = '2024-03-01';
-- TIMESTAMP -> 'YYYY-MM-DD HH:MM:SS[.fff|.ffffff|.fffffffff]' UTC, TIMESTAMPTZ the same
SELECT 'ts_micros', (SELECT c_ts FROM ty WHERE id = 1) = '2024-02-29 13:45:00.123456';
SELECT 'ts_whole_second', (SELECT c_ts FROM ty WHERE id = 2) = '1969-12-31 23:59:59';
SELECT 'ts_max', (SELECT c_ts FROM ty WHERE id = 4) = '9999-12-31 23:59:59.999999';
SELECT 'ts_nanos', (SELECT c_ts_ns FROM ty WHERE id = 1) = '2024-02-29 13:45:00.123456789';
SELECT 'ts_nanos_negative', (SELECT c_ts_ns FROM ty WHERE id = 2) = '1969-12-31 23:59:59.999999999';
SELECT 'tstz_utc', (SELECT c_tstz FROM ty WHERE id = 1) = '2024-02-29 13:45:00';
SELECT 'ts_usable', (SELECT unixepoch(c_tstz) FROM ty WHERE id = 2) = 0;
-- TIME -> 'HH:MM:SS[.fff...]' (fractions in groups of three digits)
SELECT 'time_half', (SELECT c_time FROM ty WHERE id = 1) = '13:45:00.500';
SELECT 'time_zero', (SELECT c_time FROM ty WHERE id = 2) = '00:00:00';
SELECT 'time_max', (SELECT c_time FROM ty WHERE id = 4) = '23:59:59.999999';
-- DECIMAL -> REAL, or exact TEXT with decimal_as_text=1
SELECT 'dec_real', (SELECT c_dec = 12.34 AND typeof(c_dec) = 'real' FROM ty WHERE id = 1);
SELECT 'dec_real_neg', (SELECT c_dec FROM ty WHERE id = 2) = -0.05;
SELECT 'dec38_real', (SELECT typeof(c_dec38) FROM ty WHERE id = 1) = 'real';
SELECT 'dec38_real_value', (SELECT abs(c_dec38 - 1234567890123456789.0123456789) < 1e3 FROM ty WHERE id = 1);
SELECT 'dec_text', (SELECT group_concat(quote(c_dec), ',') FROM ty_dec) = '''12.34'',''-0.05'',NULL,''0.00''';
SELECT 'dec38_text', (SELECT c_dec38 FROM ty_dec WHERE id = 1) = '1234567890123456789.0123456789';
SELECT 'dec38_text_neg', (SELECT c_dec38 FROM ty_dec WHERE id = 2) = '-1.5000000000';
-- BYTE_ARRAY without annotation -> BLOB; TEXT with binary_as_string=1
SELECT 'blob', (SELECT group_concat(quote(c_blob), ',') FROM ty) = 'X''61'',X''00FF10'',NULL,X''''';
SELECT 'blob_typeof', (SELECT typeof(c_bin_text) FROM ty WHERE id = 1) = 'blob';
SELECT 'binary_as_string', (SELECT c_bin_text = 'plain text' AND typeof(c_bin_text) = 'text' FROM ty_bin WHERE id = 1);
SELECT 'binary_as_string_empty', (SELECT c_bin_text = '' AND typeof(c_bin_text) = 'text' FROM ty_bin WHERE id = 2);
SELECT 'string_stays_text', (SELECT typeof(c_text) FROM ty WHERE id = 1) = 'text';
-- UUID -> canonical lowercase text
SELECT 'uuid', (SELECT c_uuid FROM ty WHERE id = 1) = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
SELECT 'uuid_zero', (SELECT c_uuid FROM ty WHERE id = 2) = '00000000-0000-0000-0000-000000000000';
-- UINT64: INTEGER up to 2^63-1, REAL above
SELECT 'ubig_max_int', (SELECT c_ubig = 9223372036854775807 AND typeof(c_ubig) = 'integer' FROM ty WHERE id = 2);
SELECT 'ubig_above_real', (SELECT c_ubig = 18446744073709551615.0 AND typeof(c_ubig) = 'real' FROM ty WHERE id = 1);
-- DOUBLE: NaN reads as NULL (SQLite has no NaN), infinities stay, -0.0 is 0
SELECT 'nan_is_null', (SELECT c_double IS NULL FROM ty WHERE id = 1);
SELECT 'inf', (SELECT c_double = 9e999 FROM ty WHERE id = 2);
SELECT 'neg_zero', (SELECT c_double = 0 AND typeof(c_double) = 'real' FROM ty WHERE id = 4);
-- nested -> JSON text: lists as arrays, structs as objects, maps as objects (keys as strings)
SELECT 'list', (SELECT c_list FROM ty WHERE id = 1) = '[1,2,null]';
SELECT 'list_empty', (SELECT c_list FROM ty WHERE id = 2) = '[]';
SELECT 'list_null', (SELECT c_list IS NULL FROM ty WHERE id = 3);
SELECT 'list_valid_json', (SELECT count(*) FROM ty WHERE c_list IS NOT NULL AND json_valid(c_list)) = 3;
SELECT 'list_json_each', (SELECT group_concat(coalesce(e.value, 'null'), '+') FROM ty, json_each(ty.c_list) e WHERE ty.id = 1) = '1+2+null';
SELECT 'list_array_length', (SELECT json_array_length(c_list) FROM ty WHERE id = 1) = 3;
SELECT 'struct', (SELECT c_struct FROM ty WHERE id = 1) = '{"k":"v","n":1}';
SELECT 'struct_null_fields', (SELECT c_struct FROM ty WHERE id = 2) = '{"k":null,"n":null}';
SELECT 'struct_extract', (SELECT json_extract(c_struct, '$.n') FROM ty WHERE id = 1) = 1;
SELECT 'struct_arrow', (SELECT c_struct ->> '$.k' FROM ty WHERE id = 1) = 'v';
SELECT 'map', (SELECT c_map FROM ty WHERE id = 1) = '{"one":1,"two":2}';
SELECT 'map_empty', (SELECT c_map FROM ty WHERE id = 2) = '{}';
SELECT 'map_int_keys_as_strings', (SELECT c_map_int FROM ty WHERE id = 1) = '{"7":"seven"}';
SELECT 'map_extract', (SELECT json_extract(c_map, '$.two') FROM ty WHERE id = 1) = 2;
SELECT 'map_json_each', (SELECT group_concat(key || '=' || value, ',') FROM ty, json_each(ty.c_map) WHERE ty.id = 1) = 'one=1,two=2';
-- blobs inside JSON: DuckDB-style \xHH for non-printable bytes, backslash and quote
SELECT 'json_blob', (SELECT c_list_blob FROM ty WHERE id = 1) = '["\\x00\\xFF","a\\x5Cb\\x22"]';
SELECT 'json_blob_extract', (SELECT json_extract(c_list_blob, '$[0]') FROM ty WHERE id = 1) = '\x00\xFF';

-- parquet-testing corpus
CREATE VIRTUAL TABLE alltypes USING parquet('../shared/parquet-testing/data/alltypes_plain.parquet');
CREATE VIRTUAL TABLE alltypes_s USING parquet('../shared/parquet-testing/data/alltypes_plain.parquet', binary_as_string=1);
SELECT 'pt_bool', (SELECT group_concat(bool_col, '') FROM alltypes) = '10101010';
SELECT 'pt_int96_ts', (SELECT timestamp_col FROM alltypes WHERE id = 5) = '2009-03-01 00:01:00';
SELECT 'pt_float', (SELECT typeof(float_col) FROM alltypes WHERE id = 5) = 'real';
SELECT 'pt_float_value', (SELECT float_col FROM alltypes WHERE id = 5) = CAST(1.1 AS REAL) OR
                         (SELECT abs(float_col - 1.1) < 1e-6 FROM alltypes WHERE id = 5);
SELECT 'pt_binary_blob', (SELECT typeof(string_col) || typeof(date_string_col) FROM alltypes WHERE id = 5) = 'blobblob';
SELECT 'pt_binary_blob_bytes', (SELECT date_string_col FROM alltypes WHERE id = 5) = CAST('03/01/09' AS BLOB);
SELECT 'pt_binary_as_string', (SELECT date_string_col FROM alltypes_s WHERE id = 5) = '03/01/09';
-- INT96 with Spark's semantics (int96_from_spark.md): micros wrap like Spark's, so
-- year 290000 reads back; NULL stays NULL
CREATE VIRTUAL TABLE int96 USING parquet('../shared/parquet-testing/data/int96_from_spark.parquet');
SELECT 'pt_int96_micros', (SELECT a FROM int96 WHERE rowid = 1) = '2024-01-01 20:34:56.123456';
SELECT 'pt_int96_9999', (SELECT count(*) FROM int96 WHERE a = '9999-12-31 03:00:00') = 1;
SELECT 'pt_int96_290000', (SELECT count(*) FROM int96 WHERE a = '290000-12-30 23:00:00') = 1;
SELECT 'pt_int96_null', (SELECT count(*) FROM int96 WHERE a IS NULL) = 1;
-- DECIMAL stored as FIXED_LEN_BYTE_ARRAY, BYTE_ARRAY, INT32, INT64
CREATE VIRTUAL TABLE dflba USING parquet('../shared/parquet-testing/data/fixed_length_decimal.parquet', decimal_as_text=1);
CREATE VIRTUAL TABLE dba USING parquet('../shared/parquet-testing/data/byte_array_decimal.parquet');
CREATE VIRTUAL TABLE di32 USING parquet('../shared/parquet-testing/data/int32_decimal.parquet');
CREATE VIRTUAL TABLE di64 USING parquet('../shared/parquet-testing/data/int64_decimal.parquet', decimal_as_text=1);
SELECT 'pt_dec_flba_text', (SELECT group_concat(value, ',') FROM (SELECT value FROM dflba LIMIT 3)) = '1.00,2.00,3.00';
SELECT 'pt_dec_ba_real', (SELECT sum(value) FROM dba) = 300.0 AND (SELECT typeof(value) FROM dba LIMIT 1) = 'real';
SELECT 'pt_dec_i32', (SELECT sum(value) FROM di32) = 300.0;
SELECT 'pt_dec_i64_text', (SELECT value FROM di64 LIMIT 1) = '1.00';
-- FLOAT16 -> REAL, NaN -> NULL
CREATE VIRTUAL TABLE f16 USING parquet('../shared/parquet-testing/data/float16_nonzeros_and_nans.parquet');
SELECT 'pt_float16', (SELECT group_concat(quote(x), ',') FROM f16) LIKE 'NULL,1.0,-2.0,NULL,%';
-- nested maps and lists from other writers
CREATE VIRTUAL TABLE nmaps USING parquet('../shared/parquet-testing/data/nested_maps.snappy.parquet');
CREATE VIRTUAL TABLE nlists USING parquet('../shared/parquet-testing/data/nested_lists.snappy.parquet');
SELECT 'pt_nested_map', (SELECT a FROM nmaps WHERE rowid = 1) = '{"a":{"1":true,"2":false}}';
SELECT 'pt_nested_map_bool', (SELECT json_extract(a, '$.a.1') FROM nmaps WHERE rowid = 1) = 1;
SELECT 'pt_nested_list', (SELECT a FROM nlists WHERE rowid = 1) = '[[["a","b"],["c"]],[null,["d"]]]';
SELECT 'pt_nested_list_path', (SELECT json_extract(a, '$[1][1][0]') FROM nlists WHERE rowid = 1) = 'd';
