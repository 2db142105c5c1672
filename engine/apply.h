/* apply.h - one update applied to its chat, in one store transaction:
 * claim the update id (a repeat delivery is answered as the first was,
 * nothing is applied twice) -> lock the chat -> step the flow -> save
 * state, context, outbox calls and transcript -> commit. Any failure
 * rolls everything back and says whether it is transient (answer 503:
 * Telegram re-sends) or permanent (answer 200 and log: the update can
 * never succeed). */
#ifndef BLUEFLOW_APPLY_H
#define BLUEFLOW_APPLY_H

#include "engine/buf.h"
#include "engine/engine.h"
#include "engine/flow.h"
#include "engine/store.h"
#include "engine/update.h"

/* Everything one update needs: the flow, the bot, the update, whether
 * an inline reply is allowed. */
struct apply_job {
	const char *bot;
	const struct flow *flow;
	const struct update *u;
	const struct engine_env *env;
	int inline_reply;
};

/* What apply_update did. */
struct apply_result {
	int repeat;                   /* seen before: nothing applied */
	char node_to[FLOW_ID_MAX + 1];/* where the chat is after the step */
	struct buf reply;             /* the inline reply body, "" for none */
	unsigned queued;              /* calls put in the outbox */
	struct step_out out;          /* the step (empty for a repeat) */
};

void apply_result_init(struct apply_result *r);
void apply_result_free(struct apply_result *r);

/* Runs one update in one transaction of s (see the top of this file);
 * an update no chat's flow takes (engine_takes) is left alone. Returns
 * STORE_OK, or a STORE_ error with e set (everything rolled back). */
int apply_update(struct store *s, const struct apply_job *job,
	struct apply_result *r, struct store_err *e);

#endif
