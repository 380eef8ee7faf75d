-- parquet_schema needs its path argument.
SELECT * FROM parquet_schema;
