/* sender.c - the background process of the pool. */
#include "fcgi/sender.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/inbox.h"
#include "engine/log.h"
#include "engine/outbox.h"
#include "engine/retain.h"
#include "engine/versions.h"
#include "engine/store.h"
#include "engine/tick.h"
#include "fcgi/sigpipe.h"

/* The timers' side of the background process. */
struct sender_timers {
	struct app *app;
	struct metrics *m;
	struct tick_bot *bots;
	struct tick_calls calls;      /* the http timers' calls in flight */
	struct versions versions;     /* older flow versions chats are pinned to */
	char owner[96];               /* host:pid, for the leases */
	long long next_ms;            /* when to look for due timers again */
	time_t statuses;              /* when to count chats by status again */
};

/* The outbox's pending and dead counts, and the inbox's kept updates,
 * into the shared metrics. */
static void sender_gauges(struct metrics *m, struct store *s)
{
	long long pending, dead, kept;
	struct store_err e;
	if (m == NULL || store_outbox_counts(s, &pending, &dead, &e) != STORE_OK)
		return;
	__atomic_store_n(&m->outbox_pending, pending, __ATOMIC_RELAXED);
	__atomic_store_n(&m->outbox_dead, dead, __ATOMIC_RELAXED);
	if (inbox_count(s, &kept, &e) == STORE_OK)
		__atomic_store_n(&m->inbox_dead, kept, __ATOMIC_RELAXED);
}

/* Logs and counts one fired timer. */
static void sender_fired(void *arg, const struct timer *t, int rc,
	const struct apply_result *r, const struct store_err *e, long long late_ms)
{
	struct sender_timers *st = arg;
	struct log_line l;

	log_start(&l, rc == STORE_OK ? "info" : "error", "timer");
	log_str(&l, "bot", t->bot);
	log_int(&l, "chat_id", t->chat_id);
	log_str(&l, "kind", timer_kind_name(t->kind));
	log_str(&l, "node", t->node);
	log_int(&l, "late_ms", late_ms);
	if (rc != STORE_OK)
		log_str(&l, "msg", e->msg);
	else
		log_str(&l, "outcome", r->repeat ? "cancelled" : apply_outcome_name(r));
	if (rc == STORE_OK && r->out.warning[0])
		log_str(&l, "warning", r->out.warning);
	log_end(&l);
	if (rc == STORE_OK && !r->repeat)
		metrics_timer(st->m, t->kind, (double)late_ms / 1000);
}

/* Fires the timers that are due, the http ones' calls on threads of their
 * own (a slow service holds up nothing else; their answers are applied
 * here as they come), and sets when to look again: at the next due time,
 * but within SENDER_TIMER_POLL_MS, as other processes arm timers. Returns
 * how many were handled, or -1 (logged). */
static int sender_timers(struct sender_timers *st, struct store *s)
{
	struct engine_env env = { 0 };
	struct store_err e;
	long long now = timer_now_ms(), due = 0;
	int any = 0, fired = 0, taken = 0, rc;

	if (tick_calls_finish(&st->calls, s, &env, sender_fired, st, 0) > 0)
		st->next_ms = now;   /* a slot is free for a call that is due */
	if (now < st->next_ms)
		return 0;
	rc = tick_calls_start(&st->calls, s, st->bots, st->app->n_bots, st->owner,
		&taken, &e);
	if (rc == STORE_OK)
		rc = tick_run(s, st->bots, st->app->n_bots, st->owner, 0,
			SENDER_TIMERS_MAX, STORE_TAKE_OTHERS, &env, sender_fired, st,
			&fired, &e);
	if (rc == STORE_OK && fired >= SENDER_TIMERS_MAX) {
		st->next_ms = now;   /* more are due */
		return fired;
	}
	if (rc == STORE_OK)
		rc = s->ops->timers_next(s, now, &due, &any, &e);
	st->next_ms = now + SENDER_TIMER_POLL_MS;
	if (rc != STORE_OK) {
		log_msg("error", "timer", e.msg);
		st->next_ms = now + 1000;
		return -1;
	}
	if (any && due < st->next_ms)
		st->next_ms = due > now ? due : now;
	if (st->calls.busy >= TICK_CALLS_MAX && st->next_ms < now + TICK_CALLS_POLL_MS)
		st->next_ms = now + TICK_CALLS_POLL_MS;   /* a due call waits for a slot */
	return fired;
}

/* The chats of each bot by status, and the timers pending, into the
 * shared metrics, every SENDER_STATUS_EVERY seconds (both read whole
 * tables). */
static void sender_timer_gauges(struct sender_timers *st, struct store *s, time_t now)
{
	long long counts[TIMER_CHAT_COUNT], n;
	struct store_err e;

	if (st->m == NULL || now < st->statuses)
		return;
	st->statuses = now + SENDER_STATUS_EVERY;
	if (store_timers_count(s, &n, &e) == STORE_OK)
		__atomic_store_n(&st->m->timers_pending, n, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < st->app->n_bots; i++) {
		int slot = st->app->bots[i].metrics;
		if (slot < 0 || slot >= METRICS_BOTS ||
		    store_chat_statuses(s, st->app->bots[i].cfg->name,
		    st->app->bots[i].flow, counts, &e) != STORE_OK)
			continue;
		for (int k = 0; k < TIMER_CHAT_COUNT && k < METRICS_CHAT_STATUSES; k++)
			__atomic_store_n(&st->m->chats[slot][k], counts[k], __ATOMIC_RELAXED);
	}
}

/* After a reload: drops the timers of nodes the flows no longer have
 * (not with pin_versions: a chat's timers fire on its own version). */
static void sender_sweep(struct app *app, struct store *s)
{
	struct store_err e;
	long long n;

	for (unsigned i = 0; i < app->n_bots; i++) {
		struct log_line l;
		int rc;
		if (app->bots[i].cfg->pin_versions)
			continue;
		rc = store_timers_sweep(s, app->bots[i].cfg->name, app->bots[i].flow, &n, &e);
		if (rc == STORE_OK && n == 0)
			continue;
		log_start(&l, rc == STORE_OK ? "info" : "error", "timers_swept");
		log_str(&l, "bot", app->bots[i].cfg->name);
		if (rc == STORE_OK)
			log_int(&l, "dropped", n);
		else
			log_str(&l, "msg", e.msg);
		log_end(&l);
	}
}

/* One prune pass in batches; returns rows deleted, or -1 (logged). */
static int sender_prune(struct app *app, struct store *s)
{
	struct store_err e;
	int n = 0, total = 0, rc = STORE_OK;

	while (rc == STORE_OK && !sigpipe_caught()) {
		rc = s->ops->prune(s, app->config.update_retention_hours,
			app->config.sent_retention_days, SENDER_PRUNE_BATCH, &n, &e);
		total += n;
		if (n < SENDER_PRUNE_BATCH)
			break;
	}
	if (rc == STORE_OK) {
		long long kept = 0;
		rc = retain_run(s, &app->config, &kept, &e);
		total += (int)kept;
	}
	if (rc == STORE_OK) {
		long long old = 0;
		rc = versions_prune(s, &old, &e);
		total += (int)old;
	}
	if (rc != STORE_OK) {
		log_msg("error", "prune", e.msg);
		return -1;
	}
	return total;
}

/* Opens the store and the delivery; 0 or -1 (logged). */
static int sender_open(struct app *app, struct store **s, struct outbox *o,
	struct outbox_bot *bots)
{
	struct store_err e;
	int rc = store_open(app->config.db, s, &e);
	if (rc == STORE_OK)
		rc = store_use_key(*s, app->have_key ? &app->key : NULL, &e);
	if (rc == STORE_OK && (*s)->ops->outbox_take == NULL)
		rc = store_fail(&e, STORE_PERMANENT, "this store has no outbox");
	if (rc == STORE_OK && outbox_init(o, *s, app->config.api_base, bots, app->n_bots,
	    app->config.rate_per_bot, app->config.rate_per_chat,
	    app->config.rate_per_group, app->config.burst_per_chat) != 0)
		rc = store_fail(&e, STORE_TRANSIENT, "cannot set up delivery");
	if (rc != STORE_OK) {
		log_msg("error", "sender", e.msg);
		store_close(*s);
		*s = NULL;
		return -1;
	}
	return 0;
}

/* The signals: SIGQUIT stops it gracefully, and so do SIGINT and SIGTERM
 * when it runs on its own. */
static int sender_signals(int standalone)
{
	if (sigpipe_open() != 0)
		return -1;
	sigpipe_catch(SIGQUIT);
	if (standalone) {
		sigpipe_catch(SIGINT);
		sigpipe_catch(SIGTERM);
	} else {
		sigpipe_ignore(SIGINT);
	}
	sigpipe_ignore(SIGHUP);
	sigpipe_ignore(SIGPIPE);
	return 0;
}

int sender_run(struct app *app, struct metrics *m, int wake_fd, int standalone)
{
	struct store *s = NULL;
	struct outbox o;
	struct outbox_bot *bots = calloc(app->n_bots + 1, sizeof(*bots));
	struct sender_timers st = { .app = app, .m = m };
	char host[64];
	time_t next = time(NULL) + 5, gauges = 0;
	pid_t parent = standalone ? 0 : getppid();
	int up = 0, fails = 0;

	tick_calls_init(&st.calls);
	st.bots = calloc(app->n_bots + 1, sizeof(*st.bots));
	if (bots == NULL || st.bots == NULL) {
		free(bots);
		free(st.bots);
		tick_calls_free(&st.calls);
		return 1;
	}
	for (unsigned i = 0; i < app->n_bots; i++) {
		bots[i].name = app->bots[i].cfg->name;
		bots[i].token = app->bots[i].token;
		st.bots[i].name = app->bots[i].cfg->name;
		st.bots[i].flow = app->bots[i].flow;
		st.bots[i].versions = app->bots[i].cfg->pin_versions ? &st.versions : NULL;
		st.bots[i].http_allow = app->bots[i].cfg->http_allow;
		st.bots[i].outbox_max = app->bots[i].cfg->max_chat_outbox;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	snprintf(st.owner, sizeof(st.owner), "%s:%ld", host, (long)getpid());
	if (sender_signals(standalone) != 0) {
		free(bots);
		free(st.bots);
		tick_calls_free(&st.calls);
		return 1;
	}
	/* until told to stop, or the supervisor is gone */
	while (!sigpipe_caught() && (parent == 0 || getppid() == parent)) {
		time_t now = time(NULL);
		long long wait_ms;
		char drain[64];
		if (now >= next && up) {
			int n = sender_prune(app, s);
			if (n < 0) {
				/* logged; the outbox keeps its calls in hand (see
				 * below), the store reconnects by itself */
				next = now + 5;
				continue;
			}
			if (n > 0) {
				struct log_line l;
				log_start(&l, "info", "prune");
				log_int(&l, "rows", n);
				log_end(&l);
			}
			next = now + SENDER_PRUNE_EVERY;
		}
		if (!up) {
			up = sender_open(app, &s, &o, bots) == 0;
			if (!up) {
				struct pollfd p = { sigpipe_fd(), POLLIN, 0 };
				poll(&p, 1, 1000);
				continue;
			}
			sender_sweep(app, s);
		}
		if (now >= gauges) {
			sender_gauges(m, s);
			sender_timer_gauges(&st, s, now);
			gauges = now + SENDER_GAUGE_EVERY;
		}
		sender_timers(&st, s);
		wait_ms = st.next_ms - timer_now_ms();
		wait_ms = wait_ms < 0 ? 0 : wait_ms > 500 ? 500 : wait_ms;
		if (st.calls.busy > 0 && wait_ms > TICK_CALLS_POLL_MS)
			wait_ms = TICK_CALLS_POLL_MS;   /* their answers applied soon */
		if (outbox_step(&o, (int)wait_ms, wake_fd) < 0) {
			/* the store failed: the calls in hand stay, those done
			 * keep their outcomes until the store takes them (the
			 * store reconnects by itself), and what is in flight
			 * goes on; so no call done is made again */
			struct pollfd p = { sigpipe_fd(), POLLIN, 0 };
			if (fails++ % 20 == 0)   /* the first, then every 5 s or so */
				log_msg("error", "sender", o.last_error);
			poll(&p, 1, 250);   /* a lasting fault is not retried in a loop */
			continue;
		}
		fails = 0;
		while (wake_fd >= 0 && recv(wake_fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
	}
	if (up) {
		struct engine_env env = { 0 };
		/* finish the calls in flight (bounded), give back the rest */
		o.draining = 1;
		for (int i = 0; i < 100 && outbox_step(&o, 50, -1) > 0; i++)
			;
		outbox_free(&o);
		/* then the http calls in flight, each within its timeout: their
		 * answers applied (what they send goes out next time) */
		while (st.calls.busy > 0)
			tick_calls_finish(&st.calls, s, &env, sender_fired, &st, 1);
	}
	tick_calls_free(&st.calls);
	store_close(s);
	versions_free(&st.versions);
	free(bots);
	free(st.bots);
	return 0;
}
