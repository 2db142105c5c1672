/* cmd_tick.c - `blueflow tick`: fires the timers that are due, once, and
 * exits: the pool's background process does this all the time; on a
 * shared host without one, cron runs this every minute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/tick.h"
#include "fcgi/app.h"

static void tick_usage(FILE *f)
{
	fprintf(f, "usage: blueflow tick [-c blueflow.conf] [--max N]\n\n"
		"Fires every timer that is due (reminders, timeouts, inactivity nudges,\n"
		"scheduled messages) of the bots in the config, each exactly once and\n"
		"in order with the chat's updates, then exits. `blueflow serve` does\n"
		"this on its own; on shared hosting, where nothing runs in the\n"
		"background, run it from cron every minute (timers then fire up to a\n"
		"minute late), followed by `blueflow sender`, which delivers what they\n"
		"queued:\n\n"
		"  * * * * * cd /home/me/blueflow && ./blueflow tick -c blueflow.conf && timeout 55 ./blueflow sender -c blueflow.conf\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n"
		"  --max N   fire at most N timers (default 100000)\n\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

struct tick_count {
	int ok, failed;
};

static void tick_done(void *arg, const struct timer *t, int rc,
	const struct apply_result *r, const struct store_err *e, long long late_ms)
{
	struct tick_count *c = arg;
	(void)r;
	(void)late_ms;
	if (rc == STORE_OK) {
		c->ok++;
		return;
	}
	c->failed++;
	fprintf(stderr, "blueflow tick: timer %lld (%s, chat %lld): %s\n", t->id,
		timer_kind_name(t->kind), t->chat_id, e->msg);
}

/* Fires the due timers, up to max: the http calls on their threads, the
 * others meanwhile, until none is due and no call is in flight. */
static int tick_all(struct store *s, const struct tick_bot *bots, unsigned n_bots,
	const char *owner, int max, struct tick_count *count, struct store_err *e)
{
	struct engine_env env = { 0 };
	struct tick_calls calls;
	int rc = STORE_OK;

	tick_calls_init(&calls);
	for (;;) {
		int left = max - count->ok - count->failed - calls.busy;
		int taken = 0, fired = 0;
		if (left > 0)
			rc = tick_calls_start(&calls, s, bots, n_bots, owner, &taken, e);
		if (rc == STORE_OK && left > 0)
			rc = tick_run(s, bots, n_bots, owner, 0, left, STORE_TAKE_OTHERS,
				&env, tick_done, count, &fired, e);
		if (rc != STORE_OK)
			break;
		tick_calls_finish(&calls, s, &env, tick_done, count, taken == 0 && fired == 0);
		if (taken == 0 && fired == 0 && calls.busy == 0)
			break;
	}
	tick_calls_free(&calls);
	return rc;
}

int cmd_tick(int argc, char **argv)
{
	const char *conf = config_path(&argc, argv);
	struct tick_count count = { 0, 0 };
	struct tick_bot *bots = NULL;
	struct versions versions;
	struct app *app = NULL;
	struct store *s = NULL;
	struct store_err e;
	char owner[96], host[64];
	int max = 100000, rc = CMD_FAIL;

	versions_init(&versions);
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		tick_usage(stdout);
		return CMD_OK;
	}
	if (argc == 3 && strcmp(argv[1], "--max") == 0)
		max = (int)strtol(argv[2], NULL, 10);
	if (conf == NULL || (argc != 1 && argc != 3) || max <= 0) {
		tick_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_app(conf, &app) != 0)
		return CMD_FAIL;
	bots = calloc(app->n_bots + 1, sizeof(*bots));
	if (bots == NULL)
		goto out;
	for (unsigned i = 0; i < app->n_bots; i++) {
		bots[i].name = app->bots[i].cfg->name;
		bots[i].flow = app->bots[i].flow;
		bots[i].versions = app->bots[i].cfg->pin_versions ? &versions : NULL;
		bots[i].http_allow = app->bots[i].cfg->http_allow;
		bots[i].outbox_max = app->bots[i].cfg->max_chat_outbox;
	}
	if (store_open(app->config.db, &s, &e) != STORE_OK ||
	    store_use_key(s, app->have_key ? &app->key : NULL, &e) != STORE_OK) {
		fprintf(stderr, "blueflow tick: %s\n", e.msg);
		goto out;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	snprintf(owner, sizeof(owner), "tick:%s:%ld", host, (long)getpid());
	if (tick_all(s, bots, app->n_bots, owner, max, &count, &e) != STORE_OK) {
		fprintf(stderr, "blueflow tick: %s\n", e.msg);
		goto out;
	}
	printf("%d timer%s fired\n", count.ok, count.ok == 1 ? "" : "s");
	rc = count.failed ? CMD_FAIL : CMD_OK;
out:
	store_close(s);
	versions_free(&versions);
	free(bots);
	app_free(app);
	return rc;
}
