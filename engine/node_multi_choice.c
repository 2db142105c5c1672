/* node_multi_choice.c - a question answered by toggling inline buttons
 * (a picked one shows "✓ ") and pressing Done; from min to max picks.
 * Saves the picked keys, comma-separated in the order of "choices";
 * the saved value is the selection while the user picks. */
#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/node_choice.h"
#include "engine/step.h"

#define MULTI_DONE ","   /* the Done button's key (no choice key has ',') */

struct multi_data {
	struct choice_data c;
	int min, max;              /* picks; max 0: any number */
	struct flow_text done;     /* n == 0: "Done" */
};

/* "choices": as a choice's, without ',' in a key. */
static int multi_read(struct check *c, struct flow_node *n, json_object *obj,
	const char *path, const struct node_key *k)
{
	struct multi_data *d = n->data;
	char cpath[JDOC_PATH_MAX], kpath[JDOC_PATH_MAX];
	json_object *choices;
	int bad = 0;

	jdoc_path(cpath, sizeof(cpath), path, k->name);
	if (!json_object_object_get_ex(obj, k->name, &choices)) {
		check_missing(c, path, k->name, k->hint);
		return -1;
	}
	if (json_object_get_type(choices) != json_type_object) {
		check_error(c, DIAG_SCHEMA, cpath, "must be an object of key -> "
			"button label, not %s", jdoc_type_name(choices));
		return -1;
	}
	if (node_choice_options(c, n, choices, cpath, &d->c) != 0)
		return -1;
	if (d->c.n > CHOICE_MAX - 1) {
		check_error(c, DIAG_NODE_SCHEMA, cpath, "has %u choices; with the "
			"Done button Telegram shows at most %d", d->c.n, CHOICE_MAX - 1);
		return -1;
	}
	for (unsigned i = 0; i < d->c.n; i++) {
		if (strchr(d->c.opts[i].key, ',') == NULL)
			continue;
		jdoc_path(kpath, sizeof(kpath), cpath, d->c.opts[i].key);
		check_error(c, DIAG_NODE_SCHEMA, kpath, "a multi_choice key must "
			"not hold ',' (the picked keys are saved comma-separated)");
		bad++;
	}
	return bad ? -1 : 1;
}

/* min <= max <= the number of choices. */
static int multi_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct multi_data *d = n->data;
	char kpath[JDOC_PATH_MAX];

	if (d->c.opts == NULL)
		return 0;
	if (d->max && d->max < d->min) {
		jdoc_path(kpath, sizeof(kpath), path, "max");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is %d, less than \"min\" "
			"(%d), so Done could never be pressed", d->max, d->min);
		return -1;
	}
	if ((unsigned)d->min > d->c.n) {
		jdoc_path(kpath, sizeof(kpath), path, "min");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is %d, but there are only "
			"%u choices to pick", d->min, d->c.n);
		return -1;
	}
	(void)obj;
	return 0;
}

/* Marks in picked (d->c.n bytes) the choices listed in value "a,b". */
static unsigned multi_picked(const struct multi_data *d, const char *value,
	unsigned char *picked)
{
	unsigned count = 0;

	memset(picked, 0, d->c.n);
	while (value && *value) {
		size_t len = strcspn(value, ",");
		for (unsigned i = 0; i < d->c.n; i++) {
			const char *k = d->c.opts[i].key;
			if (!picked[i] && strlen(k) == len && strncmp(k, value, len) == 0) {
				picked[i] = 1;
				count++;
			}
		}
		value += len + (value[len] == ',');
	}
	return count;
}

/* The picks saved under the node's key, into picked; their count. */
static unsigned multi_current(struct step *s, const struct flow_node *n,
	unsigned char *picked)
{
	char tmp[32];
	return multi_picked(n->data, step_value(s, n->key, tmp, sizeof(tmp)), picked);
}

/* Saves the picks as "a,b". Returns 0 or -1. */
static int multi_save(struct step *s, const struct flow_node *n,
	const unsigned char *picked)
{
	const struct multi_data *d = n->data;
	struct buf v;
	int rc = 0;

	buf_init(&v, 64 * 1024);
	for (unsigned i = 0; i < d->c.n && rc == 0; i++)
		if (picked[i])
			rc = (v.len && buf_addc(&v, ',')) || buf_adds(&v, d->c.opts[i].key);
	if (rc == 0)
		rc = step_save(s, n->key, v.p ? v.p : "", v.len);
	buf_free(&v);
	return rc;
}

static json_object *multi_button(const char *text, const char *data)
{
	json_object *btn = json_object_new_object();
	if (btn) {
		json_object_object_add(btn, "text", json_object_new_string(text));
		json_object_object_add(btn, "callback_data", json_object_new_string(data));
	}
	return btn;
}

/* The inline keyboard: the choices in rows of columns, "✓ " before the
 * picked ones, then Done. */
static json_object *multi_keyboard(struct step *s, const struct flow_node *n,
	const unsigned char *picked)
{
	const struct multi_data *d = n->data;
	unsigned cols = d->c.columns > 0 ? (unsigned)d->c.columns : 1;
	json_object *markup = json_object_new_object();
	json_object *rows = json_object_new_array(), *row = NULL, *btn;
	char data[FLOW_CALLBACK_MAX + 1];
	struct buf label;

	buf_init(&label, 4096);
	if (markup == NULL || rows == NULL) {
		json_object_put(rows);
		goto fail;
	}
	json_object_object_add(markup, "inline_keyboard", rows);
	for (unsigned i = 0; i <= d->c.n; i++) {
		buf_reset(&label);
		if (i < d->c.n && picked[i] && buf_adds(&label, "✓ "))
			goto fail;
		if (i < d->c.n) {
			struct buf one;
			int rc;
			buf_init(&one, 4096);
			rc = step_render_plain(s, &d->c.opts[i].label, &one) ||
				buf_add(&label, one.p ? one.p : "", one.len);
			buf_free(&one);
			if (rc)
				goto fail;
			btn = multi_button(label.p, d->c.opts[i].data);
		} else {
			if (d->done.n ? step_render_plain(s, &d->done, &label) :
			    buf_adds(&label, "Done"))
				goto fail;
			snprintf(data, sizeof(data), "%s|" MULTI_DONE, n->id);
			btn = multi_button(label.p ? label.p : "", data);
		}
		if (i % cols == 0 || i == d->c.n) {
			row = json_object_new_array();
			if (row == NULL || json_object_array_add(rows, row) != 0) {
				json_object_put(row);
				json_object_put(btn);
				goto fail;
			}
		}
		if (btn == NULL || json_object_array_add(row, btn) != 0) {
			json_object_put(btn);
			goto fail;
		}
	}
	buf_free(&label);
	return markup;
fail:
	buf_free(&label);
	json_object_put(markup);
	return NULL;
}

static int multi_enter(struct step *s, const struct flow_node *n)
{
	unsigned char picked[CHOICE_MAX];
	json_object *kb;

	multi_current(s, n, picked);
	kb = multi_keyboard(s, n, picked);
	if (kb == NULL)
		return NODE_FAIL;
	return step_prompt(s, n, kb);
}

/* Edits the pressed message's keyboard to show picked. */
static int multi_show(struct step *s, const struct flow_node *n,
	const unsigned char *picked)
{
	json_object *kb = multi_keyboard(s, n, picked), *p;

	if (kb == NULL || step_back_button(s, n, &kb) != 0)
		return -1;
	p = step_params(s);
	if (p == NULL) {
		json_object_put(kb);
		return -1;
	}
	json_object_object_add(p, "message_id", json_object_new_int64(s->u->message_id));
	json_object_object_add(p, "reply_markup", kb);
	return step_call(s, "editMessageReplyMarkup", p);
}

/* A message for reason, with the keyboard again when again is set. */
static int multi_reprompt(struct step *s, const struct flow_node *n,
	const unsigned char *picked, const char *reason, const char *fallback)
{
	json_object *kb = multi_keyboard(s, n, picked);
	if (kb == NULL || step_back_button(s, n, &kb) != 0)
		return NODE_FAIL;
	return step_reason(s, n, reason, fallback, kb) ? NODE_FAIL : NODE_STAY;
}

static int multi_handle(struct step *s, const struct flow_node *n)
{
	const struct multi_data *d = n->data;
	unsigned char picked[CHOICE_MAX];
	unsigned count = multi_current(s, n, picked), i;
	char msg[80];

	if (s->press == NULL)
		return multi_reprompt(s, n, picked, "press_button", "Please use "
			"the buttons, then press Done.");
	if (strcmp(s->press, MULTI_DONE) == 0) {
		if (count < (unsigned)d->min) {
			snprintf(msg, sizeof(msg), "Please pick at least %d.", d->min);
			return multi_reprompt(s, n, picked, "too_few", msg);
		}
		if (step_remove_keyboard(s) != 0 || multi_save(s, n, picked) != 0)
			return NODE_FAIL;
		return n->next;
	}
	for (i = 0; i < d->c.n && strcmp(d->c.opts[i].key, s->press) != 0; i++)
		;
	if (i == d->c.n)
		return NODE_SAME;
	if (!picked[i] && d->max && count >= (unsigned)d->max) {
		snprintf(msg, sizeof(msg), "You can pick at most %d.", d->max);
		return multi_reprompt(s, n, picked, "too_many", msg);
	}
	picked[i] = !picked[i];
	if (multi_save(s, n, picked) != 0 || multi_show(s, n, picked) != 0)
		return NODE_FAIL;
	return NODE_SAME;
}

/* The press is answered by handle(): a toggle edits the keyboard. */
static int multi_pressed(struct step *s, const struct flow_node *n)
{
	(void)s;
	(void)n;
	return 0;
}

static const char *multi_press(const struct flow_node *n, const char *key)
{
	const struct multi_data *d = n->data;
	if (strcmp(key, MULTI_DONE) == 0)
		return MULTI_DONE;
	for (unsigned i = 0; i < d->c.n; i++)
		if (strcmp(d->c.opts[i].key, key) == 0)
			return d->c.opts[i].key;
	return NULL;
}

/* {{key.label}}: the picked labels as written, ", "-separated. */
static int multi_label(struct step *s, const struct flow_node *n,
	const char *value, struct buf *out)
{
	const struct multi_data *d = n->data;
	unsigned char picked[CHOICE_MAX];
	int first = 1;

	multi_picked(d, value, picked);
	for (unsigned i = 0; i < d->c.n; i++) {
		if (!picked[i])
			continue;
		if ((!first && buf_adds(out, ", ")) ||
		    buf_adds(out, step_text(s, &d->c.opts[i].label)))
			return -1;
		first = 0;
	}
	return 1;
}

static const struct node_key multi_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after Done, e.g. "
	  "\"next\": \"2\"", .desc = "Where Done goes.", NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the picks are saved "
	  "under, e.g. \"key_to_save\": \"toppings\"", .desc = "The name the "
	  "picked keys are saved under, comma-separated (\"cheese,ham\"); "
	  "{{KEY.label}} gives their labels.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	NODE_KEY_BACK_ENTRY,
	{ "columns", NODE_KEY_INT, .min = 1, .max = 8, .has_def = 1, .def = 1,
	  .desc = "Buttons per row.", NODE_DATA_AT(struct multi_data, c.columns) },
	{ "min", NODE_KEY_INT, .min = 0, .max = CHOICE_MAX, .desc = "The "
	  "fewest picks Done accepts (default 0).",
	  NODE_DATA_AT(struct multi_data, min) },
	{ "max", NODE_KEY_INT, .min = 1, .max = CHOICE_MAX, .desc = "The most "
	  "picks (default: any number); not below min.",
	  NODE_DATA_AT(struct multi_data, max) },
	{ "done_button", NODE_KEY_BUTTON, .desc = "The label of the Done "
	  "button (default \"Done\").", NODE_DATA_AT(struct multi_data, done) },
	{ "choices", NODE_KEY_CUSTOM, .hint = "the buttons as key -> label, "
	  "e.g. {\"cheese\": \"Cheese\", \"ham\": \"Ham\"}", .read = multi_read,
	  .desc = "The buttons, key -> label (1 to 99). A key holds no ','; a "
	  "button's callback data NODE_ID|KEY must fit Telegram's 64 bytes.",
	  .doc = "object of key → label, 1–99",
	  .schema = "{\"type\": \"object\", \"minProperties\": 1, "
	  "\"maxProperties\": 99, \"propertyNames\": {\"type\": \"string\", "
	  "\"minLength\": 1, \"maxLength\": 62, \"pattern\": \"^[^,]*$\", "
	  "\"description\": \"A key: not empty, no ','; node id + '|' + key at "
	  "most 64 bytes.\"}, \"additionalProperties\": {\"$ref\": "
	  "\"#/$defs/labelText\"}}" },
	{ NULL }
};

static const char *const multi_reasons[] = {
	"press_button", "too_few", "too_many", NULL
};

const struct node_type node_multi_choice = {
	.name = "multi_choice",
	.summary = "A question answered by toggling inline buttons (✓) and "
		"pressing Done, from min to max picks; saves the picked keys "
		"comma-separated.",
	.waits = 1,
	.look = NODE_LOOK_BUTTONS,
	.keys = multi_keys,
	.reasons = multi_reasons,
	.data_size = sizeof(struct multi_data),
	.validate = multi_validate,
	.enter = multi_enter,
	.handle = multi_handle,
	.press = multi_press,
	.pressed = multi_pressed,
	.label = multi_label,
};
