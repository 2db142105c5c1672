/* allow.h - who may talk to a bot: the ids of allowed_users and
 * allowed_chats (written in the config, or one a line in a file named
 * with @FILE), and what a stranger is told instead of the flow. */
#ifndef BLUEFLOW_ALLOW_H
#define BLUEFLOW_ALLOW_H

#include <stddef.h>

#include "engine/engine.h"

/* A sorted set of ids. The list owns ids (allow_free releases it). */
struct allow_list {
	long long *ids;
	unsigned n;
};

/* Reads spec, ids separated by commas or spaces, or "@FILE" naming a
 * file of ids (one or more a line, '#' starts a comment), into l.
 * Returns 0, or -1 with the reason in err (l is then empty). */
int allow_load(const char *spec, struct allow_list *l, char *err, size_t errlen);

/* Whether id is in l. */
int allow_has(const struct allow_list *l, long long id);

void allow_free(struct allow_list *l);

/* What a stranger is told: the flow's not_allowed_text (or a built-in
 * sentence) as a sendMessage to u's chat for a message, an
 * answerCallbackQuery for a button press (a popup with the text when
 * tell is set). Fills out (initialised by the caller). Returns 0, or -1
 * when memory runs out. */
int allow_reply(const struct flow *f, const struct update *u, int tell,
	struct step_out *out);

#endif
