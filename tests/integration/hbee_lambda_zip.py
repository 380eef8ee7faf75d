"""The Lambda package (`make lambda`: $BZ_BUILD/hbee-lambda.zip) and the
lambda executor's configuration errors.

1. The zip: under 15 MB, a `bootstrap` with DT_RPATH $ORIGIN, and no ELF file
   in it needs a glibc symbol version above 2.34 (provided.al2023's glibc),
   read from each file's version-needs section (readelf -V).
2. Self-contained: the zip is unzipped into an empty temporary directory and
   run as the bootstrap by tests/lambda_emulator.py --clean-env (Lambda's
   environment only: no LD_LIBRARY_PATH, the task root as working directory,
   nothing of the repository or the build directory). A query over an s3://
   dataset (so libcurl is loaded too) with executor=lambda must equal a
   single-connection scan, and every shared object the instances mapped
   (/proc/PID/maps) must be glibc's or come from the temporary directory.
   Before it, a query over local files must not load libcurl at all.
Under ASan (BZ_SAN=1) there is no zip (the sanitizer runtimes need a newer
glibc): parts 1-2 are skipped and part 3 runs with the ASan build's hbee.
3. Configuration errors, each a clear SQL error naming what is wrong: an
   unknown function (404 ResourceNotFoundException), a function in another
   region (404), no region configured, and credentials without
   lambda:InvokeFunction (403 AccessDeniedException); no secret in them.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import test_hbee_diff as diff  # noqa: E402

sys.path.insert(0, HERE)
import hbee_lambda  # noqa: E402

ZIP = os.path.join(diff.BUILD, "hbee-lambda.zip")
MAX_GLIBC = (2, 34)
DENIED_KEY = "AKIADENIEDHBEETEST01"
GLIBC_LIBS = re.compile(r"^(ld-linux-x86-64|libc|libm|libpthread|libdl|librt|libresolv|libutil|"
                        r"libanl|libnsl|libmvec|libnss_\w+)\.so")
from bzlib import report, summary  # noqa: E402


def glibc_needs(path):
    """Highest GLIBC_x.y in the file's version needs, or None (not ELF / none)."""
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return None
    out = subprocess.run(["readelf", "-V", "--wide", path], capture_output=True, text=True).stdout
    vers = [tuple(int(x) for x in m.split(".")) for m in re.findall(r"Name: GLIBC_([0-9.]+)", out)]
    return max(vers) if vers else None


def test_zip(tmp):
    report("zip exists", os.path.exists(ZIP), f"{ZIP} missing: make lambda")
    if not os.path.exists(ZIP):
        return None
    size = os.path.getsize(ZIP)
    report("zip under 15 MB", size < 15_000_000, size)
    task = os.path.join(tmp, "task")
    os.mkdir(task)
    subprocess.run(["unzip", "-q", ZIP, "-d", task], check=True)
    names = sorted(os.listdir(task))
    report("bootstrap at the root", "bootstrap" in names and
           os.access(os.path.join(task, "bootstrap"), os.X_OK), names)
    report("libcurl bundled", "libcurl.so.4" in names, names)
    glibc_inside = [n for n in names if GLIBC_LIBS.match(n)]
    report("no glibc library bundled", not glibc_inside, glibc_inside)
    checked, too_new = 0, []
    for n in names:
        v = glibc_needs(os.path.join(task, n))
        if v is None:
            continue
        checked += 1
        if v > MAX_GLIBC:
            too_new.append(f"{n}: GLIBC_{'.'.join(map(str, v))}")
    report("every file checked", checked == len(names), f"{checked} of {len(names)}")
    report("nothing needs glibc above 2.34", not too_new, too_new)
    dyn = subprocess.run(["readelf", "-d", os.path.join(task, "bootstrap")], capture_output=True,
                         text=True).stdout
    report("bootstrap rpath $ORIGIN", re.search(r"\(RPATH\)\s+Library rpath: \[\$ORIGIN\]", dyn)
           is not None, dyn[-600:])
    return task


def emu_stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emu/stats", timeout=10) as r:
        return json.loads(r.read())


def Emulator(tmp, bootstrap, env, clean=True):
    """hbee_lambda's emulator in tmp: 2 instances of bootstrap, AWS's region and
    an access key it refuses (403), with --clean-env unless clean is False."""
    return hbee_lambda.Emulator(2, 30, env, bootstrap=bootstrap, directory=tmp,
                                extra=["--region", "us-east-1", "--deny-access-key", DENIED_KEY]
                                + (["--clean-env"] if clean else []))


class Env:
    """Set/unset environment variables for a block (the extension reads them)."""

    def __init__(self, **kv):
        self.kv, self.old = kv, {}

    def __enter__(self):
        for k, v in self.kv.items():
            self.old[k] = os.environ.get(k)
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def __exit__(self, *a):
        for k, v in self.old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def hbee_error(con, q, opts):
    """The SQL error of an hbee query, or None if it ran."""
    try:
        con.execute(f"CREATE VIRTUAL TABLE temp.r USING hbee(query={diff.sql_str(q)}, {opts})")
        try:
            con.execute("SELECT * FROM r").fetchall()
        finally:
            con.execute("DROP TABLE temp.r")
    except sqlite3.Error as e:
        return str(e)
    return None


def mapped_curl(pids):
    return [pid for pid in pids if any(ln.rstrip().endswith("/libcurl.so.4")
                                       for ln in open(f"/proc/{pid}/maps"))]


def test_self_contained(con, emu, task, bucket):
    # local files first: the instances must not load libcurl for them
    q = "SELECT g, count(*), sum(k) FROM t GROUP BY g"
    exp = con.execute(q).fetchall()
    err = None
    try:
        con.execute(f"CREATE VIRTUAL TABLE temp.r USING hbee(query={diff.sql_str(q)}, "
                    "executor=lambda, split_bytes=1)")
        got = con.execute("SELECT * FROM r").fetchall()
        con.execute("DROP TABLE temp.r")
        err = diff.same_rows(exp, got, False)
    except sqlite3.Error as e:
        err = str(e)
    report("zip bootstrap: exact answer from local files", err is None, err)
    pids = emu_stats(emu.port)["pids"]
    report("zip bootstrap: no libcurl for local files", pids and not mapped_curl(pids), pids)
    prefix = f"hbee-zip-{os.getpid()}"
    for f in sorted(os.listdir(diff.DATA)):
        if f.endswith(".parquet"):
            with open(os.path.join(diff.DATA, f), "rb") as fh:
                con.execute("SELECT s3_put(?, ?)", (f"s3://{bucket}/{prefix}/{f}", fh.read()))
    con.execute(f"CREATE VIRTUAL TABLE temp.ts USING parquet('s3://{bucket}/{prefix}/*.parquet')")
    q = "SELECT g, count(*), sum(k), total(x), min(s), max(n) FROM ts GROUP BY g"
    exp = con.execute(q).fetchall()
    try:
        con.execute(f"CREATE VIRTUAL TABLE temp.r USING hbee(query={diff.sql_str(q)}, "
                    "executor=lambda, split_bytes=1)")
        got = con.execute("SELECT * FROM r").fetchall()
        con.execute("DROP TABLE temp.r")
        why = diff.same_rows(exp, got, False)
        st = json.loads(con.execute("SELECT hbee_last_stats()").fetchone()[0])
        report("zip bootstrap: exact answer from S3", why is None and st["splits"] >= 2 and
               st["tasks"] == st["splits"] and st["rows_scanned"] == 7300, f"{why} {st}")
    except sqlite3.Error as e:
        report("zip bootstrap: exact answer from S3", False,
               f"{e}\n{open(os.path.join(emu.dir, 'instances.log')).read()[-1500:]}")
    con.execute("DROP TABLE temp.ts")
    st = emu_stats(emu.port)
    report("zip bootstrap: instances ran", st["invocations"] >= 2 and st["pids"], st)
    foreign, curl_from = [], []
    for pid in st["pids"]:
        env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        report(f"instance {pid}: no LD_LIBRARY_PATH",
               not any(e.startswith(b"LD_LIBRARY_PATH=") for e in env))
        report(f"instance {pid}: runs in the task root", os.readlink(f"/proc/{pid}/cwd") == task,
               os.readlink(f"/proc/{pid}/cwd"))
        for line in open(f"/proc/{pid}/maps"):
            path = line.split()[-1] if "/" in line else ""
            if ".so" not in os.path.basename(path):
                continue
            if os.path.basename(path) == "libcurl.so.4":
                curl_from.append(path)
            if not path.startswith(task + "/") and not GLIBC_LIBS.match(os.path.basename(path)):
                foreign.append(path)
    report("zip bootstrap: every library from the zip or glibc", not foreign,
           sorted(set(foreign)))
    report("zip bootstrap: bundled libcurl loaded for S3",
           curl_from and all(p.startswith(task + "/") for p in curl_from), curl_from)


def test_config_errors(con, emu):
    q = "SELECT g, count(*) FROM t GROUP BY g"
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")

    def check(name, err, *needles):
        ok = err is not None and all(n in err for n in needles) and (not secret or secret not in err)
        print(f"{name}: {err}")
        report(name, ok, f"got {err!r}, expected {needles}")

    err = hbee_error(con, q, "executor=lambda, function='no-such-fn'")
    check("unknown function", err, "function 'no-such-fn' not found in region us-east-1",
          "ResourceNotFoundException", "HTTP 404")
    with Env(AWS_REGION="eu-west-3", AWS_DEFAULT_REGION=None):
        err = hbee_error(con, q, "executor=lambda")
    check("function in another region", err,
          "function 'buzzlite-hbee' not found in region eu-west-3", "ResourceNotFoundException")
    empty = os.path.join(emu.dir, "empty-aws-config")
    open(empty, "w").close()
    with Env(AWS_REGION=None, AWS_DEFAULT_REGION=None, AWS_PROFILE=None, AWS_CONFIG_FILE=empty):
        err = hbee_error(con, q, "executor=lambda")
    check("no region", err, "no AWS region for function 'buzzlite-hbee'", "AWS_REGION")
    with Env(AWS_ACCESS_KEY_ID=DENIED_KEY, AWS_SESSION_TOKEN=None):
        err = hbee_error(con, q, "executor=lambda")
    check("no permission", err, "not allowed to invoke function 'buzzlite-hbee' in region "
          "us-east-1", "AccessDeniedException", "lambda:InvokeFunction", "HTTP 403")
    with Env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_SESSION_TOKEN=None,
             AWS_PROFILE=None, AWS_SHARED_CREDENTIALS_FILE=empty, AWS_CONFIG_FILE=empty,
             AWS_EC2_METADATA_DISABLED="true", AWS_CONTAINER_CREDENTIALS_FULL_URI=None,
             AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=None):
        err = hbee_error(con, q, "executor=lambda")
    # retrying cannot find credentials: one attempt, said so once
    check("no credentials, not retried", err, "no AWS credentials", "1 attempt:")
    # and the executor still works after them
    report("works after the errors", hbee_error(con, q, "executor=lambda") is None)


def main():
    bucket = os.environ.get("BZ_S3_BUCKET")
    s3 = os.environ.get("AWS_ENDPOINT_URL_S3")
    if not bucket or not s3:
        print("BZ_S3_BUCKET / AWS_ENDPOINT_URL_S3 not set (tests/stack.sh env)")
        return 1
    tmp = tempfile.mkdtemp(prefix="hbee-zip-")
    if os.environ.get("BZ_SAN") == "1":
        print("ASan build: no Lambda zip (make lambda is for the normal build); errors only")
        diff.generate()
        con = diff.connect()
        emu = Emulator(tmp, os.path.join(diff.BUILD, "hbee"), [], clean=False)
        try:
            with Env(AWS_ENDPOINT_URL_LAMBDA=emu.url, AWS_REGION="us-east-1"):
                test_config_errors(con, emu)
        finally:
            emu.stop()
            shutil.rmtree(tmp, ignore_errors=True)
        return summary()
    try:
        task = test_zip(tmp)
        if task is None:
            summary()
            return 1
        diff.generate()
        con = diff.connect()
        env = ["AWS_ENDPOINT_URL_S3=" + s3, "AWS_EC2_METADATA_DISABLED=true"]
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.append(f"{k}={os.environ.get(k, '')}")
        emu = Emulator(tmp, os.path.join(task, "bootstrap"), env)
        try:
            with Env(AWS_ENDPOINT_URL_LAMBDA=emu.url, AWS_REGION="us-east-1"):
                test_self_contained(con, emu, task, bucket)
                test_config_errors(con, emu)
        finally:
            emu.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
