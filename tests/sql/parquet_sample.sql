-- The queries of the demo (sql/parquet_tour.sql) over data/, checked against the
-- answers DuckDB 1.5 gives on the same files (computed once, written down here).
CREATE VIRTUAL TABLE lineitem USING parquet('data/lineitem.parquet');
CREATE VIRTUAL TABLE trips USING parquet('data/trips');

-- TPC-H Q1
CREATE TEMP TABLE q1 AS
SELECT l_returnflag AS rf, l_linestatus AS ls, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
       avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS n
FROM lineitem WHERE l_shipdate <= date('1998-12-01', '-90 days') GROUP BY 1, 2;
CREATE TEMP TABLE q1_duckdb(rf, ls, sum_qty, sum_base, sum_disc, sum_charge, avg_qty, avg_price, avg_disc, n);
INSERT INTO q1_duckdb VALUES
    ('A', 'F', 385594.00, 539682364.28, 512657955.73, 533106862.6619, 26.055409, 36467.488633, 0.050295, 14799),
    ('N', 'F', 10816.00, 15130840.06, 14397935.70, 14957508.4726, 25.875598, 36198.181962, 0.049545, 418),
    ('N', 'O', 747290.00, 1044737664.66, 992719387.90, 1032327275.0346, 25.552744, 35723.633601, 0.049826, 29245),
    ('R', 'F', 364932.00, 511588230.50, 485892063.49, 505334039.0131, 24.882858, 34882.601289, 0.050217, 14666);
SELECT 'q1_groups', (SELECT count(*) FROM q1) = 4;
SELECT 'q1_' || d.rf || d.ls, q.n = d.n AND q.sum_qty = d.sum_qty AND abs(q.sum_base - d.sum_base) < 0.01
       AND abs(q.sum_disc - d.sum_disc) < 0.01 AND abs(q.sum_charge - d.sum_charge) < 0.01
       AND abs(q.avg_qty - d.avg_qty) < 1e-6 AND abs(q.avg_price - d.avg_price) < 1e-6 AND abs(q.avg_disc - d.avg_disc) < 1e-6
FROM q1_duckdb d LEFT JOIN q1 q USING (rf, ls) ORDER BY d.rf, d.ls;

-- TPC-H Q6
SELECT 'q6', abs((SELECT sum(l_extendedprice * l_discount) FROM lineitem
                  WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01'
                    AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24) - 1242283.4172) < 0.001;

-- hive-pruned aggregate
SELECT 'hive_agg', (SELECT group_concat(month || vendor || n || ':' || printf('%.2f', rev) || ':' || card, ' ')
                    FROM (SELECT month, vendor, count(*) n, sum(fare) rev, sum(paid_card) card FROM trips
                          WHERE year = 2024 AND month IN (2, 3) GROUP BY 1, 2 ORDER BY 1, 2))
    = '2acme1393:60026.55:983 2bolt1357:57961.53:929 2cabco1346:57353.16:952 3acme1295:55806.91:920 3bolt1392:58655.12:957 3cabco1409:59205.77:1002';

-- lists through json_each
SELECT 'json_each_stops', (SELECT group_concat(stop || c, ' ') FROM (SELECT s.value AS stop, count(*) AS c
                           FROM trips, json_each(trips.stops) AS s WHERE trips.zone = 'Airport'
                           GROUP BY 1 ORDER BY c DESC, stop LIMIT 5))
    = 'Station520 Central501 Old Town498 Uptown491 Harbor477';

-- the point lookup
SELECT 'point', (SELECT group_concat(l_linenumber || l_shipdate || l_shipmode, ' ') FROM lineitem WHERE l_orderkey = 29985)
              = '11992-06-19TRUCK 21992-05-02TRUCK';

