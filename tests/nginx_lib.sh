# tests/nginx_lib.sh - a throwaway nginx built from the production configuration
# nginx/blueflow.conf, for the shell tests. Source it after tests/lib.sh.
# Functions:
#   nginx_available     0 when nginx ($NGINX) and openssl are installed
#   nginx_start UPSTREAM...
#                       UPSTREAM is unix:/path/to.sock or 127.0.0.1:PORT (the
#                       FastCGI server, usually `blueflow serve`); several
#                       (separate arguments, or one space-separated list) make
#                       an `upstream blueflow { }` of several servers, as the
#                       README's "Scaling out" does. Makes a temp
#                       dir with a self-signed certificate for 127.0.0.1 and
#                       localhost, derives its config from nginx/blueflow.conf
#                       (certificate, listen 127.0.0.1:PORT on a free port,
#                       server_name, log paths, the error log's level (notice)
#                       and the upstream's server line, which becomes one
#                       `server UPSTREAM;` per UPSTREAM, are swapped;
#                       everything else is the production file),
#                       starts nginx and waits (10 s at most) until it listens;
#                       exports NGINX_DIR, NGINX_PORT, NGINX_URL
#                       (https://127.0.0.1:PORT), NGINX_CA (the certificate, for
#                       curl --cacert), NGINX_LOG (error log) and
#                       NGINX_ACCESS_LOG; stops and removes it when the shell
#                       exits
#   nginx_stop          stops the current nginx, keeping its dir and logs
#   nginx_cleanup       stops and removes every nginx this (sub)shell started;
#                       nginx_start registers it with lib.sh's at_exit, so it
#                       runs on EXIT/INT/TERM/HUP along with tests/pg_lib.sh's and
#                       before T_TMP goes
# A subshell that calls nginx_start gets its own trap, stopping only its own
# nginx. nginx_start fails, saying why, when nginx/blueflow.conf no longer
# has what it swaps, or would still bind or read anything outside the temp
# dir. As root, nginx's workers run as root, so that they can reach a socket
# in T_TMP. NGINX overrides the binary, NGINX_FASTCGI_PARAMS the file that
# `include fastcgi_params;` names.

NGINX=${NGINX:-/usr/sbin/nginx}
NGINX_FASTCGI_PARAMS=${NGINX_FASTCGI_PARAMS:-/etc/nginx/fastcgi_params}
NGINX_OWNED=	# nginx dirs this process started, one a line
NGINX_OWNER=	# the pid of the process NGINX_OWNED belongs to
: "${T_TMP:?source tests/lib.sh before tests/nginx_lib.sh}"

nginx_available() {
	[ -x "$NGINX" ] && [ -r "$NGINX_FASTCGI_PARAMS" ] &&
		command -v openssl >/dev/null 2>&1
}

# nginx__alive DIR PID: PID is the master of the nginx in DIR and has not
# exited (a zombie counts as gone: the master is not our child).
nginx__alive() {
	[ -r "/proc/$2/stat" ] || return 1
	case $(sed 's/.*) //' "/proc/$2/stat" 2>/dev/null) in Z*|X*|'') return 1 ;; esac
	tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null | grep -qF -- "-p $1/"
}

# nginx__children PID: the pids of PID's children (nginx's workers).
nginx__children() {
	for nginx__st in /proc/[0-9]*/stat; do
		sed -n 's/^\([0-9]*\) .*) . \([0-9]*\) .*/\1 \2/p' "$nginx__st" 2>/dev/null
	done | awk -v p="$1" '$2 == p { print $1 }'
}

# nginx__signal DIR SIGNAL: nginx -s SIGNAL for the nginx in DIR.
nginx__signal() {
	"$NGINX" -p "$1/" -c "$1/nginx.conf" -e "$1/error.log" -s "$2" \
		>"$1/signal.out" 2>&1
}

# nginx__kill DIR: stops the nginx in DIR (nginx -s stop, then SIGKILL to the
# master and its workers after 10 s); 0 when none runs any more.
nginx__kill() {
	nginx__pid=$(cat "$1/nginx.pid" 2>/dev/null)
	[ -n "$nginx__pid" ] && nginx__alive "$1" "$nginx__pid" || return 0
	nginx__signal "$1" stop
	nginx__end=$(($(date +%s) + 10))
	while nginx__alive "$1" "$nginx__pid"; do
		if [ "$(date +%s)" -ge "$nginx__end" ]; then
			echo "nginx: $1 still runs 10 s after -s stop; killing it" >&2
			nginx__kids=$(nginx__children "$nginx__pid")
			kill -KILL "$nginx__pid" $nginx__kids 2>/dev/null
			sleep 0.1 2>/dev/null || sleep 1
			! nginx__alive "$1" "$nginx__pid"
			return
		fi
		sleep 0.05 2>/dev/null || sleep 1
	done
}

nginx_cleanup() {
	[ "${NGINX_OWNER:-}" = "$(exec sh -c 'echo $PPID')" ] || return 0
	nginx__old_ifs=$IFS
	IFS='
'
	for nginx__d in $NGINX_OWNED; do
		nginx__kill "$nginx__d"
		rm -rf "$nginx__d"
	done
	IFS=$nginx__old_ifs
	NGINX_OWNED=
}

# nginx__derive DIR PORT UPSTREAMS: writes DIR/blueflow.conf (the production
# site with the test's certificate, port, names, logs and upstream servers,
# UPSTREAMS being a space-separated list) and DIR/nginx.conf (a main config
# around it); fails if a swap found nothing to swap, if `upstream blueflow`
# would not hold exactly the servers given, or if something outside DIR is
# left.
nginx__derive() {
	nginx__src=$SRCDIR/nginx/blueflow.conf
	[ -r "$nginx__src" ] || {
		echo "nginx_start: cannot read $nginx__src" >&2
		return 1
	}
	nginx__sp='[[:space:]]'
	# The production file's one server line becomes "server A; server B;"
	# (nginx reads several directives on a line as on several lines).
	nginx__servers=
	for nginx__u in $3; do
		nginx__servers="$nginx__servers${nginx__servers:+ server }$nginx__u;"
	done
	sed -e "s|^\($nginx__sp*listen$nginx__sp\{1,\}\)443\($nginx__sp\)|\1127.0.0.1:$2\2|" \
		-e "s|^\($nginx__sp*server_name$nginx__sp\{1,\}\)[^;]*;|\1localhost 127.0.0.1;|" \
		-e "s|^\($nginx__sp*ssl_certificate$nginx__sp\{1,\}\)[^;]*;|\1$1/cert.pem;|" \
		-e "s|^\($nginx__sp*ssl_certificate_key$nginx__sp\{1,\}\)[^;]*;|\1$1/key.pem;|" \
		-e "s|^\($nginx__sp*access_log$nginx__sp\{1,\}\)/[^[:space:];]*|\1$1/access.log|" \
		-e "s|^\($nginx__sp*error_log$nginx__sp\{1,\}\)/[^;]*;|\1$1/error.log notice;|" \
		-e "s|^\($nginx__sp*include$nginx__sp\{1,\}\)fastcgi_params;|\1$NGINX_FASTCGI_PARAMS;|" \
		-e "/^$nginx__sp*upstream$nginx__sp\{1,\}blueflow$nginx__sp*{/,/^$nginx__sp*}/s|^\($nginx__sp*server$nginx__sp\{1,\}\)[^;]*;|\1$nginx__servers|" \
		"$nginx__src" >"$1/blueflow.conf" || return 1
	# What nginx will read, without comments.
	sed 's/#.*//' "$1/blueflow.conf" >"$1/blueflow.active"
	nginx__why=
	grep -q "^$nginx__sp*listen$nginx__sp" "$1/blueflow.active" ||
		nginx__why="no listen line"
	if grep "^$nginx__sp*listen$nginx__sp" "$1/blueflow.active" |
		grep -v "^$nginx__sp*listen$nginx__sp\{1,\}127\.0\.0\.1:$2$nginx__sp.*ssl" >&2; then
		nginx__why="a listen line other than 443 ssl (above)"
	fi
	grep -q "^$nginx__sp*ssl_certificate$nginx__sp\{1,\}$1/cert\.pem;" "$1/blueflow.active" ||
		nginx__why="$nginx__why${nginx__why:+; }no ssl_certificate line"
	grep -q "^$nginx__sp*ssl_certificate_key$nginx__sp\{1,\}$1/key\.pem;" "$1/blueflow.active" ||
		nginx__why="$nginx__why${nginx__why:+; }no ssl_certificate_key line"
	# What `upstream blueflow { }` serves: its server directives, one a line.
	nginx__got=$(sed -n "/^$nginx__sp*upstream$nginx__sp\{1,\}blueflow$nginx__sp*{/,/^$nginx__sp*}/p" \
		"$1/blueflow.active" | tr ';' '\n' |
		sed -n "s/^$nginx__sp*server$nginx__sp\{1,\}\([^[:space:]]*\).*/\1/p")
	nginx__want=$(for nginx__u in $3; do echo "$nginx__u"; done)
	if [ -z "$nginx__got" ]; then
		nginx__why="$nginx__why${nginx__why:+; }no server line in 'upstream blueflow { }'"
	elif [ "$nginx__got" != "$nginx__want" ]; then
		nginx__got=$(echo "$nginx__got" | tr '\n' ' ')
		nginx__why="$nginx__why${nginx__why:+; }'upstream blueflow { }' would serve ${nginx__got}instead of $3"
	fi
	if grep -v -F "$NGINX_FASTCGI_PARAMS" "$1/blueflow.active" |
		grep -E '(^|[[:space:]])/(etc|run|var|srv|opt|home|usr)/' >&2; then
		nginx__why="$nginx__why${nginx__why:+; }paths outside the test dir (above)"
	fi
	if [ -n "$nginx__why" ]; then
		echo "nginx_start: cannot derive a test config from $nginx__src: $nginx__why" >&2
		return 1
	fi
	nginx__user=
	[ "$(id -u)" -ne 0 ] || nginx__user='user root;'
	cat >"$1/nginx.conf" <<EOF
# Generated by tests/nginx_lib.sh around blueflow.conf (derived from
# $nginx__src).
$nginx__user
daemon on;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log notice;
events {
	worker_connections 256;
}
http {
	default_type application/octet-stream;
	access_log $1/access.log;
	client_body_temp_path $1/temp/client_body;
	fastcgi_temp_path $1/temp/fastcgi;
	proxy_temp_path $1/temp/proxy;
	uwsgi_temp_path $1/temp/uwsgi;
	scgi_temp_path $1/temp/scgi;
	include $1/blueflow.conf;
}
EOF
}

nginx_start() {
	# One list of the upstreams, whether given as arguments or in one.
	nginx__ups=
	nginx__bad=
	case "$*" in
	*[*?[]*) nginx__bad=$* ;;   # refused before $* is split (no globbing)
	*)
		# shellcheck disable=SC2048 # split on purpose: one list or several
		for nginx__u in $*; do
			case $nginx__u in
			*[!A-Za-z0-9_./:-]*) nginx__bad=$nginx__u ;;
			unix:/*|127.0.0.1:[0-9]*) nginx__ups="$nginx__ups${nginx__ups:+ }$nginx__u" ;;
			*) nginx__bad=$nginx__u ;;
			esac
		done ;;
	esac
	if [ -n "$nginx__bad" ] || [ -z "$nginx__ups" ]; then
		echo "nginx_start: UPSTREAM is unix:/path/to.sock or 127.0.0.1:PORT, not '${nginx__bad:-$*}'" >&2
		return 2
	fi
	nginx__me=$(exec sh -c 'echo $PPID')
	if [ "${NGINX_OWNER:-}" != "$nginx__me" ]; then
		# First nginx of this process: a subshell inherits its parent's
		# list but not its traps, and must not stop the parent's nginx.
		NGINX_OWNER=$nginx__me
		NGINX_OWNED=
		at_exit nginx_cleanup
	fi
	nginx__dir=$(mktemp -d /tmp/blueflow-nginx.XXXXXX) || return 1
	log_dir "$nginx__dir"
	NGINX_OWNED="$NGINX_OWNED$nginx__dir
"
	mkdir "$nginx__dir/temp" || return 1
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$nginx__dir/key.pem" -out "$nginx__dir/cert.pem" \
		-days 1 -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		>"$nginx__dir/openssl.out" 2>&1; then
		echo "nginx_start: making the certificate failed:" >&2
		cat "$nginx__dir/openssl.out" >&2
		return 1
	fi
	nginx__try=1
	while :; do
		nginx__port=$(free_port 5000)
		nginx__derive "$nginx__dir" "$nginx__port" "$nginx__ups" || return 1
		"$NGINX" -p "$nginx__dir/" -c "$nginx__dir/nginx.conf" \
			-e "$nginx__dir/error.log" >"$nginx__dir/start.out" 2>&1 && break
		# Another test may have taken the port since it was picked.
		if grep -q 'Address already in use' "$nginx__dir/start.out" &&
			[ "$nginx__try" -lt 5 ]; then
			nginx__try=$((nginx__try + 1))
			continue
		fi
		echo "nginx_start: nginx in $nginx__dir did not start:" >&2
		cat "$nginx__dir/start.out" >&2
		return 1
	done
	# The master writes its pid after daemonizing; the port listens before.
	nginx__end=$(($(date +%s) + 10))
	until nginx__pid=$(cat "$nginx__dir/nginx.pid" 2>/dev/null) &&
		nginx__alive "$nginx__dir" "$nginx__pid" &&
		port_busy "$nginx__port"; do
		if [ "$(date +%s)" -ge "$nginx__end" ]; then
			echo "nginx_start: nginx in $nginx__dir is not up after 10 s:" >&2
			tail -n 20 "$nginx__dir/error.log" >&2
			return 1
		fi
		sleep 0.05 2>/dev/null || sleep 1
	done
	NGINX_DIR=$nginx__dir
	NGINX_PORT=$nginx__port
	NGINX_URL=https://127.0.0.1:$nginx__port
	NGINX_CA=$nginx__dir/cert.pem
	NGINX_LOG=$nginx__dir/error.log
	NGINX_ACCESS_LOG=$nginx__dir/access.log
	export NGINX_DIR NGINX_PORT NGINX_URL NGINX_CA NGINX_LOG NGINX_ACCESS_LOG
}

nginx_stop() {
	: "${NGINX_DIR:?nginx_stop: no nginx; call nginx_start first}"
	nginx__kill "$NGINX_DIR" || {
		echo "nginx_stop: the nginx in $NGINX_DIR would not stop" >&2
		return 1
	}
}
