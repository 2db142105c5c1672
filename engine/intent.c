/* intent.c - keyword intents (intent.h): reading them, and matching a
 * chat's text. */
#include "engine/intent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/regex.h"
#include "engine/timer.h"

static const char *const intent_keys[] = {
	"id", "keywords", "priority", "cooldown", "next", NULL
};

/* Appends keyword w to the pattern b as a literal: runs of spaces match
 * any whitespace, ASCII punctuation is escaped, the rest (letters,
 * digits, UTF-8) is itself. Returns 0, or -1 when there is nothing to
 * match in it. */
static int intent_word(struct buf *b, const char *w)
{
	int any = 0;

	while (*w == ' ')
		w++;
	while (*w) {
		unsigned char ch = (unsigned char)*w;
		if (ch == ' ') {
			w += strspn(w, " ");
			if (*w)
				buf_adds(b, "\\s+");
			continue;
		}
		if (ch < 0x80 && !((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') &&
		    !(ch >= '0' && ch <= '9'))
			buf_addc(b, '\\');
		else
			any = 1;
		buf_addc(b, (char)ch);
		w++;
	}
	return any ? 0 : -1;
}

/* One language's keywords (a non-empty array of strings at kpath) as a
 * pattern into b. Returns 0, or -1 after reporting. */
static int intent_words(struct check *c, json_object *v, const char *kpath,
	struct buf *b)
{
	char wpath[JDOC_PATH_MAX], idx[16];
	size_t n;
	int bad = 0;

	if (json_object_get_type(v) != json_type_array) {
		check_error(c, DIAG_SCHEMA, kpath, "must be an array of keywords, "
			"e.g. [\"help\", \"support\"], not %s", jdoc_type_name(v));
		return -1;
	}
	n = json_object_array_length(v);
	if (n == 0 || n > INTENT_WORDS_MAX) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "must hold 1 to %d keywords, "
			"not %zu", INTENT_WORDS_MAX, n);
		return -1;
	}
	buf_reset(b);
	buf_adds(b, "(?<![\\p{L}\\p{N}_])(?:");
	for (size_t i = 0; i < n; i++) {
		json_object *w = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(w);
		snprintf(idx, sizeof(idx), "%zu", i);
		jdoc_path(wpath, sizeof(wpath), kpath, idx);
		if (json_object_get_type(w) != json_type_string) {
			check_error(c, DIAG_SCHEMA, wpath, "must be a string, not %s",
				jdoc_type_name(w));
			bad++;
			continue;
		}
		if (i > 0)
			buf_addc(b, '|');
		if (strlen(s) != (size_t)json_object_get_string_len(w) ||
		    strlen(s) > INTENT_WORD_MAX || strpbrk(s, "\t\n\r") ||
		    intent_word(b, s) != 0) {
			check_error(c, DIAG_NODE_SCHEMA, wpath, "\"%s\" is not a keyword: "
				"write a word or phrase of at most %d bytes with a letter "
				"or digit, on one line", s, INTENT_WORD_MAX);
			bad++;
		}
	}
	buf_adds(b, ")(?![\\p{L}\\p{N}_])");
	return bad ? -1 : 0;
}

/* "keywords": an array (every language), or {"en": [...], "ru": [...],
 * "default": "en"}. Fills it->words and it->codes. Returns 0 or -1. */
static int intent_keywords(struct check *c, struct flow_intent *it,
	json_object *obj, const char *path)
{
	struct flow_text_variant *vars;
	const void **codes;
	const char *def = NULL;
	char kpath[JDOC_PATH_MAX], lpath[JDOC_PATH_MAX];
	struct buf b;
	json_object *v;
	unsigned n = 0;
	int bad = 0;

	jdoc_path(kpath, sizeof(kpath), path, "keywords");
	if (!json_object_object_get_ex(obj, "keywords", &v)) {
		check_missing(c, path, "keywords", "the words that lead there, e.g. "
			"\"keywords\": {\"en\": [\"help\"], \"ru\": [\"помощь\"]}");
		return -1;
	}
	if (json_object_get_type(v) != json_type_array &&
	    json_object_get_type(v) != json_type_object) {
		check_error(c, DIAG_SCHEMA, kpath, "must be an array of keywords, or "
			"one per language such as {\"en\": [\"help\"], \"ru\": "
			"[\"помощь\"], \"default\": \"en\"}, not %s", jdoc_type_name(v));
		return -1;
	}
	n = json_object_get_type(v) == json_type_object ?
		(unsigned)json_object_object_length(v) : 1;
	vars = check_alloc(c, (n + 1) * sizeof(*vars));
	codes = check_alloc(c, (n + 1) * sizeof(*codes));
	n = 0;
	if (vars == NULL || codes == NULL)
		return -1;
	buf_init(&b, (size_t)INTENT_WORDS_MAX * INTENT_WORD_MAX * 4);
	if (json_object_get_type(v) == json_type_array) {
		vars[0].lang = "";
		if (intent_words(c, v, kpath, &b) != 0 ||
		    check_regex_search(c, b.p, kpath, &codes[0]) < 0)
			bad++;
		else
			vars[0].text = check_strdup(c, b.p);
		n = 1;
	} else {
		json_object_object_foreach(v, lang, words) {
			jdoc_path(lpath, sizeof(lpath), kpath, lang);
			if (strcmp(lang, "default") == 0) {
				if (json_object_get_type(words) == json_type_string)
					def = json_object_get_string(words);
				else
					bad++, check_error(c, DIAG_SCHEMA, lpath, "must be a "
						"language of the keywords, e.g. \"en\"");
				continue;
			}
			if (!check_lang_code(lang)) {
				check_error(c, DIAG_NODE_SCHEMA, lpath, "\"%s\" is not a "
					"language code; use Telegram's language_code values "
					"such as \"en\", \"ru\" or \"pt-br\"", lang);
				bad++;
				continue;
			}
			if (intent_words(c, words, lpath, &b) != 0 ||
			    check_regex_search(c, b.p, lpath, &codes[n]) < 0) {
				bad++;
				continue;
			}
			vars[n].lang = check_strdup(c, lang);
			vars[n++].text = check_strdup(c, b.p);
		}
		if (n == 0 && !bad) {
			check_error(c, DIAG_NODE_SCHEMA, kpath, "has no keywords in any "
				"language; add some, e.g. \"en\": [\"help\"]");
			bad++;
		}
	}
	buf_free(&b);
	it->words.v = vars;
	it->words.n = n;
	it->codes = codes;
	for (unsigned i = 0; def && !bad && i <= n; i++) {
		if (i == n) {
			jdoc_path(lpath, sizeof(lpath), kpath, "default");
			check_error(c, DIAG_NODE_SCHEMA, lpath, "names \"%s\", but there "
				"are no keywords in that language", def);
			bad++;
		} else if (strcmp(vars[i].lang, def) == 0) {
			it->words.def = i;
			break;
		}
	}
	return bad ? -1 : 0;
}

/* Unknown keys of intent obj at path. */
static void intent_unknown(struct check *c, json_object *obj, const char *path)
{
	char kpath[JDOC_PATH_MAX];

	json_object_object_foreach(obj, key, v) {
		const char *near;
		int known = 0;
		(void)v;
		for (int i = 0; intent_keys[i] && !known; i++)
			known = strcmp(intent_keys[i], key) == 0;
		if (known)
			continue;
		jdoc_path(kpath, sizeof(kpath), path, key);
		near = check_suggest(key, intent_keys);
		if (near)
			check_error(c, DIAG_SCHEMA, kpath, "unknown key \"%s\"; did you "
				"mean \"%s\"?", key, near);
		else
			check_error(c, DIAG_SCHEMA, kpath, "unknown key \"%s\"; an intent "
				"takes id, keywords, priority, cooldown and next", key);
	}
}

/* "id": 1 to INTENT_ID_MAX letters, digits, '_' or '-', unique. */
static void intent_id(struct check *c, struct flow_intent *it, json_object *obj,
	const char *path, const struct flow_intent *before, unsigned n)
{
	char kpath[JDOC_PATH_MAX];
	const char *id;
	size_t len;

	if (check_string(c, obj, "id", path, "a name for the intent, e.g. "
	    "\"id\": \"help\"", &id) <= 0)
		return;
	jdoc_path(kpath, sizeof(kpath), path, "id");
	len = strlen(id);
	if (len == 0 || len > INTENT_ID_MAX || strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not an intent id: "
			"write 1 to %d letters, digits, '_' or '-', e.g. \"help\"", id,
			INTENT_ID_MAX);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (before[i].id && strcmp(before[i].id, id) == 0) {
			check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" names another "
				"intent too; each intent needs its own id", id);
			return;
		}
	it->id = id;
}

/* One intent, obj at path. */
static void intent_read(struct check *c, struct flow_intent *it, json_object *obj,
	const char *path, const struct flow_intent *before, unsigned n)
{
	char kpath[JDOC_PATH_MAX], why[160];
	json_object *v;
	long long x = 0;

	it->next = -1;
	if (json_object_get_type(obj) != json_type_object) {
		check_error(c, DIAG_SCHEMA, path, "must be an intent such as {\"id\": "
			"\"help\", \"keywords\": [\"help\"], \"next\": \"help\"}, not %s",
			jdoc_type_name(obj));
		c->unsure = 1;
		return;
	}
	intent_unknown(c, obj, path);
	intent_id(c, it, obj, path, before, n);
	intent_keywords(c, it, obj, path);
	if (check_int(c, obj, "priority", path, NULL, -1000, 1000, &x) > 0)
		it->priority = (int)x;
	if (json_object_object_get_ex(obj, "cooldown", &v)) {
		jdoc_path(kpath, sizeof(kpath), path, "cooldown");
		if (timer_duration(v, &x, why, sizeof(why)) != 0)
			check_error(c, DIAG_NODE_SCHEMA, kpath, "%s", why);
		else
			it->cooldown = (int)x;
	}
	if (check_ref(c, obj, "next", path, "the node the intent leads to, e.g. "
	    "\"next\": \"help\"", &it->next) < 0)
		c->unsure = 1;
}

void intent_load(struct check *c, json_object *root)
{
	struct flow_intent *v;
	char ipath[JDOC_PATH_MAX], idx[16];
	json_object *list;
	size_t n;

	if (!json_object_object_get_ex(root, "intents", &list))
		return;
	if (json_object_get_type(list) != json_type_array) {
		check_error(c, DIAG_SCHEMA, "/intents", "must be an array of intents, "
			"e.g. [{\"id\": \"help\", \"keywords\": [\"help\"], \"next\": "
			"\"help\"}], not %s", jdoc_type_name(list));
		return;
	}
	n = json_object_array_length(list);
	if (n == 0 || n > INTENT_MAX) {
		check_error(c, DIAG_NODE_SCHEMA, "/intents", "must hold 1 to %d "
			"intents, not %zu", INTENT_MAX, n);
		return;
	}
	v = check_alloc(c, n * sizeof(*v));
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		jdoc_path(ipath, sizeof(ipath), "/intents", idx);
		intent_read(c, &v[i], json_object_array_get_idx(list, i), ipath, v,
			(unsigned)i);
	}
	c->flow->intents = v;
	c->flow->n_intents = (unsigned)n;
}

/* When intent it last fired for the chat (unix seconds), 0: never. */
static long long intent_fired(struct step *s, const struct flow_intent *it,
	char *key, size_t keylen)
{
	json_object *v;

	snprintf(key, keylen, INTENT_KEY_PREFIX "%s", it->id);
	if (!json_object_object_get_ex(s->chat->ctx, key, &v))
		return 0;
	return strtoll(json_object_get_string(v), NULL, 10);
}

int intent_match(struct step *s)
{
	const struct flow *f = s->flow;
	const char *text = s->u->text;
	long long now = s->env->now > 0 ? s->env->now : s->u->date;
	char key[sizeof(INTENT_KEY_PREFIX) + INTENT_ID_MAX], at[24];
	const struct flow_intent *best = NULL;

	if (text == NULL)
		return -1;
	for (unsigned i = 0; i < f->n_intents; i++) {
		const struct flow_intent *it = &f->intents[i];
		int rc;
		if (best && it->priority <= best->priority)
			continue;
		rc = regex_match(it->codes[step_variant(s, &it->words)], text,
			strlen(text));
		if (rc < 0)
			return NODE_FAIL;
		if (rc == 0)
			continue;
		if (it->cooldown > 0) {
			long long last = intent_fired(s, it, key, sizeof(key));
			if (last > 0 && now - last < it->cooldown)
				continue;
		}
		best = it;
	}
	if (best == NULL)
		return -1;
	if (best->cooldown == 0)
		return best->next;
	intent_fired(s, best, key, sizeof(key));
	snprintf(at, sizeof(at), "%lld", now);
	return step_save(s, key, at, strlen(at)) < 0 ? NODE_FAIL : best->next;
}
