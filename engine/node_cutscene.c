/* node_cutscene.c - a message that needs no answer: with "next" the flow
 * moves on at once, without it the flow ends. */
#include "engine/check.h"
#include "engine/node.h"

static const char *const cutscene_keys[] = {
	"type", "node_text", "next", NULL
};

static int cutscene_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	unsigned errors = c->errors;
	check_text(c, obj, "node_text", path, "the message to send, e.g. "
		"\"node_text\": \"Thanks!\"", FLOW_TEXT_MAX, &n->text);
	check_ref(c, obj, "next", path, NULL, &n->next);
	return c->errors == errors ? 0 : -1;
}

const struct node_type node_cutscene = {
	.name = "cutscene",
	.waits = 0,
	.keys = cutscene_keys,
	.reasons = NULL,
	.validate = cutscene_validate,
};
