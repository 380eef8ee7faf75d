-- Regression: constraints with a collation other than BINARY (COLLATE NOCASE,
-- RTRIM) must not prune row groups with byte comparisons, nor be evaluated
-- in the scanner: every row that matches under the collation is returned.
CREATE VIRTUAL TABLE trips USING parquet('data/trips');
CREATE VIRTUAL TABLE trips0 USING parquet('data/trips', pushdown=0);
SELECT 'nocase_count', (SELECT count(*) FROM trips WHERE zone = 'docks' COLLATE NOCASE) = 2512;
SELECT 'rtrim_count', (SELECT count(*) FROM trips WHERE vendor = 'acme   ' COLLATE RTRIM) = 8181;
SELECT 'collate_nocase_eq', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone = 'docks' COLLATE NOCASE EXCEPT SELECT *, filename FROM trips0 WHERE zone = 'docks' COLLATE NOCASE)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone = 'docks' COLLATE NOCASE EXCEPT SELECT *, filename FROM trips WHERE zone = 'docks' COLLATE NOCASE)) = 0
    AND (SELECT count(*) FROM trips WHERE zone = 'docks' COLLATE NOCASE) = (SELECT count(*) FROM trips0 WHERE zone = 'docks' COLLATE NOCASE);
SELECT 'collate_nocase_col', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone COLLATE NOCASE = 'docks' EXCEPT SELECT *, filename FROM trips0 WHERE zone COLLATE NOCASE = 'docks')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone COLLATE NOCASE = 'docks' EXCEPT SELECT *, filename FROM trips WHERE zone COLLATE NOCASE = 'docks')) = 0
    AND (SELECT count(*) FROM trips WHERE zone COLLATE NOCASE = 'docks') = (SELECT count(*) FROM trips0 WHERE zone COLLATE NOCASE = 'docks');
SELECT 'collate_nocase_range', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE zone COLLATE NOCASE > 'station' EXCEPT SELECT *, filename FROM trips0 WHERE zone COLLATE NOCASE > 'station')) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE zone COLLATE NOCASE > 'station' EXCEPT SELECT *, filename FROM trips WHERE zone COLLATE NOCASE > 'station')) = 0
    AND (SELECT count(*) FROM trips WHERE zone COLLATE NOCASE > 'station') = (SELECT count(*) FROM trips0 WHERE zone COLLATE NOCASE > 'station');
SELECT 'collate_rtrim', (SELECT count(*) FROM (SELECT *, filename FROM trips WHERE vendor = 'acme   ' COLLATE RTRIM EXCEPT SELECT *, filename FROM trips0 WHERE vendor = 'acme   ' COLLATE RTRIM)) = 0
    AND (SELECT count(*) FROM (SELECT *, filename FROM trips0 WHERE vendor = 'acme   ' COLLATE RTRIM EXCEPT SELECT *, filename FROM trips WHERE vendor = 'acme   ' COLLATE RTRIM)) = 0
    AND (SELECT count(*) FROM trips WHERE vendor = 'acme   ' COLLATE RTRIM) = (SELECT count(*) FROM trips0 WHERE vendor = 'acme   ' COLLATE RTRIM);
SELECT 'lim_collate', (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips WHERE zone = 'docks' COLLATE NOCASE LIMIT 3))
    IS (SELECT group_concat(r, '|') FROM (SELECT trip_id || coalesce(note, '') AS r FROM trips0 WHERE zone = 'docks' COLLATE NOCASE LIMIT 3));
