/* cmd_export.c - `blueflow export BOT`: every chat's collected answers,
 * as CSV (one column per context key) or JSON lines, for the operator
 * who needs the data in a spreadsheet or a script. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/flow.h"

static void export_usage(FILE *f)
{
	fprintf(f, "usage: blueflow export BOT [--format csv|jsonl] [-c blueflow.conf]\n\n"
		"Prints every chat of BOT with the answers the flow collected, by chat id.\n"
		"csv (the default): a header row, then one row per chat: chat_id, node,\n"
		"finished, updated_at, status, then one column per answer key (the union over\n"
		"all chats, in the order the flow's nodes save them, as written in the\n"
		"flow file; keys the flow no longer saves follow; empty where a chat\n"
		"has none). A chat that never entered the flow (its only message came\n"
		"too late) is left out. Uploaded files appear\n"
		"as their path on disk. Quoted as RFC 4180 says; an answer that starts\n"
		"with = + - @ or a tab gets a leading ' so a spreadsheet shows it as\n"
		"text instead of running it as a formula.\n"
		"jsonl: one JSON object per chat: {\"chat_id\", \"node\", \"finished\",\n"
		"\"updated_at\", \"status\", \"answers\": {...}}.\n"
		"A flow with \"scope\": \"user\" keeps a state per member of a group: each\n"
		"is a row of its own, with the member's user id (csv: a member column\n"
		"after chat_id, when some chat has members; jsonl: \"member\").\n"
		"status: where the chat stands: waiting (a question is open), active (in\n"
		"the flow, not waiting for an answer), finished, or inactive (nudged after\n"
		"the flow's inactive_after, silent since); empty when the flow file does\n"
		"not load.\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

struct export_state {
	json_object *keys;           /* pass 1: every answer key seen (a set) */
	const char **cols;           /* pass 2: the keys in the flow's order */
	size_t n_cols;
	int jsonl;
	const struct flow *f;        /* NULL: it did not load (no status) */
	long long *inactive;         /* chats with an inactivity timer, ascending */
	size_t n_inactive, at;       /* ... how many; the next to look at */
	int members;                 /* some state is a member's (struct chat) */
	int oom;                     /* memory ran out: the output is cut short */
};

/* 1 for a key the engine keeps for itself (the back button's path,
 * intents' times: "flow." names, which no answer can have). */
static int export_internal(const char *key)
{
	return strncmp(key, "flow.", 5) == 0;
}

/* The chat's answers: its context without the engine's own keys (a new
 * reference), or NULL when memory runs out. */
static json_object *export_answers(const struct store_chat *sc)
{
	json_object *o = json_object_new_object();
	json_object_object_foreach(sc->chat.ctx, k, v) {
		if (o && !export_internal(k) &&
		    json_object_object_add(o, k, json_object_get(v)) != 0) {
			json_object_put(o);
			o = NULL;
		}
	}
	return o;
}

static int export_collect(void *arg, const struct store_chat *sc, long long updated_at)
{
	struct export_state *x = arg;
	(void)updated_at;
	if (sc->chat.node[0] == '\0')
		return 0;   /* never entered the flow */
	x->members |= sc->chat.member != 0;
	json_object_object_foreach(sc->chat.ctx, k, v) {
		(void)v;
		if (!export_internal(k) && !json_object_object_get_ex(x->keys, k, NULL) &&
		    json_object_object_add(x->keys, k, NULL) != 0)
			return x->oom = 1;
	}
	return 0;
}

/* Adds key as the next column unless it is one already. */
static void export_column(struct export_state *x, const char *key)
{
	for (size_t i = 0; i < x->n_cols; i++)
		if (strcmp(x->cols[i], key) == 0)
			return;
	x->cols[x->n_cols++] = key;
}

/* The columns: the keys chats hold, first those the flow's nodes save, in
 * the order the nodes are written (f may be NULL), then the others in the
 * order first seen. Returns -1 when memory runs out. */
static int export_columns(struct export_state *x, const struct flow *f)
{
	x->cols = calloc((size_t)json_object_object_length(x->keys) + 1, sizeof(*x->cols));
	if (x->cols == NULL)
		return -1;
	for (unsigned i = 0; f && i < f->n_nodes; i++)
		if (f->nodes[i].key && json_object_object_get_ex(x->keys, f->nodes[i].key, NULL))
			export_column(x, f->nodes[i].key);
	json_object_object_foreach(x->keys, k, v) {
		(void)v;
		export_column(x, k);
	}
	return 0;
}

/* One CSV field: quoted when it holds a comma, quote, CR or LF, or space
 * at an end; formula_guard for answers (see the usage). */
static void export_field(const char *s, int formula_guard)
{
	size_t n = strlen(s);
	int quote = strpbrk(s, ",\"\r\n") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' '));
	int guard = formula_guard && n && strchr("=+-@\t\r", s[0]) != NULL;

	if (quote)
		putchar('"');
	if (guard)
		putchar('\'');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	if (quote)
		putchar('"');
}

/* The chat's status name, "" without a flow. Chats come by chat id, so
 * the inactivity timers are walked along with them. */
static const char *export_status(struct export_state *x, const struct store_chat *sc)
{
	int armed;

	if (x->f == NULL)
		return "";
	while (x->at < x->n_inactive && x->inactive[x->at] < sc->chat.chat_id)
		x->at++;
	armed = x->at < x->n_inactive && x->inactive[x->at] == sc->chat.chat_id;
	return timer_status_name(timer_status(x->f, sc->chat.node, sc->chat.finished, armed));
}

static int export_row(void *arg, const struct store_chat *sc, long long updated_at)
{
	struct export_state *x = arg;
	char when[32], id[24];
	const char *status;
	json_object *v;

	if (sc->chat.node[0] == '\0')
		return 0;   /* never entered the flow */
	cli_utc(updated_at, CLI_UTC_ISO, when, sizeof(when));
	status = export_status(x, sc);
	if (x->jsonl) {
		json_object *o = json_object_new_object(), *answers = export_answers(sc);
		if (o == NULL || answers == NULL) {
			json_object_put(o);
			json_object_put(answers);
			return x->oom = 1;
		}
		json_object_object_add(o, "chat_id", json_object_new_int64(sc->chat.chat_id));
		if (sc->chat.member)
			json_object_object_add(o, "member", json_object_new_int64(sc->chat.member));
		json_object_object_add(o, "node", json_object_new_string(sc->chat.node));
		json_object_object_add(o, "finished", json_object_new_boolean(sc->chat.finished));
		json_object_object_add(o, "updated_at", json_object_new_string(when));
		json_object_object_add(o, "status", json_object_new_string(status));
		json_object_object_add(o, "answers", answers);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
			JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", sc->chat.chat_id);
	export_field(id, 0);
	putchar(',');
	if (x->members)
		printf("%lld,", sc->chat.member);
	export_field(sc->chat.node, 0);
	printf(",%s,", sc->chat.finished ? "true" : "false");
	export_field(when, 0);
	printf(",%s", status);
	for (size_t i = 0; i < x->n_cols; i++) {
		putchar(',');
		if (json_object_object_get_ex(sc->chat.ctx, x->cols[i], &v))
			export_field(json_object_get_string(v), 1);
	}
	fputs("\r\n", stdout);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_state x = { 0 };
	struct cli_store cs;
	struct store_err e;
	const struct config_bot *cb;
	struct flow *f = NULL;
	const char *bot = NULL;
	struct diag d;
	int rc = CMD_FAIL;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			export_usage(stdout);
			return CMD_OK;
		}
	if (cli_store_open("export", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    (!strcmp(argv[i + 1], "csv") || !strcmp(argv[i + 1], "jsonl")))
			x.jsonl = strcmp(argv[++i], "jsonl") == 0;
		else if (argv[i][0] != '-' && bot == NULL)
			bot = argv[i];
		else
			bot = "";
	}
	if (bot == NULL || *bot == '\0') {
		cli_store_close(&cs);
		export_usage(stderr);
		return CMD_USAGE;
	}
	cb = cli_store_bot("export", &cs, bot);
	if (cb == NULL)
		goto out;
	/* for the statuses and the order of the columns: a flow that does
	 * not load leaves the statuses empty and the columns in the order
	 * first seen */
	diag_init(&d);
	flow_load(cb->flow_file, &f, &d);
	diag_free(&d);
	x.f = f;
	if (f && f->inactive_after > 0 && f->on_inactive >= 0 &&
	    store_timers_inactive(cs.s, bot, &x.inactive, &x.n_inactive, &e) != STORE_OK)
		goto fail;
	if (!x.jsonl) {
		x.keys = json_object_new_object();
		if (x.keys == NULL || store_chats_each(cs.s, bot, export_collect, &x, &e) != STORE_OK)
			goto fail;
		if (x.oom || export_columns(&x, f) != 0) {
			fprintf(stderr, "blueflow export: out of memory\n");
			goto out;
		}
		fputs(x.members ? "chat_id,member,node,finished,updated_at,status" :
			"chat_id,node,finished,updated_at,status", stdout);
		for (size_t i = 0; i < x.n_cols; i++) {
			putchar(',');
			export_field(x.cols[i], 1);
		}
		fputs("\r\n", stdout);
	}
	if (store_chats_each(cs.s, bot, export_row, &x, &e) != STORE_OK)
		goto fail;
	if (x.oom) {
		fprintf(stderr, "blueflow export: out of memory\n");
		goto out;
	}
	rc = fflush(stdout) == 0 ? CMD_OK : CMD_FAIL;
	goto out;
fail:
	fprintf(stderr, "blueflow export: %s\n", e.msg);
out:
	free(x.cols);
	free(x.inactive);
	json_object_put(x.keys);
	flow_free(f);
	cli_store_close(&cs);
	return rc;
}
