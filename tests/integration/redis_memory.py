"""Memory of a long drain stays flat: 200k list messages and 200k stream
entries (20k under the sanitizer build, where only correctness is checked)
drained in batches of 1000 into a file-backed SQLite table; the process's
resident memory after the first 10% and at the end differ by less than 4 MB.
Enqueueing is bounded too: one INSERT of 200k stream entries (streamed into a
MULTI as SQLite produces them) raises the process's peak RSS by less than 4 MB.
"""
import os
import shutil
import sqlite3
import sys
import tempfile

import redis

URL = os.environ["REDIS_URL"]
R = redis.Redis(host="127.0.0.1", port=int(os.environ["BZ_REDIS_PORT"]))
EXT = os.environ["BZ_EXT"]
SAN = os.environ.get("BZ_SAN") == "1"
N = 20_000 if SAN else 200_000


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_growth_kb(fn):
    """Run fn; return how far the peak RSS rose above the RSS before it."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    before = rss_kb()
    fn()
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) - before
    return 0


def drain(c, sql, total):
    got, first = 0, None
    while True:
        n = c.execute(sql).rowcount
        if n <= 0:
            break
        got += n
        if first is None and got >= total // 10:
            first = rss_kb()
    return got, first, rss_kb()


def main():
    fails = []
    tmp = tempfile.mkdtemp(prefix="bz-redis-mem-")
    c = sqlite3.connect(os.path.join(tmp, "local.db"), isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension(EXT)
    c.execute("PRAGMA cache_size=-2000")
    c.execute("CREATE TABLE l(v TEXT)")
    c.execute("CREATE TABLE s(id TEXT PRIMARY KEY, data TEXT)")
    # First, while the process has no freed memory to reuse.
    R.delete("MEMW")
    c.execute(f"CREATE VIRTUAL TABLE temp.w USING redis_stream(url='{URL}', key='MEMW', "
              "columns='n TEXT, pad TEXT')")
    grow = peak_growth_kb(lambda: c.execute(
        f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {N}) "
        "INSERT INTO temp.w(n, pad) SELECT i, printf('%.40c', 'y') FROM k")) / 1024
    print(f"enqueue: {R.xlen('MEMW')} entries in one INSERT; peak RSS +{grow:.1f} MB")
    if R.xlen("MEMW") != N:
        fails.append(f"enqueue: {R.xlen('MEMW')} of {N} entries")
    if not SAN and grow > 4:
        fails.append(f"enqueue: peak memory grew by {grow:.1f} MB")
    R.delete("MEMW")
    R.delete("MEMQ", "MEMS")
    pipe = R.pipeline(transaction=False)
    for i in range(N):
        pipe.rpush("MEMQ", f"message-{i:08d}-" + "x" * 40)
        pipe.xadd("MEMS", {"n": str(i), "pad": "y" * 40})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    c.execute(f"CREATE VIRTUAL TABLE temp.q USING redis_list(url='{URL}', key='MEMQ', consume=1)")
    c.execute(f"CREATE VIRTUAL TABLE temp.g USING redis_stream(url='{URL}', key='MEMS', "
              "group='mem', consumer='m1')")
    for name, sql in [("list", "INSERT INTO l SELECT value FROM temp.q LIMIT 1000"),
                      ("stream", "INSERT OR IGNORE INTO s SELECT id, data FROM temp.g LIMIT 1000")]:
        got, first, last = drain(c, sql, N)
        grow = (last - first) / 1024
        print(f"{name}: drained {got}; RSS at 10% {first} kB, at the end {last} kB "
              f"(+{grow:.1f} MB)")
        if got != N:
            fails.append(f"{name}: drained {got} of {N}")
        if not SAN and grow > 4:
            fails.append(f"{name}: memory grew by {grow:.1f} MB")
    if R.llen("MEMQ") or R.xpending("MEMS", "mem")["pending"]:
        fails.append("something left")
    R.delete("MEMQ", "MEMS")
    c.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print("FAILED: " + ", ".join(fails) if fails else "all good")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
