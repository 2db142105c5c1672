/* cmd_db.c - `blueflow db migrate`: brings the configured store's schema
 * up to date. Safe to run twice, and from several hosts at once. */
#include <stdio.h>
#include <string.h>

#include "engine/config.h"
#include "engine/diag.h"
#include "engine/store.h"
#include "fcgi/cmd.h"

static void db_usage(FILE *f)
{
	fprintf(f, "usage: blueflow db migrate [-c blueflow.conf] [--db URI]\n\n"
		"Applies the schema migrations the store lacks, each in its own\n"
		"transaction; running it again changes nothing. A database whose\n"
		"schema is newer than this blueflow is refused.\n\n"
		"  -c FILE    the config file (default $BLUEFLOW_CONF, else ./blueflow.conf);\n"
		"             its [server] db names the store\n"
		"  --db URI   the store, instead of the config's: sqlite:PATH or\n"
		"             postgresql://USER@HOST/DB\n\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

/* The store URI: --db, else the config's db. Returns 0 or a CMD_ code. */
static int db_uri(int argc, char **argv, struct config *c, const char **uri)
{
	const char *file = config_path(&argc, argv);
	struct diag d;

	*uri = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			*uri = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			db_usage(stdout);
			return -1;
		} else {
			db_usage(stderr);
			return CMD_USAGE;
		}
	}
	if (file == NULL) {
		db_usage(stderr);
		return CMD_USAGE;
	}
	if (*uri)
		return 0;
	diag_init(&d);
	if (config_load(file, c, &d) != 0) {
		diag_print(&d, stderr, file, 1);
		diag_free(&d);
		return CMD_FAIL;
	}
	diag_free(&d);
	*uri = c->db;
	return 0;
}

int cmd_db(int argc, char **argv)
{
	struct config c;
	struct store *s = NULL;
	struct store_err e;
	const char *uri;
	int applied = 0, rc;

	if (argc < 2 || strcmp(argv[1], "migrate") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			db_usage(stdout);
			return CMD_OK;
		}
		db_usage(stderr);
		return CMD_USAGE;
	}
	memset(&c, 0, sizeof(c));
	rc = db_uri(argc, argv, &c, &uri);
	if (rc != 0) {
		config_free(&c);
		return rc < 0 ? CMD_OK : rc;
	}
	rc = store_open(uri, &s, &e);
	if (rc == STORE_OK)
		rc = s->ops->migrate(s, &applied, &e);
	if (rc != STORE_OK)
		fprintf(stderr, "blueflow db migrate: %s\n", e.msg);
	else
		printf("blueflow db migrate: %s: %d migration%s applied; the schema "
			"is up to date\n", s->ops->name, applied, applied == 1 ? "" : "s");
	store_close(s);
	config_free(&c);
	return rc == STORE_OK ? CMD_OK : CMD_FAIL;
}
