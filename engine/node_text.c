/* node_text.c - a free-text answer, with optional word count, length
 * and pattern rules. */
#include "engine/node_text.h"

#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/html.h"
#include "engine/media.h"
#include "engine/regex.h"
#include "engine/step.h"

const struct node_key node_text_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after a good answer, "
	  "e.g. \"next\": \"2\"", .desc = "Where a good answer goes.", NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the answer is saved "
	  "under, e.g. \"key_to_save\": \"name\"",
	  .desc = "The name the answer is saved under.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	{ "min_words", NODE_KEY_INT, .min = 0, .max = 1000,
	  .desc = "The fewest words a good answer has.",
	  NODE_DATA_AT(struct text_data, min_words) },
	{ "max_length", NODE_KEY_INT, .min = 1, .max = 4096,
	  .desc = "The most characters a good answer has.",
	  NODE_DATA_AT(struct text_data, max_length) },
	{ "pattern", NODE_KEY_REGEX,
	  .desc = "A PCRE2 regular expression the whole answer must match.",
	  NODE_DATA_AT(struct text_data, pattern) },
	{ NULL }
};

const char *const node_text_reasons[] = {
	"not_text", "too_few_words", "too_long", "no_match", NULL
};

int node_text_validate(struct check *c, struct flow_node *n, json_object *obj,
	const char *path)
{
	struct text_data *d = n->data;
	json_object *v;

	(void)path;
	if (d->pattern && json_object_object_get_ex(obj, "pattern", &v)) {
		d->pattern_src = check_strdup(c, json_object_get_string(v));
		if (d->pattern_src == NULL)
			return -1;
	}
	return 0;
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
	if (text_words(u->text) < (unsigned)d->min_words) {
		snprintf(msg, sizeof(msg), "Please write at least %d words.", d->min_words);
		return text_reprompt(s, n, "too_few_words", msg);
	}
	if (d->max_length && text_chars(u->text) > (unsigned)d->max_length) {
		snprintf(msg, sizeof(msg), "Please keep it to %d characters or fewer.",
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
	.summary = "A free-text answer, with optional word count, length and pattern rules.",
	.waits = 1,
	.look = NODE_LOOK_QUESTION,
	.keys = node_text_keys,
	.reasons = node_text_reasons,
	.data_size = sizeof(struct text_data),
	.validate = node_text_validate,
	.enter = node_text_enter,
	.handle = text_handle,
};
