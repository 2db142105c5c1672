/* main.c - the blueflow binary: dispatches to a subcommand. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

struct main_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct main_cmd main_cmds[] = {
	{ "chat", cmd_chat, "chat forget BOT CHAT_ID: delete what is kept about a chat" },
	{ "check", cmd_check, "validate flows, or a config and its flows: check -c blueflow.conf" },
	{ "db", cmd_db, "db migrate|prune|rekey: the store's schema, housekeeping, key" },
	{ "export", cmd_export, "export BOT: every chat's answers as CSV or JSON lines" },
	{ "flow", cmd_flow, "flow versions|rollback BOT: the flow versions kept, chats on each" },
	{ "graph", cmd_graph, "graph FLOW.json | --stats BOT: the flow as a Mermaid (or --dot) diagram" },
	{ "inbox", cmd_inbox, "inbox list|show|replay|drop: updates that failed for good" },
	{ "outbox", cmd_outbox, "outbox list|retry|drop [--dead]: calls waiting or given up" },
	{ "replay", cmd_replay, "run updates through a flow offline, print the Bot API calls" },
	{ "schema", cmd_schema, "schema [--markdown]: the JSON Schema of flow files" },
	{ "sender", cmd_sender, "deliver the outbox only: blueflow sender -c blueflow.conf" },
	{ "serve", cmd_serve, "run the pool behind nginx: blueflow serve -c blueflow.conf" },
	{ "webhook", cmd_webhook, "webhook set|info|delete BOT: register the bot with Telegram" },
	{ "stats", cmd_stats, "stats BOT [--since 7d]: the funnel: per node reached, refused, left" },
	{ "tick", cmd_tick, "tick -c blueflow.conf: fire the due timers once (cron on shared hosting)" },
	{ "timers", cmd_timers, "timers list BOT [CHAT_ID]: reminders, timeouts, nudges waiting" },
	{ "try", cmd_try, "play a flow in the terminal: blueflow try flows/onboarding.json" },
	{ NULL, NULL, NULL }
};

static void main_usage(FILE *f)
{
	fprintf(f, "usage: blueflow COMMAND [ARGS...]\n\n"
		"Runs Telegram bots described by JSON flow files.\n\n"
		"Commands:\n");
	for (int i = 0; main_cmds[i].name; i++)
		fprintf(f, "  %-10s %s\n", main_cmds[i].name, main_cmds[i].summary);
	fprintf(f, "\nOptions:\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the version\n\n"
		"`blueflow COMMAND --help` explains a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		main_usage(stderr);
		return CMD_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return CMD_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("blueflow %s\n", PACKAGE_VERSION);
		return CMD_OK;
	}
	for (int i = 0; main_cmds[i].name; i++)
		if (strcmp(argv[1], main_cmds[i].name) == 0)
			return main_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "blueflow: unknown command \"%s\"; `blueflow --help` "
		"lists the commands\n", argv[1]);
	return CMD_USAGE;
}
