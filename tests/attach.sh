#!/bin/sh
# tests/attach.sh - uploads kept on disk: a voice note and a PDF are
# fetched from the fake Bot API (getFile, then the download) by the
# webhook (blueflow as plain CGI, the same code the pool runs) and end as
# 0600 files in 0700 folders, named from ids, with their sha256 in the
# attachments table and the path in the context. Refused: a file declared
# over the limit (before any download), one whose real size exceeds its
# declaration (cut at the cap, nothing left), a wrong MIME type, content
# that is not what its type says, an id that cannot be a file name, and
# three failed downloads after the 1 s / 3 s / 9 s retries: each leaves
# the chat on the node with the right message. On both backends' SQL
# (SQLite here; tests/ops.sh covers PostgreSQL's attachments rows).
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"
. "$SRCDIR/tests/cgi_lib.sh"

TOKEN=515151:attach-Test_token
export ATT_TOKEN=$TOKEN ATT_SECRET=att-Secret_1
secret "$ATT_SECRET"
botapi_start "$TOKEN"
DB=$T_TMP/att.db
FILES=$T_TMP/files
CHAT=7001
CGI_CONF=$T_TMP/att.conf CGI_BOT=demo CGI_SECRET=$ATT_SECRET

cat >"$T_TMP/flow.json" <<'JSON'
{
  "start": "voice",
  "nodes": {
    "voice": {"type": "voice_upload", "node_text": "Send a voice note.",
              "max_seconds": 60, "max_mb": 1, "key_to_save": "voice", "next": "cv"},
    "cv": {"type": "file_upload", "node_text": "Send your CV as a PDF.",
           "allowed_mime": ["application/pdf"], "max_mb": 1, "key_to_save": "cv",
           "next": "bye"},
    "bye": {"type": "cutscene", "node_text": "All done."}
  }
}
JSON
cat >"$T_TMP/att.conf" <<CONF
[server]
db = sqlite:$DB
storage = $FILES
api_base = $API

[bot demo]
flow = $T_TMP/flow.json
token_env = ATT_TOKEN
secret_env = ATT_SECRET
CONF
"$BLUEFLOW" db migrate --db "sqlite:$DB" >/dev/null

sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
# fake_file ID UNIQUE FILE [DECLARED]: the fake serves FILE as ID
fake_file() {
	botapi_ctl file "{\"file_id\":\"$1\",\"file_unique_id\":\"$2\",\"file_path\":\"documents/$2.bin\",\"content_file\":\"$3\"${4:+,\"file_size\":$4}}"
}
node_is() {
	got=$(sq "select node from chats where chat_id = $CHAT")
	[ "$got" = "$2" ] && ok "$1" || fail "$1" "chat at \"$got\", wanted \"$2\""
}
# leftovers: files in the storage other than the kept ones (.part-*)
no_partial() {
	left=$(find "$FILES" -name '.part-*' | wc -l)
	[ "$left" = 0 ] && ok "$1" || fail "$1" "$left partial files left: $(find "$FILES" -name '.part-*')"
}
mode_of() { stat -c %a "$1"; }

head -c 3000 /dev/urandom >"$T_TMP/noise"
{ printf 'OggS'; cat "$T_TMP/noise"; } >"$T_TMP/good.ogg"
{ printf '%%PDF-1.4\n'; cat "$T_TMP/noise"; } >"$T_TMP/good.pdf"
{ printf '%%PDF-1.4\n'; head -c 1500000 /dev/zero; } >"$T_TMP/big.pdf"
printf 'hello, not a PDF at all\n' >"$T_TMP/fake.pdf"
printf 'RIFF....WAVEfmt ' >"$T_TMP/fake.ogg"

cgi_post '"text":"/start"'
cgi_replied start-prompts-voice "Send a voice note."

# --- a voice note that is not OGG inside: refused, nothing kept
fake_file VfakeOgg AgADfakeogg "$T_TMP/fake.ogg"
cgi_voice VfakeOgg AgADfakeogg 16
cgi_replied voice-not-ogg-refused "Please send a voice message."
node_is voice-not-ogg-stays voice
[ -z "$(find "$FILES" -type f 2>/dev/null)" ] && ok voice-not-ogg-nothing-kept || fail voice-not-ogg-nothing-kept "$(find "$FILES" -type f)"

# --- a good voice note, after two 502s on the download (1 s, 3 s apart)
fake_file Vgood AgADvoice1 "$T_TMP/good.ogg"
botapi_ctl fault '{"kind": "502", "method": "download", "count": 2}'
t0=$(date +%s)
cgi_voice Vgood AgADvoice1 "$(wc -c <"$T_TMP/good.ogg")"
t1=$(date +%s)
node_is voice-kept-advances cv
cgi_replied voice-then-cv-prompt "Send your CV as a PDF."
VPATH=$FILES/demo/$CHAT/$CGI_UPD-AgADvoice1.ogg
[ -f "$VPATH" ] && ok voice-on-disk || fail voice-on-disk "no $VPATH: $(find "$FILES")"
[ "$(mode_of "$VPATH")" = 600 ] && ok voice-0600 || fail voice-0600 "$(mode_of "$VPATH")"
[ "$(mode_of "$FILES/demo/$CHAT")" = 700 ] && [ "$(mode_of "$FILES/demo")" = 700 ] &&
	ok folders-0700 || fail folders-0700 "$(mode_of "$FILES/demo") $(mode_of "$FILES/demo/$CHAT")"
cmp -s "$VPATH" "$T_TMP/good.ogg" && ok voice-bytes-equal || fail voice-bytes-equal "content differs"
want=$(sha256sum <"$T_TMP/good.ogg" | cut -d' ' -f1)
row=$(sq "select sha256 || ' ' || size || ' ' || path || ' ' || node || ' ' || key || ' ' || mime from attachments where update_id = $CGI_UPD")
[ "$row" = "$want $(wc -c <"$T_TMP/good.ogg") $VPATH voice voice audio/ogg" ] && ok voice-row-sha256 ||
	fail voice-row-sha256 "row \"$row\", sha256 $want"
sq "select context from chats where chat_id = $CHAT" | grep -qF "\"voice\":\"$VPATH\"" &&
	ok voice-path-in-context || fail voice-path-in-context "$(sq "select context from chats")"
n=$(botapi_calls download AgADvoice1)
[ "$n" = 3 ] && ok voice-three-downloads || fail voice-three-downloads "$n downloads"
[ $((t1 - t0)) -ge 4 ] && [ $((t1 - t0)) -le 8 ] && ok voice-retry-delays || fail voice-retry-delays "$((t1 - t0)) s, wanted 1 s + 3 s"
no_partial voice-no-partial

# --- a PDF declared over the 1 MB limit: refused before any download
cgi_doc Dhuge AgADhuge application/pdf 5000000
cgi_replied declared-too-big-refused "too big"
node_is declared-too-big-stays cv
[ "$(botapi_calls getFile Dhuge)" = 0 ] && ok declared-too-big-no-getfile || fail declared-too-big-no-getfile "getFile was called"

# --- a PDF declared small whose real size is 1.5 MB: cut off at the cap
fake_file Dliar AgADliar "$T_TMP/big.pdf" 1000
cgi_doc Dliar AgADliar application/pdf 1000
cgi_replied real-too-big-refused "too big"
node_is real-too-big-stays cv
[ "$(botapi_calls download AgADliar)" = 1 ] && ok real-too-big-not-retried || fail real-too-big-not-retried "$(botapi_calls download AgADliar) downloads"
ls "$FILES/demo/$CHAT" | grep -q AgADliar && fail real-too-big-nothing-kept "$(ls "$FILES/demo/$CHAT")" || ok real-too-big-nothing-kept
no_partial real-too-big-no-partial

# --- a wrong MIME type: refused from the update, before getFile
cgi_doc Dpng AgADpng image/png 1000
cgi_replied wrong-mime-refused "not accepted"
[ "$(botapi_calls getFile Dpng)" = 0 ] && ok wrong-mime-no-getfile || fail wrong-mime-no-getfile "getFile was called"

# --- a "PDF" that is text inside: refused by its first bytes
fake_file Dfake AgADfake "$T_TMP/fake.pdf"
cgi_doc Dfake AgADfake application/pdf "$(wc -c <"$T_TMP/fake.pdf")"
cgi_replied bad-magic-refused "not a real application/pdf file"
node_is bad-magic-stays cv
ls "$FILES/demo/$CHAT" | grep -q AgADfake && fail bad-magic-nothing-kept "$(ls "$FILES/demo/$CHAT")" || ok bad-magic-nothing-kept

# --- an id that cannot be a file name: refused, no path built from it
cgi_doc Devil '../../../../tmp/evil' application/pdf 100
cgi_replied bad-unique-id-refused "Upload failed"
cgi_doc Dempty '' application/pdf 100
cgi_replied empty-unique-id-refused "Upload failed"
[ "$(botapi_calls getFile Devil)$(botapi_calls getFile Dempty)" = 00 ] && ok bad-ids-no-getfile || fail bad-ids-no-getfile "getFile was called"

# --- the download fails four times: tried after 1 s, 3 s and 9 s, then told
fake_file Dflaky AgADflaky "$T_TMP/good.pdf"
botapi_ctl fault '{"kind": "500", "method": "download", "count": 4}'
cgi_doc Dflaky AgADflaky application/pdf "$(wc -c <"$T_TMP/good.pdf")"
cgi_replied failed-downloads-told "Upload failed, try again."
node_is failed-downloads-stay cv
python3 - "$T_TMP/calls.jsonl" <<'PY' >"$T_TMP/gaps"
import json, sys
t = [c["t"] for c in map(json.loads, open(sys.argv[1])) if c["method"] == "download" and "AgADflaky" in json.dumps(c["params"])]
print(len(t), " ".join("%.1f" % (b - a) for a, b in zip(t, t[1:])))
PY
python3 - "$(cat "$T_TMP/gaps")" <<'PY' && ok failed-downloads-1-3-9 || fail failed-downloads-1-3-9 "downloads and gaps: $(cat "$T_TMP/gaps")"
import sys
n, *gaps = sys.argv[1].split()
gaps = [float(g) for g in gaps]
want = [1, 3, 9]
sys.exit(0 if n == "4" and all(w <= g < w + 1 for g, w in zip(gaps, want)) else 1)
PY
grep -q '"warning":"document download failed: download: HTTP 500"' "$T_TMP/cgi.log" &&
	ok failed-downloads-logged || fail failed-downloads-logged "$(tail -n 2 "$T_TMP/cgi.log")"
no_partial failed-no-partial

# --- what a killed download left behind goes with the next one
: >"$FILES/demo/$CHAT/.part-Killed"
# --- a download cut short once: tried again, kept whole
fake_file Dgood AgADpdf1 "$T_TMP/good.pdf"
botapi_ctl fault '{"kind": "truncated", "method": "download", "count": 1}'
cgi_doc Dgood AgADpdf1 application/pdf "$(wc -c <"$T_TMP/good.pdf")"
cgi_replied pdf-kept-flow-ends "All done."
node_is pdf-kept-at-end bye
PPATH=$FILES/demo/$CHAT/$CGI_UPD-AgADpdf1.pdf
cmp -s "$PPATH" "$T_TMP/good.pdf" && ok pdf-bytes-equal || fail pdf-bytes-equal "$(ls -l "$FILES/demo/$CHAT")"
[ "$(mode_of "$PPATH")" = 600 ] && ok pdf-0600 || fail pdf-0600 "$(mode_of "$PPATH")"
want=$(sha256sum <"$T_TMP/good.pdf" | cut -d' ' -f1)
[ "$(sq "select sha256 from attachments where path = '$PPATH'")" = "$want" ] && ok pdf-row-sha256 ||
	fail pdf-row-sha256 "$(sq "select * from attachments")"
[ "$(sq "select count(*) from attachments")" = 2 ] && ok two-rows || fail two-rows "$(sq "select count(*) from attachments")"
[ "$(find "$FILES" -type f | wc -l)" = 2 ] && ok two-files || fail two-files "$(find "$FILES" -type f)"
no_partial pdf-no-partial

# --- the same update again: answered as before, nothing fetched twice
CGI_UPD=$((CGI_UPD - 1))
before=$(botapi_calls download AgADpdf1)
cgi_doc Dgood AgADpdf1 application/pdf "$(wc -c <"$T_TMP/good.pdf")"
[ "$(botapi_calls download AgADpdf1)" = "$before" ] && ok repeat-not-fetched || fail repeat-not-fetched "downloaded again"

grep -qF "$TOKEN" "$T_TMP/cgi.log" && fail token-not-logged "the token is in the log" || ok token-not-logged
finish
