-- Files whose columns differ need union_by_name=1; the error names both files.
CREATE VIRTUAL TABLE t USING parquet('tests/data/union');
