/* life.c - the life cycle of a node's messages (life.h): the keys, their
 * check, and the marks the step puts on its calls. */
#include "engine/life.h"

#include <stdio.h>
#include <string.h>

#include "engine/botapi.h"
#include "engine/check.h"
#include "engine/flow.h"
#include "engine/jdoc.h"
#include "engine/step.h"

static const char *const life_names[] = { "onetime", "ephemeral", "system" };

const char *life_class_name(int life)
{
	return life >= 0 && life <= LIFE_SYSTEM ? life_names[life] : "?";
}

/* "lifecycle": one of life_names. */
static int life_read_class(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	const char *v = NULL;
	char kpath[JDOC_PATH_MAX];
	int rc = check_string(c, obj, k->name, path, NULL, &v);

	if (rc <= 0)
		return rc;
	for (int i = 0; i <= LIFE_SYSTEM; i++)
		if (strcmp(v, life_names[i]) == 0) {
			n->life = i;
			return 1;
		}
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is no life cycle; write "
		"\"onetime\", \"ephemeral\" or \"system\"", v);
	return -1;
}

/* "tag": 1 to LIFE_TAG_MAX letters, digits, '_' or '-'. */
static int life_read_tag(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	const char *v = NULL;
	char kpath[JDOC_PATH_MAX];
	size_t len;
	int rc = check_string(c, obj, k->name, path, NULL, &v);

	if (rc <= 0)
		return rc;
	len = strlen(v);
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	if (len == 0 || len > LIFE_TAG_MAX || strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not a tag: write 1 "
			"to %d letters, digits, '_' or '-', e.g. \"menu\"", v, LIFE_TAG_MAX);
		n->tag = "";   /* said once: not "missing" as well */
		return -1;
	}
	n->tag = check_strdup(c, v);
	return n->tag ? 1 : -1;
}

const struct node_key life_keys[] = {
	{ "lifecycle", NODE_KEY_CUSTOM, .desc = "What becomes of the node's "
	  "messages: \"onetime\" (default) keeps them; \"ephemeral\" deletes the "
	  "prompt and its refusals once the node is answered (or after "
	  "\"auto_delete_after\"); \"system\" edits the chat's last message with "
	  "the node's \"tag\" in place instead of sending a new one.",
	  .read = life_read_class,
	  .schema = "{\"enum\": [\"onetime\", \"ephemeral\", \"system\"]}",
	  .doc = "\"onetime\", \"ephemeral\" or \"system\"" },
	{ "tag", NODE_KEY_CUSTOM, .desc = "A system node's tag, e.g. \"menu\": "
	  "its message replaces the chat's last message with this tag.",
	  .read = life_read_tag,
	  .schema = "{\"type\": \"string\", \"pattern\": \"^[A-Za-z0-9_-]{1,32}$\"}",
	  .doc = "string: 1 to 32 letters, digits, _ or -" },
	{ "auto_delete_after", NODE_KEY_CUSTOM, .desc = "An ephemeral node's "
	  "messages are deleted this long after the node is entered, answered "
	  "or not.", NODE_AT(auto_delete_after), .read = node_read_duration,
	  .schema = NODE_DURATION_SCHEMA, .doc = NODE_DURATION_DOC },
	{ NULL }
};

void life_check(struct check *c, struct flow_node *n, const char *path)
{
	char kpath[JDOC_PATH_MAX];

	if (n->tag && n->life != LIFE_SYSTEM) {
		jdoc_path(kpath, sizeof(kpath), path, "tag");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "a tag names a system message; "
			"add \"lifecycle\": \"system\" or remove the tag");
	}
	if (n->life == LIFE_SYSTEM && n->tag == NULL) {
		jdoc_path(kpath, sizeof(kpath), path, "lifecycle");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "a system node needs a \"tag\" "
			"naming the message it edits in place, e.g. \"tag\": \"menu\"");
	}
	if (n->auto_delete_after > 0 && n->life != LIFE_EPHEMERAL) {
		jdoc_path(kpath, sizeof(kpath), path, "auto_delete_after");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "only an ephemeral node's "
			"messages are deleted; add \"lifecycle\": \"ephemeral\"");
	}
	if (n->auto_delete_after > 0)
		c->flow->timed = 1;
}

/* Marks m as of the chat's state of a member (struct chat), if it is. */
static void life_member(const struct step *s, json_object *m)
{
	if (s->chat->member)
		json_object_object_add(m, "member", json_object_new_int64(s->chat->member));
}

/* The marks of a kept message of n. */
static json_object *life_keep(const struct step *s, const struct flow_node *n)
{
	json_object *m = json_object_new_object();
	if (m == NULL)
		return NULL;
	life_member(s, m);
	json_object_object_add(m, "keep", json_object_new_string(life_class_name(n->life)));
	json_object_object_add(m, "node", json_object_new_string(n->id));
	if (n->tag)
		json_object_object_add(m, "tag", json_object_new_string(n->tag));
	return m;
}

int life_mark(struct step *s, const struct flow_node *n, unsigned mark)
{
	struct step_out *o = s->out;

	if (n->life == LIFE_ONETIME)
		return 0;
	for (unsigned i = mark; i < o->n_calls; i++) {
		struct engine_call *call = &o->calls[i];
		json_object *m;
		if (call->chat_id != 0 || !botapi_is_message(call->method))
			continue;
		if (n->life == LIFE_SYSTEM && strcmp(call->method, "sendMessage") != 0)
			continue;
		m = life_keep(s, n);
		if (m == NULL)
			return -1;
		json_object_object_add(call->params, LIFE_KEY, m);
		if (n->life == LIFE_SYSTEM)
			break;
	}
	return 0;
}

int life_mark_stay(struct step *s, const struct flow_node *n, unsigned mark)
{
	return n->life == LIFE_EPHEMERAL ? life_mark(s, n, mark) : 0;
}

int life_delete(struct step *s, const char *node)
{
	json_object *p = step_params(s), *m = json_object_new_object();

	if (p == NULL || m == NULL) {
		json_object_put(p);
		json_object_put(m);
		return -1;
	}
	json_object_object_add(m, "delete", json_object_new_string(node));
	life_member(s, m);
	json_object_object_add(p, LIFE_KEY, m);
	return step_call(s, "deleteMessages", p);
}

int life_leave(struct step *s, const struct flow_node *n)
{
	return n->life == LIFE_EPHEMERAL ? life_delete(s, n->id) : 0;
}

int life_marked(json_object *params)
{
	return params && json_object_object_get_ex(params, LIFE_KEY, NULL);
}
