/* node_branch.c - goes to the first target whose condition on saved
 * values holds, else to "else". Sends nothing and waits for nothing. */
#include "engine/node_branch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/regex.h"
#include "engine/step.h"

static const char *const branch_cond_keys[] = {
	"key", "equals", "one_of", "matches", "exists", "lt", "le", "gt", "ge",
	"next", NULL
};

static const char *const branch_ops[] = {
	"equals", "one_of", "matches", "exists", "lt", "le", "gt", "ge", NULL
};

static int branch_value_key(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
	return n > 0 && n <= 64 && s[n] == '\0';
}

/* A string, or a number (its text kept too). */
static int branch_scalar(struct check *c, json_object *v, const char *path,
	const char **str, double *num, int *is_num)
{
	enum json_type t = json_object_get_type(v);
	if (t == json_type_string) {
		*str = check_strdup(c, json_object_get_string(v));
		return 0;
	}
	if (t == json_type_int || t == json_type_double) {
		*num = json_object_get_double(v);
		*is_num = 1;
		*str = check_strdup(c, json_object_get_string(v));
		return 0;
	}
	check_error(c, DIAG_SCHEMA, path, "must be a string or a number, not %s",
		jdoc_type_name(v));
	return -1;
}

static int branch_one_of(struct check *c, json_object *v, const char *path,
	struct branch_cond *b)
{
	char ipath[JDOC_PATH_MAX], idx[24];
	const char **set;
	size_t n;
	int bad = 0;

	if (json_object_get_type(v) != json_type_array) {
		check_error(c, DIAG_SCHEMA, path, "must be an array of values, not %s",
			jdoc_type_name(v));
		return -1;
	}
	n = json_object_array_length(v);
	if (n == 0) {
		check_error(c, DIAG_NODE_SCHEMA, path, "is empty, so the condition "
			"can never hold; list the values to match");
		return -1;
	}
	set = check_alloc(c, n * sizeof(*set));
	if (set == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		double num;
		int is_num = 0;
		snprintf(idx, sizeof(idx), "%zu", i);
		jdoc_path(ipath, sizeof(ipath), path, idx);
		if (branch_scalar(c, json_object_array_get_idx(v, i), ipath,
		    &set[i], &num, &is_num) < 0)
			bad++;
		else if (!is_num && b->key)
			check_note_test(c, ipath, b->key, set[i]);
	}
	b->set = set;
	b->n_set = (unsigned)n;
	return bad ? -1 : 0;
}

static int branch_operand(struct check *c, struct branch_cond *b,
	json_object *v, const char *path)
{
	switch (b->op) {
	case BRANCH_EQUALS:
		if (branch_scalar(c, v, path, &b->str, &b->num, &b->is_num) < 0)
			return -1;
		if (!b->is_num && b->key)
			check_note_test(c, path, b->key, b->str);
		return 0;
	case BRANCH_ONE_OF:
		return branch_one_of(c, v, path, b);
	case BRANCH_MATCHES:
		if (check_regex_value(c, v, path, &b->re) <= 0)
			return -1;
		b->str = check_strdup(c, json_object_get_string(v));   /* for people */
		return b->str ? 0 : -1;
	case BRANCH_EXISTS:
		if (json_object_get_type(v) != json_type_boolean) {
			check_error(c, DIAG_SCHEMA, path, "must be true or false, not %s",
				jdoc_type_name(v));
			return -1;
		}
		b->exists = json_object_get_boolean(v);
		return 0;
	default:
		if (json_object_get_type(v) != json_type_int &&
		    json_object_get_type(v) != json_type_double) {
			check_error(c, DIAG_SCHEMA, path, "must be a number, not %s",
				jdoc_type_name(v));
			return -1;
		}
		b->num = json_object_get_double(v);
		b->is_num = 1;
		return 0;
	}
}

static int branch_condition(struct check *c, json_object *obj,
	const char *path, struct branch_cond *b)
{
	char kpath[JDOC_PATH_MAX];
	unsigned errors = c->errors;
	json_object *operand = NULL;
	int ops = 0;

	b->next = -1;
	if (json_object_get_type(obj) != json_type_object) {
		check_error(c, DIAG_SCHEMA, path, "a condition must be an object such "
			"as {\"key\": \"age\", \"ge\": 18, \"next\": \"adult\"}, not %s",
			jdoc_type_name(obj));
		return -1;
	}
	json_object_object_foreach(obj, key, v) {
		int known = 0;
		for (int i = 0; branch_cond_keys[i] && !known; i++)
			known = strcmp(branch_cond_keys[i], key) == 0;
		jdoc_path(kpath, sizeof(kpath), path, key);
		if (!known) {
			const char *near = check_suggest(key, branch_cond_keys);
			check_error(c, DIAG_NODE_SCHEMA, kpath, "a condition has no key "
				"\"%s\"%s%s%s", key, near ? "; did you mean \"" : "; use key, "
				"next and one of equals, one_of, matches, exists, lt, le, gt, ge",
				near ? near : "", near ? "\"?" : "");
			continue;
		}
		for (int i = 0; branch_ops[i]; i++) {
			if (strcmp(branch_ops[i], key) != 0)
				continue;
			if (ops++ == 0) {
				b->op = (enum branch_op)i;
				operand = v;
			} else {
				check_error(c, DIAG_NODE_SCHEMA, kpath, "a condition tests "
					"one thing; split it into two conditions");
			}
		}
	}
	if (check_string(c, obj, "key", path, "the saved value to test, e.g. "
	    "\"key\": \"age\"", &b->key) > 0) {
		jdoc_path(kpath, sizeof(kpath), path, "key");
		if (branch_value_key(b->key))
			check_note_test(c, kpath, b->key, NULL);
		else
			check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not a value "
				"name", b->key);
	}
	if (ops == 0)
		check_error(c, DIAG_NODE_SCHEMA, path, "missing a test: add one of "
			"equals, one_of, matches, exists, lt, le, gt, ge");
	else if (ops == 1) {
		jdoc_path(kpath, sizeof(kpath), path, branch_ops[b->op]);
		branch_operand(c, b, operand, kpath);
	}
	check_ref(c, obj, "next", path, "the node to go to when the condition "
		"holds, e.g. \"next\": \"adult\"", &b->next);
	return c->errors == errors ? 0 : -1;
}

static int branch_conditions(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct branch_data *d = n->data;
	char kpath[JDOC_PATH_MAX], ipath[JDOC_PATH_MAX], idx[24];
	json_object *conds;
	size_t count;

	jdoc_path(kpath, sizeof(kpath), path, k->name);
	if (!json_object_object_get_ex(obj, k->name, &conds)) {
		check_missing(c, path, k->name, k->hint);
		return -1;
	}
	if (json_object_get_type(conds) != json_type_array) {
		check_error(c, DIAG_SCHEMA, kpath, "must be an array of conditions, "
			"not %s", jdoc_type_name(conds));
		return -1;
	}
	if (json_object_array_length(conds) == 0) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is empty; add a condition, "
			"or replace the branch with a \"next\" where it is used");
		return -1;
	}
	count = json_object_array_length(conds);
	d->conds = check_alloc(c, count * sizeof(*d->conds));
	if (d->conds == NULL)
		return -1;
	d->n = (unsigned)count;
	for (size_t i = 0; i < count; i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		jdoc_path(ipath, sizeof(ipath), kpath, idx);
		branch_condition(c, json_object_array_get_idx(conds, i), ipath,
			&d->conds[i]);
	}
	return 1;
}

/* Parses the whole of s as a number. */
static int branch_number(const char *s, double *out)
{
	char *end;
	if (s == NULL || *s == '\0')
		return 0;
	*out = strtod(s, &end);
	end += strspn(end, " ");
	return *end == '\0';
}

static int branch_holds(struct step *s, const struct branch_cond *b)
{
	char tmp[32];
	const char *v = step_value(s, b->key, tmp, sizeof(tmp));
	double x;

	switch (b->op) {
	case BRANCH_EXISTS:
		return (v != NULL && v[0] != '\0') == b->exists;
	case BRANCH_EQUALS:
		if (v == NULL)
			return 0;
		if (b->is_num)
			return branch_number(v, &x) && x == b->num;
		return strcmp(v, b->str) == 0;
	case BRANCH_ONE_OF:
		for (unsigned i = 0; v && i < b->n_set; i++)
			if (strcmp(v, b->set[i]) == 0)
				return 1;
		return 0;
	case BRANCH_MATCHES:
		return v != NULL && regex_match(b->re, v, strlen(v)) == 1;
	case BRANCH_LT:
		return branch_number(v, &x) && x < b->num;
	case BRANCH_LE:
		return branch_number(v, &x) && x <= b->num;
	case BRANCH_GT:
		return branch_number(v, &x) && x > b->num;
	case BRANCH_GE:
		return branch_number(v, &x) && x >= b->num;
	}
	return 0;
}

static int branch_enter(struct step *s, const struct flow_node *n)
{
	const struct branch_data *d = n->data;
	for (unsigned i = 0; i < d->n; i++)
		if (branch_holds(s, &d->conds[i]))
			return d->conds[i].next;
	return d->else_next;
}

/* The condition of a branch as people write it: "role == eng". */
static void branch_describe(const struct branch_cond *b, char *out, size_t outlen)
{
	static const char *const cmp[] = { "<", "<=", ">", ">=" };
	size_t len;

	switch (b->op) {
	case BRANCH_EQUALS:
		snprintf(out, outlen, "%s == %s", b->key, b->str);
		break;
	case BRANCH_ONE_OF:
		snprintf(out, outlen, "%s in ", b->key);
		for (unsigned i = 0; i < b->n_set; i++) {
			len = strlen(out);
			snprintf(out + len, outlen - len, "%s%s", i ? ", " : "", b->set[i]);
		}
		break;
	case BRANCH_MATCHES:
		snprintf(out, outlen, "%s matches /%s/", b->key, b->str);
		break;
	case BRANCH_EXISTS:
		snprintf(out, outlen, "%s %s", b->key, b->exists ? "exists" : "absent");
		break;
	default:
		snprintf(out, outlen, "%s %s %g", b->key, cmp[b->op - BRANCH_LT], b->num);
		break;
	}
}

/* Each condition's next in order, then "else". */
static void branch_edges(const struct flow_node *n, node_edge_fn *fn, void *arg)
{
	const struct branch_data *d = n->data;
	char key[64], label[512];
	struct node_edge e = { .key = key, .label = label };

	for (unsigned i = 0; d && d->conds && i < d->n; i++) {
		snprintf(key, sizeof(key), "conditions/%u/next", i);
		branch_describe(&d->conds[i], label, sizeof(label));
		e.to = d->conds[i].next;
		if (e.to >= 0)
			fn(arg, &e);
	}
	if (d && d->else_next >= 0) {
		e.to = d->else_next;
		e.key = "else";
		e.label = "else";
		fn(arg, &e);
	}
}

static const struct node_key branch_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	{ "conditions", NODE_KEY_CUSTOM, .hint = "the tests in order, e.g. "
	  "[{\"key\": \"lang\", \"equals\": \"ru\", \"next\": \"ru\"}]",
	  .read = branch_conditions, .desc = "The tests, in order (at least one).",
	  .doc = "list of conditions, at least one",
	  .schema = "{\"type\": \"array\", \"minItems\": 1, \"items\": "
	  "{\"$ref\": \"#/$defs/branchCondition\"}}" },
	{ "else", NODE_KEY_REF, .hint = "the node to go to when no condition "
	  "holds, e.g. \"else\": \"other\"", .desc = "Where the chat goes when "
	  "no condition holds.", NODE_DATA_AT(struct branch_data, else_next) },
	{ NULL }
};

/* The schema of one condition. */
static void branch_schema(json_object *defs, json_object *def)
{
	static const char *const op_desc[] = {
		"Holds when the value equals this string or number.",
		"Holds when the value equals one of these (at least one).",
		"Holds when this PCRE2 regular expression matches the whole value.",
		"true: holds when the value is saved; false: when it is not.",
		"Holds when the value is a number less than this.",
		"Holds when the value is a number at most this.",
		"Holds when the value is a number greater than this.",
		"Holds when the value is a number at least this.",
	};
	static const char *const op_schema[] = {
		"{\"type\": [\"string\", \"number\"]}",
		"{\"type\": \"array\", \"minItems\": 1, \"items\": {\"type\": [\"string\", \"number\"]}}",
		"{\"allOf\": [{\"$ref\": \"#/$defs/regex\"}]}",
		"{\"type\": \"boolean\"}",
		"{\"type\": \"number\"}", "{\"type\": \"number\"}",
		"{\"type\": \"number\"}", "{\"type\": \"number\"}",
	};
	json_object *cond = json_tokener_parse("{\"description\": \"A test on a "
		"saved value: {\\\"key\\\": K, OP: VALUE, \\\"next\\\": NODE} with "
		"exactly one OP of equals, one_of, matches, exists, lt, le, gt, "
		"ge.\", \"type\": \"object\", \"required\": [\"key\", \"next\"], "
		"\"properties\": {\"key\": {\"description\": \"The saved value to "
		"test (letters, digits, '_' and '.', 1 to 64), e.g. \\\"age\\\" or "
		"\\\"user.language_code\\\".\", \"type\": \"string\", \"pattern\": "
		"\"^[A-Za-z0-9_.]{1,64}$(?!\\\\n)\"}}, \"additionalProperties\": false}");
	json_object *props, *one = json_object_new_array(), *o;
	char rule[128];

	(void)def;
	json_object_object_get_ex(cond, "properties", &props);
	for (int i = 0; branch_ops[i]; i++) {
		o = json_tokener_parse(op_schema[i]);
		json_object_object_add(o, "description", json_object_new_string(op_desc[i]));
		json_object_object_add(props, branch_ops[i], o);
		snprintf(rule, sizeof(rule), "{\"required\": [\"%s\"]}", branch_ops[i]);
		json_object_array_add(one, json_tokener_parse(rule));
	}
	json_object_object_add(props, "next", json_tokener_parse("{\"allOf\": "
		"[{\"$ref\": \"#/$defs/nodeRef\"}], \"description\": \"Where the chat "
		"goes when the condition holds.\"}"));
	json_object_object_add(cond, "oneOf", one);
	json_object_object_add(defs, "branchCondition", cond);
}

const struct node_type node_branch = {
	.name = "branch",
	.summary = "Goes to the first condition's \"next\" that holds, else to "
		"\"else\". Sends nothing and waits for nothing.",
	.waits = 0,
	.look = NODE_LOOK_DECISION,
	.keys = branch_keys,
	.data_size = sizeof(struct branch_data),
	.edges = branch_edges,
	.schema = branch_schema,
	.enter = branch_enter,
};
