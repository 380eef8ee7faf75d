"""Fault injection between buzzlite and s3rver (tests/fault_proxy.py).

For each fault (500, 503 SlowDown, connection reset mid-body, truncated body,
stalled body, ExpiredToken) a few failures are absorbed by retries and every
query (s3_get, s3_list, reads through the S3 BzReadAt) returns the right
bytes; past the retry budget the error is clear and names the URL and code.
A stalled range GET is rescued by a hedged duplicate. The raw request path on
the wire keeps '//' and '/./' (S3 does not normalise keys).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from s3_testlib import BUCKET, Proxy, check, connect, done, driver, one  # noqa: E402

B = f"s3://{BUCKET}"
upstream = os.environ["AWS_ENDPOINT_URL_S3"]
db = connect()
blob = os.urandom(3 * 1024 * 1024 + 17)
one(db, "select s3_put(?, ?)", f"{B}/f/blob", blob)
for i in range(3):
    one(db, "select s3_put(?, 'x')", f"{B}/f/list/k{i}")

px = Proxy(upstream)
os.environ["AWS_ENDPOINT_URL_S3"] = px.url
os.environ["BZ_AWS_RETRY_BASE_MS"] = "20"
os.environ["BZ_AWS_LOW_SPEED_TIME"] = "2"
os.environ["BZ_AWS_HEDGE_MIN_MS"] = "100000"  # hedging off unless a test lowers it
try:
    check("through the proxy", one(db, "select s3_get(?)", f"{B}/f/blob") == blob)
    # 301 PermanentRedirect for another region: followed once, re-signed for it
    px.fault(mode="redirect", count=1, method="GET")
    n0 = len(px.stats()["regions"])
    got = one(db, "select s3_get(?)", f"{B}/f/blob")
    regions = px.stats()["regions"][n0:]
    check("301 redirect followed once", got == blob, got if isinstance(got, str) else len(got or b""))
    check("the retry is signed for the bucket's region", regions[-1:] == ["eu-west-1"], regions)
    px.fault(mode="redirect", count=2, method="GET")
    got = one(db, "select s3_get(?)", f"{B}/f/blob")
    check("a second redirect is an error naming the URL and code",
          isinstance(got, str) and "PermanentRedirect" in got and "f/blob" in got, got)
    px.fault(mode="clear")
    # (ExpiredToken refreshes credentials and retries once, so one fault)
    for mode in ["500", "503", "reset", "truncate", "stall", "expired"]:
        nf = 1 if mode == "expired" else 2
        px.fault(mode=mode, count=nf, method="GET", stall=3)
        t0 = time.time()
        got = one(db, "select s3_get(?)", f"{B}/f/blob")
        check(f"s3_get survives 2x {mode}", got == blob,
              got if isinstance(got, str) else len(got or b""))
        px.fault(mode=mode, count=nf, method="GET", range="1", stall=3)
        got = one(db, "select s3_get(?, 1000, 2000000)", f"{B}/f/blob")
        check(f"range s3_get survives 2x {mode}", got == blob[1000:2001000])
        px.fault(mode=mode, count=nf, method="GET", path="list-type", stall=3)
        got = one(db, "select count(*) from s3_list(?)", f"{B}/f/list/")
        check(f"s3_list survives 2x {mode}", got == 3, got)
        px.fault(mode=mode, count=nf, method="GET", range="1", stall=3)
        out, err = driver("get", f"{B}/f/blob", "3000000", "100000")
        check(f"BzReadAt read survives 2x {mode}", out.strip() == blob[3000000:3100000].hex(),
              out[:200])
        print(f"     ({mode}: {time.time() - t0:.1f}s)")
    px.fault(mode="clear")

    # resume: a reset mid-body on a range read continues where it stopped
    st0 = px.stats()["requests"]
    px.fault(mode="reset", count=1, method="GET", range="1")
    out, err = driver("get", f"{B}/f/blob", "0", str(len(blob)))
    check("range read resumes after a reset", out.strip() == blob.hex())
    check("... with fewer bytes fetched than twice the object",
          "bytes=" in err and int(err.split("bytes=")[1]) < 2 * len(blob), err)

    # past the retry budget: a clear error
    os.environ["BZ_AWS_MAX_ATTEMPTS"] = "3"
    for mode, code in [("503", "SlowDown"), ("500", "InternalError"), ("truncate", "IncompleteBody"),
                       ("403", "AccessDenied")]:
        px.fault(mode=mode, count=100, method="GET")
        e = one(db, "select s3_get(?)", f"{B}/f/blob")
        check(f"persistent {mode}: error names URL and code",
              isinstance(e, str) and code in e and f"{B}/f/blob" in e, e)
        if mode != "403":
            check(f"... gave up after 3 attempts ({mode})", isinstance(e, str) and "after 3 attempts" in e, e)
    px.fault(mode="403", count=100, method="GET", reset_stats=1)
    one(db, "select s3_get(?)", f"{B}/f/blob")
    check("4xx is not retried", px.stats()["faults"] == 1, px.stats())
    px.fault(mode="clear")
    del os.environ["BZ_AWS_MAX_ATTEMPTS"]

    # hedging: the first range GET stalls, a duplicate answers
    os.environ["BZ_AWS_HEDGE_MIN_MS"] = "300"
    os.environ["BZ_AWS_LOW_SPEED_TIME"] = "30"
    px.fault(mode="delay", count=1, method="GET", range="1", stall=8)
    t0 = time.time()
    out, err = driver("get", f"{B}/f/blob", "123", "4567")
    dt = time.time() - t0
    check("hedged range read is right", out.strip() == blob[123:123 + 4567].hex(), out[:100])
    check("hedged range read did not wait for the straggler", dt < 5, dt)
    os.environ["BZ_AWS_HEDGE_MIN_MS"] = "100000"

    # the wire path keeps '//' and '/./'
    px.fault(mode="clear", reset_stats=1)
    one(db, "select s3_get(?)", f"{B}/a//b/./c d+e")
    paths = px.stats()["paths"]
    check("raw path not normalised", any(p.startswith(f"/{BUCKET}/a//b/./c%20d%2Be") for p in paths), paths)

    # BzReadAt full scenario through the proxy with faults on every other request
    # (retries add requests and bytes, so only the counters may differ)
    blob5 = os.urandom(5_000_000)
    with open("/tmp/bz_s3_faults_blob", "wb") as f:
        f.write(blob5)
    one(db, "select s3_put(?, ?)", f"{B}/f/blob5", blob5)
    px.fault(mode="503", count=3, method="GET", range="1")
    out, err = driver("readat", f"{B}/f/blob5", "/tmp/bz_s3_faults_blob")
    bad = [ln for ln in out.splitlines() if ln.startswith("FAIL")
           and not any(w in ln for w in ("coalesced", "bytes_read"))]
    check("readat scenario with faults: every byte right", not bad and "ok   range 5" in out, out)
    os.unlink("/tmp/bz_s3_faults_blob")
finally:
    px.stop()
    os.environ["AWS_ENDPOINT_URL_S3"] = upstream
done()
