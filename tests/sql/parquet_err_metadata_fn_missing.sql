-- parquet_metadata on a missing file.
SELECT * FROM parquet_metadata('data/no_such_file.parquet');
