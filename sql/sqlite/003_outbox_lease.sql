-- 003_outbox_lease: a sender leases the head of a chat's queue while it
-- delivers it, so one chat's calls go out in order and once.
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
