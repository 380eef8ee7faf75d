-- Pushdown changes what is read, never the result: every query here runs against a
-- table with pushdown (projection, row-group pruning from statistics and bloom
-- filters, hive partition pruning, LIMIT/OFFSET) and against the same files with
-- pushdown=0; the rows must be the same both ways (EXCEPT in both directions plus
-- equal counts). Data: data/ (tests/tools/gen_sample.mjs) and parquet-testing.
CREATE VIRTUAL TABLE trips USING parquet('data/trips');
CREATE VIRTUAL TABLE trips0 USING parquet('data/trips', pushdown=0);
CREATE VIRTUAL TABLE li USING parquet('data/lineitem.parquet');
CREATE VIRTUAL TABLE li0 USING parquet('data/lineitem.parquet', pushdown=0);
CREATE VIRTUAL TABLE nan USING parquet('../shared/parquet-testing/data/nan_in_stats.parquet');
CREATE VIRTUAL TABLE nan0 USING parquet('../shared/parquet-testing/data/nan_in_stats.parquet', pushdown=0);
CREATE VIRTUAL TABLE bloom USING parquet('../shared/parquet-testing/data/data_index_bloom_encoding_stats.parquet');
CREATE VIRTUAL TABLE bloom0 USING parquet('../shared/parquet-testing/data/data_index_bloom_encoding_stats.parquet', pushdown=0);

-- the queries below must not be vacuous: the data has what they look for
SELECT 'data_trips', (SELECT count(*) FROM trips0) = 24576;
SELECT 'data_li', (SELECT count(*) FROM li0) = 60012;
SELECT 'data_note_nulls', (SELECT count(*) FROM trips0 WHERE note IS NULL) BETWEEN 20000 AND 24575;
SELECT 'data_point', (SELECT count(*) FROM li0 WHERE l_orderkey = 29985) = 2;

-- = on each type
SELECT 'eq_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id = 5000 EXCEPT SELECT *, filename FROM trips0 WHERE trip_id = 5000)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id = 5000 EXCEPT SELECT *, filename FROM trips WHERE trip_id = 5000)) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id = 5000) = (SELECT count(*) FROM trips0 WHERE trip_id = 5000);
SELECT 'eq_int_text_literal', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id = '5000' EXCEPT SELECT *, filename FROM trips0 WHERE trip_id = '5000')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id = '5000' EXCEPT SELECT *, filename FROM trips WHERE trip_id = '5000')) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id = '5000') = (SELECT count(*) FROM trips0 WHERE trip_id = '5000');
SELECT 'eq_int_real_literal', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE passengers = 2.0 EXCEPT SELECT *, filename FROM trips0 WHERE passengers = 2.0)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE passengers = 2.0 EXCEPT SELECT *, filename FROM trips WHERE passengers = 2.0)) = 0
    AND (SELECT count(*) FROM trips WHERE passengers = 2.0) = (SELECT count(*) FROM trips0 WHERE passengers = 2.0);
SELECT 'eq_text', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone = 'Docks' EXCEPT SELECT *, filename FROM trips0 WHERE zone = 'Docks')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone = 'Docks' EXCEPT SELECT *, filename FROM trips WHERE zone = 'Docks')) = 0
    AND (SELECT count(*) FROM trips WHERE zone = 'Docks') = (SELECT count(*) FROM trips0 WHERE zone = 'Docks');
SELECT 'eq_text_absent', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone = 'Nowhere' EXCEPT SELECT *, filename FROM trips0 WHERE zone = 'Nowhere')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone = 'Nowhere' EXCEPT SELECT *, filename FROM trips WHERE zone = 'Nowhere')) = 0
    AND (SELECT count(*) FROM trips WHERE zone = 'Nowhere') = (SELECT count(*) FROM trips0 WHERE zone = 'Nowhere');
SELECT 'eq_text_number', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone = 5 EXCEPT SELECT *, filename FROM trips0 WHERE zone = 5)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone = 5 EXCEPT SELECT *, filename FROM trips WHERE zone = 5)) = 0
    AND (SELECT count(*) FROM trips WHERE zone = 5) = (SELECT count(*) FROM trips0 WHERE zone = 5);
SELECT 'eq_ts', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_at = '2024-01-16 08:26:22' EXCEPT SELECT *, filename FROM trips0 WHERE pickup_at = '2024-01-16 08:26:22')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_at = '2024-01-16 08:26:22' EXCEPT SELECT *, filename FROM trips WHERE pickup_at = '2024-01-16 08:26:22')) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_at = '2024-01-16 08:26:22') = (SELECT count(*) FROM trips0 WHERE pickup_at = '2024-01-16 08:26:22');
SELECT 'eq_date', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_date = '2024-02-29' EXCEPT SELECT *, filename FROM trips0 WHERE pickup_date = '2024-02-29')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_date = '2024-02-29' EXCEPT SELECT *, filename FROM trips WHERE pickup_date = '2024-02-29')) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_date = '2024-02-29') = (SELECT count(*) FROM trips0 WHERE pickup_date = '2024-02-29');
SELECT 'eq_decimal', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE fare = 19.66 EXCEPT SELECT *, filename FROM trips0 WHERE fare = 19.66)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE fare = 19.66 EXCEPT SELECT *, filename FROM trips WHERE fare = 19.66)) = 0
    AND (SELECT count(*) FROM trips WHERE fare = 19.66) = (SELECT count(*) FROM trips0 WHERE fare = 19.66);
SELECT 'eq_double', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE distance_km = 8.56 EXCEPT SELECT *, filename FROM trips0 WHERE distance_km = 8.56)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE distance_km = 8.56 EXCEPT SELECT *, filename FROM trips WHERE distance_km = 8.56)) = 0
    AND (SELECT count(*) FROM trips WHERE distance_km = 8.56) = (SELECT count(*) FROM trips0 WHERE distance_km = 8.56);
SELECT 'eq_bool', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE paid_card = 0 EXCEPT SELECT *, filename FROM trips0 WHERE paid_card = 0)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE paid_card = 0 EXCEPT SELECT *, filename FROM trips WHERE paid_card = 0)) = 0
    AND (SELECT count(*) FROM trips WHERE paid_card = 0) = (SELECT count(*) FROM trips0 WHERE paid_card = 0);
SELECT 'eq_li_point', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_orderkey = 29985 EXCEPT SELECT *, filename FROM li0 WHERE l_orderkey = 29985)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_orderkey = 29985 EXCEPT SELECT *, filename FROM li WHERE l_orderkey = 29985)) = 0
    AND (SELECT count(*) FROM li WHERE l_orderkey = 29985) = (SELECT count(*) FROM li0 WHERE l_orderkey = 29985);
SELECT 'eq_li_absent', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_orderkey = 29986 EXCEPT SELECT *, filename FROM li0 WHERE l_orderkey = 29986)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_orderkey = 29986 EXCEPT SELECT *, filename FROM li WHERE l_orderkey = 29986)) = 0
    AND (SELECT count(*) FROM li WHERE l_orderkey = 29986) = (SELECT count(*) FROM li0 WHERE l_orderkey = 29986);
SELECT 'eq_li_text', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_shipmode = 'MAIL' EXCEPT SELECT *, filename FROM li0 WHERE l_shipmode = 'MAIL')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_shipmode = 'MAIL' EXCEPT SELECT *, filename FROM li WHERE l_shipmode = 'MAIL')) = 0
    AND (SELECT count(*) FROM li WHERE l_shipmode = 'MAIL') = (SELECT count(*) FROM li0 WHERE l_shipmode = 'MAIL');
SELECT 'eq_li_bloom_absent', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_shipmode = 'CAMEL' EXCEPT SELECT *, filename FROM li0 WHERE l_shipmode = 'CAMEL')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_shipmode = 'CAMEL' EXCEPT SELECT *, filename FROM li WHERE l_shipmode = 'CAMEL')) = 0
    AND (SELECT count(*) FROM li WHERE l_shipmode = 'CAMEL') = (SELECT count(*) FROM li0 WHERE l_shipmode = 'CAMEL');
SELECT 'eq_li_decimal', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_discount = 0.05 EXCEPT SELECT *, filename FROM li0 WHERE l_discount = 0.05)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_discount = 0.05 EXCEPT SELECT *, filename FROM li WHERE l_discount = 0.05)) = 0
    AND (SELECT count(*) FROM li WHERE l_discount = 0.05) = (SELECT count(*) FROM li0 WHERE l_discount = 0.05);

-- ranges
SELECT 'lt_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id < 100 EXCEPT SELECT *, filename FROM trips0 WHERE trip_id < 100)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id < 100 EXCEPT SELECT *, filename FROM trips WHERE trip_id < 100)) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id < 100) = (SELECT count(*) FROM trips0 WHERE trip_id < 100);
SELECT 'le_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id <= 2048 EXCEPT SELECT *, filename FROM trips0 WHERE trip_id <= 2048)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id <= 2048 EXCEPT SELECT *, filename FROM trips WHERE trip_id <= 2048)) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id <= 2048) = (SELECT count(*) FROM trips0 WHERE trip_id <= 2048);
SELECT 'gt_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id > 24000 EXCEPT SELECT *, filename FROM trips0 WHERE trip_id > 24000)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id > 24000 EXCEPT SELECT *, filename FROM trips WHERE trip_id > 24000)) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id > 24000) = (SELECT count(*) FROM trips0 WHERE trip_id > 24000);
SELECT 'ge_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id >= 24576 EXCEPT SELECT *, filename FROM trips0 WHERE trip_id >= 24576)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id >= 24576 EXCEPT SELECT *, filename FROM trips WHERE trip_id >= 24576)) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id >= 24576) = (SELECT count(*) FROM trips0 WHERE trip_id >= 24576);
SELECT 'range_ts', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_at >= '2024-01-16' AND pickup_at < '2024-01-17' EXCEPT SELECT *, filename FROM trips0 WHERE pickup_at >= '2024-01-16' AND pickup_at < '2024-01-17')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_at >= '2024-01-16' AND pickup_at < '2024-01-17' EXCEPT SELECT *, filename FROM trips WHERE pickup_at >= '2024-01-16' AND pickup_at < '2024-01-17')) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_at >= '2024-01-16' AND pickup_at < '2024-01-17') = (SELECT count(*) FROM trips0 WHERE pickup_at >= '2024-01-16' AND pickup_at < '2024-01-17');
SELECT 'range_date', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_date BETWEEN '2023-12-30' AND '2024-01-02' EXCEPT SELECT *, filename FROM trips0 WHERE pickup_date BETWEEN '2023-12-30' AND '2024-01-02')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_date BETWEEN '2023-12-30' AND '2024-01-02' EXCEPT SELECT *, filename FROM trips WHERE pickup_date BETWEEN '2023-12-30' AND '2024-01-02')) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_date BETWEEN '2023-12-30' AND '2024-01-02') = (SELECT count(*) FROM trips0 WHERE pickup_date BETWEEN '2023-12-30' AND '2024-01-02');
SELECT 'range_decimal', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE fare > 70 EXCEPT SELECT *, filename FROM trips0 WHERE fare > 70)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE fare > 70 EXCEPT SELECT *, filename FROM trips WHERE fare > 70)) = 0
    AND (SELECT count(*) FROM trips WHERE fare > 70) = (SELECT count(*) FROM trips0 WHERE fare > 70);
SELECT 'range_double', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE distance_km BETWEEN 5 AND 5.5 EXCEPT SELECT *, filename FROM trips0 WHERE distance_km BETWEEN 5 AND 5.5)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE distance_km BETWEEN 5 AND 5.5 EXCEPT SELECT *, filename FROM trips WHERE distance_km BETWEEN 5 AND 5.5)) = 0
    AND (SELECT count(*) FROM trips WHERE distance_km BETWEEN 5 AND 5.5) = (SELECT count(*) FROM trips0 WHERE distance_km BETWEEN 5 AND 5.5);
SELECT 'text_vs_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_at > 5 EXCEPT SELECT *, filename FROM trips0 WHERE pickup_at > 5)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_at > 5 EXCEPT SELECT *, filename FROM trips WHERE pickup_at > 5)) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_at > 5) = (SELECT count(*) FROM trips0 WHERE pickup_at > 5);
SELECT 'ne_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id != 1 EXCEPT SELECT *, filename FROM trips0 WHERE trip_id != 1)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id != 1 EXCEPT SELECT *, filename FROM trips WHERE trip_id != 1)) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id != 1) = (SELECT count(*) FROM trips0 WHERE trip_id != 1);
SELECT 'ne_text', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE vendor <> 'acme' EXCEPT SELECT *, filename FROM trips0 WHERE vendor <> 'acme')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE vendor <> 'acme' EXCEPT SELECT *, filename FROM trips WHERE vendor <> 'acme')) = 0
    AND (SELECT count(*) FROM trips WHERE vendor <> 'acme') = (SELECT count(*) FROM trips0 WHERE vendor <> 'acme');
SELECT 'is_not_value', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE vendor IS NOT 'acme' EXCEPT SELECT *, filename FROM trips0 WHERE vendor IS NOT 'acme')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE vendor IS NOT 'acme' EXCEPT SELECT *, filename FROM trips WHERE vendor IS NOT 'acme')) = 0
    AND (SELECT count(*) FROM trips WHERE vendor IS NOT 'acme') = (SELECT count(*) FROM trips0 WHERE vendor IS NOT 'acme');
SELECT 'is_value', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone IS 'Docks' EXCEPT SELECT *, filename FROM trips0 WHERE zone IS 'Docks')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone IS 'Docks' EXCEPT SELECT *, filename FROM trips WHERE zone IS 'Docks')) = 0
    AND (SELECT count(*) FROM trips WHERE zone IS 'Docks') = (SELECT count(*) FROM trips0 WHERE zone IS 'Docks');
SELECT 'li_q6', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24 EXCEPT SELECT *, filename FROM li0 WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24 EXCEPT SELECT *, filename FROM li WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24)) = 0
    AND (SELECT count(*) FROM li WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24) = (SELECT count(*) FROM li0 WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24);
SELECT 'li_orderkey_range', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_orderkey BETWEEN 20552 AND 20560 EXCEPT SELECT *, filename FROM li0 WHERE l_orderkey BETWEEN 20552 AND 20560)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_orderkey BETWEEN 20552 AND 20560 EXCEPT SELECT *, filename FROM li WHERE l_orderkey BETWEEN 20552 AND 20560)) = 0
    AND (SELECT count(*) FROM li WHERE l_orderkey BETWEEN 20552 AND 20560) = (SELECT count(*) FROM li0 WHERE l_orderkey BETWEEN 20552 AND 20560);
SELECT 'li_beyond', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_orderkey > 1000000 EXCEPT SELECT *, filename FROM li0 WHERE l_orderkey > 1000000)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_orderkey > 1000000 EXCEPT SELECT *, filename FROM li WHERE l_orderkey > 1000000)) = 0
    AND (SELECT count(*) FROM li WHERE l_orderkey > 1000000) = (SELECT count(*) FROM li0 WHERE l_orderkey > 1000000);

-- NULLs
SELECT 'is_null', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE note IS NULL EXCEPT SELECT *, filename FROM trips0 WHERE note IS NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE note IS NULL EXCEPT SELECT *, filename FROM trips WHERE note IS NULL)) = 0
    AND (SELECT count(*) FROM trips WHERE note IS NULL) = (SELECT count(*) FROM trips0 WHERE note IS NULL);
SELECT 'is_not_null', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE note IS NOT NULL EXCEPT SELECT *, filename FROM trips0 WHERE note IS NOT NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE note IS NOT NULL EXCEPT SELECT *, filename FROM trips WHERE note IS NOT NULL)) = 0
    AND (SELECT count(*) FROM trips WHERE note IS NOT NULL) = (SELECT count(*) FROM trips0 WHERE note IS NOT NULL);
SELECT 'eq_null', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE note = NULL EXCEPT SELECT *, filename FROM trips0 WHERE note = NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE note = NULL EXCEPT SELECT *, filename FROM trips WHERE note = NULL)) = 0
    AND (SELECT count(*) FROM trips WHERE note = NULL) = (SELECT count(*) FROM trips0 WHERE note = NULL);
SELECT 'nan_is_null', (SELECT count(*) FROM (SELECT *, filename FROM nan WHERE x IS NULL EXCEPT SELECT *, filename FROM nan0 WHERE x IS NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM nan0 WHERE x IS NULL EXCEPT SELECT *, filename FROM nan WHERE x IS NULL)) = 0
    AND (SELECT count(*) FROM nan WHERE x IS NULL) = (SELECT count(*) FROM nan0 WHERE x IS NULL);
SELECT 'nan_is_not_null', (SELECT count(*) FROM (SELECT *, filename FROM nan WHERE x IS NOT NULL EXCEPT SELECT *, filename FROM nan0 WHERE x IS NOT NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM nan0 WHERE x IS NOT NULL EXCEPT SELECT *, filename FROM nan WHERE x IS NOT NULL)) = 0
    AND (SELECT count(*) FROM nan WHERE x IS NOT NULL) = (SELECT count(*) FROM nan0 WHERE x IS NOT NULL);
SELECT 'nan_range', (SELECT count(*) FROM (SELECT *, filename FROM nan WHERE x > 0 EXCEPT SELECT *, filename FROM nan0 WHERE x > 0)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM nan0 WHERE x > 0 EXCEPT SELECT *, filename FROM nan WHERE x > 0)) = 0
    AND (SELECT count(*) FROM nan WHERE x > 0) = (SELECT count(*) FROM nan0 WHERE x > 0);

-- IN lists
SELECT 'in_text', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone IN ('Docks', 'Harbor') EXCEPT SELECT *, filename FROM trips0 WHERE zone IN ('Docks', 'Harbor'))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone IN ('Docks', 'Harbor') EXCEPT SELECT *, filename FROM trips WHERE zone IN ('Docks', 'Harbor'))) = 0
    AND (SELECT count(*) FROM trips WHERE zone IN ('Docks', 'Harbor')) = (SELECT count(*) FROM trips0 WHERE zone IN ('Docks', 'Harbor'));
SELECT 'in_int', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id IN (1, 2048, 2049, 4096, 4097, 24576, 99999) EXCEPT SELECT *, filename FROM trips0 WHERE trip_id IN (1, 2048, 2049, 4096, 4097, 24576, 99999))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id IN (1, 2048, 2049, 4096, 4097, 24576, 99999) EXCEPT SELECT *, filename FROM trips WHERE trip_id IN (1, 2048, 2049, 4096, 4097, 24576, 99999))) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id IN (1, 2048, 2049, 4096, 4097, 24576, 99999)) = (SELECT count(*) FROM trips0 WHERE trip_id IN (1, 2048, 2049, 4096, 4097, 24576, 99999));
SELECT 'in_absent', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone IN ('Nowhere', 'Elsewhere') EXCEPT SELECT *, filename FROM trips0 WHERE zone IN ('Nowhere', 'Elsewhere'))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone IN ('Nowhere', 'Elsewhere') EXCEPT SELECT *, filename FROM trips WHERE zone IN ('Nowhere', 'Elsewhere'))) = 0
    AND (SELECT count(*) FROM trips WHERE zone IN ('Nowhere', 'Elsewhere')) = (SELECT count(*) FROM trips0 WHERE zone IN ('Nowhere', 'Elsewhere'));
SELECT 'in_mixed', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id IN ('7', 8.0, 9) EXCEPT SELECT *, filename FROM trips0 WHERE trip_id IN ('7', 8.0, 9))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id IN ('7', 8.0, 9) EXCEPT SELECT *, filename FROM trips WHERE trip_id IN ('7', 8.0, 9))) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id IN ('7', 8.0, 9)) = (SELECT count(*) FROM trips0 WHERE trip_id IN ('7', 8.0, 9));
SELECT 'in_li', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_shipmode IN ('MAIL', 'SHIP') AND l_orderkey < 40 EXCEPT SELECT *, filename FROM li0 WHERE l_shipmode IN ('MAIL', 'SHIP') AND l_orderkey < 40)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_shipmode IN ('MAIL', 'SHIP') AND l_orderkey < 40 EXCEPT SELECT *, filename FROM li WHERE l_shipmode IN ('MAIL', 'SHIP') AND l_orderkey < 40)) = 0
    AND (SELECT count(*) FROM li WHERE l_shipmode IN ('MAIL', 'SHIP') AND l_orderkey < 40) = (SELECT count(*) FROM li0 WHERE l_shipmode IN ('MAIL', 'SHIP') AND l_orderkey < 40);
SELECT 'in_subquery', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id IN (SELECT trip_id * 3 FROM trips0 WHERE trip_id < 10) EXCEPT SELECT *, filename FROM trips0 WHERE trip_id IN (SELECT trip_id * 3 FROM trips0 WHERE trip_id < 10))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id IN (SELECT trip_id * 3 FROM trips0 WHERE trip_id < 10) EXCEPT SELECT *, filename FROM trips WHERE trip_id IN (SELECT trip_id * 3 FROM trips0 WHERE trip_id < 10))) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id IN (SELECT trip_id * 3 FROM trips0 WHERE trip_id < 10)) = (SELECT count(*) FROM trips0 WHERE trip_id IN (SELECT trip_id * 3 FROM trips0 WHERE trip_id < 10));
SELECT 'bloom_eq', (SELECT count(*) FROM (SELECT *, filename FROM bloom WHERE "String" = 'Hello' EXCEPT SELECT *, filename FROM bloom0 WHERE "String" = 'Hello')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM bloom0 WHERE "String" = 'Hello' EXCEPT SELECT *, filename FROM bloom WHERE "String" = 'Hello')) = 0
    AND (SELECT count(*) FROM bloom WHERE "String" = 'Hello') = (SELECT count(*) FROM bloom0 WHERE "String" = 'Hello');
SELECT 'bloom_absent', (SELECT count(*) FROM (SELECT *, filename FROM bloom WHERE "String" = 'Nope' EXCEPT SELECT *, filename FROM bloom0 WHERE "String" = 'Nope')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM bloom0 WHERE "String" = 'Nope' EXCEPT SELECT *, filename FROM bloom WHERE "String" = 'Nope')) = 0
    AND (SELECT count(*) FROM bloom WHERE "String" = 'Nope') = (SELECT count(*) FROM bloom0 WHERE "String" = 'Nope');
SELECT 'bloom_in', (SELECT count(*) FROM (SELECT *, filename FROM bloom WHERE "String" IN ('Hello', 'Nope', 'today') EXCEPT SELECT *, filename FROM bloom0 WHERE "String" IN ('Hello', 'Nope', 'today'))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM bloom0 WHERE "String" IN ('Hello', 'Nope', 'today') EXCEPT SELECT *, filename FROM bloom WHERE "String" IN ('Hello', 'Nope', 'today'))) = 0
    AND (SELECT count(*) FROM bloom WHERE "String" IN ('Hello', 'Nope', 'today')) = (SELECT count(*) FROM bloom0 WHERE "String" IN ('Hello', 'Nope', 'today'));

-- LIKE and GLOB (a prefix without letters prunes; others are only re-checked)
SELECT 'like_digits', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_at LIKE '2024-01-1%' EXCEPT SELECT *, filename FROM trips0 WHERE pickup_at LIKE '2024-01-1%')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_at LIKE '2024-01-1%' EXCEPT SELECT *, filename FROM trips WHERE pickup_at LIKE '2024-01-1%')) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_at LIKE '2024-01-1%') = (SELECT count(*) FROM trips0 WHERE pickup_at LIKE '2024-01-1%');
SELECT 'like_letters', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone LIKE 'do%' EXCEPT SELECT *, filename FROM trips0 WHERE zone LIKE 'do%')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone LIKE 'do%' EXCEPT SELECT *, filename FROM trips WHERE zone LIKE 'do%')) = 0
    AND (SELECT count(*) FROM trips WHERE zone LIKE 'do%') = (SELECT count(*) FROM trips0 WHERE zone LIKE 'do%');
SELECT 'like_infix', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE note LIKE '%seat' EXCEPT SELECT *, filename FROM trips0 WHERE note LIKE '%seat')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE note LIKE '%seat' EXCEPT SELECT *, filename FROM trips WHERE note LIKE '%seat')) = 0
    AND (SELECT count(*) FROM trips WHERE note LIKE '%seat') = (SELECT count(*) FROM trips0 WHERE note LIKE '%seat');
SELECT 'like_underscore', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_date LIKE '2024-0_-01' EXCEPT SELECT *, filename FROM trips0 WHERE pickup_date LIKE '2024-0_-01')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_date LIKE '2024-0_-01' EXCEPT SELECT *, filename FROM trips WHERE pickup_date LIKE '2024-0_-01')) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_date LIKE '2024-0_-01') = (SELECT count(*) FROM trips0 WHERE pickup_date LIKE '2024-0_-01');
SELECT 'glob_prefix', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone GLOB 'Do*' EXCEPT SELECT *, filename FROM trips0 WHERE zone GLOB 'Do*')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone GLOB 'Do*' EXCEPT SELECT *, filename FROM trips WHERE zone GLOB 'Do*')) = 0
    AND (SELECT count(*) FROM trips WHERE zone GLOB 'Do*') = (SELECT count(*) FROM trips0 WHERE zone GLOB 'Do*');
SELECT 'glob_digits', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_date GLOB '2024-02-*' EXCEPT SELECT *, filename FROM trips0 WHERE pickup_date GLOB '2024-02-*')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_date GLOB '2024-02-*' EXCEPT SELECT *, filename FROM trips WHERE pickup_date GLOB '2024-02-*')) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_date GLOB '2024-02-*') = (SELECT count(*) FROM trips0 WHERE pickup_date GLOB '2024-02-*');
SELECT 'glob_class', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone GLOB '[DH]*' EXCEPT SELECT *, filename FROM trips0 WHERE zone GLOB '[DH]*')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone GLOB '[DH]*' EXCEPT SELECT *, filename FROM trips WHERE zone GLOB '[DH]*')) = 0
    AND (SELECT count(*) FROM trips WHERE zone GLOB '[DH]*') = (SELECT count(*) FROM trips0 WHERE zone GLOB '[DH]*');
SELECT 'li_like_date', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_shipdate LIKE '1995-%' EXCEPT SELECT *, filename FROM li0 WHERE l_shipdate LIKE '1995-%')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_shipdate LIKE '1995-%' EXCEPT SELECT *, filename FROM li WHERE l_shipdate LIKE '1995-%')) = 0
    AND (SELECT count(*) FROM li WHERE l_shipdate LIKE '1995-%') = (SELECT count(*) FROM li0 WHERE l_shipdate LIKE '1995-%');

-- hive partition columns
SELECT 'hive_eq', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE year = 2024 AND month = 2 EXCEPT SELECT *, filename FROM trips0 WHERE year = 2024 AND month = 2)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE year = 2024 AND month = 2 EXCEPT SELECT *, filename FROM trips WHERE year = 2024 AND month = 2)) = 0
    AND (SELECT count(*) FROM trips WHERE year = 2024 AND month = 2) = (SELECT count(*) FROM trips0 WHERE year = 2024 AND month = 2);
SELECT 'hive_in', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE month IN (1, 12) EXCEPT SELECT *, filename FROM trips0 WHERE month IN (1, 12))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE month IN (1, 12) EXCEPT SELECT *, filename FROM trips WHERE month IN (1, 12))) = 0
    AND (SELECT count(*) FROM trips WHERE month IN (1, 12)) = (SELECT count(*) FROM trips0 WHERE month IN (1, 12));
SELECT 'hive_range', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE year > 2023 AND month >= 3 EXCEPT SELECT *, filename FROM trips0 WHERE year > 2023 AND month >= 3)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE year > 2023 AND month >= 3 EXCEPT SELECT *, filename FROM trips WHERE year > 2023 AND month >= 3)) = 0
    AND (SELECT count(*) FROM trips WHERE year > 2023 AND month >= 3) = (SELECT count(*) FROM trips0 WHERE year > 2023 AND month >= 3);
SELECT 'hive_ne', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE month != 1 EXCEPT SELECT *, filename FROM trips0 WHERE month != 1)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE month != 1 EXCEPT SELECT *, filename FROM trips WHERE month != 1)) = 0
    AND (SELECT count(*) FROM trips WHERE month != 1) = (SELECT count(*) FROM trips0 WHERE month != 1);
SELECT 'hive_text_literal', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE year = '2023' EXCEPT SELECT *, filename FROM trips0 WHERE year = '2023')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE year = '2023' EXCEPT SELECT *, filename FROM trips WHERE year = '2023')) = 0
    AND (SELECT count(*) FROM trips WHERE year = '2023') = (SELECT count(*) FROM trips0 WHERE year = '2023');
SELECT 'hive_null', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE month IS NULL EXCEPT SELECT *, filename FROM trips0 WHERE month IS NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE month IS NULL EXCEPT SELECT *, filename FROM trips WHERE month IS NULL)) = 0
    AND (SELECT count(*) FROM trips WHERE month IS NULL) = (SELECT count(*) FROM trips0 WHERE month IS NULL);
SELECT 'hive_not_null', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE month IS NOT NULL AND trip_id < 10 EXCEPT SELECT *, filename FROM trips0 WHERE month IS NOT NULL AND trip_id < 10)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE month IS NOT NULL AND trip_id < 10 EXCEPT SELECT *, filename FROM trips WHERE month IS NOT NULL AND trip_id < 10)) = 0
    AND (SELECT count(*) FROM trips WHERE month IS NOT NULL AND trip_id < 10) = (SELECT count(*) FROM trips0 WHERE month IS NOT NULL AND trip_id < 10);
SELECT 'hive_and_data', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE year = 2024 AND zone = 'Airport' AND fare < 10 EXCEPT SELECT *, filename FROM trips0 WHERE year = 2024 AND zone = 'Airport' AND fare < 10)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE year = 2024 AND zone = 'Airport' AND fare < 10 EXCEPT SELECT *, filename FROM trips WHERE year = 2024 AND zone = 'Airport' AND fare < 10)) = 0
    AND (SELECT count(*) FROM trips WHERE year = 2024 AND zone = 'Airport' AND fare < 10) = (SELECT count(*) FROM trips0 WHERE year = 2024 AND zone = 'Airport' AND fare < 10);
SELECT 'hive_or', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE month = 1 OR zone = 'Docks' EXCEPT SELECT *, filename FROM trips0 WHERE month = 1 OR zone = 'Docks')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE month = 1 OR zone = 'Docks' EXCEPT SELECT *, filename FROM trips WHERE month = 1 OR zone = 'Docks')) = 0
    AND (SELECT count(*) FROM trips WHERE month = 1 OR zone = 'Docks') = (SELECT count(*) FROM trips0 WHERE month = 1 OR zone = 'Docks');

-- projection of nested columns and expressions
SELECT 'nested_expr', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE driver ->> '$.rating' = 5 AND json_array_length(stops) = 2 EXCEPT SELECT *, filename FROM trips0 WHERE driver ->> '$.rating' = 5 AND json_array_length(stops) = 2)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE driver ->> '$.rating' = 5 AND json_array_length(stops) = 2 EXCEPT SELECT *, filename FROM trips WHERE driver ->> '$.rating' = 5 AND json_array_length(stops) = 2)) = 0
    AND (SELECT count(*) FROM trips WHERE driver ->> '$.rating' = 5 AND json_array_length(stops) = 2) = (SELECT count(*) FROM trips0 WHERE driver ->> '$.rating' = 5 AND json_array_length(stops) = 2);
SELECT 'or_terms', (SELECT count(*) FROM (SELECT *, filename FROM li WHERE l_orderkey = 7 OR l_shipmode = 'FOB' EXCEPT SELECT *, filename FROM li0 WHERE l_orderkey = 7 OR l_shipmode = 'FOB')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM li0 WHERE l_orderkey = 7 OR l_shipmode = 'FOB' EXCEPT SELECT *, filename FROM li WHERE l_orderkey = 7 OR l_shipmode = 'FOB')) = 0
    AND (SELECT count(*) FROM li WHERE l_orderkey = 7 OR l_shipmode = 'FOB') = (SELECT count(*) FROM li0 WHERE l_orderkey = 7 OR l_shipmode = 'FOB');

-- LIMIT/OFFSET (pushed only when the query has no other constraint); without ORDER BY
-- both tables return rows in file order, so the same rows must come back
SELECT 'limit', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips LIMIT 5)) = '1,2,3,4,5';
SELECT 'limit_offset_rowgroup', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips LIMIT 4 OFFSET 2046)) = '2047,2048,2049,2050';
SELECT 'limit_offset_file', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips LIMIT 4 OFFSET 4094)) = '4095,4096,4097,4098';
SELECT 'limit_offset_far', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips LIMIT 3 OFFSET 20000)) = '20001,20002,20003';
SELECT 'limit_offset_end', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips LIMIT 10 OFFSET 24574)) = '24575,24576';
SELECT 'offset_past_end', (SELECT count(*) FROM (SELECT trip_id FROM trips LIMIT 10 OFFSET 24576)) = 0;
SELECT 'limit_zero', (SELECT count(*) FROM (SELECT trip_id FROM trips LIMIT 0)) = 0;
SELECT 'limit_negative', (SELECT count(*) FROM (SELECT trip_id FROM trips LIMIT -1 OFFSET 24570)) = 6;
SELECT 'limit_same_as_unpushed', (SELECT group_concat(trip_id || zone || coalesce(note, '') || stops) FROM (SELECT * FROM trips LIMIT 7 OFFSET 6141))
                               = (SELECT group_concat(trip_id || zone || coalesce(note, '') || stops) FROM (SELECT * FROM trips0 LIMIT 7 OFFSET 6141));
SELECT 'limit_with_where', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips WHERE month = 12 LIMIT 3 OFFSET 1)) = '4098,4099,4100';
SELECT 'limit_with_where_data', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips WHERE trip_id > 10 LIMIT 2 OFFSET 2)) = '13,14';
SELECT 'limit_li', (SELECT group_concat(l_orderkey || '/' || l_linenumber) FROM (SELECT * FROM li LIMIT 3 OFFSET 10239))
                 = (SELECT group_concat(l_orderkey || '/' || l_linenumber) FROM (SELECT * FROM li0 LIMIT 3 OFFSET 10239));
SELECT 'limit_subquery_expr', (SELECT count(*) FROM (SELECT 1 FROM trips LIMIT (SELECT 3) OFFSET (SELECT 1))) = 3;

-- whole-table aggregates agree
SELECT 'agg_trips', (SELECT sum(fare), sum(distance_km), count(note), sum(length(stops)), sum(length(driver)) FROM trips)
                  = (SELECT sum(fare), sum(distance_km), count(note), sum(length(stops)), sum(length(driver)) FROM trips0);
SELECT 'agg_li', (SELECT sum(l_extendedprice * (1 - l_discount)) FROM li) = (SELECT sum(l_extendedprice * (1 - l_discount)) FROM li0);
-- a join between the two tables
SELECT 'join', (SELECT count(*) FROM trips a JOIN trips0 b ON a.trip_id = b.trip_id + 1
                WHERE b.month = 3 AND b.trip_id BETWEEN 16385 AND 16400 AND a.month = 3) = 16;

-- SQLite's comparison rules (affinity, collation, NULL, mixed types) must hold
-- when a constraint is evaluated in the scanner instead of by SQLite
-- (COLLATE NOCASE/RTRIM: see parquet_bug_collation.sql)
CREATE VIRTUAL TABLE ty USING parquet('tests/data/types.parquet');
CREATE VIRTUAL TABLE ty0 USING parquet('tests/data/types.parquet', pushdown=0);
CREATE VIRTUAL TABLE tyd USING parquet('tests/data/types.parquet', decimal_as_text=1);
CREATE VIRTUAL TABLE tyd0 USING parquet('tests/data/types.parquet', decimal_as_text=1, pushdown=0);
CREATE VIRTUAL TABLE un USING parquet('tests/data/union', union_by_name=1);
CREATE VIRTUAL TABLE un0 USING parquet('tests/data/union', union_by_name=1, pushdown=0);
CREATE VIRTUAL TABLE i96 USING parquet('../shared/parquet-testing/data/int96_from_spark.parquet');
CREATE VIRTUAL TABLE i960 USING parquet('../shared/parquet-testing/data/int96_from_spark.parquet', pushdown=0);
SELECT 'aff_text_to_real', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE fare = '19.66' EXCEPT SELECT *, filename FROM trips0 WHERE fare = '19.66')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE fare = '19.66' EXCEPT SELECT *, filename FROM trips WHERE fare = '19.66')) = 0
    AND (SELECT count(*) FROM trips WHERE fare = '19.66') = (SELECT count(*) FROM trips0 WHERE fare = '19.66');
SELECT 'aff_int_to_text', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE pickup_date = 20240229 EXCEPT SELECT *, filename FROM trips0 WHERE pickup_date = 20240229)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE pickup_date = 20240229 EXCEPT SELECT *, filename FROM trips WHERE pickup_date = 20240229)) = 0
    AND (SELECT count(*) FROM trips WHERE pickup_date = 20240229) = (SELECT count(*) FROM trips0 WHERE pickup_date = 20240229);
SELECT 'aff_nonnumeric_text', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE passengers = '2abc' EXCEPT SELECT *, filename FROM trips0 WHERE passengers = '2abc')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE passengers = '2abc' EXCEPT SELECT *, filename FROM trips WHERE passengers = '2abc')) = 0
    AND (SELECT count(*) FROM trips WHERE passengers = '2abc') = (SELECT count(*) FROM trips0 WHERE passengers = '2abc');
SELECT 'aff_text_range_real', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE distance_km > '35' EXCEPT SELECT *, filename FROM trips0 WHERE distance_km > '35')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE distance_km > '35' EXCEPT SELECT *, filename FROM trips WHERE distance_km > '35')) = 0
    AND (SELECT count(*) FROM trips WHERE distance_km > '35') = (SELECT count(*) FROM trips0 WHERE distance_km > '35');
SELECT 'real_vs_int_col', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE trip_id = 5000.5 OR trip_id < 100.5 EXCEPT SELECT *, filename FROM trips0 WHERE trip_id = 5000.5 OR trip_id < 100.5)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE trip_id = 5000.5 OR trip_id < 100.5 EXCEPT SELECT *, filename FROM trips WHERE trip_id = 5000.5 OR trip_id < 100.5)) = 0
    AND (SELECT count(*) FROM trips WHERE trip_id = 5000.5 OR trip_id < 100.5) = (SELECT count(*) FROM trips0 WHERE trip_id = 5000.5 OR trip_id < 100.5);
SELECT 'blob_vs_text', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone = x'446f636b73' EXCEPT SELECT *, filename FROM trips0 WHERE zone = x'446f636b73')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone = x'446f636b73' EXCEPT SELECT *, filename FROM trips WHERE zone = x'446f636b73')) = 0
    AND (SELECT count(*) FROM trips WHERE zone = x'446f636b73') = (SELECT count(*) FROM trips0 WHERE zone = x'446f636b73');
SELECT 'case_sensitive_range', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone > 'docks' EXCEPT SELECT *, filename FROM trips0 WHERE zone > 'docks')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone > 'docks' EXCEPT SELECT *, filename FROM trips WHERE zone > 'docks')) = 0
    AND (SELECT count(*) FROM trips WHERE zone > 'docks') = (SELECT count(*) FROM trips0 WHERE zone > 'docks');
SELECT 'ne_with_nulls', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE note != 'child seat' EXCEPT SELECT *, filename FROM trips0 WHERE note != 'child seat')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE note != 'child seat' EXCEPT SELECT *, filename FROM trips WHERE note != 'child seat')) = 0
    AND (SELECT count(*) FROM trips WHERE note != 'child seat') = (SELECT count(*) FROM trips0 WHERE note != 'child seat');
SELECT 'like_case', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE vendor LIKE 'ACME' EXCEPT SELECT *, filename FROM trips0 WHERE vendor LIKE 'ACME')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE vendor LIKE 'ACME' EXCEPT SELECT *, filename FROM trips WHERE vendor LIKE 'ACME')) = 0
    AND (SELECT count(*) FROM trips WHERE vendor LIKE 'ACME') = (SELECT count(*) FROM trips0 WHERE vendor LIKE 'ACME');
SELECT 'like_escape', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE note LIKE 'child%seat' EXCEPT SELECT *, filename FROM trips0 WHERE note LIKE 'child%seat')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE note LIKE 'child%seat' EXCEPT SELECT *, filename FROM trips WHERE note LIKE 'child%seat')) = 0
    AND (SELECT count(*) FROM trips WHERE note LIKE 'child%seat') = (SELECT count(*) FROM trips0 WHERE note LIKE 'child%seat');
SELECT 'ty_blob_eq', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_blob = x'00FF10' EXCEPT SELECT *, filename FROM ty0 WHERE c_blob = x'00FF10')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_blob = x'00FF10' EXCEPT SELECT *, filename FROM ty WHERE c_blob = x'00FF10')) = 0
    AND (SELECT count(*) FROM ty WHERE c_blob = x'00FF10') = (SELECT count(*) FROM ty0 WHERE c_blob = x'00FF10');
SELECT 'ty_blob_range', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_blob > x'00' EXCEPT SELECT *, filename FROM ty0 WHERE c_blob > x'00')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_blob > x'00' EXCEPT SELECT *, filename FROM ty WHERE c_blob > x'00')) = 0
    AND (SELECT count(*) FROM ty WHERE c_blob > x'00') = (SELECT count(*) FROM ty0 WHERE c_blob > x'00');
SELECT 'ty_blob_empty', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_blob = x'' EXCEPT SELECT *, filename FROM ty0 WHERE c_blob = x'')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_blob = x'' EXCEPT SELECT *, filename FROM ty WHERE c_blob = x'')) = 0
    AND (SELECT count(*) FROM ty WHERE c_blob = x'') = (SELECT count(*) FROM ty0 WHERE c_blob = x'');
SELECT 'ty_text_empty', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_text = '' EXCEPT SELECT *, filename FROM ty0 WHERE c_text = '')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_text = '' EXCEPT SELECT *, filename FROM ty WHERE c_text = '')) = 0
    AND (SELECT count(*) FROM ty WHERE c_text = '') = (SELECT count(*) FROM ty0 WHERE c_text = '');
SELECT 'ty_nan_null', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_double IS NULL EXCEPT SELECT *, filename FROM ty0 WHERE c_double IS NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_double IS NULL EXCEPT SELECT *, filename FROM ty WHERE c_double IS NULL)) = 0
    AND (SELECT count(*) FROM ty WHERE c_double IS NULL) = (SELECT count(*) FROM ty0 WHERE c_double IS NULL);
SELECT 'ty_inf', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_double = 9e999 EXCEPT SELECT *, filename FROM ty0 WHERE c_double = 9e999)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_double = 9e999 EXCEPT SELECT *, filename FROM ty WHERE c_double = 9e999)) = 0
    AND (SELECT count(*) FROM ty WHERE c_double = 9e999) = (SELECT count(*) FROM ty0 WHERE c_double = 9e999);
SELECT 'ty_negzero', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_double = 0 EXCEPT SELECT *, filename FROM ty0 WHERE c_double = 0)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_double = 0 EXCEPT SELECT *, filename FROM ty WHERE c_double = 0)) = 0
    AND (SELECT count(*) FROM ty WHERE c_double = 0) = (SELECT count(*) FROM ty0 WHERE c_double = 0);
SELECT 'ty_ubig_big', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_ubig > 9223372036854775807 EXCEPT SELECT *, filename FROM ty0 WHERE c_ubig > 9223372036854775807)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_ubig > 9223372036854775807 EXCEPT SELECT *, filename FROM ty WHERE c_ubig > 9223372036854775807)) = 0
    AND (SELECT count(*) FROM ty WHERE c_ubig > 9223372036854775807) = (SELECT count(*) FROM ty0 WHERE c_ubig > 9223372036854775807);
SELECT 'ty_ubig_int', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_ubig = 9223372036854775807 EXCEPT SELECT *, filename FROM ty0 WHERE c_ubig = 9223372036854775807)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_ubig = 9223372036854775807 EXCEPT SELECT *, filename FROM ty WHERE c_ubig = 9223372036854775807)) = 0
    AND (SELECT count(*) FROM ty WHERE c_ubig = 9223372036854775807) = (SELECT count(*) FROM ty0 WHERE c_ubig = 9223372036854775807);
SELECT 'ty_dec_real', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_dec = 12.34 EXCEPT SELECT *, filename FROM ty0 WHERE c_dec = 12.34)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_dec = 12.34 EXCEPT SELECT *, filename FROM ty WHERE c_dec = 12.34)) = 0
    AND (SELECT count(*) FROM ty WHERE c_dec = 12.34) = (SELECT count(*) FROM ty0 WHERE c_dec = 12.34);
SELECT 'ty_dec_neg', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_dec < 0 EXCEPT SELECT *, filename FROM ty0 WHERE c_dec < 0)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_dec < 0 EXCEPT SELECT *, filename FROM ty WHERE c_dec < 0)) = 0
    AND (SELECT count(*) FROM ty WHERE c_dec < 0) = (SELECT count(*) FROM ty0 WHERE c_dec < 0);
SELECT 'ty_dec38', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_dec38 > 1e18 EXCEPT SELECT *, filename FROM ty0 WHERE c_dec38 > 1e18)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_dec38 > 1e18 EXCEPT SELECT *, filename FROM ty WHERE c_dec38 > 1e18)) = 0
    AND (SELECT count(*) FROM ty WHERE c_dec38 > 1e18) = (SELECT count(*) FROM ty0 WHERE c_dec38 > 1e18);
SELECT 'ty_dec_text', (SELECT count(*) FROM (SELECT *, filename FROM tyd WHERE c_dec = '12.34' EXCEPT SELECT *, filename FROM tyd0 WHERE c_dec = '12.34')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM tyd0 WHERE c_dec = '12.34' EXCEPT SELECT *, filename FROM tyd WHERE c_dec = '12.34')) = 0
    AND (SELECT count(*) FROM tyd WHERE c_dec = '12.34') = (SELECT count(*) FROM tyd0 WHERE c_dec = '12.34');
SELECT 'ty_dec_text_range', (SELECT count(*) FROM (SELECT *, filename FROM tyd WHERE c_dec > '1' EXCEPT SELECT *, filename FROM tyd0 WHERE c_dec > '1')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM tyd0 WHERE c_dec > '1' EXCEPT SELECT *, filename FROM tyd WHERE c_dec > '1')) = 0
    AND (SELECT count(*) FROM tyd WHERE c_dec > '1') = (SELECT count(*) FROM tyd0 WHERE c_dec > '1');
SELECT 'ty_dec_text_num', (SELECT count(*) FROM (SELECT *, filename FROM tyd WHERE c_dec = 12.34 EXCEPT SELECT *, filename FROM tyd0 WHERE c_dec = 12.34)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM tyd0 WHERE c_dec = 12.34 EXCEPT SELECT *, filename FROM tyd WHERE c_dec = 12.34)) = 0
    AND (SELECT count(*) FROM tyd WHERE c_dec = 12.34) = (SELECT count(*) FROM tyd0 WHERE c_dec = 12.34);
SELECT 'ty_ts_ns', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_ts_ns > '2024-02-29 13:45:00.123456' EXCEPT SELECT *, filename FROM ty0 WHERE c_ts_ns > '2024-02-29 13:45:00.123456')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_ts_ns > '2024-02-29 13:45:00.123456' EXCEPT SELECT *, filename FROM ty WHERE c_ts_ns > '2024-02-29 13:45:00.123456')) = 0
    AND (SELECT count(*) FROM ty WHERE c_ts_ns > '2024-02-29 13:45:00.123456') = (SELECT count(*) FROM ty0 WHERE c_ts_ns > '2024-02-29 13:45:00.123456');
SELECT 'ty_time', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_time >= '13:45' EXCEPT SELECT *, filename FROM ty0 WHERE c_time >= '13:45')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_time >= '13:45' EXCEPT SELECT *, filename FROM ty WHERE c_time >= '13:45')) = 0
    AND (SELECT count(*) FROM ty WHERE c_time >= '13:45') = (SELECT count(*) FROM ty0 WHERE c_time >= '13:45');
SELECT 'ty_uuid', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8' EXCEPT SELECT *, filename FROM ty0 WHERE c_uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8' EXCEPT SELECT *, filename FROM ty WHERE c_uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8')) = 0
    AND (SELECT count(*) FROM ty WHERE c_uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8') = (SELECT count(*) FROM ty0 WHERE c_uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8');
SELECT 'ty_uuid_upper', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_uuid = '6BA7B810-9DAD-11D1-80B4-00C04FD430C8' EXCEPT SELECT *, filename FROM ty0 WHERE c_uuid = '6BA7B810-9DAD-11D1-80B4-00C04FD430C8')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_uuid = '6BA7B810-9DAD-11D1-80B4-00C04FD430C8' EXCEPT SELECT *, filename FROM ty WHERE c_uuid = '6BA7B810-9DAD-11D1-80B4-00C04FD430C8')) = 0
    AND (SELECT count(*) FROM ty WHERE c_uuid = '6BA7B810-9DAD-11D1-80B4-00C04FD430C8') = (SELECT count(*) FROM ty0 WHERE c_uuid = '6BA7B810-9DAD-11D1-80B4-00C04FD430C8');
SELECT 'ty_bool_true', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_bool = TRUE EXCEPT SELECT *, filename FROM ty0 WHERE c_bool = TRUE)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_bool = TRUE EXCEPT SELECT *, filename FROM ty WHERE c_bool = TRUE)) = 0
    AND (SELECT count(*) FROM ty WHERE c_bool = TRUE) = (SELECT count(*) FROM ty0 WHERE c_bool = TRUE);
SELECT 'ty_bool_text', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_bool = '1' EXCEPT SELECT *, filename FROM ty0 WHERE c_bool = '1')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_bool = '1' EXCEPT SELECT *, filename FROM ty WHERE c_bool = '1')) = 0
    AND (SELECT count(*) FROM ty WHERE c_bool = '1') = (SELECT count(*) FROM ty0 WHERE c_bool = '1');
SELECT 'ty_date_null', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_date IS NOT NULL AND c_date < '1970-01-01' EXCEPT SELECT *, filename FROM ty0 WHERE c_date IS NOT NULL AND c_date < '1970-01-01')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_date IS NOT NULL AND c_date < '1970-01-01' EXCEPT SELECT *, filename FROM ty WHERE c_date IS NOT NULL AND c_date < '1970-01-01')) = 0
    AND (SELECT count(*) FROM ty WHERE c_date IS NOT NULL AND c_date < '1970-01-01') = (SELECT count(*) FROM ty0 WHERE c_date IS NOT NULL AND c_date < '1970-01-01');
SELECT 'ty_list_eq', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_list = '[1,2,null]' EXCEPT SELECT *, filename FROM ty0 WHERE c_list = '[1,2,null]')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_list = '[1,2,null]' EXCEPT SELECT *, filename FROM ty WHERE c_list = '[1,2,null]')) = 0
    AND (SELECT count(*) FROM ty WHERE c_list = '[1,2,null]') = (SELECT count(*) FROM ty0 WHERE c_list = '[1,2,null]');
SELECT 'ty_struct_like', (SELECT count(*) FROM (SELECT *, filename FROM ty WHERE c_struct LIKE '{"k":"v"%' EXCEPT SELECT *, filename FROM ty0 WHERE c_struct LIKE '{"k":"v"%')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM ty0 WHERE c_struct LIKE '{"k":"v"%' EXCEPT SELECT *, filename FROM ty WHERE c_struct LIKE '{"k":"v"%')) = 0
    AND (SELECT count(*) FROM ty WHERE c_struct LIKE '{"k":"v"%') = (SELECT count(*) FROM ty0 WHERE c_struct LIKE '{"k":"v"%');
SELECT 'un_missing_col', (SELECT count(*) FROM (SELECT *, filename FROM un WHERE score IS NULL EXCEPT SELECT *, filename FROM un0 WHERE score IS NULL)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM un0 WHERE score IS NULL EXCEPT SELECT *, filename FROM un WHERE score IS NULL)) = 0
    AND (SELECT count(*) FROM un WHERE score IS NULL) = (SELECT count(*) FROM un0 WHERE score IS NULL);
SELECT 'un_missing_col_range', (SELECT count(*) FROM (SELECT *, filename FROM un WHERE score > 5.2 EXCEPT SELECT *, filename FROM un0 WHERE score > 5.2)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM un0 WHERE score > 5.2 EXCEPT SELECT *, filename FROM un WHERE score > 5.2)) = 0
    AND (SELECT count(*) FROM un WHERE score > 5.2) = (SELECT count(*) FROM un0 WHERE score > 5.2);
SELECT 'un_missing_col_ne', (SELECT count(*) FROM (SELECT *, filename FROM un WHERE score != 5 EXCEPT SELECT *, filename FROM un0 WHERE score != 5)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM un0 WHERE score != 5 EXCEPT SELECT *, filename FROM un WHERE score != 5)) = 0
    AND (SELECT count(*) FROM un WHERE score != 5) = (SELECT count(*) FROM un0 WHERE score != 5);
SELECT 'un_name_in', (SELECT count(*) FROM (SELECT *, filename FROM un WHERE name IN ('a2', 'b11') EXCEPT SELECT *, filename FROM un0 WHERE name IN ('a2', 'b11'))) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM un0 WHERE name IN ('a2', 'b11') EXCEPT SELECT *, filename FROM un WHERE name IN ('a2', 'b11'))) = 0
    AND (SELECT count(*) FROM un WHERE name IN ('a2', 'b11')) = (SELECT count(*) FROM un0 WHERE name IN ('a2', 'b11'));
SELECT 'i96_range', (SELECT count(*) FROM (SELECT *, filename FROM i96 WHERE a > '2024-06-01' EXCEPT SELECT *, filename FROM i960 WHERE a > '2024-06-01')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM i960 WHERE a > '2024-06-01' EXCEPT SELECT *, filename FROM i96 WHERE a > '2024-06-01')) = 0
    AND (SELECT count(*) FROM i96 WHERE a > '2024-06-01') = (SELECT count(*) FROM i960 WHERE a > '2024-06-01');
SELECT 'i96_eq', (SELECT count(*) FROM (SELECT *, filename FROM i96 WHERE a = '9999-12-31 03:00:00' EXCEPT SELECT *, filename FROM i960 WHERE a = '9999-12-31 03:00:00')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM i960 WHERE a = '9999-12-31 03:00:00' EXCEPT SELECT *, filename FROM i96 WHERE a = '9999-12-31 03:00:00')) = 0
    AND (SELECT count(*) FROM i96 WHERE a = '9999-12-31 03:00:00') = (SELECT count(*) FROM i960 WHERE a = '9999-12-31 03:00:00');

-- LIMIT/OFFSET together with constraints the scanner evaluates
SELECT 'lim_eq', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE zone = 'Docks' LIMIT 5 OFFSET 3))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE zone = 'Docks' LIMIT 5 OFFSET 3));
SELECT 'lim_in', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE zone IN ('Docks', 'Harbor') AND month = 12 LIMIT 4 OFFSET 2000))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE zone IN ('Docks', 'Harbor') AND month = 12 LIMIT 4 OFFSET 2000));
SELECT 'lim_null', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE note IS NOT NULL LIMIT 3 OFFSET 700))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE note IS NOT NULL LIMIT 3 OFFSET 700));
SELECT 'lim_like', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE pickup_at LIKE '2024-03-1%' LIMIT 2 OFFSET 10))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE pickup_at LIKE '2024-03-1%' LIMIT 2 OFFSET 10));
SELECT 'lim_affinity', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE trip_id >= '20000' LIMIT 3))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE trip_id >= '20000' LIMIT 3));
SELECT 'lim_hive', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE year = 2024 AND month > 2 LIMIT 3 OFFSET 4095))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE year = 2024 AND month > 2 LIMIT 3 OFFSET 4095));
SELECT 'lim_empty', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE zone = 'Nowhere' LIMIT 3))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE zone = 'Nowhere' LIMIT 3));
SELECT 'lim_or', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE zone = 'Docks' OR note IS NOT NULL LIMIT 5 OFFSET 2))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE zone = 'Docks' OR note IS NOT NULL LIMIT 5 OFFSET 2));
SELECT 'lim_expr', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE fare * 2 > 150 LIMIT 3))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE fare * 2 > 150 LIMIT 3));
