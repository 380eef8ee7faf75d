-- hbee over the sample trips (6 hive-partitioned files): the local executor's
-- answers equal the same queries over the parquet table. Self-checking rows.
CREATE VIRTUAL TABLE t USING parquet('data/trips');
CREATE VIRTUAL TABLE r USING hbee(
    query='SELECT zone, count(*) AS n, sum(passengers) AS p, avg(distance_km) AS d FROM t GROUP BY zone',
    workers=2);
SELECT 'groups', (SELECT count(*) FROM r) = (SELECT count(DISTINCT zone) FROM t);
SELECT 'counts', (SELECT sum(n) FROM r) = (SELECT count(*) FROM t);
SELECT 'per group', NOT EXISTS (
    SELECT zone, n, p FROM r EXCEPT SELECT zone, count(*), sum(passengers) FROM t GROUP BY zone);
SELECT 'avg', (SELECT max(abs(r.d - x.d)) FROM r JOIN (
    SELECT zone, avg(distance_km) AS d FROM t GROUP BY zone) x USING (zone)) < 1e-9;
SELECT 'stats tasks', json_extract(hbee_last_stats(), '$.tasks') = 6;
SELECT 'stats rows', json_extract(hbee_last_stats(), '$.rows_scanned') = (SELECT count(*) FROM t);
SELECT 'columns', (SELECT group_concat(name, ',') FROM pragma_table_info('r')) = 'zone,n,p,d';
CREATE VIRTUAL TABLE h USING hbee(query='SELECT year, month, count(*) AS c FROM t GROUP BY 1, 2');
SELECT 'hive', (SELECT count(*) FROM h) = 6 AND (SELECT sum(c) FROM h) = (SELECT count(*) FROM t);
CREATE VIRTUAL TABLE top USING hbee(
    query='SELECT trip_id, fare FROM t WHERE vendor IS NOT NULL ORDER BY fare DESC, trip_id LIMIT 5');
SELECT 'top-n', (SELECT group_concat(trip_id) FROM top) = (SELECT group_concat(trip_id) FROM (
    SELECT trip_id FROM t WHERE vendor IS NOT NULL ORDER BY fare DESC, trip_id LIMIT 5));
SELECT 'explain', hbee_explain('SELECT count(*) FROM t') LIKE '%splits: 6 (files: 6%';
SELECT 'explain sql', hbee_explain('SELECT count(*) FROM t')
    LIKE '%SELECT count(*) AS _a0 FROM split%coalesce(sum(_a0), 0)%';
SELECT 'config', hbee_config('split_bytes', 1000) = 1000 AND hbee_config('workers') = 0;
SELECT 'config executor', hbee_config('executor') = 'local';
