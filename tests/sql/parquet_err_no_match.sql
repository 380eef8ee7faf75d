-- A glob matching no file.
CREATE VIRTUAL TABLE t USING parquet('data/trips/year=1999/**/*.parquet');
