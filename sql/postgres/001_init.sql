-- 001_init: chats, processed updates, outbox, attachments, transcript.
-- Every table is keyed by the bot's name from the config.

CREATE TABLE chats (
    bot            text        NOT NULL,
    chat_id        bigint      NOT NULL,
    node           text        NOT NULL DEFAULT '',
    flow_hash      text        NOT NULL DEFAULT '',
    context        text        NOT NULL DEFAULT '{}',   -- JSON, or sealed when encrypted
    attempts       integer     NOT NULL DEFAULT 0,
    finished       boolean     NOT NULL DEFAULT false,
    keyboard       boolean     NOT NULL DEFAULT false,
    blocked        boolean     NOT NULL DEFAULT false,
    last_update_id bigint      NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot, chat_id)
);

CREATE TABLE updates (
    bot       text        NOT NULL,
    update_id bigint      NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    reply     text,                                     -- the inline reply given, if any
    PRIMARY KEY (bot, update_id)
);
CREATE INDEX updates_at ON updates (at);

CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    bot        text        NOT NULL,
    chat_id    bigint      NOT NULL,
    method     text        NOT NULL,
    params     text        NOT NULL,
    state      text        NOT NULL DEFAULT 'pending'
                           CHECK (state IN ('pending', 'sent', 'dead')),
    attempts   integer     NOT NULL DEFAULT 0,
    next_at    timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_chat_pending ON outbox (bot, chat_id, id) WHERE state = 'pending';
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';

CREATE TABLE attachments (
    id             bigserial   PRIMARY KEY,
    bot            text        NOT NULL,
    chat_id        bigint      NOT NULL,
    update_id      bigint      NOT NULL,
    node           text        NOT NULL,
    key            text,
    path           text        NOT NULL,
    mime           text,
    size           bigint,
    sha256         text,
    file_unique_id text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_chat ON attachments (bot, chat_id);

CREATE TABLE transcript (
    id        bigserial   PRIMARY KEY,
    bot       text        NOT NULL,
    chat_id   bigint      NOT NULL,
    update_id bigint      NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    dir       text        NOT NULL CHECK (dir IN ('in', 'out')),
    text      text        NOT NULL                      -- sealed when encrypted
);
CREATE INDEX transcript_chat ON transcript (bot, chat_id, id);
