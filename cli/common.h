/* common.h - what the commands share: loading a flow, the config or a
 * whole app with their problems printed, opening the operator's store,
 * formatting times. The loaders and cli_store_open return 0, or -1 once
 * they have said why on stderr (the command then exits with CMD_FAIL). */
#ifndef BLUEFLOW_CLI_COMMON_H
#define BLUEFLOW_CLI_COMMON_H

#include <stddef.h>

#include "engine/config.h"
#include "engine/crypto.h"
#include "engine/store.h"

struct app;
struct flow;

/* Loads a flow into *out; prints its errors. */
int cli_flow(const char *file, struct flow **out);

/* Loads the config file into *c; prints its errors and warnings. */
int cli_config(const char *file, struct config *c);

/* Loads the config and every bot's flow and secrets into *out (app_load);
 * prints their errors. */
int cli_app(const char *file, struct app **out);

/* What an operator's command works on: the config, its store, and the
 * encryption key when the config names one. */
struct cli_store {
	struct config c;
	struct crypto_key key;
	struct store *s;
};

/* Loads the config file (from -c in argv, removed there, or the default)
 * and opens its store with the key; problems go to stderr as "blueflow
 * NAME: ...". Nothing is left open on failure. */
int cli_store_open(const char *name, int *argc, char **argv, struct cli_store *cs);
void cli_store_close(struct cli_store *cs);

/* The bot called name in the config, or NULL after saying so on stderr. */
const struct config_bot *cli_store_bot(const char *name, struct cli_store *cs,
	const char *bot);

/* strftime formats for cli_utc. */
#define CLI_UTC_ISO "%Y-%m-%dT%H:%M:%SZ"          /* 2026-11-22T01:30:05Z */
#define CLI_UTC_WORDS "%Y-%m-%d %H:%M:%S UTC"     /* 2026-11-22 01:30:05 UTC */

/* Unix seconds in UTC as fmt says into out (the bare number when the
 * time cannot be shown). */
void cli_utc(long long secs, const char *fmt, char *out, size_t len);

#endif
