#!/bin/sh
# tests/serve.sh - `blueflow serve` behind a real nginx with TLS, on
# SQLite and on PostgreSQL: a whole onboarding conversation over HTTPS,
# every refusal (the pool serving normally right after each), /metrics,
# reload under traffic (valid and invalid), kill -9 of a busy worker.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"

E2E="python3 $SRCDIR/tests/e2e.py"
export BOT=demo SECRET=s3cret-Token_1 BOT_TOKEN=123456:test-token BOT_SECRET=s3cret-Token_1
secret "$BOT_TOKEN"
secret "$BOT_SECRET"

if ! nginx_available || ! pg_available; then
	echo "skip: nginx or PostgreSQL missing"
	exit 77
fi

# serve_start DB: writes the config and starts the pool in the foreground.
serve_start() {
	cp "$SRCDIR/flows/onboarding.json" "$T_TMP/flow.json"
	cat >"$T_TMP/blueflow.conf" <<CONF
[server]
db = $1
listen = $T_TMP/bf.sock
# the sender's calls go nowhere (loopback, refused): this test plays the
# sender's part itself; tests/sender.sh tests delivery
api_base = http://127.0.0.1:1
workers = 3
max_body = 65536
request_timeout = 20
lock_timeout = 1500

[bot demo]
flow = $T_TMP/flow.json
token_env = BOT_TOKEN
secret_env = BOT_SECRET
CONF
	"$BLUEFLOW" serve -c "$T_TMP/blueflow.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	i=0
	while [ ! -S "$T_TMP/bf.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$T_TMP/bf.sock" ] && ok "serve-started" || fail "serve-started" "$(tail -5 "$T_TMP/serve.log")"
}

serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	i=0
	while kill -0 "$SERVE_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$SERVE_PID" 2>/dev/null && fail "serve-stops-on-term" "still running" || ok "serve-stops-on-term"
	wait "$SERVE_PID" 2>/dev/null
	rc=$?
	[ $rc -eq 0 ] && ok "serve-exit-0" || fail "serve-exit-0" "exit $rc"
	[ ! -e "$T_TMP/bf.sock" ] && ok "socket-removed" || fail "socket-removed" "still there"
}

workers() { pgrep -P "$SERVE_PID" | wc -l; }

run_backend() {
	b=$1
	db=$2
	: >"$T_TMP/serve.log"
	serve_start "$db"
	export URL=$NGINX_URL CA=$NGINX_CA DB=$db
	run $E2E conversation
	cat "$T_TMP/out"
	[ "$RC" -eq 0 ] && ok "$b-conversation" || fail "$b-conversation" "$(grep FAIL "$T_TMP/out" | head -3)"
	run $E2E refusals
	[ "$RC" -eq 0 ] && ok "$b-refusals" || fail "$b-refusals" "$(grep FAIL "$T_TMP/out" | head -5)"
	grep -q '"event":"refused","status":401' "$T_TMP/serve.log" && ok "$b-refusal-logged" ||
		fail "$b-refusal-logged" "no log line"
	EXPECT='{"blueflow_refusals_total{reason=\"method\"}": 1, "blueflow_refusals_total{reason=\"secret\"}": 2, "blueflow_refusals_total{reason=\"too_large\"}": 1, "blueflow_refusals_total{reason=\"bad_json\"}": 2, "blueflow_refusals_total{reason=\"not_found\"}": 1, "blueflow_updates_total{bot=\"demo\",result=\"poison\"}": 2, "blueflow_updates_total{bot=\"demo\",result=\"repeat\"}": 1}' \
		run $E2E metrics
	[ "$RC" -eq 0 ] && ok "$b-metrics" || fail "$b-metrics" "$(grep FAIL "$T_TMP/out" | head -5)"
	applied=$(sed -n 's/^METRICS //p' "$T_TMP/out" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["blueflow_updates_total{bot=\"demo\",result=\"applied\"}"]))')
	# the conversation: 9 updates in one chat, 5 in another; one good
	# update after each of the 9 refusals
	[ "$applied" = "$((9 + 5 + 9))" ] && ok "$b-applied-count" || fail "$b-applied-count" "$applied"
	run $E2E gauges
	[ "$RC" -eq 0 ] && ok "$b-outbox-gauges" || fail "$b-outbox-gauges" "$(grep FAIL "$T_TMP/out" | head -3)"

	# reload under traffic: a valid new flow takes over, nothing fails
	$E2E load 400 4 20 >"$T_TMP/load1" 2>&1 &
	lp=$!
	sleep 0.5
	sed 's/welcome to the <b>Atlas<\/b> product team!/welcome aboard, this is Atlas v2!/' \
		"$SRCDIR/flows/onboarding.json" >"$T_TMP/flow.json"
	kill -HUP "$SERVE_PID"
	wait $lp
	grep -q " failed 0 " "$T_TMP/load1" && ok "$b-reload-no-failure" ||
		fail "$b-reload-no-failure" "$(cat "$T_TMP/load1"; grep -v '"level":"info"' "$T_TMP/serve.log" | tail -5)"
	grep -q '"event":"reloaded"' "$T_TMP/serve.log" && ok "$b-reloaded" || fail "$b-reloaded" "no reload logged"
	run $E2E new-flow-check
	[ "$RC" -eq 0 ] && ok "$b-new-flow-serves" || fail "$b-new-flow-serves" "$(cat "$T_TMP/out")"
	# an invalid flow is refused and the old one keeps serving
	echo '{"0": {"type": "choise"}}' >"$T_TMP/flow.json"
	kill -HUP "$SERVE_PID"
	sleep 0.5
	grep -q '"event":"reload refused"' "$T_TMP/serve.log" && ok "$b-bad-reload-refused" ||
		fail "$b-bad-reload-refused" "$(tail -3 "$T_TMP/serve.log")"
	$E2E load 50 2 10 >"$T_TMP/load2" 2>&1
	grep -q " failed 0 " "$T_TMP/load2" && ok "$b-old-flow-serves" || fail "$b-old-flow-serves" "$(cat "$T_TMP/load2")"
	cp "$SRCDIR/flows/onboarding.json" "$T_TMP/flow.json"

	# kill -9 of a busy worker under load: respawned; only what it held fails
	before=$(workers)
	$E2E load 600 4 20 >"$T_TMP/load3" 2>&1 &
	lp=$!
	sleep 0.7
	victim=$(pgrep -P "$SERVE_PID" | head -1)
	kill -9 "$victim"
	wait $lp
	sleep 1
	after=$(workers)
	[ "$after" = "$before" ] && ok "$b-worker-respawned" || fail "$b-worker-respawned" "$before -> $after"
	failed=$(sed -n 's/.* failed \([0-9]*\) .*/\1/p' "$T_TMP/load3")
	[ "${failed:-9}" -le 1 ] && ok "$b-kill9-at-most-one-failed" || fail "$b-kill9-at-most-one-failed" "$(cat "$T_TMP/load3")"
	ids=$(sed -n 's/.* ids \(.*\)/\1/p' "$T_TMP/load3")
	run $E2E resend "$ids"
	[ "$RC" -eq 0 ] && ok "$b-resent-applied" || fail "$b-resent-applied" "$(cat "$T_TMP/out")"
	run $E2E consistency
	[ "$RC" -eq 0 ] && ok "$b-nothing-applied-twice" || fail "$b-nothing-applied-twice" "$(cat "$T_TMP/out")"
	if [ "$b" = pg ]; then
		# a chat locked by someone else past two tries of lock_timeout
		# (1.5 s each; the lock is held 8 s, for slow machines): 503, then
		# fine once it is gone
		chat=799001
		psql -X -q -d "$db" -c "insert into chats (bot, chat_id) values ('demo', $chat)" >/dev/null
		psql -X -q -d "$db" -c "begin; select 1 from chats where bot = 'demo' and chat_id = $chat for update; select pg_sleep(8); commit;" >/dev/null 2>&1 &
		holder=$!
		sleep 0.5
		run $E2E locked $chat 7
		[ "$RC" -eq 0 ] && ok "$b-lock-timeout-503" || fail "$b-lock-timeout-503" "$(grep FAIL "$T_TMP/out")"
		wait $holder
		# the worker's connection cut between two updates: the next is
		# answered 200 (reconnected, tried once more), applied once
		run $E2E dropped 799002
		[ "$RC" -eq 0 ] && ok "$b-dropped-connection-retried" || fail "$b-dropped-connection-retried" "$(grep FAIL "$T_TMP/out")"
		grep -q '"event":"store retried"' "$T_TMP/serve.log" && ok "$b-retry-logged" ||
			fail "$b-retry-logged" "no log line"
	fi
	serve_stop
	# secrets never reach a log
	if grep -qF -e "$BOT_TOKEN" -e "$BOT_SECRET" "$T_TMP/serve.log" "$NGINX_LOG" "$NGINX_ACCESS_LOG"; then
		fail "$b-no-secret-in-logs" "found the token or the secret"
	else
		ok "$b-no-secret-in-logs"
	fi
	grep -q '"event":"update"' "$T_TMP/serve.log" && ok "$b-updates-logged" || fail "$b-updates-logged" "none"
}

# The supervisor on its own: socket mode, pid file, back-off for children
# dying young, a second SIGTERM stopping at once.
supervisor() {
	: >"$T_TMP/serve.log"
	serve_start "sqlite:$T_TMP/sup.db"
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null
	printf 'listen_mode = 0600\npid_file = %s/bf.pid\n' "$T_TMP" >"$T_TMP/extra"
	sed -i "/^request_timeout/r $T_TMP/extra" "$T_TMP/blueflow.conf"
	"$BLUEFLOW" serve -c "$T_TMP/blueflow.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	i=0
	while [ ! -S "$T_TMP/bf.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	mode=$(stat -c %a "$T_TMP/bf.sock")
	[ "$mode" = 600 ] && ok socket-mode || fail socket-mode "$mode"
	[ "$(cat "$T_TMP/bf.pid" 2>/dev/null)" = "$SERVE_PID" ] && ok pid-file || fail pid-file "$(cat "$T_TMP/bf.pid" 2>&1)"
	sleep 2.5   # past "young"
	n=$(workers)
	# kill the same slot's child each time it comes back: the pause grows
	victim=$(pgrep -P "$SERVE_PID" | head -1)
	prev=0
	grows=1
	for round in 1 2 3 4; do
		kill -9 "$victim"
		t0=$(date +%s%N)
		i=0
		# until the supervisor has reaped it the victim still counts (and
		# pgrep -n below may then pick an old child): wait for it to go
		while pgrep -P "$SERVE_PID" | grep -qx "$victim" && [ $i -lt 100 ]; do sleep 0.01; i=$((i + 1)); done
		i=0
		while [ "$(workers)" -lt "$n" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
		t1=$(date +%s%N)
		victim=$(pgrep -n -P "$SERVE_PID")
		took=$(((t1 - t0) / 1000000))
		echo "round $round: back in $took ms"
		[ "$took" -gt "$prev" ] || grows=0
		prev=$took
	done
	# 0, then 0.5 s, 1 s, 2 s: each death of a young child waits longer
	[ "$grows" = 1 ] && [ "$took" -ge 1500 ] && ok backoff-grows || fail backoff-grows "fourth replacement after $took ms"
	grep -q '"event":"child exit".*"signal":"Killed"' "$T_TMP/serve.log" && ok child-death-logged || fail child-death-logged "no log"
	# SIGTERM twice: the second one does not wait
	kill -TERM "$SERVE_PID"
	kill -TERM "$SERVE_PID"
	i=0
	while kill -0 "$SERVE_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$SERVE_PID" 2>/dev/null && fail second-term-stops "still running" || ok second-term-stops
	wait "$SERVE_PID" 2>/dev/null
	[ ! -e "$T_TMP/bf.pid" ] && ok pid-file-removed || fail pid-file-removed "still there"
	# a clean stop where every process gets the TERM (a service manager's
	# KillMode=control-group, `kill -- -PGID`): each child's end is info
	: >"$T_TMP/serve.log"
	setsid "$BLUEFLOW" serve -c "$T_TMP/blueflow.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	i=0
	while [ ! -S "$T_TMP/bf.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5
	[ "$(ps -o pgid= -p "$SERVE_PID" | tr -d ' ')" = "$SERVE_PID" ] || fail group-stop-setup "serve is not its group's leader"
	kill -TERM "-$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null
	grep -q '"level":"info".*"event":"child exit".*"signal":"Terminated"' "$T_TMP/serve.log" &&
		! grep -q '"level":"warn"' "$T_TMP/serve.log" && ok group-stop-logged-info ||
		fail group-stop-logged-info "$(cat "$T_TMP/serve.log")"
}
supervisor

nginx_start "unix:$T_TMP/bf.sock" || { fail nginx-start "see above"; finish; exit 1; }
run_backend sqlite "sqlite:$T_TMP/serve.db"
pg_start || { fail pg-start "see above"; finish; exit 1; }
run_backend pg "$PG_URI"
finish
