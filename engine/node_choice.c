/* node_choice.c - a question answered by pressing an inline button. */
#include "engine/node_choice.h"

#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/html.h"
#include "engine/jdoc.h"
#include "engine/media.h"
#include "engine/node.h"
#include "engine/step.h"

int node_choice_options(struct check *c, struct flow_node *n,
	json_object *choices, const char *cpath, struct choice_data *d)
{
	struct choice_option *opts;
	char kpath[JDOC_PATH_MAX];
	unsigned i = 0;
	int bad = 0;

	d->n = (unsigned)json_object_object_length(choices);
	if (d->n == 0) {
		check_error(c, DIAG_NODE_SCHEMA, cpath, "has no choices; add at "
			"least one, e.g. {\"yes\": \"Yes\"}");
		return -1;
	}
	if (d->n > CHOICE_MAX) {
		check_error(c, DIAG_NODE_SCHEMA, cpath, "has %u choices; Telegram "
			"shows at most %d buttons", d->n, CHOICE_MAX);
		return -1;
	}
	opts = check_alloc(c, d->n * sizeof(*opts));
	d->keys = check_alloc(c, (d->n + 1) * sizeof(*d->keys));
	if (opts == NULL || d->keys == NULL)
		return -1;
	json_object_object_foreach(choices, key, label) {
		size_t bytes = strlen(n->id) + 1 + strlen(key);
		char *data;
		jdoc_path(kpath, sizeof(kpath), cpath, key);
		opts[i].next = -1;
		opts[i].key = check_strdup(c, key);
		d->keys[i] = opts[i].key;
		if (key[0] == '\0') {
			check_error(c, DIAG_NODE_SCHEMA, kpath, "a choice key must not be empty");
			bad++;
		} else if (bytes > (size_t)flow_callback_max(c->flow)) {
			check_error(c, DIAG_NODE_SCHEMA, kpath, "the button's callback "
				"data (node id \"%s\", '|' and key \"%s\") is %zu bytes; "
				"%s %d, so shorten the key or the node id", n->id, key, bytes,
				c->flow->scope_user ? "\"scope\": \"user\" leaves room for" :
				"Telegram allows", flow_callback_max(c->flow));
			bad++;
		}
		if (check_text_value(c, label, kpath, FLOW_TEXT_MAX, 0, &opts[i].label) < 0)
			bad++;
		data = check_alloc(c, bytes + 1);
		if (data)
			snprintf(data, bytes + 1, "%s|%s", n->id, key);
		opts[i].data = data;
		i++;
	}
	d->opts = opts;
	return bad ? -1 : 0;
}

static void choice_targets(struct check *c, struct flow_node *n, json_object *obj,
	const char *path, struct choice_data *d)
{
	char tpath[JDOC_PATH_MAX], kpath[JDOC_PATH_MAX], keys[512];
	size_t len = 0;
	json_object *targets = NULL;

	jdoc_path(tpath, sizeof(tpath), path, "next_for_choice");
	keys[0] = '\0';
	for (unsigned i = 0; i < d->n && len < sizeof(keys); i++) {
		int w = snprintf(keys + len, sizeof(keys) - len, "%s\"%s\"",
			i ? ", " : "", d->opts[i].key);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (json_object_object_get_ex(obj, "next_for_choice", &targets)) {
		if (json_object_get_type(targets) != json_type_object) {
			check_error(c, DIAG_SCHEMA, tpath, "must be an object of choice "
				"key -> node id, not %s", jdoc_type_name(targets));
			return;
		}
		json_object_object_foreach(targets, key, target) {
			unsigned i;
			jdoc_path(kpath, sizeof(kpath), tpath, key);
			for (i = 0; i < d->n && strcmp(d->opts[i].key, key) != 0; i++)
				;
			if (i == d->n) {
				check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not one "
					"of the choices (%s)", key, keys);
				continue;
			}
			check_ref_value(c, target, kpath, &d->opts[i].next);
		}
	}
	if (n->next >= 0 || json_object_object_get_ex(obj, "next", NULL))
		return;   /* "next" is where the other choices go */
	for (unsigned i = 0; i < d->n; i++) {
		if (targets && json_object_object_get_ex(targets, d->opts[i].key, NULL))
			continue;
		check_error(c, DIAG_NODE_SCHEMA, tpath, "choice \"%s\" leads "
			"nowhere; add \"%s\": NODE_ID here, or give the node a \"next\" "
			"for the choices not listed", d->opts[i].key, d->opts[i].key);
	}
}

/* "choices", then "next_for_choice", which needs the choices. */
static int choice_read(struct check *c, struct flow_node *n, json_object *obj,
	const char *path, const struct node_key *k)
{
	struct choice_data *d = n->data;
	char cpath[JDOC_PATH_MAX];
	json_object *choices;

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
	if (node_choice_options(c, n, choices, cpath, d) == 0 || d->opts)
		choice_targets(c, n, obj, path, d);
	return 1;
}

json_object *node_choice_keyboard(struct step *s, const struct choice_data *d)
{
	json_object *markup = json_object_new_object();
	json_object *rows = json_object_new_array(), *row = NULL;
	unsigned cols = d->columns > 0 ? (unsigned)d->columns : 1;
	struct buf label;

	buf_init(&label, 4096);
	if (markup == NULL || rows == NULL)
		goto fail;
	json_object_object_add(markup, "inline_keyboard", rows);
	for (unsigned i = 0; i < d->n; i++) {
		json_object *btn = json_object_new_object();
		if (btn == NULL || step_render_plain(s, &d->opts[i].label, &label) != 0) {
			json_object_put(btn);
			goto fail;
		}
		json_object_object_add(btn, "text", json_object_new_string(label.p ? label.p : ""));
		json_object_object_add(btn, "callback_data", json_object_new_string(d->opts[i].data));
		if (i % cols == 0) {
			row = json_object_new_array();
			if (row == NULL || json_object_array_add(rows, row) != 0) {
				json_object_put(row);
				json_object_put(btn);
				goto fail;
			}
		}
		json_object_array_add(row, btn);
	}
	buf_free(&label);
	return markup;
fail:
	buf_free(&label);
	json_object_put(markup);
	if (markup == NULL)
		json_object_put(rows);
	return NULL;
}

static const char *const choice_on_answer_names[] = {
	"remove_keyboard", "keep", "show_answer", NULL
};

/* "on_answer": one of choice_on_answer_names. */
static int choice_read_on_answer(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct choice_data *d = n->data;
	char kpath[JDOC_PATH_MAX];
	const char *v;
	int rc = check_string(c, obj, k->name, path, NULL, &v);

	if (rc <= 0)
		return rc;
	for (int i = 0; choice_on_answer_names[i]; i++) {
		if (strcmp(v, choice_on_answer_names[i]) == 0) {
			d->on_answer = i;
			return 1;
		}
	}
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not one of "
		"\"remove_keyboard\", \"keep\", \"show_answer\"", v);
	return -1;
}

/* "sets_language" needs a key, language codes as
 * choice keys, and the one key every such choice saves. */
static int choice_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct choice_data *d = n->data;
	struct flow *f = c->flow;
	char kpath[JDOC_PATH_MAX];

	if (!d->sets_language)
		return 0;
	if (n->key == NULL)
		return -1;   /* reported: "needs" */
	for (unsigned i = 0; d->opts && i < d->n; i++) {
		if (check_lang_code(d->opts[i].key))
			continue;
		jdoc_path(kpath, sizeof(kpath), path, "choices");
		jdoc_path(kpath, sizeof(kpath), kpath, d->opts[i].key);
		check_error(c, DIAG_NODE_SCHEMA, kpath, "with \"sets_language\" a "
			"choice key is a language code such as \"en\" or \"pt-br\", "
			"not \"%s\"", d->opts[i].key);
		return -1;
	}
	(void)obj;
	if (f->lang_key && strcmp(f->lang_key, n->key) != 0) {
		jdoc_path(kpath, sizeof(kpath), path, "key_to_save");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is \"%s\", but another "
			"\"sets_language\" choice saves the language under \"%s\"; "
			"use one key", n->key, f->lang_key);
		return -1;
	}
	f->lang_key = n->key;
	return 0;
}

int node_choice_enter(struct step *s, const struct flow_node *n)
{
	json_object *kb = node_choice_keyboard(s, n->data);
	if (kb == NULL)
		return NODE_FAIL;
	return step_prompt(s, n, kb);
}

static int choice_handle(struct step *s, const struct flow_node *n)
{
	const struct choice_data *d = n->data;
	json_object *kb;
	int rc;

	if (s->press == NULL) {
		kb = node_choice_keyboard(s, d);
		if (kb == NULL || step_back_button(s, n, &kb) != 0)
			return NODE_FAIL;
		return step_reason(s, n, "press_button", "Please choose one of the "
			"buttons.", kb) ? NODE_FAIL : NODE_STAY;
	}
	for (unsigned i = 0; i < d->n; i++) {
		if (strcmp(d->opts[i].key, s->press) != 0)
			continue;
		rc = n->key ? step_save(s, n->key, s->press, strlen(s->press)) : 0;
		if (rc == 0 && d->sets_language)
			s->lang = d->opts[i].key;
		return step_kept(s, n, rc, d->opts[i].next >= 0 ? d->opts[i].next : n->next);
	}
	return NODE_STAY;
}

void node_choice_edges(const struct flow_node *n, node_edge_fn *fn, void *arg)
{
	const struct choice_data *d = n->data;
	char key[JDOC_PATH_MAX];
	struct node_edge e = { .key = key };

	if ((d == NULL || d->opts == NULL) && n->next >= 0) {
		e = (struct node_edge){ .to = n->next, .key = "next", .label = "" };
		fn(arg, &e);
		return;
	}
	for (unsigned i = 0; d && d->opts && i < d->n; i++) {
		const struct flow_text *t = &d->opts[i].label;
		e.to = d->opts[i].next >= 0 ? d->opts[i].next : n->next;
		if (d->opts[i].next >= 0)
			jdoc_path(key, sizeof(key), "next_for_choice", d->opts[i].key);
		else
			snprintf(key, sizeof(key), "next");
		e.label = t->n > 0 ? t->v[t->def].text : d->opts[i].key;
		if (e.to >= 0)
			fn(arg, &e);
	}
}

const char *node_choice_press(const struct flow_node *n, const char *key)
{
	const struct choice_data *d = n->data;
	for (unsigned i = 0; i < d->n; i++)
		if (strcmp(d->opts[i].key, key) == 0)
			return d->opts[i].key;
	return NULL;
}

/* The option whose key is key, or NULL. */
static const struct choice_option *choice_option(const struct choice_data *d,
	const char *key)
{
	for (unsigned i = 0; i < d->n; i++)
		if (strcmp(d->opts[i].key, key) == 0)
			return &d->opts[i];
	return NULL;
}

/* "on_answer": the pressed prompt loses its buttons, keeps them, or
 * shows the answer: "PROMPT — LABEL". */
static int choice_pressed(struct step *s, const struct flow_node *n)
{
	const struct choice_data *d = n->data;
	const struct choice_option *o = choice_option(d, s->press);
	json_object *p, *markup;
	struct buf label;
	int rc;

	if (d->on_answer == CHOICE_KEEP)
		return 0;
	if (d->on_answer == CHOICE_REMOVE_KEYBOARD || o == NULL)
		return step_remove_keyboard(s);
	buf_init(&label, 4096);
	rc = step_render_plain(s, &o->label, &label) || step_render(s, &n->text) ||
		buf_adds(&s->text, " — ") ||
		html_escape(&s->text, label.p ? label.p : "", label.len) ||
		html_shorten(&s->text, FLOW_TEXT_MAX, "…");
	buf_free(&label);
	p = rc ? NULL : step_params(s);
	markup = json_tokener_parse("{\"inline_keyboard\": []}");
	if (p == NULL || markup == NULL) {
		json_object_put(p);
		json_object_put(markup);
		return -1;
	}
	json_object_object_add(p, "message_id", json_object_new_int64(s->u->message_id));
	json_object_object_add(p, "text", json_object_new_string_len(s->text.p, (int)s->text.len));
	json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
	json_object_object_add(p, "reply_markup", markup);
	return step_call(s, "editMessageText", p);
}

/* {{key.label}}: the pressed button's label as written. */
static int choice_label(struct step *s, const struct flow_node *n,
	const char *value, struct buf *out)
{
	const struct choice_option *o = choice_option(n->data, value);
	if (o == NULL)
		return 0;
	return buf_adds(out, step_text(s, &o->label)) ? -1 : 1;
}

static const char *const *choice_values(const struct flow_node *n)
{
	const struct choice_data *d = n->data;
	return d ? d->keys : NULL;
}

/* A button's callback data NODE_ID|KEY fits in 64 bytes: a node whose id
 * has k characters takes choice keys of at most 63 - k. */
static void choice_schema_fits(json_object *defs)
{
	json_object *fits = json_object_new_object(), *props = json_object_new_object();
	json_object *nodes, *all;
	char pattern[64], rule[512];

	json_object_object_add(fits, "description", json_object_new_string(
		"A choice button's callback data is NODE_ID|KEY and must fit "
		"Telegram's 64 bytes, so a node whose id has k characters may have "
		"choice keys of at most 63 - k characters. (Exact for ASCII ids and "
		"keys; `blueflow check` counts the bytes of the others.) One entry "
		"per id length."));
	json_object_object_add(fits, "type", json_object_new_string("object"));
	for (int k = 1; k < FLOW_CALLBACK_MAX; k++) {
		if (k < FLOW_CALLBACK_MAX - 1)
			snprintf(pattern, sizeof(pattern), "^[\\s\\S]{%d}$(?!\\n)", k);
		else
			snprintf(pattern, sizeof(pattern), "^[\\s\\S]{%d,}", k);
		snprintf(rule, sizeof(rule), "{\"if\": {\"properties\": {\"type\": "
			"{\"const\": \"choice\"}}, \"required\": [\"type\"]}, \"then\": "
			"{\"properties\": {\"choices\": {\"propertyNames\": "
			"{\"maxLength\": %d}}}}}", FLOW_CALLBACK_MAX - 1 - k);
		json_object_object_add(props, pattern, json_tokener_parse(rule));
	}
	json_object_object_add(fits, "patternProperties", props);
	json_object_object_add(defs, "callbackDataFits", fits);
	if (json_object_object_get_ex(defs, "nodes", &nodes) &&
	    json_object_object_get_ex(nodes, "allOf", &all))
		json_object_array_add(all, json_tokener_parse(
			"{\"$ref\": \"#/$defs/callbackDataFits\"}"));
}

/* Every next_for_choice key is a choice, so there are at most as many
 * targets as choices; without "next" exactly as many. */
static void choice_schema_counts(json_object *def)
{
	json_object *all = json_object_new_array();
	char rule[512];

	for (int k = 1; k <= CHOICE_MAX; k++) {
		snprintf(rule, sizeof(rule), "{\"if\": {\"properties\": {\"choices\": "
			"{\"type\": \"object\", \"minProperties\": %d, \"maxProperties\": %d}}, "
			"\"required\": [\"choices\"]}, \"then\": {\"properties\": "
			"{\"next_for_choice\": {\"maxProperties\": %d}}, \"if\": {\"not\": "
			"{\"required\": [\"next\"]}}, \"then\": {\"properties\": "
			"{\"next_for_choice\": {\"minProperties\": %d}}}}}", k, k, k, k);
		json_object_array_add(all, json_tokener_parse(rule));
	}
	json_object_object_add(def, "allOf", all);
	json_object_object_add(def, "if", json_tokener_parse(
		"{\"not\": {\"required\": [\"next\"]}}"));
	json_object_object_add(def, "then", json_tokener_parse(
		"{\"required\": [\"next_for_choice\"], \"description\": \"Without "
		"\\\"next\\\", every choice needs a \\\"next_for_choice\\\" entry.\"}"));
}

static void choice_schema(json_object *defs, json_object *def)
{
	choice_schema_fits(defs);
	choice_schema_counts(def);
}

static const struct node_key choice_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .desc = "Where the choices not in "
	  "\"next_for_choice\" go.", NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .desc = "The name the pressed choice's "
	  "key is saved under.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	{ "columns", NODE_KEY_INT, .min = 1, .max = 8, .has_def = 1, .def = 1,
	  .desc = "Buttons per row.", NODE_DATA_AT(struct choice_data, columns) },
	{ "choices", NODE_KEY_CUSTOM, .hint = "the buttons as key -> label, "
	  "e.g. {\"yes\": \"Yes\", \"no\": \"No\"}", .read = choice_read,
	  .desc = "The buttons, key -> label (1 to 100). A button's callback "
	  "data is NODE_ID|KEY and must fit Telegram's 64 bytes.",
	  .doc = "object of key → label, 1–100",
	  .schema = "{\"type\": \"object\", \"minProperties\": 1, "
	  "\"maxProperties\": 100, \"propertyNames\": {\"type\": \"string\", "
	  "\"minLength\": 1, \"maxLength\": 62, \"description\": \"A choice key: "
	  "not empty; node id + '|' + key at most 64 bytes.\"}, "
	  "\"additionalProperties\": {\"$ref\": \"#/$defs/labelText\"}}" },
	{ "on_answer", NODE_KEY_CUSTOM, .read = choice_read_on_answer,
	  .desc = "What a press does to the question: \"remove_keyboard\" "
	  "(the default) removes its buttons, \"keep\" keeps them, "
	  "\"show_answer\" adds the chosen label to its text (\"Which team? — "
	  "Engineering\") and removes the buttons.",
	  .doc = "\"remove_keyboard\", \"keep\" or \"show_answer\"",
	  .schema = "{\"enum\": [\"remove_keyboard\", \"keep\", \"show_answer\"]}" },
	{ "sets_language", NODE_KEY_BOOL, .desc = "true: the pressed key (a "
	  "language code such as \"en\") becomes the chat's language for every "
	  "later text, instead of Telegram's language_code; needs key_to_save.",
	  NODE_DATA_AT(struct choice_data, sets_language),
	  .needs = "key_to_save", .needs_why = "the name the chosen language is "
	  "saved under, e.g. \"lang\"" },
	NODE_KEY_BACK_ENTRY,
	{ "next_for_choice", NODE_KEY_CUSTOM,
	  .desc = "Choice key -> the node that button leads to. Every key must "
	  "be one of \"choices\"; choices not listed go to \"next\", and without "
	  "\"next\" every choice needs one.",
	  .doc = "object of choice key → node id",
	  .schema = "{\"type\": \"object\", \"maxProperties\": 100, "
	  "\"propertyNames\": {\"type\": \"string\", \"minLength\": 1, "
	  "\"maxLength\": 62, \"description\": \"A key of \\\"choices\\\".\"}, "
	  "\"additionalProperties\": {\"$ref\": \"#/$defs/nodeRef\"}}" },
	{ NULL }
};

static const char *const choice_reasons[] = { "press_button", NULL };

const struct node_type node_choice = {
	.name = "choice",
	.summary = "A question answered by pressing an inline button. Each "
		"choice goes to its \"next_for_choice\" entry, or else to \"next\"; "
		"a choice with neither is an error.",
	.waits = 1,
	.look = NODE_LOOK_BUTTONS,
	.keys = choice_keys,
	.reasons = choice_reasons,
	.data_size = sizeof(struct choice_data),
	.validate = choice_validate,
	.edges = node_choice_edges,
	.schema = choice_schema,
	.enter = node_choice_enter,
	.handle = choice_handle,
	.press = node_choice_press,
	.values = choice_values,
	.pressed = choice_pressed,
	.label = choice_label,
};
