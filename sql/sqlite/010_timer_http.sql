-- 010_timer_http: a timer of kind 'http' stands for an http node's call,
-- due when the chat arrives at the node; the background process makes
-- the call outside any transaction and applies its answer. SQLite cannot
-- change a CHECK: the table is made anew, its ids kept and its
-- AUTOINCREMENT counter too (a fired id is never reused).
CREATE TABLE timers_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    bot            TEXT    NOT NULL,
    chat_id        INTEGER NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('remind', 'timeout', 'inactive', 'send_at', 'http')),
    node           TEXT    NOT NULL,
    visit          INTEGER NOT NULL,
    n              INTEGER NOT NULL DEFAULT 1,
    due_ms         INTEGER NOT NULL,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT
);
INSERT INTO timers_new (id, bot, chat_id, kind, node, visit, n, due_ms, lease_until_ms, lease_owner)
    SELECT id, bot, chat_id, kind, node, visit, n, due_ms, lease_until_ms, lease_owner FROM timers;
DELETE FROM sqlite_sequence WHERE name = 'timers_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'timers_new', seq FROM sqlite_sequence WHERE name = 'timers';
DROP TABLE timers;
ALTER TABLE timers_new RENAME TO timers;
CREATE INDEX timers_due ON timers (due_ms);
CREATE INDEX timers_chat ON timers (bot, chat_id);
