#!/usr/bin/env python3
"""tests/hostile.py - the hostile-input catalogue and the odd senders, sent
through nginx to `blueflow serve` as tests/hostile.sh sets it up (bot
"demo" with a secret, bot "open" without one, both on the flow in
$T_TMP/flow.json; the fake Bot API at $API). After each hostile request a
bystander's update must be served (200); at the end the bystander's
conversation is whole. Environment as tests/e2e.py's, plus API (the fake
Bot API), FILES (the storage root), MAX_BODY. Prints "ok NAME" /
"FAIL NAME: why"; exits 1 on any failure. Loopback only; bounded."""
import base64
import http.client
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import check, context, msg, post, press, sql  # noqa: E402

API = os.environ["API"]
FILES = os.environ["FILES"]
MAX_BODY = int(os.environ["MAX_BODY"])
HOST = urllib.parse.urlsplit(e2e.URL)
BYSTANDER = 730001
SENT = [0]   # the bystander's updates answered 200


def serves(name):
    """A bystander's update is served right after a hostile one."""
    st, body = post(msg(BYSTANDER, "hello"))
    SENT[0] += st == 200
    check(name + "-then-serves", st == 200, "status %s: %r" % (st, body[:200]))


def raw(body_chunks, headers, method="POST", path="/tg/demo"):
    """Sends a request with http.client (chunked when body_chunks is an
    iterator without Content-Length); returns the status, or the error
    when the server cut the connection while we were still sending."""
    conn = http.client.HTTPSConnection(HOST.hostname, HOST.port, context=e2e.CTX, timeout=60)
    try:
        conn.putrequest(method, path)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            for c in body_chunks:
                conn.send(c)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as e:
        return 0, repr(e)
    finally:
        conn.close()


SEEN = {}


def queued(chat):
    """The calls queued for chat since the last look, whatever their state
    (the pool's sender may have sent them already)."""
    rows = sql("select id, method, params from outbox where bot = 'demo' and chat_id = %d "
               "and id > %d order by id" % (chat, SEEN.get(chat, 0)))
    if rows:
        SEEN[chat] = int(rows[-1][0])
    return [(r[1], json.loads(r[2])) for r in rows]


def ctl(what, body):
    req = urllib.request.Request(API + "/_control/" + what, data=json.dumps(body).encode(),
                                 method="POST")
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req, timeout=10).read()


def secrets():
    for name, sec in (("wrong", "nope"), ("missing", None), ("300-chars", "s" * 300),
                      ("prefix", e2e.SECRET[:-1]), ("longer", e2e.SECRET + "x")):
        st, body = post(msg(720001, "x"), secret=sec)
        check("secret-%s-401" % name, st == 401 and "secret" in body, "%s %r" % (st, body[:200]))
        serves("secret-" + name)
    # a bot without a secret takes updates without the header (odd senders)
    st, body = post(msg(720002, "/start"), secret=None, path="/tg/open")
    check("no-secret-configured-200", st == 200, "%s %r" % (st, body[:200]))
    check("no-secret-configured-applied",
          sql("select count(*) from chats where bot = 'open' and chat_id = 720002")[0][0] in (1, "1"),
          "no chat row for bot open")


def methods():
    for m in ("GET", "PUT", "DELETE", "PATCH"):
        st, body = post(None, method=m)
        check("method-%s-405" % m, st == 405, "%s %r" % (st, body[:200]))
        serves("method-" + m)


def big_bodies():
    # 100 MB: refused (nginx's client_max_body_size) without reading it all
    chunk = b" " * (1 << 20)
    t0 = time.time()
    st, body = raw((chunk for _ in range(100)), {"Content-Length": str(100 << 20),
                   "Content-Type": "application/json",
                   "X-Telegram-Bot-Api-Secret-Token": e2e.SECRET})
    check("body-100mb-413", st == 413, "%s %r" % (st, body[:200]))
    check("body-100mb-quick", time.time() - t0 < 30, "%.1f s" % (time.time() - t0))
    serves("body-100mb")
    # one byte over max_body: 413 from blueflow; exactly max_body: taken
    u = json.dumps(msg(720003, "padding")).encode()
    pad = lambda n: u[:-1] + b" " * (n - len(u)) + b"}"
    st, body = post(None, raw=pad(MAX_BODY + 1))
    check("max-body-plus-one-413", st == 413 and "too large" in body, "%s %r" % (st, body[:200]))
    serves("max-body-plus-one")
    st, body = post(None, raw=pad(MAX_BODY))
    check("max-body-exactly-200", st == 200, "%s %r" % (st, body[:200]))
    # chunked, no Content-Length: nginx buffers it and passes its length
    u = json.dumps(msg(720004, "/start")).encode()
    st, body = raw(iter([b"%x\r\n%s\r\n" % (len(u[:20]), u[:20]),
                         b"%x\r\n%s\r\n" % (len(u[20:]), u[20:]), b"0\r\n\r\n"]),
                   {"Transfer-Encoding": "chunked", "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": e2e.SECRET})
    check("chunked-200", st == 200, "%s %r" % (st, body[:200]))
    check("chunked-applied", context(720004)[0] is not None, "no chat")
    serves("chunked")
    # JSON nested 100,000 deep (under max_body): 400, quickly
    deep = b'{"update_id":1,"x":' + b"[" * 100000 + b"]" * 100000 + b"}"
    st, body = post(None, raw=deep)
    check("nested-100000-400", st == 400 and "deep" in body, "%s %r" % (st, body[:200]))
    serves("nested")


def strings():
    """Invalid UTF-8 in each string field: refused as bad JSON (400), no row."""
    base = msg(720005, "/start")
    fields = [("text",), ("chat", "type"), ("chat", "first_name"), ("from", "first_name"),
              ("from", "username"), ("from", "language_code")]
    for f in fields:
        u = json.loads(json.dumps(base))
        o = u["message"]
        for k in f[:-1]:
            o = o[k]
        o[f[-1]] = "MARK"
        body = json.dumps(u).encode().replace(b"MARK", b"a\xff\xfe\xc3\x28z")
        st, rb = post(None, raw=body)
        check("utf8-%s-400" % "-".join(f), st == 400 and "utf-8" in rb.lower(), "%s %r" % (st, rb[:200]))
    cb = press(720005, "pick|a", 5)   # an overlong "." json-c lets through
    body = json.dumps(cb).encode().replace(b'"pick|a"', b'"pick|\xc0\xae"')
    st, rb = post(None, raw=body)
    check("utf8-callback-data-400", st == 400, "%s %r" % (st, rb[:200]))
    check("utf8-no-chat", context(720005)[0] is None, "a chat was made")
    serves("utf8")


def numbers():
    cases = [
        ("update-id-beyond-int64", b'{"update_id":99999999999999999999999,"message":{"message_id":1,'
                                   b'"chat":{"id":720006,"type":"private"},"text":"/start"}}'),
        ("chat-id-beyond-int64", b'{"update_id":720006001,"message":{"message_id":1,'
                                 b'"chat":{"id":-99999999999999999999999,"type":"private"},"text":"/start"}}'),
        ("chat-id-float", b'{"update_id":720006002,"message":{"message_id":1,'
                          b'"chat":{"id":720006.5,"type":"private"},"text":"/start"}}'),
        ("update-id-float", b'{"update_id":1.0,"message":{"message_id":1,'
                            b'"chat":{"id":720006,"type":"private"},"text":"/start"}}'),
        ("message-id-exp", b'{"update_id":720006003,"message":{"message_id":1e30,'
                           b'"chat":{"id":720006,"type":"private"},"text":"/start"}}'),
    ]
    for name, body in cases:
        st, rb = post(None, raw=body)
        # poison: taken (200, so that Telegram stops re-sending), never applied
        check(name + "-refused", st in (200, 400), "%s %r" % (st, rb[:200]))
        serves(name)
    check("numbers-no-chat", context(720006)[0] is None and
          not sql("select 1 from chats where chat_id in (720006, 720006.5)"), "a chat was made")
    # from.id 2^63 in a press: poison too, nothing answered
    st, rb = post(None, raw=b'{"update_id":720006004,"callback_query":{"id":"q","data":"pick|a",'
                          b'"from":{"id":9223372036854775808},"message":{"message_id":1,'
                          b'"chat":{"id":720006}}}}')
    check("from-id-2-63-refused", st in (200, 400), "%s %r" % (st, rb[:200]))


def other_bot():
    """The same chat id under two bots: two chats, never mixed."""
    chat = 720007
    post(msg(chat, "/start"))
    queued(chat)
    post(press(chat, "pick|a", 11))
    demo = sql("select node from chats where bot = 'demo' and chat_id = %d" % chat)
    st, _ = post(msg(chat, "/start"), secret=None, path="/tg/open")
    openrow = sql("select node from chats where bot = 'open' and chat_id = %d" % chat)
    demo2 = sql("select node from chats where bot = 'demo' and chat_id = %d" % chat)
    check("other-bot-own-chat", st == 200 and openrow and openrow[0][0] == "pick", repr(openrow))
    check("other-bot-leaves-demo", demo == demo2 and demo[0][0] == "voice", "%r -> %r" % (demo, demo2))
    # the open bot's press cannot move demo's chat
    post(press(chat, "voice|x", 12), secret=None, path="/tg/open")
    check("other-bot-press-isolated", sql("select node from chats where bot = 'demo' and "
                                         "chat_id = %d" % chat) == demo, "demo's chat moved")


def forged():
    a, b = 720008, 720009
    post(msg(a, "/start"))
    post(msg(b, "/start"))
    post(press(b, "pick|b", 21))        # b moves on to voice
    queued(a)
    queued(b)
    # a forges a jump to another node, then presses b's old button
    calls = []
    for name, data in (("other-node", "voice|x"), ("unknown-node", "nowhere|a"),
                       ("no-bar", "pick"), ("long", "pick|" + "a" * 60), ("empty", "")):
        st, rb = post(press(a, data, 20))
        check("forged-%s-200" % name, st == 200, "%s %r" % (st, rb[:200]))
        node = context(a)[0]
        check("forged-%s-stays" % name, node == "pick", "chat at %r" % node)
        calls += [json.loads(rb).get("method")] if rb else []
    calls += [m for m, _ in queued(a)]
    check("forged-only-answers", calls and all(m == "answerCallbackQuery" for m in calls),
          repr(calls)[:300])
    check("forged-b-unmoved", context(b)[0] == "voice", repr(context(b)))
    serves("forged")


def files():
    """Upload nodes: ../ and NUL in file names, a MIME type that lies, a
    voice note that claims 1 s and is 10 minutes long."""
    chat = 720010
    ogg = b"OggS" + b"\0" * 2000
    pdf = b"%PDF-1.4\n" + b"x" * 2000
    long_voice = b"OggS" + b"\1" * (2400 * 1024)   # 10 min of speech: about 2.4 MB
    for fid, uniq, data in (("Vshort", "AgADshort", ogg), ("Vlong", "AgADlong", long_voice),
                            ("Dpdf", "AgADpdf", pdf), ("Dpng", "AgADpng", b"\x89PNG\r\n\x1a\n" + b"p" * 500),
                            ("Delf", "AgADelf", b"\x7fELF" + b"e" * 500)):
        ctl("file", {"file_id": fid, "file_unique_id": uniq, "file_path": "f/%s.bin" % uniq,
                     "content_base64": base64.b64encode(data).decode(), "file_size": 16000})

    def voice(fid, uniq, seconds):
        e2e.UID[0] += 1
        return {"update_id": e2e.UID[0], "message": {
            "message_id": e2e.UID[0] % 100000, "date": int(time.time()),
            "chat": {"id": chat, "type": "private"}, "from": {"id": chat, "first_name": "Ada"},
            "voice": {"file_id": fid, "file_unique_id": uniq, "duration": seconds,
                      "mime_type": "audio/ogg", "file_size": 16000}}}

    def doc(fid, uniq, name, mime):
        e2e.UID[0] += 1
        return {"update_id": e2e.UID[0], "message": {
            "message_id": e2e.UID[0] % 100000, "date": int(time.time()),
            "chat": {"id": chat, "type": "private"}, "from": {"id": chat, "first_name": "Ada"},
            "document": {"file_id": fid, "file_unique_id": uniq, "file_name": name,
                         "mime_type": mime, "file_size": 16000}}}

    post(msg(chat, "/voice"))
    st, _ = post(voice("Vlong", "AgADlong", 1))
    check("voice-10min-200", st == 200, st)
    check("voice-10min-refused", context(chat)[0] == "voice", repr(context(chat)))
    left = [os.path.join(d, f) for d, _, fs in os.walk(FILES) for f in fs]
    check("voice-10min-nothing-kept", not left, repr(left))
    post(voice("Vshort", "AgADshort", 1))
    check("voice-short-kept", context(chat)[0] == "cv", repr(context(chat)))
    for name, (fid, uniq, mime) in (("mime-lies-png", ("Dpng", "AgADpng", "application/pdf")),
                                    ("mime-lies-elf", ("Delf", "AgADelf", "application/pdf"))):
        st, _ = post(doc(fid, uniq, "cv.pdf", mime))
        check(name + "-refused", st == 200 and context(chat)[0] == "cv", repr(context(chat)))
    body = json.dumps(doc("Dpdf", "AgADpdf", "../../../../etc/passwd", "application/pdf"))
    st, _ = post(None, raw=body.replace("passwd", "pa\\u0000sswd").encode())
    # a NUL in file_name makes it absent; the file is named from ids
    node, ctx = context(chat)
    check("filename-dotdot-nul-200", st == 200 and node == "name", "%s %r" % (st, (node, ctx)))
    kept = [os.path.join(d, f) for d, _, fs in os.walk(FILES) for f in fs]
    inside = all(os.path.realpath(p).startswith(os.path.realpath(FILES) + "/") for p in kept)
    check("filename-dotdot-inside-storage", kept and inside and
          all(".." not in p[len(FILES):] and "passwd" not in p for p in kept), repr(kept))
    serves("files")


def flood():
    """10,000 updates from one chat as fast as we can send them (at most
    120 s): each answered 200 (or 503 to retry), the others still served."""
    chat, n, threads = 720011, 10000, 8
    post(msg(chat, "/start"))
    base = e2e.UID[0] + 1
    e2e.UID[0] += n
    res = {"ok": 0, "busy": 0, "other": []}
    lock = threading.Lock()
    deadline = time.time() + 120

    def work(ids):
        for i in ids:
            if time.time() > deadline:
                return
            st, _ = post(msg(chat, "spam %d" % i, uid=i))
            with lock:
                if st == 200:
                    res["ok"] += 1
                elif st == 503:
                    res["busy"] += 1
                else:
                    res["other"].append(st)
    ids = list(range(base, base + n))
    ts = [threading.Thread(target=work, args=(ids[i::threads],)) for i in range(threads)]
    t0 = time.time()
    for t in ts:
        t.start()
    st, _ = post(msg(BYSTANDER, "during the flood"))
    SENT[0] += st == 200
    for t in ts:
        t.join()
    took = time.time() - t0
    print("flood: %d ok, %d busy, %d other in %.1f s" % (res["ok"], res["busy"], len(res["other"]), took))
    check("flood-bystander-served", st == 200, st)
    check("flood-no-errors", not res["other"], repr(res["other"][:10]))
    check("flood-mostly-taken", res["ok"] >= (res["ok"] + res["busy"]) * 0.9, repr(res))
    serves("flood")


def odd():
    """A press whose message lacks message_id and chat_instance advances
    the flow; no keyboard edit is queued."""
    chat = 720012
    post(msg(chat, "/start"))
    queued(chat)
    e2e.UID[0] += 1
    u = {"update_id": e2e.UID[0], "callback_query": {
        "id": "odd-1", "data": "pick|a", "from": {"id": chat, "first_name": "Ada"},
        "message": {"chat": {"id": chat, "type": "private"}, "date": int(time.time())},
        "via_proxy": {"unknown": True}}}
    st, body = post(u)
    check("odd-no-message-id-200", st == 200, "%s %r" % (st, body[:200]))
    check("odd-no-message-id-advances", context(chat)[0] == "voice", repr(context(chat)))
    methods_ = [m for m, _ in queued(chat)] + ([json.loads(body).get("method")] if body else [])
    check("odd-no-message-id-answered", "answerCallbackQuery" in methods_, repr(methods_))
    check("odd-no-keyboard-edit", "editMessageReplyMarkup" not in methods_, repr(methods_))
    # an InaccessibleMessage (date 0) with an id: the keyboard edit too
    post(msg(chat + 1, "/start"))
    queued(chat + 1)
    e2e.UID[0] += 1
    st, body = post({"update_id": e2e.UID[0], "callback_query": {
        "id": "odd-2", "data": "pick|b", "chat_instance": "1", "from": {"id": chat + 1},
        "message": {"message_id": 3, "chat": {"id": chat + 1, "type": "private"}, "date": 0}}})
    check("odd-inaccessible-advances", st == 200 and context(chat + 1)[0] == "voice",
          repr(context(chat + 1)))


def bystander():
    """The bystander's updates, one after each hostile request, were all
    applied once: one transcript row each."""
    n = int(sql("select count(*) from transcript where bot = 'demo' and chat_id = %d"
                % BYSTANDER)[0][0])
    check("bystander-nothing-lost", n == SENT[0], "%d transcript rows, %d updates" % (n, SENT[0]))


if __name__ == "__main__":
    for name in sys.argv[1:]:
        globals()[name]()
    sys.exit(1 if e2e.FAILED else 0)
