-- 008_inbox_funnel: updates that failed for good, kept with their body
-- and the reason for `blueflow inbox` (pruned after update_retention_hours,
-- as processed ids are; body sealed when encrypted; at in unix seconds);
-- and each transcript row's place in the flow for `blueflow stats`: the
-- node before and after the update and the step's outcome.
CREATE TABLE inbox_dead (
    id        INTEGER PRIMARY KEY,
    bot       TEXT    NOT NULL,
    update_id INTEGER NOT NULL,
    chat_id   INTEGER,
    at        INTEGER NOT NULL,
    reason    TEXT    NOT NULL,
    body      TEXT    NOT NULL                          -- sealed when encrypted
);
CREATE INDEX inbox_dead_at ON inbox_dead (at);
ALTER TABLE transcript ADD COLUMN node_from TEXT NOT NULL DEFAULT '';
ALTER TABLE transcript ADD COLUMN node_to TEXT NOT NULL DEFAULT '';
ALTER TABLE transcript ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
