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
import json, ssl, sys, time, urllib.request

URL, CA, API, SECRET = sys.argv[1:5]
CTX = ssl.create_default_context(cafile=CA)
LIMIT = 15
seq = [100]
inline = []   # (chat, call): the webhook's inline replies


def check(name, cond, why=""):
    print("ok %s" % name if cond else "FAIL %s %s" % (name, why), flush=True)


def post(update):
    seq[0] += 1
    update["update_id"] = seq[0]
    req = urllib.request.Request(URL + "/tg/demo", data=json.dumps(update).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Telegram-Bot-Api-Secret-Token", SECRET)
    with urllib.request.urlopen(req, context=CTX, timeout=LIMIT) as r:
        body = r.read()
    call = json.loads(body) if body.strip() else {}
    if call.get("method"):
        inline.append(call)


def user(uid):
    return {"id": uid, "is_bot": False, "first_name": "Ada", "language_code": "en"}


def msg(chat, text=None, **extra):
    m = {"message_id": seq[0] + 1, "from": user(chat), "chat": {"id": chat, "type": "private"},
         "date": int(time.time())}
    if text is not None:
        m["text"] = text
    m.update(extra)
    post({"message": m})


def press(chat, data, message_id):
    post({"callback_query": {"id": "q%d" % seq[0], "from": user(chat), "data": data,
                             "chat_instance": "1", "message": {"message_id": message_id,
                             "chat": {"id": chat, "type": "private"}, "date": int(time.time()),
                             "text": "?"}}})


def calls(chat):
    """What chat got: the inline replies and the delivered calls, as
    (method, params), inline ones first (they reach Telegram first)."""
    with urllib.request.urlopen(API + "/_control/calls", timeout=LIMIT) as r:
        got = json.loads(r.read())["result"]
    out = [(c["method"], c) for c in inline if str(c.get("chat_id")) == str(chat)]
    out += [(c["method"], c["params"]) for c in got if str(c["params"].get("chat_id")) == str(chat)]
    return out


def until(chat, fn):
    end = time.monotonic() + LIMIT
    while time.monotonic() < end:
        got = calls(chat)
        if fn(got):
            return got
        time.sleep(0.05)
    return calls(chat)


def texts(got, method="sendMessage"):
    return [p.get("text") for m, p in got if m == method]


def mid(chat, text):
    """The message_id the fake gave the message text sent to chat."""
    with urllib.request.urlopen(API + "/_control/state", timeout=LIMIT) as r:
        state = json.loads(r.read())["result"]
    for chats in state.get("messages", {}).values():
        for m in chats.get(str(chat), []):
            if m.get("text") == text:
                return m["message_id"]
    return None


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
