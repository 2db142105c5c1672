/* tick.h - firing the timers that came due: taken from the store in
 * batches (leased, so several processes and hosts share the work), each
 * applied in its own transaction by apply_timer. The pool's background
 * process runs it (the http calls apart: tick_calls), `blueflow tick`
 * runs it once from cron, `replay` at a "tick at T" line. */
#ifndef BLUEFLOW_TICK_H
#define BLUEFLOW_TICK_H

#include <pthread.h>

#include "engine/apply.h"
#include "engine/flow.h"
#include "engine/http.h"
#include "engine/store.h"
#include "engine/timer.h"
#include "engine/versions.h"

#define TICK_BATCH 64          /* timers taken at once */
#define TICK_LEASE_MS 30000    /* how long a taken timer is another's (an
                                  http call with its retries takes < 25 s) */
#define TICK_CALLS_MAX 8       /* http calls in flight at once */
#define TICK_CALLS_POLL_MS 20  /* how often a waiting caller looks for answers */

struct tick_bot;

/* Makes the call an http timer t stands for (the chat is read without a
 * lock, outside any transaction) and fills a (zeroed by the caller). */
typedef void tick_http_fn(void *arg, const struct tick_bot *b, struct store *s,
	const struct timer *t, struct http_answer *a);

/* A bot whose timers may fire. */
struct tick_bot {
	const char *name;
	const struct flow *flow;
	struct versions *versions;    /* pin_versions: timers fire on the
	                                 chat's version; NULL: on flow */
	const char *http_allow;        /* the bot's http_allow; NULL: none */
	long outbox_max;               /* the bot's max_chat_outbox; 0: any */
	tick_http_fn *http;            /* NULL: tick_http_call */
	void *http_arg;
};

/* The call of an http timer, with libcurl under b->http_allow. */
void tick_http_call(void *arg, const struct tick_bot *b, struct store *s,
	const struct timer *t, struct http_answer *a);

/* Called after each timer: what apply_timer did (rc, e on failure), and
 * how late it fired, in ms. */
typedef void tick_done_fn(void *arg, const struct timer *t, int rc,
	const struct apply_result *r, const struct store_err *e, long long late_ms);

/* Fires up to max timers of the kinds which says, due by now_ms (0:
 * timer_now_ms() at each batch) for bots (timers of other bots are left
 * alone), taken as owner; an http timer's call is made in line. env
 * is the steps' (its now is set from the clock). *fired counts the
 * timers handled. Returns STORE_OK, or the error of taking a batch (each
 * timer's own failure goes to done and the timer comes back when its
 * lease runs out). */
int tick_run(struct store *s, const struct tick_bot *bots, unsigned n_bots,
	const char *owner, long long now_ms, int max, enum store_take which,
	struct engine_env *env, tick_done_fn *done, void *arg, int *fired,
	struct store_err *e);

/* One http call in flight. */
struct tick_call {
	int state;                    /* free, running, done (atomic) */
	int thread;                   /* 1: made on th (joined when done) */
	pthread_t th;
	const struct tick_bot *bot;
	struct timer t;
	long long late;               /* ms late when it was taken */
	struct http_request rq;
	struct http_answer a;
};

/* The http timers' calls, made on threads of their own, TICK_CALLS_MAX
 * at once, so that a slow service holds up neither the other timers nor
 * the delivery: the caller's thread takes the timers (leased, like the
 * others: exactly once across processes), renders the requests and
 * applies the answers; a call's thread only runs libcurl. */
struct tick_calls {
	struct tick_call slots[TICK_CALLS_MAX];
	int busy;                     /* slots not free */
};

/* Sets c up (and libcurl, before any thread uses it). */
void tick_calls_init(struct tick_calls *c);

/* Takes as many due http timers of bots as c has free slots, as owner,
 * and starts their calls; *taken counts the timers taken. Returns
 * STORE_OK or the error of taking them. */
int tick_calls_start(struct tick_calls *c, struct store *s,
	const struct tick_bot *bots, unsigned n_bots, const char *owner,
	int *taken, struct store_err *e);

/* Applies the answers of the calls that are done (as tick_run does; env
 * and done likewise), waiting for one when wait is set and any is in
 * flight. Returns how many were applied. */
int tick_calls_finish(struct tick_calls *c, struct store *s,
	struct engine_env *env, tick_done_fn *done, void *arg, int wait);

/* Waits for the calls in flight and drops their answers (their timers
 * come back when the leases run out), and frees c. */
void tick_calls_free(struct tick_calls *c);

#endif
