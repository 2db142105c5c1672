#!/bin/sh
# tests/limits.sh - a bot's per-chat and per-bot limits, enforced by the
# webhook (blueflow as plain CGI, the same code the pool runs) on SQLite
# and, when it is installed, PostgreSQL:
#   max_chat_files   an upload past it is refused with the node's
#                    (overridden) too_many_files message, before getFile;
#                    nothing kept, the chat stays on the node
#   max_bot_bytes    an upload that would pass it: storage_full, likewise
#   max_chat_outbox  a step's calls past it are dead letters with the
#                    reason outbox_full and a log line; the step is saved
#   max_transcript_rows  db prune keeps each chat's newest rows
# and a limit out of range makes check name it.
# Each time another chat is still served.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"
. "$SRCDIR/tests/cgi_lib.sh"
. "$SRCDIR/tests/pg_lib.sh"

TOKEN=616161:limits-Test_token
export LIM_TOKEN=$TOKEN LIM_SECRET=lim-Secret_1
secret "$LIM_SECRET"
botapi_start "$TOKEN"
CGI_BOT=demo CGI_SECRET=$LIM_SECRET

cat >"$T_TMP/flow.json" <<'JSON'
{
  "start": "a",
  "nodes": {
    "a": {"type": "file_upload", "node_text": "Send a PDF.", "max_mb": 1,
          "allowed_mime": ["application/pdf"], "key_to_save": "a", "next": "b",
          "messages": {"too_many_files": "Enough files from you, thanks."}},
    "b": {"type": "file_upload", "node_text": "Send another PDF.", "max_mb": 1,
          "allowed_mime": ["application/pdf"], "key_to_save": "b", "next": "a"}
  }
}
JSON
cat >"$T_TMP/talk.json" <<'JSON'
{
  "start": "name",
  "nodes": {
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name",
             "next": "name"}
  }
}
JSON
head -c 3000 /dev/urandom >"$T_TMP/noise"
{ printf '%%PDF-1.4\n'; cat "$T_TMP/noise"; } >"$T_TMP/good.pdf"
SIZE=$(wc -c <"$T_TMP/good.pdf")

fake_file() {
	botapi_ctl file "{\"file_id\":\"$1\",\"file_unique_id\":\"$2\",\"file_path\":\"documents/$2.bin\",\"content_file\":\"$T_TMP/good.pdf\"}"
}

# run_backend NAME DB BASE: the story on one store; chats BASE+1..4
run_backend() {
	name=$1 db=$2 base=$3
	files=$T_TMP/files-$name
	CGI_CONF=$T_TMP/$name.conf
	cat >"$CGI_CONF" <<CONF
[server]
db = $db
storage = $files
api_base = $API

[bot demo]
flow = $T_TMP/flow.json
token_env = LIM_TOKEN
secret_env = LIM_SECRET
max_chat_files = 2
max_bot_bytes = $((3 * SIZE))
max_transcript_rows = 3

[bot quiet]
flow = $T_TMP/talk.json
token_env = LIM_TOKEN
secret_env = LIM_SECRET
inline_reply = off
max_chat_outbox = 3
CONF
	"$BLUEFLOW" db migrate -c "$CGI_CONF" >/dev/null || fail "$name-migrate" "db migrate failed"
	case $name in
	sqlite) q() { sqlite3 -cmd ".timeout 5000" "${db#sqlite:}" "$1"; } ;;
	*) q() { pg_psql "$1"; } ;;
	esac

	# --- max_chat_files: the third file of a chat is refused before getFile
	CHAT=$((base + 1))
	cgi_post '"text":"/start"'
	cgi_replied "$name-start" "Send a PDF."
	for i in 1 2; do
		fake_file "F$name$i" "U$name$i"
		cgi_doc "F$name$i" "U$name$i" application/pdf "$SIZE"
	done
	cgi_replied "$name-two-files-kept" "Send a PDF."
	fake_file "F${name}3" "U${name}3"
	cgi_doc "F${name}3" "U${name}3" application/pdf "$SIZE"
	cgi_replied "$name-third-file-refused" "Enough files from you, thanks."
	[ "$(botapi_calls getFile "F${name}3")" = 0 ] && ok "$name-third-no-getfile" ||
		fail "$name-third-no-getfile" "getFile was called"
	[ "$(q "select node from chats where bot = 'demo' and chat_id = $CHAT")" = a ] &&
		ok "$name-third-stays" || fail "$name-third-stays" "$(q "select node from chats")"
	[ "$(q "select count(*) from attachments where chat_id = $CHAT")" = 2 ] &&
		ok "$name-two-rows" || fail "$name-two-rows" "$(q "select count(*) from attachments")"
	[ "$(find "$files/demo/$CHAT" -type f | wc -l)" = 2 ] && ok "$name-two-on-disk" ||
		fail "$name-two-on-disk" "$(find "$files" -type f)"
	grep -q '"warning":"document refused: the chat keeps 2 files' "$T_TMP/cgi.log" &&
		ok "$name-too-many-logged" || fail "$name-too-many-logged" "$(tail -n 1 "$T_TMP/cgi.log")"

	# --- max_bot_bytes: another chat's second file would pass 3 files' bytes
	CHAT=$((base + 2))
	cgi_post '"text":"/start"'
	fake_file "G${name}1" "V${name}1"
	cgi_doc "G${name}1" "V${name}1" application/pdf "$SIZE"
	cgi_replied "$name-third-of-bot-kept" "Send another PDF."
	fake_file "G${name}2" "V${name}2"
	cgi_doc "G${name}2" "V${name}2" application/pdf "$SIZE"
	cgi_replied "$name-quota-refused" "This bot cannot keep more files just now"
	[ "$(q "select node from chats where bot = 'demo' and chat_id = $CHAT")" = b ] &&
		ok "$name-quota-stays" || fail "$name-quota-stays" "$(q "select node from chats")"
	[ "$(q "select count(*) from attachments")" = 3 ] && ok "$name-quota-nothing-stored" ||
		fail "$name-quota-nothing-stored" "$(q "select count(*) from attachments")"
	[ "$(find "$files" -type f | wc -l)" = 3 ] && ok "$name-quota-nothing-on-disk" ||
		fail "$name-quota-nothing-on-disk" "$(find "$files" -type f)"

	# --- others are still served
	CHAT=$((base + 3))
	cgi_post '"text":"/start"'
	cgi_replied "$name-others-served" "Send a PDF."

	# --- max_chat_outbox: with nothing sending, the fourth call is a dead letter
	CGI_BOT=quiet
	CHAT=$((base + 4))
	for t in /start Ann Bob Cy Dee; do
		cgi_post "\"text\":\"$t\""
	done
	CGI_BOT=demo
	[ "$(q "select count(*) from outbox where chat_id = $CHAT and state = 'pending'")" = 3 ] &&
		ok "$name-outbox-three-pending" || fail "$name-outbox-three-pending" \
		"$(q "select state, count(*) from outbox where chat_id = $CHAT group by state")"
	[ "$(q "select count(*) from outbox where chat_id = $CHAT and state = 'dead' and last_error like 'outbox_full:%'")" = 2 ] &&
		ok "$name-outbox-dead-letters" || fail "$name-outbox-dead-letters" \
		"$(q "select state, last_error from outbox where chat_id = $CHAT")"
	[ "$(q "select context from chats where bot = 'quiet' and chat_id = $CHAT" | grep -c '"name":"Dee"')" = 1 ] &&
		ok "$name-outbox-step-saved" || fail "$name-outbox-step-saved" "$(q "select context from chats where chat_id = $CHAT")"
	[ "$(grep '"bot":"quiet"' "$T_TMP/cgi.log" | grep -c '"dead_letters":1')" -ge 2 ] &&
		ok "$name-outbox-logged" || fail "$name-outbox-logged" "$(tail -n 2 "$T_TMP/cgi.log")"
	"$BLUEFLOW" outbox list --dead -c "$CGI_CONF" | grep -q outbox_full &&
		ok "$name-outbox-listed" || fail "$name-outbox-listed" "outbox list --dead lacks it"

	# --- max_transcript_rows: db prune keeps the newest 3 rows of each chat
	CHAT=$((base + 1))
	newest=$(q "select max(update_id) from transcript where bot = 'demo' and chat_id = $CHAT")
	"$BLUEFLOW" db prune -c "$CGI_CONF" >/dev/null || fail "$name-prune" "db prune failed"
	[ "$(q "select count(*) from transcript where bot = 'demo' and chat_id = $CHAT")" = 3 ] &&
		ok "$name-transcript-pruned" || fail "$name-transcript-pruned" \
		"$(q "select count(*) from transcript where chat_id = $CHAT")"
	[ "$(q "select max(update_id) from transcript where bot = 'demo' and chat_id = $CHAT")" = "$newest" ] &&
		ok "$name-transcript-newest-kept" || fail "$name-transcript-newest-kept" "newest was $newest"
	[ "$(q "select count(*) from transcript where bot = 'quiet'")" = 5 ] &&
		ok "$name-transcript-other-bot-kept" || fail "$name-transcript-other-bot-kept" \
		"$(q "select count(*) from transcript where bot = 'quiet'")"
}

run_backend sqlite "sqlite:$T_TMP/lim.db" 8100

# --- a limit that is not a number in range: the config is refused, named
sed 's/^max_chat_files = 2$/max_chat_files = -1/; s/^max_chat_outbox = 3$/max_chat_outbox = lots/' \
	"$T_TMP/sqlite.conf" >"$T_TMP/bad.conf"
"$BLUEFLOW" check -c "$T_TMP/bad.conf" >"$T_TMP/bad.out" 2>&1 && fail bad-limits-refused "check passed" ||
	ok bad-limits-refused
grep -q 'max_chat_files = -1: must be a whole number from 0' "$T_TMP/bad.out" &&
	grep -q 'max_chat_outbox = lots: must be a whole number from 0' "$T_TMP/bad.out" &&
	ok bad-limits-named || fail bad-limits-named "$(cat "$T_TMP/bad.out")"

if pg_available; then
	pg_start
	run_backend pg "$PG_URI" 8200
else
	echo "no PostgreSQL: the pg run is skipped"
fi
grep -qF "$TOKEN" "$T_TMP/cgi.log" && fail token-not-logged "the token is in the log" || ok token-not-logged
finish
