-- Same column names in the same order is not enough: types must agree too.
CREATE VIRTUAL TABLE t USING parquet('tests/data/union/a.parquet', 'tests/data/id_text.parquet');
