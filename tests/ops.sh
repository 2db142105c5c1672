#!/bin/sh
# tests/ops.sh - the operator's commands on SQLite and on PostgreSQL, with
# chats made through the webhook (blueflow as plain CGI) and an uploaded
# PDF fetched from the fake Bot API:
#   export --format csv|jsonl: every chat's answers, non-ASCII, quotes,
#     commas and line breaks intact (read back with Python's csv module),
#     the attachment's path, a formula-looking answer made inert;
#   outbox list [--dead], retry, drop: what they show and change, and an
#     unknown id refused;
#   chat forget: the chat's rows and files gone, another chat untouched,
#     the chat starting afresh when it writes again.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/pg_lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"
. "$SRCDIR/tests/cgi_lib.sh"

TOKEN=626262:ops-Test_token
export OPS_TOKEN=$TOKEN OPS_SECRET=ops-Secret_1
secret "$OPS_SECRET"
CGI_BOT=demo CGI_SECRET=$OPS_SECRET
botapi_start "$TOKEN"

cat >"$T_TMP/flow.json" <<'JSON'
{
  "start": "name",
  "forget_command": "/forget",
  "nodes": {
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "cv"},
    "cv": {"type": "file_upload", "node_text": "Your CV as a PDF?",
           "allowed_mime": ["application/pdf"], "max_mb": 1, "key_to_save": "cv", "next": "city"},
    "city": {"type": "text", "node_text": "Your city?", "key_to_save": "city", "next": "bye"},
    "bye": {"type": "cutscene", "node_text": "Thanks."}
  }
}
JSON
{ printf '%%PDF-1.4\n'; head -c 2000 /dev/urandom; } >"$T_TMP/cv.pdf"
botapi_ctl file "{\"file_id\":\"Dcv\",\"file_unique_id\":\"AgADcv\",\"file_path\":\"documents/cv.pdf\",\"content_file\":\"$T_TMP/cv.pdf\"}"

# q BACKEND SQL: one value (or rows, |-separated)
q() {
	if [ "$1" = sqlite ]; then sqlite3 -cmd ".timeout 5000" "$DB_FILE" "$2"
	else "$PG_BIN/psql" -X -At -d "$PG_URI" -c "$2"; fi
}

run_backend() {
	b=$1
	FILES=$T_TMP/files-$b
	CGI_CONF=$T_TMP/$b.conf
	cat >"$CGI_CONF" <<CONF
[server]
db = $2
storage = $FILES
api_base = $API

[bot demo]
flow = $T_TMP/flow.json
token_env = OPS_TOKEN
secret_env = OPS_SECRET
# every call goes to the outbox (no sender runs here): the outbox commands
# have rows to show
inline_reply = off
CONF
	"$BLUEFLOW" db migrate -c "$CGI_CONF" >/dev/null || fail "$b-migrate" "db migrate failed"

	# chat 7001: a name with non-ASCII, quotes, a comma; the PDF; a city
	# on two lines that looks like a formula. chat 7002: a name only.
	CHAT=7001
	cgi_post '"text":"/start"'
	cgi_post '"text":"Zoë \"Q\", Jr. 日本"'
	cgi_doc Dcv AgADcv application/pdf "$(wc -c <"$T_TMP/cv.pdf")"
	CV_UPD=$CGI_UPD
	cgi_post '"text":"=HYPERLINK(\"x\")\nSão Paulo"'
	CHAT=7002
	cgi_post '"text":"/start"'
	cgi_post '"text":"Ann"'
	# chat 7004: its only message came two days late ("too late"): kept
	# as a row, but it never entered the flow, so export leaves it out
	CHAT=7004
	CGI_DATE=$(($(date +%s) - 2 * 86400))
	cgi_post '"text":"hello"'
	CGI_DATE=
	q "$b" "select params from outbox where chat_id = 7004" | grep -q "reached me too late" &&
		[ "$(q "$b" "select count(*) from chats where chat_id = 7004")" = 1 ] && ok "$b-late-chat-kept" ||
		fail "$b-late-chat-kept" "$(q "$b" "select * from chats where chat_id = 7004")"
	[ "$(q "$b" "select node from chats where chat_id = 7001")" = bye ] && ok "$b-chat1-done" ||
		fail "$b-chat1-done" "$(q "$b" "select node from chats") $(tail -n 3 "$T_TMP/cgi.log")"
	CV=$FILES/demo/7001/$CV_UPD-AgADcv.pdf
	[ -f "$CV" ] && ok "$b-cv-kept" || fail "$b-cv-kept" "no $CV"
	[ "$(q "$b" "select sha256 from attachments where chat_id = 7001")" = "$(sha256sum <"$T_TMP/cv.pdf" | cut -d' ' -f1)" ] &&
		ok "$b-cv-row" || fail "$b-cv-row" "$(q "$b" "select * from attachments")"

	# --- export
	run "$BLUEFLOW" export demo -c "$CGI_CONF"
	expect_rc "$b-export-csv-rc" 0
	cp "$T_TMP/out" "$T_TMP/export.csv"
	python3 - "$T_TMP/export.csv" "$CV" <<'PY' >"$T_TMP/why" 2>&1 && ok "$b-export-csv" || fail "$b-export-csv" "$(cat "$T_TMP/why")"
import csv, sys
raw = open(sys.argv[1], newline="", encoding="utf-8").read()
rows = list(csv.reader(raw.splitlines(keepends=True) and __import__("io").StringIO(raw, newline="")))
# the answers in the flow's order (name, cv, city), not alphabetical
assert rows[0] == ["chat_id", "node", "finished", "updated_at", "status", "name", "cv", "city"], rows[0]
assert len(rows) == 3, rows
a, b = rows[1], rows[2]
assert a[0] == "7001" and a[1] == "bye" and a[2] == "true" and a[4] == "finished", a
assert a[5] == 'Zoë "Q", Jr. 日本', a[5]
assert a[6] == sys.argv[2], (a[6], sys.argv[2])
assert a[7] == "'=HYPERLINK(\"x\")\nSão Paulo", repr(a[7])
assert b[0] == "7002" and b[1] == "cv" and b[4] == "waiting", b
assert b[5] == "Ann" and b[6] == "" and b[7] == "", b
assert raw.count("\r\n") == 3, "rows end in CRLF"
PY
	run "$BLUEFLOW" export demo --format jsonl -c "$CGI_CONF"
	expect_rc "$b-export-jsonl-rc" 0
	python3 - "$T_TMP/out" "$CV" <<'PY' >"$T_TMP/why" 2>&1 && ok "$b-export-jsonl" || fail "$b-export-jsonl" "$(cat "$T_TMP/why")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [r["chat_id"] for r in rows] == [7001, 7002], rows
assert rows[0]["answers"] == {"name": 'Zoë "Q", Jr. 日本', "cv": sys.argv[2],
                              "city": '=HYPERLINK("x")\nSão Paulo'}, rows[0]
assert rows[0]["finished"] is True and rows[1]["node"] == "cv", rows
assert [r["status"] for r in rows] == ["finished", "waiting"], rows
PY
	run "$BLUEFLOW" export nobot -c "$CGI_CONF"
	expect_rc "$b-export-unknown-bot" 1
	expect_err "$b-export-unknown-bot-named" 'no bot "nobot"'

	# --- outbox: every call is pending; make two of them dead letters
	pending=$(q "$b" "select count(*) from outbox where state = 'pending'")
	run "$BLUEFLOW" outbox list -c "$CGI_CONF"
	expect_rc "$b-outbox-list-rc" 0
	[ "$(($(wc -l <"$T_TMP/out") - 1))" = "$pending" ] && [ "$pending" -gt 3 ] && ok "$b-outbox-list" ||
		fail "$b-outbox-list" "$pending pending, listed: $(cat "$T_TMP/out")"
	# what each call says: the start of its text, cut at 30 characters
	grep -q '^[0-9]* *demo *7001 *sendMessage .*"Your name?"' "$T_TMP/out" &&
		grep -q ' 7004 .*"Sorry, this message reached me…" ' "$T_TMP/out" &&
		grep -q '^ID .* SAYS  *NEXT TRY$' "$T_TMP/out" && ok "$b-outbox-list-says" ||
		fail "$b-outbox-list-says" "$(cat "$T_TMP/out")"
	ids=$(q "$b" "select id from outbox where chat_id = 7002 order by id" | tr '\n' ' ')
	d1=${ids%% *}
	rest=${ids#* }
	d2=${rest%% *}
	q "$b" "update outbox set state = 'dead', attempts = 4, last_error = 'Bad Request: chat not found' where id in ($d1, $d2)" >/dev/null
	run "$BLUEFLOW" outbox list --dead -c "$CGI_CONF"
	[ "$(grep -c '"Your name?" .*Bad Request: chat not found\|"Your CV as a PDF?" .*Bad Request: chat not found' "$T_TMP/out")" = 2 ] && grep -q "^$d1 " "$T_TMP/out" &&
		ok "$b-outbox-list-dead" || fail "$b-outbox-list-dead" "$(cat "$T_TMP/out")"
	run "$BLUEFLOW" outbox retry "$d1" -c "$CGI_CONF"
	expect_rc "$b-outbox-retry-rc" 0
	[ "$(q "$b" "select state || ' ' || attempts from outbox where id = $d1")" = "pending 0" ] &&
		ok "$b-outbox-retried" || fail "$b-outbox-retried" "$(q "$b" "select state, attempts from outbox where id = $d1")"
	run "$BLUEFLOW" outbox retry 999999 -c "$CGI_CONF"
	expect_rc "$b-outbox-retry-unknown" 1
	expect_err "$b-outbox-retry-unknown-said" "no dead call 999999"
	run "$BLUEFLOW" outbox retry -c "$CGI_CONF"
	expect_rc "$b-outbox-retry-needs-ids" 2
	run "$BLUEFLOW" outbox drop --dead -c "$CGI_CONF"
	expect_rc "$b-outbox-drop-dead-rc" 0
	[ "$(q "$b" "select count(*) from outbox where id = $d2")" = 0 ] &&
		[ "$(q "$b" "select count(*) from outbox where id = $d1")" = 1 ] && ok "$b-outbox-drop-dead" ||
		fail "$b-outbox-drop-dead" "$(cat "$T_TMP/out")"
	run "$BLUEFLOW" outbox drop "$d1" -c "$CGI_CONF"
	[ "$RC" = 0 ] && [ "$(q "$b" "select count(*) from outbox where id = $d1")" = 0 ] &&
		ok "$b-outbox-drop-id" || fail "$b-outbox-drop-id" "$(cat "$T_TMP/out" "$T_TMP/err")"

	# --- chat forget
	run "$BLUEFLOW" chat forget demo 7001 -c "$CGI_CONF"
	expect_rc "$b-forget-rc" 0
	grep -q "1 file deleted" "$T_TMP/out" && ok "$b-forget-said" || fail "$b-forget-said" "$(cat "$T_TMP/out")"
	left=$(q "$b" "select (select count(*) from chats where chat_id = 7001) + (select count(*) from transcript where chat_id = 7001) + (select count(*) from outbox where chat_id = 7001) + (select count(*) from attachments where chat_id = 7001)")
	[ "$left" = 0 ] && ok "$b-forget-rows" || fail "$b-forget-rows" "$left rows left"
	[ ! -e "$FILES/demo/7001" ] && ok "$b-forget-files" || fail "$b-forget-files" "$(ls -la "$FILES/demo/7001")"
	[ "$(q "$b" "select count(*) from transcript where chat_id = 7002")" -gt 0 ] &&
		[ "$(q "$b" "select node from chats where chat_id = 7002")" = cv ] && ok "$b-forget-others-kept" ||
		fail "$b-forget-others-kept" "chat 7002 changed"
	# forgotten already, or a typo'd id: no such chat, exit 1
	run "$BLUEFLOW" chat forget demo 7001 -c "$CGI_CONF"
	expect_rc "$b-forget-twice" 1
	expect_err "$b-forget-twice-says" "no chat 7001 of demo: nothing is kept about it"
	run "$BLUEFLOW" chat forget demo 70002 -c "$CGI_CONF"
	expect_rc "$b-forget-no-such-chat" 1
	expect_lines "$b-forget-no-such-chat-nothing-done" "$T_TMP/out" 0
	run "$BLUEFLOW" chat forget other 7001 -c "$CGI_CONF"
	expect_rc "$b-forget-unknown-bot" 1
	run "$BLUEFLOW" chat forget demo seven -c "$CGI_CONF"
	expect_rc "$b-forget-bad-id" 2
	# --- the flow's /forget: the same, asked by the user
	CHAT=7003
	cgi_post '"text":"/start"'
	cgi_post '"text":"Eve Smith"'
	cgi_doc Dcv AgADcv application/pdf "$(wc -c <"$T_TMP/cv.pdf")"
	[ -d "$FILES/demo/7003" ] && [ "$(q "$b" "select count(*) from attachments where chat_id = 7003")" = 1 ] &&
		ok "$b-user-forget-setup" || fail "$b-user-forget-setup" "no upload for 7003"
	cgi_post '"text":"/forget"'
	left=$(q "$b" "select (select count(*) from transcript where chat_id = 7003) || ' ' || (select count(*) from attachments where chat_id = 7003) || ' ' || (select count(*) from outbox where chat_id = 7003) || ' ' || (select context || node from chats where chat_id = 7003)")
	[ "$left" = "0 0 1 {}" ] && ok "$b-user-forget-rows" || fail "$b-user-forget-rows" "transcript, attachments, outbox, context+node: $left"
	q "$b" "select params from outbox where chat_id = 7003" | grep -q "everything this bot kept about you is deleted" &&
		ok "$b-user-forget-told" || fail "$b-user-forget-told" "$(q "$b" "select params from outbox where chat_id = 7003")"
	[ ! -e "$FILES/demo/7003" ] && ok "$b-user-forget-files" || fail "$b-user-forget-files" "$(ls -la "$FILES/demo/7003")"
	grep -q '"outcome":"forgotten"' "$T_TMP/cgi.log" && ok "$b-user-forget-logged" || fail "$b-user-forget-logged" "$(tail -n 2 "$T_TMP/cgi.log")"

	CHAT=7001
	cgi_post '"text":"hello again"'
	[ "$(q "$b" "select node from chats where chat_id = 7001")" = name ] && ok "$b-forgotten-starts-afresh" ||
		fail "$b-forgotten-starts-afresh" "$(q "$b" "select node, context from chats where chat_id = 7001")"
}

DB_FILE=$T_TMP/ops.db
run_backend sqlite "sqlite:$DB_FILE"
if pg_available && pg_start; then
	run_backend pg "$PG_URI"
else
	fail pg-started "PostgreSQL could not start"
fi

grep -qF "$TOKEN" "$T_TMP/cgi.log" && fail token-not-logged "the token is in the log" || ok token-not-logged
finish
