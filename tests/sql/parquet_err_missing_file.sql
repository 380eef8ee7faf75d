-- A plain path that does not exist.
CREATE VIRTUAL TABLE t USING parquet('data/no_such_file.parquet');
