/* store.c - what every backend shares: opening a store by URI, the
 * update's transaction in the fewest round trips a backend offers, the
 * transcript's lines, sealing, the key check and migrations. The
 * backends are store_sqlite.c, store_pg.c and store_memory.c. */
#include "engine/store.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine/sql.h"

#define STORE_KEYCHECK "blueflow key check"

int store_fail(struct store_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int store_open(const char *uri, struct store **out, struct store_err *e)
{
	*out = NULL;
	if (strncmp(uri, "sqlite:", 7) == 0)
		return store_sqlite_open(uri + 7, out, e);
	if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0)
		return store_pg_open(uri, out, e);
	if (strcmp(uri, "memory:") == 0)
		return store_memory_open(out, e);
	return store_fail(e, STORE_PERMANENT, "unknown store \"%.40s\": use "
		"sqlite:PATH or postgresql://...", uri);
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_start(struct store *s, const char *bot, long long update_id,
	struct store_chat *sc, int *repeat, struct buf *reply, struct store_err *e)
{
	int rc;

	if (s->ops->start)
		return s->ops->start(s, bot, update_id, sc, repeat, reply, e);
	*repeat = 0;
	rc = s->ops->begin(s, e);
	if (rc == STORE_OK)
		rc = s->ops->claim(s, bot, update_id, repeat, reply, e);
	if (rc == STORE_OK && !*repeat)
		rc = s->ops->lock_chat(s, bot, sc, e);
	return rc;
}

int store_finish(struct store *s, const struct store_save *sv, struct store_err *e)
{
	int rc;

	if (s->ops->finish)
		return s->ops->finish(s, sv, e);
	rc = s->ops->save(s, sv, e);
	if (rc == STORE_OK && sv->timers)
		rc = s->ops->timers_set(s, sv->bot, sv->sc->chat.chat_id,
			sv->sc->chat.member, sv->timers, e);
	if (rc == STORE_OK)
		rc = s->ops->commit(s, e);
	return rc;
}

int store_start_timer(struct store *s, const char *bot, const struct timer *t,
	struct store_chat *sc, int *repeat, struct buf *reply, int *found,
	struct store_err *e)
{
	int rc;

	*found = 0;
	if (s->ops->start_timer)
		return s->ops->start_timer(s, bot, t, sc, repeat, reply, found, e);
	rc = store_start(s, bot, -t->id, sc, repeat, reply, e);
	if (rc == STORE_OK && !*repeat)
		rc = s->ops->timer_claim(s, t->id, found, e);
	return rc;
}

void store_rollback(struct store *s)
{
	s->ops->rollback(s);
}

/* Appends text to b as a JSON string. */
static int store_json_string(struct buf *b, const char *text)
{
	int rc = buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)text; rc == 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = buf_addc(b, '\\') || buf_addc(b, (char)*p);
		else if (*p < 0x20)
			rc = buf_addf(b, "\\u%04x", *p);
		else
			rc = buf_addc(b, (char)*p);
	}
	return rc || buf_addc(b, '"');
}

int store_queued(const struct store_save *sv, unsigned i)
{
	return sv->inline_call != i + 1 && !(sv->refused_from && i + 1 >= sv->refused_from &&
		sv->out->calls[i].chat_id == 0);
}

int store_transcript(struct store *s, const struct store_save *sv,
	const char **said, const char **told, struct store_err *e)
{
	const struct step_out *o = sv->out;
	const char *text;
	int rc, n = 0;

	*said = *told = NULL;
	if (!s->transcript || sv->quiet)
		return STORE_OK;
	rc = store_seal(s, sv->said, &text, e);
	if (rc)
		return rc;
	buf_reset(&s->said);
	buf_reset(&s->told);
	if (buf_adds(&s->said, text) || buf_addc(&s->told, '['))
		return store_fail(e, STORE_PERMANENT, "the transcript is too large");
	for (unsigned i = 0; i < o->n_calls; i++) {
		json_object *t;
		if (strcmp(o->calls[i].method, "sendMessage") != 0 ||
		    !json_object_object_get_ex(o->calls[i].params, "text", &t))
			continue;
		rc = store_seal(s, json_object_get_string(t), &text, e);
		if (rc)
			return rc;
		if ((n++ && buf_addc(&s->told, ',')) || store_json_string(&s->told, text))
			return store_fail(e, STORE_PERMANENT, "the transcript is too large");
	}
	if (buf_addc(&s->told, ']'))
		return store_fail(e, STORE_PERMANENT, "the transcript is too large");
	*said = s->said.p;
	*told = s->told.p;
	return STORE_OK;
}

/* text re-sealed: opened with old when sealed, sealed with the store's
 * key; *out as store_seal's. */
static int store_reseal_text(struct store *s, const struct crypto_key *old,
	const char *text, const char **out, struct store_err *e)
{
	char err[200];

	if (crypto_is_sealed(text)) {
		buf_reset(&s->open);
		if (old == NULL || crypto_open(old, text, &s->open, err, sizeof(err)) != 0)
			return store_fail(e, STORE_PERMANENT, "%s", old ? err :
				"a value is sealed but no old key was given");
		text = s->open.p;
	}
	return store_seal(s, text, out, e);
}

int store_reseal_value(struct store *s, const struct crypto_key *old,
	const char *text, int list, const char **out, struct store_err *e)
{
	json_object *a;
	const char *one;
	int rc = STORE_OK;

	if (!list) {
		rc = store_reseal_text(s, old, text, &one, e);
		buf_reset(&s->value);
		if (rc == STORE_OK && buf_adds(&s->value, one))
			rc = store_fail(e, STORE_PERMANENT, "a value is too large");
		*out = s->value.p;
		return rc;
	}
	a = json_tokener_parse(text);
	if (a == NULL || json_object_get_type(a) != json_type_array) {
		json_object_put(a);
		return store_fail(e, STORE_PERMANENT, "a transcript row is not a JSON array");
	}
	buf_reset(&s->value);
	buf_addc(&s->value, '[');
	for (size_t i = 0; rc == STORE_OK && i < json_object_array_length(a); i++) {
		rc = store_reseal_text(s, old, json_object_get_string(
			json_object_array_get_idx(a, i)), &one, e);
		if (rc == STORE_OK && ((i && buf_addc(&s->value, ',')) ||
		    store_json_string(&s->value, one)))
			rc = store_fail(e, STORE_PERMANENT, "a value is too large");
	}
	json_object_put(a);
	if (rc == STORE_OK && buf_addc(&s->value, ']'))
		rc = store_fail(e, STORE_PERMANENT, "a value is too large");
	*out = s->value.p;
	return rc;
}

void store_base_init(struct store *s, const struct store_ops *ops)
{
	s->ops = ops;
	s->transcript = 1;
	s->lock_timeout_ms = STORE_LOCK_TIMEOUT_MS;
	s->key = NULL;
	buf_init(&s->seal, 1u << 20);
	buf_init(&s->open, 1u << 20);
	buf_init(&s->said, 1u << 20);
	buf_init(&s->told, 8u << 20);
	buf_init(&s->value, 8u << 20);
	s->tok = NULL;
}

void store_base_free(struct store *s)
{
	buf_free(&s->seal);
	buf_free(&s->open);
	buf_free(&s->said);
	buf_free(&s->told);
	buf_free(&s->value);
	if (s->tok)
		json_tokener_free(s->tok);
	s->tok = NULL;
}

void store_set_lock_timeout(struct store *s, int ms)
{
	s->lock_timeout_ms = ms;
	if (s->ops->set_lock_timeout)
		s->ops->set_lock_timeout(s, ms);
}

/* The highest version of files. */
static int store_known_version(const struct sql_file *files)
{
	int known = 0;
	for (const struct sql_file *f = files; f->name; f++)
		if (f->version > known)
			known = f->version;
	return known;
}

int store_seal(struct store *s, const char *text, const char **out, struct store_err *e)
{
	*out = text;
	if (s->key == NULL)
		return STORE_OK;
	buf_reset(&s->seal);
	if (crypto_seal(s->key, text, strlen(text), &s->seal) != 0)
		return store_fail(e, STORE_PERMANENT, "cannot seal a value (too large?)");
	*out = s->seal.p;
	return STORE_OK;
}

int store_seal_context(struct store *s, const struct chat *c, const char **out,
	struct store_err *e)
{
	return store_seal(s, json_object_to_json_string_ext(c->ctx,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), out, e);
}

int store_load_context(struct store *s, struct store_chat *sc, const char *text,
	struct store_err *e)
{
	char err[200];
	json_object *ctx;

	if (text && crypto_is_sealed(text)) {
		if (s->key == NULL)
			return store_fail(e, STORE_PERMANENT, "chat %lld's context is "
				"sealed, but no encryption key is set", sc->chat.chat_id);
		buf_reset(&s->open);
		if (crypto_open(s->key, text, &s->open, err, sizeof(err)) != 0)
			return store_fail(e, STORE_PERMANENT, "chat %lld: %s",
				sc->chat.chat_id, err);
		text = s->open.p;
	}
	/* as json_tokener_parse(), without a tokener made for every update */
	if (s->tok == NULL)
		s->tok = json_tokener_new();
	if (s->tok) {
		json_tokener_reset(s->tok);
		ctx = json_tokener_parse_ex(s->tok, text ? text : "{}", -1);
		if (json_tokener_get_error(s->tok) != json_tokener_success) {
			json_object_put(ctx);
			ctx = NULL;
		}
	} else {
		ctx = json_tokener_parse(text ? text : "{}");
	}
	if (ctx == NULL || json_object_get_type(ctx) != json_type_object) {
		json_object_put(ctx);
		ctx = json_object_new_object();   /* a broken context is reset */
		if (ctx == NULL)
			return store_fail(e, STORE_TRANSIENT, "out of memory");
	}
	json_object_put(sc->chat.ctx);
	sc->chat.ctx = ctx;
	return STORE_OK;
}

int store_use_key(struct store *s, const struct crypto_key *key, struct store_err *e)
{
	struct buf check, plain;
	char err[200];
	int found = 0, rc;

	buf_init(&check, 4096);
	buf_init(&plain, 4096);
	snprintf(err, sizeof(err), "its key check says otherwise");
	rc = s->ops->meta_get(s, "keycheck", &check, &found, e);
	if (rc)
		goto out;
	found = found && check.len > 0;   /* "" after a rekey to plaintext */
	if (key == NULL) {
		if (found)
			rc = store_fail(e, STORE_PERMANENT, "the database holds sealed "
				"data: set encryption_key_env to the variable holding its key");
		goto out;
	}
	if (!found) {
		rc = crypto_seal(key, STORE_KEYCHECK, strlen(STORE_KEYCHECK), &check) ?
			store_fail(e, STORE_PERMANENT, "cannot seal the key check") :
			s->ops->meta_set(s, "keycheck", check.p, e);
		if (rc)
			goto out;
	} else if (crypto_open(key, check.p, &plain, err, sizeof(err)) != 0 ||
		   strcmp(plain.p, STORE_KEYCHECK) != 0) {
		rc = store_fail(e, STORE_PERMANENT, "the encryption key is not the "
			"one this database was sealed with (%s)", err);
		goto out;
	}
	s->key = key;
out:
	buf_free(&check);
	buf_free(&plain);
	return rc;
}

static int store_newer(int version, int known, struct store_err *e)
{
	if (version <= known)
		return STORE_OK;
	return store_fail(e, STORE_PERMANENT, "the database's schema is version %d, "
		"newer than this blueflow knows (%d): upgrade blueflow, do not run an "
		"older one on it", version, known);
}

int store_migrate_files(const struct sql_file *files, const struct store_sql *q,
	int target, int *applied, struct store_err *e)
{
	static const char max_sql[] = "SELECT coalesce(max(version), 0) FROM schema_version";
	int version = 0, known = store_known_version(files), rc = STORE_OK, have = 0;
	char sql[256];

	*applied = 0;
	for (const struct sql_file *f = files; rc == STORE_OK && f->name; f++) {
		rc = q->exec(q->arg, q->begin, e);
		if (rc)
			break;
		rc = q->number(q->arg, max_sql, &version, e);
		if (rc == STORE_OK)
			rc = store_newer(version, known, e);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM schema_version "
			"WHERE version = %d", f->version);
		if (rc == STORE_OK)
			rc = q->number(q->arg, sql, &have, e);
		if (rc == STORE_OK && !have &&
		    (target == 0 || f->version <= target)) {
			rc = q->exec(q->arg, f->text, e);
			snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, name) "
				"VALUES (%d, '%s')", f->version, f->name);
			if (rc == STORE_OK)
				rc = q->exec(q->arg, sql, e);
			if (rc == STORE_OK)
				(*applied)++;
		}
		if (rc == STORE_OK) {
			rc = q->exec(q->arg, "COMMIT", e);
		} else {
			struct store_err ignored;
			q->exec(q->arg, "ROLLBACK", &ignored);
		}
	}
	if (rc == STORE_OK)
		rc = q->number(q->arg, max_sql, &version, e);
	if (rc == STORE_OK)
		rc = store_newer(version, known, e);
	return rc;
}
