/* sender.c - the background process of the pool. */
#include "fcgi/sender.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/store.h"

static volatile sig_atomic_t sender_stop;
static int sender_pipe[2] = { -1, -1 };

static void sender_on_quit(int sig)
{
	int saved = errno;
	ssize_t n;
	(void)sig;
	sender_stop = 1;
	n = write(sender_pipe[1], "q", 1);
	(void)n;
	errno = saved;
}

/* One prune pass in batches; returns rows deleted or -1. */
static int sender_prune(struct app *app, struct store **s)
{
	struct store_err e;
	int n = 0, total = 0, rc = STORE_OK;

	if (*s == NULL) {
		rc = store_open(app->config.db, s, &e);
		if (rc == STORE_OK)
			rc = store_use_key(*s, app->have_key ? &app->key : NULL, &e);
	}
	while (rc == STORE_OK && !sender_stop) {
		rc = (*s)->ops->prune(*s, app->config.update_retention_hours,
			app->config.sent_retention_days, SENDER_PRUNE_BATCH, &n, &e);
		total += n;
		if (n < SENDER_PRUNE_BATCH)
			break;
	}
	if (rc != STORE_OK) {
		log_msg("error", "prune", e.msg);
		store_close(*s);
		*s = NULL;
		return -1;
	}
	return total;
}

int sender_run(struct app *app, struct metrics *m)
{
	struct sigaction sa;
	struct store *s = NULL;
	time_t next = time(NULL) + 5;

	(void)m;
	if (pipe(sender_pipe) != 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sender_on_quit;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	while (!sender_stop) {
		struct pollfd p = { sender_pipe[0], POLLIN, 0 };
		time_t now = time(NULL);
		if (now >= next) {
			int n = sender_prune(app, &s);
			if (n > 0) {
				struct log_line l;
				log_start(&l, "info", "prune");
				log_int(&l, "rows", n);
				log_end(&l);
			}
			next = now + SENDER_PRUNE_EVERY;
			continue;
		}
		poll(&p, 1, (int)(next - now) * 1000);
	}
	store_close(s);
	return 0;
}
