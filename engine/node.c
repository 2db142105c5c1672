/* node.c - the node type registry, and what is derived from each type's
 * table of keys: reading the generic keys and following the edges. */
#include "engine/node.h"

#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/flow.h"
#include "engine/jdoc.h"
#include "engine/life.h"
#include "engine/timer.h"

#define NODE_KEYS_MAX 48   /* keys of one type */

/* The registry: one line per type, in the order the types are listed.
 * NODE(name) stands for the const struct node_type node_name that
 * engine/node_name.c defines. */
#define NODE_REGISTRY \
	NODE(choice) \
	NODE(text) \
	NODE(rich_text) \
	NODE(tg_username) \
	NODE(cutscene) \
	NODE(voice_upload) \
	NODE(file_upload) \
	NODE(branch) \
	NODE(number) \
	NODE(date) \
	NODE(contact) \
	NODE(multi_choice) \
	NODE(set) \
	NODE(notify) \
	NODE(menu) \
	NODE(http)

#define NODE(name) extern const struct node_type node_##name;
NODE_REGISTRY
#undef NODE

#define NODE(name) &node_##name,
static const struct node_type *const node_registry[] = { NODE_REGISTRY NULL };
#undef NODE

const struct node_type *node_find(const char *name)
{
	for (int i = 0; node_registry[i]; i++)
		if (strcmp(node_registry[i]->name, name) == 0)
			return node_registry[i];
	return NULL;
}

const struct node_type *const *node_types(void)
{
	return node_registry;
}

void node_type_list(char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; node_registry[i] && n < size; i++) {
		int w = snprintf(out + n, size - n, "%s%s", i ? ", " : "",
			node_registry[i]->name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int node_read_duration(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	char kpath[JDOC_PATH_MAX], why[160];
	json_object *v;
	long long secs;

	if (!json_object_object_get_ex(obj, k->name, &v))
		return 0;
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	if (timer_duration(v, &secs, why, sizeof(why)) != 0) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "%s", why);
		return -1;
	}
	*(int *)((char *)n + k->at) = (int)secs;
	return 1;
}


/* The keys every type that waits for the user takes besides its own
 * (time: engine/timer.h), after them in every list. */
static const struct node_key node_wait_keys[] = {
	{ "remind_after", NODE_KEY_CUSTOM, .desc = "Remind the user of the "
	  "question when it is not answered after this long.", NODE_AT(remind_after),
	  .read = node_read_duration, .schema = NODE_DURATION_SCHEMA,
	  .doc = NODE_DURATION_DOC },
	{ "reminder", NODE_KEY_TEXT, .desc = "The reminder's text (default: the "
	  "prompt again).", NODE_AT(reminder), .needs = "remind_after",
	  .needs_why = "how long after the question the reminder comes" },
	{ "max_reminders", NODE_KEY_INT, .min = 1, .max = 100, .has_def = 1,
	  .def = 1, .desc = "How many reminders at most, \"remind_after\" apart "
	  "(default 1).", NODE_AT(max_reminders), .needs = "remind_after",
	  .needs_why = "how long after the question the reminder comes" },
	{ "timeout", NODE_KEY_CUSTOM, .desc = "Stop waiting after this long: the "
	  "chat goes to \"on_timeout\", or the flow ends with the flow's "
	  "\"timeout_text\".", NODE_AT(timeout), .read = node_read_duration,
	  .schema = NODE_DURATION_SCHEMA, .doc = NODE_DURATION_DOC },
	{ "on_timeout", NODE_KEY_REF, .desc = "Where the chat goes after "
	  "\"timeout\".", NODE_AT(on_timeout), .needs = "timeout",
	  .needs_why = "how long the node waits" },
	{ NULL }
};

const struct node_key *node_key_at(const struct node_type *t, unsigned i)
{
	unsigned own = 0;
	while (t->keys[own].name)
		own++;
	unsigned waits = t->waits ? sizeof(node_wait_keys) / sizeof(node_wait_keys[0]) - 1 : 0;
	if (i < own)
		return &t->keys[i];
	if (i - own < waits)
		return &node_wait_keys[i - own];
	if (!t->waits && !t->shows)
		return NULL;
	return life_keys[i - own - waits].name ? &life_keys[i - own - waits] : NULL;
}

const struct node_key *node_key(const struct node_type *t, const char *name)
{
	const struct node_key *k;
	for (unsigned i = 0; (k = node_key_at(t, i)) != NULL; i++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Reports every key of obj the type does not take. */
static void node_check_unknown(struct check *c, const struct node_type *t,
	json_object *obj, const char *path)
{
	const char *names[NODE_KEYS_MAX + 1];
	char kpath[JDOC_PATH_MAX];
	int n = 0;

	for (const struct node_key *k = node_key_at(t, 0); k && n < NODE_KEYS_MAX;
	     k = node_key_at(t, (unsigned)n))
		names[n++] = k->name;
	names[n] = NULL;
	json_object_object_foreach(obj, key, v) {
		(void)v;
		if (node_key(t, key))
			continue;
		jdoc_path(kpath, sizeof(kpath), path, key);
		const char *near = check_suggest(key, names);
		if (near)
			check_error(c, DIAG_NODE_SCHEMA, kpath, "a %s node has no key "
				"\"%s\"; did you mean \"%s\"?", t->name, key, near);
		else
			check_error(c, DIAG_NODE_SCHEMA, kpath, "a %s node has no key "
				"\"%s\"; remove it", t->name, key);
	}
}

/* Reads one generic key into its place; custom keys through their read(). */
static void node_read_key(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	void *p = (char *)(k->in_data ? n->data : (void *)n) + k->at;
	long long x;
	double d;

	switch (k->kind) {
	case NODE_KEY_TYPE:
		break;
	case NODE_KEY_TEXT:
		check_text(c, obj, k->name, path, k->hint, FLOW_TEXT_MAX, 1, p);
		break;
	case NODE_KEY_BUTTON:
		check_text(c, obj, k->name, path, k->hint, 64, 0, p);
		break;
	case NODE_KEY_REF:
		check_ref(c, obj, k->name, path, k->hint, p);
		break;
	case NODE_KEY_SAVE:
		check_save_key(c, obj, k->name, path, k->hint, p);
		break;
	case NODE_KEY_INT:
		if (k->has_def)
			*(int *)p = (int)k->def;
		if (check_int(c, obj, k->name, path, k->hint, (long long)k->min,
		    (long long)k->max, &x) > 0)
			*(int *)p = (int)x;
		break;
	case NODE_KEY_NUMBER:
		if (k->has_def)
			*(double *)p = k->def;
		if (check_number(c, obj, k->name, path, k->hint, k->min, k->max, &d) > 0)
			*(double *)p = d;
		break;
	case NODE_KEY_BOOL:
		if (k->has_def)
			*(int *)p = k->def != 0;
		check_bool(c, obj, k->name, path, k->hint, p);
		break;
	case NODE_KEY_REGEX: {
		char kpath[JDOC_PATH_MAX];
		json_object *v;
		if (!json_object_object_get_ex(obj, k->name, &v)) {
			if (k->hint)
				check_missing(c, path, k->name, k->hint);
			break;
		}
		jdoc_path(kpath, sizeof(kpath), path, k->name);
		check_regex_value(c, v, kpath, p);
		break;
	}
	case NODE_KEY_MESSAGES:
		check_messages(c, obj, path, n->type->reasons, &n->msgs, &n->n_msgs);
		break;
	case NODE_KEY_CUSTOM:
		if (k->read)
			k->read(c, n, obj, path, k);
		break;
	}
}

/* "needs": a key that must come with k, reported at k. */
static void node_check_needs(struct check *c, json_object *obj,
	const char *path, const struct node_key *k)
{
	char kpath[JDOC_PATH_MAX];
	if (k->needs == NULL || !json_object_object_get_ex(obj, k->name, NULL) ||
	    json_object_object_get_ex(obj, k->needs, NULL))
		return;
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	check_error(c, DIAG_NODE_SCHEMA, kpath, "needs \"%s\": %s", k->needs,
		k->needs_why);
}

/* A reminder that would come after the timeout never comes. */
static void node_check_time(struct check *c, struct flow_node *n, const char *path)
{
	char kpath[JDOC_PATH_MAX];
	if (n->remind_after > 0 && n->timeout > 0 && n->remind_after >= n->timeout) {
		jdoc_path(kpath, sizeof(kpath), path, "remind_after");
		check_warn(c, DIAG_NODE_SCHEMA, kpath, "the reminder (%d s) would "
			"come after the timeout (%d s), so it never comes; make "
			"\"remind_after\" shorter than \"timeout\"", n->remind_after,
			n->timeout);
	}
	if (n->remind_after > 0 || n->timeout > 0 || n->send_at > 0)
		c->flow->timed = 1;
}

int node_read_keys(struct check *c, struct flow_node *n, json_object *obj,
	const char *path)
{
	const struct node_type *t = n->type;
	unsigned errors = c->errors;

	node_check_unknown(c, t, obj, path);
	if (t->data_size) {
		n->data = check_alloc(c, t->data_size);
		if (n->data == NULL)
			return -1;
	}
	for (unsigned i = 0; node_key_at(t, i); i++) {
		node_read_key(c, n, obj, path, node_key_at(t, i));
		node_check_needs(c, obj, path, node_key_at(t, i));
	}
	if (t->validate)
		t->validate(c, n, obj, path);
	node_check_time(c, n, path);
	life_check(c, n, path);
	return c->errors == errors ? 0 : -1;
}

void node_edges(const struct flow_node *n, node_edge_fn *fn, void *arg)
{
	char label[64];
	struct node_edge e = { .to = n->next, .key = "next", .label = "" };

	if (n->type == NULL)
		return;
	if (n->type->edges)
		n->type->edges(n, fn, arg);
	else if (n->next >= 0)
		fn(arg, &e);
	if (n->timeout > 0 && n->on_timeout >= 0) {
		snprintf(label, sizeof(label), "after %d s", n->timeout);
		e.to = n->on_timeout;
		e.dashed = 1;
		e.key = "on_timeout";
		e.label = label;
		fn(arg, &e);
	}
	if (n->max_attempts > 0 && n->on_max_attempts >= 0) {
		snprintf(label, sizeof(label), "after %d bad answer%s",
			n->max_attempts, n->max_attempts == 1 ? "" : "s");
		e.to = n->on_max_attempts;
		e.dashed = 1;
		e.key = "on_max_attempts";
		e.label = label;
		fn(arg, &e);
	}
}
