"""Every script of sql/ run end to end by scripts/run-sql.sh against the test
stack (tests/stack.sh: s3rver, DynamoDB Local, redis-server, the Lambda
emulator and the Redis-fed hbee workers), the way a user runs them after
`eval "$(make stack-env)"`.

- sql/tpch_q1_q6.sql with HBEE_EXECUTOR=local, redis and lambda (the lambda
  run with a scratch prefix): the runner uploads data/lineitem.parquet to the
  stack's S3; the plain and the distributed answers must both equal DuckDB's
  over the same file (1e-9 relative; counts exact), every `check` row is 1,
  and each query ran as more than one task.
- sql/redis_drain.sql: `drained|N` is exactly DRAIN_N, every check is 1.
- sql/sheep_shed.sql: 1000 sheep counted, the duplicate refused, 999 left.
- sql/parquet_tour.sql (the demo) runs without error.
- The runner names a missing variable and the script; every sql/*.sql is
  covered here.
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("BZ_ROOT") or os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("BZ_BUILD") or os.path.join(ROOT, "build")
RUN = os.path.join(ROOT, "scripts", "run-sql.sh")
COVERED = {"tpch_q1_q6.sql", "redis_drain.sql", "sheep_shed.sql", "parquet_tour.sql"}

failures = []
passed = 0


def report(name, ok, msg=""):
    global passed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failures.append(name)
        print(f"FAIL {name}: {msg}")


def child_env(**extra):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)  # run-sql.sh preloads for sqlite3 itself (BZ_HOST_PRELOAD)
    env.update(extra)
    return env


def run_sql(script, **extra):
    p = subprocess.run([RUN, "-b", BUILD, os.path.join("sql", script)], cwd=ROOT, env=child_env(**extra),
                       capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def rows(out):
    return [line.split("|") for line in out.splitlines() if line]


def close(a, b):
    return abs(float(a) - float(b)) <= 1e-9 * max(abs(float(b)), 1e-300)


DUCK = r"""
import { DuckDBInstance } from '@duckdb/node-api';
const f = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const q1 = await con.runAndReadAll(`SELECT l_returnflag, l_linestatus, sum(l_quantity)::DOUBLE,
  sum(l_extendedprice)::DOUBLE, sum(l_extendedprice * (1 - l_discount))::DOUBLE,
  sum(l_extendedprice * (1 - l_discount) * (1 + l_tax))::DOUBLE, avg(l_quantity)::DOUBLE,
  avg(l_extendedprice)::DOUBLE, avg(l_discount)::DOUBLE, count(*)::BIGINT
  FROM read_parquet('${f}') WHERE l_shipdate <= DATE '1998-09-02' GROUP BY 1, 2 ORDER BY 1, 2`);
const q6 = await con.runAndReadAll(`SELECT sum(l_extendedprice * l_discount)::DOUBLE FROM read_parquet('${f}')
  WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24`);
console.log(JSON.stringify({ q1: q1.getRowsJson(), q6: q6.getRowsJson() }));
"""


def duckdb_answers():
    node = shutil.which("node")
    if not node:
        raise SystemExit("node not found on PATH (scripts/deps.sh installs nodejs)")
    os.makedirs(BUILD, exist_ok=True)
    script = os.path.join(BUILD, "sql_scripts_duck.mjs")  # below the repository: node_modules resolves
    with open(script, "w") as f:
        f.write(DUCK)
    p = subprocess.run([node, script, os.path.join(ROOT, "data", "lineitem.parquet")], env=child_env(),
                       capture_output=True, text=True, timeout=300)
    if p.returncode:
        raise SystemExit("duckdb: " + p.stderr)
    return json.loads(p.stdout)


def test_tpch(duck):
    want_q1 = [[str(x) for x in r] for r in duck["q1"]]
    want_q6 = str(duck["q6"][0][0])
    for exe in ("local", "redis", "lambda"):
        extra = {"HBEE_EXECUTOR": exe}
        if exe == "lambda":
            extra["HBEE_SCRATCH"] = f"s3://{os.environ['BZ_S3_BUCKET']}/sql-scratch/"
        rc, out, err = run_sql("tpch_q1_q6.sql", **extra)
        report(f"tpch {exe}: runs", rc == 0, err[-2000:])
        rs = rows(out)
        checks = [r for r in rs if r[0] == "check"]
        report(f"tpch {exe}: {len(checks)} checks are 1", len(checks) == 5 and all(r[-1] == "1" for r in checks),
               checks)
        for who in ("plain", exe):
            got = [r[2:] for r in rs if r[0] == "q1" and r[1] == who]
            ok = len(got) == len(want_q1) == 4 and all(
                g[0] == w[0] and g[1] == w[1] and g[-1] == w[-1] and all(close(a, b) for a, b in zip(g[2:-1], w[2:-1]))
                for g, w in zip(got, want_q1))
            report(f"tpch {exe}: q1 {who} = DuckDB", ok, f"\n got {got}\n want {want_q1}")
            got6 = [r[2] for r in rs if r[0] == "q6" and r[1] == who]
            report(f"tpch {exe}: q6 {who} = DuckDB", len(got6) == 1 and close(got6[0], want_q6), f"{got6} vs {want_q6}")
        tasks = [int(r[2]) for r in rs if r[0] == "stats"]
        report(f"tpch {exe}: split into tasks", len(tasks) == 2 and all(t >= 2 for t in tasks), tasks)


def test_drain():
    n = 5000
    rc, out, err = run_sql("redis_drain.sql", DRAIN_N=str(n), DRAIN_KEY="bz:test:sql-drain")
    report("drain: runs", rc == 0, err[-2000:])
    rs = rows(out)
    report("drain: exact count", ["drained", str(n)] in rs, out)
    checks = [r for r in rs if r[0] == "check"]
    report("drain: checks are 1", len(checks) == 7 and all(r[-1] == "1" for r in checks), checks)


def test_sheep():
    rc, out, err = run_sql("sheep_shed.sql")
    rs = rows(out)
    # the script's duplicate INSERT fails on purpose (sqlite3 then exits 1)
    report("sheep: duplicate refused", "UNIQUE constraint failed: sheep.tattoo" in err, err[-500:])
    report("sheep: the dog counts 1000", ["the dog counts", "1000"] in rs, out)
    report("sheep: the wolf eats one", ["sheep left", "999"] in rs and ["the prey is gone", "1"] in rs, out)
    report("sheep: nothing else failed", err.lower().count("error") == 1, err[-1000:])
    # run again: the runner recreates the table, so the counts are the same
    rc, out, err = run_sql("sheep_shed.sql")
    report("sheep: second run starts afresh", ["the dog counts", "1000"] in rows(out), out)


def test_tour():
    rc, out, err = run_sql("parquet_tour.sql")
    report("parquet_tour: runs", rc == 0 and out.strip() != "", err[-1000:])


def test_runner():
    env = {k: v for k, v in child_env().items() if k != "REDIS_URL"}
    p = subprocess.run([RUN, "-b", BUILD, "sql/redis_drain.sql"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    report("runner: names a missing variable", p.returncode != 0 and "REDIS_URL" in p.stderr
           and "sql/redis_drain.sql" in p.stderr, p.stderr)
    p = subprocess.run([RUN, "-n", "sql/tpch_q1_q6.sql"], cwd=ROOT, env=child_env(HBEE_EXECUTOR="redis"),
                       capture_output=True, text=True, timeout=60)
    body = "\n".join(line for line in p.stdout.splitlines() if not line.startswith("--"))
    report("runner: -n substitutes every placeholder", p.returncode == 0 and "${" not in body
           and f"s3://{os.environ['BZ_S3_BUCKET']}/tpch/lineitem.parquet" in body and "'redis'" in body, p.stderr)
    scripts = {f for f in os.listdir(os.path.join(ROOT, "sql")) if f.endswith(".sql")}
    report("every sql/*.sql is run here", scripts <= COVERED, scripts - COVERED)


def main():
    for v in ("BZ_S3_PORT", "REDIS_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_DYNAMODB"):
        if not os.environ.get(v):
            raise SystemExit(f"{v} not set: run through tests/run.sh (needs the whole stack)")
    test_runner()
    test_tpch(duckdb_answers())
    test_drain()
    test_sheep()
    test_tour()
    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
