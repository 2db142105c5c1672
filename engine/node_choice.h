/* node_choice.h - the data of a choice node, for the engine. */
#ifndef BLUEFLOW_NODE_CHOICE_H
#define BLUEFLOW_NODE_CHOICE_H

#include <json-c/json.h>

#include "engine/flow.h"

#define CHOICE_MAX 100   /* buttons in one inline keyboard */

struct choice_option {
	const char *key;
	struct flow_text label;
	int next;             /* node index */
	const char *data;     /* callback_data: node id "|" key */
};

struct choice_data {
	struct choice_option *opts;
	unsigned n;
	const char **keys;    /* the options' keys, NULL-terminated */
	int columns;          /* buttons per row */
	int on_answer;        /* CHOICE_REMOVE_KEYBOARD, ... */
	int sets_language;    /* 1: the key pressed is the chat's language */
};

/* What a press does to the pressed message ("on_answer"). */
enum choice_on_answer {
	CHOICE_REMOVE_KEYBOARD,   /* its buttons are removed */
	CHOICE_KEEP,              /* it stays as it is */
	CHOICE_SHOW_ANSWER        /* its text gets " — LABEL", no buttons */
};

struct check;

/* Reads "choices" (choices, an object at cpath, of key -> label) into
 * d->opts, d->keys and d->n, with each button's callback data NODE|KEY
 * of node n. Reports through c. Returns 0, or -1 after an error. */
int node_choice_options(struct check *c, struct flow_node *n,
	json_object *choices, const char *cpath, struct choice_data *d);

struct step;
struct node_edge;

/* Sends the prompt of choice-like node n (its data a struct choice_data)
 * with its keyboard: NODE_WAIT, or NODE_FAIL. */
int node_choice_enter(struct step *s, const struct flow_node *n);

/* The key of n's button key, or NULL when it has none such. */
const char *node_choice_press(const struct flow_node *n, const char *key);

/* Each button of n goes to its own target or to "next"; without good
 * choices (an error is reported) "next" stands for them. */
void node_choice_edges(const struct flow_node *n,
	void (*fn)(void *arg, const struct node_edge *e), void *arg);

/* The inline keyboard of d's options, d->columns to a row (the caller
 * owns it); NULL when memory runs out. */
json_object *node_choice_keyboard(struct step *s, const struct choice_data *d);

#endif
