"""hbee benchmark driver (run by bench/hbee_bench.sh; see there for usage).

TPC-H Q1 and Q6 over the SF 1 lineitem split into 8 files, one contender at a time:
  plain        one connection scanning the parquet table (python3's sqlite3 + buzzlite)
  local w=1/2  an hbee table, executor=local, workers=1 / 2
  redis w=1/2  executor=redis, 1 / 2 `hbee worker` processes on the stack's Redis
               (private queue, workers started here)
  lambda x2    executor=lambda, max_concurrency=2, tests/lambda_emulator.py running
               build/hbee in 2 warm instances
  duckdb t=2   DuckDB (node + @duckdb/node-api), SET threads=2, read_parquet(dir/*.parquet)
Each contender: one warm-up run, then the best of REPS; bytes shipped from hbee_last_stats
(encoded partial results the coordinator received). CPU = user+sys seconds of the
coordinator process over the best run (workers' processes not included).

Then:
  cold start   (a) `hbee run` of a trivial task (count(*) of a small file), wall time
               from fork to exit, COLD_REPS repetitions; (b) the emulator's cold starts
               (spawn to the first invocation/next) of 8 fresh instances; (c) the
               "ready in N ms" lines the instances log (process start to worker
               connection open, measured inside the process); (d) bench/hbee_cold.py:
               exec to first task accepted per worker mode (Lambda runtime: first
               invocation/next; redis: first XREADGROUP), with CPU ms and /bin/true
  peak RSS     `hbee run` of the Q6 (and Q1) partial task on one of the 8 files (/usr/bin/time)
Prints a markdown report (saved by the .sh).
"""
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REPS = int(os.environ.get("BENCH_REPS", "3"))
COLD_REPS = int(os.environ.get("BENCH_COLD_REPS", "50"))

Q6 = ("SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem "
      "WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' "
      "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24")
Q1 = ("SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, "
      "sum(l_extendedprice) AS sum_base_price, "
      "sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, "
      "sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, "
      "avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, "
      "avg(l_discount) AS avg_disc, count(*) AS count_order FROM lineitem "
      "WHERE l_shipdate <= '1998-09-02' GROUP BY l_returnflag, l_linestatus "
      "ORDER BY l_returnflag, l_linestatus")
QUERIES = [("Q1", Q1), ("Q6", Q6)]

NODE_CHILD = r"""
import { DuckDBInstance } from '@duckdb/node-api';
const [glob, sql, reps] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET threads = 2');
await con.run(`CREATE VIEW lineitem AS SELECT * FROM read_parquet('${glob.replace(/'/g, "''")}')`);
let best = null, rows = null;
for (let k = 0; k < Number(reps) + 1; k++) {
    const t0 = process.hrtime.bigint();
    rows = (await con.runAndReadAll(sql)).getRowsJson();
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (k > 0) best = best === null ? t : Math.min(best, t);
}
console.log(JSON.stringify({ secs: best, rows }));
"""


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def norm(rows):
    out = []
    for r in rows or []:
        o = []
        for v in r:
            try:
                o.append(float(f"{float(v):.9g}"))
            except (TypeError, ValueError):
                o.append(v)
        out.append(o)
    return out


def timed(con, sql):
    """(best secs, cpu secs of that run, rows, stats of that run) over 1 warm-up + REPS."""
    best = None
    for k in range(REPS + 1):
        c0, t0 = cpu(), time.perf_counter()
        rows = con.execute(sql).fetchall()
        t, c = time.perf_counter() - t0, cpu() - c0
        st = con.execute("SELECT hbee_last_stats()").fetchone()[0]
        if k > 0 and (best is None or t < best[0]):
            best = (t, c, rows, json.loads(st) if st else None)
    return best


class Emulator:
    def __init__(self, hbee, instances, log):
        self.dir = tempfile.mkdtemp(prefix="hbee-bench-emu-")
        pf = os.path.join(self.dir, "port")
        self.log = log
        self.p = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "lambda_emulator.py"), "--port-file", pf,
             "--instances", str(instances), "--bootstrap", hbee, "--timeout", "60", "--log", log],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            time.sleep(0.05)
        self.port = int(open(pf).read())
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self):
        with urllib.request.urlopen(self.url + "/_emu/stats", timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


def start_workers(hbee, n, url, queue):
    return [subprocess.Popen([hbee, "worker", "--redis", url, "--queue", queue],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def stop_workers(ws):
    for w in ws:
        w.send_signal(signal.SIGTERM)
    for w in ws:
        try:
            w.wait(10)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def run_hbee(con, name, sql, opts, results):
    con.execute(f"CREATE VIRTUAL TABLE temp.r USING hbee(query={sql_str(sql)}, {opts})")
    try:
        results[name] = timed(con, "SELECT * FROM r")
    except sqlite3.Error as e:
        results[name] = ("error", str(e))
    finally:
        con.execute("DROP TABLE temp.r")
    r = results[name]
    print(f"  {name:<12} " + (f"{r[0]:.3f} s, cpu {r[1]:.2f} s, shipped {r[3]['bytes_shipped']} B"
                              if r[0] != "error" else "ERROR " + r[1]), file=sys.stderr, flush=True)


def time_rss(argv):
    """(wall secs, exit status, peak RSS KiB) of one child, measured by /usr/bin/time.
    Not os.wait4 from here: a child forked from this (large) python counts the
    parent's pages in its ru_maxrss until it execs."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - t0, p.returncode, int(p.stderr.strip().splitlines()[-1])


def loop_ms(argv, n):
    """Mean wall ms of argv run n times in a row by one bash (cheap forks)."""
    cmd = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    t0 = time.perf_counter()
    p = subprocess.run(["bash", "-c", f"for ((i = 0; i < {n}; i++)); do {cmd} >/dev/null || exit 1; done"],
                       stderr=subprocess.DEVNULL)
    if p.returncode:
        raise SystemExit(f"{argv} failed")
    return (time.perf_counter() - t0) * 1000 / n


def task_json(con, sql, path, task_id=0):
    """The partial task of sql over one file, as exec_run would send it."""
    ex = con.execute("SELECT hbee_explain(?)", (sql,)).fetchone()[0].splitlines()
    cols = next(x for x in ex if x.startswith("columns:")).split()[1:]
    partial = ex[ex.index(next(x for x in ex if x.startswith("partial ("))) + 1].strip()
    return {"version": 1, "query_id": "bench", "task_id": task_id,
            "split": {"path": path, "row_groups": []}, "columns": cols, "options": {},
            "sql": partial}


def main():
    glob, build, redis_url = sys.argv[1], sys.argv[2], sys.argv[3]
    ext, hbee = os.path.join(build, "buzzlite"), os.path.join(build, "hbee")
    files = sorted(os.path.join(os.path.dirname(glob), f) for f in os.listdir(os.path.dirname(glob))
                   if f.endswith(".parquet"))
    tmp = tempfile.mkdtemp(prefix="hbee-bench-")
    con = sqlite3.connect(":memory:")
    con.enable_load_extension(True)
    con.load_extension(ext)
    con.execute(f"CREATE VIRTUAL TABLE lineitem USING parquet({sql_str(glob)})")
    node_script = os.path.join(tmp, "duck.mjs")
    with open(node_script, "w") as f:
        f.write(NODE_CHILD)
    os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(tmp, "node_modules"))

    res = {}
    emu = Emulator(hbee, 2, os.path.join(tmp, "emu-instances.log"))
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = emu.url
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(k, "bzbench")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        for qn, sql in QUERIES if not os.environ.get("BENCH_SKIP_QUERIES") else []:
            r = res[qn] = {}
            print(f"{qn}:", file=sys.stderr, flush=True)
            t = timed(con, sql)
            r["plain"] = (t[0], t[1], t[2], None)
            print(f"  plain        {t[0]:.3f} s, cpu {t[1]:.2f} s", file=sys.stderr, flush=True)
            for w in (1, 2):
                run_hbee(con, f"local w={w}", sql, f"executor=local, workers={w}", r)
            for w in (1, 2):
                queue = f"hbee:bench:{os.getpid()}:{qn}:{w}"
                ws = start_workers(hbee, w, redis_url, queue)
                try:
                    time.sleep(0.3)
                    run_hbee(con, f"redis w={w}", sql,
                             f"executor=redis, redis={sql_str(redis_url)}, queue={sql_str(queue)}", r)
                finally:
                    stop_workers(ws)
            run_hbee(con, "lambda x2", sql, "executor=lambda, max_concurrency=2", r)
            p = subprocess.run(["node", node_script, glob, sql, str(REPS)], capture_output=True,
                               text=True, cwd=tmp)
            try:
                d = json.loads(p.stdout.strip().splitlines()[-1])
                r["duckdb t=2"] = (d["secs"], None, d["rows"], None)
                print(f"  duckdb t=2   {d['secs']:.3f} s", file=sys.stderr, flush=True)
            except (ValueError, IndexError):
                r["duckdb t=2"] = ("error", p.stderr.strip()[-200:])
        emu_stats = emu.stats()
    finally:
        emu.stop()

    # ---- cold start ----
    trivial = {"version": 1, "query_id": "cold", "task_id": 0,
               "split": {"path": os.path.join(ROOT, "tests", "data", "union", "a.parquet"),
                         "row_groups": []}, "columns": [], "options": {},
               "sql": "SELECT count(*) AS _a0 FROM split"}
    tpath = os.path.join(tmp, "trivial.json")
    with open(tpath, "w") as f:
        json.dump(trivial, f)
    runs = sorted(loop_ms([hbee, "run", tpath], COLD_REPS) for _ in range(5))

    load = sorted(loop_ms(["sh", "-c", f"'{hbee}' 2>/dev/null; true"], COLD_REPS) for _ in range(5))
    true = sorted(loop_ms(["/bin/true"], COLD_REPS) for _ in range(5))
    cold_emu = Emulator(hbee, 8, os.path.join(tmp, "cold-instances.log"))
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = cold_emu.url
    try:
        c2 = sqlite3.connect(":memory:")
        c2.enable_load_extension(True)
        c2.load_extension(ext)
        c2.execute(f"CREATE VIRTUAL TABLE t USING parquet({sql_str(glob)})")
        c2.execute("CREATE VIRTUAL TABLE temp.r USING hbee(query='SELECT count(*) FROM t', "
                   "executor=lambda, max_concurrency=8)")
        c2.execute("SELECT * FROM r").fetchall()
        cold = cold_emu.stats()
    finally:
        cold_emu.stop()
    modes = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "hbee_cold.py"), "--hbee",
                            hbee, "--redis", redis_url], capture_output=True, text=True)
    if modes.returncode:
        raise SystemExit(f"bench/hbee_cold.py failed: {modes.stderr[-500:]}")
    ready = []
    for line in open(os.path.join(tmp, "cold-instances.log"), errors="replace"):
        if "hbee lambda: ready in" in line:
            ready.append(int(line.split("ready in")[1].split()[0]))

    # ---- peak RSS of one split ----
    rss = {}
    for qn, sql in QUERIES:
        tp = os.path.join(tmp, f"{qn}.json")
        with open(tp, "w") as f:
            json.dump(task_json(con, sql, files[0]), f)
        best = None
        for _ in range(3):
            secs, status, kib = time_rss([hbee, "run", tp])
            if status != 0:
                raise SystemExit(f"hbee run {qn} split failed: status {status}")
            best = kib if best is None else max(best, kib)
        rss[qn] = (best, secs)

    # ---- report ----
    names = ["plain", "local w=1", "local w=2", "redis w=1", "redis w=2", "lambda x2", "duckdb t=2"]
    print(f"Data: `{os.path.relpath(os.path.dirname(glob), ROOT)}/` (8 files, "
          f"{sum(os.path.getsize(f) for f in files) / 2**20:.0f} MiB, one split each), "
          f"{os.cpu_count()} CPUs, best of {REPS} after a warm-up run.\n")
    print("| query | contender | time s | vs plain | coordinator CPU s | bytes shipped | results agree |")
    print("|---|---|---:|---:|---:|---:|---|")
    for qn, _ in QUERIES if res else []:
        base = res[qn]["plain"]
        for n in names:
            v = res[qn].get(n)
            if not v or v[0] == "error":
                print(f"| {qn} | {n} | error: {v[1] if v else '-'} | | | | |")
                continue
            agree = "yes" if norm(v[2]) == norm(base[2]) else "NO"
            shipped = str(v[3]["bytes_shipped"]) if v[3] else "-"
            cpu_s = f"{v[1]:.2f}" if v[1] is not None else "-"
            print(f"| {qn} | {n} | {v[0]:.3f} | {base[0] / v[0]:.2f}x | {cpu_s} | {shipped} | {agree} |")
    print()
    print(f"Cold start: `hbee run` of a trivial task (count(*) of tests/data/union/a.parquet), "
          f"fork to exit, mean of {COLD_REPS} runs in a bash loop, 5 loops: "
          f"{', '.join(f'{x:.1f}' for x in runs)} ms; `hbee` alone (usage message: loading its "
          f"shared libraries, via sh -c): {', '.join(f'{x:.1f}' for x in load)} ms; "
          f"/bin/true: {', '.join(f'{x:.1f}' for x in true)} ms. Emulator, 8 fresh "
          f"instances (spawn to first invocation/next): "
          f"{', '.join(f'{x:.0f}' for x in sorted(cold.get('cold_start_ms', [])))} ms; "
          f"in-process `ready in` (start to worker connection open): "
          f"{', '.join(str(x) for x in sorted(ready))} ms. Benchmark emulator: "
          f"{emu_stats.get('cold_starts')} cold starts, {emu_stats.get('throttled')} throttled.")
    print()
    print(modes.stdout)
    for qn, _ in QUERIES:
        print(f"Peak RSS of `hbee run` on the {qn} partial task over "
              f"`{os.path.basename(files[0])}` ({os.path.getsize(files[0]) / 2**20:.1f} MiB): "
              f"{rss[qn][0] / 1024:.1f} MiB (max of 3 runs; {rss[qn][1]:.2f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
