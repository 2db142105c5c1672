-- 004_outbox_dead: dead letters are counted for /metrics and listed by
-- `blueflow outbox list --dead`; an index keeps both cheap as sent rows
-- pile up.
CREATE INDEX outbox_dead ON outbox (id) WHERE state = 'dead';
