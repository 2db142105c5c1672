#!/usr/bin/env python3
"""tests/fake_fcgi.py - a tiny FastCGI responder standing in for blueflow.

Usage: fake_fcgi.py ADDRESS [LOG]
  ADDRESS  unix:/path/to.sock or 127.0.0.1:PORT
  LOG      optional file: one JSON object per request (its parameters, the
           number of body bytes received and the connection's serial number,
           which shows kept-alive connections), written before the answer

Answers every request with 200, Content-Type text/plain and the body
  ok REQUEST_METHOD DOCUMENT_URI HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN CONTENT_LENGTH
("-" for a missing parameter). Prints "ready" on stdout once it listens.
Honours FCGI_KEEP_CONN (several requests on one connection, one at a time);
one thread per connection. Stdlib only; stops on SIGTERM/SIGINT.
"""

import itertools
import json
import os
import signal
import socket
import socketserver
import struct
import sys
import threading

FCGI_BEGIN_REQUEST = 1
FCGI_ABORT_REQUEST = 2
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_GET_VALUES = 9
FCGI_GET_VALUES_RESULT = 10
FCGI_UNKNOWN_TYPE = 11
FCGI_KEEP_CONN = 1
FCGI_REQUEST_COMPLETE = 0
FCGI_UNKNOWN_ROLE = 3
FCGI_RESPONDER = 1

LOG_LOCK = threading.Lock()
CONN_SERIALS = itertools.count(1)


def read_exact(f, n):
    data = f.read(n)
    if data is None or len(data) != n:
        raise EOFError
    return data


def read_record(f):
    version, rtype, rid, clen, plen, _ = struct.unpack("!BBHHBB", read_exact(f, 8))
    if version != 1:
        raise EOFError
    content = read_exact(f, clen) if clen else b""
    if plen:
        read_exact(f, plen)
    return rtype, rid, content


def record(rtype, rid, content=b""):
    out = b""
    # Split into records of at most 65535 bytes; an empty one is kept.
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = -len(chunk) % 8
        out += struct.pack("!BBHHBB", 1, rtype, rid, len(chunk), pad, 0)
        out += chunk + b"\0" * pad
        if not content:
            return out


def parse_pairs(data):
    pairs = {}
    i = 0

    def length():
        nonlocal i
        if data[i] < 128:
            i += 1
            return data[i - 1]
        n = struct.unpack("!I", data[i:i + 4])[0] & 0x7FFFFFFF
        i += 4
        return n

    while i < len(data):
        nlen = length()
        vlen = length()
        name = data[i:i + nlen].decode("latin-1")
        i += nlen
        pairs[name] = data[i:i + vlen].decode("latin-1")
        i += vlen
    return pairs


def encode_pairs(pairs):
    out = b""
    for name, value in pairs.items():
        for s in (name, value):
            n = len(s)
            out += bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
        out += name.encode() + value.encode()
    return out


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        f = self.rfile
        with LOG_LOCK:
            self.conn = next(CONN_SERIALS)
        try:
            while self.one_request(f):
                pass
        except (EOFError, ConnectionError, OSError):
            pass

    def one_request(self, f):
        """Serves one request; False when the connection is to be closed."""
        params = b""
        body_bytes = 0
        rid = None
        keep = False
        while True:
            rtype, r, content = read_record(f)
            if rtype == FCGI_GET_VALUES:
                asked = parse_pairs(content)
                have = {"FCGI_MAX_CONNS": "100", "FCGI_MAX_REQS": "100",
                        "FCGI_MPXS_CONNS": "0"}
                self.wfile.write(record(FCGI_GET_VALUES_RESULT, 0, encode_pairs(
                    {k: have[k] for k in asked if k in have})))
                continue
            if rtype == FCGI_BEGIN_REQUEST:
                role, flags = struct.unpack("!HB", content[:3])
                if role != FCGI_RESPONDER:
                    self.wfile.write(record(FCGI_END_REQUEST, r, struct.pack(
                        "!IB3x", 0, FCGI_UNKNOWN_ROLE)))
                    continue
                rid, keep = r, bool(flags & FCGI_KEEP_CONN)
            elif rtype == FCGI_ABORT_REQUEST and r == rid:
                self.wfile.write(record(FCGI_END_REQUEST, rid, struct.pack(
                    "!IB3x", 1, FCGI_REQUEST_COMPLETE)))
                return keep
            elif rtype == FCGI_PARAMS and r == rid:
                params += content
            elif rtype == FCGI_STDIN and r == rid:
                if not content:
                    break
                body_bytes += len(content)
            elif rtype not in (FCGI_PARAMS, FCGI_STDIN, FCGI_ABORT_REQUEST):
                self.wfile.write(record(FCGI_UNKNOWN_TYPE, 0, bytes([rtype]) + b"\0" * 7))
        p = parse_pairs(params)
        fields = [p.get(k) or "-" for k in ("REQUEST_METHOD", "DOCUMENT_URI",
                                            "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN",
                                            "CONTENT_LENGTH")]
        body = ("ok " + " ".join(fields) + "\n").encode("latin-1")
        head = b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        if LOG:  # before answering, so that the client sees it logged
            with LOG_LOCK, open(LOG, "a") as log:
                log.write(json.dumps({"conn": self.conn, "params": p,
                                     "body_bytes": body_bytes}) + "\n")
        self.wfile.write(record(FCGI_STDOUT, rid, head + body) + record(FCGI_STDOUT, rid)
                         + record(FCGI_END_REQUEST, rid, struct.pack("!IB3x", 0, FCGI_REQUEST_COMPLETE)))
        self.wfile.flush()
        return keep


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global LOG
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    addr = sys.argv[1]
    LOG = sys.argv[2] if len(sys.argv) == 3 else None
    if addr.startswith("unix:"):
        path = addr[5:]
        if os.path.exists(path):
            os.unlink(path)
        server = UnixServer(path, Handler)
    else:
        host, _, port = addr.rpartition(":")
        server = TCPServer((host, int(port)), Handler)

    def stop(signum, frame):
        if addr.startswith("unix:"):
            try:
                os.unlink(addr[5:])
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    server.serve_forever()


LOG = None
if __name__ == "__main__":
    main()
