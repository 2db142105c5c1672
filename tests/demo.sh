#!/bin/sh
# tests/demo.sh - scripts/demo, the first of the README's two commands, with
# the binary under test (BLUEFLOW) and its state folder in T_TMP.
# Simulated: the transcript (welcome, role keyboard, the press, the voice
# note and the PDF fetched and answered, the final message, in order), the
# answers collected, the uploads kept 0600 in 0700 folders and equal to what
# was sent, nginx's access log, nothing left running; a run killed with
# SIGKILL mid-conversation: the next one stops its leftovers and plays the
# same transcript. Live, against the fake Bot API (BLUEFLOW_API_BASE) with nginx
# on a test port (BLUEFLOW_DEMO_LISTEN): what Telegram would refuse is
# refused before anything starts; the webhook is registered with the saved
# secret and the self-signed certificate uploaded; /healthz and an update go
# through nginx; a second demo on the same folder or port is refused; Ctrl-C
# (SIGINT) deletes the webhook and stops everything; a rerun keeps the secret
# and the data and stops on SIGTERM. The token reaches no file or output.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"

NGINX=${NGINX:-/usr/sbin/nginx}
if ! [ -x "$NGINX" ] || ! command -v openssl >/dev/null 2>&1 ||
	! command -v curl >/dev/null 2>&1 || ! command -v timeout >/dev/null 2>&1; then
	echo "skip: nginx, openssl, curl or timeout missing"
	exit 77
fi
DEMO=$SRCDIR/scripts/demo
export BLUEFLOW

# The simulated mode's token: the one scripts/demo.py uses.
SIM_TOKEN=123456789:simulated-demo-token
secret "$SIM_TOKEN"
grep -qF "\"$SIM_TOKEN\"" "$SRCDIR/scripts/demo.py" && ok sim-token-known ||
	fail sim-token-known "scripts/demo.py no longer uses $SIM_TOKEN; update this test"

# running_from DIR: the processes (not zombies) whose command line names DIR.
running_from() {
	python3 - "$1" <<'PY'
import os, sys
me = os.getpid()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == me:
        continue
    try:
        state = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0]
        cmd = open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ").decode("utf-8", "replace")
    except (OSError, IndexError):
        continue
    if state not in ("Z", "X") and sys.argv[1] + "/" in cmd:
        print(p, cmd[:160])
PY
}

# in_order NAME FILE TEXT...: FILE has lines containing each TEXT, in order.
in_order() {
	n=$1
	f=$2
	shift 2
	if python3 - "$f" "$@" <<'PY'; then ok "$n"; else fail "$n" "$(cat "$T_TMP/order")"; fi
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
i = 0
for want in sys.argv[2:]:
    while i < len(lines) and want not in lines[i]:
        i += 1
    if i == len(lines):
        open(sys.argv[1].rsplit("/", 1)[0] + "/order", "w").write("no %r after the earlier ones" % want)
        sys.exit(1)
    i += 1
PY
}

# =============================================================== simulated
SIM=$T_TMP/demo
run env BLUEFLOW_DEMO_DIR="$SIM" timeout 120 sh "$DEMO"
expect_rc sim-runs 0
cp "$T_TMP/out" "$T_TMP/sim1.out"
cat "$T_TMP/sim1.out"
[ -s "$T_TMP/err" ] && cat "$T_TMP/err"
expect_out sim-says-telegram-simulated "Telegram  simulated locally"
expect_out sim-over-https "POSTed to https://127.0.0.1:"
expect_out sim-says-where-logs "serve.log                    blueflow's log"
in_order sim-transcript "$T_TMP/sim1.out" \
	"Ada  /start" \
	"bot  Hi Ada, welcome to the Atlas product team! 👋" \
	"bot  Which part of the team are you joining?" \
	"[🛠 Engineering]  [🎨 Design]" \
	"[🧭 Product]  [📊 Data]" \
	"Ada  I'm stuck" \
	"bot  Need a hand?" \
	"Ada  (presses [↩️ Start over])" \
	"bot  (deletes its 1 message of that question)" \
	"bot  Which part of the team are you joining?" \
	"Ada  (presses [🛠 Engineering])" \
	"bot  What is your full name" \
	"bot  (edits its question to read: Which part of the team are you joining?" \
	"— 🛠 Engineering)" \
	"Ada  Ada" \
	"bot  Please write both your first and last name." \
	"Ada  Ada Lovelace" \
	"bot  Thanks, Ada Lovelace! What is your work e-mail?" \
	"Ada  ada@atlas.example" \
	"bot  How many years" \
	"[⬅ Back]" \
	"Ada  (presses [⬅ Back])" \
	"bot  Thanks, Ada Lovelace! What is your work e-mail?" \
	"Ada  7" \
	"bot  Engineers: your GitHub invite" \
	"[Choose my buddy]" \
	"Ada  @grace_hopper" \
	"bot  🎤 Record a short voice hello" \
	"Ada  (a voice note, 42 s," \
	"(blueflow fetched it from Telegram: getFile, then a 9.4 KiB download)" \
	"bot  📄 Last step: upload the signed equipment form" \
	"Ada  (sends equipment-form.pdf, a PDF," \
	"(blueflow fetched it from Telegram: getFile, then a" \
	"bot  We couldn't find grace_hopper in the team directory" \
	"bot  That's everything, Ada Lovelace! 🎉"
sed -n '/^Ada.s updates/,/^What the bot collected/p' "$T_TMP/sim1.out" | grep -q '<b>\|<code>' &&
	fail sim-html-stripped "a tag is left in the transcript" || ok sim-html-stripped
in_order sim-collected "$T_TMP/sim1.out" \
	"What the bot collected" \
	'chat 5550001: finished, at node "done"' \
	"role              eng" \
	"full_name         Ada Lovelace" \
	"email             ada@atlas.example" \
	"years_experience  7" \
	"bio               Before Atlas I built <b>analytical engines</b>" \
	"buddy             grace_hopper" \
	"intro_voice       " \
	"equipment_form    " \
	"The uploads, kept on disk"
VOICE=$SIM/files/onboarding/5550001/400000013-AgADvoiceHello.ogg
PDF=$SIM/files/onboarding/5550001/400000014-AgADequipForm.pdf
for f in "$VOICE" "$PDF"; do
	b=$(basename "$f")
	grep -q "intro_voice .*$b\|equipment_form .*$b" "$T_TMP/sim1.out" && ok "sim-answer-names-$b" ||
		fail "sim-answer-names-$b" "no answer with $b"
	grep -q "^  0600 .*$b" "$T_TMP/sim1.out" && ok "sim-lists-$b" || fail "sim-lists-$b" "not listed"
	[ -f "$f" ] && [ "$(stat -c %a "$f")" = 600 ] && ok "sim-kept-0600-$b" ||
		fail "sim-kept-0600-$b" "$(ls -l "$f" 2>&1)"
done
[ "$(stat -c %a "$SIM/files/onboarding")$(stat -c %a "$SIM/files/onboarding/5550001")" = 700700 ] &&
	ok sim-folders-0700 || fail sim-folders-0700 "$(ls -ld "$SIM/files/onboarding" "$SIM/files/onboarding/5550001")"
cmp -s "$VOICE" "$SIM/inputs/voice-hello.ogg" && cmp -s "$PDF" "$SIM/inputs/equipment-form.pdf" &&
	ok sim-files-as-sent || fail sim-files-as-sent "the kept files differ from what was sent"
head -c 4 "$VOICE" | grep -q OggS && head -c 5 "$PDF" | grep -q '%PDF-' && ok sim-files-typed ||
	fail sim-files-typed "not OGG and PDF"
# the store agrees, through the CLI (CSV this time)
SIM_SECRET=$(cat "$SIM/webhook.secret")
[ "$(stat -c %a "$SIM/webhook.secret")" = 600 ] && ok sim-secret-0600 ||
	fail sim-secret-0600 "$(stat -c %a "$SIM/webhook.secret")"
run env BOT_TOKEN="$SIM_TOKEN" WEBHOOK_SECRET="$SIM_SECRET" "$BLUEFLOW" export onboarding \
	--format csv -c "$SIM/blueflow.conf"
expect_rc sim-export 0
expect_out sim-export-name "Ada Lovelace"
expect_out sim-export-voice "$VOICE"
# the engine's own keys (the back button's path, intents' times) are no answers
if grep -q 'flow\.' "$T_TMP/out"; then
	fail sim-export-no-internal-keys "$(head -n 1 "$T_TMP/out")"
else
	ok sim-export-no-internal-keys
fi
run env BOT_TOKEN="$SIM_TOKEN" WEBHOOK_SECRET="$SIM_SECRET" "$BLUEFLOW" export onboarding \
	--format jsonl -c "$SIM/blueflow.conf"
if [ "$RC" -eq 0 ] && grep -q '"full_name":"Ada Lovelace"' "$T_TMP/out" && ! grep -q 'flow\.' "$T_TMP/out"; then
	ok sim-export-jsonl-answers-only
else
	fail sim-export-jsonl-answers-only "$(head -c 600 "$T_TMP/out")"
fi
# every update went through nginx over TLS and was answered 200
n=$(grep -c '"method":"POST","path":"/tg/onboarding","status":200,.*"tls":"TLSv1' "$SIM/nginx/access.log")
[ "$n" = 14 ] && ok sim-fourteen-updates-via-nginx || fail sim-fourteen-updates-via-nginx "$n: $(head -c 600 "$SIM/nginx/access.log")"
grep -c '"event":"update"' "$SIM/serve.log" | grep -qx 14 && ok sim-serve-logged ||
	fail sim-serve-logged "$(head -c 600 "$SIM/serve.log")"
# stopped: nothing runs from the folder, no socket, no pid files
left=$(running_from "$SIM")
[ -z "$left" ] && ok sim-nothing-left-running || fail sim-nothing-left-running "$left"
[ ! -e "$SIM/blueflow.sock" ] && [ ! -e "$SIM/serve.pid" ] && [ ! -e "$SIM/nginx/nginx.pid" ] &&
	[ ! -e "$SIM/fake.pid" ] && ok sim-no-socket-no-pids || fail sim-no-socket-no-pids "$(ls "$SIM" "$SIM/nginx")"
if grep -rqF -e "$SIM_SECRET" "$SIM/serve.log" "$SIM/nginx/access.log" "$SIM/nginx/error.log" \
	"$SIM/fake.log" "$T_TMP/sim1.out"; then
	fail sim-secret-in-no-log "found"
else
	ok sim-secret-in-no-log
fi
# killed mid-conversation (kill -9: no clean-up), then run again: what the
# killed run left is stopped, and the conversation is the same
env BLUEFLOW_DEMO_DIR="$SIM" sh "$DEMO" >"$T_TMP/killed.out" 2>&1 &
KILLED=$!
at_exit "kill -KILL $KILLED 2>/dev/null"
i=0
while ! grep -q 'Ada  (presses' "$T_TMP/killed.out" && kill -0 $KILLED 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -KILL $KILLED
wait $KILLED 2>/dev/null
[ -n "$(running_from "$SIM")" ] && ok sim-killed-leaves-some || fail sim-killed-leaves-some "nothing runs: $(cat "$T_TMP/killed.out")"
run env BLUEFLOW_DEMO_DIR="$SIM" timeout 120 sh "$DEMO"
expect_rc sim-runs-again 0
expect_out sim-stops-leftover-serve "(stopping the blueflow serve, pid"
expect_out sim-stops-leftover-nginx "(stopping the nginx, pid"
# (the port may differ: 8443 is tried first, and another program may hold it)
sed -n '/^Ada.s updates/,/^delivered by the sender/{s/127\.0\.0\.1:[0-9]*/127.0.0.1:PORT/g;p;}' "$T_TMP/sim1.out" >"$T_TMP/t1"
sed -n '/^Ada.s updates/,/^delivered by the sender/{s/127\.0\.0\.1:[0-9]*/127.0.0.1:PORT/g;p;}' "$T_TMP/out" >"$T_TMP/t2"
[ -s "$T_TMP/t1" ] && cmp -s "$T_TMP/t1" "$T_TMP/t2" && ok sim-same-again ||
	fail sim-same-again "$(diff "$T_TMP/t1" "$T_TMP/t2" | head -20)"
left=$(running_from "$SIM")
[ -z "$left" ] && ok sim-again-nothing-left || fail sim-again-nothing-left "$left"

# ==================================================== live: refused early
LIVE_TOKEN=424242:live-Demo_token
secret "$LIVE_TOKEN"
refused() {
	name=$1 url=$2 want=$3
	run env BLUEFLOW_DEMO_DIR="$T_TMP/refused" BOT_TOKEN="$LIVE_TOKEN" PUBLIC_URL="$url" \
		timeout 30 sh "$DEMO"
	expect_rc "$name" 2
	expect_err "$name-says" "$want"
}
refused live-http http://bot.example.com "PUBLIC_URL must be an https:// URL"
refused live-port-8080 https://bot.example.com:8080 "port 8080 is not one Telegram sends webhooks to: use 443, 80, 88 or 8443"
refused live-path https://bot.example.com/bot "without a path"
run env BLUEFLOW_DEMO_DIR="$T_TMP/refused" BOT_TOKEN="$LIVE_TOKEN" timeout 30 sh "$DEMO"
expect_rc live-token-alone 2
expect_err live-token-alone-says "needs both BOT_TOKEN and PUBLIC_URL"
run env BLUEFLOW_DEMO_DIR="$T_TMP/refused" BOT_TOKEN="not a token" PUBLIC_URL=https://b.example \
	timeout 30 sh "$DEMO"
expect_rc live-bad-token 2
expect_err live-bad-token-says "BOT_TOKEN does not look like a token"
[ ! -e "$T_TMP/refused" ] && ok live-refused-nothing-made || fail live-refused-nothing-made "$(ls -R "$T_TMP/refused")"

# ============================================== live, against the fake
botapi_start "$LIVE_TOKEN"
LIVE=$T_TMP/live
LPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# (fake.*: the fake's records hold the token, as Telegram's would)
state() { python3 "$BOTAPI_PY" ctl "$API" state >"$T_TMP/fake.state.json"; }

# live_start OUT [DIR]: the live demo in the background (pid in LIVE_PID),
# waiting (60 s at most) until it serves
live_start() {
	env BOT_TOKEN="$LIVE_TOKEN" PUBLIC_URL=https://127.0.0.1:8443 BLUEFLOW_API_BASE="$API" \
		BLUEFLOW_DEMO_LISTEN="127.0.0.1:$LPORT" BLUEFLOW_DEMO_DIR="${2:-$LIVE}" \
		sh "$DEMO" >"$1" 2>&1 &
	LIVE_PID=$!
	at_exit "kill -TERM $LIVE_PID 2>/dev/null; i=0; while kill -0 $LIVE_PID 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done"
	i=0
	while ! grep -q '^Serving\.' "$1" && kill -0 "$LIVE_PID" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q '^Serving\.' "$1"
}

# live_wait_exit: waits (30 s at most) for the demo to end; its status in RC
live_wait_exit() {
	i=0
	while kill -0 "$LIVE_PID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$LIVE_PID" 2>/dev/null; then
		RC=999
	else
		wait "$LIVE_PID"
		RC=$?
	fi
}

# a webhook set elsewhere before: replaced, and said so
TOKEN=$LIVE_TOKEN python3 -c 'import os, sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/bot" + os.environ["TOKEN"] + "/setWebhook",
                       data=b"url=https://old.example/tg/x", timeout=10)' "$API"
live_start "$T_TMP/live1.out" && ok live-serving || fail live-serving "$(cat "$T_TMP/live1.out")"
cat "$T_TMP/live1.out"
grep -qF "(the bot's webhook pointed at https://old.example/tg/x; it is replaced)" "$T_TMP/live1.out" &&
	ok live-says-replaced || fail live-says-replaced "not said"
LIVE_SECRET=$(cat "$LIVE/webhook.secret" 2>/dev/null)
[ "$(stat -c %a "$LIVE/webhook.secret" 2>&1)" = 600 ] && [ ${#LIVE_SECRET} -eq 64 ] &&
	ok live-secret-0600 || fail live-secret-0600 "$(ls -l "$LIVE/webhook.secret" 2>&1)"
state
python3 - "$T_TMP/fake.state.json" "$LIVE_SECRET" <<'PY' && ok live-webhook-registered || fail live-webhook-registered "$(head -c 600 "$T_TMP/fake.state.json")"
import json, sys
w = list(json.load(open(sys.argv[1]))["result"]["webhooks"].values())[0]
assert w["url"] == "https://127.0.0.1:8443/tg/onboarding", w
assert w["secret_token"] == sys.argv[2], "secret differs"
assert w["allowed_updates"] == ["message", "callback_query"], w
PY
python3 - "$T_TMP/calls.jsonl" "$(wc -c <"$LIVE/nginx/cert.pem")" <<'PY' && ok live-certificate-uploaded || fail live-certificate-uploaded "$(grep setWebhook "$T_TMP/calls.jsonl" | head -c 600)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"setWebhook"' in l]
c = calls[-1]
assert c["body_type"] == "multipart", c["body_type"]
cert = c["params"]["certificate"]
assert cert["size"] == int(sys.argv[2]), cert
assert c["params"]["url"] == "https://127.0.0.1:8443/tg/onboarding", c["params"]
PY
grep -q "BEGIN CERTIFICATE" "$LIVE/nginx/cert.pem" && openssl x509 -in "$LIVE/nginx/cert.pem" -noout -ext subjectAltName 2>/dev/null |
	grep -q "IP Address:127.0.0.1" && ok live-cert-for-host || fail live-cert-for-host "$(openssl x509 -in "$LIVE/nginx/cert.pem" -noout -text 2>&1 | head -20)"
grep -q "api_base = $API" "$LIVE/blueflow.conf" && grep -q '^url = https://127.0.0.1:8443/tg/onboarding' "$LIVE/blueflow.conf" &&
	ok live-config || fail live-config "$(cat "$LIVE/blueflow.conf")"
run curl -sS --max-time 10 --cacert "$LIVE/nginx/cert.pem" "https://127.0.0.1:$LPORT/healthz"
expect_out live-healthz '"status":"ok"'
# an update as Telegram would send it, through nginx: answered, then the
# sender delivers the welcome to the Bot API
UPD='{"update_id":9001,"message":{"message_id":1,"date":'$(date +%s)',"chat":{"id":6060,"type":"private","first_name":"Lin"},"from":{"id":6060,"is_bot":false,"first_name":"Lin"},"text":"/start"}}'
run curl -sS --max-time 10 --cacert "$LIVE/nginx/cert.pem" -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/json' -H "X-Telegram-Bot-Api-Secret-Token: $LIVE_SECRET" \
	--data "$UPD" "https://127.0.0.1:$LPORT/tg/onboarding"
expect_out live-update-200 200
run curl -sS --max-time 10 --cacert "$LIVE/nginx/cert.pem" -o /dev/null -w '%{http_code}' \
	-H 'X-Telegram-Bot-Api-Secret-Token: wrong' --data "$UPD" "https://127.0.0.1:$LPORT/tg/onboarding"
expect_out live-wrong-secret-401 401
delivered() {
	python3 - "$T_TMP/calls.jsonl" <<'PY'
import json, sys
sys.exit(0 if any(c["method"] == "sendMessage" and str(c["params"].get("chat_id")) == "6060"
                  and "Which part of the team" in str(c["params"].get("text"))
                  for c in map(json.loads, open(sys.argv[1]))) else 1)
PY
}
i=0
until delivered || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
delivered && ok live-sender-delivers || fail live-sender-delivers "$(tail -3 "$T_TMP/calls.jsonl")"
# a second demo: refused on the same folder, and on the same port
run env BOT_TOKEN="$LIVE_TOKEN" PUBLIC_URL=https://127.0.0.1:8443 BLUEFLOW_API_BASE="$API" \
	BLUEFLOW_DEMO_LISTEN="127.0.0.1:$LPORT" BLUEFLOW_DEMO_DIR="$LIVE" timeout 30 sh "$DEMO"
expect_rc live-same-folder-refused 1
expect_err live-same-folder-says "another scripts/demo runs with the state folder"
run env BOT_TOKEN="$LIVE_TOKEN" PUBLIC_URL=https://127.0.0.1:8443 BLUEFLOW_API_BASE="$API" \
	BLUEFLOW_DEMO_LISTEN="127.0.0.1:$LPORT" BLUEFLOW_DEMO_DIR="$T_TMP/live-other" timeout 30 sh "$DEMO"
expect_rc live-same-port-refused 1
expect_err live-same-port-says "port $LPORT is taken"
# Ctrl-C: webhook deleted, everything stopped
kill -INT "$LIVE_PID"
live_wait_exit
[ "$RC" = 0 ] && ok live-sigint-exit-0 || fail live-sigint-exit-0 "exit $RC: $(tail -5 "$T_TMP/live1.out")"
grep -q "Webhook deleted" "$T_TMP/live1.out" && ok live-says-deleted || fail live-says-deleted "$(tail -5 "$T_TMP/live1.out")"
state
python3 - "$T_TMP/fake.state.json" <<'PY' && ok live-webhook-deleted || fail live-webhook-deleted "$(head -c 600 "$T_TMP/fake.state.json")"
import json, sys
w = list(json.load(open(sys.argv[1]))["result"]["webhooks"].values())[0]
assert w["url"] == "", w
PY
left=$(running_from "$LIVE")
[ -z "$left" ] && ok live-nothing-left-running || fail live-nothing-left-running "$left"
[ ! -e "$LIVE/blueflow.sock" ] && ok live-socket-removed || fail live-socket-removed "still there"

# again: the same secret, the data kept; SIGTERM stops it as well
live_start "$T_TMP/live2.out" && ok live-serving-again || fail live-serving-again "$(cat "$T_TMP/live2.out")"
[ "$(cat "$LIVE/webhook.secret")" = "$LIVE_SECRET" ] && ok live-secret-kept || fail live-secret-kept "a new secret"
run env BOT_TOKEN="$LIVE_TOKEN" WEBHOOK_SECRET="$LIVE_SECRET" "$BLUEFLOW" export onboarding \
	--format jsonl -c "$LIVE/blueflow.conf"
expect_out live-data-kept '"chat_id":6060'
kill -TERM "$LIVE_PID"
live_wait_exit
[ "$RC" = 0 ] && ok live-sigterm-exit-0 || fail live-sigterm-exit-0 "exit $RC: $(tail -5 "$T_TMP/live2.out")"
left=$(running_from "$LIVE")
[ -z "$left" ] && ok live-again-nothing-left || fail live-again-nothing-left "$left"
if grep -rqF -e "$LIVE_SECRET" "$LIVE/serve.log" "$LIVE/nginx/access.log" "$LIVE/nginx/error.log" \
	"$T_TMP/live1.out" "$T_TMP/live2.out"; then
	fail live-secret-in-no-log "found"
else
	ok live-secret-in-no-log
fi
finish
