/* node_choice.c - a question answered by pressing an inline button. */
#include "engine/node_choice.h"

#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/step.h"

static const char *const choice_keys[] = {
	"type", "node_text", "choices", "next_for_choice", "next", "columns",
	"key_to_save", "max_attempts", "on_max_attempts", "messages", NULL
};

static const char *const choice_reasons[] = { "press_button", NULL };

static int choice_options(struct check *c, struct flow_node *n,
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
	if (opts == NULL)
		return -1;
	json_object_object_foreach(choices, key, label) {
		size_t bytes = strlen(n->id) + 1 + strlen(key);
		char *data;
		jdoc_path(kpath, sizeof(kpath), cpath, key);
		opts[i].next = -1;
		opts[i].key = check_strdup(c, key);
		if (key[0] == '\0') {
			check_error(c, DIAG_NODE_SCHEMA, kpath, "a choice key must not be empty");
			bad++;
		} else if (bytes > FLOW_CALLBACK_MAX) {
			check_error(c, DIAG_NODE_SCHEMA, kpath, "the button's callback "
				"data (node id \"%s\", '|' and key \"%s\") is %zu bytes; "
				"Telegram allows %d, so shorten the key or the node id",
				n->id, key, bytes, FLOW_CALLBACK_MAX);
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

static int choice_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct choice_data *d = check_alloc(c, sizeof(*d));
	char cpath[JDOC_PATH_MAX];
	json_object *choices;
	long long columns = 1;
	unsigned errors = c->errors;

	if (d == NULL)
		return -1;
	n->data = d;
	check_node_common(c, n, obj, path, NULL, NULL);
	if (check_int(c, obj, "columns", path, NULL, 1, 8, &columns) >= 0)
		d->columns = (unsigned)columns;
	jdoc_path(cpath, sizeof(cpath), path, "choices");
	if (!json_object_object_get_ex(obj, "choices", &choices)) {
		check_missing(c, path, "choices", "the buttons as key -> label, "
			"e.g. {\"yes\": \"Yes\", \"no\": \"No\"}");
		return -1;
	}
	if (json_object_get_type(choices) != json_type_object) {
		check_error(c, DIAG_SCHEMA, cpath, "must be an object of key -> "
			"button label, not %s", jdoc_type_name(choices));
		return -1;
	}
	if (choice_options(c, n, choices, cpath, d) == 0 || d->opts)
		choice_targets(c, n, obj, path, d);
	return c->errors == errors ? 0 : -1;
}

/* The inline keyboard: labels in rows of d->columns. */
static json_object *choice_keyboard(struct step *s, const struct choice_data *d)
{
	json_object *markup = json_object_new_object();
	json_object *rows = json_object_new_array(), *row = NULL;
	unsigned cols = d->columns ? d->columns : 1;
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

static int choice_enter(struct step *s, const struct flow_node *n)
{
	json_object *kb = choice_keyboard(s, n->data);
	if (kb == NULL)
		return NODE_FAIL;
	return step_prompt(s, n, kb);
}

static int choice_handle(struct step *s, const struct flow_node *n)
{
	const struct choice_data *d = n->data;
	json_object *kb;

	if (s->press == NULL) {
		kb = choice_keyboard(s, d);
		if (kb == NULL)
			return NODE_FAIL;
		return step_reason(s, n, "press_button", "Please choose one of the "
			"buttons.", kb) ? NODE_FAIL : NODE_STAY;
	}
	for (unsigned i = 0; i < d->n; i++) {
		if (strcmp(d->opts[i].key, s->press) != 0)
			continue;
		if (n->key && step_save(s, n->key, s->press, strlen(s->press)) != 0)
			return NODE_FAIL;
		return d->opts[i].next >= 0 ? d->opts[i].next : n->next;
	}
	return NODE_STAY;
}

const struct node_type node_choice = {
	.name = "choice",
	.waits = 1,
	.keys = choice_keys,
	.reasons = choice_reasons,
	.validate = choice_validate,
	.enter = choice_enter,
	.handle = choice_handle,
};
