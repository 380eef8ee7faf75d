"""DynamoDB benchmark: buzzlite in the sqlite3 shell vs a boto3 script.

    make && /usr/bin/python3 bench/ddb_bench.py [N]     # N = 100000 by default

Starts its own DynamoDB Local (tests/stack.sh, service ddb, state in
build/bench-ddb) and, against it, runs each step as its own process for each
client, on a fresh table per client:
  insert  N sheep (unique tattoo, a pseudo-random weight in micrograms that
          both clients compute alike, so their answers must agree)
          buzzlite: INSERT ... SELECT FROM generate_series (batch=1: BatchWriteItem,
          16 requests in flight); boto3: Table.batch_writer()
  count   count the sheep: Scan with Select=COUNT
  wolf    scan tattoo+weight, find the heaviest sheep whose weight is prime,
          delete it (buzzlite: sql/sheep_shed.sql's SQL; boto3: a Python loop)
  filter  a full-table filter: count and sum of weights in a range
          (FilterExpression + ProjectionExpression in both)
  filter, and a sum over every sheep, with segments=1, 2, 4 (buzzlite
          parallel Scan)
DynamoDB Local's own CPU (its JVM, from /proc) is measured around every run.
BZ_STACK_DIR picks the stack's state directory (default build/bench-ddb).
Read steps run twice per client, the first round unreported (JIT warm-up).
Each client process is measured with wait4(): user+system CPU seconds, wall
seconds, peak RSS. Results (and their agreement) are printed as Markdown for
bench/RESULTS.md. Not a timed test: numbers depend on the machine, and
DynamoDB Local (Java) does most of the work.
"""
import os
import subprocess
import sys
import time

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXT = os.environ.get("BZ_EXT", os.path.join(ROOT, "build", "buzzlite"))  # BZ_EXT=build-x/buzzlite
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
PY = "/usr/bin/python3"
LO, HI = 60_000_000_000, 80_000_000_000
os.environ.setdefault("BZ_STACK_DIR", os.path.join(ROOT, "build", "bench-ddb"))
os.environ["BZ_STACK_SERVICES"] = "ddb"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def proc_tree_cpu(root):
    """User+system CPU seconds of process root and its descendants (DynamoDB
    Local's JVM), from /proc; 0.0 when unknown."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    f_ = f.read().rsplit(")", 1)[1].split()
                stats[int(d)] = (int(f_[1]), (int(f_[11]) + int(f_[12])) / tick)
            except (OSError, IndexError, ValueError):
                pass
    want, total, grew = {root}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in want and pid not in want:
                want.add(pid)
                grew = True
    return sum(stats[p][1] for p in want if p in stats)


def local_pid():
    try:
        with open(os.path.join(os.environ["BZ_STACK_DIR"], "ddb.pid")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def run_rss(argv, stdin=None):
    """Run argv; (stdout, client CPU s, wall s, peak RSS MiB, DynamoDB Local CPU s)."""
    lp = local_pid()
    l0 = proc_tree_cpu(lp) if lp else 0.0
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "BZTIME %U %S %M"] + argv, input=stdin.encode() if stdin else None,
                       capture_output=True, check=False)
    wall = time.monotonic() - t0
    if p.returncode:
        sys.exit(f"{argv} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    line = [x for x in p.stderr.decode().splitlines() if x.startswith("BZTIME ")][-1].split()
    lcpu = (proc_tree_cpu(lp) - l0) if lp else 0.0
    return p.stdout.decode().strip(), float(line[1]) + float(line[2]), wall, int(line[3]) / 1024, lcpu


def stack(cmd):
    return subprocess.run([os.path.join(ROOT, "tests", "stack.sh"), cmd], check=True,
                          capture_output=True, text=True).stdout


def sql(table, body, opts=""):
    return (f".load {EXT}\n.mode list\n"
            f"CREATE VIRTUAL TABLE sheep USING dynamodb(table={table}, columns='weight INTEGER'{opts});\n"
            + body)


WOLF = """
CREATE TEMP TABLE prey AS
SELECT tattoo, weight FROM (SELECT tattoo, weight FROM sheep ORDER BY weight DESC LIMIT -1)
WHERE weight > 1
  AND NOT EXISTS (SELECT 1 FROM generate_series(2, CAST(sqrt(weight) AS INTEGER))
                  WHERE weight % value = 0)
LIMIT 1;
DELETE FROM sheep WHERE tattoo IN (SELECT tattoo FROM prey);
SELECT 'wolf', tattoo, weight FROM prey;
"""


def main():
    stack("up")
    for word in stack("env").split():
        if word.startswith("AWS_ENDPOINT_URL_DYNAMODB="):
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = word.split("=", 1)[1]
    c = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                     region_name=os.environ["AWS_REGION"])
    results = []
    try:
        for side in ("buzzlite", "boto3"):
            t = f"bench_{side}"
            c.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                           AttributeDefinitions=[{"AttributeName": "tattoo", "AttributeType": "S"}],
                           KeySchema=[{"AttributeName": "tattoo", "KeyType": "HASH"}])
        steps = [
            ("insert", lambda: run_rss(["sqlite3", ":memory:"], sql("bench_buzzlite",
                f"INSERT INTO sheep(tattoo, weight) SELECT printf('NZ-%06d', value), "
                f"40000000000 + (value * 2654435761) % 120000000000 FROM generate_series(1, {N});\n"
                "SELECT 'inserted', changes();\n", ", batch=1")),
             lambda: run_rss([PY, os.path.join(ROOT, "bench", "ddb_boto3.py"), "bench_boto3", "insert", str(N)])),
            ("count", lambda: run_rss(["sqlite3", ":memory:"], sql("bench_buzzlite", "SELECT 'count', count(*) FROM sheep;\n")),
             lambda: run_rss([PY, os.path.join(ROOT, "bench", "ddb_boto3.py"), "bench_boto3", "count"])),
            ("wolf", lambda: run_rss(["sqlite3", ":memory:"], sql("bench_buzzlite", WOLF)),
             lambda: run_rss([PY, os.path.join(ROOT, "bench", "ddb_boto3.py"), "bench_boto3", "wolf"])),
            ("filter", lambda: run_rss(["sqlite3", ":memory:"], sql("bench_buzzlite",
                f"SELECT 'filter', count(*), sum(weight) FROM sheep WHERE weight BETWEEN {LO} AND {HI};\n")),
             lambda: run_rss([PY, os.path.join(ROOT, "bench", "ddb_boto3.py"), "bench_boto3", "filter",
                              str(LO), str(HI)])),
        ]
        for name, bz, bo in steps:
            if name != "insert":
                # a first, unreported round warms DynamoDB Local's JIT for this
                # query shape, so neither client pays it (the wolf eats one sheep
                # on each side, which keeps the two tables alike)
                bz()
                bo()
            rb = bz()
            rp = bo()
            results.append((name, rb, rp))
            print(f"{name}: buzzlite {rb[0]!r} cpu {rb[1]:.2f}s wall {rb[2]:.2f}s rss {rb[3]:.1f}MiB | "
                  f"boto3 {rp[0]!r} cpu {rp[1]:.2f}s wall {rp[2]:.2f}s rss {rp[3]:.1f}MiB", file=sys.stderr)
        seg = []
        for q in ("filter", "sum"):
            where = f" WHERE weight BETWEEN {LO} AND {HI}" if q == "filter" else ""
            for s in (1, 2, 4, 1, 2, 4):
                r = run_rss(["sqlite3", ":memory:"], sql("bench_buzzlite",
                            f"SELECT '{q}', count(*), sum(weight) FROM sheep{where};\n",
                            f", segments={s}"))
                seg.append((q, s, r))
                print(f"{q} segments={s}: {r}", file=sys.stderr)
    finally:
        stack("down")
    print(f"N = {N} sheep; DynamoDB Local (in memory, Java 17) on loopback; {os.cpu_count()} CPUs.\n")
    print("| step | buzzlite CPU s | boto3 CPU s | CPU ratio | buzzlite wall s | boto3 wall s | wall ratio "
          "| buzzlite peak RSS MiB | boto3 peak RSS MiB | RSS ratio | Local CPU s (bz / boto3) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rb, rp in results:
        print(f"| {name} | {rb[1]:.2f} | {rp[1]:.2f} | {rp[1] / max(rb[1], 1e-3):.1f}x | {rb[2]:.2f} | {rp[2]:.2f} "
              f"| {rp[2] / max(rb[2], 1e-3):.2f}x | {rb[3]:.1f} | {rp[3]:.1f} | {rp[3] / max(rb[3], 1e-3):.1f}x "
              f"| {rb[4]:.2f} / {rp[4]:.2f} |")
    print("\nResults agree: " + "; ".join(f"{n}: `{rb[0].split(chr(10))[-1]}` / `{rp[0]}`" for n, rb, rp in results))
    print("\n| parallel Scan | client CPU s | DynamoDB Local CPU s | wall s | speedup | peak RSS MiB | result |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for q in ("filter", "sum"):
        rows = [(s, r) for qq, s, r in seg if qq == q][3:]  # the first round warmed up
        base = rows[0][1][2]
        for s, r in rows:
            print(f"| {q} segments={s} | {r[1]:.2f} | {r[4]:.2f} | {r[2]:.2f} | {base / r[2]:.2f}x | {r[3]:.1f} "
                  f"| `{r[0]}` |")


if __name__ == "__main__":
    main()
