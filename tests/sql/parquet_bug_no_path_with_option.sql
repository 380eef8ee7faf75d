-- BUG (ext/vtab_parquet.c pqtabConnect): options but no path report
-- 'no file matches the given path(s)' instead of 'no path given' (the check is
-- argc <= 3, which counts options as arguments). Right message below.
CREATE VIRTUAL TABLE t USING parquet(union_by_name=1);
