/* node_rich_text.c - a free-text answer kept with its formatting
 * (bold, italic, links, ...) as Telegram HTML. Same rules as text. */
#include "engine/node.h"
#include "engine/node_text.h"

static int rich_text_handle(struct step *s, const struct flow_node *n)
{
	return node_text_take(s, n, 1);
}

const struct node_type node_rich_text = {
	.name = "rich_text",
	.summary = "A free-text answer saved with its formatting as Telegram "
		"HTML; the same rules as text.",
	.waits = 1,
	.takes_text = 1,
	.look = NODE_LOOK_QUESTION,
	.html_answers = 1,
	.keys = node_text_keys,
	.reasons = node_text_reasons,
	.data_size = sizeof(struct text_data),
	.validate = node_text_validate,
	.enter = node_text_enter,
	.handle = rich_text_handle,
};
