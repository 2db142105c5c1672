#!/bin/sh
# tests/store.sh - the store on both backends (SQLite, and a real
# PostgreSQL started for the test): migrations (fresh, again, newer schema
# refused), exactly-once application under 8 concurrent processes, no
# partial state after kill -9 inside a transaction, and (PostgreSQL) a
# restart while updates flow; encryption at rest (nothing readable on
# disk, a wrong or missing key refused, rekey) and pruning.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"

STRESS=$(dirname "$BLUEFLOW")/tests/store_stress
# how many migrations the binary carries, and how db migrate says k of them
MIGRATIONS=$(ls "$SRCDIR"/sql/sqlite/*.sql | wc -l)
applied_text() { [ "$1" = 1 ] && echo "1 migration applied" || echo "$1 migrations applied"; }
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
	run "$BLUEFLOW" db migrate --db "$uri" --to 1
	expect_rc "$b-migrate-to-1" 0
	expect_out "$b-migrate-to-1-applied" "1 migration applied"
	sql "$b" "insert into chats (bot, chat_id, node) values ('old', 5, 'kept')" >/dev/null
	# the transcript as 001..005 kept it: a row per line
	sql "$b" "insert into transcript (bot, chat_id, update_id, dir, text) values
		('old', 5, 40, 'in', 'hi'), ('old', 5, 40, 'out', 'one \"1\"'),
		('old', 5, 40, 'out', 'two'), ('old', 5, 41, 'in', '/forget'),
		('old', 5, 42, 'in', 'again')" >/dev/null
	run "$BLUEFLOW" db migrate --db "$uri"
	expect_rc "$b-migrate-upgrade" 0
	got=$(sql "$b" "select update_id || ' ' || said || ' ' || replace(told, ', ', ',') from transcript order by id" | tr '\n' '|')
	[ "$got" = '40 hi ["one \"1\"","two"]|41 /forget []|42 again []|' ] &&
		ok "$b-upgrade-transcript-row-per-update" || fail "$b-upgrade-transcript-row-per-update" "$got"
	sql "$b" "delete from transcript" >/dev/null
	expect_out "$b-migrate-upgrade-applied" "$(applied_text $((MIGRATIONS - 1)))"
	got=$(sql "$b" "select node from chats where bot = 'old' and chat_id = 5")
	[ "$got" = "kept" ] && ok "$b-upgrade-keeps-data" || fail "$b-upgrade-keeps-data" "$got"
	run "$BLUEFLOW" db migrate --db "$uri"
	expect_rc "$b-migrate-again" 0
	expect_out "$b-migrate-again-nothing" "0 migrations applied"
	# a database that lacks a migration below its highest (a build that
	# had a later number but not an earlier one): the gap is applied
	sql "$b" "drop index chats_flow_hash; drop table flow_versions;
		delete from schema_version where version = 11" >/dev/null
	run "$BLUEFLOW" db migrate --db "$uri"
	expect_rc "$b-migrate-gap" 0
	expect_out "$b-migrate-gap-applied" "1 migration applied"
	got=$(sql "$b" "select count(*) from flow_versions")
	[ "$got" = 0 ] && ok "$b-migrate-gap-table" || fail "$b-migrate-gap-table" "$got"

	got=$(stress_all "$uri")
	[ "$got" = "$((PROCS * EACH)) 0" ] && ok "$b-applied-once" ||
		fail "$b-applied-once" "applied/repeats: $got; $(grep -v applied "$T_TMP/stress.out" | head -3)"
	got=$(sql "$b" "select count(*) from updates")
	[ "$got" = "$((PROCS * EACH))" ] && ok "$b-updates-recorded" || fail "$b-updates-recorded" "$got"
	got=$(sql "$b" "select count(*) from transcript")
	[ "$got" = "$((PROCS * EACH))" ] && ok "$b-transcript-rows" || fail "$b-transcript-rows" "$got"
	# the first update starts the ring at a0, each later one moves one on
	want="a$(((PROCS * EACH - 1) % 7))"
	got=$(sql "$b" "select node from chats where bot = 'stress' and chat_id = 1")
	[ "$got" = "$want" ] && ok "$b-state-after-all" || fail "$b-state-after-all" "node $got, wanted $want"
	got=$(sql "$b" "select count(*) from (select update_id, lag(update_id) over
		(partition by update_id / 1000000 order by id) as prev
		from transcript) t where prev >= update_id")
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
	while ! grep -q paused "$T_TMP/pause.out" && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if grep -q paused "$T_TMP/pause.out"; then ok "$b-paused-in-transaction"; else
		# what it waits for: other sessions, their locks
		waits=
		[ "$b" = pg ] && waits=$(sql pg "select pid, state, wait_event_type, wait_event, left(query, 80) from pg_stat_activity where datname = current_database()")
		fail "$b-paused-in-transaction" "after 60 s: $(cat "$T_TMP/pause.out") $waits"
	fi
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

	# a flow change: a chat whose node is gone moves to on_missing_node
	# (said in a warning); one whose node stays carries on
	for i in 1 2 3 4; do "$STRESS" one "$uri" "$FLOW" $((300 + i)) 300 x >/dev/null; done
	"$STRESS" one "$uri" "$FLOW" 311 301 x >/dev/null
	"$STRESS" one "$uri" "$FLOW" 312 301 x >/dev/null
	got=$(sql "$b" "select node from chats where bot = 'stress' and chat_id in (300, 301) order by chat_id" | tr '\n' ' ')
	[ "$got" = "a3 a1 " ] && ok "$b-before-flow-change" || fail "$b-before-flow-change" "$got"
	run "$STRESS" one "$uri" "$SRCDIR/tests/store/count7_v2.json" 305 300 x
	expect_out "$b-moved-node-warned" 'warning node "a3" is gone from the flow; chat moved to "a5"'
	run "$STRESS" one "$uri" "$SRCDIR/tests/store/count7_v2.json" 313 301 x
	expect_out "$b-kept-node-carries-on" "warning none"
	got=$(sql "$b" "select node || ' ' || substr(flow_hash, 1, 12) from chats where bot = 'stress' and chat_id in (300, 301) order by chat_id" | tr '\n' ' ')
	hash=$("$BLUEFLOW" check "$SRCDIR/tests/store/count7_v2.json" | sed 's/.*hash //')
	[ "$got" = "a5 $hash a2 $hash " ] && ok "$b-after-flow-change" || fail "$b-after-flow-change" "$got (hash $hash)"

	# a schema newer than the binary is refused
	sql "$b" "insert into schema_version (version, name) values (999, 'future')" >/dev/null
	run "$BLUEFLOW" db migrate --db "$uri"
	expect_rc "$b-newer-schema-refused" 1
	expect_err "$b-newer-schema-says" "newer than this blueflow knows"
	sql "$b" "delete from schema_version where version = 999" >/dev/null

	# pruning: old processed ids and old sent rows go, recent ones stay
	case $b in
	sqlite) old_at="strftime('%s', 'now') - 49 * 3600"; old_sent="strftime('%s', 'now') - 8 * 86400" ;;
	pg) old_at="now() - interval '49 hours'"; old_sent="now() - interval '8 days'" ;;
	esac
	recent=$(sql "$b" "select count(*) from updates")
	sql "$b" "insert into updates (bot, update_id, at) values ('stress', 5, $old_at), ('stress', 6, $old_at)" >/dev/null
	sql "$b" "insert into outbox (bot, chat_id, method, params, state, sent_at) values
		('stress', 1, 'sendMessage', '{}', 'sent', $old_sent),
		('stress', 1, 'sendMessage', '{}', 'sent', $old_at),
		('stress', 1, 'sendMessage', '{}', 'pending', $old_sent)" >/dev/null
	# ... and a chat's transcript beyond the bot's max_transcript_rows (1000)
	over=$(sql "$b" "select coalesce(sum(n - 1000), 0) from (select count(*) as n
		from transcript where bot = 'stress' group by chat_id) t where n > 1000")
	conf "$uri" >"$T_TMP/prune.conf"
	run "$BLUEFLOW" db prune -c "$T_TMP/prune.conf"
	expect_rc "$b-prune" 0
	expect_out "$b-prune-count" "$((3 + over)) rows deleted"
	got=$(sql "$b" "select max(n) from (select count(*) as n from transcript
		where bot = 'stress' group by chat_id) t")
	[ "$over" -gt 0 ] && [ "$got" = 1000 ] && ok "$b-prune-transcript-per-chat" ||
		fail "$b-prune-transcript-per-chat" "over $over, largest chat now $got rows"
	got=$(sql "$b" "select (select count(*) from updates where update_id in (5, 6))
		|| ',' || (select count(*) from updates) || ',' || (select count(*) from outbox)")
	[ "$got" = "0,$recent,2" ] && ok "$b-prune-keeps-recent" || fail "$b-prune-keeps-recent" "$got"
}

# conf URI: a config naming the store, with a key variable.
conf() {
	printf '[server]\ndb = %s\nencryption_key_env = BF_KEY\n\n[bot stress]\nflow = %s\ntoken_env = BF_TOKEN\n' "$1" "$FLOW"
}

KEY1=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KEY2=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100

# check_sealed BACKEND URI DUMPCMD: context and transcript are unreadable
# on disk with a key; the key is checked; rekey moves to a new key.
check_sealed() {
	b=$1
	uri=$2
	"$BLUEFLOW" db migrate --db "$uri" >/dev/null
	BF_TEST_KEY=$KEY1 "$STRESS" apply "$uri" "$FLOW" 7 20 1 >"$T_TMP/enc.out" 2>&1
	grep -q "^applied 20 " "$T_TMP/enc.out" && ok "$b-sealed-apply" || fail "$b-sealed-apply" "$(cat "$T_TMP/enc.out")"
	dump "$b" >"$T_TMP/dump"
	grep -q "answer 7000003" "$T_TMP/dump" && fail "$b-no-plaintext-on-disk" "found the answer in the dump" ||
		ok "$b-no-plaintext-on-disk"
	grep -q "bf1:" "$T_TMP/dump" && ok "$b-dump-holds-sealed" || fail "$b-dump-holds-sealed" "no sealed value in the dump"
	got=$(BF_TEST_KEY=$KEY1 "$STRESS" apply "$uri" "$FLOW" 7 21 1)
	case $got in "applied 1 repeats 20 "*) ok "$b-sealed-roundtrip" ;; *) fail "$b-sealed-roundtrip" "$got" ;; esac
	run env BF_TEST_KEY=$KEY2 "$STRESS" apply "$uri" "$FLOW" 8 1 1
	expect_rc "$b-wrong-key-refused" 1
	expect_err "$b-wrong-key-says" "not the one this database was sealed with"
	run "$STRESS" apply "$uri" "$FLOW" 8 1 1
	expect_rc "$b-missing-key-refused" 1
	expect_err "$b-missing-key-says" "holds sealed data"
	conf "$uri" >"$T_TMP/rekey.conf"
	# the new key written in base64, the same key as KEY2 in hex
	key2_b64=$(python3 -c "import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())" "$KEY2")
	run env BF_KEY="$key2_b64" OLD_KEY=$KEY1 "$BLUEFLOW" db rekey -c "$T_TMP/rekey.conf" --old-key-env OLD_KEY
	expect_rc "$b-rekey" 0
	expect_out "$b-rekey-says" "re-sealed with the new key"
	got=$(BF_TEST_KEY=$KEY2 "$STRESS" apply "$uri" "$FLOW" 7 22 1)
	case $got in "applied 1 repeats 21 "*) ok "$b-new-key-works" ;; *) fail "$b-new-key-works" "$got" ;; esac
	run env BF_TEST_KEY=$KEY1 "$STRESS" apply "$uri" "$FLOW" 8 1 1
	expect_rc "$b-old-key-refused-after-rekey" 1
	got=$(sql_uri "$b" "$uri" "select context from chats where chat_id = 1")
	case $got in bf1:*) ok "$b-context-sealed-after-rekey" ;; *) fail "$b-context-sealed-after-rekey" "$got" ;; esac
}

# dump BACKEND: everything the store wrote to disk, as text.
dump() {
	case $1 in
	sqlite) cat "$T_TMP/enc.db" "$T_TMP/enc.db-wal" 2>/dev/null | tr -c '[:print:]' '\n' ;;
	pg) "$PG_BIN/pg_dump" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres blueflow_enc ;;
	esac
}

sql_uri() {
	case $1 in
	sqlite) sqlite3 "$T_TMP/enc.db" "$3" ;;
	pg) psql -X -At -d "$2" -c "$3" ;;
	esac
}

check_backend sqlite "sqlite:$T_TMP/store.db"
check_sealed sqlite "sqlite:$T_TMP/enc.db"
# the check can fail: without a key the answer is there to read
"$STRESS" apply "sqlite:$T_TMP/plain.db" "$FLOW" 7 3 1 >/dev/null 2>&1 ||
	{ "$BLUEFLOW" db migrate --db "sqlite:$T_TMP/plain.db" >/dev/null; "$STRESS" apply "sqlite:$T_TMP/plain.db" "$FLOW" 7 3 1 >/dev/null; }
cat "$T_TMP/plain.db" "$T_TMP/plain.db-wal" 2>/dev/null | tr -c '[:print:]' '\n' | grep -q "answer 7000003" &&
	ok sqlite-plaintext-without-key || fail sqlite-plaintext-without-key "the control found nothing"
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
"$PG_BIN/psql" -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -c "create database blueflow_enc owner blueflow" >/dev/null
check_sealed pg "$(echo "$PG_URI" | sed 's|/blueflow?|/blueflow_enc?|')"

# several hosts migrating one database at once: the advisory lock lets
# one apply, the others find nothing left to do
"$PG_BIN/psql" -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -c "create database blueflow_multi owner blueflow" >/dev/null
multi=$(echo "$PG_URI" | sed 's|/blueflow?|/blueflow_multi?|')
for i in 1 2 3 4; do "$BLUEFLOW" db migrate --db "$multi" >"$T_TMP/multi.$i" 2>&1 & done
wait
applied=$(cat "$T_TMP"/multi.* | sed -n 's/.*: \([0-9]*\) migrations* applied.*/\1/p' | awk '{ s += $1 } END { print s }')
[ "$applied" = "$MIGRATIONS" ] && ok pg-concurrent-migrate || fail pg-concurrent-migrate "applied $applied: $(cat "$T_TMP"/multi.*)"

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
