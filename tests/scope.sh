#!/bin/sh
# tests/scope.sh - a flow with "scope": "user" through nginx (TLS) and
# `blueflow serve`, with the fake Bot API as Telegram: two members of one
# group keep states of their own (each answers their own question, their
# texts never answer the other's, a member's reminder and ephemeral prompt
# are theirs), every message goes to the group; a member pressing the
# other's button is told so and changes nothing; export, history, timers
# list and inbox name the member. Loopback only; every wait is bounded. On
# SQLite, then on PostgreSQL when it is installed. Skipped (77) without
# nginx.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/pg_lib.sh"

if ! nginx_available; then
	echo "skip: no nginx ($NGINX) or openssl"
	exit 77
fi

TOKEN=777023:scope-Test_token
SECRET=sc-s3cret_23
export SCOPE_TOKEN=$TOKEN SCOPE_SECRET=$SECRET
secret "$SECRET"
botapi_start "$TOKEN"

cat >"$T_TMP/flow.json" <<'FLOW'
{
  "scope": "user",
  "start": "team",
  "nodes": {
    "team": {"type": "choice", "node_text": "{{user.first_name}}, which team?", "key_to_save": "team",
             "lifecycle": "ephemeral", "choices": {"eng": "Engineering", "ops": "Operations"},
             "next": "name"},
    "name": {"type": "text", "node_text": "Your name, {{user.first_name}}?", "key_to_save": "name",
             "remind_after": 1, "reminder": "Member {{user.id}}: your name, please.", "next": "end"},
    "end": {"type": "cutscene", "node_text": "Thanks, {{name}} of {{team}}."}
  }
}
FLOW
# sql NAME SQL: one statement on backend NAME's database, rows on stdout
sql() {
	if [ "$1" = pg ]; then
		pg_psql "$2"
	else
		python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute(sys.argv[2]): print("|".join(map(str, r)))
db.commit()' "$T_TMP/scope.db" "$2"
	fi
}

# run_backend NAME DB BASE: the pool on DB behind nginx; the group -BASE,
# its members BASE + 1 and BASE + 2. The database is made at version 12
# with a chat in it first, so that migration 013 upgrades it.
run_backend() {
	cat >"$T_TMP/$1.conf" <<CONF
[server]
db = $2
listen = $T_TMP/$1.sock
api_base = $API
workers = 2
rate_per_group = 600
burst_per_chat = 20

[bot demo]
flow = $T_TMP/flow.json
token_env = SCOPE_TOKEN
secret_env = SCOPE_SECRET
# every call through the sender, so the fake knows each message it deletes
inline_reply = no
CONF
	"$BLUEFLOW" db migrate -c "$T_TMP/$1.conf" --to 12 >/dev/null
	sql "$1" "INSERT INTO chats (bot, chat_id, node, context) VALUES ('old', 5, 'name', '{\"team\":\"eng\"}')" >/dev/null
	"$BLUEFLOW" db migrate -c "$T_TMP/$1.conf" >/dev/null
	[ "$(sql "$1" "SELECT member, node, context FROM chats WHERE bot = 'old'")" = '0|name|{"team":"eng"}' ] &&
		ok "$1-013-keeps-chats" || fail "$1-013-keeps-chats" "$(sql "$1" "SELECT * FROM chats")"
	if [ "$1" = sqlite ]; then
		[ "$(sql "$1" "SELECT count(*) FROM sqlite_master WHERE name = 'chats_flow_hash'")" = 1 ] &&
			ok "$1-013-keeps-index" || fail "$1-013-keeps-index" "chats_flow_hash is gone"
	fi
	"$BLUEFLOW" serve -c "$T_TMP/$1.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	at_exit "kill -TERM $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null"
	i=0
	while [ ! -S "$T_TMP/$1.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$T_TMP/$1.sock" ] && ok "$1-serve-started" ||
		fail "$1-serve-started" "$(tail -5 "$T_TMP/serve.log")"
	if ! nginx_start "unix:$T_TMP/$1.sock"; then
		fail "$1-nginx-start" "see above"
		return
	fi
	ok "$1-nginx-start"
	run python3 - "$NGINX_URL" "$NGINX_CA" "$API" "$SECRET" "$3" <<'PY'
import json, os, sys, time, urllib.request
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests"))
from chat_client import *   # noqa: F401,F403 - post, calls, until, texts, mid, ...

setup(*sys.argv[1:5])
API = sys.argv[3]
BASE = int(sys.argv[5])
G, A, B = -BASE, BASE + 1, BASE + 2
NAMES = {A: "Ann", B: "Ben"}
GROUP = {"id": G, "type": "group", "title": "Crew"}


def member(uid):
    return {"id": uid, "is_bot": False, "first_name": NAMES[uid], "language_code": "en"}


def say(uid, text):
    post({"message": {"message_id": seq[0] + 1, "from": member(uid), "chat": GROUP,
                      "date": int(time.time()), "text": text}})


def tap(uid, data, message_id):
    qid = "q%d" % seq[0]
    post({"callback_query": {"id": qid, "from": member(uid), "data": data, "chat_instance": "1",
                             "message": {"message_id": message_id, "chat": GROUP,
                                         "date": int(time.time()), "text": "?"}}})
    return qid


def answer(qid):
    """The answerCallbackQuery the fake got for press qid, or None."""
    with urllib.request.urlopen(API + "/_control/calls", timeout=LIMIT) as r:
        got = json.loads(r.read())["result"]
    for c in got:
        if c["method"] == "answerCallbackQuery" and c["params"].get("callback_query_id") == qid:
            return c["params"]
    return None


def kept():
    with urllib.request.urlopen(API + "/_control/state", timeout=LIMIT) as r:
        state = json.loads(r.read())["result"]
    return {m["message_id"]: m.get("text") for chats in state.get("messages", {}).values()
            for m in chats.get(str(G), [])}


def buttons(text):
    """The callback data of the keyboard sent with text to the group."""
    for m, p in calls(G):
        if m == "sendMessage" and p.get("text") == text:
            return [b["callback_data"] for row in p["reply_markup"]["inline_keyboard"] for b in row]
    return []


say(A, "/start")
say(B, "/start")
got = until(G, lambda g: {"Ann, which team?", "Ben, which team?"} <= set(texts(g)))
check("each-member-asked-in-group", {"Ann, which team?", "Ben, which team?"} <= set(texts(got)),
      texts(got))
a_mid, b_mid = mid(G, "Ann, which team?"), mid(G, "Ben, which team?")
a_data, b_data = buttons("Ann, which team?"), buttons("Ben, which team?")
check("buttons-name-member", a_data == ["%d:team|eng" % A, "%d:team|ops" % A] and
      b_data == ["%d:team|eng" % B, "%d:team|ops" % B], (a_data, b_data))

# Ben presses Ann's button: a notice, nothing else
qid = tap(B, a_data[0], a_mid)
end = time.monotonic() + LIMIT
while time.monotonic() < end and answer(qid) is None:
    time.sleep(0.05)
check("other-press-notice", (answer(qid) or {}).get("text") == "This question is for another member.",
      answer(qid))
time.sleep(0.5)
got = calls(G)
check("other-press-changes-nothing", len(texts(got)) == 2 and
      not any(m in ("editMessageReplyMarkup", "deleteMessages") for m, _ in got), got)

# Ann answers her own; her ephemeral prompt goes, Ben's stays
tap(A, a_data[0], a_mid)
got = until(G, lambda g: "Your name, Ann?" in texts(g) and any(m == "deleteMessages" for m, _ in g))
dels = [p for m, p in got if m == "deleteMessages"]
check("own-press-advances", "Your name, Ann?" in texts(got), texts(got))
check("member-ephemeral-deleted", len(dels) == 1 and dels[0].get("message_ids") == [a_mid], dels)
check("other-member-prompt-kept", b_mid in kept(), kept())

# Ben's text answers his question (the team), not Ann's (her name)
say(B, "Bobby")
got = until(G, lambda g: "Please choose one of the buttons." in texts(g))
check("text-goes-to-own-state", "Please choose one of the buttons." in texts(got) and
      not any((t or "").startswith("Thanks") for t in texts(got)), texts(got))

# Ann's reminder is hers
got = until(G, lambda g: "Member %d: your name, please." % A in texts(g))
check("member-timer", "Member %d: your name, please." % A in texts(got) and
      "Member %d: your name, please." % B not in texts(got), texts(got))

tap(B, b_data[1], b_mid)
got = until(G, lambda g: "Your name, Ben?" in texts(g))
say(A, "Ann Lee")
say(B, "Ben Kim")
got = until(G, lambda g: {"Thanks, Ann Lee of eng.", "Thanks, Ben Kim of ops."} <= set(texts(g)))
check("both-finish-apart", {"Thanks, Ann Lee of eng.", "Thanks, Ben Kim of ops."} <= set(texts(got)),
      texts(got))
check("all-to-group", all(str(p.get("chat_id")) == str(G) for m, p in got if m == "sendMessage"), got)
PY

	cat "$T_TMP/out"
	[ -s "$T_TMP/err" ] && cat "$T_TMP/err"
	while read -r line; do
		case $line in
		ok\ *) ok "$1-${line#ok }" ;;
		FAIL\ *) n=${line#FAIL }; fail "$1-${n%% *}" "${n#* }" ;;
		esac
	done <"$T_TMP/out"
	expect_rc "$1-client-ran" 0
	# export and history name the member
	"$BLUEFLOW" export demo --format jsonl -c "$T_TMP/$1.conf" >"$T_TMP/$1.export" 2>&1
	python3 - "$T_TMP/$1.export" "$3" <<'PY' >"$T_TMP/$1.why" 2>&1 &&
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = int(sys.argv[2])
got = sorted((r["chat_id"], r.get("member"), r["answers"].get("name")) for r in rows)
want = [(-base, base + 1, "Ann Lee"), (-base, base + 2, "Ben Kim")]
assert got == want, got
PY
		ok "$1-export-members" || fail "$1-export-members" "$(cat "$T_TMP/$1.why" "$T_TMP/$1.export")"
	"$BLUEFLOW" chat history demo "-$3" -c "$T_TMP/$1.conf" >"$T_TMP/$1.history" 2>&1
	grep -q "member $(($3 + 1))" "$T_TMP/$1.history" && grep -q "member $(($3 + 2))" "$T_TMP/$1.history" &&
		ok "$1-history-members" || fail "$1-history-members" "$(head -20 "$T_TMP/$1.history")"
	# timers list names a member's timer's member; a chat's one state's
	# timer reads as ever
	sql "$1" "INSERT INTO timers (bot, chat_id, kind, node, visit, due_ms, member)
		VALUES ('demo', -$3, 'remind', 'name', 0, 4102444800000, $(($3 + 1)))" >/dev/null
	sql "$1" "INSERT INTO timers (bot, chat_id, kind, node, visit, due_ms)
		VALUES ('demo', 5, 'remind', 'name', 0, 4102444800000)" >/dev/null
	out=$("$BLUEFLOW" timers list demo "-$3" -c "$T_TMP/$1.conf")
	echo "$out" | grep -q "^[0-9]* *2100-01-01T00:00:00Z remind *-$3 .* name  member $(($3 + 1))\$" &&
		"$BLUEFLOW" timers list demo 5 -c "$T_TMP/$1.conf" | grep -q " remind *5 .* name\$" &&
		ok "$1-timers-list-member" || fail "$1-timers-list-member" "$out"
	# a member's update that fails for good (their state is sealed, and
	# the pool has no key) is kept with the member; inbox names it
	sql "$1" "UPDATE chats SET context = 'bf1:AAAA' WHERE bot = 'demo' AND member = $(($3 + 1))" >/dev/null
	run python3 - "$NGINX_URL" "$NGINX_CA" "$API" "$SECRET" "$3" <<'PY'
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests"))
from chat_client import post, seq, setup

setup(*sys.argv[1:5])
BASE = int(sys.argv[5])
seq[0] = 90000   # past the ids the first client used
post({"message": {"message_id": 900, "date": int(time.time()), "text": "again",
                  "chat": {"id": -BASE, "type": "group", "title": "Crew"},
                  "from": {"id": BASE + 1, "is_bot": False, "first_name": "Ann"}}})
PY
	run "$BLUEFLOW" inbox list -c "$T_TMP/$1.conf"
	grep -q "^[0-9]* *demo *90001 *-$3 .*sealed.*  member $(($3 + 1))\$" "$T_TMP/out" &&
		ok "$1-inbox-list-member" || fail "$1-inbox-list-member" "$(cat "$T_TMP/out" "$T_TMP/err")"
	id=$(sql "$1" "SELECT id FROM inbox_dead WHERE update_id = 90001")
	run "$BLUEFLOW" inbox show "$id" -c "$T_TMP/$1.conf"
	expect_out "$1-inbox-show-member" "member:    $(($3 + 1))"
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	nginx_stop
}

run_backend sqlite "sqlite:$T_TMP/scope.db" 7300
if pg_available; then
	pg_start
	run_backend pg "$PG_URI" 7400
else
	echo "no PostgreSQL: the pg run is skipped"
fi
if grep -qF "$TOKEN" "$T_TMP/serve.log"; then fail token-not-logged "in serve.log"; else ok token-not-logged; fi
finish
