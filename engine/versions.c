/* versions.c - the flow versions kept by hash and a process's cache of
 * them (versions.h): plain parameterized statements through the
 * backend's query op; times are unix seconds in both backends, so one
 * text serves both. */
#include "engine/versions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int versions_query(struct store *s, const char *sql, const char *const *p,
	int n, store_row_fn fn, void *arg, long long *changes, struct store_err *e)
{
	if (s->ops->query == NULL)
		return store_fail(e, STORE_PERMANENT, "the %s store keeps no flow "
			"versions; use sqlite: or postgresql://", s->ops->name);
	return s->ops->query(s, sql, p, n, fn, arg, changes, e);
}

void versions_init(struct versions *v)
{
	memset(v, 0, sizeof(*v));
}

void versions_free(struct versions *v)
{
	for (int i = 0; i < VERSIONS_CACHE; i++)
		flow_free(v->slots[i].flow);
	versions_init(v);
}

/* The first column of the one row wanted, into a 65-byte hash. */
static int versions_hash_row(void *arg, int n, const char *const *c)
{
	if (n > 0 && c[0])
		snprintf(arg, 65, "%s", c[0]);
	return 0;
}

int versions_deploy(struct store *s, const char *bot, const struct flow *f,
	char served[65], struct store_err *e)
{
	char at[24];
	const char *p[4] = { bot, f->hash_hex, f->canon, at };
	int rc;

	snprintf(served, 65, "%s", f->hash_hex);
	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(at, sizeof(at), "%lld", (long long)time(NULL));
	rc = versions_query(s, "INSERT INTO flow_versions (bot, hash, body, "
		"created_at, served) SELECT $1, $2, $3, CAST($4 AS bigint), "
		"coalesce(max(served), 0) + 1 FROM flow_versions WHERE bot = $1 "
		"ON CONFLICT (bot, hash) DO NOTHING", p, 4, NULL, NULL, NULL, e);
	if (rc == STORE_OK)
		rc = versions_query(s, "SELECT hash FROM flow_versions WHERE bot = $1 "
			"ORDER BY served DESC LIMIT 1", p, 1, versions_hash_row, served,
			NULL, e);
	return rc;
}

struct versions_body {
	char *text;                /* malloc'd */
	int oom;
};

static int versions_body_row(void *arg, int n, const char *const *c)
{
	struct versions_body *b = arg;
	if (n > 0 && c[0] && b->text == NULL) {
		b->text = strdup(c[0]);
		b->oom = b->text == NULL;
	}
	return 0;
}

int versions_load(struct store *s, const char *bot, const char *hash,
	const char *name, struct flow **out, struct store_err *e)
{
	struct versions_body b = { NULL, 0 };
	const char *p[2] = { bot, hash };
	struct diag d;
	int rc;

	*out = NULL;
	rc = versions_query(s, "SELECT body FROM flow_versions WHERE bot = $1 AND "
		"hash = $2", p, 2, versions_body_row, &b, NULL, e);
	if (rc == STORE_OK && b.oom)
		rc = store_fail(e, STORE_TRANSIENT, "out of memory");
	if (rc == STORE_OK && b.text) {
		diag_init(&d);
		if (flow_load_mem(name, b.text, strlen(b.text), out, &d) == 0 &&
		    strcmp((*out)->hash_hex, hash) != 0) {
			flow_free(*out);   /* not what was kept: never run it */
			*out = NULL;
		}
		diag_free(&d);
	}
	free(b.text);
	return rc;
}

/* The cached flow of bot's version hash, or NULL. */
static struct versions_slot *versions_find(struct versions *v, const char *bot,
	const char *hash)
{
	for (int i = 0; i < VERSIONS_CACHE; i++)
		if (v->slots[i].flow && strcmp(v->slots[i].hash, hash) == 0 &&
		    strcmp(v->slots[i].bot, bot) == 0)
			return &v->slots[i];
	return NULL;
}

/* An empty slot, or the least recently used one emptied. */
static struct versions_slot *versions_victim(struct versions *v)
{
	struct versions_slot *old = &v->slots[0];
	for (int i = 0; i < VERSIONS_CACHE; i++) {
		if (v->slots[i].flow == NULL)
			return &v->slots[i];
		if (v->slots[i].used < old->used)
			old = &v->slots[i];
	}
	flow_free(old->flow);
	old->flow = NULL;
	return old;
}

int versions_pick(struct versions *v, struct store *s, const char *bot,
	const struct flow *current, const struct store_chat *sc,
	const struct flow **out, struct store_err *e)
{
	struct versions_slot *slot;
	struct flow *f = NULL;
	int rc;

	*out = current;
	if (v == NULL || s->ops->query == NULL || sc->flow_hash[0] == '\0' ||
	    sc->chat.finished || strcmp(sc->flow_hash, current->hash_hex) == 0)
		return STORE_OK;
	slot = versions_find(v, bot, sc->flow_hash);
	if (slot == NULL) {
		rc = versions_load(s, bot, sc->flow_hash, current->file, &f, e);
		if (rc || f == NULL)
			return rc;   /* not kept: the chat goes on on current */
		slot = versions_victim(v);
		snprintf(slot->bot, sizeof(slot->bot), "%s", bot);
		snprintf(slot->hash, sizeof(slot->hash), "%s", sc->flow_hash);
		slot->flow = f;
	}
	slot->used = ++v->clock;
	*out = slot->flow;
	return STORE_OK;
}

struct versions_match {
	char hash[65];
	int n;
};

static int versions_match_row(void *arg, int n, const char *const *c)
{
	struct versions_match *m = arg;
	if (n > 0 && c[0] && m->n++ == 0)
		snprintf(m->hash, sizeof(m->hash), "%s", c[0]);
	return 0;
}

int versions_rollback(struct store *s, const char *bot, const char *hash,
	int *found, char hash_out[65], struct store_err *e)
{
	struct versions_match m = { "", 0 };
	char like[72];
	const char *p[2] = { bot, like };
	size_t len = strlen(hash);
	int rc;

	*found = 0;
	hash_out[0] = '\0';
	if (len < 6 || len > 64 || strspn(hash, "0123456789abcdef") != len)
		return store_fail(e, STORE_PERMANENT, "\"%.80s\" is no version: give "
			"its hash as `flow versions` prints it (6 to 64 of 0-9, a-f)", hash);
	snprintf(like, sizeof(like), "%s%%", hash);
	rc = versions_query(s, "SELECT hash FROM flow_versions WHERE bot = $1 AND "
		"hash LIKE $2 ORDER BY hash", p, 2, versions_match_row, &m, NULL, e);
	if (rc || m.n == 0)
		return rc;
	if (m.n > 1)
		return store_fail(e, STORE_PERMANENT, "%s names %d versions; give "
			"more of the hash", hash, m.n);
	p[1] = m.hash;
	rc = versions_query(s, "UPDATE flow_versions SET served = (SELECT "
		"max(served) + 1 FROM flow_versions WHERE bot = $1) WHERE bot = $1 "
		"AND hash = $2", p, 2, NULL, NULL, NULL, e);
	if (rc == STORE_OK) {
		*found = 1;
		snprintf(hash_out, 65, "%s", m.hash);
	}
	return rc;
}

int versions_list(struct store *s, const char *bot, store_row_fn fn, void *arg,
	struct store_err *e)
{
	const char *p[1] = { bot };
	return versions_query(s, "SELECT v.hash, v.created_at, CASE WHEN v.served = "
		"(SELECT max(w.served) FROM flow_versions w WHERE w.bot = v.bot) THEN 1 "
		"ELSE 0 END, (SELECT count(*) FROM chats c WHERE c.bot = v.bot AND "
		"c.flow_hash = v.hash AND NOT c.finished), (SELECT count(*) FROM chats c "
		"WHERE c.bot = v.bot AND c.flow_hash = v.hash AND c.finished) FROM "
		"flow_versions v WHERE v.bot = $1 ORDER BY v.served DESC", p, 1, fn,
		arg, NULL, e);
}

int versions_prune(struct store *s, long long *n, struct store_err *e)
{
	char keep[16];
	const char *p[1] = { keep };

	*n = 0;
	if (s->ops->query == NULL)
		return STORE_OK;
	snprintf(keep, sizeof(keep), "%d", VERSIONS_KEEP);
	return versions_query(s, "DELETE FROM flow_versions WHERE (SELECT count(*) "
		"FROM flow_versions w WHERE w.bot = flow_versions.bot AND w.served > "
		"flow_versions.served) >= CAST($1 AS bigint) AND NOT EXISTS (SELECT 1 "
		"FROM chats c WHERE c.bot = flow_versions.bot AND c.flow_hash = "
		"flow_versions.hash AND NOT c.finished)", p, 1, NULL, NULL, n, e);
}
