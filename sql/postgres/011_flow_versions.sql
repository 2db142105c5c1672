-- 011_flow_versions: every flow version a bot served, by its hash (the
-- SHA-256 of its canonical JSON, as chats.flow_hash holds it), with its
-- canonical text, so a chat finishes on the version it started with
-- (pin_versions). The version new chats get is the one with the highest
-- served: a deploy of a version not seen before, or `flow rollback`,
-- gives it the next number. created_at in unix seconds.
CREATE TABLE flow_versions (
    bot        text   NOT NULL,
    hash       text   NOT NULL,
    body       text   NOT NULL,
    created_at bigint NOT NULL,
    served     bigint NOT NULL,
    PRIMARY KEY (bot, hash)
);
CREATE INDEX chats_flow_hash ON chats (bot, flow_hash);
