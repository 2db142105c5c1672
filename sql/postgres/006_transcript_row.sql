-- 006_transcript_row: one transcript row per update, not one per line:
-- said (what the user sent) and told (a JSON array of the texts of the
-- messages sent), each text sealed when encrypted; keyed by chat, one
-- index. Half the rows, a quarter of the index entries written per update.
ALTER TABLE transcript RENAME TO transcript_lines;
ALTER TABLE transcript_lines RENAME CONSTRAINT transcript_pkey TO transcript_lines_pkey;
ALTER INDEX transcript_chat RENAME TO transcript_lines_chat;
ALTER SEQUENCE transcript_id_seq RENAME TO transcript_lines_id_seq;
CREATE TABLE transcript (
    id        bigserial,
    bot       text        NOT NULL,
    chat_id   bigint      NOT NULL,
    update_id bigint      NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    said      text        NOT NULL,                     -- sealed when encrypted
    told      text        NOT NULL DEFAULT '[]',        -- JSON array, each text sealed when encrypted
    PRIMARY KEY (bot, chat_id, id)
);
INSERT INTO transcript (bot, chat_id, update_id, at, said, told)
SELECT bot, chat_id, update_id, min(at),
       coalesce(max(text) FILTER (WHERE dir = 'in'), ''),
       coalesce(json_agg(text ORDER BY id) FILTER (WHERE dir = 'out'), '[]')::text
FROM transcript_lines GROUP BY bot, chat_id, update_id ORDER BY min(id);
DROP TABLE transcript_lines;
