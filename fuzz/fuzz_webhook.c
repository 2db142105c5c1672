/* fuzz_webhook.c - libFuzzer target: webhook_serve(), the whole request
 * (routing, method, secret, Content-Length, body, the update through the
 * engine and an in-memory store), with fuzzed request parameters and
 * body.
 *
 * Input: lines "NAME=VALUE" up to an empty line, then the body; without
 * an empty line the whole input is the body. The parameters default to a
 * good webhook POST to bot "demo" (flows/onboarding.json) with its secret
 * and the body's length; a line overrides one of them, "NAME" alone
 * removes it. Bot "open" has no secret. Run with -close_fd_mask=2: every
 * request writes a log line. */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/diag.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/webhook.h"

#ifndef FUZZ_FLOW
#error "FUZZ_FLOW names the flow the fuzzed bots serve"
#endif
#define FUZZ_PARAMS_MAX 16
#define FUZZ_RESET 4096   /* requests before the store starts afresh */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_req {
	char *names[FUZZ_PARAMS_MAX];
	char *values[FUZZ_PARAMS_MAX];   /* NULL: removed */
	unsigned n;
	const char *body;
	size_t len, off;
};

static char fuzz_dir[] = "/tmp/blueflow-fuzz.XXXXXX";
static struct app *fuzz_app;
static struct webhook fuzz_w;
static unsigned fuzz_runs;

static const char *fuzz_param(void *arg, const char *name)
{
	struct fuzz_req *r = arg;
	for (unsigned i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

static int fuzz_read(void *arg, char *buf, int n)
{
	struct fuzz_req *r = arg;
	size_t left = r->len - r->off;
	if ((size_t)n > left)
		n = (int)left;
	memcpy(buf, r->body + r->off, (size_t)n);
	r->off += (size_t)n;
	return n;
}

static int fuzz_write(void *arg, const char *buf, int n)
{
	(void)arg;
	(void)buf;
	return n >= 0 ? 0 : -1;
}

/* Sets name to value (NULL: absent), replacing an earlier setting. */
static void fuzz_set(struct fuzz_req *r, const char *name, size_t nlen,
	const char *value, size_t vlen)
{
	unsigned i;
	for (i = 0; i < r->n; i++)
		if (strlen(r->names[i]) == nlen && memcmp(r->names[i], name, nlen) == 0)
			break;
	if (i == r->n) {
		if (r->n == FUZZ_PARAMS_MAX)
			return;
		r->names[r->n++] = strndup(name, nlen);
	} else {
		free(r->values[i]);
	}
	r->values[i] = value ? strndup(value, vlen) : NULL;
}

static int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void fuzz_cleanup(void)
{
	nftw(fuzz_dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_start(void)
{
	webhook_init(&fuzz_w, fuzz_app, NULL);
	fuzz_w.attach.budget_s = 0.01;   /* one refused connection, no retries */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char conf[256];
	struct diag d;
	FILE *f;

	(void)argc;
	(void)argv;
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_cleanup);
	snprintf(conf, sizeof(conf), "%s/blueflow.conf", fuzz_dir);
	f = fopen(conf, "w");
	if (f == NULL)
		abort();
	fprintf(f, "[server]\ndb = sqlite:%s/unused.db\nlisten = %s/bf.sock\nstorage = %s/files\n"
		"api_base = http://127.0.0.1:1\nmax_body = 65536\nrequest_timeout = 5\n"
		"[bot demo]\nflow = %s\ntoken_env = FUZZ_TOKEN\nsecret_env = FUZZ_SECRET\n"
		"[bot open]\nflow = %s\ntoken_env = FUZZ_TOKEN\ninline_reply = off\n",
		fuzz_dir, fuzz_dir, fuzz_dir, FUZZ_FLOW, FUZZ_FLOW);
	fclose(f);
	setenv("FUZZ_TOKEN", "123456:fuzz", 1);
	setenv("FUZZ_SECRET", "s3cret", 1);
	diag_init(&d);
	if (app_load(conf, &fuzz_app, &d) != 0) {
		diag_print(&d, stderr, conf, 0);
		abort();
	}
	diag_free(&d);
	/* the config takes no memory: store; the fuzzer wants no disk */
	free(fuzz_app->config.db);
	fuzz_app->config.db = strdup("memory:");
	fuzz_start();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *sep = memmem(p, size, "\n\n", 2);
	struct fuzz_req r;
	struct http_io io = { fuzz_param, fuzz_read, fuzz_write, &r };
	char len[32];

	memset(&r, 0, sizeof(r));
	r.body = sep ? sep + 2 : p;
	r.len = (size_t)(end - r.body);
	snprintf(len, sizeof(len), "%zu", r.len);
	fuzz_set(&r, "REQUEST_METHOD", 14, "POST", 4);
	fuzz_set(&r, "DOCUMENT_URI", 12, "/tg/demo", 8);
	fuzz_set(&r, "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN", 36, "s3cret", 6);
	fuzz_set(&r, "CONTENT_LENGTH", 14, len, strlen(len));
	while (sep && p < sep) {
		const char *nl = memchr(p, '\n', (size_t)(sep + 1 - p));
		const char *eq = memchr(p, '=', (size_t)(nl - p));
		if (eq)
			fuzz_set(&r, p, (size_t)(eq - p), eq + 1, (size_t)(nl - eq - 1));
		else
			fuzz_set(&r, p, (size_t)(nl - p), NULL, 0);
		p = nl + 1;
	}
	webhook_serve(&fuzz_w, &io);
	for (unsigned i = 0; i < r.n; i++) {
		free(r.names[i]);
		free(r.values[i]);
	}
	if (++fuzz_runs % FUZZ_RESET == 0) {
		webhook_free(&fuzz_w);
		fuzz_cleanup();
		if (mkdir(fuzz_dir, 0700) != 0)
			abort();
		fuzz_start();
	}
	return 0;
}
