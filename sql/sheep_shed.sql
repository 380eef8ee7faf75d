-- sheep_shed.sql: the Sheep Shed workload on DynamoDB, in SQL.
--
--   The shepherd adds sheep, each with a unique tattoo and a random weight
--   (in micrograms); a tattoo that is already in the shed is refused. The dog
--   counts the sheep. The wolf eats the heaviest sheep whose weight in
--   micrograms is a prime number.
--
-- Needs a DynamoDB table `sheep` with the partition key `tattoo` (S), e.g.
--   aws dynamodb create-table --table-name sheep --billing-mode PAY_PER_REQUEST \
--       --attribute-definitions AttributeName=tattoo,AttributeType=S \
--       --key-schema AttributeName=tattoo,KeyType=HASH
-- and AWS_ENDPOINT_URL_DYNAMODB (or the AWS defaults) pointing at it. Run:
--   sqlite3 -cmd '.load build/buzzlite' :memory: < sql/sheep_shed.sql
-- or, on the local stack (make stack-up; eval "$(make stack-env)"), where
-- scripts/run-sql.sh creates the table afresh first:
--   scripts/run-sql.sh sql/sheep_shed.sql
-- @stack-ddb-table sheep tattoo
-- (tests/integration/ddb_sheep_shed.sh and sql_scripts.py run it against DynamoDB Local).
.mode list
-- (no .bail: the duplicate below is meant to fail and the script goes on)

CREATE VIRTUAL TABLE sheep USING dynamodb(table=sheep, columns='weight INTEGER');
-- the same table for bulk loading: BatchWriteItem, no per-statement 100-item cap
CREATE VIRTUAL TABLE sheep_bulk USING dynamodb(table=sheep, columns='weight INTEGER', batch=1);

-- 1. The shepherd. A statement is one DynamoDB transaction (TransactWriteItems,
--    up to 100 sheep): every sheep of it goes in, or none.
INSERT INTO sheep(tattoo, weight)
SELECT printf('NZ-%05d', value), 40000000000 + abs(random()) % 120000000000
FROM generate_series(1, 100);
-- ... and 900 more, in bulk
INSERT INTO sheep_bulk(tattoo, weight)
SELECT printf('NZ-%05d', value), 40000000000 + abs(random()) % 120000000000
FROM generate_series(101, 1000);
-- A tattoo already in the shed is refused (UNIQUE constraint failed: sheep.tattoo),
-- and with it the rest of its statement:
INSERT INTO sheep(tattoo, weight) VALUES ('NZ-01001', 55000000000), ('NZ-00042', 61000000000);
SELECT 'refused duplicate left no trace', count(*) = 0 FROM sheep WHERE tattoo = 'NZ-01001';

-- 2. The dog counts the sheep (Scan with Select=COUNT: no item leaves the server).
SELECT 'the dog counts', count(*) FROM sheep;

-- 3. The wolf. One Scan brings tattoo and weight (ProjectionExpression); SQLite
--    sorts them, tests each weight for primality from the heaviest down and
--    stops at the first prime (LIMIT 1). Trial division by generate_series
--    stops at the first divisor, so composites cost little. (LIMIT -1 keeps
--    SQLite from merging the sort into the outer query, which would test
--    every sheep before sorting.)
CREATE TEMP TABLE prey AS
SELECT tattoo, weight FROM (SELECT tattoo, weight FROM sheep ORDER BY weight DESC LIMIT -1)
WHERE weight > 1
  AND NOT EXISTS (SELECT 1 FROM generate_series(2, CAST(sqrt(weight) AS INTEGER))
                  WHERE weight % value = 0)
LIMIT 1;
SELECT 'the wolf eats', tattoo, weight FROM prey;
DELETE FROM sheep WHERE tattoo IN (SELECT tattoo FROM prey);   -- DeleteItem (GetItem-keyed)
SELECT 'sheep left', count(*) FROM sheep;
SELECT 'the prey is gone', count(*) = 0 FROM sheep WHERE tattoo IN (SELECT tattoo FROM prey);
