/* retain.h - keeping things only as long as the config says: kept poison
 * updates (update_retention_hours), transcript rows
 * (transcript_retention_days, and a bot's max_transcript_rows per chat),
 * the ids of sent messages kept for a later edit or delete (48 hours,
 * STORE_SENT_KEEP) and idle chats with their answers,
 * transcript, queued calls and files (chat_retention_days). Run by the
 * pool's background process next to the store's prune, and by db prune. */
#ifndef BLUEFLOW_RETAIN_H
#define BLUEFLOW_RETAIN_H

#include "engine/config.h"
#include "engine/store.h"

#define RETAIN_BATCH 500

/* One pass of every rule; *rows counts what was deleted. Returns
 * STORE_OK or the first error. */
int retain_run(struct store *s, const struct config *c, long long *rows,
	struct store_err *e);

#endif
