/* common.c - what the commands share: loads with their problems printed,
 * the operator's store, times (see common.h). */
#include "cli/common.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "engine/diag.h"
#include "engine/flow.h"
#include "fcgi/app.h"

/* Ends a load: when rc says it failed, prints d (warnings too when asked)
 * as problems of file. Frees d. Returns 0 or -1. */
static int cli_loaded(int rc, struct diag *d, const char *file, int warnings)
{
	if (rc != 0)
		diag_print(d, stderr, file, warnings);
	diag_free(d);
	return rc == 0 ? 0 : -1;
}

int cli_flow(const char *file, struct flow **out)
{
	struct diag d;
	diag_init(&d);
	return cli_loaded(flow_load(file, out, &d), &d, file, 0);
}

int cli_config(const char *file, struct config *c)
{
	struct diag d;
	diag_init(&d);
	return cli_loaded(config_load(file, c, &d), &d, file, 1);
}

int cli_app(const char *file, struct app **out)
{
	struct diag d;
	diag_init(&d);
	return cli_loaded(app_load(file, out, &d), &d, file, 0);
}

int cli_store_open(const char *name, int *argc, char **argv, struct cli_store *cs)
{
	const char *file = config_path(argc, argv);
	struct store_err e;
	char err[256];

	memset(cs, 0, sizeof(*cs));
	if (file == NULL) {
		fprintf(stderr, "blueflow %s: -c needs a file\n", name);
		return -1;
	}
	if (cli_config(file, &cs->c) != 0)
		return -1;
	if (cs->c.encryption_key_env &&
	    crypto_key_from_env(cs->c.encryption_key_env, &cs->key, err, sizeof(err)) != 0) {
		fprintf(stderr, "blueflow %s: %s\n", name, err);
		cli_store_close(cs);
		return -1;
	}
	if (store_open(cs->c.db, &cs->s, &e) != STORE_OK ||
	    store_use_key(cs->s, cs->c.encryption_key_env ? &cs->key : NULL, &e) != STORE_OK) {
		fprintf(stderr, "blueflow %s: %s\n", name, e.msg);
		cli_store_close(cs);
		return -1;
	}
	return 0;
}

void cli_store_close(struct cli_store *cs)
{
	store_close(cs->s);
	cs->s = NULL;
	config_free(&cs->c);
	OPENSSL_cleanse(&cs->key, sizeof(cs->key));
}

const struct config_bot *cli_store_bot(const char *name, struct cli_store *cs,
	const char *bot)
{
	const struct config_bot *b = config_bot(&cs->c, bot);
	if (b == NULL) {
		fprintf(stderr, "blueflow %s: no bot \"%s\" in %s; its [bot NAME] "
			"sections name:", name, bot, cs->c.file);
		for (unsigned i = 0; i < cs->c.n_bots; i++)
			fprintf(stderr, " %s", cs->c.bots[i].name);
		fputc('\n', stderr);
	}
	return b;
}

void cli_utc(long long secs, const char *fmt, char *out, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(out, len, fmt, &tm) == 0)
		snprintf(out, len, "%lld", secs);
}
