/* node_choice.h - the data of a choice node, for the engine. */
#ifndef BLUEFLOW_NODE_CHOICE_H
#define BLUEFLOW_NODE_CHOICE_H

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
};

#endif
