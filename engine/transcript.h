/* transcript.h - reading the transcript back (a chat's history, a bot's
 * funnel) and keeping it, and idle chats, only as long as the config
 * says. Each needs a backend with SQL (not memory:). */
#ifndef BLUEFLOW_TRANSCRIPT_H
#define BLUEFLOW_TRANSCRIPT_H

#include <json-c/json.h>

#include "engine/store.h"

/* One transcript row, opened with the store's key. told is a json-c
 * array of strings (the texts of the messages sent), owned by the
 * caller of fn only for the call. */
struct transcript_row {
	long long update_id, at;          /* at: unix seconds */
	const char *said;
	json_object *told;
	const char *node_from, *node_to, *outcome;
	long long member;                 /* whose state (struct chat); 0: the chat's */
};

/* Calls fn for each transcript row of the chat, in the order they were
 * written; fn returns non-zero to stop. A sealed text that cannot be
 * opened is an error. */
int transcript_each(struct store *s, const char *bot, long long chat_id,
	int (*fn)(void *arg, const struct transcript_row *r), void *arg,
	struct store_err *e);

/* Calls fn with the columns node_from, node_to, outcome, chat_id of each
 * transcript row of bot since (unix seconds; 0: all), in the order they
 * were written: what `blueflow stats` counts. */
int transcript_steps(struct store *s, const char *bot, long long since,
	store_row_fn fn, void *arg, struct store_err *e);

/* Deletes transcript rows older than days, at most limit; *n counts them. */
int transcript_prune(struct store *s, int days, int limit, long long *n,
	struct store_err *e);

/* Deletes the oldest transcript rows of each chat of bot past its keep
 * newest, at most limit; *n counts them. Only chats updated within the
 * last day are looked at (the others were pruned when they were). */
int transcript_prune_chats(struct store *s, const char *bot, long keep, int limit,
	long long *n, struct store_err *e);

/* Calls fn with the columns bot, chat_id of at most limit chats not
 * updated for days. */
int transcript_idle_chats(struct store *s, int days, int limit, store_row_fn fn,
	void *arg, struct store_err *e);

#endif
