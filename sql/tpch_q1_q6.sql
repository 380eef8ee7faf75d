-- tpch_q1_q6.sql: TPC-H Q1 and Q6 over Parquet on S3, first in this connection
-- (plain scan), then distributed by hbee with the executor $HBEE_EXECUTOR
-- (local, redis or lambda), and a check that both give the same answer.
--
-- Run with scripts/run-sql.sh, which fills in the ${...} below:
--   make stack-up && eval "$(make stack-env)"
--   scripts/run-sql.sh sql/tpch_q1_q6.sql                         # local threads
--   HBEE_EXECUTOR=redis  scripts/run-sql.sh sql/tpch_q1_q6.sql    # the stack's hbee workers
--   HBEE_EXECUTOR=lambda scripts/run-sql.sh sql/tpch_q1_q6.sql    # the stack's Lambda emulator
-- On the stack the runner first uploads the sample data/lineitem.parquet (TPC-H
-- SF 0.01, 60,012 rows, six row groups) to the stack's S3. Against AWS (after
-- infra/, `eval "$(terraform -chdir=infra output -raw client_env)"`), point
-- LINEITEM at your own lineitem Parquet (a file, a prefix/ or a glob).
--
-- Output (sqlite3 list mode): `q1|<executor>|<row>`, `q6|<executor>|<revenue>`,
-- `stats|<executor>|tasks|bytes_shipped`, and `check|<what>|1` rows (0 = wrong).
--
-- @default LINEITEM=s3://${BZ_S3_BUCKET}/tpch/lineitem.parquet
-- @default HBEE_EXECUTOR=local
-- @default HBEE_FUNCTION=buzzlite-hbee
-- @default HBEE_SCRATCH=
-- @default REDIS_URL=
-- @default HBEE_SPLIT_BYTES=1
-- @stack-put data/lineitem.parquet ${LINEITEM}
-- (HBEE_SPLIT_BYTES=1: each row group is a split, so even the small sample is
-- spread over several tasks; HBEE_SPLIT_BYTES=67108864 gives hbee's default.)
.bail on
.mode list
.headers off

CREATE VIRTUAL TABLE lineitem USING parquet('${LINEITEM}');

-- this connection's hbee defaults (the same keys as hbee(...) options)
.output /dev/null
SELECT hbee_config('executor', '${HBEE_EXECUTOR}'), hbee_config('split_bytes', ${HBEE_SPLIT_BYTES}),
       hbee_config('function', '${HBEE_FUNCTION}'), hbee_config('scratch', '${HBEE_SCRATCH}'),
       hbee_config('redis', '${REDIS_URL}');
.output stdout

-- Q1, pricing summary report
CREATE TEMP VIEW q1_sql AS
SELECT l_returnflag, l_linestatus,
       sum(l_quantity) AS sum_qty,
       sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
       avg(l_quantity) AS avg_qty,
       avg(l_extendedprice) AS avg_price,
       avg(l_discount) AS avg_disc,
       count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= '1998-09-02'
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus;

-- Q6, forecasting revenue change
CREATE TEMP VIEW q6_sql AS
SELECT sum(l_extendedprice * l_discount) AS revenue
FROM lineitem
WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01'
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24;

-- 1. plain: one scan in this connection
CREATE TEMP TABLE q1_plain AS SELECT * FROM q1_sql;
CREATE TEMP TABLE q6_plain AS SELECT * FROM q6_sql;

-- 2. distributed: the same text, split by row group, run by the executor's
--    hbees (partial aggregates), combined here
CREATE VIRTUAL TABLE temp.q1 USING hbee(query='
SELECT l_returnflag, l_linestatus,
       sum(l_quantity) AS sum_qty,
       sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
       avg(l_quantity) AS avg_qty,
       avg(l_extendedprice) AS avg_price,
       avg(l_discount) AS avg_disc,
       count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= ''1998-09-02''
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus');
CREATE TEMP TABLE q1_dist AS SELECT * FROM q1;
CREATE TEMP TABLE q1_stats AS SELECT hbee_last_stats() AS s;

CREATE VIRTUAL TABLE temp.q6 USING hbee(query='
SELECT sum(l_extendedprice * l_discount) AS revenue
FROM lineitem
WHERE l_shipdate >= ''1994-01-01'' AND l_shipdate < ''1995-01-01''
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24');
CREATE TEMP TABLE q6_dist AS SELECT * FROM q6;
CREATE TEMP TABLE q6_stats AS SELECT hbee_last_stats() AS s;

-- results (REAL sums printed with 17 significant digits)
SELECT 'q1', 'plain', l_returnflag, l_linestatus, sum_qty, printf('%!.17g', sum_base_price),
       printf('%!.17g', sum_disc_price), printf('%!.17g', sum_charge), printf('%!.17g', avg_qty),
       printf('%!.17g', avg_price), printf('%!.17g', avg_disc), count_order FROM q1_plain;
SELECT 'q1', '${HBEE_EXECUTOR}', l_returnflag, l_linestatus, sum_qty, printf('%!.17g', sum_base_price),
       printf('%!.17g', sum_disc_price), printf('%!.17g', sum_charge), printf('%!.17g', avg_qty),
       printf('%!.17g', avg_price), printf('%!.17g', avg_disc), count_order FROM q1_dist;
SELECT 'q6', 'plain', printf('%!.17g', revenue) FROM q6_plain;
SELECT 'q6', '${HBEE_EXECUTOR}', printf('%!.17g', revenue) FROM q6_dist;
SELECT 'stats', 'q1 ${HBEE_EXECUTOR}', s ->> '$.tasks', s ->> '$.bytes_shipped' FROM q1_stats;
SELECT 'stats', 'q6 ${HBEE_EXECUTOR}', s ->> '$.tasks', s ->> '$.bytes_shipped' FROM q6_stats;

-- checks: the executor ran, every split once, same answer as the plain scan
-- (sums of REAL in another order: equal to 1e-9 relative)
SELECT 'check', 'q1 ran on ${HBEE_EXECUTOR}', s ->> '$.executor' = '${HBEE_EXECUTOR}' FROM q1_stats;
SELECT 'check', 'q1 each split once',
       s ->> '$.tasks' = s ->> '$.splits' AND s ->> '$.splits' >= 1 AND s ->> '$.rows_scanned' = (SELECT count(*) FROM lineitem)
FROM q1_stats;
SELECT 'check', 'q1 ${HBEE_EXECUTOR} = plain',
       (SELECT count(*) FROM q1_plain) = (SELECT count(*) FROM q1_dist)
   AND (SELECT count(*) FROM q1_plain) > 0
   AND NOT EXISTS (
       SELECT 1 FROM q1_plain p LEFT JOIN q1_dist d USING (l_returnflag, l_linestatus)
       WHERE d.count_order IS NOT p.count_order
          OR abs(d.sum_qty - p.sum_qty) > 1e-9 * abs(p.sum_qty)
          OR abs(d.sum_base_price - p.sum_base_price) > 1e-9 * abs(p.sum_base_price)
          OR abs(d.sum_disc_price - p.sum_disc_price) > 1e-9 * abs(p.sum_disc_price)
          OR abs(d.sum_charge - p.sum_charge) > 1e-9 * abs(p.sum_charge)
          OR abs(d.avg_qty - p.avg_qty) > 1e-9 * abs(p.avg_qty)
          OR abs(d.avg_price - p.avg_price) > 1e-9 * abs(p.avg_price)
          OR abs(d.avg_disc - p.avg_disc) > 1e-9 * abs(p.avg_disc)
          OR d.l_returnflag IS NULL);
SELECT 'check', 'q6 ran on ${HBEE_EXECUTOR}', s ->> '$.executor' = '${HBEE_EXECUTOR}' FROM q6_stats;
SELECT 'check', 'q6 ${HBEE_EXECUTOR} = plain',
       abs(d.revenue - p.revenue) <= 1e-9 * abs(p.revenue) AND p.revenue > 0
FROM q6_plain p, q6_dist d;
