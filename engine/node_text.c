/* node_text.c - a free-text answer, with optional word count, length
 * and pattern rules. */
#include "engine/node_text.h"

#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/html.h"
#include "engine/jdoc.h"
#include "engine/media.h"
#include "engine/regex.h"
#include "engine/step.h"

#define TEXT_SUGGESTIONS_MAX 12

/* "suggestions": a list of keyboard button labels. */
static int text_read_suggestions(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct text_data *d = n->data;
	char kpath[JDOC_PATH_MAX], ipath[JDOC_PATH_MAX], idx[24];
	json_object *v;
	size_t len;
	int bad = 0;

	if (!json_object_object_get_ex(obj, k->name, &v))
		return 0;
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	len = json_object_get_type(v) == json_type_array ? json_object_array_length(v) : 0;
	if (len == 0 || len > TEXT_SUGGESTIONS_MAX) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "must be a list of 1 to %d "
			"button labels, e.g. [\"Yes\", \"No\"]", TEXT_SUGGESTIONS_MAX);
		return -1;
	}
	d->suggestions = check_alloc(c, len * sizeof(*d->suggestions));
	if (d->suggestions == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		jdoc_path(ipath, sizeof(ipath), kpath, idx);
		if (check_text_value(c, json_object_array_get_idx(v, i), ipath, 64, 0,
		    &d->suggestions[i]) < 0)
			bad++;
	}
	d->n_suggestions = (unsigned)len;
	return bad ? -1 : 1;
}

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
	NODE_KEY_BACK_ENTRY,
	{ "min_words", NODE_KEY_INT, .min = 0, .max = 1000,
	  .desc = "The fewest words a good answer has.",
	  NODE_DATA_AT(struct text_data, min_words) },
	{ "max_length", NODE_KEY_INT, .min = 1, .max = 4096,
	  .desc = "The most characters a good answer has.",
	  NODE_DATA_AT(struct text_data, max_length) },
	{ "pattern", NODE_KEY_REGEX,
	  .desc = "A PCRE2 regular expression the whole answer must match.",
	  NODE_DATA_AT(struct text_data, pattern) },
	{ "suggestions", NODE_KEY_CUSTOM, .read = text_read_suggestions,
	  .desc = "Quick replies: a one-time keyboard of these labels (1 to 12), "
	  "one per row; pressing one sends it as the answer, a typed answer is "
	  "taken too, and the keyboard goes after the answer.",
	  .doc = "list of 1–12 button labels",
	  .schema = "{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 12, "
	  "\"items\": {\"$ref\": \"#/$defs/buttonText\"}}" },
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

/* The one-time reply keyboard of the suggestions into *out (NULL when
 * there are none). Returns 0 or -1. */
static int text_keyboard(struct step *s, const struct text_data *d,
	json_object **out)
{
	json_object *markup, *rows;
	struct buf label;
	int rc = 0;

	*out = NULL;
	if (d->n_suggestions == 0)
		return 0;
	markup = json_object_new_object();
	rows = json_object_new_array();
	if (markup == NULL || rows == NULL) {
		json_object_put(markup);
		json_object_put(rows);
		return -1;
	}
	json_object_object_add(markup, "keyboard", rows);
	json_object_object_add(markup, "resize_keyboard", json_object_new_boolean(1));
	json_object_object_add(markup, "one_time_keyboard", json_object_new_boolean(1));
	buf_init(&label, 4096);
	for (unsigned i = 0; i < d->n_suggestions && rc == 0; i++) {
		json_object *row = json_object_new_array(), *btn = json_object_new_object();
		rc = row == NULL || btn == NULL ||
			step_render_plain(s, &d->suggestions[i], &label) != 0;
		if (rc == 0) {
			json_object_object_add(btn, "text",
				json_object_new_string(label.p ? label.p : ""));
			json_object_array_add(row, btn);
			btn = NULL;
			rc = json_object_array_add(rows, row) != 0;
			if (rc == 0)
				row = NULL;
		}
		json_object_put(btn);
		json_object_put(row);
	}
	buf_free(&label);
	if (rc != 0) {
		json_object_put(markup);
		return -1;
	}
	s->chat->keyboard = 1;
	*out = markup;
	return 0;
}

int node_text_enter(struct step *s, const struct flow_node *n)
{
	json_object *kb;
	if (text_keyboard(s, n->data, &kb) != 0)
		return NODE_FAIL;
	return step_prompt(s, n, kb);
}

/* The reason's message; the suggestions (and Back) again when there are. */
static int text_reprompt(struct step *s, const struct flow_node *n,
	const char *reason, const char *fallback)
{
	json_object *kb;
	if (text_keyboard(s, n->data, &kb) != 0 ||
	    (kb && step_back_button(s, n, &kb) != 0))
		return NODE_FAIL;
	return step_reason(s, n, reason, fallback, kb) ? NODE_FAIL : NODE_STAY;
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
		return step_kept(s, n, step_save(s, n->key, u->text, strlen(u->text)), n->next);
	buf_reset(&s->text);
	if (html_from_entities(&s->text, u->text, u->entities) != 0)
		return NODE_FAIL;
	return step_kept(s, n, step_save(s, n->key, s->text.p ? s->text.p : "",
		s->text.len), n->next);
}

static int text_handle(struct step *s, const struct flow_node *n)
{
	return node_text_take(s, n, 0);
}

const struct node_type node_text = {
	.name = "text",
	.summary = "A free-text answer, with optional word count, length and pattern rules.",
	.waits = 1,
	.takes_text = 1,
	.look = NODE_LOOK_QUESTION,
	.keys = node_text_keys,
	.reasons = node_text_reasons,
	.data_size = sizeof(struct text_data),
	.validate = node_text_validate,
	.enter = node_text_enter,
	.handle = text_handle,
};
