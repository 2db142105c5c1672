/* chat.c - a chat's state as the engine carries it (struct chat in
 * engine.h): set up and released. */
#include <string.h>

#include "engine/engine.h"


int chat_init(struct chat *c, long long chat_id)
{
	memset(c, 0, sizeof(*c));
	c->chat_id = chat_id;
	c->ctx = json_object_new_object();
	return c->ctx ? 0 : -1;
}

void chat_free(struct chat *c)
{
	json_object_put(c->ctx);
	c->ctx = NULL;
}
