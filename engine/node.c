/* node.c - the node type registry. */
#include "engine/node.h"

#include <string.h>

static const struct node_type *const node_registry[] = {
	&node_choice, &node_text, &node_rich_text, &node_tg_username,
	&node_cutscene, &node_voice_upload, &node_file_upload, &node_branch,
	NULL
};

const struct node_type *node_find(const char *name)
{
	for (int i = 0; node_registry[i]; i++)
		if (strcmp(node_registry[i]->name, name) == 0)
			return node_registry[i];
	return NULL;
}

const struct node_type *const *node_types(void)
{
	return node_registry;
}
