/* node_set.c - saves a value under a key without waiting: a text (with
 * {{key}} templates, plain) or a number added to the saved one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/step.h"

#define SET_LIMIT 1e15   /* beyond this a double loses whole numbers */

struct set_data {
	struct flow_text value;   /* n == 0: none */
	double add;
	int has_add;
};

/* "value": a plain text, one or per language. */
static int set_read_value(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct set_data *d = n->data;
	char kpath[JDOC_PATH_MAX];
	json_object *v;

	if (!json_object_object_get_ex(obj, k->name, &v))
		return 0;
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	return check_text_value(c, v, kpath, FLOW_TEXT_MAX, 0, &d->value);
}

static const struct node_key set_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the value is saved "
	  "under, e.g. \"key_to_save\": \"visits\"",
	  .desc = "The name the value is saved under.", NODE_AT(key) },
	{ "value", NODE_KEY_CUSTOM, .read = set_read_value,
	  .desc = "The value to save: plain text, {{key}} inserts a saved "
	  "value; one string or one per language. Either this or \"add\".",
	  .doc = "text (plain, {{key}} allowed)",
	  .schema = "{\"$ref\": \"#/$defs/labelText\"}" },
	{ "add", NODE_KEY_NUMBER, .min = -SET_LIMIT, .max = SET_LIMIT,
	  .desc = "A number added to the number saved under the key (none or "
	  "not a number counts as 0), e.g. 1 for a counter. Either this or "
	  "\"value\".", NODE_DATA_AT(struct set_data, add) },
	{ "next", NODE_KEY_REF, .desc = "The node that follows; without it the "
	  "flow ends.", NODE_AT(next) },
	{ NULL }
};

/* Exactly one of "value" and "add". */
static int set_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct set_data *d = n->data;
	int value = json_object_object_get_ex(obj, "value", NULL);
	char kpath[JDOC_PATH_MAX];

	d->has_add = json_object_object_get_ex(obj, "add", NULL);
	if (value && d->has_add) {
		jdoc_path(kpath, sizeof(kpath), path, "add");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "a set node saves either "
			"\"value\" or \"add\"; remove one of them");
		return -1;
	}
	if (!value && !d->has_add) {
		check_missing(c, path, "value", "what to save, e.g. \"value\": "
			"\"yes\", or \"add\": 1 to count");
		return -1;
	}
	return 0;
}

/* Exactly one of "value" and "add". */
static void set_schema(json_object *defs, json_object *def)
{
	(void)defs;
	json_object_object_add(def, "oneOf", json_tokener_parse(
		"[{\"required\": [\"value\"]}, {\"required\": [\"add\"]}]"));
}

/* The saved number plus d->add, written into out. */
static void set_sum(struct step *s, const struct flow_node *n,
	const struct set_data *d, char *out, size_t size)
{
	char tmp[32], *end;
	const char *old = step_value(s, n->key, tmp, sizeof(tmp));
	double x = old ? strtod(old, &end) : 0;

	if (old == NULL || end == old || *end != '\0' || !isfinite(x) ||
	    fabs(x) > SET_LIMIT)
		x = 0;
	snprintf(out, size, "%.15g", x + d->add);
}

static int set_enter(struct step *s, const struct flow_node *n)
{
	const struct set_data *d = n->data;
	char num[64];
	int rc;

	if (d->has_add) {
		set_sum(s, n, d, num, sizeof(num));
		rc = step_save(s, n->key, num, strlen(num));
	} else {
		rc = step_render_plain(s, &d->value, &s->text) ||
			step_save(s, n->key, s->text.p ? s->text.p : "", s->text.len);
	}
	if (rc != 0)
		return NODE_FAIL;
	return n->next >= 0 ? n->next : NODE_END;
}

const struct node_type node_set = {
	.name = "set",
	.summary = "Saves a value under a key without waiting: a text (with "
		"{{key}} templates) or a number added to the saved one.",
	.waits = 0,
	.look = NODE_LOOK_MESSAGE,
	.keys = set_keys,
	.data_size = sizeof(struct set_data),
	.validate = set_validate,
	.schema = set_schema,
	.enter = set_enter,
};
