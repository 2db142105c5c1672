#!/bin/sh
# tests/http.sh - the http node through nginx (TLS) and `blueflow serve`
# on SQLite and on PostgreSQL, calling tests/fake_http.py on loopback:
# the collected answers POSTed and a field of the answer shown in the next
# message; a 5xx then a success, retried; a timeout, an unlisted host, a
# redirect off the list, a name resolving to 127.0.0.1 and a 10 MB answer
# each refused with a log line and on_error; a 303 (and a 301 or 302
# after a POST) followed with a GET without body, a 307 or 308 with the
# method and body; two updates of other chats served, another chat's
# message delivered through the outbox and its reminder fired while a call
# hangs 4 s; `blueflow tick` making two calls at once; no header value in
# the log.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

if ! nginx_available || ! pg_available; then
	echo "skip: nginx or PostgreSQL missing"
	exit 77
fi
need_tools curl python3

TOKEN=646465:http-Test_token
export HTTP_TOKEN=$TOKEN HTTP_SECRET=http-Secret_1 CRM_TOKEN=crm-Secret_value_42
secret "$HTTP_SECRET"
secret "$CRM_TOKEN"
botapi_start "$TOKEN"

python3 "$SRCDIR/tests/fake_http.py" --log "$T_TMP/http.jsonl" --parent $$ \
	--lifetime 300 >"$T_TMP/fake_http.out" 2>&1 &
h__pid=$!
at_exit "kill $h__pid 2>/dev/null; wait $h__pid 2>/dev/null"
wait_for "$T_TMP/fake_http.out" "ready "
HP=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$T_TMP/fake_http.out")
[ -n "$HP" ] && ok fake-http-started || { fail fake-http-started "$(cat "$T_TMP/fake_http.out")"; finish; exit 1; }
S=http://127.0.0.1:$HP

cat >"$T_TMP/flow.json" <<JSON
{
  "start": "name",
  "commands": {"/flaky": "flaky", "/slow": "slow", "/unlisted": "unlisted",
               "/redir": "redir", "/redir_in": "redir_in", "/local": "local",
               "/big": "big", "/hang": "hang", "/r301": "r301", "/r302": "r302",
               "/r303": "r303", "/r307": "r307", "/r308": "r308", "/two": "two",
               "/remind": "rem"},
  "nodes": {
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "email"},
    "email": {"type": "text", "node_text": "Your email?", "key_to_save": "email", "next": "send"},
    "send": {"type": "http", "url": "$S/ok?who={{name}}", "send_answers": true,
             "body": {"source": "bot"}, "headers": {"Authorization": "Bearer \$CRM_TOKEN"},
             "save": {"ticket": "/id", "queue": "/meta/queue"}, "next": "done", "on_error": "err"},
    "done": {"type": "cutscene", "node_text": "Thanks, {{name}}! Ticket #{{ticket}} ({{queue}})."},
    "flaky": {"type": "http", "method": "GET", "url": "$S/flaky", "retries": 2,
              "save": {"r": "/result"}, "next": "flaky_ok", "on_error": "err"},
    "flaky_ok": {"type": "cutscene", "node_text": "Flaky said {{r}}."},
    "slow": {"type": "http", "url": "$S/slow?s=3", "timeout": 1, "next": "done", "on_error": "err"},
    "unlisted": {"type": "http", "url": "https://unlisted.example.com/x", "next": "done", "on_error": "err"},
    "redir": {"type": "http", "url": "$S/redirect?to=https%3A%2F%2Fevil.example.net%2F", "next": "done", "on_error": "err"},
    "redir_in": {"type": "http", "url": "$S/redirect?to=%2Fok", "save": {"ticket": "/id"},
                 "next": "redir_ok", "on_error": "err"},
    "redir_ok": {"type": "cutscene", "node_text": "Redirected to #{{ticket}}."},
    "local": {"type": "http", "url": "http://localhost:$HP/ok", "next": "done", "on_error": "err"},
    "big": {"type": "http", "url": "$S/big", "save": {"x": "/x"}, "next": "done", "on_error": "err"},
    "hang": {"type": "http", "url": "$S/slow?s=4", "next": "hang_done", "on_error": "err"},
    "hang_done": {"type": "cutscene", "node_text": "The slow service answered."},
    "r301": {"type": "http", "url": "$S/redirect?code=301&to=%2Fok%3Fvia%3D301", "body": {"x": "1"},
             "save": {"ticket": "/id"}, "next": "redir_ok", "on_error": "err"},
    "r302": {"type": "http", "url": "$S/redirect?code=302&to=%2Fok%3Fvia%3D302", "body": {"x": "1"},
             "save": {"ticket": "/id"}, "next": "redir_ok", "on_error": "err"},
    "r303": {"type": "http", "method": "PUT", "url": "$S/redirect?code=303&to=%2Fok%3Fvia%3D303",
             "body": {"x": "1"}, "save": {"ticket": "/id"}, "next": "redir_ok", "on_error": "err"},
    "r307": {"type": "http", "url": "$S/redirect?code=307&to=%2Fok%3Fvia%3D307", "body": {"x": "1"},
             "save": {"ticket": "/id"}, "next": "redir_ok", "on_error": "err"},
    "r308": {"type": "http", "method": "PATCH", "url": "$S/redirect?code=308&to=%2Fok%3Fvia%3D308",
             "body": {"x": "1"}, "save": {"ticket": "/id"}, "next": "redir_ok", "on_error": "err"},
    "two": {"type": "cutscene", "node_text": "First.", "next": "two_b"},
    "two_b": {"type": "text", "node_text": "Second?", "key_to_save": "b", "next": "err"},
    "rem": {"type": "text", "node_text": "Remind me?", "key_to_save": "rm",
            "remind_after": 1, "reminder": "Still there?", "next": "err"},
    "err": {"type": "cutscene", "node_text": "Sorry, that did not work."}
  }
}
JSON

serve_start() {
	cat >"$T_TMP/http.conf" <<CONF
[server]
db = $1
listen = $T_TMP/bf.sock
api_base = $API
workers = 2

[bot demo]
flow = $T_TMP/flow.json
token_env = HTTP_TOKEN
secret_env = HTTP_SECRET
http_allow = $S, http://localhost:$HP
CONF
	"$BLUEFLOW" db migrate -c "$T_TMP/http.conf" >/dev/null 2>>"$T_TMP/serve.log"
	"$BLUEFLOW" serve -c "$T_TMP/http.conf" --foreground 2>>"$T_TMP/$2.log" &
	SERVE_PID=$!
	i=0
	while [ ! -S "$T_TMP/bf.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$T_TMP/bf.sock" ] && ok "$2-serve-started" || fail "$2-serve-started" "$(tail -5 "$T_TMP/$2.log")"
}

serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	rm -f "$T_TMP/bf.sock"
}

# post CHAT UPDATE_ID TEXT: one message through nginx
post() {
	curl -sS --max-time 20 --cacert "$NGINX_CA" -o "$T_TMP/reply" -w '%{http_code}' \
		-H "X-Telegram-Bot-Api-Secret-Token: $HTTP_SECRET" -H 'Content-Type: application/json' \
		--data "{\"update_id\":$2,\"message\":{\"message_id\":$2,\"date\":$(date +%s),\"from\":{\"id\":$1,\"is_bot\":false,\"first_name\":\"Ada\"},\"chat\":{\"id\":$1,\"type\":\"private\"},\"text\":\"$3\"}}" \
		"$NGINX_URL/tg/demo" >"$T_TMP/status" 2>&1
	[ "$(cat "$T_TMP/status")" = 200 ]
}

# said CHAT TEXT: 1 when the chat got TEXT (inline or sent), waiting up to 12 s
said() {
	python3 - "$T_TMP/calls.jsonl" "$T_TMP/replies" "$1" "$2" <<'PY'
import json, sys, time
end = time.time() + 12
while True:
    found = False
    for path in sys.argv[1:3]:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                c = json.loads(line)
            except ValueError:
                continue
            p = c.get("params") or c
            if str(p.get("chat_id")) == sys.argv[3] and p.get("text") == sys.argv[4]:
                found = True
    if found or time.time() > end:
        break
    time.sleep(0.05)
print(1 if found else 0)
PY
}

# step CHAT ID TEXT: post, keeping the inline reply
step() {
	post "$1" "$2" "$3"
	r=$?
	{ cat "$T_TMP/reply"; echo; } >>"$T_TMP/replies"
	return $r
}

# refused NAME CHAT COMMAND LOGTEXT: the call refused, logged, on_error
refused() {
	step "$2" "$(($2 * 10 + 1))" /start
	step "$2" "$(($2 * 10 + 2))" "$3"
	[ "$(said "$2" "Sorry, that did not work.")" = 1 ] && ok "$1-on-error" ||
		fail "$1-on-error" "$(tail -3 "$T_TMP/calls.jsonl")"
	grep '"event":"http"' "$T_TMP/$B.log" | grep -q "$4" && ok "$1-logged" ||
		fail "$1-logged" "$(grep '"event":"http"' "$T_TMP/$B.log" | tail -3)"
}

run_backend() {
	B=$1 base=$3
	: >"$T_TMP/replies"
	serve_start "$2" "$B"
	a=$((base + 1))
	step $a $((a * 10 + 1)) /start
	step $a $((a * 10 + 2)) Ada
	step $a $((a * 10 + 3)) "ada@example.com"
	[ "$(said $a "Thanks, Ada! Ticket #4711 (sales).")" = 1 ] && ok "$B-post-and-save" ||
		fail "$B-post-and-save" "$(tail -3 "$T_TMP/calls.jsonl"; grep -v "\"event\":\"update\"" "$T_TMP/$B.log" | tail -8)"
	python3 - "$T_TMP/http.jsonl" "$a" <<'PY' && ok "$B-answers-posted" || fail "$B-answers-posted" "$(tail -1 "$T_TMP/http.jsonl")"
import hashlib, json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"/ok"' in l and "who=Ada" in l]
c = calls[-1]
b = json.loads(c["body"])
assert c["method"] == "POST", c
assert b == {"name": "Ada", "email": "ada@example.com", "source": "bot"}, b
want = "sha256:" + hashlib.sha256(b"Bearer crm-Secret_value_42").hexdigest()
assert c["headers"]["authorization"] == want, c["headers"]
assert c["headers"]["content-type"] == "application/json", c["headers"]
PY
	curl -s "$S/_reset" >/dev/null
	f=$((base + 2))
	step $f $((f * 10 + 1)) /start
	step $f $((f * 10 + 2)) /flaky
	[ "$(said $f "Flaky said fine.")" = 1 ] && ok "$B-5xx-retried" ||
		fail "$B-5xx-retried" "$(tail -3 "$T_TMP/calls.jsonl")"
	[ "$(grep -c '"/flaky"' "$T_TMP/http.jsonl")" -ge 2 ] && ok "$B-flaky-called-twice" ||
		fail "$B-flaky-called-twice" "$(grep -c flaky "$T_TMP/http.jsonl")"
	refused "$B-timeout" $((base + 3)) /slow "no answer within 1 s"
	refused "$B-unlisted" $((base + 4)) /unlisted "unlisted.example.com:443 is not in the bot's http_allow"
	refused "$B-redirect-off-list" $((base + 5)) /redir "evil.example.net:443 is not in the bot's http_allow"
	refused "$B-name-to-loopback" $((base + 6)) /local "resolves to a loopback"
	refused "$B-10mb" $((base + 7)) /big "the answer is over 65536 bytes"
	r=$((base + 8))
	step $r $((r * 10 + 1)) /start
	step $r $((r * 10 + 2)) /redir_in
	[ "$(said $r "Redirected to #4711.")" = 1 ] && ok "$B-redirect-in-list" ||
		fail "$B-redirect-in-list" "$(tail -3 "$T_TMP/calls.jsonl")"
	for code in 301 302 303 307 308; do
		c=$((base + 20 + code % 10))
		step $c $((c * 10 + 1)) /start
		step $c $((c * 10 + 2)) /r$code
		[ "$(said $c "Redirected to #4711.")" = 1 ] && ok "$B-redirect-$code" ||
			fail "$B-redirect-$code" "$(tail -3 "$T_TMP/calls.jsonl")"
	done
	python3 - "$T_TMP/http.jsonl" <<'PY' && ok "$B-redirect-methods" ||
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
def last(via):
    return [c for c in calls if c["path"] == "/ok" and c["query"] == "via=" + via][-1]
for via in ("301", "302", "303"):
    c = last(via)
    assert c["method"] == "GET" and c["body"] == "", c
    assert "content-type" not in c["headers"], c
for via, method in (("307", "POST"), ("308", "PATCH")):
    c = last(via)
    assert c["method"] == method and json.loads(c["body"]) == {"x": "1"}, c
PY
		fail "$B-redirect-methods" "$(grep via= "$T_TMP/http.jsonl" | tail -5)"

	# a call hangs 4 s; two other chats are served meanwhile, a message
	# of a third goes out through the outbox, a fourth's reminder fires
	h=$((base + 9)) o1=$((base + 10)) o2=$((base + 11)) q=$((base + 12)) rm=$((base + 13))
	step $h $((h * 10 + 1)) /start
	step $q $((q * 10 + 1)) /start
	step $rm $((rm * 10 + 1)) /start
	before=$(grep -c '"query": "s=4"' "$T_TMP/http.jsonl")
	step $rm $((rm * 10 + 2)) /remind
	step $h $((h * 10 + 2)) /hang
	i=0
	while [ "$(grep -c '"query": "s=4"' "$T_TMP/http.jsonl")" = "$before" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	step $q $((q * 10 + 2)) /two
	sleep 0.5
	step $h $((h * 10 + 3)) "hello?"
	[ "$(said $h "One moment, please: we are still waiting for an answer.")" = 1 ] &&
		ok "$B-message-while-pending" || fail "$B-message-while-pending" "$(tail -3 "$T_TMP/replies")"
	t0=$(date +%s.%N)
	step $o1 $((o1 * 10 + 1)) /start && step $o2 $((o2 * 10 + 1)) /start
	t1=$(date +%s.%N)
	[ "$(said $o1 "Your name?")" = 1 ] && [ "$(said $o2 "Your name?")" = 1 ] &&
		awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1.5) }' &&
		ok "$B-served-while-call-hangs" || fail "$B-served-while-call-hangs" "$t0 $t1"
	[ "$(said $h "The slow service answered.")" = 1 ] && ok "$B-hung-call-answered" ||
		fail "$B-hung-call-answered" "$(tail -3 "$T_TMP/calls.jsonl")"
	python3 - "$T_TMP/http.jsonl" "$T_TMP/calls.jsonl" $h $q $rm <<'PY' &&
import json, sys
hang = [json.loads(l) for l in open(sys.argv[1]) if '"query": "s=4"' in l][-1]
calls = [json.loads(l) for l in open(sys.argv[2])]
def sent(chat, text):
    for c in calls:
        p = c.get("params") or {}
        if str(p.get("chat_id")) == chat and p.get("text") == text:
            return c
    raise SystemExit("%s never got %r" % (chat, text))
answered = sent(sys.argv[3], "The slow service answered.")
for chat, text in ((sys.argv[4], "Second?"), (sys.argv[5], "Still there?")):
    c = sent(chat, text)
    # delivered while the call hung: before the service answered (4 s
    # after the request came) and before the chat it held got its message
    assert c["wall"] < hang["at"] + 4 and c["seq"] < answered["seq"], (text, c, hang["at"], answered)
PY
		ok "$B-sent-and-fired-while-call-hangs" ||
		fail "$B-sent-and-fired-while-call-hangs" "$(grep -v '"event":"update"' "$T_TMP/$B.log" | tail -6)"
	n=$(grep -c '"query": "s=4"' "$T_TMP/http.jsonl")
	[ "$n" = $((before + 1)) ] && ok "$B-one-call-for-two-messages" ||
		fail "$B-one-call-for-two-messages" "$before then $n calls"
	if grep -q "crm-Secret\|Bearer" "$T_TMP/$B.log"; then
		fail "$B-no-header-logged" "$(grep -m1 Bearer "$T_TMP/$B.log")"
	else
		ok "$B-no-header-logged"
	fi
	curl -s --cacert "$NGINX_CA" "$NGINX_URL/metrics" |
		grep -q '^blueflow_timers_fired_total{kind="http"} [1-9]' &&
		ok "$B-metrics-http" || fail "$B-metrics-http" "no http timers on /metrics"
	grep '"event":"http"' "$T_TMP/$B.log" | grep -q '"url":"http://127.0.0.1:[0-9]*/ok","status":201' &&
		ok "$B-url-without-query-logged" || fail "$B-url-without-query-logged" "$(grep -m2 '"event":"http"' "$T_TMP/$B.log")"
	serve_stop
}

"$BLUEFLOW" check "$T_TMP/flow.json" 2>"$T_TMP/check.err" && ok flow-checks ||
	fail flow-checks "$(cat "$T_TMP/check.err")"
nginx_start "unix:$T_TMP/bf.sock" || { fail nginx-start "see above"; finish; exit 1; }
run_backend sqlite "sqlite:$T_TMP/http.db" 100
# `blueflow tick` (cron, no background process): two chats parked at a
# call that hangs 4 s and a third one's reminder, all due; the two calls
# are made at once and the reminder fires meanwhile.
python3 - "$T_TMP/http.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1000)
for chat, node, kind in ((151, "hang", "http"), (152, "hang", "http"), (153, "rem", "remind")):
    db.execute("INSERT OR REPLACE INTO chats (bot, chat_id, node) VALUES ('demo', ?, ?)", (chat, node))
    db.execute("INSERT INTO timers (bot, chat_id, kind, node, visit, n, due_ms) "
               "VALUES ('demo', ?, ?, ?, ?, 1, ?)", (chat, kind, node, now - 2000, now))
db.commit()
PY
t0=$(date +%s.%N)
timeout 30 "$BLUEFLOW" tick -c "$T_TMP/http.conf" >"$T_TMP/tick.out" 2>"$T_TMP/tick.err"
rc=$? t1=$(date +%s.%N)
[ $rc = 0 ] && grep -q "^3 timers fired" "$T_TMP/tick.out" && ok tick-fires-http ||
	fail tick-fires-http "rc $rc: $(cat "$T_TMP/tick.out" "$T_TMP/tick.err" | tail -5)"
python3 - "$T_TMP/http.jsonl" "$T_TMP/http.db" "$t0" "$t1" <<'PY' && ok tick-calls-at-once ||
import json, sqlite3, sys
t0, t1 = float(sys.argv[3]), float(sys.argv[4])
hangs = [json.loads(l)["at"] for l in open(sys.argv[1]) if '"query": "s=4"' in l]
hangs = [a for a in hangs if a >= t0]
assert len(hangs) == 2, hangs
assert abs(hangs[1] - hangs[0]) < 2, hangs          # not one after the other
db = sqlite3.connect(sys.argv[2])
sent = [r[0] for r in db.execute("SELECT chat_id FROM outbox WHERE params LIKE "
                                 "'%The slow service answered.%' AND chat_id IN (151, 152)")]
assert sorted(sent) == [151, 152], sent
assert db.execute("SELECT count(*) FROM outbox WHERE chat_id = 153 AND params LIKE "
                  "'%Still there?%'").fetchone()[0] == 1
assert t1 - t0 < 7.5, t1 - t0                        # 8 s or more one after the other
PY
	fail tick-calls-at-once "$(tail -3 "$T_TMP/http.jsonl"; cat "$T_TMP/tick.err" | tail -5)"
"$BLUEFLOW" check -c "$T_TMP/http.conf" >/dev/null 2>"$T_TMP/checkc.err"
grep -q "/nodes/unlisted/url: warning: http: https://unlisted.example.com:443 is not in the bot's http_allow" "$T_TMP/checkc.err" &&
	[ "$(grep -c "warning: http" "$T_TMP/checkc.err")" = 1 ] &&
	ok check-c-warns-unlisted || fail check-c-warns-unlisted "$(cat "$T_TMP/checkc.err")"
pg_start || { fail pg-start "see above"; finish; exit 1; }
run_backend pg "$PG_URI" 200
finish
