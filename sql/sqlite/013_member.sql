-- 013_member: a flow with "scope": "user" keeps one state per member of a
-- group. member is the user's id for such a state, 0 for the chat's one
-- state (scope "chat", and every private chat). The chat's state, its
-- timers, its kept messages and its transcript rows carry it; the outbox
-- stays per chat (messages go to the chat, in its order). SQLite changes
-- a primary key only by copying the table.
CREATE TABLE chats_013 (
    bot            TEXT    NOT NULL,
    chat_id        INTEGER NOT NULL,
    member         INTEGER NOT NULL DEFAULT 0,
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
    PRIMARY KEY (bot, chat_id, member)
);
INSERT INTO chats_013 (bot, chat_id, node, flow_hash, context, attempts,
    finished, keyboard, blocked, last_update_id, created_at, updated_at)
    SELECT bot, chat_id, node, flow_hash, context, attempts, finished,
    keyboard, blocked, last_update_id, created_at, updated_at FROM chats;
DROP TABLE chats;
ALTER TABLE chats_013 RENAME TO chats;
CREATE INDEX chats_flow_hash ON chats (bot, flow_hash);
ALTER TABLE timers ADD COLUMN member INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sent_messages ADD COLUMN member INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transcript ADD COLUMN member INTEGER NOT NULL DEFAULT 0;
