/* cmd.h - the subcommands of the blueflow binary. Each takes the
 * arguments after its name (argv[0] is the command name) and returns the
 * process exit code. */
#ifndef BLUEFLOW_CMD_H
#define BLUEFLOW_CMD_H

#define CMD_OK 0
#define CMD_FAIL 1
#define CMD_USAGE 2

#include <stddef.h>

#include "engine/config.h"
#include "engine/crypto.h"
#include "engine/store.h"

struct flow;

/* Loads a flow for a command; prints its errors on stderr. Returns 0 and
 * the flow in *out, or CMD_FAIL. */
int cmd_flow(const char *file, struct flow **out);

/* What an operator's command works on: the config, its store, and the
 * encryption key when the config names one. */
struct cmd_store {
	struct config c;
	struct crypto_key key;
	struct store *s;
};

/* Loads the config file (from -c in argv, removed there, or the default)
 * and opens its store with the key; problems go to stderr as "blueflow
 * NAME: ...". Returns 0, or CMD_FAIL (nothing left open). */
int cmd_store_open(const char *name, int *argc, char **argv, struct cmd_store *cs);
void cmd_store_close(struct cmd_store *cs);

/* Unix seconds as "2026-11-22T01:30:05Z" into out (len >= 21). */
void cmd_utc(long long secs, char *out, size_t len);

/* The bot called name in the config, or NULL after saying so on stderr. */
const struct config_bot *cmd_store_bot(const char *name, struct cmd_store *cs,
	const char *bot);

int cmd_chat(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_try(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_sender(int argc, char **argv);
int cmd_webhook(int argc, char **argv);

#endif
