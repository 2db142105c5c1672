# tests/pg_lib.sh - a throwaway PostgreSQL cluster for the shell tests. Source it
# after tests/lib.sh. Functions:
#   pg_available        0 when the PostgreSQL binaries are installed
#   pg_start            new cluster in a temp dir, listening only on a unix
#                       socket there, with a database and a login role, both
#                       named blueflow; exports PG_DIR, PG_PORT, PG_SOCKET_DIR,
#                       PG_URI; stops and removes it when the shell exits
#   pg_stop             stops the current cluster (fast), keeping its data
#   pg_resume           starts the stopped cluster again (same dir and port)
#   pg_restart          pg_stop, then pg_resume
#   pg_psql [SQL...]    runs each SQL (or stdin) as blueflow through PG_URI,
#                       unaligned and tuples-only (-At), stopping at the first
#                       error
#   pg_cleanup          stops and removes every cluster this (sub)shell started;
#                       pg_start registers it with lib.sh's at_exit, so it runs
#                       on EXIT/INT/TERM/HUP along with the other harnesses'
#                       cleanups (tests/nginx_lib.sh) and before T_TMP goes
# A subshell that calls pg_start gets its own trap, stopping only its own
# clusters and leaving T_TMP to the main shell. As root, the server tools run
# as the postgres user.
# PG_BIN overrides where the binaries are.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_OWNED=	# clusters this process started, one dir a line
PG_OWNER=	# the pid of the process PG_OWNED belongs to
: "${T_TMP:?source tests/lib.sh before tests/pg_lib.sh}"

# $(exec sh -c 'echo $PPID') is the pid of the current (sub)shell (see
# at_exit in tests/lib.sh).

pg_available() {
	for pg__b in initdb pg_ctl postgres psql pg_isready; do
		[ -x "$PG_BIN/$pg__b" ] || return 1
	done
	if [ "$(id -u)" -eq 0 ]; then
		command -v runuser >/dev/null 2>&1 && id postgres >/dev/null 2>&1 || return 1
	fi
	return 0
}

# pg__as_pg CMD...: runs a PostgreSQL tool as the postgres user (when root),
# from / so that an unreadable working directory does not matter.
pg__as_pg() {
	(
		cd / || exit 1
		if [ "$(id -u)" -eq 0 ]; then
			exec runuser -u postgres -- env LC_ALL=C "$@"
		else
			exec env LC_ALL=C "$@"
		fi
	)
}

# pg__socket_taken PORT: one of our clusters (or a default-socket server)
# already uses PORT for its unix socket.
pg__socket_taken() {
	for pg__s in /tmp/.s.PGSQL."$1" /tmp/blueflow-pg.*/.s.PGSQL."$1"; do
		[ -e "$pg__s" ] && return 0
	done
	return 1
}

# pg__launch DIR PORT: starts the server and waits (30 s at most) until it
# accepts connections; on failure says why with the log's tail.
pg__launch() {
	if ! pg__as_pg "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/log" -w -t 30 \
		-o "-p $2" start >"$1/pg_ctl.out" 2>&1; then
		echo "pg_start: the server in $1 did not start:" >&2
		tail -n 20 "$1/pg_ctl.out" "$1/log" >&2 2>/dev/null
		return 1
	fi
	pg__end=$(($(date +%s) + 30))
	until "$PG_BIN/pg_isready" -q -h "$1" -p "$2" -d postgres; do
		if [ "$(date +%s)" -ge "$pg__end" ]; then
			echo "pg_start: the server in $1 is not ready after 30 s:" >&2
			tail -n 20 "$1/log" >&2
			return 1
		fi
		sleep 0.1 2>/dev/null || sleep 1
	done
}

# pg__kill DIR: stops the cluster in DIR at once, by force if need be.
pg__kill() {
	[ -f "$1/data/postmaster.pid" ] || return 0
	pg__as_pg "$PG_BIN/pg_ctl" -D "$1/data" -m immediate -w -t 10 stop \
		>/dev/null 2>&1 && return 0
	pg__pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
	[ -n "$pg__pid" ] && kill -KILL "$pg__pid" 2>/dev/null
	return 0
}

pg_cleanup() {
	if [ "${PG_OWNER:-}" = "$(exec sh -c 'echo $PPID')" ]; then
		pg__old_ifs=$IFS
		IFS='
'
		for pg__d in $PG_OWNED; do
			pg__kill "$pg__d"
			rm -rf "$pg__d"
		done
		IFS=$pg__old_ifs
		PG_OWNED=
	fi
}

pg_start() {
	pg__me=$(exec sh -c 'echo $PPID')
	if [ "${PG_OWNER:-}" != "$pg__me" ]; then
		# First cluster of this process: a subshell inherits its parent's
		# list but not its traps, and must not stop the parent's clusters.
		PG_OWNER=$pg__me
		PG_OWNED=
		at_exit pg_cleanup
	fi
	pg__dir=$(mktemp -d /tmp/blueflow-pg.XXXXXX) || return 1
	log_dir "$pg__dir"
	PG_OWNED="$PG_OWNED$pg__dir
"
	chmod 755 "$pg__dir" || return 1
	[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$pg__dir" || return 1
	if ! pg__as_pg "$PG_BIN/initdb" -D "$pg__dir/data" -A trust --no-sync \
		-E UTF8 --locale=C -U postgres >"$pg__dir/initdb.out" 2>&1; then
		echo "pg_start: initdb failed:" >&2
		tail -n 20 "$pg__dir/initdb.out" >&2
		return 1
	fi
	cat >>"$pg__dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$pg__dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 64MB
EOF
	pg__port=$(free_port 0 pg__socket_taken)
	pg__launch "$pg__dir" "$pg__port" || return 1
	if ! "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg__dir" -p "$pg__port" \
		-U postgres -d postgres -c 'CREATE ROLE blueflow LOGIN' \
		-c 'CREATE DATABASE blueflow OWNER blueflow' >"$pg__dir/setup.out" 2>&1
	then
		echo "pg_start: creating the blueflow role and database failed:" >&2
		cat "$pg__dir/setup.out" >&2
		return 1
	fi
	PG_DIR=$pg__dir
	PG_PORT=$pg__port
	PG_SOCKET_DIR=$pg__dir
	PG_URI="postgresql://blueflow@/blueflow?host=$pg__dir&port=$pg__port"
	export PG_DIR PG_PORT PG_SOCKET_DIR PG_URI
}

pg_stop() {
	: "${PG_DIR:?pg_stop: no cluster; call pg_start first}"
	pg__as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop \
		>"$PG_DIR/pg_ctl.out" 2>&1 || {
		echo "pg_stop: stopping the server in $PG_DIR failed:" >&2
		cat "$PG_DIR/pg_ctl.out" >&2
		return 1
	}
}

pg_resume() {
	: "${PG_DIR:?pg_resume: no cluster; call pg_start first}"
	pg__launch "$PG_DIR" "$PG_PORT"
}

pg_restart() {
	pg_stop || return 1
	pg_resume
}

pg_psql() {
	: "${PG_URI:?pg_psql: no cluster; call pg_start first}"
	if [ "$#" -eq 0 ]; then
		"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI"
		return
	fi
	for pg__sql in "$@"; do
		shift
		set -- "$@" -c "$pg__sql"
	done
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI" "$@"
}
