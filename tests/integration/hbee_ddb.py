"""hbee over a `dynamodb` table, against the test stack's DynamoDB Local.

A generated table (3000 items: integers, floats, text, booleans, a column of
mixed types, attributes missing at random) written with boto3, then:

1. `segment=i, segments=N` on the dynamodb table: the N segments together
   are the whole table, each item in exactly one segment; bad values refused.
2. Differential: generated aggregate and filter queries (the generator of
   tests/python/test_hbee_diff.py) through hbee with executor=local, redis
   (the stack's workers) and lambda (the stack's emulator) give the rows of
   the single-connection scan of the dynamodb table (exact for integers and
   text, 1e-9 relative for floats). Every split is a segment, run once.
3. TotalSegments: the table's segments= when given, else 2 x the executor's
   width; hbee_explain shows them; the task JSON carries no credentials.
4. Fault: three redis workers on a private queue (each task delayed), two
   SIGKILLed mid-query: the answer is still exact, each segment counted once.
5. Errors: a table that is neither parquet nor dynamodb, the DynamoDB table
   deleted under the SQL table (the segment is named), a worker with no
   region (`hbee run` of a task without region, AWS_REGION unset).
6. HBEE_FUNCTION / HBEE_SCRATCH as the lambda executor's defaults.
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import test_hbee_diff as diff  # noqa: E402

HBEE = os.path.join(diff.BUILD, "hbee")
ENDPOINT = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
REGION = os.environ.get("AWS_REGION", "us-east-1")
N_ITEMS = 3000
N_LOCAL, N_REDIS, N_LAMBDA = 60, 24, 24
ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name=REGION,
                   aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "x"),
                   aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "x"))
RUN = uuid.uuid4().hex[:8]
COLUMNS = "g TEXT, k INTEGER, x REAL, n INTEGER, s TEXT, b INTEGER, v"

from bzlib import report, summary  # noqa: E402


def connect():
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.enable_load_extension(True)
    con.load_extension(diff.EXT)
    return con


def make_table(name, n):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    rng = random.Random(4242)
    words = ["alpha", "beta", "gamma", "delta", "eta", "zeta", "Omega", "caf\u00e9", "b'q"]
    items = []
    for i in range(n):
        it = {"id": {"N": str(i)}}
        if rng.random() < 0.9:
            it["g"] = {"S": rng.choice(words[:6])}
        if rng.random() < 0.92:
            it["k"] = {"N": str(rng.randint(-5, 19))}
        if rng.random() < 0.9:
            it["x"] = {"N": repr(round(rng.uniform(-1000, 1000), rng.choice([0, 2, 6])))}
        it["n"] = {"N": str(rng.randint(-2**40, 2**40))}
        if rng.random() < 0.95:
            it["s"] = {"S": rng.choice(words) + str(rng.randint(0, 99))}
        if rng.random() < 0.85:
            it["b"] = {"BOOL": rng.random() < 0.5}
        r = rng.random()  # v: mixed types
        if r < 0.2:
            it["v"] = {"N": str(rng.randint(0, 9))}
        elif r < 0.4:
            it["v"] = {"S": rng.choice(words)}
        elif r < 0.5:
            it["v"] = {"BOOL": True}
        elif r < 0.6:
            it["v"] = {"N": "2.5"}
        items.append(it)
    for i in range(0, n, 25):
        req = {name: [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]}
        while req:
            req = ddb.batch_write_item(RequestItems=req).get("UnprocessedItems") or None


stats = diff.stats


run_hbee = diff.run_hbee_opts


def test_segments(con, table):
    ids = []
    for i in range(4):
        con.execute(f"CREATE VIRTUAL TABLE temp.seg{i} USING dynamodb(table={table}, "
                    f"columns='{COLUMNS}', segment={i}, segments=4)")
        ids += [r[0] for r in con.execute(f"SELECT id FROM seg{i} WHERE id >= 0")]
        plan = " ".join(r[-1] for r in con.execute(f"EXPLAIN QUERY PLAN SELECT * FROM seg{i} "
                                                     "WHERE id = 5"))
        report(f"segment {i}: a key condition stays a Scan", "INDEX 0:Scan f0:2" in plan, plan)
    report("segments: every item in exactly one segment",
           sorted(ids) == list(range(N_ITEMS)), f"{len(ids)} ids, {len(set(ids))} distinct")
    cnt = sum(con.execute(f"SELECT count(*) FROM seg{i}").fetchone()[0] for i in range(4))
    report("segments: Select=COUNT per segment adds up", cnt == N_ITEMS, cnt)
    for i in range(4):
        con.execute(f"DROP TABLE temp.seg{i}")
    for opts, want in [("segment=1", "option segment needs segments=N"),
                       ("segment=4, segments=4", "option segment: bad value '4' (expected 0 to 3)"),
                       ("segment=-1, segments=4", "option segment: bad value '-1'"),
                       ("segments=65", "option segments: bad value '65' (expected 1 to 64)")]:
        try:
            con.execute(f"CREATE VIRTUAL TABLE temp.bad USING dynamodb(table={table}, {opts})")
            con.execute("DROP TABLE temp.bad")
            report(f"bad option {opts}", False, "accepted")
        except sqlite3.Error as e:
            report(f"bad option {opts}", want in str(e), str(e))
    try:  # many segments are allowed for one segment (an hbee worker's table)
        con.execute(f"CREATE VIRTUAL TABLE temp.big USING dynamodb(table={table}, "
                    "segment=999, segments=1000)")
        con.execute("SELECT count(*) FROM big").fetchone()
        con.execute("DROP TABLE temp.big")
        report("segments=1000 with segment=", True)
    except sqlite3.Error as e:
        report("segments=1000 with segment=", False, str(e))


def differential(con, executor, n, seed, extra=""):
    rng = random.Random(seed)
    n_agg = n_filter = 0
    for i in range(n):
        if i % 3 == 2:
            q, ordered = diff.gen_filter(rng)
            n_filter += 1
        else:
            q, ordered = diff.gen_aggregate(rng)
            n_agg += 1
        cur = con.execute(q)
        exp_names = [d[0] for d in cur.description]
        exp = cur.fetchall()
        try:
            names, got = run_hbee(con, q, f"executor={executor}{extra}")
            why = diff.same_rows(exp, got, ordered)
            if not why and not all(a == b or a.startswith(b + ":") for a, b in zip(names, exp_names)):
                why = f"columns {names} != {exp_names}"
            st = stats(con)
            if not why and not (st["executor"] == executor and st["tasks"] == st["splits"] > 1):
                why = f"stats {st}"
        except sqlite3.Error as e:
            why = str(e)
        report(f"{executor} query {i}", why is None, f"{q}\n     {why}")
    print(f"{executor}: {n_agg} aggregate and {n_filter} filter queries")


def test_exact_types(con):
    # a few fixed queries with typed results compared value by value
    for q in ["SELECT count(*), count(g), count(k), count(x), count(b), count(v) FROM t",
              "SELECT sum(k), total(x), min(x), max(x), sum(n), min(s), max(s) FROM t",
              "SELECT g, count(*), avg(x), group_concat(DISTINCT k) IS NOT NULL FROM t GROUP BY g",
              "SELECT typeof(v), count(*), sum(v = 2.5) FROM t GROUP BY 1",
              "SELECT b, count(DISTINCT s), max(length(s)) FROM t WHERE k BETWEEN 3 AND 9 GROUP BY b",
              "SELECT id, g, x FROM t WHERE s LIKE 'caf%' ORDER BY id LIMIT 20",
              "SELECT count(*) FROM t WHERE id = 17"]:
        exp = con.execute(q).fetchall()
        for ex in ("local", "redis", "lambda"):
            try:
                _, got = run_hbee(con, q, f"executor={ex}" +
                                  (", max_concurrency=4" if ex == "lambda" else ""))
                why = diff.same_rows(exp, got, "ORDER BY" in q)
            except sqlite3.Error as e:
                why = str(e)
            report(f"fixed {ex}: {q}", why is None and exp, why)


def test_total_segments(con, table):
    con.execute("CREATE VIRTUAL TABLE temp.t3 USING dynamodb(table=" + table +
                f", columns='{COLUMNS}', segments=3)")
    _, got = run_hbee(con, "SELECT count(*), sum(k) FROM t3", "executor=local, workers=2")
    exp = con.execute("SELECT count(*), sum(k) FROM t3").fetchall()
    st = stats(con)
    report("segments= of the table is TotalSegments", st["splits"] == 3 and st["tasks"] == 3, st)
    report("segments=3: same answer", got == exp, f"{got} vs {exp}")
    con.execute("DROP TABLE temp.t3")
    _, got = run_hbee(con, "SELECT count(*) FROM t", "executor=local, workers=3")
    st = stats(con)
    report("default TotalSegments: 2 x workers", st["splits"] == 6 and got == [(N_ITEMS,)], st)
    _, got = run_hbee(con, "SELECT count(*) FROM t", "executor=lambda, max_concurrency=5")
    st = stats(con)
    report("default TotalSegments: max_concurrency", st["splits"] == 5 and
           got == [(N_ITEMS,)], st)
    con.execute("SELECT hbee_config('workers', 2)")
    ex = con.execute("SELECT hbee_explain('SELECT g, count(*) FROM t GROUP BY g')").fetchone()[0]
    con.execute("SELECT hbee_config('workers', 0)")
    report("explain: segments", f"splits: 4 (parallel Scan segments of dynamodb table {table})" in ex
           and "split 3: segment 3 of 4" not in ex and "split 2: segment 2 of 4" in ex, ex)


def test_task_json(con, table):
    # what a worker receives: version 2, the segment, shipped options only
    con.execute(f"CREATE VIRTUAL TABLE temp.tp USING dynamodb(table={table}, columns='{COLUMNS}', "
                f"region={REGION}, profile=nosuchprofile, full_scan=allow, page_size=500)")
    try:
        q = "SELECT count(*) FROM tp"
        _, got = run_hbee(con, q, "executor=local, workers=1")
        report("profile/full_scan are not shipped (the worker would refuse them)",
               got == [(N_ITEMS,)], got)
    except sqlite3.Error as e:
        report("profile/full_scan are not shipped", False, str(e))
    con.execute("DROP TABLE temp.tp")
    task = {"version": 2, "query_id": "qt", "task_id": 0,
            "split": {"dynamodb": table, "segment": 1, "segments": 2},
            "columns": ["g"], "options": {"columns": COLUMNS},
            "sql": "SELECT count(*) AS c FROM split"}
    bad = dict(task, options={"profile": "x"})
    v1 = dict(task, version=1)
    other = dict(task)  # no region in the task: the worker's own (eu-west-3) is used
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    with tempfile.TemporaryDirectory() as d:
        out = {}
        for name, t in [("ok", task), ("profile", bad), ("v1", v1), ("noreg", other),
                        ("region", dict(task, options={"columns": COLUMNS, "region": REGION}))]:
            p = os.path.join(d, name + ".json")
            with open(p, "w") as f:
                json.dump(t, f)
            e = env
            if name in ("noreg", "region"):
                e = dict(env, AWS_REGION="eu-west-3")
            r = subprocess.run([HBEE, "run", p, "--rows"], env=e, capture_output=True, text=True,
                               timeout=60)
            out[name] = r.stdout + r.stderr
    report("hbee run: a segment task runs", "error" not in out["ok"], out["ok"])
    report("hbee run: profile refused",
           "option profile is not allowed in a dynamodb task" in out["profile"], out["profile"])
    report("hbee run: version 1 with a dynamodb split refused",
           "needs version 2" in out["v1"], out["v1"])
    # DynamoDB Local keeps a database per region, like AWS: a worker in
    # another region does not find the table, unless the task names the region
    report("hbee run: worker in another region: the error names table and reason",
           "error" in out["noreg"] and table in out["noreg"] and
           "ResourceNotFoundException" in out["noreg"], out["noreg"])
    report("hbee run: the task's region wins over the worker's", "error" not in out["region"],
           out["region"])
    # the coordinator ships the region it resolved (here from AWS_REGION)
    os.environ["AWS_REGION"] = REGION
    ex = con.execute("SELECT hbee_explain('SELECT count(*) FROM t')").fetchone()[0]
    report("explain: dynamodb dataset", "dataset: CREATE VIRTUAL TABLE t USING dynamodb" in ex, ex)


def test_fault(con):
    queue = f"hbee:ddb:{os.getpid()}"
    env = dict(os.environ, HBEE_TEST_DELAY_MS="400")
    env.pop("LD_PRELOAD", None)
    ws = [subprocess.Popen([HBEE, "worker", "--redis", os.environ["REDIS_URL"], "--queue", queue,
                            "--claim-idle-ms", "1000"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) for _ in range(3)]
    time.sleep(0.3)
    q = "SELECT g, count(*), sum(k), total(x), min(s), max(n) FROM t GROUP BY g"
    exp = con.execute(q).fetchall()
    killer = threading.Timer(0.6, lambda: [w.send_signal(signal.SIGKILL) for w in ws[:2]])
    killer.start()
    try:
        t0 = time.time()
        _, got = run_hbee(con, q, f"executor=redis, queue='{queue}', workers=3, straggler_ms=500")
        st = stats(con)
        report("fault: exact answer", diff.same_rows(exp, got, False) is None,
               diff.same_rows(exp, got, False))
        report("fault: each segment once", st["tasks"] == st["splits"] == 6, st)
        report("fault: workers were killed mid-query",
               ws[0].poll() is not None and time.time() - t0 > 0.6, st)
        report("fault: lost tasks re-issued", st["retries"] >= 1, st)
    except sqlite3.Error as e:
        report("fault: query", False, str(e))
    finally:
        killer.cancel()
        for w in ws:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in ws:
            w.wait(10)


def test_errors(con, table):
    con.execute("CREATE TABLE plain(a)")
    try:
        run_hbee(con, "SELECT count(*) FROM plain", "executor=local")
        report("error: plain table", False, "accepted")
    except sqlite3.Error as e:
        report("error: plain table", "plain is not a parquet or dynamodb table" in str(e), str(e))
    gone = f"hbee_gone_{RUN}"
    make_table(gone, 10)
    con.execute(f"CREATE VIRTUAL TABLE temp.gone USING dynamodb(table={gone})")
    ddb.delete_table(TableName=gone)
    try:
        run_hbee(con, "SELECT count(*) FROM gone", "executor=local, workers=1")
        report("error: deleted table", False, "accepted")
    except sqlite3.Error as e:
        m = str(e)
        report("error: deleted table names the table, segment and reason",
               f"dynamodb table {gone}, segment 0 of 2" in m and "ResourceNotFoundException" in m, m)
    con.execute("DROP TABLE temp.gone")


def test_env_defaults(con):
    old = {k: os.environ.get(k) for k in ("HBEE_FUNCTION", "HBEE_SCRATCH")}
    try:
        os.environ["HBEE_FUNCTION"] = "no-such-fn"
        os.environ["HBEE_SCRATCH"] = "s3://bz-test/env-scratch/"
        ex = con.execute("SELECT hbee_explain('SELECT count(*) FROM t')").fetchone()
        con.execute("SELECT hbee_config('executor', 'lambda')")
        ex = con.execute("SELECT hbee_explain('SELECT count(*) FROM t')").fetchone()[0]
        report("HBEE_FUNCTION/HBEE_SCRATCH in explain",
               "function no-such-fn" in ex and "scratch s3://bz-test/env-scratch/" in ex, ex)
        try:
            run_hbee(con, "SELECT count(*) FROM t", "executor=lambda, max_concurrency=2")
            report("HBEE_FUNCTION is the default function", False, "ran")
        except sqlite3.Error as e:
            report("HBEE_FUNCTION is the default function", "no-such-fn" in str(e), str(e))
        _, got = run_hbee(con, "SELECT count(*) FROM t", "executor=lambda, max_concurrency=2, "
                          "function=buzzlite-hbee")
        report("function= overrides HBEE_FUNCTION", got == [(N_ITEMS,)], got)
    finally:
        con.execute("SELECT hbee_config('executor', 'local')")
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main():
    table = f"hbee_ddb_{RUN}"
    make_table(table, N_ITEMS)
    con = connect()
    try:
        con.execute(f"CREATE VIRTUAL TABLE temp.t USING dynamodb(table={table}, "
                    f"columns='{COLUMNS}')")
        test_segments(con, table)
        test_exact_types(con)
        differential(con, "local", N_LOCAL, 101)
        differential(con, "redis", N_REDIS, 202)
        differential(con, "lambda", N_LAMBDA, 303, ", max_concurrency=4")
        test_total_segments(con, table)
        test_task_json(con, table)
        test_fault(con)
        test_errors(con, table)
        test_env_defaults(con)
    finally:
        con.close()
        ddb.delete_table(TableName=table)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
