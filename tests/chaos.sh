#!/bin/sh
# tests/chaos.sh - the chaos run: 200 chats walk flows/onboarding.json
# (uploads included) through nginx over TLS onto PostgreSQL while, at
# random moments, workers and the sender are killed with SIGKILL,
# PostgreSQL restarts, the fake Bot API answers 429, 5xx, slowly or drops
# connections (before or after doing the call), Telegram sends updates
# again and the attachments disk (a tmpfs of its own, when one can be
# mounted) fills up. tests/chaos.py plays Telegram and the saboteur and
# judges; see its header for what is checked. Two variants, each its own
# run of this script (CHAOS_VARIANT): "one", one pool; "two", two pools
# behind one nginx upstream on one PostgreSQL and one attachments disk
# (tests/scale.sh's set-up), one of them killed whole mid-run and started
# again. Without CHAOS_VARIANT it runs both. CHAOS_SEED picks the faults'
# seed (printed; default: from the clock). Each prints the line
# "sent N, applied N, repeats ignored N, faults injected N, lost: 0, doubled: 0".
#
# Every wait is bounded; everything listens on 127.0.0.1 or a unix socket.
set -u
if [ -z "${CHAOS_VARIANT:-}" ]; then
	rc=0
	for v in one two; do
		echo "# chaos: variant $v"
		CHAOS_VARIANT=$v sh "$SRCDIR/tests/chaos.sh" || rc=$?
		[ "$rc" -ne 77 ] || rc=0
	done
	exit "$rc"
fi
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

if ! nginx_available || ! pg_available; then
	echo "skip: nginx or PostgreSQL missing"
	exit 77
fi

CHAOS_TOKEN=777124:chaos-Test_token
CHAOS_SECRET=chaos-Secret_1
export CHAOS_TOKEN CHAOS_SECRET
secret "$CHAOS_TOKEN"
secret "$CHAOS_SECRET"
SEED=${CHAOS_SEED:-$(date +%s)}
CHATS=${CHAOS_CHATS:-200}
case $CHAOS_VARIANT in
one) POOLS=1 ;;
two) POOLS=2 ;;
*) echo "CHAOS_VARIANT is one or two"; exit 2 ;;
esac
echo "chaos: variant $CHAOS_VARIANT, seed $SEED (CHAOS_SEED=$SEED to run it again)"

# wait_gone PID SECONDS: until PID has exited, at most SECONDS; then SIGKILL.
# WAIT_RC: its exit status.
wait_gone() {
	wg_n=0
	while alive "$1" && [ "$wg_n" -lt $(($2 * 20)) ]; do
		sleep 0.05
		wg_n=$((wg_n + 1))
	done
	if alive "$1"; then
		echo "pid $1 still runs after $2 s; killing it" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	WAIT_RC=$?
}

# --- set up ------------------------------------------------------------------

botapi_start "$CHAOS_TOKEN"
pg_start || { fail pg-start "see above"; finish; exit 1; }
# pg_lib.sh's cluster trades durability for speed; the restarts here
# include crashes (immediate), which must lose no commit that was answered
"$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
	-c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null &&
	[ "$(pg_psql 'show synchronous_commit')" = on ] && ok pg-commits-durable ||
	{ fail pg-commits-durable "synchronous_commit is $(pg_psql 'show synchronous_commit')"; finish; exit 1; }
STORAGE=$T_TMP/files
mkdir -p "$STORAGE"
TMPFS=false
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=16m,mode=0700 chaos "$STORAGE" 2>"$T_TMP/mount.err"; then
	TMPFS=true
	at_exit "umount -l '$STORAGE' 2>/dev/null"
	echo "chaos: attachments on a 16 MB tmpfs"
else
	echo "chaos: note: cannot mount a tmpfs here ($(cat "$T_TMP/mount.err" 2>/dev/null)); the full-disk fault is skipped"
fi

# the pools' ports: free ones in 20000-29999, away from the harnesses'
taken() { [ "$1" = "${PORT1:-}" ]; }
PORT1=$(free_port 2500)
PORT2=$(free_port 5500 taken)
: >"$T_TMP/pool.pids"
at_exit 'for p in $(cat "$T_TMP/pool.pids"); do kill -TERM $p 2>/dev/null; done; sleep 0.5'
for n in $(seq 1 "$POOLS"); do
	eval "port=\$PORT$n"
	mkdir -p "$T_TMP/h$n"
	cat >"$T_TMP/h$n/blueflow.conf" <<CONF
[server]
db = $PG_URI
listen = 127.0.0.1:$port
storage = $STORAGE
api_base = $API
workers = 3
request_timeout = 20
lock_timeout = 5000
rate_per_bot = 1000
rate_per_chat = 100
burst_per_chat = 20

[bot demo]
flow = $SRCDIR/flows/onboarding.json
token_env = CHAOS_TOKEN
secret_env = CHAOS_SECRET
inline_reply = off
CONF
	# start.sh: starts host n's pool (its log appended), prints its pid once
	# it serves (20 s at most)
	cat >"$T_TMP/h$n/start.sh" <<SH
"$BLUEFLOW" serve -c "$T_TMP/h$n/blueflow.conf" --foreground >/dev/null 2>>"$T_TMP/h$n/serve.log" &
pid=\$!
echo \$pid >>"$T_TMP/pool.pids"
i=0
while [ \$i -lt 400 ] && kill -0 \$pid 2>/dev/null &&
	! { [ "\$(grep -c '"event":"serving"' "$T_TMP/h$n/serve.log")" -gt "\$1" ] &&
	grep -qi ":\$(printf '%04X' $port) 00000000:0000 0A" /proc/net/tcp; }; do
	sleep 0.05
	i=\$((i + 1))
done
kill -0 \$pid 2>/dev/null && echo \$pid
SH
done
"$BLUEFLOW" db migrate -c "$T_TMP/h1/blueflow.conf" >"$T_TMP/migrate.out" 2>&1 &&
	ok migrated || { fail migrated "$(cat "$T_TMP/migrate.out")"; finish; exit 1; }
UPSTREAMS=
for n in $(seq 1 "$POOLS"); do
	: >"$T_TMP/h$n/serve.log"
	pid=$(sh "$T_TMP/h$n/start.sh" 0)
	[ -n "$pid" ] && ok "pool-$n-started" ||
		{ fail "pool-$n-started" "$(tail -n 5 "$T_TMP/h$n/serve.log")"; finish; exit 1; }
	eval "POOL$n=$pid"
	eval "UPSTREAMS=\"\$UPSTREAMS 127.0.0.1:\$PORT$n\""
done
nginx_start "$UPSTREAMS" || { fail nginx-start "see above"; finish; exit 1; }

# --- the run -------------------------------------------------------------------

POOLS_JSON="{\"pid\": $POOL1, \"port\": $PORT1}"
LOGS="\"$T_TMP/h1/serve.log\""
if [ "$POOLS" = 2 ]; then
	POOLS_JSON="$POOLS_JSON, {\"pid\": $POOL2, \"port\": $PORT2}"
	LOGS="$LOGS, \"$T_TMP/h2/serve.log\""
	# pool 2 comes back after it was killed: one more "serving" line
	printf 'sh "%s" 1\n' "$T_TMP/h2/start.sh" >"$T_TMP/restart_pool.sh"
fi
cat >"$T_TMP/chaos.json" <<JSON
{"seed": "$SEED", "chats": $CHATS, "threads": 16, "seconds": 70, "spread": 20, "max_faults": 60,
 "uid_base": 500000000, "chat_base": 700000,
 "nginx_port": $NGINX_PORT, "ca": "$NGINX_CA",
 "api": "$API", "calls": "$T_TMP/calls.jsonl", "pools": [$POOLS_JSON], "logs": [$LOGS],
 "restart_pool": "$T_TMP/restart_pool.sh",
 "pg": {"dir": "$PG_DIR", "bin": "$PG_BIN"}, "psql": "$PG_BIN/psql", "pg_uri": "$PG_URI",
 "storage": "$STORAGE", "storage_tmpfs": $TMPFS, "tmp": "$T_TMP",
 "blueflow": "$BLUEFLOW", "flow": "$SRCDIR/flows/onboarding.json",
 "conf": "$T_TMP/h1/blueflow.conf", "out": "$T_TMP/run.json"}
JSON
python3 "$SRCDIR/tests/chaos.py" run "$T_TMP/chaos.json" >"$T_TMP/run.out" 2>&1 &
RUN=$!
at_exit "kill $RUN 2>/dev/null"
wait_gone "$RUN" 300
cat "$T_TMP/run.out"
[ "$WAIT_RC" = 0 ] && [ -s "$T_TMP/run.json" ] && ok run-ran ||
	{ fail run-ran "exit $WAIT_RC"; finish; exit 1; }

# --- afterwards: drained, still serving, then the judge -------------------------

# until no call is pending (a killed sender's calls wait out their lease)
n=0
while :; do
	left=$(pg_psql "select count(*) from outbox where state = 'pending'" 2>&1)
	[ "$left" = 0 ] || [ "$n" -ge 900 ] && break
	[ $((n % 50)) = 0 ] && echo "pending calls: $left"
	sleep 0.1
	n=$((n + 1))
done
[ "$left" = 0 ] && ok outbox-drained-after-faults || fail outbox-drained-after-faults "$left pending after 90 s"

# still serving: a new chat's /start per pool is answered and its welcome
# message delivered
for n in $(seq 1 "$POOLS"); do
	chat=$((799990 + n))
	body="{\"update_id\": $((600000000 + n)), \"message\": {\"message_id\": 1, \"date\": $(date +%s), \"chat\": {\"id\": $chat, \"type\": \"private\"}, \"from\": {\"id\": $chat, \"is_bot\": false, \"first_name\": \"Eve\"}, \"text\": \"/start\"}}"
	# sent again on an error, as Telegram does (a worker may find its
	# database connection gone once after a restart)
	i=0
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$NGINX_CA" \
			-H "X-Telegram-Bot-Api-Secret-Token: $CHAOS_SECRET" -H 'Content-Type: application/json' \
			-d "$body" "$NGINX_URL/tg/demo")
		[ "$code" = 200 ] || [ $i -ge 10 ] && break
		echo "still-serving-$n: HTTP $code; again"
		sleep 0.5
		i=$((i + 1))
	done
	i=0
	until grep -q "\"chat_id\": $chat" "$T_TMP/calls.jsonl" || [ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$code" = 200 ] && grep -q "\"chat_id\": $chat" "$T_TMP/calls.jsonl" &&
		ok "still-serving-$n" || fail "still-serving-$n" "HTTP $code; delivered: $(grep -c "\"chat_id\": $chat" "$T_TMP/calls.jsonl")"
done

python3 "$SRCDIR/tests/chaos.py" check "$T_TMP/chaos.json" >"$T_TMP/check.out" 2>&1
ck_rc=$?
ck_fails=0
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok }" ;;
	"FAIL "*)
		line=${line#FAIL }
		fail "${line%%: *}" "${line#*: }"
		ck_fails=$((ck_fails + 1)) ;;
	*) echo "$line" ;;
	esac
done <"$T_TMP/check.out"
[ "$ck_rc" -eq 0 ] || [ "$ck_fails" -gt 0 ] || fail check-ran "chaos.py check exited $ck_rc"

# --- the end: the pools stop cleanly --------------------------------------------

for p in $(cat "$T_TMP/pool.pids"); do
	alive "$p" || continue
	kill -TERM "$p"
	i=0
	while alive "$p" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	alive "$p" && fail "pool-$p-stops" "still runs 30 s after SIGTERM" || ok "pool-stops"
done
if [ -n "${CHAOS_KEEP:-}" ]; then
	# for a look afterwards (calls.jsonl holds the token)
	mkdir -p "$CHAOS_KEEP" && cp -r "$T_TMP"/h* "$T_TMP"/*.json* "$T_TMP"/*.out "$CHAOS_KEEP"/ &&
		pg_psql "select id, chat_id, method, state, attempts, last_error, params from outbox order by id" \
			>"$CHAOS_KEEP/outbox.txt" && echo "kept in $CHAOS_KEEP"
fi
finish
