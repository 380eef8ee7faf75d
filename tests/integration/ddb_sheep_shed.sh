#!/usr/bin/env bash
# sql/sheep_shed.sql against DynamoDB Local: creates the `sheep` table (boto3),
# runs the script in the sqlite3 shell and checks what it reports: 1000 sheep
# counted, the duplicate refused, the wolf's prey prime, the heaviest prime,
# and gone.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${AWS_ENDPOINT_URL_DYNAMODB:?run through tests/run.sh (needs the ddb stack service)}"
export AWS_EC2_METADATA_DISABLED=true
py() { "${PYTHON:-/usr/bin/python3}" "$@"; }
py - <<'EOF'
import os, boto3
c = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                 region_name=os.environ.get("AWS_REGION", "us-east-1"))
try:
    c.delete_table(TableName="sheep")
except c.exceptions.ResourceNotFoundException:
    pass
c.create_table(TableName="sheep", BillingMode="PAY_PER_REQUEST",
               AttributeDefinitions=[{"AttributeName": "tattoo", "AttributeType": "S"}],
               KeySchema=[{"AttributeName": "tattoo", "KeyType": "HASH"}])
EOF
out=$(${BZ_HOST_PRELOAD:+env LD_PRELOAD="$BZ_HOST_PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1} \
    sqlite3 -cmd ".load ${BZ_EXT:-build/buzzlite}" :memory: <sql/sheep_shed.sql 2>&1 || true)
echo "$out"
fail=0
expect() { grep -qx -- "$1" <<<"$out" && echo "ok   $2" || { echo "FAIL $2"; fail=1; }; }
expect 'the dog counts|1000' "the dog counts 1000 sheep"
expect 'refused duplicate left no trace|1' "a duplicate tattoo refuses its whole statement"
grep -q 'UNIQUE constraint failed: sheep.tattoo' <<<"$out" && echo "ok   duplicate error text" ||
    { echo "FAIL duplicate error text"; fail=1; }
expect 'sheep left|999' "the wolf ate one sheep"
expect 'the prey is gone|1' "the prey is gone"
prey=$(sed -n 's/^the wolf eats|\(.*\)|\(.*\)$/\2/p' <<<"$out")
[ -n "$prey" ] || { echo "FAIL no prey"; exit 1; }
# check with boto3 + Python: the prey's weight is prime and no heavier sheep has a prime weight
PREY=$prey py - <<'EOF' || fail=1
import os, boto3
c = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                 region_name=os.environ.get("AWS_REGION", "us-east-1"))
def prime(n):
    if n < 2: return False
    d = 2
    while d * d <= n:
        if n % d == 0: return False
        d += 1
    return True
prey = int(os.environ["PREY"])
ws = []
for page in c.get_paginator("scan").paginate(TableName="sheep"):
    ws += [int(i["weight"]["N"]) for i in page["Items"]]
ok = prime(prey) and not any(w > prey and prime(w) for w in ws) and prey not in ws
print(("ok  " if ok else "FAIL") + f" prey weight {prey} is the heaviest prime and was eaten")
raise SystemExit(0 if ok else 1)
EOF
exit $fail
