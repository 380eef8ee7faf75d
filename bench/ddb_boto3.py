"""The boto3 side of the DynamoDB benchmark (bench/ddb_bench.py runs it).

    python3 bench/ddb_boto3.py TABLE insert N      # batch_writer, N sheep
    python3 bench/ddb_boto3.py TABLE count         # Scan Select=COUNT, paginated
    python3 bench/ddb_boto3.py TABLE wolf          # Scan tattoo+weight, heaviest prime, DeleteItem
    python3 bench/ddb_boto3.py TABLE filter LO HI  # Scan with FilterExpression, count + sum

Each step is what a boto3 user writes for the same job as the SQL in
bench/ddb_bench.py: the low-level client (the fastest boto3 path) with the
standard paginator. Prints one result line (compared with buzzlite's).
Scans read pages of BZ_DDB_PAGE items (default 2000, buzzlite's page_size)
and project what buzzlite projects (the filter step's Scan asks for the key
too, which buzzlite always reads for rowids), so both send the same requests.
Environment: AWS_ENDPOINT_URL_DYNAMODB, credentials, AWS_REGION.
"""
import os
import sys

import boto3

table, step = sys.argv[1], sys.argv[2]
PAGE = int(os.environ.get("BZ_DDB_PAGE", "2000"))
c = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                 region_name=os.environ.get("AWS_REGION", "us-east-1"))


def prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


if step == "insert":
    n = int(sys.argv[3])
    res = boto3.resource("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                         region_name=os.environ.get("AWS_REGION", "us-east-1"))
    with res.Table(table).batch_writer() as w:
        for i in range(1, n + 1):
            w.put_item(Item={"tattoo": "NZ-%06d" % i,
                             "weight": 40000000000 + (i * 2654435761) % 120000000000})
    print("inserted", n)
elif step == "count":
    total = 0
    for page in c.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
        total += page["Count"]
    print("count", total)
elif step == "wolf":
    flock = []
    for page in c.get_paginator("scan").paginate(TableName=table, ProjectionExpression="tattoo, weight",
                                                 PaginationConfig={"PageSize": PAGE}):
        for it in page["Items"]:
            flock.append((int(it["weight"]["N"]), it["tattoo"]["S"]))
    flock.sort(reverse=True)
    prey = next(((w, t) for w, t in flock if prime(w)), None)
    if prey:
        c.delete_item(TableName=table, Key={"tattoo": {"S": prey[1]}})
    print("wolf", prey[1] if prey else None, prey[0] if prey else None)
elif step == "filter":
    lo, hi = int(sys.argv[3]), int(sys.argv[4])
    n = s = 0
    for page in c.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression="#w, #t", FilterExpression="#w BETWEEN :lo AND :hi",
            ExpressionAttributeNames={"#w": "weight", "#t": "tattoo"},
            PaginationConfig={"PageSize": PAGE},
            ExpressionAttributeValues={":lo": {"N": str(lo)}, ":hi": {"N": str(hi)}}):
        for it in page["Items"]:
            n += 1
            s += int(it["weight"]["N"])
    print("filter", n, s)
else:
    sys.exit("unknown step " + step)
