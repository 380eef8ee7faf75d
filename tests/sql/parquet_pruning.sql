-- Pushdown is observable: parquet_stats() (process-wide reader counters, JSON) tells
-- how many row groups a query read. Each check reads the counters before and after
-- one query; the sqlite3 shell running this file is the only reader in the process.
-- Data: data/ (tests/tools/gen_sample.mjs): lineitem has 6 row groups sorted by
-- l_orderkey; trips has 6 files (year=/month=) of 2 row groups sorted by pickup_at.
CREATE VIRTUAL TABLE li USING parquet('data/lineitem.parquet');
CREATE VIRTUAL TABLE li0 USING parquet('data/lineitem.parquet', pushdown=0);
CREATE VIRTUAL TABLE trips USING parquet('data/trips');
CREATE TEMP TABLE st(step INTEGER PRIMARY KEY, j TEXT);
CREATE TEMP VIEW d AS SELECT json_extract(b.j, '$.row_groups_read') - json_extract(a.j, '$.row_groups_read') AS rg
    FROM st a JOIN st b ON b.step = a.step + 1 ORDER BY b.step DESC LIMIT 1;
SELECT 'stats_json', json_valid(parquet_stats()) AND json_type(parquet_stats(), '$.row_groups_read') = 'integer';

-- statistics: = < <= > >= BETWEEN, IN, IS NULL
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'point_rows', (SELECT count(*) FROM li WHERE l_orderkey = 29985) = 2;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'point_row_groups_read', (SELECT rg FROM d) = 1;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'point_pushdown0_rows', (SELECT count(*) FROM li0 WHERE l_orderkey = 29985) = 2;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'point_pushdown0_row_groups_read', (SELECT rg FROM d) = 6;
CREATE TEMP TABLE want_range AS SELECT (SELECT count(*) FROM li0 WHERE l_orderkey > 55000) AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'range_rows', (SELECT count(*) FROM li WHERE l_orderkey > 55000) = (SELECT n FROM want_range);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'range_row_groups_read', (SELECT rg FROM d) = 1;
CREATE TEMP TABLE want_between AS SELECT (SELECT count(*) FROM li0 WHERE l_orderkey BETWEEN 10000 AND 10400) AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'between_rows', (SELECT count(*) FROM li WHERE l_orderkey BETWEEN 10000 AND 10400) = (SELECT n FROM want_between);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'between_row_groups_read', (SELECT rg FROM d) = 2;
CREATE TEMP TABLE want_le_ge AS SELECT (SELECT count(*) FROM li0 WHERE l_orderkey <= 5 OR l_orderkey >= 60000) AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'le_ge_rows', (SELECT count(*) FROM li WHERE l_orderkey <= 5 OR l_orderkey >= 60000) = (SELECT n FROM want_le_ge);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'le_ge_row_groups_read', (SELECT rg FROM d) = 6;
CREATE TEMP TABLE want_in_list AS SELECT (SELECT count(*) FROM li0 WHERE l_orderkey IN (1, 60225)) AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'in_list_rows', (SELECT count(*) FROM li WHERE l_orderkey IN (1, 60225)) = (SELECT n FROM want_in_list);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'in_list_row_groups_read', (SELECT rg FROM d) = 2;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'is_null_none_rows', (SELECT count(*) FROM li WHERE l_orderkey IS NULL) = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'is_null_none_row_groups_read', (SELECT rg FROM d) = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'beyond_max_rows', (SELECT count(*) FROM li WHERE l_orderkey > 1000000) = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'beyond_max_row_groups_read', (SELECT rg FROM d) = 0;
CREATE TEMP TABLE want_ts_range AS SELECT (SELECT count(*) FROM trips WHERE CAST(pickup_at AS BLOB) >= CAST('2024-03-20' AS BLOB) AND CAST(pickup_at AS BLOB) < CAST('2024-03-21' AS BLOB)) AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'ts_range_rows', (SELECT count(*) FROM trips WHERE pickup_at >= '2024-03-20' AND pickup_at < '2024-03-21') = (SELECT n FROM want_ts_range);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'ts_range_row_groups_read', (SELECT rg FROM d) = 1;

-- bloom filters (DuckDB writes them for dictionary-encoded columns): a value
-- between min and max that is in no row group
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'bloom_eq_rows', (SELECT count(*) FROM li WHERE l_shipmode = 'CAMEL') = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'bloom_eq_row_groups_read', (SELECT rg FROM d) = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'bloom_in_rows', (SELECT count(*) FROM li WHERE l_shipmode IN ('CAMEL', 'BICYCLE')) = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'bloom_in_row_groups_read', (SELECT rg FROM d) = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'bloom_trips_rows', (SELECT count(*) FROM trips WHERE zone = 'Nowhere') = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'bloom_trips_row_groups_read', (SELECT rg FROM d) = 0;

-- LIKE 'prefix%' without letters and GLOB 'prefix*' prune like a range;
-- a LIKE prefix with letters cannot (LIKE folds case)
CREATE TEMP TABLE want_like_digits AS SELECT (SELECT count(*) FROM trips WHERE substr(pickup_at, 1, 9) = '2024-03-2') AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'like_digits_rows', (SELECT count(*) FROM trips WHERE pickup_at LIKE '2024-03-2%') = (SELECT n FROM want_like_digits);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'like_digits_row_groups_read', (SELECT rg FROM d) = 1;
CREATE TEMP TABLE want_glob AS SELECT (SELECT count(*) FROM trips WHERE substr(pickup_date, 1, 9) = '2024-03-2') AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'glob_rows', (SELECT count(*) FROM trips WHERE pickup_date GLOB '2024-03-2*') = (SELECT n FROM want_glob);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'glob_row_groups_read', (SELECT rg FROM d) = 1;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'like_letters_rows', (SELECT count(*) FROM li WHERE l_shipmode LIKE 'CAM%') = 0;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'like_letters_row_groups_read', (SELECT rg FROM d) = 6;

-- hive partitions: files outside the partitions are not read
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'hive_rows', (SELECT count(*) FROM trips WHERE year = 2024 AND month IN (2, 3)) = 8192;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'hive_row_groups_read', (SELECT rg FROM d) = 4;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'hive_range_rows', (SELECT count(*) FROM trips WHERE year = 2023 AND month > 11) = 4096;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'hive_range_row_groups_read', (SELECT rg FROM d) = 2;
CREATE TEMP TABLE want_hive_and_stats AS SELECT (SELECT count(*) FROM trips WHERE pickup_date = '2024-01-01') AS n;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'hive_and_stats_rows', (SELECT count(*) FROM trips WHERE month = 1 AND pickup_at < '2024-01-02') = (SELECT n FROM want_hive_and_stats);
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'hive_and_stats_row_groups_read', (SELECT rg FROM d) = 1;

-- LIMIT: reading stops with SQLite's (the scan is lazy), one row group read.
-- OFFSET is applied by SQLite (a WHERE term SQLite 3.40 does not show to the
-- table could drop rows the scan skipped), so every row up to it is read.
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'limit_rows', (SELECT count(*) FROM (SELECT * FROM li LIMIT 5)) = 5;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'limit_row_groups_read', (SELECT rg FROM d) = 1;
INSERT INTO st(j) VALUES (parquet_stats());
SELECT 'limit_offset_rows', (SELECT count(*) FROM (SELECT * FROM li LIMIT 5 OFFSET 20478)) = 5;
-- a term comparing two columns of the table, with LIMIT and OFFSET: every row
-- the WHERE keeps counts (was 17 of 37: the scan stopped after LIMIT rows)
SELECT 'limit_hidden_term', (SELECT count(*) FROM (SELECT 1 FROM li WHERE l_quantity > l_linenumber * 10 LIMIT 37))
  = (SELECT min(37, count(*)) FROM li WHERE l_quantity > l_linenumber * 10);
SELECT 'limit_offset_hidden_term',
  (SELECT group_concat(l_orderkey || ':' || l_linenumber) FROM (SELECT l_orderkey, l_linenumber FROM li WHERE l_quantity > l_linenumber * 10 LIMIT 7 OFFSET 11))
  = (SELECT group_concat(l_orderkey || ':' || l_linenumber) FROM (SELECT l_orderkey, l_linenumber FROM li WHERE +l_quantity > l_linenumber * 10 AND l_orderkey = l_orderkey + 0 ORDER BY rowid LIMIT 7 OFFSET 11));
