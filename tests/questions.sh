#!/bin/sh
# tests/questions.sh - the richer questions through nginx (TLS) and
# `blueflow serve` on SQLite, with the fake Bot API as Telegram: updates
# are POSTed to the webhook, and what the user gets is the webhook's
# inline reply plus the calls the sender delivers. A choice with
# on_answer "show_answer" edits the pressed prompt to show the label (the
# press's message id); Back returns to the previous question; a contact
# node refuses someone else's contact and takes the user's own;
# multi_choice toggles with a check mark and enforces min on Done.
# Loopback only; every wait is bounded. Skipped (77) without nginx.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"

if ! nginx_available; then
	echo "skip: no nginx ($NGINX) or openssl"
	exit 77
fi

TOKEN=777015:questions-Test_token
SECRET=q-s3cret_15
export QUESTIONS_TOKEN=$TOKEN QUESTIONS_SECRET=$SECRET
secret "$SECRET"
botapi_start "$TOKEN"
DB=$T_TMP/questions.db

cat >"$T_TMP/flow.json" <<'FLOW'
{
  "start": "team",
  "commands": {"/phone": "phone", "/extras": "extras"},
  "nodes": {
    "team": {"type": "choice", "node_text": "Which team?", "on_answer": "show_answer",
             "key_to_save": "team", "choices": {"eng": "🛠 Engineering", "ops": "Ops"}, "next": "name"},
    "name": {"type": "text", "node_text": "Your name, {{team.label}} member?", "key_to_save": "name",
             "back": true, "next": "end"},
    "end": {"type": "cutscene", "node_text": "Welcome, {{name}}."},
    "phone": {"type": "contact", "node_text": "Your phone number?", "key_to_save": "phone", "next": "phoned"},
    "phoned": {"type": "cutscene", "node_text": "Saved {{phone}}."},
    "extras": {"type": "multi_choice", "node_text": "Extras? Two at least.", "key_to_save": "extras",
               "min": 2, "choices": {"backup": "Backup", "sso": "SSO", "audit": "Audit"}, "next": "chosen"},
    "chosen": {"type": "cutscene", "node_text": "Extras: {{extras.label}}."}
  }
}
FLOW
cat >"$T_TMP/blueflow.conf" <<CONF
[server]
db = sqlite:$DB
listen = $T_TMP/bf.sock
api_base = $API
workers = 2

[bot demo]
flow = $T_TMP/flow.json
token_env = QUESTIONS_TOKEN
secret_env = QUESTIONS_SECRET
# every call through the sender, so the fake knows each message it edits
inline_reply = no
CONF
"$BLUEFLOW" db migrate --db "sqlite:$DB" >/dev/null
"$BLUEFLOW" serve -c "$T_TMP/blueflow.conf" --foreground 2>>"$T_TMP/serve.log" &
SERVE_PID=$!
at_exit "kill -TERM $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null"
i=0
while [ ! -S "$T_TMP/bf.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T_TMP/bf.sock" ] && ok serve-started || fail serve-started "$(tail -5 "$T_TMP/serve.log")"
if ! nginx_start "unix:$T_TMP/bf.sock"; then
	fail nginx-start "see above"
	finish
	exit 1
fi
ok nginx-start

run python3 - "$NGINX_URL" "$NGINX_CA" "$API" "$SECRET" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests"))
from chat_client import *   # noqa: F401,F403 - post, msg, press, calls, until, ...

setup(*sys.argv[1:5])


# --- show_answer, then Back
A = 6101
msg(A, "/start")
got = until(A, lambda g: "Which team?" in texts(g))
check("prompt-sent", "Which team?" in texts(got), got)
team_mid = mid(A, "Which team?")
press(A, "team|eng", team_mid)
got = until(A, lambda g: any(m == "editMessageText" for m, _ in g) and
            "Your name, 🛠 Engineering member?" in texts(g))
edits = [p for m, p in got if m == "editMessageText"]
check("show-answer-edits-prompt", len(edits) == 1 and edits[0].get("text") == "Which team? — 🛠 Engineering"
      and edits[0].get("message_id") == team_mid, edits)
check("show-answer-no-markup-removal", not any(m == "editMessageReplyMarkup" for m, _ in got), got)
check("label-in-template", "Your name, 🛠 Engineering member?" in texts(got), texts(got))
name_prompt = [p for m, p in got if m == "sendMessage" and p.get("text", "").startswith("Your name")]
kb = name_prompt[0].get("reply_markup", {}).get("inline_keyboard") if name_prompt else None
check("back-button-shown", kb == [[{"text": "⬅ Back", "callback_data": "name|"}]], kb)
press(A, "name|", mid(A, "Your name, 🛠 Engineering member?"))
got = until(A, lambda g: texts(g).count("Which team?") == 2)
check("back-returns", texts(got).count("Which team?") == 2, texts(got))
press(A, "team|ops", mid(A, "Which team?"))
got = until(A, lambda g: "Your name, Ops member?" in texts(g))
msg(A, "Ada Lovelace")
got = until(A, lambda g: "Welcome, Ada Lovelace." in texts(g))
check("after-back-answers-go-on", "Welcome, Ada Lovelace." in texts(got), texts(got))

# --- contact: someone else's is refused, the user's own is taken
C = 6102
msg(C, "/phone")
got = until(C, lambda g: "Your phone number?" in texts(g))
p = [p for m, p in got if m == "sendMessage" and p.get("text") == "Your phone number?"]
check("contact-keyboard", p and p[0]["reply_markup"]["keyboard"][0][0].get("request_contact") is True, p)
msg(C, contact={"phone_number": "447700900999", "first_name": "Bob", "user_id": 6999})
refusal = "Please share your own phone number with the button below."
got = until(C, lambda g: refusal in texts(g))
check("contact-other-refused", refusal in texts(got) and not any("Saved" in (t or "") for t in texts(got)),
      texts(got))
msg(C, contact={"phone_number": "447700900123", "first_name": "Ada", "user_id": C})
got = until(C, lambda g: "Saved 447700900123." in texts(g))
check("contact-own-taken", "Saved 447700900123." in texts(got), texts(got))

# --- multi_choice: toggles edit the keyboard, Done enforces min
M = 6103
msg(M, "/extras")
got = until(M, lambda g: "Extras? Two at least." in texts(g))
x_mid = mid(M, "Extras? Two at least.")
press(M, "extras|sso", x_mid)
got = until(M, lambda g: any(m == "editMessageReplyMarkup" for m, _ in g))
marks = [p["reply_markup"]["inline_keyboard"] for m, p in got if m == "editMessageReplyMarkup"]
check("toggle-marks", marks and marks[-1][1][0]["text"] == "✓ SSO" and marks[-1][0][0]["text"] == "Backup",
      marks)
press(M, "extras|,", x_mid)
got = until(M, lambda g: "Please pick at least 2." in texts(g))
check("done-enforces-min", "Please pick at least 2." in texts(got) and
      not any((t or "").startswith("Extras:") for t in texts(got)), texts(got))
press(M, "extras|audit", x_mid)
press(M, "extras|,", x_mid)
got = until(M, lambda g: "Extras: SSO, Audit." in texts(g))
check("done-saves-picks", "Extras: SSO, Audit." in texts(got), texts(got))
PY
cat "$T_TMP/out"
[ -s "$T_TMP/err" ] && cat "$T_TMP/err"
while read -r line; do
	case $line in
	ok\ *) ok "${line#ok }" ;;
	FAIL\ *) n=${line#FAIL }; fail "${n%% *}" "${n#* }" ;;
	esac
done <"$T_TMP/out"
expect_rc client-ran 0
if grep -qF "$TOKEN" "$T_TMP/serve.log"; then fail token-not-logged "in serve.log"; else ok token-not-logged; fi
finish
