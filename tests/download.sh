#!/bin/sh
# tests/download.sh - an upload's download runs before the update's
# transaction, on SQLite (whose writers take the whole database): a slow
# download (the fake delays the file 3 s) does not hold up another chat's
# update; a file whose chat moved on while it was fetched, or whose update
# was a repeat, or that came while the chat was at no upload node, is not
# left on disk; two deliveries of one update at once keep one file; a
# transaction that fails after the download leaves no file and no row. A
# transient store fault (here: the database locked for a while) is tried
# once more before the answer is 503. Through the webhook as plain CGI,
# one process per request, as several workers would run them.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"
. "$SRCDIR/tests/cgi_lib.sh"

TOKEN=525252:download-Test_token
export DL_TOKEN=$TOKEN DL_SECRET=dl-Secret_1
secret "$DL_SECRET"
botapi_start "$TOKEN"
DB=$T_TMP/dl.db
FILES=$T_TMP/files
CGI_CONF=$T_TMP/dl.conf CGI_BOT=demo CGI_SECRET=$DL_SECRET

cat >"$T_TMP/flow.json" <<'JSON'
{
  "start": "cv",
  "commands": {"/skip": "name"},
  "nodes": {
    "cv": {"type": "file_upload", "node_text": "Send your CV as a PDF.",
           "allowed_mime": ["application/pdf"], "key_to_save": "cv", "next": "name"},
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name",
             "next": "bye"},
    "bye": {"type": "cutscene", "node_text": "All done."}
  }
}
JSON
cat >"$T_TMP/dl.conf" <<CONF
[server]
db = sqlite:$DB
storage = $FILES
api_base = $API
lock_timeout = 3000

[bot demo]
flow = $T_TMP/flow.json
token_env = DL_TOKEN
secret_env = DL_SECRET
CONF
"$BLUEFLOW" db migrate --db "sqlite:$DB" >/dev/null

sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
node_of() { sq "select node from chats where chat_id = $1"; }
# fake_pdf ID UNIQUE: the fake serves a small PDF as ID
fake_pdf() {
	botapi_ctl file "{\"file_id\":\"$1\",\"file_unique_id\":\"$2\",\"file_path\":\"documents/$2.bin\",\"content_file\":\"$T_TMP/good.pdf\"}"
}
slow_download() {
	botapi_ctl fault "{\"kind\": \"slow\", \"method\": \"download\", \"file_path\": \"documents/$1.bin\", \"seconds\": $2, \"count\": 1}"
}
# pdf CHAT UPDATE_ID FILE_ID UNIQUE TAG: one document update, reply in
# $T_TMP/reply.TAG
pdf() {
	CHAT=$1 CGI_UPD=$(($2 - 1)) CGI_TAG=.$5
	cgi_doc "$3" "$4" application/pdf "$(wc -c <"$T_TMP/good.pdf")"
}
# text CHAT UPDATE_ID TEXT TAG
text() {
	CHAT=$1 CGI_UPD=$(($2 - 1)) CGI_TAG=.$4
	cgi_post "\"text\":\"$3\""
}
status_of() { sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T_TMP/reply.$1"; }
files_of() { find "$FILES" -type f -name "*$1*" 2>/dev/null | wc -l; }
rows_of() { sq "select count(*) from attachments where file_unique_id = '$1'"; }

head -c 3000 /dev/urandom >"$T_TMP/noise"
{ printf '%%PDF-1.4\n'; cat "$T_TMP/noise"; } >"$T_TMP/good.pdf"

for c in 8001 8002 8003 8004 8005; do
	text $c $((c * 10)) /start s
done
[ "$(node_of 8001)$(node_of 8002)" = cvcv ] && ok chats-at-cv || fail chats-at-cv "$(sq "select chat_id, node from chats")"

# --- a slow download in one chat, a text in another meanwhile: the text
# is answered at once, not after the download
fake_pdf Dslow AgADslow
slow_download AgADslow 3
t0=$(now_ms)
(pdf 8001 900 Dslow AgADslow slow; echo "$(now_ms)" >"$T_TMP/slow.end") &
slow=$!
sleep 0.5
t1=$(now_ms)
text 8002 901 /skip other
t2=$(now_ms)
wait $slow
t3=$(cat "$T_TMP/slow.end")
[ "$(status_of other)" = 200 ] && [ "$(node_of 8002)" = name ] && ok other-chat-applied ||
	fail other-chat-applied "status $(status_of other), node $(node_of 8002)"
[ $((t2 - t1)) -lt 1500 ] && [ "$t2" -lt "$t3" ] && ok other-chat-not-delayed ||
	fail other-chat-not-delayed "answered after $((t2 - t1)) ms; the slow upload ended $((t3 - t0)) ms after its start, the other chat $((t2 - t0)) ms"
[ $((t3 - t0)) -ge 3000 ] && ok slow-download-was-slow || fail slow-download-was-slow "$((t3 - t0)) ms"
[ "$(node_of 8001)" = name ] && [ "$(files_of AgADslow)" = 1 ] && [ "$(rows_of AgADslow)" = 1 ] &&
	ok slow-upload-kept || fail slow-upload-kept "node $(node_of 8001), $(files_of AgADslow) files, $(rows_of AgADslow) rows"
CGI_TAG=.slow cgi_replied slow-upload-reply "Your name?"

# --- the chat moves on (a command) while its file downloads: the file is
# fetched, but the update, applied at the new node, does not keep it
fake_pdf Dmoved AgADmoved
slow_download AgADmoved 2
(pdf 8003 910 Dmoved AgADmoved moved) &
slow=$!
sleep 0.7
text 8003 911 /skip skip
wait $slow
[ "$(node_of 8003)" = name ] && ok moved-on-at-name || fail moved-on-at-name "node $(node_of 8003)"
[ "$(botapi_calls download AgADmoved)" = 1 ] && ok moved-on-was-fetched || fail moved-on-was-fetched "$(botapi_calls download AgADmoved) downloads"
[ "$(files_of AgADmoved)$(rows_of AgADmoved)" = 00 ] && ok moved-on-no-file ||
	fail moved-on-no-file "$(files_of AgADmoved) files, $(rows_of AgADmoved) rows: $(find "$FILES" -type f)"
CGI_TAG=.moved cgi_replied moved-on-answered-at-name "Please answer with a text message."

# --- at a node that takes no file: nothing fetched, nothing kept; the
# same update again once the chat is at an upload node: a repeat, nothing
# fetched either
fake_pdf Dnotyet AgADnotyet
text 8004 920 /skip skip2
pdf 8004 921 Dnotyet AgADnotyet notyet
CGI_TAG=.notyet cgi_replied not-at-upload-told "Please answer with a text message."
text 8004 922 Ann ann
text 8004 923 /start again
[ "$(node_of 8004)" = cv ] && ok back-at-cv || fail back-at-cv "node $(node_of 8004)"
pdf 8004 921 Dnotyet AgADnotyet repeat
[ "$(status_of repeat)" = 200 ] && ok repeat-answered || fail repeat-answered "status $(status_of repeat)"
[ "$(botapi_calls getFile Dnotyet)" = 0 ] && ok not-at-upload-no-fetch || fail not-at-upload-no-fetch "$(botapi_calls getFile Dnotyet) getFile calls"
[ "$(files_of AgADnotyet)$(rows_of AgADnotyet)" = 00 ] && [ "$(node_of 8004)" = cv ] && ok repeat-no-file ||
	fail repeat-no-file "$(files_of AgADnotyet) files, $(rows_of AgADnotyet) rows, node $(node_of 8004)"

# --- one update delivered twice at once: one applies, the other is a
# repeat; the file the first keeps stays
fake_pdf Dtwice AgADtwice
slow_download AgADtwice 1
(pdf 8005 930 Dtwice AgADtwice twice1) &
p1=$!
(pdf 8005 930 Dtwice AgADtwice twice2) &
p2=$!
wait $p1 $p2
[ "$(status_of twice1)$(status_of twice2)" = 200200 ] && ok twice-answered || fail twice-answered "$(status_of twice1) $(status_of twice2)"
p=$(sq "select path from attachments where file_unique_id = 'AgADtwice'")
[ "$(rows_of AgADtwice)" = 1 ] && [ -f "$p" ] && [ "$(files_of AgADtwice)" = 1 ] && [ "$(node_of 8005)" = name ] &&
	ok twice-one-file-kept || fail twice-one-file-kept "$(rows_of AgADtwice) rows, $(files_of AgADtwice) files, node $(node_of 8005)"

# holder_start FILE_ID MS: a process that, as soon as the fake is asked
# getFile for FILE_ID, takes SQLite's write lock and holds it until MS
# milliseconds after that call (pid in $holder). holder_held waits until
# it holds the lock.
holder_start() {
	rm -f "$T_TMP/held"
	python3 - "$DB" "$T_TMP/calls.jsonl" "$1" "$2" "$T_TMP/held" <<'PY' &
import json, sqlite3, sys, time
db, calls, file_id, ms, held = sys.argv[1:]
con = sqlite3.connect(db, isolation_level=None, timeout=10)
asked = None
while asked is None:
    time.sleep(0.01)
    for line in open(calls):
        try:
            c = json.loads(line)
        except ValueError:
            continue
        if c["method"] == "getFile" and file_id in json.dumps(c["params"]):
            asked = c["wall"]
con.execute("BEGIN IMMEDIATE")
open(held, "w").close()
time.sleep(max(0, asked + int(ms) / 1000 - time.time()))
con.execute("ROLLBACK")
PY
	holder=$!
}
holder_held() {
	i=0
	while [ ! -e "$T_TMP/held" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
}
# (A CGI process migrates as it starts, which waits for the lock too: each
# lock below is taken once the upload's process is in its 3 s download.)

# --- the database locked from getFile until 7.5 s later: the download
# ends at 3 s, the first try gives up at 6 s (lock_timeout = 3 s), the
# second gets the lock at 7.5 s, without a second download; the file is
# kept
text 8002 940 /start restart
fake_pdf Dheld AgADheld
slow_download AgADheld 3
holder_start Dheld 7500
(pdf 8002 941 Dheld AgADheld held) &
up=$!
holder_held
wait $up
wait $holder
[ "$(status_of held)" = 200 ] && ok locked-briefly-retried-200 || fail locked-briefly-retried-200 "$(head -c 300 "$T_TMP/reply.held")"
grep -q '"event":"store retried"' "$T_TMP/cgi.log" && ok retry-logged || fail retry-logged "$(tail -n 3 "$T_TMP/cgi.log")"
[ "$(botapi_calls download AgADheld)" = 1 ] && ok retry-fetched-once || fail retry-fetched-once "$(botapi_calls download AgADheld) downloads"
[ "$(node_of 8002)" = name ] && [ "$(files_of AgADheld)$(rows_of AgADheld)" = 11 ] && ok locked-briefly-kept ||
	fail locked-briefly-kept "node $(node_of 8002), $(files_of AgADheld) files, $(rows_of AgADheld) rows"

# --- locked for longer than both tries (until 13 s): 503, and neither
# the file nor its row stays; sent again, it is kept
text 8002 950 /start restart2
fake_pdf Dfail AgADfail
slow_download AgADfail 3
holder_start Dfail 13000
(pdf 8002 951 Dfail AgADfail fail) &
up=$!
holder_held
wait $up
[ "$(status_of fail)" = 503 ] && ok locked-long-503 || fail locked-long-503 "$(head -c 300 "$T_TMP/reply.fail")"
[ "$(files_of AgADfail)$(rows_of AgADfail)" = 00 ] && ok locked-long-no-file ||
	fail locked-long-no-file "$(files_of AgADfail) files, $(rows_of AgADfail) rows"
wait $holder
pdf 8002 951 Dfail AgADfail fail2
[ "$(status_of fail2)" = 200 ] && [ "$(files_of AgADfail)$(rows_of AgADfail)" = 11 ] && ok resent-kept ||
	fail resent-kept "status $(status_of fail2), $(files_of AgADfail) files, $(rows_of AgADfail) rows"
[ -z "$(find "$FILES" -name '.part-*')" ] && ok no-partial || fail no-partial "$(find "$FILES" -name '.part-*')"

grep -qF "$TOKEN" "$T_TMP/cgi.log" && fail token-not-logged "the token is in the log" || ok token-not-logged
finish
