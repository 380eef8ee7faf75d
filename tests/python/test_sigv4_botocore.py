"""Cross-check buzzlite's SigV4 signer against Debian's python3-botocore.

Generates random requests (methods, S3 keys with odd characters and '//',
non-S3 paths with dot segments, repeated/empty query parameters, headers with
odd whitespace and repeats, payloads, session tokens, UNSIGNED-PAYLOAD, the
s3 / dynamodb / lambda services, presigned S3 URLs), signs each with botocore
and with `$BZ_BUILD/tests/aws/test_sigv4 --cli`, and requires identical
Authorization headers (and identical X-Amz-Signature for presigned URLs).

    BZ_BUILD=build /usr/bin/python3 tests/python/test_sigv4_botocore.py [N] [seed]
"""
import json
import os
import random
import re
import subprocess
import sys
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

N = int(sys.argv[1]) if len(sys.argv) > 1 else 600
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("SIGV4_SEED", "20240601"))
rnd = random.Random(SEED)
CLI = os.path.join(os.environ.get("BZ_BUILD", "build"), "tests", "aws", "test_sigv4")

ODD = [" ", "+", "=", "~", "%", "&", "?", "#", "$", "@", ":", ",", ";", "!", "*", "'", "(", ")",
       "é", "日本", "ü", "😀", "\t", "[", "]", "{", "}", "^", "`", "|", "\\", "\"", "<", ">"]


def rword(lo=1, hi=8):
    s = ""
    for _ in range(rnd.randint(lo, hi)):
        r = rnd.random()
        if r < 0.6:
            s += rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        else:
            s += rnd.choice(ODD)
    return s


def rpath(s3):
    segs = []
    for _ in range(rnd.randint(0, 5)):
        r = rnd.random()
        if r < 0.1:
            segs.append("")          # '//'
        elif r < 0.2:
            segs.append(rnd.choice([".", ".."]))
        else:
            segs.append(rword())
    p = "/" + "/".join(segs)
    if rnd.random() < 0.2:
        p += "/"
    return p


def rvalue():
    v = rword(0, 12)
    r = rnd.random()
    if r < 0.2:
        v = "  " + v + " \t "
    elif r < 0.3:
        v = v.replace("a", "a   \t b")
    return "".join(c for c in v if 0x20 <= ord(c) < 0x7f or c == "\t")


HEADER_NAMES = ["Content-Type", "Range", "X-Amz-Meta-Color", "x-amz-meta-ODD", "If-Match",
                "X-Amz-Target", "Content-Encoding", "User-Agent", "X-Custom", "Cache-Control"]


def gen(i):
    service = rnd.choice(["s3", "s3", "dynamodb", "lambda"])
    s3 = service == "s3"
    region = rnd.choice(["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"])
    host = rnd.choice([f"bucket-{i}.s3.{region}.amazonaws.com", "127.0.0.1:9000",
                       f"{service}.{region}.amazonaws.com", "localhost:4566"])
    params = []
    for _ in range(rnd.randint(0, 5)):
        k = rnd.choice(["prefix", "max-keys", "list-type", "uploadId", "partNumber", rword()])
        r = rnd.random()
        v = None if r < 0.15 else ("" if r < 0.3 else rword(0, 10))
        params.append([k, v])
        if rnd.random() < 0.2:
            params.append([k, rword(0, 4)])  # repeated key
    headers = []
    for _ in range(rnd.randint(0, 4)):
        headers.append([rnd.choice(HEADER_NAMES), rvalue()])
    if headers and rnd.random() < 0.3:
        headers.append([headers[0][0].upper(), rvalue()])  # repeated, different case
    payload = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 0, 1, 17, 200])))
    year = rnd.randint(2010, 2035)
    date = "%04d%02d%02dT%02d%02d%02dZ" % (year, rnd.randint(1, 12), rnd.randint(1, 28),
                                           rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59))
    return {
        "method": rnd.choice(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]),
        "host": host, "path": rpath(s3), "params": params, "headers": headers,
        "payload_hex": payload.hex(), "unsigned": s3 and rnd.random() < 0.3,
        "service": service, "region": region,
        "akid": "AKID" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        "secret": "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789+/") for _ in range(40)),
        "token": rword(10, 40).encode("utf-8", "replace").hex() + "/+=" if rnd.random() < 0.4 else None,
        "date": date, "presign": 0,
    }


def url_of(r):
    scheme = "http" if ":" in r["host"] else "https"
    u = f"{scheme}://{r['host']}" + quote(r["path"], safe="/~")
    if r["params"]:
        u += "?" + "&".join(quote(k, safe="-_.~") + ("" if v is None else "=" + quote(v, safe="-_.~"))
                            for k, v in r["params"])
    return u


def botocore_sign(r):
    creds = Credentials(r["akid"], r["secret"], r["token"])
    req = AWSRequest(method=r["method"], url=url_of(r), data=bytes.fromhex(r["payload_hex"]))
    for k, v in r["headers"]:
        req.headers[k] = v
    req.context["timestamp"] = r["date"]
    if r["unsigned"]:
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    if r["presign"]:
        auth = S3SigV4QueryAuth(creds, "s3", r["region"], expires=r["presign"])
    elif r["service"] == "s3":
        auth = S3SigV4Auth(creds, "s3", r["region"])
    else:
        auth = SigV4Auth(creds, r["service"], r["region"])
    # add_auth() without its clock: the same steps with our fixed timestamp.
    auth._modify_request_before_signing(req)
    cr = auth.canonical_request(req)
    sig = auth.signature(auth.string_to_sign(req, cr), req)
    auth._inject_signature_to_request(req, sig)
    if r["presign"]:
        return re.search(r"X-Amz-Signature=([0-9a-f]{64})", req.url).group(1)
    return req.headers["Authorization"]


def main():
    reqs = [gen(i) for i in range(N)]
    # presigned S3 URLs: unique parameters (botocore's presigner folds repeats)
    for i in range(max(50, N // 6)):
        r = gen(N + i)
        seen = set()
        r.update(service="s3", headers=[], unsigned=False, payload_hex="", method="GET", presign=rnd.choice([60, 3600, 604800]),
                 params=[p for p in r["params"] if not (p[0] in seen or seen.add(p[0]))])
        for p in r["params"]:
            if p[1] is None:
                p[1] = ""
        reqs.append(r)
    inp = "".join(json.dumps(r) + "\n" for r in reqs)
    out = subprocess.run([CLI, "--cli"], input=inp.encode(), capture_output=True, check=False)
    lines = out.stdout.decode().splitlines()
    if len(lines) != len(reqs):
        print(f"driver printed {len(lines)} lines for {len(reqs)} requests; stderr: {out.stderr!r}")
        return 1
    bad = 0
    for r, got in zip(reqs, lines):
        want = botocore_sign(r)
        if r["presign"]:
            got = re.search(r"X-Amz-Signature=([0-9a-f]{64})", got)
            got = got.group(1) if got else "(none)"
        if got != want:
            bad += 1
            if bad <= 5:
                print("MISMATCH for", json.dumps(r))
                print("  botocore:", want)
                print("  buzzlite:", got)
    print(f"{len(reqs)} requests (seed {SEED}), {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
