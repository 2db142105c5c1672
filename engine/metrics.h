/* metrics.h - counters every process of the pool shares: a region of
 * shared memory made before the workers fork, fixed slots, atomic adds
 * (no locks). Rendered as Prometheus text by /metrics in any worker. */
#ifndef BLUEFLOW_METRICS_H
#define BLUEFLOW_METRICS_H

#include "engine/buf.h"

#define METRICS_BOTS 64
#define METRICS_WORKERS 256
#define METRICS_BUCKETS 13
#define METRICS_TOLD 4096              /* strangers remembered as told today */
#define METRICS_NODES 1024             /* nodes of every bot's flows, counted */
#define METRICS_REASONS 12             /* refusal reasons counted per node */
#define METRICS_ID_MAX 64              /* bytes of a node id (FLOW_ID_MAX) */

struct flow;

/* One node's funnel counters. Slots are claimed by the supervisor (before
 * the workers that count in them fork); ready is set last. */
struct metrics_node {
	int ready;
	int bot;
	char id[METRICS_ID_MAX + 1];
	unsigned long long entered;
	char reason[METRICS_REASONS][24];     /* the last one is "other" */
	unsigned long long refused[METRICS_REASONS];
};
#define METRICS_TIMER_KINDS 6      /* enum timer_kind */
#define METRICS_CHAT_STATUSES 5    /* enum timer_status */
#define METRICS_LATE_BUCKETS 8

enum metrics_result {
	MR_APPLIED, MR_REPEAT, MR_IGNORED, MR_POISON, MR_TRANSIENT, MR_COUNT
};

enum metrics_refusal {
	MF_NOT_FOUND, MF_METHOD, MF_SECRET, MF_TOO_LARGE, MF_BAD_JSON, MF_COUNT
};

enum metrics_worker { MW_NONE, MW_IDLE, MW_BUSY };

struct metrics_bot {
	char name[33];
	char hash[65];                 /* the flow's hash, as a label */
	unsigned long long updates[MR_COUNT];
	unsigned long long not_allowed;  /* updates from users not on the allow-lists */
	unsigned long long finished;     /* chats whose flow ended */
};

struct metrics {
	struct metrics_bot bots[METRICS_BOTS];
	unsigned long long refusals[MF_COUNT];
	unsigned long long bucket[METRICS_BUCKETS + 1];
	unsigned long long latency_count;
	unsigned long long latency_sum_us;
	unsigned char worker[METRICS_WORKERS];
	unsigned long long reloads;
	unsigned long long restarts;
	long long outbox_pending;      /* set by the sender */
	long long outbox_dead;
	long long inbox_dead;          /* updates kept after failing for good, set by the sender */
	unsigned long long told[METRICS_TOLD]; /* a hash of bot and user, with the day */
	struct metrics_node nodes[METRICS_NODES];
	/* timers (engine/timer.h), kept by the sender */
	long long timers_pending;
	unsigned long long timers_fired[METRICS_TIMER_KINDS];
	unsigned long long late_bucket[METRICS_LATE_BUCKETS + 1];
	unsigned long long late_count;
	unsigned long long late_sum_ms;
	long long chats[METRICS_BOTS][METRICS_CHAT_STATUSES];  /* -1: not counted */
};

/* Maps a zeroed region shared with every child forked later; NULL when
 * mmap fails. */
struct metrics *metrics_create(void);

void metrics_destroy(struct metrics *m);

/* The slot of bot name (claimed when new, its hash label updated);
 * -1 when all slots are taken. Call from the supervisor only. */
int metrics_bot(struct metrics *m, const char *name, const char *hash);

void metrics_update(struct metrics *m, int bot, enum metrics_result r);
void metrics_refusal(struct metrics *m, enum metrics_refusal r);
void metrics_latency(struct metrics *m, double seconds);
void metrics_worker(struct metrics *m, int slot, enum metrics_worker state);
void metrics_add(unsigned long long *counter);

/* Claims a slot for each node of bot's flow f (kept when it has one
 * already, so counts survive a reload). Call from the supervisor only.
 * Nodes past METRICS_NODES are not counted. */
void metrics_flow(struct metrics *m, int bot, const struct flow *f);

/* The funnel of one step of a chat of bot: nodes entered (ids, n of
 * them), a refusal at node with reason (NULL: none), the flow ended. */
void metrics_entered(struct metrics *m, int bot, const char *node);
void metrics_refused(struct metrics *m, int bot, const char *node, const char *reason);
void metrics_finished(struct metrics *m, int bot);

/* Counts an update of bot from a user not on its allow-lists. */
void metrics_not_allowed(struct metrics *m, int bot);

/* Whether user was told already on day (days since the epoch) by bot,
 * and marks them told. Two users may share a slot, so now and then one
 * is told twice a day; never more often than that. 0 when m is NULL. */
int metrics_told(struct metrics *m, int bot, long long user, long long day);
/* A timer of kind fired late_s seconds after it was due. */
void metrics_timer(struct metrics *m, int kind, double late_s);

/* Appends the Prometheus text exposition. Returns 0 or -1 when full. */
int metrics_render(const struct metrics *m, struct buf *out);

#endif
