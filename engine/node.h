/* node.h - the registry of node types.
 *
 * Each node type lives in its own engine/node_NAME.c and exports one
 * const struct node_type. The registry maps a "type" string to it. */
#ifndef BLUEFLOW_NODE_H
#define BLUEFLOW_NODE_H

#include <json-c/json.h>

struct check;
struct flow_node;
struct step;

struct node_type {
	const char *name;
	int waits;                     /* 1: the node waits for the user */
	const char *const *keys;       /* every key the node accepts, NULL-ended */
	const char *const *reasons;    /* message overrides it accepts, NULL-ended */
	/* Validates obj (at JSON pointer path) and fills n (its common fields
	 * and n->data). Reports every problem through c. Returns 0, or -1
	 * when there was an error. */
	int (*validate)(struct check *c, struct flow_node *n, json_object *obj,
		const char *path);
	/* Sends what the node shows when the chat arrives. Returns NODE_WAIT
	 * when it waits for the user, else where to go at once: a node
	 * index or NODE_END; NODE_FAIL when memory runs out (step.h). */
	int (*enter)(struct step *s, const struct flow_node *n);
	/* Takes the user's update at this node. Returns the next node
	 * index, NODE_STAY after a re-prompt, NODE_END, or NODE_FAIL.
	 * NULL for nodes that never wait. */
	int (*handle)(struct step *s, const struct flow_node *n);
};

extern const struct node_type node_choice;
extern const struct node_type node_text;
extern const struct node_type node_rich_text;
extern const struct node_type node_tg_username;
extern const struct node_type node_cutscene;
extern const struct node_type node_voice_upload;
extern const struct node_type node_file_upload;
extern const struct node_type node_branch;

/* Returns the node type called name, or NULL. */
const struct node_type *node_find(const char *name);

/* Returns the registered types in order, NULL-terminated. */
const struct node_type *const *node_types(void);

#endif
