CREATE VIRTUAL TABLE t USING parquet('data/trips');
CREATE VIRTUAL TABLE r USING hbee(query='SELECT zone, count(*) FROM t GROUP BY zone', executor=spark);
