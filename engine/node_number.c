/* node_number.c - a number, optionally whole, from min to max. Saves it
 * as written, without a leading '+' or digit-group separators, and with a
 * decimal comma made a point ("1 234,5" -> "1234.5"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/media.h"
#include "engine/node.h"
#include "engine/step.h"

#define NUMBER_LIMIT 1e15   /* beyond this a double loses whole numbers */
#define NUMBER_TEXT_MAX 64  /* characters of an answer */

struct number_data {
	double min, max;
	int integer;            /* 1: whole numbers only */
	int has_min, has_max;
};

static const struct node_key number_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after a good answer, "
	  "e.g. \"next\": \"2\"", .desc = "Where a good answer goes.", NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the number is saved "
	  "under, e.g. \"key_to_save\": \"age\"",
	  .desc = "The name the number is saved under.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	NODE_KEY_BACK_ENTRY,
	{ "min", NODE_KEY_NUMBER, .min = -NUMBER_LIMIT, .max = NUMBER_LIMIT,
	  .desc = "The smallest number accepted (none when absent).",
	  NODE_DATA_AT(struct number_data, min) },
	{ "max", NODE_KEY_NUMBER, .min = -NUMBER_LIMIT, .max = NUMBER_LIMIT,
	  .desc = "The largest number accepted (none when absent); not below min.",
	  NODE_DATA_AT(struct number_data, max) },
	{ "integer", NODE_KEY_BOOL, .has_def = 1, .def = 0,
	  .desc = "true: only whole numbers are accepted.",
	  NODE_DATA_AT(struct number_data, integer) },
	{ NULL }
};

static const char *const number_reasons[] = {
	"not_number", "not_integer", "below_min", "above_max", NULL
};

static int number_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct number_data *d = n->data;
	char kpath[JDOC_PATH_MAX];

	d->has_min = json_object_object_get_ex(obj, "min", NULL);
	d->has_max = json_object_object_get_ex(obj, "max", NULL);
	if (d->has_min && d->has_max && d->max < d->min) {
		jdoc_path(kpath, sizeof(kpath), path, "max");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is %g, less than \"min\" "
			"(%g), so no number could be accepted", d->max, d->min);
		return -1;
	}
	return 0;
}

/* The length of a digit-group separator at s: a space, a no-break or
 * thin space (U+00A0, U+2009, U+202F), an apostrophe, or the character
 * other (the other of '.' and ',' when both are written); 0 for none. */
static size_t number_group_sep(const char *s, char other)
{
	if (*s == ' ' || *s == '\'' || (other && *s == other))
		return 1;
	if (strncmp(s, "\xc2\xa0", 2) == 0)
		return 2;
	if (strncmp(s, "\xe2\x80\x89", 3) == 0 || strncmp(s, "\xe2\x80\xaf", 3) == 0)
		return 3;
	return 0;
}

/* Reads s (spaces around it allowed) as [+-]digits[(.|,)digits] into
 * out, normalized ("+3,5" -> "3.5"), and its value into *x. Digits before
 * the decimal mark may be grouped by threes ("1 234,5", "1.234.567,8",
 * "1,234.5": with both '.' and ',' the last is the decimal mark).
 * Returns 1, or 0 when s is not such a number. */
static int number_parse(const char *s, char *out, size_t size, double *x)
{
	const char *dot, *comma;
	size_t len, n = 0, digits = 0, sep;
	char mark = 0, other = 0;
	int point = 0;

	s += strspn(s, " \t\n\r");
	len = strlen(s);
	while (len > 0 && strchr(" \t\n\r", s[len - 1]))
		len--;
	if (len == 0 || len >= size || len > NUMBER_TEXT_MAX)
		return 0;
	dot = memchr(s, '.', len);
	comma = memchr(s, ',', len);
	if (dot && comma) {
		mark = dot > comma ? '.' : ',';
		other = dot > comma ? ',' : '.';
	}
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if ((ch == '-' || ch == '+') && i == 0) {
			if (ch == '-')
				out[n++] = ch;
		} else if (!point && digits > 0 && (sep = number_group_sep(s + i, other)) &&
		    i + sep + 3 <= len && strspn(s + i + sep, "0123456789") == 3 &&
		    (i + sep + 3 == len || !(s[i + sep + 3] >= '0' && s[i + sep + 3] <= '9'))) {
			i += sep - 1;   /* a group separator: dropped */
		} else if ((ch == '.' || ch == ',') && (mark == 0 || ch == mark) &&
		    !point && digits > 0) {
			point = 1;
			out[n++] = '.';
		} else if (ch >= '0' && ch <= '9') {
			digits++;
			out[n++] = ch;
		} else {
			return 0;
		}
	}
	if (digits == 0 || out[n - 1] == '.')
		return 0;
	out[n] = '\0';
	*x = strtod(out, NULL);
	return fabs(*x) <= NUMBER_LIMIT;
}

static int number_enter(struct step *s, const struct flow_node *n)
{
	return step_prompt(s, n, NULL);
}

static int number_reprompt(struct step *s, const struct flow_node *n,
	const char *reason, const char *fallback)
{
	return step_reason(s, n, reason, fallback, NULL) ? NODE_FAIL : NODE_STAY;
}

static int number_handle(struct step *s, const struct flow_node *n)
{
	const struct number_data *d = n->data;
	const struct update *u = s->u;
	char num[NUMBER_TEXT_MAX + 1], msg[160];
	double x;

	if (u->text == NULL || u->voice.file_id || u->document.file_id ||
	    u->photo.file_id || u->audio.file_id || u->video.file_id ||
	    !number_parse(u->text, num, sizeof(num), &x))
		return number_reprompt(s, n, "not_number", "Please answer with a number.");
	if (d->integer && x != floor(x))
		return number_reprompt(s, n, "not_integer", "Please answer with a "
			"whole number.");
	if (d->has_min && x < d->min) {
		snprintf(msg, sizeof(msg), "Please answer with a number of at "
			"least %g.", d->min);
		return number_reprompt(s, n, "below_min", msg);
	}
	if (d->has_max && x > d->max) {
		snprintf(msg, sizeof(msg), "Please answer with a number of at "
			"most %g.", d->max);
		return number_reprompt(s, n, "above_max", msg);
	}
	return step_kept(s, n, step_save(s, n->key, num, strlen(num)), n->next);
}

const struct node_type node_number = {
	.name = "number",
	.summary = "A number typed by the user, optionally whole only, from "
		"min to max; saved as written, a decimal comma made a point.",
	.waits = 1,
	.takes_text = 1,
	.look = NODE_LOOK_QUESTION,
	.keys = number_keys,
	.reasons = number_reasons,
	.data_size = sizeof(struct number_data),
	.validate = number_validate,
	.enter = number_enter,
	.handle = number_handle,
};
