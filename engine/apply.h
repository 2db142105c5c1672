/* apply.h - one update applied to its chat, in one store transaction:
 * claim the update id (a repeat delivery is answered as the first was,
 * nothing is applied twice) -> lock the chat -> step the flow -> save
 * state, context, outbox calls and transcript -> commit. Any failure
 * rolls everything back and says whether it is transient (answer 503:
 * Telegram re-sends) or permanent (answer 200 and log: the update can
 * never succeed).
 *
 * An update carrying a file has it downloaded first, outside any
 * transaction (no lock is held while talking to Telegram): see
 * apply_update. A transient fault is tried once more when the time
 * allows. */
#ifndef BLUEFLOW_APPLY_H
#define BLUEFLOW_APPLY_H

#include "engine/attach.h"
#include "engine/buf.h"
#include "engine/engine.h"
#include "engine/flow.h"
#include "engine/store.h"
#include "engine/versions.h"
#include "engine/update.h"

/* Everything one update needs: the flow, the bot, the update, whether
 * an inline reply is allowed; where its file is kept and how long it may
 * take. */
struct apply_job {
	const char *bot;
	const struct flow *flow;
	const struct update *u;
	const struct engine_env *env;    /* env->attach: attach_bind's, with attach */
	int inline_reply;
	struct attach *attach;           /* fetches files before the transaction;
	                                    NULL: env->attach fetches in it */
	double retry_by;                 /* a transient fault before this time
	                                    (CLOCK_MONOTONIC seconds) is tried
	                                    once more; 0: never */
	long long now_ms;                /* the timers' clock, unix ms; 0:
	                                    timer_now_ms() */
	struct versions *versions;       /* pin_versions: a chat mid-way on an
	                                    older version steps on it; NULL:
	                                    every chat on flow */
	long outbox_max;                 /* calls that may wait per chat
	                                    (max_chat_outbox); those past it are
	                                    dead letters; 0: any */
};

/* What apply_update did. */
struct apply_result {
	int repeat;                   /* seen before: nothing applied */
	char node_to[FLOW_ID_MAX + 1];/* where the chat is after the step */
	struct buf reply;             /* the inline reply body, "" for none */
	unsigned queued;              /* calls put in the outbox */
	unsigned refused;             /* calls kept as dead letters instead:
	                                 the chat's outbox was full */
	struct step_out out;          /* the step (empty for a repeat) */
	int tries;                    /* 2: the first failed, transiently */
	char first_fault[256];        /* then why */
	const struct flow *flow;      /* the version the step ran on (job's, or
	                                 a cached one: valid until the next
	                                 apply with the same versions) */
};

void apply_result_init(struct apply_result *r);
void apply_result_free(struct apply_result *r);

/* The outcome's name for logs and traces: "repeat" for an update seen
 * before, else the step's ("advanced", "stale", ...). */
const char *apply_outcome_name(const struct apply_result *r);

/* Runs one update in one transaction of s (see the top of this file);
 * an update no chat's flow takes (engine_takes) is left alone. With
 * job->attach, an update carrying a file first has the step run on the
 * chat as it is (read without a lock), which downloads the file the
 * step will want; the transaction then takes that file, and one it does
 * not keep is deleted. A transient fault (or the chat moving on while
 * its file was fetched) is tried once more if it comes before
 * job->retry_by. Returns STORE_OK, or a STORE_ error with e set
 * (everything rolled back, no file left). */
int apply_update(struct store *s, const struct apply_job *job,
	struct apply_result *r, struct store_err *e);

/* Fires timer t (taken from the store) in one transaction of s, as an
 * update is applied: claims -t->id as the update id (a timer fired
 * before is a repeat), locks the chat, deletes the timer's row (gone: it
 * was cancelled, nothing is applied and r->repeat is 1), steps
 * (engine_fire), saves, sets the chat's timers, queues the calls,
 * commits. job->u and job->attach are not used; no reply goes inline.
 * Returns STORE_OK, or a STORE_ error with e set (rolled back). */
int apply_timer(struct store *s, const struct apply_job *job,
	const struct timer *t, struct apply_result *r, struct store_err *e);

#endif
