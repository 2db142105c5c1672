/* tick.c - firing the timers that came due (tick.h). */
#include "engine/tick.h"

#include <string.h>

static const struct tick_bot *tick_bot(const struct tick_bot *bots, unsigned n,
	const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(bots[i].name, name) == 0)
			return &bots[i];
	return NULL;
}

int tick_run(struct store *s, const struct tick_bot *bots, unsigned n_bots,
	const char *owner, long long now_ms, int max, struct engine_env *env,
	tick_done_fn *done, void *arg, int *fired, struct store_err *e)
{
	struct timer rows[TICK_BATCH];
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
			if (b == NULL)
				continue;   /* another configuration's bot */
			job.bot = b->name;
			job.flow = b->flow;
			job.versions = b->versions;
			job.env = env;
			job.now_ms = at;
			env->now = at / 1000;
			apply_result_init(&r);
			rc = apply_timer(s, &job, &rows[i], &r, &te);
			if (done)
				done(arg, &rows[i], rc, &r, &te, at - rows[i].due_ms);
			apply_result_free(&r);
			(*fired)++;
		}
		if (n < want)
			break;
	}
	return STORE_OK;
}
