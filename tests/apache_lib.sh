# tests/apache_lib.sh - a throwaway Apache 2.4 running blueflow through
# mod_fcgid, as plain CGI, or as README.md's "Shared hosting" says (a
# wrapper and an .htaccess in the document root), for the shell tests.
# Source it after tests/lib.sh. Functions:
#   apache_available    0 when apache2 ($APACHE2) and the modules (mod_fcgid,
#                       mod_cgi, mod_rewrite, ... in $APACHE_MODULES) are
#                       installed
#   apache_user         prints the user Apache's children (and so blueflow)
#                       run as: www-data as root (Apache refuses root), else
#                       the current user
#   apache_share PATH...
#                       as root, hands PATH (recursively) to apache_user so
#                       that blueflow can read its config and flow and write
#                       the SQLite db and its folder; the folders above PATH
#                       must be searchable by everyone (mktemp -d under /tmp
#                       is not: chmod 0755 it)
#   apache_start MODE CONF [VAR...]
#                       MODE is fcgid (mod_fcgid starts `blueflow serve -c
#                       CONF` with a listening socket on fd 0; mpm_event) or
#                       cgi (mod_cgi runs it once per request, with
#                       GATEWAY_INTERFACE set; mpm_prefork). CONF is the
#                       blueflow config (an absolute path apache_user can
#                       read); each VAR names an environment variable
#                       (BOT_TOKEN...) passed on to blueflow with the value
#                       it has here (FcgidInitialEnv / PassEnv: values never
#                       reach the config file). Makes a temp dir DIR (0755)
#                       with a copy of $BLUEFLOW, a wrapper script and a
#                       self-contained httpd.conf (ServerRoot, pid file,
#                       logs, runtime and fcgid dirs all inside it, Listen
#                       127.0.0.1:PORT on a free port), maps /tg/ (and
#                       /healthz) to the wrapper, starts `apache2 -f CONF -k
#                       start` and waits (10 s at most) until it listens;
#                       exports APACHE_DIR, APACHE_PORT, APACHE_URL
#                       (http://127.0.0.1:PORT), APACHE_LOG (the error log:
#                       blueflow's stderr lands there too) and
#                       APACHE_ACCESS_LOG; prints the error log and fails
#                       when Apache does not come up; stops and removes it
#                       when the shell exits.
#                       MODE htaccess is README.md's shared hosting instead:
#                       the ```sh wrapper and the ```apache .htaccess of its
#                       "## Shared hosting" section ($APACHE_README, else
#                       $SRCDIR/README.md), verbatim but for
#                       /home/me/blueflow, which becomes DIR/home. That
#                       folder (0700, outside the document root) holds the
#                       copy of $BLUEFLOW, CONF's copy as blueflow.conf and a
#                       0600 blueflow.env of VAR=value lines, which the
#                       wrapper sources (no VAR in httpd.conf); the document
#                       root DIR/www holds the wrapper as blueflow.fcgi
#                       (0700) and the .htaccess. httpd.conf (mpm_event)
#                       loads mod_fcgid and mod_rewrite, allows the FileInfo
#                       and Options=ExecCGI overrides in DIR/www and maps
#                       nothing to blueflow: the .htaccess does it all. Says
#                       why and fails when the README lacks those blocks.
#   apache_stop         stops the current Apache (-k stop, then SIGKILL to
#                       whatever still runs from its dir after 20 s: mod_fcgid
#                       itself waits some 8 s for a FastCGI process that
#                       ignores its SIGTERM),
#                       keeping its dir and logs but removing the htaccess
#                       mode's blueflow.env (secrets: lib.sh's finish checks
#                       that no file left holds one); fails if anything is
#                       left
#   apache_leftovers DIR
#                       prints the pids of processes still running from DIR
#                       (Apache's, the wrapper's, blueflow's)
#   apache_cleanup      stops and removes every Apache this (sub)shell
#                       started; apache_start registers it with lib.sh's
#                       at_exit
# A subshell that calls apache_start gets its own trap, stopping only its own
# Apache. APACHE2 overrides the binary, APACHE_MODULES the modules' folder.

APACHE2=${APACHE2:-/usr/sbin/apache2}
APACHE_README=${APACHE_README:-$SRCDIR/README.md}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
APACHE_OWNED=	# Apache dirs this process started, one a line
APACHE_OWNER=	# the pid of the process APACHE_OWNED belongs to
: "${T_TMP:?source tests/lib.sh before tests/apache_lib.sh}"

apache_available() {
	[ -x "$APACHE2" ] || return 1
	for apache__m in mpm_event mpm_prefork authz_core mime alias env fcgid cgi rewrite; do
		[ -r "$APACHE_MODULES/mod_$apache__m.so" ] || return 1
	done
}

apache_user() {
	if [ "$(id -u)" -eq 0 ]; then echo www-data; else id -un; fi
}

apache_share() {
	[ "$(id -u)" -eq 0 ] || return 0
	chown -R "$(apache_user):$(id -gn "$(apache_user)")" "$@"
}

# apache_leftovers DIR: the pids whose command line names a file in DIR
# (Apache's "-f DIR/httpd.conf", "DIR/blueflow serve", "sh DIR/blueflow.cgi",
# and the htaccess mode's "DIR/home/blueflow serve", "sh DIR/www/blueflow.fcgi").
# Zombies do not count. Compared in the shell, so that no helper process
# carries DIR in its own arguments.
apache_leftovers() {
	for apache__p in /proc/[0-9]*; do
		apache__c=$(tr '\0' ' ' 2>/dev/null <"$apache__p/cmdline") || continue
		case $apache__c in
		*" $1/"*|"$1/"*)
			case $(sed 's/.*) //' 2>/dev/null <"$apache__p/stat") in
			Z*|X*|'') ;;
			*) echo "${apache__p#/proc/}" ;;
			esac ;;
		esac
	done
}

# apache__kill DIR: stops the Apache in DIR (-k stop, then SIGKILL to what
# still runs from DIR after 20 s) and removes DIR/home/blueflow.env; 0 when
# nothing runs from DIR any more.
apache__kill() {
	apache__stop_dir "$1"
	apache__rc=$?
	rm -f "$1/home/blueflow.env"
	return "$apache__rc"
}

apache__stop_dir() {
	[ -r "$1/httpd.conf" ] || return 0
	[ -z "$(apache_leftovers "$1")" ] && return 0
	"$APACHE2" -f "$1/httpd.conf" -k stop >"$1/stop.out" 2>&1
	apache__end=$(($(date +%s) + 20))
	while apache__left=$(apache_leftovers "$1") && [ -n "$apache__left" ]; do
		if [ "$(date +%s)" -ge "$apache__end" ]; then
			echo "apache: $1 still runs 20 s after -k stop; killing" $apache__left >&2
			# shellcheck disable=SC2086
			kill -KILL $apache__left 2>/dev/null
			sleep 0.2 2>/dev/null || sleep 1
			[ -z "$(apache_leftovers "$1")" ]
			return
		fi
		sleep 0.1 2>/dev/null || sleep 1
	done
}

apache_cleanup() {
	[ "${APACHE_OWNER:-}" = "$(exec sh -c 'echo $PPID')" ] || return 0
	apache__old_ifs=$IFS
	IFS='
'
	for apache__d in $APACHE_OWNED; do
		apache__kill "$apache__d"
		rm -rf "$apache__d"
	done
	IFS=$apache__old_ifs
	APACHE_OWNED=
}

# apache__readme_blocks README OUT: writes OUT.sh, the ```sh block right
# before the first ```apache block of README's "## Shared hosting" section,
# and OUT.htaccess, that ```apache block, each without the indentation of
# its fence (the section puts them in a list); prints why and fails when
# the section or the blocks are not there.
apache__readme_blocks() {
	awk -v out="$2" '
	fence == "" && /^## / { sec = ($0 == "## Shared hosting"); if (sec) seen = 1; next }
	!sec || done { next }
	fence == "" && /^ *```[a-z]+ *$/ {
		ind = match($0, /[^ ]/) - 1
		fence = substr($0, ind + 4)
		sub(/ +$/, "", fence)
		body = ""
		next
	}
	fence != "" && /^ *``` *$/ {
		if (fence == "apache" && prev == "sh") {
			printf "%s", sh > (out ".sh")
			printf "%s", body > (out ".htaccess")
			done = 1
		} else if (fence == "sh") {
			sh = body
		}
		prev = fence
		fence = ""
		next
	}
	fence != "" {
		line = $0
		for (i = 0; i < ind && substr(line, 1, 1) == " "; i++)
			line = substr(line, 2)
		body = body line "\n"
	}
	END {
		if (!seen) { print "no \"## Shared hosting\" section"; exit 1 }
		if (!done) { print "no ```apache block right after a ```sh block in \"## Shared hosting\""; exit 1 }
	}' "$1"
}

# apache__env_file FILE VAR...: writes FILE (0600): VAR=value lines with
# the values the VARs have here, quoted for sh where they need it.
apache__env_file() {
	apache__f=$1
	shift
	(
		umask 077
		: >"$apache__f" || exit 1
		for apache__v in "$@"; do
			eval "apache__val=\${$apache__v}"
			case $apache__val in
			*[!A-Za-z0-9_:.,/+=@-]*|'')
				apache__val="'$(printf '%s' "$apache__val" | sed "s/'/'\\\\''/g")'" ;;
			esac
			printf '%s=%s\n' "$apache__v" "$apache__val" >>"$apache__f" || exit 1
		done
	) && chmod 0600 "$apache__f"
}

# apache__htaccess DIR CONF VARS: the htaccess mode's DIR/home and the
# wrapper and .htaccess in DIR/www (see apache_start); prints why and fails
# when the README's blocks are not there.
apache__htaccess() {
	apache__home=$1/home
	mkdir -p "$apache__home" && chmod 0700 "$apache__home" &&
		cp "$BLUEFLOW" "$apache__home/blueflow" &&
		chmod 0755 "$apache__home/blueflow" &&
		cp "$2" "$apache__home/blueflow.conf" || return 1
	# shellcheck disable=SC2086 # VARS is a list of names
	apache__env_file "$apache__home/blueflow.env" $3 || return 1
	apache__readme_blocks "$APACHE_README" "$1/readme" >"$1/readme.why" || {
		echo "apache_start: $APACHE_README: $(cat "$1/readme.why")" >&2
		return 1
	}
	if ! grep -q /home/me/blueflow/ "$1/readme.sh"; then
		echo "apache_start: the README's wrapper does not name /home/me/blueflow/:" >&2
		cat "$1/readme.sh" >&2
		return 1
	fi
	sed "s|/home/me/blueflow|$apache__home|g" "$1/readme.sh" >"$1/www/blueflow.fcgi" &&
		sed "s|/home/me/blueflow|$apache__home|g" "$1/readme.htaccess" >"$1/www/.htaccess" &&
		chmod 0700 "$1/www/blueflow.fcgi" &&
		chmod 0644 "$1/www/.htaccess" &&
		apache_share "$apache__home" "$1/www/blueflow.fcgi"
}

# apache__config DIR PORT MODE CONF VARS: writes DIR/httpd.conf, and the
# files MODE needs the first time.
apache__config() {
	apache__m=$APACHE_MODULES
	apache__runas=
	if [ "$(id -u)" -eq 0 ]; then
		apache__runas="User $(apache_user)
Group $(id -gn "$(apache_user)")"
	fi
	apache__env=
	if [ "$3" != htaccess ]; then
		for apache__v in $5; do
			if [ "$3" = fcgid ]; then
				# ${VAR} is Apache's own: the value is read from its
				# environment when it parses the file.
				apache__env="${apache__env}FcgidInitialEnv $apache__v \"\${$apache__v}\"
"
			else
				apache__env="${apache__env}PassEnv $apache__v
"
			fi
		done
	fi
	if [ "$3" = cgi ]; then
		apache__mods="LoadModule mpm_prefork_module $apache__m/mod_mpm_prefork.so
LoadModule cgi_module $apache__m/mod_cgi.so"
		apache__handler="SetHandler cgi-script"
		apache__mode=
	else
		apache__mods="LoadModule mpm_event_module $apache__m/mod_mpm_event.so
LoadModule fcgid_module $apache__m/mod_fcgid.so"
		apache__handler="SetHandler fcgid-script"
		# mod_fcgid's own limits stay out of blueflow's way: the body
		# limit is blueflow's max_body (413), the timeout its
		# request_timeout.
		apache__mode="FcgidIPCDir $1/fcgid
FcgidProcessTableFile $1/fcgid_shm
FcgidMaxRequestLen 2097152
FcgidMaxRequestInMem 2097152
FcgidIOTimeout 60
FcgidMaxProcessesPerClass 4
FcgidMinProcessesPerClass 0"
	fi
	if [ "$3" = htaccess ]; then
		apache__mods="$apache__mods
LoadModule rewrite_module $apache__m/mod_rewrite.so"
		# A shared host's document root: its .htaccess may set handlers,
		# rewrite and turn ExecCGI on; nothing here maps to blueflow.
		apache__www="	AllowOverride FileInfo Options=ExecCGI
	Require all granted
</Directory>
<Files \".ht*\">
	Require all denied
</Files>"
	else
		apache__www="	Require all granted
</Directory>
# /tg/NAME reaches the wrapper with SCRIPT_NAME=/tg, PATH_INFO=/NAME
Alias /tg/ \"$1/blueflow.cgi/\"
Alias /healthz \"$1/blueflow.cgi\"
<Files \"blueflow.cgi\">
	$apache__handler
	Options +ExecCGI
	Require all granted
</Files>"
	fi
	cat >"$1/httpd.conf" <<EOF
# Generated by tests/apache_lib.sh: blueflow ($3) on 127.0.0.1:$2.
ServerRoot "$1"
ServerName 127.0.0.1
Listen 127.0.0.1:$2
$apache__mods
LoadModule authz_core_module $apache__m/mod_authz_core.so
LoadModule mime_module $apache__m/mod_mime.so
LoadModule alias_module $apache__m/mod_alias.so
LoadModule env_module $apache__m/mod_env.so
$apache__runas
PidFile "$1/httpd.pid"
DefaultRuntimeDir "$1/run"
Mutex file:$1/run default
ErrorLog "$1/error.log"
LogLevel notice
LogFormat "%h %t \"%r\" %>s %b" common
CustomLog "$1/access.log" common
TypesConfig /dev/null
Timeout 60
KeepAlive On
StartServers 1
$apache__mode
$apache__env
DocumentRoot "$1/www"
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory "$1/www">
$apache__www
EOF
	if [ "$3" = htaccess ]; then
		[ -d "$1/home" ] || apache__htaccess "$1" "$4" "$5"
		return
	fi
	cat >"$1/blueflow.cgi" <<EOF
#!/bin/sh
exec "$1/blueflow" serve -c "$4"
EOF
	chmod 0755 "$1/blueflow.cgi"
}

apache_start() {
	case ${1:-} in
	fcgid|cgi|htaccess) ;;
	*)
		echo "apache_start: MODE is fcgid, cgi or htaccess, not '${1:-}'" >&2
		return 2 ;;
	esac
	case ${2:-} in
	/*) ;;
	*)
		echo "apache_start: CONF must be an absolute path, not '${2:-}'" >&2
		return 2 ;;
	esac
	apache__mode_=$1
	apache__conf=$2
	shift 2
	apache__vars=
	for apache__v in "$@"; do
		case $apache__v in
		''|[0-9]*|*[!A-Za-z0-9_]*)
			echo "apache_start: '$apache__v' is not a variable name" >&2
			return 2 ;;
		esac
		eval "[ -n \"\${$apache__v+set}\" ]" || {
			echo "apache_start: \$$apache__v is not set" >&2
			return 2
		}
		export "$apache__v"
		apache__vars="$apache__vars $apache__v"
	done
	apache__me=$(exec sh -c 'echo $PPID')
	if [ "${APACHE_OWNER:-}" != "$apache__me" ]; then
		# First Apache of this process: a subshell inherits its parent's
		# list but not its traps, and must not stop the parent's Apache.
		APACHE_OWNER=$apache__me
		APACHE_OWNED=
		at_exit apache_cleanup
	fi
	apache__dir=$(mktemp -d /tmp/blueflow-apache.XXXXXX) || return 1
	log_dir "$apache__dir"
	APACHE_OWNED="$APACHE_OWNED$apache__dir
"
	chmod 0755 "$apache__dir" &&
		mkdir "$apache__dir/run" "$apache__dir/www" || return 1
	if [ "$apache__mode_" != htaccess ]; then
		cp "$BLUEFLOW" "$apache__dir/blueflow" &&
			chmod 0755 "$apache__dir/blueflow" || return 1
	fi
	apache__try=1
	while :; do
		apache__port=$(free_port 2500)
		if ! apache__config "$apache__dir" "$apache__port" "$apache__mode_" \
			"$apache__conf" "$apache__vars"; then
			apache__kill "$apache__dir"
			return 1
		fi
		"$APACHE2" -f "$apache__dir/httpd.conf" -k start \
			>"$apache__dir/start.out" 2>&1 && break
		# Another test may have taken the port since it was picked.
		if grep -q 'Address already in use' "$apache__dir/start.out" &&
			[ "$apache__try" -lt 5 ]; then
			apache__try=$((apache__try + 1))
			continue
		fi
		echo "apache_start: apache2 in $apache__dir did not start:" >&2
		cat "$apache__dir/start.out" >&2
		tail -n 20 "$apache__dir/error.log" >&2 2>/dev/null
		apache__kill "$apache__dir"
		return 1
	done
	apache__end=$(($(date +%s) + 10))
	until [ -s "$apache__dir/httpd.pid" ] && port_busy "$apache__port"; do
		if [ "$(date +%s)" -ge "$apache__end" ] ||
			[ -z "$(apache_leftovers "$apache__dir")" ]; then
			echo "apache_start: apache2 in $apache__dir is not up after 10 s:" >&2
			cat "$apache__dir/start.out" >&2
			tail -n 20 "$apache__dir/error.log" >&2 2>/dev/null
			apache__kill "$apache__dir"
			return 1
		fi
		sleep 0.05 2>/dev/null || sleep 1
	done
	APACHE_DIR=$apache__dir
	APACHE_PORT=$apache__port
	APACHE_URL=http://127.0.0.1:$apache__port
	APACHE_LOG=$apache__dir/error.log
	APACHE_ACCESS_LOG=$apache__dir/access.log
	export APACHE_DIR APACHE_PORT APACHE_URL APACHE_LOG APACHE_ACCESS_LOG
}

apache_stop() {
	: "${APACHE_DIR:?apache_stop: no Apache; call apache_start first}"
	apache__kill "$APACHE_DIR" || {
		echo "apache_stop: the Apache in $APACHE_DIR would not stop" >&2
		return 1
	}
}
