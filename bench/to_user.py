#!/usr/bin/env python3
"""bench/to_user.py - the time to the user: from an update's POST to
Telegram (here the fake Bot API, tests/fake_botapi.py) having the step's
calls. Reads bench/loadgen's --log and the fake's calls; prints one line of
key=value pairs for bench/run.

  to_user.py LOADGEN_LOG API_URL [--settle SECONDS]

First waits until the fake has had no new call for 1.5 s (at most --settle
seconds, default 60): the sender's calls of the last steps. Then gives each
call to the update it belongs to: an answerCallbackQuery by its
callback_query_id ("q" + the update id, as loadgen makes them), any other
call by its chat_id to that chat's latest update posted before the call.
An inline reply (the webhook answer's method) reaches Telegram when the
answer does, so it counts at ANSWERED.

Per update: "first" is the first message (a send* call, inline or from the
outbox) and "last" the step's last call, each as time since the POST;
"press" is "last" for callback queries (a button press: the answer to the
press, the keyboard's edit, the next question). Percentiles by nearest rank,
in ms. Also: inline (the share of updates whose first message went inline),
calls (at the fake), over_limit (calls the fake refused with 429 for its
--limit), silent (updates with no call at all).
"""

import bisect
import json
import math
import sys
import time
import urllib.request


def is_message(meth):
    return (meth.startswith("send") and meth != "sendChatAction") or \
        meth in ("forwardMessage", "copyMessage")


def calls(api):
    with urllib.request.urlopen(api + "/_control/calls", timeout=30) as r:
        return json.load(r)["result"]


def settle(api, limit):
    """The fake's calls once none has come for 1.5 s (or limit passed)."""
    deadline = time.monotonic() + limit
    seen, quiet_since = -1, time.monotonic()
    while True:
        got = calls(api)
        if len(got) != seen:
            seen, quiet_since = len(got), time.monotonic()
        elif time.monotonic() - quiet_since >= 1.5:
            return got
        if time.monotonic() >= deadline:
            return got
        time.sleep(0.25)


def pct(values, q):
    if not values:
        return "-"
    values = sorted(values)
    k = max(0, min(len(values) - 1, math.ceil(q * len(values)) - 1))
    return "%.1f" % (values[k] * 1000)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    log, api = argv[0], argv[1].rstrip("/")
    limit = float(argv[argv.index("--settle") + 1]) if "--settle" in argv else 60.0

    updates = {}            # uid -> dict
    by_chat = {}            # chat -> ([posted], [uid]) sorted by posted
    with open(log) as f:
        for line in f:
            uid, chat, press, posted, answered, meth = line.split()
            u = {"chat": int(chat), "press": press == "1", "posted": float(posted),
                 "events": []}
            if meth != "-":
                u["events"].append((meth, float(answered)))
            updates[int(uid)] = u
    for uid, u in sorted(updates.items(), key=lambda kv: kv[1]["posted"]):
        ts, ids = by_chat.setdefault(u["chat"], ([], []))
        ts.append(u["posted"])
        ids.append(uid)

    got = settle(api, limit)
    over = 0
    for c in got:
        if c.get("kind") != "call":
            continue
        if c.get("fault") == "limit":
            over += 1
            continue
        if c.get("status") != 200:
            continue
        params, meth, wall = c.get("params") or {}, c.get("method", ""), c.get("wall", 0)
        u = None
        qid = str(params.get("callback_query_id", ""))
        if meth == "answerCallbackQuery" and qid.startswith("q") and qid[1:].isdigit():
            u = updates.get(int(qid[1:]))
        elif "chat_id" in params:
            try:
                chat = int(params["chat_id"])
            except (TypeError, ValueError):
                continue
            ts, ids = by_chat.get(chat, ([], []))
            k = bisect.bisect_right(ts, wall) - 1
            u = updates[ids[k]] if k >= 0 else None
        if u is not None:
            u["events"].append((meth, wall))

    first, last, press = [], [], []
    inline = silent = 0
    for u in updates.values():
        if not u["events"]:
            silent += 1
            continue
        msgs = [t for m, t in u["events"] if is_message(m)]
        if msgs:
            t_first = min(msgs)
            first.append(max(0.0, t_first - u["posted"]))
            if any(is_message(m) and t == t_first for m, t in u["events"][:1]):
                inline += 1
        t_last = max(t for m, t in u["events"])
        last.append(max(0.0, t_last - u["posted"]))
        if u["press"]:
            press.append(last[-1])
    n = len(updates)
    print("updates=%d calls=%d first_p50=%s first_p95=%s first_p99=%s "
          "last_p50=%s last_p95=%s last_p99=%s press=%d press_p50=%s press_p95=%s "
          "press_p99=%s inline=%s over_limit=%d silent=%d" % (
              n, len(got), pct(first, .5), pct(first, .95), pct(first, .99),
              pct(last, .5), pct(last, .95), pct(last, .99), len(press),
              pct(press, .5), pct(press, .95), pct(press, .99),
              "%.2f" % (inline / n) if n else "-", over, silent))


if __name__ == "__main__":
    main(sys.argv[1:])
