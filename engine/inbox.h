/* inbox.h - updates that failed for good (poison: a bug, a flow error),
 * kept in the store's inbox_dead table with their body (sealed when the
 * store has a key) and the reason, for an operator to list, show, replay
 * after a fix, or drop. Kept as long as processed update ids are. Each
 * needs a backend with SQL (not memory:). */
#ifndef BLUEFLOW_INBOX_H
#define BLUEFLOW_INBOX_H

#include <stddef.h>

#include "engine/buf.h"
#include "engine/store.h"

/* One kept update. */
struct inbox_row {
	long long id, update_id, chat_id, at;   /* at: unix seconds */
	long long member;                        /* whose state, or 0 (struct chat) */
	char bot[33];
	char reason[256];
	struct buf body;                         /* the update's JSON, opened */
};

/* Keeps the update (len bytes of body) of bot that failed for reason,
 * for the state of member of the chat (0: the chat's one state, or none
 * known), outside any transaction. Returns STORE_OK or an error. */
int inbox_keep(struct store *s, const char *bot, long long update_id,
	long long chat_id, long long member, const char *reason, const char *body,
	size_t len, struct store_err *e);

/* Calls fn for each kept update, oldest first, at most limit, with the
 * columns id, bot, update_id, chat_id (NULL when none), at, reason,
 * member. */
int inbox_list(struct store *s, int limit, store_row_fn fn, void *arg,
	struct store_err *e);

/* Reads kept update id into r (set up by inbox_row_init); *found 0 when
 * there is none. The body is opened with the store's key. */
void inbox_row_init(struct inbox_row *r);
void inbox_row_free(struct inbox_row *r);
int inbox_get(struct store *s, long long id, struct inbox_row *r, int *found,
	struct store_err *e);

/* Deletes kept update id (0: every one); *n counts them. */
int inbox_drop(struct store *s, long long id, long long *n, struct store_err *e);

/* How many updates are kept. */
int inbox_count(struct store *s, long long *n, struct store_err *e);

/* Deletes kept updates older than hours; *n counts them. */
int inbox_prune(struct store *s, int hours, long long *n, struct store_err *e);

#endif
