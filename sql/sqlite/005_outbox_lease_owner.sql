-- 005_outbox_lease_owner: which sender holds a call's lease. A sender
-- starts a call only while it still holds it, so one that stalled past
-- its lease does not send what another sender took over meanwhile.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
