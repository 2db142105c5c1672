#!/usr/bin/env python3
"""tests/fake_http.py - a fake outside service for the tests of the http
node. Python stdlib only; loopback only.

  fake_http.py [--port 0] [--log FILE] [--parent PID] [--lifetime S]

Prints "ready PORT" once it listens. Each request is logged as one JSON
line {"method", "path", "query", "headers": {lower-case name: value;
Authorization as "sha256:HEX"},
"body"} (written when the request arrives, before any answer). Answers by
path:
  /ok          201 {"id": 4711, "meta": {"queue": "sales"}, "got": BODY}
  /flaky       503 on the first call since the last /_reset, then 200
               {"result": "fine"}
  /slow?s=N    sleeps N seconds (default 4), then 200 {"id": 1}
  /html        200, text/html: not JSON
  /big         200, 10 MB of JSON
  /redirect?to=URL[&code=N]   N (default 302) to URL
  /_reset      forgets the counts (the log is kept)
Stops on SIGTERM, when --parent is gone, or after --lifetime seconds.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"flaky": 0}
LOG = None


def shown(name, value):
    """A header as logged: Authorization as its SHA-256 (the test's
    secrets must appear in no file)."""
    if name.lower() == "authorization":
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        if LOG and url.path != "/_reset":
            with LOCK, open(LOG, "a") as f:
                f.write(json.dumps({"method": self.command, "path": url.path,
                                    "query": url.query,
                                    "headers": {k.lower(): shown(k, v) for k, v in self.headers.items()},
                                    "body": body, "at": time.time()}) + "\n")
        if url.path == "/ok":
            try:
                got = json.loads(body) if body else None
            except ValueError:
                got = body
            return self.answer(201, {"id": 4711, "meta": {"queue": "sales"}, "got": got})
        if url.path == "/flaky":
            with LOCK:
                STATE["flaky"] += 1
                first = STATE["flaky"] == 1
            if first:
                return self.answer(503, {"error": "busy"})
            return self.answer(200, {"result": "fine"})
        if url.path == "/slow":
            time.sleep(float(q.get("s", "4")))
            return self.answer(200, {"id": 1})
        if url.path == "/html":
            return self.answer(200, b"<html>fine</html>", "text/html")
        if url.path == "/big":
            return self.answer(200, b'{"x":"' + b"a" * (10 * 1024 * 1024) + b'"}')
        if url.path == "/redirect":
            return self.answer(int(q.get("code", "302")), {},
                               extra={"Location": q.get("to", "/ok")})
        if url.path == "/_reset":
            with LOCK:
                STATE["flaky"] = 0
            return self.answer(200, {"ok": True})
        return self.answer(404, {"error": "no such path"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--parent", type=int)
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    LOG = a.log
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print("ready %d" % srv.server_address[1], flush=True)
    start = time.time()

    def watch():
        while True:
            time.sleep(0.5)
            gone = False
            if a.parent:
                try:
                    os.kill(a.parent, 0)
                except OSError:
                    gone = True
            if gone or time.time() - start > a.lifetime:
                os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
