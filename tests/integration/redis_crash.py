"""Exactly-once contents through crashes: 100k stream entries (10k under the
sanitizer build) and 20k list messages are produced in transactions, then
drained into a local SQLite table in batches by a consumer process that is
killed with SIGKILL at random points, while redis-server itself is killed and
restarted once. At the end the local tables hold every message exactly once,
nothing is left pending, and no processing list holds anything.

The test starts its own redis-server (AOF, appendfsync always, data in a
temporary directory) on a free loopback port so that killing it does not
disturb the shared one, and stops exactly that process.
"""
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

EXT = os.environ["BZ_EXT"]
SAN = os.environ.get("BZ_SAN") == "1"
N = 10_000 if SAN else 100_000
NL = N // 5
BATCH = 200
random.seed(int(os.environ.get("BZ_SEED", time.time())))

tmp = tempfile.mkdtemp(prefix="bz-redis-crash-")
s = socket.socket()
s.bind(("127.0.0.1", 0))
PORT = s.getsockname()[1]
s.close()
URL = f"redis://127.0.0.1:{PORT}/0"
server = None


def start_redis():
    global server
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(PORT), "--dir", tmp,
         "--appendonly", "yes", "--appendfsync", "always", "--save", "",
         "--protected-mode", "yes", "--logfile", os.path.join(tmp, "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": os.environ["PATH"]})
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def stop_redis(sig=signal.SIGTERM):
    server.send_signal(sig)
    server.wait(timeout=30)


def db(path=":memory:"):
    c = sqlite3.connect(path, isolation_level=None, timeout=30)
    c.enable_load_extension(True)
    c.load_extension(EXT)
    return c


CONSUMER = r"""
import os, sqlite3, sys, time
url, path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(path, isolation_level=None, timeout=30)
c.enable_load_extension(True)
c.load_extension(os.environ['BZ_EXT'])
c.execute("CREATE TABLE IF NOT EXISTS local(id TEXT PRIMARY KEY, n INTEGER)")
c.execute("CREATE TABLE IF NOT EXISTS local_list(v TEXT PRIMARY KEY)")
opts = "reconnect_ms=3000, timeout_ms=3000"
c.execute(f"CREATE VIRTUAL TABLE temp.s USING redis_stream(url='{url}', key='ev', group='g', "
          f"columns='n INTEGER', claim_idle_ms=300, {opts})")
c.execute(f"CREATE VIRTUAL TABLE temp.w USING redis_list(url='{url}', key='jobs', consume=1, "
          f"visibility_timeout_ms=300, {opts})")
c.execute("CREATE TEMP TABLE b(v TEXT)")
final = len(sys.argv) > 4
while True:
    try:
        # Streams: the one-statement pattern (an autocommit statement is its own transaction).
        a = c.execute(f"INSERT OR IGNORE INTO local(id, n) SELECT id, n FROM temp.s "
                      f"LIMIT {batch}").rowcount
        # Lists: an explicit transaction through a scratch table.
        c.execute("BEGIN")
        b = c.execute(f"INSERT INTO temp.b SELECT value FROM temp.w LIMIT {batch}").rowcount
        c.execute("INSERT OR IGNORE INTO local_list(v) SELECT v FROM temp.b")
        c.execute("DELETE FROM temp.b")
        c.execute("COMMIT")
        if a <= 0 and b <= 0:
            if final:
                q = "SELECT redis_command(?, 'XPENDING', 'ev', 'g'), " \
                    "redis_command(?, 'KEYS', 'jobs:bz:proc:*'), redis_command(?, 'LLEN', 'jobs')"
                pend, procs, left = c.execute(q, (url, url, url)).fetchone()
                if pend.startswith('[0,') and procs == '[]' and left == 0:
                    break
            time.sleep(0.05)
    except sqlite3.Error as e:
        print('consumer error:', e, flush=True)
        if c.in_transaction:
            c.execute("ROLLBACK")
        time.sleep(0.1)
"""


def counts(path):
    c = sqlite3.connect(path, timeout=30)
    try:
        return (c.execute("SELECT count(*) FROM local").fetchone()[0],
                c.execute("SELECT count(*) FROM local_list").fetchone()[0])
    except sqlite3.OperationalError:
        return (0, 0)
    finally:
        c.close()


def main():
    fails = []
    start_redis()
    t0 = time.time()
    # Produce in transactions of 1000.
    p = db()
    p.execute(f"CREATE VIRTUAL TABLE s USING redis_stream(url='{URL}', key='ev', "
              "columns='n INTEGER')")
    p.execute(f"CREATE VIRTUAL TABLE q USING redis_list(url='{URL}', key='jobs')")
    for i in range(0, N, 1000):
        p.execute("WITH RECURSIVE k(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM k WHERE i < ?) "
                  "INSERT INTO s(n) SELECT i FROM k", (i, i + 999))
    for i in range(0, NL, 1000):
        p.execute("WITH RECURSIVE k(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM k WHERE i < ?) "
                  "INSERT INTO q(value) SELECT 'm' || i FROM k", (i, i + 999))
    n_stream = p.execute("SELECT redis_command(?, 'XLEN', 'ev')", (URL,)).fetchone()[0]
    n_list = p.execute("SELECT redis_command(?, 'LLEN', 'jobs')", (URL,)).fetchone()[0]
    p.close()
    print(f"produced {n_stream} entries, {n_list} list messages in {time.time() - t0:.1f}s")
    if n_stream != N or n_list != NL:
        fails.append("production")

    path = os.path.join(tmp, "local.db")
    kills = 0
    restarted = False
    deadline = time.time() + (100 if SAN else 90)
    log = open(os.path.join(tmp, "consumer.log"), "w")
    while time.time() < deadline:
        child = subprocess.Popen([sys.executable, "-c", CONSUMER, URL, path, str(BATCH)],
                                 stdout=log, stderr=log)
        time.sleep(random.uniform(0.1, 0.8))
        if not restarted and counts(path)[0] >= N * 0.3:
            stop_redis(signal.SIGKILL)
            print(f"killed redis-server at {counts(path)}")
            time.sleep(0.5)
            start_redis()
            restarted = True
            time.sleep(random.uniform(0.2, 0.8))
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        a, b = counts(path)
        if a >= N and b >= NL and restarted:
            break
    print(f"consumer killed {kills} times; counts {counts(path)}; {time.time() - t0:.1f}s")
    if not restarted:
        fails.append("redis-server was never restarted (drain too slow?)")
    # A last, clean consumer picks up what the killed ones left pending.
    time.sleep(0.5)
    subprocess.run([sys.executable, "-c", CONSUMER, URL, path, str(BATCH), "final"],
                   stdout=log, stderr=log, timeout=120)
    log.close()
    with open(os.path.join(tmp, "consumer.log")) as f:
        errs = [l for l in f if "consumer error" in l]
    print(f"{len(errs)} consumer errors (expected while redis-server was down), e.g.:")
    for l in errs[:3]:
        print("   ", l.strip())
    c = sqlite3.connect(path)
    n, nd, lo, hi = c.execute("SELECT count(*), count(DISTINCT n), min(n), max(n) FROM local"
                              ).fetchone()
    print(f"stream: {n} rows, {nd} distinct, {lo}..{hi}")
    if (n, nd, lo, hi) != (N, N, 0, N - 1):
        fails.append("stream: every message exactly once")
    nl, mx = c.execute("SELECT count(*), max(CAST(substr(v, 2) AS INTEGER)) FROM local_list"
                       ).fetchone()
    print(f"list: {nl} rows, max m{mx}")
    if (nl, mx) != (NL, NL - 1):
        fails.append("list: every message exactly once")
    c.close()
    r = db()
    pend = r.execute("SELECT redis_command(?, 'XPENDING', 'ev', 'g')", (URL,)).fetchone()[0]
    left = r.execute("SELECT redis_command(?, 'LLEN', 'jobs')", (URL,)).fetchone()[0]
    procs = r.execute("SELECT redis_command(?, 'KEYS', 'jobs:bz:proc:*')", (URL,)).fetchone()[0]
    print(f"pending {pend}; list left {left}; processing lists {procs}")
    if not pend.startswith("[0,") or left != 0 or procs != "[]":
        fails.append("nothing left pending or in processing lists")
    r.close()
    print("FAILED: " + ", ".join(fails) if fails else "all good")
    return 1 if fails else 0


if __name__ == "__main__":
    rc = 1
    try:
        rc = main()
    finally:
        if server and server.poll() is None:
            stop_redis()
        if rc == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)
    sys.exit(rc)
