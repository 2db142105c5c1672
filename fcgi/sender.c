/* sender.c - the background process of the pool. */
#include "fcgi/sender.h"

#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/inbox.h"
#include "engine/log.h"
#include "engine/outbox.h"
#include "engine/retain.h"
#include "engine/store.h"
#include "fcgi/sigpipe.h"

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

/* One prune pass in batches, then the retention rules; returns rows
 * deleted, or -1 (logged). */
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
	time_t next = time(NULL) + 5, gauges = 0;
	pid_t parent = standalone ? 0 : getppid();
	int up = 0;

	(void)m;
	if (bots == NULL)
		return 1;
	for (unsigned i = 0; i < app->n_bots; i++) {
		bots[i].name = app->bots[i].cfg->name;
		bots[i].token = app->bots[i].token;
	}
	if (sender_signals(standalone) != 0) {
		free(bots);
		return 1;
	}
	/* until told to stop, or the supervisor is gone */
	while (!sigpipe_caught() && (parent == 0 || getppid() == parent)) {
		time_t now = time(NULL);
		char drain[64];
		if (now >= next && up) {
			int n = sender_prune(app, s);
			if (n < 0) {
				outbox_free(&o);
				store_close(s);
				s = NULL;
				up = 0;
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
		}
		if (now >= gauges) {
			sender_gauges(m, s);
			gauges = now + SENDER_GAUGE_EVERY;
		}
		if (outbox_step(&o, 500, wake_fd) < 0) {
			struct pollfd p = { sigpipe_fd(), POLLIN, 0 };
			log_msg("error", "sender", o.last_error);
			outbox_free(&o);
			store_close(s);
			s = NULL;
			up = 0;
			poll(&p, 1, 1000);   /* a lasting fault is not retried in a loop */
			continue;
		}
		while (wake_fd >= 0 && recv(wake_fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
	}
	if (up) {
		/* finish the calls in flight (bounded), give back the rest */
		o.draining = 1;
		for (int i = 0; i < 100 && outbox_step(&o, 50, -1) > 0; i++)
			;
		outbox_free(&o);
	}
	store_close(s);
	free(bots);
	return 0;
}
