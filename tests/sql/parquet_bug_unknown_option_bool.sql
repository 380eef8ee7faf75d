-- BUG (ext/vtab_parquet.c pqtabConnect): an unknown option whose value is a boolean
-- is reported as a bad value of a known option: 'option foo: bad value '1' (expected
-- 0 or 1)'. The check 'ok || !(strcmp...)' is true whenever the value parses as a
-- boolean; it should test only whether the key is known. Right message below.
CREATE VIRTUAL TABLE t USING parquet('data/lineitem.parquet', foo=1);
