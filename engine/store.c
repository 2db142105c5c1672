/* store.c - opening a store by URI and running one update in one
 * transaction (store_apply); the backends are store_sqlite.c,
 * store_pg.c and store_memory.c. */
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

void store_result_init(struct store_result *r)
{
	r->repeat = 0;
	r->node_to[0] = '\0';
	buf_init(&r->reply, STORE_REPLY_MAX);
	step_out_init(&r->out);
}

void store_result_free(struct store_result *r)
{
	buf_free(&r->reply);
	step_out_free(&r->out);
}

/* What the user sent, in words, for the transcript. */
static const char *store_said(const struct update *u, char *tmp, size_t len)
{
	if (u->kind == UPDATE_CALLBACK_QUERY) {
		snprintf(tmp, len, "[pressed %s]", u->callback_data ? u->callback_data : "");
		return tmp;
	}
	if (u->text)
		return u->text;
	if (u->voice.file_id)
		return "[voice]";
	if (u->document.file_id)
		return "[document]";
	if (u->photo.file_id)
		return "[photo]";
	if (u->shared_user_id)
		return "[shared a user]";
	return "[message]";
}

int store_apply(struct store *s, const struct store_job *job,
	struct store_result *r, struct store_err *e)
{
	const struct update *u = job->u;
	struct store_chat sc;
	struct store_save sv;
	char said[96];
	int rc;

	if (!engine_takes(u))
		return STORE_OK;   /* nothing of a chat's: the caller answers 200 */
	memset(&sc, 0, sizeof(sc));
	if (chat_init(&sc.chat, u->chat_id) != 0)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	if (s->ops->start) {
		rc = s->ops->start(s, job->bot, u->update_id, &sc, &r->repeat, &r->reply, e);
		if (rc || r->repeat)
			goto fail;
	} else {
		rc = s->ops->begin(s, e);
		if (rc)
			goto out;
		rc = s->ops->claim(s, job->bot, u->update_id, &r->repeat, &r->reply, e);
		if (rc || r->repeat)
			goto fail;
		rc = s->ops->lock_chat(s, job->bot, &sc, e);
		if (rc)
			goto fail;
	}
	if (engine_step(job->flow, &sc.chat, u, job->env, &r->out) != 0) {
		rc = store_fail(e, STORE_TRANSIENT, "out of memory in the step");
		goto fail;
	}
	memcpy(r->node_to, sc.chat.node, sizeof(r->node_to));
	memset(&sv, 0, sizeof(sv));
	if (r->out.outcome == ENGINE_FORGOTTEN) {
		rc = store_erase(s, job->bot, u->chat_id, e);
		if (rc)
			goto fail;
		sc.pending = 0;
		sv.quiet = 1;
	}
	if (job->inline_reply && r->out.n_calls == 1 && !sc.pending) {
		if (engine_call_json(&r->out.calls[0], &r->reply) != 0) {
			rc = store_fail(e, STORE_PERMANENT, "the reply is over %d bytes",
				STORE_REPLY_MAX);
			goto fail;
		}
		sv.outbox_from = 1;
		sv.reply = r->reply.p;
	}
	sv.bot = job->bot;
	sv.update_id = u->update_id;
	sv.sc = &sc;
	sv.flow_hash = job->flow->hash_hex;
	sv.out = &r->out;
	sv.said = store_said(u, said, sizeof(said));
	if (s->ops->finish) {
		rc = s->ops->finish(s, &sv, e);
	} else {
		rc = s->ops->save(s, &sv, e);
		if (rc == STORE_OK)
			rc = s->ops->commit(s, e);
	}
	if (rc)
		goto fail;
	goto out;
fail:
	s->ops->rollback(s);
out:
	chat_free(&sc.chat);
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
}

void store_base_free(struct store *s)
{
	buf_free(&s->seal);
	buf_free(&s->open);
}

void store_set_lock_timeout(struct store *s, int ms)
{
	s->lock_timeout_ms = ms;
	if (s->ops->set_lock_timeout)
		s->ops->set_lock_timeout(s, ms);
}

int store_known_version(const char *backend)
{
	int known = 0;
	for (const struct sql_file *f = sql_files; f->backend; f++)
		if (strcmp(f->backend, backend) == 0 && f->version > known)
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
	ctx = json_tokener_parse(text ? text : "{}");
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

int store_migrate_files(const char *backend, const struct store_sql *q, int target,
	int *applied, struct store_err *e)
{
	int version = 0, known = store_known_version(backend), rc = STORE_OK;
	char sql[256];

	*applied = 0;
	for (const struct sql_file *f = sql_files; rc == STORE_OK && f->backend; f++) {
		if (strcmp(f->backend, backend) != 0)
			continue;
		rc = q->exec(q->arg, q->begin, e);
		if (rc)
			break;
		rc = q->version(q->arg, &version, e);
		if (rc == STORE_OK)
			rc = store_newer(version, known, e);
		if (rc == STORE_OK && f->version > version &&
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
		rc = q->version(q->arg, &version, e);
	if (rc == STORE_OK)
		rc = store_newer(version, known, e);
	return rc;
}
