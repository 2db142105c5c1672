-- 010_timer_http: a timer of kind 'http' stands for an http node's call,
-- due when the chat arrives at the node; the background process makes
-- the call outside any transaction and applies its answer.
ALTER TABLE timers DROP CONSTRAINT timers_kind_check;
ALTER TABLE timers ADD CONSTRAINT timers_kind_check
    CHECK (kind IN ('remind', 'timeout', 'inactive', 'send_at', 'http'));
