/* app.h - one generation of what the pool serves: the config, each bot's
 * validated flow and secret, the encryption key. Loaded by the
 * supervisor before forking (workers share it copy-on-write) and again on
 * reload; never changed once loaded. */
#ifndef BLUEFLOW_APP_H
#define BLUEFLOW_APP_H

#include <stddef.h>

#include "engine/allow.h"
#include "engine/config.h"
#include "engine/crypto.h"
#include "engine/diag.h"
#include "engine/flow.h"
#include "engine/store.h"

#define APP_SECRET_MAX 256

struct app_bot {
	const struct config_bot *cfg;
	struct flow *flow;
	char secret[APP_SECRET_MAX + 1];   /* "" when the bot has none */
	char token[128];                   /* the Bot API token: never log it */
	size_t secret_len;
	int metrics;                       /* slot in the shared metrics */
	int restricted;                    /* allowed_users or allowed_chats set */
	struct allow_list users, chats;    /* read at each load (reload) */
};

struct app {
	struct config config;
	struct app_bot *bots;
	unsigned n_bots;
	struct crypto_key key;
	int have_key;
};

/* Loads and checks the config file, every bot's flow, and the variables
 * the config names (token, secret, key). Every problem goes to d, each
 * naming what to fix. Returns 0 and the app in *out, or -1. */
int app_load(const char *file, struct app **out, struct diag *d);

/* Keeps each bot's flow in s as a version (engine/versions.h) and, where
 * `flow rollback` chose an older one, serves that instead of the file's
 * (logged). Returns STORE_OK or the store's error (the flows are then
 * as loaded). */
int app_versions(struct app *a, struct store *s, struct store_err *e);

/* The bot called name (len bytes), or NULL. */
struct app_bot *app_bot(struct app *a, const char *name, size_t len);

void app_free(struct app *a);

#endif
