/* cmd_check.c - `blueflow check FLOW.json...`: validates flow files and
 * prints every problem as "FILE: JSON-PATH: CLASS: message"; with -c
 * CONF, the config and every flow it names (as `nginx -t` does). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "engine/buf.h"
#include "engine/config.h"
#include "engine/diag.h"
#include "engine/flow.h"
#include "engine/http.h"
#include "engine/jdoc.h"
#include "engine/node_http.h"

/* Whether file is a JSON Schema (such as flows/flow.schema.json) rather
 * than a flow, so that checking every file of flows/ passes it by. */
static int check_is_json_schema(const char *file)
{
	char err[JDOC_ERR_MAX], path[JDOC_PATH_MAX];
	json_object *root = NULL, *v;
	struct buf b;
	int yes = 0;

	buf_init(&b, FLOW_FILE_MAX);
	if (jdoc_read_file(file, FLOW_FILE_MAX, &b, err, sizeof(err)) == 0 &&
	    jdoc_parse(b.p, b.len, FLOW_DEPTH_MAX, &root, err, sizeof(err),
	    path, sizeof(path)) == 0 &&
	    json_object_object_get_ex(root, "$schema", &v) &&
	    json_object_get_type(v) == json_type_string &&
	    strstr(json_object_get_string(v), "://json-schema.org/") != NULL &&
	    !json_object_object_get_ex(root, "nodes", NULL))
		yes = 1;
	json_object_put(root);
	buf_free(&b);
	return yes;
}

static void check_usage(FILE *f)
{
	fprintf(f, "usage: blueflow check [-q] FLOW.json...\n"
		"       blueflow check [-q] -c blueflow.conf [FLOW.json...]\n\n"
		"Validates each flow file and prints every problem on stderr as\n"
		"  FILE: JSON-PATH: CLASS: message\n"
		"where CLASS is schema, unknown-type, dangling-reference or\n"
		"node-schema; warnings read FILE: JSON-PATH: warning: CLASS: message.\n"
		"A valid file is reported on stdout with its node count and hash.\n\n"
		"  -c FILE       also check the config FILE and every flow its bots\n"
		"                name, as serve reads them (the secrets excepted: they\n"
		"                are in serve's environment), before a restart or reload\n"
		"  -q, --quiet   print errors only: no warnings, nothing for valid files\n\n"
		"Exit status: 0 all valid, 1 any invalid, 2 usage error.\n\n"
		"Examples:\n  blueflow check flows/*.json\n"
		"  blueflow check -c /etc/blueflow/blueflow.conf\n");
}

static int check_flow_file(const char *file, int quiet, const char *bot,
	const char *allow);

/* Warns on each http node of f whose URL no entry of the bot's
 * http_allow (allow; NULL: none) allows. A URL whose host is a template
 * cannot be judged before it runs. */
static void check_http_allow(const char *file, const struct flow *f,
	const char *bot, const char *allow)
{
	char url[FLOW_TEXT_MAX], why[200];
	int literal;

	for (unsigned i = 0; i < f->n_nodes; i++) {
		const char *u = f->nodes[i].type == &node_http ?
			http_node_url(&f->nodes[i]) : NULL;
		const char *t, *host;
		if (u == NULL)
			continue;
		snprintf(url, sizeof(url), "%s", u);
		host = strstr(url, "://");
		t = strstr(url, "{{");
		if (host && t && t < host + 3 + strcspn(host + 3, "/?#"))
			continue;
		if (t)
			url[t - url] = '\0';
		if (!http_allowed(allow, url, &literal, why, sizeof(why)))
			fprintf(stderr, "%s: /nodes/%s/url: warning: http: %s; add it "
				"to [bot %s] http_allow, or the call is refused\n", file,
				f->nodes[i].id, why, bot);
	}
}

/* Checks one flow file; returns 1 when it is invalid. */
static int check_file(const char *file, int quiet)
{
	return check_flow_file(file, quiet, NULL, NULL);
}

/* check_file, and with bot set, its http nodes against allow. */
static int check_flow_file(const char *file, int quiet, const char *bot,
	const char *allow)
{
	struct diag d;
	struct flow *f = NULL;
	int bad;

	if (check_is_json_schema(file)) {
		if (!quiet)
			printf("%s: skipped: a JSON Schema, not a flow\n", file);
		return 0;
	}
	diag_init(&d);
	bad = flow_load(file, &f, &d) != 0;
	diag_print(&d, stderr, file, !quiet);
	if (f && bot && !quiet)
		check_http_allow(file, f, bot, allow);
	if (f && !quiet)
		printf("%s: ok: %u nodes, start \"%s\", hash %.12s\n", file,
			f->n_nodes, f->nodes[f->start].id, f->hash_hex);
	flow_free(f);
	diag_free(&d);
	return bad;
}

/* Checks the config file and every flow it names; returns the number of
 * invalid files. */
static int check_config(const char *conf, int quiet)
{
	struct config c;
	struct diag d;
	int bad = 0;

	diag_init(&d);
	if (config_load(conf, &c, &d) != 0) {
		diag_print(&d, stderr, conf, !quiet);
		diag_free(&d);
		return 1;
	}
	diag_print(&d, stderr, conf, !quiet);
	diag_free(&d);
	if (!quiet)
		printf("%s: ok: %u bot%s\n", conf, c.n_bots, c.n_bots == 1 ? "" : "s");
	for (unsigned i = 0; i < c.n_bots; i++)
		bad += check_flow_file(c.bots[i].flow_file, quiet, c.bots[i].name,
			c.bots[i].http_allow);
	config_free(&c);
	return bad;
}

int cmd_check(int argc, char **argv)
{
	int quiet = 0, files = 0, bad = 0, i, before = argc;
	const char *conf = config_path(&argc, argv);

	if (conf == NULL) {
		fprintf(stderr, "blueflow check: -c needs the config file\n");
		check_usage(stderr);
		return CMD_USAGE;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			check_usage(stdout);
			return CMD_OK;
		} else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
			quiet = 1;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "blueflow check: unknown option \"%s\"\n", argv[i]);
			check_usage(stderr);
			return CMD_USAGE;
		} else {
			break;
		}
	}
	if (argc != before) {   /* -c was given */
		files++;
		bad += check_config(conf, quiet);
	}
	for (; i < argc; i++) {
		files++;
		bad += check_file(argv[i], quiet);
	}
	if (files == 0) {
		fprintf(stderr, "blueflow check: no flow file given\n");
		check_usage(stderr);
		return CMD_USAGE;
	}
	return bad ? CMD_FAIL : CMD_OK;
}
