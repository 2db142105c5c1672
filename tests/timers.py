#!/usr/bin/env python3
"""tests/timers.py - drives tests/timers.sh: posts updates through nginx
and reads the fake Bot API's call log (CALLS) for what timers sent.

  timers.py start CHAT...       /start in each chat
  timers.py say CHAT TEXT       one message
  timers.py texts CHAT          the texts sent to the chat so far, one a line
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


def post(chat, text):
    global UID
    UID += 1
    body = {"update_id": UID, "message": {
        "message_id": UID % 100000, "date": int(time.time()),
        "chat": {"id": chat, "type": "private", "first_name": "Ada"},
        "from": {"id": chat, "is_bot": False, "first_name": "Ada", "language_code": "en"},
        "text": text}}
    req = urllib.request.Request(URL + "/tg/" + BOT, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Telegram-Bot-Api-Secret-Token", SECRET)
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        r.read()
        return r.status


def sent(chat):
    out = []
    try:
        with open(os.environ["CALLS"], encoding="utf-8") as f:
            for line in f:
                c = json.loads(line)
                p = c.get("params", {})
                if c.get("method") == "sendMessage" and str(p.get("chat_id")) == str(chat):
                    out.append((c["wall"], p.get("text", "")))
    except FileNotFoundError:
        pass
    return out


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
