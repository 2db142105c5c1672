#!/usr/bin/env python3
"""Writes N Telegram updates (JSON lines) that walk many chats through
flows/onboarding.json: each chat answers every question once, the order
of chats interleaved as real traffic would be. Usage: gen_updates.py N"""
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
script = [
    ("text", "/start"),
    ("press", "role|eng"),
    ("text", "Ada Lovelace"),
    ("text", "ada@atlas.example"),
    ("text", "7"),
    ("text", "Before Atlas I built analytical engines and wrote the first "
             "published algorithm; outside work I enjoy poetry and long walks."),
    ("text", "@grace_hopper"),
    ("voice", 42),
    ("document", "application/pdf"),
    ("text", "thanks!"),
]
chats = max(1, n // len(script))
uid = 0
out = sys.stdout
for step, (kind, arg) in enumerate(script):
    for c in range(chats):
        if uid >= n:
            break
        uid += 1
        chat = {"id": 100000 + c, "type": "private", "first_name": "Ada"}
        user = {"id": 100000 + c, "is_bot": False, "first_name": "Ada",
                "language_code": "en"}
        msg = {"message_id": step + 1, "date": 1700000000, "chat": chat,
               "from": user}
        if kind == "text":
            msg["text"] = arg
            upd = {"update_id": uid, "message": msg}
        elif kind == "press":
            upd = {"update_id": uid, "callback_query": {
                "id": str(uid), "from": user, "chat_instance": "1",
                "data": arg, "message": {"message_id": step, "date": 0,
                                         "chat": chat}}}
        elif kind == "voice":
            msg["voice"] = {"file_id": "v%d" % uid, "file_unique_id": "u%d" % uid,
                            "duration": arg, "mime_type": "audio/ogg",
                            "file_size": 60000}
            upd = {"update_id": uid, "message": msg}
        else:
            msg["document"] = {"file_id": "d%d" % uid, "file_unique_id": "u%d" % uid,
                               "file_name": "form.pdf", "mime_type": arg,
                               "file_size": 48213}
            upd = {"update_id": uid, "message": msg}
        out.write(json.dumps(upd, separators=(",", ":")) + "\n")
