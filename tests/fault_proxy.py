"""A fault-injecting HTTP/1.1 proxy for the S3 tests (python3 stdlib only).

Sits between buzzlite and s3rver and forwards every request, except that the
next `count` requests matching a filter get a fault:

    500        500 InternalError (S3 XML error body)
    503        503 SlowDown
    403        403 AccessDenied
    expired    400 ExpiredToken
    reset      headers + half the body, then a TCP reset
    truncate   headers (full Content-Length) + half the body, then a clean close
    stall      headers + half the body, then silence for `stall` seconds
    delay      nothing for `stall` seconds, then the normal answer (hedging)

Control (never forwarded):
    GET /__fault__?mode=503&count=2[&method=GET][&path=substr][&range=1][&stall=30]
    GET /__fault__?mode=clear
    GET /__fault__/stats          -> JSON {"requests": n, "faults": n, "by_method": {...},
                                           "paths": [last 50 raw request targets]}

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
STATE = {"mode": None, "count": 0, "method": None, "path": None, "range": False, "stall": 30.0}
STATS = {"requests": 0, "faults": 0, "by_method": {}, "paths": []}
UPSTREAM = None

ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
    "403": (403, "AccessDenied", "Access Denied"),
    "expired": (400, "ExpiredToken", "The provided token has expired."),
}


def take_fault(method, path, headers):
    with LOCK:
        STATS["requests"] += 1
        STATS["by_method"][method] = STATS["by_method"].get(method, 0) + 1
        STATS["paths"] = (STATS["paths"] + [path])[-50:]  # raw request targets, as sent
        s = STATE
        if not s["mode"] or s["count"] <= 0:
            return None, 0
        if s["method"] and s["method"] != method:
            return None, 0
        if s["path"] and s["path"] not in path:
            return None, 0
        if s["range"] and "range" not in {k.lower() for k in headers.keys()}:
            return None, 0
        s["count"] -= 1
        STATS["faults"] += 1
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
                                 range=q.get("range") == "1", stall=float(q.get("stall", "30")))
                if q.get("reset_stats"):
                    STATS.update(requests=0, faults=0, by_method={}, paths=[])
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
        if mode == "delay":
            time.sleep(stall)
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        conn.request(self.command, self.path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
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
