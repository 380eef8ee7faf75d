"""s3_get / s3_put / s3_list against s3rver, plus the bad-input errors.

Odd keys (spaces, '+', '=', '~', unicode, '//'), ranges (incl. suffix-like
reads at the end), ListObjectsV2 with more than 1000 keys (continuation),
globs (incl. matching nothing), multipart upload (> 16 MiB), missing
bucket/key, wrong access key, no credentials, an endpoint that does not answer.
"""
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from s3_testlib import BUCKET, check, connect, done, one  # noqa: E402

B = f"s3://{BUCKET}"
db = connect()

# odd keys round-trip
# ("a//b" and "a/./b" are valid S3 keys sent as-is (see s3_faults.py, which
# checks the raw path on the wire), but s3rver's router normalises them.)
keys = ["plain.txt", "with space.txt", "plus+eq=tilde~.bin", "unicodé/日本/😀.dat",
        "pct%20literal", "amp&q?x#y", "trail/", "semi;colon,comma!bang*star'(paren)"]
for i, k in enumerate(keys):
    data = f"payload {i} for {k}".encode()
    etag = one(db, "select s3_put(?, ?)", f"{B}/odd/{k}", data)
    check(f"put {k!r}", etag == hashlib.md5(data).hexdigest(), etag)
    got = one(db, "select s3_get(?)", f"{B}/odd/{k}")
    check(f"get {k!r}", got == data, got)
listed = [r[0] for r in db.execute("select key from s3_list(?)", (f"{B}/odd/",))]
check("list odd keys", sorted(listed) == sorted("odd/" + k for k in keys), listed)

# ranges
blob = os.urandom(100000)
one(db, "select s3_put(?, ?)", f"{B}/r/blob", blob)
for off, n in [(0, 1), (0, 10), (5, 1), (99999, 1), (99990, 10), (50000, 50000), (0, 100000)]:
    got = one(db, "select s3_get(?, ?, ?)", f"{B}/r/blob", off, n)
    check(f"range {off}+{n}", got == blob[off:off + n])
check("range length NULL reads to the end", one(db, "select s3_get(?, 99000, NULL)", f"{B}/r/blob") == blob[99000:])
check("range zero length", one(db, "select length(s3_get(?, 10, 0))", f"{B}/r/blob") == 0)
e = one(db, "select s3_get(?, 200000, 10)", f"{B}/r/blob")
check("range past the end errors with InvalidRange", isinstance(e, str) and "InvalidRange" in e, e)
check("empty object", one(db, "select length(s3_get(?))", f"{B}/r/empty") is not None or True)
one(db, "select s3_put(?, x'')", f"{B}/r/empty")
check("empty object round-trip", one(db, "select length(s3_get(?))", f"{B}/r/empty") == 0)

# > 1000 keys: continuation tokens
t0 = time.time()
db.execute("""with recursive n(i) as (select 1 union all select i+1 from n where i < 1005)
              select count(s3_put(printf('%s/many/k%05d', ?, i), 'x')) from n""", (B,)).fetchone()
cnt = one(db, "select count(*) from s3_list(?)", f"{B}/many/")
check("list 1005 keys (continuation)", cnt == 1005, cnt)
check("list sizes", one(db, "select sum(size) from s3_list(?)", f"{B}/many/") == 1005)
cols = db.execute("select key, size, last_modified, etag from s3_list(?) limit 1", (f"{B}/many/",)).fetchone()
check("list columns", cols[0] == "many/k00001" and cols[1] == 1 and cols[2] and len(cols[3]) == 32, cols)
print(f"     (1005 puts + list in {time.time() - t0:.1f}s)")

# globs
for i in range(3):
    for j in range(2):
        one(db, "select s3_put(?, 'p')", f"{B}/g/d{i}/part-{j}.parquet")
    one(db, "select s3_put(?, 'n')", f"{B}/g/d{i}/notes.txt")
check("glob middle segment (parallel prefixes)",
      one(db, "select count(*) from s3_list(?)", f"{B}/g/*/part-*.parquet") == 6)
check("glob last segment", one(db, "select group_concat(key) from s3_list(?)", f"{B}/g/d1/*.txt") == "g/d1/notes.txt")
check("glob **", one(db, "select count(*) from s3_list(?)", f"{B}/g/**.parquet") == 6)
check("glob ?", one(db, "select count(*) from s3_list(?)", f"{B}/g/d?/part-1.parquet") == 3)
check("glob matching nothing is empty", one(db, "select count(*) from s3_list(?)", f"{B}/g/*/nothing-*") == 0)
check("glob no such prefix is empty", one(db, "select count(*) from s3_list(?)", f"{B}/nope/*") == 0)

# multipart upload (> 16 MiB)
big = os.urandom(17 * 1024 * 1024 + 123)
etag = one(db, "select s3_put(?, ?)", f"{B}/mp/big.bin", big)
check("multipart put", isinstance(etag, str) and not etag.startswith("ERROR"), etag)
got = one(db, "select s3_get(?)", f"{B}/mp/big.bin")
check("multipart read back", got == big, len(got) if got else got)
check("multipart size in list", one(db, "select size from s3_list(?)", f"{B}/mp/big.bin") == len(big))

# bad input: each error names the URL and the S3 error code
e = one(db, "select s3_get(?)", f"{B}/no/such/key")
check("missing key", isinstance(e, str) and "NoSuchKey" in e and f"{B}/no/such/key" in e, e)
e = one(db, "select s3_get(?)", "s3://no-such-bucket-bz/k")
check("missing bucket", isinstance(e, str) and "NoSuchBucket" in e and "s3://no-such-bucket-bz/k" in e, e)
e = one(db, "select count(*) from s3_list(?)", "s3://no-such-bucket-bz/")
check("list missing bucket", isinstance(e, str) and "NoSuchBucket" in e, e)
e = one(db, "select s3_get(?)", "http://x/y")
check("not an s3 URL", isinstance(e, str) and "not an s3:// URL" in e, e)
e = one(db, "select s3_get(?)", f"{B}")
check("missing key in URL", isinstance(e, str) and "missing object key" in e, e)
e = one(db, "select * from s3_list")
check("s3_list without url", isinstance(e, str) and "URL argument is required" in e, e)

saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3",
                                        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                                        "BZ_AWS_CONNECT_TIMEOUT_MS", "BZ_AWS_MAX_ATTEMPTS")}
os.environ["AWS_ACCESS_KEY_ID"] = "WRONGKEY"
os.environ["AWS_SECRET_ACCESS_KEY"] = "SuperSecretValue/DoNotPrint"
e = one(db, "select s3_get(?)", f"{B}/r/blob")
check("wrong access key: access denied", isinstance(e, str) and "InvalidAccessKeyId" in e and f"{B}/r/blob" in e, e)
check("secret not in the error", "SuperSecretValue" not in str(e))
del os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/c"
os.environ["AWS_CONFIG_FILE"] = "/nonexistent/k"
e = one(db, "select s3_get(?)", f"{B}/r/blob")
check("no credentials", isinstance(e, str) and "no AWS credentials" in e and f"{B}/r/blob" in e, e)
os.environ["BZ_S3_ANONYMOUS"] = "1"
e = one(db, "select length(s3_get(?))", f"{B}/r/blob")
check("anonymous access (unsigned request)", e == 100000, e)
del os.environ["BZ_S3_ANONYMOUS"]
os.environ["AWS_ACCESS_KEY_ID"] = "S3RVER"
os.environ["AWS_SECRET_ACCESS_KEY"] = "S3RVER"
os.environ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9"  # discard port: refused
os.environ["BZ_AWS_CONNECT_TIMEOUT_MS"] = "500"
os.environ["BZ_AWS_MAX_ATTEMPTS"] = "3"
t0 = time.time()
e = one(db, "select s3_get(?)", f"{B}/r/blob")
dt = time.time() - t0
check("endpoint not answering", isinstance(e, str) and "ConnectionRefused" in e and f"{B}/r/blob" in e
      and "gave up after 3 attempts" in e, e)
check("... within the timeout budget", dt < 5, dt)
for k, v in saved.items():
    if v is None:
        os.environ.pop(k, None)
    else:
        os.environ[k] = v
check("environment restored", one(db, "select length(s3_get(?))", f"{B}/r/blob") == 100000)
done()
