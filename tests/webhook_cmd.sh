#!/bin/sh
# tests/webhook_cmd.sh - `blueflow webhook set|info|delete` against the
# fake Bot API: the secret, the update kinds the flow uses and
# max_connections reach Telegram; running it twice is fine; a bad secret
# is refused before anything is sent; Telegram's own refusal is shown; the
# token is never printed.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

TOKEN=4242:webhook-Test_token
export WH_TOKEN=$TOKEN WH_SECRET=Good_secret-1
botapi_start "$TOKEN"

cat >"$T_TMP/b.conf" <<CONF
[server]
db = sqlite:$T_TMP/b.db
api_base = http://127.0.0.1:$PORT

[bot demo]
flow = $SRCDIR/flows/onboarding.json
token_env = WH_TOKEN
secret_env = WH_SECRET
max_connections = 12
CONF

state() { python3 "$SRCDIR/tests/fake_botapi.py" ctl "http://127.0.0.1:$PORT" state; }

run "$BLUEFLOW" webhook set demo --url https://bot.example/tg/demo -c "$T_TMP/b.conf"
expect_rc set 0
expect_out set-says "webhook of demo set to https://bot.example/tg/demo (with its secret token)"
state >"$T_TMP/fake.state"
python3 - "$T_TMP/fake.state" <<'PY' && ok set-reached-telegram || fail set-reached-telegram "$(cat "$T_TMP/fake.state")"
import json, sys
s = json.load(open(sys.argv[1]))["result"]["webhooks"]
w = list(s.values())[0]
assert w["url"] == "https://bot.example/tg/demo", w
assert w["secret_token"] == "Good_secret-1", w
assert w["max_connections"] == 12, w
assert w["allowed_updates"] == ["message", "callback_query"], w
PY
run "$BLUEFLOW" webhook set demo --url https://bot.example/tg/demo -c "$T_TMP/b.conf"
expect_rc set-twice 0
run "$BLUEFLOW" webhook info demo -c "$T_TMP/b.conf"
expect_rc info 0
expect_out info-url "url: https://bot.example/tg/demo"
expect_out info-pending "updates waiting: 0"
expect_out info-no-error "last error: none"
python3 "$SRCDIR/tests/fake_botapi.py" ctl "http://127.0.0.1:$PORT" webhook \
	'{"last_error_date": 1700000000, "last_error_message": "Wrong response from the webhook: 503 Service Unavailable", "pending_update_count": 7}' >/dev/null
run "$BLUEFLOW" webhook info demo -c "$T_TMP/b.conf"
expect_out info-last-error "last error: Wrong response from the webhook: 503 Service Unavailable at 2023-11-14 22:13:20 UTC"
expect_out info-pending-7 "updates waiting: 7"
# URLs Telegram would refuse, or nginx would not route to the bot: refused
# here, before anything is sent
sets() { grep -c setWebhook "$T_TMP/calls.jsonl"; }
sets_before=$(sets)
url_refused() {	# NAME URL TEXT
	run "$BLUEFLOW" webhook set demo --url "$2" -c "$T_TMP/b.conf"
	expect_rc "url-$1-refused" 1
	expect_err "url-$1-says" "blueflow webhook set: --url $2: $3"
}
url_refused http http://bot.example/tg/demo "Telegram only calls https:// URLs"
url_refused port https://bot.example:9999/tg/demo "Telegram only calls the ports 443, 80, 88 and 8443"
url_refused path https://bot.example/tg/other "the path must end in /tg/demo"
url_refused no-path https://bot.example:8443 "the path must end in /tg/demo, where nginx hands the bot's updates to blueflow, e.g. https://bot.example:8443/tg/demo"
url_refused no-host https:///tg/demo "no host"
[ "$(sets)" = "$sets_before" ] && ok url-refused-locally || fail url-refused-locally "$(tail -n 3 "$T_TMP/calls.jsonl")"
for u in https://bot.example:8443/tg/demo https://bot.example:88/tg/demo https://10.0.0.1/tg/demo "https://[::1]:443/x/tg/demo"; do
	run "$BLUEFLOW" webhook set demo --url "$u" -c "$T_TMP/b.conf"
	expect_rc "url-ok-$u" 0
done
# the config's url key: the same check, naming the line
sed 's|^max_connections.*|&\nurl = https://bot.example:9999/tg/demo|' "$T_TMP/b.conf" >"$T_TMP/url.conf"
run "$BLUEFLOW" webhook set demo -c "$T_TMP/url.conf"
expect_rc config-url-port 1
expect_err config-url-port-says "url.conf: line 10: config: [bot demo] url = https://bot.example:9999/tg/demo: Telegram only calls the ports 443, 80, 88 and 8443"
# set needs the secret, and says to write it as a value (not a command)
run env -u WH_SECRET "$BLUEFLOW" webhook set demo --url https://bot.example/tg/demo -c "$T_TMP/b.conf"
expect_rc set-without-secret 1
expect_err set-without-secret-says "set the environment variable WH_SECRET (secret_env), e.g. to what \`openssl rand -hex 32\` prints, made once and written as a value"
# info and delete need the token only: not the secret, not the flow
run env -u WH_SECRET "$BLUEFLOW" webhook info demo -c "$T_TMP/b.conf"
expect_rc info-without-secret 0
expect_out info-without-secret-says "url: https://"
run env -u WH_TOKEN "$BLUEFLOW" webhook info demo -c "$T_TMP/b.conf"
expect_rc info-without-token 1
expect_err info-without-token-says "set the environment variable WH_TOKEN (token_env)"
run "$BLUEFLOW" webhook info nobot -c "$T_TMP/b.conf"
expect_rc info-unknown-bot 1
expect_err info-unknown-bot-says 'no bot "nobot"'
run env WH_SECRET='bad secret!' "$BLUEFLOW" webhook set demo --url https://bot.example/tg/demo -c "$T_TMP/b.conf"
expect_rc bad-secret-refused 1
expect_err bad-secret-says "must be 1 to 256 of A-Z, a-z, 0-9, '_' and '-'"
# a secret Telegram itself refuses (its rules may be stricter one day)
python3 "$SRCDIR/tests/fake_botapi.py" ctl "http://127.0.0.1:$PORT" fault \
	'{"kind": "error", "method": "setWebhook", "error_code": 400, "description": "Bad Request: secret token contains unallowed characters", "count": 1}' >/dev/null
run "$BLUEFLOW" webhook set demo --url https://bot.example/tg/demo -c "$T_TMP/b.conf"
expect_rc telegram-refuses-secret 1
expect_err telegram-secret-refusal-shown "Telegram refused (400): Bad Request: secret token contains unallowed characters"
run "$BLUEFLOW" webhook delete demo --drop-pending -c "$T_TMP/b.conf"
expect_rc delete 0
expect_out delete-says "webhook of demo deleted"
run "$BLUEFLOW" webhook delete demo -c "$T_TMP/b.conf"
expect_rc delete-twice 0
run "$BLUEFLOW" webhook info demo -c "$T_TMP/b.conf"
expect_out info-after-delete "url: (none: no webhook is set)"
kill "$FAKE"
wait "$FAKE" 2>/dev/null
run "$BLUEFLOW" webhook info demo -c "$T_TMP/b.conf"
expect_rc no-answer 1
expect_err no-answer-says "no answer from Telegram: getWebhookInfo:"
if grep -qF "$TOKEN" "$T_TMP/out" "$T_TMP/err"; then fail token-never-printed "found"; else ok token-never-printed; fi
finish
