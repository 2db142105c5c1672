#!/usr/bin/env python3
"""tests/e2e.py - talks to blueflow through nginx over HTTPS as Telegram
would, for tests/serve.sh (and over HTTP through Apache, for
tests/apache.sh). Subcommands:

  conversation  plays flows/onboarding.json's choice, text, username and
                branch steps for two chats and checks every inline reply,
                every queued call and every stored value
  refusals      each refusal (405, 401 wrong and missing, 413, 400, 404,
                poison) and a good update right after each
  metrics       /metrics parses as Prometheus text and its counters match
  load          sends N distinct updates from T threads for at most S
                seconds; prints "sent N ok K failed F" and the failed ids

Options come from the environment: URL, CA (the certificate; not needed
for an http:// URL), SECRET, BOT, DB (sqlite:PATH or postgresql://...).
Prints "ok NAME" / "FAIL NAME: why"; exits 1 on any failure. Loopback
only; every loop bounded."""
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

URL = os.environ["URL"]
CA = os.environ.get("CA")  # for https:// only
SECRET = os.environ.get("SECRET", "")
BOT = os.environ.get("BOT", "demo")
DB = os.environ["DB"]
CTX = ssl.create_default_context(cafile=CA) if CA else None
FAILED = []


def check(name, cond, why=""):
    if cond:
        print("ok", name)
    else:
        FAILED.append(name)
        print("FAIL %s: %s" % (name, why))


def post(body, secret=SECRET, path=None, method="POST", headers=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(URL + (path or "/tg/" + BOT), data=data if method == "POST" else None,
                                 method=method)
    req.add_header("Content-Type", "application/json")
    if secret is not None:
        req.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def sql(query):
    if DB.startswith("sqlite:"):
        import sqlite3
        con = sqlite3.connect(DB[7:], timeout=10)
        try:
            rows = con.execute(query).fetchall()
            con.commit()
        finally:
            con.close()
        return rows
    out = subprocess.run(["psql", "-X", "-At", "-F", "\x1f", "-d", DB, "-c", query],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("\x1f")) for line in out.splitlines() if line]


# update ids: microseconds now, so runs a second apart never share one
UID = [int(time.time() * 1e6) % 10 ** 13]


def msg(chat, text, uid=None):
    if uid is None:
        UID[0] += 1
        uid = UID[0]
    return {"update_id": uid, "message": {
        "message_id": uid % 100000, "date": int(time.time()),
        "chat": {"id": chat, "type": "private", "first_name": "Ada"},
        "from": {"id": chat, "is_bot": False, "first_name": "Ada", "language_code": "en"},
        "text": text}}


def press(chat, data, message_id):
    UID[0] += 1
    return {"update_id": UID[0], "callback_query": {
        "id": str(UID[0]), "chat_instance": "1", "data": data,
        "from": {"id": chat, "is_bot": False, "first_name": "Ada", "language_code": "en"},
        "message": {"message_id": message_id, "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"}}}}


def queued(chat):
    """The calls queued for chat and not sent, oldest first; marks them sent
    (the sender's part, which this test stands in for)."""
    rows = sql("select id, method, params from outbox where bot = '%s' and chat_id = %d "
               "and state = 'pending' order by id" % (BOT, chat))
    sql("update outbox set state = 'sent' where bot = '%s' and chat_id = %d" % (BOT, chat))
    return [(r[1], json.loads(r[2])) for r in rows]


def context(chat):
    rows = sql("select node, context from chats where bot = '%s' and chat_id = %d" % (BOT, chat))
    return (rows[0][0], json.loads(rows[0][1])) if rows else (None, {})


def inline(name, status, body, text_part, markup=None):
    ok = status == 200 and body != ""
    reply = json.loads(body) if ok else {}
    check(name, ok and reply.get("method") == "sendMessage" and text_part in reply.get("text", "")
          and reply.get("parse_mode") == "HTML", "status %s body %r" % (status, body[:300]))
    if markup:
        check(name + "-markup", markup in json.dumps(reply.get("reply_markup", {})),
              "reply_markup %r" % reply.get("reply_markup"))
    return reply


def conversation():
    chat = 700000 + UID[0] % 1000
    st, body = post(msg(chat, "/start"))
    check("start-answered", st == 200 and body == "", "%s %r" % (st, body))
    calls = queued(chat)
    texts = [p.get("text", "") for m, p in calls]
    check("start-three-messages", len(calls) == 3 and "welcome to the <b>Atlas</b>" in texts[0]
          and "Which part of the team" in texts[2], repr(texts))
    kb = calls[2][1].get("reply_markup", {}).get("inline_keyboard", []) if len(calls) == 3 else []
    datas = [b["callback_data"] for row in kb for b in row]
    check("role-keyboard", datas == ["role|eng", "role|design", "role|pm", "role|data"]
          and len(kb) == 2, repr(kb))
    # the next question goes inline (nothing of the chat waits); the answer
    # and the prompt's edit (it shows the chosen label: on_answer
    # "show_answer"), whose order does not matter, are queued
    st, body = post(press(chat, "role|eng", 3))
    inline("press-question-inline", st, body, "full name")
    calls = queued(chat)
    check("press-calls", [m for m, p in calls] == ["answerCallbackQuery", "editMessageText"]
          and calls[1][1].get("text") == "Which part of the team are you joining? — 🛠 Engineering"
          and calls[1][1].get("reply_markup") == {"inline_keyboard": []}, repr(calls))
    st, body = post(msg(chat, "Ada"))
    inline("too-few-words-inline", st, body, "both your first and last name")
    st, body = post(msg(chat, "Ada <Lovelace>"))
    inline("pattern-rejects", st, body, "Only letters, spaces")
    st, body = post(msg(chat, "Ada Lovelace"))
    inline("name-inline", st, body, "Thanks, Ada Lovelace! What is your work e-mail?")
    st, body = post(msg(chat, "ada@atlas.example"))
    inline("email-inline", st, body, "How many years")
    st, body = post(msg(chat, "7"))
    check("years-queued", st == 200 and body == "", "%s %r" % (st, body))
    calls = queued(chat)
    texts = [p.get("text", "") for m, p in calls]
    check("branch-eng", len(texts) == 2 and texts[0].startswith("Engineers:")
          and "ada@atlas.example" in texts[0] and "Tell the team" in texts[1], repr(texts))
    bio = ("Before Atlas I built analytical engines and wrote the first published "
           "algorithm; outside work I enjoy poetry & mathematics.")
    st, body = post(msg(chat, bio))
    inline("bio-inline", st, body, "Who is your onboarding buddy?", "request_users")
    u = msg(chat, "@grace_hopper")
    st, body = post(u)
    first = body
    inline("username-inline", st, body, "Record a short voice hello", "remove_keyboard")
    st, body = post(u)
    check("repeat-same-answer", st == 200 and body == first, "%s %r" % (st, body[:200]))
    node, ctx = context(chat)
    want = {"role": "eng", "full_name": "Ada Lovelace", "email": "ada@atlas.example",
            "years_experience": "7", "bio": bio.replace("&", "&amp;"), "buddy": "grace_hopper"}
    check("stored-values", node == "voice_intro" and all(ctx.get(k) == v for k, v in want.items()),
          "node %r context %r" % (node, ctx))
    rows = sql("select count(*) from transcript where bot = '%s' and chat_id = %d"
               % (BOT, chat))
    check("transcript-in", int(rows[0][0]) == 9, repr(rows))
    # a second chat down the other branches: data role, junior
    chat2 = chat + 1
    post(msg(chat2, "/start"))
    queued(chat2)
    post(press(chat2, "role|data", 3))
    calls = queued(chat2)
    check("branch-data-note", any("data guild" in p.get("text", "") for m, p in calls), repr(calls))
    post(msg(chat2, "Grace Hopper"))
    post(msg(chat2, "grace@atlas.example"))
    st, body = post(msg(chat2, "1"))
    calls = queued(chat2)
    check("branch-junior", st == 200 and any("mentoring circle" in p.get("text", "") for m, p in calls),
          repr(calls))
    node, ctx = context(chat2)
    check("stored-second-chat", node == "bio" and ctx.get("role") == "data"
          and ctx.get("years_experience") == "1", "%r %r" % (node, ctx))


def refusals():
    good = lambda: post(msg(710001, "hello"))
    cases = [
        ("method-405", lambda: post(None, method="GET"), 405),
        ("secret-wrong-401", lambda: post(msg(710001, "x"), secret="nope"), 401),
        ("secret-missing-401", lambda: post(msg(710001, "x"), secret=None), 401),
        ("too-large-413", lambda: post(None, raw=b"{" + b" " * 200000 + b"}"), 413),
        ("not-json-400", lambda: post(None, raw=b"{not json"), 400),
        ("array-400", lambda: post(None, raw=b"[1,2]"), 400),
        ("unknown-bot-404", lambda: post(msg(710001, "x"), path="/tg/nobody"), 404),
        ("poison-200", lambda: post({"message": {"text": "no update id"}}), 200),
        ("missing-chat-200", lambda: post({"update_id": 5, "message": {"message_id": 1}}), 200),
    ]
    for name, fn, want in cases:
        st, body = fn()
        check(name, st == want, "status %s, wanted %s: %r" % (st, want, body[:200]))
        st, body = good()
        check(name + "-then-serves", st == 200, "status %s: %r" % (st, body[:200]))


def metrics():
    req = urllib.request.Request(URL + "/metrics")
    with urllib.request.urlopen(req, context=CTX, timeout=10) as r:
        text = r.read().decode()
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                         r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.e+]+|\+Inf|NaN)$')
    values, bad, types = {}, [], {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = line_re.match(line)
        if not m:
            bad.append(line)
            continue
        values[m.group(1) + (m.group(2) or "")] = float(m.group(5))
    check("metrics-parse", not bad and types, "bad lines %r" % bad[:3])
    for name in values:
        base = re.sub(r"_(bucket|sum|count)$", "", name.split("{")[0])
        if base not in types and name.split("{")[0] not in types:
            bad.append(name)
    check("metrics-typed", not bad, "untyped %r" % bad[:3])
    want = json.loads(os.environ.get("EXPECT", "{}"))
    for key, v in want.items():
        check("metrics " + key, values.get(key) == v, "got %r, wanted %r" % (values.get(key), v))
    print("METRICS " + json.dumps(values))


def load(n, threads, seconds):
    deadline = time.time() + seconds
    lock = threading.Lock()
    results = {"ok": 0, "failed": [], "why": []}
    base = UID[0] + 1
    ids = list(range(base, base + n))

    def work(mine):
        for uid in mine:
            if time.time() > deadline:
                return
            try:
                st, why = post(msg(720000 + uid % 50, "load", uid=uid))
            except Exception as e:
                st, why = 0, repr(e)
            with lock:
                if st == 200:
                    results["ok"] += 1
                else:
                    results["failed"].append(uid)
                    results["why"].append("%d: %d %s" % (uid, st, why[:200]))

    ts = [threading.Thread(target=work, args=(ids[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("sent %d ok %d failed %d ids %s" % (results["ok"] + len(results["failed"]), results["ok"],
                                              len(results["failed"]),
                                              ",".join(map(str, results["failed"]))))
    if results["why"]:
        print("why " + "; ".join(results["why"]))


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "conversation":
        conversation()
    elif what == "refusals":
        refusals()
    elif what == "metrics":
        metrics()
    elif what == "load":
        load(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif what == "gauges":
        # the sender counts the outbox for /metrics every 2 s; its calls go
        # nowhere here, so pending + dead stays the number of unsent calls
        for _ in range(30):
            req = urllib.request.Request(URL + "/metrics")
            with urllib.request.urlopen(req, context=CTX, timeout=10) as r:
                text = r.read().decode()
            got = sum(int(l.split()[1]) for l in text.splitlines()
                      if l.startswith(("blueflow_outbox_pending ", "blueflow_outbox_dead ")))
            want = int(sql("select count(*) from outbox where state <> 'sent'")[0][0])
            if got == want:
                break
            time.sleep(0.5)
        check("outbox-gauges", got == want and want > 0, "gauges %d, outbox %d" % (got, want))
    elif what == "new-flow-check":
        chat = 730000 + UID[0] % 1000
        post(msg(chat, "/start"))
        texts = [p.get("text", "") for m, p in queued(chat)]
        check("reloaded-flow-serves", texts and "welcome aboard, this is Atlas v2!" in texts[0],
              repr(texts))
    elif what == "consistency":
        rows = sql("select (select count(*) from updates where bot = '%s'), "
                   "(select count(*) from transcript where bot = '%s')" % (BOT, BOT))
        check("applied-once", int(rows[0][0]) == int(rows[0][1]) and int(rows[0][0]) > 0,
              "updates %s, transcript %s" % rows[0])
    elif what == "locked":
        # chat's row is locked elsewhere: 503 and Retry-After after
        # lock_timeout; the same update re-sent once the lock is gone works
        chat = int(sys.argv[2])
        u = msg(chat, "hello")
        t0 = time.time()
        req = urllib.request.Request(URL + "/tg/" + BOT, data=json.dumps(u).encode(), method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        try:
            with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
                st, retry = r.status, r.headers.get("Retry-After")
        except urllib.error.HTTPError as e:
            st, retry = e.code, e.headers.get("Retry-After")
        took = time.time() - t0
        check("locked-503", st == 503 and retry == "1", "status %s Retry-After %r" % (st, retry))
        check("locked-bounded", 1.0 <= took < 6, "took %.1f s" % took)
        time.sleep(float(sys.argv[3]))
        st, body = post(u)
        check("locked-resent-applied", st == 200, "%s %r" % (st, body))
    elif what == "dropped":
        # the workers' connections to PostgreSQL cut (pg_terminate_backend)
        # before each update: the worker reconnects and tries once more,
        # the update is answered 200 and applied once
        chat = int(sys.argv[2])
        for i in range(3):
            sql("select count(pg_terminate_backend(pid)) from pg_stat_activity where "
                "datname = current_database() and pid <> pg_backend_pid()")
            u = msg(chat, "/start" if i == 0 else "hello")
            st, body = post(u)
            check("dropped-%d-200" % i, st == 200, "%s %r" % (st, body))
            n = sql("select count(*) from updates where bot = '%s' and update_id = %d"
                    % (BOT, u["update_id"]))
            check("dropped-%d-applied-once" % i, int(n[0][0]) == 1, repr(n))
    elif what == "resend":
        for uid in sys.argv[2].split(","):
            if uid:
                st, body = post(msg(720000 + int(uid) % 50, "load", uid=int(uid)))
                check("resend %s" % uid, st == 200, "%s %r" % (st, body))
    sys.exit(1 if FAILED else 0)
