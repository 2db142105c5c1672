/* apply.c - one update, one way: its file fetched first, then claim,
 * lock, step, save, commit, through the store interface (apply.h). */
#include "engine/apply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/botapi.h"
#include "engine/life.h"
#include "engine/media.h"
#include "engine/mono.h"
#include "engine/timer.h"

void apply_result_init(struct apply_result *r)
{
	r->repeat = 0;
	r->queued = 0;
	r->refused = 0;
	r->node_to[0] = '\0';
	buf_init(&r->reply, STORE_REPLY_MAX);
	step_out_init(&r->out);
	r->tries = 0;
	r->first_fault[0] = '\0';
	r->flow = NULL;
}

void apply_result_free(struct apply_result *r)
{
	buf_free(&r->reply);
	step_out_free(&r->out);
}

const char *apply_outcome_name(const struct apply_result *r)
{
	return r->repeat ? "repeat" : engine_outcome_name(r->out.outcome);
}

/* What the user sent, in words, for the transcript. */
static const char *apply_said(const struct update *u, char *tmp, size_t len)
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

/* Whether only the sender may make call c: it uploads a local file, or
 * its result must be seen (life.h). */
static int apply_sender_only(const struct engine_call *c)
{
	const char *field, *path;
	return media_local(c->params, &field, &path) || life_marked(c->params);
}

/* The versions a chat may stay on: none for /start, which restarts the
 * flow on the version served now. */
static struct versions *apply_versions(const struct apply_job *job)
{
	const char *t = job->u && job->u->kind == UPDATE_MESSAGE ? job->u->text : NULL;
	if (t && strncasecmp(t, "/start", 6) == 0 && strchr(" \t\n@", t[6]))
		return NULL;
	return job->versions;
}

/* Which call may go inline, as 1 + its index; 0: none. A chat's messages
 * must reach it in order, and the sender may deliver a queued call before
 * Telegram acts on the inline reply. So a message goes inline only when it
 * is the step's one message, nothing of the chat waits in the outbox, and
 * every other call is one whose order does not matter (the callback's
 * answer, edits of earlier messages); failing that, the callback's answer
 * goes inline, whose order never matters; failing that, a lone call when
 * nothing waits. A call to another chat (notify) is never given inline,
 * nor one that uploads a file (the reply cannot carry it), nor one whose
 * result the sender must see (a message to remember, a delete of
 * remembered ones: life.h); the first is of no order with the chat's
 * calls. */
static unsigned apply_inline_pick(const struct step_out *o, int pending)
{
	unsigned message = 0, answer = 0, free_calls = 0;

	for (unsigned i = 0; i < o->n_calls; i++) {
		const char *m = o->calls[i].method;
		if (o->calls[i].chat_id) {
			free_calls++;
			continue;
		}
		if (botapi_is_message(m))
			message = message || apply_sender_only(&o->calls[i]) ?
				o->n_calls + 1 : i + 1;
		else if (botapi_order_free(m))
			free_calls++;
		if (strcmp(m, "answerCallbackQuery") == 0 && answer == 0)
			answer = i + 1;
	}
	if (!pending && message && message <= o->n_calls && free_calls == o->n_calls - 1)
		return message;
	if (answer)
		return answer;
	return !pending && o->n_calls == 1 && o->calls[0].chat_id == 0 &&
		!apply_sender_only(&o->calls[0]) ? 1 : 0;
}

/* After the step: the chat's calls past job->outbox_max waiting calls
 * are kept as dead letters (reason outbox_full) instead of queued; the
 * step itself is saved. Sets sv->refused_from, r->refused and a warning. */
static int apply_outbox_room(struct store *s, const struct apply_job *job,
	const struct store_chat *sc, struct apply_result *r, struct store_save *sv,
	struct store_err *e)
{
	const struct step_out *o = &r->out;
	long long waiting = 0, room;
	char why[96];
	int rc = STORE_OK;

	if (job->outbox_max <= 0)
		return STORE_OK;
	if (sc->pending)
		rc = store_outbox_waiting(s, job->bot, sc->chat.chat_id, job->outbox_max,
			&waiting, e);
	room = job->outbox_max - waiting;
	snprintf(why, sizeof(why), "outbox_full: %ld calls already wait for the chat "
		"(max_chat_outbox)", job->outbox_max);
	for (unsigned i = 0; rc == STORE_OK && i < o->n_calls; i++) {
		if (o->calls[i].chat_id != 0 || !store_queued(sv, i))
			continue;
		if (room-- > 0)
			continue;
		if (sv->refused_from == 0)
			sv->refused_from = i + 1;
		rc = store_outbox_dead_letter(s, job->bot, sc->chat.chat_id,
			o->calls[i].method, json_object_to_json_string_ext(o->calls[i].params,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), why, e);
		r->refused++;
	}
	if (rc == STORE_OK && r->refused) {
		r->queued -= r->refused;
		snprintf(r->out.warning, sizeof(r->out.warning), "%u call(s) kept as dead "
			"letters: %s", r->refused, why);
	}
	return rc;
}

/* After the step: erases what the forget command asked to, and gives one
 * of the step's calls as the inline reply when it may (apply_inline_pick).
 * Fills sv. */
static int apply_outcome(struct store *s, const struct apply_job *job,
	struct store_chat *sc, struct apply_result *r, struct store_save *sv,
	struct store_err *e)
{
	unsigned pick;
	int rc;

	if (r->out.outcome == ENGINE_FORGOTTEN) {
		rc = store_erase(s, job->bot, job->u->chat_id, sc->chat.member, e);
		if (rc)
			return rc;
		sc->pending = 0;
		sv->quiet = 1;
	}
	pick = job->inline_reply ? apply_inline_pick(&r->out, sc->pending) : 0;
	if (pick) {
		if (engine_call_json(&r->out.calls[pick - 1], &r->reply) != 0)
			return store_fail(e, STORE_PERMANENT, "the reply is over %d bytes",
				STORE_REPLY_MAX);
		sv->inline_call = pick;
		sv->reply = r->reply.p;
	}
	r->queued = r->out.n_calls - (pick ? 1 : 0);
	return apply_outbox_room(s, job, sc, r, sv, e);
}

/* After the step: what it changes of the chat's timers (timer_plan), into
 * p and sv, to be saved with the chat; fired is the timer the step ran
 * for, NULL for an update. */
static void apply_timers(struct store *s, const struct apply_job *job,
	const struct store_chat *sc, const struct apply_result *r,
	const struct timer *fired, struct timer_plan *p, struct store_save *sv)
{
	if (s->ops->timers_set == NULL || !job->flow->timed)
		return;
	timer_plan(job->flow, &sc->chat, &r->out, fired, fired == NULL,
		job->now_ms ? job->now_ms : timer_now_ms(), p);
	if (p->cancel || p->n_arms)
		sv->timers = p;
}

/* Before the transaction: the step, run on the chat as it is now (read
 * without a lock) with attach_early's fetch, downloads the file the
 * update carries if the chat's node will want it. Nothing is saved. */
static int apply_fetch_first(struct store *s, const struct apply_job *job,
	struct store_err *e)
{
	const struct update *u = job->u;
	struct engine_env env = *job->env;
	struct store_chat sc;
	struct step_out out;
	const struct flow *f;
	int seen, known, rc;

	if (job->attach == NULL || (u->voice.file_id == NULL &&
	    u->document.file_id == NULL && u->photo.file_id == NULL))
		return STORE_OK;
	memset(&sc, 0, sizeof(sc));
	if (chat_init(&sc.chat, u->chat_id) != 0)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	sc.chat.member = engine_member(job->flow, u);
	rc = store_chat_peek(s, job->bot, u->update_id, &sc, &seen, &known, e);
	if (rc == STORE_OK && known)
		rc = versions_pick(apply_versions(job), s, job->bot, job->flow, &sc, &f, e);
	if (rc == STORE_OK && known) {
		env.attach = attach_early(job->attach);
		step_out_init(&out);
		if (!seen && engine_step(f, &sc.chat, u, &env, &out) != 0)
			rc = store_fail(e, STORE_TRANSIENT, "out of memory in the step");
		step_out_free(&out);
	}
	chat_free(&sc.chat);
	return rc;
}

/* One try: the file, then the transaction. */
static int apply_try(struct store *s, const struct apply_job *job_in,
	struct apply_result *r, struct store_err *e)
{
	struct apply_job mine = *job_in, *job = &mine;
	const struct update *u = job->u;
	struct store_chat sc;
	struct store_save sv;
	struct timer_plan plan;
	char said[96];
	int rc;

	rc = apply_fetch_first(s, job, e);
	if (rc)
		return rc;
	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	if (chat_init(&sc.chat, u->chat_id) != 0)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	sc.chat.member = engine_member(job->flow, u);
	rc = store_start(s, job->bot, u->update_id, &sc, &r->repeat, &r->reply, e);
	if (rc || r->repeat)
		goto fail;
	rc = versions_pick(apply_versions(job), s, job->bot, job->flow, &sc, &mine.flow, e);
	if (rc)
		goto fail;
	r->flow = mine.flow;
	if (engine_step(job->flow, &sc.chat, u, job->env, &r->out) != 0) {
		rc = store_fail(e, STORE_TRANSIENT, "out of memory in the step");
		goto fail;
	}
	if (job->attach && attach_missed(job->attach)) {
		rc = store_fail(e, STORE_TRANSIENT, "the chat moved on while its file "
			"was fetched");
		goto fail;
	}
	memcpy(r->node_to, sc.chat.node, sizeof(r->node_to));
	rc = apply_outcome(s, job, &sc, r, &sv, e);
	if (rc)
		goto fail;
	apply_timers(s, job, &sc, r, NULL, &plan, &sv);
	sv.bot = job->bot;
	sv.update_id = u->update_id;
	sv.sc = &sc;
	sv.flow_hash = job->flow->hash_hex;
	sv.out = &r->out;
	sv.said = apply_said(u, said, sizeof(said));
	rc = store_finish(s, &sv, e);
	if (rc == STORE_OK)
		goto out;
fail:
	store_rollback(s);
out:
	chat_free(&sc.chat);
	return rc;
}

int apply_update(struct store *s, const struct apply_job *job,
	struct apply_result *r, struct store_err *e)
{
	char first[sizeof(r->first_fault)];
	int rc;

	if (!engine_takes(job->u))
		return STORE_OK;   /* nothing of a chat's: the caller answers 200 */
	r->tries = 1;
	rc = apply_try(s, job, r, e);
	if (rc == STORE_TRANSIENT && job->retry_by > 0 && mono_now() < job->retry_by) {
		snprintf(first, sizeof(first), "%s", e->msg);
		apply_result_free(r);
		apply_result_init(r);
		r->tries = 2;
		memcpy(r->first_fault, first, sizeof(first));
		rc = apply_try(s, job, r, e);
	}
	if (job->attach)
		attach_settle(job->attach, rc == STORE_OK && !r->repeat,
			rc == STORE_OK && r->repeat);
	return rc;
}

int apply_timer(struct store *s, const struct apply_job *job,
	const struct timer *t, struct apply_result *r, struct store_err *e)
{
	struct apply_job mine = *job;
	struct store_chat sc;
	struct store_save sv;
	struct timer_plan plan;
	char said[48];
	int found = 0, rc;

	mine.inline_reply = 0;
	if (mine.now_ms == 0)
		mine.now_ms = timer_now_ms();
	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	if (s->ops->timer_claim == NULL)
		return store_fail(e, STORE_PERMANENT, "the %s store has no timers", s->ops->name);
	if (chat_init(&sc.chat, t->chat_id) != 0)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	sc.chat.member = t->member;
	r->tries = 1;
	rc = store_start_timer(s, mine.bot, t, &sc, &r->repeat, &r->reply, &found, e);
	if (rc || r->repeat)
		goto fail;
	if (!found) {
		r->repeat = !found;   /* cancelled since it was taken */
		goto fail;
	}
	rc = versions_pick(mine.versions, s, mine.bot, mine.flow, &sc, &mine.flow, e);
	if (rc)
		goto fail;
	r->flow = mine.flow;
	if (engine_fire(mine.flow, &sc.chat, t, mine.now_ms, mine.env, &r->out) != 0) {
		rc = store_fail(e, STORE_TRANSIENT, "out of memory in the step");
		goto fail;
	}
	memcpy(r->node_to, sc.chat.node, sizeof(r->node_to));
	rc = apply_outcome(s, &mine, &sc, r, &sv, e);
	if (rc)
		goto fail;
	apply_timers(s, &mine, &sc, r, t, &plan, &sv);
	snprintf(said, sizeof(said), "[%s timer]", timer_kind_name(t->kind));
	sv.bot = mine.bot;
	sv.update_id = -t->id;
	sv.sc = &sc;
	sv.flow_hash = mine.flow->hash_hex;
	sv.out = &r->out;
	sv.said = said;
	sv.quiet = r->out.outcome == ENGINE_IGNORED;
	rc = store_finish(s, &sv, e);
	if (rc == STORE_OK)
		goto out;
fail:
	store_rollback(s);
out:
	chat_free(&sc.chat);
	return rc;
}
