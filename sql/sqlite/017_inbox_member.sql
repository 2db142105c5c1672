-- 017_inbox_member: with "scope": "user" a kept poison update names the
-- member whose state it would have moved (0: the chat's one state, or
-- none known), for `blueflow inbox` and for that member's forget.
ALTER TABLE inbox_dead ADD COLUMN member INTEGER NOT NULL DEFAULT 0;
