-- 003_outbox_lease: a sender leases the head of a chat's queue while it
-- delivers it, so senders on several hosts share the outbox without
-- sending one chat's calls out of order or twice.
ALTER TABLE outbox ADD COLUMN lease_until timestamptz;
