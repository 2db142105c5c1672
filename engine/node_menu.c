/* node_menu.c - a menu: a system message (life.h) whose buttons jump to
 * nodes. It is edited in place whenever the chat comes back to it (by a
 * command such as "/menu", or a "next"), and its buttons work wherever
 * the chat is, even after the flow ended. */
#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/life.h"
#include "engine/media.h"
#include "engine/node.h"
#include "engine/node_choice.h"
#include "engine/step.h"

#define MENU_TAG "menu"   /* the tag when the node names none */

/* "choices" (key -> label), then "next_for_choice", one target each. */
static int menu_read(struct check *c, struct flow_node *n, json_object *obj,
	const char *path, const struct node_key *k)
{
	struct choice_data *d = n->data;
	char cpath[JDOC_PATH_MAX], tpath[JDOC_PATH_MAX], kpath[JDOC_PATH_MAX];
	json_object *choices, *targets = NULL, *t;

	jdoc_path(cpath, sizeof(cpath), path, k->name);
	jdoc_path(tpath, sizeof(tpath), path, "next_for_choice");
	if (!json_object_object_get_ex(obj, k->name, &choices)) {
		check_missing(c, path, k->name, k->hint);
		return -1;
	}
	if (json_object_get_type(choices) != json_type_object) {
		check_error(c, DIAG_SCHEMA, cpath, "must be an object of key -> "
			"button label, not %s", jdoc_type_name(choices));
		return -1;
	}
	if (node_choice_options(c, n, choices, cpath, d) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "next_for_choice", &targets) &&
	    json_object_get_type(targets) != json_type_object) {
		check_error(c, DIAG_SCHEMA, tpath, "must be an object of choice "
			"key -> node id, not %s", jdoc_type_name(targets));
		return -1;
	}
	json_object_object_foreach(targets ? targets : choices, key, v) {
		(void)v;
		if (targets && !json_object_object_get_ex(choices, key, NULL)) {
			jdoc_path(kpath, sizeof(kpath), tpath, key);
			check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not one of "
				"the menu's choices", key);
		}
	}
	for (unsigned i = 0; i < d->n; i++) {
		if (targets == NULL || !json_object_object_get_ex(targets, d->opts[i].key, &t)) {
			check_error(c, DIAG_NODE_SCHEMA, tpath, "menu button \"%s\" "
				"leads nowhere; add \"%s\": NODE_ID here", d->opts[i].key,
				d->opts[i].key);
			continue;
		}
		jdoc_path(kpath, sizeof(kpath), tpath, d->opts[i].key);
		check_ref_value(c, t, kpath, &d->opts[i].next);
	}
	return 1;
}

/* A menu is a system message: tagged "menu" unless it says otherwise. */
static int menu_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	char kpath[JDOC_PATH_MAX];

	if (json_object_object_get_ex(obj, "lifecycle", NULL) && n->life != LIFE_SYSTEM) {
		jdoc_path(kpath, sizeof(kpath), path, "lifecycle");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "a menu is always a system "
			"message; remove \"lifecycle\"");
		return -1;
	}
	n->life = LIFE_SYSTEM;
	if (n->tag == NULL)
		n->tag = MENU_TAG;
	((struct choice_data *)n->data)->on_answer = CHOICE_KEEP;
	return 0;
}

static int menu_handle(struct step *s, const struct flow_node *n)
{
	const struct choice_data *d = n->data;

	if (s->press == NULL)
		return step_reason(s, n, "press_button", "Please choose one of the "
			"buttons.", NULL) ? NODE_FAIL : NODE_STAY;
	for (unsigned i = 0; i < d->n; i++)
		if (strcmp(d->opts[i].key, s->press) == 0)
			return d->opts[i].next;
	return NODE_STAY;
}

/* A press leaves the menu as it is: it stays the chat's menu. */
static int menu_pressed(struct step *s, const struct flow_node *n)
{
	(void)s;
	(void)n;
	return 0;
}

static const struct node_key menu_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	NODE_KEY_MEDIA_ENTRY,
	NODE_KEY_MESSAGES_ENTRY,
	{ "columns", NODE_KEY_INT, .min = 1, .max = 8, .has_def = 1, .def = 1,
	  .desc = "Buttons per row.", NODE_DATA_AT(struct choice_data, columns) },
	{ "choices", NODE_KEY_CUSTOM, .hint = "the buttons as key -> label, "
	  "e.g. {\"news\": \"News\", \"help\": \"Help\"}", .read = menu_read,
	  .desc = "The buttons, key -> label (1 to 100); the callback data "
	  "NODE_ID|KEY must fit Telegram's 64 bytes.",
	  .doc = "object of key → label, 1–100",
	  .schema = "{\"type\": \"object\", \"minProperties\": 1, "
	  "\"maxProperties\": 100, \"propertyNames\": {\"type\": \"string\", "
	  "\"minLength\": 1, \"maxLength\": 62}, "
	  "\"additionalProperties\": {\"$ref\": \"#/$defs/labelText\"}}" },
	{ "next_for_choice", NODE_KEY_CUSTOM, .hint = "the node each button "
	  "leads to, e.g. {\"news\": \"news\"}",
	  .desc = "Choice key -> the node that button leads to; every choice "
	  "needs one.", .doc = "object of choice key → node id",
	  .schema = "{\"type\": \"object\", \"minProperties\": 1, "
	  "\"maxProperties\": 100, \"additionalProperties\": "
	  "{\"$ref\": \"#/$defs/nodeRef\"}}" },
	{ NULL }
};

static const char *const menu_reasons[] = { "press_button", NULL };

const struct node_type node_menu = {
	.name = "menu",
	.summary = "A menu: a system message with buttons that jump to nodes. "
		"Coming back to it (a command such as \"/menu\", or a \"next\") "
		"edits the chat's menu in place (its \"tag\", default \"menu\"); its "
		"buttons work wherever the chat is, even after the flow ended.",
	.waits = 1,
	.anywhere = 1,
	.look = NODE_LOOK_BUTTONS,
	.keys = menu_keys,
	.reasons = menu_reasons,
	.data_size = sizeof(struct choice_data),
	.validate = menu_validate,
	.edges = node_choice_edges,
	.enter = node_choice_enter,
	.handle = menu_handle,
	.press = node_choice_press,
	.pressed = menu_pressed,
};
