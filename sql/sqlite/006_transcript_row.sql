-- 006_transcript_row: one transcript row per update, not one per line:
-- said (what the user sent) and told (a JSON array of the texts of the
-- messages sent), each text sealed when encrypted. Its id is the rowid
-- (no AUTOINCREMENT: no sqlite_sequence row to write per update).
ALTER TABLE transcript RENAME TO transcript_lines;
DROP INDEX transcript_chat;
CREATE TABLE transcript (
    id        INTEGER PRIMARY KEY,
    bot       TEXT    NOT NULL,
    chat_id   INTEGER NOT NULL,
    update_id INTEGER NOT NULL,
    at        INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    said      TEXT    NOT NULL,                         -- sealed when encrypted
    told      TEXT    NOT NULL DEFAULT '[]'             -- JSON array, each text sealed when encrypted
);
INSERT INTO transcript (bot, chat_id, update_id, at, said, told)
SELECT bot, chat_id, update_id, min(at),
       coalesce(max(CASE WHEN dir = 'in' THEN text END), ''),
       json_group_array(text) FILTER (WHERE dir = 'out')
FROM (SELECT * FROM transcript_lines ORDER BY id)
GROUP BY bot, chat_id, update_id ORDER BY min(id);
DROP TABLE transcript_lines;
CREATE INDEX transcript_chat ON transcript (bot, chat_id, id);
