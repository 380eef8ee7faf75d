"""The `lambda` executor against tests/lambda_emulator.py running build/hbee
as the function's bootstrap (the stack's `lambda` service, and private
emulators started here for fault injection).

1. Differential: generated aggregate and filter queries (the generators of
   tests/python/test_hbee_diff.py, a fixed seed) with executor=lambda must
   equal a single-connection scan (exact ints/text, 1e-9 relative reals).
2. Faults (private emulator, 3 instances): instances crashing mid-task,
   instances hanging past the function timeout (killed by the emulator),
   429 throttling, and a straggler that gets a speculative duplicate: the
   answer stays exact, each split is counted once, hbee_last_stats shows
   the retries / speculative duplicates and the emulator the crashes,
   timeouts and cold starts.
4. An s3:// dataset: planned from S3 footers, read by the workers from S3.
3. Results over the response limit go through S3 (scratch=s3://...): a
   private emulator with HBEE_MAX_INLINE=256 makes every result take that
   path; the answer is exact and the scratch objects are deleted.
"""
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import test_hbee_diff as diff  # noqa: E402

HBEE = os.path.join(diff.BUILD, "hbee")
N_QUERIES = 200
from bzlib import report, summary  # noqa: E402


run_hbee = diff.run_hbee_opts
stats = diff.stats


def emu_call(port, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


class Emulator:
    """A private tests/lambda_emulator.py: instances of bootstrap (build/hbee by
    default), env as KEY=VALUE strings for them, extra emulator arguments."""

    def __init__(self, instances, timeout, env=(), bootstrap=HBEE, directory=None,
                 extra=("--slow", "3")):
        self.dir = directory or tempfile.mkdtemp(prefix="hbee-emu-")
        pf = os.path.join(self.dir, "port")
        args = [sys.executable, os.path.join(ROOT, "tests", "lambda_emulator.py"), "--port-file",
                pf, "--instances", str(instances), "--bootstrap", bootstrap, "--timeout",
                str(timeout), "--log", os.path.join(self.dir, "instances.log")] + list(extra)
        for kv in env:
            args += ["--env", kv]
        penv = dict(os.environ)
        penv.pop("LD_PRELOAD", None)
        self.p = subprocess.Popen(args, env=penv, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(self.dir, "emu.log"), "w"))
        for _ in range(100):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        self.port = int(open(pf).read())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


def with_endpoint(url, fn):
    old = os.environ.get("AWS_ENDPOINT_URL_LAMBDA")
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = url
    try:
        return fn()
    finally:
        if old is None:
            del os.environ["AWS_ENDPOINT_URL_LAMBDA"]
        else:
            os.environ["AWS_ENDPOINT_URL_LAMBDA"] = old


def test_differential(con):
    rng = random.Random(9090)
    for i in range(N_QUERIES):
        q, ordered = diff.gen_filter(rng) if i % 3 == 2 else diff.gen_aggregate(rng)
        exp = con.execute(q).fetchall()
        opts = "executor=lambda, max_concurrency=8" + (", split_bytes=1" if i % 2 else "")
        try:
            _, got = run_hbee(con, q, opts)
            why = diff.same_rows(exp, got, ordered)
        except sqlite3.Error as e:
            why = str(e)
        report(f"lambda query {i}", why is None, f"{q}\n     {why}")
    st = stats(con)
    report("stats executor", st["executor"] == "lambda" and st["tasks"] == st["splits"], st)


Q = "SELECT g, count(*), sum(k), total(x), min(s), max(n) FROM t GROUP BY g"


def fault_query(con, name, opts=""):
    exp = con.execute(Q).fetchall()
    try:
        _, got = run_hbee(con, Q, "executor=lambda, split_bytes=1" + opts)
    except sqlite3.Error as e:
        report(f"{name}: query", False, str(e))
        return {}
    st = stats(con)
    report(f"{name}: exact answer", diff.same_rows(exp, got, False) is None,
           diff.same_rows(exp, got, False))
    report(f"{name}: each split once", st["tasks"] == st["splits"] and
           st["rows_scanned"] == 7300, st)
    return st


def test_faults(con):
    emu = Emulator(3, 5)
    try:
        def run():
            fault_query(con, "warm-up", ", max_concurrency=3")
            e0 = emu_call(emu.port, "/_emu/stats")
            report("cold starts counted", e0["cold_starts"] == 3, e0)
            # crashes mid-task
            emu_call(emu.port, "/_emu/faults", {"crash": 2})
            st = fault_query(con, "crash", ", max_concurrency=3")
            e = emu_call(emu.port, "/_emu/stats")
            report("crash: instances killed", e["crashes"] == 2, e)
            report("crash: retries", st.get("retries", 0) >= 2, st)
            # an instance past its (1 s) timeout is killed
            emu_call(emu.port, "/_emu/faults", {"hang": 1})
            st = fault_query(con, "timeout", ", max_concurrency=3")
            e = emu_call(emu.port, "/_emu/stats")
            report("timeout: instance killed", e["timeouts"] == 1, e)
            # the hung copy is either retried after its timeout or overtaken by a duplicate
            report("timeout: retried", st.get("retries", 0) + st.get("speculative", 0) >= 1, st)
            # more concurrency than instances, plus injected 429s
            emu_call(emu.port, "/_emu/faults", {"throttle": 4})
            st = fault_query(con, "throttle", ", max_concurrency=10")
            e = emu_call(emu.port, "/_emu/stats")
            report("throttle: 429s answered", e["throttled"] >= 4, e)
            # a straggler (stalled 3 s) gets a speculative duplicate
            emu_call(emu.port, "/_emu/faults", {"slow": 1})
            st = fault_query(con, "straggler", ", max_concurrency=3, straggler_ms=200")
            report("straggler: speculative duplicate", st.get("speculative", 0) >= 1, st)
            # the combine ran before the stalled copy ended (close() then waits for it)
            report("straggler: answered by the duplicate", st.get("ms_wall", 9999) < 2900, st)
        with_endpoint(emu.url, run)
    finally:
        emu.stop()


def test_scratch(con):
    bucket = os.environ.get("BZ_S3_BUCKET")
    if not os.environ.get("AWS_ENDPOINT_URL_S3") or not bucket:
        report("scratch: S3 in the stack", False, "AWS_ENDPOINT_URL_S3 / BZ_S3_BUCKET not set")
        return
    env = ["HBEE_MAX_INLINE=256", "AWS_ENDPOINT_URL_S3=" + os.environ["AWS_ENDPOINT_URL_S3"],
           "AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER", "AWS_REGION=us-east-1",
           "AWS_EC2_METADATA_DISABLED=true"]
    emu = Emulator(2, 10, env)
    prefix = f"hbee-scratch-{os.getpid()}"
    try:
        def run():
            q = "SELECT id, g, s, x FROM t WHERE k > 3"
            exp = con.execute(q).fetchall()
            _, got = run_hbee(con, q, f"executor=lambda, scratch='s3://{bucket}/{prefix}/'")
            report("scratch: exact answer", diff.same_rows(exp, got, False) is None,
                   diff.same_rows(exp, got, False))
            # without scratch (no option, no HBEE_SCRATCH) the over-limit
            # result is a clear error
            saved = os.environ.pop("HBEE_SCRATCH", None)
            try:
                run_hbee(con, q, "executor=lambda")
                report("no scratch: error", False, "expected an error")
            except sqlite3.Error as e:
                report("no scratch: error", "response limit" in str(e), str(e))
            finally:
                if saved is not None:
                    os.environ["HBEE_SCRATCH"] = saved
        with_endpoint(emu.url, run)
        log = open(os.path.join(emu.dir, "instances.log")).read()
        report("scratch: results went through S3", "via s3://" in log, log[-500:])
    finally:
        emu.stop()
    # the coordinator deleted what the workers put
    data = os.path.join(os.environ.get("BZ_STACK_DIR", ""), "s3-data", bucket, prefix)
    leftovers = []
    for dp, _, fs in os.walk(data):
        leftovers += [f for f in fs if f.endswith(".hbr") or ".hbr" in f]
    report("scratch: objects deleted", not leftovers, leftovers[:5])


def test_s3_dataset(con):
    """Splits of an s3:// dataset, planned from S3 footers and read by the workers from S3."""
    bucket = os.environ.get("BZ_S3_BUCKET")
    if not bucket:
        report("s3 dataset: S3 in the stack", False, "BZ_S3_BUCKET not set")
        return
    prefix = f"hbee-ds-{os.getpid()}"
    for f in sorted(os.listdir(diff.DATA)):
        if f.endswith(".parquet"):
            with open(os.path.join(diff.DATA, f), "rb") as fh:
                con.execute("SELECT s3_put(?, ?)", (f"s3://{bucket}/{prefix}/{f}", fh.read()))
    con.execute(f"CREATE VIRTUAL TABLE temp.ts USING parquet('s3://{bucket}/{prefix}/*.parquet')")
    q = "SELECT g, count(*), sum(k), total(x), max(s) FROM ts WHERE k > 0 GROUP BY g"
    exp = con.execute(q).fetchall()
    for ex in ("local", "lambda"):
        try:
            _, got = run_hbee(con, q, f"executor={ex}, split_bytes=1")
            why = diff.same_rows(exp, got, False)
            st = stats(con)
            report(f"s3 dataset, {ex}", why is None and st["splits"] == 7 and st["files"] == 5,
                   f"{why} {st}")
        except sqlite3.Error as e:
            report(f"s3 dataset, {ex}", False, str(e))
    con.execute("DROP TABLE temp.ts")


def main():
    if not os.environ.get("AWS_ENDPOINT_URL_LAMBDA"):
        print("AWS_ENDPOINT_URL_LAMBDA is not set (tests/stack.sh env)")
        return 1
    diff.generate()
    con = diff.connect()
    test_differential(con)
    test_faults(con)
    test_scratch(con)
    test_s3_dataset(con)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
