/* flow.c - loading a flow file: form, nodes, references, graph checks,
 * the content hash and the id index. */
#include "engine/flow.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/buf.h"
#include "engine/check.h"
#include "engine/intent.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/timer.h"

static const char *const flow_top_keys[] = {
	"$schema", "start", "commands", "nodes", "finished_text", "messages",
	"on_missing_node", "forget_command", "name", "description",
	"not_allowed_text", "inactive_after", "on_inactive", "timeout_text",
	"timezone", "scope", "intents", NULL
};

const char *const flow_own_reasons[] = {
	"stale_button", "malformed_button", "upload_failed", "expired",
	"forgotten", "back_button", "context_full", "not_yours", NULL
};

static uint32_t flow_hash_id(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int flow_find(const struct flow *f, const char *id)
{
	if (f->index == NULL)
		return -1;
	for (uint32_t i = flow_hash_id(id) & f->index_mask;; i = (i + 1) & f->index_mask) {
		unsigned slot = f->index[i];
		if (slot == 0)
			return -1;
		if (strcmp(f->nodes[slot - 1].id, id) == 0)
			return (int)slot - 1;
	}
}

const struct flow_node *flow_node(const struct flow *f, const char *id)
{
	int i = flow_find(f, id);
	return i < 0 ? NULL : &f->nodes[i];
}

static int flow_build_index(struct flow *f)
{
	unsigned cap = 8;
	while (cap < f->n_nodes * 2)
		cap *= 2;
	f->index = arena_alloc(&f->arena, cap * sizeof(*f->index));
	if (f->index == NULL)
		return -1;
	f->index_mask = cap - 1;
	for (unsigned n = 0; n < f->n_nodes; n++) {
		uint32_t i = flow_hash_id(f->nodes[n].id) & f->index_mask;
		while (f->index[i])
			i = (i + 1) & f->index_mask;
		f->index[i] = n + 1;
	}
	return 0;
}

static void flow_check_id(struct check *c, const char *id, const char *path)
{
	size_t len = strlen(id);
	if (len == 0 || len > FLOW_ID_MAX) {
		check_error(c, DIAG_SCHEMA, path, "a node id must be 1 to %d bytes, "
			"not %zu", FLOW_ID_MAX, len);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			check_error(c, DIAG_SCHEMA, path, "a node id must not contain "
				"control characters");
			return;
		}
	}
}

static void flow_load_node(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	const char *names[16];
	const struct node_type *const *types = node_types();
	char tpath[JDOC_PATH_MAX], list[256];
	json_object *tv;
	const char *tname;
	int i;

	n->next = -1;
	n->on_max_attempts = -1;
	n->on_timeout = -1;
	if (json_object_get_type(obj) != json_type_object) {
		check_error(c, DIAG_SCHEMA, path, "a node must be an object with a "
			"\"type\", not %s; if this is a setting such as \"start\", put "
			"the nodes under \"nodes\" (the extended form)", jdoc_type_name(obj));
		c->unsure = 1;
		return;
	}
	node_type_list(list, sizeof(list));
	if (!json_object_object_get_ex(obj, "type", &tv)) {
		check_missing(c, path, "type", list);
		c->unsure = 1;
		return;
	}
	jdoc_path(tpath, sizeof(tpath), path, "type");
	if (json_object_get_type(tv) != json_type_string) {
		check_error(c, DIAG_SCHEMA, tpath, "must be a string, not %s",
			jdoc_type_name(tv));
		c->unsure = 1;
		return;
	}
	tname = json_object_get_string(tv);
	n->type = node_find(tname);
	if (n->type == NULL) {
		c->unsure = 1;
		for (i = 0; types[i] && i < 15; i++)
			names[i] = types[i]->name;
		names[i] = NULL;
		const char *near = check_suggest(tname, names);
		if (near)
			check_error(c, DIAG_UNKNOWN_TYPE, tpath, "no node type \"%s\"; "
				"did you mean \"%s\"?", tname, near);
		else
			check_error(c, DIAG_UNKNOWN_TYPE, tpath, "no node type \"%s\"; "
				"the types are: %s", tname, list);
		return;
	}
	node_read_keys(c, n, obj, path);
}

static int flow_load_nodes(struct check *c, json_object *nodes, const char *base)
{
	struct flow *f = c->flow;
	char path[JDOC_PATH_MAX];
	unsigned i = 0;

	f->n_nodes = (unsigned)json_object_object_length(nodes);
	f->nodes = check_alloc(c, (f->n_nodes + 1) * sizeof(*f->nodes));
	if (f->nodes == NULL)
		return -1;
	json_object_object_foreach(nodes, id, v) {
		(void)v;
		jdoc_path(path, sizeof(path), base, id);
		flow_check_id(c, id, path);
		f->nodes[i].id = check_strdup(c, id);
		if (f->nodes[i].id == NULL)
			return -1;
		i++;
	}
	if (flow_build_index(f) != 0)
		return -1;
	i = 0;
	json_object_object_foreach(nodes, id2, node) {
		jdoc_path(path, sizeof(path), base, id2);
		c->cur = (int)i;
		flow_load_node(c, &f->nodes[i], node, path);
		i++;
	}
	c->cur = -1;
	return 0;
}

static int flow_command_name(const char *s)
{
	size_t n;
	if (s[0] != '/')
		return 0;
	n = strspn(s + 1, "abcdefghijklmnopqrstuvwxyz0123456789_");
	return n >= 1 && n <= 32 && s[1 + n] == '\0';
}

static void flow_load_commands(struct check *c, json_object *root)
{
	struct flow *f = c->flow;
	struct flow_command *cmds;
	char kpath[JDOC_PATH_MAX], cpath[JDOC_PATH_MAX];
	json_object *v;

	if (!json_object_object_get_ex(root, "commands", &v))
		return;
	jdoc_path(kpath, sizeof(kpath), "", "commands");
	if (json_object_get_type(v) != json_type_object) {
		check_error(c, DIAG_SCHEMA, kpath, "must be an object of command -> "
			"node id, e.g. {\"/help\": \"help\"}, not %s", jdoc_type_name(v));
		c->unsure = 1;
		return;
	}
	cmds = check_alloc(c, ((size_t)json_object_object_length(v) + 1) * sizeof(*cmds));
	if (cmds == NULL)
		return;
	f->commands = cmds;
	json_object_object_foreach(v, name, target) {
		jdoc_path(cpath, sizeof(cpath), kpath, name);
		if (!flow_command_name(name)) {
			check_error(c, DIAG_NODE_SCHEMA, cpath, "\"%s\" is not a Telegram "
				"command: use \"/\" and 1 to 32 lowercase letters, digits or "
				"'_', e.g. \"/help\"", name);
			c->unsure = 1;
			continue;
		}
		if (strcmp(name, "/start") == 0) {
			check_error(c, DIAG_NODE_SCHEMA, cpath, "/start always restarts "
				"the flow at its start node; set \"start\" instead");
			c->unsure = 1;
			continue;
		}
		if (check_ref_value(c, target, cpath, &cmds[f->n_commands].node) < 0) {
			c->unsure = 1;
			continue;
		}
		cmds[f->n_commands].name = check_strdup(c, name);
		f->n_commands++;
	}
}

/* "forget_command": the command that erases what the bot keeps about
 * the chat; a command name no other use takes. */
static void flow_load_forget(struct check *c, json_object *root)
{
	struct flow *f = c->flow;
	const char *name = NULL;

	if (check_string(c, root, "forget_command", "", NULL, &name) <= 0)
		return;
	if (!flow_command_name(name)) {
		check_error(c, DIAG_NODE_SCHEMA, "/forget_command", "\"%s\" is not a "
			"Telegram command: use \"/\" and 1 to 32 lowercase letters, "
			"digits or '_', e.g. \"/forget\"", name);
		return;
	}
	for (unsigned i = 0; i < f->n_commands; i++)
		if (strcmp(f->commands[i].name, name) == 0) {
			check_error(c, DIAG_NODE_SCHEMA, "/forget_command", "%s is also "
				"in \"commands\"; a command does one thing", name);
			return;
		}
	if (strcmp(name, "/start") == 0) {
		check_error(c, DIAG_NODE_SCHEMA, "/forget_command", "/start always "
			"restarts the flow; name another command, e.g. \"/forget\"");
		return;
	}
	f->forget_command = check_strdup(c, name);
}

void flow_reasons(const char **all, size_t max)
{
	const struct node_type *const *types = node_types();
	size_t n = 0;

	for (int i = 0; flow_own_reasons[i] && n + 1 < max; i++)
		all[n++] = flow_own_reasons[i];
	for (int t = 0; types[t]; t++) {
		for (int r = 0; types[t]->reasons && types[t]->reasons[r]; r++) {
			size_t k;
			for (k = 0; k < n && strcmp(all[k], types[t]->reasons[r]); k++)
				;
			if (k == n && n + 1 < max)
				all[n++] = types[t]->reasons[r];
		}
	}
	all[n] = NULL;
}

/* Every reason, in the check's memory. */
static const char **flow_all_reasons(struct check *c)
{
	const char **all = arena_alloc(&c->tmp, FLOW_REASONS_MAX * sizeof(*all));
	if (all)
		flow_reasons(all, FLOW_REASONS_MAX);
	return all;
}

/* "timezone": an IANA name that tzdata (/usr/share/zoneinfo) knows. */
static void flow_load_timezone(struct check *c, json_object *root)
{
	char file[256];
	const char *z;

	if (check_string(c, root, "timezone", "", NULL, &z) <= 0)
		return;
	snprintf(file, sizeof(file), "/usr/share/zoneinfo/%s", z);
	if (z[0] == '/' || strstr(z, "..") || strlen(z) > 64 || access(file, R_OK) != 0) {
		check_error(c, DIAG_SCHEMA, "/timezone", "\"%s\" is not a time zone "
			"this system knows; use an IANA name such as \"Europe/Berlin\" "
			"(tzdata)", z);
		return;
	}
	c->flow->timezone = check_strdup(c, z);
}

/* The flow's keys of time: "inactive_after" with "on_inactive",
 * "timeout_text", "timezone". */
static void flow_load_time(struct check *c, json_object *root)
{
	struct flow *f = c->flow;
	char why[160];
	json_object *v;
	long long secs;

	flow_load_timezone(c, root);
	check_text(c, root, "timeout_text", "", NULL, FLOW_TEXT_MAX, 1, &f->timeout_text);
	check_ref(c, root, "on_inactive", "", NULL, &f->on_inactive);
	if (json_object_object_get_ex(root, "inactive_after", &v)) {
		if (timer_duration(v, &secs, why, sizeof(why)) != 0)
			check_error(c, DIAG_NODE_SCHEMA, "/inactive_after", "%s", why);
		else
			f->inactive_after = (int)secs;
		f->timed = 1;
		if (!json_object_object_get_ex(root, "on_inactive", NULL))
			check_error(c, DIAG_NODE_SCHEMA, "/inactive_after", "needs "
				"\"on_inactive\": the node that nudges the chat");
	} else if (json_object_object_get_ex(root, "on_inactive", NULL)) {
		check_error(c, DIAG_NODE_SCHEMA, "/on_inactive", "needs "
			"\"inactive_after\": how long a chat is silent before the nudge");
	}
}

int flow_callback_max(const struct flow *f)
{
	return FLOW_CALLBACK_MAX - (f->scope_user ? FLOW_MEMBER_DATA : 0);
}

/* "scope": "chat" (one state per chat, the default) or "user" (one per
 * member of a group). */
static void flow_load_scope(struct check *c, json_object *root)
{
	const char *v;

	if (check_string(c, root, "scope", "", NULL, &v) <= 0)
		return;
	if (strcmp(v, "user") == 0)
		c->flow->scope_user = 1;
	else if (strcmp(v, "chat") != 0)
		check_error(c, DIAG_NODE_SCHEMA, "/scope", "\"%s\" is no scope; "
			"write \"chat\" (one state per chat) or \"user\" (one per "
			"member of a group)", v);
}

static void flow_load_settings(struct check *c, json_object *root)
{
	struct flow *f = c->flow;
	char kpath[JDOC_PATH_MAX];
	const char *s;

	json_object_object_foreach(root, key, v) {
		int known = 0;
		(void)v;
		for (int i = 0; flow_top_keys[i] && !known; i++)
			known = strcmp(flow_top_keys[i], key) == 0;
		if (known)
			continue;
		jdoc_path(kpath, sizeof(kpath), "", key);
		const char *near = check_suggest(key, flow_top_keys);
		if (near)
			check_error(c, DIAG_SCHEMA, kpath, "unknown setting \"%s\"; did "
				"you mean \"%s\"?", key, near);
		else
			check_error(c, DIAG_SCHEMA, kpath, "unknown setting \"%s\"; the "
				"settings are: start, commands, nodes, finished_text, "
				"messages, on_missing_node, forget_command, name, "
				"description, not_allowed_text, inactive_after, on_inactive, "
				"timeout_text, timezone, scope, intents", key);
	}
	check_string(c, root, "$schema", "", NULL, &s);
	check_string(c, root, "name", "", NULL, &s);
	check_string(c, root, "description", "", NULL, &s);
	check_ref(c, root, "start", "", NULL, &f->start);
	check_ref(c, root, "on_missing_node", "", NULL, &f->on_missing_node);
	check_text(c, root, "finished_text", "", NULL, FLOW_TEXT_MAX, 1, &f->finished_text);
	check_text(c, root, "not_allowed_text", "", NULL, FLOW_TEXT_MAX, 1,
		&f->not_allowed_text);
	check_messages(c, root, "", flow_all_reasons(c), &f->msgs, &f->n_msgs);
	flow_load_commands(c, root);
	flow_load_forget(c, root);
	flow_load_time(c, root);
	flow_load_scope(c, root);
	intent_load(c, root);
}

/* --- graph checks over the nodes' edges --- */

/* The edges of every node in one array (CSR): node u's go from
 * to[deg[u]] to to[deg[u + 1] - 1]. */
struct flow_graph {
	struct check *c;
	const char *base;
	unsigned n;
	unsigned *deg;       /* offsets; while filling, cursors */
	unsigned *to;
	const char **epath;  /* the JSON path of each edge's reference */
	unsigned cur;        /* the node whose edges are being added */
};

static void flow_count_edge(void *arg, const struct node_edge *e)
{
	struct flow_graph *g = arg;
	(void)e;
	g->deg[g->cur + 1]++;
}

static void flow_add_edge(void *arg, const struct node_edge *e)
{
	struct flow_graph *g = arg;
	char npath[JDOC_PATH_MAX], path[JDOC_PATH_MAX + 8];
	unsigned k = g->deg[g->n + 1 + g->cur]++;

	jdoc_path(npath, sizeof(npath), g->base, g->c->flow->nodes[g->cur].id);
	if (snprintf(path, sizeof(path), "%s/%s", npath, e->key) >= (int)sizeof(path))
		path[0] = '\0';
	g->to[k] = (unsigned)e->to;
	g->epath[k] = arena_strdup(&g->c->tmp, path);
}

static int flow_graph_build(struct flow_graph *g, struct check *c,
	const char *base)
{
	const struct flow *f = c->flow;
	unsigned n = f->n_nodes, edges;
	memset(g, 0, sizeof(*g));
	g->c = c;
	g->base = base;
	g->n = n;
	/* deg[0..n]: CSR offsets; deg[n+1..2n]: insertion cursors */
	g->deg = arena_alloc(&c->tmp, (2 * (size_t)n + 2) * sizeof(*g->deg));
	if (g->deg == NULL)
		return -1;
	for (g->cur = 0; g->cur < n; g->cur++)
		node_edges(&f->nodes[g->cur], flow_count_edge, g);
	for (unsigned i = 0; i < n; i++)
		g->deg[i + 1] += g->deg[i];
	edges = g->deg[n];
	for (unsigned i = 0; i < n; i++)
		g->deg[n + 1 + i] = g->deg[i];
	g->to = arena_alloc(&c->tmp, ((size_t)edges + 1) * sizeof(*g->to));
	g->epath = arena_alloc(&c->tmp, ((size_t)edges + 1) * sizeof(*g->epath));
	if (g->to == NULL || g->epath == NULL)
		return -1;
	for (g->cur = 0; g->cur < n; g->cur++)
		node_edges(&f->nodes[g->cur], flow_add_edge, g);
	return 0;
}

static int flow_spins(const struct flow *f, unsigned i)
{
	return f->nodes[i].type != NULL && !f->nodes[i].type->waits;
}

/* Finds cycles made only of nodes that never wait for input. */
static void flow_check_cycles(struct flow_graph *g)
{
	const struct flow *f = g->c->flow;
	unsigned n = g->n;
	unsigned char *color = arena_alloc(&g->c->tmp, n + 1);
	unsigned *stack = arena_alloc(&g->c->tmp, ((size_t)n + 1) * sizeof(*stack));
	unsigned *edge = arena_alloc(&g->c->tmp, ((size_t)n + 1) * sizeof(*edge));
	unsigned char *looped = arena_alloc(&g->c->tmp, n + 1);

	if (color == NULL || stack == NULL || edge == NULL || looped == NULL)
		return;
	for (unsigned root = 0; root < n; root++) {
		unsigned sp = 0;
		if (color[root] || !flow_spins(f, root))
			continue;
		stack[sp] = root;
		edge[sp++] = g->deg[root];
		color[root] = 1;
		while (sp) {
			unsigned u = stack[sp - 1];
			if (edge[sp - 1] == g->deg[u + 1]) {
				color[u] = 2;
				sp--;
				continue;
			}
			unsigned e = edge[sp - 1]++, v = g->to[e];
			if (!flow_spins(f, v))
				continue;
			if (color[v] == 0) {
				color[v] = 1;
				stack[sp] = v;
				edge[sp++] = g->deg[v];
			} else if (color[v] == 1 && !looped[v]) {
				char loop[512];
				size_t len = 0;
				unsigned k = sp;
				while (k > 0 && stack[k - 1] != v)
					k--;
				for (k = k ? k - 1 : 0; k < sp && len < sizeof(loop); k++) {
					int w = snprintf(loop + len, sizeof(loop) - len, "\"%s\" -> ",
						f->nodes[stack[k]].id);
					if (w < 0)
						break;
					len += (size_t)w;
				}
				if (len < sizeof(loop))
					snprintf(loop + len, sizeof(loop) - len, "\"%s\"", f->nodes[v].id);
				looped[v] = 1;
				check_error(g->c, DIAG_NODE_SCHEMA, g->epath[e], "the nodes "
					"%s never wait for input, so the bot would loop forever; "
					"let one of them wait (a choice or text node) or end the "
					"loop", loop);
			}
		}
	}
}

struct flow_reach {
	unsigned char *seen;
	unsigned *queue;
	unsigned tail;
};

static void flow_mark(struct flow_reach *r, int node)
{
	if (node < 0 || r->seen[node])
		return;
	r->seen[node] = 1;
	r->queue[r->tail++] = (unsigned)node;
}

static void flow_mark_edge(void *arg, const struct node_edge *e)
{
	flow_mark(arg, e->to);
}

int flow_reached(const struct flow *f, unsigned char *seen)
{
	struct flow_reach r = { .seen = seen, .tail = 0 };
	unsigned head = 0;

	memset(seen, 0, f->n_nodes);
	r.queue = calloc((size_t)f->n_nodes + 1, sizeof(*r.queue));
	if (r.queue == NULL)
		return -1;
	flow_mark(&r, f->start);
	flow_mark(&r, f->on_missing_node);
	if (f->inactive_after > 0)
		flow_mark(&r, f->on_inactive);
	for (unsigned i = 0; i < f->n_commands; i++)
		flow_mark(&r, f->commands[i].node);
	for (unsigned i = 0; i < f->n_intents; i++)
		flow_mark(&r, f->intents[i].next);
	while (head < r.tail)
		node_edges(&f->nodes[r.queue[head++]], flow_mark_edge, &r);
	free(r.queue);
	return 0;
}

/* Notes whether some node has "back" (chats then keep their path); the
 * start node has no question before it to go back to. */
static void flow_check_back(struct check *c, const char *base)
{
	struct flow *f = c->flow;
	char path[JDOC_PATH_MAX];

	for (unsigned i = 0; i < f->n_nodes; i++) {
		f->has_back |= f->nodes[i].back;
		if (!f->nodes[i].back || strlen(f->nodes[i].id) + 1 <=
		    (size_t)flow_callback_max(f))
			continue;
		jdoc_path(path, sizeof(path), base, f->nodes[i].id);
		jdoc_path(path, sizeof(path), path, "back");
		check_error(c, DIAG_NODE_SCHEMA, path, "the Back button's callback "
			"data (the node id and '|') passes %s%d bytes; shorten the "
			"node id", f->scope_user ? "the \"scope\": \"user\" room of " :
			"Telegram's ", flow_callback_max(f));
	}
	if (f->start < 0 || !f->nodes[f->start].back)
		return;
	jdoc_path(path, sizeof(path), base, f->nodes[f->start].id);
	jdoc_path(path, sizeof(path), path, "back");
	check_error(c, DIAG_NODE_SCHEMA, path, "the start node has no question "
		"before it to go back to; remove \"back\" here");
}

static void flow_check_reachable(struct check *c, const char *base)
{
	const struct flow *f = c->flow;
	unsigned char *seen = arena_alloc(&c->tmp, (size_t)f->n_nodes + 1);
	char path[JDOC_PATH_MAX];

	if (seen == NULL || flow_reached(f, seen) != 0)
		return;
	for (unsigned i = 0; i < f->n_nodes; i++) {
		if (seen[i] || f->nodes[i].type == NULL)
			continue;
		jdoc_path(path, sizeof(path), base, f->nodes[i].id);
		check_warn(c, DIAG_UNREACHABLE, path, "node \"%s\" is never "
			"reached: neither the start, a command nor another node leads "
			"to it", f->nodes[i].id);
	}
}

static int flow_hash(struct flow *f, json_object *root)
{
	static const char hex[] = "0123456789abcdef";
	struct buf b;
	unsigned len = 0;
	int rc = -1;

	buf_init(&b, (size_t)FLOW_FILE_MAX * 4);
	if (jdoc_canon(root, &b) != 0)
		goto out;
	if (EVP_Digest(b.p, b.len, f->hash, &len, EVP_sha256(), NULL) != 1 || len != 32)
		goto out;
	f->canon = arena_strndup(&f->arena, b.p, b.len);
	if (f->canon == NULL)
		goto out;
	for (int i = 0; i < 32; i++) {
		f->hash_hex[2 * i] = hex[f->hash[i] >> 4];
		f->hash_hex[2 * i + 1] = hex[f->hash[i] & 15];
	}
	f->hash_hex[64] = '\0';
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* The extended form has "nodes"; a canonical flow may have a node called
 * "nodes", told apart by its string "type". */
static int flow_is_extended(json_object *root)
{
	json_object *nodes, *type;
	if (!json_object_object_get_ex(root, "nodes", &nodes))
		return 0;
	return !(json_object_get_type(nodes) == json_type_object &&
		 json_object_object_get_ex(nodes, "type", &type) &&
		 json_object_get_type(type) == json_type_string);
}

static int flow_from_json(struct flow *f, json_object *root, struct diag *d)
{
	struct check c;
	struct flow_graph g;
	json_object *nodes = root;
	const char *base = "";
	int rc = -1;

	check_init(&c, f, d);
	if (json_object_get_type(root) != json_type_object) {
		check_error(&c, DIAG_SCHEMA, "/", "a flow must be a JSON object of "
			"node id -> node, not %s", jdoc_type_name(root));
		goto out;
	}
	if (flow_is_extended(root)) {
		json_object_object_get_ex(root, "nodes", &nodes);
		base = "/nodes";
		flow_load_settings(&c, root);
		if (json_object_get_type(nodes) != json_type_object) {
			check_error(&c, DIAG_SCHEMA, "/nodes", "must be an object of node "
				"id -> node, not %s", jdoc_type_name(nodes));
			goto out;
		}
	} else {
		f->start = -1;
		f->on_missing_node = -1;
		f->on_inactive = -1;
	}
	if (json_object_object_length(nodes) == 0) {
		check_error(&c, DIAG_SCHEMA, base[0] ? base : "/", "the flow has no "
			"nodes; add at least one, e.g. \"0\": {\"type\": \"cutscene\", "
			"\"node_text\": \"Hello!\"}");
		goto out;
	}
	if (flow_load_nodes(&c, nodes, base) != 0)
		goto out;
	check_resolve(&c);
	if (base[0] == '\0' || !json_object_object_get_ex(root, "start", NULL)) {
		f->start = flow_find(f, "0");
		if (f->start < 0)
			check_error(&c, DIAG_SCHEMA, "/", base[0] ?
				"no start node: add \"start\": ID, or a node \"0\"" :
				"no start node: add a node \"0\", or use the extended form "
				"{\"start\": ID, \"nodes\": {...}}");
	}
	flow_check_back(&c, base);
	if (flow_graph_build(&g, &c, base) == 0)
		flow_check_cycles(&g);
	if (f->start >= 0 && !c.unsure)
		flow_check_reachable(&c, base);
	check_html_keys(&c);
	check_templates(&c);
	check_tests(&c);
	if (c.errors == 0 && flow_hash(f, root) != 0)
		check_error(&c, DIAG_SCHEMA, "/", "out of memory");
	rc = c.errors ? -1 : 0;
out:
	check_done(&c);
	return rc;
}

int flow_load_mem(const char *name, const char *text, size_t len,
	struct flow **out, struct diag *d)
{
	char err[JDOC_ERR_MAX], path[JDOC_PATH_MAX];
	json_object *root = NULL;
	struct flow *f;

	*out = NULL;
	if (jdoc_parse(text, len, FLOW_DEPTH_MAX, &root, err, sizeof(err),
	    path, sizeof(path)) != 0) {
		diag_add(d, DIAG_ERROR, DIAG_SCHEMA, path, "%s", err);
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		json_object_put(root);
		diag_add(d, DIAG_ERROR, DIAG_SCHEMA, "/", "out of memory");
		return -1;
	}
	arena_init(&f->arena);
	f->file = arena_strdup(&f->arena, name);
	if (f->file == NULL || flow_from_json(f, root, d) != 0) {
		json_object_put(root);
		flow_free(f);
		return -1;
	}
	json_object_put(root);
	*out = f;
	return 0;
}

int flow_load(const char *file, struct flow **out, struct diag *d)
{
	char err[JDOC_ERR_MAX];
	struct buf b;
	int rc;

	*out = NULL;
	buf_init(&b, FLOW_FILE_MAX);
	if (jdoc_read_file(file, FLOW_FILE_MAX, &b, err, sizeof(err)) != 0) {
		diag_add(d, DIAG_ERROR, DIAG_SCHEMA, "/", "%s", err);
		buf_free(&b);
		return -1;
	}
	rc = flow_load_mem(file, b.p, b.len, out, d);
	buf_free(&b);
	return rc;
}

int flow_html_key(const struct flow *f, const char *key)
{
	for (unsigned i = 0; i < f->n_html_keys; i++)
		if (strcmp(f->html_keys[i], key) == 0)
			return 1;
	return 0;
}

void flow_free(struct flow *f)
{
	if (f == NULL)
		return;
	flow_regex_free(f->regexes);
	arena_free(&f->arena);
	free(f);
}
