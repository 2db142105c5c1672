-- 002_meta: facts about the database itself, such as the key check that
-- lets blueflow refuse a wrong encryption key at start-up.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
