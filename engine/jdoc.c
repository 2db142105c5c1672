/* jdoc.c - strict, bounded JSON reading on top of json-c. */
#include "engine/jdoc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int jdoc_read_file(const char *file, size_t max, struct buf *out,
	char *err, size_t errlen)
{
	struct stat st;
	char chunk[65536];
	int fd, rc = -1;
	ssize_t n;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory, not a flow file");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "is not a regular file");
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		snprintf(err, errlen, "file is %jd bytes; the limit is %zu bytes",
			(intmax_t)st.st_size, max);
		goto out;
	}
	buf_reset(out);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(out, chunk, (size_t)n) != 0) {
			snprintf(err, errlen, "file grew past the limit of %zu bytes", max);
			goto out;
		}
	}
	if (strspn(out->p ? out->p : "", " \t\r\n") == out->len) {
		snprintf(err, errlen, "file is empty");
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Line and column (1-based, columns in characters) of byte offset off. */
static void jdoc_position(const char *text, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

void jdoc_path(char *out, size_t size, const char *base, const char *key)
{
	size_t n = strlen(base);
	if (n >= size)
		n = size - 1;
	memmove(out, base, n);
	if (n + 1 < size)
		out[n++] = '/';
	for (const char *k = key; *k && n + 1 < size; k++) {
		if (*k == '~' || *k == '/') {
			if (n + 2 >= size)
				break;
			out[n++] = '~';
			out[n++] = *k == '~' ? '0' : '1';
		} else {
			out[n++] = *k;
		}
	}
	out[n] = '\0';
}

/* --- duplicate keys: json-c keeps the last of two equal keys silently,
 * so a second node "1" would hide the first. A scan of the (already
 * valid) text finds them. */

struct jdoc_key {
	const char *p;            /* the key, escapes decoded */
	size_t n;
	size_t off;
	uint64_t hash;
	char *owned;              /* p when decoding needed memory */
};

struct jdoc_frame {
	int object;
	int want_key;
	size_t index;             /* arrays: current element */
	const char *key;          /* objects: current key, raw */
	size_t key_n;
	size_t first, n_keys;     /* objects: its keys in the scan's list */
};

/* The keys of the objects open, innermost last: an object's keys are
 * dropped when it closes, so each open object's keys stay together.
 * Most documents need no memory beyond the first few. */
struct jdoc_keys {
	struct jdoc_key *k;
	size_t n, cap;
	struct jdoc_key small[64];
};

static unsigned jdoc_hex4(const char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static size_t jdoc_utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes the escapes of a (valid) JSON string body into a new buffer. */
static char *jdoc_unescape(const char *p, size_t n, size_t *outn)
{
	char *out = malloc(n + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned cp;
		if (p[i] != '\\') {
			*o++ = p[i];
			continue;
		}
		i++;
		switch (p[i]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			cp = jdoc_hex4(p + i + 1);
			i += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n + 1 &&
			    p[i + 1] == '\\' && p[i + 2] == 'u') {
				unsigned lo = jdoc_hex4(p + i + 3);
				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 6;
				}
			}
			if (cp >= 0xD800 && cp < 0xE000)
				cp = 0xFFFD;   /* a lone surrogate, as json-c decodes it */
			o += jdoc_utf8(cp, o);
			break;
		default: *o++ = p[i]; break;
		}
	}
	*outn = (size_t)(o - out);
	return out;
}

static uint64_t jdoc_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int jdoc_key_cmp(const void *a, const void *b)
{
	const struct jdoc_key *x = a, *y = b;
	int c;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	c = memcmp(x->p, y->p, x->n);
	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void jdoc_frames_path(const struct jdoc_frame *st, size_t depth,
	char *path, size_t pathlen)
{
	char tmp[JDOC_PATH_MAX], key[256];
	path[0] = '\0';
	for (size_t i = 0; i < depth; i++) {
		if (st[i].object) {
			size_t n = st[i].key_n < sizeof(key) - 1 ? st[i].key_n : sizeof(key) - 1;
			memcpy(key, st[i].key ? st[i].key : "", n);
			key[n] = '\0';
		} else {
			snprintf(key, sizeof(key), "%zu", st[i].index);
		}
		jdoc_path(tmp, sizeof(tmp), path, key);
		snprintf(path, pathlen, "%s", tmp);
	}
}

/* Returns 0, 1 with a message when a duplicate key is found, -1 when
 * memory runs out. */
static int jdoc_find_duplicate(const char *text, size_t len, int max_depth,
	char *err, size_t errlen, char *path, size_t pathlen)
{
	struct jdoc_frame small[66], *st = small;
	struct jdoc_keys ks;
	size_t depth = 0, line, col;
	int rc = 0;

	if ((size_t)max_depth + 2 > sizeof(small) / sizeof(small[0])) {
		st = malloc(((size_t)max_depth + 2) * sizeof(*st));
		if (st == NULL)
			return -1;
	}
	ks.k = ks.small;
	ks.n = 0;
	ks.cap = sizeof(ks.small) / sizeof(ks.small[0]);
	for (size_t i = 0; i < len && rc == 0; i++) {
		char c = text[i];
		struct jdoc_frame *top = depth ? &st[depth - 1] : NULL;
		if (c == '{' || c == '[') {
			if (depth == (size_t)max_depth + 2)
				break;  /* cannot happen: json-c enforced the depth */
			memset(&st[depth], 0, sizeof(st[depth]));
			st[depth].object = c == '{';
			st[depth].want_key = c == '{';
			st[depth].first = ks.n;
			depth++;
		} else if (c == '}' || c == ']') {
			struct jdoc_key *keys;
			if (top == NULL)
				break;
			keys = ks.k + top->first;
			if (top->object && top->n_keys > 1) {
				qsort(keys, top->n_keys, sizeof(*keys), jdoc_key_cmp);
				for (size_t k = 1; k < top->n_keys && rc == 0; k++) {
					const struct jdoc_key *a = &keys[k - 1], *b = &keys[k];
					char key[256];
					size_t n;
					if (a->hash != b->hash || a->n != b->n || memcmp(a->p, b->p, a->n))
						continue;
					n = b->n < sizeof(key) - 1 ? b->n : sizeof(key) - 1;
					memcpy(key, b->p, n);
					key[n] = '\0';
					top->key = b->p;
					top->key_n = b->n;
					jdoc_frames_path(st, depth, path, pathlen);
					jdoc_position(text, b->off, &line, &col);
					snprintf(err, errlen, "duplicate key \"%s\" at line %zu, "
						"column %zu: JSON keeps only the last one, so the "
						"first would be silently lost; rename or merge them",
						key, line, col);
					rc = 1;
				}
			}
			if (rc)
				break;   /* the keys are freed below, with the others */
			for (size_t k = 0; k < top->n_keys; k++)
				free(keys[k].owned);
			ks.n = top->first;
			depth--;
		} else if (c == '\'') {
			jdoc_frames_path(st, depth, path, pathlen);
			jdoc_position(text, i, &line, &col);
			snprintf(err, errlen, "not valid JSON: a single quote at line "
				"%zu, column %zu; JSON strings use double quotes", line, col);
			rc = 1;
		} else if (c == ',') {
			if (top && top->object)
				top->want_key = 1;
			else if (top)
				top->index++;
		} else if (c == '"') {
			size_t start = i + 1;
			for (i = start; i < len && text[i] != '"'; i++)
				if (text[i] == '\\')
					i++;
			if (top && top->object && top->want_key) {
				struct jdoc_key *k;
				if (ks.n == ks.cap) {
					size_t cap = ks.cap * 2;
					struct jdoc_key *more = malloc(cap * sizeof(*more));
					if (more == NULL) {
						rc = -1;
						break;
					}
					memcpy(more, ks.k, ks.n * sizeof(*more));
					if (ks.k != ks.small)
						free(ks.k);
					ks.k = more;
					ks.cap = cap;
				}
				k = &ks.k[ks.n++];
				top->n_keys++;
				k->p = text + start;
				k->n = i - start;
				k->off = start - 1;
				k->owned = NULL;
				if (memchr(k->p, '\\', k->n) != NULL) {
					k->owned = jdoc_unescape(k->p, k->n, &k->n);
					if (k->owned == NULL) {
						ks.n--;
						top->n_keys--;
						rc = -1;
						break;
					}
					k->p = k->owned;
					if (memchr(k->p, '\0', k->n) != NULL) {
						jdoc_frames_path(st, depth - 1, path, pathlen);
						if (path[0] == '\0')
							snprintf(path, pathlen, "/");
						jdoc_position(text, k->off, &line, &col);
						snprintf(err, errlen, "a key at line %zu, column "
							"%zu contains \\u0000, which no name may "
							"hold", line, col);
						rc = 1;
						break;
					}
				}
				k->hash = jdoc_hash(k->p, k->n);
				top->key = k->p;
				top->key_n = k->n;
				top->want_key = 0;
			}
		}
	}
	for (size_t k = 0; k < ks.n; k++)
		free(ks.k[k].owned);
	if (ks.k != ks.small)
		free(ks.k);
	if (st != small)
		free(st);
	return rc;
}

/* The offset in s (len bytes) of its first bad UTF-8 sequence,
 * or len when all of it is well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), which json-c's own check
 * lets through. */
static size_t jdoc_utf8_bad(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i], n, cp, min;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (unsigned k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

int jdoc_parse(const char *text, size_t len, int max_depth, json_object **out,
	char *err, size_t errlen, char *path, size_t pathlen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *o;
	size_t end, line, col;
	int rc;

	*out = NULL;
	snprintf(path, pathlen, "/");
	if (len > INT32_MAX) {
		snprintf(err, errlen, "not valid JSON: too large");
		return -1;
	}
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
		JSON_TOKENER_ALLOW_TRAILING_CHARS);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* a bare number at the very end is complete only once something
		 * follows it */
		o = json_tokener_parse_ex(tok, " ", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success) {
		json_object_put(o);
		if (jerr == json_tokener_continue || jerr == json_tokener_success) {
			snprintf(err, errlen, "not valid JSON: the text ends before "
				"the document is complete (a missing \"}\" or \"]\"?)");
			return -1;
		}
		if (end > len)
			end = len;
		jdoc_position(text, end, &line, &col);
		if (jerr == json_tokener_error_depth)
			snprintf(err, errlen, "not valid JSON: nested deeper than %d "
				"levels at line %zu, column %zu", max_depth, line, col);
		else
			snprintf(err, errlen, "not valid JSON: %s at line %zu, column %zu",
				json_tokener_error_desc(jerr), line, col);
		return -1;
	}
	while (end < len && (text[end] == ' ' || text[end] == '\t' ||
	       text[end] == '\r' || text[end] == '\n'))
		end++;
	if (end < len) {
		json_object_put(o);
		jdoc_position(text, end, &line, &col);
		snprintf(err, errlen, "not valid JSON: unexpected text after the "
			"document at line %zu, column %zu", line, col);
		return -1;
	}
	/* what json-c's own UTF-8 check lets through, in its words */
	end = jdoc_utf8_bad((const unsigned char *)text, len);
	if (end < len) {
		json_object_put(o);
		jdoc_position(text, end, &line, &col);
		snprintf(err, errlen, "not valid JSON: invalid utf-8 string at line "
			"%zu, column %zu", line, col);
		return -1;
	}
	rc = jdoc_find_duplicate(text, len, max_depth, err, errlen, path, pathlen);
	if (rc != 0) {
		json_object_put(o);
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = o;
	return 0;
}

int jdoc_quote(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (buf_addc(b, '"'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = "\\u00";
		size_t run = i;
		int rc;
		/* a run that needs no escape goes in one piece */
		while (run < len && (unsigned char)s[run] >= 0x20 && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		if (run > i) {
			/* as much as fits, as byte by byte would have */
			size_t room = b->max - b->len < run - i ? b->max - b->len : run - i;
			if (buf_add(b, s + i, room) || room < run - i)
				return -1;
			i = run - 1;
			continue;
		}
		switch (c) {
		case '"': rc = buf_add(b, "\\\"", 2); break;
		case '\\': rc = buf_add(b, "\\\\", 2); break;
		case '\n': rc = buf_add(b, "\\n", 2); break;
		case '\r': rc = buf_add(b, "\\r", 2); break;
		case '\t': rc = buf_add(b, "\\t", 2); break;
		case '\b': rc = buf_add(b, "\\b", 2); break;
		case '\f': rc = buf_add(b, "\\f", 2); break;
		default:   /* below 0x20 */
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			rc = buf_add(b, esc, 6);
		}
		if (rc)
			return -1;
	}
	return buf_addc(b, '"');
}

static int jdoc_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int jdoc_canon(const json_object *o, struct buf *b)
{
	json_object *mo = (json_object *)o;   /* json-c's getters are not const */
	switch (json_object_get_type(mo)) {
	case json_type_null:
		return buf_adds(b, "null");
	case json_type_boolean:
		return buf_adds(b, json_object_get_boolean(mo) ? "true" : "false");
	case json_type_int:
		return buf_addf(b, "%lld", (long long)json_object_get_int64(mo));
	case json_type_double:
		return buf_addf(b, "%.17g", json_object_get_double(mo));
	case json_type_string:
		return jdoc_quote(b, json_object_get_string(mo),
			(size_t)json_object_get_string_len(mo));
	case json_type_array: {
		size_t n = json_object_array_length(mo);
		if (buf_addc(b, '['))
			return -1;
		for (size_t i = 0; i < n; i++) {
			if ((i && buf_addc(b, ',')) ||
			    jdoc_canon(json_object_array_get_idx(mo, i), b))
				return -1;
		}
		return buf_addc(b, ']');
	}
	case json_type_object: {
		size_t n = (size_t)json_object_object_length(mo), i = 0;
		const char **keys = malloc((n ? n : 1) * sizeof(*keys));
		int rc = 0;
		if (keys == NULL)
			return -1;
		json_object_object_foreach(mo, k, v) {
			(void)v;
			keys[i++] = k;
		}
		qsort(keys, n, sizeof(*keys), jdoc_cmp_str);
		rc = buf_addc(b, '{');
		for (i = 0; i < n && rc == 0; i++) {
			json_object *val = NULL;
			json_object_object_get_ex(mo, keys[i], &val);
			rc = (i && buf_addc(b, ',')) ||
			     jdoc_quote(b, keys[i], strlen(keys[i])) ||
			     buf_addc(b, ':') || jdoc_canon(val, b);
		}
		free(keys);
		return rc ? -1 : buf_addc(b, '}');
	}
	}
	return -1;
}

const char *jdoc_type_name(const json_object *o)
{
	switch (json_object_get_type((json_object *)o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_int: return "an integer";
	case json_type_double: return "a number";
	case json_type_string: return "a string";
	case json_type_array: return "an array";
	case json_type_object: return "an object";
	}
	return "a value";
}
