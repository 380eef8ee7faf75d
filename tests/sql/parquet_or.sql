-- OR of constraints on different columns: SQLite may run one scan per term
-- (MULTI-INDEX OR) and de-duplicate on rowid, so rowids must be stable
-- across scans. Each count must equal the pushdown=0 table's.
CREATE VIRTUAL TABLE t USING parquet('data/trips');
CREATE VIRTUAL TABLE u USING parquet('data/trips', pushdown=0);
SELECT 'or_null_glob', (SELECT count(*) FROM t WHERE note IS NULL OR zone GLOB 'd*') = (SELECT count(*) FROM u WHERE note IS NULL OR zone GLOB 'd*');
SELECT 'or_range_eq', (SELECT count(*) FROM t WHERE trip_id < 100 OR vendor = 'acme') = (SELECT count(*) FROM u WHERE trip_id < 100 OR vendor = 'acme');
SELECT 'or_in_range', (SELECT count(*) FROM t WHERE trip_id IN (1, 5, 24576) OR fare > 90) = (SELECT count(*) FROM u WHERE trip_id IN (1, 5, 24576) OR fare > 90);
SELECT 'or_rows', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM t WHERE trip_id < 3 OR trip_id > 24574 ORDER BY 1)) = '1,2,24575,24576';
SELECT 'rowid_stable', (SELECT count(DISTINCT rowid) FROM t) = (SELECT count(*) FROM t);
SELECT 'rowid_first', (SELECT min(rowid) FROM (SELECT rowid FROM t LIMIT 1)) >= 1;
