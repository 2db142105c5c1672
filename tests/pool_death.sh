#!/bin/sh
# tests/pool_death.sh - when the supervisor of `blueflow serve` dies
# (kill -9: the OOM killer, a crash), its whole pool dies with it, on
# SQLite and on PostgreSQL: within 2 s none of its children runs, the TCP
# port is free, and a new pool on the same config starts and answers. The
# same with the sender in the middle of delivering (the fake Bot API takes
# a second to answer): the calls in flight are finished, the rest is left
# to the new pool's sender, and every call reaches the fake exactly once.
# Then what is left of a pool that did not go (a stopped worker) or a pool
# still running: a new serve names the processes holding the port, and
# the pid file's.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

TOKEN=777002:death-Test_token
export DEATH_TOKEN=$TOKEN
secret "$TOKEN"
botapi_start "$TOKEN" && ok fake-started ||
	{ fail fake-started "$(cat "$T_TMP/fake.out")"; finish; exit 1; }
ctl() { botapi_ctl "$@"; }
WORKERS=2

# running PID: PID runs (a zombie waiting for its reaper counts as gone).
running() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in Z*|X*|'') return 1 ;; esac
}

# ours PID: PID is a process of a pool this test started (so that what a
# failing test leaves behind is stopped, and nothing else).
ours() {
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$T_TMP/pool.conf"
}

# bindable PORT: a new server could listen on 127.0.0.1:PORT now.
bindable() {
	python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# healthz: GET /healthz from the pool over FastCGI; prints the body.
healthz() {
	python3 - "$LPORT" <<'PY'
import socket, struct, sys
def rec(t, body):
    return struct.pack("!BBHHBB", 1, t, 1, len(body), 0, 0) + body
def pair(k, v):
    return bytes([len(k), len(v)]) + k + v
params = b"".join(pair(k, v) for k, v in [(b"REQUEST_METHOD", b"GET"),
    (b"DOCUMENT_URI", b"/healthz"), (b"REQUEST_URI", b"/healthz")])
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(rec(1, struct.pack("!HB5x", 1, 0)) + rec(4, params) + rec(4, b"") + rec(5, b""))
data, out = b"", b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
while len(data) >= 8:
    _, t, _, n, pad = struct.unpack("!BBHHB", data[:7])
    if t == 6:
        out += data[8:8 + n]
    data = data[8 + n + pad:]
print(out.decode(errors="replace"))
PY
}

# write_conf DB [PID_FILE]: the pool's config, on a free port.
write_conf() {
	LPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$T_TMP/pool.conf" <<CONF
[server]
db = $1
listen = 127.0.0.1:$LPORT
api_base = $API
workers = $WORKERS
${2:+pid_file = $2}

[bot demo]
flow = $SRCDIR/flows/onboarding.json
token_env = DEATH_TOKEN
CONF
}

# start_pool NAME: starts `blueflow serve` in the foreground and waits (10 s
# at most) until it answers; sets POOL and KIDS (its children).
start_pool() {
	"$BLUEFLOW" serve -c "$T_TMP/pool.conf" --foreground 2>>"$T_TMP/serve.log" &
	POOL=$!
	at_exit "kill -TERM $POOL 2>/dev/null; wait $POOL 2>/dev/null"
	sp_n=0
	while running "$POOL" && [ $sp_n -lt 100 ] &&
		! healthz 2>/dev/null | grep -q '"status":"ok"'; do
		sleep 0.1
		sp_n=$((sp_n + 1))
	done
	KIDS=$(pgrep -P "$POOL" | tr '\n' ' ')
	for k in $KIDS; do at_exit "ours $k && kill -KILL $k"; done
	if healthz 2>/dev/null | grep -q '"status":"ok"'; then ok "$1-answers"; else
		fail "$1-answers" "$(tail -n 3 "$T_TMP/serve.log")"
	fi
}

# stop_pool: SIGTERM, and waits for the pool to finish.
stop_pool() {
	kill -TERM "$POOL"
	wait "$POOL"
}

# kill_pool NAME: kill -9 of the supervisor; none of its children runs
# 2 s later, and the port is free.
kill_pool() {
	[ "$(echo $KIDS | wc -w)" = $((WORKERS + 1)) ] && ok "$1-had-its-children" ||
		fail "$1-had-its-children" "children: $KIDS"
	{ kill -KILL "$POOL"; wait "$POOL"; } 2>/dev/null
	kp_n=0
	while :; do
		kp_left=
		for k in $KIDS; do running "$k" && kp_left="$kp_left $k"; done
		[ -z "$kp_left" ] || [ $kp_n -ge 40 ] && break
		sleep 0.05
		kp_n=$((kp_n + 1))
	done
	[ -z "$kp_left" ] && ok "$1-children-gone-within-2s" ||
		fail "$1-children-gone-within-2s" "still running:$kp_left"
	bindable "$LPORT" && ok "$1-port-free" || fail "$1-port-free" "127.0.0.1:$LPORT is taken"
	# what is left must not disturb the next checks
	for k in $kp_left; do kill -KILL "$k" 2>/dev/null; done
}

# sql DB QUERY: one value from the store.
sql() {
	case $1 in
	sqlite:*) sqlite3 -cmd ".timeout 5000" "${1#sqlite:}" "$2" ;;
	*) pg_psql "$2" ;;
	esac
}

# backend NAME DB: the pool dies with its supervisor, idle and mid-delivery.
backend() {
	b=$1
	db=$2
	: >"$T_TMP/serve.log"
	ctl reset
	write_conf "$db"
	start_pool "$b-pool"
	kill_pool "$b-idle"
	start_pool "$b-new-pool"

	# 3 messages for each of 4 chats; the fake answers after 1 s
	ctl fault '{"kind": "slow", "method": "sendMessage", "seconds": 1}'
	sql "$db" "insert into outbox (bot, chat_id, method, params)
		select 'demo', c, 'sendMessage', '{\"chat_id\": ' || c || ', \"text\": \"msg ' || n || '\"}'
		from (select 1 as n union all select 2 union all select 3) ns,
		(select 4001 as c union all select 4002 union all select 4003 union all select 4004) cs
		order by n, c" >/dev/null
	i=0
	while [ "$(sql "$db" "select count(*) from outbox where state = 'pending' and lease_until is not null")" = 0 ] &&
		[ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.3   # the calls are on their way
	kill_pool "$b-mid-delivery"
	left=$(sql "$db" "select count(*) from outbox where state = 'pending'")
	[ "$left" -gt 0 ] && [ "$left" -lt 12 ] && ok "$b-some-left-to-the-next-sender" ||
		fail "$b-some-left-to-the-next-sender" "$left calls pending"
	grep -q '"fault": "slow"' "$T_TMP/calls.jsonl" && ok "$b-killed-mid-call" ||
		fail "$b-killed-mid-call" "no call was in flight"
	ctl clear_faults '{}'
	start_pool "$b-takeover-pool"
	i=0
	while [ "$(sql "$db" "select count(*) from outbox where state = 'pending'")" != 0 ] &&
		[ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	got=$(sql "$db" "select state || ' ' || count(*) from outbox group by state")
	[ "$got" = "sent 12" ] && ok "$b-all-sent" || fail "$b-all-sent" "$got"
	run python3 "$SRCDIR/tests/botapi_check.py" "$T_TMP/calls.jsonl" --expect 3
	[ "$RC" -eq 0 ] && ok "$b-each-call-once-in-order" ||
		fail "$b-each-call-once-in-order" "$(grep -m 3 '^violation' "$T_TMP/out" | tr '\n' ';')"
	n=$(grep -c '"method": "sendMessage"' "$T_TMP/calls.jsonl")
	[ "$n" = 12 ] && ok "$b-twelve-calls" || fail "$b-twelve-calls" "the fake got $n"
	stop_pool
	if grep -qF "$TOKEN" "$T_TMP/serve.log"; then fail "$b-token-not-logged" "in serve.log"; else
		ok "$b-token-not-logged"; fi
}

backend sqlite "sqlite:$T_TMP/death.db"
if pg_available && pg_start; then
	backend pg "$PG_URI"
else
	echo "skip: PostgreSQL missing"
fi

# --- leftovers: a new serve says who holds the port ---------------------------
: >"$T_TMP/serve.log"
write_conf "sqlite:$T_TMP/left.db" "$T_TMP/pool.pid"
start_pool left-pool
run "$BLUEFLOW" serve -c "$T_TMP/pool.conf" --foreground
expect_rc running-pool-refused 1
expect_err running-pool-names-holder "held by process $POOL ("
expect_err running-pool-names-pid-file "pid_file $T_TMP/pool.pid: process $POOL still runs"
# a worker that cannot act on its parent's death (stopped) outlives it
victim=${KIDS%% *}
kill -STOP "$victim"
{ kill -KILL "$POOL"; wait "$POOL"; } 2>/dev/null
sleep 1
run "$BLUEFLOW" serve -c "$T_TMP/pool.conf" --foreground
expect_rc leftover-refused 1
expect_err leftover-names-holder "held by process $victim ("
expect_err leftover-says-how-to-stop "kill $victim"
if grep -qF "pid_file" "$T_TMP/err"; then
	fail leftover-dead-pid-file-quiet "$(cat "$T_TMP/err")"
else
	ok leftover-dead-pid-file-quiet
fi
# once it may run again it leaves too
kill -CONT "$victim"
i=0
while running "$victim" && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
running "$victim" && fail leftover-leaves-once-continued "still running" ||
	ok leftover-leaves-once-continued
start_pool after-leftover
stop_pool
finish
