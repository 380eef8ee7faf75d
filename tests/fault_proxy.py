"""A fault-injecting HTTP/1.1 proxy for the S3 tests (python3 stdlib only).

Sits between buzzlite and s3rver and forwards every request, except that the
next `count` requests matching a filter get a fault:

    500        500 InternalError (S3 XML error body)
    503        503 SlowDown
    403        403 AccessDenied
    redirect   301 PermanentRedirect naming another region (x-amz-bucket-region:
               eu-west-1), as S3 answers a request signed for the wrong region
    expired    400 ExpiredToken
    reset      headers + half the body, then a TCP reset
    truncate   headers (full Content-Length) + half the body, then a clean close
    stall      headers + half the body, then silence for `stall` seconds
    delay      nothing for `stall` seconds, then the normal answer (hedging)

DynamoDB (JSON protocol) modes, for requests to DynamoDB (Local); `target=Op`
(or Op1,Op2) limits them to requests whose X-Amz-Target is
DynamoDB_20120810.<Op>:

    ddb_throttle     400 {"__type":"com.amazonaws.dynamodb.v20120810#<code>",...},
                     code= ProvisionedThroughputExceededException (default),
                     ThrottlingException or RequestLimitExceeded; not forwarded
    ddb_error        status= (default 400) and code= (default ValidationException):
                     any JSON error, not forwarded
    ddb_500          500 InternalServerError, not forwarded
    ddb_reset        TCP reset before forwarding (the request is not applied)
    ddb_reset_after  forwarded (the request is applied), then a TCP reset
                     instead of the answer

Control (never forwarded):
    GET /__fault__?mode=503&count=2[&method=GET][&path=substr][&range=1][&stall=30]
    GET /__fault__?mode=ddb_throttle&code=ThrottlingException&count=2[&target=Scan]
    GET /__fault__?mode=clear
    GET /__fault__/stats          -> JSON {"requests": n, "faults": n, "by_method": {...},
                                           "paths": [last 50 raw request targets],
                                           "by_target": {"Scan": n, ...} (DynamoDB ops),
                                           "faults_by_target": {...}}

Usage:
    python3 tests/fault_proxy.py --upstream http://127.0.0.1:9000 --port-file /tmp/p
    (prints "fault_proxy listening on 127.0.0.1:PORT"; port 0 picks a free one)
"""
import argparse
import http.client
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
STATE = {"mode": None, "count": 0, "method": None, "path": None, "range": False, "stall": 30.0,
         "target": None, "code": None, "status": None}
STATS = {"requests": 0, "faults": 0, "by_method": {}, "paths": [], "by_target": {},
         "faults_by_target": {}, "regions": []}
UPSTREAM = None

ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
    "403": (403, "AccessDenied", "Access Denied"),
    "expired": (400, "ExpiredToken", "The provided token has expired."),
}

DDB_MESSAGES = {
    "ProvisionedThroughputExceededException":
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    "ThrottlingException": "Rate of requests exceeds the allowed throughput.",
    "RequestLimitExceeded": "Throughput exceeds the current throughput limit for your account.",
    "InternalServerError": "Internal server error",
    "ValidationException": "Injected validation error (fault_proxy)",
}


def ddb_op(headers):
    """'Scan' for X-Amz-Target: DynamoDB_20120810.Scan, else None."""
    t = headers.get("X-Amz-Target")
    return t.rsplit(".", 1)[-1] if t else None


def take_fault(method, path, headers):
    with LOCK:
        STATS["requests"] += 1
        STATS["by_method"][method] = STATS["by_method"].get(method, 0) + 1
        STATS["paths"] = (STATS["paths"] + [path])[-50:]  # raw request targets, as sent
        op = ddb_op(headers)
        if op:
            STATS["by_target"][op] = STATS["by_target"].get(op, 0) + 1
        s = STATE
        if not s["mode"] or s["count"] <= 0:
            return None, 0
        if s["method"] and s["method"] != method:
            return None, 0
        if s["path"] and s["path"] not in path:
            return None, 0
        if s["range"] and "range" not in {k.lower() for k in headers.keys()}:
            return None, 0
        if s["target"] and op not in s["target"].split(","):
            return None, 0
        s["count"] -= 1
        STATS["faults"] += 1
        if op:
            STATS["faults_by_target"][op] = STATS["faults_by_target"].get(op, 0) + 1
        return s["mode"], s["stall"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _control(self):
        u = urlsplit(self.path)
        if u.path == "/__fault__/stats":
            with LOCK:
                body = json.dumps(STATS).encode()
        else:
            q = {k: v[0] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
            with LOCK:
                if q.get("mode") in (None, "clear"):
                    STATE.update(mode=None, count=0)
                else:
                    STATE.update(mode=q["mode"], count=int(q.get("count", "1")),
                                 method=q.get("method") or None, path=q.get("path") or None,
                                 range=q.get("range") == "1", stall=float(q.get("stall", "30")),
                                 target=q.get("target") or None, code=q.get("code") or None,
                                 status=int(q["status"]) if q.get("status") else None)
                if q.get("reset_stats"):
                    STATS.update(requests=0, faults=0, by_method={}, paths=[], by_target={},
                                 faults_by_target={})
            body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        if self.path.startswith("/__fault__"):
            return self._control()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        mode, stall = take_fault(self.command, self.path, self.headers)
        auth = self.headers.get("Authorization") or ""
        if "Credential=" in auth:  # the region the request was signed for
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            with LOCK:
                STATS["regions"] = (STATS["regions"] + [scope[2] if len(scope) > 2 else "?"])[-50:]
        if mode == "redirect":
            xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code>'
                   b"<Message>The bucket you are attempting to access must be addressed using the "
                   b"specified endpoint.</Message><Region>eu-west-1</Region>"
                   b"<RequestId>FAULTREDIRECT</RequestId></Error>")
            self.send_response(301)
            self.send_header("Content-Type", "application/xml")
            self.send_header("x-amz-bucket-region", "eu-west-1")
            self.send_header("Content-Length", str(len(xml)))
            self.end_headers()
            self.wfile.write(xml)
            return
        if mode in ERRORS:
            st, code, msg = ERRORS[mode]
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                   f"<Message>{msg}</Message><RequestId>FAULT{STATS['faults']}</RequestId></Error>").encode()
            self.send_response(st)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(xml)))
            self.send_header("x-amz-request-id", f"FAULT{STATS['faults']}")
            self.end_headers()
            self.wfile.write(xml)
            return
        if mode in ("ddb_throttle", "ddb_error", "ddb_500"):
            return self._ddb_error(mode)
        if mode == "ddb_reset":
            return self._rst()
        if mode == "delay":
            time.sleep(stall)
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        conn.request(self.command, self.path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if mode == "ddb_reset_after":
            return self._rst()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() in ("transfer-encoding", "connection", "content-length", "date", "server"):
                continue
            self.send_header(k, v)
        if self.command != "HEAD" or "content-length" in {k.lower() for k, _ in resp.getheaders()}:
            cl = resp.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
            self.send_header("Content-Length", cl)
        self.end_headers()
        if self.command == "HEAD":
            return
        if mode in ("reset", "truncate", "stall") and len(data) > 1:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            if mode == "stall":
                time.sleep(stall)
            if mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR) if mode != "reset" else None
            except OSError:
                pass
            return
        self.wfile.write(data)

    def _ddb_error(self, mode):
        with LOCK:
            code, status, rid = STATE["code"], STATE["status"], f"FAULT{STATS['faults']}"
        if mode == "ddb_throttle":
            code, status = code or "ProvisionedThroughputExceededException", 400
        elif mode == "ddb_500":
            code, status = "InternalServerError", 500
        else:
            code, status = code or "ValidationException", status or 400
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                           "message": DDB_MESSAGES.get(code, f"Injected {code} (fault_proxy)")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", rid)
        self.end_headers()
        self.wfile.write(body)

    def _rst(self):
        """Close the connection with a TCP reset, nothing answered."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def main():
    global UPSTREAM
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    UPSTREAM = urlsplit(a.upstream)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        import os
        os.replace(a.port_file + ".tmp", a.port_file)
    print(f"fault_proxy listening on 127.0.0.1:{port}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
