CREATE VIRTUAL TABLE t USING parquet('data/trips');
CREATE VIRTUAL TABLE r USING hbee(query='SELECT zone FROM t JOIN t AS u');
