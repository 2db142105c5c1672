-- 016_outbox_state_check: on SQLite the outbox's state check becomes
-- comparisons (an IN list of three built a temporary index at every
-- write). PostgreSQL checks the list as it is: nothing to change here;
-- the version keeps the two stores' migrations in step.
SELECT 1;
