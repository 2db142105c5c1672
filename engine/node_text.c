/* node_text.c - a free-text answer, with optional word count, length
 * and pattern rules. */
#include "engine/node_text.h"

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"

static const char *const text_keys[] = {
	"type", "node_text", "key_to_save", "next", "min_words", "max_length",
	"pattern", "max_attempts", "on_max_attempts", "messages", NULL
};

static const char *const text_reasons[] = {
	"not_text", "too_few_words", "too_long", "no_match", NULL
};

int node_text_check(struct check *c, struct flow_node *n, json_object *obj,
	const char *path)
{
	struct text_data *d = check_alloc(c, sizeof(*d));
	char kpath[JDOC_PATH_MAX];
	json_object *v;
	long long x;
	unsigned errors = c->errors;

	if (d == NULL)
		return -1;
	n->data = d;
	check_node_common(c, n, obj, path,
		"the node to go to after a good answer, e.g. \"next\": \"2\"",
		"the name the answer is saved under, e.g. \"key_to_save\": \"name\"");
	if (check_int(c, obj, "min_words", path, NULL, 0, 1000, &x) > 0)
		d->min_words = (unsigned)x;
	if (check_int(c, obj, "max_length", path, NULL, 1, 4096, &x) > 0)
		d->max_length = (unsigned)x;
	if (json_object_object_get_ex(obj, "pattern", &v)) {
		jdoc_path(kpath, sizeof(kpath), path, "pattern");
		if (check_regex_value(c, v, kpath, &d->pattern) > 0)
			d->pattern_src = check_strdup(c, json_object_get_string(v));
	}
	return c->errors == errors ? 0 : -1;
}

const struct node_type node_text = {
	.name = "text",
	.waits = 1,
	.keys = text_keys,
	.reasons = text_reasons,
	.validate = node_text_check,
};
