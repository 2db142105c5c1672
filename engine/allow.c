/* allow.c - allow-lists of user and chat ids, and the answer to those on
 * neither (allow.h). */
#include "engine/allow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/step.h"

#define ALLOW_MAX 1000000   /* ids in one list */

static int allow_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Appends the ids in text (separated by commas, spaces or line breaks;
 * '#' to the end of a line is a comment). Returns 0 or -1 with err. */
static int allow_scan(struct allow_list *l, unsigned *cap, const char *text,
	const char *where, char *err, size_t errlen)
{
	const char *p = text;
	int line = 1;

	for (;;) {
		char *end;
		long long id;
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n') {
			line += *p == '\n';
			p++;
		}
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		if (*p == '\0')
			return 0;
		errno = 0;
		id = strtoll(p, &end, 10);
		if (end == p || errno || (*end && !strchr(" \t,\r\n#", *end))) {
			snprintf(err, errlen, "%s%s%d: \"%.*s\" is not a Telegram id (a "
				"whole number such as 123456789, or -100123456789 for a group)",
				where, *where ? " line " : "at ", line, (int)strcspn(p, " \t,\r\n"), p);
			return -1;
		}
		if (l->n == *cap) {
			unsigned ncap = *cap ? *cap * 2 : 16;
			long long *ids = ncap > ALLOW_MAX ? NULL : realloc(l->ids, ncap * sizeof(*ids));
			if (ids == NULL) {
				snprintf(err, errlen, "%smore than %d ids, or out of memory",
					where, ALLOW_MAX);
				return -1;
			}
			l->ids = ids;
			*cap = ncap;
		}
		l->ids[l->n++] = id;
		p = end;
	}
}

/* The whole of file as a string (the caller frees it); NULL with err. */
static char *allow_read(const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	char *text = NULL;
	long len;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len < (64L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0) {
		text = malloc((size_t)len + 1);
		if (text && fread(text, 1, (size_t)len, f) == (size_t)len)
			text[len] = '\0';
		else {
			free(text);
			text = NULL;
		}
	}
	if (text == NULL)
		snprintf(err, errlen, "%s: cannot read it (at most 64 MB)", file);
	fclose(f);
	return text;
}

int allow_load(const char *spec, struct allow_list *l, char *err, size_t errlen)
{
	char where[600];
	char *text = NULL;
	unsigned cap = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	where[0] = '\0';
	if (spec[0] == '@') {
		text = allow_read(spec + 1, err, errlen);
		if (text == NULL)
			return -1;
		snprintf(where, sizeof(where), "%s:", spec + 1);
	}
	rc = allow_scan(l, &cap, text ? text : spec, where, err, errlen);
	free(text);
	if (rc) {
		allow_free(l);
		return -1;
	}
	if (l->n)
		qsort(l->ids, l->n, sizeof(*l->ids), allow_cmp);
	return 0;
}

int allow_has(const struct allow_list *l, long long id)
{
	return l->n && bsearch(&id, l->ids, l->n, sizeof(*l->ids), allow_cmp) != NULL;
}

void allow_free(struct allow_list *l)
{
	free(l->ids);
	memset(l, 0, sizeof(*l));
}

int allow_reply(const struct flow *f, const struct update *u, int tell,
	struct step_out *out)
{
	static const char fallback[] = "Sorry, this bot is not open to you.";
	struct chat chat;
	struct step s;
	json_object *p;
	int rc;

	if (chat_init(&chat, u->chat_id) != 0)
		return -1;
	memset(&s, 0, sizeof(s));
	s.flow = f;
	s.chat = &chat;
	s.u = u;
	s.out = out;
	s.lang = u->from.language_code ? u->from.language_code : "";
	buf_init(&s.text, 64 * 1024);
	if (u->kind == UPDATE_CALLBACK_QUERY) {
		p = json_object_new_object();
		rc = p ? 0 : -1;
		if (p && u->callback_id)
			json_object_object_add(p, "callback_query_id",
				json_object_new_string(u->callback_id));
		if (p && tell && f->not_allowed_text.n)
			rc = step_render_plain(&s, &f->not_allowed_text, &s.text);
		if (p && tell && rc == 0)
			json_object_object_add(p, "text", json_object_new_string(
				f->not_allowed_text.n ? (s.text.p ? s.text.p : "") : fallback));
		if (rc == 0)
			rc = step_out_add(out, "answerCallbackQuery", p);
		else
			json_object_put(p);
	} else if (f->not_allowed_text.n) {
		rc = step_send(&s, &f->not_allowed_text, NULL);
	} else {
		rc = step_reason(&s, NULL, "not_allowed", fallback, NULL);
	}
	buf_free(&s.text);
	chat_free(&chat);
	return rc;
}
