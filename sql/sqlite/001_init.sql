-- 001_init: chats, processed updates, outbox, attachments, transcript.
-- Every table is keyed by the bot's name from the config. Times are unix
-- seconds.

CREATE TABLE chats (
    bot            TEXT    NOT NULL,
    chat_id        INTEGER NOT NULL,
    node           TEXT    NOT NULL DEFAULT '',
    flow_hash      TEXT    NOT NULL DEFAULT '',
    context        TEXT    NOT NULL DEFAULT '{}',       -- JSON, or sealed when encrypted
    attempts       INTEGER NOT NULL DEFAULT 0,
    finished       INTEGER NOT NULL DEFAULT 0,
    keyboard       INTEGER NOT NULL DEFAULT 0,
    blocked        INTEGER NOT NULL DEFAULT 0,
    last_update_id INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    updated_at     INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    PRIMARY KEY (bot, chat_id)
);

CREATE TABLE updates (
    bot       TEXT    NOT NULL,
    update_id INTEGER NOT NULL,
    at        INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    reply     TEXT,                                     -- the inline reply given, if any
    PRIMARY KEY (bot, update_id)
);
CREATE INDEX updates_at ON updates (at);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    bot        TEXT    NOT NULL,
    chat_id    INTEGER NOT NULL,
    method     TEXT    NOT NULL,
    params     TEXT    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'sent', 'dead')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    last_error TEXT,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    sent_at    INTEGER
);
CREATE INDEX outbox_chat_pending ON outbox (bot, chat_id, id) WHERE state = 'pending';
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';

CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    bot            TEXT    NOT NULL,
    chat_id        INTEGER NOT NULL,
    update_id      INTEGER NOT NULL,
    node           TEXT    NOT NULL,
    key            TEXT,
    path           TEXT    NOT NULL,
    mime           TEXT,
    size           INTEGER,
    sha256         TEXT,
    file_unique_id TEXT,
    created_at     INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);
CREATE INDEX attachments_chat ON attachments (bot, chat_id);

CREATE TABLE transcript (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    bot       TEXT    NOT NULL,
    chat_id   INTEGER NOT NULL,
    update_id INTEGER NOT NULL,
    at        INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    dir       TEXT    NOT NULL CHECK (dir IN ('in', 'out')),
    text      TEXT    NOT NULL                          -- sealed when encrypted
);
CREATE INDEX transcript_chat ON transcript (bot, chat_id, id);
