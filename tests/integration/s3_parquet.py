"""Parquet over S3 (s3rver from the test stack): the `parquet` table on s3://
URLs reads exactly what it reads locally, prunes with statistics, the page
index and hive partitions, caches footers in-process and in a metadata_cache
database across processes, survives injected faults, and reports bad input
with errors naming the URL.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from s3_testlib import BUCKET, Proxy, check, connect, done, one  # noqa: E402

SHARED = os.environ.get("BZ_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
DATA = os.path.join(SHARED, "parquet-testing", "data")
B = f"s3://{BUCKET}/pq"
SAN = os.environ.get("BZ_SAN") == "1"

FILES = ["alltypes_tiny_pages.parquet", "alltypes_plain.parquet", "nested_lists.snappy.parquet",
         "nested_maps.snappy.parquet", "datapage_v2.snappy.parquet", "delta_byte_array.parquet",
         "byte_stream_split.zstd.parquet", "data_index_bloom_encoding_stats.parquet",
         "int32_with_null_pages.parquet", "nulls.snappy.parquet", "lz4_raw_compressed_larger.parquet"]

db = connect()


def stats():
    return json.loads(one(db, "select parquet_stats()"))


def put(url, path):
    with open(path, "rb") as f:
        r = one(db, "select s3_put(?, ?)", url, f.read())
    assert not str(r).startswith("ERROR"), r


for f in FILES:
    put(f"{B}/files/{f}", os.path.join(DATA, f))
for y in (2020, 2021, 2022):
    for part in ("a", "b"):
        put(f"{B}/hive/year={y}/part-{part}.parquet", os.path.join(DATA, "alltypes_plain.parquet"))

# 1. every file reads the same over S3 as locally
for f in FILES:
    local, remote = f"l_{len(f)}_{abs(hash(f)) % 10000}", f"r_{len(f)}_{abs(hash(f)) % 10000}"
    db.execute(f"create virtual table {local} using parquet('{os.path.join(DATA, f)}')")
    db.execute(f"create virtual table {remote} using parquet('{B}/files/{f}')")
    a = db.execute(f"select * from {local}").fetchall()
    b = db.execute(f"select * from {remote}").fetchall()
    check(f"{f}: same rows over S3 ({len(a)})", a == b and len(a) > 0)

# 2. the page index turns into fewer bytes fetched
db.execute(f"create virtual table tiny using parquet('{B}/files/alltypes_tiny_pages.parquet')")
db.execute(f"create virtual table tiny0 using parquet('{B}/files/alltypes_tiny_pages.parquet', pushdown=0)")
size = os.path.getsize(os.path.join(DATA, "alltypes_tiny_pages.parquet"))
s0 = stats()
got = db.execute("select count(*), sum(id) from tiny where id between 100 and 200").fetchone()
s1 = stats()
check("page-index query result", got == (101, 15150), got)
fetched = s1["bytes_read"] - s0["bytes_read"]
check(f"page-index query fetched {fetched} of {size} bytes", 0 < fetched < size / 4)
check("same answer without pushdown",
      db.execute("select count(*), sum(id) from tiny0 where id between 100 and 200").fetchone() == got)

# 3. footers come from the in-process cache for a second table
s0 = stats()
db.execute(f"create virtual table tiny2 using parquet('{B}/files/alltypes_tiny_pages.parquet')")
s1 = stats()
check("second table over the same object reads no footer bytes",
      s1["bytes_read"] == s0["bytes_read"], s1["bytes_read"] - s0["bytes_read"])

# 4. hive partitions over S3 keys, pruned before any object is opened
db.execute(f"create virtual table hv using parquet('{B}/hive/**/*.parquet')")
rows = db.execute("select year, count(*) from hv group by year order by year").fetchall()
check("hive columns from keys", rows == [(2020, 16), (2021, 16), (2022, 16)], rows)
s0 = stats()
n = one(db, "select count(*) from hv where year = 2021 and id >= 0")
s1 = stats()
check("hive pruned query", n == 16, n)
check("only the 2021 objects were read", s1["row_groups_read"] - s0["row_groups_read"] == 2,
      s1["row_groups_read"] - s0["row_groups_read"])
check("filename is the s3 URL", one(db, "select min(filename) from hv") ==
      f"{B}/hive/year=2020/part-a.parquet")
db.execute(f"create virtual table hp using parquet('{B}/hive/')")
check("a prefix ending in / lists everything below", one(db, "select count(*) from hp") == 48)

# 5. metadata_cache: a new process plans without reading footers
with tempfile.TemporaryDirectory() as tmp:
    cache = os.path.join(tmp, "meta.db")
    script = f"""
import json, os, sqlite3
db = sqlite3.connect(':memory:'); db.enable_load_extension(True); db.load_extension({os.environ['BZ_EXT']!r})
db.execute("create virtual table t using parquet('{B}/hive/**/*.parquet', metadata_cache='{cache}')")
print(json.dumps([db.execute('select count(*) from t').fetchone()[0],
                  json.loads(db.execute('select parquet_stats()').fetchone()[0])]))
"""
    outs = []
    for _ in range(2):
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        outs.append(json.loads(p.stdout) if p.returncode == 0 else p.stderr)
    ok = all(isinstance(o, list) for o in outs)
    check("metadata_cache runs", ok, outs)
    if ok:
        check("same count in both processes", outs[0][0] == outs[1][0] == 48, outs)
        check("first process parsed footers from S3", outs[0][1]["files_opened"] == 6, outs[0][1])
        # the second process reads only data pages: no tail reads
        check("second process read fewer bytes (footers from the cache)",
              outs[1][1]["bytes_read"] < outs[0][1]["bytes_read"], (outs[0][1], outs[1][1]))
        check("second process made fewer reads", outs[1][1]["reads"] <= outs[0][1]["reads"] - 6,
              (outs[0][1]["reads"], outs[1][1]["reads"]))

# 6. bad input: clear errors naming the URL
e = one(db, f"select count(*) from parquet_schema('{B}/files/missing.parquet')")
check("missing key names the URL and code", "missing.parquet" in str(e) and "NoSuchKey" in str(e), e)
try:
    db.execute(f"create virtual table nb using parquet('s3://no-such-bucket-bz/x.parquet')")
    check("missing bucket is an error", False)
except Exception as ex:
    check("missing bucket names the URL", "no-such-bucket-bz" in str(ex), ex)
db.execute(f"create virtual table em using parquet('{B}/nothing/*.parquet')")
check("a glob matching nothing is an empty table", one(db, "select count(*) from em") == 0)
try:
    db.execute(f"create virtual table em2 using parquet('{B}/nothing/*.parquet', require_files=1)")
    check("require_files=1 makes it an error", False)
except Exception as ex:
    check("require_files=1 error names the pattern", "nothing/*.parquet" in str(ex), ex)
one(db, "select s3_put(?, 'not parquet at all')", f"{B}/files/bad.parquet")
e = one(db, f"select count(*) from parquet_schema('{B}/files/bad.parquet')")
check("a key that is not Parquet", "bad.parquet" in str(e) and ("magic" in str(e) or "small" in str(e)), e)
os.environ["BZ_AWS_CONNECT_TIMEOUT_MS"] = "500"
os.environ["BZ_AWS_MAX_ATTEMPTS"] = "2"
e = one(db, f"select count(*) from parquet_schema('{B}/files/alltypes_plain.parquet')")  # still fine
saved = os.environ["AWS_ENDPOINT_URL_S3"]
os.environ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9"  # nothing listens on the discard port
e = one(db, f"select count(*) from parquet_schema('{B}/files/other.parquet')")
check("an endpoint that does not answer: clear error", str(e).startswith("ERROR") and "other.parquet" in str(e), e)
os.environ["AWS_ENDPOINT_URL_S3"] = saved
del os.environ["BZ_AWS_CONNECT_TIMEOUT_MS"]
del os.environ["BZ_AWS_MAX_ATTEMPTS"]

# 7. faults between the reader and S3: the answer stays exact
px = Proxy(saved)
os.environ["AWS_ENDPOINT_URL_S3"] = px.url
os.environ["BZ_AWS_RETRY_BASE_MS"] = "20"
try:
    fdb = connect()
    fdb.execute(f"create virtual table lz using parquet('{B}/files/lz4_raw_compressed_larger.parquet')")
    want = db.execute(f"select count(*), min(a), max(a) from r_{len('lz4_raw_compressed_larger.parquet')}_"
                      f"{abs(hash('lz4_raw_compressed_larger.parquet')) % 10000}").fetchone()
    for mode in ("500", "503", "reset", "truncate"):
        px.fault(mode=mode, count=2, method="GET")
        got = fdb.execute("select count(*), min(a), max(a) from lz").fetchone()
        check(f"scan survives 2x {mode}", got == want, got)
    px.fault(mode="500", count=50, method="GET")
    try:
        fdb.execute("select count(*), min(a) from lz").fetchone()
        check("past the retry budget: an error", False)
    except Exception as ex:
        check("past the retry budget: error names the URL and code",
              "lz4_raw_compressed_larger.parquet" in str(ex) and "500" in str(ex) or "InternalError" in str(ex), ex)
    px.fault(mode="clear")
finally:
    os.environ["AWS_ENDPOINT_URL_S3"] = saved
    px.stop()
done()
