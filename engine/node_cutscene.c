/* node_cutscene.c - a message that needs no answer: with "next" the flow
 * moves on at once, without it the flow ends. */
#include "engine/check.h"
#include "engine/node.h"
#include "engine/step.h"

static const char *const cutscene_keys[] = {
	"type", "node_text", "next", NULL
};

static int cutscene_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	unsigned errors = c->errors;
	check_text(c, obj, "node_text", path, "the message to send, e.g. "
		"\"node_text\": \"Thanks!\"", FLOW_TEXT_MAX, 1, &n->text);
	check_ref(c, obj, "next", path, NULL, &n->next);
	return c->errors == errors ? 0 : -1;
}

static int cutscene_enter(struct step *s, const struct flow_node *n)
{
	if (step_send(s, &n->text, NULL) != 0)
		return NODE_FAIL;
	return n->next >= 0 ? n->next : NODE_END;
}

const struct node_type node_cutscene = {
	.name = "cutscene",
	.waits = 0,
	.keys = cutscene_keys,
	.reasons = NULL,
	.validate = cutscene_validate,
	.enter = cutscene_enter,
	.handle = NULL,
};
