#!/bin/sh
# tests/versions.sh - flow versions pinned per chat, through nginx to
# `blueflow serve`, on SQLite and on PostgreSQL: a chat mid-way on version
# A finishes on A after a reload to B while a new chat starts on B (and
# with pin_versions = off moves to B at once); a timer armed on A fires on
# A after the reload; `flow versions` lists the versions with the chats on
# each; `flow rollback` serves A to new chats again (serve told through
# pid_file) while a chat mid-way on B stays on B; `db prune` keeps a
# version a chat is on and the last served, and deletes the rest.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"

need_tools curl python3
export FV_TOKEN=434343:versions-Token FV_SECRET=versions-Secret_1
secret "$FV_TOKEN"
secret "$FV_SECRET"
if ! nginx_available; then
	echo "skip: nginx missing"
	exit 77
fi

cat >"$T_TMP/a.json" <<'JSON'
{
  "start": "name",
  "nodes": {
    "name": {"type": "text", "node_text": "A: your name?", "key_to_save": "name", "next": "city"},
    "city": {"type": "text", "node_text": "A: your city?", "key_to_save": "city", "next": "bye",
             "remind_after": 2, "reminder": "A: still there?"},
    "bye": {"type": "cutscene", "node_text": "A: thanks."}
  }
}
JSON
# B has no node "city": a chat there is lost to B
cat >"$T_TMP/b.json" <<'JSON'
{
  "start": "name",
  "nodes": {
    "name": {"type": "text", "node_text": "B: your name?", "key_to_save": "name", "next": "town"},
    "town": {"type": "text", "node_text": "B: your town?", "key_to_save": "town", "next": "bye"},
    "bye": {"type": "cutscene", "node_text": "B: thanks."}
  }
}
JSON
sed 's/B: /C: /' "$T_TMP/b.json" >"$T_TMP/c.json"
sed 's/B: /D: /' "$T_TMP/b.json" >"$T_TMP/d.json"

# q BACKEND SQL: one value (or rows, |-separated)
q() {
	if [ "$1" = sqlite ]; then sqlite3 -cmd ".timeout 5000" "$DB_FILE" "$2"
	else "$PG_BIN/psql" -X -At -d "$PG_URI" -c "$2"; fi
}

UPD=1000
# post BOT CHAT TEXT: one message through nginx; the answer in $T_TMP/reply
post() {
	UPD=$((UPD + 1))
	printf '{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%s,"type":"private","first_name":"Ann"},"from":{"id":%s,"is_bot":false,"first_name":"Ann"},"text":"%s"}}' \
		"$UPD" "$UPD" "$(date +%s)" "$2" "$2" "$3" >"$T_TMP/body"
	curl -sS --max-time 20 --cacert "$NGINX_CA" -o "$T_TMP/reply" \
		-H 'Content-Type: application/json' -H "X-Telegram-Bot-Api-Secret-Token: $FV_SECRET" \
		--data-binary @"$T_TMP/body" "$NGINX_URL/tg/$1" 2>>"$T_TMP/curl.err"
}

# says NAME TEXT [CHAT]: the last answer holds TEXT; given inline, or, for
# CHAT (whose undelivered reminder keeps its calls queued), queued last
says() {
	if grep -qF -- "$2" "$T_TMP/reply"; then ok "$1"
	elif [ -n "${3:-}" ] && q "$b" "select params from outbox where bot = 'pinned' and chat_id = $3 order by id desc limit 1" | grep -qF -- "$2"; then ok "$1"
	else fail "$1" "$(cat "$T_TMP/reply")"; fi
}

# reloaded N: the N-th reload is done
reloaded() {
	t_end=$(($(date +%s) + 10))
	until [ "$(grep -c '"event":"reloaded"' "$T_TMP/serve.log")" -ge "$1" ]; do
		[ "$(date +%s)" -lt "$t_end" ] || return 1
		sleep 0.05
	done
	sleep 0.3   # the old workers finish; the new ones take over
}

deploy() {
	cp "$T_TMP/$1.json" "$T_TMP/live.json"
	kill -HUP "$SERVE_PID"
	reloaded "$2" || fail "$b-reload-$1" "$(tail -3 "$T_TMP/serve.log")"
}

run_backend() {
	b=$1
	cat >"$T_TMP/blueflow.conf" <<CONF
[server]
db = $2
listen = $T_TMP/bf.sock
api_base = http://127.0.0.1:1
workers = 2
pid_file = $T_TMP/serve.pid

[bot pinned]
flow = $T_TMP/live.json
token_env = FV_TOKEN
secret_env = FV_SECRET

[bot loose]
flow = $T_TMP/live.json
token_env = FV_TOKEN
secret_env = FV_SECRET
pin_versions = off
CONF
	cp "$T_TMP/a.json" "$T_TMP/live.json"
	"$BLUEFLOW" db migrate -c "$T_TMP/blueflow.conf" >/dev/null || fail "$b-migrate" "db migrate failed"
	: >"$T_TMP/serve.log"
	"$BLUEFLOW" serve -c "$T_TMP/blueflow.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	wait_for "$T_TMP/serve.log" '"event":"serving"' || fail "$b-serve-started" "$(tail -5 "$T_TMP/serve.log")"

	# on A: chat 1 and 4 mid-way at "city", chat 9 of the loose bot too
	for c in 1 4; do
		post pinned $c /start
		post pinned $c Ann
	done
	says "$b-on-a" "A: your city?"
	post loose 9 /start
	post loose 9 Ann
	deploy b 1
	post pinned 2 /start
	says "$b-new-chat-on-b" "B: your name?"
	post pinned 1 Paris
	says "$b-mid-way-finishes-on-a" "A: thanks."
	post loose 9 Paris
	if grep -qF "A: thanks." "$T_TMP/reply"; then fail "$b-unpinned-moves" "$(cat "$T_TMP/reply")"
	else ok "$b-unpinned-moves"; fi
	a=$(q "$b" "select flow_hash from chats where bot = 'pinned' and chat_id = 1")
	bh=$(q "$b" "select flow_hash from chats where bot = 'pinned' and chat_id = 2")
	[ -n "$a" ] && [ "$a" != "$bh" ] && ok "$b-hashes" || fail "$b-hashes" "$a $bh"
	# the reminder armed on A fires on A (B has no node "city")
	t_end=$(($(date +%s) + 10))
	until q "$b" "select params from outbox where bot = 'pinned' and chat_id = 4" | grep -qF "A: still there?"; do
		[ "$(date +%s)" -lt "$t_end" ] || break
		sleep 0.2
	done
	q "$b" "select params from outbox where bot = 'pinned' and chat_id = 4" | grep -qF "A: still there?" &&
		ok "$b-timer-on-a" || fail "$b-timer-on-a" "$(q "$b" "select node from timers where chat_id = 4")"
	run "$BLUEFLOW" flow versions pinned -c "$T_TMP/blueflow.conf"
	expect_rc "$b-versions-rc" 0
	tr -s ' ' <"$T_TMP/out" >"$T_TMP/versions"
	a12=$(echo "$a" | cut -c1-12)
	b12=$(echo "$bh" | cut -c1-12)
	grep -q "^\* $b12 [0-9TZ:-]* 1 0$" "$T_TMP/versions" &&
		grep -q "^ $a12 [0-9TZ:-]* 1 1$" "$T_TMP/versions" && ok "$b-versions" ||
		fail "$b-versions" "$(cat "$T_TMP/out" "$T_TMP/err")"
	# a finished chat starts again on B; /start moves a chat mid-way on A too
	post pinned 1 /start
	says "$b-finished-restarts-on-b" "B: your name?"
	post pinned 4 /start
	says "$b-start-moves-to-b" "B: your name?" 4
	post pinned 2 Bob
	# rollback to A: new chats get A, chat 2 mid-way on B stays on B
	run "$BLUEFLOW" flow rollback pinned "$a12" -c "$T_TMP/blueflow.conf"
	expect_rc "$b-rollback-rc" 0
	expect_out "$b-rollback-says" "pinned serves version $a12 to new chats"
	expect_out "$b-rollback-reloads" "told to reload"
	reloaded 2 || fail "$b-rollback-reloaded" "$(tail -3 "$T_TMP/serve.log")"
	post pinned 3 /start
	says "$b-rollback-new-chat-on-a" "A: your name?"
	post pinned 2 Paris
	says "$b-rollback-mid-way-on-b" "B: thanks."
	run "$BLUEFLOW" flow rollback pinned 0123456789 -c "$T_TMP/blueflow.conf"
	expect_rc "$b-rollback-unknown" 1
	expect_err "$b-rollback-unknown-says" "no version 0123456789 of pinned"
	# pruning: C and D deployed; D, C and A are the last served; B stays
	# while chats 1 and 4 are mid-way on it, and goes once they finish
	deploy c 3
	deploy d 4
	"$BLUEFLOW" db prune -c "$T_TMP/blueflow.conf" >/dev/null
	[ "$(q "$b" "select count(*) from flow_versions where bot = 'pinned'")" = 4 ] &&
		ok "$b-prune-keeps-used" || fail "$b-prune-keeps-used" "$(q "$b" "select hash, served from flow_versions where bot = 'pinned'")"
	post pinned 1 Ann
	post pinned 1 Paris
	post pinned 4 Ann
	post pinned 4 Paris
	says "$b-b-finished" "B: thanks." 4
	run "$BLUEFLOW" db prune -c "$T_TMP/blueflow.conf"
	[ "$(q "$b" "select count(*) from flow_versions where bot = 'pinned'")" = 3 ] &&
		[ "$(q "$b" "select count(*) from flow_versions where bot = 'pinned' and hash = '$bh'")" = 0 ] &&
		ok "$b-prune-unused" || fail "$b-prune-unused" "$(q "$b" "select hash, served from flow_versions where bot = 'pinned'") $(cat "$T_TMP/err")"
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
}

nginx_start "unix:$T_TMP/bf.sock" || { fail nginx-start "see above"; finish; exit 1; }
DB_FILE=$T_TMP/fv.db
run_backend sqlite "sqlite:$DB_FILE"
if pg_available && pg_start; then
	run_backend pg "$PG_URI"
else
	echo "skip pg: PostgreSQL missing"
fi
finish
