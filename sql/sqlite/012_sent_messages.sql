-- 012_sent_messages: the message_id of each sent message a later step
-- edits or deletes (engine/life.h), recorded by the sender once Telegram
-- answered: an ephemeral node's prompt and refusals (deleted when the node
-- is answered, or by a "delete" timer), a system node's tagged message
-- (edited in place; one per chat and tag). Onetime messages are not kept.
CREATE TABLE sent_messages (
    bot        TEXT    NOT NULL,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    node       TEXT    NOT NULL,
    life       TEXT    NOT NULL CHECK (life IN ('ephemeral', 'system')),
    tag        TEXT,
    sent_at    INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    PRIMARY KEY (bot, chat_id, message_id)
);
CREATE INDEX sent_messages_node ON sent_messages (bot, chat_id, node);
CREATE INDEX sent_messages_tag ON sent_messages (bot, chat_id, tag);
-- the timer that deletes an ephemeral node's messages after its
-- auto_delete_after: SQLite changes a CHECK only by copying the table.
-- Its AUTOINCREMENT high-water mark is carried over, as fired ids are
-- recorded and must never come again.
CREATE TABLE timers_012 (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    bot            TEXT    NOT NULL,
    chat_id        INTEGER NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('remind', 'timeout', 'inactive', 'send_at', 'http', 'delete')),
    node           TEXT    NOT NULL,
    visit          INTEGER NOT NULL,
    n              INTEGER NOT NULL DEFAULT 1,
    due_ms         INTEGER NOT NULL,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT
);
INSERT INTO timers_012 (id, bot, chat_id, kind, node, visit, n, due_ms,
    lease_until_ms, lease_owner)
    SELECT id, bot, chat_id, kind, node, visit, n, due_ms, lease_until_ms,
    lease_owner FROM timers;
DELETE FROM sqlite_sequence WHERE name = 'timers_012';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'timers_012', seq FROM sqlite_sequence WHERE name = 'timers';
DROP TABLE timers;
ALTER TABLE timers_012 RENAME TO timers;
CREATE INDEX timers_due ON timers (due_ms);
CREATE INDEX timers_chat ON timers (bot, chat_id);
