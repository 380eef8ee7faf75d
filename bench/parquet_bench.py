"""Parquet benchmark driver (run by bench/parquet_bench.sh; see there for usage).

Each (engine, query) runs in its own child process so its peak RSS is its own
(os.wait4). The child times the query (best of REPS runs, after the setup) and
reads rchar from /proc/self/io around the first run: bytes the process obtained
through read()/pread(), independent of the page cache (bytes read through mmap are
not counted; a reader that mmaps the file shows ~0).

Engines:
  buzzlite   /usr/bin/python3's sqlite3 + the extension, CREATE VIRTUAL TABLE lineitem
             USING parquet('file')
  duckdb     node + @duckdb/node-api, SET threads=1, a view over read_parquet('file')
  sqlite     /usr/bin/python3's sqlite3 on bench/data/lineitem_sf<SF>.db, a native table
             with the same rows (DECIMAL as REAL, DATE as TEXT: the parquet table's types)
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REPS = int(os.environ.get("BENCH_REPS", "3"))


def queries(key):
    return [
        ("count(*)", "SELECT count(*) FROM lineitem"),
        ("sum(l_extendedprice)", "SELECT sum(l_extendedprice) FROM lineitem"),
        ("TPC-H Q6", "SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem "
                     "WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' "
                     "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24"),
        ("TPC-H Q1", "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, "
                     "sum(l_extendedprice) AS sum_base_price, "
                     "sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, "
                     "sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, "
                     "avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, "
                     "avg(l_discount) AS avg_disc, count(*) AS count_order FROM lineitem "
                     "WHERE l_shipdate <= '1998-09-02' GROUP BY l_returnflag, l_linestatus "
                     "ORDER BY l_returnflag, l_linestatus"),
        (f"point l_orderkey={key}", f"SELECT * FROM lineitem WHERE l_orderkey = {key}"),
        ("LIMIT 10", "SELECT * FROM lineitem LIMIT 10"),
    ]


PY_CHILD = r"""
import json, sqlite3, sys, time
engine, target, ext, sql, reps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def rchar():
    for line in open("/proc/self/io"):
        if line.startswith("rchar:"):
            return int(line.split()[1])
if engine == "buzzlite":
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(ext)
    db.execute("CREATE VIRTUAL TABLE lineitem USING parquet('%s')" % target.replace("'", "''"))
else:
    db = sqlite3.connect(target)
best, rows, nbytes = None, None, None
for k in range(reps):
    r0 = rchar(); t0 = time.perf_counter()
    rows = db.execute(sql).fetchall()
    t = time.perf_counter() - t0; r1 = rchar()
    if k == 0: nbytes = r1 - r0
    best = t if best is None else min(best, t)
print(json.dumps({"secs": best, "bytes": nbytes, "rows": [[v if not isinstance(v, bytes) else v.hex() for v in r] for r in rows]}))
"""

NODE_CHILD = r"""
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
const [target, sql, reps] = process.argv.slice(2);
const rchar = () => Number(fs.readFileSync('/proc/self/io', 'utf8').match(/rchar: (\d+)/)[1]);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET threads = 1');
await con.run(`CREATE VIEW lineitem AS SELECT * FROM read_parquet('${target.replace(/'/g, "''")}')`);
let best = null, rows = null, nbytes = null;
for (let k = 0; k < Number(reps); k++) {
    const r0 = rchar(); const t0 = process.hrtime.bigint();
    const res = await con.runAndReadAll(sql);
    rows = res.getRowsJson();
    const t = Number(process.hrtime.bigint() - t0) / 1e9; const r1 = rchar();
    if (k === 0) nbytes = r1 - r0;
    best = best === null ? t : Math.min(best, t);
}
console.log(JSON.stringify({ secs: best, bytes: nbytes, rows }));
"""


def run_child(argv, cwd=None, timeout=1800):
    """(parsed JSON stdout or {'error': ...}, peak RSS in KiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = b"", b""
    # Read output first (small), then reap with wait4 for this child's own rusage.
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        try:
            return json.loads(out.decode().strip().splitlines()[-1]), ru.ru_maxrss
        except (ValueError, IndexError):
            pass
    msg = (err.decode(errors="replace").strip().splitlines() or [f"status {status}"])[-1]
    return {"error": msg[:200], "secs": time.monotonic() - t0}, ru.ru_maxrss


def norm(rows):
    """Rows with numbers rounded, to check the engines agree."""
    out = []
    for r in rows or []:
        o = []
        for v in r:
            try:
                f = float(v)
                o.append(float(f"{f:.9g}"))  # sums of doubles differ in the last digits
            except (TypeError, ValueError):
                o.append(v)
        out.append(o)
    return out


def main():
    parquet, dbfile, ext, key, engines = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5].split(",")
    node_script = os.path.join(ROOT, "bench", "data", ".parquet_bench_child.mjs")
    with open(node_script, "w") as f:
        f.write(NODE_CHILD)
    results = {}
    for label, sql in queries(key):
        for eng in engines:
            if eng == "duckdb":
                argv = ["node", node_script, parquet, sql, str(REPS)]
            else:
                argv = ["/usr/bin/python3", "-c", PY_CHILD, eng, parquet if eng == "buzzlite" else dbfile,
                        ext, sql, str(REPS)]
            res, rss = run_child(argv, cwd=ROOT)
            res["rss_mib"] = rss / 1024
            results[(label, eng)] = res
            state = f"{res['secs']:.3f}s" if "error" not in res else "ERROR " + res["error"]
            print(f"  {label:<28} {eng:<9} {state}  rss {res['rss_mib']:.0f} MiB  "
                  f"read {((res.get('bytes') or 0) / 2**20):.1f} MiB", file=sys.stderr, flush=True)

    def cell(label, eng, what):
        r = results.get((label, eng))
        if r is None:
            return "-"
        if "error" in r:
            return "error"
        if what == "secs":
            return f"{r['secs']:.3f}"
        if what == "rss":
            return f"{r['rss_mib']:.0f}"
        return f"{(r.get('bytes') or 0) / 2**20:.1f}"

    def ratio(label, a, b):
        ra, rb = results.get((label, a)), results.get((label, b))
        if not ra or not rb or "error" in ra or "error" in rb or not rb["secs"]:
            return "-"
        return f"{ra['secs'] / rb['secs']:.2f}x"

    size = os.path.getsize(parquet) / 2**20
    print(f"lineitem: `{os.path.relpath(parquet, ROOT)}` ({size:.0f} MiB, snappy), "
          f"{os.cpu_count()} CPUs; time = best of {REPS} runs of the query alone (setup excluded); "
          f"RSS = peak of the whole process (python ~10 MiB, node ~50 MiB baseline); "
          f"read = rchar during the first run (read()/pread() bytes, mmap not counted).\n")
    print("| query | buzzlite s | DuckDB 1 thread s | SQLite native s | buzzlite / DuckDB | buzzlite / SQLite "
          "| peak RSS MiB (bz / duck / sqlite) | MiB read (bz / duck / sqlite) | results agree |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, _ in queries(key):
        base = [norm(results[(label, e)].get("rows")) for e in engines if "error" not in results[(label, e)]]
        agree = "yes" if base and all(b == base[0] for b in base) else ("-" if len(base) < 2 else "NO")
        print(f"| {label} | {cell(label, 'buzzlite', 'secs')} | {cell(label, 'duckdb', 'secs')} | "
              f"{cell(label, 'sqlite', 'secs')} | {ratio(label, 'buzzlite', 'duckdb')} | "
              f"{ratio(label, 'buzzlite', 'sqlite')} | "
              f"{' / '.join(cell(label, e, 'rss') for e in ('buzzlite', 'duckdb', 'sqlite'))} | "
              f"{' / '.join(cell(label, e, 'bytes') for e in ('buzzlite', 'duckdb', 'sqlite'))} | {agree} |")
    os.unlink(node_script)


if __name__ == "__main__":
    main()
