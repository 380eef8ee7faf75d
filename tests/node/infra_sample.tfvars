# Sample inputs for tests/node/test_infra.mjs: three datasets over two
# buckets (one the whole bucket), DynamoDB tables, the Redis option on.
region = "eu-west-1"
name   = "bz-hbee-test"
datasets = [
  { bucket = "lake-one", prefix = "tpch/sf1/" },
  { bucket = "lake-one", prefix = "trips/year=2024/" },
  { bucket = "public.lake-two", prefix = "" },
]
scratch              = { bucket = "lake-one", prefix = "scratch/hbee/" }
dynamodb_tables      = ["sheep", "orders"]
memory_mb            = 3008
reserved_concurrency = 50
architecture         = "arm64"
redis_enabled        = true
