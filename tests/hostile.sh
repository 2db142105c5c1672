#!/bin/sh
# tests/hostile.sh - the hostile-input catalogue and the odd senders, each
# through nginx (TLS) to `blueflow serve` on SQLite, with the fake Bot API
# serving files: secrets wrong, missing and 300 characters long; methods
# other than POST; a 100 MB body; a chunked body; one byte over max_body;
# invalid UTF-8 in each string field; JSON nested 100,000 deep; integers
# beyond int64 and floats where ids belong; the same chat id under another
# bot; forged callback data; file names with ../ and NUL; a MIME type that
# lies; a voice note claiming 1 s that is 10 minutes long; 10,000 updates
# from one chat; a press without message_id; no secret where none is
# configured. After each, a bystander's update is served, and at the end
# every one of them was applied once (tests/hostile.py).
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

if ! nginx_available; then
	echo "skip: nginx missing"
	exit 77
fi
export BOT=demo BOT_TOKEN=424242:hostile-Token BOT_SECRET=h0stile-Secret_1 OPEN_TOKEN=434343:open-Token
export SECRET=$BOT_SECRET MAX_BODY=262144 FILES=$T_TMP/files
secret "$BOT_SECRET"
secret "$OPEN_TOKEN"
BOTAPI_ARGS="--token $OPEN_TOKEN" botapi_start "$BOT_TOKEN"

cat >"$T_TMP/flow.json" <<'JSON'
{
  "start": "pick",
  "commands": {"/voice": "voice"},
  "nodes": {
    "pick": {"type": "choice", "node_text": "Pick one.",
             "choices": {"a": "A", "b": "B"}, "key_to_save": "pick", "next": "voice"},
    "voice": {"type": "voice_upload", "node_text": "Send a voice note.",
              "max_seconds": 60, "max_mb": 1, "key_to_save": "voice", "next": "cv"},
    "cv": {"type": "file_upload", "node_text": "Send your CV as a PDF.",
           "allowed_mime": ["application/pdf"], "max_mb": 1, "key_to_save": "cv",
           "next": "name"},
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "bye"},
    "bye": {"type": "cutscene", "node_text": "Thanks, {{name}}."}
  }
}
JSON
DB=sqlite:$T_TMP/hostile.db
cat >"$T_TMP/blueflow.conf" <<CONF
[server]
db = $DB
listen = $T_TMP/bf.sock
api_base = $API
storage = $FILES
workers = 2
max_body = $MAX_BODY
request_timeout = 20

[bot demo]
flow = $T_TMP/flow.json
token_env = BOT_TOKEN
secret_env = BOT_SECRET

[bot open]
flow = $T_TMP/flow.json
token_env = OPEN_TOKEN
CONF
"$BLUEFLOW" serve -c "$T_TMP/blueflow.conf" --foreground 2>>"$T_TMP/serve.log" &
SERVE_PID=$!
at_exit "kill -TERM $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null"
i=0
while [ ! -S "$T_TMP/bf.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T_TMP/bf.sock" ] && ok serve-started || { fail serve-started "$(tail -5 "$T_TMP/serve.log")"; finish; exit 1; }
nginx_start "unix:$T_TMP/bf.sock" || { fail nginx-start "see above"; finish; exit 1; }
export URL=$NGINX_URL CA=$NGINX_CA DB API

workers() { pgrep -P "$SERVE_PID" | wc -l; }
before=$(workers)
run python3 "$SRCDIR/tests/hostile.py" secrets methods big_bodies strings numbers \
	other_bot forged files odd flood bystander
cat "$T_TMP/out"; tail -20 "$T_TMP/err"
[ "$RC" -eq 0 ] && ok catalogue || fail catalogue "$(grep FAIL "$T_TMP/out" | head -10)"
[ "$(workers)" = "$before" ] && ok pool-whole || fail pool-whole "$before workers, now $(workers)"
grep -q '"event":"child exit"' "$T_TMP/serve.log" && fail no-worker-died "$(grep '"child exit"' "$T_TMP/serve.log" | head -3)" || ok no-worker-died
if grep -qF -e "$BOT_TOKEN" -e "$BOT_SECRET" -e "$OPEN_TOKEN" "$T_TMP/serve.log" "$NGINX_LOG" "$NGINX_ACCESS_LOG"; then
	fail no-secret-in-logs "found a token or the secret"
else
	ok no-secret-in-logs
fi
finish
