-- The same option twice is refused, not silently overridden.
CREATE VIRTUAL TABLE t USING parquet('data/lineitem.parquet', pushdown=0, pushdown=1);
