# bench/store_lib.sh - the PostgreSQL store ceiling, shared by bench/store.sh
# and bench/run: blueflow's per-update transaction (bench/pg_update.sql,
# engine/store_pg.c's statements as raw SQL, bf_save's text verbatim) run
# by pgbench -M prepared over the cluster's unix socket. Source it after
# tests/pg_lib.sh (PG_BIN, PG_SOCKET_DIR, PG_PORT) and tests/lib.sh (T_TMP,
# SRCDIR).
#
# pgbench_update DB CLIENTS CHATS SECONDS_LIMIT ARGS...: pgbench on database
# DB (migrated by `blueflow db migrate`, owned by blueflow) with CLIENTS
# clients, each cycling through its own CHATS chats; ARGS say how long
# (-t N per client or -T S) and anything else for pgbench (-r). Killed after
# SECONDS_LIMIT. Output in $T_TMP/pgbench.out; PGBENCH_TPS is pgbench's tps
# (without the initial connection time). 1 when pgbench failed.
pgbench_update() {
	pbu_db=$1
	pbu_c=$2
	pbu_chats=$3
	pbu_limit=$4
	shift 4
	pbu_j=$pbu_c
	[ "$pbu_j" -le 2 ] || pbu_j=2
	PGBENCH_TPS=
	timeout "$pbu_limit" "$PG_BIN/pgbench" -n -M prepared \
		-f "$SRCDIR/bench/pg_update.sql" "$@" \
		-c "$pbu_c" -j "$pbu_j" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U blueflow \
		-D n=0 -D chats="$pbu_chats" -D bot=stress -D node=a2 \
		-D hash=9b36b819934e41436eab22db0e7637eb93d1e7362a1b6860520237415985ac7b \
		-D 'ctx={"v":"answer 1000001"}' -D attempts=0 -D finished=f -D keyboard=f \
		-D 'om={}' -D 'op={}' \
		-D 'reply={"method":"sendMessage","chat_id":102,"text":"1","parse_mode":"HTML"}' \
		-D 'said=answer 1000001' -D 'told=["1"]' \
		"$pbu_db" >"$T_TMP/pgbench.out" 2>&1 || return 1
	PGBENCH_TPS=$(sed -n 's/^tps = \([0-9.]*\).*without.*/\1/p' "$T_TMP/pgbench.out" | head -n 1)
}
