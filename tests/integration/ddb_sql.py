"""The `dynamodb` virtual table against DynamoDB Local (tests/stack.sh ddb).

Reads: GetItem / BatchGetItem / Query (IN, sort-key = < <= > >= BETWEEN,
LIKE prefix) / Scan with filters, projections, COUNT, LIMIT, parallel
segments, a GSI and an LSI, reserved and odd attribute names; the plan each
query gets (EXPLAIN QUERY PLAN); the type mapping (M, L, SS, NS, BS, BOOL,
NULL, B, 38-digit numbers, numbers=text). Writes: INSERT (duplicates refused),
INSERT OR REPLACE / OR IGNORE, UPDATE (SET, REMOVE, key change), DELETE,
JSON text back to M/L, transactions (atomic, over 100 items, rollback,
savepoints), batch=1. Bad input: missing table, wrong key type, item over
400 KB, empty key, a rejected expression, bad options, full_scan=deny.
Items written by boto3 (Debian python3-boto3) are read with SQL and the
other way round, so both sides check each other.
"""
import json
import os
import sqlite3
import sys
import uuid

import boto3

EXT = os.environ.get("BZ_EXT") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build", "buzzlite")
ENDPOINT = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
REGION = os.environ.get("AWS_REGION", "us-east-1")
ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name=REGION,
                   aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "x"),
                   aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "x"))
RUN = uuid.uuid4().hex[:8]
_n = [0, 0]


def check(name, cond, detail=""):
    _n[0] += 1
    if cond:
        print(f"ok   {name}")
    else:
        _n[1] += 1
        print(f"FAIL {name} {detail!r}")


def connect():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(EXT)
    return db


def rows(db, sql, *args):
    return db.execute(sql, args).fetchall()


def err(db, sql, *args):
    try:
        db.execute(sql, args).fetchall()
        return None
    except sqlite3.Error as e:
        return str(e)


def plan(db, sql):
    return " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql))


def create(name, hash_, range_=None, gsi=None, lsi=None):
    tn = f"{name}_{RUN}"
    ks = [{"AttributeName": hash_[0], "KeyType": "HASH"}]
    ad = {hash_[0]: hash_[1]}
    if range_:
        ks.append({"AttributeName": range_[0], "KeyType": "RANGE"})
        ad[range_[0]] = range_[1]
    kw = {}
    if gsi:
        iname, ih, ir = gsi
        ad[ih[0]] = ih[1]
        iks = [{"AttributeName": ih[0], "KeyType": "HASH"}]
        if ir:
            ad[ir[0]] = ir[1]
            iks.append({"AttributeName": ir[0], "KeyType": "RANGE"})
        kw["GlobalSecondaryIndexes"] = [{"IndexName": iname, "KeySchema": iks,
                                         "Projection": {"ProjectionType": "ALL"}}]
    if lsi:
        iname, ir = lsi
        ad[ir[0]] = ir[1]
        kw["LocalSecondaryIndexes"] = [{"IndexName": iname, "KeySchema": [
            {"AttributeName": hash_[0], "KeyType": "HASH"}, {"AttributeName": ir[0], "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}]
    ddb.create_table(TableName=tn, KeySchema=ks, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": k, "AttributeType": t} for k, t in ad.items()],
                     **kw)
    return tn


db = connect()

# ---- bad options and a missing table ------------------------------------------------
e = err(db, f"CREATE VIRTUAL TABLE nope USING dynamodb(table=missing_{RUN})")
check("missing table: SQL error naming the table and DynamoDB's message",
      e and f"missing_{RUN}" in e and "ResourceNotFoundException" in e and "non-existent table" in e, e)
e = err(db, "CREATE VIRTUAL TABLE nope USING dynamodb(columns='a TEXT')")
check("no table= is an error", e and "no table given" in e, e)
e = err(db, "CREATE VIRTUAL TABLE nope USING dynamodb(table=x, colour=1)")
check("unknown option is an error", e and "unknown option colour" in e, e)
e = err(db, "CREATE VIRTUAL TABLE nope USING dynamodb(table=x, segments=0)")
check("bad segments is an error", e and "segments" in e, e)

# ---- sheep: hash key only ---------------------------------------------------------------
sheep = create("sheep", ("tattoo", "S"))
db.execute(f"CREATE VIRTUAL TABLE sheep USING dynamodb(table={sheep}, "
           "columns='weight INTEGER, color TEXT, \"size\" INTEGER, \"odd name.x\" TEXT, tags')")
db.execute("INSERT INTO sheep(tattoo, weight, color) VALUES ('A-1', 100, 'white'), ('A-2', 200, 'black')")
check("insert + scan", rows(db, "SELECT tattoo, weight, color FROM sheep ORDER BY tattoo") ==
      [("A-1", 100, "white"), ("A-2", 200, "black")])
e = err(db, "INSERT INTO sheep(tattoo, weight) VALUES ('A-1', 5)")
check("duplicate key is a UNIQUE constraint error", e == "UNIQUE constraint failed: sheep.tattoo", e)
try:
    db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('A-1', 5)")
except sqlite3.IntegrityError:
    check("duplicate key raises IntegrityError (SQLITE_CONSTRAINT)", True)
except sqlite3.Error as x:
    check("duplicate key raises IntegrityError (SQLITE_CONSTRAINT)", False, type(x).__name__)
check("duplicate left the item alone", rows(db, "SELECT weight FROM sheep WHERE tattoo='A-1'") == [(100,)])
check("GetItem plan", plan(db, "SELECT * FROM sheep WHERE tattoo='A-1'").find("GetItem") >= 0,
      plan(db, "SELECT * FROM sheep WHERE tattoo='A-1'"))
check("GetItem for IN, deduplicated",
      rows(db, "SELECT tattoo FROM sheep WHERE tattoo IN ('A-2','A-1','A-2','zz') ORDER BY 1") ==
      [("A-1",), ("A-2",)])
check("Scan plan with filter", "Scan f" in plan(db, "SELECT * FROM sheep WHERE weight > 150"),
      plan(db, "SELECT * FROM sheep WHERE weight > 150"))
check("count(*) uses Select=COUNT", "Scan:COUNT" in plan(db, "SELECT count(*) FROM sheep"),
      plan(db, "SELECT count(*) FROM sheep"))
check("count(*)", rows(db, "SELECT count(*) FROM sheep") == [(2,)])
check("filter >", rows(db, "SELECT tattoo FROM sheep WHERE weight > 150") == [("A-2",)])
check("filter = text and <=", rows(db, "SELECT tattoo FROM sheep WHERE color = 'white' AND weight <= 100") == [("A-1",)])
check("filter with affinity ('150' as a number)", rows(db, "SELECT tattoo FROM sheep WHERE weight > '150'") == [("A-2",)])
check("filter <> (re-checked by SQLite)", rows(db, "SELECT tattoo FROM sheep WHERE color <> 'white'") == [("A-2",)])
check("IS NULL / IS NOT NULL", rows(db, "SELECT tattoo FROM sheep WHERE \"size\" IS NULL ORDER BY 1") ==
      [("A-1",), ("A-2",)] and rows(db, "SELECT tattoo FROM sheep WHERE color IS NOT NULL ORDER BY 1") ==
      [("A-1",), ("A-2",)])
check("LIKE prefix filter", rows(db, "SELECT tattoo FROM sheep WHERE color LIKE 'wh%'") == [("A-1",)])
# reserved words and odd names go through ExpressionAttributeNames
db.execute("UPDATE sheep SET \"size\" = 3, \"odd name.x\" = 'dots' WHERE tattoo = 'A-1'")
check("reserved word and odd names: write, filter, project",
      rows(db, "SELECT \"size\", \"odd name.x\" FROM sheep WHERE \"size\" = 3 AND \"odd name.x\" = 'dots'") ==
      [(3, "dots")])
got = ddb.get_item(TableName=sheep, Key={"tattoo": {"S": "A-1"}})["Item"]
check("odd name is one top-level attribute", got.get("odd name.x") == {"S": "dots"} and got["size"] == {"N": "3"}, got)
# UPDATE: SET, REMOVE for NULL
db.execute("UPDATE sheep SET weight = weight + 1, color = NULL WHERE tattoo = 'A-1'")
got = ddb.get_item(TableName=sheep, Key={"tattoo": {"S": "A-1"}})["Item"]
check("UPDATE SET and REMOVE (NULL)", got["weight"] == {"N": "101"} and "color" not in got, got)
# JSON text -> M / L
db.execute("""UPDATE sheep SET tags = '{"farm":"north","ids":[1,2.5,"x"],"ok":true,"n":null}' WHERE tattoo='A-2'""")
got = ddb.get_item(TableName=sheep, Key={"tattoo": {"S": "A-2"}})["Item"]["tags"]
check("JSON object text is written as M (with L, N, BOOL, NULL inside)",
      got == {"M": {"farm": {"S": "north"}, "ids": {"L": [{"N": "1"}, {"N": "2.5"}, {"S": "x"}]},
                    "ok": {"BOOL": True}, "n": {"NULL": True}}}, got)
check("M reads back as JSON", json.loads(rows(db, "SELECT tags FROM sheep WHERE tattoo='A-2'")[0][0]) ==
      {"farm": "north", "ids": [1, 2.5, "x"], "ok": True, "n": None})
check("json functions see it", rows(db, "SELECT tags->>'$.farm' FROM sheep WHERE tattoo='A-2'") == [("north",)])
# item column
check("item column holds the whole item",
      json.loads(rows(db, "SELECT item FROM sheep WHERE tattoo='A-1'")[0][0]) ==
      {"tattoo": "A-1", "weight": 101, "size": 3, "odd name.x": "dots"})
db.execute("""INSERT INTO sheep(tattoo, item, weight) VALUES ('J-1', '{"extra":{"a":[1]},"weight":1}', 7)""")
got = ddb.get_item(TableName=sheep, Key={"tattoo": {"S": "J-1"}})["Item"]
check("INSERT with item: base item, columns override",
      got == {"tattoo": {"S": "J-1"}, "weight": {"N": "7"}, "extra": {"M": {"a": {"L": [{"N": "1"}]}}}}, got)
# OR REPLACE / OR IGNORE
db.execute("INSERT OR REPLACE INTO sheep(tattoo, weight) VALUES ('J-1', 8)")
got = ddb.get_item(TableName=sheep, Key={"tattoo": {"S": "J-1"}})["Item"]
check("INSERT OR REPLACE is an unconditional put", got == {"tattoo": {"S": "J-1"}, "weight": {"N": "8"}}, got)
db.execute("INSERT OR IGNORE INTO sheep(tattoo, weight) VALUES ('J-1', 9), ('J-2', 9)")
check("INSERT OR IGNORE skips the duplicate, inserts the new one",
      rows(db, "SELECT tattoo, weight FROM sheep WHERE tattoo IN ('J-1','J-2') ORDER BY 1") == [("J-1", 8), ("J-2", 9)])
# key change = delete + put in one transaction
db.execute("UPDATE sheep SET tattoo = 'A-9' WHERE tattoo = 'A-1'")
check("key change moves the whole item",
      "Item" not in ddb.get_item(TableName=sheep, Key={"tattoo": {"S": "A-1"}}) and
      ddb.get_item(TableName=sheep, Key={"tattoo": {"S": "A-9"}})["Item"].get("odd name.x") == {"S": "dots"})
e = err(db, "UPDATE sheep SET tattoo = 'A-2' WHERE tattoo = 'A-9'")
check("key change onto an existing key is refused", e == "UNIQUE constraint failed: sheep.tattoo", e)
check("...and changes nothing", rows(db, "SELECT count(*) FROM sheep WHERE tattoo IN ('A-9','A-2')") == [(2,)])
db.execute("DELETE FROM sheep WHERE tattoo LIKE 'J-%'")
check("DELETE", rows(db, "SELECT tattoo FROM sheep ORDER BY 1") == [("A-2",), ("A-9",)])

# ---- transactions ---------------------------------------------------------------------------
db.execute("BEGIN")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('T-1', 1), ('T-2', 2)")
db.execute("UPDATE sheep SET weight = 5 WHERE tattoo = 'A-2'")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('A-9', 3)")  # duplicate: found at COMMIT
e = err(db, "COMMIT")
check("COMMIT with a duplicate fails as a constraint error", e == "UNIQUE constraint failed: sheep.tattoo", e)
if db.in_transaction:
    db.execute("ROLLBACK")
check("failed transaction changed nothing",
      rows(db, "SELECT count(*) FROM sheep WHERE tattoo LIKE 'T-%'") == [(0,)] and
      rows(db, "SELECT weight FROM sheep WHERE tattoo='A-2'") == [(200,)])
db.execute("BEGIN")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('T-1', 1), ('T-2', 2)")
db.execute("UPDATE sheep SET weight = 5 WHERE tattoo = 'A-2'")
db.execute("COMMIT")
check("transaction applied atomically at COMMIT",
      rows(db, "SELECT tattoo, weight FROM sheep WHERE tattoo IN ('T-1','T-2','A-2') ORDER BY 1") ==
      [("A-2", 5), ("T-1", 1), ("T-2", 2)])
db.execute("BEGIN")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('R-1', 1)")
db.execute("ROLLBACK")
check("ROLLBACK sends nothing", rows(db, "SELECT count(*) FROM sheep WHERE tattoo='R-1'") == [(0,)])
db.execute("BEGIN")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('S-1', 1)")
db.execute("SAVEPOINT sp")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('S-2', 2)")
db.execute("ROLLBACK TO sp")
db.execute("COMMIT")
check("ROLLBACK TO a savepoint drops the later writes",
      rows(db, "SELECT tattoo FROM sheep WHERE tattoo LIKE 'S-%'") == [("S-1",)])
db.execute("BEGIN")
db.execute("WITH RECURSIVE gs(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM gs WHERE value < 101) INSERT INTO sheep(tattoo, weight) SELECT 'X-' || value, value FROM gs")
e = err(db, "COMMIT")
check("over 100 items is a clear error", e and "at most 100" in e and "batch=1" in e, e)
if db.in_transaction:
    db.execute("ROLLBACK")
check("...and nothing was written", rows(db, "SELECT count(*) FROM sheep WHERE tattoo LIKE 'X-%'") == [(0,)])
e = err(db, "WITH RECURSIVE gs(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM gs WHERE value < 150) INSERT INTO sheep(tattoo, weight) SELECT 'Y-' || value, value FROM gs")
check("an autocommit statement over 100 items fails too", e and "at most 100" in e, e)
db.execute("WITH RECURSIVE gs(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM gs WHERE value < 100) INSERT INTO sheep(tattoo, weight) SELECT 'X-' || value, value FROM gs")
check("exactly 100 items in one TransactWriteItems", rows(db, "SELECT count(*) FROM sheep WHERE tattoo LIKE 'X-%'") == [(100,)])
db.execute("BEGIN")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('M-1', 1)")
db.execute("UPDATE sheep SET weight = 2 WHERE tattoo = 'A-2'")
db.execute("UPDATE sheep SET color = 'grey' WHERE tattoo = 'A-2'")
db.execute("DELETE FROM sheep WHERE tattoo = 'T-1'")
db.execute("INSERT INTO sheep(tattoo, weight) VALUES ('T-1', 11)")
db.execute("COMMIT")
check("several writes to one item in a transaction are merged",
      rows(db, "SELECT tattoo, weight, color FROM sheep WHERE tattoo IN ('A-2','T-1','M-1') ORDER BY 1") ==
      [("A-2", 2, "grey"), ("M-1", 1, None), ("T-1", 11, None)])

# ---- bad input ------------------------------------------------------------------------------
e = err(db, "INSERT INTO sheep(tattoo, weight) VALUES ('BIG', 1), ('BIG2', 2)")
e = err(db, "INSERT INTO sheep(tattoo, tags) VALUES ('HUGE', hex(randomblob(250000)))")
check("item over 400 KB: error naming the table and DynamoDB's message",
      e and sheep in e and "size" in e.lower(), e)
e = err(db, "INSERT INTO sheep(tattoo, weight) VALUES ('', 1)")
check("empty string key: DynamoDB's message", e and sheep in e and "ValidationException" in e, e)
e = err(db, "INSERT INTO sheep(tattoo, weight) VALUES (x'00', 1)")
check("BLOB for an S key: DynamoDB's type mismatch", e and sheep in e and "mismatch" in e.lower(), e)
e = err(db, "INSERT INTO sheep(tattoo) VALUES (NULL)")
check("NULL key: NOT NULL constraint", e == "NOT NULL constraint failed: sheep.tattoo", e)
e = err(db, "INSERT INTO sheep(tattoo, tags) VALUES ('NaN', json('[1,2'))")
check("malformed JSON marked as JSON is refused", e is not None, e)
long_name = "n" * 70000
db.execute(f"CREATE VIRTUAL TABLE sheep_long USING dynamodb(table={sheep}, columns='\"{long_name}\" INTEGER')")
e = err(db, f"SELECT tattoo FROM sheep_long WHERE \"{long_name}\" = 1")
check("an expression DynamoDB rejects: SQL error with its message", e and sheep in e and "ValidationException" in e,
      (e or "")[:300])
check("a failed statement leaves the data", rows(db, "SELECT count(*) FROM sheep WHERE tattoo IN ('A-2','A-9')") == [(2,)])
db.execute(f"CREATE VIRTUAL TABLE guarded USING dynamodb(table={sheep}, columns='weight INTEGER', full_scan=deny)")
e = err(db, "SELECT count(*) FROM guarded WHERE weight > 1")
check("full_scan=deny refuses a Scan", e and "full Scan" in e and "tattoo" in e, e)
check("full_scan=deny allows keyed reads", rows(db, "SELECT weight FROM guarded WHERE tattoo = 'A-2'") == [(2,)])

# ---- composite key, Query, GSI, LSI ----------------------------------------------------------
herd = create("herd", ("farm", "S"), ("num", "N"), gsi=("by_color", ("color", "S"), ("num", "N")),
              lsi=("by_born", ("born", "S")))
db.execute(f"CREATE VIRTUAL TABLE herd USING dynamodb(table={herd}, columns='color TEXT, born TEXT, w REAL')")
db.execute("BEGIN")
for f in ("north", "south"):
    db.execute("WITH RECURSIVE gs(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM gs WHERE value < 30) INSERT INTO herd(farm, num, color, born, w) SELECT ?, value, "
               "CASE value % 3 WHEN 0 THEN 'white' WHEN 1 THEN 'black' ELSE 'brown' END, "
               "printf('2024-%02d-01', value % 12 + 1), value * 1.5 FROM gs", (f,))
db.execute("COMMIT")
check("composite key columns come first", [r[1] for r in db.execute("PRAGMA table_info(herd)")][:2] == ["farm", "num"])
q = "SELECT num FROM herd WHERE farm = 'north' AND num BETWEEN 5 AND 8"
check("Query BETWEEN", rows(db, q) == [(5,), (6,), (7,), (8,)] and "Query h= r:" in plan(db, q), plan(db, q))
check("Query <", rows(db, "SELECT num FROM herd WHERE farm='south' AND num < 3") == [(1,), (2,)])
check("Query <=, >=", rows(db, "SELECT count(*) FROM herd WHERE farm='south' AND num >= 29") == [(2,)] and
      rows(db, "SELECT count(*) FROM herd WHERE farm='south' AND num <= 10") == [(10,)])
check("Query > with < (BETWEEN, ends dropped by SQLite)",
      rows(db, "SELECT num FROM herd WHERE farm='south' AND num > 3 AND num < 6") == [(4,), (5,)])
check("crossed bounds match nothing", rows(db, "SELECT num FROM herd WHERE farm='south' AND num > 9 AND num < 2") == [])
check("GetItem on the full key", rows(db, "SELECT w FROM herd WHERE farm='north' AND num=4") == [(6.0,)] and
      "GetItem" in plan(db, "SELECT w FROM herd WHERE farm='north' AND num=4"))
check("GetItem with another constraint: SQLite checks it",
      rows(db, "SELECT num FROM herd WHERE farm='north' AND num=4 AND w > 100") == [] and
      rows(db, "SELECT num FROM herd WHERE farm='north' AND num IN (4, 5) AND color = 'brown'") == [(5,)])
check("LIKE on a number column is left to SQLite",
      rows(db, "SELECT num FROM herd WHERE farm='north' AND w LIKE '1.5%'") == [(1,)])
check("BatchGetItem on IN x IN", rows(db, "SELECT farm, num FROM herd WHERE farm IN ('north','south') "
                                          "AND num IN (1, 2) ORDER BY 1, 2") ==
      [("north", 1), ("north", 2), ("south", 1), ("south", 2)])
check("IN on the partition key: one Query each",
      rows(db, "SELECT count(*) FROM herd WHERE farm IN ('north','south','east') AND num > 25") == [(10,)])
check("Query with filter", rows(db, "SELECT num FROM herd WHERE farm='north' AND color='white' AND num < 10") ==
      [(3,), (6,), (9,)])
check("ORDER BY sort key DESC uses ScanIndexForward",
      rows(db, "SELECT num FROM herd WHERE farm='north' ORDER BY num DESC LIMIT 3") == [(30,), (29,), (28,)] and
      " D" in plan(db, "SELECT num FROM herd WHERE farm='north' ORDER BY num DESC LIMIT 3"))
check("LIMIT pushed down", " L" in plan(db, "SELECT num FROM herd WHERE farm='north' LIMIT 2") and
      len(rows(db, "SELECT num FROM herd WHERE farm='north' LIMIT 2")) == 2)
check("numeric text key value coerced", rows(db, "SELECT num FROM herd WHERE farm='north' AND num='7'") == [(7,)])
check("non-numeric text on an N key matches nothing", rows(db, "SELECT num FROM herd WHERE farm='north' AND num='x'") == [])
e = err(db, "INSERT INTO herd(farm, num) VALUES ('north', 'abc')")
check("wrong key type on write: DynamoDB's message naming the table",
      e and herd in e and "ValidationException" in e and "mismatch" in e.lower(), e)
db.execute(f"CREATE VIRTUAL TABLE herd_c USING dynamodb(table={herd}, index=by_color, columns='born TEXT')")
q = "SELECT farm, num FROM herd_c WHERE color = 'white' AND num <= 6 ORDER BY farm, num"
check("GSI query via index=", rows(db, q) == [("north", 3), ("north", 6), ("south", 3), ("south", 6)] and
      "Query" in plan(db, q), plan(db, q))
db.execute(f"CREATE VIRTUAL TABLE herd_b USING dynamodb(table={herd}, index=by_born, consistent=1)")
check("LSI query with LIKE prefix (begins_with) on its sort key",
      rows(db, "SELECT count(*) FROM herd_b WHERE farm='south' AND born LIKE '2024-01%'") == [(2,)])
e = err(db, f"CREATE VIRTUAL TABLE herd_x USING dynamodb(table={herd}, index=nope)")
check("unknown index is an error", e and "no index named" in e, e)
for seg in (1, 2, 4, 7):
    db.execute(f"CREATE VIRTUAL TABLE herd_s{seg} USING dynamodb(table={herd}, segments={seg}, columns='w REAL')")
    check(f"parallel scan, {seg} segments", rows(db, f"SELECT count(*), sum(w) FROM herd_s{seg} WHERE w > 0") ==
          [(60, sum(v * 1.5 for v in range(1, 31)) * 2)])
db.execute(f"CREATE VIRTUAL TABLE herd_p USING dynamodb(table={herd}, columns='w REAL', page_size=7, segments=2)")
check("pagination: pages of 7 items (LastEvaluatedKey), 2 segments",
      rows(db, "SELECT count(*), count(DISTINCT farm || num), sum(w) FROM herd_p WHERE w > 0") ==
      [(60, 60, sum(v * 1.5 for v in range(1, 31)) * 2)])
check("pagination of a Query", rows(db, "SELECT count(*) FROM herd_p WHERE farm = 'north' AND num > 3") == [(27,)])
e = err(db, f"CREATE VIRTUAL TABLE herd_q USING dynamodb(table={herd}, page_size=x)")
check("bad page_size is an error", e and "page_size" in e, e)
check("COUNT over segments", rows(db, "SELECT count(*) FROM herd_s4") == [(60,)])
db.execute("DELETE FROM herd WHERE farm = 'south' AND num > 20")
check("DELETE through a Query", rows(db, "SELECT count(*) FROM herd WHERE farm='south'") == [(20,)])

# ---- type mapping -------------------------------------------------------------------------------
types = create("types", ("id", "S"))
ddb.put_item(TableName=types, Item={
    "id": {"S": "t1"}, "i": {"N": "42"}, "neg": {"N": "-7"}, "r": {"N": "2.5"},
    "big": {"N": "12345678901234567890123456789012345678"}, "int64max": {"N": "9223372036854775807"},
    "s": {"S": "héllo"}, "b": {"B": b"\x00\x01\xff"}, "t": {"BOOL": True}, "f": {"BOOL": False},
    "nul": {"NULL": True}, "m": {"M": {"k": {"S": "v"}}}, "l": {"L": [{"N": "1"}, {"S": "two"}]},
    "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01"]}})
cols = "i INTEGER, neg INTEGER, r REAL, big, int64max INTEGER, s TEXT, b BLOB, t INTEGER, f INTEGER, nul, m, l, ss, ns, bs, missing"
db.execute(f"CREATE VIRTUAL TABLE types USING dynamodb(table={types}, columns='{cols}')")
r = db.execute("SELECT i, neg, r, big, int64max, s, b, t, f, nul, m, l, ss, ns, bs, missing, "
               "typeof(big) FROM types").fetchone()
check("N integral -> INTEGER", r[0] == 42 and r[1] == -7 and r[4] == 9223372036854775807, r[:5])
check("N fractional -> REAL", r[2] == 2.5)
check("N beyond int64 -> REAL", r[16] == "real" and abs(r[3] - 1.2345678901234568e37) < 1e23, r[3])
check("S -> TEXT, B -> BLOB", r[5] == "héllo" and r[6] == b"\x00\x01\xff")
check("BOOL -> 1/0, NULL -> NULL, absent -> NULL", r[7] == 1 and r[8] == 0 and r[9] is None and r[15] is None)
check("M, L -> JSON", json.loads(r[10]) == {"k": "v"} and json.loads(r[11]) == [1, "two"])
check("SS/NS/BS -> JSON arrays", sorted(json.loads(r[12])) == ["a", "b"] and sorted(json.loads(r[13])) == [1, 2.5]
      and json.loads(r[14]) == ["AQ=="])
db.execute(f"CREATE VIRTUAL TABLE types_t USING dynamodb(table={types}, columns='big, r', numbers=text)")
check("numbers=text keeps all 38 digits",
      rows(db, "SELECT big, r FROM types_t") == [("12345678901234567890123456789012345678", "2.5")])
db.execute("INSERT INTO types(id, r, b, s, big) VALUES ('t2', 0.1, x'cafe', '[not json', 1e100)")
got = ddb.get_item(TableName=types, Key={"id": {"S": "t2"}})["Item"]
check("REAL/BLOB/text written back", got["r"] == {"N": "0.1"} and got["b"] == {"B": b"\xca\xfe"} and
      got["s"] == {"S": "[not json"} and int(got["big"]["N"]) == 10**100, got)

# ---- batch=1 ---------------------------------------------------------------------------------------
bulk = create("bulk", ("k", "N"))
db.execute(f"CREATE VIRTUAL TABLE bulk USING dynamodb(table={bulk}, columns='v TEXT', batch=1, segments=3)")
db.execute("WITH RECURSIVE gs(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM gs WHERE value < 2600) INSERT INTO bulk(k, v) SELECT value, 'v' || value FROM gs")
check("batch=1: 2600 rows by BatchWriteItem", rows(db, "SELECT count(*), count(v) FROM bulk") == [(2600, 2600)])
db.execute("UPDATE bulk SET v = 'u' WHERE k <= 30")
check("batch=1 UPDATE", rows(db, "SELECT count(*) FROM bulk WHERE v = 'u'") == [(30,)])
db.execute("DELETE FROM bulk WHERE k > 100")
check("batch=1 DELETE", rows(db, "SELECT count(*) FROM bulk") == [(100,)])
check("LIMIT on a scan", len(rows(db, "SELECT k FROM bulk LIMIT 7")) == 7)

db.close()
print(f"{_n[0]} checks, {_n[1]} failed")
sys.exit(1 if _n[1] else 0)
