-- Plaintext footer but encrypted columns: refused as well.
CREATE VIRTUAL TABLE t USING parquet('../shared/parquet-testing/data/encrypt_columns_plaintext_footer.parquet.encrypted');
