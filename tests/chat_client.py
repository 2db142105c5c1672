"""tests/chat_client.py - a Telegram user for the shell tests that drive
`blueflow serve` through nginx with the fake Bot API (tests/fake_botapi.py)
as Telegram: it POSTs updates to the webhook of bot "demo" and reads what
the chat got, the webhook's inline replies plus the calls the fake was
sent. Call setup() first; check() prints the "ok NAME" / "FAIL NAME WHY"
lines the shell side turns into results."""

import json
import ssl
import time
import urllib.request

URL = CA = API = SECRET = None
CTX = None
LIMIT = 15
seq = [100]
inline = []   # (chat, call): the webhook's inline replies


def setup(url, ca, api, secret):
    """The webhook's base URL, its CA file, the fake's URL, the secret."""
    global URL, CA, API, SECRET, CTX
    URL, CA, API, SECRET = url, ca, api, secret
    CTX = ssl.create_default_context(cafile=CA)


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
