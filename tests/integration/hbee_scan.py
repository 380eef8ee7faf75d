"""Scan offload on the remote executors, against the test stack:

1. tests/python/test_hbee_scan.py's differential suite (fixed and generated
   SELECTs, hive partitions, joins, early stops, task counts) with
   executor=redis (the stack's `hbee worker` processes) and executor=lambda
   (the stack's Lambda emulator running build/hbee).
2. An s3:// dataset (the stack's s3rver): the same rows with executor=local
   and executor=lambda as the plain table.
3. Fault: a scan on a private queue served by three workers (each task
   delayed 400 ms), two of them SIGKILLed mid-scan: every row comes back
   exactly once, in order, and the coordinator re-issued the lost tasks.
"""
import os
import signal
import sqlite3
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import test_hbee_diff as diff  # noqa: E402
import test_hbee_scan as scan  # noqa: E402
import hbee_redis  # noqa: E402

from bzlib import report, summary  # noqa: E402


def test_s3(con):
    bucket = os.environ.get("BZ_S3_BUCKET")
    if not bucket:
        report("s3 dataset: S3 in the stack", False, "BZ_S3_BUCKET not set")
        return
    prefix = f"scan-ds-{os.getpid()}"
    for f in sorted(os.listdir(diff.DATA)):
        if f.endswith(".parquet"):
            with open(os.path.join(diff.DATA, f), "rb") as fh:
                con.execute("SELECT s3_put(?, ?)", (f"s3://{bucket}/{prefix}/{f}", fh.read()))
    url = f"s3://{bucket}/{prefix}/*.parquet"
    con.execute(f"CREATE VIRTUAL TABLE temp.sp USING parquet('{url}')")
    try:
        for ex in ("local", "lambda"):
            con.execute(f"CREATE VIRTUAL TABLE temp.so USING parquet('{url}', executor={ex}, "
                        "split_bytes=1)")
            try:
                for i, q in enumerate(["SELECT rowid, * FROM {} WHERE k > 3",
                                       "SELECT id, s, filename FROM {} WHERE s LIKE 'b%'",
                                       "SELECT id FROM {} LIMIT 1500 OFFSET 1000"]):
                    exp = scan.typed(scan.rows(con, q.format("sp")))
                    got = scan.typed(scan.rows(con, q.format("so")))
                    report(f"s3 {ex} query {i}", exp == got and exp, f"{len(exp)} vs {len(got)}")
                st = scan.stats(con)
                report(f"s3 {ex} ran on the executor", st["executor"] == ex and st["tasks"] >= 1, st)
            except sqlite3.Error as e:
                report(f"s3 {ex}", False, str(e))
            finally:
                con.execute("DROP TABLE temp.so")
    finally:
        con.execute("DROP TABLE temp.sp")


def test_fault(con):
    queue = f"hbee:scan:{os.getpid()}"
    ws = hbee_redis.start_workers(3, queue, 60000)
    time.sleep(0.3)
    glob = os.path.join(diff.DATA, "part-*.parquet").replace("'", "''")
    con.execute(f"CREATE VIRTUAL TABLE temp.f USING parquet('{glob}', executor=redis, "
                f"queue='{queue}', split_bytes=1, straggler_ms=300, workers=3)")
    killer = threading.Timer(0.2, lambda: [w.send_signal(signal.SIGKILL) for w in ws[:2]])
    try:
        exp = scan.rows(con, "SELECT rowid, * FROM t")
        t0 = time.time()
        killer.start()
        got = scan.rows(con, "SELECT rowid, * FROM f")
        st = scan.stats(con)
        report("fault: every row exactly once, in order", got == exp, f"{len(got)} vs {len(exp)}")
        report("fault: workers killed mid-scan, tasks re-issued",
               ws[0].poll() is not None and time.time() - t0 > 0.2 and st["retries"] >= 1, st)
    except sqlite3.Error as e:
        report("fault: scan", False, str(e))
    finally:
        killer.cancel()
        hbee_redis.stop_workers(ws)
        con.execute("DROP TABLE temp.f")


def main():
    if not os.environ.get("REDIS_URL") or not os.environ.get("AWS_ENDPOINT_URL_LAMBDA"):
        print("REDIS_URL / AWS_ENDPOINT_URL_LAMBDA not set (tests/stack.sh env)")
        return 1
    diff.generate()
    os.chdir(diff.ROOT)
    con = diff.connect()
    scan.suite(con, "executor=redis, split_bytes=1", "redis", 40, report)
    scan.suite(con, "executor=lambda, split_bytes=1, max_concurrency=4", "lambda", 30, report)
    test_s3(con)
    test_fault(con)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
