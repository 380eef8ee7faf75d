-- No path argument at all.
CREATE VIRTUAL TABLE t USING parquet();
