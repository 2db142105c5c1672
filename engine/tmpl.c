/* tmpl.c - scanning {{key}} templates. */
#include "engine/tmpl.h"

#include <stdint.h>
#include <string.h>

#include "engine/html.h"

static int tmpl_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* {{state.key}} and {{context.key}} name the saved key itself. */
static void tmpl_scope(const char **key, size_t *klen)
{
	static const char *const scopes[] = { "state.", "context.", NULL };
	for (int i = 0; scopes[i]; i++) {
		size_t n = strlen(scopes[i]);
		if (*klen > n && memcmp(*key, scopes[i], n) == 0) {
			*key += n;
			*klen -= n;
			return;
		}
	}
}

/* The first "{{" of s, or NULL: strstr's answer, found by a scan that
 * stops there (a sanitizer's strstr measures the whole rest of s every
 * time, which made a text of many "{{" quadratic under the fuzzer). */
static const char *tmpl_open(const char *s)
{
	for (s = strchr(s, '{'); s; s = strchr(s + 1, '{'))
		if (s[1] == '{')
			return s;
	return NULL;
}

const char *tmpl_next(const char *s, const char **key, size_t *klen,
	const char **end)
{
	for (const char *p = tmpl_open(s); p; p = tmpl_open(p + 1)) {
		const char *k = p + 2, *e;
		while (*k == ' ')
			k++;
		e = k;
		while (tmpl_key_char(*e))
			e++;
		if (e == k || (size_t)(e - k) > TMPL_KEY_MAX)
			continue;
		*key = k;
		*klen = (size_t)(e - k);
		tmpl_scope(key, klen);
		while (*e == ' ')
			e++;
		if (e[0] != '}' || e[1] != '}')
			continue;
		*end = e + 2;
		return p;
	}
	return NULL;
}

static const char *const tmpl_names[] = {
	"user.first_name", "user.last_name", "user.username", "user.id",
	"user.language_code", "chat.id", "start_param", NULL
};

const char *const *tmpl_builtins(void)
{
	return tmpl_names;
}

int tmpl_builtin(const char *key, size_t klen)
{
	const char *const *names = tmpl_names;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == klen && memcmp(names[i], key, klen) == 0)
			return 1;
	return 0;
}

/* Bytes of text's literal parts: all but its {{key}}s. */
static size_t tmpl_literal(const char *text)
{
	const char *key, *end, *p;
	size_t klen, n = 0;

	for (p = tmpl_next(text, &key, &klen, &end); p != NULL;
	     p = tmpl_next(text, &key, &klen, &end)) {
		n += (size_t)(p - text);
		text = end;
	}
	return n + strlen(text);
}

/* Appends value v as tmpl_render() does, cut to take at most room bytes:
 * between characters, and an HTML value (raw) also outside its tags and
 * entities, with the tags open there closed. Returns 0 or -1. */
static int tmpl_value(struct buf *b, const char *v, int escape, int raw, size_t room)
{
	size_t len;

	if (escape && raw)
		return html_cut(b, v, SIZE_MAX, room, "");
	len = html_fit(v, strlen(v), escape, room);
	return escape ? html_escape(b, v, len) : buf_add(b, v, len);
}

int tmpl_render(struct buf *b, const char *text, int escape,
	const char *(*lookup)(void *arg, const char *key, size_t klen, int *raw),
	void *arg)
{
	const char *key, *end, *p;
	size_t klen, literal = tmpl_literal(text);

	for (p = tmpl_next(text, &key, &klen, &end); p != NULL;
	     p = tmpl_next(text, &key, &klen, &end)) {
		const char *v;
		size_t room;
		int raw = 0;
		if (buf_add(b, text, (size_t)(p - text)))
			return -1;
		literal -= (size_t)(p - text);
		text = end;
		v = lookup(arg, key, klen, &raw);
		if (v == NULL)
			continue;
		room = b->max - b->len > literal ? b->max - b->len - literal : 0;
		if (tmpl_value(b, v, escape, raw, room))
			return -1;
	}
	return buf_adds(b, text);
}
