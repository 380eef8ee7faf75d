-- A tour of buzzlite's parquet table over the sample dataset in data/.
-- Run from the repository root (paths are relative to it):
--     sqlite3 -box -cmd '.load ./build/buzzlite' :memory: < sql/parquet_tour.sql
-- `make demo` runs this script.

.print '== 1. Tables over Parquet files: a hive-partitioned directory and one file'
CREATE VIRTUAL TABLE trips USING parquet('data/trips');            -- year=/month= become columns
CREATE VIRTUAL TABLE lineitem USING parquet('data/lineitem.parquet');
SELECT (SELECT count(*) FROM trips) AS trips_rows,
       (SELECT count(DISTINCT filename) FROM trips) AS trips_files,
       (SELECT count(*) FROM lineitem) AS lineitem_rows;

.print ''
.print '== 2. Schema of one file: parquet_schema(path)'
SELECT path, physical_type, logical_type, repetition
FROM parquet_schema('data/trips/year=2024/month=1/trips.parquet');

.print ''
.print '== 3. Row groups and statistics: parquet_metadata(path)'
SELECT row_group, num_rows, path AS column, compression, min, max, null_count, has_bloom_filter
FROM parquet_metadata('data/lineitem.parquet')
WHERE path IN ('l_orderkey', 'l_shipdate') ORDER BY path, row_group;

.print ''
.print '== 4. A LIMIT preview (LIMIT is pushed down: only the first pages are read)'
SELECT trip_id, pickup_at, vendor, zone, passengers, fare, paid_card, stops, driver
FROM trips LIMIT 5;

.print ''
.print '== 5. TPC-H Q1 (pricing summary) on lineitem'
SELECT l_returnflag, l_linestatus,
       sum(l_quantity) AS sum_qty,
       printf('%.2f', sum(l_extendedprice)) AS sum_base_price,
       printf('%.2f', sum(l_extendedprice * (1 - l_discount))) AS sum_disc_price,
       printf('%.2f', sum(l_extendedprice * (1 - l_discount) * (1 + l_tax))) AS sum_charge,
       printf('%.2f', avg(l_quantity)) AS avg_qty,
       printf('%.2f', avg(l_extendedprice)) AS avg_price,
       printf('%.4f', avg(l_discount)) AS avg_disc,
       count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= date('1998-12-01', '-90 days')
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus;

.print ''
.print '== 6. TPC-H Q6 (forecasting revenue change) on lineitem'
SELECT printf('%.2f', sum(l_extendedprice * l_discount)) AS revenue
FROM lineitem
WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01'
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24;

.print ''
.print '== 7. Hive partition pruning: only the files of 2024-02 and 2024-03 are opened'
EXPLAIN QUERY PLAN
SELECT vendor, count(*) FROM trips WHERE year = 2024 AND month IN (2, 3) GROUP BY vendor;
SELECT year, month, vendor, count(*) AS trips, printf('%.2f', sum(fare)) AS revenue,
       printf('%.1f', avg(distance_km)) AS avg_km, sum(paid_card) AS paid_by_card
FROM trips WHERE year = 2024 AND month IN (2, 3)
GROUP BY year, month, vendor ORDER BY year, month, vendor;

.print ''
.print '== 8. Nested columns are JSON: struct fields with ->> and lists with json_each'
SELECT driver ->> '$.name' AS driver, count(*) AS trips,
       printf('%.2f', avg(driver ->> '$.rating')) AS rating
FROM trips WHERE pickup_date BETWEEN '2024-01-01' AND '2024-01-07'
GROUP BY 1 ORDER BY trips DESC, driver LIMIT 5;
SELECT s.value AS stop, count(*) AS times_a_stop
FROM trips, json_each(trips.stops) AS s
WHERE trips.zone = 'Airport'
GROUP BY s.value ORDER BY times_a_stop DESC, stop LIMIT 5;

.print ''
.print '== 9. Row-group pruning from statistics: a point lookup reads one row group of six'
SELECT l_orderkey, l_linenumber, l_shipdate, l_shipmode, l_comment
FROM lineitem WHERE l_orderkey = 29985;
