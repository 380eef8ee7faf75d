"""Differential test of the filters on DATE and TIMESTAMP columns.

The scanner evaluates a pushed comparison on such a column on the physical key
(days, or milli/micro/nanoseconds) instead of on the value's text; the result must
be SQLite's BINARY comparison of the text for every constant. Checked here:

  1. generated constraints (canonical values, values just around them, and
     non-canonical strings: other precision, other separator, missing zero
     padding, trailing text or NUL, years outside 0000..9999, empty, numbers,
     blobs, NULL, IN lists, IS [NOT] NULL) against a `pushdown=0` table over the
     same files: identical rows, counts and LIMIT/OFFSET windows;
  2. canonical constraints against DuckDB on the rows whose year is 1..9999
     (where text order and time order agree);
  3. the counters: an exact filter on each column rejects rows inside the scanner.

Data: tests/tools/gen_time.mjs (DuckDB via node) writes two files with DATE,
TIMESTAMP MILLIS/MICROS/NANOS (not UTC-adjusted) and MICROS UTC-adjusted, nulls,
pre-1970 and far-future keys, the ends of years 0000 and 9999 and keys outside
them, one file in random order and one sorted (so statistics prune).
INT96 constraints are covered by test_pushdown.py (alltypes_plain.parquet).
"""
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import bzlib

E = bzlib.env()
GEN = os.path.join(E["root"], "tests", "tools", "gen_time.mjs")
COLS = ["d", "ts_us", "ts_ms", "ts_ns", "ts_tz"]
OPS = ["=", "<", "<=", ">", ">=", "!=", "IS"]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg, flush=True)


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bytes):
        return "X'" + v.hex() + "'"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def variants(s):
    """Non-canonical strings around the text s of a value."""
    out = [s + "x", s + " ", s + "0", s + ".0", s + ".000", s + ".000000001", s + "Z", s[:-1],
           s[:-2], s[:10], s[:4], s.replace("-0", "-"), s.replace(" ", "T"), " " + s, "+" + s,
           s + "\x00", s[:10] + " 00:00:00", s[:10] + " 24:00:00", s[:10] + " 23:59:59.999999999",
           s[:10] + " 00:00:00.", s[:10] + "\x7f"]
    if len(s) > 19:
        out += [s[:19], s[:23], s[:26], s.rstrip("0")]
    return out


FIXED = ["", "-", "0", "9", "1994", "19940101", "1994-1-1", "1994-01-01", "1994-01-01x",
         "1994-01-01 00:00:00", "1994-01-01T00:00:00", "0000-01-01", "0000-01-01 00:00:00",
         "0000-00-00", "9999-12-31", "9999-12-31 23:59:59.999999999", "9999-12-31 24", "99999",
         "10000-01-01", "10000-01-01 00:00:00", "-1-12-31", "-0001-01-01", "-", "1969-12-31",
         "1970-01-01", "1970-01-01 00:00:00", "1970-01-01 00:00:00.000001", "1677-09-21",
         "2262-04-11 23:47:16.854775807", "\x00", "\xff", "1994-01-01\x00"]


def gen_preds(rng, col, texts):
    """WHERE clauses on col: (sql, params)."""
    q = col
    out = [(f"{q} IS NULL", ()), (f"{q} IS NOT NULL", ())]
    picks = rng.sample(texts, min(6, len(texts)))
    consts = list(FIXED)
    for s in picks:
        consts.append(s)
        consts += rng.sample(variants(s), 6)
    for c in consts:
        op = rng.choice(OPS)
        if "\x00" in c:  # a NUL only travels as a bound parameter
            out.append((f"{q} {op} ?", (c,)))
        else:
            out.append((f"{q} {op} {lit(c)}", ()))
    for op in OPS:  # every operator on one canonical value and one variant
        out.append((f"{q} {op} {lit(picks[0])}", ()))
        out.append((f"{q} {op} {lit(picks[0][:10])}", ()))
    a, b = sorted(rng.sample(texts, 2))
    out.append((f"{q} >= {lit(a)} AND {q} < {lit(b)}", ()))  # Q6's shape
    out.append((f"{q} BETWEEN {lit(a[:4] + '-1-1')} AND {lit(b + 'x')}", ()))
    out.append((f"{q} IN ({lit(picks[0])}, {lit(picks[1])}, {lit(picks[1] + 'x')}, NULL, 5)", ()))
    out.append((f"{q} IN ({lit(picks[2][:10])}, X'00', 1994)", ()))
    for other in (5, 1994, 2000.5, -1, b"1994", b"\x00", None, "inf"):
        out.append((f"{q} {rng.choice(OPS)} {lit(other)}", ()))
    out.append((f"{q} > ? AND {q} <= ?", (a, b)))
    return out


def check_diff(con, rng):
    n = 0
    for col in COLS:
        texts = [r[0] for r in con.execute(f"select distinct {col} from q where {col} is not null")]
        preds = gen_preds(rng, col, texts)
        for i, (w, args) in enumerate(preds):
            ow, oargs = preds[(i * 7 + 3) % len(preds)]
            for c, cargs in ((w, args), (f"{w} AND {ow}", args + oargs),
                             (f"{w} AND id % 3 = 1", args)):
                for tail in ("", " LIMIT 7", " LIMIT 3 OFFSET 5") if c is w else ("",):
                    a = con.execute(f"select id, {col} from p where {c}{tail}", cargs).fetchall()
                    b = con.execute(f"select id, {col} from q where {c}{tail}", cargs).fetchall()
                    n += 1
                    if a != b:
                        fail(f"{c}{tail} {cargs!r}: {len(a)} rows with pushdown, {len(b)} without")
                cp = con.execute(f"select count(*) from p where {c}", cargs).fetchone()[0]
                cq = con.execute(f"select count(*) from q where {c}", cargs).fetchone()[0]
                if cp != cq:
                    fail(f"count(*) where {c} {cargs!r}: {cp} != {cq}")
    print(f"ok   {n} queries with pushdown = without" if not failures else f"...  {n} queries")


def in_years(col):
    """SQL: the text of col has a year 0001..9999."""
    return f"substr({col}, 1, 1) between '0' and '9' and substr({col}, 5, 1) = '-' and {col} >= '0001'"


def check_duckdb(con, rng, glob):
    queries = []
    for col in COLS:
        texts = [r[0] for r in con.execute(f"select distinct {col} from q where {in_years(col)}")]
        for s in rng.sample(texts, 8) + ["1970-01-01" if col == "d" else "1970-01-01 00:00:00"]:
            for op in ["=", "<", "<=", ">", ">=", "!="]:
                queries.append({"col": col, "op": op, "lit": s})
    envv = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    out = os.path.join(os.path.dirname(glob), "answers.json")
    r = subprocess.run(["node", GEN, "oracle", glob, out], input=json.dumps(queries), cwd=E["root"],
                       env=envv, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        fail(f"DuckDB oracle: {(r.stdout + r.stderr)[-1500:]}")
        return
    answers = json.load(open(out))
    for q, want in zip(queries, answers):
        got = [i for (i,) in con.execute(
            f"select id from p where {q['col']} {q['op']} {lit(q['lit'])} and {in_years(q['col'])} "
            "order by id")]
        if got != want:
            fail(f"DuckDB: {q}: {len(got)} rows, DuckDB {len(want)}")
    print(f"ok   {len(queries)} canonical constraints agree with DuckDB" if not failures
          else "...  DuckDB")


def check_counters(con):
    for col in COLS:
        s = con.execute(f"select {col} from q where {col} is not null and {in_years(col)} "
                        "order by id limit 1 offset 100").fetchone()[0]
        plan = " ".join(r[3] for r in con.execute(f"explain query plan select id from p where {col} < {lit(s)}"))
        if "x" not in plan.split("INDEX", 1)[-1]:
            fail(f"{col} < text is not an exact scanner filter: {plan}")
        s0 = bzlib_stats(con)
        got = con.execute(f"select count(*) from p where {col} < {lit(s)}").fetchone()[0]
        s1 = bzlib_stats(con)
        total = con.execute("select count(*) from q").fetchone()[0]
        rejected = s1["rows_filtered"] - s0["rows_filtered"]
        pruned = s1["row_groups_skipped"] - s0["row_groups_skipped"]
        if rejected <= 0 or (rejected + got != total and not pruned):
            fail(f"{col}: {rejected} rows rejected in the scanner, {got} matched of {total}")
    print("ok   scanner filters on every column" if not failures else "...  counters")


def bzlib_stats(con):
    return json.loads(con.execute("select parquet_stats()").fetchone()[0])


def main():
    if not shutil.which("node"):
        print("FAIL node not found on PATH (scripts/deps.sh installs nodejs)")
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="bz-time-")
    try:
        envv = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        rows = "2048" if E["san"] else "8192"
        r = subprocess.run(["node", GEN, "gen", tmp, "--rows", rows], cwd=E["root"], env=envv,
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print("FAIL generate:", (r.stdout + r.stderr)[-1500:])
            sys.exit(1)
        print(r.stdout.strip())
        glob = os.path.join(tmp, "*.parquet")
        con = bzlib.connect()
        con.execute(f"create virtual table p using parquet({lit(glob)})")
        con.execute(f"create virtual table q using parquet({lit(glob)}, pushdown=0)")
        rng = random.Random(20261123)
        check_diff(con, rng)
        check_duckdb(con, rng, glob)
        check_counters(con)
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
