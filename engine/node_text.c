/* node_text.c - a free-text answer, with optional word count, length
 * and pattern rules. */
#include "engine/node_text.h"

#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/html.h"
#include "engine/regex.h"
#include "engine/step.h"
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

static unsigned text_words(const char *s)
{
	unsigned n = 0;
	int in = 0;
	for (; *s; s++) {
		int space = *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r';
		if (!space && !in)
			n++;
		in = !space;
	}
	return n;
}

static unsigned text_chars(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

int node_text_enter(struct step *s, const struct flow_node *n)
{
	return step_prompt(s, n, NULL);
}

static int text_reprompt(struct step *s, const struct flow_node *n,
	const char *reason, const char *fallback)
{
	return step_reason(s, n, reason, fallback, NULL) ? NODE_FAIL : NODE_STAY;
}

int node_text_take(struct step *s, const struct flow_node *n, int rich)
{
	const struct text_data *d = n->data;
	const struct update *u = s->u;
	char msg[160];
	int rc;

	if (u->text == NULL || u->voice.file_id || u->document.file_id ||
	    u->photo.file_id || u->audio.file_id || u->video.file_id)
		return text_reprompt(s, n, "not_text", "Please answer with a text message.");
	if (text_words(u->text) < d->min_words) {
		snprintf(msg, sizeof(msg), "Please write at least %u words.", d->min_words);
		return text_reprompt(s, n, "too_few_words", msg);
	}
	if (d->max_length && text_chars(u->text) > d->max_length) {
		snprintf(msg, sizeof(msg), "Please keep it to %u characters or fewer.",
			d->max_length);
		return text_reprompt(s, n, "too_long", msg);
	}
	if (d->pattern) {
		rc = regex_match(d->pattern, u->text, strlen(u->text));
		if (rc < 0)
			return NODE_FAIL;
		if (rc == 0)
			return text_reprompt(s, n, "no_match", "That doesn't look "
				"right. Please try again.");
	}
	if (n->key == NULL)
		return n->next;
	if (!rich)
		return step_save(s, n->key, u->text, strlen(u->text)) ? NODE_FAIL : n->next;
	buf_reset(&s->text);
	if (html_from_entities(&s->text, u->text, u->entities) != 0)
		return NODE_FAIL;
	return step_save(s, n->key, s->text.p ? s->text.p : "", s->text.len) ?
		NODE_FAIL : n->next;
}

static int text_handle(struct step *s, const struct flow_node *n)
{
	return node_text_take(s, n, 0);
}

const struct node_type node_text = {
	.name = "text",
	.waits = 1,
	.keys = text_keys,
	.reasons = text_reasons,
	.validate = node_text_check,
	.enter = node_text_enter,
	.handle = text_handle,
};
