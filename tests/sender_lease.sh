#!/bin/sh
# tests/sender_lease.sh - a sender sends only the calls it still holds.
# A sender takes the head of each chat's queue for OUTBOX_LEASE (15 s) and
# may hold a call longer than that before it starts it: rate limits, a
# stall (a loaded machine, a stopped process). Then:
#  - stalled: sender A takes the heads of 5 chats (2 calls each) and sends
#    one (rate_per_bot 0.1: the next would go 10 s later), then stops
#    (SIGSTOP) with the rest waiting; sender B takes them over once the
#    lease has run out and delivers all; A continues (SIGCONT) and must not
#    send what it held, on SQLite and on PostgreSQL;
#  - slow: one sender at 0.4 calls a second holds 10 chats' heads for 25 s;
#    its own next takes must not lease them again and send them twice;
#  - store gone: PostgreSQL stops while a call is in flight and starts
#    again after its answer came: the call is recorded, not made again.
# Each call reaches the fake exactly once and in each chat's order.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

TOKEN=777003:lease-Test_token
export LEASE_TOKEN=$TOKEN
botapi_start "$TOKEN"

# conf NAME DB RATE: a sender's config
conf() {
	cat >"$T_TMP/$1.conf" <<CONF
[server]
db = $2
api_base = $API
rate_per_bot = $3
rate_per_chat = 20

[bot demo]
flow = $SRCDIR/flows/onboarding.json
token_env = LEASE_TOKEN
CONF
}

# sql DB SQL: runs SQL on DB (sqlite:FILE or the test's PostgreSQL)
sql() {
	case $1 in
	sqlite:*) sqlite3 -cmd ".timeout 5000" "${1#sqlite:}" "$2" ;;
	*) pg_psql "$2" ;;
	esac
}

# queue DB COUNT CHAT...: COUNT calls "msg 1".."msg COUNT" to each chat
queue() {
	q_db=$1
	q_n=$2
	shift 2
	q_values=
	for q_i in $(seq 1 "$q_n"); do
		for q_c in "$@"; do
			q_values="$q_values${q_values:+, }('demo', $q_c, 'sendMessage', '{\"chat_id\": $q_c, \"text\": \"msg $q_i\"}')"
		done
	done
	sql "$q_db" "insert into outbox (bot, chat_id, method, params) values $q_values"
}

# until_sql DB SQL WANT SECONDS: waits until SQL gives WANT; 1 if it did not
until_sql() {
	u_n=0
	while [ "$(sql "$1" "$2")" != "$3" ]; do
		[ "$u_n" -ge $(($4 * 20)) ] && return 1
		sleep 0.05
		u_n=$((u_n + 1))
	done
}

# sender NAME: starts a sender on NAME.conf; sets SENDER
sender() {
	"$BLUEFLOW" sender -c "$T_TMP/$1.conf" 2>>"$T_TMP/$1.log" &
	SENDER=$!
	at_exit "kill -CONT $SENDER 2>/dev/null; kill -TERM $SENDER 2>/dev/null; wait $SENDER 2>/dev/null"
}

stop() {
	kill -CONT "$1" 2>/dev/null
	kill -TERM "$1"
	wait "$1"
	st_rc=$?
	[ "$st_rc" -eq 0 ] && ok "$2" || fail "$2" "exit $st_rc"
}

# delivered NAME CALLS CHAT...: the fake got CALLS calls for each chat,
# each once and in order
delivered() {
	d_name=$1
	d_n=$2
	shift 2
	python3 - "$T_TMP/calls.jsonl" "$@" >"$T_TMP/fake.$d_name.jsonl" <<'PY'
import json, sys
chats = set(sys.argv[2:])
for line in open(sys.argv[1]):
    if str(json.loads(line).get("params", {}).get("chat_id")) in chats:
        print(line, end="")
PY
	run python3 "$SRCDIR/tests/botapi_check.py" "$T_TMP/fake.$d_name.jsonl" --expect "$d_n"
	grep '^botapi_check: delivered' "$T_TMP/out"
	[ "$RC" -eq 0 ] && ok "$d_name" ||
		fail "$d_name" "$(grep -m 3 '^violation' "$T_TMP/out" | tr '\n' ';')"
}

# stalled NAME DB CHAT0: the stalled sender case on DB, chats CHAT0+1..5
stalled() {
	conf "$1-a" "$2" 0.1
	conf "$1-b" "$2" 50
	s_chats=$(seq $(($3 + 1)) $(($3 + 5)))
	# shellcheck disable=SC2086 # a list of chats
	queue "$2" 2 $s_chats
	sender "$1-a"
	s_a=$SENDER
	# A sent one call (and marked it), the rest waits for the bot's rate
	if until_sql "$2" "select count(*) from outbox where state = 'sent'" 1 10; then
		ok "$1-first-call-sent"
	else
		fail "$1-first-call-sent" "$(sql "$2" "select id, state, lease_until from outbox")"
	fi
	kill -STOP "$s_a"
	sender "$1-b"
	s_b=$SENDER
	# B waits for A's leases to run out, then sends the rest
	until_sql "$2" "select count(*) from outbox where state = 'pending'" 0 40 &&
		ok "$1-other-sender-took-over" ||
		fail "$1-other-sender-took-over" "$(sql "$2" "select id, state from outbox where state <> 'sent'")"
	kill -CONT "$s_a"
	sleep 2   # A would send what it held within a step
	stop "$s_a" "$1-stalled-sender-stops"
	grep -q '"event":"call taken over"' "$T_TMP/$1-a.log" && ok "$1-stalled-sender-let-go" ||
		fail "$1-stalled-sender-let-go" "no \"call taken over\" in its log: $(tail -n 3 "$T_TMP/$1-a.log")"
	stop "$s_b" "$1-other-sender-stops"
	# shellcheck disable=SC2086 # a list of chats
	delivered "$1-each-call-once-in-order" 2 $s_chats
}

# the slow sender, meanwhile (on its own SQLite file)
SLOW=sqlite:$T_TMP/slow.db
"$BLUEFLOW" db migrate --db "$SLOW" >/dev/null
conf slow "$SLOW" 0.4
SLOW_CHATS=$(seq 7101 7110)
# shellcheck disable=SC2086 # a list of chats
queue "$SLOW" 1 $SLOW_CHATS
sender slow
SLOW_PID=$SENDER

DB=sqlite:$T_TMP/lease.db
"$BLUEFLOW" db migrate --db "$DB" >/dev/null
stalled sqlite "$DB" 7000

until_sql "$SLOW" "select count(*) from outbox where state = 'pending'" 0 40 &&
	ok slow-all-sent || fail slow-all-sent "$(sql "$SLOW" "select id, state from outbox")"
sleep 4   # what it took twice would go now, one each 2.5 s
stop "$SLOW_PID" slow-sender-stops
# shellcheck disable=SC2086 # a list of chats
delivered slow-each-call-once 1 $SLOW_CHATS

# store_gone NAME DB CHAT: PostgreSQL goes away while a call is in flight
# (the fake answers it 4 s late) and comes back after its answer arrived:
# the sender keeps the outcome until the store takes it, so the call is
# marked sent, not made again once its lease ran out
store_gone() {
	conf "$1" "$2" 50
	queue "$2" 1 "$3"
	botapi_ctl fault "{\"kind\": \"slow\", \"seconds\": 4, \"chat_id\": \"$3\", \"count\": 1}"
	sender "$1"
	g_pid=$SENDER
	# the fault fired (the call is in the fake's hands): the store goes
	g_n=0
	while [ "$(python3 "$BOTAPI_PY" ctl "$API" faults)" != '{"ok": true, "result": []}' ] &&
		[ $g_n -lt 200 ]; do
		sleep 0.05
		g_n=$((g_n + 1))
	done
	pg_stop
	sleep 6   # the answer arrives meanwhile; recording it fails
	pg_resume
	until_sql "$2" "select state from outbox where chat_id = $3" sent 40 &&
		ok "$1-recorded-once-back" ||
		fail "$1-recorded-once-back" "$(sql "$2" "select state, attempts from outbox where chat_id = $3")"
	grep -q '"event":"sender"' "$T_TMP/$1.log" && ok "$1-store-was-gone" ||
		fail "$1-store-was-gone" "the sender never found the store gone: $(tail -n 3 "$T_TMP/$1.log")"
	stop "$g_pid" "$1-sender-stops"
	delivered "$1-made-once" 1 "$3"
}

if pg_available && pg_start; then
	"$BLUEFLOW" db migrate --db "$PG_URI" >/dev/null
	stalled pg "$PG_URI" 7200
	store_gone pg-gone "$PG_URI" 7300
else
	echo "PostgreSQL missing: its case skipped"
fi

if grep -qF "$TOKEN" "$T_TMP"/*.log; then fail token-not-logged "in a sender's log"; else ok token-not-logged; fi
finish
