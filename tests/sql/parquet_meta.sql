-- parquet_schema(path) and parquet_metadata(path): their columns and values.
-- Files: tests/data/ and data/ (tests/tools/gen_sample.mjs), parquet-testing.

-- parquet_schema: one row per schema element below the root, depth first
SELECT 'schema_columns', (SELECT group_concat(name, ',') FROM pragma_table_xinfo('parquet_schema'))
                       = 'name,path,physical_type,logical_type,repetition,type_length,precision,scale,num_children,field_id,file';
SELECT 'schema_file_hidden', (SELECT hidden FROM pragma_table_xinfo('parquet_schema') WHERE name = 'file') = 1;
SELECT 'schema_flat', (SELECT group_concat(name || ':' || physical_type || ':' || coalesce(logical_type, '-') || ':' || repetition, ' ')
                       FROM parquet_schema('tests/data/union/b.parquet'))
                    = 'name:BYTE_ARRAY:UTF8:OPTIONAL id:INT32:INT_32:OPTIONAL score:DOUBLE:-:OPTIONAL';
SELECT 'schema_file_arg', (SELECT count(*) FROM parquet_schema WHERE file = 'tests/data/union/a.parquet') = 2;
SELECT 'schema_nested_paths', (SELECT group_concat(path, ' ') FROM parquet_schema('data/trips/year=2024/month=1/trips.parquet') WHERE path LIKE 'stops%' OR path LIKE 'driver%')
                            = 'stops stops.list stops.list.element driver driver.id driver.name driver.rating';
SELECT 'schema_group_no_type', (SELECT physical_type IS NULL AND num_children = 3 FROM parquet_schema('data/trips/year=2024/month=1/trips.parquet') WHERE path = 'driver');
SELECT 'schema_list', (SELECT logical_type || ' ' || num_children FROM parquet_schema('data/trips/year=2024/month=1/trips.parquet') WHERE path = 'stops') = 'LIST 1';
SELECT 'schema_repeated', (SELECT repetition FROM parquet_schema('data/trips/year=2024/month=1/trips.parquet') WHERE path = 'stops.list') = 'REPEATED';
SELECT 'schema_timestamp', (SELECT logical_type FROM parquet_schema('data/trips/year=2024/month=1/trips.parquet') WHERE name = 'pickup_at') = 'TIMESTAMP(MICROS,false)';
SELECT 'schema_decimal', (SELECT physical_type || ' ' || logical_type || ' ' || precision || ' ' || scale || ' ' || quote(type_length)
                          FROM parquet_schema('tests/data/types.parquet') WHERE name = 'c_dec38') = 'FIXED_LEN_BYTE_ARRAY DECIMAL(38,10) 38 10 16';
SELECT 'schema_decimal_int32', (SELECT quote(type_length) || ' ' || precision FROM parquet_schema('tests/data/types.parquet') WHERE name = 'c_dec') = 'NULL 9';
SELECT 'schema_uuid', (SELECT logical_type || ' ' || type_length FROM parquet_schema('tests/data/types.parquet') WHERE name = 'c_uuid') = 'UUID 16';
SELECT 'schema_map', (SELECT logical_type FROM parquet_schema('tests/data/types.parquet') WHERE name = 'c_map') = 'MAP';
SELECT 'schema_int96', (SELECT physical_type FROM parquet_schema('../shared/parquet-testing/data/int96_from_spark.parquet')) = 'INT96';
SELECT 'schema_field_id_null', (SELECT count(*) FROM parquet_schema('tests/data/types.parquet') WHERE field_id IS NOT NULL) = 0;
SELECT 'schema_types', (SELECT group_concat(DISTINCT typeof(type_length)) FROM parquet_schema('tests/data/types.parquet')) IN ('null,integer', 'integer,null');

-- parquet_metadata: one row per column chunk (row group x leaf column)
SELECT 'meta_columns', (SELECT group_concat(name, ',') FROM pragma_table_xinfo('parquet_metadata'))
                     = 'row_group,num_rows,column_id,path,physical_type,compression,encodings,total_compressed_size,total_uncompressed_size,num_values,data_page_offset,dictionary_page_offset,min,max,null_count,has_page_index,has_bloom_filter,file';
SELECT 'meta_rows', (SELECT count(*) FROM parquet_metadata('data/lineitem.parquet')) = 6 * 16;
SELECT 'meta_row_groups', (SELECT group_concat(row_group || ':' || num_rows, ' ') FROM parquet_metadata('data/lineitem.parquet') WHERE column_id = 0)
                        = '0:10240 1:10240 2:10240 3:10240 4:10240 5:8812';
SELECT 'meta_sum_rows', (SELECT sum(num_rows) FROM parquet_metadata('data/lineitem.parquet') WHERE column_id = 0) = 60012;
SELECT 'meta_compression', (SELECT group_concat(DISTINCT compression) FROM parquet_metadata('data/lineitem.parquet')) = 'ZSTD';
SELECT 'meta_minmax_int', (SELECT min || '..' || max FROM parquet_metadata('data/lineitem.parquet') WHERE path = 'l_orderkey' AND row_group = 5) = '51432..60225';
SELECT 'meta_minmax_text_typed', (SELECT typeof(min) FROM parquet_metadata('data/lineitem.parquet') WHERE path = 'l_orderkey' AND row_group = 0) = 'text';
SELECT 'meta_minmax_date', (SELECT min || '..' || max FROM parquet_metadata('data/trips/year=2024/month=2/trips.parquet') WHERE path = 'pickup_date' AND row_group = 0) = '2024-02-01..2024-02-15';
SELECT 'meta_minmax_ts', (SELECT min FROM parquet_metadata('data/trips/year=2024/month=1/trips.parquet') WHERE path = 'pickup_at' AND row_group = 0) = '2024-01-01 00:26:10';
SELECT 'meta_minmax_string', (SELECT min || '..' || max FROM parquet_metadata('tests/data/union/b.parquet') WHERE path = 'name') = 'b10..b11';
SELECT 'meta_minmax_double', (SELECT min || '..' || max FROM parquet_metadata('tests/data/union/b.parquet') WHERE path = 'score') = '5..5.5';
SELECT 'meta_null_count', (SELECT null_count FROM parquet_metadata('tests/data/types.parquet') WHERE path = 'c_text') = 1;
SELECT 'meta_nested_path', (SELECT count(*) FROM parquet_metadata('data/trips/year=2024/month=1/trips.parquet') WHERE path IN ('stops.list.element', 'driver.rating')) = 4;
SELECT 'meta_leaf_count', (SELECT count(DISTINCT column_id) FROM parquet_metadata('data/trips/year=2024/month=1/trips.parquet')) = 14;
SELECT 'meta_encodings', (SELECT encodings FROM parquet_metadata('tests/data/union/b.parquet') WHERE path = 'id') = 'PLAIN';
SELECT 'meta_dictionary', (SELECT count(*) FROM parquet_metadata('data/lineitem.parquet') WHERE path = 'l_shipmode' AND dictionary_page_offset > 0 AND encodings LIKE '%DICTIONARY%') = 6;
SELECT 'meta_sizes', (SELECT count(*) FROM parquet_metadata('data/lineitem.parquet') WHERE total_compressed_size > 0 AND total_uncompressed_size > 0 AND num_values = num_rows AND data_page_offset >= 4) = 96;
SELECT 'meta_bloom', (SELECT has_bloom_filter FROM parquet_metadata('../shared/parquet-testing/data/data_index_bloom_encoding_stats.parquet')) = 1;
SELECT 'meta_page_index', (SELECT has_page_index FROM parquet_metadata('../shared/parquet-testing/data/data_index_bloom_encoding_stats.parquet')) = 1;
SELECT 'meta_no_bloom', (SELECT max(has_bloom_filter) FROM parquet_metadata('tests/data/union/b.parquet')) = 0;
SELECT 'meta_int96_no_minmax', (SELECT min IS NULL AND max IS NULL FROM parquet_metadata('../shared/parquet-testing/data/int96_from_spark.parquet'));
SELECT 'meta_gzip', (SELECT compression FROM parquet_metadata('../shared/parquet-testing/data/data_index_bloom_encoding_stats.parquet')) = 'GZIP';
CREATE VIRTUAL TABLE parquet_ok USING parquet('data/trips');
-- a join from a list of files, as table-valued functions allow
SELECT 'meta_lateral', (SELECT sum(m.num_rows) FROM (SELECT DISTINCT filename AS f FROM parquet_ok) AS p, parquet_metadata(p.f) AS m WHERE m.column_id = 0) = 24576;
