#!/bin/sh
# tests/pg_smoke.sh - tests/pg_lib.sh itself: a throwaway PostgreSQL cluster
# starts, answers through PG_URI, keeps its data across a restart, and a
# second one can run beside it. Skipped (77) without PostgreSQL.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"

if ! pg_available; then
	echo "skip: no PostgreSQL binaries in $PG_BIN"
	exit 77
fi

if ! pg_start; then
	fail pg-start "see above"
	finish
	exit 1
fi
ok pg-start

run pg_psql 'select 1'
expect_rc select-1 0
expect_out select-1-answer 1

run psql -X -At -d "$PG_URI" -c 'select current_user, current_database()'
expect_rc uri-works-with-plain-psql 0
expect_out uri-connects-as-blueflow "blueflow|blueflow"

run pg_psql 'create table t (id int primary key, v text)' \
	"insert into t values (1, 'kept')"
expect_rc create-and-insert 0

run pg_psql 'select nosuchcolumn from t'
if [ "$RC" -ne 0 ]; then ok psql-error-is-failure; else
	fail psql-error-is-failure "a bad statement exited 0"
fi

old_port=$PG_PORT
run pg_restart
expect_rc pg-restart 0
if [ "$PG_PORT" = "$old_port" ]; then ok restart-same-port; else
	fail restart-same-port "$old_port became $PG_PORT"
fi
run pg_psql 'select v from t where id = 1'
expect_rc row-survives-restart 0
expect_out row-survives-restart-value kept

# A second cluster beside the first, in a subshell with its own cleanup.
first_dir=$PG_DIR
(
	pg_start || exit 1
	[ "$PG_DIR" != "$first_dir" ] || exit 2
	[ "$(pg_psql 'select 2')" = 2 ] || exit 3
	pg_stop || exit 4
	echo "$PG_DIR" >"$T_TMP/second_dir"
) >"$T_TMP/out" 2>"$T_TMP/err"
RC=$?
expect_rc second-cluster 0
second_dir=$(cat "$T_TMP/second_dir" 2>/dev/null)
if [ -n "$second_dir" ] && [ ! -e "$second_dir" ]; then ok second-cluster-removed; else
	fail second-cluster-removed "'$second_dir' is still there"
fi
if [ -d "$T_TMP" ]; then ok subshell-kept-t-tmp; else
	fail subshell-kept-t-tmp "T_TMP is gone"
fi

run pg_psql 'select count(*) from t'
expect_rc first-cluster-still-up 0
expect_out first-cluster-still-up-count 1

finish
