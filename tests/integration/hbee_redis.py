"""The `redis` executor against the stack's Redis and `hbee worker` processes.

1. Differential: generated aggregate and filter queries (the generators of
   tests/python/test_hbee_diff.py, a fixed seed) through an hbee table with
   executor=redis (the stack's hbee_workers service) must equal a
   single-connection scan: exact for integers and text, 1e-9 relative for reals.
2. Faults, on a private queue with workers started here (each task delayed
   400 ms by HBEE_TEST_DELAY_MS so they can be killed mid-task):
   - two of three workers SIGKILLed mid-task: the coordinator re-issues the
     late tasks; the answer is exact and every split is counted once;
   - the same with a straggler deadline of 60 s: the surviving worker claims
     the dead workers' pending entries (XAUTOCLAIM) instead.
3. Workers outlive their Redis connection: after CLIENT KILL of every client
   connection, and after the queue (and so its consumer group) is deleted, the
   same workers reconnect, re-create the group and answer the next query.
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import test_hbee_diff as diff  # noqa: E402

HBEE = os.path.join(diff.BUILD, "hbee")
URL = os.environ.get("REDIS_URL")
N_QUERIES = 200
from bzlib import report, summary  # noqa: E402


run_hbee = diff.run_hbee_opts
stats = diff.stats


def test_differential(con):
    rng = random.Random(7071)
    for i in range(N_QUERIES):
        q, ordered = diff.gen_filter(rng) if i % 3 == 2 else diff.gen_aggregate(rng)
        exp = con.execute(q).fetchall()
        opts = "executor=redis" + (", split_bytes=1" if i % 2 else "")
        try:
            _, got = run_hbee(con, q, opts)
            why = diff.same_rows(exp, got, ordered)
        except sqlite3.Error as e:
            why = str(e)
        report(f"redis query {i}", why is None, f"{q}\n     {why}")
    st = stats(con)
    report("stats executor", st["executor"] == "redis" and st["tasks"] == st["splits"], st)


def start_workers(n, queue, claim_ms):
    env = dict(os.environ, HBEE_TEST_DELAY_MS="400")
    env.pop("LD_PRELOAD", None)
    return [subprocess.Popen([HBEE, "worker", "--redis", URL, "--queue", queue,
                              "--claim-idle-ms", str(claim_ms)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def stop_workers(ws):
    for w in ws:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in ws:
        try:
            w.wait(5)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


Q = "SELECT g, count(*), sum(k), total(x), min(s), max(n) FROM t GROUP BY g"


def fault_run(con, name, straggler_ms, claim_ms, kill_after):
    queue = f"hbee:test:{os.getpid()}:{name}"
    ws = start_workers(3, queue, claim_ms)
    time.sleep(0.3)
    exp = con.execute(Q).fetchall()
    killer = threading.Timer(kill_after, lambda: [w.send_signal(signal.SIGKILL) for w in ws[:2]])
    killer.start()
    try:
        t0 = time.time()
        _, got = run_hbee(con, Q, f"executor=redis, queue='{queue}', split_bytes=1, "
                                  f"straggler_ms={straggler_ms}")
        why = diff.same_rows(exp, got, False)
        st = stats(con)
        report(f"{name}: exact answer", why is None, why)
        report(f"{name}: each split once", st["tasks"] == st["splits"] and
               st["rows_scanned"] == 7300, st)
        report(f"{name}: workers were killed mid-query", ws[0].poll() is not None and
               time.time() - t0 > kill_after, st)
        return st
    except sqlite3.Error as e:
        report(f"{name}: query", False, str(e))
        return {}
    finally:
        killer.cancel()
        stop_workers(ws)


def test_faults(con):
    st = fault_run(con, "reissue", 300, 60000, 0.2)
    report("reissue: retries counted", st.get("retries", 0) >= 1, st)
    st = fault_run(con, "autoclaim", 60000, 800, 0.2)
    report("autoclaim: no coordinator retry needed", st.get("retries", -1) == 0, st)


def redis_cmd(con, *args):
    ph = ", ".join("?" * len(args))
    return con.execute(f"SELECT redis_command(?, {ph})", (URL, *args)).fetchone()[0]


def test_reconnect(con):
    queue = f"hbee:test:{os.getpid()}:reconnect"
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    logf = open(os.path.join(os.environ.get("BZ_BUILD", "/tmp"), "test-logs",
                             "hbee_redis_reconnect.log"), "w")
    ws = [subprocess.Popen([HBEE, "worker", "--redis", URL, "--queue", queue], env=env,
                           stdout=subprocess.DEVNULL, stderr=logf) for _ in range(2)]
    exp = con.execute(Q).fetchall()
    opts = f"executor=redis, queue='{queue}', split_bytes=1"
    try:
        for name, act in (("before", None),
                          ("after CLIENT KILL", ("CLIENT", "KILL", "TYPE", "normal")),
                          ("after the queue was deleted", ("DEL", queue))):
            if act:
                other = sqlite3.connect(":memory:")
                other.enable_load_extension(True)
                other.load_extension(diff.EXT)
                try:
                    redis_cmd(other, *act)
                except sqlite3.Error:
                    pass  # CLIENT KILL may drop this very connection's reply
                other.close()
                time.sleep(0.5)
            try:
                _, got = run_hbee(con, Q, opts)
                why = diff.same_rows(exp, got, False)
            except sqlite3.Error as e:
                why = str(e)
            report(f"reconnect: query {name}", why is None, why)
        report("reconnect: workers still running", all(w.poll() is None for w in ws),
               [w.poll() for w in ws])
    finally:
        stop_workers(ws)
        logf.close()
    log = open(logf.name).read()
    report("reconnect: workers said they reconnected", log.count("reconnected to ") >= 2, log[-800:])


def main():
    if not URL:
        print("REDIS_URL is not set (tests/stack.sh env)")
        return 1
    diff.generate()
    con = diff.connect()
    test_differential(con)
    test_faults(con)
    test_reconnect(con)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
