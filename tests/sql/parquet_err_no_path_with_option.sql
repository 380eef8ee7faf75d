-- Options but no path: the error says no path was given.
CREATE VIRTUAL TABLE t USING parquet(union_by_name=1);
