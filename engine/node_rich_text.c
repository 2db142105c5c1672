/* node_rich_text.c - a free-text answer kept with its formatting
 * (bold, italic, links, ...) as Telegram HTML. Same rules as text. */
#include "engine/check.h"
#include "engine/node.h"
#include "engine/node_text.h"

static const char *const rich_text_keys[] = {
	"type", "node_text", "key_to_save", "next", "min_words", "max_length",
	"pattern", "max_attempts", "on_max_attempts", "messages", NULL
};

static const char *const rich_text_reasons[] = {
	"not_text", "too_few_words", "too_long", "no_match", NULL
};

static int rich_text_handle(struct step *s, const struct flow_node *n)
{
	return node_text_take(s, n, 1);
}

const struct node_type node_rich_text = {
	.name = "rich_text",
	.waits = 1,
	.keys = rich_text_keys,
	.reasons = rich_text_reasons,
	.validate = node_text_check,
	.enter = node_text_enter,
	.handle = rich_text_handle,
};
