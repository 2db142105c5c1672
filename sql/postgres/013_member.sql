-- 013_member: a flow with "scope": "user" keeps one state per member of a
-- group. member is the user's id for such a state, 0 for the chat's one
-- state (scope "chat", and every private chat). The chat's state, its
-- timers, its kept messages and its transcript rows carry it; the outbox
-- stays per chat (messages go to the chat, in its order).
ALTER TABLE chats ADD COLUMN member bigint NOT NULL DEFAULT 0;
ALTER TABLE chats DROP CONSTRAINT chats_pkey;
ALTER TABLE chats ADD PRIMARY KEY (bot, chat_id, member);
ALTER TABLE timers ADD COLUMN member bigint NOT NULL DEFAULT 0;
ALTER TABLE sent_messages ADD COLUMN member bigint NOT NULL DEFAULT 0;
ALTER TABLE transcript ADD COLUMN member bigint NOT NULL DEFAULT 0;
