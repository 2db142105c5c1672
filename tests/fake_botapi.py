#!/usr/bin/env python3
"""tests/fake_botapi.py - a fake Telegram Bot API server for the tests of
blueflow's Bot API client and outbox sender. Python stdlib only; loopback only.

Server:
  fake_botapi.py [--port PORT] [--host 127.0.0.1] [--token TOKEN]...
                 [--log FILE] [--port-file FILE] [--parent PID]
                 [--lifetime SECONDS] [--limit WHAT=N/S]...
  PORT 0 (the default) picks a free port. Prints "ready PORT" on stdout once it
  listens (and writes PORT to --port-file). Without --token any token shaped
  like 123:abc is accepted; with it, any other token gets 401. --log: one JSON
  line per call, flushed at once, written before the answer is sent. --parent:
  exit when that process is gone; --lifetime: exit after that many seconds.
  --limit enforces a rate limit as Telegram does: at most N calls in any
  S seconds (a window [t - S, t]), else 429 "Too Many Requests: retry after
  R" with parameters.retry_after R (whole seconds until the window has
  room); WHAT is "chat" (messages to one chat: send*, forwardMessage,
  copyMessage), "group" (messages to one group, chat id < 0; the chat
  limit applies to groups too) or "bot" (every call of one token). A
  refused call does not count. Faults come first.
  Stops on SIGTERM/SIGINT.

Bot API (as the real one): POST /bot<TOKEN>/<method> with a JSON, urlencoded
or multipart body, or GET with query parameters; method names are
case-insensitive. Answers {"ok":true,"result":...} or {"ok":false,
"error_code":N,"description":"...","parameters":{...}} with HTTP status N.
Methods: getMe, sendMessage, editMessageReplyMarkup, editMessageText
(400 "message to edit not found" for an unknown or deleted message),
deleteMessage, deleteMessages (ids it cannot find are skipped),
answerCallbackQuery, getFile, setWebhook, getWebhookInfo, deleteWebhook, and sendPhoto,
sendDocument, sendVoice, sendVideo, sendAnimation: the media field is a
multipart file (kept as a new file with a new file_id, which getFile and
downloads then serve), an http(s) URL (taken as it is, a new file_id), or
the file_id of a known file (else 400 "wrong file identifier/HTTP URL
specified"); "caption" up to 1024 characters. Downloads:
GET /file/bot<TOKEN>/<file_path>.

Control (for tests; JSON POSTs, GETs where noted; answers {"ok":true,
"result":...} or 400 {"ok":false,"description":...}):
  POST /_control/reset        forget everything (files, faults, webhooks,
                              messages, calls) and truncate --log
  POST /_control/file         {"file_id", "file_unique_id"?, "file_path"?,
                               "content_base64"? | "content_file"? |
                               "content_text"?, "file_size"? (declared; may
                               differ from the content; null: left out)}
  POST /_control/fault        {"kind", "method"?, "chat_id"?, "file_path"?,
                               "count"?, "skip"?, ...}; see FAULTS below
  GET  /_control/faults       the faults still armed
  POST /_control/limits       {"chat"?: "N/S", "group"?: "N/S", "bot"?: "N/S"}:
                              the --limit set from now on, replacing
                              all of it ({} lifts every limit)
  POST /_control/clear_faults {"id"?} (none: all)
  POST /_control/webhook      {"token"?, "pending_update_count"?,
                               "last_error_date"?, "last_error_message"?}
  GET  /_control/calls        every call so far (?method=M&since=SEQ)
  GET  /_control/state        webhooks (with secret_token), files, messages
CLI for the same: fake_botapi.py ctl URL NAME [JSON] (GET without JSON).

FAULTS. A fault matches a call when its "method" (default: every Bot API
method; "download" for downloads) and, if given, "chat_id" (the call's
chat_id, compared as text) and "file_path" agree. Its first "skip" matches
pass; then it fires on the next "count" matches (default: for ever).
"slow" faults sleep and let the call go on; of the others, the oldest
matching one answers. Kinds:
  429            retry_after S (default 1): "Too Many Requests: retry after S"
  500            "Internal Server Error"
  502            nginx's HTML "502 Bad Gateway" page, as Telegram's front sends
  slow           seconds S (default 1): sleep S before answering
  drop           close the connection without an answer; nothing done
  drop_after     do the call (a message is sent), then close unanswered
                 (logged with its status, "answered": false)
  blocked        403 "Forbidden: bot was blocked by the user"
  migrated       400 "Bad Request: group chat was upgraded to a supergroup
                 chat", parameters.migrate_to_chat_id (default -(10**12 + |id|))
  chat_not_found 400 "Bad Request: chat not found"
  query_too_old  400 "Bad Request: query is too old and response timeout
                 expired or query ID is invalid"
  error          error_code, description, parameters? as given
  truncated      (downloads) Content-Length of the whole file, "bytes" bytes
                 (default half) sent, then the connection is closed
  wrong_size     (downloads) a whole answer of "size" bytes (default one more
                 than the content; zero-padded or cut)

Log line (also the items of /_control/calls): {"seq", "conn" (connection
serial), "peer_port" (calls: the client's TCP port), "kind" ("call"|"download"), "http_method", "token", "method"
(canonical name; "download" for downloads), "params" (query and body merged;
multipart files as {"filename","size","content_type"}), "body_type"
("json"|"form"|"multipart"|"query"), "t" (time.monotonic() on receipt),
"t_end", "wall" (time.time() on receipt), "status" (HTTP status; null when
dropped unanswered), "ok", "error_code", "description", "parameters",
"result" (calls) or "bytes" (downloads), "fault" (the kind that fired,
"limit" for a call over a --limit, or null), "faults" (ids of those that
fired)}.
"""

import argparse
import base64
import email.message
import email.parser
import email.policy
import ipaddress
import itertools
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_BODY = 64 * 1024 * 1024
TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")
WEBHOOK_PORTS = (80, 88, 443, 8443)
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message")
QUERY_TOO_OLD = ("Bad Request: query is too old and response timeout expired "
                 "or query ID is invalid")
HTML_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n"
            b"<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n")
KINDS = ("429", "500", "502", "slow", "drop", "drop_after", "blocked",
         "migrated", "chat_not_found", "query_too_old", "error", "truncated",
         "wrong_size")


class FilePart(dict):
    """A multipart file as the log shows it; its bytes in .content."""
    content = b""


class ApiError(Exception):
    def __init__(self, code, description, parameters=None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad(description):
    return ApiError(400, "Bad Request: " + description)


def to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    return str(v).strip().lower() in ("true", "1")


def to_int(v, default=None):
    """The Bot API's reading of an integer argument: a JSON number or digits."""
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    try:
        return int(str(v).strip())
    except ValueError:
        return default


def json_arg(v, what):
    """An argument that is JSON: already parsed (JSON body) or text (forms)."""
    if v is None or isinstance(v, (dict, list)):
        return v
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        raise bad("can't parse %s JSON object" % what)


class State:
    """Everything the server knows; guarded by LOCK."""

    def __init__(self):
        self.files = {}       # file_id -> dict (with "content" bytes)
        self.by_path = {}     # file_path -> file_id
        self.faults = []      # armed faults, oldest first
        self.fault_ids = itertools.count(1)
        self.webhooks = {}    # token -> dict
        self.messages = {}    # (token, chat key) -> {message_id: dict}
        self.last_id = {}     # (token, chat key) -> last message_id
        self.calls = []
        self.seq = itertools.count(1)


LOCK = threading.Lock()
STATE = State()
LIMITS = {}           # "chat" | "group" | "bot" -> (N, S)
RECENT = {}           # (what, token, chat key) -> receipt times within S
CONNS = itertools.count(1)
TOKENS = set()
LOG_PATH = None
LOG_FILE = None
METHODS = {}


def method(name):
    def register(fn):
        METHODS[name.lower()] = (name, fn)
        return fn
    return register


def token_ok(token):
    if TOKENS:
        return token in TOKENS
    return bool(TOKEN_RE.match(token))


def bot_id(token):
    return int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1


def bot_user(token):
    bid = bot_id(token)
    return {"id": bid, "is_bot": True, "first_name": "Fake Bot",
            "username": "fake_%d_bot" % bid}


def webhook_of(token):
    return STATE.webhooks.setdefault(token, {
        "url": "", "secret_token": "", "max_connections": 40,
        "allowed_updates": None, "pending_update_count": 0,
        "last_error_date": 0, "last_error_message": "", "ip_address": ""})


def chat_of(params):
    """The chat_id argument: an int, or an @username; 400 when unusable."""
    v = params.get("chat_id")
    if v is None or (isinstance(v, str) and v.strip() == ""):
        raise bad("chat_id is empty")
    if isinstance(v, bool) or isinstance(v, (dict, list, float)):
        raise bad("chat not found")
    if isinstance(v, int):
        return v
    s = v.strip()
    if s.startswith("@") and len(s) > 1:
        return s
    n = to_int(s)
    if n is None or n == 0:
        raise bad("chat not found")
    return n


def chat_object(chat):
    if isinstance(chat, str):
        return {"id": -1000000000000 - (abs(hash(chat)) % 1000000000),
                "title": chat[1:], "username": chat[1:], "type": "channel"}
    if chat > 0:
        return {"id": chat, "first_name": "User %d" % chat, "type": "private"}
    if chat <= -1000000000000:
        return {"id": chat, "title": "Supergroup %d" % chat, "type": "supergroup"}
    return {"id": chat, "title": "Group %d" % chat,
            "type": "group", "all_members_are_administrators": True}


def markup_key(markup):
    """Inline keyboards as the message keeps them; anything else is none."""
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return json.dumps(markup["inline_keyboard"], sort_keys=True)
    return None


def message_object(token, chat, m):
    out = {"message_id": m["message_id"], "from": bot_user(token),
           "chat": chat_object(chat), "date": m["date"], "text": m["text"]}
    if m.get("edit_date"):
        out["edit_date"] = m["edit_date"]
    if markup_key(m.get("reply_markup")):
        out["reply_markup"] = {"inline_keyboard": m["reply_markup"]["inline_keyboard"]}
    return out


# Bot API methods. Each takes (token, params) and returns the result or raises
# ApiError; they run under LOCK.

@method("getMe")
def m_get_me(token, params):
    u = bot_user(token)
    u.update({"can_join_groups": True, "can_read_all_group_messages": False,
              "supports_inline_queries": False})
    return u


@method("sendMessage")
def m_send_message(token, params):
    chat = chat_of(params)
    text = params.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        text = json.dumps(text)
    if text.strip() == "":
        raise bad("message text is empty")
    if len(text) > 4096:
        raise bad("message is too long")
    markup = json_arg(params.get("reply_markup"), "reply keyboard markup")
    if markup is not None and not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    key = (token, str(chat))
    mid = STATE.last_id.get(key, 0) + 1
    STATE.last_id[key] = mid
    m = {"message_id": mid, "date": int(time.time()), "text": text,
         "reply_markup": markup}
    STATE.messages.setdefault(key, {})[mid] = m
    return message_object(token, chat, m)


MEDIA_FIELDS = {"sendPhoto": "photo", "sendDocument": "document",
                "sendVoice": "voice", "sendVideo": "video",
                "sendAnimation": "animation"}


def media_file(field, v):
    """The file a send method's media field names (see the methods above)."""
    if isinstance(v, FilePart):
        if not v.content:
            raise bad("file must be non-empty")
        n = len(STATE.files) + 1
        fid = "fake-%s-%d" % (field, n)
        f = {"file_id": fid, "file_unique_id": "AgADup%d" % n,
             "file_path": "%ss/file_%d" % (field, n), "file_size": len(v.content),
             "content": v.content}
        STATE.files[fid] = f
        STATE.by_path[f["file_path"]] = fid
        return f
    if isinstance(v, str) and re.match(r"^https?://", v):
        n = len(STATE.files) + 1
        f = {"file_id": "fake-url-%d" % n, "file_unique_id": "AgADurl%d" % n,
             "file_path": "%ss/url_%d" % (field, n), "file_size": None, "content": b""}
        STATE.files[f["file_id"]] = f
        return f
    if isinstance(v, str) and v in STATE.files:
        return STATE.files[v]
    if v is None or v == "":
        raise bad("there is no %s in the request" % field)
    raise bad("wrong file identifier/HTTP URL specified")


def send_media(token, params, name):
    field = MEDIA_FIELDS[name]
    chat = chat_of(params)
    f = media_file(field, params.get(field))
    caption = params.get("caption") or ""
    if len(caption) > 1024:
        raise bad("message caption is too long")
    markup = json_arg(params.get("reply_markup"), "reply keyboard markup")
    key = (token, str(chat))
    mid = STATE.last_id.get(key, 0) + 1
    STATE.last_id[key] = mid
    m = {"message_id": mid, "date": int(time.time()), "text": caption,
         "reply_markup": markup}
    STATE.messages.setdefault(key, {})[mid] = m
    out = message_object(token, chat, m)
    del out["text"]
    if caption:
        out["caption"] = caption
    one = {"file_id": f["file_id"], "file_unique_id": f["file_unique_id"]}
    if f["file_size"] is not None:
        one["file_size"] = f["file_size"]
    if field == "photo":
        small = dict(one, file_id=f["file_id"] + "-s", width=90, height=90)
        out["photo"] = [small, dict(one, width=800, height=800)]
    else:
        out[field] = one
    return out


for _name in MEDIA_FIELDS:
    method(_name)(lambda token, params, _n=_name: send_media(token, params, _n))


def edit_target(token, params):
    """The markup of an edit and the message it edits: (markup, chat,
    message), message None for an inline message (nothing to keep)."""
    markup = json_arg(params.get("reply_markup"), "reply keyboard markup")
    if markup is not None and not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if params.get("inline_message_id"):
        return markup, None, None
    chat = chat_of(params)
    mid = to_int(params.get("message_id"))
    if mid is None or mid <= 0:
        raise bad("message identifier is not specified")
    m = STATE.messages.get((token, str(chat)), {}).get(mid)
    if m is None:
        raise bad("message to edit not found")
    return markup, chat, m


@method("editMessageReplyMarkup")
def m_edit_markup(token, params):
    markup, chat, m = edit_target(token, params)
    if m is None:
        return True
    if markup_key(m.get("reply_markup")) == markup_key(markup):
        raise ApiError(400, NOT_MODIFIED)
    m["reply_markup"] = markup
    m["edit_date"] = int(time.time())
    return message_object(token, chat, m)


@method("editMessageText")
def m_edit_text(token, params):
    text = params.get("text")
    if not isinstance(text, str) or text.strip() == "":
        raise bad("message text is empty")
    markup, chat, m = edit_target(token, params)
    if m is None:
        return True
    if m.get("text") == text and markup_key(m.get("reply_markup")) == markup_key(markup):
        raise ApiError(400, NOT_MODIFIED)
    m["text"] = text
    m["reply_markup"] = markup
    m["edit_date"] = int(time.time())
    return message_object(token, chat, m)


@method("deleteMessage")
def m_delete_message(token, params):
    chat = chat_of(params)
    mid = to_int(params.get("message_id"))
    if mid is None or mid <= 0:
        raise bad("message identifier is not specified")
    if STATE.messages.get((token, str(chat)), {}).pop(mid, None) is None:
        raise bad("message to delete not found")
    return True


@method("deleteMessages")
def m_delete_messages(token, params):
    chat = chat_of(params)
    ids = json_arg(params.get("message_ids"), "message identifiers")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad("message identifiers are not specified")
    kept = STATE.messages.get((token, str(chat)), {})
    for v in ids:
        mid = to_int(v)
        if mid is None or mid <= 0:
            raise bad("message identifiers are invalid")
        kept.pop(mid, None)   # as Telegram: ones it cannot find are skipped
    return True


@method("answerCallbackQuery")
def m_answer_callback(token, params):
    qid = params.get("callback_query_id")
    if qid is None or str(qid).strip() == "":
        raise ApiError(400, QUERY_TOO_OLD)
    return True


@method("getFile")
def m_get_file(token, params):
    fid = params.get("file_id")
    f = STATE.files.get(str(fid)) if fid is not None else None
    if f is None:
        raise bad("invalid file_id")
    size = f["file_size"]
    if size is not None and size > MAX_DOWNLOAD:
        raise bad("file is too big")
    out = {"file_id": f["file_id"], "file_unique_id": f["file_unique_id"]}
    if size is not None:
        out["file_size"] = size
    out["file_path"] = f["file_path"]
    return out


def allowed_updates_arg(params):
    v = params.get("allowed_updates")
    if v is None or v == "":
        return None
    v = json_arg(v, "allowed updates")
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise bad("can't parse allowed updates JSON object")
    return v


@method("setWebhook")
def m_set_webhook(token, params):
    return set_webhook(token, params, str(params.get("url") or ""))


@method("deleteWebhook")
def m_delete_webhook(token, params):
    return set_webhook(token, params, "")


def set_webhook(token, params, url):
    """setWebhook and deleteWebhook, as telegram-bot-api does them: an
    unchanged webhook is 'already set', and the answer's description says
    what happened. Returns (result, description)."""
    wh = webhook_of(token)
    drop = to_bool(params.get("drop_pending_updates", False))
    if not url:
        if drop:
            wh["pending_update_count"] = 0
        was = wh["url"] != ""
        wh.update({"url": "", "secret_token": "", "max_connections": 40,
                   "last_error_date": 0, "last_error_message": ""})
        return True, ("Webhook was deleted" if was else "Webhook is already deleted")
    # Telegram clamps max_connections to 1..100 rather than refusing it.
    maxc = min(max(to_int(params.get("max_connections"), 40), 1), 100)
    secret = params.get("secret_token")
    secret = "" if secret is None else str(secret)
    allowed = allowed_updates_arg(params)
    try:
        u = urllib.parse.urlsplit(url)
        port = u.port
    except ValueError:
        raise bad("invalid webhook URL specified")
    if not u.scheme or not u.hostname:
        raise bad("invalid webhook URL specified")
    if u.scheme.lower() != "https":
        raise bad("bad webhook: An HTTPS URL must be provided for webhook")
    if port is not None and port not in WEBHOOK_PORTS:
        raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    if len(secret) > 256:
        raise bad("secret token is too long")
    if not SECRET_RE.match(secret):
        raise bad("secret token contains unallowed characters")
    same = (wh["url"] == url and wh["max_connections"] == maxc
            and wh["secret_token"] == secret and not drop)
    if allowed is not None:
        wh["allowed_updates"] = allowed
    if same:
        return True, "Webhook is already set"
    if drop:
        wh["pending_update_count"] = 0
    wh.update({"url": url, "max_connections": maxc, "secret_token": secret,
               "last_error_date": 0, "last_error_message": ""})
    return True, "Webhook was set"


@method("getWebhookInfo")
def m_get_webhook_info(token, params):
    wh = webhook_of(token)
    out = {"url": wh["url"], "has_custom_certificate": False,
           "pending_update_count": wh["pending_update_count"]}
    if wh["url"]:
        out["max_connections"] = wh["max_connections"]
        if wh["ip_address"]:
            out["ip_address"] = wh["ip_address"]
    if wh["last_error_date"]:
        out["last_error_date"] = wh["last_error_date"]
        out["last_error_message"] = wh["last_error_message"]
    if wh["allowed_updates"] is not None:
        out["allowed_updates"] = wh["allowed_updates"]
    return out


# Faults.

def fault_fields(spec):
    kind = str(spec.get("kind", ""))
    if kind not in KINDS:
        raise ValueError("kind must be one of " + ", ".join(KINDS))
    f = {"kind": kind, "method": spec.get("method") or "*",
         "chat_id": None if spec.get("chat_id") is None else str(spec["chat_id"]),
         "file_path": spec.get("file_path"),
         "count": to_int(spec.get("count")), "skip": to_int(spec.get("skip"), 0),
         "fired": 0}
    if f["count"] is not None and f["count"] <= 0:
        raise ValueError("count must be at least 1 (leave it out: for ever)")
    for k in ("retry_after", "seconds", "migrate_to_chat_id", "bytes", "size",
              "error_code", "description", "parameters"):
        if k in spec:
            f[k] = spec[k]
    if kind == "error" and not (isinstance(f.get("error_code"), int)
                                and isinstance(f.get("description"), str)):
        raise ValueError("kind error needs error_code (int) and description")
    if kind in ("truncated", "wrong_size") and f["method"] != "download":
        raise ValueError(kind + " is for method download")
    return f


def fault_matches(f, meth, params, file_path):
    if meth == "download":
        if f["method"] != "download":
            return False
        if f["file_path"] is not None and f["file_path"] != file_path:
            return False
    else:
        if f["method"] == "download":
            return False
        if f["method"] != "*" and f["method"].lower() != meth.lower():
            return False
    if f["chat_id"] is not None:
        c = params.get("chat_id")
        if c is None or str(c).strip() != f["chat_id"]:
            return False
    return True


def take_faults(meth, params, file_path=None):
    """The slow faults that fire, and the first other one (or None); counts
    are spent here, under LOCK."""
    slow, hit = [], None
    for f in list(STATE.faults):
        if hit is not None and f["kind"] != "slow":
            continue
        if not fault_matches(f, meth, params, file_path):
            continue
        if f["skip"] > 0:
            f["skip"] -= 1
            continue
        f["fired"] += 1
        if f["count"] is not None:
            f["count"] -= 1
            if f["count"] == 0:
                STATE.faults.remove(f)
        if f["kind"] == "slow":
            slow.append(f)
        else:
            hit = f
    return slow, hit


def fault_error(f, params):
    k = f["kind"]
    if k == "429":
        s = to_int(f.get("retry_after"), 1)
        return ApiError(429, "Too Many Requests: retry after %d" % s, {"retry_after": s})
    if k == "500":
        return ApiError(500, "Internal Server Error")
    if k == "blocked":
        return ApiError(403, "Forbidden: bot was blocked by the user")
    if k == "migrated":
        to = f.get("migrate_to_chat_id")
        if to is None:
            c = to_int(params.get("chat_id"), 0)
            to = -1000000000000 - abs(c) if c else -1000000000001
        return ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                        {"migrate_to_chat_id": to})
    if k == "chat_not_found":
        return ApiError(400, "Bad Request: chat not found")
    if k == "query_too_old":
        return ApiError(400, QUERY_TOO_OLD)
    if k == "error":
        return ApiError(f["error_code"], f["description"], f.get("parameters"))
    return None


# Recording.

def is_message(meth):
    return (meth.startswith("send") and meth != "sendChatAction") or \
        meth.startswith("forwardMessage") or meth.startswith("copyMessage")


def limit_error(token, meth, params, now):
    """The 429 a call over one of LIMITS gets, or None (then it is counted).
    Under LOCK."""
    keys = [("bot", token, "")]
    if is_message(meth):
        chat = str(params.get("chat_id", ""))
        keys.append(("chat", token, chat))
        if chat.startswith("-"):
            keys.append(("group", token, chat))
    keys = [k for k in keys if k[0] in LIMITS]
    for k in keys:
        n, s = LIMITS[k[0]]
        times = [t for t in RECENT.get(k, []) if t >= now - s]
        RECENT[k] = times
        if len(times) >= n:
            wait = max(1, int(times[0] + s - now + 0.999))
            return ApiError(429, "Too Many Requests: retry after %d" % wait,
                            {"retry_after": wait})
    for k in keys:
        RECENT[k].append(now)
    return None


def record(entry):
    with LOCK:
        entry = {"seq": next(STATE.seq)} | entry
        STATE.calls.append(entry)
        if LOG_FILE is not None:
            LOG_FILE.write(json.dumps(entry) + "\n")
            LOG_FILE.flush()


def public_file(f):
    return {k: v for k, v in f.items() if k != "content"} | {"size": len(f["content"])}


# HTTP.

def parse_body(headers, body):
    """(params, body_type) from a request body; ApiError 400 when unreadable."""
    ctype = headers.get("Content-Type", "")
    m = email.message.Message()
    m["content-type"] = ctype or "application/octet-stream"
    main = m.get_content_type()
    if not body:
        return {}, None
    if main == "application/json":
        try:
            v = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad("can't parse JSON object")
        if not isinstance(v, dict):
            raise bad("can't parse JSON object")
        return v, "json"
    if main == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise bad("can't parse request body")
        return dict(pairs), "form"
    if main == "multipart/form-data":
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
        if not msg.is_multipart():
            raise bad("can't parse multipart request body")
        params = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None:
                continue
            data = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                params[name] = FilePart(filename=filename, size=len(data),
                                        content_type=part.get_content_type())
                params[name].content = data
            else:
                params[name] = data.decode("utf-8", "replace")
        return params, "multipart"
    raise bad("unsupported Content-Type " + main)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY the body
    # waits for the client's delayed ACK of the headers (some 40 ms)
    disable_nagle_algorithm = True
    server_version = "nginx/1.18.0"
    sys_version = ""

    def setup(self):
        super().setup()
        self.conn_id = next(CONNS)

    def log_message(self, fmt, *args):
        if VERBOSE:
            sys.stderr.write("fake_botapi: " + (fmt % args) + "\n")

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline(8)
                if len(out) > MAX_BODY:
                    raise ApiError(413, "Request Entity Too Large")
        n = to_int(self.headers.get("Content-Length"), 0)
        if n > MAX_BODY:
            raise ApiError(413, "Request Entity Too Large")
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj):
        self.send(status, json.dumps(obj).encode())

    def hang_up(self):
        """Close the connection without (another) byte."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            if path.startswith("/_control/"):
                return self.control(path[len("/_control/"):], url.query)
            if path.startswith("/file/bot"):
                return self.download(path[len("/file/bot"):])
            if path.startswith("/bot"):
                return self.api(path[len("/bot"):], url.query)
            self.read_body()
            self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except ApiError as e:
            self.close_connection = True
            self.send_json(e.code, {"ok": False, "error_code": e.code,
                                    "description": e.description})
        except Exception as e:  # a bug here: say so, loudly
            traceback.print_exc()
            self.close_connection = True
            self.send_json(500, {"ok": False, "error_code": 500,
                                 "description": "Internal Server Error: fake_botapi: %r" % e})

    # The Bot API.

    def api(self, rest, query):
        now, wall = time.monotonic(), time.time()
        token, _, name = rest.partition("/")
        name = urllib.parse.unquote(name)
        entry = {"conn": self.conn_id, "peer_port": self.client_address[1],
                 "kind": "call", "http_method": self.command,
                 "token": urllib.parse.unquote(token), "method": name, "params": {},
                 "body_type": None, "t": now, "wall": wall, "fault": None,
                 "faults": []}
        fired = kind = None
        try:
            body = self.read_body()
            params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            if query:
                entry["body_type"] = "query"
            entry["params"] = params
            got, btype = parse_body(self.headers, body)
            params.update(got)
            entry["body_type"] = btype or entry["body_type"]
            if not token_ok(entry["token"]):
                raise ApiError(401, "Unauthorized")
            known = METHODS.get(name.lower())
            if known is None or "/" in name:
                raise ApiError(404, "Not Found")
            entry["method"], fn = known
            with LOCK:
                slow, fired = take_faults(entry["method"], params)
            entry["faults"] = [f["id"] for f in slow + ([fired] if fired else [])]
            for f in slow:
                time.sleep(max(0.0, float(f.get("seconds", 1))))
            kind = fired["kind"] if fired else None
            entry["fault"] = kind or (slow[0]["kind"] if slow else None)
            if kind == "drop":
                return self.finish_unanswered(entry)
            if kind == "502":
                return self.answer_raw(entry, 502, HTML_502, "text/html")
            err = fault_error(fired, params) if fired else None
            if err is not None:
                raise err
            with LOCK:
                err = limit_error(entry["token"], entry["method"], params, now)
                if err is not None:
                    entry["fault"] = "limit"
                    raise err
                result = fn(entry["token"], params)
            description = None
            if isinstance(result, tuple):
                result, description = result
            entry.update({"status": 200, "ok": True, "result": result})
            if kind == "drop_after":
                return self.finish_unanswered(entry)
            answer = {"ok": True, "result": result}
            if description:
                answer["description"] = description
            self.answer(entry, 200, answer)
        except ApiError as e:
            answer = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                answer["parameters"] = e.parameters
            entry.update({"status": e.code, "ok": False, "error_code": e.code,
                          "description": e.description, "parameters": e.parameters})
            if kind == "drop_after":
                return self.finish_unanswered(entry)
            self.answer(entry, e.code, answer)

    def answer(self, entry, status, obj):
        entry.setdefault("status", status)
        entry.setdefault("fault", None)
        entry["t_end"] = time.monotonic()
        record(entry)
        self.send_json(status, obj)

    def answer_raw(self, entry, status, body, ctype):
        entry.update({"status": status, "ok": False, "error_code": status,
                      "t_end": time.monotonic()})
        record(entry)
        self.send(status, body, ctype)

    def finish_unanswered(self, entry):
        if entry["fault"] == "drop":
            entry["status"] = None
        entry["answered"] = False
        entry["t_end"] = time.monotonic()
        record(entry)
        self.hang_up()

    # Downloads.

    def download(self, rest):
        now, wall = time.monotonic(), time.time()
        token, _, file_path = rest.partition("/")
        file_path = urllib.parse.unquote(file_path)
        entry = {"conn": self.conn_id, "kind": "download", "http_method": self.command,
                 "token": urllib.parse.unquote(token), "method": "download",
                 "params": {"file_path": file_path}, "body_type": None,
                 "t": now, "wall": wall, "fault": None, "faults": []}
        try:
            self.read_body()
            if not token_ok(entry["token"]):
                raise ApiError(401, "Unauthorized")
            with LOCK:
                fid = STATE.by_path.get(file_path)
                content = STATE.files[fid]["content"] if fid is not None else None
                slow, fired = take_faults("download", {}, file_path)
            entry["faults"] = [f["id"] for f in slow + ([fired] if fired else [])]
            for f in slow:
                time.sleep(max(0.0, float(f.get("seconds", 1))))
            kind = fired["kind"] if fired else None
            entry["fault"] = kind or (slow[0]["kind"] if slow else None)
            if kind in ("drop", "drop_after"):
                entry["fault"] = "drop"
                return self.finish_unanswered(entry)
            if kind == "502":
                return self.answer_raw(entry, 502, HTML_502, "text/html")
            err = fault_error(fired, {}) if fired else None
            if err is not None:
                raise err
            if content is None:
                raise ApiError(404, "Not Found")
            if kind == "truncated":
                n = min(max(to_int(fired.get("bytes"), len(content) // 2), 0), len(content))
                entry.update({"status": 200, "ok": True, "bytes": n, "answered": False,
                              "t_end": time.monotonic()})
                record(entry)
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content[:n])
                return self.hang_up()
            if kind == "wrong_size":
                size = max(to_int(fired.get("size"), len(content) + 1), 0)
                content = (content + b"\0" * size)[:size]
            entry.update({"status": 200, "ok": True, "bytes": len(content),
                          "t_end": time.monotonic()})
            record(entry)
            self.send(200, content, "application/octet-stream")
        except ApiError as e:
            entry.update({"status": e.code, "ok": False, "error_code": e.code,
                          "description": e.description, "parameters": e.parameters,
                          "t_end": time.monotonic()})
            record(entry)
            answer = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                answer["parameters"] = e.parameters
            self.send_json(e.code, answer)

    # Control.

    def control(self, name, query):
        try:
            body = self.read_body()
            spec = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            q = dict(urllib.parse.parse_qsl(query))
            fn = CONTROL.get(name)
            if fn is None:
                return self.send_json(404, {"ok": False, "description": "no control " + name})
            result = fn(spec, q)
            self.send_json(200, {"ok": True, "result": result})
        except (ValueError, KeyError, OSError, TypeError) as e:
            self.send_json(400, {"ok": False, "description": "%s: %s" % (type(e).__name__, e)})


def c_reset(spec, q):
    global STATE
    with LOCK:
        STATE = State()
        RECENT.clear()
        if LOG_FILE is not None:
            LOG_FILE.seek(0)
            LOG_FILE.truncate()
    return True


def c_file(spec, q):
    fid = spec.get("file_id")
    if not isinstance(fid, str) or not fid:
        raise ValueError("file_id (a string) is required")
    if "content_file" in spec:
        with open(spec["content_file"], "rb") as fh:
            content = fh.read()
    elif "content_base64" in spec:
        content = base64.b64decode(spec["content_base64"], validate=True)
    else:
        content = str(spec.get("content_text", "")).encode("utf-8")
    with LOCK:
        path = spec.get("file_path") or spec.get("path") or "documents/file_%d" % (len(STATE.files) + 1)
        size = spec["file_size"] if "file_size" in spec else len(content)
        if size is not None and not isinstance(size, int):
            raise ValueError("file_size must be an integer or null")
        old = STATE.files.get(fid)
        if old is not None:
            STATE.by_path.pop(old["file_path"], None)
        f = {"file_id": fid, "file_unique_id": spec.get("file_unique_id") or "u_" + fid,
             "file_path": path, "file_size": size, "content": content}
        STATE.files[fid] = f
        STATE.by_path[path] = fid
        return public_file(f)


def c_fault(spec, q):
    f = fault_fields(spec)
    with LOCK:
        f["id"] = next(STATE.fault_ids)
        STATE.faults.append(f)
        return dict(f)


def c_faults(spec, q):
    with LOCK:
        return [dict(f) for f in STATE.faults]


def c_clear_faults(spec, q):
    with LOCK:
        before = len(STATE.faults)
        fid = spec.get("id")
        STATE.faults = [f for f in STATE.faults if fid is not None and f["id"] != fid]
        return before - len(STATE.faults)


def c_webhook(spec, q):
    with LOCK:
        tokens = [spec["token"]] if spec.get("token") else sorted(TOKENS | set(STATE.webhooks))
        if not tokens:
            raise ValueError("token is required (no --token given)")
        for t in tokens:
            wh = webhook_of(t)
            for k in ("pending_update_count", "last_error_date", "ip_address"):
                if k in spec:
                    wh[k] = spec[k]
            if "last_error_message" in spec:
                wh["last_error_message"] = spec["last_error_message"]
                if "last_error_date" not in spec:
                    wh["last_error_date"] = int(time.time())
        return {t: dict(STATE.webhooks[t]) for t in tokens}


def c_calls(spec, q):
    since = to_int(q.get("since", spec.get("since")), 0)
    meth = q.get("method", spec.get("method"))
    with LOCK:
        return [c for c in STATE.calls
                if c["seq"] > since and (meth is None or c["method"] == meth)]


def c_state(spec, q):
    with LOCK:
        msgs = {}
        for (token, chat), ms in STATE.messages.items():
            msgs.setdefault(token, {})[chat] = [dict(m) for _, m in sorted(ms.items())]
        return {"webhooks": {t: dict(w) for t, w in STATE.webhooks.items()},
                "files": {i: public_file(f) for i, f in STATE.files.items()},
                "faults": [dict(f) for f in STATE.faults],
                "messages": msgs, "calls": len(STATE.calls),
                "tokens": sorted(TOKENS)}


def parse_limit(v):
    """(N, S) from "N/S"; ValueError otherwise."""
    m = re.match(r"^([0-9]+)/([0-9.]+)$", str(v))
    if not m or float(m.group(2)) <= 0:
        raise ValueError("a limit is N/S, e.g. 4/1: %r" % (v,))
    return int(m.group(1)), float(m.group(2))


def c_limits(spec, q):
    bad_keys = set(spec) - {"chat", "group", "bot"}
    if bad_keys:
        raise ValueError("limits are chat, group and bot, not %s" % ", ".join(sorted(bad_keys)))
    new = {k: parse_limit(v) for k, v in spec.items()}
    with LOCK:
        LIMITS.clear()
        LIMITS.update(new)
        RECENT.clear()
        return {k: "%d/%g" % v for k, v in LIMITS.items()}


CONTROL = {"reset": c_reset, "file": c_file, "fault": c_fault, "faults": c_faults, "limits": c_limits,
           "clear_faults": c_clear_faults, "webhook": c_webhook,
           "calls": c_calls, "state": c_state}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        # HTTPServer's own would look the host name up (socket.getfqdn),
        # which can hang without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def ctl(argv):
    """fake_botapi.py ctl URL NAME [JSON]: one control request; prints the
    answer; exit 0 when it says ok."""
    if len(argv) not in (2, 3):
        sys.exit("usage: fake_botapi.py ctl URL NAME [JSON]")
    url = argv[0].rstrip("/") + "/_control/" + argv[1]
    data = argv[2].encode() if len(argv) == 3 else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        body = e.read()
    sys.stdout.write(body.decode("utf-8", "replace") + "\n")
    try:
        return 0 if json.loads(body).get("ok") else 1
    except ValueError:
        return 1


def watch(parent, lifetime):
    end = time.monotonic() + lifetime if lifetime else None
    while True:
        time.sleep(0.2)
        if end is not None and time.monotonic() >= end:
            sys.stderr.write("fake_botapi: lifetime over, exiting\n")
            os._exit(0)
        if parent:
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass


VERBOSE = False


def main(argv):
    global LOG_FILE, LOG_PATH, VERBOSE
    if argv[:1] == ["ctl"]:
        return ctl(argv[1:])
    ap = argparse.ArgumentParser(prog="fake_botapi.py", description="a fake Telegram Bot API")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", action="append", default=[])
    ap.add_argument("--log")
    ap.add_argument("--port-file")
    ap.add_argument("--parent", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=0)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--limit", action="append", default=[])
    a = ap.parse_args(argv)
    for spec in a.limit:
        what, _, v = spec.partition("=")
        try:
            if what not in ("chat", "group", "bot"):
                raise ValueError(what)
            LIMITS[what] = parse_limit(v)
        except ValueError:
            ap.error("--limit %s: must be chat|group|bot=N/S" % spec)
    try:
        if not ipaddress.ip_address(a.host).is_loopback:
            ap.error("--host must be a loopback address")
    except ValueError:
        ap.error("--host must be an IP address")
    VERBOSE = a.verbose
    TOKENS.update(a.token)
    if a.log:
        LOG_PATH = a.log
        LOG_FILE = open(a.log, "a", encoding="utf-8")
    Server.address_family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    server = Server((a.host, a.port), Handler)
    port = server.server_address[1]

    def stop(signum, frame):
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.parent or a.lifetime:
        threading.Thread(target=watch, args=(a.parent, a.lifetime), daemon=True).start()
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    print("ready %d" % port, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
