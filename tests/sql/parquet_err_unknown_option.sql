-- An unknown option is named in the error.
CREATE VIRTUAL TABLE t USING parquet('data/lineitem.parquet', compression=zstd);
