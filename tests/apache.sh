#!/bin/sh
# tests/apache.sh - `blueflow serve` under Apache 2.4 (tests/apache_lib.sh),
# on SQLite, over plain HTTP on loopback: through mod_fcgid (a listening
# socket on fd 0, one worker per process), as plain CGI (one request per
# process, GATEWAY_INTERFACE set), and as README.md's "Shared hosting" says
# (htaccess: the README's own wrapper and .htaccess in a document root that
# httpd.conf maps nothing in, the secrets in a 0600 blueflow.env that the
# wrapper sources). In each mode: the onboarding conversation (tests/e2e.py
# checks every reply and stored value), every refusal (401 for a wrong or
# missing secret, 404, 405, 413, 400...), the refusal in the log, /healthz,
# no secret in any log, and nothing left running after the stop; in the
# htaccess mode also that the wrapper is run or refused, never shown, and
# that the env file, the config and the binary cannot be fetched.
# APACHE_MODES picks modes (default: fcgid cgi htaccess). Skipped (77)
# without apache2 and its modules, curl or python3.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/apache_lib.sh"

E2E="python3 $SRCDIR/tests/e2e.py"
export BOT=demo SECRET=s3cret-Token_1 BOT_TOKEN=123456:test-token BOT_SECRET=s3cret-Token_1
secret "$BOT_TOKEN"
secret "$BOT_SECRET"
unset CA

if ! apache_available; then
	echo "skip: no apache2 ($APACHE2) or its modules (libapache2-mod-fcgid) in $APACHE_MODULES"
	exit 77
fi
need_tools curl python3

# status [CURL-ARGS...] PATH: the HTTP status Apache gives for PATH.
status() {
	s__path=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$@" "$APACHE_URL$s__path"
}

# fetch PATH: the HTTP status Apache gives for PATH, sent as is; the body
# in $T_TMP/body, the headers in $T_TMP/headers.
fetch() {
	curl -s -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' --max-time 30 \
		--path-as-is "$APACHE_URL$1"
}

# htaccess_checks: the htaccess mode's document root shows nothing it holds
# but blueflow's answers, and Apache's config maps nothing to blueflow.
htaccess_checks() {
	if grep -q -e FcgidInitialEnv -e '^Alias' -e blueflow.fcgi "$APACHE_DIR/httpd.conf"; then
		fail htaccess-httpd-conf-maps-nothing "$(grep -e FcgidInitialEnv -e '^Alias' -e blueflow.fcgi "$APACHE_DIR/httpd.conf")"
	else
		ok htaccess-httpd-conf-maps-nothing
	fi
	# The README's .htaccess sends only tg/ to blueflow and refuses the
	# wrapper's own paths (403), so /healthz and /metrics stay private and
	# the wrapper's text is never shown.
	for path in /blueflow.fcgi /blueflow.fcgi/healthz /blueflow.fcgi/metrics; do
		st=$(fetch "$path")
		if grep -q -e 'blueflow.env' -e 'exec ' -e '^#!' "$T_TMP/body"; then
			fail "htaccess-wrapper-refused $path" "status $st, the wrapper's text: $(head -c 300 "$T_TMP/body")"
		elif [ "$st" = 403 ]; then
			ok "htaccess-wrapper-refused $path"
		else
			fail "htaccess-wrapper-refused $path" "status $st, wanted 403: $(head -c 300 "$T_TMP/body")"
		fi
	done
	# the secrets, the config and the binary live outside the document root
	for path in /blueflow.env /blueflow.conf /blueflow /home/blueflow.env \
		/home/blueflow.conf /../home/blueflow.env /tg/../../home/blueflow.env \
		/blueflow.fcgi/../../home/blueflow.env /.htaccess; do
		st=$(fetch "$path")
		if grep -qF -e "$BOT_TOKEN" -e "$BOT_SECRET" -e token_env "$T_TMP/body" ||
			[ "$st" = 200 ]; then
			fail "htaccess-not-served $path" "status $st: $(head -c 200 "$T_TMP/body")"
		else
			ok "htaccess-not-served $path ($st)"
		fi
	done
}

run_mode() {
	m=$1
	# blueflow runs as apache_user: its config, flow and db live in a dir
	# it can reach (T_TMP is 0700).
	data=$(mktemp -d /tmp/blueflow-apache-data.XXXXXX) || { fail "$m-data-dir" "mktemp"; return; }
	at_exit "rm -rf '$data'"
	chmod 0755 "$data"
	mkdir "$data/db"
	cp "$SRCDIR/flows/onboarding.json" "$data/flow.json"
	cat >"$data/blueflow.conf" <<CONF
[server]
db = sqlite:$data/db/blueflow.db
listen = $data/unused.sock
storage = $data/files
max_body = 65536
request_timeout = 20

[bot demo]
flow = $data/flow.json
token_env = BOT_TOKEN
secret_env = BOT_SECRET
CONF
	run "$BLUEFLOW" db migrate -c "$data/blueflow.conf"
	expect_rc "$m-migrate" 0
	apache_share "$data"
	if ! apache_start "$m" "$data/blueflow.conf" BOT_TOKEN BOT_SECRET; then
		fail "$m-apache-start" "see above"
		return
	fi
	ok "$m-apache-start"
	export URL="$APACHE_URL" DB="sqlite:$data/db/blueflow.db"

	run $E2E conversation
	cat "$T_TMP/out"
	[ "$RC" -eq 0 ] && ok "$m-conversation" ||
		fail "$m-conversation" "$(grep FAIL "$T_TMP/out" | head -3); $(tail -5 "$APACHE_LOG")"
	run $E2E refusals
	[ "$RC" -eq 0 ] && ok "$m-refusals" ||
		fail "$m-refusals" "$(grep FAIL "$T_TMP/out" | head -5); $(tail -5 "$APACHE_LOG")"
	st=$(status /tg/demo -H "X-Telegram-Bot-Api-Secret-Token: wrong" -d '{"update_id": 1}')
	[ "$st" = 401 ] && ok "$m-curl-wrong-secret-401" || fail "$m-curl-wrong-secret-401" "status $st"
	grep -q '"event":"refused","status":401' "$APACHE_LOG" && ok "$m-refusal-logged" ||
		fail "$m-refusal-logged" "no log line in $APACHE_LOG"
	if [ "$m" = htaccess ]; then
		htaccess_checks
	else
		st=$(status /healthz)
		[ "$st" = 200 ] && ok "$m-healthz" || fail "$m-healthz" "status $st"
	fi
	st=$(status /elsewhere)
	[ "$st" = 404 ] && ok "$m-other-path-404" || fail "$m-other-path-404" "status $st"

	dir=$APACHE_DIR
	t0=$(date +%s)
	if apache_stop; then ok "$m-apache-stops"; else fail "$m-apache-stops" "see above"; fi
	# mod_fcgid stops its processes with SIGTERM, then SIGKILL some 8 s
	# later ("still did not exit, terminating forcefully"): blueflow must
	# go on the SIGTERM.
	if grep -q 'terminating forcefully' "$APACHE_LOG"; then
		fail "$m-workers-stop-on-sigterm" "killed after $(($(date +%s) - t0)) s: $(grep 'terminating forcefully' "$APACHE_LOG" | head -1)"
	else
		ok "$m-workers-stop-on-sigterm"
	fi
	left=$(apache_leftovers "$dir")
	[ -z "$left" ] && ok "$m-nothing-left-running" ||
		fail "$m-nothing-left-running" "$(ps -o pid,user,args -p "$(echo $left | tr ' ' ,)")"
	# secrets never reach a log, nor Apache's config
	if grep -qF -e "$BOT_TOKEN" -e "$BOT_SECRET" "$APACHE_LOG" "$APACHE_ACCESS_LOG" "$dir/httpd.conf"; then
		fail "$m-no-secret-in-logs" "found the token or the secret"
	else
		ok "$m-no-secret-in-logs"
	fi
	grep -q '"event":"update"' "$APACHE_LOG" && ok "$m-updates-logged" || fail "$m-updates-logged" "none"
	# blueflow's stderr lands in the error log: sanitizer reports too
	if grep -E -q 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$APACHE_LOG"; then
		fail "$m-no-sanitizer-reports" "$(grep -E -m 3 'Sanitizer|runtime error:' "$APACHE_LOG")"
	else
		ok "$m-no-sanitizer-reports"
	fi
}

for m in ${APACHE_MODES:-fcgid cgi htaccess}; do
	run_mode "$m"
done
finish
