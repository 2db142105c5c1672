/* timer.h - time in a flow: durations as flow files write them, the
 * timers a step arms and cancels (reminders, timeouts, inactivity nudges,
 * scheduled messages), and blueflow's clock.
 *
 * A timer is a row of the store (struct timer), armed and cancelled in the
 * transaction of the step that starts or ends the wait (timer_plan says
 * what a step changes), and fired through the apply path (apply_timer):
 * lock the chat, delete the row (gone: it was cancelled), step, save,
 * commit. Its id, negated, is claimed as the step's update id, so a fired
 * timer is recorded like an applied update. */
#ifndef BLUEFLOW_TIMER_H
#define BLUEFLOW_TIMER_H

#include <json-c/json.h>

#include "engine/engine.h"
#include "engine/flow.h"

#define TIMER_DURATION_MAX (366LL * 24 * 3600)   /* seconds */

enum timer_kind {
	TIMER_REMIND,      /* a question not answered after remind_after */
	TIMER_TIMEOUT,     /* ... nor after timeout: on to on_timeout */
	TIMER_INACTIVE,    /* no update from the chat for inactive_after */
	TIMER_SEND_AT,     /* a cutscene's send_at hour came */
	TIMER_DELETE,      /* an ephemeral node's auto_delete_after passed:
	                      its messages are deleted, wherever the chat is */
	TIMER_HTTP,        /* an http node's call, due when the chat arrives */
	TIMER_KINDS
};

/* The cancel bits of the kinds bound to the chat's node. */
#define TIMER_NODE_BITS ((1u << TIMER_REMIND) | (1u << TIMER_TIMEOUT) | \
	(1u << TIMER_SEND_AT) | (1u << TIMER_HTTP))
#define TIMER_ALL_BITS (TIMER_NODE_BITS | (1u << TIMER_INACTIVE))

/* One due event, as stored. */
struct timer {
	long long id;
	char bot[33];
	long long chat_id;
	long long member;              /* whose state of the chat (struct chat) */
	int kind;                      /* enum timer_kind */
	char node[FLOW_ID_MAX + 1];    /* the node it belongs to */
	long long visit;               /* when the chat entered that node, unix ms */
	int n;                         /* the reminder's number, from 1 */
	long long due_ms;              /* unix ms */
};

#define TIMER_ARMS_MAX 8

/* What one step changes of its chat's timers: the kinds (bits) to delete,
 * then the timers to add (their id, bot and chat_id are not used). */
struct timer_plan {
	unsigned cancel;
	struct timer arms[TIMER_ARMS_MAX];
	unsigned n_arms;
};

/* Where a chat stands, for export and /metrics. */
enum timer_status {
	TIMER_CHAT_ACTIVE,      /* in the flow, not waiting for an answer (a
	                      scheduled message pending, a stopped chain) */
	TIMER_CHAT_WAITING,     /* a question is open */
	TIMER_CHAT_FINISHED,    /* the flow ended */
	TIMER_CHAT_INACTIVE,   /* nudged after inactive_after, silent since */
	TIMER_CHAT_FORGOTTEN,   /* erased by the forget command */
	TIMER_CHAT_COUNT
};

/* The status's name: "active", "waiting", ... */
const char *timer_status_name(int status);

/* The status of a chat at node (finished or not); inactive_armed: it has
 * an inactivity timer pending. */
int timer_status(const struct flow *f, const char *node, int finished,
	int inactive_armed);

/* "remind", "timeout", "inactive", "send_at", "delete", "http"; "?" for
 * another value. */
const char *timer_kind_name(int kind);

/* The kind called name, or -1. */
int timer_kind_parse(const char *name);

/* A duration: whole seconds as a number, or a string "90s", "10m", "2h",
 * "3d". Returns 0 with *secs (1 to TIMER_DURATION_MAX), or -1 with why
 * (why_len bytes) saying what is wrong. */
int timer_duration(json_object *v, long long *secs, char *why, size_t why_len);

/* An hour of the day "HH:MM" -> minutes after midnight; -1 when it is
 * not one. */
int timer_clock_time(const char *s);

/* blueflow's clock, unix milliseconds: the system's, shifted by
 * BLUEFLOW_CLOCK_OFFSET (seconds, maybe negative or fractional) when that
 * is set. The shift exists for tests only. */
long long timer_now_ms(void);

/* The first moment after now_ms (unix ms) when the clock in zone (an
 * IANA name; NULL or "": UTC) shows minutes after midnight. */
long long timer_next_local(long long now_ms, const char *zone, int minutes);

/* What a step changes of the chat's timers, into p: o and c are the
 * step's result and the chat after it; fired is the timer the step ran
 * for (NULL for an update); user is 1 for an update from the chat; now_ms
 * the clock. A flow without time keys changes nothing. */
void timer_plan(const struct flow *f, const struct chat *c,
	const struct step_out *o, const struct timer *fired, int user,
	long long now_ms, struct timer_plan *p);

#endif
