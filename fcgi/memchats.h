/* memchats.h - chats and seen update ids kept in memory, in order of
 * first appearance (for replay and try; the real stores come later). */
#ifndef BLUEFLOW_MEMCHATS_H
#define BLUEFLOW_MEMCHATS_H

#include <stddef.h>

#include "engine/engine.h"

struct memchats {
	struct chat *chats;
	size_t n, cap;
	size_t *index;              /* open addressing: chat position + 1 */
	size_t index_cap;
	long long *seen;            /* update ids, open addressing; 0 empty */
	size_t seen_n, seen_cap;
	int seen_zero;              /* update_id 0 was seen */
};

void memchats_init(struct memchats *m);

/* Returns the chat with this id, made fresh when new; NULL when memory
 * runs out. The pointer is valid until the next memchats_get(). */
struct chat *memchats_get(struct memchats *m, long long chat_id);

/* Returns the chat with this id, or NULL when there is none. */
struct chat *memchats_find(struct memchats *m, long long chat_id);

/* Returns 1 when update_id was seen before (and records it), 0 if new. */
int memchats_seen(struct memchats *m, long long update_id);

void memchats_free(struct memchats *m);

#endif
