"""S3 benchmark driver (run by bench/s3_bench.sh, which starts s3rver and exports
AWS_ENDPOINT_URL_S3 and friends; see there for usage).

1. Uploads the Parquet file with s3_put (multipart above 16 MiB).
2. Runs each query in a fresh python3 process (/usr/bin/python3's sqlite3 + the
   extension): CREATE VIRTUAL TABLE lineitem USING parquet('s3://...'), then the
   query. s3_stats() (every HTTP request of the process: requests, body bytes,
   retries, hedges) and parquet_stats() (what the reader asked its source for)
   are read at load, after CREATE and after the query; the table shows the
   totals from load (open + query), since the footer is part of the cost.
3. Computes each query's minimum from the local copy of the same file
   (parquet_metadata + the page headers): the byte ranges the query cannot avoid
   plus the footer, and the number of requests those ranges need when merged
   with the S3 source's rule per row group batch (see coalesce()).
   Allowed requests = 2 (HEAD for size/ETag, one tail read for the footer) + one
   per merged range.
4. Times the whole-object download: s3_get (SELECT length(s3_get(url)), the
   statement alone, fresh process each time) against curl -o /dev/null of the
   object URL on the same s3rver; best of REPS each, interleaved.

Prints a markdown table on stdout; progress on stderr.
"""

import json
import os
import struct
import subprocess
import sys
import time

REPS = int(os.environ.get("BENCH_REPS", "3"))
GAP = 1 << 20      # aws_s3_readat.c: default coalesce gap
MAX_MERGE = 64 << 20
PY = "/usr/bin/python3"

CHILD = r"""
import json, sqlite3, sys, time
ext, url, opts, sql = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(ext)
def snap():
    a, b = db.execute("SELECT s3_stats(), parquet_stats()").fetchone()
    return {"s3": json.loads(a), "pq": json.loads(b)}
s0 = snap()
t0 = time.perf_counter()
db.execute("CREATE VIRTUAL TABLE lineitem USING parquet('%s'%s)" % (url.replace("'", "''"), opts))
s1 = snap()
t1 = time.perf_counter()
rows = db.execute(sql).fetchall()
t2 = time.perf_counter()
s2 = snap()
print(json.dumps({"s0": s0, "s1": s1, "s2": s2, "open_s": t1 - t0, "query_s": t2 - t1,
                  "nrows": len(rows), "first": [str(v)[:40] for v in (rows[0] if rows else [])]}))
"""

GET_CHILD = r"""
import json, sqlite3, sys, time
ext, url = sys.argv[1], sys.argv[2]
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(ext)
t0 = time.perf_counter()
n = db.execute("SELECT length(s3_get(?))", (url,)).fetchone()[0]
t = time.perf_counter() - t0
print(json.dumps({"secs": t, "bytes": n, "s3": json.loads(db.execute("SELECT s3_stats()").fetchone()[0])}))
"""

PUT_CHILD = r"""
import json, sqlite3, sys, time
ext, url, path = sys.argv[1], sys.argv[2], sys.argv[3]
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(ext)
data = open(path, "rb").read()
t0 = time.perf_counter()
etag = db.execute("SELECT s3_put(?, ?)", (url, data)).fetchone()[0]
t = time.perf_counter() - t0
print(json.dumps({"secs": t, "etag": etag, "s3": json.loads(db.execute("SELECT s3_stats()").fetchone()[0])}))
"""


def child(code, *args):
    p = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("child failed: " + (p.stderr.strip().splitlines() or ["?"])[-1])
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---- minimum from the file itself -------------------------------------------------

def _varint(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if not x & 0x80:
            return r, i


def _skip(b, i, t):
    """Skip one Thrift compact value of type t at b[i]."""
    if t in (1, 2):
        return i
    if t == 3:
        return i + 1
    if t in (4, 5, 6):
        return _varint(b, i)[1]
    if t == 7:
        return i + 8
    if t == 8:
        n, i = _varint(b, i)
        return i + n
    if t in (9, 10):
        h = b[i]
        i += 1
        n, et = h >> 4, h & 15
        if n == 15:
            n, i = _varint(b, i)
        for _ in range(n):
            i = _skip(b, i, et)
        return i
    if t == 12:
        return _struct(b, i)[1]
    raise ValueError(f"thrift type {t}")


def _struct(b, i):
    """Thrift compact struct at b[i]: ({field id: int value} for i32 fields 1-3, end)."""
    fid, out = 0, {}
    while True:
        h = b[i]
        i += 1
        if h == 0:
            return out, i
        t, d = h & 15, h >> 4
        if d:
            fid += d
        else:
            v, i = _varint(b, i)
            fid = (v >> 1) ^ -(v & 1)
        if t == 5 and fid in (1, 2, 3):
            v, i = _varint(b, i)
            out[fid] = (v >> 1) ^ -(v & 1)
        else:
            i = _skip(b, i, t)


def page_end(f, off):
    """Offset just past the page whose header starts at off (PageHeader field 3 =
    compressed_page_size)."""
    f.seek(off)
    b = f.read(4096)
    h, n = _struct(b, 0)
    return off + n + h[3]


def coalesce(ranges):
    """The S3 source's merge rule (aws_s3_coalesce in src/aws/s3/aws_s3_readat.c), for
    one batch of ranges (the reader asks for one row group's chunks per batch):
    overlaps and gaps under min(GAP, 8 KiB) always merge; larger gaps under GAP merge
    smallest first while the merged gap bytes stay within 1/16 of the bytes asked for;
    a merged request stays <= MAX_MERGE."""
    rs = sorted(r for r in ranges if r[1] > 0)
    useful = sum(n for _, n in rs)
    join = [False] * len(rs)
    gaps, end = [], 0
    for i, (off, n) in enumerate(rs):
        if i > 0:
            if off <= end or off - end < min(GAP, 8192):
                join[i] = True
            elif off - end < GAP:
                gaps.append((off - end, i))
        end = max(end, off + n)
    budget = useful // 16
    for g, i in sorted(gaps):
        if g > budget:
            break
        budget -= g
        join[i] = True
    out = []
    for i, (off, n) in enumerate(rs):
        if out and join[i] and max(out[-1][1], off + n) - out[-1][0] <= MAX_MERGE:
            out[-1][1] = max(out[-1][1], off + n)
        else:
            out.append([off, off + n])
    return out


def coalesce_by_row_group(ranges, meta):
    """Apply coalesce() per row group, as the reader batches its reads."""
    rg_of = {chunk_range(m)[0]: m["row_group"] for m in meta}
    batches = {}
    for r in ranges:
        batches.setdefault(rg_of.get(r[0], -1), []).append(r)
    return [m for g in sorted(batches) for m in coalesce(batches[g])]


def metadata(ext, path):
    import sqlite3
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(ext)
    cols = ["row_group", "num_rows", "column_id", "path", "total_compressed_size",
            "data_page_offset", "dictionary_page_offset", "min", "max"]
    rows = db.execute(f"SELECT {', '.join(cols)} FROM parquet_metadata(?)", (path,)).fetchall()
    return [dict(zip(cols, r)) for r in rows]


def chunk_range(m):
    start = m["dictionary_page_offset"] if m["dictionary_page_offset"] is not None else m["data_page_offset"]
    return (start, m["total_compressed_size"])


def minimum(meta, path, label):
    """(data ranges the query needs, description)."""
    rgs = sorted({m["row_group"] for m in meta})
    by = {(m["row_group"], m["path"]): m for m in meta}
    if label.startswith("sum"):
        return [chunk_range(by[(g, "l_extendedprice")]) for g in rgs], "l_extendedprice chunks, all row groups"
    if label.startswith("TPC-H Q6"):
        keep = []
        for g in rgs:
            sd, di, qu = by[(g, "l_shipdate")], by[(g, "l_discount")], by[(g, "l_quantity")]
            if sd["max"] < "1994-01-01" or sd["min"] >= "1995-01-01":
                continue
            if float(di["max"]) < 0.05 or float(di["min"]) > 0.07 or float(qu["min"]) >= 24:
                continue
            keep.append(g)
        cols = ("l_quantity", "l_extendedprice", "l_discount", "l_shipdate")
        return ([chunk_range(by[(g, c)]) for g in keep for c in cols],
                f"4 columns x {len(keep)} row groups not pruned")
    if label.startswith("point"):
        key = int(label.split("=")[1])
        keep = [g for g in rgs if int(by[(g, "l_orderkey")]["min"]) <= key <= int(by[(g, "l_orderkey")]["max"])]
        return ([chunk_range(m) for m in meta if m["row_group"] in keep],
                f"16 chunks of row group {','.join(map(str, keep))}")
    if label.startswith("LIMIT"):
        out = []
        with open(path, "rb") as f:
            for m in meta:
                if m["row_group"] != 0:
                    continue
                start, n = chunk_range(m)
                end = page_end(f, m["data_page_offset"])  # dictionary + first data page
                out.append((start, min(end, start + n) - start))
        return out, "dictionary + first data page of 16 columns, row group 0"
    raise ValueError(label)


def queries(key):
    return [
        ("sum(l_extendedprice)", "SELECT sum(l_extendedprice) FROM lineitem", ""),
        ("TPC-H Q6", "SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem "
                     "WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01' "
                     "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24", ""),
        (f"point l_orderkey={key}", f"SELECT * FROM lineitem WHERE l_orderkey = {key}", ""),
        ("LIMIT 10", "SELECT * FROM lineitem LIMIT 10", ""),
    ]


# Extra rows, outside the targets: the same queries with a knob turned, to show
# where the misses come from.
VARIANTS = [
    ("sum(l_extendedprice)", "tail_size=131072", ", tail_size=131072", {}),
    ("TPC-H Q6", "BZ_S3_COALESCE_GAP=65536", "", {"BZ_S3_COALESCE_GAP": "65536"}),
]


def main():
    path, ext, url, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(size - 8)
        flen = struct.unpack("<I", f.read(4))[0]
    footer = flen + 8

    put = child(PUT_CHILD, ext, url, path)
    print(f"  upload: {size / 2**20:.1f} MiB in {put['secs']:.2f} s, {put['s3']['requests']} requests",
          file=sys.stderr, flush=True)

    meta = metadata(ext, path)
    rows = []
    qs = [(lab, sql, opts, lab, {}) for lab, sql, opts in queries(key)]
    for base, vlabel, opts, env in VARIANTS:
        sql = next(s for lab, s, _ in queries(key) if lab == base)
        qs.append((f"{base}, {vlabel}", sql, opts, base, env))
    for label, sql, opts, base, env in qs:
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            r = child(CHILD, ext, url, opts, sql)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        need, what = minimum(meta, path, base)
        merged = coalesce_by_row_group(need, meta)
        d = {k: r["s2"]["s3"][k] - r["s0"]["s3"][k] for k in r["s2"]["s3"]}
        p = {k: r["s2"]["pq"][k] - r["s0"]["pq"][k] for k in r["s2"]["pq"]}
        openreq = r["s1"]["s3"]["requests"] - r["s0"]["s3"]["requests"]
        minb = sum(n for _, n in need) + footer
        allowed = 2 + len(merged)
        rows.append(dict(label=label, d=d, p=p, openreq=openreq, minb=minb, allowed=allowed,
                         nmerged=len(merged), what=what, secs=r["open_s"] + r["query_s"],
                         target=not env and not opts))
        print(f"  {label:<44} {d['bytes']:>11,} B (min {minb:,}) {d['requests']} req (allowed {allowed})"
              f"  {r['open_s'] + r['query_s']:.2f} s  rows {r['nrows']}", file=sys.stderr, flush=True)

    gets, curls = [], []
    for _ in range(REPS):
        g = child(GET_CHILD, ext, url)
        if g["bytes"] != size:
            raise SystemExit(f"s3_get returned {g['bytes']} bytes, expected {size}")
        gets.append(g)
        obj = os.environ["AWS_ENDPOINT_URL_S3"] + "/" + url[len("s3://"):]
        c = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}", obj],
                           capture_output=True, text=True, check=True).stdout.split()
        if c[0] != "200" or int(c[2]) != size:
            raise SystemExit(f"curl: HTTP {c[0]}, {c[2]} bytes")
        curls.append(float(c[1]))
        print(f"  download: s3_get {g['secs']:.3f} s ({g['s3']['requests']} req), curl {float(c[1]):.3f} s",
              file=sys.stderr, flush=True)
    g_best = min(x["secs"] for x in gets)
    c_best = min(curls)

    ok = lambda b: "yes" if b else "**no**"
    print(f"Object: `{os.path.basename(path)}`, {size:,} bytes, {len({m['row_group'] for m in meta})} row groups, "
          f"footer {footer:,} bytes (metadata {flen:,} + 8); uploaded with s3_put in {put['secs']:.2f} s "
          f"({put['s3']['requests']} requests{': multipart' if put['s3']['requests'] > 1 else ''}). {os.cpu_count()} CPUs.\n")
    print("| query | bytes fetched | minimum bytes | ratio (<= 1.10) | requests (open + query) "
          "| allowed: 2 + merged ranges | reader bytes / reads | row groups read / skipped | s | targets met |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for x in rows:
        d, p = x["d"], x["p"]
        ratio = d["bytes"] / x["minb"]
        bok, rok = ratio <= 1.10, d["requests"] <= x["allowed"]
        extra = f" +{d['retries']} retries" if d["retries"] else ""
        extra += f" +{d['hedges']} hedges" if d["hedges"] else ""
        verdict = f"bytes {ok(bok)}, requests {ok(rok)}" if x["target"] else "(variant)"
        print(f"| {x['label']} | {d['bytes']:,} | {x['minb']:,} | {ratio:.3f}x | {d['requests']} "
              f"({x['openreq']} + {d['requests'] - x['openreq']}){extra} | {x['allowed']} (2 + {x['nmerged']}) "
              f"| {p['bytes_read']:,} / {p['reads']} | {p['row_groups_read']} / {p['row_groups_skipped']} "
              f"| {x['secs']:.2f} | {verdict} |")
    rate = lambda s: size / s / 1e6
    print()
    print("| whole-object download (best of %d) | s | MB/s | vs curl (>= 80%%) |" % REPS)
    print("|---|---:|---:|---:|")
    print(f"| curl -o /dev/null | {c_best:.3f} | {rate(c_best):.0f} | 100% |")
    print(f"| SELECT length(s3_get(url)) | {g_best:.3f} | {rate(g_best):.0f} | "
          f"{100 * c_best / g_best:.0f}% ({ok(c_best / g_best >= 0.8)}) |")
    runs_g = ", ".join("%.3f" % x["secs"] for x in gets)
    runs_c = ", ".join("%.3f" % x for x in curls)
    print(f"\nAll runs (s): s3_get {runs_g}; curl {runs_c}.")


if __name__ == "__main__":
    main()
