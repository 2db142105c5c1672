/* store_timer.c - the timers table through the SQL backends' query op:
 * what SQLite and PostgreSQL agree on is written here, what differs
 * (taking due timers, setting a chat's in one statement) comes from the
 * backend's store_admin_sql. */
#include "engine/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jdoc.h"


static int tm_query(struct store *s, const char *sql, const char *const *params,
	int n, store_row_fn fn, void *arg, long long *changes, struct store_err *e)
{
	if (s->ops->query == NULL || s->ops->admin == NULL)
		return store_fail(e, STORE_PERMANENT, "the %s store keeps no timers "
			"table; use sqlite: or postgresql://", s->ops->name);
	return s->ops->query(s, sql, params, n, fn, arg, changes, e);
}

int store_timer_plan_json(const struct timer_plan *p, struct buf *kinds,
	struct buf *arms)
{
	int rc = buf_addc(kinds, '[') || buf_addc(arms, '[');
	for (int k = 0; k < TIMER_KINDS; k++)
		if (p->cancel & (1u << k))
			rc = rc || buf_addf(kinds, "%s\"%s\"", kinds->len > 1 ? "," : "",
				timer_kind_name(k));
	for (unsigned i = 0; i < p->n_arms; i++) {
		const struct timer *t = &p->arms[i];
		rc = rc || buf_addf(arms, "%s{\"kind\":\"%s\",\"node\":", i ? "," : "",
			timer_kind_name(t->kind));
		rc = rc || jdoc_quote(arms, t->node, strlen(t->node));
		rc = rc || buf_addf(arms, ",\"visit\":%lld,\"n\":%d,\"due_ms\":%lld}",
			t->visit, t->n, t->due_ms);
	}
	return rc || buf_addc(kinds, ']') || buf_addc(arms, ']');
}

int store_sql_timers_set(struct store *s, const char *bot, long long chat_id,
	long long member, const struct timer_plan *p, struct store_err *e)
{
	struct buf kinds, arms;
	char chat[24], mem[24];
	const char *params[5] = { bot, chat, NULL, NULL, mem };
	int rc = STORE_OK;

	if (p->cancel == 0 && p->n_arms == 0)
		return STORE_OK;
	buf_init(&kinds, STORE_TIMERS_JSON_MAX);
	buf_init(&arms, STORE_TIMERS_JSON_MAX);
	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(mem, sizeof(mem), "%lld", member);
	if (store_timer_plan_json(p, &kinds, &arms) != 0)
		rc = store_fail(e, STORE_PERMANENT, "the chat's timers are too large");
	params[2] = kinds.p;
	params[3] = arms.p;
	for (int i = 0; rc == STORE_OK && i < 2 && s->ops->admin->timers_set[i]; i++)
		rc = tm_query(s, s->ops->admin->timers_set[i], params, 5, NULL, NULL, NULL, e);
	buf_free(&kinds);
	buf_free(&arms);
	return rc;
}

struct tm_rows {
	struct timer *rows;
	int max, n;
};

/* One row of take: id, bot, chat_id, kind, node, visit, n, due_ms,
 * member. */
static int tm_row(void *arg, int n, const char *const *cols)
{
	struct tm_rows *r = arg;
	struct timer *t;

	if (n < 9 || r->n >= r->max)
		return 0;
	t = &r->rows[r->n++];
	memset(t, 0, sizeof(*t));
	t->id = strtoll(cols[0] ? cols[0] : "0", NULL, 10);
	snprintf(t->bot, sizeof(t->bot), "%s", cols[1] ? cols[1] : "");
	t->chat_id = strtoll(cols[2] ? cols[2] : "0", NULL, 10);
	t->kind = timer_kind_parse(cols[3] ? cols[3] : "");
	snprintf(t->node, sizeof(t->node), "%s", cols[4] ? cols[4] : "");
	t->visit = strtoll(cols[5] ? cols[5] : "0", NULL, 10);
	t->n = (int)strtol(cols[6] ? cols[6] : "1", NULL, 10);
	t->due_ms = strtoll(cols[7] ? cols[7] : "0", NULL, 10);
	t->member = strtoll(cols[8] ? cols[8] : "0", NULL, 10);
	return 0;
}

static int tm_by_due(const void *a, const void *b)
{
	const struct timer *x = a, *y = b;
	if (x->due_ms != y->due_ms)
		return x->due_ms < y->due_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int store_sql_timers_take(struct store *s, const char *owner, long long now_ms,
	int max, int lease_ms, enum store_take which, struct timer *rows, int *n,
	struct store_err *e)
{
	static const char *const kinds[] = { "all", "http", "others" };
	struct tm_rows r = { rows, max, 0 };
	char now[24], until[24], m[16];
	const char *params[5] = { now, until, owner, m, kinds[which] };
	int rc;

	snprintf(now, sizeof(now), "%lld", now_ms);
	snprintf(until, sizeof(until), "%lld", now_ms + lease_ms);
	snprintf(m, sizeof(m), "%d", max);
	rc = tm_query(s, s->ops->admin->timers_take, params, 5, tm_row, &r, NULL, e);
	*n = rc == STORE_OK ? r.n : 0;
	if (*n > 1)
		qsort(rows, (size_t)*n, sizeof(*rows), tm_by_due);
	return rc;
}

int store_sql_timer_claim(struct store *s, long long id, int *found, struct store_err *e)
{
	char idt[24];
	const char *params[1] = { idt };
	long long changes = 0;
	int rc;

	snprintf(idt, sizeof(idt), "%lld", id);
	rc = tm_query(s, "DELETE FROM timers WHERE id = $1", params, 1, NULL, NULL,
		&changes, e);
	*found = changes > 0;
	return rc;
}

static int tm_first(void *arg, int n, const char *const *cols)
{
	long long *v = arg;
	if (n > 0 && cols[0]) {
		v[0] = strtoll(cols[0], NULL, 10);
		v[1] = 1;
	}
	return 1;
}

int store_sql_timers_next(struct store *s, long long now_ms, long long *due_ms,
	int *any, struct store_err *e)
{
	char now[24];
	const char *params[1] = { now };
	long long v[2] = { 0, 0 };
	int rc;

	snprintf(now, sizeof(now), "%lld", now_ms);
	rc = tm_query(s, "SELECT due_ms FROM timers WHERE lease_until_ms < $1 "
		"ORDER BY due_ms LIMIT 1", params, 1, tm_first, v, NULL, e);
	*due_ms = v[0];
	*any = (int)v[1];
	return rc;
}

int store_timers_list(struct store *s, const char *bot, long long chat_id,
	int limit, store_row_fn fn, void *arg, struct store_err *e)
{
	char chat[24], lim[16];
	const char *params[3] = { bot, chat, lim };

	snprintf(chat, sizeof(chat), "%lld", chat_id);
	snprintf(lim, sizeof(lim), "%d", limit);
	return tm_query(s, "SELECT id, chat_id, kind, node, n, due_ms, visit, member FROM "
		"timers WHERE bot = $1 AND (CAST($2 AS bigint) = 0 OR chat_id = "
		"CAST($2 AS bigint)) ORDER BY due_ms, id LIMIT CAST($3 AS integer)", params, 3, fn, arg, NULL, e);
}

int store_timers_count(struct store *s, long long *n, struct store_err *e)
{
	long long v[2] = { 0, 0 };
	int rc = tm_query(s, "SELECT count(*) FROM timers", NULL, 0, tm_first, v,
		NULL, e);
	*n = v[0];
	return rc;
}

struct tm_nodes {
	const struct flow *f;
	char (*gone)[FLOW_ID_MAX + 1];
	int n, max;
};

static int tm_node(void *arg, int n, const char *const *cols)
{
	struct tm_nodes *g = arg;
	if (n < 1 || cols[0] == NULL || flow_find(g->f, cols[0]) >= 0 || g->n >= g->max)
		return 0;
	snprintf(g->gone[g->n++], FLOW_ID_MAX + 1, "%s", cols[0]);
	return 0;
}

int store_timers_sweep(struct store *s, const char *bot, const struct flow *f,
	long long *n, struct store_err *e)
{
	char gone[64][FLOW_ID_MAX + 1];
	struct tm_nodes g = { f, gone, 0, 64 };
	const char *params[2] = { bot, NULL };
	long long changes;
	int rc;

	*n = 0;
	rc = tm_query(s, "SELECT DISTINCT node FROM timers WHERE bot = $1 AND "
		"kind <> 'inactive'", params, 1, tm_node, &g, NULL, e);
	for (int i = 0; rc == STORE_OK && i < g.n; i++) {
		params[1] = gone[i];
		changes = 0;
		rc = tm_query(s, "DELETE FROM timers WHERE bot = $1 AND node = $2 AND "
			"kind <> 'inactive'", params, 2, NULL, NULL, &changes, e);
		*n += changes;
	}
	return rc;
}

struct tm_status {
	const struct flow *f;
	long long *counts;
};

/* node, finished, inactive armed, count */
static int tm_status_row(void *arg, int n, const char *const *cols)
{
	struct tm_status *st = arg;
	int finished, armed;
	if (n < 4)
		return 0;
	finished = cols[1] && (cols[1][0] == 't' || cols[1][0] == '1');
	armed = cols[2] && (cols[2][0] == 't' || cols[2][0] == '1');
	st->counts[timer_status(st->f, cols[0] ? cols[0] : "", finished, armed)] +=
		strtoll(cols[3] ? cols[3] : "0", NULL, 10);
	return 0;
}

/* Whether a flow's chats can be inactive (timer_status). */
static int tm_nudges(const struct flow *f)
{
	return f->inactive_after > 0 && f->on_inactive >= 0;
}

int store_chat_statuses(struct store *s, const char *bot, const struct flow *f,
	long long counts[], struct store_err *e)
{
	struct tm_status st = { f, counts };
	const char *params[1] = { bot };

	for (int i = 0; i < TIMER_CHAT_COUNT; i++)
		counts[i] = 0;
	/* one pass over the chats; the timers looked at only when they
	 * matter, then joined once rather than probed per chat */
	if (!tm_nudges(f))
		return tm_query(s, "SELECT node, finished, false, count(*) FROM chats "
			"WHERE bot = $1 GROUP BY 1, 2", params, 1, tm_status_row, &st, NULL, e);
	return tm_query(s, "SELECT c.node, c.finished, t.chat_id IS NOT NULL, count(*) "
		"FROM chats c LEFT JOIN (SELECT DISTINCT chat_id FROM timers WHERE bot = $1 "
		"AND kind = 'inactive') t ON t.chat_id = c.chat_id WHERE c.bot = $1 "
		"GROUP BY 1, 2, 3", params, 1, tm_status_row, &st, NULL, e);
}

struct tm_ids {
	long long *ids;
	size_t n, cap;
	int oom;
};

static int tm_id(void *arg, int n, const char *const *cols)
{
	struct tm_ids *l = arg;
	if (n < 1 || cols[0] == NULL)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		long long *grown = realloc(l->ids, cap * sizeof(*grown));
		if (grown == NULL) {
			l->oom = 1;
			return 1;
		}
		l->ids = grown;
		l->cap = cap;
	}
	l->ids[l->n++] = strtoll(cols[0], NULL, 10);
	return 0;
}

int store_timers_inactive(struct store *s, const char *bot, long long **ids,
	size_t *n, struct store_err *e)
{
	struct tm_ids l = { NULL, 0, 0, 0 };
	const char *params[1] = { bot };
	int rc = tm_query(s, "SELECT DISTINCT chat_id FROM timers WHERE bot = $1 AND "
		"kind = 'inactive' ORDER BY chat_id", params, 1, tm_id, &l, NULL, e);

	if (rc == STORE_OK && l.oom)
		rc = store_fail(e, STORE_TRANSIENT, "out of memory");
	if (rc != STORE_OK) {
		free(l.ids);
		l.ids = NULL;
		l.n = 0;
	}
	*ids = l.ids;
	*n = l.n;
	return rc;
}
