"""The progress display of hbee queries and the Lambda cost in hbee_last_stats
and hbee_explain.

Progress: a child process runs an hbee query with stderr redirected to a
pipe (not a terminal). Without BZ_PROGRESS nothing is written; with
BZ_PROGRESS=1 and BZ_PROGRESS_DELAY_MS=0 the line "hbee ... splits, ... read,
... s" is drawn with \\r, reaches N/N splits... or is erased: the last bytes
written are \\r, spaces, \\r, and no newline is ever written. BZ_PROGRESS=0
silences it.

Cost: billed_ms, requests, gb_s and cost_usd follow the documented formula
at memory_mb / price_gb_s / price_1m_requests; bad values are refused;
hbee_explain prints the estimate line.
"""
import json
import os
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_hbee_diff as diff  # noqa: E402

from bzlib import report, summary  # noqa: E402


CHILD = r"""
import sqlite3, sys
con = sqlite3.connect(":memory:")
con.enable_load_extension(True)
con.load_extension(sys.argv[1])
con.execute("CREATE VIRTUAL TABLE t USING parquet('%s/*.parquet')" % sys.argv[2])
con.execute("CREATE VIRTUAL TABLE temp.r USING hbee(query='SELECT g, count(*) FROM t GROUP BY g', "
            "split_bytes=1, workers=2)")
print(len(con.execute("SELECT * FROM r").fetchall()))
"""


def run_child(env_extra):
    env = dict(os.environ)
    for k in ("BZ_PROGRESS", "BZ_PROGRESS_DELAY_MS"):
        env.pop(k, None)
    env.update(env_extra)
    p = subprocess.run([sys.executable, "-c", CHILD, diff.EXT, diff.DATA], capture_output=True,
                       env=env, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode(errors="replace")


def test_progress():
    rc, out, err = run_child({})
    report("no terminal: no display", rc == 0 and err == "", repr(err[:300]))
    rc, out, err = run_child({"BZ_PROGRESS": "1", "BZ_PROGRESS_DELAY_MS": "0"})
    report("forced: query ok", rc == 0 and out.strip() == "8", out + err)
    report("forced: drawn with \\r", err.startswith("\rhbee ") and "splits, " in err and
           " read, " in err, repr(err[:300]))
    report("forced: no newline", "\n" not in err, repr(err[:300]))
    last = err.rstrip(" ")
    report("forced: erased at the end", err.endswith("\r") and last.endswith("\r") and
           err[err.rfind("\r", 0, len(err) - 1) + 1:-1].strip() == "", repr(err[-120:]))
    report("forced: total splits shown", "/7 splits" in err, repr(err[:300]))
    rc, out, err = run_child({"BZ_PROGRESS": "0", "BZ_PROGRESS_DELAY_MS": "0"})
    report("BZ_PROGRESS=0: silent", rc == 0 and err == "", repr(err[:300]))
    # the default delay (1 s) hides short queries even when forced
    rc, out, err = run_child({"BZ_PROGRESS": "1"})
    report("short query: nothing drawn", rc == 0 and err == "", repr(err[:300]))


def test_cost(con):
    con.execute("CREATE VIRTUAL TABLE temp.r USING hbee(query='SELECT count(*) FROM t', "
                "split_bytes=1, memory_mb=2048, price_gb_s=0.5, price_1m_requests=1000000)")
    con.execute("SELECT * FROM r").fetchall()
    st = json.loads(con.execute("SELECT hbee_last_stats()").fetchone()[0])
    con.execute("DROP TABLE temp.r")
    report("cost: memory_mb", st["memory_mb"] == 2048, st)
    report("cost: requests = tasks", st["requests"] == st["tasks"] == st["splits"] > 1, st)
    report("cost: billed_ms >= 1 per task", st["billed_ms"] >= st["tasks"], st)
    gbs = st["billed_ms"] / 1000 * 2
    report("cost: gb_s", abs(st["gb_s"] - gbs) < 1e-6, st)
    report("cost: cost_usd", abs(st["cost_usd"] - (gbs * 0.5 + st["tasks"] * 1.0)) < 1e-6, st)
    # defaults: 1769 MB, x86_64 prices
    con.execute("CREATE VIRTUAL TABLE temp.r USING hbee(query='SELECT count(*) FROM t')")
    con.execute("SELECT * FROM r").fetchall()
    st = json.loads(con.execute("SELECT hbee_last_stats()").fetchone()[0])
    con.execute("DROP TABLE temp.r")
    exp = st["billed_ms"] / 1000 * 1769 / 1024 * 0.0000166667 + st["requests"] * 0.2e-6
    report("cost: defaults", st["memory_mb"] == 1769 and abs(st["cost_usd"] - exp) < 1e-9, st)
    for bad in ("memory_mb=64", "memory_mb=x", "price_gb_s=-1", "scan_mb_s=0"):
        try:
            con.execute(f"CREATE VIRTUAL TABLE temp.bad USING hbee(query='SELECT count(*) FROM t', {bad})")
            con.execute("DROP TABLE temp.bad")
            report(f"cost: {bad} refused", False, "accepted")
        except sqlite3.Error as e:
            report(f"cost: {bad} refused", bad.split("=")[0] in str(e), str(e))
    report("config memory_mb", con.execute("SELECT hbee_config('memory_mb', 3008)").fetchone()[0] == 3008)
    text = con.execute("SELECT hbee_explain('SELECT count(*) FROM t')").fetchone()[0]
    report("explain estimate", "estimate: " in text and "memory_mb=3008" in text and "$" in text, text)
    con.execute("SELECT hbee_config('memory_mb', 1769)")


def main():
    diff.generate()
    con = diff.connect()
    test_progress()
    test_cost(con)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
