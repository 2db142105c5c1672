-- 012_sent_messages: the message_id of each sent message a later step
-- edits or deletes (engine/life.h), recorded by the sender once Telegram
-- answered: an ephemeral node's prompt and refusals (deleted when the node
-- is answered, or by a "delete" timer), a system node's tagged message
-- (edited in place; one per chat and tag). Onetime messages are not kept.
CREATE TABLE sent_messages (
    bot        text    NOT NULL,
    chat_id    bigint  NOT NULL,
    message_id bigint  NOT NULL,
    node       text    NOT NULL,
    life       text    NOT NULL CHECK (life IN ('ephemeral', 'system')),
    tag        text,
    sent_at    bigint  NOT NULL DEFAULT (extract(epoch FROM now())::bigint),
    PRIMARY KEY (bot, chat_id, message_id)
);
CREATE INDEX sent_messages_node ON sent_messages (bot, chat_id, node);
CREATE INDEX sent_messages_tag ON sent_messages (bot, chat_id, tag);
-- the timer that deletes an ephemeral node's messages after its
-- auto_delete_after
ALTER TABLE timers DROP CONSTRAINT IF EXISTS timers_kind_check;
ALTER TABLE timers ADD CONSTRAINT timers_kind_check
    CHECK (kind IN ('remind', 'timeout', 'inactive', 'send_at', 'http', 'delete'));
