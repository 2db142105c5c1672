/* webhook.h - serving one HTTP request: POST /tg/NAME (a Telegram
 * webhook), GET /healthz, GET /metrics. */
#ifndef BLUEFLOW_WEBHOOK_H
#define BLUEFLOW_WEBHOOK_H

#include "engine/attach.h"
#include "engine/buf.h"
#include "engine/metrics.h"
#include "engine/store.h"
#include "engine/versions.h"
#include "fcgi/app.h"
#include "fcgi/http.h"

/* What one process keeps from request to request. The store is opened on
 * first use, in the process that uses it (after fork). */
struct webhook {
	struct app *app;
	struct metrics *m;
	struct store *store;
	struct buf body;
	struct buf out;
	int wake_fd;               /* tells the sender calls were queued; -1: none */
	struct attach attach;      /* keeps uploaded files */
	struct versions versions;  /* older flow versions chats are pinned to */
};

void webhook_init(struct webhook *w, struct app *app, struct metrics *m);
void webhook_free(struct webhook *w);

/* Serves one request through io. Never fails: every outcome is an HTTP
 * answer and, for refusals and faults, a log line and a counter. */
void webhook_serve(struct webhook *w, const struct http_io *io);

#endif
