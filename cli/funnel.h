/* funnel.h - a bot's funnel from its transcript, per node of its flow:
 * the chats that reached each node, the answers it refused, the chats
 * whose last step ended there with the flow unfinished (left) or ended
 * (finished). What `blueflow stats` prints and `graph --stats` draws. */
#ifndef BLUEFLOW_CLI_FUNNEL_H
#define BLUEFLOW_CLI_FUNNEL_H

#include "engine/flow.h"
#include "engine/store.h"

/* Per node of the flow, by node index; the arrays are the funnel's. */
struct funnel {
	long long *reached, *refused, *left, *ended;
};

/* Counts bot's steps since the unix time since (0: all) in s's
 * transcript, on the nodes of f (steps at nodes f lacks are left out).
 * Returns STORE_OK, or an error in e (then nothing is to be freed). */
int funnel_load(struct store *s, const char *bot, const struct flow *f,
	long long since, struct funnel *fu, struct store_err *e);

void funnel_free(struct funnel *fu);

/* AGE as seconds: 7d, 24h, 30m, or "all" (0); -1 when it is none. */
long long funnel_age(const char *s);

#endif
