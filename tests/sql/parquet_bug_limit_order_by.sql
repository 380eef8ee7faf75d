-- BUG (reader, ext/vtab_parquet.c pqtabBestIndex): with ORDER BY on table columns
-- SQLite still offers LIMIT/OFFSET to xBestIndex; the parquet table takes them
-- without consuming the ORDER BY (orderByConsumed stays 0), so it returns only the
-- first LIMIT rows in file order and SQLite then sorts those. LIMIT/OFFSET may only
-- be used when info->nOrderBy == 0 (or when the order is consumed).
--   SELECT trip_id FROM trips ORDER BY pickup_at DESC LIMIT 2
--   returns 2,1 (the first two rows, sorted); right: 24576,24575 (pushdown=0 agrees)
CREATE VIRTUAL TABLE trips USING parquet('data/trips');
CREATE VIRTUAL TABLE trips0 USING parquet('data/trips', pushdown=0);
SELECT 'order_desc_limit', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY pickup_at DESC LIMIT 2)) = '24576,24575';
SELECT 'order_desc_limit_offset', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY trip_id DESC LIMIT 2 OFFSET 1)) = '24575,24574';
SELECT 'order_text_limit', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY zone, trip_id LIMIT 3))
                         = (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips0 ORDER BY zone, trip_id LIMIT 3));
SELECT 'order_asc_limit_offset', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY fare, trip_id LIMIT 2 OFFSET 5))
                               = (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips0 ORDER BY fare, trip_id LIMIT 2 OFFSET 5));
