"""Scan offload of a `dynamodb` table (executor=), against the test stack's
DynamoDB Local, redis workers and Lambda emulator.

1. Differential: generated SELECTs (projections with rowid and the hidden
   item, pushed filters of every kind, LIMITs above the in-process threshold)
   on a table with executor=local, redis and lambda return the rows of the
   same table without executor= (values and types; order ignored: segments
   come back one after another).
2. Task count: one task per segment (the table's segments=, else 2 x workers),
   each run once; Scan:COUNT, GetItem/Query and small LIMITs stay in-process.
3. Early stop: a LIMIT and a statement dropped mid-scan stop cleanly (the
   ASan run checks for leaks); the next scan on the same table is right.
4. Bad options: named in the error.
5. Writes on an executor= table: INSERT, UPDATE and DELETE through an
   offloaded scan change exactly the items they should (checked with boto3).
"""
import json
import os
import random
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hbee_ddb as hd  # noqa: E402

ddb = hd.ddb
RUN = hd.RUN
N_ITEMS = 2500
N_QUERIES = {"local": 40, "redis": 16, "lambda": 12}
from bzlib import report, summary  # noqa: E402


stats = hd.stats


def typed(rows):
    return sorted(tuple((type(v).__name__, v) for v in r) for r in rows)


COLS = ["id", "g", "k", "x", "n", "s", "b", "v"]


def gen_query(rng, table):
    proj = rng.sample(COLS, rng.randint(1, 4))
    if rng.random() < 0.3:
        proj.append("rowid")
    if rng.random() < 0.2:
        proj.append("item")
    if rng.random() < 0.15:
        proj.append("json_object('it', item) AS j")
    conds = []
    for _ in range(rng.randint(0, 3)):
        c = rng.choice([
            f"g = '{rng.choice(['alpha', 'beta', 'gamma', 'zeta'])}'",
            f"k > {rng.randint(-5, 19)}", f"k <= {rng.randint(-5, 19)}",
            f"x < {rng.uniform(-1000, 1000):.3f}", f"x >= {rng.randint(-900, 900)}.5",
            f"s LIKE '{rng.choice(['al', 'be', 'ga', 'caf'])}%'",
            f"s GLOB '{rng.choice(['al', 'Om'])}*'",
            "b IS NULL", "b IS NOT NULL", "g IS NULL",
            f"n <> {rng.randint(-5, 5)}", f"v = {rng.randint(0, 9)}", "v = 'beta'",
            f"id >= {rng.randint(0, N_ITEMS)}", f"k IN ({rng.randint(0, 9)}, {rng.randint(0, 9)})",
            "k * 2 > x",
        ])
        conds.append(c)
    q = f"SELECT {', '.join(proj)} FROM {table}"
    if conds:
        q += " WHERE " + " AND ".join(conds)
    if rng.random() < 0.15:
        q += f" LIMIT {rng.randint(1001, 2000)}"
    return q


def differential(con, executor, seed):
    rng = random.Random(seed)
    n = N_QUERIES[executor]
    ok = 0
    for i in range(n):
        q = gen_query(rng, "o_" + executor)
        try:
            got = con.execute(q).fetchall()
            want = con.execute(q.replace("o_" + executor, "p")).fetchall()
        except sqlite3.Error as e:
            report(f"{executor}: query {i}", False, f"{q}: {e}")
            continue
        if " LIMIT " in q:  # which rows is up to the order: check the count and membership
            full = con.execute(q.split(" LIMIT ")[0].replace("o_" + executor, "p")).fetchall()
            good = len(got) == len(want) and set(got) <= set(full) if "item" not in q else \
                len(got) == len(want)
        else:
            good = typed(got) == typed(want)
        if not good:
            report(f"{executor}: query {i}", False, f"{q}: {len(got)} rows vs {len(want)}")
        else:
            ok += 1
    report(f"{executor}: {n} generated SELECTs = in-process", ok == n, f"{ok} of {n}")
    st = stats(con)
    report(f"{executor}: ran on {executor}", st["executor"] == executor, st)


def test_offloaded(con):
    want = con.execute("SELECT id, g, k, x, n, s, b, v FROM p").fetchall()
    got = con.execute("SELECT id, g, k, x, n, s, b, v FROM o_local").fetchall()
    st = stats(con)
    report("full scan: same rows and types", typed(got) == typed(want) and len(got) == N_ITEMS,
           f"{len(got)} rows")
    report("task count: 2 x workers segments, each once",
           st["tasks"] == st["splits"] == 4 and st["rows_shipped"] == N_ITEMS, st)
    got = con.execute("SELECT id, k FROM o_seg WHERE k > 3").fetchall()
    st = stats(con)
    want = con.execute("SELECT id, k FROM p WHERE k > 3").fetchall()
    report("segments= is the task count", st["tasks"] == st["splits"] == 3 and
           typed(got) == typed(want), st)
    report("pushed filter: only matching rows shipped", st["rows_shipped"] == len(want), st)
    # in-process: COUNT, GetItem, a small LIMIT (stats unchanged)
    c1 = con.execute("SELECT count(*) FROM o_local").fetchone()[0]
    r1 = con.execute("SELECT g FROM o_local WHERE id = 17").fetchall()
    r2 = con.execute("SELECT id FROM o_local LIMIT 10").fetchall()
    st2 = stats(con)
    report("COUNT, GetItem, LIMIT 10 stay in-process",
           c1 == N_ITEMS and r1 == con.execute("SELECT g FROM p WHERE id = 17").fetchall()
           and len(r2) == 10 and st2 == st, st2)
    # rowid: stable and equal to the in-process one
    a = dict(con.execute("SELECT id, rowid FROM o_local").fetchall())
    b = dict(con.execute("SELECT id, rowid FROM p").fetchall())
    report("rowids as in-process", a == b and len(a) == N_ITEMS, "")
    # item: JSON subtype kept (json_object embeds it), text equal
    a = con.execute("SELECT id, json_object('i', item), item FROM o_local WHERE id < 50").fetchall()
    b = con.execute("SELECT id, json_object('i', item), item FROM p WHERE id < 50").fetchall()
    report("item column: same JSON, subtype kept", sorted(a) == sorted(b) and len(a) == 50
           and a[0][1].startswith('{"i":{'), a[:1])
    # a join: the inner side scans again with each outer row's value as a literal
    q = ("SELECT a.id, b.id FROM (SELECT id, k FROM p WHERE id < 3) a "
         "JOIN {} b ON b.n = a.id + 0 OR b.k = a.k AND b.id < 40")
    a = con.execute(q.format("o_local")).fetchall()
    b = con.execute(q.format("p")).fetchall()
    report("join with the offloaded table inside", sorted(a) == sorted(b), f"{len(a)} vs {len(b)}")


def test_early_stop(con):
    for ex in ("local", "redis"):
        try:
            rows = con.execute(f"SELECT id FROM o_{ex} LIMIT 1500").fetchall()
            st = stats(con)
            report(f"{ex}: LIMIT 1500 offloaded", len(rows) == 1500 and len(set(rows)) == 1500
                   and st["executor"] == ex, st)
            cur = con.execute(f"SELECT id, s FROM o_{ex}")
            part = cur.fetchmany(7)
            cur.close()
            del cur
            rows = con.execute(f"SELECT id FROM o_{ex} WHERE k = 3").fetchall()
            want = con.execute("SELECT id FROM p WHERE k = 3").fetchall()
            report(f"{ex}: statement dropped mid-scan, next scan right",
                   len(part) == 7 and sorted(rows) == sorted(want), f"{len(rows)} vs {len(want)}")
        except sqlite3.Error as e:
            report(f"{ex}: early stop", False, str(e))


def test_bad_options(con, table):
    cases = [
        ("executor=x", "dynamodb: option executor: unknown executor 'x' (local, redis, lambda)"),
        ("executor=local, workers=x",
         "dynamodb: option workers: expected 0 (cores) to 256, got 'x'"),
        ("workers=2", "dynamodb: option workers needs executor= (local, redis, lambda)"),
        ("executor=local, segment=0, segments=2",
         "dynamodb: option executor: not with segment="),
        ("executor=local, executor=redis", "dynamodb: option executor given twice"),
        ("executor=local, max_concurrency=0", "dynamodb: option max_concurrency: expected"),
    ]
    for opts, msg in cases:
        try:
            con.execute(f"CREATE VIRTUAL TABLE temp.bad USING dynamodb(table={table}, {opts})")
            con.execute("DROP TABLE temp.bad")
            report(f"bad options {opts}", False, "accepted")
        except sqlite3.Error as e:
            report(f"bad options {opts}", msg in str(e), str(e))


def test_writes(con):
    name = f"hbee_ddbw_{RUN}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    try:
        con.execute(f"CREATE VIRTUAL TABLE temp.w USING dynamodb(table={name}, "
                    "columns='qty INTEGER, tag TEXT', batch=1, executor=local, workers=2)")
        con.execute("BEGIN")
        for i in range(1200):
            con.execute("INSERT INTO w(pk, sk, qty, tag) VALUES (?, ?, ?, ?)",
                        (f"p{i % 7}", i, i % 10, "t" + str(i % 3)))
        con.execute("COMMIT")
        n = con.execute("SELECT count(*) FROM w").fetchone()[0]
        report("writes: INSERT", n == 1200, n)
        con.execute("UPDATE w SET qty = qty + 100 WHERE tag = 't1'")
        st = stats(con)
        report("writes: UPDATE's scan offloaded", st["tasks"] == 4, st)
        con.execute("DELETE FROM w WHERE qty = 2")
        items = []
        kw = {"TableName": name}
        while True:
            r = ddb.scan(**kw)
            items += r["Items"]
            if "LastEvaluatedKey" not in r:
                break
            kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
        got = sorted((it["pk"]["S"], int(it["sk"]["N"]), int(it["qty"]["N"]), it["tag"]["S"])
                     for it in items)
        want = []
        for i in range(1200):
            q, t = i % 10, "t" + str(i % 3)
            if t == "t1":
                q += 100
            if q == 2:
                continue
            want.append((f"p{i % 7}", i, q, t))
        report("writes: UPDATE and DELETE changed exactly their items", got == sorted(want),
               f"{len(got)} vs {len(want)}")
        rows = con.execute("SELECT pk, sk, qty, tag FROM w").fetchall()
        report("writes: the offloaded scan sees them", sorted(rows) == sorted(want), len(rows))
        con.execute("DROP TABLE temp.w")
    finally:
        ddb.delete_table(TableName=name)


def main():
    table = f"hbee_ddbs_{RUN}"
    hd.make_table(table, N_ITEMS)
    con = hd.connect()
    try:
        base = f"table={table}, columns='{hd.COLUMNS}'"
        con.execute(f"CREATE VIRTUAL TABLE temp.p USING dynamodb({base})")
        con.execute(f"CREATE VIRTUAL TABLE temp.o_local USING dynamodb({base}, executor=local, "
                    "workers=2)")
        con.execute(f"CREATE VIRTUAL TABLE temp.o_seg USING dynamodb({base}, segments=3, "
                    "executor=local)")
        con.execute(f"CREATE VIRTUAL TABLE temp.o_redis USING dynamodb({base}, executor=redis, "
                    "workers=2)")
        con.execute(f"CREATE VIRTUAL TABLE temp.o_lambda USING dynamodb({base}, "
                    "executor=lambda, max_concurrency=3)")
        test_offloaded(con)
        differential(con, "local", 11)
        differential(con, "redis", 22)
        differential(con, "lambda", 33)
        test_early_stop(con)
        test_bad_options(con, table)
        test_writes(con)
    finally:
        con.close()
        ddb.delete_table(TableName=table)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
