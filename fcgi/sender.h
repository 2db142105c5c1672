/* sender.h - the pool's background process: store housekeeping off the
 * hot path (pruning processed update ids and sent outbox rows, in small
 * batches); outbox delivery joins it with the Bot API client. */
#ifndef BLUEFLOW_SENDER_H
#define BLUEFLOW_SENDER_H

#include "engine/metrics.h"
#include "fcgi/app.h"

#define SENDER_PRUNE_EVERY 600   /* seconds between prunes */
#define SENDER_PRUNE_BATCH 500

/* Runs until SIGQUIT or SIGTERM. Returns the process exit code. */
int sender_run(struct app *app, struct metrics *m);

#endif
