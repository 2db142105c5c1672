/* cmd_flow.c - `blueflow flow versions|rollback BOT`: the flow versions a
 * bot served, kept in the store (engine/versions.h), with the chats on
 * each; and serving an older one to new chats. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/versions.h"

static void flow_usage(FILE *f)
{
	fprintf(f, "usage: blueflow flow versions BOT [-c blueflow.conf]\n"
		"       blueflow flow rollback BOT HASH [-c blueflow.conf]\n\n"
		"Every flow version a bot served is kept in the store by its hash; with\n"
		"pin_versions = on (the default) a chat finishes on the version it\n"
		"started with, while new chats get the version served now.\n\n"
		"versions  lists the kept versions, the one served first (marked *),\n"
		"          then by when they were served: hash, when first served\n"
		"          (UTC), chats mid-way on it, chats that finished on it.\n"
		"rollback  serves version HASH (or 6 or more of its first digits) to\n"
		"          new chats from the next start or reload of serve; with\n"
		"          [server] pid_file set, serve is told to reload at once.\n"
		"          Deploying a flow file not served before takes over again.\n\n"
		"Versions no unfinished chat is on are pruned by the pool's background\n"
		"process and db prune, but the %d served last.\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Example:\n  blueflow flow versions onboarding\n"
		"  blueflow flow rollback onboarding 3fa81c2b90d4\n\n"
		"Exit status: 0 done, 1 failed or no such version, 2 usage.\n",
		VERSIONS_KEEP);
}

/* hash, created_at, served, mid-way, finished */
static int flow_version_row(void *arg, int n, const char *const *cols)
{
	char at[32];
	int *rows = arg;
	if (n < 5)
		return 0;
	cli_utc(strtoll(cols[1] ? cols[1] : "0", NULL, 10), CLI_UTC_ISO, at, sizeof(at));
	if ((*rows)++ == 0)
		printf("  %-12s %-20s %8s %8s\n", "VERSION", "SERVED FROM", "CHATS", "FINISHED");
	printf("%s %-12.12s %-20s %8s %8s\n", cols[2] && cols[2][0] == '1' ? "*" : " ",
		cols[0] ? cols[0] : "", at, cols[3] ? cols[3] : "0", cols[4] ? cols[4] : "0");
	return 0;
}

/* Tells a running serve to reload, when the config names its pid file. */
static void flow_reload(const struct config *c)
{
	FILE *f = c->pid_file ? fopen(c->pid_file, "r") : NULL;
	long pid = 0;

	if (f && fscanf(f, "%ld", &pid) == 1 && pid > 1 && kill((pid_t)pid, SIGHUP) == 0)
		printf("serve (pid %ld) told to reload\n", pid);
	else
		printf("reload serve to apply it (systemctl reload blueflow, or kill -HUP "
			"its pid)\n");
	if (f)
		fclose(f);
}

int cmd_flow(int argc, char **argv)
{
	struct cli_store cs;
	struct store_err e;
	char hash[65];
	int rows = 0, found = 0, rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		flow_usage(stdout);
		return CMD_OK;
	}
	if (argc < 2 || !((!strcmp(argv[1], "versions") && argc >= 3) ||
	    (!strcmp(argv[1], "rollback") && argc >= 4))) {
		flow_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_store_open("flow", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	if (argc != (!strcmp(argv[1], "versions") ? 3 : 4)) {
		cli_store_close(&cs);
		flow_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_store_bot("flow", &cs, argv[2]) == NULL) {
		cli_store_close(&cs);
		return CMD_FAIL;
	}
	if (argc == 3) {
		rc = versions_list(cs.s, argv[2], flow_version_row, &rows, &e);
		if (rc == STORE_OK && rows == 0)
			printf("no versions kept yet (serve keeps them when it starts)\n");
	} else {
		rc = versions_rollback(cs.s, argv[2], argv[3], &found, hash, &e);
		if (rc == STORE_OK && !found)
			rc = store_fail(&e, STORE_PERMANENT, "no version %.64s of %s; "
				"`blueflow flow versions %s` lists them", argv[3], argv[2], argv[2]);
		if (rc == STORE_OK) {
			printf("%s serves version %.12s to new chats\n", argv[2], hash);
			flow_reload(&cs.c);
		}
	}
	if (rc != STORE_OK)
		fprintf(stderr, "blueflow flow: %s\n", e.msg);
	cli_store_close(&cs);
	return rc == STORE_OK ? CMD_OK : CMD_FAIL;
}
