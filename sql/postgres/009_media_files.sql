-- 009_media_files: the file_id Telegram gave each local media file a
-- bot uploaded (a flow's "media"), by the file's SHA-256 and kind, so
-- that the file is uploaded once and sent by its file_id after; a file
-- that changes has another hash and is uploaded again.
CREATE TABLE media_files (
    bot        text        NOT NULL,
    kind       text        NOT NULL,                    -- photo, document, voice, video, animation
    sha256     text        NOT NULL,                    -- hex
    file_id    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot, kind, sha256)
);
