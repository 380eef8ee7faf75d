-- A file that is not Parquet (a CSV text with a .parquet name).
CREATE VIRTUAL TABLE t USING parquet('tests/data/not_parquet.parquet');
