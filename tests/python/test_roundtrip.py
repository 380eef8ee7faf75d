"""Round trip: Parquet files written by DuckDB (every codec x PARQUET_VERSION v1/v2 x
dictionary on/off x with/without NULLs, every type DuckDB writes, several row groups)
read back through the `parquet` virtual table, value by value, plus a query corpus
run with and without pushdown.

1. tests/tools/gen_roundtrip.mjs (node + @duckdb/node-api from ./node_modules) writes
   the files into $BZ_BUILD/roundtrip once; the directory is reused while the sha256
   of the generator script matches its STAMP.
2. Every file: SELECT * FROM t (in a child process: a crash or a hang is a failure
   of that file) must give the expected columns, row count and values
   (rt_<nulls|nonull>.expected.jsonl, compared with bzlib's value rules).
3. A few files: a corpus of queries (=, <, >, <=, >=, IN, IS [NOT] NULL, LIKE 'p%',
   count(*), sum, min/max, LIMIT/OFFSET) on table t (default, pushdown on) and on t0
   (same file, pushdown=0) must give identical results, and NULL counts must match
   the expectation.
4. A glob over the 24 files without NULLs: row count and the hidden `filename` column.
Prints one line per check, exits 1 on any failure.
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bzlib  # noqa: E402

E = bzlib.env()
GEN = os.path.join(E["root"], "tests", "tools", "gen_roundtrip.mjs")
OUT = os.path.join(E["build"], "roundtrip")
QUERY_FILES = ["rt_zstd_v1_dict_nulls.parquet", "rt_snappy_v2_plain_nulls.parquet",
               "rt_lz4_raw_v2_dict_nulls.parquet", "rt_gzip_v2_dict_nonull.parquet",
               "rt_brotli_v1_plain_nonull.parquet"]
failures = []


def report(name, ok, msg="ok"):
    if not ok:
        failures.append(name)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok and msg == "ok" else f": {msg}"), flush=True)


def generate():
    """Run the generator unless OUT holds its output for this generator version."""
    stamp = hashlib.sha256(open(GEN, "rb").read()).hexdigest()
    stamp_file = os.path.join(OUT, "STAMP")
    if os.path.exists(stamp_file) and open(stamp_file).read().strip() == stamp \
            and os.path.exists(os.path.join(OUT, "manifest.json")):
        print(f"using cached round-trip files in {OUT}")
        return True
    node = shutil.which("node")
    if not node:
        report("generate", False, "node not found on PATH (scripts/deps.sh installs nodejs)")
        return False
    shutil.rmtree(OUT, ignore_errors=True)
    # The generator runs DuckDB, not the extension: no ASan preload for it.
    envv = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD",)}
    r = subprocess.run([node, GEN, OUT], cwd=E["root"], env=envv, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        report("generate", False, (r.stdout + r.stderr).strip()[-1500:])
        return False
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    print(r.stdout.strip())
    return True


def load_expected(name):
    header, rows = bzlib.read_expected_jsonl(os.path.join(OUT, name))
    types = [bzlib.parse_type(c["type"]) for c in header["columns"]]
    names = [c["name"] for c in header["columns"]]
    canon = [[bzlib.canon(t, r.get(n), "exp") for n, t in zip(names, types)] for r in rows]
    return header, names, types, canon


def check_values(entry, exp, verified):
    """Compare every value; `verified` maps the expectation to rows already proven
    right, so identical rows from other files are accepted without re-canonicalising."""
    header, names, types, canon = exp
    res = bzlib.run_isolated([os.path.join(OUT, entry["file"])], timeout=60)
    if res.status != "ok":
        report(entry["file"], False, res.describe())
        return None
    if res.columns != names:
        report(entry["file"], False, f"columns {res.columns} != {names}")
        return None
    why = []
    if res.nrows != header["rows"]:
        why.append(f"{res.nrows} rows, expected {header['rows']}")
    known = verified.get(entry["expected"])
    for i, (got, want) in enumerate(zip(res.rows, canon)):
        if known is not None and i < len(known) and got == known[i]:
            continue
        for j, t in enumerate(types):
            try:
                g = bzlib.canon(t, got[j], "got")
            except bzlib.Mismatch as e:
                why.append(f"row {i} {names[j]}: {e}")
                break
            r = bzlib.eq(want[j], g)
            if r:
                why.append(f"row {i} {names[j]}: {r}")
                break
        if len(why) >= 4:
            break
    report(entry["file"], not why, "; ".join(why) if why else f"ok ({res.nrows} rows)")
    if not why and known is None:
        verified[entry["expected"]] = res.rows
    return res.rows if not why else None


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bytes):
        return "X'" + v.hex() + "'"
    if isinstance(v, str):
        return bzlib.sql_str(v)
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else ("9e999" if v > 0 else "-9e999")
    return str(v)


def query_corpus(names, types, rows):
    """(label, sql with {T} for the table) pairs."""
    qs = [("count", "SELECT count(*) FROM {T}"),
          ("limit", "SELECT * FROM {T} LIMIT 5"),
          ("limit-offset-rowgroup", "SELECT * FROM {T} LIMIT 10 OFFSET 2043"),
          ("limit-offset-end", "SELECT * FROM {T} LIMIT 10 OFFSET 4995"),
          ("id-range", "SELECT id FROM {T} WHERE id >= 2040 AND id < 2060"),
          ("id-in", "SELECT id FROM {T} WHERE id IN (0, 2047, 2048, 4999, 7000)")]
    picks = [7, 123, 2050, 4000]
    for j, (n, t) in enumerate(zip(names, types)):
        vals = [rows[i][j] for i in picks if rows[i][j] is not None]
        c = f'"{n}"'
        qs += [(f"{n} is null", f"SELECT count(*) FROM {{T}} WHERE {c} IS NULL"),
               (f"{n} not null", f"SELECT count(*) FROM {{T}} WHERE {c} IS NOT NULL"),
               (f"{n} min/max", f"SELECT min({c}), max({c}), count({c}) FROM {{T}}")]
        if t.kind in bzlib.INT_KINDS or t.kind in bzlib.FLOAT_KINDS or t.kind == "DECIMAL":
            qs.append((f"{n} sum", f"SELECT sum({c}), total({c}) FROM {{T}}"))
        if not vals:
            continue
        v = vals[0]
        for op in ("=", "<", ">", "<=", ">=", "<>"):
            qs.append((f"{n} {op}", f"SELECT count(*) FROM {{T}} WHERE {c} {op} {lit(v)}"))
        qs.append((f"{n} = ids", f"SELECT id FROM {{T}} WHERE {c} = {lit(v)} ORDER BY id"))
        qs.append((f"{n} in", f"SELECT count(*) FROM {{T}} WHERE {c} IN ({', '.join(lit(x) for x in vals)})"))
        qs.append((f"{n} range", f"SELECT id FROM {{T}} WHERE {c} > {lit(min(vals, key=_key))} "
                                 f"AND {c} <= {lit(max(vals, key=_key))} ORDER BY id LIMIT 50"))
        if isinstance(v, str):
            qs.append((f"{n} like p%", f"SELECT count(*) FROM {{T}} WHERE {c} LIKE 'p%'"))
            qs.append((f"{n} like prefix", f"SELECT count(*) FROM {{T}} WHERE {c} LIKE {bzlib.sql_str(v[:2] + '%')}"))
        qs.append((f"{n} where+limit", f"SELECT id, {c} FROM {{T}} WHERE {c} IS NOT NULL LIMIT 3 OFFSET 2"))
    return qs


def _key(v):
    return (0, v) if isinstance(v, (int, float)) else (1, str(v)) if isinstance(v, str) else (2, v)


def check_queries(entry, exp, rows):
    header, names, types, canon = exp
    qs = query_corpus(names, types, rows)
    more = []
    for _, sql in qs:
        more += [sql.replace("{T}", "t"), sql.replace("{T}", "t0")]
    path = os.path.join(OUT, entry["file"])
    res = bzlib.run_isolated([path], sql="SELECT 1", more=more, timeout=120,
                             setup=[bzlib.create_sql("t0", [path], {"pushdown": 0})])
    name = entry["file"] + " queries"
    if res.status != "ok":
        report(name, False, res.describe())
        return
    why = []
    nulls = [sum(1 for r in canon if r[j] is None) for j in range(len(names))]
    for k, (label, sql) in enumerate(qs):
        a, b = res.results[2 * k], res.results[2 * k + 1]
        if a != b:
            why.append(f"{label}: pushdown {str(a)[:120]} != pushdown=0 {str(b)[:120]}")
        elif isinstance(a, tuple) and a and a[0] == "error" and "overflow" not in a[1]:
            why.append(f"{label}: error {a[1]}")
        if label == "count" and a != [(header["rows"],)]:
            why.append(f"count(*) {a} != {header['rows']}")
        if label.endswith(" is null"):
            j = names.index(label[: -len(" is null")])
            if a != [(nulls[j],)]:
                why.append(f"{label}: {a} != expected {nulls[j]}")
        if len(why) >= 5:
            break
    report(name, not why, "; ".join(why) if why else f"ok ({len(qs)} queries x 2)")


def check_glob(manifest):
    nonull = sorted(f["file"] for f in manifest["files"] if not f["nulls"])
    pattern = os.path.join(OUT, "rt_*_nonull.parquet")
    res = bzlib.run_isolated([pattern], sql="SELECT count(*) FROM t", timeout=120,
                             more=["SELECT filename, count(*) FROM t GROUP BY filename ORDER BY filename",
                                   "SELECT count(*) FROM t WHERE filename LIKE '%rt_zstd_v2_dict_nonull.parquet'"])
    why = []
    if res.status != "ok":
        why.append(res.describe())
    else:
        rows = manifest["rows"]
        if res.rows != [(rows * len(nonull),)]:
            why.append(f"count(*) {res.rows} != {rows * len(nonull)}")
        got = res.results[0]
        if isinstance(got, tuple):
            why.append(f"filename: {got[1]}")
        elif [os.path.basename(f) for f, _ in got] != nonull or any(c != rows for _, c in got):
            why.append(f"per-filename counts {[(os.path.basename(str(f)), c) for f, c in got][:4]}...")
        if res.results[1] != [(rows,)]:
            why.append(f"filter on filename: {res.results[1]}")
    report("glob rt_*_nonull.parquet + filename", not why, "; ".join(why) if why else "ok")


def main():
    try:
        bzlib.connect().close()
    except Exception as e:
        print(f"FAIL cannot load the extension {E['ext']}: {e}")
        return 1
    if not generate():
        return 1
    manifest = json.load(open(os.path.join(OUT, "manifest.json")))
    exps = {}
    verified = {}
    for entry in manifest["files"]:
        if entry["expected"] not in exps:
            exps[entry["expected"]] = load_expected(entry["expected"])
        rows = check_values(entry, exps[entry["expected"]], verified)
        if entry["file"] in QUERY_FILES:
            if rows is None:
                report(entry["file"] + " queries", False, "skipped: the value check failed")
            else:
                check_queries(entry, exps[entry["expected"]], rows)
    check_glob(manifest)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
