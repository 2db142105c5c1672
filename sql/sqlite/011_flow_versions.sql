-- 011_flow_versions: every flow version a bot served, by its hash (the
-- SHA-256 of its canonical JSON, as chats.flow_hash holds it), with its
-- canonical text, so a chat finishes on the version it started with
-- (pin_versions). The version new chats get is the one with the highest
-- served: a deploy of a version not seen before, or `flow rollback`,
-- gives it the next number. created_at in unix seconds.
CREATE TABLE flow_versions (
    bot        TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    served     INTEGER NOT NULL,
    PRIMARY KEY (bot, hash)
);
CREATE INDEX chats_flow_hash ON chats (bot, flow_hash);
