-- An unknown option is reported as unknown, even when its value is a boolean.
CREATE VIRTUAL TABLE t USING parquet('data/lineitem.parquet', foo=1);
