/* sender.h - the pool's background process: delivers the outbox (see
 * engine/outbox.h) and keeps the store tidy off the hot path (pruning
 * processed update ids and sent outbox rows, in small batches). */
#ifndef BLUEFLOW_SENDER_H
#define BLUEFLOW_SENDER_H

#include "engine/metrics.h"
#include "fcgi/app.h"

#define SENDER_PRUNE_EVERY 600   /* seconds between prunes */
#define SENDER_GAUGE_EVERY 2     /* seconds between outbox counts for /metrics */
#define SENDER_PRUNE_BATCH 500
#define SENDER_TIMERS_MAX 1000     /* timers fired between two outbox steps */
#define SENDER_TIMER_POLL_MS 250   /* longest sleep before looking for timers
                                      armed by other processes */
#define SENDER_STATUS_EVERY 60     /* seconds between counts of chats by status
                                      and of timers pending */

/* Delivers the outbox and prunes until SIGQUIT (calls in flight are
 * finished first) or SIGTERM; in the pool, also when its parent (the
 * supervisor) is gone, as after SIGQUIT. wake_fd (or -1) becomes readable
 * when a worker queued calls. standalone (blueflow sender): SIGINT and
 * SIGTERM stop it gracefully too, and the parent is not watched. Returns
 * the process exit code. */
int sender_run(struct app *app, struct metrics *m, int wake_fd, int standalone);

#endif
