"""The S3 BzReadAt source against s3rver: size/ETag from HEAD, tail reads,
coalescing (4 requests for 6 ranges), exact bytes_read, prefetch served from
its cache, 16 parallel far ranges, past-the-end error; glob helper output."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from s3_testlib import BUCKET, check, connect, done, driver, one  # noqa: E402

B = f"s3://{BUCKET}"
db = connect()
blob = os.urandom(5_000_000)
path = f"/tmp/bz_s3_readat_{os.getpid()}"
with open(path, "wb") as f:
    f.write(blob)
out, _ = driver("put", f"{B}/ra/obj", path)
check("put via C API", len(out.strip()) >= 32, out)
out, err = driver("readat", f"{B}/ra/obj", path)
print(out)
check("readat scenario", out.rstrip().endswith("\n0 failed") or out.strip() == "0 failed", err)
out, _ = driver("get", f"{B}/ra/missing", "0", "1")
check("readat on a missing key", "ERROR not found" in out and "NoSuchKey" in out and f"{B}/ra/missing" in out, out)
one(db, "select s3_put(?, 'a')", f"{B}/ra/g/x/p-1.parquet")
one(db, "select s3_put(?, 'bb')", f"{B}/ra/g/y/p-2.parquet")
one(db, "select s3_put(?, 'c')", f"{B}/ra/g/y/q-3.parquet")
out, _ = driver("glob", f"{B}/ra/g/*/p-*.parquet")
lines = out.strip().splitlines()
check("glob helper", [ln.split()[:2] for ln in lines] == [["ra/g/x/p-1.parquet", "1"], ["ra/g/y/p-2.parquet", "2"]], out)
out, _ = driver("glob", f"{B}/ra/g/*/z-*")
check("glob matching nothing", out.strip() == "", out)
os.unlink(path)
done()
