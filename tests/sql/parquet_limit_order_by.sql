-- Regression: with ORDER BY, SQLite still offers LIMIT/OFFSET to xBestIndex;
-- the parquet table must not take them (it does not sort), or it would return
-- the first rows in file order and SQLite would sort only those.
CREATE VIRTUAL TABLE trips USING parquet('data/trips');
CREATE VIRTUAL TABLE trips0 USING parquet('data/trips', pushdown=0);
SELECT 'order_desc_limit', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY pickup_at DESC LIMIT 2)) = '24576,24575';
SELECT 'order_desc_limit_offset', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY trip_id DESC LIMIT 2 OFFSET 1)) = '24575,24574';
SELECT 'order_text_limit', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY zone, trip_id LIMIT 3))
                         = (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips0 ORDER BY zone, trip_id LIMIT 3));
SELECT 'order_asc_limit_offset', (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips ORDER BY fare, trip_id LIMIT 2 OFFSET 5))
                               = (SELECT group_concat(trip_id) FROM (SELECT trip_id FROM trips0 ORDER BY fare, trip_id LIMIT 2 OFFSET 5));
