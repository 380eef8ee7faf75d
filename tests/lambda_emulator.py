#!/usr/bin/env python3
"""A small AWS Lambda emulator for buzzlite's tests (python3 stdlib only).

It serves the documented Invoke API and runs a real custom runtime
(`build/hbee`, started as the function's `bootstrap`) in up to N concurrent
instances, one process per instance, each talking to its own Runtime API
endpoint:

  Invoke  POST /2015-03-31/functions/{name}/invocations
          (X-Amz-Invocation-Type RequestResponse; the signature is not checked)
          200 + the function's response
          200 + X-Amz-Function-Error: Unhandled + {"errorType", "errorMessage"}
              when the function reports an error, crashes (Runtime.ExitError)
              or runs past its timeout (the instance is killed: "Task timed out")
          429 TooManyRequestsException when every instance is busy
          404 ResourceNotFoundException for another function name
          403 AccessDeniedException for requests signed with an access key
              given to --deny-access-key (as IAM answers a caller without
              lambda:InvokeFunction)
          413 RequestEntityTooLargeException for payloads over 6 MB
          Errors have AWS's restJson1 shape: the code in the x-amzn-ErrorType
          header, the body {"Type": "User", "message": ...} ({"Message": ...}
          for AccessDeniedException, which IAM answers).
  Runtime GET  /2018-06-01/runtime/invocation/next (Lambda-Runtime-Aws-Request-Id,
               Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Invoked-Function-Arn)
          POST /2018-06-01/runtime/invocation/{id}/response   (413 over 6 MB)
          POST /2018-06-01/runtime/invocation/{id}/error
          POST /2018-06-01/runtime/init/error

Instances are kept warm between invocations; a new process is a cold start
(counted, with its time from spawn to its first /next). Faults are injected
through POST /_emu/faults with a JSON object of counters, each applying to
the next invocations: {"crash": n} kills the instance mid-task (SIGKILL after
it fetched the invocation), {"hang": n} stops it (SIGSTOP) so the function
timeout (1 s at most for these) kills it, {"slow": n} stops it for --slow
seconds then lets it finish (a straggler), {"throttle": n} answers 429. GET /_emu/stats returns the
counters (invocations, cold_starts, cold_start_ms, crashes, timeouts,
throttled, errors, instances, max_busy).

    tests/lambda_emulator.py --port 0 --port-file p --instances 4 \
        --bootstrap build/hbee --timeout 30 [--function buzzlite-hbee] [--env K=V]

--clean-env starts each bootstrap as Lambda does instead of with the
emulator's environment: only the runtime's variables (AWS_LAMBDA_*,
AWS_REGION, LAMBDA_TASK_ROOT, PATH, TZ, LANG; no LD_LIBRARY_PATH) plus the
--env ones, in the bootstrap's directory (the task root). GET /_emu/stats
also lists the live instances' process ids ("pids").
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_PAYLOAD = 6 * 1024 * 1024
MAX_RESPONSE = 6 * 1024 * 1024


def log(*a):
    print("lambda-emu:", *a, file=sys.stderr, flush=True)


class Invocation:
    def __init__(self, payload, timeout):
        self.id = str(uuid.uuid4())
        self.payload = payload
        self.deadline = time.time() + timeout
        self.done = threading.Event()
        self.status = None   # "ok" | "error"
        self.body = b""
        self.error_type = None


class Instance:
    """One sandbox: a runtime API server and a bootstrap process."""

    def __init__(self, emu, idx):
        self.emu = emu
        self.idx = idx
        self.proc = None
        self.cur = None          # the Invocation being run
        self.pending = None      # the Invocation waiting for /next
        self.cv = threading.Condition()
        self.busy = False
        self.gen = 0             # process generation: stale /next requests give up
        self.spawned_at = None
        self.warm = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_runtime_handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ensure_process(self):
        if self.alive():
            return
        if self.emu.clean_env:
            root = os.path.dirname(self.emu.bootstrap)
            env = {"PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin", "TZ": ":UTC",
                   "LANG": "en_US.UTF-8", "LAMBDA_TASK_ROOT": root, "LAMBDA_RUNTIME_DIR": root,
                   "AWS_REGION": self.emu.region, "AWS_DEFAULT_REGION": self.emu.region,
                   "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                   "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
                   "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}
            cwd = root
        else:
            env = dict(os.environ)
            cwd = None
        env.update(self.emu.env)
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:%d" % self.server.server_address[1]
        env["AWS_LAMBDA_FUNCTION_NAME"] = self.emu.function
        env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = str(int(self.emu.timeout))
        self.spawned_at = time.time()
        self.warm = False
        self.emu.count("cold_starts")
        self.proc = subprocess.Popen([self.emu.bootstrap], env=env, cwd=cwd,
                                     stdin=subprocess.DEVNULL, stdout=self.emu.logf,
                                     stderr=self.emu.logf)

    def kill(self):
        with self.cv:
            self.gen += 1
            self.cv.notify_all()
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(5)
            except Exception:
                pass
        self.proc = None

    def run(self, inv, fault):
        """Run one invocation to its end (the caller holds the instance)."""
        self.ensure_process()
        with self.cv:
            self.pending = inv
            self.cv.notify_all()
        # wait for the runtime to fetch it
        while not inv.done.is_set():
            with self.cv:
                if self.cur is inv:
                    break
            if not self.alive():
                break
            if time.time() > inv.deadline:
                break
            time.sleep(0.002)
        if self.cur is inv and fault == "crash":
            time.sleep(0.005)
            self.emu.count("crashes")
            self.kill()
        elif self.cur is inv and fault == "slow":
            proc = self.proc
            try:
                proc.send_signal(signal.SIGSTOP)
                threading.Timer(self.emu.slow_s, lambda: proc.send_signal(signal.SIGCONT)).start()
            except Exception:
                pass
        elif self.cur is inv and fault == "hang":
            try:
                self.proc.send_signal(signal.SIGSTOP)
            except Exception:
                pass
        while not inv.done.is_set():
            if not self.alive():
                self.finish_error(inv, "Runtime.ExitError",
                                  "RequestId: %s Error: Runtime exited without providing a reason"
                                  % inv.id)
                break
            if time.time() > inv.deadline:
                self.emu.count("timeouts")
                self.kill()
                self.finish_error(inv, "Sandbox.Timedout",
                                  "RequestId: %s Error: Task timed out after %.2f seconds"
                                  % (inv.id, self.emu.timeout))
                break
            inv.done.wait(0.01)
        with self.cv:
            if self.pending is inv:
                self.pending = None
            if self.cur is inv:
                self.cur = None

    def finish_error(self, inv, etype, msg):
        if inv.done.is_set():
            return
        inv.status = "error"
        inv.error_type = "Unhandled"
        inv.body = json.dumps({"errorType": etype, "errorMessage": msg}).encode()
        inv.done.set()


def make_runtime_handler(inst):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body=b"", headers=None):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            if self.path != "/2018-06-01/runtime/invocation/next":
                return self.reply(404, b'{"errorType":"NotFound"}')
            with inst.cv:
                gen = inst.gen
                while inst.pending is None and inst.gen == gen:
                    inst.cv.wait(1.0)
                if inst.gen != gen:
                    return self.reply(500, b'{"errorType":"Sandbox.Reset"}')
                inv = inst.pending
                inst.pending = None
                inst.cur = inv
                if not inst.warm:
                    inst.warm = True
                    inst.emu.cold_ms.append((time.time() - inst.spawned_at) * 1000)
            self.reply(200, inv.payload, {
                "Lambda-Runtime-Aws-Request-Id": inv.id,
                "Lambda-Runtime-Deadline-Ms": str(int(inv.deadline * 1000)),
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:000000000000:function:" + inst.emu.function,
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            })

        def do_POST(self):
            data = self.body()
            p = self.path
            if p == "/2018-06-01/runtime/init/error":
                inst.emu.count("init_errors")
                log("init error:", data[:300])
                return self.reply(202, b'{"status":"OK"}')
            parts = p.split("/")
            # /2018-06-01/runtime/invocation/{id}/{response|error}
            if len(parts) != 6 or parts[3] != "invocation":
                return self.reply(404, b'{"errorType":"NotFound"}')
            inv = inst.cur
            if inv is None or inv.id != parts[4]:
                return self.reply(400, b'{"errorType":"InvalidRequestID"}')
            if parts[5] == "response":
                if len(data) > MAX_RESPONSE:
                    inst.finish_error(inv, "Function.ResponseSizeTooLarge",
                                      "Response payload size exceeded maximum allowed payload size "
                                      "(6291556 bytes).")
                    return self.reply(413, b'{"errorType":"RequestEntityTooLarge"}')
                inv.status, inv.body = "ok", data
                inv.done.set()
                return self.reply(202, b'{"status":"OK"}')
            if parts[5] == "error":
                inst.emu.count("errors")
                inv.status, inv.body, inv.error_type = "error", data, "Unhandled"
                inv.done.set()
                return self.reply(202, b'{"status":"OK"}')
            return self.reply(404, b'{"errorType":"NotFound"}')

    return H


class Emulator:
    def __init__(self, a):
        self.function = a.function
        self.bootstrap = os.path.abspath(a.bootstrap)
        self.clean_env = a.clean_env
        self.region = a.region
        self.deny_keys = set(a.deny_access_key)
        self.timeout = a.timeout
        self.env = dict(kv.split("=", 1) for kv in a.env)
        self.logf = open(a.log, "ab") if a.log else sys.stderr
        self.lock = threading.Lock()
        self.stats = {"invocations": 0, "cold_starts": 0, "crashes": 0, "timeouts": 0,
                      "throttled": 0, "errors": 0, "init_errors": 0, "max_busy": 0}
        self.cold_ms = []
        self.faults = {"crash": 0, "hang": 0, "slow": 0, "throttle": 0}
        self.slow_s = a.slow
        self.instances = [Instance(self, i) for i in range(a.instances)]

    def count(self, k, n=1):
        with self.lock:
            self.stats[k] = self.stats.get(k, 0) + n

    def acquire(self):
        """A free instance (warm first) and the fault to inject, or None (429)."""
        with self.lock:
            if self.faults["throttle"] > 0:
                self.faults["throttle"] -= 1
                self.stats["throttled"] += 1
                return None, None
            free = [i for i in self.instances if not i.busy]
            if not free:
                self.stats["throttled"] += 1
                return None, None
            free.sort(key=lambda i: not i.alive())
            inst = free[0]
            inst.busy = True
            self.stats["invocations"] += 1
            self.stats["max_busy"] = max(self.stats["max_busy"],
                                         sum(1 for i in self.instances if i.busy))
            fault = None
            for f in ("crash", "hang", "slow"):
                if self.faults[f] > 0:
                    self.faults[f] -= 1
                    fault = f
                    break
            return inst, fault

    def release(self, inst):
        with self.lock:
            inst.busy = False

    def shutdown(self):
        for i in self.instances:
            i.kill()


def make_api_handler(emu):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body, headers=None):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(body)

        def err(self, code, etype, msg):
            body = {"Message": msg} if etype == "AccessDeniedException" else \
                {"Type": "User", "message": msg}
            self.reply(code, json.dumps(body).encode(), {"x-amzn-ErrorType": etype})

        def do_GET(self):
            if self.path == "/_emu/stats":
                with emu.lock:
                    st = dict(emu.stats)
                    st["cold_start_ms"] = list(emu.cold_ms)
                    st["instances"] = len(emu.instances)
                    st["alive"] = sum(1 for i in emu.instances if i.alive())
                    st["pids"] = [i.proc.pid for i in emu.instances if i.alive()]
                return self.reply(200, json.dumps(st).encode())
            self.err(404, "ResourceNotFoundException", "no such resource")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else b""
            if self.path == "/_emu/faults":
                f = json.loads(data or b"{}")
                with emu.lock:
                    for k in ("crash", "hang", "slow", "throttle"):
                        emu.faults[k] += int(f.get(k, 0))
                return self.reply(200, json.dumps(emu.faults).encode())
            if self.path == "/_emu/reset":
                with emu.lock:
                    for k in emu.stats:
                        emu.stats[k] = 0
                    emu.cold_ms.clear()
                    for k in emu.faults:
                        emu.faults[k] = 0
                return self.reply(200, b"{}")
            parts = self.path.split("?")[0].split("/")
            # /2015-03-31/functions/{name}/invocations
            if len(parts) != 5 or parts[1] != "2015-03-31" or parts[2] != "functions" \
                    or parts[4] != "invocations":
                return self.err(404, "UnknownOperationException", "unknown operation")
            name = parts[3].split(":")[-1] if parts[3].startswith("arn:") else parts[3]
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("AWS4-HMAC-SHA256 "):
                return self.err(403, "MissingAuthenticationTokenException",
                                "Missing Authentication Token")
            # Credential=AKID/date/region/lambda/aws4_request
            scope = auth.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
            key, region = scope[0], scope[2] if len(scope) > 2 else emu.region
            arn = "arn:aws:lambda:%s:000000000000:function:%s" % (region, name)
            if key in emu.deny_keys:
                return self.err(403, "AccessDeniedException",
                                "User: arn:aws:iam::000000000000:user/hbee-test is not authorized "
                                "to perform: lambda:InvokeFunction on resource: %s because no "
                                "identity-based policy allows the lambda:InvokeFunction action"
                                % arn)
            if name != emu.function or region != emu.region:
                return self.err(404, "ResourceNotFoundException", "Function not found: " + arn)
            itype = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            if itype != "RequestResponse":
                return self.err(400, "InvalidParameterValueException",
                                "only RequestResponse is emulated")
            if len(data) > MAX_PAYLOAD:
                return self.err(413, "RequestEntityTooLargeException",
                                "Request must be smaller than 6291456 bytes for the "
                                "InvokeFunction operation")
            inst, fault = emu.acquire()
            if inst is None:
                return self.err(429, "TooManyRequestsException", "Rate Exceeded.")
            inv = Invocation(data, emu.timeout if fault != "hang" else min(emu.timeout, 1.0))
            try:
                inst.run(inv, fault)
            finally:
                emu.release(inst)
            headers = {"X-Amz-Executed-Version": "$LATEST"}
            if inv.status != "ok":
                headers["X-Amz-Function-Error"] = inv.error_type or "Unhandled"
            self.reply(200, inv.body, headers)

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--instances", type=int, default=4)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--function", default="buzzlite-hbee")
    ap.add_argument("--timeout", type=float, default=30.0, help="function timeout, seconds")
    ap.add_argument("--env", action="append", default=[], help="K=V for the function")
    ap.add_argument("--log", help="append the instances' stderr here")
    ap.add_argument("--slow", type=float, default=3.0, help="seconds a 'slow' fault stalls")
    ap.add_argument("--prewarm", action="store_true", help="start every instance now")
    ap.add_argument("--clean-env", action="store_true",
                    help="start bootstraps with Lambda's environment only, in their directory")
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"),
                    help="the function's region (other regions: 404)")
    ap.add_argument("--deny-access-key", action="append", default=[],
                    help="requests signed with this access key id get 403 AccessDeniedException")
    a = ap.parse_args()
    emu = Emulator(a)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), make_api_handler(emu))
    srv.daemon_threads = True
    if a.prewarm:
        for i in emu.instances:
            i.ensure_process()

    def stop(*_):
        emu.shutdown()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(a.port_file + ".tmp", a.port_file)
    log("listening on 127.0.0.1:%d, %d instances of %s" % (port, a.instances, a.bootstrap))
    try:
        srv.serve_forever()
    finally:
        emu.shutdown()


if __name__ == "__main__":
    main()
