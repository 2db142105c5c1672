#!/usr/bin/env python3
"""bench/peers/calls.py - what a peer sent to the fake Bot API during one
bench/run load (the fake is reset before each): the calls of each method,
and checks of what did not come back inline.

  calls.py URL OK [--each-update sendMessage] [--two-state]

URL is the fake's root; OK the load's right answers (loadgen's ok).
Prints one line: "calls=N" and "METHOD=N" for each method. Checks, each
adding a line "wrong: ..." and exit 1 when it fails:
  --each-update M  at least OK calls of method M (every update sent one)
  --two-state      each chat's sendMessage texts are a?, b?, a?, ... in the
                   order the fake got them (bench/flows/two_state.json)
"""
import collections
import json
import sys
import urllib.request


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    url, ok = argv[1].rstrip("/"), int(argv[2])
    each = argv[argv.index("--each-update") + 1] if "--each-update" in argv else None
    with urllib.request.urlopen(url + "/_control/calls", timeout=60) as r:
        calls = json.load(r)["result"]
    by = collections.Counter(c["method"] for c in calls)
    print(" ".join(["calls=%d" % len(calls)] +
                   ["%s=%d" % (m, n) for m, n in sorted(by.items())]))
    wrong = []
    # an edit of an earlier cycle's question finds its buttons gone (the
    # walk presses message 3 each time), as blueflow's does
    failed = [c for c in calls
              if not c.get("ok") and c["method"] != "editMessageReplyMarkup"]
    if failed:
        wrong.append("%d calls failed at the fake, e.g. %s %s" % (
            len(failed), failed[0]["method"], failed[0].get("description")))
    if each and by[each] < ok:
        wrong.append("%d %s calls for %d updates" % (by[each], each, ok))
    if "--two-state" in argv:
        seen, bad = collections.defaultdict(int), 0
        for c in sorted(calls, key=lambda c: c["seq"]):
            if c["method"] != "sendMessage":
                continue
            chat = str(c["params"].get("chat_id"))
            want = "a?" if seen[chat] % 2 == 0 else "b?"
            seen[chat] += 1
            bad += c["params"].get("text") != want
        if bad:
            wrong.append("%d of the chats' questions out of turn" % bad)
    for w in wrong:
        print("wrong: " + w)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
