#!/bin/sh
# bench/store.sh - updates per second through the store (store_begin, claim,
# lock_chat, engine step, save, commit: `store_stress apply`) from 1, 4 and
# 16 concurrent processes, on SQLite (a file in a temp dir) and on
# PostgreSQL (a throwaway cluster on a unix socket, tests/pg_lib.sh). Process p
# works on its own chats (p*CHATS+1 .. p*CHATS+CHATS), so no two wait on one
# chat's lock. Every run gets a fresh, migrated database.
#
# The ceiling for PostgreSQL is the same transaction as raw SQL run by
# pgbench -M prepared over the same socket with as many clients: BEGIN;
# the chat's SELECT ... FOR UPDATE (the insert only for a new chat); the
# update id looked up; bf_save with what store_stress produces (the update
# id with its inline reply, no outbox row, one transcript row); COMMIT.
# The same statements, without the engine, JSON or libpq's blocking
# calls. Afterwards one pgbench -r run says where its time goes.
#
# Rows and WAL written per update on PostgreSQL (pg_stat_user_tables'
# inserts + updates + deletes, and the WAL position moved, around a run)
# are reported for the store path, for its raw SQL, and for pgbench's
# own TPC-B-like transaction (scale 1) as the yardstick. For SQLite the
# p99 is the worst process's (store_stress times each update).
#
# Rates are wall clock from the first process started to the last one
# done; each is the best of BENCH_RUNS runs, interleaved across backends so
# that a noisy machine hits them alike.
#
# Usage: bench/store.sh [BUILD_DIR]     (default: $top/build)
# Environment: BENCH_TOTAL updates per run (20000), BENCH_PROCS ("1 4 16"),
# BENCH_CHATS chats per process (100), BENCH_RUNS (3), BENCH_TIMEOUT
# seconds per run (300).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd) || exit 2
total=${BENCH_TOTAL:-20000}
procs_list=${BENCH_PROCS:-1 4 16}
chats=${BENCH_CHATS:-100}
runs=${BENCH_RUNS:-3}
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
for np in $procs_list; do
	if [ "$((total / np))" -lt 1 ] || [ "$((total / np))" -ge 1000000 ]; then
		echo "bench/store.sh: $total updates over $np processes" >&2
		exit 2
	fi
done

. "$top/tests/lib.sh"     # T_TMP, removed on exit
. "$top/tests/pg_lib.sh"      # pg_start's trap also stops the cluster on exit
. "$top/bench/store_lib.sh"   # pgbench_update

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
say() { echo "bench/store.sh: $*" >&2; }
# best KEY RATE: keeps the highest rate seen for KEY in $T_TMP/best.KEY.
best() {
	if [ ! -f "$T_TMP/best.$1" ] || [ "$2" -gt "$(cat "$T_TMP/best.$1")" ]; then
		echo "$2" >"$T_TMP/best.$1"
	fi
}
get() { cat "$T_TMP/best.$1" 2>/dev/null || echo failed; }

# bench_blueflow URI PROCS: migrates, then runs PROCS store_stress processes
# at once, total/PROCS updates each; sets N (updates), RATE and TRANS
# (transient failures retried).
bench_blueflow() {
	bf_each=$((total / $2))
	N=$((bf_each * $2))
	timeout 60 "$BLUEFLOW" db migrate --db "$1" >"$T_TMP/migrate.out" 2>&1 || {
		say "migrate $1: $(cat "$T_TMP/migrate.out")"
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
	P99=$(cat "$T_TMP"/stress.* | awk '$1 == "applied" && $10 > p { p = $10 } END { printf "%.1f", p }')
	[ "$bf_ok" -eq "$2" ] || {
		say "only $bf_ok of $2 processes applied all their updates: $(grep -hv '^applied' "$T_TMP"/stress.* | head -3)"
		rm -f "$T_TMP"/stress.*
		return 1
	}
	rm -f "$T_TMP"/stress.*
	RATE=$(rate "$N" "$t0" "$t1")
}

# --- PostgreSQL plumbing
pg_admin() {
	PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -A -t \
		-v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres \
		-c "$1" >/dev/null
}
pg_query() {
	"$PG_BIN/psql" -X -q -A -t -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U blueflow -d "$1" -c "$2"
}
pg_uri() { echo "postgresql://blueflow@/$1?host=$PG_SOCKET_DIR&port=$PG_PORT"; }
# fresh_db NAME: a new, empty database owned by blueflow.
fresh_db() { pg_admin "DROP DATABASE IF EXISTS $1" && pg_admin "CREATE DATABASE $1 OWNER blueflow"; }
# pg_mark DB: rows written so far (every table of DB) and the WAL position,
# after a checkpoint (so each run pays its own full-page images).
pg_mark() {
	pg_admin "CHECKPOINT"
	MARK=$(pg_query "$1" "select (select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)
		from pg_stat_user_tables) || ' ' || pg_current_wal_lsn()")
}
# pg_written DB N KEY: rows and WAL bytes per update since pg_mark, into
# $T_TMP/rows.KEY and $T_TMP/wal.KEY (the clients' statistics are flushed
# as they exit).
pg_written() {
	sleep 1
	pg_query "$1" "select round(((select sum(n_tup_ins + n_tup_upd + n_tup_del)
		from pg_stat_user_tables) - ${MARK% *}) / $2::numeric, 2) || ' ' ||
		round(pg_wal_lsn_diff(pg_current_wal_lsn(), '${MARK#* }') / $2)" |
	{ read -r pw_rows pw_wal; echo "$pw_rows" >"$T_TMP/rows.$3"; echo "$pw_wal" >"$T_TMP/wal.$3"; }
}


# pgbench_run DB CLIENTS [EXTRA...]: total/CLIENTS transactions per client;
# sets N and RATE (wall clock, as for blueflow); output in $T_TMP/pgbench.out.
pgbench_run() {
	pb_db=$1
	pb_c=$2
	shift 2
	pb_each=$((total / pb_c))
	N=$((pb_each * pb_c))
	t0=$(now)
	pgbench_update "$pb_db" "$pb_c" "$chats" "$limit" -t "$pb_each" "$@" || {
		say "pgbench -c $pb_c failed: $(tail -n 3 "$T_TMP/pgbench.out")"
		return 1
	}
	t1=$(now)
	RATE=$(rate "$N" "$t0" "$t1")
}

pg=0
if ! pg_available; then
	say "no PostgreSQL binaries in $PG_BIN: PostgreSQL skipped"
elif [ ! -x "$PG_BIN/pgbench" ]; then
	say "no $PG_BIN/pgbench: PostgreSQL skipped"
elif pg_start; then
	pg=1
else
	say "PostgreSQL did not start: skipped"
fi

run=1
while [ "$run" -le "$runs" ]; do
	for np in $procs_list; do
		# SQLite
		db=$T_TMP/bench.db
		rm -f "$db" "$db-wal" "$db-shm"
		if bench_blueflow "sqlite:$db" "$np"; then
			got=$(sqlite3 "$db" "select count(*) from updates" 2>/dev/null || echo "$N")
			if [ "$got" = "$N" ]; then best "sqlite.$np" "$RATE"; echo "$P99" >>"$T_TMP/p99.sqlite.$np"; else
				say "sqlite: $got updates recorded, wanted $N"; fi
			[ "$TRANS" -eq 0 ] || echo "$TRANS" >"$T_TMP/trans.sqlite.$np"
		fi
		rm -f "$db" "$db-wal" "$db-shm" "$db-lock"
		[ "$pg" -eq 1 ] || continue
		# PostgreSQL through the store
		if fresh_db bench && timeout 60 "$BLUEFLOW" db migrate --db "$(pg_uri bench)" \
			>"$T_TMP/migrate.out" 2>&1 && pg_mark bench && bench_blueflow "$(pg_uri bench)" "$np"; then
			pg_written bench "$N" "pg.$np"
			got=$(pg_query bench "select count(*) from updates")
			if [ "$got" = "$N" ]; then best "pg.$np" "$RATE"; else
				say "postgresql: $got updates recorded, wanted $N"; fi
			[ "$TRANS" -eq 0 ] || echo "$TRANS" >"$T_TMP/trans.pg.$np"
		fi
		# the same transactions through pgbench
		if fresh_db bench && timeout 60 "$BLUEFLOW" db migrate --db "$(pg_uri bench)" \
			>"$T_TMP/migrate.out" 2>&1 && pg_mark bench && pgbench_run bench "$np"; then
			pg_written bench "$N" "pgbench.$np"
			got=$(pg_query bench "select count(*) || '/' || count(reply) || '/' ||
				(select count(*) from transcript) || '/' || (select count(*) from chats)
				from updates")
			want="$N/$N/$N/$((np * chats < N ? np * chats : N))"
			if [ "$got" = "$want" ]; then best "pgbench.$np" "$RATE"; else
				say "pgbench: updates/replies/transcript/chats $got, wanted $want"; fi
		fi
	done
	run=$((run + 1))
done

# pgbench's own TPC-B-like transaction: rows and WAL per transaction
if [ "$pg" -eq 1 ] && fresh_db bench &&
	"$PG_BIN/pgbench" -i -q -s 1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U blueflow bench \
		>"$T_TMP/pgbench.out" 2>&1 && pg_mark bench &&
	timeout "$limit" "$PG_BIN/pgbench" -n -M prepared -c 4 -j 2 -t $((total / 4)) \
		-h "$PG_SOCKET_DIR" -p "$PG_PORT" -U blueflow bench >"$T_TMP/pgbench.out" 2>&1; then
	pg_written bench $((total / 4 * 4)) tpcb
fi

echo "store: $total updates per run, $chats chats per process, best of $runs runs, $(nproc 2>/dev/null || echo '?') CPUs"
printf '%-11s %5s %11s %11s %9s %9s %9s\n' backend procs updates/s bf/pgbench p99_ms rows/upd WAL_B/upd
worst() { sort -n "$1" 2>/dev/null | tail -n 1; }   # of the runs, the worst p99
for np in $procs_list; do
	printf '%-11s %5s %11s %11s %9s %9s %9s\n' sqlite "$np" "$(get "sqlite.$np")" - \
		"$(worst "$T_TMP/p99.sqlite.$np")" - -
done
[ "$pg" -eq 1 ] && for np in $procs_list; do
	bf=$(get "pg.$np")
	pb=$(get "pgbench.$np")
	ratio=$(awk -v a="$bf" -v b="$pb" 'BEGIN {
		if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
	printf '%-11s %5s %11s %11s %9s %9s %9s\n' postgresql "$np" "$bf" "$ratio" - \
		"$(cat "$T_TMP/rows.pg.$np" 2>/dev/null)" "$(cat "$T_TMP/wal.pg.$np" 2>/dev/null)"
	printf '%-11s %5s %11s %11s %9s %9s %9s\n' pgbench "$np" "$pb" - - \
		"$(cat "$T_TMP/rows.pgbench.$np" 2>/dev/null)" "$(cat "$T_TMP/wal.pgbench.$np" 2>/dev/null)"
done
[ -f "$T_TMP/rows.tpcb" ] && printf '%-11s %5s %11s %11s %9s %9s %9s\n' tpcb-like 4 - - - \
	"$(cat "$T_TMP/rows.tpcb")" "$(cat "$T_TMP/wal.tpcb")"
for f in "$T_TMP"/trans.*; do
	[ -f "$f" ] && echo "(${f#"$T_TMP"/trans.}: $(cat "$f") transient failures retried in the last run)"
done

# where one client's time goes, statement by statement
total=5000
if [ "$pg" -eq 1 ] && fresh_db bench &&
	timeout 60 "$BLUEFLOW" db migrate --db "$(pg_uri bench)" >/dev/null 2>&1 &&
	pgbench_run bench 1 -r; then
	echo "pgbench -c 1 -r, per-statement latency in ms ($(grep '^latency average' "$T_TMP/pgbench.out" | sed 's/.*= //') per update):"
	sed -n '/statement latencies/,$p' "$T_TMP/pgbench.out" | awk '$1 ~ /^[0-9.]+$/ && $3 != "\\set" {
		s = $0; sub(/^ *[0-9.]+ +[0-9]+ +/, "", s); printf "  %8s  %.60s\n", $1, s }'
fi
