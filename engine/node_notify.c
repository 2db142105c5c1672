/* node_notify.c - a message to the operators: node_text, rendered with
 * the chat's answers, goes to the bot's admin_chat through the outbox
 * (never inline); the user sees nothing and the flow moves on. */
#include <stdio.h>

#include "engine/node.h"
#include "engine/step.h"

static const struct node_key notify_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	{ "node_text", NODE_KEY_TEXT, .hint = "the message for the operators, "
	  "e.g. \"node_text\": \"New sign-up: {{name}}\"", .desc = "The message "
	  "sent to the bot's admin_chat (the config's), with {{key}} values.",
	  NODE_AT(text) },
	{ "next", NODE_KEY_REF, .desc = "The node that follows; without it the "
	  "flow ends.", NODE_AT(next) },
	{ NULL }
};

static int notify_enter(struct step *s, const struct flow_node *n)
{
	json_object *p;
	int after = n->next >= 0 ? n->next : NODE_END;

	if (s->env->admin_chat == 0) {
		snprintf(s->out->warning, sizeof(s->out->warning), "notify \"%s\": "
			"the bot has no admin_chat; nothing sent", n->id);
		return after;
	}
	if (step_render(s, &n->text) != 0)
		return NODE_FAIL;
	p = json_object_new_object();
	if (p == NULL)
		return NODE_FAIL;
	json_object_object_add(p, "chat_id", json_object_new_int64(s->env->admin_chat));
	json_object_object_add(p, "text", json_object_new_string_len(
		s->text.p ? s->text.p : "", (int)s->text.len));
	json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
	if (step_call(s, "sendMessage", p) != 0)
		return NODE_FAIL;
	s->out->calls[s->out->n_calls - 1].chat_id = s->env->admin_chat;
	return after;
}

const struct node_type node_notify = {
	.name = "notify",
	.summary = "A message to the operators: node_text goes to the bot's "
		"admin_chat, then the flow moves on to \"next\" (without it the "
		"flow ends).",
	.waits = 0,
	.look = NODE_LOOK_MESSAGE,
	.keys = notify_keys,
	.enter = notify_enter,
};
