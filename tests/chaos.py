#!/usr/bin/env python3
"""tests/chaos.py - the chaos run's Telegram, its saboteur and its judge
(tests/chaos.sh sets the stage). Python stdlib only; loopback only.

  chaos.py run CONFIG.json     Telegram's part and the faults, together
  chaos.py check CONFIG.json   the checks: "ok NAME" / "FAIL NAME: why"
                               lines, then the summary line

run. CHATS chats walk flows/onboarding.json to its end through nginx over
TLS (keep-alive connections, THREADS threads, a chat's next update once
the last got 200): /start, a role button, name, e-mail, years, bio,
buddy, a voice note and the signed form (both downloaded from the fake
Bot API). An update that gets anything but 200, or no answer, is sent
again with a growing pause (as Telegram does), within the run's time; one
in ten that got 200 is sent again anyway (Telegram's retries). After an
upload the chat's node tells whether the file was kept (a full disk, a
dropped download): if not, the user sends it again (a new update).
Meanwhile, at random moments (random.Random(seed); the seed is printed),
the saboteur kill -9s a worker or the sender of a pool, restarts
PostgreSQL, arms the fake's 429, 500, 502, slow, drop and drop_after
faults (calls and downloads), fills the attachments disk for a few
seconds (when it is a tmpfs of its own) and, with two pools, kill -9s one
pool (its supervisor and children) once, mid-run, and starts it again.
Every loop is bounded by count and by time (no update starts after the
run's "seconds"; one under way is sent until it gets 200, 90 s more at
most; the faults stop with the walks, or 20 s after them while the
outbox drains). Writes what
happened to CONFIG["out"].

check. After the run (the outbox drained): every update answered; each
applied once (updates table, transcript, the pools' logs); each chat's
state (`blueflow export`) equals `blueflow replay` of its accepted
updates, in order (an upload the server did not keep replayed as a failed
download); every outbox call sent or dead with a reason, and the fake's
log as the judge: each call that makes a message reached it once, more
only where its answer was lost (drop_after) or a sender holding it was
killed between the two deliveries (see engine/outbox.h); no partial file;
each attachment's file whole; the pool(s) still serve a new chat.
"""

import base64
import collections
import http.client
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

ROLES = ["eng", "design", "pm", "data"]
BIO = ("Before Atlas I spent six years building data pipelines for a bank and "
       "on weekends I sail small boats around the lakes near the city.")
VOICE_ID, VOICE_UNIQUE = "chaos-voice", "AgADchaosvoice"
FORM_ID, FORM_UNIQUE = "chaos-form", "AgADchaosform"
UPLOAD_TRIES = 6


def load_cfg(path):
    with open(path) as f:
        return json.load(f)


def sql(cfg, q):
    """Rows of q (lists of text); raises on failure."""
    out = subprocess.run([cfg["psql"], "-X", "-At", "-F", "\x1f", "-d", cfg["pg_uri"], "-c", q],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return [line.split("\x1f") for line in out.splitlines() if line]


# --- Telegram ------------------------------------------------------------------

class Client:
    """One thread's keep-alive connection to nginx."""

    def __init__(self, cfg):
        self.host, self.port = "127.0.0.1", cfg["nginx_port"]
        self.ctx = ssl.create_default_context(cafile=cfg["ca"])
        self.secret = os.environ["CHAOS_SECRET"]
        self.conn = None

    def post(self, body):
        try:
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                        timeout=35)
            self.conn.request("POST", "/tg/demo", body=body, headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": self.secret})
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, data.decode(errors="replace")
        except Exception as e:
            self.close()
            return 0, type(e).__name__

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None


def user(chat):
    return {"id": chat, "is_bot": False, "first_name": "Ada", "language_code": "en"}


def message(chat, uid, **kw):
    m = {"message_id": uid % 1000000, "date": int(time.time()),
         "chat": {"id": chat, "type": "private", "first_name": "Ada"}, "from": user(chat)}
    m.update(kw)
    return {"update_id": uid, "message": m}


def press(chat, uid, data):
    return {"update_id": uid, "callback_query": {
        "id": "q%d" % uid, "chat_instance": "1", "data": data, "from": user(chat),
        "message": {"message_id": 3, "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"}}}}


def voice(chat, uid, size):
    return message(chat, uid, voice={"file_id": VOICE_ID, "file_unique_id": VOICE_UNIQUE,
                                     "duration": 3, "mime_type": "audio/ogg",
                                     "file_size": size})


def form(chat, uid, size):
    return message(chat, uid, document={"file_id": FORM_ID, "file_unique_id": FORM_UNIQUE,
                                        "file_name": "form.pdf",
                                        "mime_type": "application/pdf", "file_size": size})


class Run:
    def __init__(self, cfg):
        self.cfg = cfg
        # no update starts after deadline; one under way is sent until it
        # gets 200, or until last (a slow machine must not lose updates)
        self.deadline = time.time() + cfg["seconds"]
        self.last = self.deadline + 90
        self.lock = threading.Lock()
        self.records = []          # one per update: what was sent, what came back
        self.acked = 0
        self.done = threading.Event()
        self.events = []           # faults: {"kind", "wall", ...}
        self.sizes = {}

    def event(self, kind, **kw):
        with self.lock:
            kw.update(kind=kind, wall=time.time())
            self.events.append(kw)
        print("chaos: %.1f s: %s %s" % (time.time() - self.t0, kind,
                                        " ".join("%s=%s" % i for i in sorted(kw.items())
                                                 if i[0] not in ("kind", "wall"))), flush=True)

    # the chats

    def deliver(self, cl, u, rec):
        """Sends u until it gets 200 (or time is up); the body, or None."""
        body = json.dumps(u)
        for attempt in range(200):
            if time.time() > self.last:
                return None
            st, answer = cl.post(body)
            rec["statuses"].append(st)
            if st == 200:
                return answer
            time.sleep(min(0.1 * 2 ** attempt, 2.0))
        return None

    def node(self, chat):
        """The chat's node, read as the user would see it (None: unknown)."""
        for _ in range(100):
            if time.time() > self.last:
                return None
            try:
                rows = sql(self.cfg, "select node from chats where bot = 'demo' and chat_id = %d"
                           % chat)
                return rows[0][0] if rows else None
            except Exception:
                time.sleep(0.3)   # PostgreSQL restarting
        return None

    def send(self, cl, rng, chat, seq, make):
        """One update of chat, and maybe a copy of it; False when the
        chat cannot go on."""
        if time.time() > self.deadline:
            return False
        uid = self.cfg["uid_base"] + (chat - self.cfg["chat_base"]) * 100 + seq
        u = make(uid)
        rec = {"uid": uid, "chat": chat, "update": u, "statuses": [], "acked": None,
               "copies": 0, "upload": ("voice" in u.get("message", {}) or
                                       "document" in u.get("message", {}))}
        with self.lock:
            self.records.append(rec)
        if self.deliver(cl, u, rec) is None:
            return False
        with self.lock:
            rec["acked"] = time.time()
            self.acked += 1
        if rng.random() < 0.1:   # Telegram sends it again
            rec["copies"] += 1
            self.deliver(cl, u, rec)
        return True

    def walk(self, chat, i, cl, rng):
        steps = [
            lambda uid: message(chat, uid, text="/start",
                                entities=[{"offset": 0, "length": 6, "type": "bot_command"}]),
            lambda uid: press(chat, uid, "role|" + ROLES[i % 4]),
            lambda uid: message(chat, uid, text="Ada Lovelace"),
            lambda uid: message(chat, uid, text="ada%d@atlas.example" % i),
            lambda uid: message(chat, uid, text=str(i % 12)),
            lambda uid: message(chat, uid, text=BIO),
            lambda uid: message(chat, uid, text="@atlas_buddy%d" % i),
        ]
        seq = 0
        for make in steps:
            if not self.send(cl, rng, chat, seq, make):
                return
            seq += 1
            yield
        # the uploads: sent again while the chat still asks for them
        for node, make in (("voice_intro", lambda uid: voice(chat, uid, self.sizes["voice"])),
                           ("equipment_form", lambda uid: form(chat, uid, self.sizes["form"]))):
            for _ in range(UPLOAD_TRIES):
                if self.node(chat) != node:
                    break
                if not self.send(cl, rng, chat, seq, make):
                    return
                seq += 1
                yield

    def chats(self, t):
        """Thread t's chats, stepped round-robin so all walk at once."""
        cfg = self.cfg
        rng = random.Random("%s-%d" % (cfg["seed"], t))
        cl = Client(cfg)
        mine = [(cfg["chat_base"] + i, i) for i in range(t, cfg["chats"], cfg["threads"])]
        # a new chat joins every so often, so that the walks (and their
        # uploads) spread over cfg["spread"] seconds
        gap = cfg["spread"] / max(1, len(mine))
        start = time.time()
        walks, joined = [], 0
        while (walks or joined < len(mine)) and time.time() < self.deadline:
            while joined < len(mine) and time.time() >= start + joined * gap:
                walks.append(self.walk(mine[joined][0], mine[joined][1], cl, rng))
                joined += 1
            if not walks:
                time.sleep(0.05)
            for w in list(walks):
                if next(w, StopIteration) is StopIteration:
                    walks.remove(w)
        cl.close()

    # the saboteur

    def kids(self, pid):
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] not in "ZX":
                out.append(int(d))
        return out

    def listen_inode(self, port):
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(name) as f:
                    next(f)
                    for line in f:
                        p = line.split()
                        if p[3] == "0A" and int(p[1].rsplit(":", 1)[1], 16) == port:
                            return p[9]
            except OSError:
                pass
        return None

    def roles(self, pool):
        """A pool's workers (they hold the listening socket) and senders."""
        inode = self.listen_inode(pool["port"])
        workers, senders = [], []
        for k in self.kids(pool["pid"]):
            try:
                links = [os.readlink("/proc/%d/fd/%s" % (k, fd))
                         for fd in os.listdir("/proc/%d/fd" % k)]
            except OSError:
                continue
            (workers if "socket:[%s]" % inode in links else senders).append(k)
        return workers, senders

    def api_ports(self, pids):
        """The local ports of pids' connections to the fake Bot API: which
        calls a killed sender may have had in hand."""
        inodes = set()
        for pid in pids:
            try:
                for fd in os.listdir("/proc/%d/fd" % pid):
                    link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
            except OSError:
                pass
        api_port = int(self.cfg["api"].rsplit(":", 1)[1])
        ports = []
        try:
            with open("/proc/net/tcp") as f:
                next(f)
                for line in f:
                    p = line.split()
                    if p[9] in inodes and int(p[2].rsplit(":", 1)[1], 16) == api_port:
                        ports.append(int(p[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
        return ports

    def kill(self, pids):
        """kill -9 pids; returns their connections to the fake Bot API at
        that moment (stopped first, so that none opens one meanwhile), or
        None when they were gone."""
        try:
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
        except OSError:
            pass
        ports = self.api_ports(pids)
        gone = False
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                gone = True
        return None if gone and len(pids) == 1 else ports

    def ctl(self, name, spec):
        req = urllib.request.Request(self.cfg["api"] + "/_control/" + name,
                                     data=json.dumps(spec).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def pg_restart(self, rng):
        c = self.cfg["pg"]
        mode = rng.choice(["fast", "immediate"])
        cmd = [c["bin"] + "/pg_ctl", "-D", c["dir"] + "/data", "-l", c["dir"] + "/log",
               "-m", mode, "-w", "-t", "60", "restart"]
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, cwd="/", timeout=90)
        self.event("pg_restart", mode=mode, rc=r.returncode)
        if r.returncode != 0:
            print(r.stdout + r.stderr, flush=True)

    def fill_disk(self, rng):
        path = os.path.join(self.cfg["storage"], "filler")
        hold = rng.uniform(2.0, 6.0)
        n = 0
        try:
            with open(path, "wb") as f:
                for size in (1 << 20, 1 << 12):
                    chunk = b"\0" * size
                    for _ in range(100000):
                        f.write(chunk)
                        f.flush()
                        n += size
        except OSError:
            pass
        self.event("disk_full", bytes=n, hold_s=round(hold, 1))
        time.sleep(hold)
        os.unlink(path)

    def api_fault(self, rng):
        kind = rng.choice(["429", "500", "502", "slow", "drop", "drop_after"])
        spec = {"kind": kind, "count": rng.randint(3, 12)}
        if kind == "429":
            spec["retry_after"] = 1
        if kind == "slow":
            spec["seconds"] = round(rng.uniform(0.5, 2.5), 1)
        if rng.random() < 0.2 and kind in ("500", "502", "slow", "drop"):
            spec["method"] = "download"
        elif rng.random() < 0.7:
            spec["method"] = "sendMessage"
        self.ctl("fault", spec)
        self.event("api_" + kind, **{k: v for k, v in spec.items() if k != "kind"})

    def pool_kill(self, rng):
        """Pool 2 dies whole (kill -9, its children too), and comes back."""
        pool = self.cfg["pools"][1]
        pids = [pool["pid"]] + self.kids(pool["pid"])
        ports = self.kill(pids)
        self.event("pool_kill", pool=2, pids=len(pids), ports=ports or [])
        end = time.time() + 30
        while time.time() < end and (self.listen_inode(pool["port"]) or
                                     any(os.path.exists("/proc/%d/stat" % p) and
                                         self.alive(p) for p in pids[1:])):
            time.sleep(0.1)
        time.sleep(rng.uniform(1.0, 3.0))
        r = subprocess.run(["sh", self.cfg["restart_pool"]], capture_output=True, text=True,
                           timeout=60)
        try:
            pool["pid"] = int(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            print("chaos: pool 2 did not start again: %s" % (r.stdout + r.stderr), flush=True)
        self.event("pool_start", pool=2, rc=r.returncode)

    def alive(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
        except OSError:
            return False

    def saboteur(self):
        cfg = self.cfg
        rng = random.Random(cfg["seed"])
        pools = cfg["pools"]
        kinds = ["kill_worker", "kill_sender", "pg_restart", "api", "api", "resend"]
        if cfg.get("storage_tmpfs"):
            kinds.append("disk_full")
        total = cfg["chats"] * 9
        pool_kill_at = rng.uniform(0.35, 0.6) * total if len(pools) > 1 else None
        for n in range(cfg["max_faults"]):
            if self.done.wait(rng.uniform(0.8, 2.5)) or time.time() > self.deadline + 20:
                return
            if pool_kill_at is not None and self.acked >= pool_kill_at:
                pool_kill_at = None
                self.pool_kill(rng)
                continue
            kind = rng.choice(kinds)
            if kind == "resend":
                continue   # the chats' own 10% re-sends
            try:
                if kind in ("kill_worker", "kill_sender"):
                    i = rng.randrange(len(pools))
                    workers, senders = self.roles(pools[i])
                    who = workers if kind == "kill_worker" else senders
                    ports = self.kill([rng.choice(sorted(who))]) if who else None
                    if ports is not None:
                        self.event(kind, pool=i + 1, ports=ports)
                elif kind == "pg_restart":
                    self.pg_restart(rng)
                elif kind == "disk_full":
                    self.fill_disk(rng)
                else:
                    self.api_fault(rng)
            except Exception as e:
                print("chaos: %s failed: %r" % (kind, e), flush=True)

    def files(self):
        """The two files the fake serves for downloads."""
        rnd = random.Random(self.cfg["seed"])
        noise = bytes(rnd.getrandbits(8) for _ in range(6000))
        for fid, unique, path, content in (
                (VOICE_ID, VOICE_UNIQUE, "voice/chaos.ogg", b"OggS" + noise[:3000]),
                (FORM_ID, FORM_UNIQUE, "documents/chaos.pdf", b"%PDF-1.4\n" + noise)):
            self.ctl("file", {"file_id": fid, "file_unique_id": unique, "file_path": path,
                              "content_base64": base64.b64encode(content).decode()})
            self.sizes["voice" if fid == VOICE_ID else "form"] = len(content)

    def main(self):
        cfg = self.cfg
        self.t0 = time.time()
        print("chaos: seed %s, %d chats, %d threads, %d pool(s)" %
              (cfg["seed"], cfg["chats"], cfg["threads"], len(cfg["pools"])), flush=True)
        self.files()
        ts = [threading.Thread(target=self.chats, args=(t,)) for t in range(cfg["threads"])]
        sab = threading.Thread(target=self.saboteur)
        for t in ts:
            t.start()
        sab.start()
        for t in ts:
            t.join(max(1, self.last - time.time() + 40))
        # the faults go on while the sender catches up (20 s at most)
        end = time.time() + 20
        while time.time() < end:
            try:
                if sql(cfg, "select count(*) from outbox where state = 'pending'") == [["0"]]:
                    break
            except Exception:
                pass
            time.sleep(0.5)
        self.done.set()
        sab.join(120)
        self.ctl("clear_faults", {})
        try:
            os.unlink(os.path.join(cfg["storage"], "filler"))
        except OSError:
            pass
        with self.lock:
            out = {"updates": self.records, "events": self.events,
                   "pools": cfg["pools"], "seconds": time.time() - self.t0}
        with open(cfg["out"] + ".tmp", "w") as f:
            json.dump(out, f)
        os.rename(cfg["out"] + ".tmp", cfg["out"])
        n = len(self.records)
        print("chaos: %d updates sent in %.0f s, %d answered, %d sent again, %d faults" %
              (n, time.time() - self.t0, sum(1 for r in self.records if r["acked"]),
               sum(r["copies"] for r in self.records), len(self.events)), flush=True)


# --- the judge -------------------------------------------------------------------

FAILED = []


def check(name, cond, why=""):
    print(("ok %s" % name) if cond else ("FAIL %s: %s" % (name, why)), flush=True)
    if not cond:
        FAILED.append(name)


def log_lines(cfg):
    out = []
    for path in cfg["logs"]:
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def canon(method, params):
    return method + " " + json.dumps(params, sort_keys=True)


def norm_upload(v):
    """An upload's path, from the store or from replay, as CHAT/UPDATE-UNIQUE."""
    if isinstance(v, str) and ("/attach/" in "/" + v or v.startswith("/")):
        parts = v.rsplit("/", 2)
        if len(parts) == 3:
            return parts[1] + "/" + parts[2].split(".", 1)[0]
    return v


def judge(cfg):
    run = json.load(open(cfg["out"]))
    recs = run["updates"]
    events = run["events"]
    by_uid = {r["uid"]: r for r in recs}
    lo, hi = cfg["uid_base"], cfg["uid_base"] + 100 * cfg["chats"]

    # every update answered
    unanswered = [r["uid"] for r in recs if r["acked"] is None]
    check("every-update-answered", recs and not unanswered,
          "%d of %d never got 200: %s" % (len(unanswered), len(recs), unanswered[:8]))
    errors = collections.Counter(s for r in recs for s in r["statuses"] if s != 200)
    print("updates: %d, answered with an error first (sent again): %s"
          % (len(recs), dict(errors)))

    # applied once: the updates table, the transcript, the logs
    rows = sql(cfg, "select update_id from updates where bot = 'demo' and update_id >= %d "
               "and update_id < %d" % (lo, hi))
    got = collections.Counter(int(r[0]) for r in rows)
    acked = {r["uid"] for r in recs if r["acked"]}
    check("updates-table-once", set(got) >= acked and set(got) <= set(by_uid) and
          all(v == 1 for v in got.values()),
          "%d rows for %d answered updates; missing %s, unknown %s"
          % (len(rows), len(acked), sorted(acked - set(got))[:5], sorted(set(got) - set(by_uid))[:5]))
    rows = sql(cfg, "select update_id from transcript where bot = 'demo' and update_id >= %d "
               "and update_id < %d" % (lo, hi))
    ins = collections.Counter(int(r[0]) for r in rows)
    check("transcript-in-once", set(ins) == set(got) and all(v == 1 for v in ins.values()),
          "%d 'in' rows for %d applied updates; twice %s"
          % (len(rows), len(got), [u for u, v in ins.items() if v > 1][:5]))
    lines = log_lines(cfg)
    applied = collections.Counter(l["update_id"] for l in lines if l.get("event") == "update"
                                  and lo <= l.get("update_id", 0) < hi
                                  and l.get("outcome") != "repeat")
    repeats = sum(1 for l in lines if l.get("event") == "update"
                  and lo <= l.get("update_id", 0) < hi and l.get("outcome") == "repeat")
    check("logs-applied-at-most-once", all(v == 1 for v in applied.values()),
          "applied twice: %s" % [u for u, v in applied.items() if v > 1][:5])
    copies = sum(r["copies"] for r in recs)
    check("repeats-ignored", repeats >= copies,
          "%d repeats logged for %d copies sent again" % (repeats, copies))

    # each chat's state equals a serial replay of its accepted updates
    kept = {(int(r[0]), r[1]) for r in sql(cfg, "select update_id, file_unique_id from "
                                                "attachments where bot = 'demo'")}
    failed_uploads = 0
    replay_in = os.path.join(cfg["tmp"], "replay.jsonl")
    with open(replay_in, "w") as f:
        for r in sorted((r for r in recs if r["acked"]), key=lambda r: (r["chat"], r["uid"])):
            u = json.loads(json.dumps(r["update"]))
            m = u.get("message", {})
            for kind in ("voice", "document"):
                if kind in m and (r["uid"], m[kind]["file_unique_id"]) not in kept:
                    m[kind]["file_id"] = "fail-" + m[kind]["file_id"]
                    failed_uploads += 1
            f.write(json.dumps(u) + "\n")
            if r["copies"]:
                f.write(json.dumps(u) + "\n")
    print("uploads the server did not keep (sent again by the user): %d" % failed_uploads)
    out = subprocess.run([cfg["blueflow"], "replay", cfg["flow"], replay_in],
                         capture_output=True, text=True, timeout=120)
    want = {}
    for line in out.stdout.splitlines():
        d = json.loads(line)
        if "chat" in d and "node" in d:
            want[d["chat"]] = d
    out = subprocess.run([cfg["blueflow"], "export", "demo", "--format", "jsonl", "-c",
                          cfg["conf"]], capture_output=True, text=True, timeout=120)
    have = {}
    for line in out.stdout.splitlines():
        d = json.loads(line)
        if cfg["chat_base"] <= d["chat_id"] < cfg["chat_base"] + cfg["chats"]:
            have[d["chat_id"]] = d
    differ = []
    for chat, w in sorted(want.items()):
        h = have.get(chat)
        # export leaves out the engine's own keys (flow.path, flow.intent.*)
        wa = {k: norm_upload(v) for k, v in w["context"].items() if not k.startswith("flow.")}
        ha = {k: norm_upload(v) for k, v in (h or {}).get("answers", {}).items()}
        if h is None or h["node"] != w["node"] or bool(h["finished"]) != bool(w["finished"]) \
                or wa != ha:
            differ.append((chat, w["node"], h and h["node"], w["context"], h and h["answers"]))
    check("state-equals-serial-replay", want and not differ and set(have) == set(want),
          "%d of %d chats differ, e.g. %r; exported %d" % (len(differ), len(want), differ[:1],
                                                           len(have)))
    finished = sum(1 for w in want.values() if w["finished"])
    print("chats: %d, finished the flow: %d" % (len(want), finished))

    # the outbox: sent once or dead with a reason; the fake's log the judge
    rows = sql(cfg, "select id, chat_id, method, params, state, coalesce(last_error, '') "
               "from outbox where bot = 'demo' order by id")
    states = collections.Counter(r[4] for r in rows)
    pending = [r[0] for r in rows if r[4] == "pending"]
    check("outbox-drained", not pending, "%d calls still pending" % len(pending))
    dead = [(r[2], r[5]) for r in rows if r[4] == "dead"]
    check("dead-with-a-reason", all(why for _, why in dead), "dead without a reason: %r" % dead[:3])
    print("outbox: %s; dead letters by reason: %s"
          % (dict(states), dict(collections.Counter(w[:60] for _, w in dead))))
    nrows = collections.Counter()
    for rid, chat, method, params, st, _ in rows:
        if st == "pending" or not method.startswith("send"):
            continue
        p = json.loads(params)
        if "chat_id" in p:
            p["chat_id"] = int(chat)
        nrows[canon(method, p)] += 1
    calls = [json.loads(l) for l in open(cfg["calls"]) if l.strip()]
    deliveries = collections.defaultdict(list)
    for c in sorted(calls, key=lambda c: c["seq"]):
        if c.get("kind") == "call" and c.get("ok") and c["method"].startswith("send"):
            deliveries[canon(c["method"], c.get("params") or {})].append(c)
    # (when, ports): a killed sender's connections to the fake
    t_start = min([c["wall"] for c in calls] + [e["wall"] for e in events])
    kills = [(e["wall"], set(e.get("ports", []))) for e in events
             if e["kind"] in ("kill_sender", "pool_kill")]

    def killed_in_hand(a, b):
        """a came from a sender killed before b reached the fake (a's
        connection was one of the killed sender's: the fake may read a
        request a moment after its sender died)."""
        return any(t <= b["wall"] and a.get("peer_port") in ports for t, ports in kills)

    doubled, explained, lost, strangers = [], 0, [], []
    for key, ds in deliveries.items():
        if key not in nrows:
            strangers.append(key[:120])
            continue
        extra = len(ds) - nrows[key]
        ok_pairs = sum(1 for a, b in zip(ds, ds[1:])
                       if a.get("answered") is False or killed_in_hand(a, b))
        explained += min(max(extra, 0), ok_pairs)
        if extra > ok_pairs:
            doubled.append((key[:120], len(ds), nrows[key]))
            for c in calls:   # what the fake saw of it, for a look
                if canon(c["method"], c.get("params") or {}) == key:
                    print("doubled: seq %s at %.2f (took %.2f s) status %s answered %s "
                          "fault %s client port %s connection %s"
                          % (c["seq"], c["wall"] - t_start, c.get("t_end", c["t"]) - c["t"],
                             c.get("status"), c.get("answered", True), c.get("fault"),
                             c.get("peer_port"), c["conn"]))
    sent_rows = collections.Counter()
    for rid, chat, method, params, st, _ in rows:
        if st == "sent" and method.startswith("send"):
            p = json.loads(params)
            if "chat_id" in p:
                p["chat_id"] = int(chat)
            sent_rows[canon(method, p)] += 1
    for key, n in sent_rows.items():
        if len(deliveries.get(key, [])) < n:
            lost.append((key[:120], n, len(deliveries.get(key, []))))
    # an answer lost after the call was done: sent again by the outbox's
    # retry (counted in the row's attempts), never by libcurl at once
    attempts = collections.Counter()
    for r in sql(cfg, "select method, chat_id, params, attempts from outbox where bot = 'demo' "
                 "and method like 'send%'"):
        p = json.loads(r[2])
        if "chat_id" in p:
            p["chat_id"] = int(r[1])
        attempts[canon(r[0], p)] += int(r[3])
    unretried = []
    for key, ds in deliveries.items():
        # (a sender killed in between may have held the call, its failed
        # attempt not yet recorded: sent again once the lease ran out)
        lost_answers = sum(1 for a, b in zip(ds, ds[1:]) if a.get("answered") is False
                           and not any(a["wall"] - 1 <= t <= b["wall"] for t, _ in kills))
        if attempts[key] < lost_answers:
            unretried.append((key[:120], lost_answers, attempts[key]))
    check("lost-answer-retried-by-outbox", not unretried,
          "sent again without a failed attempt recorded (call, lost answers, attempts): %r"
          % unretried[:3])
    check("no-message-doubled", not doubled,
          "%d messages delivered more often than queued: %r" % (len(doubled), doubled[:3]))
    check("no-message-lost", not lost, "%d messages marked sent, never delivered: %r"
          % (len(lost), lost[:3]))
    check("no-stranger-message", not strangers, "delivered, never queued: %r" % strangers[:2])
    print("messages: %d queued, %d deliveries, %d again after a lost answer or a killed sender"
          % (sum(nrows.values()), sum(len(d) for d in deliveries.values()), explained))

    # files: no partial file, every kept file whole
    partial, bad = [], []
    for root, dirs, names in os.walk(cfg["storage"]):
        partial += [os.path.join(root, n) for n in names if n.startswith(".part-")]
    for path, size in sql(cfg, "select path, size from attachments where bot = 'demo'"):
        full = path if path.startswith("/") else os.path.join(cfg["storage"], path)
        try:
            if os.path.getsize(full) != int(size):
                bad.append((path, size, os.path.getsize(full)))
        except OSError as e:
            bad.append((path, size, str(e)))
    check("no-partial-file", not partial, "%r" % partial[:3])
    check("attachments-whole", not bad, "%r" % bad[:3])

    if doubled:
        for e in events:
            print("event: %.2f %s %s" % (e["wall"] - t_start, e["kind"], e.get("ports", "")))
    fault_n = len([e for e in events if e["kind"] != "pool_start"])
    print("faults: %s" % dict(collections.Counter(e["kind"] for e in events)))
    lost_n = len(unanswered) + len(lost) + len(pending)
    print("sent %d, applied %d, repeats ignored %d, faults injected %d, lost: %d, doubled: %d"
          % (len(recs), len(got), repeats, fault_n, lost_n, sum(d[1] - d[2] for d in doubled)))


def main(argv):
    if len(argv) != 2 or argv[0] not in ("run", "check"):
        sys.exit("usage: chaos.py run|check CONFIG.json")
    cfg = load_cfg(argv[1])
    if argv[0] == "run":
        Run(cfg).main()
        return 0
    judge(cfg)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
