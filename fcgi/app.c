/* app.c - loading a generation: config, flows, secrets. */
#include "fcgi/app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "engine/log.h"
#include "engine/versions.h"

/* Telegram's secret_token: 1 to 256 of A-Z a-z 0-9 _ -. */
static int app_secret_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	return n >= 1 && n <= APP_SECRET_MAX && s[n] == '\0';
}

/* The bot's allow-lists, read now (so a reload re-reads their files). */
static void app_load_lists(struct app_bot *b, const struct config_bot *cfg,
	const char *where, struct diag *d)
{
	char err[512];
	if (cfg->allowed_users && allow_load(cfg->allowed_users, &b->users, err,
	    sizeof(err)) != 0)
		diag_add(d, DIAG_ERROR, "config", where, "allowed_users: %s", err);
	if (cfg->allowed_chats && allow_load(cfg->allowed_chats, &b->chats, err,
	    sizeof(err)) != 0)
		diag_add(d, DIAG_ERROR, "config", where, "allowed_chats: %s", err);
	b->restricted = cfg->allowed_users || cfg->allowed_chats;
}

static void app_load_bot(struct app *a, struct app_bot *b, const struct config_bot *cfg,
	struct diag *d)
{
	struct diag fd;
	const char *v;
	char where[64];

	b->cfg = cfg;
	snprintf(where, sizeof(where), "[bot %s]", cfg->name);
	diag_init(&fd);
	if (access(cfg->flow_file, R_OK) != 0 && errno == EACCES)
		diag_add(d, DIAG_ERROR, "config", where, "flow = %s: cannot open: %s; "
			"make it readable by the user blueflow runs as (uid %u), e.g. "
			"chmod 644 %s, or run blueflow as its owner", cfg->flow_file,
			strerror(errno), (unsigned)getuid(), cfg->flow_file);
	else if (flow_load(cfg->flow_file, &b->flow, &fd) != 0) {
		for (size_t i = 0; i < fd.n; i++)
			if (fd.items[i].level == DIAG_ERROR)
				diag_add(d, DIAG_ERROR, fd.items[i].cls, fd.items[i].path,
					"%s: %s", cfg->flow_file, fd.items[i].msg);
	}
	diag_free(&fd);
	v = getenv(cfg->token_env);
	if (v && strlen(v) < sizeof(b->token))
		snprintf(b->token, sizeof(b->token), "%s", v);
	if (v == NULL || *v == '\0')
		diag_add(d, DIAG_ERROR, "config", where, "the bot token is missing: "
			"set the environment variable %s (token_env) to the token "
			"@BotFather gave you", cfg->token_env);
	if (cfg->secret_env) {
		v = getenv(cfg->secret_env);
		if (v == NULL || *v == '\0')
			diag_add(d, DIAG_ERROR, "config", where, "the webhook secret is "
				"missing: set the environment variable %s (secret_env), e.g. "
				"to what `openssl rand -hex 32` prints, made once and written "
				"as a value", cfg->secret_env);
		else if (!app_secret_ok(v))
			diag_add(d, DIAG_ERROR, "config", where, "the webhook secret in %s "
				"must be 1 to 256 of A-Z, a-z, 0-9, '_' and '-' (Telegram's "
				"rule)", cfg->secret_env);
		else {
			snprintf(b->secret, sizeof(b->secret), "%s", v);
			b->secret_len = strlen(b->secret);
		}
	}
	app_load_lists(b, cfg, where, d);
	(void)a;
}

int app_load(const char *file, struct app **out, struct diag *d)
{
	struct app *a = calloc(1, sizeof(*a));
	size_t errors = d->errors;
	char err[256];

	*out = NULL;
	if (a == NULL) {
		diag_add(d, DIAG_ERROR, "config", "/", "out of memory");
		return -1;
	}
	if (config_load(file, &a->config, d) != 0) {
		free(a);
		return -1;
	}
	a->bots = calloc(a->config.n_bots + 1, sizeof(*a->bots));
	if (a->bots == NULL) {
		app_free(a);
		diag_add(d, DIAG_ERROR, "config", "/", "out of memory");
		return -1;
	}
	a->n_bots = a->config.n_bots;
	for (unsigned i = 0; i < a->n_bots; i++) {
		a->bots[i].metrics = -1;
		app_load_bot(a, &a->bots[i], &a->config.bots[i], d);
	}
	if (a->config.encryption_key_env) {
		if (crypto_key_from_env(a->config.encryption_key_env, &a->key, err, sizeof(err)) != 0)
			diag_add(d, DIAG_ERROR, "config", "[server]", "%s", err);
		else
			a->have_key = 1;
	}
	if (d->errors != errors) {
		app_free(a);
		return -1;
	}
	log_set_level(a->config.log_level ? a->config.log_level : "info");
	*out = a;
	return 0;
}

int app_versions(struct app *a, struct store *s, struct store_err *e)
{
	for (unsigned i = 0; i < a->n_bots; i++) {
		struct app_bot *b = &a->bots[i];
		struct flow *f = NULL;
		struct log_line l;
		char served[65];
		int rc = versions_deploy(s, b->cfg->name, b->flow, served, e);
		if (rc == STORE_OK && strcmp(served, b->flow->hash_hex) != 0)
			rc = versions_load(s, b->cfg->name, served, b->flow->file, &f, e);
		if (rc)
			return rc;
		if (strcmp(served, b->flow->hash_hex) == 0)
			continue;
		log_start(&l, f ? "info" : "warn", "flow version");
		log_str(&l, "bot", b->cfg->name);
		log_str(&l, "file", b->flow->hash_hex);
		log_str(&l, "served", f ? served : b->flow->hash_hex);
		log_str(&l, "msg", f ? "a rollback chose an older version for new chats" :
			"the version a rollback chose does not load; serving the flow file's");
		log_end(&l);
		if (f) {
			flow_free(b->flow);
			b->flow = f;
		}
	}
	return STORE_OK;
}

struct app_bot *app_bot(struct app *a, const char *name, size_t len)
{
	for (unsigned i = 0; i < a->n_bots; i++)
		if (strlen(a->bots[i].cfg->name) == len &&
		    memcmp(a->bots[i].cfg->name, name, len) == 0)
			return &a->bots[i];
	return NULL;
}

void app_free(struct app *a)
{
	if (a == NULL)
		return;
	for (unsigned i = 0; a->bots && i < a->n_bots; i++) {
		flow_free(a->bots[i].flow);
		allow_free(&a->bots[i].users);
		allow_free(&a->bots[i].chats);
		OPENSSL_cleanse(a->bots[i].secret, sizeof(a->bots[i].secret));
		OPENSSL_cleanse(a->bots[i].token, sizeof(a->bots[i].token));
	}
	free(a->bots);
	config_free(&a->config);
	OPENSSL_cleanse(&a->key, sizeof(a->key));
	free(a);
}
