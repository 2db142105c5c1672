#!/usr/bin/env python3
"""scripts/demo.py - the driver behind scripts/demo (run that, not this).

Simulated (the default): starts nginx with TLS on 127.0.0.1 (its config
derived from nginx/blueflow.conf, a self-signed certificate), `blueflow
serve` on SQLite with flows/onboarding.json, and tests/fake_botapi.py as a
local stand-in for Telegram; plays a scripted onboarding conversation
through nginx over HTTPS, exactly as Telegram sends updates; prints it as a
chat, then what the bot collected and where the files are; stops it all.

Live (BOT_TOKEN and PUBLIC_URL set, checked by scripts/demo): the same stack
on PUBLIC_URL's port with the real Bot API, the webhook registered; serves
until Ctrl-C, then deletes the webhook and stops.

Usage: demo.py BLUEFLOW-BINARY. Environment:
  BOT_TOKEN, PUBLIC_URL  live mode (validated by scripts/demo)
  CERT, KEY              live mode: the certificate chain and key nginx
                         serves (e.g. certbot's fullchain.pem, privkey.pem);
                         without them a self-signed one is made for the host
                         and uploaded with setWebhook
  BLUEFLOW_DEMO_DIR      the state folder (default build/demo, live:
                         build/demo-live)
  BLUEFLOW_DEMO_PORT     simulated: the port to try first (default 8443)
  BLUEFLOW_DEMO_LISTEN   live: where nginx listens, when not on PUBLIC_URL's
                         port on every address (e.g. behind a port forward;
                         the tests use 127.0.0.1:PORT)
  BLUEFLOW_API_BASE      live: for tests only, a fake Bot API instead of
                         https://api.telegram.org

Python 3 standard library only. The token is passed to blueflow in its
environment only: never on a command line, in a file or in the output.
"""

import fcntl
import html
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request

BOT = "onboarding"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
FASTCGI_PARAMS = os.environ.get("NGINX_FASTCGI_PARAMS", "/etc/nginx/fastcgi_params")
TELEGRAM = "https://api.telegram.org"
# the simulated Telegram accepts any token shaped like one; tests/demo.sh
# checks that this one reaches no log
SIM_TOKEN = "123456789:simulated-demo-token"
TELEGRAM_PORTS = (443, 80, 88, 8443)
WIDTH = 76


class DemoError(Exception):
    """A failure to report in words (no traceback) before stopping."""


def say(text=""):
    print(text, flush=True)


def shown(path):
    """path relative to the current folder when it is beneath it."""
    path = os.path.abspath(path)
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def tail(path, n=15):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()[-n:]
    except OSError:
        return "(no %s)" % shown(path)
    return "".join("    " + line for line in lines).rstrip()


def until(what, fn, seconds, step=0.05):
    """Polls fn until it is true, for at most seconds; DemoError after."""
    end = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= end:
            raise DemoError("%s: not after %g s" % (what, seconds))
        time.sleep(step)


# ---------------------------------------------------------------- processes

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def stop_pid(pid, sig=signal.SIGTERM, seconds=10):
    """Signals pid and waits for it (SIGKILL to it and its children after
    seconds). True when it is gone."""
    if pid is None or not alive(pid):
        return True
    kids = children(pid)
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    end = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.05)
    if alive(pid):
        for p in [pid] + kids + children(pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    return not alive(pid)


# ---------------------------------------------------------------- the stack

class Stack:
    def __init__(self, binary, live):
        self.top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.bin = os.path.abspath(binary)
        self.live = live
        default = os.path.join(self.top, "build", "demo-live" if live else "demo")
        self.dir = os.path.abspath(os.environ.get("BLUEFLOW_DEMO_DIR") or default)
        self.ngx = os.path.join(self.dir, "nginx")
        self.conf = os.path.join(self.dir, "blueflow.conf")
        self.sock = os.path.join(self.dir, "blueflow.sock")
        self.db = os.path.join(self.dir, "blueflow.db")
        self.files = os.path.join(self.dir, "files")
        self.serve_log = os.path.join(self.dir, "serve.log")
        self.serve_pid = os.path.join(self.dir, "serve.pid")
        self.fake_pid = os.path.join(self.dir, "fake.pid")
        self.fake_log = os.path.join(self.dir, "fake.log")
        self.secret_file = os.path.join(self.dir, "webhook.secret")
        self.cert = os.path.join(self.ngx, "cert.pem")
        self.key = os.path.join(self.ngx, "key.pem")
        self.self_signed = True
        self.started = []
        self.lock = None
        self.env = dict(os.environ)
        self.api = None
        self.port = None
        self.listen = None

    # -- the state folder

    def prepare(self):
        os.umask(0o077)
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.lock = open(os.path.join(self.dir, ".lock"), "a+")
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DemoError("another scripts/demo runs with the state folder %s; "
                            "stop it first (Ctrl-C there)" % shown(self.dir))
        self.stop_leftovers()
        if not self.live:
            # a fresh conversation each time: nothing of the last run but
            # the certificate
            for name in ("blueflow.db", "blueflow.db-wal", "blueflow.db-shm", "serve.log",
                         "fake.log", "fake.port", "blueflow.conf"):
                try:
                    os.unlink(os.path.join(self.dir, name))
                except FileNotFoundError:
                    pass
            for name in ("files", "inputs"):
                shutil.rmtree(os.path.join(self.dir, name), ignore_errors=True)
            for name in ("access.log", "error.log"):
                try:
                    os.unlink(os.path.join(self.ngx, name))
                except FileNotFoundError:
                    pass
        os.makedirs(os.path.join(self.ngx, "temp"), mode=0o700, exist_ok=True)
        if len(self.sock.encode()) > 107:
            raise DemoError("the socket path %s is over 107 bytes, too long for a unix "
                            "socket; set BLUEFLOW_DEMO_DIR to a shorter folder" % self.sock)
        if not os.path.exists(self.secret_file):
            with open(self.secret_file, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        os.chmod(self.secret_file, 0o600)
        with open(self.secret_file) as f:
            self.secret = f.read().strip()
        self.env["WEBHOOK_SECRET"] = self.secret
        if not self.live:
            self.env["BOT_TOKEN"] = SIM_TOKEN

    def stop_leftovers(self):
        """Stops what an earlier run in this folder left running (killed
        before it could stop them): processes named in its pid files whose
        command line names this folder."""
        for name, path, pidf, sig in (
                ("blueflow serve", self.conf, self.serve_pid, signal.SIGTERM),
                ("simulated Telegram", self.dir + "/fake.port", self.fake_pid, signal.SIGTERM),
                ("nginx", self.ngx + "/", os.path.join(self.ngx, "nginx.pid"), signal.SIGQUIT)):
            pid = read_pid(pidf)
            if pid and alive(pid) and path in cmdline(pid):
                say("(stopping the %s, pid %d, that an earlier run left)" % (name, pid))
                stop_pid(pid, sig)
            if name != "nginx":   # nginx removes its own
                try:
                    os.unlink(pidf)
                except FileNotFoundError:
                    pass

    # -- certificate

    def certificate(self, host):
        cert_env, key_env = os.environ.get("CERT"), os.environ.get("KEY")
        if self.live and (cert_env or key_env):
            if not (cert_env and key_env):
                raise DemoError("set both CERT (the certificate chain, e.g. "
                                "/etc/letsencrypt/live/HOST/fullchain.pem) and KEY "
                                "(its private key, privkey.pem), or neither for a "
                                "self-signed certificate")
            for what, p in (("CERT", cert_env), ("KEY", key_env)):
                if not os.access(p, os.R_OK):
                    raise DemoError("%s=%s cannot be read" % (what, p))
            self.cert, self.key = os.path.abspath(cert_env), os.path.abspath(key_env)
            self.self_signed = False
            return
        stamp = os.path.join(self.ngx, "cert.for")
        try:
            with open(stamp) as f:
                same = f.read().strip() == host
        except OSError:
            same = False
        if same and os.path.exists(self.key) and subprocess.run(
                ["openssl", "x509", "-checkend", "86400", "-noout", "-in", self.cert],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return
        is_ip = re.fullmatch(r"[0-9.]+", host) is not None
        san = ("IP:%s" % host) if is_ip else ("DNS:%s" % host)
        if not self.live:
            san = "IP:127.0.0.1,DNS:localhost"
        # RSA 2048 for Telegram (its own guide to self-signed certificates
        # uses it); a quicker EC key on loopback
        key = ["-newkey", "rsa:2048"] if self.live else \
            ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        out = subprocess.run(["openssl", "req", "-x509"] + key + [
            "-nodes", "-keyout", self.key, "-out", self.cert,
            "-days", "365" if self.live else "30", "-subj", "/CN=%s" % host,
            "-addext", "subjectAltName=%s" % san],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if out.returncode != 0:
            raise DemoError("openssl could not make a certificate:\n" + out.stdout)
        os.chmod(self.key, 0o600)
        with open(stamp, "w") as f:
            f.write(host + "\n")

    # -- nginx

    def nginx_user(self):
        """The user nginx's workers run as. Not root: nginx keeps our user.
        Live, as root: www-data when it can reach the socket's folder (it
        then gets the socket's group), else root, said aloud."""
        if os.geteuid() != 0:
            return None
        if not self.live:
            return "root"   # loopback only, as tests/nginx_lib.sh does
        try:
            www = pwd.getpwnam("www-data")
        except KeyError:
            return "root"
        d = os.path.dirname(self.dir)
        while True:
            st = os.stat(d)
            if not (st.st_mode & 0o001 or (st.st_gid == www.pw_gid and st.st_mode & 0o010)):
                return "root"
            if d == "/":
                break
            d = os.path.dirname(d)
        return "www-data"

    def derive_nginx(self, listen, server_name):
        """nginx/blueflow.conf with the certificate, listen, server_name,
        logs and upstream swapped, as tests/nginx_lib.sh does; refuses when a
        swap finds nothing or a path outside the state folder is left."""
        src = os.path.join(self.top, "nginx", "blueflow.conf")
        with open(src, encoding="utf-8") as f:
            text = f.read()
        sp = r"[ \t]"
        swaps = [
            ("listen", r"(?m)^(%s*listen%s+)443(%s)" % (sp, sp, sp), r"\g<1>%s\2" % listen),
            ("server_name", r"(?m)^(%s*server_name%s+)[^;]*;" % (sp, sp), r"\g<1>%s;" % server_name),
            ("ssl_certificate", r"(?m)^(%s*ssl_certificate%s+)[^;]*;" % (sp, sp), r"\g<1>%s;" % self.cert),
            ("ssl_certificate_key", r"(?m)^(%s*ssl_certificate_key%s+)[^;]*;" % (sp, sp),
             r"\g<1>%s;" % self.key),
            ("access_log", r"(?m)^(%s*access_log%s+)/[^\s;]*" % (sp, sp),
             r"\g<1>%s" % os.path.join(self.ngx, "access.log")),
            ("error_log", r"(?m)^(%s*error_log%s+)/[^\s;]*" % (sp, sp),
             r"\g<1>%s" % os.path.join(self.ngx, "error.log")),
            ("include fastcgi_params", r"(?m)^(%s*include%s+)fastcgi_params;" % (sp, sp),
             r"\g<1>%s;" % FASTCGI_PARAMS),
        ]
        for what, pat, rep in swaps:
            text, n = re.subn(pat, lambda m, rep=rep: m.expand(rep), text)
            if n == 0:
                raise DemoError("cannot derive nginx's config from %s: no %s line"
                                % (shown(src), what))
        m = re.search(r"(?ms)^%s*upstream%s+blueflow%s*\{.*?^%s*\}" % (sp, sp, sp, sp), text)
        if not m:
            raise DemoError("cannot derive nginx's config from %s: no upstream blueflow"
                            % shown(src))
        block, n = re.subn(r"(?m)^(%s*server%s+)[^;]*;" % (sp, sp),
                           lambda x: x.group(1) + "unix:%s;" % self.sock, m.group(0))
        if n == 0:
            raise DemoError("cannot derive nginx's config from %s: no server line in "
                            "upstream blueflow" % shown(src))
        text = text[:m.start()] + block + text[m.end():]
        active = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        allowed = (FASTCGI_PARAMS, self.cert, self.key)
        for line in active.splitlines():
            if re.search(r"(^|\s)/(etc|run|var|srv|opt|home|usr)/", line) and \
                    not any(a in line for a in allowed):
                raise DemoError("cannot derive nginx's config from %s: it would use a "
                                "path outside %s: %s" % (shown(src), shown(self.dir),
                                                          line.strip()))
        site = os.path.join(self.ngx, "blueflow.conf")
        with open(site, "w", encoding="utf-8") as f:
            f.write("# Written by scripts/demo from %s: certificate, listen, server_name,\n"
                    "# logs and upstream swapped; the rest is the production file.\n" % src)
            f.write(text)
        user = self.nginx_user()
        self.nginx_as = user
        with open(os.path.join(self.ngx, "nginx.conf"), "w", encoding="utf-8") as f:
            f.write("""# Written by scripts/demo around blueflow.conf (derived from
# nginx/blueflow.conf). Everything nginx reads or writes is in this folder.
%s
daemon on;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log warn;
events {
	worker_connections 256;
}
http {
	default_type application/octet-stream;
	access_log %s/access.log;
	client_body_temp_path %s/temp/client_body;
	fastcgi_temp_path %s/temp/fastcgi;
	proxy_temp_path %s/temp/proxy;
	uwsgi_temp_path %s/temp/uwsgi;
	scgi_temp_path %s/temp/scgi;
	include %s;
}
""" % ("user %s;" % user if user else "# (not root: the workers run as this user)",
                self.ngx, self.ngx, self.ngx, self.ngx, self.ngx, self.ngx, self.ngx,
                self.ngx, site))

    def nginx_cmd(self, *extra):
        return [NGINX, "-p", self.ngx + "/", "-c", os.path.join(self.ngx, "nginx.conf"),
                "-e", os.path.join(self.ngx, "error.log")] + list(extra)

    def start_nginx(self, listen_host, port, server_name):
        listen = "%s:%d" % (listen_host, port) if listen_host else str(port)
        self.derive_nginx(listen, server_name)
        out = subprocess.run(self.nginx_cmd(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            if "Address already in use" in out.stdout:
                raise PortBusy(port)
            raise DemoError("nginx did not start:\n" + out.stdout.rstrip())
        self.started.append("nginx")
        pidf = os.path.join(self.ngx, "nginx.pid")
        until("nginx's pid file", lambda: read_pid(pidf) and alive(read_pid(pidf)), 10)
        until("nginx listening on port %d" % port,
              lambda: can_connect(listen_host or "127.0.0.1", port), 10)
        self.port = port
        self.listen_host = listen_host or "127.0.0.1"

    def stop_nginx(self):
        pid = read_pid(os.path.join(self.ngx, "nginx.pid"))
        if pid is None or not alive(pid) or self.ngx not in cmdline(pid):
            return True
        return stop_pid(pid, signal.SIGQUIT, 10)   # nginx -s quit: finish the requests in hand

    # -- the simulated Telegram

    def start_fake(self):
        portf = os.path.join(self.dir, "fake.port")
        log = open(self.fake_log, "w")
        p = subprocess.Popen([sys.executable, os.path.join(self.top, "tests", "fake_botapi.py"),
                              "--port", "0", "--port-file", portf, "--parent", str(os.getpid())],
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        log.close()
        self.fake = p
        self.started.append("fake")
        with open(self.fake_pid, "w") as f:
            f.write("%d\n" % p.pid)

        def ready():
            if p.poll() is not None:
                raise DemoError("the simulated Telegram did not start:\n" + tail(self.fake_log))
            return read_pid(portf)
        port = until("the simulated Telegram", ready, 10)
        self.api = "http://127.0.0.1:%d" % port
        return port

    def stop_fake(self):
        p = getattr(self, "fake", None)
        if p is None:
            return True
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for name in (self.fake_pid, os.path.join(self.dir, "fake.port")):
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass
        return True

    def fake_ctl(self, name, body=None, query=""):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api + "/_control/" + name + query, data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = json.loads(r.read())
        if not answer.get("ok"):
            raise DemoError("the simulated Telegram refused %s: %s" % (name, answer))
        return answer["result"]

    # -- blueflow

    def write_config(self, api_base, url=None, listen_owner=None):
        lines = ["# Written by scripts/demo (%s). Secrets are not in it: serve reads the" %
                 ("live" if self.live else "simulated Telegram"),
                 "# token from BOT_TOKEN and the webhook secret from WEBHOOK_SECRET (kept",
                 "# in webhook.secret, 0600).",
                 "[server]",
                 "db = sqlite:%s" % self.db,
                 "listen = %s" % self.sock]
        if listen_owner:
            lines.append("listen_owner = %s" % listen_owner)
        lines += ["pid_file = %s" % self.serve_pid,
                  "workers = 2",
                  "storage = %s" % self.files]
        if not self.live:
            lines += ["# the stand-in has no rate limits; against Telegram keep the default",
                      "# (1 message a second to one chat)",
                      "rate_per_chat = 20",
                      "# tests/fake_botapi.py on loopback stands in for Telegram"]
        elif api_base != TELEGRAM:
            lines.append("# BLUEFLOW_API_BASE (tests only): a fake Bot API")
        lines += ["api_base = %s" % api_base, "",
                  "[bot %s]" % BOT,
                  "flow = %s" % os.path.join(self.top, "flows", "onboarding.json"),
                  "token_env = BOT_TOKEN",
                  "secret_env = WEBHOOK_SECRET"]
        if url:
            lines.append("url = %s" % url)
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def blueflow(self, *args, check=True):
        out = subprocess.run([self.bin] + list(args) + ["-c", self.conf], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL, timeout=60)
        if check and out.returncode != 0:
            raise DemoError("blueflow %s failed (exit %d):\n%s" % (
                " ".join(args), out.returncode, (out.stderr or out.stdout).rstrip()))
        return out

    def start_serve(self):
        with open(self.serve_log, "a") as log:
            out = subprocess.run([self.bin, "serve", "-c", self.conf], env=self.env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=log, timeout=60)
        if out.returncode != 0:
            raise DemoError("blueflow serve did not start (exit %d):\n%s" % (
                out.returncode, tail(self.serve_log)))
        self.started.append("serve")
        until("blueflow serve's pid file", lambda: read_pid(self.serve_pid), 10)

    def stop_serve(self):
        pid = read_pid(self.serve_pid)
        if pid is None or not alive(pid):
            return True
        return stop_pid(pid, signal.SIGTERM, 15)

    def stop_all(self):
        """Stops what this run started, newest first; True when all is gone."""
        ok = True
        for what in reversed(self.started):
            ok &= {"nginx": self.stop_nginx, "serve": self.stop_serve,
                   "fake": self.stop_fake}[what]()
        self.started = []
        return ok

    # -- HTTPS through nginx

    def https(self, method, path, body=None, headers=None, name=None):
        """A request to nginx on 127.0.0.1 with TLS checked against our
        certificate (or the system's CAs for CERT), for host name."""
        if self.self_signed:
            ctx = ssl.create_default_context(cafile=self.cert)
        else:
            ctx = ssl.create_default_context()
        conn = Conn(self.listen_host, self.port, name or "127.0.0.1", ctx, 30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            raise DemoError("%s https://%s:%d%s (as %s) through nginx: %s\nnginx's error "
                            "log:\n%s" % (method, self.listen_host, self.port, path,
                                           name or "127.0.0.1", e,
                                           tail(os.path.join(self.ngx, "error.log"))))
        finally:
            conn.close()


class PortBusy(Exception):
    pass


class Conn(http.client.HTTPSConnection):
    """HTTPS to addr while checking the certificate for host name."""

    def __init__(self, addr, port, name, ctx, timeout):
        super().__init__(name, port, context=ctx, timeout=timeout)
        self.addr = addr

    def connect(self):
        sock = socket.create_connection((self.addr, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def can_connect(host, port):
    try:
        with socket.create_connection((host, port), 0.5):
            return True
    except OSError:
        return False


def port_free(host, port):
    """Nothing listens on host:port (connections of an earlier run that
    linger in TIME_WAIT do not count: nginx binds with SO_REUSEADDR)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ---------------------------------------------------------- sample uploads

def ogg_page(serial, seq, granule, packets, flags):
    segs = b""
    for p in packets:
        segs += b"\xff" * (len(p) // 255) + bytes([len(p) % 255])
    head = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, seq, 0, len(segs))
    page = bytearray(head + segs + b"".join(packets))
    crc = 0
    for byte in page:   # Ogg's CRC-32: polynomial 0x04c11db7, not reflected
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    page[22:26] = struct.pack("<I", crc)
    return bytes(page)


def silent_voice_note(seconds):
    """A real Ogg Opus voice note of silence (what Telegram's clients
    record, quietly): 20 ms frames of Opus's silence packet."""
    serial, pre_skip = 0x0B1EF10, 312
    head = struct.pack("<8sBBHIhB", b"OpusHead", 1, 1, pre_skip, 48000, 0, 0)
    vendor = b"blueflow demo"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    out = [ogg_page(serial, 0, 0, [head], 0x02), ogg_page(serial, 1, 0, [tags], 0)]
    frames = seconds * 50
    done, seq = 0, 2
    while done < frames:
        n = min(50, frames - done)
        done += n
        out.append(ogg_page(serial, seq, pre_skip + done * 960, [b"\xf8\xff\xfe"] * n,
                            0x04 if done == frames else 0))
        seq += 1
    return b"".join(out)


def equipment_form_pdf(name):
    """A one-page PDF: the signed equipment form."""
    lines = [("F2", 20, "Atlas equipment form"), ("F1", 12, "Laptop: 14-inch, US keyboard"),
             ("F1", 12, "Monitor: 27-inch"), ("F1", 12, "Signed: %s" % name)]
    ops, y = [], 770
    for font, size, text in lines:
        ops.append("BT /%s %d Tf 72 %d Td (%s) Tj ET" % (font, size, y, text))
        y -= 34 if size > 12 else 22
    stream = "\n".join(ops).encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


# ----------------------------------------------------------- the transcript

CHAT = 5550001
USER = {"id": CHAT, "is_bot": False, "first_name": "Ada", "last_name": "Lovelace",
        "username": "ada_l", "language_code": "en"}
BIO = ("Before Atlas I built analytical engines and wrote the first published "
       "algorithm; outside work I enjoy poetry, mathematics and long walks.")

# What Ada does, in order: text, a button press (by its label), a voice
# note (seconds), a document.
SCRIPT = [
    ("text", "/start"),
    ("text", "I'm stuck"),             # a keyword intent: the help question
    ("press", "Start over"),           # help was ephemeral: its message goes
    ("press", "Engineering"),          # the question shows the answer
    ("text", "Ada"),
    ("text", "Ada Lovelace"),
    ("text", "ada@atlas.example"),
    ("press", "Back"),                 # back to the e-mail question
    ("text", "ada@atlas.example"),
    ("text", "7"),
    ("text", BIO),
    ("text", "@grace_hopper"),
    ("voice", 42),
    ("document", "equipment-form.pdf"),
]


def strip_html(text):
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def wrap(prefix, text, indent):
    out = []
    for para in text.split("\n"):
        lines = textwrap.wrap(para, WIDTH - indent, break_long_words=False,
                              break_on_hyphens=False) or [""]
        out.extend(lines)
    first = True
    res = []
    for line in out:
        res.append((prefix if first else " " * indent) + line)
        first = False
    return "\n".join(res)


def buttons(markup):
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return ["  ".join("[%s]" % b.get("text", "?") for b in row) for row in rows]


class Conversation:
    def __init__(self, stack):
        self.s = stack
        self.update_id = 400000000
        self.message_id = 0
        self.keyboard = None   # (message_id, inline_keyboard) of the last one shown
        self.inline = 0
        self.sent = 0
        self.seq = 0

    def next_ids(self):
        self.update_id += 1
        self.message_id += 1
        return self.update_id

    def message(self, **fields):
        uid = self.next_ids()
        m = {"message_id": 1000 + uid % 1000, "from": USER, "date": int(time.time()),
             "chat": {"id": CHAT, "type": "private", "first_name": USER["first_name"],
                      "last_name": USER["last_name"], "username": USER["username"]}}
        m.update(fields)
        return {"update_id": uid, "message": m}

    def press(self, label):
        if self.keyboard is None:
            raise DemoError("the script presses %r, but the bot showed no buttons" % label)
        mid, rows = self.keyboard
        for row in rows:
            for b in row:
                if label in b.get("text", ""):
                    uid = self.next_ids()
                    return b["text"], {"update_id": uid, "callback_query": {
                        "id": str(8000000000 + uid), "from": USER,
                        "chat_instance": "-4242424242", "data": b["callback_data"],
                        "message": {"message_id": mid, "date": int(time.time()),
                                    "from": {"id": 123456789, "is_bot": True,
                                             "first_name": "Atlas onboarding"},
                                    "chat": {"id": CHAT, "type": "private"},
                                    "text": "(the question)",
                                    "reply_markup": {"inline_keyboard": rows}}}}
        raise DemoError("no button %r on the last keyboard" % label)

    def post(self, update):
        status, body = self.s.https(
            "POST", "/tg/%s" % BOT, body=json.dumps(update).encode(),
            headers={"Content-Type": "application/json",
                     "X-Telegram-Bot-Api-Secret-Token": self.s.secret})
        if status != 200:
            raise DemoError("the webhook answered %d: %s\nserve's log:\n%s" % (
                status, body[:300], tail(self.s.serve_log)))
        return json.loads(body) if body.strip() else None

    def drained(self):
        out = self.s.blueflow("outbox", "list")
        return not any(line.split()[2:3] == [str(CHAT)] for line in out.stdout.splitlines()[1:])

    def bot_says(self, call, how):
        method = call.get("method")
        p = call.get("params", call)
        if method == "editMessageText":
            say(wrap("  bot  ", "(edits its question to read: %s)" % strip_html(
                p.get("text", "")), 7))
        if method == "deleteMessages":
            n = len(p.get("message_ids", []))
            say("  bot  (deletes its %d message%s of that question)" % (n, "" if n == 1 else "s"))
        if method != "sendMessage":
            return   # answerCallbackQuery, editMessageReplyMarkup: no new line
        if how == "inline":
            self.inline += 1
        else:
            self.sent += 1
        say(wrap("  bot  ", strip_html(p.get("text", "")), 7))
        markup = p.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in buttons(markup):
            say("         " + row)
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            mid = call.get("result", {}).get("message_id") if how == "sent" else None
            self.keyboard = (mid or self.message_id + 1, markup["inline_keyboard"])

    def play(self):
        s = self.s
        inputs = os.path.join(s.dir, "inputs")
        os.makedirs(inputs, exist_ok=True)
        voice = os.path.join(inputs, "voice-hello.ogg")
        form = os.path.join(inputs, "equipment-form.pdf")
        with open(voice, "wb") as f:
            f.write(silent_voice_note(42))
        with open(form, "wb") as f:
            f.write(equipment_form_pdf("Ada Lovelace"))
        # Telegram keeps the files Ada sends; the bot fetches them with
        # getFile and a download, here from the stand-in
        s.fake_ctl("file", {"file_id": "AwACAgIAAxkBAAIBZ2demoVoiceHello",
                            "file_unique_id": "AgADvoiceHello", "file_path": "voice/file_7.oga",
                            "content_file": voice})
        s.fake_ctl("file", {"file_id": "BQACAgIAAxkBAAIBaGdemoEquipmentForm",
                            "file_unique_id": "AgADequipForm",
                            "file_path": "documents/file_8.pdf", "content_file": form})
        for kind, arg in SCRIPT:
            if kind == "text":
                say(wrap("  Ada  ", arg, 7))
                fields = {"text": arg}
                if arg == BIO:
                    start = arg.index("analytical engines")
                    fields["entities"] = [{"type": "bold", "offset": start,
                                           "length": len("analytical engines")}]
                elif arg.startswith("/"):
                    fields["entities"] = [{"type": "bot_command", "offset": 0,
                                           "length": len(arg)}]
                update = self.message(**fields)
            elif kind == "press":
                label, update = self.press(arg)
                say("  Ada  (presses [%s])" % label)
            elif kind == "voice":
                size = os.path.getsize(voice)
                say("  Ada  (a voice note, %d s, %s)" % (arg, kib(size)))
                update = self.message(voice={
                    "file_id": "AwACAgIAAxkBAAIBZ2demoVoiceHello",
                    "file_unique_id": "AgADvoiceHello", "duration": arg,
                    "mime_type": "audio/ogg", "file_size": size})
            else:
                size = os.path.getsize(form)
                say("  Ada  (sends %s, a PDF, %s)" % (arg, kib(size)))
                update = self.message(document={
                    "file_name": arg, "mime_type": "application/pdf",
                    "file_id": "BQACAgIAAxkBAAIBaGdemoEquipmentForm",
                    "file_unique_id": "AgADequipForm", "file_size": size})
            reply = self.post(update)
            # what the sender delivers for this update, before Ada goes on
            until("the sender delivering the bot's messages", self.drained, 30)
            calls = s.fake_ctl("calls", query="?since=%d" % self.seq)
            self.seq = max([self.seq] + [c["seq"] for c in calls])
            # downloads happen while the webhook request runs, before it answers
            for c in calls:
                if c["kind"] == "download" and c.get("ok"):
                    say("       (blueflow fetched it from Telegram: getFile, then a %s "
                        "download)" % kib(c.get("bytes", 0)))
            if reply is not None:
                self.bot_says(reply, "inline")
            for c in calls:
                if c["kind"] == "call" and str(c["params"].get("chat_id")) == str(CHAT):
                    self.bot_says(c, "sent")


def kib(n):
    return "%.1f KiB" % (n / 1024)


# ------------------------------------------------------------------ modes

def simulated(stack):
    s = stack
    s.prepare()
    s.certificate("localhost")
    port = s.start_fake()
    s.write_config("http://127.0.0.1:%d" % port)
    s.start_serve()
    first = int(os.environ.get("BLUEFLOW_DEMO_PORT") or 8443)
    for p in [first] + list(range(18443, 18463)):
        if port_free("127.0.0.1", p):
            try:
                s.start_nginx("127.0.0.1", p, "localhost 127.0.0.1")
                break
            except PortBusy:   # taken since we looked
                pass
    else:
        raise DemoError("no free port on 127.0.0.1 (tried %d and 18443 to 18462)" % first)
    url = "https://127.0.0.1:%d" % s.port
    status, body = s.https("GET", "/healthz")
    if status != 200:
        raise DemoError("%s/healthz answered %d: %s\nnginx's error log:\n%s" % (
            url, status, body[:200], tail(os.path.join(s.ngx, "error.log"))))

    say("blueflow demo: the onboarding bot, served for real, talking to a simulated Telegram")
    say()
    say("  Telegram  simulated locally: tests/fake_botapi.py on 127.0.0.1 plays the")
    say("            Bot API (it gets the bot's messages and serves the uploads)")
    say("  nginx     %s, TLS with a self-signed certificate, its" % url)
    say("            config derived from nginx/blueflow.conf")
    say("  blueflow  serve: flows/onboarding.json, SQLite, 2 workers and the sender,")
    say("            FastCGI on %s" % shown(s.sock))
    say()
    say("Ada's updates are POSTed to %s/tg/%s" % (url, BOT))
    say("as Telegram sends them (Update JSON, X-Telegram-Bot-Api-Secret-Token header):")
    say()
    conv = Conversation(s)
    conv.play()
    say()
    say("(%d answers came back inline in the webhook response, %d were queued and"
        % (conv.inline, conv.sent))
    say("delivered by the sender)")
    say()
    out = s.blueflow("export", BOT, "--format", "jsonl")
    say("What the bot collected (blueflow export %s --format jsonl):" % BOT)
    kept = []
    for line in out.stdout.splitlines():
        row = json.loads(line)
        say()
        say("  chat %s: %s, at node \"%s\"" % (row["chat_id"], "finished" if row.get("finished")
                                               else "not finished", row.get("node")))
        # flow.* keys are blueflow's own (the Back path, when an intent fired)
        answers = {k: v for k, v in row.get("answers", {}).items() if not k.startswith("flow.")}
        width = max([len(k) for k in answers] + [0]) + 2
        for k, v in answers.items():
            v = str(v)
            if v.startswith(s.files + os.sep):
                kept.append((k, v))
                v = shown(v)
            say(wrap("    %-*s" % (width, k), v, 4 + width))
    say()
    say("The uploads, kept on disk (0600 files in 0700 folders, named from ids):")
    for k, path in kept:
        st = os.stat(path)
        say("  %s  %s  %s" % (oct(st.st_mode & 0o777)[2:].rjust(4, "0"), kib(st.st_size).rjust(9),
                              shown(path)))
    say()
    ok = s.stop_all()
    say("Stopped nginx, blueflow serve and the simulated Telegram%s. In %s/:"
        % ("" if ok else " (NOT all: see above)", shown(s.dir)))
    say("  blueflow.conf, blueflow.db   the config and the SQLite store")
    say("  serve.log                    blueflow's log, JSON lines (one per update)")
    say("  nginx/access.log, error.log  nginx's logs")
    say("  fake.log                     the simulated Telegram's output")
    say()
    say("Your own bot, live: BOT_TOKEN=<from @BotFather> PUBLIC_URL=https://<this host>")
    say("scripts/demo (scripts/demo --help says more).")
    return 0 if ok else 1


STOP = []
INTERRUPTED = []


def interrupted(signum, frame):
    """Ctrl-C (or SIGTERM, SIGHUP) before serving: stop what was started."""
    INTERRUPTED.append(signum)
    raise KeyboardInterrupt


def live(stack):
    s = stack
    u = urllib.parse.urlsplit(os.environ["PUBLIC_URL"])
    host, port = u.hostname, u.port or 443
    public = "https://%s%s" % (host, "" if port == 443 else ":%d" % port)
    hook = "%s/tg/%s" % (public, BOT)
    api = os.environ.get("BLUEFLOW_API_BASE") or TELEGRAM
    listen = os.environ.get("BLUEFLOW_DEMO_LISTEN")
    if listen:
        m = re.fullmatch(r"(?:([0-9.]+):)?([0-9]+)", listen)
        if not m or not 0 < int(m.group(2)) < 65536:
            raise DemoError("BLUEFLOW_DEMO_LISTEN is PORT or IPv4:PORT, not %r" % listen)
        listen_host, listen_port = m.group(1), int(m.group(2))
    else:
        listen_host, listen_port = None, port
    if os.geteuid() != 0 and listen_port < 1024:
        raise DemoError("port %d needs root: run scripts/demo as root, or use "
                        "PUBLIC_URL=https://%s:8443" % (listen_port, host))
    s.prepare()   # takes the folder's lock, stops what a killed run left
    if not port_free(listen_host or "0.0.0.0", listen_port):
        raise DemoError("port %d is taken on this machine (another nginx or web server? "
                        "`ss -ltnp 'sport = :%d'` says which); stop it, or use another "
                        "of Telegram's ports (443, 80, 88, 8443) in PUBLIC_URL"
                        % (listen_port, listen_port))
    s.certificate(host)
    user = s.nginx_user()
    if user == "www-data":
        # its workers reach the socket (group www-data) and nginx's temp
        # folders; every file in both folders stays 0600
        for d in (s.dir, s.ngx, os.path.join(s.ngx, "temp")):
            os.chmod(d, 0o711)
    s.write_config(api, hook, "root:www-data" if user == "www-data" else None)
    s.start_serve()
    try:
        s.start_nginx(listen_host, listen_port, host)
    except PortBusy:
        raise DemoError("port %d is taken on this machine" % listen_port)
    status, body = s.https("GET", "/healthz", name=host)
    if status != 200:
        raise DemoError("/healthz through nginx answered %d: %s\nnginx's error log:\n%s" % (
            status, body[:200], tail(os.path.join(s.ngx, "error.log"))))
    info = s.blueflow("webhook", "info", BOT, check=False)
    was = re.search(r"(?m)^url: (https?://\S+)$", info.stdout or "")
    if was and was.group(1) != hook:
        say("(the bot's webhook pointed at %s; it is replaced)" % was.group(1))
    args = ["webhook", "set", BOT, "--url", hook]
    if s.self_signed:
        args += ["--certificate", s.cert]
    out = s.blueflow(*args, check=False)
    if out.returncode != 0:
        raise DemoError("registering the webhook failed:\n%s" % (out.stderr or out.stdout).rstrip())
    s.webhook_set = True
    rel = shown(s.dir)
    conf = shown(s.conf)
    say("blueflow demo, live: your bot answers Telegram at %s" % hook)
    say()
    say("  " + out.stdout.strip())
    if api != TELEGRAM:
        say("  Bot API   %s (BLUEFLOW_API_BASE: a fake, for tests)" % api)
    say("  nginx     port %d%s, TLS with %s" % (
        listen_port, " on %s" % listen_host if listen_host else "",
        "a self-signed certificate for %s (uploaded to Telegram)" % host if s.self_signed
        else shown(s.cert)))
    if user == "root" and s.live:
        say("            (its workers run as root: www-data cannot reach %s;" % rel)
        say("            for production use the system's nginx, see the README)")
    say("  blueflow  serve: flows/onboarding.json, SQLite in %s, uploads in %s" % (
        shown(s.db), shown(s.files)))
    say()
    say("Write to your bot in Telegram now. Logs:")
    logs = [(shown(s.serve_log), "blueflow's (JSON lines; no token, no secret)"),
            (shown(os.path.join(s.ngx, "access.log")), "nginx's requests"),
            (shown(os.path.join(s.ngx, "error.log")), "nginx's errors")]
    width = max(len(p) for p, _ in logs)
    for p, what in logs:
        say("  %-*s  %s" % (width, p, what))
    say("Check (in another shell, with BOT_TOKEN set as here):")
    say("  WEBHOOK_SECRET=$(cat %s) %s webhook info %s -c %s" % (
        shown(s.secret_file), shown(s.bin), BOT, conf))
    say("  curl %s--resolve %s:%d:127.0.0.1 https://%s:%d/healthz" % (
        "--cacert %s " % shown(s.cert) if s.self_signed else "", host, listen_port, host,
        listen_port))
    say("  WEBHOOK_SECRET=$(cat %s) %s export %s -c %s" % (
        shown(s.secret_file), shown(s.bin), BOT, conf))
    say("Stop: Ctrl-C (deletes the webhook, keeps what was collected in %s)." % rel)
    say("Serving.")

    def stop(signum, frame):
        STOP.append(signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    if INTERRUPTED:   # a signal came while the stack started
        STOP.append(INTERRUPTED[0])
    why = None
    while not STOP:
        time.sleep(0.2)
        if not alive(read_pid(s.serve_pid) or 0):
            why = "blueflow serve stopped by itself; its log:\n" + tail(s.serve_log)
            break
        if not alive(read_pid(os.path.join(s.ngx, "nginx.pid")) or 0):
            why = "nginx stopped by itself; its error log:\n" + tail(
                os.path.join(s.ngx, "error.log"))
            break
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    say()
    if why:
        say("scripts/demo: " + why)
    return 1 if finish_live(s) or why else 0


def finish_live(s):
    """Deletes the webhook (updates sent meanwhile wait at Telegram and
    arrive after the next run's `webhook set`), stops serve and nginx.
    Returns 1 when something failed."""
    bad = 0
    if getattr(s, "webhook_set", False):
        out = s.blueflow("webhook", "delete", BOT, check=False)
        if out.returncode == 0:
            say("Webhook deleted: Telegram keeps what users send meanwhile (up to 24 h)")
            say("and delivers it when you run scripts/demo again.")
        else:
            say("Deleting the webhook failed: %s" % (out.stderr or out.stdout).strip())
            bad = 1
        s.webhook_set = False
    ok = s.stop_all()
    say("Stopped blueflow serve and nginx%s. Logs: %s, %s/." % (
        "" if ok else " (NOT all: see above)", shown(s.serve_log), shown(s.ngx)))
    return bad or not ok


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0 if len(argv) == 2 else 2
    live_mode = bool(os.environ.get("BOT_TOKEN") and os.environ.get("PUBLIC_URL"))
    stack = Stack(argv[1], live_mode)
    try:
        for tool in ("openssl", NGINX):
            if not shutil.which(tool):
                raise DemoError("%s is missing (scripts/deps.sh installs it)" % tool)
        if not os.access(FASTCGI_PARAMS, os.R_OK):
            raise DemoError("%s is missing (the nginx package has it)" % FASTCGI_PARAMS)
        # set even where they came ignored (a background job of a script)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, interrupted)
        return live(stack) if live_mode else simulated(stack)
    except DemoError as e:
        sys.stdout.flush()
        sys.stderr.write("scripts/demo: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        say("\nscripts/demo: interrupted; stopping what it started")
        return 128 + (INTERRUPTED[0] if INTERRUPTED else signal.SIGINT)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if live_mode and getattr(stack, "webhook_set", False):
            finish_live(stack)
        elif stack.started:
            stack.stop_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
