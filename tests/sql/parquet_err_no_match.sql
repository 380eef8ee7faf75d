-- A glob matching no file: an empty table by default (as for S3 listings),
-- an error naming the pattern with require_files=1.
CREATE VIRTUAL TABLE t USING parquet('data/trips/year=1999/**/*.parquet');
SELECT count(*) FROM t;
CREATE VIRTUAL TABLE u USING parquet('data/trips/year=1999/**/*.parquet', require_files=1);
