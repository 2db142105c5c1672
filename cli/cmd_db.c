/* cmd_db.c - `blueflow db migrate|prune|rekey`: the store's schema, its
 * housekeeping and its encryption key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/retain.h"
#include "engine/versions.h"
#include "engine/config.h"
#include "engine/crypto.h"
#include "engine/store.h"

#define DB_PRUNE_BATCH 1000

static void db_usage(FILE *f)
{
	fprintf(f, "usage: blueflow db migrate [-c blueflow.conf] [--db URI] [--to VERSION]\n"
		"       blueflow db prune   [-c blueflow.conf] [--db URI]\n"
		"       blueflow db rekey   [-c blueflow.conf] [--db URI] [--old-key-env VAR]\n\n"
		"migrate  applies the schema migrations the store lacks (up to VERSION),\n"
		"         each in its own transaction; running it again changes nothing; a\n"
		"         database whose schema is newer than this blueflow is refused.\n"
		"prune    deletes processed update ids older than update_retention_hours\n"
		"         and sent outbox rows older than sent_retention_days, in batches;\n"
		"         kept poison updates (blueflow inbox) as processed ids; transcript\n"
		"         rows older than transcript_retention_days and chats idle past\n"
		"         chat_retention_days (with their answers and files), when set;\n"
		"         the ids of sent messages kept for an edit or delete, after 48 h;\n"
		"         flow versions no unfinished chat is on, but the last served.\n"
		"rekey    re-seals every chat's context, transcript and kept poison\n"
		"         update (blueflow inbox) with the key in\n"
		"         the config's encryption_key_env (or stores them in plaintext when\n"
		"         none is set); VAR holds the key they are sealed with now.\n\n"
		"  -c FILE    the config file (default $BLUEFLOW_CONF, else ./blueflow.conf);\n"
		"             its [server] db names the store\n"
		"  --db URI   the store instead: sqlite:PATH or postgresql://USER@HOST/DB\n\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

struct db_args {
	const char *cmd;
	const char *uri;
	const char *old_key_env;
	int to;
	struct config c;
	int have_config;
};

/* Reads the options; returns 0, -1 for --help, or CMD_USAGE / CMD_FAIL. */
static int db_args(int argc, char **argv, struct db_args *a)
{
	const char *file = config_path(&argc, argv);
	int need_config;

	if (file == NULL)
		return CMD_USAGE;
	a->cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			a->uri = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			a->to = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--old-key-env") == 0 && i + 1 < argc)
			a->old_key_env = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return -1;
		else
			return CMD_USAGE;
	}
	need_config = a->uri == NULL || strcmp(a->cmd, "migrate") != 0;
	if (!need_config)
		return 0;
	if (cli_config(file, &a->c) != 0)
		return CMD_FAIL;
	a->have_config = 1;
	if (a->uri == NULL)
		a->uri = a->c.db;
	return 0;
}

static int db_migrate(struct store *s, struct db_args *a, struct store_err *e)
{
	int applied = 0, rc = s->ops->migrate(s, a->to, &applied, e);
	if (rc == STORE_OK)
		printf("blueflow db migrate: %s: %d migration%s applied; the schema "
			"is up to date%s\n", s->ops->name, applied, applied == 1 ? "" : "s",
			a->to ? " to the version asked for" : "");
	return rc;
}

static int db_prune(struct store *s, struct db_args *a, struct store_err *e)
{
	int n, total = 0, rc;
	do {
		rc = s->ops->prune(s, a->c.update_retention_hours,
			a->c.sent_retention_days, DB_PRUNE_BATCH, &n, e);
		total += n;
	} while (rc == STORE_OK && n > 0);
	if (rc == STORE_OK) {
		long long kept = 0;
		rc = retain_run(s, &a->c, &kept, e);
		total += (int)kept;
	}
	if (rc == STORE_OK) {
		long long old = 0;
		rc = versions_prune(s, &old, e);
		total += (int)old;
	}
	if (rc == STORE_OK)
		printf("blueflow db prune: %d row%s deleted\n", total, total == 1 ? "" : "s");
	return rc;
}

static int db_rekey(struct store *s, struct db_args *a, struct store_err *e)
{
	struct crypto_key old = { { 0 }, 0 }, new = { { 0 }, 0 };
	char err[256];
	int rows = 0, rc;

	if (a->old_key_env && crypto_key_from_env(a->old_key_env, &old, err, sizeof(err)) != 0)
		return store_fail(e, STORE_PERMANENT, "%s", err);
	if (a->c.encryption_key_env &&
	    crypto_key_from_env(a->c.encryption_key_env, &new, err, sizeof(err)) != 0)
		return store_fail(e, STORE_PERMANENT, "%s", err);
	rc = store_use_key(s, a->old_key_env ? &old : NULL, e);
	if (rc)
		return rc;
	s->key = a->c.encryption_key_env ? &new : NULL;
	rc = s->ops->reseal(s, a->old_key_env ? &old : NULL, &rows, e);
	if (rc == STORE_OK)
		rc = s->ops->meta_set(s, "keycheck", "", e);
	if (rc == STORE_OK)
		rc = store_use_key(s, s->key, e);
	if (rc == STORE_OK)
		printf("blueflow db rekey: %d value%s re-sealed %s\n", rows,
			rows == 1 ? "" : "s", s->key ? "with the new key" : "as plaintext");
	OPENSSL_cleanse(&old, sizeof(old));
	OPENSSL_cleanse(&new, sizeof(new));
	return rc;
}

int cmd_db(int argc, char **argv)
{
	struct db_args a;
	struct store *s = NULL;
	struct store_err e;
	int rc;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || (strcmp(argv[1], "migrate") && strcmp(argv[1], "prune") &&
	    strcmp(argv[1], "rekey"))) {
		int help = argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
		db_usage(help ? stdout : stderr);
		return help ? CMD_OK : CMD_USAGE;
	}
	rc = db_args(argc, argv, &a);
	if (rc != 0) {
		if (rc == -1 || rc == CMD_USAGE)
			db_usage(rc == -1 ? stdout : stderr);
		config_free(&a.c);
		return rc == -1 ? CMD_OK : rc;
	}
	rc = store_open(a.uri, &s, &e);
	if (rc == STORE_OK && strcmp(a.cmd, "migrate") == 0)
		rc = db_migrate(s, &a, &e);
	else if (rc == STORE_OK && strcmp(a.cmd, "prune") == 0)
		rc = db_prune(s, &a, &e);
	else if (rc == STORE_OK)
		rc = db_rekey(s, &a, &e);
	if (rc != STORE_OK)
		fprintf(stderr, "blueflow db %s: %s\n", a.cmd, e.msg);
	store_close(s);
	config_free(&a.c);
	return rc == STORE_OK ? CMD_OK : CMD_FAIL;
}
