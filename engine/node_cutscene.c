/* node_cutscene.c - a message that needs no answer: with "next" the flow
 * moves on at once, without it the flow ends. */
#include "engine/media.h"
#include "engine/node.h"
#include "engine/step.h"

static const struct node_key cutscene_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	{ "node_text", NODE_KEY_TEXT, .hint = "the message to send, e.g. "
	  "\"node_text\": \"Thanks!\"", .desc = "The message to send.",
	  NODE_AT(text) },
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .desc = "The node that follows; without it the "
	  "flow ends.", NODE_AT(next) },
	{ NULL }
};

static int cutscene_enter(struct step *s, const struct flow_node *n)
{
	if (step_show(s, n, NULL) != 0)
		return NODE_FAIL;
	return n->next >= 0 ? n->next : NODE_END;
}

const struct node_type node_cutscene = {
	.name = "cutscene",
	.summary = "A message that needs no answer: with \"next\" the flow "
		"moves on at once, without it the flow ends.",
	.waits = 0,
	.look = NODE_LOOK_MESSAGE,
	.keys = cutscene_keys,
	.enter = cutscene_enter,
};
