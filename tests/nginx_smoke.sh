#!/bin/sh
# tests/nginx_smoke.sh - nginx/blueflow.conf, served by tests/nginx_lib.sh in
# front of tests/fake_fcgi.py (a FastCGI responder standing in for blueflow):
# webhooks reach the upstream with the secret header, bodies over 1 MiB get
# 413 from nginx, /metrics is for local clients only, anything else is 404,
# TLS below 1.2 is refused, the access log keeps secrets and query strings
# out, and the harness cleans up after itself. Loopback only. Skipped (77)
# without nginx, openssl, curl or python3.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"

if ! nginx_available; then
	echo "skip: no nginx ($NGINX) or openssl"
	exit 77
fi
need_tools curl python3

CONF=$SRCDIR/nginx/blueflow.conf
SECRET=s3cr3t_Token-42

# The production file keeps the directives this test relies on. The body
# limit needs a look of its own: 1m is also nginx's default, so behaviour
# alone would not notice the line going.
if grep -Eq '^[[:space:]]*location[[:space:]]+/tg/[[:space:]]*\{' "$CONF"; then
	ok conf-has-tg-location; else fail conf-has-tg-location "no 'location /tg/ {' in $CONF"
fi
if grep -Eq '^[[:space:]]*client_max_body_size[[:space:]]+1m;' "$CONF"; then
	ok conf-has-body-limit; else fail conf-has-body-limit "no 'client_max_body_size 1m;' in $CONF"
fi
if grep -Eq '^[[:space:]]*ssl_protocols[[:space:]]+TLSv1\.2[[:space:]]+TLSv1\.3;' "$CONF"; then
	ok conf-tls-12-13; else fail conf-tls-12-13 "ssl_protocols is not 'TLSv1.2 TLSv1.3' in $CONF"
fi

# The stand-in for blueflow, stopped on exit (after nginx: at_exit runs the
# newest first).
SOCK=$T_TMP/fcgi.sock
FCGI_LOG=$T_TMP/fcgi.log
: >"$FCGI_LOG"
python3 "$SRCDIR/tests/fake_fcgi.py" "unix:$SOCK" "$FCGI_LOG" \
	>"$T_TMP/fcgi.out" 2>&1 &
FCGI_PID=$!
at_exit 'kill "$FCGI_PID" 2>/dev/null; wait "$FCGI_PID" 2>/dev/null'
if ! wait_for "$T_TMP/fcgi.out" ready; then
	fail fake-fcgi-start "$(cat "$T_TMP/fcgi.out")"
	finish
	exit 1
fi

if ! nginx_start "unix:$SOCK"; then
	fail nginx-start "see above"
	finish
	exit 1
fi
ok nginx-start

# req NAME CURL-ARGS...: one HTTPS request through nginx; RC is curl's exit
# status, $T_TMP/out holds the status code and $T_TMP/body the body.
req() {
	: >"$T_TMP/body"
	run curl -sS --max-time 20 --cacert "$NGINX_CA" -o "$T_TMP/body" \
		-w '%{http_code}' "$@"
}

# expect_code NAME CODE: the last req got HTTP CODE.
expect_code() {
	if [ "$RC" -eq 0 ] && [ "$(cat "$T_TMP/out")" = "$2" ]; then ok "$1"; else
		fail "$1" "curl exit $RC, status $(cat "$T_TMP/out"), wanted $2; $(head -c 300 "$T_TMP/err" "$T_TMP/body")"
	fi
}

# expect_body NAME TEXT: the last req's body is TEXT (one line).
expect_body() {
	if [ "$(cat "$T_TMP/body")" = "$2" ]; then ok "$1"; else
		fail "$1" "body '$(head -c 300 "$T_TMP/body")', wanted '$2'"
	fi
}

# The webhook: method, path, secret header and length reach the upstream.
req -H "X-Telegram-Bot-Api-Secret-Token: $SECRET" \
	-H 'Content-Type: application/json' --data-binary '{"update_id":1}' \
	"$NGINX_URL/tg/demo?q=leak"
expect_code webhook-200 200
expect_body webhook-reaches-upstream "ok POST /tg/demo $SECRET 15"
if grep -qF '"REQUEST_URI": "/tg/demo?q=leak"' "$FCGI_LOG" &&
	grep -qF '"HTTPS": "on"' "$FCGI_LOG" && grep -qF '"body_bytes": 15' "$FCGI_LOG"; then
	ok webhook-params; else fail webhook-params "REQUEST_URI, HTTPS or the body missing: $(head -c 600 "$FCGI_LOG")"
fi

# Exactly 1 MiB is allowed, and stays in memory (no temporary file).
head -c 1048576 /dev/zero >"$T_TMP/1m"
req -H "X-Telegram-Bot-Api-Secret-Token: $SECRET" --data-binary "@$T_TMP/1m" \
	"$NGINX_URL/tg/demo"
expect_code body-1mib-200 200
expect_body body-1mib-reaches-upstream "ok POST /tg/demo $SECRET 1048576"
if grep -q 'buffered to a temporary file' "$NGINX_LOG"; then
	fail body-in-memory "$(grep 'temporary file' "$NGINX_LOG" | head -n 2)"; else ok body-in-memory
fi

# One byte more: 413 from nginx; the upstream never sees it.
head -c 1048577 /dev/zero >"$T_TMP/1m1"
req -H "X-Telegram-Bot-Api-Secret-Token: $SECRET" --data-binary "@$T_TMP/1m1" \
	"$NGINX_URL/tg/demo"
expect_code body-over-1mib-413 413
if grep -qF '"CONTENT_LENGTH": "1048577"' "$FCGI_LOG"; then
	fail body-over-1mib-not-passed "the upstream saw it"; else ok body-over-1mib-not-passed
fi

# Health and metrics from this machine.
req "$NGINX_URL/metrics"
expect_code metrics-local-200 200
expect_body metrics-reaches-upstream "ok GET /metrics - -"
req "$NGINX_URL/healthz"
expect_code healthz-local-200 200

# From another loopback address (not 127.0.0.1): metrics refused, webhooks
# still served (the Telegram allow-list is off by default).
req --interface 127.0.0.2 "$NGINX_URL/metrics"
expect_code metrics-other-address-403 403
req --interface 127.0.0.2 -H "X-Telegram-Bot-Api-Secret-Token: $SECRET" \
	--data-binary '{}' "$NGINX_URL/tg/demo"
expect_code webhook-other-address-200 200

# Anything else: 404 from nginx, never the upstream.
n_before=$(wc -l <"$FCGI_LOG")
for path in /elsewhere / /tg /metrics/x /healthz.php /index.php; do
	req "$NGINX_URL$path"
	expect_code "404-$path" 404
done
if [ "$(wc -l <"$FCGI_LOG")" -eq "$n_before" ]; then ok 404-not-passed; else
	fail 404-not-passed "the upstream saw: $(tail -n 1 "$FCGI_LOG")"
fi

# No kept-alive upstream connections (a blueflow worker serves one
# connection at a time): two requests in a row use two.
req "$NGINX_URL/healthz"
req "$NGINX_URL/healthz"
conns=$(tail -n 2 "$FCGI_LOG" | sed 's/^{"conn": \([0-9]*\),.*/\1/' | sort -u | wc -l)
if [ "$conns" -eq 2 ]; then ok upstream-no-keepalive; else
	fail upstream-no-keepalive "two requests used $conns connections"
fi

# TLS: 1.2 and 1.3 work; 1.1 and 1.0 are refused by nginx. The client is
# allowed the old versions (SECLEVEL=0), so that the refusal is nginx's.
req --tlsv1.3 "$NGINX_URL/healthz"
expect_code tls13-works 200
req --tlsv1.2 --tls-max 1.2 "$NGINX_URL/healthz"
expect_code tls12-works 200
req --tlsv1.2 --tls-max 1.2 --ciphers 'DEFAULT:@SECLEVEL=0' "$NGINX_URL/healthz"
expect_code tls12-works-with-seclevel-0 200
req --tlsv1.0 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0' "$NGINX_URL/healthz"
# nginx answers with a protocol_version alert (curl: "tlsv1 alert protocol
# version"); a refusal by the client itself would read otherwise.
if [ "$RC" -ne 0 ] && [ "$(cat "$T_TMP/out")" = 000 ] &&
	grep -qi 'protocol version' "$T_TMP/err"; then ok tls11-refused; else
	fail tls11-refused "curl exit $RC, status $(cat "$T_TMP/out"): $(head -c 300 "$T_TMP/err")"
fi

# The access log: one JSON object per line, with the path but without the
# query string, the secret or any body.
wait_for "$NGINX_ACCESS_LOG" '"path":"/index.php"'
if python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)
' "$NGINX_ACCESS_LOG" 2>"$T_TMP/err"; then ok access-log-json; else
	fail access-log-json "$(tail -n 1 "$T_TMP/err")"
fi
if grep -qF '"path":"/tg/demo"' "$NGINX_ACCESS_LOG"; then ok access-log-path; else
	fail access-log-path "$(head -c 600 "$NGINX_ACCESS_LOG")"
fi
for secret in leak "$SECRET" update_id; do
	if grep -qF -- "$secret" "$NGINX_ACCESS_LOG" "$NGINX_LOG"; then
		fail "logs-lack-$secret" "$(grep -F -- "$secret" "$NGINX_ACCESS_LOG" "$NGINX_LOG" | head -n 1)"
	else ok "logs-lack-$secret"; fi
done

# A second nginx in a subshell: its own dir and port, gone when the subshell
# exits, leaving ours and T_TMP alone.
first_dir=$NGINX_DIR
(
	nginx_start "unix:$SOCK" || exit 1
	[ "$NGINX_DIR" != "$first_dir" ] || exit 2
	curl -sf --max-time 20 --cacert "$NGINX_CA" "$NGINX_URL/healthz" >/dev/null || exit 3
	echo "$NGINX_DIR $(cat "$NGINX_DIR/nginx.pid")" >"$T_TMP/second"
) >"$T_TMP/out" 2>"$T_TMP/err"
RC=$?
expect_rc second-nginx 0
read -r second_dir second_pid <"$T_TMP/second" 2>/dev/null || second_dir=
if [ -n "$second_dir" ] && [ ! -e "$second_dir" ] &&
	! nginx__alive "$second_dir" "$second_pid"; then ok second-nginx-cleaned-up; else
	fail second-nginx-cleaned-up "'$second_dir' (pid ${second_pid:-?}) is still there"
fi
if [ -d "$T_TMP" ] && [ -S "$SOCK" ]; then ok subshell-kept-t-tmp; else
	fail subshell-kept-t-tmp "T_TMP or the socket is gone"
fi
req "$NGINX_URL/healthz"
expect_code first-nginx-still-up 200

# A script killed with TERM still stops its nginx and removes its dirs.
sh -c '. "$SRCDIR/tests/lib.sh"; . "$SRCDIR/tests/nginx_lib.sh"
	nginx_start "$1" || exit 1
	echo "$NGINX_DIR $(cat "$NGINX_DIR/nginx.pid") $T_TMP" >"$2.tmp"
	mv "$2.tmp" "$2"
	while :; do sleep 1; done' sh "unix:$SOCK" "$T_TMP/third" \
	>"$T_TMP/third.out" 2>&1 &
third=$!
i=0
while [ ! -s "$T_TMP/third" ] && [ "$i" -lt 200 ] && kill -0 "$third" 2>/dev/null; do
	sleep 0.05 2>/dev/null || sleep 1
	i=$((i + 1))
done
kill -TERM "$third" 2>/dev/null
wait "$third"
RC=$?
read -r third_dir third_pid third_tmp <"$T_TMP/third" 2>/dev/null || third_dir=
if [ -n "$third_dir" ] && [ "$RC" -eq 143 ] && [ ! -e "$third_dir" ] &&
	[ ! -e "$third_tmp" ] && ! nginx__alive "$third_dir" "$third_pid"; then
	ok term-cleans-up; else
	fail term-cleans-up "exit $RC; '$third_dir' '$third_tmp'; $(head -c 300 "$T_TMP/third.out")"
fi

# nginx_stop: the master goes, the port closes.
pid=$(cat "$NGINX_DIR/nginx.pid")
run nginx_stop
expect_rc nginx-stop 0
if ! nginx__alive "$NGINX_DIR" "$pid" && ! port_busy "$NGINX_PORT"; then
	ok nginx-stopped; else fail nginx-stopped "pid $pid or port $NGINX_PORT still there"
fi

finish
