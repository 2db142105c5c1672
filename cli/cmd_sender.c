/* cmd_sender.c - `blueflow sender`: delivers the outbox without serving
 * webhooks, for a host that only sends (or a shared host, where the web
 * server runs blueflow as CGI and nothing else stays up). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/metrics.h"
#include "fcgi/app.h"
#include "fcgi/sender.h"

int cmd_sender(int argc, char **argv)
{
	const char *conf = config_path(&argc, argv);
	struct app *app = NULL;
	struct metrics *m;
	int rc;

	if (conf == NULL || argc > 2 || (argc == 2 && strcmp(argv[1], "--foreground") != 0)) {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"usage: blueflow sender [-c blueflow.conf]\n\n"
			"Delivers the outbox of every bot in the config (rate limits, retries,\n"
			"dead letters) and prunes the store, in the foreground, until SIGINT or\n"
			"SIGTERM (the calls in flight are finished first).\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? CMD_OK : CMD_USAGE;
	}
	if (cli_app(conf, &app) != 0)
		return CMD_FAIL;
	m = metrics_create();
	rc = sender_run(app, m, -1, 1);
	metrics_destroy(m);
	app_free(app);
	return rc;
}
