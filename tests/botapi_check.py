#!/usr/bin/env python3
"""tests/botapi_check.py - checks what tests/fake_botapi.py recorded: message
order, exactly-once delivery and send rates. Python stdlib only.

Usage: botapi_check.py LOG [options]
  LOG    the fake's --log file (JSON lines), or its base URL
         (http://127.0.0.1:PORT: reads /_control/calls)

Messages. The test numbers its texts ("msg 17"; --pattern, whose group 1 is
the number). A message is delivered by a sendMessage call the fake answered
200 (or did, then dropped unanswered: drop_after). Per chat, in the order
the fake gave out message_ids, the numbers must rise strictly (no
reordering) and none may come twice. A chat's messages continue in the
supergroup its migration (400 with parameters.migrate_to_chat_id) names.
Missing: with --expect N every checked chat (--chat, repeatable; default:
every chat a numbered sendMessage went to) must get 1..N; without it, every
number sent to a chat must arrive there, except in chats refused for good
(403, or 400 chat not found); --allow-missing skips this.

Rates count every call of --rate-method (repeatable; default sendMessage)
that reached the fake, whatever its answer, by its receipt time "t":
  --max-per-chat-1s X     at most X calls to one chat in any 1 s window
  --max-per-bot-1s X      at most X calls by one token in any 1 s window
  --max-per-group-60s X   at most X calls to one group (chat id < 0) in any
                          60 s window
A window is [t, t + length). Without a limit the maximum is only reported.

Prints a summary (and the first violations); exit 0 when nothing is wrong,
1 on violations, 2 when the log cannot be read or the usage is wrong.
"""

import argparse
import json
import re
import sys
import urllib.request


def load(src):
    if src.startswith("http://"):
        with urllib.request.urlopen(src.rstrip("/") + "/_control/calls", timeout=30) as r:
            return json.loads(r.read())["result"]
    out = []
    with open(src, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    raise ValueError("%s:%d: not JSON" % (src, i))
    return out


def max_in_window(times, length):
    """The most times within any [t, t + length)."""
    times = sorted(times)
    best, i = 0, 0
    for j, t in enumerate(times):
        while t - times[i] >= length:
            i += 1
        best = max(best, j - i + 1)
    return best


def bot_name(token):
    return str(token).split(":", 1)[0]


def chat_key(v):
    """A chat id as text: "5" and 5 are one chat."""
    s = str(v).strip()
    try:
        return str(int(s))
    except ValueError:
        return s


def main(argv):
    ap = argparse.ArgumentParser(prog="botapi_check.py",
                                 description="checks a fake_botapi.py call log")
    ap.add_argument("log")
    ap.add_argument("--pattern", default=r"\bmsg (\d+)")
    ap.add_argument("--expect", type=int)
    ap.add_argument("--chat", action="append", default=[])
    ap.add_argument("--allow-missing", action="store_true")
    ap.add_argument("--rate-method", action="append")
    ap.add_argument("--max-per-chat-1s", type=int)
    ap.add_argument("--max-per-bot-1s", type=int)
    ap.add_argument("--max-per-group-60s", type=int)
    ap.add_argument("--rate-answered-only", action="store_true",
                    help="leave connections dropped before an answer out of the rates "
                         "(Telegram never processed them)")
    a = ap.parse_args(argv)
    try:
        pattern = re.compile(a.pattern)
        calls = load(a.log)
    except (OSError, ValueError, KeyError, re.error) as e:
        print("botapi_check: %s" % e, file=sys.stderr)
        return 2
    rate_methods = set(a.rate_method or ["sendMessage"])
    calls = [c for c in calls if c.get("kind") == "call"]
    calls.sort(key=lambda c: c.get("seq", 0))
    violations = []

    # Migrations: (token, old chat) -> new chat.
    moved = {}
    for c in calls:
        p = c.get("parameters") or {}
        if "migrate_to_chat_id" in p and "chat_id" in c.get("params", {}):
            moved[(c["token"], chat_key(c["params"]["chat_id"]))] = chat_key(p["migrate_to_chat_id"])

    def home(token, chat):
        seen = set()
        while (token, chat) in moved and chat not in seen:
            seen.add(chat)
            chat = moved[(token, chat)]
        return chat

    sent = {}        # (token, home chat) -> set of numbers attempted
    got = {}         # (token, home chat) -> [(message_id, seq, n)]
    closed = set()   # (token, chat) refused for good
    delivered = 0
    for c in calls:
        if c.get("method") != "sendMessage":
            continue
        params = c.get("params") or {}
        if "chat_id" not in params:
            continue
        raw = chat_key(params["chat_id"])
        if c.get("status") == 403 or (c.get("status") == 400 and
                                      "chat not found" in str(c.get("description"))):
            closed.add((c["token"], raw))
        m = pattern.search(str(params.get("text", "")))
        if not m:
            continue
        n = int(m.group(1))
        key = (c["token"], home(c["token"], raw))
        sent.setdefault(key, set()).add(n)
        if c.get("status") == 200:
            delivered += 1
            mid = (c.get("result") or {}).get("message_id", 0)
            # message_ids restart in the supergroup: order by seq across them.
            got.setdefault(key, []).append((c.get("seq", 0), mid, n, raw))

    duplicates = out_of_order = missing = 0
    for key in sorted(got):
        # The fake hands out message_ids in delivery order per chat; a
        # migration starts new ones, so runs of one chat keep their order.
        by_chat = {}
        for seq, mid, n, raw in got[key]:
            by_chat.setdefault(raw, []).append((mid, seq, n))
        order = []
        for raw, items in sorted(by_chat.items(), key=lambda kv: min(s for _, s, _ in kv[1])):
            order.extend(n for _, _, n in sorted(items))
        counts = {}
        for n in order:
            counts[n] = counts.get(n, 0) + 1
        for n, k in sorted(counts.items()):
            if k > 1:
                duplicates += 1
                violations.append("bot %s chat %s: msg %d delivered %d times"
                                  % (bot_name(key[0]), key[1], n, k))
        for prev, n in zip(order, order[1:]):
            if n <= prev:
                out_of_order += 1
                violations.append("bot %s chat %s: msg %d delivered after msg %d"
                                  % (bot_name(key[0]), key[1], n, prev))

    if not a.allow_missing:
        if a.expect is not None:
            want = {}
            chats = [chat_key(x) for x in a.chat]
            for token, chat in sent:
                if not chats or any(home(token, x) == chat for x in chats):
                    want[(token, chat)] = set(range(1, a.expect + 1))
            for x in chats:  # a chat nothing was sent to
                if not any(home(k[0], x) == k[1] for k in want):
                    want[("?", x)] = set(range(1, a.expect + 1))
        else:
            want = {k: v for k, v in sent.items() if k not in closed}
        for key in sorted(want):
            have = {n for _, _, n, _ in got.get(key, [])}
            lost = sorted(want[key] - have)
            if lost:
                missing += len(lost)
                violations.append("bot %s chat %s: %d never delivered: %s"
                                  % (bot_name(key[0]), key[1], len(lost),
                                     " ".join("msg %d" % n for n in lost[:20])))

    # Rates.
    per_chat, per_bot, per_group = {}, {}, {}
    for c in calls:
        if c.get("method") not in rate_methods or c.get("t") is None:
            continue
        if a.rate_answered_only and c.get("answered") is False and c.get("fault") == "drop":
            continue
        per_bot.setdefault(c["token"], []).append(c["t"])
        params = c.get("params") or {}
        if "chat_id" in params:
            chat = chat_key(params["chat_id"])
            per_chat.setdefault((c["token"], chat), []).append(c["t"])
            if chat.startswith("-"):
                per_group.setdefault((c["token"], chat), []).append(c["t"])

    def worst(groups, length, limit):
        best, where = 0, None
        for key, times in sorted(groups.items()):
            m = max_in_window(times, length)
            if m > best:
                best, where = m, key
            if limit is not None and m > limit:
                who = ("bot %s" % key if isinstance(key, str) else
                       "bot %s chat %s" % (bot_name(key[0]), key[1]))
                violations.append("%s: %d calls within %g s, limit %d"
                                  % (who, m, length, limit))
        return best, where

    bots = {bot_name(t): v for t, v in per_bot.items()}
    chat_max, chat_at = worst(per_chat, 1.0, a.max_per_chat_1s)
    bot_max, bot_at = worst(bots, 1.0, a.max_per_bot_1s)
    group_max, group_at = worst(per_group, 60.0, a.max_per_group_60s)

    def at(key):
        if key is None:
            return ""
        if isinstance(key, str):
            return " (bot %s)" % key
        return " (chat %s)" % key[1]

    print("botapi_check: delivered=%d chats=%d bots=%d duplicates=%d out_of_order=%d missing=%d"
          % (delivered, len(got), len(bots), duplicates, out_of_order, missing))
    print("botapi_check: max_per_chat_1s=%d%s max_per_bot_1s=%d%s max_per_group_60s=%d%s"
          % (chat_max, at(chat_at), bot_max, at(bot_at), group_max, at(group_at)))
    for v in violations[:30]:
        print("violation: " + v)
    if len(violations) > 30:
        print("violation: ... and %d more" % (len(violations) - 30))
    print("botapi_check: %s" % ("FAIL, %d violations" % len(violations) if violations else "OK"))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
