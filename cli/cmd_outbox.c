/* cmd_outbox.c - `blueflow outbox list|retry|drop`: the operator's view
 * of calls waiting to be sent and of those given up on (dead letters). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"

#define OUTBOX_LIST_DEFAULT 100
#define OUTBOX_SAYS_CHARS 30       /* characters of a message shown */

static void outbox_usage(FILE *f)
{
	fprintf(f, "usage: blueflow outbox list [--dead] [--limit N] [-c blueflow.conf]\n"
		"       blueflow outbox retry (--dead | ID...) [-c blueflow.conf]\n"
		"       blueflow outbox drop (--dead | ID...) [-c blueflow.conf]\n\n"
		"list   the calls waiting to be sent, oldest first (with --dead: the\n"
		"       calls given up on, with Telegram's reason), at most N (default %d),\n"
		"       each with the start of what it says (its text or caption)\n"
		"retry  puts dead calls back in the queue, due now, their tries reset:\n"
		"       the calls ID..., or every dead call with --dead\n"
		"drop   deletes calls that were not sent: the calls ID..., or every\n"
		"       dead call with --dead\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Exit status: 0 done, 1 failed (or an ID matched nothing), 2 usage.\n",
		OUTBOX_LIST_DEFAULT);
}

/* A time column: unix seconds, or "-" for NULL. */
static void outbox_time(const char *secs, char *out, size_t len)
{
	if (secs == NULL)
		snprintf(out, len, "-");
	else
		cli_utc(strtoll(secs, NULL, 10), CLI_UTC_ISO, out, len);
}

struct outbox_list {
	int dead;
	int rows;
};

/* What a call says: the first OUTBOX_SAYS_CHARS characters of its text
 * or caption, quoted, on one line, padded to the column's width; "-" for
 * a call with neither. */
static void outbox_says(const char *params, char *out, size_t len)
{
	json_object *root = params ? json_tokener_parse(params) : NULL, *v = NULL;
	const char *s = NULL;
	size_t n = 0, chars = 0;

	if (json_object_object_get_ex(root, "text", &v) ||
	    json_object_object_get_ex(root, "caption", &v))
		s = json_object_get_string(v);
	if (s == NULL) {
		snprintf(out, len, "%-*s", OUTBOX_SAYS_CHARS + 3, "-");
		json_object_put(root);
		return;
	}
	out[n++] = '"';
	for (; *s && chars < OUTBOX_SAYS_CHARS && n + 8 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch & 0xC0) != 0x80)
			chars++;
		out[n++] = ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : (char)ch;
	}
	while ((((unsigned char)*s) & 0xC0) == 0x80 && n + 8 < len)
		out[n++] = *s++;   /* the rest of a character cut in two */
	if (*s) {
		memcpy(out + n, "\xe2\x80\xa6", 3);   /* ... */
		n += 3;
		chars++;
	}
	out[n++] = '"';
	for (chars += 2; chars < OUTBOX_SAYS_CHARS + 3 && n + 1 < len; chars++)
		out[n++] = ' ';
	out[n] = '\0';
	json_object_put(root);
}

/* Columns: id, bot, chat_id, method, attempts, next_at, last_error,
 * created_at, params. */
static int outbox_row(void *arg, int n, const char *const *c)
{
	struct outbox_list *l = arg;
	char when[32], made[32], says[4 * OUTBOX_SAYS_CHARS + 16];

	if (n < 9)
		return 1;
	if (l->rows++ == 0)
		printf("%-8s %-12s %-16s %-22s %5s  %-20s  %-*s  %s\n", "ID", "BOT", "CHAT",
			"METHOD", "TRIES", "QUEUED", OUTBOX_SAYS_CHARS + 3, "SAYS",
			l->dead ? "WHY" : "NEXT TRY");
	outbox_time(c[5], when, sizeof(when));
	outbox_time(c[7], made, sizeof(made));
	outbox_says(c[8], says, sizeof(says));
	printf("%-8s %-12s %-16s %-22s %5s  %-20s  %s  %s\n", c[0], c[1], c[2], c[3], c[4],
		made, says, l->dead ? (c[6] ? c[6] : "-") : when);
	return 0;
}

/* Runs fn(id) for each ID argument, or fn(0) for --dead. */
static int outbox_each(struct cli_store *cs, const char *what, int argc, char **argv,
	int (*fn)(struct store *, long long, long long *, struct store_err *))
{
	struct store_err e;
	long long n = 0, total = 0;
	int dead = 0, missing = 0;

	for (int i = 2; i < argc; i++)
		dead |= strcmp(argv[i], "--dead") == 0;
	if (dead) {
		if (fn(cs->s, 0, &total, &e) != STORE_OK) {
			fprintf(stderr, "blueflow outbox %s: %s\n", what, e.msg);
			return CMD_FAIL;
		}
	}
	for (int i = 2; !dead && i < argc; i++) {
		char *end;
		long long id = strtoll(argv[i], &end, 10);
		if (fn(cs->s, id, &n, &e) != STORE_OK) {
			fprintf(stderr, "blueflow outbox %s: %s\n", what, e.msg);
			return CMD_FAIL;
		}
		if (n == 0) {
			fprintf(stderr, "blueflow outbox %s: no %s call %lld; `blueflow "
				"outbox list%s` shows them\n", what, fn == store_outbox_retry ?
				"dead" : "unsent", id, fn == store_outbox_retry ? " --dead" : "");
			missing = 1;
		}
		total += n;
	}
	printf("blueflow outbox %s: %lld call%s %s\n", what, total, total == 1 ? "" : "s",
		fn == store_outbox_retry ? "queued again" : "deleted");
	return missing ? CMD_FAIL : CMD_OK;
}

/* The arguments after the subcommand: --dead, IDs, --limit N. */
static int outbox_args_ok(int argc, char **argv, int is_list, int *limit)
{
	int dead = 0, ids = 0;
	for (int i = 2; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--dead") == 0) {
			dead = 1;
		} else if (is_list && strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			*limit = (int)strtol(argv[++i], &end, 10);
			if (*end || *limit < 1)
				return 0;
		} else if (!is_list && strtoll(argv[i], &end, 10) > 0 && *end == '\0') {
			ids = 1;
		} else {
			return 0;
		}
	}
	return is_list || dead != ids;
}

int cmd_outbox(int argc, char **argv)
{
	struct cli_store cs;
	struct store_err e;
	struct outbox_list l = { 0, 0 };
	int limit = OUTBOX_LIST_DEFAULT, is_list, rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		outbox_usage(stdout);
		return CMD_OK;
	}
	if (argc < 2 || (strcmp(argv[1], "list") && strcmp(argv[1], "retry") &&
	    strcmp(argv[1], "drop"))) {
		outbox_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_store_open("outbox", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	is_list = strcmp(argv[1], "list") == 0;
	if (!outbox_args_ok(argc, argv, is_list, &limit)) {
		cli_store_close(&cs);
		outbox_usage(stderr);
		return CMD_USAGE;
	}
	if (!is_list) {
		rc = outbox_each(&cs, argv[1], argc, argv, strcmp(argv[1], "retry") == 0 ?
			store_outbox_retry : store_outbox_drop);
		cli_store_close(&cs);
		return rc;
	}
	for (int i = 2; i < argc; i++)
		l.dead |= strcmp(argv[i], "--dead") == 0;
	rc = store_outbox_list(cs.s, l.dead, limit, outbox_row, &l, &e);
	if (rc != STORE_OK)
		fprintf(stderr, "blueflow outbox list: %s\n", e.msg);
	else if (l.rows == 0)
		printf("no %s calls\n", l.dead ? "dead" : "pending");
	cli_store_close(&cs);
	return rc == STORE_OK ? CMD_OK : CMD_FAIL;
}
