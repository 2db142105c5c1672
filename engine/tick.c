/* tick.c - firing the timers that came due (tick.h). */
#include "engine/tick.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "engine/node_http.h"

enum { TICK_CALL_FREE, TICK_CALL_RUNNING, TICK_CALL_DONE };

static const struct tick_bot *tick_bot(const struct tick_bot *bots, unsigned n,
	const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(bots[i].name, name) == 0)
			return &bots[i];
	return NULL;
}

/* The request of an http timer t, rendered from its chat as it is (read
 * without a lock). Returns 0, or -1 with a->why. */
static int tick_http_request(const struct tick_bot *b, struct store *s,
	const struct timer *t, struct http_request *rq, struct http_answer *a)
{
	const struct flow_node *n = flow_node(b->flow, t->node);
	struct store_chat sc;
	struct store_err e;
	int seen = 0, known = 0, rc = -1;

	memset(&sc, 0, sizeof(sc));
	if (n == NULL || n->type != &node_http) {
		snprintf(a->why, sizeof(a->why), "the node is no http node");
		return -1;
	}
	if (chat_init(&sc.chat, t->chat_id) != 0) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return -1;
	}
	sc.chat.member = t->member;
	if (store_chat_peek(s, b->name, -t->id, &sc, &seen, &known, &e) != STORE_OK)
		snprintf(a->why, sizeof(a->why), "%.190s", e.msg);
	else if (strcmp(sc.chat.node, t->node) != 0)
		snprintf(a->why, sizeof(a->why), "the chat left the node");
	else
		rc = http_node_request(b->flow, n, &sc.chat, rq, a->why, sizeof(a->why));
	chat_free(&sc.chat);
	return rc;
}

void tick_http_call(void *arg, const struct tick_bot *b, struct store *s,
	const struct timer *t, struct http_answer *a)
{
	struct http_request rq;

	(void)arg;
	memset(&rq, 0, sizeof(rq));
	if (tick_http_request(b, s, t, &rq, a) == 0)
		http_call(b->http_allow, &rq, a);
	http_request_free(&rq);
}

/* Applies timer t of bot b (with a, an http timer's answer) in its own
 * transaction, and reports it to done. */
static void tick_apply(struct store *s, const struct tick_bot *b,
	const struct timer *t, long long now_ms, struct engine_env *env,
	const struct http_answer *a, long long late, tick_done_fn *done, void *arg)
{
	struct apply_job job = { 0 };
	struct apply_result r;
	struct store_err te = { 0, "" };
	long long at = now_ms ? now_ms : timer_now_ms();
	int rc;

	job.bot = b->name;
	job.flow = b->flow;
	job.versions = b->versions;
	job.outbox_max = b->outbox_max;
	job.env = env;
	job.now_ms = at;
	env->now = at / 1000;
	env->http = a;
	apply_result_init(&r);
	rc = apply_timer(s, &job, t, &r, &te);
	env->http = NULL;
	if (done)
		done(arg, t, rc, &r, &te, late);
	apply_result_free(&r);
}

int tick_run(struct store *s, const struct tick_bot *bots, unsigned n_bots,
	const char *owner, long long now_ms, int max, enum store_take which,
	struct engine_env *env, tick_done_fn *done, void *arg, int *fired,
	struct store_err *e)
{
	struct timer rows[TICK_BATCH];
	struct http_answer answer;
	int n = 0, rc;

	*fired = 0;
	if (s->ops->timers_take == NULL)
		return store_fail(e, STORE_PERMANENT, "the %s store has no timers", s->ops->name);
	while (*fired < max) {
		long long now = now_ms ? now_ms : timer_now_ms();
		int want = max - *fired < TICK_BATCH ? max - *fired : TICK_BATCH;
		rc = s->ops->timers_take(s, owner, now, want, TICK_LEASE_MS, which,
			rows, &n, e);
		if (rc)
			return rc;
		for (int i = 0; i < n; i++) {
			const struct tick_bot *b = tick_bot(bots, n_bots, rows[i].bot);
			long long at = now_ms ? now_ms : timer_now_ms();
			long long late = at - rows[i].due_ms;   /* before any call */
			if (b == NULL)
				continue;   /* another configuration's bot */
			if (rows[i].kind != TIMER_HTTP) {
				tick_apply(s, b, &rows[i], now_ms, env, NULL, late, done, arg);
			} else {
				tick_http_fn *call = b->http ? b->http : tick_http_call;
				memset(&answer, 0, sizeof(answer));
				call(b->http_arg, b, s, &rows[i], &answer);
				tick_apply(s, b, &rows[i], now_ms, env, &answer, late, done, arg);
				http_answer_free(&answer);
			}
			(*fired)++;
		}
		if (n < want)
			break;
	}
	return STORE_OK;
}

/* --- http calls on their own threads --- */

void tick_calls_init(struct tick_calls *c)
{
	memset(c, 0, sizeof(*c));
	curl_global_init(CURL_GLOBAL_DEFAULT);   /* before any thread uses libcurl */
}

/* A call's thread: libcurl only, never the store. */
static void *tick_call_run(void *arg)
{
	struct tick_call *k = arg;

	http_call(k->bot->http_allow, &k->rq, &k->a);
	__atomic_store_n(&k->state, TICK_CALL_DONE, __ATOMIC_RELEASE);
	return NULL;
}

/* Starts k's call on a thread that takes no signals (they stay with the
 * caller's thread); made in line when no thread can be started. */
static void tick_call_start(struct tick_call *k)
{
	sigset_t all, old;

	k->state = TICK_CALL_RUNNING;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	k->thread = pthread_create(&k->th, NULL, tick_call_run, k) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!k->thread)
		tick_call_run(k);
}

int tick_calls_start(struct tick_calls *c, struct store *s,
	const struct tick_bot *bots, unsigned n_bots, const char *owner,
	int *taken, struct store_err *e)
{
	struct timer rows[TICK_CALLS_MAX];
	long long now = timer_now_ms();
	int n = 0, rc, k = 0;

	*taken = 0;
	if (c->busy >= TICK_CALLS_MAX)
		return STORE_OK;
	if (s->ops->timers_take == NULL)
		return store_fail(e, STORE_PERMANENT, "the %s store has no timers", s->ops->name);
	rc = s->ops->timers_take(s, owner, now, TICK_CALLS_MAX - c->busy,
		TICK_LEASE_MS, STORE_TAKE_HTTP, rows, &n, e);
	if (rc)
		return rc;
	*taken = n;
	for (int i = 0; i < n; i++) {
		const struct tick_bot *b = tick_bot(bots, n_bots, rows[i].bot);
		struct tick_call *slot;
		if (b == NULL)
			continue;   /* another configuration's bot */
		while (__atomic_load_n(&c->slots[k].state, __ATOMIC_ACQUIRE) != TICK_CALL_FREE)
			k++;
		slot = &c->slots[k];
		memset(slot, 0, sizeof(*slot));
		slot->bot = b;
		slot->t = rows[i];
		slot->late = now - rows[i].due_ms;
		c->busy++;
		if (b->http) {
			b->http(b->http_arg, b, s, &rows[i], &slot->a);
			slot->state = TICK_CALL_DONE;
		} else if (tick_http_request(b, s, &rows[i], &slot->rq, &slot->a) != 0) {
			slot->state = TICK_CALL_DONE;   /* answered by its why */
		} else {
			tick_call_start(slot);
		}
	}
	return STORE_OK;
}

int tick_calls_finish(struct tick_calls *c, struct store *s,
	struct engine_env *env, tick_done_fn *done, void *arg, int wait)
{
	const struct timespec pause = { 0, TICK_CALLS_POLL_MS * 1000000L };
	int applied = 0;

	for (;;) {
		for (int i = 0; i < TICK_CALLS_MAX; i++) {
			struct tick_call *k = &c->slots[i];
			if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) != TICK_CALL_DONE)
				continue;
			if (k->thread)
				pthread_join(k->th, NULL);
			if (s)
				tick_apply(s, k->bot, &k->t, 0, env, &k->a, k->late, done, arg);
			http_request_free(&k->rq);
			http_answer_free(&k->a);
			k->state = TICK_CALL_FREE;
			c->busy--;
			applied++;
		}
		if (!wait || applied > 0 || c->busy == 0)
			return applied;
		nanosleep(&pause, NULL);
	}
}

void tick_calls_free(struct tick_calls *c)
{
	while (c->busy > 0)
		tick_calls_finish(c, NULL, NULL, NULL, NULL, 1);
	curl_global_cleanup();
}
