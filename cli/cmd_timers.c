/* cmd_timers.c - `blueflow timers list BOT [CHAT_ID]`: the timers that
 * wait, by due time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"

static void timers_usage(FILE *f)
{
	fprintf(f, "usage: blueflow timers list BOT [CHAT_ID] [--limit N] [-c blueflow.conf]\n\n"
		"Lists the timers that wait for BOT (or one chat of it), the earliest\n"
		"first: id, due time (UTC), kind (remind, timeout, inactive, send_at),\n"
		"chat, node, and the reminder's number; with \"scope\": \"user\" a member's\n"
		"timer ends in \"member ID\". A timer fires once, through the same path\n"
		"as an update; one whose chat has moved on is dropped then.\n\n"
		"  --limit N   at most N rows (default 100)\n"
		"  -c FILE     the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Example:\n  blueflow timers list onboarding 5011223344\n\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

/* id, chat_id, kind, node, n, due_ms, visit, member */
static int timers_row(void *arg, int n, const char *const *cols)
{
	char due[32];
	int *rows = arg;
	if (n < 8)
		return 0;
	cli_utc(strtoll(cols[5] ? cols[5] : "0", NULL, 10) / 1000, CLI_UTC_ISO, due, sizeof(due));
	if ((*rows)++ == 0)
		printf("%-8s %-20s %-8s %-14s %-3s %s\n", "ID", "DUE", "KIND", "CHAT", "N", "NODE");
	printf("%-8s %-20s %-8s %-14s %-3s %s", cols[0] ? cols[0] : "", due,
		cols[2] ? cols[2] : "", cols[1] ? cols[1] : "", cols[4] ? cols[4] : "",
		cols[3] ? cols[3] : "");
	if (cols[7] && strcmp(cols[7], "0") != 0)
		printf("  member %s", cols[7]);   /* a member's state (struct chat) */
	putchar('\n');
	return 0;
}

int cmd_timers(int argc, char **argv)
{
	struct cli_store cs;
	struct store_err e;
	long long chat = 0;
	int limit = 100, rows = 0, rc;
	char *end;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		timers_usage(stdout);
		return CMD_OK;
	}
	if (cli_store_open("timers", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	if (argc >= 5 && strcmp(argv[argc - 2], "--limit") == 0) {
		limit = (int)strtol(argv[argc - 1], &end, 10);
		argc -= 2;
		if (*end != '\0' || limit <= 0)
			argc = 0;
	}
	if (argc == 4)
		chat = strtoll(argv[3], &end, 10);
	if ((argc != 3 && argc != 4) || strcmp(argv[1], "list") != 0 ||
	    (argc == 4 && (*end != '\0' || argv[3][0] == '\0'))) {
		cli_store_close(&cs);
		timers_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_store_bot("timers list", &cs, argv[2]) == NULL) {
		cli_store_close(&cs);
		return CMD_FAIL;
	}
	rc = store_timers_list(cs.s, argv[2], chat, limit, timers_row, &rows, &e);
	if (rc != STORE_OK)
		fprintf(stderr, "blueflow timers: %s\n", e.msg);
	else if (rows == 0)
		printf("no timers\n");
	cli_store_close(&cs);
	return rc == STORE_OK ? CMD_OK : CMD_FAIL;
}
