#!/usr/bin/python3
"""CPU time of TPC-H Q6 over a plain `parquet` table (one connection, one thread).

    /usr/bin/python3 bench/q6_cpu.py [SO] [DATA] [REPS]
    /usr/bin/python3 bench/q6_cpu.py build/buzzlite.so bench/data/lineitem_sf1_split8 5

Creates the table over DATA (a file, directory or glob), runs Q6 once to warm up,
then REPS times, and prints per run user+sys CPU seconds of the process and wall
seconds, the best of each, the result, the load average and parquet_stats()
rows_filtered of the last run. CPU time is what to judge by on a shared machine.
"""
import json
import os
import resource
import sqlite3
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SO = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "buzzlite.so")
DATA = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "bench", "data", "lineitem_sf1_split8")
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
Q6 = ("SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem "
      "WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' "
      "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24")


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


con = sqlite3.connect(":memory:")
con.enable_load_extension(True)
con.load_extension(os.path.abspath(SO))
con.execute("CREATE VIRTUAL TABLE lineitem USING parquet(%s)" % ("'" + DATA.replace("'", "''") + "'"))
cpus, walls, res = [], [], None
for k in range(REPS + 1):
    before = json.loads(con.execute("SELECT parquet_stats()").fetchone()[0])
    c0, t0 = cpu(), time.perf_counter()
    res = con.execute(Q6).fetchone()[0]
    t, c = time.perf_counter() - t0, cpu() - c0
    after = json.loads(con.execute("SELECT parquet_stats()").fetchone()[0])
    if k > 0:
        cpus.append(c)
        walls.append(t)
print(json.dumps({
    "so": SO, "cpu_s": [round(x, 3) for x in cpus], "wall_s": [round(x, 3) for x in walls],
    "cpu_best": round(min(cpus), 3), "wall_best": round(min(walls), 3), "revenue": res,
    "rows_filtered": after["rows_filtered"] - before["rows_filtered"],
    "loadavg": os.getloadavg()}))
