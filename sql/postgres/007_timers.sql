-- 007_timers: due events of chats (reminders, timeouts, inactivity
-- nudges, scheduled messages). Armed and cancelled in the transaction of
-- the step that makes or ends the wait; fired through the apply path.
-- Times are unix milliseconds of blueflow's clock. visit: when the chat
-- entered the node the timer belongs to. A row is leased (lease_until_ms,
-- lease_owner) by the process that took it, and deleted in the
-- transaction that fires it.
CREATE TABLE timers (
    id             bigserial PRIMARY KEY,
    bot            text    NOT NULL,
    chat_id        bigint  NOT NULL,
    kind           text    NOT NULL CHECK (kind IN ('remind', 'timeout', 'inactive', 'send_at')),
    node           text    NOT NULL,
    visit          bigint  NOT NULL,
    n              integer NOT NULL DEFAULT 1,
    due_ms         bigint  NOT NULL,
    lease_until_ms bigint  NOT NULL DEFAULT 0,
    lease_owner    text
);
CREATE INDEX timers_due ON timers (due_ms);
CREATE INDEX timers_chat ON timers (bot, chat_id);
