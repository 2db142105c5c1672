/* inbox.c - the poison updates kept for replay (inbox.h): plain
 * parameterized statements through the backend's query op; times are
 * unix seconds in both backends, so one text serves both. */
#include "engine/inbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/crypto.h"

#define INBOX_BODY_MAX (8u << 20)

static int inbox_query(struct store *s, const char *sql, const char *const *p,
	int n, store_row_fn fn, void *arg, long long *changes, struct store_err *e)
{
	if (s->ops->query == NULL)
		return store_fail(e, STORE_PERMANENT, "the %s store keeps no inbox; use "
			"sqlite: or postgresql://", s->ops->name);
	return s->ops->query(s, sql, p, n, fn, arg, changes, e);
}

int inbox_keep(struct store *s, const char *bot, long long update_id,
	long long chat_id, long long member, const char *reason, const char *body,
	size_t len, struct store_err *e)
{
	char upd[24], chat[24], at[24], mem[24];
	const char *p[7] = { bot, upd, chat_id ? chat : NULL, at, reason, NULL, mem };
	char *text = malloc(len + 1);
	int rc;

	if (text == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	memcpy(text, body, len);
	text[len] = '\0';
	snprintf(upd, sizeof(upd), "%lld", update_id);
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(at, sizeof(at), "%lld", (long long)time(NULL));
	snprintf(mem, sizeof(mem), "%lld", member);
	rc = store_seal(s, text, &p[5], e);
	if (rc == STORE_OK)
		rc = inbox_query(s, "INSERT INTO inbox_dead (bot, update_id, chat_id, at, "
			"reason, body, member) VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS bigint))",
			p, 7, NULL, NULL, NULL, e);
	free(text);
	return rc;
}

int inbox_list(struct store *s, int limit, store_row_fn fn, void *arg,
	struct store_err *e)
{
	char n[16];
	const char *p[1] = { n };
	snprintf(n, sizeof(n), "%d", limit);
	return inbox_query(s, "SELECT id, bot, update_id, chat_id, at, reason, member "
		"FROM inbox_dead ORDER BY id LIMIT CAST($1 AS bigint)", p, 1, fn, arg, NULL, e);
}

void inbox_row_init(struct inbox_row *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, INBOX_BODY_MAX);
}

void inbox_row_free(struct inbox_row *r)
{
	buf_free(&r->body);
}

struct inbox_get {
	struct inbox_row *r;
	const char *body;            /* as stored, copied into r->body */
	int found;
};

/* Columns: id, bot, update_id, chat_id, at, reason, body, member. */
static int inbox_get_row(void *arg, int n, const char *const *c)
{
	struct inbox_get *g = arg;
	struct inbox_row *r = g->r;

	if (n < 8)
		return 1;
	r->id = strtoll(c[0], NULL, 10);
	r->member = c[7] ? strtoll(c[7], NULL, 10) : 0;
	snprintf(r->bot, sizeof(r->bot), "%s", c[1]);
	r->update_id = strtoll(c[2], NULL, 10);
	r->chat_id = c[3] ? strtoll(c[3], NULL, 10) : 0;
	r->at = strtoll(c[4], NULL, 10);
	snprintf(r->reason, sizeof(r->reason), "%s", c[5]);
	buf_reset(&r->body);
	g->found = buf_adds(&r->body, c[6] ? c[6] : "") == 0 ? 1 : -1;
	return 0;
}

int inbox_get(struct store *s, long long id, struct inbox_row *r, int *found,
	struct store_err *e)
{
	struct inbox_get g = { r, NULL, 0 };
	char n[24], err[200];
	const char *p[1] = { n };
	int rc;

	*found = 0;
	snprintf(n, sizeof(n), "%lld", id);
	rc = inbox_query(s, "SELECT id, bot, update_id, chat_id, at, reason, body, "
		"member FROM inbox_dead WHERE id = CAST($1 AS bigint)", p, 1, inbox_get_row, &g, NULL, e);
	if (rc)
		return rc;
	if (g.found < 0)
		return store_fail(e, STORE_PERMANENT, "kept update %lld is too large", id);
	if (g.found && crypto_is_sealed(r->body.p)) {
		if (s->key == NULL)
			return store_fail(e, STORE_PERMANENT, "kept update %lld is sealed, "
				"but no encryption key is set", id);
		buf_reset(&s->open);
		if (crypto_open(s->key, r->body.p, &s->open, err, sizeof(err)) != 0)
			return store_fail(e, STORE_PERMANENT, "kept update %lld: %s", id, err);
		buf_reset(&r->body);
		if (buf_add(&r->body, s->open.p, s->open.len) != 0)
			return store_fail(e, STORE_PERMANENT, "kept update %lld is too large", id);
	}
	*found = g.found;
	return STORE_OK;
}

int inbox_drop(struct store *s, long long id, long long *n, struct store_err *e)
{
	char v[24];
	const char *p[1] = { v };
	snprintf(v, sizeof(v), "%lld", id);
	*n = 0;
	return inbox_query(s, "DELETE FROM inbox_dead WHERE CAST($1 AS bigint) = 0 OR id = CAST($1 AS bigint)", p, 1,
		NULL, NULL, n, e);
}

static int inbox_one(void *arg, int n, const char *const *c)
{
	*(long long *)arg = n > 0 && c[0] ? strtoll(c[0], NULL, 10) : 0;
	return 0;
}

int inbox_count(struct store *s, long long *n, struct store_err *e)
{
	*n = 0;
	return inbox_query(s, "SELECT count(*) FROM inbox_dead", NULL, 0, inbox_one, n,
		NULL, e);
}

int inbox_prune(struct store *s, int hours, long long *n, struct store_err *e)
{
	char cut[24];
	const char *p[1] = { cut };
	snprintf(cut, sizeof(cut), "%lld", (long long)time(NULL) - hours * 3600LL);
	*n = 0;
	return inbox_query(s, "DELETE FROM inbox_dead WHERE at < CAST($1 AS bigint)", p, 1, NULL, NULL,
		n, e);
}
