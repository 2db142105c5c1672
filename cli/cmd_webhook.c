/* cmd_webhook.c - `blueflow webhook set|info|delete BOT`: registers the
 * bot's webhook with Telegram (secret token, the update kinds the flow
 * uses, max_connections, and with --certificate a self-signed
 * certificate), shows what Telegram knows, removes it. Safe to run twice.
 * The token comes from the bot's token_env and is never printed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/botapi.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "fcgi/app.h"

static void webhook_usage(FILE *f)
{
	fprintf(f, "usage: blueflow webhook set BOT [--url URL] [--certificate FILE] [--drop-pending]\n"
		"                            [-c CONF]\n"
		"       blueflow webhook info BOT [-c CONF]\n"
		"       blueflow webhook delete BOT [--drop-pending] [-c CONF]\n\n"
		"set     registers https://HOST/tg/BOT (--url, else the bot's url in the\n"
		"        config) with the secret from secret_env, the update kinds the\n"
		"        flow uses and the bot's max_connections; the URL is checked\n"
		"        first: https://, port 443, 80, 88 or 8443 (Telegram's), the\n"
		"        path ending in /tg/BOT\n"
		"info    prints what Telegram knows: the URL, updates waiting, the last\n"
		"        error in words (needs only the bot token, not the secret)\n"
		"delete  removes the webhook\n"
		"--certificate FILE  (set) uploads FILE, the PEM certificate nginx serves,\n"
		"                when it is self-signed, so that Telegram trusts it (not\n"
		"                needed for one from a CA, e.g. Let's Encrypt)\n"
		"--drop-pending  also drop the updates Telegram holds for the bot\n");
}

/* The update kinds the flow can act on. */
static void webhook_allowed(const struct flow *f, struct buf *b)
{
	int buttons = 0;
	for (unsigned i = 0; i < f->n_nodes; i++)
		buttons |= f->nodes[i].type->press != NULL;
	buf_adds(b, buttons ? "[\"message\",\"callback_query\"]" : "[\"message\"]");
}

static int webhook_answer(const char *what, int rc, struct botapi_answer *a)
{
	if (rc != 0) {
		fprintf(stderr, "blueflow webhook %s: no answer from Telegram: %s\n",
			what, a->transport);
		return CMD_FAIL;
	}
	if (!a->ok) {
		fprintf(stderr, "blueflow webhook %s: Telegram refused (%d): %s\n", what,
			a->error_code, a->description);
		return CMD_FAIL;
	}
	return CMD_OK;
}

#define WEBHOOK_CERT_MAX 65536

/* Reads the certificate to upload into *pem (owned by the caller): a PEM
 * certificate and never a private key, which must not leave the host. */
static int webhook_cert(const char *file, char **pem, size_t *len)
{
	FILE *f = fopen(file, "rb");
	char *p;
	size_t n;

	*pem = NULL;
	if (f == NULL) {
		fprintf(stderr, "blueflow webhook set: --certificate %s: %s\n", file,
			strerror(errno));
		return -1;
	}
	p = malloc(WEBHOOK_CERT_MAX + 1);
	n = p ? fread(p, 1, WEBHOOK_CERT_MAX + 1, f) : 0;
	fclose(f);
	if (p == NULL || n > WEBHOOK_CERT_MAX) {
		fprintf(stderr, "blueflow webhook set: --certificate %s: %s\n", file,
			p ? "over 64 KiB, not a certificate" : "out of memory");
		free(p);
		return -1;
	}
	p[n] = '\0';
	if (strstr(p, "PRIVATE KEY-----")) {
		fprintf(stderr, "blueflow webhook set: --certificate %s holds a private key; "
			"give the certificate only (the key never leaves this host)\n", file);
		memset(p, 0, n);
		free(p);
		return -1;
	}
	if (strstr(p, "-----BEGIN CERTIFICATE-----") == NULL) {
		fprintf(stderr, "blueflow webhook set: --certificate %s is not a PEM "
			"certificate (no -----BEGIN CERTIFICATE----- line); give the one "
			"nginx serves (ssl_certificate)\n", file);
		free(p);
		return -1;
	}
	*pem = p;
	*len = n;
	return 0;
}

static int webhook_set(struct botapi *api, const char *token, const struct app_bot *b,
	const char *url, const char *cert, int drop)
{
	struct botapi_answer a;
	struct botapi_file file = { "certificate", "certificate.pem",
		"application/x-pem-file", NULL, 0 };
	char *pem = NULL;
	struct buf p;
	int rc;

	if (url == NULL) {
		fprintf(stderr, "blueflow webhook set: no URL: give --url "
			"https://HOST/tg/%s or set url in [bot %s]\n", b->cfg->name, b->cfg->name);
		return CMD_USAGE;
	}
	if (cert && webhook_cert(cert, &pem, &file.len) != 0)
		return CMD_FAIL;
	file.data = pem;
	buf_init(&p, 8192);
	buf_adds(&p, "{\"url\":");
	jdoc_quote(&p, url, strlen(url));
	buf_addf(&p, ",\"max_connections\":%d,\"allowed_updates\":", b->cfg->max_connections);
	webhook_allowed(b->flow, &p);
	if (b->secret_len) {
		buf_adds(&p, ",\"secret_token\":");
		jdoc_quote(&p, b->secret, b->secret_len);
	}
	buf_addf(&p, ",\"drop_pending_updates\":%s}", drop ? "true" : "false");
	rc = webhook_answer("set", pem ? botapi_call_file(api, token, "setWebhook", p.p,
		&file, &a) : botapi_call(api, token, "setWebhook", p.p, &a), &a);
	if (rc == CMD_OK)
		printf("webhook of %s set to %s (%s%s)\n", b->cfg->name, url,
			b->secret_len ? "with its secret token" : "WITHOUT a secret token: "
			"set secret_env so forged updates are refused",
			pem ? "; certificate uploaded" : "");
	memset(p.p, 0, p.len);
	buf_free(&p);
	free(pem);
	botapi_answer_free(&a);
	return rc;
}

static void webhook_print(json_object *r)
{
	json_object *v;
	const char *url = json_object_object_get_ex(r, "url", &v) ? json_object_get_string(v) : "";
	printf("url: %s\n", *url ? url : "(none: no webhook is set)");
	if (json_object_object_get_ex(r, "pending_update_count", &v))
		printf("updates waiting: %d\n", json_object_get_int(v));
	if (json_object_object_get_ex(r, "has_custom_certificate", &v) &&
	    json_object_get_boolean(v))
		printf("certificate: the self-signed one uploaded with --certificate\n");
	if (json_object_object_get_ex(r, "max_connections", &v))
		printf("max connections: %d\n", json_object_get_int(v));
	if (json_object_object_get_ex(r, "allowed_updates", &v))
		printf("update kinds: %s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	if (json_object_object_get_ex(r, "last_error_date", &v)) {
		json_object *m;
		char when[64];
		cli_utc(json_object_get_int64(v), CLI_UTC_WORDS, when, sizeof(when));
		printf("last error: %s at %s\n", json_object_object_get_ex(r,
			"last_error_message", &m) ? json_object_get_string(m) : "?", when);
	} else {
		printf("last error: none\n");
	}
}

/* set: the whole bot as serve loads it (the flow's update kinds, the
 * secret), the URL checked here before Telegram sees it. */
static int webhook_set_cmd(const char *conf, const char *name, const char *url,
	const char *cert, int drop)
{
	struct app *app = NULL;
	struct app_bot *b;
	struct botapi api;
	char err[256];
	int rc;

	if (cli_app(conf, &app) != 0)
		return CMD_FAIL;
	b = app_bot(app, name, strlen(name));
	if (b == NULL) {
		fprintf(stderr, "blueflow webhook: no bot \"%s\" in %s\n", name, conf);
		app_free(app);
		return CMD_FAIL;
	}
	if (url && config_url_check(url, name, err, sizeof(err)) != 0) {
		fprintf(stderr, "blueflow webhook set: --url %s: %s\n", url, err);
		app_free(app);
		return CMD_FAIL;
	}
	if (botapi_init(&api, app->config.api_base, 5000, 20000) != 0) {
		app_free(app);
		return CMD_FAIL;
	}
	rc = webhook_set(&api, b->token, b, url ? url : b->cfg->url, cert, drop);
	botapi_free(&api);
	app_free(app);
	return rc;
}

/* info and delete: the config and the bot's token are all they need (no
 * flow, no webhook secret). */
static int webhook_ask(const char *conf, const char *what, const char *name, int drop)
{
	const struct config_bot *cb;
	struct config c;
	struct botapi api;
	struct botapi_answer a;
	const char *token;
	int rc;

	if (cli_config(conf, &c) != 0)
		return CMD_FAIL;
	cb = config_bot(&c, name);
	token = cb ? getenv(cb->token_env) : NULL;
	if (cb == NULL || token == NULL || *token == '\0') {
		if (cb == NULL)
			fprintf(stderr, "blueflow webhook: no bot \"%s\" in %s\n", name, conf);
		else
			fprintf(stderr, "blueflow webhook %s: the bot token is missing: set "
				"the environment variable %s (token_env) to the token "
				"@BotFather gave you\n", what, cb->token_env);
		config_free(&c);
		return CMD_FAIL;
	}
	if (botapi_init(&api, c.api_base, 5000, 20000) != 0) {
		config_free(&c);
		return CMD_FAIL;
	}
	if (!strcmp(what, "info")) {
		rc = webhook_answer("info", botapi_call(&api, token, "getWebhookInfo", "{}", &a), &a);
		if (rc == CMD_OK)
			webhook_print(a.result);
	} else {
		rc = webhook_answer("delete", botapi_call(&api, token, "deleteWebhook",
			drop ? "{\"drop_pending_updates\":true}" : "{}", &a), &a);
		if (rc == CMD_OK)
			printf("webhook of %s deleted\n", name);
	}
	botapi_answer_free(&a);
	botapi_free(&api);
	config_free(&c);
	return rc;
}

int cmd_webhook(int argc, char **argv)
{
	const char *conf = config_path(&argc, argv), *url = NULL, *cert = NULL;
	int drop = 0;

	if (argc < 3 || conf == NULL) {
		webhook_usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? CMD_OK : CMD_USAGE;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--url") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "--certificate") && i + 1 < argc &&
		    !strcmp(argv[1], "set"))
			cert = argv[++i];
		else if (!strcmp(argv[i], "--drop-pending"))
			drop = 1;
		else {
			webhook_usage(stderr);
			return CMD_USAGE;
		}
	}
	if (!strcmp(argv[1], "set"))
		return webhook_set_cmd(conf, argv[2], url, cert, drop);
	if (!strcmp(argv[1], "info") || !strcmp(argv[1], "delete"))
		return webhook_ask(conf, argv[1], argv[2], drop);
	webhook_usage(stderr);
	return CMD_USAGE;
}
