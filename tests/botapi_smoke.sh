#!/bin/sh
# tests/botapi_smoke.sh - tests/fake_botapi.py (the fake Telegram Bot API)
# and tests/botapi_check.py themselves, with curl: every method, every fault,
# the recorder, getFile and the download, setWebhook's refusals, the control
# API and its CLI, and that the fake never outlives its test. Loopback only;
# every request and wait is bounded. Skipped (77) without python3 or curl.
set -u
. "$SRCDIR/tests/lib.sh"

need_tools curl python3

FAKE=$SRCDIR/tests/fake_botapi.py
CHECK=$SRCDIR/tests/botapi_check.py
TOKEN=123456:TEST-token_x
secret "$TOKEN"
LOG=$T_TMP/calls.jsonl

# gone PID: PID is not alive, within 10 s.
gone() {
	g__end=$(($(date +%s) + 10))
	while alive "$1"; do
		[ "$(date +%s)" -lt "$g__end" ] || return 1
		sleep 0.05 2>/dev/null || sleep 1
	done
}

# The fake, on a port of its choosing; --parent and --lifetime stop it even
# if this shell is killed with -9.
python3 "$FAKE" --port 0 --token "$TOKEN" --log "$LOG" --parent $$ --lifetime 600 \
	>"$T_TMP/fake.out" 2>"$T_TMP/fake.err" &
FAKE_PID=$!
at_exit 'kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null'
if ! wait_for "$T_TMP/fake.out" ready; then
	fail fake-start "$(cat "$T_TMP/fake.out" "$T_TMP/fake.err")"
	finish
	exit 1
fi
PORT=$(sed -n 's/^ready \([0-9][0-9]*\)$/\1/p' "$T_TMP/fake.out")
BASE=http://127.0.0.1:$PORT
ok fake-start

# req CURL-ARGS...: one request; RC is curl's status, $T_TMP/out the HTTP
# status, $T_TMP/body the body.
req() {
	: >"$T_TMP/body"
	run curl -sS --max-time 10 -o "$T_TMP/body" -w '%{http_code}' "$@"
}

# api METHOD JSON [CURL-ARGS...]: a Bot API call with a JSON body.
api() {
	a__m=$1
	a__j=$2
	shift 2
	req -H 'Content-Type: application/json' --data-binary "$a__j" "$@" "$BASE/bot$TOKEN/$a__m"
}

# jtrue EXPR FILE: the Python expression EXPR holds of FILE's JSON, as d.
jtrue() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[2]))
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" "$2" 2>/dev/null
}

# expect NAME STATUS [EXPR]: the last req got HTTP STATUS, and EXPR holds of
# its body.
expect() {
	if [ "$RC" -eq 0 ] && [ "$(cat "$T_TMP/out")" = "$2" ] &&
		{ [ $# -lt 3 ] || jtrue "$3" "$T_TMP/body"; }; then ok "$1"; else
		fail "$1" "curl exit $RC, status $(cat "$T_TMP/out"), wanted $2${3:+ and $3}: $(head -c 400 "$T_TMP/body")"
	fi
}

# ctl NAME [JSON]: a control request through the CLI; its answer in
# $T_TMP/ctl.
ctl() {
	if python3 "$FAKE" ctl "$BASE" "$@" >"$T_TMP/ctl" 2>&1; then :; else
		fail "ctl-$1" "$(head -c 400 "$T_TMP/ctl")"
	fi
}

# The methods.
req "$BASE/bot$TOKEN/getMe"
expect getme-get 200 'd["ok"] and d["result"]["id"] == 123456 and d["result"]["is_bot"]'
api sendMessage '{"chat_id": 10, "text": "msg 1"}'
expect send-json 200 'd["result"]["message_id"] == 1 and d["result"]["chat"]["id"] == 10 and d["result"]["text"] == "msg 1" and d["result"]["date"] > 0'
req --data-urlencode chat_id=10 --data-urlencode 'text=msg 2' "$BASE/bot$TOKEN/sendMessage"
expect send-form 200 'd["result"]["message_id"] == 2 and d["result"]["text"] == "msg 2"'
req -F chat_id=10 -F 'text=msg 3' -F "doc=@$T_TMP/fake.out" "$BASE/bot$TOKEN/sendMessage"
expect send-multipart 200 'd["result"]["message_id"] == 3 and d["result"]["text"] == "msg 3"'
req "$BASE/bot$TOKEN/sendMessage?chat_id=-20&text=msg%201"
expect send-get-query 200 'd["result"]["message_id"] == 1 and d["result"]["chat"]["type"] == "group"'
api SENDMESSAGE '{"chat_id": 11, "text": "case"}'
expect method-case-insensitive 200 'd["result"]["message_id"] == 1'
api sendMessage '{"chat_id": 10, "text": ""}'
expect send-empty-text 400 'd == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}'
api sendMessage '{"chat_id": 10, "text": "  \n "}'
expect send-blank-text 400 'd["description"] == "Bad Request: message text is empty"'
api sendMessage '{"chat_id": 10}'
expect send-no-text 400 'd["description"] == "Bad Request: message text is empty"'
long=$(python3 -c 'print("é" * 4096)')
api sendMessage "{\"chat_id\": 12, \"text\": \"$long\"}"
expect send-4096-chars 200 'len(d["result"]["text"]) == 4096'
api sendMessage "{\"chat_id\": 12, \"text\": \"${long}x\"}"
expect send-4097-chars 400 'd["description"] == "Bad Request: message is too long"'
api sendMessage '{"text": "no chat"}'
expect send-no-chat 400 'd["description"] == "Bad Request: chat_id is empty"'
api sendMessage '{"chat_id": 10, "text": "x", "reply_markup": "{not json"}'
expect send-bad-markup 400 'd["description"].startswith("Bad Request: can'"'"'t parse")'
req "$BASE/bot999:wrong/getMe"
expect bad-token-401 401 'd == {"ok": False, "error_code": 401, "description": "Unauthorized"}'
api noSuchMethod '{}'
expect unknown-method-404 404 'd == {"ok": False, "error_code": 404, "description": "Not Found"}'
req "$BASE/elsewhere"
expect other-path-404 404
req -H 'Content-Type: application/json' --data-binary '[1]' "$BASE/bot$TOKEN/sendMessage"
expect json-not-object-400 400 'd["ok"] is False'

KB='{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
api sendMessage "{\"chat_id\": 13, \"text\": \"pick\", \"reply_markup\": $KB}"
expect send-with-keyboard 200 'd["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"'
api editMessageReplyMarkup '{"chat_id": 13, "message_id": 1}'
expect edit-markup-remove 200 'd["result"]["message_id"] == 1 and "reply_markup" not in d["result"]'
api editMessageReplyMarkup '{"chat_id": 13, "message_id": 1}'
expect edit-markup-not-modified 400 'd["description"].startswith("Bad Request: message is not modified")'
api editMessageReplyMarkup "{\"chat_id\": 13, \"message_id\": 1, \"reply_markup\": $KB}"
expect edit-markup-set 200 'd["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"'
api editMessageReplyMarkup '{"chat_id": 13, "message_id": 99}'
expect edit-markup-not-found 400 'd["description"] == "Bad Request: message to edit not found"'
api editMessageReplyMarkup '{"inline_message_id": "abc"}'
expect edit-markup-inline 200 'd["result"] is True'
api answerCallbackQuery '{"callback_query_id": "4242", "text": "ok"}'
expect answer-callback 200 'd == {"ok": True, "result": True}'
api answerCallbackQuery '{}'
expect answer-callback-no-id 400 'd["description"].startswith("Bad Request: query is too old")'

# setWebhook, getWebhookInfo, deleteWebhook.
WH='"url": "https://bot.example.org/tg/demo"'
api setWebhook "{$WH, \"secret_token\": \"bad secret!\"}"
expect set-webhook-bad-secret 400 'd == {"ok": False, "error_code": 400, "description": "Bad Request: secret token contains unallowed characters"}'
long=$(python3 -c 'print("a" * 257)')
api setWebhook "{$WH, \"secret_token\": \"$long\"}"
expect set-webhook-secret-257 400 'd["description"] == "Bad Request: secret token is too long"'
api setWebhook '{"url": "http://bot.example.org/tg/demo"}'
expect set-webhook-http 400 'd["description"] == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"'
api setWebhook '{"url": "https://bot.example.org:8080/tg/demo"}'
expect set-webhook-port 400 'd["description"].startswith("Bad Request: bad webhook: Webhook can be set up only on ports")'
req "$BASE/bot$TOKEN/getWebhookInfo"
expect webhook-unset-after-refusals 200 'd["result"]["url"] == ""'
long=$(python3 -c 'print("A-z_9" * 51 + "x")')
api setWebhook "{$WH, \"secret_token\": \"$long\", \"max_connections\": 7, \"allowed_updates\": [\"message\", \"callback_query\"]}"
expect set-webhook 200 'd == {"ok": True, "result": True, "description": "Webhook was set"}'
api setWebhook "{$WH, \"secret_token\": \"$long\", \"max_connections\": 7}"
expect set-webhook-again 200 'd["result"] is True and d["description"] == "Webhook is already set"'
req "$BASE/bot$TOKEN/getWebhookInfo"
expect webhook-info 200 'd["result"]["url"] == "https://bot.example.org/tg/demo" and d["result"]["max_connections"] == 7 and d["result"]["allowed_updates"] == ["message", "callback_query"] and d["result"]["pending_update_count"] == 0 and "last_error_date" not in d["result"]'
req "$BASE/_control/state"
expect webhook-secret-stored 200 "d['result']['webhooks']['$TOKEN']['secret_token'] == '$long'"
req --data-urlencode 'url=https://bot.example.org/tg/demo' --data-urlencode max_connections=500 "$BASE/bot$TOKEN/setWebhook"
expect set-webhook-form 200 'd["description"] == "Webhook was set"'
req "$BASE/bot$TOKEN/getWebhookInfo"
expect webhook-max-connections-clamped 200 'd["result"]["max_connections"] == 100'
ctl webhook '{"pending_update_count": 5, "last_error_date": 1700000000, "last_error_message": "Wrong response from the webhook: 502 Bad Gateway"}'
req "$BASE/bot$TOKEN/getWebhookInfo"
expect webhook-info-error 200 'd["result"]["pending_update_count"] == 5 and d["result"]["last_error_date"] == 1700000000 and d["result"]["last_error_message"].startswith("Wrong response")'
api deleteWebhook '{"drop_pending_updates": true}'
expect delete-webhook 200 'd == {"ok": True, "result": True, "description": "Webhook was deleted"}'
api deleteWebhook '{}'
expect delete-webhook-again 200 'd["result"] is True and d["description"] == "Webhook is already deleted"'
req "$BASE/bot$TOKEN/getWebhookInfo"
expect webhook-info-deleted 200 'd["result"]["url"] == "" and d["result"]["pending_update_count"] == 0 and "last_error_date" not in d["result"]'

# getFile and the download.
head -c 3000 /dev/urandom >"$T_TMP/doc.bin"
ctl file "{\"file_id\": \"DOC1\", \"file_unique_id\": \"UQ1\", \"file_path\": \"documents/file_1.pdf\", \"content_file\": \"$T_TMP/doc.bin\", \"file_size\": 4000}"
ctl file "{\"file_id\": \"TXT1\", \"file_path\": \"documents/t.txt\", \"content_base64\": \"$(printf 'hello\n' | base64)\"}"
ctl file '{"file_id": "BIG1", "file_path": "videos/big.mp4", "content_text": "x", "file_size": 20971521}'
api getFile '{"file_id": "DOC1"}'
expect getfile 200 'd["result"] == {"file_id": "DOC1", "file_unique_id": "UQ1", "file_size": 4000, "file_path": "documents/file_1.pdf"}'
api getFile '{"file_id": "NOPE"}'
expect getfile-unknown 400 'd == {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}'
api getFile '{"file_id": "BIG1"}'
expect getfile-too-big 400 'd["description"] == "Bad Request: file is too big"'
run curl -sS --max-time 10 -o "$T_TMP/got.bin" -w '%{http_code}' "$BASE/file/bot$TOKEN/documents/file_1.pdf"
if [ "$RC" -eq 0 ] && [ "$(cat "$T_TMP/out")" = 200 ] && cmp -s "$T_TMP/doc.bin" "$T_TMP/got.bin"; then
	ok download; else fail download "curl exit $RC, status $(cat "$T_TMP/out")"
fi
req "$BASE/file/bot$TOKEN/documents/t.txt"
if [ "$(cat "$T_TMP/body")" = hello ]; then ok download-base64; else
	fail download-base64 "$(head -c 100 "$T_TMP/body")"
fi
req "$BASE/file/bot$TOKEN/documents/nope"
expect download-unknown-404 404 'd["error_code"] == 404'
req "$BASE/file/bot999:wrong/documents/t.txt"
expect download-bad-token-401 401

# Faults. Each is spent or cleared before the next.
ctl fault '{"method": "sendMessage", "kind": "429", "retry_after": 3, "count": 1}'
api sendMessage '{"chat_id": 14, "text": "a"}'
expect fault-429 429 'd == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}}'
api sendMessage '{"chat_id": 14, "text": "a"}'
expect fault-429-spent 200 'd["result"]["message_id"] == 1'
ctl fault '{"method": "answerCallbackQuery", "kind": "500", "count": 2, "skip": 1}'
api answerCallbackQuery '{"callback_query_id": "1"}'
expect fault-skip-first 200
api answerCallbackQuery '{"callback_query_id": "1"}'
expect fault-500 500 'd == {"ok": False, "error_code": 500, "description": "Internal Server Error"}'
api answerCallbackQuery '{"callback_query_id": "1"}'
expect fault-500-second 500
api answerCallbackQuery '{"callback_query_id": "1"}'
expect fault-500-spent 200
ctl fault '{"method": "getMe", "kind": "502", "count": 1}'
req "$BASE/bot$TOKEN/getMe"
if [ "$(cat "$T_TMP/out")" = 502 ] && grep -q '502 Bad Gateway' "$T_TMP/body" &&
	! jtrue 'True' "$T_TMP/body"; then ok fault-502-html; else
	fail fault-502-html "status $(cat "$T_TMP/out"): $(head -c 200 "$T_TMP/body")"
fi
ctl fault '{"method": "getMe", "kind": "slow", "seconds": 1, "count": 1}'
run curl -sS --max-time 10 -o "$T_TMP/body" -w '%{time_total}' "$BASE/bot$TOKEN/getMe"
if [ "$RC" -eq 0 ] && awk -v t="$(cat "$T_TMP/out")" 'BEGIN { exit !(t >= 0.95) }' &&
	jtrue 'd["ok"]' "$T_TMP/body"; then ok fault-slow; else
	fail fault-slow "curl exit $RC in $(cat "$T_TMP/out") s: $(head -c 200 "$T_TMP/body")"
fi
ctl fault '{"method": "sendMessage", "chat_id": 15, "kind": "slow", "seconds": 2, "count": 1}'
api sendMessage '{"chat_id": 15, "text": "late"}' --max-time 0.5
if [ "$RC" -eq 28 ]; then ok fault-slow-client-timeout; else
	fail fault-slow-client-timeout "curl exit $RC, wanted 28 (timeout)"
fi
# The fake goes on: the message is sent although the client gave up.
if wait_for "$LOG" '"text": "late"' &&
	grep -F '"text": "late"' "$LOG" | grep -qF '"status": 200'; then
	ok fault-slow-still-delivered; else
	fail fault-slow-still-delivered "$(grep -F '"text": "late"' "$LOG")"
fi
ctl fault '{"method": "sendMessage", "kind": "drop", "count": 1}'
api sendMessage '{"chat_id": 16, "text": "dropped"}'
if [ "$RC" -eq 52 ]; then ok fault-drop; else fail fault-drop "curl exit $RC, wanted 52 (empty reply)"; fi
ctl fault '{"method": "sendMessage", "kind": "drop_after", "count": 1}'
api sendMessage '{"chat_id": 16, "text": "sent, answer lost"}'
if [ "$RC" -eq 52 ]; then ok fault-drop-after; else fail fault-drop-after "curl exit $RC, wanted 52"; fi
api sendMessage '{"chat_id": 16, "text": "next"}'
expect fault-drop-after-was-sent 200 'd["result"]["message_id"] == 2'
ctl fault '{"chat_id": 17, "kind": "blocked"}'
api sendMessage '{"chat_id": 17, "text": "hi"}'
expect fault-blocked 403 'd == {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}'
api editMessageReplyMarkup '{"chat_id": 17, "message_id": 1}'
expect fault-blocked-every-method 403
api sendMessage '{"chat_id": 18, "text": "hi"}'
expect fault-blocked-other-chat-fine 200
ctl fault '{"chat_id": -19, "kind": "migrated", "migrate_to_chat_id": -1001234567890}'
api sendMessage '{"chat_id": -19, "text": "hi"}'
expect fault-migrated 400 'd == {"ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": -1001234567890}}'
api sendMessage '{"chat_id": -1001234567890, "text": "hi"}'
expect fault-migrated-new-chat-fine 200 'd["result"]["chat"]["type"] == "supergroup"'
ctl fault '{"chat_id": 21, "kind": "chat_not_found"}'
for i in 1 2; do
	req --data-urlencode chat_id=21 --data-urlencode text=hi "$BASE/bot$TOKEN/sendMessage"
	expect "fault-chat-not-found-$i" 400 'd == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}'
done
ctl fault '{"method": "answerCallbackQuery", "kind": "query_too_old", "count": 1}'
api answerCallbackQuery '{"callback_query_id": "77"}'
expect fault-query-too-old 400 'd["description"] == "Bad Request: query is too old and response timeout expired or query ID is invalid"'
ctl fault '{"method": "getFile", "kind": "error", "error_code": 400, "description": "Bad Request: wrong file_id or the file is temporarily unavailable", "count": 1}'
api getFile '{"file_id": "DOC1"}'
expect fault-error 400 'd["description"] == "Bad Request: wrong file_id or the file is temporarily unavailable"'
ctl fault '{"method": "download", "kind": "truncated", "count": 1}'
run curl -sS --max-time 10 -o "$T_TMP/got.bin" -w '%{http_code}' "$BASE/file/bot$TOKEN/documents/file_1.pdf"
if [ "$RC" -eq 18 ] && [ "$(wc -c <"$T_TMP/got.bin")" -eq 1500 ]; then ok fault-truncated; else
	fail fault-truncated "curl exit $RC (wanted 18), $(wc -c <"$T_TMP/got.bin") bytes"
fi
ctl fault '{"method": "download", "kind": "wrong_size", "file_path": "documents/file_1.pdf", "count": 1}'
run curl -sS --max-time 10 -o "$T_TMP/got.bin" -w '%{http_code}' "$BASE/file/bot$TOKEN/documents/file_1.pdf"
if [ "$RC" -eq 0 ] && [ "$(wc -c <"$T_TMP/got.bin")" -eq 3001 ]; then ok fault-wrong-size; else
	fail fault-wrong-size "curl exit $RC, $(wc -c <"$T_TMP/got.bin") bytes, wanted 3001"
fi
ctl fault '{"method": "download", "kind": "drop", "count": 1}'
run curl -sS --max-time 10 -o /dev/null "$BASE/file/bot$TOKEN/documents/t.txt"
if [ "$RC" -eq 52 ]; then ok fault-download-drop; else fail fault-download-drop "curl exit $RC"; fi
ctl fault '{"kind": "429", "retry_after": 9}'
req "$BASE/bot$TOKEN/getWebhookInfo"
expect fault-any-method 429 'd["parameters"]["retry_after"] == 9'
req "$BASE/_control/faults"
expect faults-listed 200 'len(d["result"]) == 4 and {f["kind"] for f in d["result"]} == {"blocked", "migrated", "chat_not_found", "429"}'
run python3 "$FAKE" ctl "$BASE" fault '{"kind": "nonsense"}'
expect_rc fault-bad-kind-refused 1
expect_out fault-bad-kind-says 'kind must be one of'
ctl clear_faults
req "$BASE/_control/faults"
expect faults-cleared 200 'd["result"] == []'
api sendMessage '{"chat_id": 17, "text": "unblocked"}'
expect faults-cleared-blocked-gone 200

# The recorder: the log and /_control/calls agree, one JSON object a line.
req "$BASE/_control/calls"
n_calls=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["result"]))' "$T_TMP/body")
n_lines=$(wc -l <"$LOG")
if [ "$n_calls" -gt 60 ] && [ "$n_calls" -eq "$n_lines" ]; then ok recorder-log-matches; else
	fail recorder-log-matches "$n_calls calls, $n_lines log lines"
fi
if python3 - "$LOG" "$TOKEN" >"$T_TMP/err" 2>&1 <<'EOF'
import json, sys
calls = [json.loads(line) for line in open(sys.argv[1])]
keys = {"seq", "conn", "kind", "http_method", "token", "method", "params",
        "body_type", "t", "t_end", "wall", "status", "fault", "faults"}
for c in calls:
    assert keys <= set(c), (sorted(keys - set(c)), c)
assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
first = calls[1]
assert first["method"] == "sendMessage" and first["params"] == {"chat_id": 10, "text": "msg 1"}, first
assert first["token"] == sys.argv[2] and first["status"] == 200 and first["body_type"] == "json"
assert first["result"]["message_id"] == 1 and first["t"] <= first["t_end"]
form = calls[2]
assert form["params"] == {"chat_id": "10", "text": "msg 2"} and form["body_type"] == "form", form
multi = calls[3]
assert multi["body_type"] == "multipart" and multi["params"]["doc"]["size"] > 0, multi
assert calls[4]["body_type"] == "query" and calls[4]["http_method"] == "GET"
assert any(c["status"] == 401 and c["token"] == "999:wrong" for c in calls)
assert any(c["status"] == 404 and c["method"] == "noSuchMethod" for c in calls)
drops = [c for c in calls if c["fault"] == "drop" and c["kind"] == "call"]
assert len(drops) == 1 and drops[0]["status"] is None and drops[0]["answered"] is False
after = [c for c in calls if c["fault"] == "drop_after"]
assert len(after) == 1 and after[0]["status"] == 200 and after[0]["result"]["message_id"] == 1
r429 = [c for c in calls if c["fault"] == "429" and c["method"] == "sendMessage"][0]
assert r429["status"] == 429 and r429["parameters"] == {"retry_after": 3}
downloads = [c for c in calls if c["kind"] == "download" and c["status"] == 200]
assert downloads[0]["params"] == {"file_path": "documents/file_1.pdf"} and downloads[0]["bytes"] == 3000
assert all(c["t"] <= c["t_end"] for c in calls)
EOF
then ok recorder-fields; else fail recorder-fields "$(tail -n 3 "$T_TMP/err")"; fi

# Connection ids: two requests on one kept-alive connection share one, a
# new connection gets another.
run curl -sS --max-time 10 -o /dev/null -o /dev/null "$BASE/bot$TOKEN/getMe" "$BASE/bot$TOKEN/getMe"
run curl -sS --max-time 10 -o /dev/null "$BASE/bot$TOKEN/getMe"
conns=$(tail -n 3 "$LOG" | sed 's/.*"conn": \([0-9]*\),.*/\1/' | tr '\n' ' ')
set -- $conns
if [ "$#" -eq 3 ] && [ "$1" = "$2" ] && [ "$2" != "$3" ]; then ok recorder-connection-ids; else
	fail recorder-connection-ids "conns $conns"
fi

# The call log checker, on the live log: numbered messages in two chats.
ctl reset
if [ ! -s "$LOG" ]; then ok reset-truncates-log; else fail reset-truncates-log "$(head -n 1 "$LOG")"; fi
req "$BASE/_control/calls"
expect reset-forgets-calls 200 'd["result"] == []'
for m in "10 1" "-20 1" "10 2" "10 3" "-20 2"; do
	set -- $m
	api sendMessage "{\"chat_id\": $1, \"text\": \"msg $2\"}"
done
expect reset-restarts-message-ids 200 'd["result"]["message_id"] == 2'
run python3 "$CHECK" "$LOG" --expect 3 --chat 10
expect_rc check-clean 0
expect_out check-clean-summary 'delivered=5 chats=2 bots=1 duplicates=0 out_of_order=0 missing=0'
run python3 "$CHECK" "$BASE"
expect_rc check-from-url 0
run python3 "$CHECK" "$LOG" --expect 3
expect_rc check-expect-missing 1
expect_out check-expect-missing-says 'chat -20: 1 never delivered: msg 3'
api sendMessage '{"chat_id": 10, "text": "msg 2"}'
run python3 "$CHECK" "$LOG"
expect_rc check-duplicate-fails 1
expect_out check-duplicate-says 'chat 10: msg 2 delivered 2 times'
expect_out check-order-says 'chat 10: msg 2 delivered after msg 3'
run python3 "$CHECK" "$T_TMP/no-such-log"
expect_rc check-unreadable-2 2

# The checker's windows and bookkeeping, on a log made up here.
python3 - "$T_TMP/synthetic.jsonl" <<'EOF'
import json, sys
out = open(sys.argv[1], "w")
seq = 0
def call(t, chat, text, status=200, token="1:a", **kw):
    global seq
    seq += 1
    c = {"seq": seq, "kind": "call", "method": "sendMessage", "token": token, "t": t,
         "params": {"chat_id": chat, "text": text}, "status": status}
    if status == 200:
        c["result"] = {"message_id": seq}
    c.update(kw)
    out.write(json.dumps(c) + "\n")
call(0.0, 1, "msg 1"); call(1.0, 1, "msg 2"); call(2.5, 1, "msg 3")   # 1/s
call(0.1, 2, "msg 1"); call(0.6, 2, "msg 2"); call(1.15, 2, "msg 3")  # 2 in 1 s
for i in range(21):                                                   # 21/min
    call(3.0 + i * 2.5, -5, "msg %d" % (i + 1))
call(60.0, 3, "msg 1", status=403)                                    # blocked
call(61.0, -7, "msg 1")
call(62.0, -7, "msg 2", status=400, parameters={"migrate_to_chat_id": -1007})
call(63.0, -1007, "msg 2")                                            # moved on
call(64.0, 4, "msg 1", status=500)                                    # lost
call(64.0, 4, "msg 2", token="2:b")
EOF
run python3 "$CHECK" "$T_TMP/synthetic.jsonl" --max-per-chat-1s 2 --max-per-bot-1s 4 --max-per-group-60s 21
expect_rc check-only-the-lost-message 1
expect_out check-missing-lost 'bot 1 chat 4: 1 never delivered: msg 1'
expect_out check-max-chat 'max_per_chat_1s=2 (chat 2)'
expect_out check-max-group 'max_per_group_60s=21 (chat -5)'
if grep -q 'chat 3\|chat -7\|chat -1007\|within' "$T_TMP/out"; then
	fail check-blocked-migrated-fine "$(cat "$T_TMP/out")"; else ok check-blocked-migrated-fine
fi
run python3 "$CHECK" "$T_TMP/synthetic.jsonl" --allow-missing --max-per-chat-1s 1 \
	--max-per-bot-1s 2 --max-per-group-60s 20
expect_rc check-limits-exceeded 1
expect_out check-chat-limit 'bot 1 chat 2: 2 calls within 1 s, limit 1'
expect_out check-group-limit 'bot 1 chat -5: 21 calls within 60 s, limit 20'
expect_out check-bot-limit 'bot 1: 3 calls within 1 s, limit 2'
run python3 "$CHECK" "$T_TMP/synthetic.jsonl" --allow-missing --max-per-chat-1s 2 \
	--max-per-bot-1s 3 --max-per-group-60s 21
expect_rc check-at-limits-ok 0

# Loopback only.
run python3 "$FAKE" --host 0.0.0.0 --lifetime 3
expect_rc refuses-non-loopback 2

# The fake goes when its parent does, and when its lifetime ends.
sh -c 'python3 "$1" --parent $$ >"$2" 2>&1 &
	echo $! >"$3"
	i=0
	until grep -q ready "$2" 2>/dev/null; do
		i=$((i + 1)); [ "$i" -lt 200 ] || exit 1; sleep 0.05
	done' sh "$FAKE" "$T_TMP/orphan.out" "$T_TMP/orphan.pid"
orphan=$(cat "$T_TMP/orphan.pid")
at_exit 'grep -q fake_botapi "/proc/$orphan/cmdline" 2>/dev/null && kill "$orphan"'
if gone "$orphan"; then ok exits-with-parent; else fail exits-with-parent "pid $orphan still there"; fi
python3 "$FAKE" --lifetime 1 >"$T_TMP/life.out" 2>&1 &
life=$!
at_exit 'kill "$life" 2>/dev/null; wait "$life" 2>/dev/null'
if gone "$life"; then ok exits-after-lifetime; else fail exits-after-lifetime "pid $life still there"; fi

# Stopped by SIGTERM, nothing left behind.
kill "$FAKE_PID"
if gone "$FAKE_PID"; then ok stops-on-term; else fail stops-on-term "pid $FAKE_PID still there"; fi
wait "$FAKE_PID" 2>/dev/null
run curl -sS --max-time 5 "$BASE/bot$TOKEN/getMe"
if [ "$RC" -eq 7 ]; then ok port-closed; else fail port-closed "curl exit $RC"; fi

finish
