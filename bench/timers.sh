#!/bin/sh
# bench/timers.sh - timers fired per second on PostgreSQL with 1,000,000
# pending, and the ratio to the update path's rate in the same run (one
# process each, on the same throwaway cluster).
#
# The table gets BENCH_PENDING timers due in the future (each its own chat)
# and BENCH_DUE reminders due now, of chats waiting at the reminded node;
# `blueflow tick` then fires the due ones (take by the due index, lease,
# and per timer: lock the chat, delete the row, step, save, queue the
# reminder, commit). The update path is `store_stress apply` on another bot
# with BENCH_DUE updates. The filled tables are vacuumed first, as
# autovacuum leaves them in a pool that has run for a while (not a
# million rows just inserted, which autovacuum would be scanning during
# the run). Bounded: each part is killed after BENCH_TIMEOUT
# seconds. Run it once, on a quiet machine: it writes ~1 M rows.
#
# Usage: bench/timers.sh [BUILD_DIR]     (default: $top/build)
# Environment: BENCH_PENDING (1000000), BENCH_DUE (20000), BENCH_TIMEOUT (300).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
pending=${BENCH_PENDING:-1000000}
due=${BENCH_DUE:-20000}
limit=${BENCH_TIMEOUT:-300}
SRCDIR=$top
BLUEFLOW=$build/blueflow
STRESS=$build/tests/store_stress
export SRCDIR BLUEFLOW
for f in "$BLUEFLOW" "$STRESS"; do
	[ -x "$f" ] || { echo "bench/timers.sh: no $f (make && make tests/store_stress)" >&2; exit 2; }
done
. "$top/tests/lib.sh"
. "$top/tests/pg_lib.sh"
say() { echo "bench/timers.sh: $*" >&2; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

pg_start >/dev/null
cat >"$T_TMP/flow.json" <<'JSON'
{"start": "0", "nodes": {
 "0": {"type": "text", "node_text": "Name?", "key_to_save": "name", "next": "1",
       "remind_after": "1h", "reminder": "Still there?"},
 "1": {"type": "cutscene", "node_text": "Thanks."}}}
JSON
cat >"$T_TMP/b.conf" <<CONF
[server]
db = $PG_URI
api_base = http://127.0.0.1:1

[bot tb]
flow = $T_TMP/flow.json
token_env = BENCH_TOKEN
CONF
export BENCH_TOKEN=1:bench
"$BLUEFLOW" db migrate -c "$T_TMP/b.conf" >/dev/null || exit 1
say "filling: $pending pending timers, $due due now"
pg_psql "INSERT INTO chats (bot, chat_id, node) SELECT 'tb', g, '0' FROM generate_series(1, $due) g" \
	"INSERT INTO timers (bot, chat_id, kind, node, visit, n, due_ms)
	 SELECT 'tb', 1000000000 + g, 'remind', '0', 0, 1, 4102444800000 + g FROM generate_series(1, $pending) g" \
	"INSERT INTO timers (bot, chat_id, kind, node, visit, n, due_ms)
	 SELECT 'tb', g, 'remind', '0', (extract(epoch FROM now()) * 1000)::bigint - 7200000, 1,
	        (extract(epoch FROM now()) * 1000)::bigint - 1000 FROM generate_series(1, $due) g" \
	"VACUUM (ANALYZE) timers" "VACUUM (ANALYZE) chats" >/dev/null || exit 1

t0=$(now)
timeout "$limit" "$BLUEFLOW" tick -c "$T_TMP/b.conf" --max "$due" >"$T_TMP/tick.out" 2>&1
t1=$(now)
fired=$(sed -n 's/^\([0-9]*\) timers* fired$/\1/p' "$T_TMP/tick.out")
left=$(pg_psql "SELECT count(*) FROM timers")
queued=$(pg_psql "SELECT count(*) FROM outbox")
[ "${fired:-0}" = "$due" ] && [ "$left" = "$pending" ] && [ "$queued" = "$due" ] ||
	say "fired ${fired:-?} of $due, $left timers left, $queued reminders queued: $(tail -3 "$T_TMP/tick.out")"
trate=$(rate "$due" "$t0" "$t1")

t0=$(now)
timeout "$limit" "$STRESS" apply "$PG_URI" "$top/tests/store/count7.json" 1 "$due" 100 \
	>"$T_TMP/stress.out" 2>&1 || say "store_stress: $(tail -3 "$T_TMP/stress.out")"
t1=$(now)
urate=$(rate "$due" "$t0" "$t1")
echo "timers fired/s (1 process, $pending pending): $trate"
echo "updates applied/s (1 process, store_stress apply): $urate"
awk -v a="$trate" -v b="$urate" 'BEGIN { printf "ratio timers/updates: %.2f\n", a / b }'
