/* metrics.h - counters every process of the pool shares: a region of
 * shared memory made before the workers fork, fixed slots, atomic adds
 * (no locks). Rendered as Prometheus text by /metrics in any worker. */
#ifndef BLUEFLOW_METRICS_H
#define BLUEFLOW_METRICS_H

#include "engine/buf.h"

#define METRICS_BOTS 64
#define METRICS_WORKERS 256
#define METRICS_BUCKETS 13
#define METRICS_TIMER_KINDS 4      /* enum timer_kind */
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

/* A timer of kind fired late_s seconds after it was due. */
void metrics_timer(struct metrics *m, int kind, double late_s);

/* Appends the Prometheus text exposition. Returns 0 or -1 when full. */
int metrics_render(const struct metrics *m, struct buf *out);

#endif
