/* store_admin.c - what operators' commands and the attachment store ask
 * of the store, off the hot path: plain parameterized statements through
 * the backend's query op, written here where SQLite and PostgreSQL agree;
 * where their clocks or locks differ, each backend's text comes from its
 * ops table (struct store_admin_sql). */
#include "engine/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the backend runs SQL; e says not when it does not. */
static int admin_sql_ok(struct store *s, struct store_err *e)
{
	if (s->ops->query && s->ops->admin)
		return 1;
	store_fail(e, STORE_PERMANENT, "the %s store keeps no tables for this; "
		"use sqlite: or postgresql://", s->ops->name);
	return 0;
}

/* The backend's text of its own statements, or NULL (e says why). */
static const struct store_admin_sql *admin_sql(struct store *s, struct store_err *e)
{
	return admin_sql_ok(s, e) ? s->ops->admin : NULL;
}

static int admin_query(struct store *s, const char *sql, const char *const *params,
	int n, store_row_fn fn, void *arg, long long *changes, struct store_err *e)
{
	if (!admin_sql_ok(s, e))
		return e->code;
	return s->ops->query(s, sql, params, n, fn, arg, changes, e);
}

int store_file_add(struct store *s, const char *bot, long long chat_id,
	long long update_id, const struct store_file *f, struct store_err *e)
{
	char chat[24], update[24], size[24];
	const char *p[10] = { bot, chat, update, f->node, f->key, f->path, f->mime,
		size, f->sha256, f->file_unique_id };

	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(update, sizeof(update), "%lld", update_id);
	snprintf(size, sizeof(size), "%lu", f->size);
	return admin_query(s, "INSERT INTO attachments (bot, chat_id, update_id, node, "
		"key, path, mime, size, sha256, file_unique_id) VALUES ($1, $2, $3, $4, $5, "
		"$6, $7, $8, $9, $10)", p, 10, NULL, NULL, NULL, e);
}

static int admin_found(void *arg, int n, const char *const *cols)
{
	(void)n;
	(void)cols;
	*(int *)arg = 1;
	return 0;
}

int store_file_recorded(struct store *s, const char *bot, const char *path,
	int *found, struct store_err *e)
{
	const char *p[2] = { bot, path };

	*found = 0;
	return admin_query(s, "SELECT 1 FROM attachments WHERE bot = $1 AND path = $2",
		p, 2, admin_found, found, NULL, e);
}

static int admin_usage_row(void *arg, int n, const char *const *cols)
{
	long long *v = arg;
	for (int i = 0; i < n && i < 2; i++)
		v[i] = cols[i] ? strtoll(cols[i], NULL, 10) : 0;
	return 0;
}

int store_file_usage(struct store *s, const char *bot, long long chat_id,
	long long *files, long long *bytes, struct store_err *e)
{
	char chat[24];
	const char *p[2] = { bot, chat };
	long long v[2] = { 0, 0 };
	int rc;

	*files = *bytes = 0;
	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	rc = s->ops->query(s, "SELECT count(*) FROM attachments WHERE bot = $1 AND "
		"chat_id = CAST($2 AS bigint)", p, 2, admin_usage_row, v, NULL, e);
	*files = v[0];
	if (rc == STORE_OK)
		rc = s->ops->query(s, "SELECT coalesce(sum(size), 0) FROM attachments "
			"WHERE bot = $1", p, 1, admin_usage_row, v, NULL, e);
	*bytes = v[0];
	return rc;
}

int store_outbox_waiting(struct store *s, const char *bot, long long chat_id,
	long long limit, long long *n, struct store_err *e)
{
	char chat[24], lim[24];
	const char *p[3] = { bot, chat, lim };
	long long v[2] = { 0, 0 };
	int rc;

	*n = 0;
	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(lim, sizeof(lim), "%lld", limit);
	/* counted no further than limit: the cost stays bounded */
	rc = s->ops->query(s, "SELECT count(*) FROM (SELECT 1 FROM outbox WHERE "
		"bot = $1 AND chat_id = CAST($2 AS bigint) AND state = 'pending' "
		"LIMIT CAST($3 AS bigint)) w", p, 3, admin_usage_row, v, NULL, e);
	*n = v[0];
	return rc;
}

int store_outbox_dead_letter(struct store *s, const char *bot, long long chat_id,
	const char *method, const char *params, const char *why, struct store_err *e)
{
	char chat[24];
	const char *p[5] = { bot, chat, method, params, why };

	snprintf(chat, sizeof(chat), "%lld", chat_id);
	return admin_query(s, "INSERT INTO outbox (bot, chat_id, method, params, state, "
		"last_error) VALUES ($1, CAST($2 AS bigint), $3, $4, 'dead', $5)", p, 5,
		NULL, NULL, NULL, e);
}

struct admin_peek {
	struct store *s;
	struct store_chat *sc;
	int *seen;
	struct store_err *e;
	int rc;
};

/* seen, node, context, attempts, finished, keyboard, flow_hash (NULLs: no
 * chat). */
static int admin_peek_row(void *arg, int n, const char *const *cols)
{
	struct admin_peek *a = arg;

	if (n < 7)
		return 1;
	*a->seen = cols[0] && strcmp(cols[0], "0") != 0;
	if (cols[1] == NULL)
		return 0;
	snprintf(a->sc->chat.node, sizeof(a->sc->chat.node), "%s", cols[1]);
	a->rc = store_load_context(a->s, a->sc, cols[2], a->e);
	a->sc->chat.attempts = cols[3] ? (int)strtol(cols[3], NULL, 10) : 0;
	a->sc->chat.finished = cols[4] && (cols[4][0] == '1' || cols[4][0] == 't');
	a->sc->chat.keyboard = cols[5] && (cols[5][0] == '1' || cols[5][0] == 't');
	snprintf(a->sc->flow_hash, sizeof(a->sc->flow_hash), "%s", cols[6] ? cols[6] : "");
	return a->rc != STORE_OK;
}

int store_chat_peek(struct store *s, const char *bot, long long update_id,
	struct store_chat *sc, int *seen, int *known, struct store_err *e)
{
	struct admin_peek a = { s, sc, seen, e, STORE_OK };
	char chat[24], update[24], member[24];
	const char *p[4] = { bot, chat, update, member };
	int rc;

	*seen = 0;
	*known = s->ops->query != NULL;
	if (!*known)
		return STORE_OK;
	snprintf(chat, sizeof(chat), "%lld", sc->chat.chat_id);
	snprintf(update, sizeof(update), "%lld", update_id);
	snprintf(member, sizeof(member), "%lld", sc->chat.member);
	rc = admin_query(s, "SELECT (SELECT count(*) FROM updates WHERE bot = $1 AND "
		"update_id = $3), c.node, c.context, c.attempts, c.finished, c.keyboard, "
		"c.flow_hash "
		"FROM (SELECT 1) AS one LEFT JOIN chats c ON c.bot = $1 AND c.chat_id = $2 "
		"AND c.member = CAST($4 AS BIGINT)",
		p, 4, admin_peek_row, &a, NULL, e);
	return rc ? rc : a.rc;
}

struct admin_paths {
	int (*fn)(void *arg, const char *path);
	void *arg;
};

static int admin_path(void *arg, int n, const char *const *cols)
{
	struct admin_paths *a = arg;
	return n > 0 && cols[0] ? a->fn(a->arg, cols[0]) : 0;
}

/* Deletes what is kept about a chat but its row: transcript, outbox
 * calls, attachment rows, timers, the ids of its messages kept for their
 * life cycle, kept poison updates, and inline replies addressed to it (a repeat is
 * answered from updates.reply, whose call JSON starts
 * {"method":...,"chat_id":N,). *rows counts them (not the replies). */
static int admin_erase(struct store *s, const char *bot, long long chat_id,
	long long *rows, struct store_err *e)
{
	static const char *const deletes[] = {
		"DELETE FROM transcript WHERE bot = $1 AND chat_id = $2",
		"DELETE FROM outbox WHERE bot = $1 AND chat_id = $2",
		"DELETE FROM attachments WHERE bot = $1 AND chat_id = $2",
		"DELETE FROM timers WHERE bot = $1 AND chat_id = $2",
		"DELETE FROM sent_messages WHERE bot = $1 AND chat_id = $2",
		"DELETE FROM inbox_dead WHERE bot = $1 AND chat_id = $2",
	};
	char chat[24], like1[48], like2[48];
	const char *p[2] = { bot, chat }, *replies[3] = { bot, like1, like2 };
	long long n = 0;
	int rc = STORE_OK;

	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(like1, sizeof(like1), "%%\"chat_id\":%lld,%%", chat_id);
	snprintf(like2, sizeof(like2), "%%\"chat_id\":%lld}%%", chat_id);
	for (size_t i = 0; rc == STORE_OK && i < sizeof(deletes) / sizeof(deletes[0]); i++) {
		rc = admin_query(s, deletes[i], p, 2, NULL, NULL, &n, e);
		*rows += n;
	}
	if (rc == STORE_OK)
		rc = admin_query(s, "UPDATE updates SET reply = NULL WHERE bot = $1 AND "
			"(reply LIKE $2 OR reply LIKE $3)", replies, 3, NULL, NULL, NULL, e);
	return rc;
}

/* What the forget command of one member (struct chat) erases: that
 * member's transcript, timers, kept message ids and kept poison updates;
 * what belongs to the chat (its outbox, files) stays. */
static int admin_erase_member(struct store *s, const char *bot, long long chat_id,
	long long member, struct store_err *e)
{
	static const char *const deletes[] = {
		"DELETE FROM transcript WHERE bot = $1 AND chat_id = $2 AND member = CAST($3 AS BIGINT)",
		"DELETE FROM timers WHERE bot = $1 AND chat_id = $2 AND member = CAST($3 AS BIGINT)",
		"DELETE FROM sent_messages WHERE bot = $1 AND chat_id = $2 AND member = CAST($3 AS BIGINT)",
		"DELETE FROM inbox_dead WHERE bot = $1 AND chat_id = $2 AND member = CAST($3 AS BIGINT)",
	};
	char chat[24], mem[24];
	const char *p[3] = { bot, chat, mem };
	int rc = STORE_OK;

	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(mem, sizeof(mem), "%lld", member);
	for (size_t i = 0; rc == STORE_OK && i < sizeof(deletes) / sizeof(deletes[0]); i++)
		rc = admin_query(s, deletes[i], p, 3, NULL, NULL, NULL, e);
	return rc;
}

int store_erase(struct store *s, const char *bot, long long chat_id, long long member,
	struct store_err *e)
{
	long long rows = 0;
	if (s->ops->query == NULL)
		return STORE_OK;   /* the memory store keeps nothing but the chat */
	if (member)
		return admin_erase_member(s, bot, chat_id, member, e);
	return admin_erase(s, bot, chat_id, &rows, e);
}

int store_forget(struct store *s, const char *bot, long long chat_id,
	int (*fn)(void *arg, const char *path), void *arg, long long *rows,
	struct store_err *e)
{
	const struct store_admin_sql *sql = admin_sql(s, e);
	struct admin_paths paths = { fn, arg };
	char chat[24];
	const char *p[2] = { bot, chat };
	int rc;

	snprintf(chat, sizeof(chat), "%lld", chat_id);
	*rows = 0;
	if (sql == NULL)
		return e->code;
	rc = s->ops->begin(s, e);
	if (rc)
		return rc;
	/* the chat's lock first, so an update in flight finishes before */
	rc = admin_query(s, sql->lock_chat, p, 2, NULL, NULL, NULL, e);
	if (rc == STORE_OK && fn)
		rc = admin_query(s, "SELECT path FROM attachments WHERE bot = $1 AND "
			"chat_id = $2 ORDER BY id", p, 2, admin_path, &paths, NULL, e);
	if (rc == STORE_OK)
		rc = admin_query(s, "DELETE FROM chats WHERE bot = $1 AND chat_id = $2",
			p, 2, NULL, NULL, rows, e);
	if (rc == STORE_OK)
		rc = admin_erase(s, bot, chat_id, rows, e);
	if (rc == STORE_OK)
		rc = s->ops->commit(s, e);
	if (rc)
		s->ops->rollback(s);
	return rc;
}

int store_outbox_list(struct store *s, int dead, int limit, store_row_fn fn,
	void *arg, struct store_err *e)
{
	const struct store_admin_sql *sql = admin_sql(s, e);
	char lim[16];
	const char *p[2] = { dead ? "dead" : "pending", lim };

	if (sql == NULL)
		return e->code;
	snprintf(lim, sizeof(lim), "%d", limit);
	return admin_query(s, sql->outbox_list, p, 2, fn, arg, NULL, e);
}

/* Runs a statement on one outbox call ($1: its id; 0: every dead call). */
static int admin_call(struct store *s, long long id, const char *sql, long long *n,
	struct store_err *e)
{
	char idt[24];
	const char *p[1] = { idt };

	snprintf(idt, sizeof(idt), "%lld", id);
	return admin_query(s, sql, p, 1, NULL, NULL, n, e);
}

int store_outbox_retry(struct store *s, long long id, long long *n, struct store_err *e)
{
	const struct store_admin_sql *sql = admin_sql(s, e);
	return sql ? admin_call(s, id, sql->outbox_retry, n, e) : e->code;
}

int store_outbox_drop(struct store *s, long long id, long long *n, struct store_err *e)
{
	const struct store_admin_sql *sql = admin_sql(s, e);
	return sql ? admin_call(s, id, sql->outbox_drop, n, e) : e->code;
}

static int admin_counts(void *arg, int n, const char *const *cols)
{
	long long *c = arg;
	for (int i = 0; i < n && i < 2; i++)
		c[i] = cols[i] ? strtoll(cols[i], NULL, 10) : 0;
	return 0;
}

int store_outbox_counts(struct store *s, long long *pending, long long *dead,
	struct store_err *e)
{
	long long c[2] = { 0, 0 };
	int rc = admin_query(s, "SELECT (SELECT count(*) FROM outbox WHERE state = "
		"'pending'), (SELECT count(*) FROM outbox WHERE state = 'dead')",
		NULL, 0, admin_counts, c, NULL, e);
	*pending = c[0];
	*dead = c[1];
	return rc;
}

struct admin_each {
	struct store *s;
	int (*fn)(void *arg, const struct store_chat *sc, long long updated_at);
	void *arg;
	struct store_err *e;
	int rc;
};

static int admin_chat(void *arg, int n, const char *const *cols)
{
	struct admin_each *a = arg;
	struct store_chat sc;
	int stop;

	if (n < 6)
		return 1;
	memset(&sc, 0, sizeof(sc));
	if (chat_init(&sc.chat, strtoll(cols[0], NULL, 10)) != 0) {
		a->rc = store_fail(a->e, STORE_TRANSIENT, "out of memory");
		return 1;
	}
	sc.chat.member = cols[5] ? strtoll(cols[5], NULL, 10) : 0;
	snprintf(sc.chat.node, sizeof(sc.chat.node), "%s", cols[1] ? cols[1] : "");
	sc.chat.finished = cols[2] && (cols[2][0] == '1' || cols[2][0] == 't');
	a->rc = store_load_context(a->s, &sc, cols[3], a->e);
	stop = a->rc != STORE_OK || a->fn(a->arg, &sc, cols[4] ? strtoll(cols[4], NULL, 10) : 0);
	chat_free(&sc.chat);
	return stop;
}

int store_chats_each(struct store *s, const char *bot,
	int (*fn)(void *arg, const struct store_chat *sc, long long updated_at),
	void *arg, struct store_err *e)
{
	const struct store_admin_sql *sql = admin_sql(s, e);
	struct admin_each a = { s, fn, arg, e, STORE_OK };
	const char *p[1] = { bot };
	int rc;

	if (sql == NULL)
		return e->code;
	rc = admin_query(s, sql->chats, p, 1, admin_chat, &a, NULL, e);
	return rc ? rc : a.rc;
}
