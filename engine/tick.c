/* tick.c - firing the timers that came due (tick.h). */
#include "engine/tick.h"

#include <stdio.h>
#include <string.h>

#include "engine/node_http.h"

static const struct tick_bot *tick_bot(const struct tick_bot *bots, unsigned n,
	const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(bots[i].name, name) == 0)
			return &bots[i];
	return NULL;
}

void tick_http_call(void *arg, const struct tick_bot *b, struct store *s,
	const struct timer *t, struct http_answer *a)
{
	const struct flow_node *n = flow_node(b->flow, t->node);
	struct http_request rq;
	struct store_chat sc;
	struct store_err e;
	int seen = 0, known = 0;

	(void)arg;
	memset(&rq, 0, sizeof(rq));
	memset(&sc, 0, sizeof(sc));
	if (n == NULL || n->type != &node_http) {
		snprintf(a->why, sizeof(a->why), "the node is no http node");
		return;
	}
	if (chat_init(&sc.chat, t->chat_id) != 0) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return;
	}
	if (store_chat_peek(s, b->name, -t->id, &sc, &seen, &known, &e) != STORE_OK)
		snprintf(a->why, sizeof(a->why), "%.190s", e.msg);
	else if (strcmp(sc.chat.node, t->node) != 0)
		snprintf(a->why, sizeof(a->why), "the chat left the node");
	else if (http_node_request(b->flow, n, &sc.chat, &rq, a->why, sizeof(a->why)) == 0)
		http_call(b->http_allow, &rq, a);
	http_request_free(&rq);
	chat_free(&sc.chat);
}

int tick_run(struct store *s, const struct tick_bot *bots, unsigned n_bots,
	const char *owner, long long now_ms, int max, struct engine_env *env,
	tick_done_fn *done, void *arg, int *fired, struct store_err *e)
{
	struct timer rows[TICK_BATCH];
	struct http_answer answer = { 0 };
	int n = 0, rc;

	*fired = 0;
	if (s->ops->timers_take == NULL)
		return store_fail(e, STORE_PERMANENT, "the %s store has no timers", s->ops->name);
	while (*fired < max) {
		long long now = now_ms ? now_ms : timer_now_ms();
		int want = max - *fired < TICK_BATCH ? max - *fired : TICK_BATCH;
		rc = s->ops->timers_take(s, owner, now, want, TICK_LEASE_MS, rows, &n, e);
		if (rc)
			return rc;
		for (int i = 0; i < n; i++) {
			const struct tick_bot *b = tick_bot(bots, n_bots, rows[i].bot);
			struct apply_job job = { 0 };
			struct apply_result r;
			struct store_err te = { 0, "" };
			long long at = now_ms ? now_ms : timer_now_ms();
			long long late = at - rows[i].due_ms;   /* before any call */
			if (b == NULL)
				continue;   /* another configuration's bot */
			job.bot = b->name;
			job.flow = b->flow;
			job.versions = b->versions;
			job.outbox_max = b->outbox_max;
			job.env = env;
			job.now_ms = at;
			env->now = at / 1000;
			apply_result_init(&r);
			if (rows[i].kind == TIMER_HTTP) {
				tick_http_fn *call = b->http ? b->http : tick_http_call;
				memset(&answer, 0, sizeof(answer));
				call(b->http_arg, b, s, &rows[i], &answer);
				env->http = &answer;
				at = now_ms ? now_ms : timer_now_ms();
				job.now_ms = at;
				env->now = at / 1000;
			}
			rc = apply_timer(s, &job, &rows[i], &r, &te);
			env->http = NULL;
			http_answer_free(&answer);
			if (done)
				done(arg, &rows[i], rc, &r, &te, late);
			apply_result_free(&r);
			(*fired)++;
		}
		if (n < want)
			break;
	}
	return STORE_OK;
}
