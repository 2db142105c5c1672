#!/bin/sh
# tests/store.sh - the store on both backends (SQLite, and a real
# PostgreSQL started for the test): migrations (fresh, again, newer schema
# refused), exactly-once application under 8 concurrent processes, no
# partial state after kill -9 inside a transaction, and (PostgreSQL) a
# restart while updates flow.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg.sh"

STRESS=$(dirname "$BLUEFLOW")/tests/store_stress
FLOW=$SRCDIR/tests/store/count7.json
PROCS=8
EACH=2000

# sql BACKEND QUERY: one value from the store under test.
sql() {
	case $1 in
	sqlite) sqlite3 "$T_TMP/store.db" "$2" ;;
	pg) pg_psql "$2" ;;
	esac
}

# stress URI PROC COUNT: applies COUNT updates of process PROC; prints totals.
stress_all() {
	uri=$1
	: >"$T_TMP/stress.out"
	p=1
	while [ "$p" -le "$PROCS" ]; do
		"$STRESS" apply "$uri" "$FLOW" "$p" "$EACH" 1 >>"$T_TMP/stress.out" 2>&1 &
		p=$((p + 1))
	done
	wait
	awk '{ a += $2; r += $4 } END { print a, r }' "$T_TMP/stress.out"
}

check_backend() {
	b=$1
	uri=$2
	run "$BLUEFLOW" db migrate --db "$uri"
	expect_rc "$b-migrate-fresh" 0
	expect_out "$b-migrate-fresh-applied" "1 migration applied"
	run "$BLUEFLOW" db migrate --db "$uri"
	expect_rc "$b-migrate-again" 0
	expect_out "$b-migrate-again-nothing" "0 migrations applied"

	got=$(stress_all "$uri")
	[ "$got" = "$((PROCS * EACH)) 0" ] && ok "$b-applied-once" ||
		fail "$b-applied-once" "applied/repeats: $got; $(grep -v applied "$T_TMP/stress.out" | head -3)"
	got=$(sql "$b" "select count(*) from updates")
	[ "$got" = "$((PROCS * EACH))" ] && ok "$b-updates-recorded" || fail "$b-updates-recorded" "$got"
	got=$(sql "$b" "select count(*) from transcript where dir = 'in'")
	[ "$got" = "$((PROCS * EACH))" ] && ok "$b-transcript-rows" || fail "$b-transcript-rows" "$got"
	# the first update starts the ring at a0, each later one moves one on
	want="a$(((PROCS * EACH - 1) % 7))"
	got=$(sql "$b" "select node from chats where bot = 'stress' and chat_id = 1")
	[ "$got" = "$want" ] && ok "$b-state-after-all" || fail "$b-state-after-all" "node $got, wanted $want"
	got=$(sql "$b" "select count(*) from (select update_id, lag(update_id) over
		(partition by update_id / 1000000 order by id) as prev
		from transcript where dir = 'in') t where prev >= update_id")
	[ "$got" = "0" ] && ok "$b-order-follows-lock" || fail "$b-order-follows-lock" "$got out of order"

	for again in 2 3; do
		got=$(stress_all "$uri")
		[ "$got" = "0 $((PROCS * EACH))" ] && ok "$b-resent-$again-applies-nothing" ||
			fail "$b-resent-$again-applies-nothing" "applied/repeats: $got"
	done
	got=$(sql "$b" "select node from chats where bot = 'stress' and chat_id = 1")
	[ "$got" = "$want" ] && ok "$b-state-unchanged-by-repeats" || fail "$b-state-unchanged-by-repeats" "$got"

	# kill -9 inside the transaction: nothing of it may remain
	"$STRESS" pause "$uri" "$FLOW" 99000001 >"$T_TMP/pause.out" 2>&1 &
	pid=$!
	i=0
	while ! grep -q paused "$T_TMP/pause.out" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q paused "$T_TMP/pause.out" && ok "$b-paused-in-transaction" ||
		fail "$b-paused-in-transaction" "$(cat "$T_TMP/pause.out")"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	sleep 0.3
	got=$(sql "$b" "select (select count(*) from updates where update_id = 99000001)
		|| ',' || (select count(*) from transcript where update_id = 99000001)
		|| ',' || (select node from chats where bot = 'stress' and chat_id = 1)")
	[ "$got" = "0,0,$want" ] && ok "$b-kill9-leaves-nothing" || fail "$b-kill9-leaves-nothing" "$got"
	run "$STRESS" apply "$uri" "$FLOW" 99 1 1
	expect_rc "$b-serves-after-kill9" 0
	expect_out "$b-serves-after-kill9-applied" "applied 1 "

	# a schema newer than the binary is refused
	sql "$b" "insert into schema_version (version, name) values (999, 'future')" >/dev/null
	run "$BLUEFLOW" db migrate --db "$uri"
	expect_rc "$b-newer-schema-refused" 1
	expect_err "$b-newer-schema-says" "newer than this blueflow knows"
}

check_backend sqlite "sqlite:$T_TMP/store.db"
mode=$(stat -c %a "$T_TMP/store.db")
[ "$mode" = "600" ] && ok sqlite-file-0600 || fail sqlite-file-0600 "mode $mode"

if ! pg_available; then
	fail postgresql "no PostgreSQL binaries in $PG_BIN"
	finish
	exit 1
fi
if ! pg_start; then
	fail pg-start "see above"
	finish
	exit 1
fi
check_backend pg "$PG_URI"

# PostgreSQL restarted while updates flow: the failures are transient,
# every update ends applied exactly once.
before=$(pg_psql "select count(*) from updates")
"$STRESS" apply "$PG_URI" "$FLOW" 50 3000 1 >"$T_TMP/restart.out" 2>&1 &
pid=$!
sleep 0.3
pg_restart >/dev/null 2>&1 && ok pg-restarted || fail pg-restarted "pg_restart failed"
wait "$pid"
rc=$?
[ $rc -eq 0 ] && grep -q "^applied 3000 " "$T_TMP/restart.out" && ok pg-restart-all-applied ||
	fail pg-restart-all-applied "rc $rc: $(cat "$T_TMP/restart.out")"
grep -q "transient [1-9]" "$T_TMP/restart.out" && ok pg-restart-was-seen ||
	fail pg-restart-was-seen "no transient failure: $(cat "$T_TMP/restart.out")"
after=$(pg_psql "select count(*) from updates")
[ "$((after - before))" -eq 3000 ] && ok pg-restart-exactly-once || fail pg-restart-exactly-once "$before -> $after"

finish
