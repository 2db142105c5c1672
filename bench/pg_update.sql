\set n :n + 1
\set uid (:client_id + 1) * 1000000 + :n
\set chat 1 + :n % :chats + (:client_id + 1) * :chats
BEGIN;
INSERT INTO updates (bot, update_id) VALUES (:bot, :uid) ON CONFLICT DO NOTHING;
INSERT INTO chats AS c (bot, chat_id) VALUES (:bot, :chat) ON CONFLICT (bot, chat_id) DO UPDATE SET chat_id = c.chat_id RETURNING node, flow_hash, context, attempts, finished, keyboard, (xmax = 0), EXISTS (SELECT 1 FROM outbox o WHERE o.bot = :bot AND o.chat_id = :chat AND o.state = 'pending');
WITH c AS (UPDATE chats SET node = :node, flow_hash = :hash, context = :ctx, attempts = :attempts, finished = :finished, keyboard = :keyboard, last_update_id = :uid, updated_at = now() WHERE bot = :bot AND chat_id = :chat), o AS (INSERT INTO outbox (bot, chat_id, method, params) SELECT :bot, :chat, m.method, m.params FROM unnest(:om::text[], :op::text[]) WITH ORDINALITY AS m(method, params, n) ORDER BY m.n), r AS (UPDATE updates SET reply = :reply WHERE bot = :bot AND update_id = :uid AND :reply::text IS NOT NULL), t AS (INSERT INTO transcript (bot, chat_id, update_id, dir, text) SELECT :bot, :chat, :uid, x.dir, x.text FROM unnest(:td::text[], :tt::text[]) WITH ORDINALITY AS x(dir, text, n) ORDER BY x.n) SELECT 1;
COMMIT;
