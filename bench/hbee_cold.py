"""hbee cold start: process start to first task accepted, per worker mode.

    python3 bench/hbee_cold.py --hbee build/hbee [--redis redis://127.0.0.1:6379/0]
                               [--reps 40] [--task trivial.json]

Each measurement starts the process with posix_spawn (no shell) and stops
the clock when the process is ready to accept a task:
  lambda   exec -> the first `GET /2018-06-01/runtime/invocation/next` read by
           a small socket server given as AWS_LAMBDA_RUNTIME_API (the request
           line and headers fully received); the process is then killed
  redis    exec -> the worker's first XREADGROUP on the task stream, as seen by
           a MONITOR connection on the real Redis server; then SIGTERM
  run      `hbee run` of a trivial task (count(*) of a 311-byte file): exec to
           exit (the whole task, not just acceptance)
  true     /bin/true, exec to exit: what process creation costs on this machine
For each: median and minimum wall ms, and median CPU ms (user+sys of the child
from wait4, load-independent). Loaded machines make wall times noisy; CPU ms
and the dynamic library count are the numbers to compare across machines.
Prints markdown lines (used by bench/hbee_bench.py, also standalone).
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def spawn(argv, env):
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        return os.posix_spawn(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2)])
    finally:
        os.close(devnull)


def reap(pid, sig=None):
    if sig:
        os.kill(pid, sig)
    _, _, ru = os.wait4(pid, 0)
    return (ru.ru_utime + ru.ru_stime) * 1000


def to_exit(argv, env):
    t0 = time.perf_counter_ns()
    pid = spawn(argv, env)
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter_ns() - t0) / 1e6
    if os.waitstatus_to_exitcode(status) != 0 and argv[0] != "/bin/false":
        raise SystemExit(f"{argv} exited with {status}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000


def lambda_once(hbee, srv):
    port = srv.getsockname()[1]
    env = {"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}", "PATH": "/usr/bin:/bin"}
    t0 = time.perf_counter_ns()
    pid = spawn([hbee], env)
    c, _ = srv.accept()
    buf = b""
    while b"\r\n\r\n" not in buf:
        k = c.recv(4096)
        if not k:
            break
        buf += k
    wall = (time.perf_counter_ns() - t0) / 1e6
    cpu = reap(pid, signal.SIGKILL)  # before closing: a closed connection is retried
    c.close()
    if not buf.startswith(b"GET /2018-06-01/runtime/invocation/next "):
        raise SystemExit(f"lambda mode sent {buf[:80]!r}")
    return wall, cpu


def redis_once(hbee, redis_url, mon, n):
    queue = f"hbee:cold:{os.getpid()}:{n}"
    env = {"PATH": "/usr/bin:/bin"}
    t0 = time.perf_counter_ns()
    pid = spawn([hbee, "worker", "--redis", redis_url, "--queue", queue], env)
    buf = b""
    while True:
        k = mon.recv(65536)
        if not k:
            raise SystemExit("MONITOR connection closed")
        buf += k
        lines = buf.split(b"\r\n")
        buf = lines.pop()
        if any(b'"XREADGROUP"' in ln and queue.encode() in ln for ln in lines):
            break
    wall = (time.perf_counter_ns() - t0) / 1e6
    return wall, reap(pid, signal.SIGTERM)


def monitor(redis_url):
    hostport = redis_url.split("://", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.sendall(b"MONITOR\r\n")
    got = b""
    while b"+OK\r\n" not in got:
        got += s.recv(100)
    return s


def summary(name, xs):
    w = sorted(x[0] for x in xs)
    c = sorted(x[1] for x in xs)
    return {"mode": name, "n": len(xs), "wall_median_ms": statistics.median(w),
            "wall_min_ms": w[0], "cpu_median_ms": statistics.median(c)}


def ndeps(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return sum(1 for ln in out.splitlines() if ln.strip() and "linux-vdso" not in ln)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hbee", default=os.path.join(ROOT, "build", "hbee"))
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL"))
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_COLD_REPS", "40")))
    ap.add_argument("--task")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    hbee = os.path.abspath(a.hbee)
    tmp = tempfile.mkdtemp(prefix="hbee-cold-")
    task = a.task
    if not task:
        task = os.path.join(tmp, "trivial.json")
        with open(task, "w") as f:
            json.dump({"version": 1, "query_id": "cold", "task_id": 0,
                       "split": {"path": os.path.join(ROOT, "tests", "data", "union", "a.parquet"),
                                 "row_groups": []}, "columns": [], "options": {},
                       "sql": "SELECT count(*) AS _a0 FROM split"}, f)
    env = {"PATH": "/usr/bin:/bin"}
    res = []
    for _ in range(3):  # warm the page cache
        to_exit(["/bin/true"], env)
        to_exit([hbee, "run", task], env)
    res.append(summary("true", [to_exit(["/bin/true"], env) for _ in range(a.reps)]))
    res.append(summary("run", [to_exit([hbee, "run", task], env) for _ in range(a.reps)]))
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    lambda_once(hbee, srv)
    res.append(summary("lambda", [lambda_once(hbee, srv) for _ in range(a.reps)]))
    srv.close()
    if a.redis:
        mon = monitor(a.redis)
        redis_once(hbee, a.redis, mon, -1)
        res.append(summary("redis", [redis_once(hbee, a.redis, mon, i) for i in range(a.reps)]))
        mon.close()
    load = os.getloadavg()
    if a.json:
        print(json.dumps({"results": res, "load": load, "libs": ndeps(hbee)}))
        return 0
    print(f"hbee cold start (`{os.path.relpath(hbee, ROOT)}`, {ndeps(hbee)} shared libraries "
          f"in `ldd`; {a.reps} runs each; load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}):\n")
    print("| mode | from exec to | wall median ms | wall min ms | CPU median ms |")
    print("|---|---|---:|---:|---:|")
    what = {"true": "exit (`/bin/true`, the machine's baseline)",
            "run": "exit of `hbee run` (trivial task, whole run)",
            "lambda": "first `GET .../invocation/next` received",
            "redis": "first XREADGROUP (Redis MONITOR)"}
    for r in res:
        print(f"| {r['mode']} | {what[r['mode']]} | {r['wall_median_ms']:.1f} | "
              f"{r['wall_min_ms']:.1f} | {r['cpu_median_ms']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
