"""Fault injection between the `dynamodb` virtual table and DynamoDB Local.

DynamoDB Local never throttles, so tests/fault_proxy.py sits in front of it
(the table's endpoint= option) and answers chosen requests (by X-Amz-Target)
with DynamoDB JSON errors. For each throttling code (ProvisionedThroughput-
ExceededException, ThrottlingException, RequestLimitExceeded), and for 500
InternalServerError and a TCP reset, injected 2-3 times into Scan, Query,
GetItem, PutItem (INSERT) and TransactWriteItems (a COMMIT of several
writes): the statement succeeds with the right rows, the proxy saw exactly
faults + 1 requests of that operation, and a direct read (boto3, bypassing
the proxy) finds exactly the intended items. A reset after DynamoDB applied a
COMMIT (answer lost) is retried with the same ClientRequestToken, so it is
not mistaken for a duplicate key. Past the retry budget (BZ_AWS_MAX_ATTEMPTS)
the error names the table and the code and says how many attempts were made,
which the proxy confirms; a failed INSERT wrote nothing. A non-retryable 400
(ValidationException) is sent once. A duplicate key under throttling is still
a UNIQUE constraint error.
"""
import os
import sqlite3
import sys
import time
import uuid

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from s3_testlib import Proxy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXT = os.environ.get("BZ_EXT") or os.path.join(ROOT, "build", "buzzlite")
ENDPOINT = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["BZ_AWS_RETRY_BASE_MS"] = "10"
os.environ.pop("BZ_AWS_MAX_ATTEMPTS", None)
REGION = os.environ.get("AWS_REGION", "us-east-1")
ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name=REGION,
                   aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "x"),
                   aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "x"))
RUN = uuid.uuid4().hex[:8]
THROTTLE = ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
_n = [0, 0]


def check(name, cond, detail=""):
    _n[0] += 1
    if cond:
        print(f"ok   {name}")
    else:
        _n[1] += 1
        print(f"FAIL {name} {detail!r}")


def rows(db, sql, *args):
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return "ERROR: " + str(e)


def err(db, sql, *args):
    try:
        db.execute(sql, args).fetchall()
        return None
    except sqlite3.Error as e:
        return str(e)


def direct_items(table):
    """Every item as {(pk, sk): v}, read straight from DynamoDB Local."""
    out, kw = {}, {}
    while True:
        r = ddb.scan(TableName=table, ConsistentRead=True, **kw)
        for it in r["Items"]:
            out[(it["pk"]["S"], int(it["sk"]["N"]))] = int(it["v"]["N"]) if "v" in it else None
        if "LastEvaluatedKey" not in r:
            return out
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]


table = f"faults_{RUN}"
ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                            {"AttributeName": "sk", "KeyType": "RANGE"}],
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "sk", "AttributeType": "N"}])
want = {}
for p in range(4):
    for s in range(10):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"p{p}"}, "sk": {"N": str(s)},
                                            "v": {"N": str(p * 100 + s)}})
        want[(f"p{p}", s)] = p * 100 + s

px = Proxy(ENDPOINT)


def connect():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(EXT)
    # page_size keeps scans to several pages, so faults can hit later pages too
    db.execute(f"CREATE VIRTUAL TABLE t USING dynamodb(table={table}, endpoint='{px.url}', "
               "columns='v INTEGER', page_size=15)")
    return db


def run_op(db, op, n, mode, tag, **kw):
    """Inject n faults into op, run its statement, return (result, stats)."""
    base = 1
    if op == "Scan":  # several pages: count them without faults first
        px.fault(mode="clear", reset_stats=1)
        rows(db, "SELECT pk, sk, v FROM t ORDER BY pk, sk")
        base = px.stats()["by_target"].get("Scan", 0)
    px.fault(mode="clear", reset_stats=1)
    px.fault(mode=mode, count=n, target=op, **kw)
    if op == "Scan":
        res = rows(db, "SELECT pk, sk, v FROM t ORDER BY pk, sk")
        ok = res == sorted((k[0], k[1], v) for k, v in want.items())
    elif op == "Query":
        res = rows(db, "SELECT sk, v FROM t WHERE pk = 'p2' ORDER BY sk")
        ok = res == [(s, 200 + s) for s in range(10)]
    elif op == "GetItem":
        res = rows(db, "SELECT v FROM t WHERE pk = 'p3' AND sk = 7")
        ok = res == [(307,)]
    elif op == "PutItem":
        res = err(db, "INSERT INTO t(pk, sk, v) VALUES (?, 1, 42)", f"ins-{tag}")
        want[(f"ins-{tag}", 1)] = 42
        ok = res is None
    else:  # TransactWriteItems: a COMMIT of inserts, an update and a delete
        db.execute("BEGIN")
        db.execute("INSERT INTO t(pk, sk, v) VALUES (?, 1, 1), (?, 2, 2), (?, 3, 3)",
                   (f"tx-{tag}",) * 3)
        db.execute("UPDATE t SET v = v + 1 WHERE pk = 'p1' AND sk = 0")
        db.execute("DELETE FROM t WHERE pk = 'p1' AND sk = 9")
        res = err(db, "COMMIT")
        if db.in_transaction:
            db.execute("ROLLBACK")
        for s in (1, 2, 3):
            want[(f"tx-{tag}", s)] = s
        want[("p1", 0)] += 1
        # put p1/9 back (directly) for the next round
        ddb.put_item(TableName=table, Item={"pk": {"S": "p1"}, "sk": {"N": "9"}, "v": {"N": "109"}})
        ok = res is None
    st = px.stats()
    st["base"] = base
    px.fault(mode="clear")
    return res, ok, st


OPS = [("Scan", "Scan"), ("Query", "Query"), ("GetItem", "GetItem"), ("PutItem", "INSERT"),
       ("TransactWriteItems", "COMMIT")]

db = connect()
check("plans: GetItem and Query as expected",
      "GetItem" in " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT v FROM t WHERE pk='p3' AND sk=7"))
      and "Query" in " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT v FROM t WHERE pk='p2'")))
check("through the proxy", rows(db, "SELECT count(*) FROM t") == [(40,)])

# ---- absorbed faults --------------------------------------------------------------------
modes = [("ddb_throttle", c, {"code": c}) for c in THROTTLE]
modes += [("ddb_500", "InternalServerError", {}), ("ddb_reset", "reset", {})]
for i, (mode, name, kw) in enumerate(modes):
    t0 = time.time()
    for j, (op, what) in enumerate(OPS):
        n = 2 + (i + j) % 2  # 2 or 3 faults
        tag = f"{name[:8]}-{op}"
        res, ok, st = run_op(db, op, n, mode, tag, **kw)
        check(f"{what} survives {n}x {name}", ok, res)
        check(f"... {n} faulted + {st['base']} good {op} request(s), nothing more",
              st["faults_by_target"].get(op) == n and st["by_target"].get(op) == n + st["base"],
              st["by_target"])
        if op in ("PutItem", "TransactWriteItems"):
            got = direct_items(table)
            check(f"... item state exactly as intended after {what} ({name})", got == want,
                  {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)})
    print(f"     ({name}: {time.time() - t0:.1f}s)")

# a scan fault on a later page: the scan goes on from that page, no row twice or lost
px.fault(mode="clear", reset_stats=1)
res = rows(db, "SELECT pk, sk, v FROM t ORDER BY pk, sk")
pages = px.stats()["by_target"].get("Scan", 0)
check("scan spans several pages", pages >= 3, pages)
for code in THROTTLE:
    px.fault(mode="clear", reset_stats=1)
    px.fault(mode="ddb_throttle", code=code, count=2, target="Scan")
    # the first page goes through: let the faults hit page 2 and 3
    px.fault(mode="clear")
    cur = db.execute("SELECT pk, sk, v FROM t")
    first = cur.fetchmany(5)
    px.fault(mode="ddb_throttle", code=code, count=2, target="Scan")
    rest = cur.fetchall()
    got = sorted(first + rest)
    check(f"scan with {code} on later pages: every row once",
          got == sorted((k[0], k[1], v) for k, v in want.items()), len(got))
    check(f"... the faults were used", px.stats()["faults_by_target"].get("Scan") == 2, px.stats())
px.fault(mode="clear")

# a reset after DynamoDB applied the COMMIT: the retry must not read as a duplicate key
for n in (1, 2):
    px.fault(mode="clear", reset_stats=1)
    px.fault(mode="ddb_reset_after", count=n, target="TransactWriteItems")
    db.execute("BEGIN")
    db.execute("INSERT INTO t(pk, sk, v) VALUES (?, 1, 7), (?, 2, 8)", (f"ra{n}",) * 2)
    res = err(db, "COMMIT")
    if db.in_transaction:
        db.execute("ROLLBACK")
    want[(f"ra{n}", 1)] = 7
    want[(f"ra{n}", 2)] = 8
    st = px.stats()
    check(f"COMMIT whose answer was lost {n}x (applied) succeeds (idempotent retry)", res is None, res)
    check(f"... {n + 1} TransactWriteItems requests", st["by_target"].get("TransactWriteItems") == n + 1,
          st["by_target"])
    got = direct_items(table)
    check(f"... item state exactly as intended", got == want,
          {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)})
px.fault(mode="clear")

# A single INSERT is one conditional PutItem, which has no idempotency token:
# when DynamoDB applied it and the answer was lost, the retry finds the item
# and fails its condition. The item is there exactly once either way; what
# the statement reports is printed, not checked (a known ambiguity).
px.fault(mode="ddb_reset_after", count=1, target="PutItem", reset_stats=1)
e = err(db, "INSERT INTO t(pk, sk, v) VALUES ('lost-answer', 1, 11)")
want[("lost-answer", 1)] = 11
check("INSERT whose answer was lost: the item is there once, as written",
      direct_items(table).get(("lost-answer", 1)) == 11 and px.stats()["by_target"].get("PutItem") == 2,
      px.stats()["by_target"])
print(f"     (note: that INSERT reported {e!r})")
px.fault(mode="clear")

# throttling does not hide a real constraint error
for op, sql in [("PutItem", "INSERT INTO t(pk, sk, v) VALUES ('p0', 1, 5)")]:
    px.fault(mode="ddb_throttle", code="ThrottlingException", count=2, target=op, reset_stats=1)
    e = err(db, sql)
    check("duplicate INSERT under throttling: UNIQUE constraint error", e == "UNIQUE constraint failed: t.pk, sk"
          or (e or "").startswith("UNIQUE constraint failed"), e)
    check("... after the 2 throttled tries", px.stats()["by_target"].get(op) == 3, px.stats()["by_target"])
px.fault(mode="ddb_throttle", code="ProvisionedThroughputExceededException", count=2,
         target="TransactWriteItems", reset_stats=1)
db.execute("BEGIN")
db.execute("INSERT INTO t(pk, sk, v) VALUES ('dup-new', 1, 1), ('p0', 2, 5)")
e = err(db, "COMMIT")
if db.in_transaction:
    db.execute("ROLLBACK")
check("duplicate in a throttled COMMIT: UNIQUE constraint error",
      (e or "").startswith("UNIQUE constraint failed"), e)
check("... nothing written", ("dup-new", 1) not in direct_items(table) and
      direct_items(table)[("p0", 2)] == 2)
px.fault(mode="clear")
db.close()

# ---- past the retry budget ---------------------------------------------------------------
os.environ["BZ_AWS_MAX_ATTEMPTS"] = "3"
db = connect()  # the client reads the budget when the table connects
for code in THROTTLE + ["InternalServerError"]:
    mode, kw = ("ddb_500", {}) if code == "InternalServerError" else ("ddb_throttle", {"code": code})
    for op, sql in [("Scan", "SELECT count(*) FROM t"), ("Query", "SELECT v FROM t WHERE pk = 'p2'"),
                    ("PutItem", f"INSERT INTO t(pk, sk, v) VALUES ('gone-{code}', 1, 1)")]:
        px.fault(mode="clear", reset_stats=1)
        px.fault(mode=mode, count=100, target=op, **kw)
        t0 = time.time()
        e = err(db, sql)
        dt = time.time() - t0
        n = px.stats()["faults_by_target"].get(op)
        check(f"persistent {code} on {op}: error names the table and the code",
              e is not None and f"dynamodb table {table}" in e and code in e, e)
        check(f"... gave up after 3 attempts, as the proxy saw ({code}, {op})",
              e is not None and "after 3 attempts" in e and n == 3, (e, n, f"{dt:.1f}s"))
    check(f"... the failed INSERT wrote nothing ({code})",
          ("gone-" + code, 1) not in direct_items(table))
px.fault(mode="clear")

# ---- a non-retryable 400 is sent once ---------------------------------------------------------
for op, sql in [("Query", "SELECT v FROM t WHERE pk = 'p2'"), ("GetItem", "SELECT v FROM t WHERE pk='p3' AND sk=7"),
                ("PutItem", "INSERT INTO t(pk, sk, v) VALUES ('val', 1, 1)")]:
    px.fault(mode="clear", reset_stats=1)
    px.fault(mode="ddb_error", status=400, code="ValidationException", count=100, target=op)
    e = err(db, sql)
    st = px.stats()
    check(f"ValidationException on {op}: clear error", e is not None and "ValidationException" in e
          and f"dynamodb table {table}" in e, e)
    check(f"... not retried ({op})", st["by_target"].get(op) == 1, st["by_target"])
px.fault(mode="clear")
db.close()

got = direct_items(table)
check("final item state exactly as intended", got == want,
      {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)})
px.stop()
ddb.delete_table(TableName=table)
print(f"{_n[0]} checks, {_n[1]} failed")
sys.exit(1 if _n[1] else 0)
