/* node_text.h - the data of text and rich_text nodes, for the engine. */
#ifndef BLUEFLOW_NODE_TEXT_H
#define BLUEFLOW_NODE_TEXT_H

#include <json-c/json.h>

struct check;
struct flow_node;

struct text_data {
	unsigned min_words;
	unsigned max_length;      /* characters; 0: Telegram's limit only */
	const void *pattern;      /* pcre2_code, whole-input match; or NULL */
	const char *pattern_src;
};

/* Validates the keys text and rich_text share and fills n->data. */
int node_text_check(struct check *c, struct flow_node *n, json_object *obj,
	const char *path);

#endif
