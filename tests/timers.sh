#!/bin/sh
# tests/timers.sh - time through the whole stack (nginx, `blueflow serve`,
# the fake Bot API), on SQLite and on PostgreSQL: a reminder within a
# second of remind_after and none after an answer, max_reminders, timeout
# -> on_timeout, one inactivity nudge per silence, send_at at 09:00 in
# Asia/Kolkata (the pool's clock shifted by BLUEFLOW_CLOCK_OFFSET, which
# exists for tests), /forget leaving no timer, timers surviving kill -9 of
# the pool (and, on PostgreSQL, a restart of the database) firing once,
# two pools on one PostgreSQL firing each timer once, and taking due
# timers by the index (EXPLAIN).
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

if ! nginx_available || ! pg_available; then
	echo "skip: nginx or PostgreSQL missing"
	exit 77
fi

TM_TOKEN=777321:timers-Test_token
TM_SECRET=timers-Secret_1
export TM_TOKEN TM_SECRET
secret "$TM_SECRET"
botapi_start "$TM_TOKEN"
export SECRET=$TM_SECRET CALLS=$T_TMP/calls.jsonl
TP="python3 $SRCDIR/tests/timers.py"

cat >"$T_TMP/demo.json" <<'JSON'
{"start": "0", "forget_command": "/forget", "timeout_text": "Time is up.",
 "inactive_after": "8s", "on_inactive": "nudge",
 "nodes": {
  "0": {"type": "text", "node_text": "Name?", "key_to_save": "name", "next": "1",
        "remind_after": 2, "max_reminders": 2, "reminder": "Still there?",
        "timeout": "5s", "on_timeout": "late"},
  "1": {"type": "text", "node_text": "City?", "key_to_save": "city", "next": "2"},
  "2": {"type": "cutscene", "node_text": "Bye."},
  "late": {"type": "cutscene", "node_text": "Too late."},
  "nudge": {"type": "cutscene", "node_text": "We miss you.", "next": "1"}}}
JSON
cat >"$T_TMP/sched.json" <<'JSON'
{"start": "0", "timezone": "Asia/Kolkata",
 "nodes": {
  "0": {"type": "cutscene", "node_text": "Signed up.", "next": "1"},
  "1": {"type": "cutscene", "node_text": "Good morning!", "send_at": "09:00"}}}
JSON
cat >"$T_TMP/grp.json" <<'JSON'
{"start": "0",
 "nodes": {
  "0": {"type": "cutscene", "node_text": "Hi.", "next": "q"},
  "q": {"type": "text", "node_text": "Team name?", "key_to_save": "team", "next": "1",
        "lifecycle": "ephemeral", "remind_after": 2, "max_reminders": 1,
        "reminder": "Still there?", "timeout": "2m", "on_timeout": "1"},
  "1": {"type": "cutscene", "node_text": "Thanks."}}}
JSON
# the pool's clock: 6 s before the next 09:00 in Kolkata (03:30 UTC) when
# it starts
offset() {
	python3 -c 'import time; n=time.time(); d=(n//86400)*86400+3.5*3600
d = d if d > n + 5 else d + 86400
print("%.3f" % (d - 6 - n))'
}

# conf NAME DB SOCK: a pool's config
conf() {
	cat >"$T_TMP/$1.conf" <<CONF
[server]
db = $2
listen = $3
api_base = $API
workers = 2

[bot demo]
flow = $T_TMP/demo.json
token_env = TM_TOKEN
secret_env = TM_SECRET

[bot sched]
flow = $T_TMP/sched.json
token_env = TM_TOKEN
secret_env = TM_SECRET

[bot grp]
flow = $T_TMP/grp.json
token_env = TM_TOKEN
secret_env = TM_SECRET
CONF
}

# up NAME: starts the pool of NAME.conf; sets POOL
up() {
	rm -f "$(sed -n 's/^listen = //p' "$T_TMP/$1.conf")"   # left by a kill -9
	BLUEFLOW_CLOCK_OFFSET=$OFFSET "$BLUEFLOW" serve -c "$T_TMP/$1.conf" --foreground \
		2>>"$T_TMP/$1.log" &
	POOL=$!
	n=0
	sock=$(sed -n 's/^listen = //p' "$T_TMP/$1.conf")
	while [ ! -S "$sock" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
}

# kill9 PID: the pool and its children, at once
kill9() {
	kids=$(pgrep -P "$1")
	kill -9 "$1" $kids 2>/dev/null
	wait "$1" 2>/dev/null
}

down() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

count() { $TP texts "$1" | grep -cx "$2"; }

# node BOT CHAT CONF: the chat's node, from export ("-" when it has no state)
node() {
	"$BLUEFLOW" export "$1" --format jsonl -c "$3" | python3 -c 'import json, sys
s = {r["chat_id"]: r["node"] for r in map(json.loads, sys.stdin)}
print(s.get(int(sys.argv[1]), "-"))' "$2"
}

# a group that becomes a supergroup: Telegram refuses a call to the old id
# with migrate_to_chat_id, or says so in an update; the chat's state, its
# timers and its kept (ephemeral) message ids move to the new id
migrated() {
	b=$1
	g=$(($2 + 7)); ng=$((-1000000000000 - g))
	# "Hi." and the prompt go to the group; the reminder is refused
	botapi_ctl fault "{\"chat_id\": $g, \"method\": \"sendMessage\", \"skip\": 2, \"kind\": \"migrated\"}"
	BOT=grp $TP start "$g"
	n=0
	until [ "$($TP calls "$ng" sendMessage)" -ge 1 ] || [ $n -ge 80 ]; do sleep 0.1; n=$((n + 1)); done
	[ "$($TP texts "$ng")" = "Still there?" ] && ok "$b-migrated-reminder-to-new-id" ||
		fail "$b-migrated-reminder-to-new-id" "$($TP texts "$ng")"
	out=$("$BLUEFLOW" timers list grp "$ng" -c "$T_TMP/$b.conf")
	echo "$out" | grep -q " timeout " &&
		[ "$("$BLUEFLOW" timers list grp "$g" -c "$T_TMP/$b.conf")" = "no timers" ] &&
		ok "$b-migrated-timer-moved" || fail "$b-migrated-timer-moved" "$out"
	out="$(node grp "$g" "$T_TMP/$b.conf") $(node grp "$ng" "$T_TMP/$b.conf")"
	[ "$out" = "- q" ] && ok "$b-migrated-state-moved" || fail "$b-migrated-state-moved" "$out"
	# the answer in the supergroup goes on, and the ephemeral prompt (kept
	# under the old id, message 2 there) and its reminder (message 1 of the
	# new id) are deleted there
	BOT=grp $TP say "$ng" Reds
	n=0
	until $TP texts "$ng" | grep -qx Thanks. || [ $n -ge 80 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 0.5
	out=$($TP deleted "$ng")
	[ "$($TP texts "$ng" | tail -1)" = "Thanks." ] && [ "$out" = "1 2" ] &&
		ok "$b-migrated-prompt-deleted" ||
		fail "$b-migrated-prompt-deleted" "$($TP texts "$ng"); deleted: $out"
	# the group's transcript moved with it: /start, said in the old group,
	# is in the supergroup's history, and the old id keeps none
	out=$("$BLUEFLOW" chat history grp "$ng" --format jsonl -c "$T_TMP/$b.conf")
	"$BLUEFLOW" chat history grp "$g" -c "$T_TMP/$b.conf" >/dev/null 2>&1
	rc=$?
	echo "$out" | grep -q '/start' && echo "$out" | grep -q 'Reds' && [ "$rc" = 1 ] &&
		ok "$b-migrated-transcript-moved" || fail "$b-migrated-transcript-moved" "old id: exit $rc; new: $out"
	# the service message in the old group moves it too
	h=$(($2 + 8)); nh=$((-1000000000000 - h))
	BOT=grp $TP start "$h"
	BOT=grp $TP migrate "$h" "$nh"
	out="$(node grp "$h" "$T_TMP/$b.conf") $(node grp "$nh" "$T_TMP/$b.conf")"
	[ "$out" = "- q" ] && "$BLUEFLOW" timers list grp "$nh" -c "$T_TMP/$b.conf" | grep -q " timeout " &&
		ok "$b-migrate-update-moves" || fail "$b-migrate-update-moves" "$out"
}

# within NAME SECS LOW HIGH
within() {
	awk -v s="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(s >= lo && s <= hi) }' &&
		ok "$1" || fail "$1" "$2 s, wanted $3-$4"
}

run_backend() {
	b=$1
	db=$2
	base=$3
	conf "$b" "$db" "$T_TMP/$b.sock"
	OFFSET=$(offset)   # the same clock for every pool of the backend
	"$BLUEFLOW" db migrate -c "$T_TMP/$b.conf" >/dev/null
	up "$b"
	nginx_start "unix:$T_TMP/$b.sock"
	export URL=$NGINX_URL CA=$NGINX_CA BOT=demo

	# send_at: 09:00 in Kolkata is 2 s away on the pool's clock
	c=$((base + 3))
	BOT=sched $TP start "$c"
	out=$("$BLUEFLOW" timers list sched "$c" -c "$T_TMP/$b.conf")
	echo "$out" | grep -q "03:30:00Z *send_at" && ok "$b-send-at-due-0930-local" ||
		fail "$b-send-at-due-0930-local" "$out"
	s=$($TP wait "$c" "Good morning!" 1 9) && within "$b-send-at" "$s" 0 7 ||
		fail "$b-send-at" "$s"

	a=$((base + 1)); bb=$((base + 2)); d=$((base + 4)); e=$((base + 5))
	$TP start "$bb"
	$TP say "$bb" Bob
	$TP start "$d"
	$TP say "$d" /forget
	$TP start "$a"
	s=$($TP wait "$a" "Still there?" 1 4) && within "$b-reminder-on-time" "$s" 1.9 3.2 ||
		fail "$b-reminder-on-time" "$s"
	s=$($TP wait "$a" "Still there?" 2 4) && within "$b-second-reminder" "$s" 3.9 5.2 ||
		fail "$b-second-reminder" "$s"
	s=$($TP wait "$a" "Too late." 1 5) && within "$b-timeout" "$s" 4.9 6.2 ||
		fail "$b-timeout" "$s"
	s=$($TP wait "$bb" "We miss you." 1 10) && within "$b-inactive-nudge" "$s" 7.9 9.9 ||
		fail "$b-inactive-nudge" "$s"
	sleep 2
	[ "$(count "$a" "Still there?")" = 2 ] && ok "$b-max-reminders" ||
		fail "$b-max-reminders" "$($TP texts "$a")"
	[ "$($TP after "$bb" "Still there?")" = 0 ] && ok "$b-no-reminder-after-answer" ||
		fail "$b-no-reminder-after-answer" "$($TP texts "$bb")"
	[ "$(count "$bb" "We miss you.")" = 1 ] && ok "$b-nudged-once" ||
		fail "$b-nudged-once" "$($TP texts "$bb")"
	[ "$(count "$a" "We miss you.")" = 0 ] && ok "$b-finished-not-nudged" ||
		fail "$b-finished-not-nudged" "$($TP texts "$a")"
	# export: the nudged chat, silent since, is inactive; the timed-out one
	# finished; the one that answered waits at its next question
	out=$("$BLUEFLOW" export demo --format jsonl -c "$T_TMP/$b.conf" |
		python3 -c 'import json, sys
s = {r["chat_id"]: r["status"] for r in map(json.loads, sys.stdin)}
print(s.get(int(sys.argv[1])), s.get(int(sys.argv[2])))' "$bb" "$a")
	[ "$out" = "inactive finished" ] && ok "$b-export-status" || fail "$b-export-status" "$out"
	out=$("$BLUEFLOW" timers list demo "$d" -c "$T_TMP/$b.conf")
	[ "$out" = "no timers" ] && [ "$($TP after "$d" "Still there?")" = 0 ] && ok "$b-forget-no-timer" ||
		fail "$b-forget-no-timer" "$out"
	migrated "$b" "$base"

	# kill -9 of the whole pool with a timer armed: it fires once, late
	$TP start "$e"
	sleep 0.2
	kill9 "$POOL"
	sleep 3
	up "$b"
	$TP wait "$e" "Too late." 1 8 >/dev/null
	sleep 1
	# the late reminder fires once; the next would come after the timeout
	[ "$(count "$e" "Still there?")" = 1 ] && [ "$(count "$e" "Too late.")" = 1 ] &&
		ok "$b-kill9-fires-once" || fail "$b-kill9-fires-once" "$($TP texts "$e")"

	metrics=$(curl -s --cacert "$NGINX_CA" "$NGINX_URL/metrics")
	echo "$metrics" | grep -q '^blueflow_timers_fired_total{kind="remind"} [1-9]' &&
		echo "$metrics" | grep -q '^blueflow_timers_late_seconds_count [1-9]' &&
		echo "$metrics" | grep -q '^blueflow_timers_pending ' &&
		echo "$metrics" | grep -q '^blueflow_chats{bot="demo",status="finished"} ' &&
		ok "$b-metrics" || fail "$b-metrics" "$(echo "$metrics" | grep timers)"
	grep -q '"event":"timer"' "$T_TMP/$b.log" && ok "$b-timer-logged" || fail "$b-timer-logged" "no log line"
}

run_backend sqlite "sqlite:$T_TMP/t.db" 100
down "$POOL"
nginx_stop

pg_start
run_backend pg "$PG_URI" 200
# a restart of PostgreSQL with a timer armed
f=206
$TP start "$f"
pg_restart
$TP wait "$f" "Too late." 1 10 >/dev/null
sleep 1
[ "$(count "$f" "Still there?")" = 2 ] && [ "$(count "$f" "Too late.")" = 1 ] &&
	ok "pg-restart-fires-once" || fail "pg-restart-fires-once" "$($TP texts "$f")"

# two pools on one PostgreSQL: every timer once
conf pg2 "$PG_URI" "$T_TMP/pg2.sock"
first=$POOL
up pg2
chats=""
for i in $(seq 300 339); do chats="$chats $i"; done
# shellcheck disable=SC2086
$TP start $chats
sleep 8
bad=0
for i in $chats; do
	[ "$(count "$i" "Still there?")" = 2 ] && [ "$(count "$i" "Too late.")" = 1 ] || bad=$((bad + 1))
done
[ "$bad" = 0 ] && ok "two-pools-fire-once" || fail "two-pools-fire-once" "$bad chats wrong"
n1=$(grep -c '"event":"timer"' "$T_TMP/pg.log")
n2=$(grep -c '"event":"timer"' "$T_TMP/pg2.log")
echo "timers fired by the first pool: $n1, by the second: $n2"
alive "$POOL" && ok "second-pool-ran" || fail "second-pool-ran" "$(tail -3 "$T_TMP/pg2.log")"
down "$POOL"
down "$first"

# taking due timers walks the due index
pg_psql "INSERT INTO timers (bot, chat_id, kind, node, visit, due_ms)
	SELECT 'demo', g, 'remind', '0', 0, 4102444800000 + g FROM generate_series(1, 20000) g" \
	"ANALYZE timers" >/dev/null
plan=$(pg_psql "EXPLAIN SELECT id FROM timers WHERE due_ms <= 1700000000000 AND
	lease_until_ms < 1700000000000 ORDER BY due_ms LIMIT 64 FOR UPDATE SKIP LOCKED")
echo "$plan" | grep -q "Index Scan using timers_due" && ok "take-uses-index" ||
	fail "take-uses-index" "$plan"
finish
