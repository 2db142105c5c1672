/* cmd_history.c - `blueflow chat history BOT CHAT_ID`: a chat's
 * transcript in order, opened with the config's key, as text or JSON
 * lines. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/transcript.h"

static void history_usage(FILE *f)
{
	fprintf(f, "usage: blueflow chat history BOT CHAT_ID [--format text|jsonl] "
		"[-c blueflow.conf]\n\n"
		"Prints what the chat said and was told, oldest first, opened with the\n"
		"key of encryption_key_env when the transcript is sealed.\n"
		"text   (the default) per update: its time, the nodes before and after,\n"
		"       \"> \" and what the user sent, \"< \" and each message sent\n"
		"jsonl  one object per update: update_id, at (unix seconds), said, told\n"
		"       (an array), node_from, node_to, outcome\n"
		"With \"scope\": \"user\" the updates of a group name the member whose\n"
		"state they moved (text: \"member ID\"; jsonl: member).\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Exit status: 0 done, 1 failed or nothing kept for the chat, 2 usage.\n");
}

struct history {
	int jsonl;
	long long rows;
};

/* Writes text with each line after the first indented by two spaces. */
static void history_lines(const char *mark, const char *text)
{
	printf("%s", mark);
	for (; *text; text++) {
		putchar(*text);
		if (*text == '\n' && text[1])
			printf("  ");
	}
	putchar('\n');
}

static int history_row(void *arg, const struct transcript_row *r)
{
	struct history *h = arg;
	char when[40];

	h->rows++;
	if (h->jsonl) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "update_id", json_object_new_int64(r->update_id));
		json_object_object_add(o, "at", json_object_new_int64(r->at));
		json_object_object_add(o, "said", json_object_new_string(r->said));
		json_object_object_add(o, "told", json_object_get(r->told));
		json_object_object_add(o, "node_from", json_object_new_string(r->node_from));
		json_object_object_add(o, "node_to", json_object_new_string(r->node_to));
		json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
		if (r->member)
			json_object_object_add(o, "member", json_object_new_int64(r->member));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
			JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	cli_utc(r->at, CLI_UTC_WORDS, when, sizeof(when));
	printf("%s  update %lld  %s -> %s", when, r->update_id,
		r->node_from[0] ? r->node_from : "(start)", r->node_to[0] ? r->node_to : "-");
	if (r->member)
		printf("  member %lld", r->member);
	putchar('\n');
	history_lines("> ", r->said);
	for (size_t i = 0; i < json_object_array_length(r->told); i++)
		history_lines("< ", json_object_get_string(json_object_array_get_idx(r->told, i)));
	return 0;
}

int cmd_chat_history(int argc, char **argv)
{
	struct history h = { 0, 0 };
	struct cli_store cs;
	struct store_err e;
	long long chat_id;
	char *end;
	int rc;

	if (argc >= 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
		history_usage(stdout);
		return CMD_OK;
	}
	if (cli_store_open("chat", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	if (argc == 6 && !strcmp(argv[4], "--format") &&
	    (!strcmp(argv[5], "text") || !strcmp(argv[5], "jsonl"))) {
		h.jsonl = !strcmp(argv[5], "jsonl");
		argc -= 2;
	}
	if (argc != 4 || argv[3][0] == '\0' ||
	    (chat_id = strtoll(argv[3], &end, 10), *end != '\0')) {
		cli_store_close(&cs);
		history_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_store_bot("chat history", &cs, argv[2]) == NULL) {
		cli_store_close(&cs);
		return CMD_FAIL;
	}
	rc = transcript_each(cs.s, argv[2], chat_id, history_row, &h, &e);
	cli_store_close(&cs);
	if (rc != STORE_OK) {
		fprintf(stderr, "blueflow chat history: %s\n", e.msg);
		return CMD_FAIL;
	}
	if (h.rows == 0) {
		fprintf(stderr, "blueflow chat history: no transcript of chat %lld of %s "
			"(transcript = off, forgotten, or never there)\n", chat_id, argv[2]);
		return CMD_FAIL;
	}
	return CMD_OK;
}
