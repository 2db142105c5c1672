/* versions.h - the flow versions a bot served, kept in the store by hash
 * (table flow_versions, with the canonical JSON the hash is of), so a
 * chat finishes on the version it started with (pin_versions) while new
 * chats get the version served now: the last one deployed that was not
 * seen before, or the one `flow rollback` chose. A process keeps the old
 * versions it loaded in a small cache (struct versions), loading each
 * from the store on first use. Each needs a backend with SQL; on the
 * memory store nothing is kept and every chat runs on the flow given. */
#ifndef BLUEFLOW_VERSIONS_H
#define BLUEFLOW_VERSIONS_H

#include "engine/flow.h"
#include "engine/store.h"

#define VERSIONS_CACHE 8       /* old versions a process keeps loaded */
#define VERSIONS_KEEP 3        /* versions kept however unused: the last served */

struct versions_slot {
	char bot[33];
	char hash[65];
	struct flow *flow;         /* the slot's; NULL: empty */
	unsigned long used;        /* when last picked, for eviction */
};

/* One process's cache of loaded versions. */
struct versions {
	struct versions_slot slots[VERSIONS_CACHE];
	unsigned long clock;
};

void versions_init(struct versions *v);

/* Frees every cached flow. */
void versions_free(struct versions *v);

/* At start and reload: records f as a version of bot (nothing when the
 * store knows it; a version not seen before becomes the one served) and
 * puts the hash of the version served now in served (f's, unless a
 * rollback chose another). On the memory store served is f's. */
int versions_deploy(struct store *s, const char *bot, const struct flow *f,
	char served[65], struct store_err *e);

/* Loads version hash of bot from the store, validated, named name (the
 * flow file's path, for messages and relative paths): *out is the
 * caller's to flow_free, or NULL when the store does not keep it or it
 * does not load. */
int versions_load(struct store *s, const char *bot, const char *hash,
	const char *name, struct flow **out, struct store_err *e);

/* The flow a chat runs its next step on: current, unless the chat is
 * mid-way (not finished) on another version the store keeps, which then
 * comes from v (loaded on first use, the least recently used evicted).
 * v NULL: current. Inside the update's transaction. */
int versions_pick(struct versions *v, struct store *s, const char *bot,
	const struct flow *current, const struct store_chat *sc,
	const struct flow **out, struct store_err *e);

/* Serves version hash (or a unique prefix of it, 6 characters or more)
 * of bot to new chats from the next start or reload: *found 1, or 0 when
 * no kept version matches; more than one match is an error. The full
 * hash goes to hash_out. */
int versions_rollback(struct store *s, const char *bot, const char *hash,
	int *found, char hash_out[65], struct store_err *e);

/* Calls fn for each kept version of bot, the one served first, then by
 * when it was served: hash, created_at (unix seconds), served (1: the
 * one new chats get), chats mid-way on it, chats finished on it. */
int versions_list(struct store *s, const char *bot, store_row_fn fn, void *arg,
	struct store_err *e);

/* Deletes the versions no unfinished chat is on, but the VERSIONS_KEEP
 * served last; *n counts them. */
int versions_prune(struct store *s, long long *n, struct store_err *e);

#endif
