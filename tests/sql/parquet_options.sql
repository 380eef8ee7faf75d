-- Options and arguments of the parquet table: paths (file, directory, glob, several),
-- hive_partitioning, union_by_name, binary_as_string / decimal_as_text (see also
-- parquet_types.sql), pushdown (parquet_pushdown.sql), the hidden filename column.

-- a directory: every file below it; hive partitioning on by default when the paths
-- have key=value segments; partition columns come after the file's columns
CREATE VIRTUAL TABLE t_dir USING parquet('data/trips');
SELECT 'dir_rows', (SELECT count(*) FROM t_dir) = 24576;
SELECT 'dir_files', (SELECT count(DISTINCT filename) FROM t_dir) = 6;
SELECT 'hive_default_on', (SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_xinfo('t_dir') WHERE cid >= 12)
                        = 'year INTEGER, month INTEGER, filename TEXT';
SELECT 'hive_values', (SELECT group_concat(year || '-' || month, ' ') FROM (SELECT DISTINCT year, month FROM t_dir))
                    = '2023-11 2023-12 2024-1 2024-2 2024-3 2024-4';
SELECT 'hive_int_typed', (SELECT typeof(year) || typeof(month) FROM t_dir LIMIT 1) = 'integerinteger';
SELECT 'hive_matches_data', (SELECT count(*) FROM t_dir WHERE CAST(strftime('%m', pickup_at) AS INTEGER) != month
                                                        OR CAST(strftime('%Y', pickup_at) AS INTEGER) != year) = 0;
-- hive_partitioning=0: no partition columns; =1 on a path without segments: none either
CREATE VIRTUAL TABLE t_nohive USING parquet('data/trips', hive_partitioning=0);
SELECT 'hive_off', (SELECT count(*) FROM pragma_table_xinfo('t_nohive') WHERE name IN ('year', 'month')) = 0;
SELECT 'hive_off_rows', (SELECT count(*) FROM t_nohive) = 24576;
SELECT 'hive_off_ncols', (SELECT count(*) FROM pragma_table_xinfo('t_nohive')) = 13;
CREATE VIRTUAL TABLE t_hive_false USING parquet('data/trips', hive_partitioning = false);
SELECT 'hive_false_word', (SELECT count(*) FROM pragma_table_xinfo('t_hive_false')) = 13;
CREATE VIRTUAL TABLE t_hive_on USING parquet('data/trips', hive_partitioning='on');
SELECT 'hive_on_word', (SELECT count(*) FROM pragma_table_xinfo('t_hive_on')) = 15;
CREATE VIRTUAL TABLE t_li_hive USING parquet('data/lineitem.parquet', hive_partitioning=1);
SELECT 'hive_on_no_segments', (SELECT count(*) FROM pragma_table_xinfo('t_li_hive')) = 17;
-- a single file below a partition directory still gets its partition columns
CREATE VIRTUAL TABLE t_one USING parquet('data/trips/year=2024/month=2/trips.parquet');
SELECT 'hive_single_file', (SELECT count(*) || ' ' || min(year) || ' ' || max(month) FROM t_one) = '4096 2024 2';

-- globs: * ? and ** ; several path arguments; files are read in sorted path order
CREATE VIRTUAL TABLE t_glob USING parquet('data/trips/year=2024/**/*.parquet');
SELECT 'glob_starstar', (SELECT count(*) || ' ' || min(month) || '-' || max(month) FROM t_glob) = '16384 1-4';
CREATE VIRTUAL TABLE t_glob2 USING parquet('data/trips/year=202?/month=1?/*.parquet');
SELECT 'glob_question', (SELECT group_concat(DISTINCT month) FROM t_glob2) = '11,12';
CREATE VIRTUAL TABLE t_two USING parquet('data/trips/year=2024/month=4/trips.parquet', "data/trips/year=2023/month=11/trips.parquet");
SELECT 'two_paths', (SELECT count(*) FROM t_two) = 8192;
SELECT 'two_paths_order', (SELECT month FROM t_two LIMIT 1 OFFSET 4095) = 4 AND (SELECT month FROM t_two LIMIT 1 OFFSET 4096) = 11;
SELECT 'sorted_order', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM t_dir LIMIT 2 OFFSET 8191)) = '8192,8193';

-- the hidden filename column: not in SELECT *, usable in WHERE and GROUP BY
SELECT 'filename_hidden', (SELECT count(*) FROM pragma_table_info('t_dir') WHERE name = 'filename') = 0;
SELECT 'filename_value', (SELECT filename FROM t_dir WHERE trip_id = 1) = 'data/trips/year=2023/month=11/trips.parquet';
SELECT 'filename_where', (SELECT count(*) FROM t_dir WHERE filename = 'data/trips/year=2024/month=3/trips.parquet') = 4096;
SELECT 'filename_like', (SELECT count(*) FROM t_dir WHERE filename LIKE '%year=2023%') = 8192;
SELECT 'filename_group', (SELECT count(*) FROM (SELECT filename, count(*) n FROM t_dir GROUP BY filename HAVING n = 4096)) = 6;

-- union_by_name: files with other column orders and extra columns; missing ones are NULL
CREATE VIRTUAL TABLE t_union USING parquet('tests/data/union', union_by_name=1);
SELECT 'union_columns', (SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('t_union')) = 'id INTEGER, name TEXT, score REAL';
SELECT 'union_rows', (SELECT group_concat(id || ':' || name || ':' || quote(score), ' ') FROM t_union)
                   = '1:a1:NULL 2:a2:NULL 3:a3:NULL 10:b10:5.0 11:b11:5.5';
SELECT 'union_filename', (SELECT count(*) FROM t_union WHERE filename LIKE '%/b.parquet' AND score IS NOT NULL) = 2;
SELECT 'union_where_missing_col', (SELECT group_concat(id) FROM t_union WHERE score IS NULL) = '1,2,3';
SELECT 'union_where_pushed', (SELECT group_concat(id) FROM t_union WHERE score > 5.2) = '11';
SELECT 'union_where_id', (SELECT group_concat(name) FROM t_union WHERE id IN (2, 11)) = 'a2,b11';
CREATE VIRTUAL TABLE t_union_one USING parquet('tests/data/union/a.parquet', union_by_name=1);
SELECT 'union_single_file', (SELECT count(*) FROM t_union_one) = 3;
-- same file twice, each path is one file of the table
CREATE VIRTUAL TABLE t_twice USING parquet('tests/data/union/a.parquet', 'tests/data/union/a.parquet');
SELECT 'same_file_twice', (SELECT count(*) FROM t_twice) = 6;

-- option spellings: 1/0, true/false, on/off, yes/no, any case, quoted values
CREATE VIRTUAL TABLE t_opt1 USING parquet('tests/data/types.parquet', decimal_as_text=TRUE, binary_as_string=Yes);
SELECT 'opt_true_yes', (SELECT typeof(c_dec) || typeof(c_blob) FROM t_opt1 WHERE id = 1) = 'texttext';
CREATE VIRTUAL TABLE t_opt2 USING parquet('tests/data/types.parquet', decimal_as_text='off', binary_as_string=no);
SELECT 'opt_off_no', (SELECT typeof(c_dec) || typeof(c_blob) FROM t_opt2 WHERE id = 1) = 'realblob';
CREATE VIRTUAL TABLE t_opt3 USING parquet(tests/data/types.parquet, PUSHDOWN=0);
SELECT 'opt_unquoted_path_upper_key', (SELECT count(*) FROM t_opt3) = 4;

-- the table works as a source for other SQL: CREATE TABLE AS, views, DISTINCT, ORDER BY
CREATE TEMP TABLE copy AS SELECT * FROM t_union;
SELECT 'ctas', (SELECT count(*) FROM copy) = 5;
CREATE TEMP VIEW v AS SELECT zone, count(*) n FROM t_dir WHERE year = 2024 GROUP BY zone;
SELECT 'view', (SELECT sum(n) FROM v) = 16384;
-- ORDER BY with LIMIT: see parquet_bug_limit_order_by.sql
