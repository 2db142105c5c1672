#!/bin/sh
# tests/life.sh - the life cycle of messages through nginx (TLS) and
# `blueflow serve` on SQLite, with the fake Bot API as Telegram (which
# numbers the messages it is sent and keeps them until deleted): an
# ephemeral prompt and its refusal are deleted with deleteMessages of the
# ids the sender recorded once the question is answered; an ephemeral
# confirmation goes after its auto_delete_after (2 s), on time; a system
# menu is edited in place (editMessageText of its recorded id), and sent
# anew and recorded when Telegram refuses the edit; a menu node's button
# works while another question waits, whose ephemeral prompt goes; a
# command that leaves an ephemeral question deletes its prompt too; a
# keyword intent jumps from a menu, and its cooldown holds it back the
# second time (the choice it led to refuses the text). Loopback only; every
# wait is bounded. On SQLite, then on PostgreSQL when it is installed.
# Skipped (77) without nginx.
set -u
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/botapi_lib.sh"
. "$SRCDIR/tests/nginx_lib.sh"
. "$SRCDIR/tests/pg_lib.sh"

if ! nginx_available; then
	echo "skip: no nginx ($NGINX) or openssl"
	exit 77
fi

TOKEN=777016:life-Test_token
SECRET=l-s3cret_16
export LIFE_TOKEN=$TOKEN LIFE_SECRET=$SECRET
secret "$SECRET"
botapi_start "$TOKEN"

cat >"$T_TMP/flow.json" <<'FLOW'
{
  "start": "age",
  "commands": {"/menu": "count", "/hub": "hub"},
  "intents": [{"id": "help", "keywords": ["help", "stuck"], "cooldown": "1h", "next": "desk"}],
  "nodes": {
    "age": {"type": "number", "node_text": "How old are you?", "key_to_save": "age",
            "integer": true, "lifecycle": "ephemeral", "next": "saved"},
    "saved": {"type": "cutscene", "node_text": "Saved.", "lifecycle": "ephemeral",
              "auto_delete_after": 2, "next": "name"},
    "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "end"},
    "end": {"type": "cutscene", "node_text": "Welcome, {{name}}."},
    "count": {"type": "set", "key_to_save": "visits", "add": 1, "next": "menu"},
    "menu": {"type": "choice", "node_text": "Main menu (visit {{visits}})", "lifecycle": "system",
             "tag": "menu", "on_answer": "keep", "choices": {"news": "News"},
             "next_for_choice": {"news": "news"}},
    "news": {"type": "cutscene", "node_text": "Nothing new today.", "next": "count"},
    "hub": {"type": "menu", "node_text": "Hub", "choices": {"ask": "Ask", "about": "About"},
            "next_for_choice": {"ask": "age", "about": "about"}},
    "about": {"type": "cutscene", "node_text": "About us.", "next": "hub"},
    "desk": {"type": "cutscene", "node_text": "Ask at the desk.", "next": "pick"},
    "pick": {"type": "choice", "node_text": "Pick one.", "choices": {"go": "Go"}, "next": "end"}
  }
}
FLOW
# run_backend NAME DB BASE: the pool on DB behind nginx, the chats BASE + n
run_backend() {
	cat >"$T_TMP/$1.conf" <<CONF
[server]
db = $2
listen = $T_TMP/$1.sock
api_base = $API
workers = 2

[bot demo]
flow = $T_TMP/flow.json
token_env = LIFE_TOKEN
secret_env = LIFE_SECRET
# every call through the sender, so the fake knows each message it edits
inline_reply = no
CONF
	"$BLUEFLOW" db migrate -c "$T_TMP/$1.conf" >/dev/null
	"$BLUEFLOW" serve -c "$T_TMP/$1.conf" --foreground 2>>"$T_TMP/serve.log" &
	SERVE_PID=$!
	at_exit "kill -TERM $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null"
	i=0
	while [ ! -S "$T_TMP/$1.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$T_TMP/$1.sock" ] && ok "$1-serve-started" ||
		fail "$1-serve-started" "$(tail -5 "$T_TMP/serve.log")"
	if ! nginx_start "unix:$T_TMP/$1.sock"; then
		fail "$1-nginx-start" "see above"
		return
	fi
	ok "$1-nginx-start"
	run python3 - "$NGINX_URL" "$NGINX_CA" "$API" "$SECRET" "$3" <<'PY'
import json, os, sys, time, urllib.request
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests"))
from chat_client import *   # noqa: F401,F403 - post, msg, press, calls, until, ...

setup(*sys.argv[1:5])
API = sys.argv[3]
BASE = int(sys.argv[5])   # the backend's chats: BASE + 1, ...


def kept(chat):
    """The messages the fake still holds for chat: {message_id: text}."""
    with urllib.request.urlopen(API + "/_control/state", timeout=LIMIT) as r:
        state = json.loads(r.read())["result"]
    out = {}
    for chats in state.get("messages", {}).values():
        for m in chats.get(str(chat), []):
            out[m["message_id"]] = m.get("text")
    return out


def log(chat):
    """The fake's log of chat's calls, with their times and answers."""
    with urllib.request.urlopen(API + "/_control/calls", timeout=LIMIT) as r:
        got = json.loads(r.read())["result"]
    return [c for c in got if str(c["params"].get("chat_id")) == str(chat)]


def fault(spec):
    req = urllib.request.Request(API + "/_control/fault", data=json.dumps(spec).encode(),
                                 method="POST")
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req, timeout=LIMIT).read()


# --- ephemeral: the prompt and its refusal go once answered
A = BASE + 1
msg(A, "/start")
got = until(A, lambda g: "How old are you?" in texts(g))
prompt = mid(A, "How old are you?")
msg(A, "abc")
got = until(A, lambda g: len(texts(g)) >= 2)
refusal = [m for m, t in kept(A).items() if m != prompt]
check("refusal-sent", len(refusal) == 1, kept(A))
msg(A, "42")
got = until(A, lambda g: "Your name?" in texts(g) and any(m == "deleteMessages" for m, _ in g))
dels = [p for m, p in got if m == "deleteMessages"]
check("answer-deletes-prompt-and-refusal", len(dels) == 1 and
      sorted(dels[0].get("message_ids", [])) == sorted([prompt] + refusal), dels)
check("marks-not-sent", not any("blueflow" in p for _, p in got), got)
left = kept(A)
check("prompt-and-refusal-gone", prompt not in left and not any(r in left for r in refusal), left)
check("confirmation-shown", "Saved." in left.values() and "Your name?" in left.values(), left)
saved_mid = mid(A, "Saved.")

# --- auto_delete_after: the confirmation goes 2 s after it was entered
end = time.monotonic() + LIMIT
while time.monotonic() < end and saved_mid in kept(A):
    time.sleep(0.05)
entries = log(A)
sent_at = [c["wall"] for c in entries if c["method"] == "sendMessage" and
           c["params"].get("text") == "Saved."]
gone_at = [c["wall"] for c in entries if c["method"] == "deleteMessages" and
           saved_mid in c["params"].get("message_ids", [])]
check("auto-delete-deletes", saved_mid not in kept(A) and len(gone_at) == 1, entries[-3:])
late = gone_at[0] - sent_at[0] if sent_at and gone_at else None
check("auto-delete-on-time", late is not None and 1.7 <= late <= 3.5, late)
check("others-kept", "Your name?" in kept(A).values(), kept(A))
msg(A, "Ada")
got = until(A, lambda g: "Welcome, Ada." in texts(g))
check("flow-goes-on", "Welcome, Ada." in texts(got), texts(got))

# --- system: the menu is edited in place, and sent anew when the edit is refused
S = BASE + 2
msg(S, "/menu")
got = until(S, lambda g: "Main menu (visit 1)" in texts(g))
m1 = mid(S, "Main menu (visit 1)")
press(S, "menu|news", m1)
got = until(S, lambda g: any(m == "editMessageText" for m, _ in g))
edits = [p for m, p in got if m == "editMessageText"]
check("menu-edited-in-place", len(edits) == 1 and edits[0].get("message_id") == m1 and
      edits[0].get("text") == "Main menu (visit 2)" and edits[0].get("reply_markup", {}).get(
          "inline_keyboard") == [[{"text": "News", "callback_data": "menu|news"}]], edits)
check("menu-not-sent-again", texts(got).count("Main menu (visit 1)") == 1 and
      "Main menu (visit 2)" not in texts(got), texts(got))
check("menu-message-updated", kept(S).get(m1) == "Main menu (visit 2)", kept(S))
fault({"kind": "error", "method": "editMessageText", "chat_id": S, "error_code": 400,
       "description": "Bad Request: message can't be edited", "count": 1})
msg(S, "/menu")
got = until(S, lambda g: "Main menu (visit 3)" in texts(g))
refused = [c for c in log(S) if c["method"] == "editMessageText" and c.get("status") == 400]
check("edit-refused", len(refused) == 1 and refused[0]["params"].get("message_id") == m1, refused)
m2 = mid(S, "Main menu (visit 3)")
check("menu-sent-anew", m2 is not None and m2 != m1, kept(S))
press(S, "menu|news", m2)
got = until(S, lambda g: len([1 for m, _ in g if m == "editMessageText"]) >= 3)
edits = [p for m, p in got if m == "editMessageText"]
check("new-menu-recorded", edits and edits[-1].get("message_id") == m2 and
      kept(S).get(m2) == "Main menu (visit 4)", (edits, kept(S)))

# --- menu node: its button works while another question waits
H = BASE + 3
msg(H, "/hub")
got = until(H, lambda g: "Hub" in texts(g))
h1 = mid(H, "Hub")
press(H, "hub|ask", h1)
got = until(H, lambda g: "How old are you?" in texts(g))
asked = mid(H, "How old are you?")
check("menu-keeps-keyboard", not any(m == "editMessageReplyMarkup" for m, _ in got), got)
press(H, "hub|about", h1)
got = until(H, lambda g: "About us." in texts(g) and any(m == "editMessageText" for m, _ in g))
dels = [p for m, p in got if m == "deleteMessages"]
check("menu-press-leaves-question", len(dels) == 1 and dels[0].get("message_ids") == [asked] and
      asked not in kept(H), (dels, kept(H)))
edits = [p for m, p in got if m == "editMessageText"]
check("menu-node-edited-in-place", texts(got).count("Hub") == 1 and edits and
      edits[-1].get("message_id") == h1, (texts(got), edits))

# --- a command leaves an ephemeral question: its prompt goes as after an answer
C = BASE + 4
msg(C, "/start")
got = until(C, lambda g: "How old are you?" in texts(g))
asked = mid(C, "How old are you?")
msg(C, "/hub")
got = until(C, lambda g: "Hub" in texts(g) and any(m == "deleteMessages" for m, _ in g))
dels = [p for m, p in got if m == "deleteMessages"]
check("command-leaves-ephemeral", len(dels) == 1 and dels[0].get("message_ids") == [asked] and
      asked not in kept(C), (dels, kept(C)))

# --- intents: a keyword jumps from the menu; within the cooldown it does not
msg(C, "I am STUCK")
got = until(C, lambda g: "Pick one." in texts(g))
check("intent-jumps", texts(got)[-2:] == ["Ask at the desk.", "Pick one."], texts(got))
msg(C, "help")
got = until(C, lambda g: "Please choose one of the buttons." in texts(g))
check("intent-cooldown", texts(got).count("Ask at the desk.") == 1, texts(got))
PY

	cat "$T_TMP/out"
	[ -s "$T_TMP/err" ] && cat "$T_TMP/err"
	while read -r line; do
		case $line in
		ok\ *) ok "$1-${line#ok }" ;;
		FAIL\ *) n=${line#FAIL }; fail "$1-${n%% *}" "${n#* }" ;;
		esac
	done <"$T_TMP/out"
	expect_rc "$1-client-ran" 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	nginx_stop
}

run_backend sqlite "sqlite:$T_TMP/life.db" 7100
if pg_available; then
	pg_start
	run_backend pg "$PG_URI" 7200
else
	echo "no PostgreSQL: the pg run is skipped"
fi
if grep -qF "$TOKEN" "$T_TMP/serve.log"; then fail token-not-logged "in serve.log"; else ok token-not-logged; fi
finish
