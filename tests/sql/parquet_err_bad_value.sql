-- A known option with a value that is not a boolean.
CREATE VIRTUAL TABLE t USING parquet('data/lineitem.parquet', hive_partitioning=maybe);
