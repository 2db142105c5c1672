\set n :n + 1
\set uid (:client_id + 1) * 1000000 + :n
\set chat 1 + :n % :chats + (:client_id + 1) * :chats
BEGIN;
SELECT count(*) AS have FROM (SELECT node, flow_hash, context, attempts, finished, keyboard, false, EXISTS (SELECT 1 FROM outbox o WHERE o.bot = :bot AND o.chat_id = :chat AND o.state = 'pending') FROM chats WHERE bot = :bot AND chat_id = :chat AND member = 0 FOR UPDATE OF chats) l \gset
SELECT coalesce(reply, '') FROM updates WHERE bot = :bot AND update_id = :uid;
\if :have = 0
INSERT INTO chats AS c (bot, chat_id) VALUES (:bot, :chat) ON CONFLICT (bot, chat_id, member) DO UPDATE SET chat_id = c.chat_id RETURNING node, flow_hash, context, attempts, finished, keyboard, (xmax = 0), EXISTS (SELECT 1 FROM outbox o WHERE o.bot = :bot AND o.chat_id = :chat AND o.state = 'pending');
SELECT coalesce(reply, '') FROM updates WHERE bot = :bot AND update_id = :uid;
\endif
WITH c AS (UPDATE chats SET node = :node, flow_hash = :hash, context = :ctx, attempts = :attempts, finished = :finished, keyboard = :keyboard, last_update_id = :uid, updated_at = now() WHERE bot = :bot AND chat_id = :chat AND member = 0), o AS (INSERT INTO outbox (bot, chat_id, method, params) SELECT :bot, :chat, m.method, m.params FROM unnest(:om::text[], :op::text[]) WITH ORDINALITY AS m(method, params, n) ORDER BY m.n), u AS (INSERT INTO updates (bot, update_id, reply) VALUES (:bot, :uid, :reply)), t AS (INSERT INTO transcript (bot, chat_id, update_id, said, told) SELECT :bot, :chat, :uid, :said::text, :told::text WHERE :said::text IS NOT NULL) SELECT 1;
COMMIT;
