#!/usr/bin/env python3
"""tests/timers.py - drives tests/timers.sh: posts updates through nginx
and reads the fake Bot API's call log (CALLS) for what timers sent.

  timers.py start CHAT...       /start in each chat
  timers.py say CHAT TEXT       one message
  timers.py texts CHAT          the texts sent to the chat so far, one a line
  timers.py calls CHAT METHOD   how many calls of a method named METHOD...
                                went to the chat
  timers.py deleted CHAT        the message ids deleteMessage(s) named there, sorted
  timers.py migrate OLD NEW     the service message of group OLD that
                                became supergroup NEW (migrate_to_chat_id)
  timers.py after CHAT TEXT     how many times TEXT was sent after the chat's
                                last message (start or say) was answered
  timers.py wait CHAT TEXT N S  waits up to S seconds until TEXT was sent N
                                times; prints the seconds since the chat's
                                last message was answered, and exits 1 if it
                                was not
Options come from the environment: URL, CA, SECRET, BOT, CALLS."""
import json
import os
import ssl
import sys
import time
import urllib.request

URL, BOT, SECRET = os.environ["URL"], os.environ.get("BOT", "demo"), os.environ.get("SECRET", "")
CTX = ssl.create_default_context(cafile=os.environ.get("CA"))
UID = int(time.time() * 1e6) % 10 ** 13


def post(cid, text, **more):
    global UID
    UID += 1
    body = {"update_id": UID, "message": {
        "message_id": UID % 100000, "date": int(time.time()),
        "chat": {"id": cid, "type": "private", "first_name": "Ada"},
        "from": {"id": abs(cid), "is_bot": False, "first_name": "Ada", "language_code": "en"}}}
    if text is not None:
        body["message"]["text"] = text
    body["message"].update(more)
    req = urllib.request.Request(URL + "/tg/" + BOT, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Telegram-Bot-Api-Secret-Token", SECRET)
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        r.read()
        return r.status


def calls(chat, method=None):
    out = []
    try:
        with open(os.environ["CALLS"], encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break    # the fake Bot API is writing it still
                c = json.loads(line)
                p = c.get("params", {})
                if c.get("method", "").startswith(method or "") and str(p.get("chat_id")) == str(chat):
                    out.append(c)
    except FileNotFoundError:
        pass
    return out


def sent(chat):
    return [(c["wall"], c.get("params", {}).get("text", "")) for c in calls(chat, "sendMessage")]


def mark(chat):
    with open("%s.t0.%s" % (os.environ["CALLS"], chat), "w") as f:
        f.write("%f\n" % time.time())


def t0(chat):
    with open("%s.t0.%s" % (os.environ["CALLS"], chat)) as f:
        return float(f.read())


def main():
    what = sys.argv[1]
    if what == "start":
        for chat in sys.argv[2:]:
            assert post(int(chat), "/start") == 200
            mark(chat)
    elif what == "say":
        assert post(int(sys.argv[2]), sys.argv[3]) == 200
        mark(sys.argv[2])
    elif what == "after":
        print(len([w for w, t in sent(sys.argv[2]) if t == sys.argv[3] and w > t0(sys.argv[2])]))
    elif what == "migrate":
        old, new = int(sys.argv[2]), int(sys.argv[3])
        assert post(old, None, chat={"id": old, "type": "group", "title": "Team"},
                    migrate_to_chat_id=new) == 200
    elif what == "deleted":
        ids = []
        for c in calls(sys.argv[2], "deleteMessage"):
            p = c.get("params", {})
            m = p.get("message_ids", [p.get("message_id")])
            ids += json.loads(m) if isinstance(m, str) else m
        print(" ".join(str(i) for i in sorted(ids)))
    elif what == "calls":
        print(len(calls(sys.argv[2], sys.argv[3])))
    elif what == "texts":
        for _, t in sent(sys.argv[2]):
            print(t)
    elif what == "wait":
        chat, text, n, secs = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        end = time.time() + secs
        while time.time() < end:
            got = [w for w, t in sent(chat) if t == text]
            if len(got) >= n:
                print("%.2f" % (got[n - 1] - t0(chat)))
                return 0
            time.sleep(0.05)
        print("timeout: %s" % [t for _, t in sent(chat)])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
