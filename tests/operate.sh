#!/bin/sh
# tests/operate.sh - what an operator runs a bot with in its first month,
# through nginx to `blueflow serve`, on SQLite and on PostgreSQL:
#   allow-lists: a user on neither allowed_users (@FILE) nor allowed_chats
#     is told not_allowed_text once a day, or nothing (not_allowed = silent),
#     and nothing is stored but a counter; a reload re-reads the file;
#   log_level: debug lines appear, info lines go at warn;
#   poison updates: kept (sealed) with body and reason, listed, shown,
#     counted in /metrics, replayed after a flow fix and then applied once,
#     dropped; forgotten with their chat (chat forget, /forget); re-sealed
#     by db rekey;
#   history: `chat history` in order, opened with the key, text and jsonl;
#   the funnel: /metrics per node and `blueflow stats` equal what a
#     scripted set of conversations did;
#   retention: transcript_retention_days, chat_retention_days and the
#     48 hours the ids of sent messages are kept delete
#     only what is old.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"

need_tools curl python3
export OP_TOKEN=424242:operate-Token OP_SECRET=operate-Secret_1
export OP_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
secret "$OP_TOKEN"
secret "$OP_SECRET"
secret "$OP_KEY"
if ! nginx_available; then
	echo "skip: nginx missing"
	exit 77
fi

cat >"$T_TMP/flow.json" <<'JSON'
{
  "start": "name",
  "not_allowed_text": "This bot is for the team only.",
  "nodes": {
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "city"},
    "city": {"type": "text", "node_text": "Your city, {{state.name}}?", "key_to_save": "city", "next": "bye"},
    "bye": {"type": "cutscene", "node_text": "Thanks, {{context.name}} from {{city}}."}
  }
}
JSON
# a flow error: the answer in each of nine button labels makes an inline
# reply over 64 KB (an answer of 4000 backslashes, each escaped in JSON; a
# message text would be cut to Telegram's 4096 characters)
cat >"$T_TMP/echo.json" <<'JSON'
{
  "start": "name",
  "forget_command": "/forget",
  "nodes": {
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "echo"},
    "echo": {"type": "choice", "node_text": "{{name}} - your city?", "key_to_save": "city", "next": "bye",
             "choices": {"a": "{{name}}1", "b": "{{name}}2", "c": "{{name}}3", "d": "{{name}}4",
                         "e": "{{name}}5", "f": "{{name}}6", "g": "{{name}}7", "h": "{{name}}8",
                         "i": "{{name}}9"}},
    "bye": {"type": "cutscene", "node_text": "Thanks."}
  }
}
JSON

# q BACKEND SQL: one value (or rows, |-separated)
q() {
	if [ "$1" = sqlite ]; then sqlite3 -cmd ".timeout 5000" "$DB_FILE" "$2"
	else "$PG_BIN/psql" -X -At -d "$PG_URI" -c "$2"; fi
}

UPD=1000
# post BOT CHAT FIELDS [USER]: one message update through nginx; the answer's
# body in $T_TMP/reply, its status in $T_TMP/status
post() {
	UPD=$((UPD + 1))
	printf '{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%s,"type":"%s","title":"t","first_name":"Ann"},"from":{"id":%s,"is_bot":false,"first_name":"Ann"},%s}}' \
		"$UPD" "$UPD" "$(date +%s)" "$2" "$(case $2 in -*) echo group ;; *) echo private ;; esac)" \
		"${4:-$2}" "$3" >"$T_TMP/body"
	post_body "$1"
}

# press BOT CHAT DATA: a button press by CHAT's user
press() {
	UPD=$((UPD + 1))
	printf '{"update_id":%d,"callback_query":{"id":"cb%d","from":{"id":%s,"is_bot":false,"first_name":"Ann"},"chat_instance":"1","data":"%s","message":{"message_id":5,"date":%d,"chat":{"id":%s,"type":"private","first_name":"Ann"},"text":"q"}}}' \
		"$UPD" "$UPD" "$2" "$3" "$(date +%s)" "$2" >"$T_TMP/body"
	post_body "$1"
}

post_body() {
	curl -sS --max-time 20 --cacert "$NGINX_CA" -o "$T_TMP/reply" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "X-Telegram-Bot-Api-Secret-Token: $OP_SECRET" \
		--data-binary @"$T_TMP/body" "$NGINX_URL/tg/$1" >"$T_TMP/status" 2>>"$T_TMP/curl.err"
}

# metric NAME: its value from /metrics
metric() {
	curl -sS --max-time 10 --cacert "$NGINX_CA" "$NGINX_URL/metrics" |
		awk -v n="$1" 'index($0, n " ") == 1 { print $2 }'
}

serve_start() {
	cat >"$T_TMP/blueflow.conf" <<CONF
[server]
db = $1
listen = $T_TMP/bf.sock
api_base = http://127.0.0.1:1
workers = 2
log_level = debug
encryption_key_env = OP_KEY

[bot team]
flow = $T_TMP/flow.json
token_env = OP_TOKEN
secret_env = OP_SECRET
inline_reply = on
allowed_users = @users.txt
allowed_chats = -100777

[bot quiet]
flow = $T_TMP/flow.json
token_env = OP_TOKEN
secret_env = OP_SECRET
allowed_users = 7001
not_allowed = silent

[bot open]
flow = $T_TMP/flow.json
token_env = OP_TOKEN
secret_env = OP_SECRET

[bot echo]
flow = $T_TMP/echo-live.json
token_env = OP_TOKEN
secret_env = OP_SECRET
CONF
	cp "$T_TMP/echo.json" "$T_TMP/echo-live.json"
	"$BLUEFLOW" db migrate -c "$T_TMP/blueflow.conf" >/dev/null || fail "$b-migrate" "db migrate failed"
	: >"$T_TMP/serve.log"
	"$BLUEFLOW" serve -c "$T_TMP/blueflow.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	wait_for "$T_TMP/serve.log" '"event":"serving"' || fail "$b-serve-started" "$(tail -5 "$T_TMP/serve.log")"
}

serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
}

# stored BACKEND CHAT: rows of CHAT in the tables a chat leaves rows in
stored() {
	q "$1" "select (select count(*) from chats where chat_id = $2) + (select count(*) from transcript where chat_id = $2) + (select count(*) from outbox where chat_id = $2)"
}

run_allow() {
	b=$1
	post team 7001 '"text":"/start"'
	grep -q "Your name?" "$T_TMP/reply" && ok "$b-allowed-user-served" ||
		fail "$b-allowed-user-served" "$(cat "$T_TMP/status" "$T_TMP/reply")"
	# a stranger: told once (inline), then nothing; nothing stored
	post team 7002 '"text":"/start"'
	[ "$(cat "$T_TMP/status")" = 200 ] && grep -q '"text":"This bot is for the team only."' "$T_TMP/reply" &&
		grep -q '"chat_id":7002' "$T_TMP/reply" && ok "$b-stranger-told" ||
		fail "$b-stranger-told" "$(cat "$T_TMP/status" "$T_TMP/reply")"
	post team 7002 '"text":"hello?"'
	[ "$(cat "$T_TMP/status")" = 200 ] && [ ! -s "$T_TMP/reply" ] && ok "$b-stranger-told-once-a-day" ||
		fail "$b-stranger-told-once-a-day" "$(cat "$T_TMP/reply")"
	press team 7002 'name|x'
	grep -q '"method":"answerCallbackQuery"' "$T_TMP/reply" && ! grep -q '"text"' "$T_TMP/reply" &&
		ok "$b-stranger-press-answered-quietly" || fail "$b-stranger-press-answered-quietly" "$(cat "$T_TMP/reply")"
	[ "$(stored "$b" 7002)" = 0 ] && [ "$(q "$b" "select count(*) from processed where chat_id = 7002" 2>/dev/null || echo 0)" = 0 ] &&
		ok "$b-stranger-nothing-stored" || fail "$b-stranger-nothing-stored" "$(stored "$b" 7002) rows"
	# a group on allowed_chats: anyone in it is served
	post team -100777 '"text":"/start"' 7009
	grep -q "Your name?" "$T_TMP/reply" && ok "$b-allowed-chat-served" ||
		fail "$b-allowed-chat-served" "$(cat "$T_TMP/reply")"
	# silent: nothing at all
	post quiet 7002 '"text":"/start"'
	[ "$(cat "$T_TMP/status")" = 200 ] && [ ! -s "$T_TMP/reply" ] && ok "$b-silent" || fail "$b-silent" "$(cat "$T_TMP/reply")"
	[ "$(metric 'blueflow_not_allowed_total{bot="team"}')" = 3 ] &&
		[ "$(metric 'blueflow_not_allowed_total{bot="quiet"}')" = 1 ] && ok "$b-counted" ||
		fail "$b-counted" "$(metric 'blueflow_not_allowed_total{bot="team"}') $(metric 'blueflow_not_allowed_total{bot="quiet"}')"
	grep -q '"level":"debug","pid":[0-9]*,"event":"not allowed","bot":"team"' "$T_TMP/serve.log" &&
		ok "$b-log-level-debug" || fail "$b-log-level-debug" "no debug line"
	# the file changes; a reload re-reads it
	echo 7002 >>"$T_TMP/users.txt"
	kill -HUP "$SERVE_PID"
	wait_for "$T_TMP/serve.log" '"event":"reloaded"' || fail "$b-reloaded" "no reload"
	sleep 0.5
	post team 7002 '"text":"/start"'
	grep -q "Your name?" "$T_TMP/reply" && ok "$b-reload-rereads-list" ||
		fail "$b-reload-rereads-list" "$(cat "$T_TMP/reply")"
	# a list naming something that is not an id: the reload is refused
	echo "@bob" >>"$T_TMP/users.txt"
	kill -HUP "$SERVE_PID"
	wait_for "$T_TMP/serve.log" 'users.txt: line 5: \"@bob\" is not a Telegram id' &&
		ok "$b-bad-list-refused" || fail "$b-bad-list-refused" "$(tail -3 "$T_TMP/serve.log")"
}

run_inbox() {
	b=$1
	conf=$T_TMP/blueflow.conf
	long=$(python3 -c 'print("\\\\" * 4000)')
	post echo 8001 '"text":"/start"'
	post echo 8001 "\"text\":\"$long\""
	poison=$UPD
	[ "$(cat "$T_TMP/status")" = 200 ] && [ "$(q "$b" "select count(*) from inbox_dead where update_id = $poison")" = 1 ] &&
		ok "$b-poison-kept" || fail "$b-poison-kept" "$(cat "$T_TMP/status") $(tail -2 "$T_TMP/serve.log")"
	q "$b" "select body from inbox_dead" | grep -q 'update_id' && fail "$b-poison-sealed" "plaintext body" || ok "$b-poison-sealed"
	# a body that is no usable update (a message without its chat)
	printf '{"update_id":%d,"message":{"message_id":1,"date":1,"text":"lost"}}' 777 >"$T_TMP/body"
	post_body echo
	run "$BLUEFLOW" inbox list -c "$conf"
	expect_rc "$b-inbox-list-rc" 0
	grep -q "^[0-9]* *echo *$poison *8001 .*the reply is over 65536 bytes" "$T_TMP/out" &&
		grep -q "^[0-9]* *echo *777 *- .*message" "$T_TMP/out" && ok "$b-inbox-list" ||
		fail "$b-inbox-list" "$(cat "$T_TMP/out" "$T_TMP/err")"
	id=$(q "$b" "select id from inbox_dead where update_id = $poison")
	lost=$(q "$b" "select id from inbox_dead where update_id = 777")
	run "$BLUEFLOW" inbox show "$lost" -c "$conf"
	expect_out "$b-inbox-show-opened" '"text":"lost"'
	# forget means forget: a chat's kept poison updates go with it
	for c in 8002 8003; do
		post echo $c '"text":"/start"'
		post echo $c "\"text\":\"$long\""
	done
	run "$BLUEFLOW" chat forget echo 8002 -c "$conf"
	expect_rc "$b-forget-rc" 0
	post echo 8003 '"text":"/forget"'
	[ "$(q "$b" "select count(*) from inbox_dead where chat_id in (8002, 8003)")" = 0 ] &&
		[ "$(q "$b" "select count(*) from inbox_dead where chat_id = 8001")" = 1 ] &&
		ok "$b-forget-inbox" || fail "$b-forget-inbox" "$(q "$b" "select chat_id from inbox_dead")"
	sleep "${GAUGE_WAIT:-0}"
	# the flow fixed and reloaded; the kept update replayed: applied once
	sed -i 's/"{{name}}\([0-9]\)"/"\1"/g' "$T_TMP/echo-live.json"
	kill -HUP "$SERVE_PID"
	run "$BLUEFLOW" inbox replay "$id" -c "$conf"
	expect_rc "$b-replay-rc" 0
	expect_out "$b-replay-says" "applied: chat 8001 at \"echo\", 1 call queued"
	q "$b" "select params from outbox where bot = 'echo' and chat_id = 8001 order by id desc limit 1" |
		grep -q '\\\\ - your city?' && ok "$b-replay-fixed-flow" ||
		fail "$b-replay-fixed-flow" "$(q "$b" "select length(params) from outbox where bot = 'echo'")"
	[ "$(q "$b" "select node from chats where bot = 'echo' and chat_id = 8001")" = echo ] &&
		[ "$(q "$b" "select count(*) from transcript where bot = 'echo' and update_id = $poison")" = 1 ] &&
		[ "$(q "$b" "select count(*) from inbox_dead where id = $id")" = 0 ] && ok "$b-replay-applied" ||
		fail "$b-replay-applied" "$(q "$b" "select node from chats where bot = 'echo'")"
	run "$BLUEFLOW" inbox replay "$id" -c "$conf"
	expect_rc "$b-replay-twice-refused" 1
	expect_err "$b-replay-twice-says" "no kept update $id"
	# Telegram sending it again: a repeat, nothing applied twice
	saved=$UPD
	UPD=$((poison - 1))
	post echo 8001 "\"text\":\"$long\""
	UPD=$saved
	[ "$(q "$b" "select count(*) from transcript where bot = 'echo' and update_id = $poison")" = 1 ] &&
		[ "$(q "$b" "select node from chats where bot = 'echo' and chat_id = 8001")" = echo ] && ok "$b-applied-once" ||
		fail "$b-applied-once" "$(q "$b" "select node from chats where bot = 'echo'")"
	[ "$(metric 'blueflow_updates_total{bot="echo",result="poison"}')" = 4 ] && ok "$b-poison-counted" ||
		fail "$b-poison-counted" "$(metric 'blueflow_updates_total{bot="echo",result="poison"}')"
	run "$BLUEFLOW" inbox drop "$lost" -c "$conf"
	expect_rc "$b-inbox-drop" 0
	run "$BLUEFLOW" inbox drop "$lost" -c "$conf"
	expect_rc "$b-inbox-drop-gone" 1
	run "$BLUEFLOW" inbox list -c "$conf"
	expect_out "$b-inbox-empty" "no kept updates"
}

# ago BACKEND DAYS: SQL for "DAYS days before the column's value"
ago() {
	if [ "$1" = sqlite ]; then echo "- $2 * 86400"; else echo "- interval '$2 days'"; fi
}

run_funnel() {
	b=$1
	conf=$T_TMP/blueflow.conf
	post open 9001 '"text":"/start"'
	post open 9001 '"text":"Ann <A&B>"'
	post open 9001 '"text":"Paris"'
	post open 9002 '"text":"/start"'
	post open 9002 '"photo":[{"file_id":"p","file_unique_id":"u","width":1,"height":1}]'
	post open 9002 '"text":"Bob"'
	post open 9003 '"text":"/start"'
	[ "$(metric 'blueflow_node_entered_total{bot="open",node="name"}')" = 3 ] &&
		[ "$(metric 'blueflow_node_entered_total{bot="open",node="city"}')" = 2 ] &&
		[ "$(metric 'blueflow_node_entered_total{bot="open",node="bye"}')" = 1 ] &&
		[ "$(metric 'blueflow_node_refused_total{bot="open",node="name",reason="not_text"}')" = 1 ] &&
		[ "$(metric 'blueflow_chats_finished_total{bot="open"}')" = 1 ] && ok "$b-funnel-metrics" ||
		fail "$b-funnel-metrics" "$(curl -sS --cacert "$NGINX_CA" "$NGINX_URL/metrics" | grep 'bot="open"')"
	run "$BLUEFLOW" stats open -c "$conf"
	expect_rc "$b-stats-rc" 0
	tr -s ' ' <"$T_TMP/out" >"$T_TMP/stats"
	grep -qx "name 3 1 1 0" "$T_TMP/stats" && grep -qx "city 2 0 1 0" "$T_TMP/stats" &&
		grep -qx "bye 1 0 0 1" "$T_TMP/stats" && ok "$b-stats" || fail "$b-stats" "$(cat "$T_TMP/out" "$T_TMP/err")"
	run "$BLUEFLOW" stats open --since 1h -c "$conf"
	grep -q "^name  *3 " "$T_TMP/out" && ok "$b-stats-since" || fail "$b-stats-since" "$(cat "$T_TMP/out" "$T_TMP/err")"
	run "$BLUEFLOW" stats open --since 7x -c "$conf"
	expect_rc "$b-stats-bad-since" 2
	# history: in order, opened with the key (the store holds it sealed)
	[ "$(q "$b" "select count(*) from transcript where said like '%Ann <A%' or told like '%Paris%'")" = 0 ] && ok "$b-transcript-sealed" ||
		fail "$b-transcript-sealed" "plaintext in the store"
	run "$BLUEFLOW" chat history open 9001 -c "$conf"
	expect_rc "$b-history-rc" 0
	grep -v '^[0-9]' "$T_TMP/out" >"$T_TMP/said"
	printf '> /start\n< Your name?\n> Ann <A&B>\n< Your city, Ann &lt;A&amp;B&gt;?\n> Paris\n< Thanks, Ann &lt;A&amp;B&gt; from Paris.\n' >"$T_TMP/want"
	cmp -s "$T_TMP/said" "$T_TMP/want" && grep -q " update [0-9]* *name -> city$" "$T_TMP/out" &&
		ok "$b-history-text" || fail "$b-history-text" "$(cat "$T_TMP/out")"
	run "$BLUEFLOW" chat history open 9001 --format jsonl -c "$conf"
	python3 - "$T_TMP/out" <<'PY' >"$T_TMP/why" 2>&1 && ok "$b-history-jsonl" || fail "$b-history-jsonl" "$(cat "$T_TMP/why")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["said"] for r in rows] == ["/start", "Ann <A&B>", "Paris"], rows
assert rows[0]["told"] == ["Your name?"] and rows[2]["node_to"] == "bye", rows
assert rows[0]["update_id"] < rows[1]["update_id"] < rows[2]["update_id"], rows
PY
	run "$BLUEFLOW" chat history open 4242 -c "$conf"
	expect_rc "$b-history-none" 1
	# retention: only what is old goes
	q "$b" "update transcript set at = at $(ago "$b" 90) where bot = 'open' and chat_id = 9003" >/dev/null
	q "$b" "update chats set updated_at = updated_at $(ago "$b" 90) where bot = 'open' and chat_id = 9002" >/dev/null
	# the kept ids of sent messages: over 48 hours old, Telegram can delete none
	q "$b" "insert into sent_messages (bot, chat_id, message_id, node, life, sent_at) values ('open', 9001, 11, 'name', 'ephemeral', $(($(date +%s) - 49 * 3600))), ('open', 9001, 12, 'name', 'ephemeral', $(($(date +%s) - 47 * 3600)))" >/dev/null
	sed 's/^log_level = debug/&\ntranscript_retention_days = 30\nchat_retention_days = 60/' "$conf" >"$T_TMP/retain.conf"
	run "$BLUEFLOW" db prune -c "$T_TMP/retain.conf"
	expect_rc "$b-prune-rc" 0
	[ "$(q "$b" "select count(*) from transcript where bot = 'open' and chat_id = 9003")" = 0 ] &&
		[ "$(q "$b" "select count(*) from chats where bot = 'open' and chat_id = 9003")" = 1 ] &&
		[ "$(q "$b" "select count(*) from transcript where bot = 'open' and chat_id = 9001")" = 3 ] &&
		ok "$b-transcript-retention" || fail "$b-transcript-retention" "$(q "$b" "select chat_id, count(*) from transcript group by chat_id")"
	[ "$(q "$b" "select count(*) from chats where bot = 'open' and chat_id = 9002")" = 0 ] &&
		[ "$(q "$b" "select count(*) from transcript where bot = 'open' and chat_id = 9002")" = 0 ] &&
		[ "$(q "$b" "select count(*) from chats where bot = 'open' and chat_id = 9001")" = 1 ] &&
		ok "$b-chat-retention" || fail "$b-chat-retention" "$(q "$b" "select chat_id from chats where bot = 'open'")"
	[ "$(q "$b" "select message_id from sent_messages where bot = 'open' and chat_id = 9001")" = 12 ] &&
		ok "$b-sent-messages-retention" || fail "$b-sent-messages-retention" "$(q "$b" "select message_id, sent_at from sent_messages")"
}

# rekey to plaintext opens kept poison updates too (a sealed value put
# there by hand: the inbox is empty by now)
run_rekey() {
	b=$1
	q "$b" "insert into inbox_dead (bot, update_id, chat_id, at, reason, body) select 'echo', 5, 8009, 0, 'x', said from transcript where bot = 'open' and chat_id = 9001 order by update_id limit 1" >/dev/null
	sed '/^encryption_key_env/d' "$T_TMP/blueflow.conf" >"$T_TMP/plain.conf"
	run "$BLUEFLOW" db rekey -c "$T_TMP/plain.conf" --old-key-env OP_KEY
	expect_rc "$b-rekey-rc" 0
	[ "$(q "$b" "select body from inbox_dead where chat_id = 8009")" = /start ] && ok "$b-rekey-inbox" ||
		fail "$b-rekey-inbox" "$(q "$b" "select substr(body, 1, 20) from inbox_dead where chat_id = 8009") $(cat "$T_TMP/err")"
}

run_backend() {
	b=$1
	printf '# the team\n7001\n7003  # Bea\n' >"$T_TMP/users.txt"
	serve_start "$2"
	run_allow "$b"
	run_inbox "$b"
	run_funnel "$b"
	serve_stop
	run_rekey "$b"
}

nginx_start "unix:$T_TMP/bf.sock" || { fail nginx-start "see above"; finish; exit 1; }
DB_FILE=$T_TMP/op.db
run_backend sqlite "sqlite:$DB_FILE"
if pg_available && pg_start; then
	run_backend pg "$PG_URI"
else
	echo "skip pg: PostgreSQL missing"
fi

# log_level = warn: no info lines (one update as plain CGI)
echo 7001 >"$T_TMP/users.txt"
sed 's/^log_level = debug/log_level = warn/' "$T_TMP/blueflow.conf" >"$T_TMP/warn.conf"
sed -i "s|^db = .*|db = sqlite:$DB_FILE|" "$T_TMP/warn.conf"
printf '{"update_id":9,"message":{"message_id":9,"date":%d,"chat":{"id":7001,"type":"private"},"from":{"id":7001,"is_bot":false,"first_name":"A"},"text":"x"}}' "$(date +%s)" >"$T_TMP/body"
env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST SCRIPT_NAME=/tg PATH_INFO=/team CONTENT_LENGTH="$(wc -c <"$T_TMP/body")" \
	HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="$OP_SECRET" "$BLUEFLOW" serve -c "$T_TMP/warn.conf" <"$T_TMP/body" >"$T_TMP/cgi.out" 2>"$T_TMP/cgi.err"
grep -q "Status: 200" "$T_TMP/cgi.out" && [ ! -s "$T_TMP/cgi.err" ] && ok log-level-warn-quiet ||
	fail log-level-warn-quiet "$(cat "$T_TMP/cgi.out" "$T_TMP/cgi.err")"
sed -i 's/^log_level = warn/log_level = loud/' "$T_TMP/warn.conf"
run "$BLUEFLOW" check -c "$T_TMP/warn.conf"
expect_rc log-level-bad 1
expect_err log-level-bad-says "log_level = loud: must be debug, info, warn or error"
finish
