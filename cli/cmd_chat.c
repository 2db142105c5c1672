/* cmd_chat.c - `blueflow chat forget BOT CHAT_ID`: deletes what is kept
 * about one chat (a user's request to erase their data). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/attach.h"

static void chat_usage(FILE *f)
{
	fprintf(f, "usage: blueflow chat forget BOT CHAT_ID [-c blueflow.conf]\n"
		"       blueflow chat history BOT CHAT_ID [--format text|jsonl] [-c blueflow.conf]\n\n"
		"history prints the chat's transcript in order, opened with the key\n"
		"(`blueflow chat history --help` says more).\n\n"
		"forget deletes what is kept about the chat: its place in the flow, its\n"
		"answers, its transcript, the calls queued for it, its kept poison\n"
		"updates (blueflow inbox), and the files it\n"
		"uploaded (with their folder under the storage folder). It waits for an\n"
		"update of the chat in flight to finish. If the user writes again, the\n"
		"chat starts afresh.\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Exit status: 0 done, 1 failed or no such chat, 2 usage.\n");
}

struct chat_files {
	const char *storage;
	size_t len;
	int removed;
};

/* Removes one recorded file, if it lies under the storage folder. */
static int chat_unlink(void *arg, const char *path)
{
	struct chat_files *f = arg;
	if (strncmp(path, f->storage, f->len) == 0 && path[f->len] == '/' &&
	    strstr(path + f->len, "/..") == NULL && unlink(path) == 0)
		f->removed++;
	return 0;
}

int cmd_chat(int argc, char **argv)
{
	struct cli_store cs;
	struct store_err e;
	struct chat_files files;
	long long chat_id, rows = 0;
	char *end, err[256];
	int in_dir = 0, rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		chat_usage(stdout);
		return CMD_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "history"))
		return cmd_chat_history(argc, argv);
	if (cli_store_open("chat", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	if (argc != 4 || strcmp(argv[1], "forget") != 0 ||
	    (chat_id = strtoll(argv[3], &end, 10), *end != '\0' || argv[3][0] == '\0')) {
		cli_store_close(&cs);
		chat_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_store_bot("chat forget", &cs, argv[2]) == NULL) {
		cli_store_close(&cs);
		return CMD_FAIL;
	}
	files.storage = cs.c.storage;
	files.len = strlen(cs.c.storage);
	files.removed = 0;
	rc = store_forget(cs.s, argv[2], chat_id, chat_unlink, &files, &rows, &e);
	if (rc != STORE_OK) {
		fprintf(stderr, "blueflow chat forget: %s\n", e.msg);
		cli_store_close(&cs);
		return CMD_FAIL;
	}
	/* files the rows did not name (a crash between download and commit) */
	if (attach_forget(cs.c.storage, argv[2], chat_id, &in_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "blueflow chat forget: the rows are deleted, but not "
			"every file: %s\n", err);
		cli_store_close(&cs);
		return CMD_FAIL;
	}
	if (rows == 0 && files.removed + in_dir == 0) {
		fprintf(stderr, "blueflow chat forget: no chat %lld of %s: nothing is "
			"kept about it (check the id; `blueflow export %s` lists the "
			"chats)\n", chat_id, argv[2], argv[2]);
		cli_store_close(&cs);
		return CMD_FAIL;
	}
	printf("blueflow chat forget: chat %lld of %s: %lld row%s and %d file%s deleted\n",
		chat_id, argv[2], rows, rows == 1 ? "" : "s", files.removed + in_dir,
		files.removed + in_dir == 1 ? "" : "s");
	cli_store_close(&cs);
	return CMD_OK;
}
