/* cmd_inbox.c - `blueflow inbox list|show|replay|drop`: the updates that
 * failed for good (poison), kept with their body and the reason, to be
 * replayed once the flow (or the bug) is fixed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/apply.h"
#include "engine/flow.h"
#include "engine/inbox.h"
#include "engine/update.h"

#define INBOX_LIST_DEFAULT 100

static void inbox_cmd_usage(FILE *f)
{
	fprintf(f, "usage: blueflow inbox list [--limit N] [-c blueflow.conf]\n"
		"       blueflow inbox show ID [-c blueflow.conf]\n"
		"       blueflow inbox replay ID [-c blueflow.conf]\n"
		"       blueflow inbox drop (ID | --all) [-c blueflow.conf]\n\n"
		"Updates that failed for good (a bug, a flow error) are answered 200,\n"
		"so Telegram stops sending them, and kept here with their body and why,\n"
		"as long as processed update ids are (update_retention_hours). With\n"
		"\"scope\": \"user\" an update of a member's state names the member\n"
		"(list: \"member ID\" after the reason; show: a member line).\n\n"
		"list    the kept updates, oldest first, at most N (default %d)\n"
		"show    one update's reason and body (opened with the config's key)\n"
		"replay  runs it through the bot's flow as it is now (fix the flow and\n"
		"        reload first); its calls go to the outbox. Applied, it leaves\n"
		"        the inbox; an update applied before is not applied again\n"
		"drop    deletes one kept update, or every one with --all\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Exit status: 0 done, 1 failed (or no such ID, or the replay failed), 2 usage.\n",
		INBOX_LIST_DEFAULT);
}

/* Columns: id, bot, update_id, chat_id, at, reason, member. */
static int inbox_cmd_list_row(void *arg, int n, const char *const *c)
{
	int *rows = arg;
	char when[32];

	if (n < 7)
		return 1;
	if ((*rows)++ == 0)
		printf("%-8s %-12s %-12s %-16s %-20s  %s\n", "ID", "BOT", "UPDATE", "CHAT",
			"KEPT", "WHY");
	cli_utc(strtoll(c[4], NULL, 10), CLI_UTC_ISO, when, sizeof(when));
	printf("%-8s %-12s %-12s %-16s %-20s  %s", c[0], c[1], c[2], c[3] ? c[3] : "-",
		when, c[5]);
	if (c[6] && strcmp(c[6], "0") != 0)
		printf("  member %s", c[6]);   /* a member's state (struct chat) */
	putchar('\n');
	return 0;
}

static int inbox_cmd_list(struct cli_store *cs, int limit)
{
	struct store_err e;
	int rows = 0;

	if (inbox_list(cs->s, limit, inbox_cmd_list_row, &rows, &e) != STORE_OK) {
		fprintf(stderr, "blueflow inbox list: %s\n", e.msg);
		return CMD_FAIL;
	}
	if (rows == 0)
		printf("no kept updates\n");
	return CMD_OK;
}

/* Reads kept update id into r; says why not on stderr. */
static int inbox_cmd_read(struct cli_store *cs, const char *what, long long id,
	struct inbox_row *r)
{
	struct store_err e;
	int found;

	if (inbox_get(cs->s, id, r, &found, &e) != STORE_OK) {
		fprintf(stderr, "blueflow inbox %s: %s\n", what, e.msg);
		return -1;
	}
	if (!found) {
		fprintf(stderr, "blueflow inbox %s: no kept update %lld; `blueflow inbox "
			"list` shows them\n", what, id);
		return -1;
	}
	return 0;
}

static int inbox_cmd_show(struct cli_store *cs, long long id)
{
	struct inbox_row r;
	char when[40];
	int rc = CMD_FAIL;

	inbox_row_init(&r);
	if (inbox_cmd_read(cs, "show", id, &r) == 0) {
		cli_utc(r.at, CLI_UTC_WORDS, when, sizeof(when));
		printf("id:        %lld\nbot:       %s\nupdate_id: %lld\n", r.id, r.bot,
			r.update_id);
		if (r.chat_id)
			printf("chat:      %lld\n", r.chat_id);
		if (r.member)
			printf("member:    %lld\n", r.member);
		printf("kept:      %s\nwhy:       %s\n\n%s\n", when, r.reason,
			r.body.p ? r.body.p : "");
		rc = CMD_OK;
	}
	inbox_row_free(&r);
	return rc;
}

/* Applies r's update through the bot's flow as the webhook would, with
 * every call queued; 0 when applied (or applied before), else -1. */
static int inbox_cmd_apply(struct cli_store *cs, const struct inbox_row *r)
{
	const struct config_bot *bot = cli_store_bot("inbox replay", cs, r->bot);
	struct engine_env env = { 0 };
	struct apply_job job = { 0 };
	struct apply_result res;
	struct store_err e;
	struct flow *f = NULL;
	struct update u;
	char err[256];
	int rc = -1;

	if (bot == NULL || cli_flow(bot->flow_file, &f) != 0)
		return -1;
	if (update_parse(r->body.p ? r->body.p : "", r->body.len, &u, err, sizeof(err)) != 0) {
		fprintf(stderr, "blueflow inbox replay: still no usable update: %s\n", err);
		flow_free(f);
		return -1;
	}
	env.bot_username = bot->username;   /* no clock: a late replay is not "too late" */
	job.bot = bot->name;
	job.flow = f;
	job.u = &u;
	job.env = &env;
	apply_result_init(&res);
	if (!engine_takes(&u))
		fprintf(stderr, "blueflow inbox replay: update %lld is nothing a chat's flow "
			"acts on\n", r->update_id);
	else if (apply_update(cs->s, &job, &res, &e) != STORE_OK)
		fprintf(stderr, "blueflow inbox replay: update %lld failed again: %s\n",
			r->update_id, e.msg);
	else {
		printf("blueflow inbox replay: update %lld %s: chat %lld at \"%s\", %u "
			"call%s queued\n", r->update_id, res.repeat ? "was applied before; not "
			"again" : "applied", u.chat_id, res.node_to, res.queued,
			res.queued == 1 ? "" : "s");
		rc = 0;
	}
	apply_result_free(&res);
	update_free(&u);
	flow_free(f);
	return rc;
}

static int inbox_cmd_replay(struct cli_store *cs, long long id)
{
	struct inbox_row r;
	struct store_err e;
	long long n;
	int rc = CMD_FAIL;

	inbox_row_init(&r);
	if (inbox_cmd_read(cs, "replay", id, &r) == 0 && inbox_cmd_apply(cs, &r) == 0) {
		if (inbox_drop(cs->s, id, &n, &e) != STORE_OK)
			fprintf(stderr, "blueflow inbox replay: applied, but not taken out of "
				"the inbox: %s\n", e.msg);
		else
			rc = CMD_OK;
	}
	inbox_row_free(&r);
	return rc;
}

static int inbox_cmd_drop(struct cli_store *cs, long long id)
{
	struct store_err e;
	long long n;

	if (inbox_drop(cs->s, id, &n, &e) != STORE_OK) {
		fprintf(stderr, "blueflow inbox drop: %s\n", e.msg);
		return CMD_FAIL;
	}
	if (n == 0 && id) {
		fprintf(stderr, "blueflow inbox drop: no kept update %lld\n", id);
		return CMD_FAIL;
	}
	printf("blueflow inbox drop: %lld update%s deleted\n", n, n == 1 ? "" : "s");
	return CMD_OK;
}

/* The ID argument (or --all for drop: 0); -1 when there is none. */
static long long inbox_cmd_id(int argc, char **argv, int all_ok)
{
	char *end;
	long long id;

	if (argc != 3)
		return -1;
	if (all_ok && strcmp(argv[2], "--all") == 0)
		return 0;
	id = strtoll(argv[2], &end, 10);
	return *end == '\0' && id > 0 ? id : -1;
}

int cmd_inbox(int argc, char **argv)
{
	struct cli_store cs;
	long long id = 0;
	int limit = INBOX_LIST_DEFAULT, rc;
	const char *sub = argc >= 2 ? argv[1] : "";

	if (argc >= 2 && (!strcmp(sub, "-h") || !strcmp(sub, "--help"))) {
		inbox_cmd_usage(stdout);
		return CMD_OK;
	}
	if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "replay") &&
	    strcmp(sub, "drop")) {
		inbox_cmd_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_store_open("inbox", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	if (!strcmp(sub, "list")) {
		char *end = NULL;
		if (argc == 4 && !strcmp(argv[2], "--limit"))
			limit = (int)strtol(argv[3], &end, 10);
		if ((argc != 2 && argc != 4) || (end && (*end || limit < 1)))
			id = -1;
	} else {
		id = inbox_cmd_id(argc, argv, !strcmp(sub, "drop"));
	}
	if (id < 0) {
		cli_store_close(&cs);
		inbox_cmd_usage(stderr);
		return CMD_USAGE;
	}
	if (!strcmp(sub, "list"))
		rc = inbox_cmd_list(&cs, limit);
	else if (!strcmp(sub, "show"))
		rc = inbox_cmd_show(&cs, id);
	else if (!strcmp(sub, "replay"))
		rc = inbox_cmd_replay(&cs, id);
	else
		rc = inbox_cmd_drop(&cs, id);
	cli_store_close(&cs);
	return rc;
}
