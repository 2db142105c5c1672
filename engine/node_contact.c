/* node_contact.c - the user's own phone number, shared with a reply
 * keyboard button (request_contact). A contact of someone else is
 * refused. Saves the phone number as Telegram gives it. */
#include <string.h>

#include "engine/check.h"
#include "engine/node.h"
#include "engine/step.h"

struct contact_data {
	struct flow_text button;   /* n == 0: the default label */
};

static const struct node_key contact_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after a good answer, "
	  "e.g. \"next\": \"2\"", .desc = "Where a good answer goes.", NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the phone number is "
	  "saved under, e.g. \"key_to_save\": \"phone\"",
	  .desc = "The name the phone number is saved under.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	NODE_KEY_BACK_ENTRY,
	{ "button", NODE_KEY_BUTTON, .desc = "The label of the \"share my "
	  "phone number\" keyboard button (default \"📱 Share my phone number\").",
	  NODE_DATA_AT(struct contact_data, button) },
	{ NULL }
};

static const char *const contact_reasons[] = {
	"not_contact", "not_own_contact", NULL
};

/* A one-time reply keyboard with the one request_contact button. */
static json_object *contact_keyboard(struct step *s, const struct flow_node *n)
{
	const struct contact_data *d = n->data;
	json_object *markup = json_object_new_object();
	json_object *rows = json_object_new_array(), *row = json_object_new_array();
	json_object *btn = json_object_new_object();
	struct buf label;
	int rc = -1;

	buf_init(&label, 4096);
	if (!markup || !rows || !row || !btn)
		goto out;
	if (d->button.n ? step_render_plain(s, &d->button, &label) :
	    buf_adds(&label, "📱 Share my phone number"))
		goto out;
	json_object_object_add(btn, "text", json_object_new_string(label.p ? label.p : ""));
	json_object_object_add(btn, "request_contact", json_object_new_boolean(1));
	json_object_array_add(row, btn);
	btn = NULL;
	json_object_array_add(rows, row);
	row = NULL;
	json_object_object_add(markup, "keyboard", rows);
	rows = NULL;
	json_object_object_add(markup, "resize_keyboard", json_object_new_boolean(1));
	json_object_object_add(markup, "one_time_keyboard", json_object_new_boolean(1));
	s->chat->keyboard = 1;
	rc = 0;
out:
	buf_free(&label);
	json_object_put(btn);
	json_object_put(row);
	json_object_put(rows);
	if (rc != 0) {
		json_object_put(markup);
		markup = NULL;
	}
	return markup;
}

static int contact_enter(struct step *s, const struct flow_node *n)
{
	json_object *kb = contact_keyboard(s, n);
	if (kb == NULL)
		return NODE_FAIL;
	return step_prompt(s, n, kb);
}

/* Re-prompts with the keyboard (and its Back button) again. */
static int contact_reprompt(struct step *s, const struct flow_node *n,
	const char *reason, const char *fallback)
{
	json_object *kb = contact_keyboard(s, n);
	if (kb == NULL || step_back_button(s, n, &kb) != 0)
		return NODE_FAIL;
	return step_reason(s, n, reason, fallback, kb) ? NODE_FAIL : NODE_STAY;
}

static int contact_handle(struct step *s, const struct flow_node *n)
{
	const struct update *u = s->u;

	if (u->contact_phone == NULL)
		return contact_reprompt(s, n, "not_contact", "Please press the "
			"button below to share your phone number.");
	if (u->contact_user_id == 0 || u->contact_user_id != u->from.id)
		return contact_reprompt(s, n, "not_own_contact", "Please share "
			"your own phone number with the button below.");
	return step_kept(s, n, step_save(s, n->key, u->contact_phone,
		strlen(u->contact_phone)), n->next);
}

const struct node_type node_contact = {
	.name = "contact",
	.summary = "The user's own phone number, shared with a keyboard button; "
		"someone else's contact is refused.",
	.waits = 1,
	.look = NODE_LOOK_QUESTION,
	.keys = contact_keys,
	.reasons = contact_reasons,
	.data_size = sizeof(struct contact_data),
	.enter = contact_enter,
	.handle = contact_handle,
};
