/* store.c - opening a store by URI and running one update in one
 * transaction (store_apply); the backends are store_sqlite.c and
 * store_pg.c. */
#include "engine/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	rc = s->ops->begin(s, e);
	if (rc)
		goto out;
	rc = s->ops->claim(s, job->bot, u->update_id, &r->repeat, &r->reply, e);
	if (rc || r->repeat)
		goto fail;
	rc = s->ops->lock_chat(s, job->bot, &sc, e);
	if (rc)
		goto fail;
	if (engine_step(job->flow, &sc.chat, u, job->env, &r->out) != 0) {
		rc = store_fail(e, STORE_TRANSIENT, "out of memory in the step");
		goto fail;
	}
	memset(&sv, 0, sizeof(sv));
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
	rc = s->ops->save(s, &sv, e);
	if (rc)
		goto fail;
	rc = s->ops->commit(s, e);
	if (rc)
		goto fail;
	goto out;
fail:
	s->ops->rollback(s);
out:
	chat_free(&sc.chat);
	return rc;
}
