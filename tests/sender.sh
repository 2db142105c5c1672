#!/bin/sh
# tests/sender.sh - delivering the outbox to a fake Bot API that answers
# 429s, 502s and dropped connections: 2,000 calls to 200 chats arrive each
# exactly once, in each chat's order, no chat over its rate, the bot under
# its own; a chat that blocked the bot, a group that became a supergroup,
# and a permanent 400 each end as they should. The token is in no log.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

TOKEN=777001:sender-Test_token
export SENDER_TOKEN=$TOKEN
botapi_start "$TOKEN"
ctl() { botapi_ctl "$@"; }
DB=$T_TMP/sender.db

cat >"$T_TMP/s.conf" <<CONF
[server]
db = sqlite:$DB
api_base = $API
rate_per_bot = 200
rate_per_chat = 4
rate_per_group = 120
burst_per_chat = 3

[bot demo]
flow = $SRCDIR/flows/onboarding.json
token_env = SENDER_TOKEN
CONF
"$BLUEFLOW" db migrate --db "sqlite:$DB" >/dev/null

# queue COUNT messages "msg 1".."msg COUNT" for each chat id given
queue() {
	python3 - "$DB" "$@" <<'PY'
import json, sqlite3, sys
db, count, chats = sys.argv[1], int(sys.argv[2]), [int(c) for c in sys.argv[3:]]
con = sqlite3.connect(db)
for n in range(1, count + 1):
    for c in chats:
        con.execute("insert into outbox (bot, chat_id, method, params) values ('demo', ?, 'sendMessage', ?)",
                    (c, json.dumps({"chat_id": c, "text": "msg %d" % n})))
con.commit()
PY
}
sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }

# wait_sent: until nothing is pending (at most 90 s)
wait_sent() {
	i=0
	while :; do
		left=$(sq "select count(*) from outbox where state = 'pending'")
		[ "$left" = 0 ] || [ $i -ge 900 ] && break
		[ $((i % 50)) = 0 ] && echo "pending: $left"
		sleep 0.1
		i=$((i + 1))
	done
}

start_sender() {
	"$BLUEFLOW" sender -c "$T_TMP/s.conf" 2>>"$T_TMP/sender.log" &
	SENDER=$!
}
stop_sender() {
	kill -TERM "$SENDER"
	wait "$SENDER"
	rc=$?
	[ $rc -eq 0 ] && ok "sender-stops-$1" || fail "sender-stops-$1" "exit $rc"
}

# --- the burst: 190 private chats and 10 groups, 10 messages each
chats=$(python3 -c 'print(" ".join([str(1000 + i) for i in range(190)] + [str(-5000 - i) for i in range(10)]))')
queue 10 $chats
ctl fault '{"kind": "429", "method": "sendMessage", "retry_after": 1, "count": 30, "skip": 200}'
ctl fault '{"kind": "502", "method": "sendMessage", "count": 30, "skip": 500}'
ctl fault '{"kind": "drop", "method": "sendMessage", "count": 5, "skip": 900}'
t0=$(date +%s)
start_sender
wait_sent
t1=$(date +%s)
echo "burst delivered in $((t1 - t0)) s"
[ $((t1 - t0)) -le 40 ] && ok burst-in-time || fail burst-in-time "$((t1 - t0)) s for 2,000 calls at 200/s"
stop_sender burst
got=$(sq "select state, count(*) from outbox group by state" | tr '\n' ' ')
[ "$got" = "sent|2000 " ] && ok burst-all-sent || fail burst-all-sent "$got; $(sq "select last_error from outbox where state = 'dead' limit 3")"
# the limits (a chat's burst of 3 on top of its rate), with one call of
# slack for a window's edge and 5% for the time between a call leaving and
# the fake stamping it; a connection the
# fake dropped unread is not a call Telegram would count (the outbox
# sends it again later)
run python3 "$SRCDIR/tests/botapi_check.py" "$T_TMP/calls.jsonl" --expect 10 \
	--max-per-chat-1s 8 --max-per-bot-1s 211 --max-per-group-60s 124 --rate-answered-only
cat "$T_TMP/out" | tail -5
if [ "$RC" -ne 0 ]; then
	# show the calls of the chats over their rate
	for c in $(sed -n 's/^violation: bot [0-9]* chat \(-*[0-9]*\):.*/\1/p' "$T_TMP/out" | head -2); do
		python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if str(r.get("params", {}).get("chat_id")) == sys.argv[2]:
        print(r["conn"], round(r["t"], 3), r["status"], r.get("fault"), r["params"].get("text"))' "$T_TMP/calls.jsonl" "$c"
	done
fi
expect_rc burst-order-once-rates 0
grep -q '"fault": "429"' "$T_TMP/calls.jsonl" && ok faults-429-seen || fail faults-429-seen "none fired"
grep -q '"fault": "502"' "$T_TMP/calls.jsonl" && ok faults-502-seen || fail faults-502-seen "none fired"

# --- a blocked chat, a migrated group, a permanent refusal
ctl reset
sq "insert into chats (bot, chat_id, node) values ('demo', 9001, 'x'), ('demo', -9002, 'y')"
queue 3 9001 -9002 9003 9004
ctl fault '{"kind": "blocked", "chat_id": "9001"}'
ctl fault '{"kind": "migrated", "chat_id": "-9002", "migrate_to_chat_id": -1009002, "count": 1}'
ctl fault '{"kind": "chat_not_found", "chat_id": "9003"}'
start_sender
wait_sent
stop_sender faults
got=$(sq "select count(*) || ' ' || min(last_error) from outbox where chat_id = 9001 and state = 'dead'")
[ "$got" = "3 Forbidden: bot was blocked by the user" ] && ok blocked-chat-dropped || fail blocked-chat-dropped "$got"
[ "$(sq "select blocked from chats where chat_id = 9001")" = 1 ] && ok blocked-chat-marked || fail blocked-chat-marked "not marked"
got=$(sq "select count(*) from outbox where chat_id = -1009002 and state = 'sent'")
[ "$got" = 3 ] && ok migrated-group-moved || fail migrated-group-moved "$got sent to the new id; $(sq "select chat_id, state, last_error from outbox where chat_id in (-9002, -1009002)")"
[ "$(sq "select count(*) from chats where chat_id = -1009002")" = 1 ] && ok migrated-chat-row-moved || fail migrated-chat-row-moved "no row"
grep -q '"chat_id": -1009002' "$T_TMP/calls.jsonl" && ok migrated-delivered-to-new-id || fail migrated-delivered-to-new-id "no call"
got=$(sq "select count(*) || ' ' || min(last_error) from outbox where chat_id = 9003 and state = 'dead'")
[ "$got" = "3 Bad Request: chat not found" ] && ok permanent-400-dead || fail permanent-400-dead "$got"
[ "$(sq "select count(*) from outbox where chat_id = 9004 and state = 'sent'")" = 3 ] && ok others-unaffected || fail others-unaffected "chat 9004"
grep -q '"event":"dead letter"' "$T_TMP/sender.log" && ok dead-letters-logged || fail dead-letters-logged "none"

# --- five 502s in a row: after four tries the call is a dead letter
ctl reset
queue 1 9100
ctl fault '{"kind": "502", "method": "sendMessage", "chat_id": "9100"}'
start_sender
wait_sent
stop_sender retries
got=$(sq "select state || ' ' || attempts || ' ' || substr(last_error, 1, 21) from outbox where chat_id = 9100")
[ "$got" = "dead 4 gave up after 4 tries" ] && ok retries-then-dead || fail retries-then-dead "$got"
tries=$(grep -c '"chat_id": 9100' "$T_TMP/calls.jsonl")
[ "$tries" = 4 ] && ok tried-four-times || fail tried-four-times "$tries calls"

# --- an answer lost after the call was done (drop_after) on a kept-alive
# connection: libcurl must not send the request again at once on a new
# connection (it would for a reused one that answered nothing); the call
# comes back through the outbox's retry, counted in its attempts
ctl reset
queue 8 9200
ctl fault '{"kind": "drop_after", "method": "sendMessage", "chat_id": "9200", "count": 1, "skip": 4}'
start_sender
wait_sent
stop_sender lost-answer
got=$(sq "select state || ' ' || attempts from outbox where chat_id = 9200 and params like '%\"msg 5\"%'")
[ "$got" = "sent 1" ] && ok lost-answer-retried-by-outbox ||
	fail lost-answer-retried-by-outbox "msg 5 (its answer lost): $got, wanted sent after 1 failed attempt"
got=$(python3 -c 'import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(" ".join(str(c.get("answered", True)) for c in calls if c["params"].get("text") == "msg 5"))' "$T_TMP/calls.jsonl")
[ "$got" = "False True" ] && ok lost-answer-sent-again-once ||
	fail lost-answer-sent-again-once "msg 5's deliveries (answered?): $got"
# the first four went over one connection, which the fifth reused
conns=$(python3 -c 'import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(len({c["conn"] for c in calls[:5]}))' "$T_TMP/calls.jsonl")
[ "$conns" = 1 ] && ok lost-answer-on-a-reused-connection ||
	fail lost-answer-on-a-reused-connection "the first five calls came over $conns connections"

if grep -qF "$TOKEN" "$T_TMP/sender.log"; then fail token-not-logged "in the sender's log"; else ok token-not-logged; fi
finish
