#!/bin/sh
# tests/scale.sh - the README's "Scaling out", for real on loopback: one
# PostgreSQL, two `blueflow serve` pools ("hosts") with a TCP listen and the
# same config (db, bot, flow), nginx with both in `upstream blueflow { }`,
# and one fake Bot API that both pools' senders deliver to (each through its
# own loopback relay, which counts the calls that pass, so that each host's
# deliveries can be told apart). `db migrate` runs from both hosts at once.
#
# Phase 1: 40 chats x 6 updates through nginx over HTTPS from 6 threads,
# some updates sent twice (at once from two threads, or again after the
# answer); once the outbox is drained, one more each (answered inline).
# Every update is applied exactly once (updates table, transcript, the
# pools' logs), each chat's transcript is in update order, a repeat gets
# the first answer whichever host takes it, both pools served updates, both
# senders delivered calls, every queued call reached the fake exactly once
# and in each chat's queue order, no dead letters, the bot's rate is
# counted per host. Before it, phase 0: a backlog of 1,000 calls to 100
# chats is delivered by both senders together, each call once and in order.
#
# Phase 2: 40 more chats; after a third of their updates one pool gets
# SIGTERM. nginx fails over: the client resends what got an error (as
# Telegram would), everything sent after the pool stopped is served by the
# other one, every update is applied exactly once, the stopped pool's queue
# share is delivered by the other sender, still in order and once.
#
# Every wait is bounded; everything listens on 127.0.0.1 or a unix socket.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

if ! nginx_available || ! pg_available; then
	echo "skip: nginx or PostgreSQL missing"
	exit 77
fi

SCALE_TOKEN=777123:scale-Test_token
SCALE_SECRET=scale-Secret_1
export SCALE_TOKEN SCALE_SECRET
secret "$SCALE_TOKEN"
secret "$SCALE_SECRET"

CHATS=40           # per phase
STEPS=6            # updates per chat
THREADS=6
RATE_BOT=50        # rate_per_bot of each host
PSQL=$PG_BIN/psql
export PSQL

# --- helpers ---------------------------------------------------------------

# wait_gone PID SECONDS: waits until PID has exited, at most SECONDS; then
# SIGKILL. Sets WAIT_RC to its exit status (137 when killed here).
wait_gone() {
	wg_n=0
	while alive "$1" && [ "$wg_n" -lt $(($2 * 20)) ]; do
		sleep 0.05
		wg_n=$((wg_n + 1))
	done
	if alive "$1"; then
		echo "pid $1 still runs after $2 s; killing it" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	WAIT_RC=$?
}

# pick_port N: a free port in 20000-29999 for pool N, away from the ones
# nginx_lib.sh and pg_lib.sh start from, and not the other pool's.
pick_port() {
	free_port $((2500 + 3000 * $1 + ${PICK_SALT:-0})) pool_port
}

# pool_port PORT: PORT is one of the pools' ports.
pool_port() { [ "$1" = "${PORT1:-}" ] || [ "$1" = "${PORT2:-}" ]; }

# write_conf N PORT: host N's config (its own listen port, storage and
# relay; the rest the same for both).
write_conf() {
	mkdir -p "$T_TMP/h$1"
	if [ "$1" = 1 ]; then wc_relay=$RELAY1; else wc_relay=$RELAY2; fi
	cat >"$T_TMP/h$1/blueflow.conf" <<CONF
[server]
db = $PG_URI
listen = 127.0.0.1:$2
storage = $T_TMP/h$1/files
api_base = http://127.0.0.1:$wc_relay
workers = 3
request_timeout = 20
lock_timeout = 5000
rate_per_bot = $RATE_BOT
rate_per_chat = 20

[bot demo]
flow = $SRCDIR/flows/onboarding.json
token_env = SCALE_TOKEN
secret_env = SCALE_SECRET
CONF
}

# start_pool N: starts host N's pool on a free port (another one if the
# port was taken meanwhile, 5 tries); sets POOLN and PORTN.
start_pool() {
	sp_try=1
	while :; do
		eval "sp_port=\${PORT$1:-}"
		[ -n "$sp_port" ] || sp_port=$(pick_port "$1")
		eval "PORT$1=$sp_port"
		write_conf "$1" "$sp_port"
		: >"$T_TMP/h$1/serve.log"
		"$BLUEFLOW" serve -c "$T_TMP/h$1/blueflow.conf" --foreground \
			2>>"$T_TMP/h$1/serve.log" &
		sp_pid=$!
		at_exit "kill -TERM $sp_pid 2>/dev/null; wait $sp_pid 2>/dev/null"
		sp_n=0
		while alive "$sp_pid" && [ "$sp_n" -lt 200 ] &&
			! { grep -q '"event":"serving"' "$T_TMP/h$1/serve.log" && port_busy "$sp_port"; }; do
			sleep 0.05
			sp_n=$((sp_n + 1))
		done
		if alive "$sp_pid" && port_busy "$sp_port"; then
			eval "POOL$1=$sp_pid"
			return 0
		fi
		kill -TERM "$sp_pid" 2>/dev/null
		wait_gone "$sp_pid" 10
		if [ "$sp_try" -ge 5 ]; then
			echo "pool $1 did not start:" >&2
			tail -n 5 "$T_TMP/h$1/serve.log" >&2
			return 1
		fi
		sp_try=$((sp_try + 1))
		PICK_SALT=$((${PICK_SALT:-0} + 37))
		eval "PORT$1="
	done
}

# checks SCRIPT-ARGS...: runs check.py, turning its "ok NAME" and "FAIL NAME:
# why" lines into this test's checks and showing its other lines.
checks() {
	python3 "$T_TMP/check.py" "$@" >"$T_TMP/check.out" 2>&1
	ck_rc=$?
	ck_fails=0
	while IFS= read -r ck_line; do
		case $ck_line in
		"ok "*) ok "${ck_line#ok }" ;;
		"FAIL "*)
			ck_line=${ck_line#FAIL }
			fail "${ck_line%%: *}" "${ck_line#*: }"
			ck_fails=$((ck_fails + 1)) ;;
		*) echo "$ck_line" ;;
		esac
	done <"$T_TMP/check.out"
	[ "$ck_rc" -eq 0 ] || [ "$ck_fails" -gt 0 ] ||
		fail "check-$1-ran" "check.py exited $ck_rc"
}

# wait_drained: until no call is pending (at most 60 s).
wait_drained() {
	wd_n=0
	while :; do
		wd_left=$(pg_psql "select count(*) from outbox where state = 'pending'" 2>&1)
		[ "$wd_left" = 0 ] && break
		[ "$wd_n" -ge 600 ] && break
		[ $((wd_n % 50)) = 0 ] && echo "pending calls: $wd_left"
		sleep 0.1
		wd_n=$((wd_n + 1))
	done
	[ "$wd_left" = 0 ] && ok "$1-outbox-drained" ||
		fail "$1-outbox-drained" "$wd_left calls still pending after 60 s"
}

relayed() { wc -l <"$T_TMP/relay$1.log" | tr -d ' '; }

# --- the Python parts ------------------------------------------------------

# relay.py LISTEN_PORT_FILE TARGET_PORT LOG: a TCP relay on 127.0.0.1 (a free
# port) to the fake Bot API; appends the Bot API method of every request
# that passes to LOG (never the path: it holds the token). Exits when the
# test's shell is gone or after 300 s.
cat >"$T_TMP/relay.py" <<'PY'
import os, re, socket, sys, threading, time
port_file, target, log, parent = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
REQ = re.compile(rb"(?:POST|GET) /bot[^/ \r\n]*/([A-Za-z]+)[ ?]")
lock = threading.Lock()
out = open(log, "a")

def pump(src, dst, count):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            if count:
                buf += data
                end = 0
                for m in REQ.finditer(buf):
                    with lock:
                        out.write(m.group(1).decode() + "\n")
                        out.flush()
                    end = m.end()
                buf = buf[end:] if end else buf[-600:]
    except OSError:
        pass
    for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        try:
            s.shutdown(how)
        except OSError:
            pass

def serve(c):
    try:
        u = socket.create_connection(("127.0.0.1", target), timeout=5)
        u.settimeout(None)
    except OSError:
        c.close()
        return
    a = threading.Thread(target=pump, args=(c, u, True), daemon=True)
    b = threading.Thread(target=pump, args=(u, c, False), daemon=True)
    a.start(); b.start(); a.join(); b.join()
    c.close(); u.close()

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(128)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
end = time.time() + 300

def watch():
    while time.time() < end:
        try:
            os.kill(parent, 0)
        except OSError:
            break
        time.sleep(0.5)
    os._exit(0)

threading.Thread(target=watch, daemon=True).start()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# client.py CONFIG-JSON: Telegram's part. Sends STEPS updates to each of
# CHATS chats through nginx, a chat's updates one after another (the next
# once the last got 200), the chats spread over THREADS threads. An update
# that gets anything but 200 (or no answer) is sent again, with a growing
# pause, 40 tries at most. Some updates go twice: a second copy at the
# same time from another thread, or again after the answer. With kill_pid,
# sends that pid SIGTERM once kill_after updates are answered. Writes what
# happened to each update to OUT (JSON); bounded by "seconds".
cat >"$T_TMP/client.py" <<'PY'
import json, os, signal, ssl, sys, threading, time, urllib.error, urllib.request
cfg = json.loads(sys.argv[1])
URL, BOT, SECRET = cfg["url"], "demo", os.environ["SCALE_SECRET"]
CTX = ssl.create_default_context(cafile=cfg["ca"])
deadline = time.time() + cfg["seconds"]
lock = threading.Lock()
state = {"acked": 0, "killed_at": None, "kill_acked": None}
records = []

def post(u):
    req = urllib.request.Request(URL + "/tg/" + BOT, data=json.dumps(u).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Telegram-Bot-Api-Secret-Token", SECRET)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=35) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except Exception as e:
        return 0, type(e).__name__

def user(chat):
    return {"id": chat, "is_bot": False, "first_name": "Ada", "language_code": "en"}

def msg(chat, uid, text):
    return {"update_id": uid, "message": {
        "message_id": uid % 100000, "date": int(time.time()),
        "chat": {"id": chat, "type": "private", "first_name": "Ada"},
        "from": user(chat), "text": text}}

def press(chat, uid, data):
    return {"update_id": uid, "callback_query": {
        "id": "q%d" % uid, "chat_instance": "1", "data": data, "from": user(chat),
        "message": {"message_id": 3, "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"}}}}

ROLES = ["eng", "design", "pm", "data"]

def update(i, chat, step):
    uid = cfg["uid_base"] + step * 1000 + i
    # every chat ends at "bio" (15 words at least): "hi there" is refused
    # with one message, answered inline when the chat's queue is empty
    texts = [None, None, "Ada", "Ada Lovelace", "ada%d@atlas.example" % i, str(i % 12),
             "hi there"]
    if step == 0:
        return uid, msg(chat, uid, "/start")
    if step == 1:
        return uid, press(chat, uid, "role|" + ROLES[i % 4])
    return uid, msg(chat, uid, texts[step])

def deliver(u, rec):
    """Sends u until it gets 200; returns the body, or None."""
    for attempt in range(40):
        if time.time() > deadline:
            return None
        with lock:
            if rec["first_sent"] is None:
                rec["first_sent"] = time.time()
        st, body = post(u)
        with lock:
            rec["statuses"].append(st)
        if st == 200:
            return body
        time.sleep(min(0.05 * 2 ** attempt, 1.0))
    return None

def acked(rec, body):
    with lock:
        rec["acked"] = time.time()
        rec["body"] = body
        state["acked"] += 1
        if cfg.get("kill_pid") and state["killed_at"] is None and \
                state["acked"] >= cfg["kill_after"]:
            os.kill(cfg["kill_pid"], signal.SIGTERM)
            state["killed_at"] = time.time()
            state["kill_acked"] = state["acked"]

def work(mine):
    for step in range(cfg["first_step"], cfg["first_step"] + cfg["steps"]):
        for i, chat in mine:
            uid, u = update(i, chat, step)
            mode = ("twin" if (i + step) % 6 == 0 else
                    "again" if (i + step) % 6 == 3 else "")
            rec = {"uid": uid, "chat": chat, "step": step, "dup": mode, "first_sent": None,
                   "acked": None, "statuses": [], "body": None, "copies": []}
            with lock:
                records.append(rec)
            if mode == "twin":
                # a second copy at the same time: nginx sends the two to
                # different hosts (round robin) or one after the other
                twin = {"first_sent": None, "statuses": []}
                res = {}
                t = threading.Thread(target=lambda: res.update(b=deliver(u, twin)))
                t.start()
                body = deliver(u, rec)
                t.join(40)
                rec["statuses"] += twin["statuses"]
                rec["copies"].append(res.get("b"))
            else:
                body = deliver(u, rec)
            if body is None:
                return   # the chat cannot go on; the check reports it
            acked(rec, body)
            if mode == "again":
                rec["copies"].append(deliver(u, rec))
            time.sleep(cfg["pace"])

chats = [(i, cfg["chat_base"] + i) for i in range(cfg["chats"])]
ts = [threading.Thread(target=work, args=(chats[t::cfg["threads"]],))
      for t in range(cfg["threads"])]
for t in ts:
    t.start()
for t in ts:
    t.join(max(1, deadline - time.time() + 40))
with lock:
    out = {"updates": records, "killed_at": state["killed_at"],
           "kill_acked": state["kill_acked"], "cfg": cfg}
    with open(cfg["out"] + ".tmp", "w") as f:
        json.dump(out, f)
os.rename(cfg["out"] + ".tmp", cfg["out"])
n = len(records)
errors = sum(1 for r in records for s in r["statuses"] if s != 200)
print("client: %d updates, %d answered, %d errors resent, killed after %s" %
      (n, sum(1 for r in records if r["acked"]), errors, state["kill_acked"]))
PY

# check.py WHAT ...: the checks, printing "ok NAME" / "FAIL NAME: why".
#   phase NAME CLIENT.json[,...] [GONE_AT]
#                                      one phase's updates (GONE_AT: the
#                                      time pool 2 had exited)
#   outbox NAME CHAT_LO CHAT_HI [R1 R2] the calls queued for those chats
#                                      (R1, R2: the relays' counts when
#                                      pool 2 had exited)
cat >"$T_TMP/check.py" <<'PY'
import collections, json, os, subprocess, sys
T = os.environ["T_TMP"]
FAILED = []

def check(name, cond, why=""):
    print(("ok %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
    if not cond:
        FAILED.append(name)

def sql(q):
    out = subprocess.run([os.environ["PSQL"], "-X", "-At", "-F", "\x1f", "-d",
                          os.environ["PG_URI"], "-c", q],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\x1f") for line in out.splitlines() if line]

def log_lines(n):
    out = []
    with open("%s/h%d/serve.log" % (T, n), errors="replace") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out

def phase(name, clients, gone_at=None):
    runs = [json.load(open(f)) for f in clients.split(",")]
    c = runs[0]
    recs = [r for run in runs for r in run["updates"]]
    cfg = c["cfg"]
    lo, hi = cfg["uid_base"], cfg["uid_base"] + 1000000
    want_n = sum(run["cfg"]["chats"] * run["cfg"]["steps"] for run in runs)
    by_uid = {r["uid"]: r for r in recs}
    unanswered = [r["uid"] for r in recs if r["acked"] is None]
    check(name + "-every-update-answered", len(recs) == want_n and not unanswered,
          "%d of %d sent, unanswered: %s" % (len(recs), want_n, unanswered[:10]))
    errors = collections.Counter(s for r in recs for s in r["statuses"] if s != 200)
    resent = sum(1 for r in recs if any(s != 200 for s in r["statuses"]))
    print("%s: %d updates, %d with an error first (resent), errors by status %s"
          % (name, len(recs), resent, dict(errors)))
    if c["killed_at"] is None:
        check(name + "-no-errors", not errors, "statuses %s" % dict(errors))
    # a repeat, from whichever host, gets the first copy's answer
    dups = [r for r in recs if r["dup"]]
    bad = [(r["uid"], r["body"], r["copies"]) for r in dups
           if any(b != r["body"] for b in r["copies"])]
    check(name + "-repeat-same-answer", dups and not bad,
          "%d repeats; differing: %r" % (len(dups), bad[:3]))
    # only a chat whose queue is empty gets its answer inline: none while
    # the traffic runs, every chat's "hi there" once the outbox is drained
    print("%s: %d updates answered inline" % (name, sum(1 for r in recs if r["body"])))
    late = [r for r in recs if r["step"] == 6]
    if late:
        wrong = [(r["uid"], r["body"]) for r in late if "A few more words" not in (r["body"] or "")]
        check(name + "-inline-reply-when-queue-empty", not wrong,
              "%d of %d answered otherwise: %r" % (len(wrong), len(late), wrong[:2]))

    # applied once: the updates table
    rows = sql("select update_id from updates where bot = 'demo' and update_id >= %d "
               "and update_id < %d" % (lo, hi))
    got = collections.Counter(int(r[0]) for r in rows)
    check(name + "-updates-table-once", set(got) == set(by_uid) and
          all(v == 1 for v in got.values()),
          "%d rows for %d updates; extra %s missing %s"
          % (len(rows), len(by_uid), sorted(set(got) - set(by_uid))[:5],
             sorted(set(by_uid) - set(got))[:5]))
    # the transcript: one row per update, each chat's in update order
    rows = sql("select chat_id, update_id from transcript where bot = 'demo' "
               "and update_id >= %d and update_id < %d order by id" % (lo, hi))
    ins = collections.Counter(int(r[1]) for r in rows)
    check(name + "-transcript-in-once", len(rows) == len(by_uid) and set(ins) == set(by_uid)
          and all(v == 1 for v in ins.values()),
          "%d 'in' rows for %d updates; twice: %s"
          % (len(rows), len(by_uid), [u for u, v in ins.items() if v > 1][:5]))
    per_chat = collections.defaultdict(list)
    for chat, uid in rows:
        per_chat[int(chat)].append(int(uid))
    sent = collections.defaultdict(list)
    for r in sorted(recs, key=lambda r: r["uid"]):
        sent[r["chat"]].append(r["uid"])
    wrong = [(chat, per_chat.get(chat)) for chat in sent if per_chat.get(chat) != sent[chat]]
    check(name + "-transcript-in-update-order", not wrong, "chat, its 'in' rows: %r" % wrong[:3])

    # the pools' logs: each update applied by exactly one host
    applied = collections.Counter()
    served = {1: 0, 2: 0}
    by_host = {}
    bad_lines = []
    for n in (1, 2):
        for l in log_lines(n):
            if l.get("event") in ("poison", "store") or l.get("level") == "error":
                bad_lines.append((n, l))
            if l.get("event") != "update" or not lo <= l.get("update_id", 0) < hi:
                continue
            served[n] += 1
            if l.get("outcome") != "repeat":
                applied[l["update_id"]] += 1
                by_host[l["update_id"]] = n
    print("%s: update lines: pool 1 %d, pool 2 %d" % (name, served[1], served[2]))
    check(name + "-logs-applied-once", set(applied) == set(by_uid) and
          all(v == 1 for v in applied.values()),
          "applied lines for %d of %d updates; twice: %s"
          % (len(applied), len(by_uid), [u for u, v in applied.items() if v > 1][:5]))
    check(name + "-both-pools-served", served[1] > 0 and served[2] > 0,
          "update lines: pool 1 %d, pool 2 %d" % (served[1], served[2]))
    check(name + "-no-store-errors", not bad_lines, "%r" % bad_lines[:3])

    if gone_at is not None:
        # failover: what was first sent once pool 2 had exited, pool 1 served
        after = [r["uid"] for r in recs if r["first_sent"] and r["first_sent"] > gone_at]
        print("%s: pool 2 got SIGTERM after %s answers; %d updates first sent after it "
              "had exited" % (name, c["kill_acked"], len(after)))
        check(name + "-traffic-after-stop", len(after) >= want_n // 4,
              "only %d updates sent after pool 2 stopped" % len(after))
        elsewhere = [u for u in after if by_host.get(u) != 1]
        check(name + "-failover-to-pool-1", after and not elsewhere,
              "%d of %d updates sent after pool 2 stopped were not applied by pool 1: %s"
              % (len(elsewhere), len(after), elsewhere[:5]))
        before = [r for r in recs if r["acked"] and r["acked"] < c["killed_at"]]
        check(name + "-stop-mid-traffic", c["killed_at"] and len(before) < want_n // 2,
              "SIGTERM after %s of %d updates" % (c["kill_acked"], want_n))

def canon(method, params):
    return method + " " + json.dumps(params, sort_keys=True)

def outbox(name, chat_lo, chat_hi, gone=None):
    """The calls queued for chats chat_lo..chat_hi-1 against what the fake
    got; gone: the relays' counts when pool 2 had exited."""
    rows = sql("select id, chat_id, method, params, state, coalesce(last_error, '') "
               "from outbox where bot = 'demo' order by id")
    mine = lambda chat: chat_lo <= int(chat) < chat_hi
    states = collections.Counter(r[4] for r in rows if mine(r[1]))
    dead = [r for r in rows if r[4] == "dead" and mine(r[1])]
    check(name + "-no-dead-letters", states and not dead and states.get("pending", 0) == 0,
          "states %s; dead: %r" % (dict(states), [(r[2], r[5]) for r in dead[:3]]))
    letters = [n for n in (1, 2) for l in log_lines(n) if l.get("event") == "dead letter"
               and mine(l.get("chat_id", 0))]
    check(name + "-no-dead-letter-logged", not letters, "in the logs of pools %s" % letters)
    # each call's (method, params) as sent: chat_id is the row's
    key_of, chat_of, owners = {}, {}, collections.defaultdict(list)
    for rid, chat, method, params, st, _ in rows:
        p = json.loads(params)
        if "chat_id" in p:
            p["chat_id"] = int(chat)
        k = canon(method, p)
        key_of[int(rid)] = k
        chat_of[int(rid)] = int(chat)
        owners[k].append(int(rid))
    ambiguous = [k for k, v in owners.items() if len(v) > 1 and mine(chat_of[v[0]])]
    check(name + "-calls-distinct", not ambiguous, "queued twice: %r" % ambiguous[:2])
    calls = [json.loads(l) for l in open(T + "/calls.jsonl") if l.strip()]
    calls = sorted((c for c in calls if c.get("kind") == "call"), key=lambda c: c["seq"])
    got = collections.Counter()
    order = collections.defaultdict(list)
    strangers, not_ok = [], []
    for c in calls:
        ids = owners.get(canon(c["method"], c.get("params") or {}))
        if not ids:
            strangers.append((c["method"], c.get("params")))
            continue
        if not mine(chat_of[ids[0]]):
            continue
        if c["status"] != 200:
            not_ok.append((ids[0], c["method"], c["status"], c.get("description")))
            continue
        got[ids[0]] += 1
        order[chat_of[ids[0]]].append(ids[0])
    check(name + "-every-call-answered-200", not not_ok, "outbox id, call, answer: %r" % not_ok[:3])
    sent = [int(r[0]) for r in rows if r[4] == "sent" and mine(r[1])]
    missing = [i for i in sent if got[i] == 0]
    twice = [(i, got[i]) for i in got if got[i] > 1]
    check(name + "-every-call-delivered-once", not missing and not twice and not strangers,
          "%d calls queued and sent; never answered 200 (outbox ids) %s; delivered more than "
          "once (id, times) %s; not queued %r"
          % (len(sent), missing[:5], twice[:5], strangers[:2]))
    wrong = [(chat, ids) for chat, ids in sorted(order.items()) if ids != sorted(ids)]
    check(name + "-calls-in-queue-order", not wrong,
          "%d chats out of order, e.g. chat %s got outbox ids %s"
          % (len(wrong), wrong[0][0] if wrong else "", wrong[0][1][:14] if wrong else ""))
    print("%s: %d calls queued, %d delivered to %d chats" % (name, len(sent), sum(got.values()),
                                                             len(order)))
    r1 = sum(1 for _ in open(T + "/relay1.log"))
    r2 = sum(1 for _ in open(T + "/relay2.log"))
    print("%s: so far, calls relayed from pool 1's sender %d, from pool 2's %d, the fake got %d"
          % (name, r1, r2, len(calls)))
    check(name + "-relays-saw-every-call", r1 + r2 == len(calls),
          "pool 1 %d + pool 2 %d, the fake %d" % (r1, r2, len(calls)))
    if gone is None:
        check(name + "-both-senders-delivered", r1 > 0 and r2 > 0,
              "pool 1 %d, pool 2 %d" % (r1, r2))
    else:
        check(name + "-stopped-sender-silent", r2 == gone[1],
              "pool 2's sender relayed %d calls after it stopped" % (r2 - gone[1]))
        check(name + "-other-sender-took-over", r1 > gone[0],
              "pool 1's sender relayed nothing after pool 2 stopped")

if sys.argv[1] == "phase":
    phase(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else None)
elif sys.argv[1] == "outbox":
    outbox(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
           (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else None)
sys.exit(1 if FAILED else 0)
PY
export T_TMP PG_URI

# --- set up ----------------------------------------------------------------

botapi_start "$SCALE_TOKEN"
for n in 1 2; do
	: >"$T_TMP/relay$n.log"
	python3 "$T_TMP/relay.py" "$T_TMP/relay$n.port" "$PORT" "$T_TMP/relay$n.log" $$ \
		>"$T_TMP/relay$n.out" 2>&1 &
	rp=$!
	at_exit "kill $rp 2>/dev/null; wait $rp 2>/dev/null"
	i=0
	while [ ! -s "$T_TMP/relay$n.port" ] && [ $i -lt 100 ] && alive "$rp"; do
		sleep 0.05
		i=$((i + 1))
	done
	eval "RELAY$n=\$(cat \"\$T_TMP/relay\$n.port\" 2>/dev/null)"
done
[ -n "$RELAY1" ] && [ -n "$RELAY2" ] && ok relays-started ||
	{ fail relays-started "$(cat "$T_TMP"/relay*.out)"; finish; exit 1; }
pg_start || { fail pg-start "see above"; finish; exit 1; }

# both "hosts" migrate the empty database at once
PORT1=$(pick_port 1)
PORT2=$(pick_port 2)
write_conf 1 "$PORT1"
write_conf 2 "$PORT2"
"$BLUEFLOW" db migrate -c "$T_TMP/h1/blueflow.conf" >"$T_TMP/migrate1.out" 2>&1 &
m1=$!
"$BLUEFLOW" db migrate -c "$T_TMP/h2/blueflow.conf" >"$T_TMP/migrate2.out" 2>&1 &
m2=$!
wait_gone "$m1" 60
rc1=$WAIT_RC
wait_gone "$m2" 60
rc2=$WAIT_RC
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] && ok migrate-from-both-at-once ||
	fail migrate-from-both-at-once "exit $rc1 and $rc2: $(cat "$T_TMP"/migrate*.out)"
nmig=$(find "$SRCDIR/sql/postgres" -name '[0-9]*.sql' | wc -l)
# the highest number: migrations may be numbered with gaps
last=$(find "$SRCDIR/sql/postgres" -name '[0-9]*.sql' | sed 's|.*/||; s|_.*||; s|^0*||' | sort -n | tail -n 1)
got=$(pg_psql "select count(*) || ' ' || count(distinct version) || ' ' || max(version) from schema_version")
[ "$got" = "$nmig $nmig $last" ] && ok migrated-once-each ||
	fail migrated-once-each "schema_version: $got, wanted $nmig migrations"

start_pool 1 || { fail pool-1-started "see above"; finish; exit 1; }
start_pool 2 || { fail pool-2-started "see above"; finish; exit 1; }
ok pools-started
echo "pool 1: pid $POOL1, 127.0.0.1:$PORT1; pool 2: pid $POOL2, 127.0.0.1:$PORT2"
nginx_start "127.0.0.1:$PORT1 127.0.0.1:$PORT2" ||
	{ fail nginx-start "see above"; finish; exit 1; }
got=$(sed -n '/^[[:space:]]*upstream[[:space:]]*blueflow/,/^[[:space:]]*}/p' "$NGINX_DIR/blueflow.active" |
	grep -o 'server [^;]*;' | tr '\n' ' ')
[ "$got" = "server 127.0.0.1:$PORT1; server 127.0.0.1:$PORT2; " ] && ok nginx-two-upstreams ||
	fail nginx-two-upstreams "upstream blueflow holds: $got"

# client NAME UID_BASE CHAT_BASE PACE FIRST_STEP STEPS [KILL_PID KILL_AFTER]
client() {
	cl_cfg=$(printf '{"url": "%s", "ca": "%s", "uid_base": %s, "chat_base": %s, "chats": %s, "first_step": %s, "steps": %s, "threads": %s, "pace": %s, "seconds": 150, "out": "%s", "kill_pid": %s, "kill_after": %s}' \
		"$NGINX_URL" "$NGINX_CA" "$2" "$3" "$CHATS" "$5" "$6" "$THREADS" "$4" \
		"$T_TMP/$1.json" "${7:-0}" "${8:-0}")
	python3 "$T_TMP/client.py" "$cl_cfg" >"$T_TMP/$1.out" 2>&1 &
	CLIENT=$!
}

# --- phase 0: a backlog, as after an outage ---------------------------------
# 10 calls "msg 1".."msg 10" for each of 100 chats, queued at once; both
# senders drain it together

pg_psql "insert into outbox (bot, chat_id, method, params)
	select 'demo', c, 'sendMessage', json_build_object('chat_id', c, 'text', 'msg ' || n)::text
	from generate_series(1, 10) n, generate_series(800000, 800099) c order by n, c"
wait_drained p0
run python3 "$SRCDIR/tests/botapi_check.py" "$T_TMP/calls.jsonl" --expect 10
grep '^botapi_check: delivered' "$T_TMP/out"
[ "$RC" -eq 0 ] && ok p0-backlog-once-in-order ||
	fail p0-backlog-once-in-order "$(grep -m 3 '^violation' "$T_TMP/out" | tr '\n' ';')"
checks outbox p0 800000 810000

# --- phase 1: both pools up --------------------------------------------------

client p1 1000000 900000 0 0 "$STEPS"
wait_gone "$CLIENT" 200
cat "$T_TMP/p1.out"
[ "$WAIT_RC" = 0 ] && [ -s "$T_TMP/p1.json" ] && ok p1-client-ran ||
	{ fail p1-client-ran "exit $WAIT_RC: $(tail -5 "$T_TMP/p1.out")"; finish; exit 1; }
wait_drained p1
# one more update for each chat, now that its queue is empty
client p1b 1000000 900000 0 "$STEPS" 1
wait_gone "$CLIENT" 200
cat "$T_TMP/p1b.out"
[ "$WAIT_RC" = 0 ] && [ -s "$T_TMP/p1b.json" ] && ok p1-client-ran-again ||
	{ fail p1-client-ran-again "exit $WAIT_RC: $(tail -5 "$T_TMP/p1b.out")"; finish; exit 1; }
checks phase p1 "$T_TMP/p1.json,$T_TMP/p1b.json"
checks outbox p1 900000 910000
# rates are per host: together the two senders may go up to twice
# rate_per_bot (one call of slack per host for a window's edge, 5% for the
# time between a call leaving and the fake stamping it)
# (rates only: the pattern numbers no message)
run python3 "$SRCDIR/tests/botapi_check.py" "$T_TMP/calls.jsonl" --pattern 'x^' \
	--max-per-bot-1s $((RATE_BOT * 2 * 105 / 100 + 2))
grep '^botapi_check: max' "$T_TMP/out"
[ "$RC" -eq 0 ] && ok p1-bot-rate-within-twice-per-host ||
	fail p1-bot-rate-within-twice-per-host "$(grep -m 3 '^violation' "$T_TMP/out" | tr '\n' ';')"
# and they do go over one host's rate_per_bot: the limit is not shared
most=$(sed -n 's/^botapi_check: .*max_per_bot_1s=\([0-9]*\).*/\1/p' "$T_TMP/out")
[ "${most:-0}" -gt $((RATE_BOT * 6 / 5)) ] && ok p1-bot-rate-counted-per-host ||
	fail p1-bot-rate-counted-per-host "at most ${most:-?} calls a second together, rate_per_bot $RATE_BOT"

# --- phase 2: pool 2 stops mid-traffic ---------------------------------------

client p2 2000000 910000 0.02 0 "$STEPS" "$POOL2" $((CHATS * STEPS / 3))
# note when pool 2 has exited (its listening socket is closed then)
GONE_AT=
RELAY1_AT_GONE=
RELAY2_AT_GONE=
n=0
while alive "$CLIENT" && [ "$n" -lt 4000 ]; do
	if [ -z "$GONE_AT" ] && ! alive "$POOL2"; then
		GONE_AT=$(date +%s.%N)
		RELAY1_AT_GONE=$(relayed 1)
		RELAY2_AT_GONE=$(relayed 2)
	fi
	sleep 0.05
	n=$((n + 1))
done
wait_gone "$CLIENT" 10
cat "$T_TMP/p2.out"
[ "$WAIT_RC" = 0 ] && [ -s "$T_TMP/p2.json" ] && ok p2-client-ran ||
	{ fail p2-client-ran "exit $WAIT_RC: $(tail -5 "$T_TMP/p2.out")"; finish; exit 1; }
if [ -n "$GONE_AT" ]; then ok p2-pool-2-stopped-during-traffic; else
	fail p2-pool-2-stopped-during-traffic "it was still running when the client finished"
	wait_gone "$POOL2" 30
	GONE_AT=$(date +%s.%N)
	RELAY1_AT_GONE=$(relayed 1)
	RELAY2_AT_GONE=$(relayed 2)
fi
wait_gone "$POOL2" 30
[ "$WAIT_RC" = 0 ] && ok p2-pool-2-exit-0 || fail p2-pool-2-exit-0 "exit $WAIT_RC"
grep -q '"event":"stopped"' "$T_TMP/h2/serve.log" && ok p2-pool-2-stopped-cleanly ||
	fail p2-pool-2-stopped-cleanly "$(tail -3 "$T_TMP/h2/serve.log")"
# nginx noticed: a refused connection, or one that pool 2 closed while
# stopping (a POST already sent is not passed on: 502, resent by the client)
grep -q "\[error\].*upstream: \"fastcgi://127.0.0.1:$PORT2\"" "$NGINX_LOG" &&
	ok p2-nginx-saw-pool-2-go || fail p2-nginx-saw-pool-2-go \
	"no error for 127.0.0.1:$PORT2 in nginx's error log: $(tail -n 3 "$NGINX_LOG")"
wait_drained p2
checks phase p2 "$T_TMP/p2.json" "$GONE_AT"
checks outbox p2 910000 920000 "$RELAY1_AT_GONE" "$RELAY2_AT_GONE"

# --- the end: pool 1 stops cleanly --------------------------------------------

kill -TERM "$POOL1"
wait_gone "$POOL1" 30
[ "$WAIT_RC" = 0 ] && ok pool-1-exit-0 || fail pool-1-exit-0 "exit $WAIT_RC"
if [ -n "${SCALE_KEEP:-}" ]; then
	# for a look afterwards: the logs, the client's records, the fake's
	# calls (which hold the token) and the outbox
	mkdir -p "$SCALE_KEEP" && cp -r "$T_TMP"/. "$SCALE_KEEP"/ &&
		cp "$NGINX_LOG" "$NGINX_ACCESS_LOG" "$SCALE_KEEP"/ &&
		pg_psql "select id, chat_id, method, state, attempts, sent_at, params from outbox order by id" \
			>"$SCALE_KEEP/outbox.txt" && echo "kept in $SCALE_KEEP"
fi
finish
