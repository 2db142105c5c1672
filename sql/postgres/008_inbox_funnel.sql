-- 008_inbox_funnel: updates that failed for good, kept with their body
-- and the reason for `blueflow inbox` (pruned after update_retention_hours,
-- as processed ids are; body sealed when encrypted; at in unix seconds);
-- and each transcript row's place in the flow for `blueflow stats`: the
-- node before and after the update and the step's outcome.
CREATE TABLE inbox_dead (
    id        bigserial PRIMARY KEY,
    bot       text      NOT NULL,
    update_id bigint    NOT NULL,
    chat_id   bigint,
    at        bigint    NOT NULL,
    reason    text      NOT NULL,
    body      text      NOT NULL                        -- sealed when encrypted
);
CREATE INDEX inbox_dead_at ON inbox_dead (at);
ALTER TABLE transcript ADD COLUMN node_from text NOT NULL DEFAULT '';
ALTER TABLE transcript ADD COLUMN node_to text NOT NULL DEFAULT '';
ALTER TABLE transcript ADD COLUMN outcome text NOT NULL DEFAULT '';
