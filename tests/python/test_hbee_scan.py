"""Scan offload: a `parquet` table with executor= must return exactly the rows
of the same table without it (same values, types, order and rowids) for
projections, every pushed constraint kind, IN, IS [NOT] NULL, LIKE/GLOB,
LIMIT/OFFSET (offloaded and in-process), rowid lookups, OR (multi-index on
rowids), joins with a local table, union_by_name and hive partitions.

This file runs it for executor=local; tests/integration/hbee_scan.py imports
suite() and runs it for redis and lambda (and an s3:// dataset). Also here:
hbee_last_stats counts the tasks, a statement stopped early (LIMIT, a cursor
closed after one row) ends cleanly (run under ASan by tests/run.sh
build-asan), worker errors name the file, bad options are clear errors.

Data: test_hbee_diff's five DuckDB files (12 row groups of <= 700 rows, one
empty file) and the committed hive-partitioned data/trips.
"""
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_hbee_diff as diff  # noqa: E402

ROOT = diff.ROOT
from bzlib import report, summary  # noqa: E402


def rows(con, q, args=()):
    return con.execute(q, args).fetchall()


def typed(rs):
    """Rows with each value's type, so 1 and 1.0 and '1' differ."""
    return [tuple((type(v).__name__, v) for v in r) for r in rs]


def stats(con):
    return json.loads(con.execute("SELECT hbee_last_stats()").fetchone()[0])


PRED_KINDS = [
    "k = {i}", "k < {i}", "k <= {i}", "k > {i}", "k >= {i}", "k != {i}", "k IS {i}",
    "k IS NOT {i}", "x > {r}", "x <= {r}", "x BETWEEN {r} AND {r2}", "n < {big}",
    "s = '{t}'", "s > '{t}'", "s != '{t}'", "s IS NULL", "s IS NOT NULL", "g IS NULL",
    "g IN ('alpha', 'eta', 'nope')", "k IN ({i}, {i2}, 7)", "x IN (0.5, {r})",
    "s LIKE '{c}%'", "s GLOB '{c}*'", "b = 1", "b", "id > {id}", "g = 'beta'",
    "k = '{i}'", "s > 5", "x < {i}", "id IN (100005, 200010, 400899, 7)",
]
COLS = ["id", "g", "k", "x", "n", "s", "b", "rowid", "filename"]


def gen_query(rng, tbl):
    sel = rng.sample(COLS, rng.randint(1, 4))
    if rng.random() < 0.15:
        sel = ["*", "rowid"]
    conds = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        conds.append(rng.choice(PRED_KINDS).format(
            i=rng.randint(-6, 20), i2=rng.randint(-6, 20), r=round(rng.uniform(-1000, 1000), 3),
            r2=round(rng.uniform(0, 1000), 3), big=rng.randint(-2**40, 2**40) * 1000,
            t=rng.choice(["a", "bq", "cz", "e", "fzz"]), c=rng.choice("abcdef"),
            id=rng.choice([0, 100500, 200000, 400100])))
    q = f"SELECT {', '.join(sel)} FROM {tbl}"
    if conds:
        q += " WHERE " + (" OR " if rng.random() < 0.2 else " AND ").join(conds)
    r = rng.random()
    if r < 0.15:
        q += f" LIMIT {rng.randint(1001, 5000)} OFFSET {rng.randint(0, 3000)}"
    elif r < 0.25:
        q += f" LIMIT {rng.randint(0, 40)} OFFSET {rng.randint(0, 50)}"
    return q


def fixed_queries(tbl):
    return [
        f"SELECT * FROM {tbl}",
        f"SELECT rowid, id FROM {tbl} WHERE rowid = (1 << 40) + 5 OR rowid = 3",
        f"SELECT rowid, * FROM {tbl} WHERE k = 3 OR s = 'ab'",  # multi-index OR on rowids
        f"SELECT id, s FROM {tbl} LIMIT 1200 OFFSET 5000",      # offloaded LIMIT/OFFSET
        f"SELECT id FROM {tbl} WHERE k > 3 LIMIT 2500 OFFSET 10",
        f"SELECT id FROM {tbl} LIMIT 5",                        # in-process
        f"SELECT count(*), sum(k), total(x) FROM {tbl} WHERE x > 0.1",
        f"SELECT l.v, {tbl}.id, {tbl}.s FROM loc l JOIN {tbl} ON {tbl}.k = l.v",
        f"SELECT l.v, t2.id FROM {tbl} t2, loc l WHERE t2.id = l.v * 100000 + 17",
        f"SELECT id FROM {tbl} WHERE x = 9e999 OR x IS NULL",
        f"SELECT id, filename FROM {tbl} WHERE filename LIKE '%part-2%'",
        f"SELECT id FROM {tbl} WHERE s = 'a' || char(0) || 'b'",
        f"SELECT id FROM {tbl} WHERE x > 0.1 AND x < 0.30000000000000004",
        f"SELECT id FROM {tbl} WHERE n = -9223372036854775808 OR k IN (SELECT v FROM loc)",
    ]


def rg_count(con, where="1"):
    """Row groups of the dataset (per parquet_metadata of each file) matching where on `id`."""
    n = 0
    for f in sorted(os.listdir(diff.DATA)):
        if f.endswith(".parquet"):
            n += rows(con, "SELECT count(*) FROM parquet_metadata(?) WHERE path = 'id' AND " + where,
                      (os.path.join(diff.DATA, f),))[0][0]
    return n


def suite(con, opts, label, n_random, report=report, with_hive=True):
    """Differential checks on `t` (test_hbee_diff's data) with executor options opts."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS loc(v INTEGER)")
    con.execute("DELETE FROM loc")
    con.executemany("INSERT INTO loc VALUES (?)", [(v,) for v in (-3, 0, 1, 4, 9, 13)])
    glob = os.path.join(diff.DATA, "part-*.parquet").replace("'", "''")
    con.execute(f"CREATE VIRTUAL TABLE temp.o USING parquet('{glob}', {opts})")
    try:
        rng = random.Random(4242)
        qs = fixed_queries("{T}") + [gen_query(rng, "{T}") for _ in range(n_random)]
        for i, q in enumerate(qs):
            try:
                exp = typed(rows(con, q.replace("{T}", "t")))
                got = typed(rows(con, q.replace("{T}", "o")))
                ok = exp == got
                why = "" if ok else f"{len(exp)} rows vs {len(got)}; first diff " + next(
                    (f"{a} != {b}" for a, b in zip(exp, got) if a != b), "(length)")
            except sqlite3.Error as e:
                ok, why = False, str(e)
            report(f"{label} query {i}", ok, f"{q}\n     {why}")
        if "split_bytes=1" not in opts:
            return
        # the work ran on hbees: one task per row group (split_bytes=1)
        n_rg = rg_count(con)
        rows(con, "SELECT id FROM o WHERE k >= 0")
        st = stats(con)
        report(f"{label} stats: one task per row group on the executor",
               n_rg >= 6 and st["tasks"] == n_rg and st["splits"] == n_rg and st["files"] == 4 and
               st["rows_scanned"] == 7300 and st["rows_out"] == rows(
                   con, "SELECT count(*) FROM t WHERE k >= 0")[0][0], (n_rg, st))
        # row-group pruning happens before any task: only row groups with ids > 400000
        n_rg = rg_count(con, "CAST(max AS INTEGER) > 400000")
        rows(con, "SELECT id FROM o WHERE id > 400000")
        st = stats(con)
        report(f"{label} stats: pruned row groups are not tasks",
               n_rg >= 1 and st["tasks"] == n_rg and st["files"] == 1, (n_rg, st))
        # stopped early: LIMIT past the in-process threshold, then a cursor dropped after a row
        got = rows(con, "SELECT id FROM o LIMIT 1001")
        report(f"{label} early stop by LIMIT", [r[0] for r in got] ==
               [r[0] for r in rows(con, "SELECT id FROM t LIMIT 1001")], len(got))
        cur = con.execute("SELECT id, s FROM o WHERE x > 0")
        first = cur.fetchone()
        cur.close()
        report(f"{label} early stop by reset", first == rows(con, "SELECT id, s FROM t WHERE x > 0 "
                                                              "LIMIT 1")[0], first)
        # the same cursor scanned again (inner side of a join): one executor, many scans
        got = rows(con, "SELECT l.v, count(o.id) FROM loc l LEFT JOIN o ON o.k = l.v GROUP BY 1")
        exp = rows(con, "SELECT l.v, count(t.id) FROM loc l LEFT JOIN t ON t.k = l.v GROUP BY 1")
        report(f"{label} rescans in a join", got == exp, f"{got} != {exp}")
    finally:
        con.execute("DROP TABLE temp.o")
    if with_hive:
        con.execute("CREATE VIRTUAL TABLE temp.hp USING parquet('data/trips')")
        con.execute(f"CREATE VIRTUAL TABLE temp.ho USING parquet('data/trips', {opts})")
        try:
            for i, w in enumerate(["month = 3", "year = 2024 AND month IN (1, 2)", "month > 11",
                                   "zone = 'Airport' AND passengers >= 2", "note IS NOT NULL",
                                   "fare > 50 AND year = 2023", "1"]):
                q = (f"SELECT rowid, trip_id, year, month, filename, driver, stops, fare, "
                     f"pickup_at FROM {{}} WHERE {w}")
                try:
                    exp, got = typed(rows(con, q.format("hp"))), typed(rows(con, q.format("ho")))
                    report(f"{label} hive {i}", exp == got and len(exp) > 0,
                           f"{w}: {len(exp)} vs {len(got)}")
                except sqlite3.Error as e:
                    report(f"{label} hive {i}", False, f"{w}: {e}")
        finally:
            con.execute("DROP TABLE temp.hp")
            con.execute("DROP TABLE temp.ho")


def test_union_by_name(con):
    con.execute("CREATE VIRTUAL TABLE temp.up USING parquet('tests/data/union', union_by_name=1)")
    con.execute("CREATE VIRTUAL TABLE temp.uo USING parquet('tests/data/union', union_by_name=1, "
                "executor=local, workers=2)")
    try:
        cols = [r[1] for r in rows(con, "PRAGMA table_info(up)")]
        for w in ["1"] + [f'"{c}" IS NULL' for c in cols] + [f'"{c}" IS NOT NULL' for c in cols]:
            q = "SELECT rowid, *, filename FROM {} WHERE " + w
            exp, got = typed(rows(con, q.format("up"))), typed(rows(con, q.format("uo")))
            report(f"union_by_name {w}", exp == got, f"{exp[:3]} vs {got[:3]}")
    finally:
        con.execute("DROP TABLE temp.up")
        con.execute("DROP TABLE temp.uo")


def test_errors(con):
    glob = os.path.join(diff.DATA, "part-*.parquet").replace("'", "''")
    cases = [
        ("executor=bogus", "parquet: option executor: unknown executor 'bogus' (local, redis, lambda)"),
        ("executor=local, workers=x", "parquet: option workers: expected 0 (cores) to 256, got 'x'"),
        ("executor=local, split_bytes=0",
         "parquet: option split_bytes: expected a positive integer, got '0'"),
        ("workers=2", "parquet: option workers needs executor= (local, redis, lambda) to run scans "
                      "on hbees"),
        ("executor=local, executor=redis", "parquet: option executor given twice"),
        ("executor=lambda, scratch='/tmp'", "parquet: option scratch: expected s3://bucket/prefix"),
    ]
    for opts, msg in cases:
        try:
            con.execute(f"CREATE VIRTUAL TABLE temp.bad USING parquet('{glob}', {opts})")
            con.execute("DROP TABLE temp.bad")
            report(f"error {opts}", False, "no error")
        except sqlite3.Error as e:
            report(f"error {opts}", str(e) == msg, f"{e!r} != {msg!r}")
    # a worker's failure names the file: a file gone after CREATE, a file corrupted after CREATE
    d = tempfile.mkdtemp(prefix="bz-scan-")
    try:
        for f in ("part-0.parquet", "part-1.parquet"):
            shutil.copy(os.path.join(diff.DATA, f), d)
        con.execute(f"CREATE VIRTUAL TABLE temp.gone USING parquet('{d}/*.parquet', "
                    "executor=local, workers=2, split_bytes=1)")
        rows(con, "SELECT count(*) FROM gone")  # footers now cached by the coordinator
        p1 = os.path.join(d, "part-1.parquet")
        with open(p1, "r+b") as fh:  # clobber the data pages, keep the footer
            fh.seek(4)
            fh.write(b"\xff" * 4000)
        try:
            rows(con, "SELECT * FROM gone")
            report("worker error: corrupt data", False, "no error")
        except sqlite3.Error as e:
            report("worker error: corrupt data", str(e).startswith(f"parquet: {p1} (split ") and
                   "executor local" in str(e), str(e))
        os.unlink(p1)
        try:
            rows(con, "SELECT * FROM gone")
            report("worker error: missing file", False, "no error")
        except sqlite3.Error as e:
            report("worker error: missing file", p1 in str(e) and "No such file" in str(e), str(e))
        # a LIMIT satisfied by the first file never fails for the second, as in-process
        got = rows(con, "SELECT id FROM gone LIMIT 1500")
        report("worker error: not reached past LIMIT", len(got) == 1500, len(got))
        con.execute("DROP TABLE temp.gone")
    finally:
        shutil.rmtree(d)


def test_config_defaults(con):
    """hbee_config sets the defaults a table's options override."""
    glob = os.path.join(diff.DATA, "part-*.parquet").replace("'", "''")
    con.execute("SELECT hbee_config('workers', 3), hbee_config('split_bytes', 1)")
    con.execute(f"CREATE VIRTUAL TABLE temp.c USING parquet('{glob}', executor=local)")
    try:
        rows(con, "SELECT id FROM c")
        st = stats(con)
        report("hbee_config defaults apply", st["workers"] == 3 and st["tasks"] == rg_count(con), st)
        con.execute("SELECT hbee_config('split_bytes', 1 << 30)")
        rows(con, "SELECT id FROM c")
        st = stats(con)
        report("hbee_config read at each scan", st["tasks"] == 4, st)  # one split per file
    finally:
        con.execute("DROP TABLE temp.c")
        con.execute("SELECT hbee_config('workers', 0), hbee_config('split_bytes', 67108864)")


def test_many_files(con):
    """More files than the footer cache keeps open (256): a file is closed
    before its splits' tasks are encoded, so they must not borrow from it."""
    tmp = tempfile.mkdtemp(prefix="hbee-scan-many-")
    try:
        src = os.path.join(diff.DATA, "part-1.parquet")
        for i in range(262):
            shutil.copyfile(src, os.path.join(tmp, f"f-{i:03d}.parquet"))
        glob = os.path.join(tmp, "*.parquet").replace("'", "''")
        con.execute(f"CREATE VIRTUAL TABLE temp.mp USING parquet('{glob}')")
        con.execute(f"CREATE VIRTUAL TABLE temp.mo USING parquet('{glob}', executor=local, workers=2)")
        q = "SELECT rowid, id, k, s, filename FROM {} WHERE k > 2"
        exp, got = typed(rows(con, q.format("mp"))), typed(rows(con, q.format("mo")))
        st = stats(con)
        report("262 files: same rows", exp == got and len(exp) > 262, f"{len(exp)} vs {len(got)}")
        report("262 files: one task a file at least", st.get("tasks", 0) >= 262, st)
    finally:
        con.execute("DROP TABLE IF EXISTS temp.mp")
        con.execute("DROP TABLE IF EXISTS temp.mo")
        shutil.rmtree(tmp, ignore_errors=True)


def test_rowid_columns(con):
    """A file with columns named rowid and oid: the row number still reaches
    the coordinator (under _rowid_), so rowids are the in-process ones."""
    f = os.path.join(diff.DATA, "extra", "rowid-cols.parquet").replace("'", "''")
    con.execute(f"CREATE VIRTUAL TABLE temp.rp USING parquet('{f}')")
    con.execute(f"CREATE VIRTUAL TABLE temp.ro USING parquet('{f}', executor=local, workers=2, "
                "split_bytes=1)")
    try:
        for q in ["SELECT _rowid_, \"rowid\", oid, v FROM {}",
                  "SELECT _rowid_, v FROM {} WHERE v = 3",
                  "SELECT count(DISTINCT _rowid_), min(_rowid_), max(_rowid_) FROM {}"]:
            exp, got = typed(rows(con, q.format("rp"))), typed(rows(con, q.format("ro")))
            report(f"rowid columns: {q}", exp == got and exp, f"{exp[:3]} vs {got[:3]}")
    finally:
        con.execute("DROP TABLE temp.rp")
        con.execute("DROP TABLE temp.ro")


def test_glob_chars(con):
    """Files whose names contain glob characters: a worker opens its split's
    file by name (glob=0), not as a pattern that matches other files."""
    tmp = tempfile.mkdtemp(prefix="hbee-scan-glob-")
    try:
        shutil.copyfile(os.path.join(diff.DATA, "part-1.parquet"), os.path.join(tmp, "a[1].parquet"))
        shutil.copyfile(os.path.join(diff.DATA, "part-2.parquet"), os.path.join(tmp, "a1.parquet"))
        shutil.copyfile(os.path.join(diff.DATA, "part-0.parquet"), os.path.join(tmp, "b*.parquet"))
        shutil.copyfile(os.path.join(diff.DATA, "part-4.parquet"), os.path.join(tmp, "bz.parquet"))
        d = tmp.replace("'", "''")
        con.execute(f"CREATE VIRTUAL TABLE temp.gp USING parquet('{d}')")  # a[1], a1, b*, bz
        con.execute(f"CREATE VIRTUAL TABLE temp.go USING parquet('{d}', executor=local, workers=2)")
        q = "SELECT rowid, id, filename FROM {}"
        exp, got = typed(rows(con, q.format("gp"))), typed(rows(con, q.format("go")))
        report("glob characters in file names: scan offload", exp == got and len(exp) > 0,
               f"{len(exp)} vs {len(got)}")
        q = "SELECT filename, count(*), sum(id) FROM gp GROUP BY filename"
        exp = rows(con, q)
        _, got = diff.run_hbee_opts(con, q, "executor=local, workers=2")
        report("glob characters in file names: hbee", sorted(exp) == sorted(got) and len(exp) == 4,
               f"{exp} vs {got}")
        shutil.copyfile(os.path.join(diff.DATA, "part-2.parquet"), os.path.join(tmp, "c?.parquet"))
        shutil.copyfile(os.path.join(diff.DATA, "part-2.parquet"), os.path.join(tmp, "cx.parquet"))
        lit = os.path.join(tmp, "c?.parquet").replace("'", "''")
        con.execute(f"CREATE VIRTUAL TABLE temp.gl USING parquet('{lit}', glob=0)")
        con.execute(f"CREATE VIRTUAL TABLE temp.gg USING parquet('{lit}')")
        fl = rows(con, "SELECT DISTINCT filename FROM gl")
        fg = rows(con, "SELECT DISTINCT filename FROM gg")
        report("glob=0 takes the name literally", fl == [(os.path.join(tmp, "c?.parquet"),)], fl)
        report("glob=1 (default) is a pattern", sorted(fg) == [(os.path.join(tmp, "c?.parquet"),),
                                                        (os.path.join(tmp, "cx.parquet"),)], fg)
    finally:
        for tb in ("gp", "go", "gl", "gg"):
            con.execute(f"DROP TABLE IF EXISTS temp.{tb}")
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    diff.generate()
    os.chdir(ROOT)
    con = diff.connect()
    suite(con, "executor=local, workers=2, split_bytes=1", "local", 150)
    suite(con, "executor=local, workers=1", "local 1 worker, 64 MiB splits", 20, with_hive=False)
    test_union_by_name(con)
    test_errors(con)
    test_config_defaults(con)
    test_many_files(con)
    test_rowid_columns(con)
    test_glob_chars(con)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
