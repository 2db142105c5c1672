/* html.c - escaping and entity-to-HTML rendering. */
#include "engine/html.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define HTML_ENTITIES_MAX 256
#define HTML_DEPTH_MAX 64        /* open tags html_cut can close */

int html_escape(struct buf *b, const char *s, size_t len)
{
	/* one look-up a byte */
	static const char *const reps[256] = {
		['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;", ['"'] = "&quot;"
	};
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = reps[(unsigned char)s[i]];
		if (rep == NULL)
			continue;
		if (buf_add(b, s + start, i - start) || buf_adds(b, rep))
			return -1;
		start = i + 1;
	}
	return buf_add(b, s + start, len - start);
}

struct html_span {
	size_t start, end;       /* byte offsets */
	json_object *e;
	const char *type;
	int order;
};

static int html_tag(struct buf *b, const struct html_span *sp, int open)
{
	const char *t = sp->type;
	json_object *v;

	if (strcmp(t, "bold") == 0)
		return buf_adds(b, open ? "<b>" : "</b>");
	if (strcmp(t, "italic") == 0)
		return buf_adds(b, open ? "<i>" : "</i>");
	if (strcmp(t, "underline") == 0)
		return buf_adds(b, open ? "<u>" : "</u>");
	if (strcmp(t, "strikethrough") == 0)
		return buf_adds(b, open ? "<s>" : "</s>");
	if (strcmp(t, "spoiler") == 0)
		return buf_adds(b, open ? "<tg-spoiler>" : "</tg-spoiler>");
	if (strcmp(t, "code") == 0)
		return buf_adds(b, open ? "<code>" : "</code>");
	if (strcmp(t, "blockquote") == 0)
		return buf_adds(b, open ? "<blockquote>" : "</blockquote>");
	if (strcmp(t, "expandable_blockquote") == 0)
		return buf_adds(b, open ? "<blockquote expandable>" : "</blockquote>");
	if (strcmp(t, "pre") == 0) {
		const char *lang = NULL;
		if (json_object_object_get_ex(sp->e, "language", &v) &&
		    json_object_get_type(v) == json_type_string)
			lang = json_object_get_string(v);
		if (!open)
			return buf_adds(b, lang ? "</code></pre>" : "</pre>");
		if (lang == NULL)
			return buf_adds(b, "<pre>");
		return buf_adds(b, "<pre><code class=\"language-") ||
		       html_escape(b, lang, strlen(lang)) || buf_adds(b, "\">");
	}
	if (strcmp(t, "text_link") == 0) {
		const char *url = "";
		if (!open)
			return buf_adds(b, "</a>");
		if (json_object_object_get_ex(sp->e, "url", &v) &&
		    json_object_get_type(v) == json_type_string)
			url = json_object_get_string(v);
		return buf_adds(b, "<a href=\"") || html_escape(b, url, strlen(url)) ||
		       buf_adds(b, "\">");
	}
	if (strcmp(t, "text_mention") == 0) {
		json_object *user, *id;
		if (!open)
			return buf_adds(b, "</a>");
		if (json_object_object_get_ex(sp->e, "user", &user) &&
		    json_object_object_get_ex(user, "id", &id) &&
		    json_object_get_type(id) == json_type_int)
			return buf_addf(b, "<a href=\"tg://user?id=%lld\">",
				(long long)json_object_get_int64(id));
		return buf_adds(b, "<a>");
	}
	if (strcmp(t, "custom_emoji") == 0) {
		const char *id = "";
		if (!open)
			return buf_adds(b, "</tg-emoji>");
		if (json_object_object_get_ex(sp->e, "custom_emoji_id", &v) &&
		    json_object_get_type(v) == json_type_string)
			id = json_object_get_string(v);
		return buf_adds(b, "<tg-emoji emoji-id=\"") ||
		       html_escape(b, id, strlen(id)) || buf_adds(b, "\">");
	}
	return 0;
}

static int html_styled(const char *t)
{
	static const char *const types[] = {
		"bold", "italic", "underline", "strikethrough", "spoiler", "code",
		"pre", "text_link", "text_mention", "blockquote",
		"expandable_blockquote", "custom_emoji", NULL
	};
	for (int i = 0; types[i]; i++)
		if (strcmp(types[i], t) == 0)
			return 1;
	return 0;
}

/* Byte offset of UTF-16 offset u16 in text, or SIZE_MAX past the end. */
static size_t html_byte_offset(const char *text, size_t len, long long u16)
{
	long long units = 0;
	size_t i = 0;
	while (i < len && units < u16) {
		unsigned char c = (unsigned char)text[i];
		size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		units += n == 4 ? 2 : 1;
		i += n;
	}
	if (units != u16 || i > len)
		return SIZE_MAX;
	return i;
}

static int html_span_cmp(const void *a, const void *b)
{
	const struct html_span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;   /* outer first */
	return x->order - y->order;
}

int html_from_entities(struct buf *b, const char *text, json_object *entities)
{
	struct html_span spans[HTML_ENTITIES_MAX];
	const struct html_span *stack[HTML_ENTITIES_MAX];
	size_t len = strlen(text), n = 0, depth = 0, pos = 0, next = 0;

	if (entities && json_object_get_type(entities) == json_type_array) {
		size_t count = json_object_array_length(entities);
		for (size_t i = 0; i < count && n < HTML_ENTITIES_MAX; i++) {
			json_object *e = json_object_array_get_idx(entities, i), *t, *o, *l;
			if (!json_object_object_get_ex(e, "type", &t) ||
			    json_object_get_type(t) != json_type_string ||
			    !json_object_object_get_ex(e, "offset", &o) ||
			    json_object_get_type(o) != json_type_int ||
			    !json_object_object_get_ex(e, "length", &l) ||
			    json_object_get_type(l) != json_type_int ||
			    !html_styled(json_object_get_string(t)))
				continue;
			long long off = json_object_get_int64(o), ln = json_object_get_int64(l);
			if (off < 0 || ln <= 0 || ln > LLONG_MAX - off)
				continue;   /* off + ln would overflow: no such span */
			size_t s = html_byte_offset(text, len, off);
			size_t e2 = html_byte_offset(text, len, off + ln);
			if (s == SIZE_MAX || e2 == SIZE_MAX)
				continue;
			spans[n].start = s;
			spans[n].end = e2;
			spans[n].e = e;
			spans[n].type = json_object_get_string(t);
			spans[n].order = (int)n;
			n++;
		}
	}
	qsort(spans, n, sizeof(*spans), html_span_cmp);
	while (pos <= len) {
		size_t stop = len;
		/* close what ends here, innermost first; a span that ends while
		 * an inner one is still open closes it and reopens it */
		for (size_t k = depth; k-- > 0;) {
			if (stack[k]->end != pos)
				continue;
			for (size_t j = depth; j-- > k;)
				if (html_tag(b, stack[j], 0))
					return -1;
			memmove(&stack[k], &stack[k + 1], (depth - k - 1) * sizeof(*stack));
			depth--;
			for (size_t j = k; j < depth; j++)
				if (html_tag(b, stack[j], 1))
					return -1;
		}
		while (next < n && spans[next].start == pos) {
			if (html_tag(b, &spans[next], 1))
				return -1;
			stack[depth++] = &spans[next++];
		}
		if (pos == len)
			break;
		if (next < n && spans[next].start < stop)
			stop = spans[next].start;
		for (size_t k = 0; k < depth; k++)
			if (stack[k]->end < stop)
				stop = stack[k]->end;
		if (html_escape(b, text + pos, stop - pos))
			return -1;
		pos = stop;
	}
	return 0;
}

static int html_known_tag(const char *name, size_t n)
{
	static const char *const tags[] = {
		"b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
		"tg-spoiler", "span", "a", "code", "pre", "blockquote", "tg-emoji",
		NULL
	};
	for (int i = 0; tags[i]; i++)
		if (strlen(tags[i]) == n && memcmp(tags[i], name, n) == 0)
			return 1;
	return 0;
}

/* An entity at s ("&lt;", "&#65;", "&#x41;"): its length, or 0. */
static size_t html_entity(const char *s)
{
	static const char *const named[] = { "&lt;", "&gt;", "&amp;", "&quot;", NULL };
	size_t n;
	for (int i = 0; named[i]; i++)
		if (strncmp(s, named[i], strlen(named[i])) == 0)
			return strlen(named[i]);
	if (s[1] != '#')
		return 0;
	if (s[2] == 'x' || s[2] == 'X')
		n = 3 + strspn(s + 3, "0123456789abcdefABCDEF");
	else
		n = 2 + strspn(s + 2, "0123456789");
	return (n > 3 || (n == 3 && s[2] != 'x' && s[2] != 'X')) && s[n] == ';' ? n + 1 : 0;
}

int html_check(const char *text, char *why, size_t whylen)
{
	const char *open[32];
	size_t open_n[32], depth = 0;

	for (const char *p = text; *p; p++) {
		const char *name, *end;
		size_t n;
		int closing;
		if (*p == '&') {
			if (html_entity(p) == 0) {
				snprintf(why, whylen, "has a bare \"&\"; Telegram HTML needs "
					"&amp; for a literal \"&\"");
				return -1;
			}
			continue;
		}
		if (*p != '<')
			continue;
		closing = p[1] == '/';
		name = p + 1 + closing;
		n = strspn(name, "abcdefghijklmnopqrstuvwxyz-");
		end = strchr(name, '>');
		if (n == 0 || end == NULL || !html_known_tag(name, n) ||
		    (name[n] != '>' && name[n] != ' ')) {
			snprintf(why, whylen, "has \"<\" that is not a tag Telegram "
				"accepts; write &lt; for a literal \"<\" (tags: b, i, u, s, "
				"tg-spoiler, a, code, pre, blockquote, tg-emoji)");
			return -1;
		}
		if (!closing) {
			if (depth == sizeof(open) / sizeof(open[0])) {
				snprintf(why, whylen, "nests tags too deeply");
				return -1;
			}
			open[depth] = name;
			open_n[depth++] = n;
		} else if (depth == 0 || open_n[depth - 1] != n ||
			   memcmp(open[depth - 1], name, n) != 0) {
			snprintf(why, whylen, "closes <%.*s> where %s%.*s%s is open; close "
				"tags in the order they were opened", (int)n, name,
				depth ? "<" : "no tag", depth ? (int)open_n[depth - 1] : 0,
				depth ? open[depth - 1] : "", depth ? ">" : "");
			return -1;
		} else {
			depth--;
		}
		p = end;
	}
	if (depth) {
		snprintf(why, whylen, "opens <%.*s> and never closes it; add </%.*s>",
			(int)open_n[depth - 1], open[depth - 1],
			(int)open_n[depth - 1], open[depth - 1]);
		return -1;
	}
	return 0;
}

/* The token at p: a tag (*tag set), an entity, or one UTF-8 character
 * (a stray continuation byte alone); its length, and the UTF-16 units
 * Telegram shows for it in *units. */
static size_t html_token(const char *p, int *tag, size_t *units)
{
	unsigned char c = (unsigned char)*p;
	size_t n = 1, e;

	*tag = 0;
	*units = 1;
	if (c == '<') {
		const char *end = strchr(p, '>');
		if (end) {
			*tag = 1;
			*units = 0;
			return (size_t)(end - p) + 1;
		}
	}
	if (c == '&' && (e = html_entity(p)) != 0)
		return e;
	if ((c & 0xC0) == 0x80) {
		*units = 0;
		return 1;
	}
	if (c >= 0xF0)
		*units = 2;
	while (c >= 0xC0 && n < (c < 0xE0 ? 2u : c < 0xF0 ? 3u : 4u) &&
	       ((unsigned char)p[n] & 0xC0) == 0x80)
		n++;
	return n;
}

size_t html_text_len(const char *html)
{
	size_t n = 0, units;
	int tag;
	for (const char *p = html; *p; n += units)
		p += html_token(p, &tag, &units);
	return n;
}

size_t html_fit(const char *s, size_t len, int escape, size_t room)
{
	size_t i = 0, used = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = 1, w;
		while (c >= 0xC0 && i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
			n++;
		w = !escape ? n : c == '&' ? 5 : c == '<' || c == '>' ? 4 : c == '"' ? 6 : n;
		if (used + w > room)
			break;
		used += w;
		i += n;
	}
	return i;
}

/* A tag open at some point of a text: its name. */
struct html_open {
	const char *name;
	size_t n;
};

/* Walks a tag at p: pushes an opening one on open (*depth of max; one
 * past max only counts in *deep), pops a closing one. */
static void html_nest(const char *p, struct html_open *open, size_t max,
	size_t *depth, size_t *deep)
{
	int closing = p[1] == '/';
	const char *name = p + 1 + closing;
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz-");

	if (closing && *deep > 0)
		(*deep)--;
	else if (closing && *depth > 0)
		(*depth)--;
	else if (!closing && *depth == max)
		(*deep)++;
	else if (!closing) {
		open[*depth].name = name;
		open[(*depth)++].n = n;
	}
}

int html_cut(struct buf *b, const char *html, size_t max_units, size_t max_bytes,
	const char *tail)
{
	struct html_open open[HTML_DEPTH_MAX];
	size_t tail_len = strlen(tail), tail_units = html_text_len(tail);
	size_t depth = 0, deep = 0, units = 0, closers = 0, cut = 0, at;
	const char *p;
	int tag, found = 0;

	if (strlen(html) <= max_bytes && html_text_len(html) <= max_units)
		return buf_adds(b, html);
	/* the last point between tokens where what comes before, the tail
	 * and the closing tags fit */
	for (p = html; ; p += at) {
		size_t off = (size_t)(p - html), u;
		if (units + tail_units > max_units || off + tail_len > max_bytes)
			break;
		if (deep == 0 && off + tail_len + closers <= max_bytes) {
			cut = off;
			found = 1;
		}
		if (*p == '\0')
			break;
		at = html_token(p, &tag, &u);
		units += u;
		if (tag) {
			html_nest(p, open, HTML_DEPTH_MAX, &depth, &deep);
			closers = 0;
			for (size_t k = 0; k < depth; k++)
				closers += open[k].n + 3;
		}
	}
	if (!found)
		return 0;
	depth = deep = 0;
	for (p = html; p < html + cut; p += at) {
		at = html_token(p, &tag, &units);
		if (tag)
			html_nest(p, open, HTML_DEPTH_MAX, &depth, &deep);
	}
	if (buf_add(b, html, cut) || buf_adds(b, tail))
		return -1;
	while (depth-- > 0)
		if (buf_addf(b, "</%.*s>", (int)open[depth].n, open[depth].name))
			return -1;
	return 0;
}

int html_shorten(struct buf *b, size_t max_units, const char *tail)
{
	struct buf cut;

	if (b->p == NULL || html_text_len(b->p) <= max_units)
		return 0;
	buf_init(&cut, b->max);
	if (html_cut(&cut, b->p, max_units, b->max, tail) != 0) {
		buf_free(&cut);
		return -1;
	}
	buf_free(b);
	*b = cut;
	return 0;
}
