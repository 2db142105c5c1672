/* intent.h - keyword intents: the flow's "intents", each a list of
 * keywords per language, a priority, a cooldown and the node a chat
 * jumps to when a text it sends holds one of the keywords while its node
 * takes no typed answer (a choice, a menu, an upload ...) or its flow
 * has ended. Keywords match whole words or phrases, case-insensitively by
 * Unicode rules; the highest priority wins (the first listed on a tie);
 * an intent whose cooldown has not run out since it last fired for the
 * chat is passed over. When it fired is kept in the chat's context under
 * INTENT_KEY_PREFIX + its id. */
#ifndef BLUEFLOW_INTENT_H
#define BLUEFLOW_INTENT_H

#include <json-c/json.h>

#include "engine/step.h"

#define INTENT_MAX 64           /* intents in a flow */
#define INTENT_WORDS_MAX 64     /* keywords per language */
#define INTENT_WORD_MAX 64      /* bytes in a keyword */
#define INTENT_ID_MAX 32        /* bytes in an id */
#define INTENT_KEY_PREFIX "flow.intent."

struct check;

/* Reads and checks the flow's "intents" (root is the flow) into
 * c->flow; reports through c. */
void intent_load(struct check *c, json_object *root);

/* The node the chat's text (s->u->text) leads to by an intent, with its
 * firing noted in the context; -1 when no intent takes it; NODE_FAIL
 * when memory runs out. */
int intent_match(struct step *s);

#endif
