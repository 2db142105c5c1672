/* webhook.c - one request: route, refuse what must be refused (each with
 * a reason, a log line and a counter, none touching the store), else run
 * the update through the store and answer, inline when one of its calls
 * may go so (engine/apply.c says which). */
#include "fcgi/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine/apply.h"
#include "engine/crypto.h"
#include "engine/engine.h"
#include "engine/inbox.h"
#include "engine/jdoc.h"
#include "engine/log.h"
#include "engine/mono.h"
#include "engine/update.h"

#define WEBHOOK_OUT_MAX (256 * 1024)

void webhook_init(struct webhook *w, struct app *app, struct metrics *m)
{
	memset(w, 0, sizeof(*w));
	w->wake_fd = -1;
	w->app = app;
	w->m = m;
	buf_init(&w->body, (size_t)app->config.max_body);
	buf_init(&w->out, WEBHOOK_OUT_MAX);
	/* a download and its retries end before the request's deadline */
	attach_init(&w->attach, app->config.api_base, app->config.storage,
		app->config.request_timeout > 5 ? app->config.request_timeout - 2 : 3);
	versions_init(&w->versions);
}

void webhook_free(struct webhook *w)
{
	store_close(w->store);
	attach_free(&w->attach);
	versions_free(&w->versions);
	buf_free(&w->body);
	buf_free(&w->out);
	w->store = NULL;
}

static const char *webhook_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Writes a whole response. extra is more header lines ("" for none). */
static void webhook_respond(struct webhook *w, const struct http_io *io, int status,
	const char *type, const char *body, size_t len, const char *extra)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "Status: %d %s\r\nContent-Type: %s\r\n"
		"Content-Length: %zu\r\n%s\r\n", status, webhook_reason(status), type,
		len, extra);
	(void)w;
	if (io->write(io->arg, head, n) == 0 && len)
		io->write(io->arg, body, (int)len);
}

/* A refusal: the answer, a counter, a log line. */
static void webhook_refuse(struct webhook *w, const struct http_io *io, int status,
	enum metrics_refusal reason, const char *bot, const char *why, const char *extra)
{
	struct log_line l;
	char body[384];
	struct buf b;

	buf_init(&b, sizeof(body) - 1);
	buf_adds(&b, "{\"ok\":false,\"error\":");
	jdoc_quote(&b, why, strlen(why));
	buf_addc(&b, '}');
	webhook_respond(w, io, status, "application/json", b.p, b.len, extra);
	buf_free(&b);
	metrics_refusal(w->m, reason);
	log_start(&l, "warn", "refused");
	log_int(&l, "status", status);
	log_str(&l, "bot", bot);
	log_str(&l, "reason", why);
	log_end(&l);
}

/* The request's path: SCRIPT_NAME + PATH_INFO where a CGI-style server
 * splits it, else DOCUMENT_URI, else REQUEST_URI without its query. */
static const char *webhook_path(const struct http_io *io, char *tmp, size_t len)
{
	const char *pi = io->param(io->arg, "PATH_INFO");
	const char *v;
	if (pi && *pi) {
		v = io->param(io->arg, "SCRIPT_NAME");
		snprintf(tmp, len, "%s%s", v ? v : "", pi);
		return tmp;
	}
	v = io->param(io->arg, "DOCUMENT_URI");
	if (v && *v)
		return v;
	v = io->param(io->arg, "REQUEST_URI");
	snprintf(tmp, len, "%.*s", (int)strcspn(v ? v : "/", "?"), v ? v : "/");
	return tmp;
}

static int webhook_ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && strcmp(s + a - b, tail) == 0;
}

/* Opens the store on first use, in this process. */
static int webhook_store(struct webhook *w, struct store_err *e)
{
	int rc;
	if (w->store)
		return STORE_OK;
	rc = store_open(w->app->config.db, &w->store, e);
	if (rc == STORE_OK) {
		w->store->transcript = w->app->config.transcript;
		store_set_lock_timeout(w->store, w->app->config.lock_timeout_ms);
		rc = store_use_key(w->store, w->app->have_key ? &w->app->key : NULL, e);
	}
	if (rc != STORE_OK) {
		store_close(w->store);
		w->store = NULL;
	}
	return rc;
}

static void webhook_healthz(struct webhook *w, const struct http_io *io)
{
	struct store_err e;
	char body[512];
	int n, up = webhook_store(w, &e) == STORE_OK && w->store->ops->ping(w->store);
	n = snprintf(body, sizeof(body), "{\"status\":\"%s\",\"store\":\"%s\",\"bots\":%u}",
		up ? "ok" : "unavailable", w->store ? w->store->ops->name : "closed",
		w->app->n_bots);
	webhook_respond(w, io, up ? 200 : 503, "application/json", body, (size_t)n, "");
}

static void webhook_metrics(struct webhook *w, const struct http_io *io)
{
	buf_reset(&w->out);
	if (w->m == NULL || metrics_render(w->m, &w->out) != 0) {
		webhook_respond(w, io, 503, "text/plain", "no metrics\n", 11, "");
		return;
	}
	webhook_respond(w, io, 200, "text/plain; version=0.0.4", w->out.p, w->out.len, "");
}

/* Reads exactly len bytes of body. Returns 0 or -1. */
static int webhook_read(struct webhook *w, const struct http_io *io, size_t len)
{
	char chunk[16384];
	buf_reset(&w->body);
	while (w->body.len < len) {
		size_t want = len - w->body.len;
		int n = io->read(io->arg, chunk, (int)(want < sizeof(chunk) ? want : sizeof(chunk)));
		if (n <= 0 || buf_add(&w->body, chunk, (size_t)n) != 0)
			return -1;
	}
	return 0;
}

static void webhook_log(const struct app_bot *b, const struct update *u,
	const struct apply_result *r, const char *outcome, double t0)
{
	struct log_line l;
	log_start(&l, "info", "update");
	log_str(&l, "bot", b->cfg->name);
	log_int(&l, "update_id", u->update_id);
	if (u->has_chat)
		log_int(&l, "chat_id", u->chat_id);
	log_str(&l, "kind", u->kind_name);
	log_str(&l, "node_from", r->out.node_from);
	log_str(&l, "node_to", r->node_to);
	log_int(&l, "calls", r->out.n_calls);
	log_str(&l, "outcome", outcome);
	if (r->out.warning[0])
		log_str(&l, "warning", r->out.warning);
	if (r->refused)
		log_int(&l, "dead_letters", r->refused);
	log_num(&l, "duration_ms", (mono_now() - t0) * 1000);
	log_end(&l);
}

/* A transient fault that was tried once more: why, for the operator. */
static void webhook_retried(const struct app_bot *b, const struct update *u,
	const struct apply_result *r)
{
	struct log_line l;
	log_start(&l, "warn", "store retried");
	log_str(&l, "bot", b->cfg->name);
	log_int(&l, "update_id", u->update_id);
	log_str(&l, "msg", r->first_fault);
	log_end(&l);
}

/* An update the flow cannot act on without a chat: counted, and a button
 * press on an inline message is still answered (the spinner stops). */
static void webhook_chatless(struct webhook *w, const struct http_io *io,
	struct app_bot *b, const struct update *u, const struct engine_env *env)
{
	struct step_out out;
	struct chat none;

	step_out_init(&out);
	buf_reset(&w->out);
	if (u->kind == UPDATE_CALLBACK_QUERY && b->cfg->inline_reply &&
	    chat_init(&none, 0) == 0) {
		if (engine_step(b->flow, &none, u, env, &out) == 0 && out.n_calls == 1)
			engine_call_json(&out.calls[0], &w->out);
		chat_free(&none);
	}
	webhook_respond(w, io, 200, "application/json", w->out.p ? w->out.p : "",
		w->out.len, "");
	metrics_update(w->m, b->metrics, MR_IGNORED);
	step_out_free(&out);
}

/* The step's nodes entered, its refusal, its end, counted per node. */
static void webhook_funnel(struct webhook *w, const struct app_bot *b,
	const struct apply_result *r)
{
	const struct flow *f = r->flow ? r->flow : b->flow;   /* the version stepped */

	for (unsigned i = 0; i < r->out.n_entered; i++)
		metrics_entered(w->m, b->metrics, f->nodes[r->out.entered[i]].id);
	if (r->out.outcome == ENGINE_STAYED)
		metrics_refused(w->m, b->metrics, r->node_to, r->out.refused[0] ?
			r->out.refused : "other");
	if (r->out.finished)
		metrics_finished(w->m, b->metrics);
}

/* After the forget command: the chat's uploads go too. */
static void webhook_forget_files(struct webhook *w, struct app_bot *b, long long chat_id)
{
	char err[256];
	int files;
	if (attach_forget(w->app->config.storage, b->cfg->name, chat_id, &files,
	    err, sizeof(err)) != 0) {
		struct log_line l;
		log_start(&l, "error", "forget");
		log_str(&l, "bot", b->cfg->name);
		log_int(&l, "chat_id", chat_id);
		log_str(&l, "msg", err);
		log_end(&l);
	}
}

/* The update_id of a body that is no usable Update, or 0. */
static long long webhook_update_id(const struct webhook *w)
{
	json_object *root = json_tokener_parse(w->body.p ? w->body.p : ""), *v;
	long long id = 0;
	if (json_object_object_get_ex(root, "update_id", &v) &&
	    json_object_is_type(v, json_type_int))
		id = json_object_get_int64(v);
	json_object_put(root);
	return id;
}

/* An update that can never succeed: answered 200 (Telegram would send it
 * again forever), counted, logged, and kept in the inbox with its body
 * for an operator to replay after a fix. */
static void webhook_poison(struct webhook *w, const struct http_io *io,
	struct app_bot *b, long long update_id, long long chat_id, long long member,
	const char *why)
{
	struct store_err e;
	struct log_line l;
	int kept;

	webhook_respond(w, io, 200, "application/json", "", 0, "");
	metrics_update(w->m, b->metrics, MR_POISON);
	kept = webhook_store(w, &e) == STORE_OK && inbox_keep(w->store, b->cfg->name,
		update_id, chat_id, member, why, w->body.p ? w->body.p : "", w->body.len,
		&e) == STORE_OK;
	log_start(&l, "error", "poison");
	log_str(&l, "bot", b->cfg->name);
	if (update_id)
		log_int(&l, "update_id", update_id);
	log_str(&l, "reason", why);
	log_int(&l, "kept", kept);
	if (!kept)
		log_str(&l, "msg", e.msg);
	log_end(&l);
}

/* Whether the update's user or chat is on the bot's allow-lists. */
static int webhook_allowed(const struct app_bot *b, const struct update *u)
{
	return (u->from.id && allow_has(&b->users, u->from.id)) ||
		(u->has_chat && allow_has(&b->chats, u->chat_id));
}

/* An update from a user on neither allow-list: counted, answered inline
 * with not_allowed_text once a day (a press's spinner always stopped),
 * nothing stored. */
static void webhook_stranger(struct webhook *w, const struct http_io *io,
	struct app_bot *b, const struct update *u)
{
	long long day = (long long)time(NULL) / 86400;
	struct step_out out;
	struct log_line l;
	int tell = 0;

	metrics_not_allowed(w->m, b->metrics);
	if (!b->cfg->not_allowed_silent)
		tell = !metrics_told(w->m, b->metrics, u->from.id ? u->from.id : u->chat_id, day);
	step_out_init(&out);
	buf_reset(&w->out);
	if ((tell || u->kind == UPDATE_CALLBACK_QUERY) &&
	    allow_reply(b->flow, u, tell, &out) == 0 && out.n_calls == 1)
		engine_call_json(&out.calls[0], &w->out);
	webhook_respond(w, io, 200, "application/json", w->out.p ? w->out.p : "",
		w->out.len, "");
	step_out_free(&out);
	log_start(&l, "debug", "not allowed");
	log_str(&l, "bot", b->cfg->name);
	log_int(&l, "update_id", u->update_id);
	log_int(&l, "user_id", u->from.id);
	log_int(&l, "told", tell);
	log_end(&l);
}

/* The store could not take the update now: 503, so that Telegram sends
 * it again. */
static void webhook_busy(struct webhook *w, const struct http_io *io,
	struct app_bot *b, const struct update *u, const struct store_err *e)
{
	struct log_line l;
	static const char busy[] = "{\"ok\":false,\"error\":\"the store is "
		"unavailable; retry\"}";

	webhook_respond(w, io, 503, "application/json", busy, sizeof(busy) - 1,
		"Retry-After: 1\r\n");
	metrics_update(w->m, b->metrics, MR_TRANSIENT);
	log_start(&l, "error", "store");
	log_str(&l, "bot", b->cfg->name);
	log_int(&l, "update_id", u->update_id);
	log_str(&l, "msg", e->msg);
	log_end(&l);
}

/* A group became a supergroup (Telegram says so in the old chat and in
 * the new): what the bot keeps of it moves to the new id, as when a call
 * is answered with migrate_to_chat_id; the second finds nothing left.
 * Returns STORE_OK or the store's code (e says why). */
static int webhook_migrate(struct webhook *w, const struct app_bot *b,
	const struct update *u, struct store_err *e)
{
	int rc = webhook_store(w, e);
	if (rc == STORE_OK)
		rc = w->store->ops->outbox_migrate(w->store, b->cfg->name, u->migrate_from,
			u->migrate_to, e);
	return rc;
}

static void webhook_update(struct webhook *w, const struct http_io *io,
	struct app_bot *b, double t0)
{
	struct engine_env env = { 0 };
	struct apply_job job = { 0 };
	struct apply_result r;
	struct store_err e;
	struct update u;
	char err[256];
	int rc;

	rc = update_parse(w->body.p, w->body.len, &u, err, sizeof(err));
	if (rc == UPDATE_NOT_OBJECT) {
		webhook_refuse(w, io, 400, MF_BAD_JSON, b->cfg->name, err, "");
		return;
	}
	apply_result_init(&r);
	if (rc == UPDATE_INVALID) {
		/* Telegram would re-send it forever: take it, keep it, say why */
		webhook_poison(w, io, b, webhook_update_id(w), 0, 0, err);
		apply_result_free(&r);
		return;
	}
	env.now = (long long)time(NULL);
	env.bot_username = b->cfg->username;
	env.admin_chat = b->cfg->admin_chat;
	if (b->restricted && (engine_takes(&u) || u.kind == UPDATE_CALLBACK_QUERY) &&
	    !webhook_allowed(b, &u)) {
		webhook_stranger(w, io, b, &u);
		goto out;
	}
	if (u.migrate_from != 0 && u.migrate_to != 0 && u.migrate_from != u.migrate_to &&
	    (rc = webhook_migrate(w, b, &u, &e)) != STORE_OK) {
		if (rc == STORE_TRANSIENT)
			webhook_busy(w, io, b, &u, &e);
		else
			webhook_poison(w, io, b, u.update_id, u.chat_id,
				engine_member(b->flow, &u), e.msg);
		goto out;
	}
	if (!engine_takes(&u)) {
		webhook_chatless(w, io, b, &u, &env);
		webhook_log(b, &u, &r, "ignored", t0);
		goto out;
	}
	job.bot = b->cfg->name;
	job.flow = b->flow;
	job.u = &u;
	job.env = &env;
	job.inline_reply = b->cfg->inline_reply;
	job.attach = &w->attach;
	job.versions = b->cfg->pin_versions ? &w->versions : NULL;
	job.outbox_max = b->cfg->max_chat_outbox;
	/* a second try still ends inside the request's time */
	job.retry_by = t0 + w->app->config.request_timeout - 2 -
		w->app->config.lock_timeout_ms / 1000.0;
	rc = webhook_store(w, &e);
	if (rc == STORE_OK) {
		env.attach = attach_bind(&w->attach, b->cfg->name, b->token, w->store);
		attach_limit(&w->attach, b->cfg->max_chat_files, b->cfg->max_bot_bytes);
		rc = apply_update(w->store, &job, &r, &e);
	}
	if (r.tries > 1)
		webhook_retried(b, &u, &r);
	if (rc == STORE_TRANSIENT) {
		webhook_busy(w, io, b, &u, &e);
		goto out;
	}
	if (rc != STORE_OK) {
		webhook_poison(w, io, b, u.update_id, u.chat_id,
				engine_member(b->flow, &u), e.msg);
		goto out;
	}
	/* committed: the sender starts on the queued calls while we answer */
	if (!r.repeat && r.queued > 0 && w->wake_fd >= 0) {
		ssize_t n = send(w->wake_fd, "w", 1, MSG_DONTWAIT);   /* a full queue already wakes it */
		(void)n;
	}
	webhook_respond(w, io, 200, "application/json", r.reply.p ? r.reply.p : "",
		r.reply.len, "");
	if (!r.repeat && r.out.outcome == ENGINE_FORGOTTEN)
		webhook_forget_files(w, b, u.chat_id);
	metrics_update(w->m, b->metrics, r.repeat ? MR_REPEAT : MR_APPLIED);
	if (!r.repeat)
		webhook_funnel(w, b, &r);
	webhook_log(b, &u, &r, apply_outcome_name(&r), t0);
out:
	apply_result_free(&r);
	update_free(&u);
}

static void webhook_bot(struct webhook *w, const struct http_io *io,
	const char *name, size_t len, double t0)
{
	const char *method = io->param(io->arg, "REQUEST_METHOD");
	const char *secret, *cl;
	struct app_bot *b = app_bot(w->app, name, len);
	char *end;
	long long length;

	if (b == NULL) {
		webhook_refuse(w, io, 404, MF_NOT_FOUND, NULL, "no such bot", "");
		return;
	}
	if (method == NULL || strcmp(method, "POST") != 0) {
		webhook_refuse(w, io, 405, MF_METHOD, b->cfg->name, "use POST", "Allow: POST\r\n");
		return;
	}
	if (b->secret_len) {
		secret = io->param(io->arg, "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN");
		if (secret == NULL || !crypto_equal(secret, strlen(secret), b->secret, b->secret_len)) {
			webhook_refuse(w, io, 401, MF_SECRET, b->cfg->name, secret ?
				"wrong secret token" : "no secret token", "");
			return;
		}
	}
	cl = io->param(io->arg, "CONTENT_LENGTH");
	length = cl ? strtoll(cl, &end, 10) : -1;
	if (cl == NULL || *cl == '\0' || *end != '\0' || length < 0 ||
	    length > w->app->config.max_body) {
		webhook_refuse(w, io, 413, MF_TOO_LARGE, b->cfg->name, cl == NULL ?
			"no Content-Length" : "body too large", "");
		return;
	}
	if (webhook_read(w, io, (size_t)length) != 0) {
		webhook_refuse(w, io, 400, MF_BAD_JSON, b->cfg->name, "body shorter than "
			"its Content-Length", "");
		return;
	}
	webhook_update(w, io, b, t0);
	metrics_latency(w->m, mono_now() - t0);
}

void webhook_serve(struct webhook *w, const struct http_io *io)
{
	double t0 = mono_now();
	char tmp[1024];
	const char *path = webhook_path(io, tmp, sizeof(tmp));
	const char *tg = NULL;

	for (const char *p = strstr(path, "/tg/"); p; p = strstr(p + 1, "/tg/"))
		tg = p;
	if (tg) {
		const char *name = tg + 4;
		webhook_bot(w, io, name, strcspn(name, "/"), t0);
	} else if (webhook_ends_with(path, "/healthz")) {
		webhook_healthz(w, io);
	} else if (webhook_ends_with(path, "/metrics")) {
		webhook_metrics(w, io);
	} else {
		webhook_refuse(w, io, 404, MF_NOT_FOUND, NULL, "not found", "");
	}
}
