/* node_date.c - a calendar date typed in one of the accepted formats,
 * from min to max (absolute, or relative to today like "-18y"). Saves it
 * as ISO 8601, YYYY-MM-DD. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/step.h"

#define DATE_FORMATS_MAX 8
#define DATE_FORMAT_LEN 16   /* bytes of a format */
#define DATE_SEPARATORS "./- "

/* A bound: a day, or an offset from today. */
struct date_bound {
	int set;
	int relative;        /* 1: today + n units */
	int n;
	char unit;           /* 'd', 'm' or 'y' */
	long day;            /* absolute: days since 1970-01-01 */
};

struct date_data {
	const char *formats[DATE_FORMATS_MAX];
	unsigned n_formats;
	struct date_bound min, max;
};

static const char *const date_default_formats[] = {
	"DD.MM.YYYY", "YYYY-MM-DD", "DD/MM/YYYY", NULL
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long date_days(int y, int m, int d)
{
	long era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of date_days(). */
static void date_civil(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int date_month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly digits n (or 1 to n when loose) at *s. Returns the
 * value and moves *s, or -1. */
static int date_digits(const char **s, int n, int loose)
{
	int v = 0, i = 0;
	while (i < n && (*s)[i] >= '0' && (*s)[i] <= '9') {
		v = v * 10 + ((*s)[i] - '0');
		i++;
	}
	if (i == 0 || (!loose && i < n))
		return -1;
	*s += i;
	return v;
}

/* Reads s as a date in format fmt into days. Returns 1 or 0. */
static int date_parse(const char *s, const char *fmt, long *days)
{
	int y = 0, m = 0, d = 0, v;

	while (*fmt) {
		if (strncmp(fmt, "YYYY", 4) == 0) {
			v = y = date_digits(&s, 4, 0);
			fmt += 4;
		} else if (strncmp(fmt, "MM", 2) == 0) {
			v = m = date_digits(&s, 2, 1);
			fmt += 2;
		} else if (strncmp(fmt, "DD", 2) == 0) {
			v = d = date_digits(&s, 2, 1);
			fmt += 2;
		} else {
			v = *s == *fmt ? 0 : -1;
			s++;
			fmt++;
		}
		if (v < 0)
			return 0;
	}
	if (*s != '\0' || y < 1 || m < 1 || m > 12 || d < 1 ||
	    d > date_month_days(y, m))
		return 0;
	*days = date_days(y, m, d);
	return 1;
}

/* Writes day in format fmt ("YYYY-MM-DD": ISO 8601) into out. */
static void date_format(long day, const char *fmt, char *out, size_t size)
{
	size_t n = 0;
	int y, m, d;

	date_civil(day, &y, &m, &d);
	while (*fmt && n + 5 < size) {
		int w = 0;
		if (strncmp(fmt, "YYYY", 4) == 0) {
			w = snprintf(out + n, size - n, "%04d", y);
			fmt += 4;
		} else if (strncmp(fmt, "MM", 2) == 0) {
			w = snprintf(out + n, size - n, "%02d", m);
			fmt += 2;
		} else if (strncmp(fmt, "DD", 2) == 0) {
			w = snprintf(out + n, size - n, "%02d", d);
			fmt += 2;
		} else {
			out[n++] = *fmt++;
		}
		n += w > 0 ? (size_t)w : 0;
	}
	out[n < size ? n : size - 1] = '\0';
}

/* A format has YYYY, MM and DD once each, separated by DATE_SEPARATORS. */
static int date_format_ok(const char *f)
{
	int y = 0, m = 0, d = 0;
	if (strlen(f) > DATE_FORMAT_LEN)
		return 0;
	while (*f) {
		if (strncmp(f, "YYYY", 4) == 0) {
			y++;
			f += 4;
		} else if (strncmp(f, "MM", 2) == 0) {
			m++;
			f += 2;
		} else if (strncmp(f, "DD", 2) == 0) {
			d++;
			f += 2;
		} else if (strchr(DATE_SEPARATORS, *f)) {
			f++;
		} else {
			return 0;
		}
	}
	return y == 1 && m == 1 && d == 1;
}

static int date_read_formats(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct date_data *d = n->data;
	char kpath[JDOC_PATH_MAX], ipath[JDOC_PATH_MAX], idx[24];
	json_object *v;
	size_t len;
	int bad = 0;

	if (!json_object_object_get_ex(obj, k->name, &v))
		return 0;
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	len = json_object_get_type(v) == json_type_array ? json_object_array_length(v) : 0;
	if (len == 0 || len > DATE_FORMATS_MAX) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "must be a list of 1 to %d "
			"formats such as [\"DD.MM.YYYY\", \"YYYY-MM-DD\"]", DATE_FORMATS_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		json_object *f = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(f);
		snprintf(idx, sizeof(idx), "%zu", i);
		jdoc_path(ipath, sizeof(ipath), kpath, idx);
		if (json_object_get_type(f) != json_type_string || !date_format_ok(s)) {
			check_error(c, DIAG_NODE_SCHEMA, ipath, "is not a date format: "
				"use YYYY, MM and DD once each, separated by '.', '/', '-' "
				"or ' ', e.g. \"DD.MM.YYYY\"");
			bad++;
			continue;
		}
		d->formats[d->n_formats++] = check_strdup(c, s);
	}
	return bad ? -1 : 1;
}

/* "YYYY-MM-DD", or [+-]N followed by d, m or y. */
static int date_bound_parse(const char *s, struct date_bound *b)
{
	char *end;
	long v;

	if (date_parse(s, "YYYY-MM-DD", &b->day))
		return 1;
	if ((s[0] != '-' && s[0] != '+') || s[1] < '0' || s[1] > '9')
		return 0;
	v = strtol(s, &end, 10);
	if (end[0] == '\0' || !strchr("dmy", end[0]) || end[1] != '\0' ||
	    v < -100000 || v > 100000)
		return 0;
	b->relative = 1;
	b->n = (int)v;
	b->unit = end[0];
	return 1;
}

static int date_read_bound(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct date_data *d = n->data;
	struct date_bound *b = strcmp(k->name, "min") == 0 ? &d->min : &d->max;
	char kpath[JDOC_PATH_MAX];
	const char *s;
	int rc = check_string(c, obj, k->name, path, NULL, &s);

	if (rc <= 0)
		return rc;
	if (!date_bound_parse(s, b)) {
		jdoc_path(kpath, sizeof(kpath), path, k->name);
		check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not a date: use "
			"YYYY-MM-DD, or a distance from today such as \"-18y\", "
			"\"+30d\" or \"-6m\"", s);
		return -1;
	}
	b->set = 1;
	return 1;
}

/* Both bounds absolute: max is not before min. */
static int date_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct date_data *d = n->data;
	char kpath[JDOC_PATH_MAX];

	(void)obj;
	if (d->n_formats == 0) {
		for (int i = 0; date_default_formats[i]; i++)
			d->formats[d->n_formats++] = date_default_formats[i];
	}
	if (d->min.set && d->max.set && !d->min.relative && !d->max.relative &&
	    d->max.day < d->min.day) {
		jdoc_path(kpath, sizeof(kpath), path, "max");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is before \"min\", so no "
			"date could be accepted");
		return -1;
	}
	return 0;
}

/* The day a bound stands for, today being the day of unix time now. */
static long date_bound_day(const struct date_bound *b, long long now)
{
	long today = (long)(now / 86400);
	int y, m, d;

	if (!b->relative)
		return b->day;
	if (b->unit == 'd')
		return today + b->n;
	date_civil(today, &y, &m, &d);
	if (b->unit == 'y') {
		y += b->n;
	} else {
		long months = (long)y * 12 + (m - 1) + b->n;
		y = (int)(months / 12);
		m = (int)(months % 12) + 1;
	}
	if (d > date_month_days(y, m))
		d = date_month_days(y, m);
	return date_days(y, m, d);
}

static const struct node_key date_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after a good answer, "
	  "e.g. \"next\": \"2\"", .desc = "Where a good answer goes.", NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the date is saved "
	  "under, e.g. \"key_to_save\": \"birthday\"",
	  .desc = "The name the date is saved under, as YYYY-MM-DD.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	NODE_KEY_BACK_ENTRY,
	{ "formats", NODE_KEY_CUSTOM, .read = date_read_formats,
	  .desc = "The formats accepted, each with YYYY, MM and DD once (MM "
	  "and DD may have one digit) separated by '.', '/', '-' or ' '; the "
	  "first is used in messages. Default [\"DD.MM.YYYY\", \"YYYY-MM-DD\", "
	  "\"DD/MM/YYYY\"].",
	  .doc = "list of 1–8 formats",
	  .schema = "{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 8, "
	  "\"items\": {\"type\": \"string\", \"minLength\": 8, \"maxLength\": 16, "
	  "\"pattern\": \"^(?:YYYY|MM|DD|[./ -])+$\"}}" },
	{ "min", NODE_KEY_CUSTOM, .read = date_read_bound,
	  .desc = "The earliest date accepted: YYYY-MM-DD, or a distance from "
	  "today such as \"-100y\", \"-6m\" or \"+1d\".",
	  .doc = "date or distance from today",
	  .schema = "{\"type\": \"string\", \"pattern\": "
	  "\"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[+-][0-9]{1,6}[dmy])$\"}" },
	{ "max", NODE_KEY_CUSTOM, .read = date_read_bound,
	  .desc = "The latest date accepted, as min; e.g. \"-18y\" for someone "
	  "at least 18 years old.",
	  .doc = "date or distance from today",
	  .schema = "{\"type\": \"string\", \"pattern\": "
	  "\"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[+-][0-9]{1,6}[dmy])$\"}" },
	{ NULL }
};

static const char *const date_reasons[] = {
	"not_date", "too_early", "too_late", NULL
};

static int date_enter(struct step *s, const struct flow_node *n)
{
	return step_prompt(s, n, NULL);
}

static int date_reprompt(struct step *s, const struct flow_node *n,
	const char *reason, const char *fallback)
{
	return step_reason(s, n, reason, fallback, NULL) ? NODE_FAIL : NODE_STAY;
}

static int date_handle(struct step *s, const struct flow_node *n)
{
	const struct date_data *d = n->data;
	const struct update *u = s->u;
	long long now = s->env->now > 0 ? s->env->now : u->date;
	char text[40], shown[40], iso[16], msg[160];
	long day = 0;
	unsigned i = d->n_formats;
	size_t len;

	if (u->text && !u->voice.file_id && !u->document.file_id &&
	    !u->photo.file_id && !u->audio.file_id && !u->video.file_id) {
		const char *t = u->text + strspn(u->text, " \t\n\r");
		len = strlen(t);
		while (len > 0 && strchr(" \t\n\r", t[len - 1]))
			len--;
		if (len < sizeof(text)) {
			memcpy(text, t, len);
			text[len] = '\0';
			for (i = 0; i < d->n_formats && !date_parse(text, d->formats[i], &day); i++)
				;
		}
	}
	if (i == d->n_formats) {
		snprintf(msg, sizeof(msg), "Please write a date as %s.", d->formats[0]);
		return date_reprompt(s, n, "not_date", msg);
	}
	if (d->min.set && day < date_bound_day(&d->min, now)) {
		date_format(date_bound_day(&d->min, now), d->formats[0], shown, sizeof(shown));
		snprintf(msg, sizeof(msg), "Please give a date no earlier than %s.", shown);
		return date_reprompt(s, n, "too_early", msg);
	}
	if (d->max.set && day > date_bound_day(&d->max, now)) {
		date_format(date_bound_day(&d->max, now), d->formats[0], shown, sizeof(shown));
		snprintf(msg, sizeof(msg), "Please give a date no later than %s.", shown);
		return date_reprompt(s, n, "too_late", msg);
	}
	date_format(day, "YYYY-MM-DD", iso, sizeof(iso));
	return step_kept(s, n, step_save(s, n->key, iso, strlen(iso)), n->next);
}

const struct node_type node_date = {
	.name = "date",
	.summary = "A date typed in one of the accepted formats, from min to "
		"max (a date or a distance from today such as \"-18y\"); saved as "
		"YYYY-MM-DD.",
	.waits = 1,
	.takes_text = 1,
	.look = NODE_LOOK_QUESTION,
	.keys = date_keys,
	.reasons = date_reasons,
	.data_size = sizeof(struct date_data),
	.validate = date_validate,
	.enter = date_enter,
	.handle = date_handle,
};
