#!/bin/sh
# tests/media.sh - media in prompts, notify and photos as answers, through
# nginx (TLS) and `blueflow serve` on SQLite and on PostgreSQL, delivered
# by the sender to the fake Bot API: a local photo is uploaded once by
# multipart and sent by the file_id Telegram gave it to the next chat (the
# fake's log shows one multipart upload for two chats), a changed file is
# uploaded again; an https URL and a file_id go through as they are; a
# notify node's message reaches the admin chat; a photo sent as a photo
# is taken by a file_upload node with "photos". No reply to a webhook
# carries a local file (the reply cannot upload one). Loopback only.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

if ! nginx_available || ! pg_available; then
	echo "skip: nginx or PostgreSQL missing"
	exit 77
fi
need_tools curl python3 sqlite3

TOKEN=646464:media-Test_token
export MEDIA_TOKEN=$TOKEN MEDIA_SECRET=media-Secret_1 ADMIN=-1001234567890
secret "$MEDIA_SECRET"
botapi_start "$TOKEN"

# a PNG by its first bytes; a JPEG for the photo the user sends
{ printf '\211PNG\r\n\032\n'; head -c 2000 /dev/urandom; } >"$T_TMP/logo.png"
{ printf '\377\330\377\340'; head -c 3000 /dev/urandom; } >"$T_TMP/badge.jpg"
botapi_ctl file "{\"file_id\":\"BQACAgIAAxkBAAIBknown\",\"file_unique_id\":\"AgADknown\",\"content_text\":\"%PDF-1.4 rules\"}"

cat >"$T_TMP/flow.json" <<'JSON'
{
  "start": "logo",
  "commands": {"/logo": "again"},
  "nodes": {
    "again": {"type": "cutscene", "node_text": "Our logo.", "media": {"photo": "logo.png"}},
    "logo": {"type": "cutscene", "node_text": "Welcome, {{user.first_name}}!",
             "media": {"photo": "logo.png"}, "next": "badge"},
    "badge": {"type": "file_upload", "node_text": "Send a photo of your badge.",
              "allowed_mime": ["image/jpeg"], "photos": true, "key_to_save": "badge",
              "next": "url"},
    "url": {"type": "cutscene", "node_text": "Our office:",
            "media": {"photo": "https://example.com/office.jpg"}, "next": "fid"},
    "fid": {"type": "cutscene", "node_text": "The house rules.",
            "media": {"document": "BQACAgIAAxkBAAIBknown"}, "next": "tell"},
    "tell": {"type": "notify", "node_text": "Badge received from {{user.first_name}} (chat {{chat.id}}).",
             "next": "bye"},
    "bye": {"type": "cutscene", "node_text": "All set."}
  }
}
JSON
"$BLUEFLOW" check "$T_TMP/flow.json" 2>"$T_TMP/check.err" && ok flow-checks ||
	fail flow-checks "$(cat "$T_TMP/check.err")"

# serve_start DB: the pool on DB, behind nginx (started once, below)
serve_start() {
	cat >"$T_TMP/media.conf" <<CONF
[server]
db = $1
listen = $T_TMP/bf.sock
api_base = $API
storage = $T_TMP/files
workers = 2

[bot demo]
flow = $T_TMP/flow.json
token_env = MEDIA_TOKEN
secret_env = MEDIA_SECRET
admin_chat = $ADMIN
CONF
	"$BLUEFLOW" db migrate -c "$T_TMP/media.conf" >/dev/null 2>>"$T_TMP/serve.log"
	"$BLUEFLOW" serve -c "$T_TMP/media.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	i=0
	while [ ! -S "$T_TMP/bf.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$T_TMP/bf.sock" ] && ok "$2-serve-started" || fail "$2-serve-started" "$(tail -5 "$T_TMP/serve.log")"
}

serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	rm -f "$T_TMP/bf.sock"
}

# post CHAT UPDATE_ID JSON-FIELDS: one message update through nginx; the
# reply body in $T_TMP/reply
post() {
	curl -sS --max-time 20 --cacert "$NGINX_CA" -o "$T_TMP/reply" -w '%{http_code}' \
		-H "X-Telegram-Bot-Api-Secret-Token: $MEDIA_SECRET" -H 'Content-Type: application/json' \
		--data "{\"update_id\":$2,\"message\":{\"message_id\":$2,\"date\":$(date +%s),\"from\":{\"id\":$1,\"is_bot\":false,\"first_name\":\"Ada\"},\"chat\":{\"id\":$1,\"type\":\"private\"},$3}}" \
		"$NGINX_URL/tg/demo" >"$T_TMP/status" 2>&1
	cat "$T_TMP/reply" >>"$T_TMP/replies"
	[ "$(cat "$T_TMP/status")" = 200 ]
}

# calls QUERY [WANT]: the fake's log lines QUERY (a python expression over
# c, the call, and p, its params) holds for, counted; waits up to 10 s for
# at least WANT (default 1)
calls() {
	python3 - "$T_TMP/calls.jsonl" "$1" "${2:-1}" <<'PY'
import json, sys, time
end = time.time() + 10
while True:
    n = 0
    for line in open(sys.argv[1]):
        if not line.endswith("\n"):
            break    # the fake Bot API is writing it still
        c = json.loads(line)
        p = c.get("params") or {}
        if c.get("ok") and eval(sys.argv[2]):
            n += 1
    if n >= int(sys.argv[3]) or time.time() > end:
        break
    time.sleep(0.05)
print(n)
PY
}

nginx_start "unix:$T_TMP/bf.sock" || { fail nginx-start "see above"; finish; exit 1; }
pg_start || { fail pg-start "see above"; finish; exit 1; }

# run_backend NAME DB BASE: the whole story on one store; chats BASE+1..3
run_backend() {
	name=$1 base=$3
	a=$((base + 1)) b=$((base + 2)) c=$((base + 3))
	botapi_ctl reset
	botapi_ctl file "{\"file_id\":\"BQACAgIAAxkBAAIBknown\",\"file_unique_id\":\"AgADknown\",\"content_text\":\"%PDF-1.4 rules\"}"
	botapi_ctl file "{\"file_id\":\"AgACAgIAAxkBAAIBbadge\",\"file_unique_id\":\"AgADbadge$base\",\"file_path\":\"photos/badge$base.jpg\",\"content_file\":\"$T_TMP/badge.jpg\"}"
	{ printf '\211PNG\r\n\032\n'; head -c 2000 /dev/urandom; } >"$T_TMP/logo.png"
	: >"$T_TMP/replies"
	serve_start "$2" "$name"

	post $a $((base * 10 + 1)) '"text":"/start"' && ok "$name-start-a" || fail "$name-start-a" "$(cat "$T_TMP/status")"
	[ "$(calls "c['method'] == 'sendPhoto' and c['body_type'] == 'multipart' and str(p.get('chat_id')) == '$a'")" = 1 ] &&
		ok "$name-local-photo-uploaded" || fail "$name-local-photo-uploaded" "$(tail -3 "$T_TMP/calls.jsonl")"
	[ "$(calls "c['method'] == 'sendPhoto' and str(p.get('chat_id')) == '$a' and p.get('caption') == 'Welcome, Ada!' and p['photo']['filename'] == 'logo.png'")" = 1 ] &&
		ok "$name-caption-and-name" || fail "$name-caption-and-name" "$(grep sendPhoto "$T_TMP/calls.jsonl" | tail -1)"
	post $b $((base * 10 + 2)) '"text":"/start"' && ok "$name-start-b" || fail "$name-start-b" "$(cat "$T_TMP/status")"
	[ "$(calls "c['method'] == 'sendPhoto' and c['body_type'] == 'json' and str(p.get('chat_id')) == '$b' and str(p.get('photo')).startswith('fake-photo-')")" = 1 ] &&
		ok "$name-second-chat-by-file-id" || fail "$name-second-chat-by-file-id" "$(grep sendPhoto "$T_TMP/calls.jsonl" | tail -1)"
	# chat b's photo went already: had it been uploaded, the log shows it
	n=$(calls "c['method'] == 'sendPhoto' and c['body_type'] == 'multipart'")
	[ "$n" = 1 ] && ok "$name-one-upload-for-two-chats" || fail "$name-one-upload-for-two-chats" "$n multipart uploads"

	# the file changes: another hash, uploaded again
	{ printf '\211PNG\r\n\032\n'; head -c 2000 /dev/urandom; } >"$T_TMP/logo.png"
	post $c $((base * 10 + 3)) '"text":"/start"'
	n=$(calls "c['method'] == 'sendPhoto' and c['body_type'] == 'multipart'" 2)
	[ "$n" = 2 ] && ok "$name-changed-file-uploaded-again" || fail "$name-changed-file-uploaded-again" "$n multipart uploads"

	# Telegram refuses the kept file_id (say, the bot's token changed): the
	# id is forgotten and the same call goes again as an upload
	e=$((base + 6))
	botapi_ctl fault "{\"kind\":\"error\",\"method\":\"sendPhoto\",\"chat_id\":\"$e\",\"count\":1,\"error_code\":400,\"description\":\"Bad Request: wrong file identifier/HTTP URL specified\"}"
	post $e $((base * 10 + 6)) '"text":"/start"'
	[ "$(calls "c['method'] == 'sendPhoto' and c['body_type'] == 'multipart' and str(p.get('chat_id')) == '$e'")" = 1 ] &&
		ok "$name-refused-file-id-uploaded-again" ||
		fail "$name-refused-file-id-uploaded-again" "$(grep sendPhoto "$T_TMP/calls.jsonl" | tail -2)"
	REFUSED=$((REFUSED + 1))   # serve.log has every store's lines
	[ "$(grep -c 'media file_id refused: uploading again' "$T_TMP/serve.log")" = "$REFUSED" ] &&
		ok "$name-refused-file-id-logged" || fail "$name-refused-file-id-logged" "$(tail -3 "$T_TMP/serve.log")"

	# the step's one message, with a local file: to the outbox, not inline
	d=$((base + 4))
	post $d $((base * 10 + 5)) '"text":"/logo"' && [ ! -s "$T_TMP/reply" ] &&
		ok "$name-lone-media-not-inline" || fail "$name-lone-media-not-inline" "$(cat "$T_TMP/status" "$T_TMP/reply")"
	[ "$(calls "c['method'] == 'sendPhoto' and c['body_type'] == 'json' and str(p.get('chat_id')) == '$d' and p.get('caption') == 'Our logo.'")" = 1 ] &&
		ok "$name-lone-media-sent" || fail "$name-lone-media-sent" "$(grep sendPhoto "$T_TMP/calls.jsonl" | tail -1)"

	# a photo as the answer; then a URL, a file_id, the notify
	post $a $((base * 10 + 4)) '"photo":[{"file_id":"AgACAgIAAxkBAAIBsmall","file_unique_id":"AgADsmall","width":90,"height":90,"file_size":100},{"file_id":"AgACAgIAAxkBAAIBbadge","file_unique_id":"AgADbadge'"$base"'","width":800,"height":800,"file_size":3004}]' &&
		ok "$name-photo-posted" || fail "$name-photo-posted" "$(cat "$T_TMP/status")"
	[ "$(calls "c['method'] == 'sendMessage' and str(p.get('chat_id')) == '$a' and p.get('text') == 'All set.'")" = 1 ] &&
		ok "$name-photo-answer-taken" || fail "$name-photo-answer-taken" "$(tail -3 "$T_TMP/calls.jsonl")"
	[ "$(calls "c['method'] == 'sendPhoto' and p.get('photo') == 'https://example.com/office.jpg' and p.get('caption') == 'Our office:'")" = 1 ] &&
		ok "$name-url-passed-through" || fail "$name-url-passed-through" "$(grep -c office "$T_TMP/calls.jsonl")"
	[ "$(calls "c['method'] == 'sendDocument' and p.get('document') == 'BQACAgIAAxkBAAIBknown'")" = 1 ] &&
		ok "$name-file-id-passed-through" || fail "$name-file-id-passed-through" "$(grep -c known "$T_TMP/calls.jsonl")"
	[ "$(calls "c['method'] == 'sendMessage' and str(p.get('chat_id')) == '$ADMIN' and p.get('text') == 'Badge received from Ada (chat $a).'")" = 1 ] &&
		ok "$name-notify-to-admin" || fail "$name-notify-to-admin" "$(grep -- "$ADMIN" "$T_TMP/calls.jsonl" | tail -1)"
	[ "$(find "$T_TMP/files" -name "*AgADbadge$base*.jpg" | wc -l)" = 1 ] && ok "$name-photo-kept" ||
		fail "$name-photo-kept" "$(find "$T_TMP/files" -type f)"
	if grep -q '"file":' "$T_TMP/replies"; then
		fail "$name-no-local-file-inline" "$(cat "$T_TMP/replies")"
	else
		ok "$name-no-local-file-inline"
	fi
	serve_stop
}

REFUSED=0
run_backend sqlite "sqlite:$T_TMP/media.db" 100
rows=$(sqlite3 "$T_TMP/media.db" "select count(*) from media_files where bot = 'demo' and kind = 'photo'")
[ "$rows" = 2 ] && ok sqlite-file-ids-kept || fail sqlite-file-ids-kept "$rows rows"
run_backend pg "$PG_URI" 200
rows=$(pg_psql "select count(*) from media_files where bot = 'demo' and kind = 'photo'" 2>&1)
[ "$rows" = 2 ] && ok pg-file-ids-kept || fail pg-file-ids-kept "$rows rows"
finish
