/* check.c - validation helpers shared by the flow loader and node types. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine/check.h"
#include "engine/node.h"

#include <math.h>
#include <stdint.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/html.h"
#include "engine/jdoc.h"
#include "engine/tmpl.h"

struct check_ref {
	struct check_ref *next;
	const char *path;
	const char *id;
	int *slot;
};

struct check_use {
	struct check_use *next;
	const char *path;
	const char *key;
	const char *value;   /* a test's value, NULL for none */
	int node;
};

struct flow_regex {
	struct flow_regex *next;
	pcre2_code *code;
};

void check_init(struct check *c, struct flow *flow, struct diag *d)
{
	memset(c, 0, sizeof(*c));
	c->flow = flow;
	c->diag = d;
	arena_init(&c->tmp);
	c->cur = -1;
	c->refs_tail = &c->refs;
	c->uses_tail = &c->uses;
	c->saves_tail = &c->saves;
	c->tests_tail = &c->tests;
}

void check_done(struct check *c)
{
	arena_free(&c->tmp);
}

void check_error(struct check *c, const char *cls, const char *path,
	const char *fmt, ...)
{
	va_list ap;
	c->errors++;
	va_start(ap, fmt);
	diag_vadd(c->diag, DIAG_ERROR, cls, path, fmt, ap);
	va_end(ap);
}

void check_warn(struct check *c, const char *cls, const char *path,
	const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(c->diag, DIAG_WARNING, cls, path, fmt, ap);
	va_end(ap);
}

void check_missing(struct check *c, const char *path, const char *key,
	const char *hint)
{
	check_error(c, DIAG_NODE_SCHEMA, path, "missing \"%s\": %s", key, hint);
}

void *check_alloc(struct check *c, size_t n)
{
	void *p = arena_alloc(&c->flow->arena, n);
	if (p == NULL)
		check_error(c, DIAG_SCHEMA, "/", "out of memory");
	return p;
}

const char *check_strdup(struct check *c, const char *s)
{
	char *p = arena_strdup(&c->flow->arena, s);
	if (p == NULL)
		check_error(c, DIAG_SCHEMA, "/", "out of memory");
	return p;
}

/* Fetches key from obj: 1 found (*v set), 0 absent and optional, -1
 * absent and required (reported). */
static int check_get(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, json_object **v, char *kpath)
{
	jdoc_path(kpath, JDOC_PATH_MAX, path, key);
	if (json_object_object_get_ex(obj, key, v))
		return 1;
	if (hint == NULL)
		return 0;
	check_missing(c, path, key, hint);
	return -1;
}

static int check_type(struct check *c, json_object *v, const char *kpath,
	enum json_type want, const char *want_name)
{
	enum json_type t = json_object_get_type(v);
	if (t == want || (want == json_type_double && t == json_type_int))
		return 0;
	check_error(c, DIAG_SCHEMA, kpath, "must be %s, not %s", want_name,
		jdoc_type_name(v));
	return -1;
}

/* A JSON string without NUL bytes, copied to the arena. */
static int check_string_value(struct check *c, json_object *v,
	const char *kpath, const char **out)
{
	const char *s;
	if (check_type(c, v, kpath, json_type_string, "a string"))
		return -1;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s)) {
		check_error(c, DIAG_SCHEMA, kpath, "must not contain a NUL character (\\u0000)");
		return -1;
	}
	*out = check_strdup(c, s);
	return *out ? 1 : -1;
}

int check_string(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, const char **out)
{
	char kpath[JDOC_PATH_MAX];
	json_object *v;
	int rc = check_get(c, obj, key, path, hint, &v, kpath);
	if (rc <= 0)
		return rc;
	return check_string_value(c, v, kpath, out);
}

int check_int(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, long long min, long long max,
	long long *out)
{
	char kpath[JDOC_PATH_MAX];
	json_object *v;
	long long x;
	int rc = check_get(c, obj, key, path, hint, &v, kpath);
	if (rc <= 0)
		return rc;
	if (json_object_get_type(v) == json_type_double) {
		double d = json_object_get_double(v);
		if (d != floor(d)) {
			check_error(c, DIAG_SCHEMA, kpath, "must be a whole number, not %g", d);
			return -1;
		}
		if (d < (double)min || d > (double)max) {
			check_error(c, DIAG_NODE_SCHEMA, kpath,
				"is %g; it must be from %lld to %lld", d, min, max);
			return -1;
		}
		x = (long long)d;
	} else if (check_type(c, v, kpath, json_type_int, "a whole number")) {
		return -1;
	} else {
		x = (long long)json_object_get_int64(v);
	}
	if (x == INT64_MAX || x == INT64_MIN) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is far too large; it must "
			"be from %lld to %lld", min, max);
		return -1;
	}
	if (x < min || x > max) {
		check_error(c, DIAG_NODE_SCHEMA, kpath,
			"is %lld; it must be from %lld to %lld", x, min, max);
		return -1;
	}
	*out = x;
	return 1;
}

int check_number(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, double min_excl, double max,
	double *out)
{
	char kpath[JDOC_PATH_MAX];
	json_object *v;
	double x;
	int rc = check_get(c, obj, key, path, hint, &v, kpath);
	if (rc <= 0)
		return rc;
	if (check_type(c, v, kpath, json_type_double, "a number"))
		return -1;
	x = json_object_get_double(v);
	if (!(x > min_excl) || !(x <= max)) {
		check_error(c, DIAG_NODE_SCHEMA, kpath,
			"is %g; it must be more than %g and at most %g", x, min_excl, max);
		return -1;
	}
	*out = x;
	return 1;
}

/* Length as Telegram counts it: UTF-16 code units. */
static size_t check_utf16_len(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue;
		n += *p >= 0xF0 ? 2 : 1;
	}
	return n;
}

static struct check_use *check_record(struct check *c,
	struct check_use ***tail, const char *path, const char *key, size_t klen)
{
	struct check_use *u = arena_alloc(&c->tmp, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->path = arena_strdup(&c->tmp, path);
	u->key = arena_strndup(&c->tmp, key, klen);
	u->value = NULL;
	u->node = c->cur;
	**tail = u;
	*tail = &u->next;
	return u;
}

static int check_one_text(struct check *c, json_object *v, const char *kpath,
	unsigned max_chars, int html, const char **out)
{
	char why[256];
	const char *s, *key, *end;
	size_t klen, len;
	if (check_string_value(c, v, kpath, out) < 0)
		return -1;
	s = *out;
	if (s[strspn(s, " \t\r\n")] == '\0') {
		check_error(c, DIAG_NODE_SCHEMA, kpath,
			"is empty; Telegram refuses empty messages, so write the text to send");
		return -1;
	}
	len = html ? html_text_len(s) : check_utf16_len(s);
	if (len > max_chars && max_chars == FLOW_TEXT_MAX) {
		check_error(c, DIAG_NODE_SCHEMA, kpath,
			"is %zu characters long; Telegram allows at most %u, so shorten "
			"it or split it over a cutscene", len, max_chars);
		return -1;
	}
	if (len > max_chars) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is %zu characters long; %s "
			"may have at most %u, so shorten it", len, html ? "this text" :
			"a button label", max_chars);
		return -1;
	}
	if (html && html_check(s, why, sizeof(why)) != 0) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "%s", why);
		return -1;
	}
	for (const char *p = tmpl_next(s, &key, &klen, &end); p;
	     p = tmpl_next(end, &key, &klen, &end))
		check_record(c, &c->uses_tail, kpath, key, klen);
	return 1;
}

int check_lang_code(const char *s)
{
	size_t i = 0;
	while (s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (s[i] == '\0')
		return 1;
	if (s[i] != '-' && s[i] != '_')
		return 0;
	s += i + 1;
	i = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	return i >= 2 && i <= 8 && s[i] == '\0';
}

int check_text_value(struct check *c, json_object *v, const char *kpath,
	unsigned max_chars, int html, struct flow_text *out)
{
	struct flow_text_variant *vars;
	const char *def = NULL;
	char lpath[JDOC_PATH_MAX];
	unsigned n = 0, bad = 0;

	memset(out, 0, sizeof(*out));
	if (json_object_get_type(v) == json_type_string) {
		vars = check_alloc(c, sizeof(*vars));
		if (vars == NULL || check_one_text(c, v, kpath, max_chars, html, &vars->text) < 0)
			return -1;
		vars->lang = "";
		out->v = vars;
		out->n = 1;
		return 1;
	}
	if (json_object_get_type(v) != json_type_object) {
		check_error(c, DIAG_SCHEMA, kpath, "must be a string, or an object of "
			"texts by language such as {\"en\": \"Hi\", \"ru\": \"Привет\", "
			"\"default\": \"en\"}, not %s", jdoc_type_name(v));
		return -1;
	}
	vars = check_alloc(c, ((size_t)json_object_object_length(v) + 1) * sizeof(*vars));
	if (vars == NULL)
		return -1;
	json_object_object_foreach(v, lang, t) {
		jdoc_path(lpath, sizeof(lpath), kpath, lang);
		if (strcmp(lang, "default") == 0) {
			if (check_string_value(c, t, lpath, &def) < 0)
				bad++;
			continue;
		}
		if (!check_lang_code(lang)) {
			check_error(c, DIAG_NODE_SCHEMA, lpath, "\"%s\" is not a language "
				"code; use Telegram's language_code values such as \"en\", "
				"\"ru\" or \"pt-br\"", lang);
			bad++;
			continue;
		}
		if (check_one_text(c, t, lpath, max_chars, html, &vars[n].text) < 0) {
			bad++;
			continue;
		}
		vars[n].lang = check_strdup(c, lang);
		n++;
	}
	if (bad)
		return -1;
	if (n == 0) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "has no text in any language; "
			"add one, e.g. \"en\": \"Hello\"");
		return -1;
	}
	out->v = vars;
	out->n = n;
	if (def) {
		unsigned i;
		for (i = 0; i < n && strcmp(vars[i].lang, def) != 0; i++)
			;
		if (i == n) {
			jdoc_path(lpath, sizeof(lpath), kpath, "default");
			check_error(c, DIAG_NODE_SCHEMA, lpath, "names \"%s\", but there "
				"is no text in that language", def);
			return -1;
		}
		out->def = i;
	}
	return 1;
}

int check_text(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, unsigned max_chars, int html,
	struct flow_text *out)
{
	char kpath[JDOC_PATH_MAX];
	json_object *v;
	int rc = check_get(c, obj, key, path, hint, &v, kpath);
	memset(out, 0, sizeof(*out));
	if (rc <= 0)
		return rc;
	return check_text_value(c, v, kpath, max_chars, html, out);
}

int check_bool(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, int *out)
{
	char kpath[JDOC_PATH_MAX];
	json_object *v;
	int rc = check_get(c, obj, key, path, hint, &v, kpath);
	if (rc <= 0)
		return rc;
	if (check_type(c, v, kpath, json_type_boolean, "true or false"))
		return -1;
	*out = json_object_get_boolean(v);
	return 1;
}

int check_ref_value(struct check *c, json_object *v, const char *kpath,
	int *slot)
{
	struct check_ref *r;
	char num[32];
	const char *id;

	*slot = -1;
	if (json_object_get_type(v) == json_type_int) {
		long long x = (long long)json_object_get_int64(v);
		if (x < 0) {
			check_error(c, DIAG_SCHEMA, kpath, "must be a node id, not %lld", x);
			return -1;
		}
		snprintf(num, sizeof(num), "%lld", x);
		id = num;
	} else if (json_object_get_type(v) == json_type_string) {
		id = json_object_get_string(v);
		if ((size_t)json_object_get_string_len(v) != strlen(id)) {
			check_error(c, DIAG_SCHEMA, kpath, "must not contain a NUL "
				"character (\\u0000)");
			return -1;
		}
		if (*id == '\0') {
			check_error(c, DIAG_SCHEMA, kpath, "must be a node id, not \"\"");
			return -1;
		}
	} else {
		check_error(c, DIAG_SCHEMA, kpath, "must be a node id (a string, or "
			"a whole number as in \"next\": 10), not %s", jdoc_type_name(v));
		return -1;
	}
	r = arena_alloc(&c->tmp, sizeof(*r));
	if (r == NULL)
		return -1;
	r->path = arena_strdup(&c->tmp, kpath);
	r->id = arena_strdup(&c->tmp, id);
	r->slot = slot;
	*c->refs_tail = r;
	c->refs_tail = &r->next;
	return 1;
}

int check_ref(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, int *slot)
{
	char kpath[JDOC_PATH_MAX];
	json_object *v;
	int rc = check_get(c, obj, key, path, hint, &v, kpath);
	*slot = -1;
	if (rc <= 0)
		return rc;
	return check_ref_value(c, v, kpath, slot);
}

int check_save_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	return n > 0 && s[n] == '\0' && n <= 64 && !(s[0] >= '0' && s[0] <= '9') &&
		!tmpl_builtin(s, n);
}

int check_save_key(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, const char **out)
{
	char kpath[JDOC_PATH_MAX];
	const char *s;
	size_t n;
	int rc = check_string(c, obj, key, path, hint, out);
	if (rc <= 0)
		return rc;
	s = *out;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	jdoc_path(kpath, sizeof(kpath), path, key);
	if (n == 0 || s[n] != '\0' || n > 64 || (s[0] >= '0' && s[0] <= '9')) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not a usable name; "
			"use letters, digits and '_' (at most 64, not starting with a "
			"digit), e.g. \"user_fact\"", s);
		return -1;
	}
	if (tmpl_builtin(s, n)) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is set by blueflow "
			"itself; choose another name", s);
		return -1;
	}
	check_record(c, &c->saves_tail, kpath, s, n);
	return 1;
}

void check_note_save(struct check *c, const char *path, const char *key)
{
	check_record(c, &c->saves_tail, path, key, strlen(key));
}

void check_note_test(struct check *c, const char *path, const char *key,
	const char *value)
{
	struct check_use *t = check_record(c, &c->tests_tail, path, key, strlen(key));
	if (t && value)
		t->value = arena_strdup(&c->tmp, value);
}

/* Compiles src with PCRE2 options opts into *out, owned by the flow. */
static int check_compile(struct check *c, const char *src, uint32_t opts,
	const char *kpath, const void **out)
{
	struct flow_regex *r;
	pcre2_code *code;
	PCRE2_SIZE off;
	int err;

	*out = NULL;
	code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, opts, &err,
		&off, NULL);
	if (code == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof(msg));
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is not a valid regular "
			"expression: %s at character %zu", (const char *)msg, (size_t)off + 1);
		return -1;
	}
	r = check_alloc(c, sizeof(*r));
	if (r == NULL) {
		pcre2_code_free(code);
		return -1;
	}
	r->code = code;
	r->next = c->flow->regexes;
	c->flow->regexes = r;
	*out = code;
	return 1;
}

int check_regex_value(struct check *c, json_object *v, const char *kpath,
	const void **out)
{
	const char *src;

	*out = NULL;
	if (check_string_value(c, v, kpath, &src) < 0)
		return -1;
	return check_compile(c, src, PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED,
		kpath, out);
}

int check_regex_search(struct check *c, const char *src, const char *kpath,
	const void **out)
{
	return check_compile(c, src, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, kpath, out);
}

void flow_regex_free(struct flow_regex *r)
{
	for (; r; r = r->next)
		pcre2_code_free(r->code);
}

/* Appends "a", "b", ... to out (truncated with "..."). */
static void check_list(char *out, size_t size, const char *const *names)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; names[i]; i++) {
		int w = snprintf(out + n, size - n, "%s\"%s\"", i ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= size - n) {
			snprintf(out + n, size - n, ", ...");
			return;
		}
		n += (size_t)w;
	}
}

int check_messages(struct check *c, json_object *obj, const char *path,
	const char *const *reasons, const struct flow_msg **out, unsigned *n)
{
	char kpath[JDOC_PATH_MAX], rpath[JDOC_PATH_MAX], list[512];
	struct flow_msg *msgs;
	json_object *v;
	int rc = check_get(c, obj, "messages", path, NULL, &v, kpath), bad = 0, plain;

	*out = NULL;
	*n = 0;
	if (rc <= 0)
		return rc;
	if (check_type(c, v, kpath, json_type_object, "an object of texts by reason"))
		return -1;
	msgs = check_alloc(c, ((size_t)json_object_object_length(v) + 1) * sizeof(*msgs));
	if (msgs == NULL)
		return -1;
	json_object_object_foreach(v, reason, t) {
		int known = 0;
		jdoc_path(rpath, sizeof(rpath), kpath, reason);
		for (int i = 0; reasons && reasons[i]; i++)
			known |= strcmp(reasons[i], reason) == 0;
		if (!known) {
			const char *near = reasons ? check_suggest(reason, reasons) : NULL;
			check_list(list, sizeof(list), reasons);
			if (near)
				check_error(c, DIAG_NODE_SCHEMA, rpath, "no message is called "
					"\"%s\"; did you mean \"%s\"?", reason, near);
			else
				check_error(c, DIAG_NODE_SCHEMA, rpath, "no message is called "
					"\"%s\" here; this one can override: %s", reason, list);
			bad++;
			continue;
		}
		/* the button answers are popups: plain text, at most 200 characters */
		plain = strcmp(reason, "stale_button") == 0 ||
			strcmp(reason, "malformed_button") == 0;
		if (check_text_value(c, t, rpath, plain ? 200 : FLOW_TEXT_MAX, !plain,
		    &msgs[*n].text) < 0) {
			bad++;
			continue;
		}
		msgs[*n].reason = check_strdup(c, reason);
		(*n)++;
	}
	*out = msgs;
	return bad ? -1 : 1;
}

#if defined(__clang__)
/* The suggestions are not traced by the fuzzer: it learns nothing from
 * their arithmetic, and tracing each comparison made them most of a
 * config input's cost. */
#define CHECK_UNTRACED __attribute__((no_sanitize("coverage")))
#else
#define CHECK_UNTRACED
#endif

/* The edit distance of a and b when it is at most cap, else cap + 1.
 * Only the band of cells within cap of the diagonal is computed, and a
 * row past cap ends it (a row's least never shrinks): a long unknown
 * word costs little against a long list. */
static CHECK_UNTRACED size_t check_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), row[65], big = cap + 1;
	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > cap)
		return big;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j <= cap ? j : big;   /* past the band: cap + 1 */
	for (size_t i = 1; i <= la; i++) {
		size_t lo = i > cap ? i - cap : 1, hi = i + cap < lb ? i + cap : lb;
		size_t prev = row[lo - 1], least = big;
		row[lo - 1] = lo == 1 && i <= cap ? i : big;
		for (size_t j = lo; j <= hi; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (cur + 1 < best)
				best = cur + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best < big ? best : big;
			prev = cur;
			if (row[j] < least)
				least = row[j];
		}
		if (least > cap)
			return big;
	}
	return row[lb];
}

/* The one candidate that starts with word (of 3 bytes or more), as a
 * shortened name ("max_len" for "max_length") does; NULL when none or
 * several do. */
static const char *check_prefix_of(const char *word, const char *const *candidates)
{
	const char *found = NULL;
	size_t n = strlen(word);
	if (n < 3)
		return NULL;
	for (int i = 0; candidates[i]; i++) {
		if (strncmp(candidates[i], word, n) != 0)
			continue;
		if (found)
			return NULL;
		found = candidates[i];
	}
	return found;
}

CHECK_UNTRACED const char *check_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(word) / 3;
	if (limit < 2)
		limit = 2;
	for (int i = 0; candidates[i] && best_d > 0; i++) {
		/* only a nearer one than the best so far, within limit, counts */
		size_t cap = best_d <= limit ? best_d - 1 : limit;
		size_t d = check_distance(word, candidates[i], cap);
		if (d <= cap && d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : check_prefix_of(word, candidates);
}

int check_resolve(struct check *c)
{
	const struct flow *f = c->flow;
	char ids[512];
	size_t len = 0;
	int bad = 0;

	for (unsigned i = 0; i < f->n_nodes && len < sizeof(ids); i++) {
		int w = snprintf(ids + len, sizeof(ids) - len, "%s\"%s\"", i ? ", " : "",
			f->nodes[i].id);
		if (w < 0 || (size_t)w >= sizeof(ids) - len) {
			snprintf(ids + len, sizeof(ids) - len, ", ...");
			break;
		}
		len += (size_t)w;
	}
	for (struct check_ref *r = c->refs; r; r = r->next) {
		*r->slot = flow_find(f, r->id);
		if (*r->slot >= 0)
			continue;
		check_error(c, DIAG_DANGLING, r->path,
			"node \"%s\" does not exist (ids: %s)", r->id, ids);
		bad++;
	}
	return bad ? -1 : 0;
}

int check_html_keys(struct check *c)
{
	struct flow *f = c->flow;
	const char **keys;
	unsigned n = 0, cap = 0;

	for (struct check_use *s = c->saves; s; s = s->next)
		cap += s->node >= 0 && f->nodes[s->node].type->html_answers;
	if (cap == 0)
		return 0;
	keys = check_alloc(c, (cap + 1) * sizeof(*keys));
	if (keys == NULL)
		return -1;
	for (struct check_use *s = c->saves; s; s = s->next) {
		if (s->node < 0 || !f->nodes[s->node].type->html_answers)
			continue;
		for (struct check_use *o = c->saves; o; o = o->next) {
			if (o->node < 0 || f->nodes[o->node].type->html_answers ||
			    strcmp(o->key, s->key) != 0)
				continue;
			check_error(c, DIAG_NODE_SCHEMA, o->path, "\"%s\" is also "
				"saved by %s node \"%s\", whose answers are HTML; "
				"give one of them another name", o->key,
				f->nodes[s->node].type->name, f->nodes[s->node].id);
		}
		keys[n++] = s->key;
	}
	for (unsigned i = 0; i < n; i++)
		keys[i] = check_strdup(c, keys[i]);
	f->html_keys = keys;
	f->n_html_keys = n;
	return 0;
}

/* Whether some node saves key. */
static int check_saved(const struct check *c, const char *key)
{
	for (const struct check_use *s = c->saves; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			return 1;
	return 0;
}

/* Whether key is KEY.label for a KEY saved by a node with labels (a
 * choice or multi_choice). */
static int check_label(const struct check *c, const char *key)
{
	size_t len = strlen(key);

	if (len <= 6 || strcmp(key + len - 6, ".label") != 0)
		return 0;
	for (const struct check_use *s = c->saves; s; s = s->next) {
		const struct flow_node *n = s->node >= 0 ? &c->flow->nodes[s->node] : NULL;
		if (n && n->type && n->type->label && strlen(s->key) == len - 6 &&
		    strncmp(s->key, key, len - 6) == 0)
			return 1;
	}
	return 0;
}

/* The keys nodes save, each once, then (with builtins set) the built-in
 * names: NULL-terminated, in c->tmp. NULL when memory runs out. */
static const char **check_names(struct check *c, int builtins)
{
	const char *const *b = tmpl_builtins();
	const char **names;
	size_t n = 0, cap = 1;

	for (const struct check_use *s = c->saves; s; s = s->next)
		cap++;
	for (int i = 0; builtins && b[i]; i++)
		cap++;
	names = arena_alloc(&c->tmp, cap * sizeof(*names));
	if (names == NULL)
		return NULL;
	for (const struct check_use *s = c->saves; s; s = s->next) {
		size_t i;
		for (i = 0; i < n && strcmp(names[i], s->key) != 0; i++)
			;
		if (i == n)
			names[n++] = s->key;
	}
	for (int i = 0; builtins && b[i]; i++)
		names[n++] = b[i];
	names[n] = NULL;
	return names;
}

void check_templates(struct check *c)
{
	const char *const *known = check_names(c, 1);

	for (struct check_use *u = c->uses; u; u = u->next) {
		const char *near;
		int field;
		if (tmpl_builtin(u->key, strlen(u->key)) || check_saved(c, u->key) ||
		    check_label(c, u->key))
			continue;
		near = known ? check_suggest(u->key, known) : NULL;
		field = strncmp(u->key, "user.", 5) == 0 || strncmp(u->key, "chat.", 5) == 0;
		if (field && near)
			check_error(c, DIAG_TEMPLATE, u->path, "{{%s}} is not a known "
				"field; did you mean {{%s}}?", u->key, near);
		else if (field)
			check_error(c, DIAG_TEMPLATE, u->path, "{{%s}} is not a known "
				"field; use user.first_name, user.last_name, user.username, "
				"user.id, user.language_code or chat.id", u->key);
		else if (near)
			check_error(c, DIAG_TEMPLATE, u->path, "{{%s}} names a key no "
				"node saves, so it will always be empty; did you mean "
				"{{%s}}?", u->key, near);
		else
			check_error(c, DIAG_TEMPLATE, u->path, "{{%s}} names a key no "
				"node saves (with \"key_to_save\"), so it will always be "
				"empty", u->key);
	}
}

/* The values the nodes saving key can save, each once, NULL-terminated in
 * c->tmp, with the first such node in *first; NULL when some node saves
 * any value (or none saves key, or memory runs out). */
static const char **check_values(struct check *c, const char *key,
	const struct flow_node **first)
{
	const struct flow *f = c->flow;
	const char **vals = NULL;
	size_t n = 0, cap = 1;

	*first = NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (const struct check_use *s = c->saves; s; s = s->next) {
			const struct flow_node *nd;
			const char *const *set;
			if (strcmp(s->key, key) != 0)
				continue;
			if (s->node < 0)
				return NULL;
			nd = &f->nodes[s->node];
			set = nd->type->values && nd->key && strcmp(nd->key, key) == 0 ?
				nd->type->values(nd) : NULL;
			if (set == NULL)
				return NULL;
			if (*first == NULL)
				*first = nd;
			for (int i = 0; set[i]; i++) {
				size_t j;
				if (pass == 0) {
					cap++;
					continue;
				}
				for (j = 0; j < n && strcmp(vals[j], set[i]) != 0; j++)
					;
				if (j == n)
					vals[n++] = set[i];
			}
		}
		if (pass == 0 && *first == NULL)
			return NULL;
		if (pass == 0)
			vals = arena_alloc(&c->tmp, cap * sizeof(*vals));
		if (vals == NULL)
			return NULL;
	}
	vals[n] = NULL;
	return vals;
}

/* A test of t->key against t->value that can never hold: every node
 * saving the key saves one of a few values (a choice, its keys), and
 * t->value is none of them. */
static void check_test_value(struct check *c, const struct check_use *t)
{
	const struct flow_node *first;
	const char **vals = check_values(c, t->key, &first);
	const char *near;
	char list[512];

	if (vals == NULL)
		return;
	for (int i = 0; vals[i]; i++)
		if (strcmp(vals[i], t->value) == 0)
			return;
	check_list(list, sizeof(list), vals);
	near = check_suggest(t->value, vals);
	check_warn(c, DIAG_CONDITION, t->path, "%s node \"%s\" saves \"%s\" as "
		"one of %s, never as \"%s\", so this never matches%s%s%s",
		first->type->name, first->id, t->key, list, t->value,
		near ? "; did you mean \"" : "", near ? near : "", near ? "\"?" : "");
}

void check_tests(struct check *c)
{
	const char *const *saved = check_names(c, 0), *const *known = check_names(c, 1);
	char list[512];

	if (saved == NULL || known == NULL)
		return;
	check_list(list, sizeof(list), saved);
	for (struct check_use *t = c->tests; t; t = t->next) {
		const char *near;
		if (tmpl_builtin(t->key, strlen(t->key)))
			continue;
		if (check_saved(c, t->key)) {
			if (t->value)
				check_test_value(c, t);
			continue;
		}
		if (t->value)
			continue;   /* the key's own test says it */
		near = check_suggest(t->key, known);
		if (near)
			check_warn(c, DIAG_CONDITION, t->path, "no node saves \"%s\", so "
				"it is never set; did you mean \"%s\"? Keys saved: %s", t->key,
				near, saved[0] ? list : "none");
		else
			check_warn(c, DIAG_CONDITION, t->path, "no node saves \"%s\", so "
				"it is never set; keys saved: %s", t->key, saved[0] ? list :
				"none (a question saves its answer with \"key_to_save\")");
	}
}
