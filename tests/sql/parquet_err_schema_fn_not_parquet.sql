-- parquet_schema on a file that is not Parquet; the prefix names the function.
SELECT * FROM parquet_schema('tests/data/not_parquet.parquet');
