-- Parquet modular encryption (encrypted footer) is not supported.
CREATE VIRTUAL TABLE t USING parquet('../shared/parquet-testing/data/uniform_encryption.parquet.encrypted');
