#!/bin/sh
# bench/store.sh - updates per second through the store (store_begin, claim,
# lock_chat, engine step, save, commit: `store_stress apply`) from 1, 4 and
# 16 concurrent processes, on SQLite (a file in a temp dir) and on
# PostgreSQL (a throwaway cluster on a unix socket, tests/pg.sh). Each
# process works on its own 100 chats, so no two wait on one chat's lock.
# Every configuration gets a fresh, migrated database.
#
# The ceiling for PostgreSQL is the same transaction as raw SQL run by
# pgbench -M prepared over the same socket, with as many clients: BEGIN;
# the claim; the chat upsert-lock; bf_save with the arrays store_stress
# produces (the inline reply recorded, no outbox row, two transcript rows);
# COMMIT. Same five round trips, no engine, no JSON, no fork per process.
#
# Usage: bench/store.sh [BUILD_DIR]     (default: $top/build)
# Environment: BENCH_TOTAL updates per run (20000), BENCH_PROCS ("1 4 16"),
# BENCH_CHATS chats per process (100), BENCH_TIMEOUT seconds per run (300).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd) || exit 2
total=${BENCH_TOTAL:-20000}
procs_list=${BENCH_PROCS:-1 4 16}
chats=${BENCH_CHATS:-100}
limit=${BENCH_TIMEOUT:-300}

SRCDIR=$top
BLUEFLOW=$build/blueflow
export SRCDIR BLUEFLOW
STRESS=$build/tests/store_stress
FLOW=$top/tests/store/count7.json
for f in "$BLUEFLOW" "$STRESS"; do
	[ -x "$f" ] || { echo "bench/store.sh: no $f (make && make tests/store_stress)" >&2; exit 2; }
done
[ "$chats" -gt 1 ] || { echo "bench/store.sh: BENCH_CHATS must be > 1" >&2; exit 2; }

. "$top/tests/lib.sh"     # T_TMP, removed on exit
. "$top/tests/pg.sh"      # pg_start's trap also stops the cluster on exit

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
: >"$T_TMP/table"
row() { printf '%-11s %5s %11s %10s %9s\n' "$@" >>"$T_TMP/table"; }

# bench_blueflow URI PROCS: runs PROCS store_stress processes at once, each with
# total/PROCS updates on its own chats (process p: update ids p*1000000+i,
# chats p*chats+1 .. p*chats+chats); sets N (updates applied), RATE, TRANS.
bench_blueflow() {
	bf_each=$((total / $2))
	N=$((bf_each * $2))
	timeout 60 "$BLUEFLOW" db migrate --db "$1" >"$T_TMP/migrate.out" 2>&1 || {
		echo "bench/store.sh: migrate $1 failed: $(cat "$T_TMP/migrate.out")" >&2
		return 1
	}
	p=1
	t0=$(now)
	while [ "$p" -le "$2" ]; do
		timeout "$limit" "$STRESS" apply "$1" "$FLOW" "$p" "$bf_each" "$chats" \
			>"$T_TMP/stress.$p" 2>&1 &
		p=$((p + 1))
	done
	wait
	t1=$(now)
	bf_ok=$(cat "$T_TMP"/stress.* | awk -v e="$bf_each" '$1 == "applied" && $2 == e && $4 == 0 { n++ }
		END { print n + 0 }')
	TRANS=$(cat "$T_TMP"/stress.* | awk '$1 == "applied" { t += $6 } END { print t + 0 }')
	rm -f "$T_TMP"/stress.*
	[ "$bf_ok" -eq "$2" ] || {
		echo "bench/store.sh: only $bf_ok of $2 processes applied all their updates" >&2
		return 1
	}
	RATE=$(rate "$N" "$t0" "$t1")
}

# --- SQLite
for np in $procs_list; do
	if bench_blueflow "sqlite:$T_TMP/bench-$np.db" "$np"; then
		got=$(sqlite3 "$T_TMP/bench-$np.db" "select count(*) from updates" 2>/dev/null || echo "$N")
		[ "$got" = "$N" ] || echo "bench/store.sh: sqlite: $got updates recorded, wanted $N" >&2
		row sqlite "$np" "$RATE" - "$TRANS"
	else
		row sqlite "$np" failed - -
	fi
	rm -f "$T_TMP/bench-$np.db"*
done

# --- PostgreSQL
pg_admin() {
	PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" \
		-U postgres -d postgres -c "$1" >/dev/null
}
pg_count() {
	"$PG_BIN/psql" -X -q -A -t -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U blueflow -d "$1" -c "$2"
}
# fresh_db NAME: a new, migrated database owned by blueflow.
fresh_db() {
	pg_admin "CREATE DATABASE $1 OWNER blueflow" &&
		timeout 60 "$BLUEFLOW" db migrate --db "$(pg_uri "$1")" >"$T_TMP/migrate.out" 2>&1 || {
		echo "bench/store.sh: database $1: $(cat "$T_TMP/migrate.out" 2>/dev/null)" >&2
		return 1
	}
}
pg_uri() { echo "postgresql://blueflow@/$1?host=$PG_SOCKET_DIR&port=$PG_PORT"; }

# What store_pg.c sends per update, statement for statement; :n counts each
# client's transactions, so update ids are unique like store_stress's.
cat >"$T_TMP/update.sql" <<'EOF'
\set n :n + 1
\set uid (:client_id + 1) * 1000000 + :n
\set chat 1 + :n % :chats + (:client_id + 1) * :chats
BEGIN;
INSERT INTO updates (bot, update_id) VALUES (:bot, :uid) ON CONFLICT DO NOTHING;
INSERT INTO chats AS c (bot, chat_id) VALUES (:bot, :chat) ON CONFLICT (bot, chat_id) DO UPDATE SET chat_id = c.chat_id RETURNING node, flow_hash, context, attempts, finished, keyboard, (xmax = 0), EXISTS (SELECT 1 FROM outbox o WHERE o.bot = :bot AND o.chat_id = :chat AND o.state = 'pending');
WITH c AS (UPDATE chats SET node = :node, flow_hash = :hash, context = :ctx, attempts = :attempts, finished = :finished, keyboard = :keyboard, last_update_id = :uid, updated_at = now() WHERE bot = :bot AND chat_id = :chat), o AS (INSERT INTO outbox (bot, chat_id, method, params) SELECT :bot, :chat, m.method, m.params FROM unnest(:om::text[], :op::text[]) WITH ORDINALITY AS m(method, params, n) ORDER BY m.n), r AS (UPDATE updates SET reply = :reply WHERE bot = :bot AND update_id = :uid AND :reply::text IS NOT NULL), t AS (INSERT INTO transcript (bot, chat_id, update_id, dir, text) SELECT :bot, :chat, :uid, x.dir, x.text FROM unnest(:td::text[], :tt::text[]) WITH ORDINALITY AS x(dir, text, n) ORDER BY x.n) SELECT 1;
COMMIT;
EOF

# pgbench_run DB CLIENTS: sets N and RATE (wall clock, like blueflow's).
pgbench_run() {
	pb_each=$((total / $2))
	N=$((pb_each * $2))
	pb_j=$2
	[ "$pb_j" -le 2 ] || pb_j=2
	t0=$(now)
	timeout "$limit" "$PG_BIN/pgbench" -n -r -M prepared -f "$T_TMP/update.sql" \
		-c "$2" -j "$pb_j" -t "$pb_each" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U blueflow \
		-D n=0 -D chats="$chats" -D bot=stress -D node=a2 \
		-D hash=9b36b819934e41436eab22db0e7637eb93d1e7362a1b6860520237415985ac7b \
		-D 'ctx={"v":"answer 1000001"}' -D attempts=0 -D finished=f -D keyboard=f \
		-D 'om={}' -D 'op={}' \
		-D 'reply={"method":"sendMessage","chat_id":102,"text":"1","parse_mode":"HTML"}' \
		-D 'td={"in","out"}' -D 'tt={"answer 1000001","1"}' \
		"$1" >"$T_TMP/pgbench.$2" 2>&1 || {
		echo "bench/store.sh: pgbench -c $2 failed:" >&2
		tail -n 5 "$T_TMP/pgbench.$2" >&2
		return 1
	}
	t1=$(now)
	RATE=$(rate "$N" "$t0" "$t1")
}

if ! pg_available; then
	echo "bench/store.sh: no PostgreSQL binaries in $PG_BIN: PostgreSQL skipped" >&2
elif [ ! -x "$PG_BIN/pgbench" ]; then
	echo "bench/store.sh: no $PG_BIN/pgbench: PostgreSQL skipped" >&2
elif pg_start; then
	for np in $procs_list; do
		bf=failed pb=failed bft=-
		if fresh_db "bench_bf_$np" && bench_blueflow "$(pg_uri "bench_bf_$np")" "$np"; then
			got=$(pg_count "bench_bf_$np" "select count(*) from updates")
			[ "$got" = "$N" ] || echo "bench/store.sh: postgresql: $got updates recorded, wanted $N" >&2
			bf=$RATE bft=$TRANS
		fi
		if fresh_db "bench_pgb_$np" && pgbench_run "bench_pgb_$np" "$np"; then
			got=$(pg_count "bench_pgb_$np" "select count(*) || '/' || count(reply)
				|| '/' || (select count(*) from transcript) from updates")
			[ "$got" = "$N/$N/$((2 * N))" ] ||
				echo "bench/store.sh: pgbench: updates/replies/transcript $got, wanted $N/$N/$((2 * N))" >&2
			pb=$RATE
		fi
		ratio=$(awk -v a="$bf" -v b="$pb" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
		row postgresql "$np" "$bf" "$ratio" "$bft"
		row pgbench "$np" "$pb" - -
		pg_admin "DROP DATABASE IF EXISTS bench_bf_$np"
		pg_admin "DROP DATABASE IF EXISTS bench_pgb_$np"
	done
else
	echo "bench/store.sh: PostgreSQL did not start: skipped" >&2
fi

echo "store: $total updates per run, $chats chats per process, $(nproc 2>/dev/null || echo '?') CPUs"
printf '%-11s %5s %11s %10s %9s\n' backend procs updates/s bf/pgbench transient
cat "$T_TMP/table"
for f in "$T_TMP"/pgbench.*; do
	[ -f "$f" ] || continue
	echo "pgbench -c ${f##*.}: per-statement latency (ms, pgbench -r):"
	sed -n '/statement latencies/,$p' "$f" | awk '$1 ~ /^[0-9.]+$/ && $3 != "\\set" {
		s = $0; sub(/^ *[0-9.]+ +[0-9]+ +/, "", s); printf "  %8s  %.60s\n", $1, s }'
done
