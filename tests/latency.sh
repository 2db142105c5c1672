#!/bin/sh
# tests/latency.sh - time to the user, through `blueflow serve` on SQLite
# (updates posted over FastCGI as nginx would) and a fake Bot API that
# enforces Telegram's limits (--limit: at most 4 messages to a chat in any
# second, 32 calls of the bot), playing Telegram's part: it gets the inline
# reply of each update as Telegram would act on it.
#  - a button press: 8 chats (0.15 s apart) each get /start (three
#    messages, one burst), and a second later press a button. The next question comes back inline
#    and reaches the fake, the answer to the press and the prompt's edit
#    (showing the chosen label) come from the sender; all within the limits (no 429), each chat's
#    messages in order, the last of the three calls under 1 s after the
#    press was posted (a generous bound: the figures are printed).
#  - a burst: 8 messages queued for one chat reach it in order, the first
#    3 (burst_per_chat) at once, then one each 1/rate_per_chat, none early,
#    over kept-alive connections, no 429.
# Every wait is bounded; everything listens on 127.0.0.1.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

TOKEN=777004:latency-Test_token
export LATENCY_TOKEN=$TOKEN
BOTAPI_ARGS="--limit chat=4/1 --limit group=20/60 --limit bot=32/1"
botapi_start "$TOKEN"
DB=$T_TMP/latency.db
LPORT=$(free_port 8600)

cat >"$T_TMP/pool.conf" <<CONF
[server]
db = sqlite:$DB
listen = 127.0.0.1:$LPORT
api_base = $API
workers = 2
rate_per_bot = 30
rate_per_chat = 1
${LATENCY_NO_BURST:-burst_per_chat = 3}

[bot demo]
flow = $SRCDIR/flows/onboarding.json
token_env = LATENCY_TOKEN
CONF
"$BLUEFLOW" db migrate --db "sqlite:$DB" >/dev/null
"$BLUEFLOW" serve -c "$T_TMP/pool.conf" --foreground 2>>"$T_TMP/serve.log" &
POOL=$!
at_exit "kill -TERM $POOL 2>/dev/null; wait $POOL 2>/dev/null"

python3 - "$LPORT" "$API" "$TOKEN" "$DB" >"$T_TMP/client.out" 2>&1 <<'PY'
import json, socket, sqlite3, struct, sys, threading, time, urllib.request

PORT, API, TOKEN, DB = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CHATS = [4100 + i for i in range(8)]
BURST_CHAT, BURST_N, BURST, RATE = 4990, 8, 3, 1.0
LIMIT = 10   # seconds any wait may take


def check(name, cond, why=""):
    print("ok %s" % name if cond else "FAIL %s %s" % (name, why), flush=True)


def fcgi(path, body=b"", method="POST"):
    """One request to the pool over FastCGI; (status, body)."""
    def rec(t, data):
        return struct.pack("!BBHHBB", 1, t, 1, len(data), 0, 0) + data
    def pair(k, v):
        return bytes([len(k), len(v)]) + k + v
    params = [(b"REQUEST_METHOD", method.encode()), (b"DOCUMENT_URI", path.encode()),
              (b"REQUEST_URI", path.encode()), (b"CONTENT_TYPE", b"application/json"),
              (b"CONTENT_LENGTH", str(len(body)).encode())]
    msg = rec(1, struct.pack("!HB5x", 1, 0)) + rec(4, b"".join(pair(k, v) for k, v in params))
    msg += rec(4, b"") + (rec(5, body) if body else b"") + rec(5, b"")
    s = socket.create_connection(("127.0.0.1", PORT), timeout=LIMIT)
    s.sendall(msg)
    data, out = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    while len(data) >= 8:
        _, t, _, n, pad = struct.unpack("!BBHHB", data[:7])
        if t == 6:
            out += data[8:8 + n]
        data = data[8 + n + pad:]
    head, _, rest = out.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest.decode()


def fake(path, obj=None):
    req = urllib.request.Request(API + path, data=json.dumps(obj).encode() if obj is not None
                                 else None, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=LIMIT) as r:
        return json.loads(r.read())


def calls(chat=None):
    got = fake("/_control/calls")["result"]
    return [c for c in got if chat is None or str(c["params"].get("chat_id")) == str(chat)
            or c["params"].get("callback_query_id") == "q%d" % chat]


def until(what, fn):
    end = time.monotonic() + LIMIT
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.02)
    return None


def update(chat, uid, **kind):
    u = {"update_id": uid}
    u.update(kind)
    return json.dumps(u).encode()


def user(chat):
    return {"id": chat, "is_bot": False, "first_name": "Ada", "language_code": "en"}


def ready():
    try:
        return fcgi("/healthz", method="GET")[0] == 200
    except OSError:
        return False


check("pool-answers", until("the pool", ready))
RESULTS = {}


def press_chat(chat, delay):
    r = RESULTS.setdefault(chat, {})
    time.sleep(delay)
    st, body = fcgi("/tg/demo", update(chat, chat * 10 + 1, message={
        "message_id": 1, "date": int(time.time()), "from": user(chat), "text": "/start",
        "chat": {"id": chat, "type": "private", "first_name": "Ada"}}))
    r["start"] = (st, body)
    sent = until("the start", lambda: [c for c in calls(chat) if c["method"] == "sendMessage"
                                       and c.get("ok")][2:3])
    if not sent:
        r["error"] = "the start's three messages did not arrive"
        return
    mid = sent[0]["result"]["message_id"]
    time.sleep(1.0)   # the user reads the question
    t_post = time.monotonic()
    st, body = fcgi("/tg/demo", update(chat, chat * 10 + 2, callback_query={
        "id": "q%d" % chat, "chat_instance": "1", "data": "role|eng", "from": user(chat),
        "message": {"message_id": mid, "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"}}}))
    r["press"] = (st, body)
    r["t_post"] = t_post
    if st == 200 and body:
        inline = json.loads(body)   # what Telegram does with the inline reply
        meth = inline.pop("method")
        fake("/bot%s/%s" % (TOKEN, meth), inline)
    def three():
        got = [c for c in calls(chat) if c["t"] >= t_post]
        return got if len(got) >= 3 else None
    r["after"] = until("the press's calls", three)


threads = [threading.Thread(target=press_chat, args=(c, 0.15 * i)) for i, c in enumerate(CHATS)]
for t in threads:
    t.start()
for t in threads:
    t.join()

first, last = [], []
for chat in CHATS:
    r = RESULTS[chat]
    if "error" in r or not r.get("after"):
        check("press-%d-delivered" % chat, False, r.get("error", "the press's calls did not "
              "all arrive: %r" % calls(chat)[-4:]))
        continue
    after = r["after"]
    meths = sorted(c["method"] for c in after)
    check("press-%d-three-calls" % chat, meths == ["answerCallbackQuery",
          "editMessageText", "sendMessage"], repr(meths))
    st, body = r["press"]
    check("press-%d-question-inline" % chat, st == 200 and '"method":"sendMessage"' in body
          and "full name" in body, "%s %r" % (st, body[:200]))
    q = [c for c in after if c["method"] == "sendMessage"]
    msgs = [c for c in calls(chat) if c["method"] == "sendMessage" and c.get("ok")]
    ids = [c["result"]["message_id"] for c in msgs]
    check("press-%d-messages-in-order" % chat, len(msgs) == 4 and ids == sorted(ids)
          and "full name" in msgs[3]["params"].get("text", ""),
          repr([(c["result"]["message_id"], c["params"].get("text", "")[:20]) for c in msgs]))
    times = sorted(c["t"] for c in msgs)
    most = max(sum(1 for u in times if t <= u < t + 1) for t in times)
    check("press-%d-within-chat-limit" % chat, most <= 4, "%d messages in a second" % most)
    check("press-%d-all-ok" % chat, all(c.get("ok") for c in after),
          repr([(c["method"], c.get("status"), c.get("description")) for c in after]))
    if q:
        first.append(q[0]["t"] - r["t_post"])
    last.append(max(c["t"] for c in after) - r["t_post"])
    check("press-%d-quick" % chat, last[-1] < 1.0, "the last call %.3f s after the post" % last[-1])


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


print("figure press first-message ms p50 %.1f p95 %.1f max %.1f" % (
    pct(first, 50) * 1000, pct(first, 95) * 1000, max(first or [float("nan")]) * 1000))
print("figure press last-call ms p50 %.1f p95 %.1f max %.1f" % (
    pct(last, 50) * 1000, pct(last, 95) * 1000, max(last or [float("nan")]) * 1000))

# --- the burst: queued behind the pool's back; the sender takes it within
# OUTBOX_TAKE_EVERY
con = sqlite3.connect(DB, timeout=10)
con.executemany("insert into outbox (bot, chat_id, method, params) values ('demo', ?, "
                "'sendMessage', ?)", [(BURST_CHAT, json.dumps({"chat_id": BURST_CHAT,
                                       "text": "msg %d" % n})) for n in range(1, BURST_N + 1)])
con.commit()
con.close()
got = None
end = time.monotonic() + LIMIT + BURST_N / RATE
while time.monotonic() < end:
    got = [c for c in calls(BURST_CHAT) if c["method"] == "sendMessage"]
    if len([c for c in got if c.get("ok")]) >= BURST_N:
        break
    time.sleep(0.1)
ok = [c for c in got if c.get("ok")]
texts = [c["params"].get("text") for c in ok]
check("burst-all-in-order", texts == ["msg %d" % n for n in range(1, BURST_N + 1)], repr(texts))
check("burst-no-429", all(c.get("status") == 200 for c in got),
      repr([(c["params"].get("text"), c.get("status")) for c in got if c.get("status") != 200]))
if len(ok) == BURST_N:
    t = [c["t"] - ok[0]["t"] for c in ok]
    print("figure burst arrivals s " + " ".join("%.3f" % x for x in t))
    check("burst-first-at-once", t[BURST - 1] < 0.9, "message %d %.3f s after the first"
          % (BURST, t[BURST - 1]))
    early = [(k + 1, round(t[k], 3)) for k in range(BURST, BURST_N)
             if t[k] < (k - BURST + 1) / RATE - 0.35]
    check("burst-then-at-rate", not early, "too early (message, seconds): %r" % early)
    conns = set(c["conn"] for c in ok)
    check("burst-kept-alive", len(conns) < len(ok), "%d connections for %d calls"
          % (len(conns), len(ok)))
PY
grep -v '^ok ' "$T_TMP/client.out"
while read -r st name rest; do
	case $st in
	ok) ok "$name" ;;
	FAIL) fail "$name" "$rest" ;;
	esac
done <"$T_TMP/client.out"
grep -q '^ok burst-kept-alive' "$T_TMP/client.out" || fail client-ran "$(tail -n 5 "$T_TMP/client.out")"
kill -TERM "$POOL"
wait "$POOL"
rc=$?
[ $rc -eq 0 ] && ok pool-stops || fail pool-stops "exit $rc"
n429=$(grep -c '"status": 429' "$T_TMP/calls.jsonl")
[ "$n429" = 0 ] && ok no-429 || fail no-429 "$n429 calls refused over Telegram's limits"
if grep -qF "$TOKEN" "$T_TMP/serve.log"; then fail token-not-logged "in the pool's log"; else ok token-not-logged; fi
finish
