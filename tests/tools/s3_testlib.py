"""Helpers shared by tests/integration/s3_*.py and aws_*.py (not a test itself).

Environment (from tests/run.sh + `tests/stack.sh env`): BZ_EXT, BZ_BUILD,
AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID=S3RVER, AWS_SECRET_ACCESS_KEY=S3RVER,
AWS_REGION, BZ_S3_BUCKET.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BZ_BUILD", os.path.join(ROOT, "build"))
EXT = os.environ.get("BZ_EXT", os.path.join(BUILD, "buzzlite"))
DRIVER = os.path.join(BUILD, "tests", "aws", "test_s3")
BUCKET = os.environ.get("BZ_S3_BUCKET", "bz-test")
# never reach a real instance metadata service from a test
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

_checks = [0, 0]


def check(name, cond, detail=""):
    _checks[0] += 1
    if cond:
        print(f"ok   {name}")
    else:
        _checks[1] += 1
        print(f"FAIL {name} {detail}")


def done():
    print(f"{_checks[0]} checks, {_checks[1]} failed")
    sys.exit(1 if _checks[1] else 0)


def connect():
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(EXT)
    return db


def one(db, sql, *args):
    """First column of the first row, or the exception text (str prefixed 'ERROR: ')."""
    try:
        row = db.execute(sql, args).fetchone()
        return row[0] if row else None
    except sqlite3.Error as e:
        return "ERROR: " + str(e)


def driver(*args, env=None, timeout=120):
    p = subprocess.run([DRIVER, *args], capture_output=True, timeout=timeout, env=env,
                       check=False)
    return p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class Proxy:
    """tests/fault_proxy.py in front of the stack's s3rver."""

    def __init__(self, upstream=None):
        upstream = upstream or os.environ["AWS_ENDPOINT_URL_S3"]
        fd, self.port_file = tempfile.mkstemp(prefix="bz_proxy_")
        os.close(fd)
        os.unlink(self.port_file)
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "fault_proxy.py"),
                                      "--upstream", upstream, "--port-file", self.port_file],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        for _ in range(100):
            if os.path.exists(self.port_file):
                break
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        os.unlink(self.port_file)
        self.url = f"http://127.0.0.1:{self.port}"

    def fault(self, **kw):
        q = "&".join(f"{k}={v}" for k, v in kw.items())
        urllib.request.urlopen(f"{self.url}/__fault__?{q}", timeout=5).read()

    def stats(self):
        import json
        return json.loads(urllib.request.urlopen(f"{self.url}/__fault__/stats", timeout=5).read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
