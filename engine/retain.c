/* retain.c - the retention rules (retain.h). */
#include "engine/retain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attach.h"
#include "engine/inbox.h"
#include "engine/transcript.h"

/* Idle chats found in one batch. */
struct retain_idle {
	char bot[RETAIN_BATCH][33];
	long long chat[RETAIN_BATCH];
	int n;
};

static int retain_idle_row(void *arg, int n, const char *const *c)
{
	struct retain_idle *idle = arg;
	if (n < 2 || idle->n == RETAIN_BATCH)
		return 1;
	snprintf(idle->bot[idle->n], sizeof(idle->bot[0]), "%s", c[0]);
	idle->chat[idle->n++] = strtoll(c[1], NULL, 10);
	return 0;
}

/* Idle chats forgotten as `chat forget` does, their folders removed. */
static int retain_chats(struct store *s, const struct config *c, long long *rows,
	struct store_err *e)
{
	struct retain_idle *idle = calloc(1, sizeof(*idle));
	char err[256];
	int rc, files;

	if (idle == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	rc = transcript_idle_chats(s, c->chat_retention_days, RETAIN_BATCH,
		retain_idle_row, idle, e);
	for (int i = 0; rc == STORE_OK && i < idle->n; i++) {
		long long n = 0;
		rc = store_forget(s, idle->bot[i], idle->chat[i], NULL, NULL, &n, e);
		*rows += n;
		if (rc == STORE_OK && attach_forget(c->storage, idle->bot[i], idle->chat[i],
		    &files, err, sizeof(err)) != 0)
			rc = store_fail(e, STORE_TRANSIENT, "%s", err);
	}
	free(idle);
	return rc;
}

int retain_run(struct store *s, const struct config *c, long long *rows,
	struct store_err *e)
{
	long long n = 0;
	int rc;

	*rows = 0;
	rc = inbox_prune(s, c->update_retention_hours, &n, e);
	*rows += n;
	if (rc == STORE_OK) {
		rc = store_sent_prune(s, &n, e);
		*rows += n;
	}
	if (rc == STORE_OK && c->transcript_retention_days > 0) {
		do {
			rc = transcript_prune(s, c->transcript_retention_days, RETAIN_BATCH, &n, e);
			*rows += n;
		} while (rc == STORE_OK && n == RETAIN_BATCH);
	}
	for (unsigned i = 0; rc == STORE_OK && i < c->n_bots; i++) {
		if (c->bots[i].max_transcript_rows <= 0)
			continue;
		do {
			rc = transcript_prune_chats(s, c->bots[i].name,
				c->bots[i].max_transcript_rows, RETAIN_BATCH, &n, e);
			*rows += n;
		} while (rc == STORE_OK && n == RETAIN_BATCH);
	}
	if (rc == STORE_OK && c->chat_retention_days > 0)
		rc = retain_chats(s, c, rows, e);
	return rc;
}
