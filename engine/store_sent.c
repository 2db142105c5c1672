/* store_sent.c - the ids of sent messages a later step edits or deletes
 * (store.h, engine/life.h). Plain statements through the backend's query
 * op, used by the sender only; a store without SQL (memory:) keeps none. */
#include "engine/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct store_sent_arg {
	long long *ids;
	int max;
	int *n;
};

/* One id; 0: go on to the next row. */
static int store_sent_row(void *arg, int n, const char *const *cols)
{
	struct store_sent_arg *a = arg;
	if (n >= 1 && cols[0] && *a->n < a->max)
		a->ids[(*a->n)++] = strtoll(cols[0], NULL, 10);
	return *a->n >= a->max;
}

int store_sent_put(struct store *s, const char *bot, long long chat_id,
	long long member, long long message_id, const char *node, const char *life,
	const char *tag, struct store_err *e)
{
	char chat[24], mem[24], id[24];
	const char *p[7] = { bot, chat, id, node, life, tag, mem };
	int rc;

	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(mem, sizeof(mem), "%lld", member);
	snprintf(id, sizeof(id), "%lld", message_id);
	if (tag) {
		rc = s->ops->query(s, "DELETE FROM sent_messages WHERE bot = $1 AND "
			"chat_id = $2 AND tag = $3 AND member = CAST($4 AS BIGINT)",
			(const char *const[]){ bot, chat, tag, mem }, 4, NULL, NULL, NULL, e);
		if (rc)
			return rc;
	}
	return s->ops->query(s, "INSERT INTO sent_messages (bot, chat_id, message_id, "
		"node, life, tag, member) VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS BIGINT)) "
		"ON CONFLICT (bot, chat_id, message_id) DO UPDATE SET node = excluded.node, "
		"life = excluded.life, tag = excluded.tag, member = excluded.member",
		p, 7, NULL, NULL, NULL, e);
}

int store_sent_ids(struct store *s, const char *bot, long long chat_id,
	long long member, const char *node, long long *ids, int max, int *n,
	struct store_err *e)
{
	char chat[24], mem[24], lim[16];
	const char *p[5] = { bot, chat, node, lim, mem };
	struct store_sent_arg a = { ids, max, n };

	*n = 0;
	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(mem, sizeof(mem), "%lld", member);
	snprintf(lim, sizeof(lim), "%d", max);
	return s->ops->query(s, "SELECT message_id FROM sent_messages WHERE bot = $1 "
		"AND chat_id = $2 AND member = CAST($5 AS BIGINT) AND node = $3 AND "
		"life = 'ephemeral' ORDER BY message_id LIMIT CAST($4 AS INTEGER)",
		p, 5, store_sent_row, &a, NULL, e);
}

int store_sent_tagged(struct store *s, const char *bot, long long chat_id,
	long long member, const char *tag, long long *id, int *found, struct store_err *e)
{
	char chat[24], mem[24];
	const char *p[4] = { bot, chat, tag, mem };
	struct store_sent_arg a = { id, 1, found };

	*found = 0;
	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(mem, sizeof(mem), "%lld", member);
	return s->ops->query(s, "SELECT message_id FROM sent_messages WHERE bot = $1 "
		"AND chat_id = $2 AND member = CAST($4 AS BIGINT) AND tag = $3 "
		"ORDER BY message_id DESC LIMIT 1", p, 4, store_sent_row, &a, NULL, e);
}

int store_sent_drop(struct store *s, const char *bot, long long chat_id,
	long long message_id, struct store_err *e)
{
	char chat[24], id[24];
	const char *p[3] = { bot, chat, id };

	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(id, sizeof(id), "%lld", message_id);
	return s->ops->query(s, "DELETE FROM sent_messages WHERE bot = $1 AND "
		"chat_id = $2 AND message_id = $3", p, 3, NULL, NULL, NULL, e);
}

int store_sent_prune(struct store *s, long long *n, struct store_err *e)
{
	char cut[24];
	const char *p[1] = { cut };

	*n = 0;
	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(cut, sizeof(cut), "%lld", (long long)time(NULL) - STORE_SENT_KEEP);
	return s->ops->query(s, "DELETE FROM sent_messages WHERE sent_at < "
		"CAST($1 AS bigint)", p, 1, NULL, NULL, n, e);
}
