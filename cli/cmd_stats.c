/* cmd_stats.c - `blueflow stats BOT [--since 7d]`: the bot's funnel from
 * its transcript: per node of its flow, how many chats reached it, how
 * many answers it refused, and how many chats stopped there (left, or
 * finished at a node that ends the flow). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "cli/funnel.h"
#include "engine/flow.h"

static void stats_usage(FILE *f)
{
	fprintf(f, "usage: blueflow stats BOT [--since AGE] [-c blueflow.conf]\n\n"
		"Prints the bot's funnel from the store's transcript (transcript = on):\n"
		"per node of its flow, in the flow's order,\n"
		"  REACHED   chats that came to the node\n"
		"  REFUSED   answers the node refused (a re-prompt)\n"
		"  LEFT      chats whose last step ended there, the flow not finished\n"
		"  FINISHED  chats whose flow ended there\n"
		"AGE counts back from now: 7d (the default), 24h, 30m, or all.\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

/* Prints the table. */
static void stats_print(const struct flow *f, const struct funnel *fu)
{
	printf("%-24s %8s %8s %8s %8s\n", "NODE", "REACHED", "REFUSED", "LEFT", "FINISHED");
	for (unsigned i = 0; i < f->n_nodes; i++)
		printf("%-24s %8lld %8lld %8lld %8lld\n", f->nodes[i].id, fu->reached[i],
			fu->refused[i], fu->left[i], fu->ended[i]);
}

int cmd_stats(int argc, char **argv)
{
	const struct config_bot *bot;
	struct funnel fu = { 0 };
	struct cli_store cs;
	struct store_err e;
	struct flow *f = NULL;
	long long age = 7 * 86400;
	int rc = CMD_FAIL;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		stats_usage(stdout);
		return CMD_OK;
	}
	if (cli_store_open("stats", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	if (argc == 4 && !strcmp(argv[2], "--since"))
		age = funnel_age(argv[3]);
	if ((argc != 2 && argc != 4) || (argc == 4 && strcmp(argv[2], "--since")) || age < 0) {
		cli_store_close(&cs);
		stats_usage(stderr);
		return CMD_USAGE;
	}
	bot = cli_store_bot("stats", &cs, argv[1]);
	if (bot == NULL || cli_flow(bot->flow_file, &f) != 0)
		goto out;
	if (funnel_load(cs.s, bot->name, f, age ? (long long)time(NULL) - age : 0,
	    &fu, &e) != STORE_OK) {
		fprintf(stderr, "blueflow stats: %s\n", e.msg);
		goto out;
	}
	stats_print(f, &fu);
	rc = CMD_OK;
out:
	funnel_free(&fu);
	flow_free(f);
	cli_store_close(&cs);
	return rc;
}
