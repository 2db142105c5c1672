/* transcript.c - the transcript read back and pruned (transcript.h),
 * through the backend's query op; a time column's SQL comes from the
 * backend (struct store_admin_sql's secs and time_of). */
#include "engine/transcript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/crypto.h"

/* The backend's statements, or NULL (e says why). */
static const struct store_admin_sql *transcript_sql(struct store *s, struct store_err *e)
{
	if (s->ops->query && s->ops->admin)
		return s->ops->admin;
	store_fail(e, STORE_PERMANENT, "the %s store keeps no transcript; use "
		"sqlite: or postgresql://", s->ops->name);
	return NULL;
}

struct transcript_walk {
	struct store *s;
	int (*fn)(void *arg, const struct transcript_row *r);
	void *arg;
	struct store_err *e;
	int rc;
};

/* text opened into out when sealed; the pointer to use, or NULL (w->rc set). */
static const char *transcript_open(struct transcript_walk *w, const char *text,
	struct buf *out)
{
	char err[200];
	if (text == NULL || !crypto_is_sealed(text))
		return text ? text : "";
	if (w->s->key == NULL) {
		w->rc = store_fail(w->e, STORE_PERMANENT, "the transcript is sealed, "
			"but no encryption key is set");
		return NULL;
	}
	buf_reset(out);
	if (crypto_open(w->s->key, text, out, err, sizeof(err)) != 0) {
		w->rc = store_fail(w->e, STORE_PERMANENT, "the transcript: %s", err);
		return NULL;
	}
	return out->p ? out->p : "";
}

/* Columns: update_id, at, said, told, node_from, node_to, outcome,
 * member. */
static int transcript_row(void *arg, int n, const char *const *c)
{
	struct transcript_walk *w = arg;
	struct transcript_row r;
	json_object *stored, *told;
	struct buf one;
	int stop = 1;

	if (n < 8)
		return 1;
	r.update_id = strtoll(c[0], NULL, 10);
	r.at = c[1] ? strtoll(c[1], NULL, 10) : 0;
	r.node_from = c[4] ? c[4] : "";
	r.node_to = c[5] ? c[5] : "";
	r.outcome = c[6] ? c[6] : "";
	r.member = c[7] ? strtoll(c[7], NULL, 10) : 0;
	r.said = transcript_open(w, c[2], &w->s->open);
	stored = json_tokener_parse(c[3] ? c[3] : "[]");
	told = json_object_new_array();
	buf_init(&one, 1u << 20);
	for (size_t i = 0; r.said && told && i < json_object_array_length(stored); i++) {
		const char *t = transcript_open(w, json_object_get_string(
			json_object_array_get_idx(stored, i)), &one);
		if (t == NULL)
			break;
		json_object_array_add(told, json_object_new_string(t));
	}
	if (told == NULL && w->rc == STORE_OK)
		w->rc = store_fail(w->e, STORE_TRANSIENT, "out of memory");
	r.told = told;
	if (w->rc == STORE_OK)
		stop = w->fn(w->arg, &r);
	buf_free(&one);
	json_object_put(told);
	json_object_put(stored);
	return stop;
}

int transcript_each(struct store *s, const char *bot, long long chat_id,
	int (*fn)(void *arg, const struct transcript_row *r), void *arg,
	struct store_err *e)
{
	const struct store_admin_sql *q = transcript_sql(s, e);
	struct transcript_walk w = { s, fn, arg, e, STORE_OK };
	char chat[24], at[96], sql[512];
	const char *p[2] = { bot, chat };
	int rc;

	if (q == NULL)
		return e->code;
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(at, sizeof(at), q->secs, "at");
	snprintf(sql, sizeof(sql), "SELECT update_id, %s, said, told, node_from, node_to, "
		"outcome, member FROM transcript WHERE bot = $1 AND chat_id = CAST($2 AS bigint) "
		"ORDER BY id", at);
	rc = s->ops->query(s, sql, p, 2, transcript_row, &w, NULL, e);
	return rc ? rc : w.rc;
}

int transcript_steps(struct store *s, const char *bot, long long since,
	store_row_fn fn, void *arg, struct store_err *e)
{
	const struct store_admin_sql *q = transcript_sql(s, e);
	char from[24], cut[96], sql[512];
	const char *p[2] = { bot, from };

	if (q == NULL)
		return e->code;
	snprintf(from, sizeof(from), "%lld", since);
	snprintf(cut, sizeof(cut), q->time_of, "$2");
	snprintf(sql, sizeof(sql), "SELECT node_from, node_to, outcome, chat_id FROM "
		"transcript WHERE bot = $1 AND at >= %s ORDER BY id", cut);
	return s->ops->query(s, sql, p, 2, fn, arg, NULL, e);
}

/* Runs sql (its "%s" the backend's time of $1) with $1 the time days
 * ago and $2 limit. */
static int transcript_older(struct store *s, const char *sql, int days, int limit,
	store_row_fn fn, void *arg, long long *n, struct store_err *e)
{
	const struct store_admin_sql *q = transcript_sql(s, e);
	char cutoff[24], lim[16], cut[96], text[512];
	const char *p[2] = { cutoff, lim };

	if (q == NULL)
		return e->code;
	snprintf(cutoff, sizeof(cutoff), "%lld", (long long)time(NULL) - days * 86400LL);
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(cut, sizeof(cut), q->time_of, "$1");
	snprintf(text, sizeof(text), sql, cut);
	return s->ops->query(s, text, p, 2, fn, arg, n, e);
}

int transcript_prune(struct store *s, int days, int limit, long long *n,
	struct store_err *e)
{
	*n = 0;
	return transcript_older(s, "DELETE FROM transcript WHERE id IN (SELECT id FROM "
		"transcript WHERE at < %s LIMIT CAST($2 AS bigint))", days, limit, NULL,
		NULL, n, e);
}

int transcript_prune_chats(struct store *s, const char *bot, long keep, int limit,
	long long *n, struct store_err *e)
{
	const struct store_admin_sql *q = transcript_sql(s, e);
	char since[24], kept[24], lim[16], cut[96], sql[640];
	const char *p[4] = { bot, kept, lim, since };

	*n = 0;
	if (q == NULL)
		return e->code;
	snprintf(since, sizeof(since), "%lld", (long long)time(NULL) - 86400);
	snprintf(kept, sizeof(kept), "%ld", keep);
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(cut, sizeof(cut), q->time_of, "$4");
	snprintf(sql, sizeof(sql), "DELETE FROM transcript WHERE id IN (SELECT id FROM "
		"(SELECT id, row_number() OVER (PARTITION BY chat_id ORDER BY id DESC) AS r "
		"FROM transcript WHERE bot = $1 AND chat_id IN (SELECT chat_id FROM chats "
		"WHERE bot = $1 AND updated_at >= %s)) t WHERE r > CAST($2 AS bigint) "
		"LIMIT CAST($3 AS bigint))", cut);
	return s->ops->query(s, sql, p, 4, NULL, NULL, n, e);
}

int transcript_idle_chats(struct store *s, int days, int limit, store_row_fn fn,
	void *arg, struct store_err *e)
{
	return transcript_older(s, "SELECT bot, chat_id FROM chats WHERE updated_at < %s "
		"ORDER BY updated_at LIMIT CAST($2 AS bigint)", days, limit, fn, arg, NULL, e);
}
