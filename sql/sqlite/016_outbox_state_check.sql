-- 016_outbox_state_check: the outbox's state check as comparisons, not
-- IN (...): SQLite builds a temporary index for an IN list of three or
-- more each time a row is written (about 30,000 instructions, as much
-- as the rest of the insert), and a step queues several calls. Same
-- rule, same rows. SQLite changes a CHECK only by copying the table; the
-- AUTOINCREMENT high-water mark is carried over, as ids must never come
-- again.
CREATE TABLE outbox_016 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    bot         TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    method      TEXT    NOT NULL,
    params      TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (state = 'pending' OR state = 'sent' OR state = 'dead'),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    last_error  TEXT,
    created_at  INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    sent_at     INTEGER,
    lease_until INTEGER,
    lease_owner TEXT
);
INSERT INTO outbox_016 (id, bot, chat_id, method, params, state, attempts,
    next_at, last_error, created_at, sent_at, lease_until, lease_owner)
    SELECT id, bot, chat_id, method, params, state, attempts, next_at,
    last_error, created_at, sent_at, lease_until, lease_owner FROM outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox_016';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'outbox_016', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_016 RENAME TO outbox;
CREATE INDEX outbox_chat_pending ON outbox (bot, chat_id, id) WHERE state = 'pending';
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';
CREATE INDEX outbox_dead ON outbox (id) WHERE state = 'dead';
