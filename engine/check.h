/* check.h - the validation context of one flow, and the helpers node
 * types use to read their keys.
 *
 * Every helper reports what is wrong with the value itself (a wrong JSON
 * type is a "schema" error, a missing required key or a value out of range
 * a "node-schema" error) and returns: 1 when the key is present and good,
 * 0 when it is absent and optional, -1 after reporting an error. Strings
 * are copied into the flow's arena. */
#ifndef BLUEFLOW_CHECK_H
#define BLUEFLOW_CHECK_H

#include <json-c/json.h>

#include "engine/arena.h"
#include "engine/diag.h"
#include "engine/flow.h"

struct check_ref;
struct check_use;

struct check {
	struct flow *flow;
	struct diag *diag;
	struct arena tmp;          /* lives as long as the check */
	unsigned errors;
	int unsure;                /* some edges are unknown (a node or command
	                              failed to load): skip reachability */
	int cur;                   /* node being validated, -1 for the flow */
	struct check_ref *refs, **refs_tail;
	struct check_use *uses, **uses_tail;   /* {{key}} uses */
	struct check_use *saves, **saves_tail; /* keys nodes save */
	struct check_use *tests, **tests_tail; /* keys conditions test */
};

void check_init(struct check *c, struct flow *flow, struct diag *d);
void check_done(struct check *c);

/* Reports an error of class cls at path. */
void check_error(struct check *c, const char *cls, const char *path,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reports a warning of class cls at path. */
void check_warn(struct check *c, const char *cls, const char *path,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reports a missing required key: hint says what to put there. */
void check_missing(struct check *c, const char *path, const char *key,
	const char *hint);

/* Memory in the flow's arena, zeroed; NULL (and an error) when it runs out. */
void *check_alloc(struct check *c, size_t n);
const char *check_strdup(struct check *c, const char *s);

/* Looks up key in obj. hint non-NULL makes the key required (hint says
 * what belongs there). Each returns 1 / 0 / -1 as above. */
int check_string(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, const char **out);
int check_int(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, long long min, long long max,
	long long *out);
int check_number(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, double min_excl, double max,
	double *out);

/* true or false, into *out as 1 or 0. */
int check_bool(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, int *out);

/* A text: a non-empty string, or {"en": "...", "ru": "...", "default":
 * "en"}; at most max_chars characters (UTF-16 units, as Telegram counts);
 * with html set, its tags must be ones Telegram accepts, balanced. Its
 * {{key}} templates are recorded for the unknown-key warning. */
int check_text(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, unsigned max_chars, int html,
	struct flow_text *out);
int check_text_value(struct check *c, json_object *v, const char *path,
	unsigned max_chars, int html, struct flow_text *out);

/* Returns 1 when s is a language code as Telegram writes them ("en",
 * "pt-br": 2 or 3 letters, optionally '-' or '_' and 2 to 8 more), else 0. */
int check_lang_code(const char *s);

/* A reference to a node: a string id, or a whole number as in the seed
 * ("next": 10 names node "10"). *slot is filled with the node index once
 * every node is known; a missing node is a dangling-reference error. */
int check_ref(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, int *slot);
int check_ref_value(struct check *c, json_object *v, const char *path,
	int *slot);

/* Whether s is a usable name for a saved value (as check_save_key
 * requires: letters, digits and '_', not starting with a digit, at most
 * 64 bytes, not a built-in name). */
int check_save_name(const char *s);

/* The name of a saved value: letters, digits and '_', starting with a
 * letter or '_', at most 64 bytes. Records it as saved. */
int check_save_key(struct check *c, json_object *obj, const char *key,
	const char *path, const char *hint, const char **out);

/* Records that a node saves key (for the template warning). */
void check_note_save(struct check *c, const char *path, const char *key);

/* Records that a condition at path tests the saved value key: whether it
 * is there (value NULL), or whether it equals the string value. */
void check_note_test(struct check *c, const char *path, const char *key,
	const char *value);

/* A PCRE2 regular expression, compiled to match the whole input; the
 * compiled code is owned by the flow. */
int check_regex_value(struct check *c, json_object *v, const char *path,
	const void **out);

/* A PCRE2 pattern src found anywhere in the input, caseless by Unicode
 * rules (keywords); compiled as check_regex_value() does. */
int check_regex_search(struct check *c, const char *src, const char *path,
	const void **out);

/* Frees the patterns check_regex_value() compiled into a flow's list
 * (flow_free() calls it). */
void flow_regex_free(struct flow_regex *r);

/* "messages": {"reason": TEXT, ...} with reasons from the list. */
int check_messages(struct check *c, json_object *obj, const char *path,
	const char *const *reasons, const struct flow_msg **out, unsigned *n);

/* Returns the candidate nearest to word by edit distance, else the one
 * candidate word is the start of (a shortened name), or NULL when none is
 * near enough to be a likely typo. */
const char *check_suggest(const char *word, const char *const *candidates);

/* Resolves recorded references; reports dangling ones. */
int check_resolve(struct check *c);

/* Lists the keys that nodes saving HTML (rich_text) save in the flow
 * (their values are inserted into texts as they are); a key also saved
 * by another kind of node is an error. Returns 0, or -1 when memory runs out. */
int check_html_keys(struct check *c);

/* Warns about {{key}} templates naming a key no node saves. */
void check_templates(struct check *c);

/* Warns about conditions on a key no node saves, and about a value the
 * nodes saving the key never save (a choice saves only its keys). */
void check_tests(struct check *c);

#endif
