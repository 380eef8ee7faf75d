"""redis_list / redis_stream / redis_command against the test stack's redis-server.

Checks: peeking and push-down (counted with INFO commandstats), transactional
writes (one MULTI/EXEC per COMMIT, nothing on ROLLBACK or ROLLBACK TO),
reliable consumption (LIMIT, statements stopped early, ROLLBACK, a consumer
killed with SIGKILL, visibility timeout, blocking wait), stream groups
(ack on commit, redelivery, XAUTOCLAIM), and bad input (unreachable server,
wrong password, WRONGTYPE, message too large, malformed URL, rediss://,
a connection dropped mid-transaction).

Run by tests/run.sh with REDIS_URL, BZ_REDIS_PORT, BZ_EXT in the environment.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import redis

URL = os.environ["REDIS_URL"]
PORT = int(os.environ["BZ_REDIS_PORT"])
EXT = os.environ["BZ_EXT"]
R = redis.Redis(host="127.0.0.1", port=PORT, db=0)
FAILS = []


def check(cond, what):
    if cond:
        print("ok  ", what)
    else:
        print("FAIL", what)
        FAILS.append(what)


def db(path=":memory:"):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension(EXT)
    return c


def stats(cmd):
    info = R.info("commandstats")
    return info.get("cmdstat_" + cmd, {}).get("calls", 0)


def err_of(conn, sql, *args):
    try:
        conn.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return str(e)
    return None


def lrange(key):
    return [v.decode("latin-1") for v in R.lrange(key, 0, -1)]


def test_list_basic():
    R.delete("L1")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE q USING redis_list(url='{URL}', key='L1')")
    c.execute("INSERT INTO q(value) SELECT 'm' || value FROM generate_series(0, 999)"
              if has_series(c) else "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i+1 "
              "FROM s WHERE i < 999) INSERT INTO q(value) SELECT 'm' || i FROM s")
    check(R.llen("L1") == 1000, "list: INSERT ... SELECT enqueues 1000")
    check(c.execute("SELECT count(*) FROM q").fetchone()[0] == 1000, "list: count(*) peeks all")
    R.config_resetstat()
    rows = c.execute("SELECT value, idx FROM q WHERE idx >= 10 AND idx < 13").fetchall()
    check(rows == [("m10", 10), ("m11", 11), ("m12", 12)], "list: idx range pushed down")
    check(stats("lrange") == 1, "list: idx range = one LRANGE")
    R.config_resetstat()
    rows = c.execute("SELECT value FROM q LIMIT 3").fetchall()
    check([r[0] for r in rows] == ["m0", "m1", "m2"], "list: LIMIT")
    check(stats("lrange") == 1, "list: LIMIT pushed down (one small LRANGE)")
    check(c.execute("SELECT value FROM q WHERE idx = 999").fetchall() == [("m999",)],
          "list: idx = last")
    check(R.llen("L1") == 1000, "list: peeking removes nothing")
    # Binary values come back as BLOB, text as TEXT.
    c.execute("INSERT INTO q VALUES (x'00ff10')")
    row = c.execute("SELECT value, typeof(value) FROM q WHERE idx = 1000").fetchone()
    check(row == (b"\x00\xff\x10", "blob"), "list: invalid UTF-8 is a BLOB")
    c.execute("DELETE FROM q WHERE value = 'm5'")
    check(R.llen("L1") == 1000 and b"m5" not in R.lrange("L1", 0, 10), "list: DELETE is LREM")


def has_series(c):
    try:
        c.execute("SELECT * FROM generate_series(1, 1)").fetchall()
        return True
    except sqlite3.Error:
        return False


def test_list_txn():
    R.delete("L2")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE q USING redis_list(url='{URL}', key='L2')")
    R.config_resetstat()
    c.execute("BEGIN")
    for i in range(100):
        c.execute("INSERT INTO q VALUES (?)", (f"v{i}",))
    check(R.llen("L2") == 0, "txn: nothing sent before COMMIT")
    c.execute("COMMIT")
    check(R.llen("L2") == 100, "txn: COMMIT sends all")
    check(stats("multi") == 1 and stats("exec") == 1, "txn: one MULTI/EXEC for the transaction")
    c.execute("BEGIN")
    c.execute("INSERT INTO q VALUES ('x')")
    c.execute("ROLLBACK")
    check(R.llen("L2") == 100, "txn: ROLLBACK sends nothing")
    c.execute("BEGIN")
    c.execute("INSERT INTO q VALUES ('keep')")
    c.execute("SAVEPOINT a")
    c.execute("INSERT INTO q VALUES ('drop')")
    c.execute("ROLLBACK TO a")
    c.execute("COMMIT")
    check(lrange("L2")[-1] == "keep" and R.llen("L2") == 101, "txn: ROLLBACK TO drops later rows")


def test_list_consume():
    R.delete("L3", "L3:bz:proc:w1", "L3:bz:consumers")
    R.rpush("L3", *[f"j{i}" for i in range(20)])
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE w USING redis_list(url='{URL}', key='L3', consume=1, "
              "consumer='w1', batch=8)")
    c.execute("CREATE TABLE done(v)")
    c.execute("INSERT INTO done SELECT value FROM w LIMIT 3")
    check(lrange("L3")[:2] == ["j3", "j4"] and R.llen("L3") == 17, "consume: LIMIT 3 takes 3")
    check(R.llen("L3:bz:proc:w1") == 0, "consume: committed messages acknowledged")
    # A statement stopped early: only the rows SQLite produced are consumed.
    # (Python's sqlite3 steps one row ahead: two fetchone() calls make SQLite
    # produce three rows.)
    cur = c.execute("SELECT value FROM w")
    got = [cur.fetchone()[0], cur.fetchone()[0]]
    cur.close()
    check(got == ["j3", "j4"], "consume: reads the head")
    check(lrange("L3")[:1] == ["j6"] and R.llen("L3") == 14,
          "consume: fetched-ahead rows go back to the head in order")
    # ROLLBACK puts them back.
    c.execute("BEGIN")
    c.execute("INSERT INTO done SELECT value FROM w LIMIT 4")
    check(R.llen("L3") == 10 and R.llen("L3:bz:proc:w1") == 4,
          "consume: in flight in processing list")
    c.execute("ROLLBACK")
    check(lrange("L3")[:5] == ["j6", "j7", "j8", "j9", "j10"] and R.llen("L3") == 14,
          "consume: ROLLBACK returns them to the head in order")
    # A failed statement inside a transaction rewinds only its own reads.
    c.execute("CREATE TABLE strict(v UNIQUE)")
    c.execute("INSERT INTO strict VALUES ('j8')")
    c.execute("BEGIN")
    c.execute("INSERT INTO done SELECT value FROM w LIMIT 1")  # j6
    e = err_of(c, "INSERT INTO strict SELECT value FROM w LIMIT 3")  # j7, j8 -> conflict
    c.execute("COMMIT")
    check(e is not None and "UNIQUE" in e, "consume: constraint error reported")
    check(lrange("L3")[:2] == ["j7", "j8"] and R.llen("L3") == 13,
          "consume: the failed statement's rows are given back, the committed one is not")
    # count(*) consumes what it passes over.
    c2 = db()
    c2.execute(f"CREATE VIRTUAL TABLE w USING redis_list(url='{URL}', key='L3', consume=1, "
               "consumer='w2')")
    n = c2.execute("SELECT count(*) FROM (SELECT value FROM w LIMIT 4)").fetchone()[0]
    check(n == 4 and R.llen("L3") == 9, "consume: autocommit SELECT consumes what it returns")


KILL_CHILD = r"""
import os, sqlite3, sys, time
c = sqlite3.connect(':memory:', isolation_level=None)
c.enable_load_extension(True); c.load_extension(os.environ['BZ_EXT'])
c.execute(sys.argv[1])
c.execute('BEGIN')
rows = c.execute(sys.argv[2]).fetchall()
print(len(rows), flush=True)
time.sleep(60)
"""


def run_and_kill(create, select):
    p = subprocess.Popen([sys.executable, "-c", KILL_CHILD, create, select],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    p.send_signal(signal.SIGKILL)
    p.wait()
    return int(line or 0)


def test_list_dead_consumer():
    R.delete("L4", "L4:bz:consumers")
    for k in R.keys("L4:bz:proc:*"):
        R.delete(k)
    R.rpush("L4", *[f"d{i}" for i in range(10)])
    n = run_and_kill(f"CREATE VIRTUAL TABLE w USING redis_list(url='{URL}', key='L4', consume=1, "
                     "consumer='dead')", "SELECT value FROM w LIMIT 3")
    check(n == 3 and R.llen("L4") == 7 and R.llen("L4:bz:proc:dead") == 3,
          "dead consumer: its messages wait in its processing list")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE w USING redis_list(url='{URL}', key='L4', consume=1, "
              "consumer='alive', visibility_timeout_ms=500)")
    first = c.execute("SELECT value FROM w LIMIT 1").fetchall()
    check(first == [("d3",)], "dead consumer: not recovered before visibility_timeout_ms")
    time.sleep(0.7)
    got = [r[0] for r in c.execute("SELECT value FROM w LIMIT 3").fetchall()]
    check(got == ["d0", "d1", "d2"], "dead consumer: recovered to the head after the timeout")
    check(R.llen("L4:bz:proc:dead") == 0 and not R.hexists("L4:bz:consumers", "dead"),
          "dead consumer: processing list and registration removed")


def test_list_block():
    R.delete("L5")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE w USING redis_list(url='{URL}', key='L5', consume=1, "
              "block_ms=3000)")
    threading.Timer(0.3, lambda: R.rpush("L5", "late")).start()
    t0 = time.time()
    rows = c.execute("SELECT value FROM w").fetchall()
    dt = time.time() - t0
    check(rows == [("late",)] and 0.2 < dt < 2.5, f"block_ms: waits for a message ({dt:.2f}s)")
    c2 = db()
    c2.execute(f"CREATE VIRTUAL TABLE w USING redis_list(url='{URL}', key='L5', consume=1, "
               "block_ms=300)")
    t0 = time.time()
    rows = c2.execute("SELECT value FROM w").fetchall()
    dt = time.time() - t0
    check(rows == [] and 0.25 < dt < 2, f"block_ms: empty after the wait ({dt:.2f}s)")


def test_stream_read():
    R.delete("S1")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE s USING redis_stream(url='{URL}', key='S1', "
              "columns='kind TEXT, n INTEGER, w REAL', maxlen=1000)")
    c.execute("BEGIN")
    for i in range(1, 2001):
        c.execute("INSERT INTO s(id, kind, n, w) VALUES (?, ?, ?, ?)",
                  (f"{i}-{i % 3}", "k" if i % 2 else None, i, i / 2))
    c.execute("COMMIT")
    check(1000 <= R.xlen("S1") < 2000, f"stream: maxlen trims approximately ({R.xlen('S1')})")
    first = R.xrange("S1", count=1)[0][0].decode()
    R.config_resetstat()
    rows = c.execute("SELECT id, kind, n, w, typeof(n) FROM s WHERE id > '1999-1'").fetchall()
    check(rows == [("1999-1", "k", 1999, 999.5, "integer")] or
          rows == [("2000-2", None, 2000, 1000.0, "integer")], f"stream: id > pushed down {rows}")
    check(stats("xrange") == 1, "stream: one XRANGE")
    rows = c.execute("SELECT id FROM s WHERE id >= '1990' AND id <= '1995-2' ").fetchall()
    check([r[0] for r in rows] == [f"{i}-{i % 3}" for i in range(1990, 1996)],
          "stream: numeric id order for >= and <=")
    rows = c.execute("SELECT id FROM s ORDER BY id DESC LIMIT 2").fetchall()
    check([r[0] for r in rows] == ["2000-2", "1999-1"], "stream: ORDER BY id DESC is XREVRANGE")
    check(c.execute("SELECT id FROM s LIMIT 1").fetchall() == [(first,)], "stream: LIMIT")
    check(c.execute("SELECT id FROM s WHERE id = '2000-2'").fetchall() == [("2000-2",)],
          "stream: id =")
    check(c.execute("SELECT count(*) FROM s WHERE id < '10000'").fetchone()[0] == R.xlen("S1"),
          "stream: '10000' > '2000-2' in stream order (not text order)")
    e = err_of(c, "SELECT * FROM s WHERE id > 'abc'")
    check(e is not None and "not a stream id" in e, "stream: bad id is an error")
    c.execute("DELETE FROM s WHERE id = '2000-2'")
    check(R.xrange("S1", min="2000-2", max="2000-2") == [], "stream: DELETE is XDEL")
    c.execute(f"CREATE VIRTUAL TABLE sj USING redis_stream(url='{URL}', key='S1')")
    d = c.execute("SELECT data FROM sj WHERE id = '1999-1'").fetchone()[0]
    check(d == '{"kind":"k","n":"1999","w":"999.5"}', f"stream: data as JSON {d}")
    c.execute("INSERT INTO sj(data) VALUES ('{\"a\": \"x\", \"b\": 2, \"c\": null}')")
    last = R.xrevrange("S1", count=1)[0][1]
    check(last == {b"a": b"x", b"b": b"2"}, "stream: INSERT data JSON -> fields")
    e = err_of(c, "INSERT INTO sj(data) VALUES ('not json')")
    check(e is not None and "JSON" in e, "stream: bad JSON is an error")


def pending_ids(key, group):
    return [e["message_id"].decode() for e in R.xpending_range(key, group, "-", "+", 10000)]


def test_stream_group():
    R.delete("S2")
    R.xadd("S2", {"n": "0"}, id="1-0")
    for i in range(1, 30):
        R.xadd("S2", {"n": str(i)}, id=f"{i + 1}-0")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE g USING redis_stream(url='{URL}', key='S2', group='G', "
              "consumer='c1', columns='n INTEGER', batch=7)")
    c.execute("CREATE TABLE local(id PRIMARY KEY, n)")
    c.execute("INSERT OR IGNORE INTO local SELECT id, n FROM g LIMIT 5")
    done = {r[0] for r in c.execute("SELECT id FROM local")}
    for _ in range(100):  # the XACK is sent without waiting: let it arrive
        ahead = pending_ids("S2", "G")
        if not done & set(ahead):
            break
        time.sleep(0.01)
    check(len(done) == 5 and not done & set(ahead) and len(ahead) <= 5,
          f"group: committed entries acknowledged, at most LIMIT read ahead ({ahead})")
    # Stopped early: the entries fetched ahead stay pending, none acknowledged;
    # what was read ahead comes first, in order, with the same ids.
    cur = c.execute("SELECT id, n FROM g")
    got = [cur.fetchone(), cur.fetchone()]
    cur.close()
    p = R.xpending("S2", "G")["pending"]
    check([g[1] for g in got] == [5, 6] and p >= 1, f"group: fetched-ahead stay pending ({p})")
    check([g[0] for g in got] == ahead[:2], f"group: read-ahead delivered first {got} {ahead}")
    c.execute("BEGIN")
    rows = c.execute("SELECT n FROM g LIMIT 3").fetchall()
    c.execute("ROLLBACK")
    check([r[0] for r in rows] == [8, 9, 10], f"group: pending ones first {rows}")
    rows = c.execute("SELECT n FROM g LIMIT 3").fetchall()
    check([r[0] for r in rows] == [8, 9, 10], "group: rolled-back entries delivered again")
    # Same transaction reading twice never sees an entry twice.
    c.execute("BEGIN")
    a = [r[0] for r in c.execute("SELECT n FROM g LIMIT 4")]
    b = [r[0] for r in c.execute("SELECT n FROM g LIMIT 4")]
    c.execute("COMMIT")
    check(a == [11, 12, 13, 14] and b == [15, 16, 17, 18], f"group: no repeats in a transaction {a} {b}")
    # A consumer killed mid-transaction: another claims after claim_idle_ms.
    n = run_and_kill(f"CREATE VIRTUAL TABLE g USING redis_stream(url='{URL}', key='S2', "
                     "group='G', consumer='dead', columns='n INTEGER')",
                     "SELECT n FROM g LIMIT 4")
    check(n == 4, "group: killed consumer read 4")
    c2 = db()
    c2.execute(f"CREATE VIRTUAL TABLE g USING redis_stream(url='{URL}', key='S2', group='G', "
               "consumer='c2', columns='n INTEGER', claim_idle_ms=400)")
    c2.execute("CREATE TABLE local(id PRIMARY KEY, n)")
    time.sleep(0.5)
    c2.execute("INSERT OR IGNORE INTO local SELECT id, n FROM g")
    got = sorted(r[0] for r in c2.execute("SELECT n FROM local"))
    c.execute("INSERT OR IGNORE INTO local SELECT id, n FROM g")
    got1 = sorted(r[0] for r in c.execute("SELECT n FROM local"))
    check(19 in got and 22 in got, "group: dead consumer's entries claimed")
    seen = set(got) | set(got1) | {5, 6, 7} | {r[0] for r in rows} | set(a) | set(b)
    check(sorted(seen) == list(range(30)), f"group: every entry delivered {sorted(seen)}")
    check(R.xpending("S2", "G")["pending"] == 0, "group: nothing left pending")


def test_stream_txn():
    """Stream writes: plain XADDs in one MULTI/EXEC, nothing on ROLLBACK, replies read
    without objects (a 20k-entry COMMIT), a failing XADD fails the COMMIT and
    leaves the connection in step; a group drain asks for no more than LIMIT."""
    R.delete("S3")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE s USING redis_stream(url='{URL}', key='S3', columns='m TEXT')")
    R.config_resetstat()
    c.execute("BEGIN")
    c.execute("INSERT INTO s(m) SELECT 'r' || value FROM generate_series(1, 50)"
              if has_series(c) else "INSERT INTO s(m) VALUES ('r1')")
    c.execute("ROLLBACK")
    check(R.xlen("S3") == 0 and stats("multi") == 0 and stats("xadd") == 0,
          "stream txn: ROLLBACK sends nothing")
    c.execute("BEGIN")
    c.execute("INSERT INTO s(m) VALUES ('a')")
    c.execute("SAVEPOINT sp")
    c.execute("INSERT INTO s(m) VALUES ('b')")
    c.execute("ROLLBACK TO sp")
    c.execute("INSERT INTO s(m) VALUES ('c')")
    c.execute("COMMIT")
    got = [f[b"m"] for _, f in R.xrange("S3")]
    check(got == [b"a", b"c"] and stats("multi") == 1 and stats("exec") == 1 and
          stats("xadd") == 2 and stats("eval") == 0,
          f"stream txn: one MULTI/EXEC of plain XADDs, ROLLBACK TO drops later rows {got}")
    c.execute("CREATE TABLE src(i INTEGER)")
    c.execute("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 20000) "
              "INSERT INTO src SELECT i FROM k")
    c.execute("INSERT INTO s(m) SELECT 'n' || i FROM src")
    check(R.xlen("S3") == 20002 and R.xrevrange("S3", count=1)[0][1] == {b"m": b"n20000"},
          "stream txn: 20k entries in one COMMIT")
    # An explicit id below the top fails at EXEC: the COMMIT fails with Redis's text.
    c.execute("BEGIN")
    c.execute("INSERT INTO s(id, m) VALUES ('1-1', 'low')")
    c.execute("INSERT INTO s(m) VALUES ('after')")
    e = err_of(c, "COMMIT") or "(no error)"
    if c.in_transaction:
        c.execute("ROLLBACK")
    check("equal or smaller" in e and URL in e, f"stream txn: failed XADD fails the COMMIT: {e}")
    check(R.xrange("S3", min="1-1", max="1-1") == [], "stream txn: the bad entry is not there")
    c.execute("INSERT INTO s(m) VALUES ('next')")
    last = R.xrevrange("S3", count=1)[0][1]
    check(last == {b"m": b"next"}, "stream txn: the connection is in step after a failed EXEC")
    # Group drain: after each COMMIT, only the read-ahead for the next batch is
    # pending (at most 500 entries), and it is exactly what that batch returns
    # first, in stream order; every committed entry is acknowledged.
    c.execute(f"CREATE VIRTUAL TABLE g USING redis_stream(url='{URL}', key='S3', group='G3', "
              "consumer='c1', columns='m TEXT')")
    c.execute("CREATE TABLE local(id TEXT PRIMARY KEY, m TEXT)")
    total, pend, ahead, bad, last = 0, set(), [], [], 0
    while True:
        n = c.execute("INSERT OR IGNORE INTO local SELECT id, m FROM g LIMIT 1000").rowcount
        if n <= 0:
            break
        total += n
        batch = [r[0] for r in c.execute("SELECT id FROM local WHERE rowid > ? ORDER BY rowid",
                                         (last,))]
        last = c.execute("SELECT max(rowid) FROM local").fetchone()[0]
        if batch[:len(ahead)] != ahead:
            bad.append((ahead[:2], batch[:2]))
        for _ in range(100):  # the XACK is sent without waiting: let it arrive
            ahead = pending_ids("S3", "G3")
            if not set(ahead) & set(batch):
                break
            time.sleep(0.01)
        if set(ahead) & set(batch):
            bad.append(("committed but pending", ahead[:2]))
        pend.add(len(ahead))
    check(total == R.xlen("S3") and not bad and max(pend) <= 500 and 500 in pend,
          f"group drain: {total} rows, between batches only the read-ahead is pending "
          f"({sorted(pend)}), delivered first by the next batch ({bad[:3]})")
    check(R.xpending("S3", "G3")["pending"] == 0, "group drain: nothing pending at the end")
    # A scan stopped early with a page on its way (then rolled back): the next
    # statement still works and every entry is delivered once the table is drained.
    for i in range(600):
        R.xadd("S3", {"m": f"late{i}"})
    c.execute("BEGIN")
    cur = c.execute("SELECT id, m FROM g")
    first = [cur.fetchone() for _ in range(3)]
    cur.close()
    c.execute("ROLLBACK")
    c.execute("INSERT OR IGNORE INTO local SELECT id, m FROM g")
    got = c.execute("SELECT count(*) FROM local WHERE m LIKE 'late%'").fetchone()[0]
    check(got == 600 and R.xpending("S3", "G3")["pending"] == 0,
          f"group: stopped scan, then drained: {got} of 600, none pending")
    check(all(r is not None for r in first), "group: stopped scan returned rows")


def test_bad_input():
    c = db()
    # Unreachable server: a closed port.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    e = err_of(c, f"CREATE VIRTUAL TABLE x1 USING redis_list(url='redis://127.0.0.1:{dead}/0', "
                  "key='k', connect_timeout_ms=500)")
    check(e is not None and f"redis://127.0.0.1:{dead}/0" in e and "connect" in e,
          f"bad: unreachable server: {e}")
    # Wrong password for an ACL user; the message never shows the password.
    R.execute_command("ACL", "SETUSER", "bzuser", "on", ">right-pw", "~*", "+@all")
    e = err_of(c, f"CREATE VIRTUAL TABLE x2 USING redis_list(url='redis://bzuser:wrong-pw@"
                  f"127.0.0.1:{PORT}/0', key='k')")
    check(e is not None and "WRONGPASS" in e and "wrong-pw" not in e and
          f"redis://bzuser:***@127.0.0.1:{PORT}/0" in e, f"bad: wrong password: {e}")
    c.execute(f"CREATE VIRTUAL TABLE ok2 USING redis_list(url='redis://bzuser:right-pw@"
              f"127.0.0.1:{PORT}/0', key='ACLQ')")
    c.execute("INSERT INTO ok2 VALUES ('x')")
    check(R.lpop("ACLQ") == b"x", "ACL user with the right password works")
    R.execute_command("ACL", "DELUSER", "bzuser")
    # WRONGTYPE at CREATE and at COMMIT.
    R.set("STR", "x")
    e = err_of(c, f"CREATE VIRTUAL TABLE x3 USING redis_list(url='{URL}', key='STR')")
    check(e is not None and "WRONGTYPE" in e and URL in e, f"bad: wrong type at CREATE: {e}")
    R.delete("LATER")
    c.execute(f"CREATE VIRTUAL TABLE x4 USING redis_list(url='{URL}', key='LATER')")
    R.set("LATER", "x")
    e = err_of(c, "INSERT INTO x4 VALUES ('v')")
    check(e is not None and "WRONGTYPE" in e and URL in e, f"bad: WRONGTYPE at COMMIT: {e}")
    e = err_of(c, "SELECT * FROM x4")
    check(e is not None and "WRONGTYPE" in e, f"bad: WRONGTYPE when reading: {e}")
    # Too large.
    c.execute(f"CREATE VIRTUAL TABLE x5 USING redis_list(url='{URL}', key='BIG', max_bytes=10)")
    e = err_of(c, "INSERT INTO x5 VALUES ('01234567890')")
    check(e is not None and "exceeds max_bytes=10" in e, f"bad: message too large: {e}")
    # Malformed URL, TLS, unknown option, missing key.
    for url, want in [("http://h/0", "malformed"), ("redis://h:99999/0", "bad port"),
                      ("rediss://127.0.0.1:1/0", "not supported")]:
        e = err_of(c, f"CREATE VIRTUAL TABLE x6 USING redis_list(url='{url}', key='k')")
        check(e is not None and want in e, f"bad: {url}: {e}")
    e = err_of(c, f"CREATE VIRTUAL TABLE x7 USING redis_list(url='{URL}', key='k', colour=1)")
    check(e is not None and "unknown option" in e, "bad: unknown option")
    e = err_of(c, f"CREATE VIRTUAL TABLE x7 USING redis_list(url='{URL}', key='k', key='j')")
    check(e is not None and "more than once" in e, "bad: duplicate option")
    e = err_of(c, f"CREATE VIRTUAL TABLE x7 USING redis_list(url='{URL}')")
    check(e is not None and "redis_list: key= is required" in e, "bad: missing key names the module")
    # redis_command.
    check(c.execute("SELECT redis_command(?, 'PING')", (URL,)).fetchone()[0] == "PONG",
          "redis_command: PING")
    R.delete("RC")
    R.rpush("RC", "a", "b")
    v = c.execute("SELECT redis_command(?, 'LRANGE', 'RC', 0, -1)", (URL,)).fetchone()[0]
    check(v == '["a","b"]', "redis_command: arrays as JSON")
    e = err_of(c, "SELECT redis_command(?, 'INCR', 'RC')", URL)
    check(e is not None and "WRONGTYPE" in e and URL in e, f"redis_command: error reply: {e}")


def test_dropped_connection():
    R.delete("L6", "L6:bz:proc:dc", "L6:bz:consumers")
    R.rpush("L6", *[f"x{i}" for i in range(10)])
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE w USING redis_list(url='{URL}', key='L6', consume=1, "
              "consumer='dc')")
    c.execute(f"CREATE VIRTUAL TABLE p USING redis_list(url='{URL}', key='L6')")
    c.execute("CREATE TABLE done(v)")
    c.execute("BEGIN")
    c.execute("INSERT INTO done SELECT value FROM w LIMIT 3")
    c.execute("INSERT INTO p VALUES ('new')")
    me = R.client_id()
    for cl in R.client_list():
        if int(cl["id"]) != me:
            R.client_kill_filter(_id=cl["id"])
    e = err_of(c, "COMMIT")
    check(e is not None, f"dropped: COMMIT fails when the buffered writes cannot be sent: {e}")
    if not c.in_transaction:
        pass
    else:
        c.execute("ROLLBACK")
    check(R.llen("L6:bz:proc:dc") == 3 and b"new" not in R.lrange("L6", 0, -1),
          "dropped: nothing acknowledged, nothing half-sent")
    rows = [r[0] for r in c.execute("SELECT value FROM w LIMIT 5")]
    check(rows == ["x0", "x1", "x2", "x3", "x4"], f"dropped: reconnects and redelivers {rows}")


def multi_clients():
    """Clients of the server with a MULTI open: {id: queued commands}."""
    return {int(cl["id"]): int(cl.get("multi", -1)) for cl in R.client_list()
            if int(cl.get("multi", -1)) >= 0}


def test_stream_streamed_multi():
    """Large transactions stream their XADDs into a MULTI on a write connection
    before COMMIT: nothing is visible until COMMIT, ROLLBACK (also a statement
    failing in autocommit) discards it, ROLLBACK TO keeps exact contents, and a
    write connection dropped mid-way applies nothing and fails the COMMIT."""
    R.delete("S4")
    c = db()
    c.execute(f"CREATE VIRTUAL TABLE s USING redis_stream(url='{URL}', key='S4', columns='m TEXT')")
    c.execute("CREATE TABLE src(i INTEGER)")
    c.execute("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 20000) "
              "INSERT INTO src SELECT i FROM k")
    R.config_resetstat()
    c.execute("BEGIN")
    c.execute("INSERT INTO s(m) SELECT 'a' || i FROM src")
    for _ in range(200):  # everything was sent; Redis may still be queuing it
        open_multi = multi_clients()
        queued = max(open_multi.values(), default=0)
        if queued == 20000:
            break
        time.sleep(0.01)
    check(R.xlen("S4") == 0 and len(open_multi) == 1 and queued == 20000,
          f"streamed: 20k XADDs queued in a MULTI before COMMIT ({queued}), none visible")
    c.execute("ROLLBACK")
    check(R.xlen("S4") == 0 and stats("discard") == 1 and not multi_clients(),
          "streamed: ROLLBACK discards the MULTI")
    # A row failing after 20k streamed rows (autocommit): nothing applied.
    e = err_of(c, "INSERT INTO s(m) SELECT CASE WHEN i < 20000 THEN 'b' || i END FROM src")
    check(e is not None and "non-NULL" in e and R.xlen("S4") == 0 and not multi_clients(),
          f"streamed: a statement failing mid-way applies nothing: {e}")
    # Savepoints: only rows before the oldest open savepoint are streamed.
    c.execute("BEGIN")
    c.execute("INSERT INTO s(m) SELECT 'c' || i FROM src")
    c.execute("SAVEPOINT sp")
    c.execute("INSERT INTO s(m) SELECT 'd' || i FROM src")
    c.execute("ROLLBACK TO sp")
    c.execute("INSERT INTO s(m) VALUES ('e1'), ('e2')")
    c.execute("RELEASE sp")
    c.execute("COMMIT")
    got = [f[b"m"].decode() for _, f in R.xrange("S4")]
    check(got == [f"c{i}" for i in range(1, 20001)] + ["e1", "e2"],
          f"streamed: ROLLBACK TO a savepoint keeps exact contents ({len(got)} entries)")
    # The write connection killed with a MULTI open: nothing applied, COMMIT fails,
    # the next transaction works.
    R.delete("S4")
    c.execute("BEGIN")
    c.execute("INSERT INTO s(m) SELECT 'f' || i FROM src")
    for _ in range(200):  # sent when the statement ended; Redis may not have read MULTI yet
        if multi_clients():
            break
        time.sleep(0.01)
    killed = list(multi_clients())
    for cid in killed:
        R.client_kill_filter(_id=cid)
    e = err_of(c, "INSERT INTO s(m) SELECT 'g' || i FROM src")
    e = e or err_of(c, "COMMIT")
    if c.in_transaction:
        c.execute("ROLLBACK")
    check(len(killed) == 1 and e is not None and R.xlen("S4") == 0,
          f"streamed: dropped write connection applies nothing, the COMMIT fails: {e}")
    c.execute("INSERT INTO s(m) SELECT 'h' || i FROM src")
    check(R.xlen("S4") == 20000 and not multi_clients(), "streamed: the next transaction works")


if __name__ == "__main__":
    for t in [test_list_basic, test_list_txn, test_list_consume, test_list_dead_consumer,
              test_list_block, test_stream_read, test_stream_group, test_stream_txn,
              test_stream_streamed_multi, test_bad_input,
              test_dropped_connection]:
        try:
            t()
        except Exception as ex:  # report and go on
            import traceback
            traceback.print_exc()
            FAILS.append(f"{t.__name__}: {ex!r}")
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)
