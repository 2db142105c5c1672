/* node_text.h - the data of text and rich_text nodes, for the engine. */
#ifndef BLUEFLOW_NODE_TEXT_H
#define BLUEFLOW_NODE_TEXT_H

#include "engine/node.h"

struct text_data {
	int min_words;
	int max_length;           /* characters; 0: Telegram's limit only */
	const void *pattern;      /* pcre2_code, whole-input match; or NULL */
	const char *pattern_src;  /* the pattern as written */
	struct flow_text *suggestions;   /* quick-reply buttons */
	unsigned n_suggestions;
};

struct step;

/* The keys and reasons text and rich_text share. */
extern const struct node_key node_text_keys[];
extern const char *const node_text_reasons[];

/* Keeps the pattern's source; returns 0 or -1 (out of memory). */
int node_text_validate(struct check *c, struct flow_node *n, json_object *obj,
	const char *path);

/* Sends the prompt; returns NODE_WAIT or NODE_FAIL. */
int node_text_enter(struct step *s, const struct flow_node *n);

/* Checks a text answer against the node's rules; on success saves it
 * (as HTML with its formatting when rich is non-zero) and returns
 * n->next; else re-prompts and returns NODE_STAY (NODE_FAIL on OOM). */
int node_text_take(struct step *s, const struct flow_node *n, int rich);

#endif
