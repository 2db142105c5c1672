/* node_http.c - a call to an outside service: the step parks the chat
 * here and arms a due-now timer of kind "http"; the background process
 * makes the call outside any transaction (engine/http.h) and the answer
 * comes back through apply_timer: its "save" values are kept and the
 * chat goes on to "next", or to "on_error" when the call failed. */
#include "engine/node_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json_pointer.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/step.h"
#include "engine/tmpl.h"

#define HTTP_SAVES_MAX 16

struct http_save {
	const char *key;
	const char *pointer;
};

struct http_data {
	const char *method;
	const char *url;
	const char *headers;       /* JSON text of the object, or NULL */
	const char *body;          /* JSON text, or NULL */
	int send_answers;
	int timeout;
	int retries;
	struct http_save saves[HTTP_SAVES_MAX];
	unsigned n_saves;
	int on_error;
};

static const char *const http_methods[] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", NULL
};

static const char *const http_reasons[] = { "http_error", "http_wait", NULL };

#define HTTP_ERROR_TEXT "Sorry, something went wrong on our side. Please " \
	"send any message to try again."
#define HTTP_WAIT_TEXT "One moment, please: we are still waiting for an answer."

static int http_read_method(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct http_data *d = n->data;
	char kpath[JDOC_PATH_MAX];
	const char *s;
	int rc = check_string(c, obj, k->name, path, NULL, &s);

	if (rc <= 0)
		return rc;
	for (int i = 0; http_methods[i]; i++)
		if (strcmp(s, http_methods[i]) == 0) {
			d->method = http_methods[i];
			return 1;
		}
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not a method; write "
		"GET, POST, PUT, PATCH or DELETE", s);
	return -1;
}

static int http_read_url(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct http_data *d = n->data;
	char kpath[JDOC_PATH_MAX];
	const char *s;
	int rc = check_string(c, obj, k->name, path, k->hint, &s);

	if (rc <= 0)
		return rc;
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not an https:// "
			"(or, with an http_allow entry saying so, http://) URL", s);
		return -1;
	}
	d->url = check_strdup(c, s);
	c->flow->timed = 1;   /* the call is made by a timer */
	return d->url ? 1 : -1;
}

const char *http_node_url(const struct flow_node *n)
{
	const struct http_data *d = n->data;
	return d ? d->url : NULL;
}

int http_node_literal_secret(const char *name, const char *value)
{
	static const char *const words[] = {
		"auth", "token", "key", "secret", "cookie", "password", NULL
	};
	char low[64];
	size_t i;

	if (strchr(value, '$'))
		return 0;
	for (i = 0; name[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	for (int w = 0; words[w]; w++)
		if (strstr(low, words[w]))
			return 1;
	return 0;
}

/* Key k of obj (the node at path), which must be an object of at most
 * max members (what: the error's words for them), into *v and kpath.
 * Returns 1, 0 when absent, -1 after the error. */
static int http_object(struct check *c, json_object *obj, const char *path,
	const struct node_key *k, int max, const char *what, json_object **v,
	char *kpath)
{
	if (!json_object_object_get_ex(obj, k->name, v))
		return 0;
	jdoc_path(kpath, JDOC_PATH_MAX, path, k->name);
	if (!json_object_is_type(*v, json_type_object) ||
	    json_object_object_length(*v) > max) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "must be an object of at "
			"most %d %s", max, what);
		return -1;
	}
	return 1;
}

static int http_read_headers(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct http_data *d = n->data;
	char kpath[JDOC_PATH_MAX], hpath[JDOC_PATH_MAX];
	json_object *v;
	int bad = 0, rc = http_object(c, obj, path, k, HTTP_HEADERS_MAX, "header "
		"names and string values, e.g. {\"Authorization\": \"Bearer "
		"$CRM_TOKEN\"}", &v, kpath);

	if (rc <= 0)
		return rc;
	json_object_object_foreach(v, name, hv) {
		jdoc_path(hpath, sizeof(hpath), kpath, name);
		if (!json_object_is_type(hv, json_type_string) || *name == '\0' ||
		    strpbrk(name, ": \r\n") || strpbrk(json_object_get_string(hv), "\r\n")) {
			check_error(c, DIAG_NODE_SCHEMA, hpath, "a header is a name and a "
				"one-line string value");
			bad = 1;
		} else if (http_node_literal_secret(name, json_object_get_string(hv))) {
			check_error(c, DIAG_NODE_SCHEMA, hpath, "looks like a secret written "
				"in the flow; put it in an environment variable and write "
				"\"$NAME\" (e.g. \"Bearer $CRM_TOKEN\")");
			bad = 1;
		}
	}
	if (bad)
		return -1;
	d->headers = check_strdup(c, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	return d->headers ? 1 : -1;
}

static int http_read_body(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct http_data *d = n->data;
	char kpath[JDOC_PATH_MAX];
	json_object *v;

	if (!json_object_object_get_ex(obj, k->name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array)) {
		jdoc_path(kpath, sizeof(kpath), path, k->name);
		check_error(c, DIAG_NODE_SCHEMA, kpath, "must be a JSON object or "
			"array; its strings may hold {{key}}");
		return -1;
	}
	d->body = check_strdup(c, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	return d->body ? 1 : -1;
}

static int http_read_save(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct http_data *d = n->data;
	char kpath[JDOC_PATH_MAX], spath[JDOC_PATH_MAX];
	json_object *v;
	int bad = 0, rc = http_object(c, obj, path, k, HTTP_SAVES_MAX, "keys, each "
		"a JSON pointer into the answer, e.g. {\"ticket\": \"/id\"}", &v, kpath);

	if (rc <= 0)
		return rc;
	json_object_object_foreach(v, key, pv) {
		const char *p = json_object_get_string(pv);
		jdoc_path(spath, sizeof(spath), kpath, key);
		if (!json_object_is_type(pv, json_type_string) || (p[0] && p[0] != '/')) {
			check_error(c, DIAG_NODE_SCHEMA, spath, "a JSON pointer: \"\" for "
				"the whole answer, or \"/field/0/name\"");
			bad = 1;
			continue;
		}
		if (!check_save_name(key)) {
			check_error(c, DIAG_NODE_SCHEMA, spath, "\"%s\" is not a usable "
				"name; use letters, digits and '_' (at most 64, not starting "
				"with a digit), not a built-in name", key);
			bad = 1;
			continue;
		}
		check_note_save(c, spath, key);
		d->saves[d->n_saves].key = check_strdup(c, key);
		d->saves[d->n_saves++].pointer = check_strdup(c, p);
	}
	return bad ? -1 : 1;
}

static const struct node_key http_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	{ "method", NODE_KEY_CUSTOM, .read = http_read_method, .desc = "GET, "
	  "POST, PUT, PATCH or DELETE (default POST with a body or "
	  "\"send_answers\", GET without).",
	  .schema = "{\"enum\": [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"]}",
	  .doc = "\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"" },
	{ "url", NODE_KEY_CUSTOM, .hint = "the service's address, e.g. \"url\": "
	  "\"https://api.example.com/tickets\"", .read = http_read_url,
	  .desc = "The address called, {{key}} values URL-escaped; https, or "
	  "http when the bot's http_allow names scheme://host:port. Its host "
	  "must be in the bot's http_allow.",
	  .schema = "{\"type\": \"string\", \"pattern\": \"^https?://\"}",
	  .doc = "URL" },
	{ "headers", NODE_KEY_CUSTOM, .read = http_read_headers, .desc = "Request "
	  "headers; $NAME in a value is the environment variable NAME (secrets "
	  "go there, never in the flow), e.g. {\"Authorization\": \"Bearer "
	  "$CRM_TOKEN\"}.",
	  .schema = "{\"type\": \"object\", \"maxProperties\": 16, "
	  "\"propertyNames\": {\"pattern\": \"^[^:\\\\s]+$\"}, "
	  "\"additionalProperties\": {\"type\": \"string\", "
	  "\"not\": {\"pattern\": \"[\\\\r\\\\n]\"}}}", .doc = "object of strings" },
	{ "body", NODE_KEY_CUSTOM, .read = http_read_body, .desc = "The JSON "
	  "sent; {{key}} in its strings is the saved value (JSON-escaped).",
	  .schema = "{\"type\": [\"object\", \"array\"]}", .doc = "JSON" },
	{ "send_answers", NODE_KEY_BOOL, .desc = "true: the body is every saved "
	  "answer as one object (with \"body\"'s keys added to it).",
	  NODE_DATA_AT(struct http_data, send_answers) },
	{ "timeout", NODE_KEY_INT, .min = 1, .max = HTTP_TIMEOUT_MAX, .has_def = 1,
	  .def = HTTP_TIMEOUT_MAX, .desc = "Seconds one try may take (1 to 5, "
	  "default 5).", NODE_DATA_AT(struct http_data, timeout) },
	{ "retries", NODE_KEY_INT, .min = 0, .max = HTTP_RETRIES_MAX,
	  .desc = "Tries after a failed one (a 5xx answer, no answer), 250 ms "
	  "apart, doubling (0 to 3, default 0).",
	  NODE_DATA_AT(struct http_data, retries) },
	{ "save", NODE_KEY_CUSTOM, .read = http_read_save, .desc = "Values of the "
	  "answer (which must then be JSON) saved under keys, each a JSON "
	  "pointer, e.g. {\"ticket\": \"/id\"}.",
	  .schema = "{\"type\": \"object\", \"maxProperties\": 16, "
	  "\"propertyNames\": {\"pattern\": \"^[A-Za-z_][A-Za-z0-9_]{0,63}$\"}, "
	  "\"additionalProperties\": {\"type\": \"string\", \"pattern\": \"^(/.*)?$\"}}",
	  .doc = "object of JSON pointers" },
	{ "next", NODE_KEY_REF, .desc = "The node after a good answer; without "
	  "it the flow ends.", NODE_AT(next) },
	{ "on_error", NODE_KEY_REF, .desc = "The node after a failed call (refused, "
	  "no answer in time, not 2xx, not JSON with \"save\"); without it the "
	  "user gets the \"http_error\" message and the next message tries again.",
	  NODE_DATA_AT(struct http_data, on_error) },
	NODE_KEY_MESSAGES_ENTRY,
	{ NULL }
};

static void http_edges(const struct flow_node *n, node_edge_fn *fn, void *arg)
{
	const struct http_data *d = n->data;
	struct node_edge e;

	if (n->next >= 0) {
		e = (struct node_edge){ .to = n->next, .key = "next", .label = "" };
		fn(arg, &e);
	}
	if (d && d->on_error >= 0) {
		e = (struct node_edge){ .to = d->on_error, .dashed = 1,
			.key = "on_error", .label = "on_error" };
		fn(arg, &e);
	}
}

static int http_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct http_data *d = n->data;
	(void)c;
	(void)path;
	if (!json_object_object_get_ex(obj, "on_error", NULL))
		d->on_error = -1;
	if (d->method == NULL)
		d->method = d->body || d->send_answers ? "POST" : "GET";
	return 0;
}

static int http_enter(struct step *s, const struct flow_node *n)
{
	(void)s;
	(void)n;
	return NODE_WAIT;   /* the call is made by its timer (engine_fire) */
}

/* --- the request --- */

struct http_render {
	struct step *s;
	int url;           /* 1: URL-escape values */
	char tmp[64];
	struct buf esc;
};

static const char *http_lookup(void *arg, const char *key, size_t klen, int *raw)
{
	struct http_render *r = arg;
	char name[TMPL_KEY_MAX + 1];
	const char *v;

	*raw = 1;
	if (klen > TMPL_KEY_MAX)
		return NULL;
	memcpy(name, key, klen);
	name[klen] = '\0';
	v = step_value(r->s, name, r->tmp, sizeof(r->tmp));
	if (v == NULL || !r->url)
		return v;
	buf_reset(&r->esc);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			buf_addc(&r->esc, (char)*p);
		else
			buf_addf(&r->esc, "%%%02X", *p);
	}
	return r->esc.p ? r->esc.p : "";
}

static char *http_render_text(struct http_render *r, const char *text, int url)
{
	struct buf b;
	char *out;

	buf_init(&b, FLOW_TEXT_MAX * 4);
	r->url = url;
	if (tmpl_render(&b, text, 0, http_lookup, r) != 0) {
		buf_free(&b);
		return NULL;
	}
	out = strdup(b.p ? b.p : "");
	buf_free(&b);
	return out;
}

static int http_render_json(struct http_render *r, json_object *v);

/* m rendered: a new string into *out when m is one, else m rendered in
 * place and *out NULL. Returns 0 or -1. */
static int http_render_member(struct http_render *r, json_object *m,
	json_object **out)
{
	char *s;

	*out = NULL;
	if (!json_object_is_type(m, json_type_string))
		return http_render_json(r, m);
	s = http_render_text(r, json_object_get_string(m), 0);
	if (s == NULL)
		return -1;
	*out = json_object_new_string(s);
	free(s);
	return *out ? 0 : -1;
}

/* Renders the {{key}} of every string in v, in place. */
static int http_render_json(struct http_render *r, json_object *v)
{
	json_object *n;

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, m) {
			if (http_render_member(r, m, &n) != 0)
				return -1;
			if (n)
				json_object_object_add(v, key, n);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (http_render_member(r, json_object_array_get_idx(v, i), &n) != 0)
				return -1;
			if (n)
				json_object_array_put_idx(v, i, n);
		}
	}
	return 0;
}

/* value with each $NAME replaced by the environment's NAME. */
static char *http_expand(const char *value, char *why, size_t why_len)
{
	struct buf b;
	char name[128], *out;

	buf_init(&b, 8192);
	for (const char *p = value; *p; ) {
		size_t n;
		const char *v;
		if (*p != '$') {
			buf_addc(&b, *p++);
			continue;
		}
		n = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
		if (n == 0 || n >= sizeof(name)) {
			buf_addc(&b, *p++);
			continue;
		}
		memcpy(name, p + 1, n);
		name[n] = '\0';
		v = getenv(name);
		if (v == NULL) {
			snprintf(why, why_len, "the environment variable %s is not set", name);
			buf_free(&b);
			return NULL;
		}
		buf_adds(&b, v);
		p += 1 + n;
	}
	out = strdup(b.p ? b.p : "");
	buf_free(&b);
	return out;
}

static int http_headers(const struct http_data *d, struct http_request *rq,
	char *why, size_t why_len)
{
	json_object *h;

	if (d->headers == NULL)
		return 0;
	h = json_tokener_parse(d->headers);
	if (h == NULL)
		return -1;
	json_object_object_foreach(h, name, v) {
		char *val = http_expand(json_object_get_string(v), why, why_len);
		size_t len;
		if (val == NULL || rq->n_headers >= HTTP_HEADERS_MAX) {
			free(val);
			json_object_put(h);
			return -1;
		}
		len = strlen(name) + strlen(val) + 3;
		rq->headers[rq->n_headers] = malloc(len);
		if (rq->headers[rq->n_headers])
			snprintf(rq->headers[rq->n_headers++], len, "%s: %s", name, val);
		free(val);
	}
	json_object_put(h);
	return 0;
}

static char *http_body(const struct http_data *d, struct http_render *r)
{
	json_object *body = NULL, *tmpl;
	char *out = NULL;

	if (d->send_answers)
		json_object_deep_copy(r->s->chat->ctx, &body, NULL);
	tmpl = d->body ? json_tokener_parse(d->body) : NULL;
	if (tmpl && http_render_json(r, tmpl) != 0)
		goto out;
	if (body && tmpl && json_object_is_type(tmpl, json_type_object)) {
		json_object_object_foreach(tmpl, key, v)
			json_object_object_add(body, key, json_object_get(v));
	} else if (tmpl) {
		json_object_put(body);
		body = json_object_get(tmpl);
	}
	if (body)
		out = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(tmpl);
	json_object_put(body);
	return out;
}

int http_node_request(const struct flow *f, const struct flow_node *n,
	struct chat *c, struct http_request *rq, char *why, size_t why_len)
{
	const struct http_data *d = n->data;
	struct engine_env env;
	struct update none;
	struct step_out out;
	struct step s;
	struct http_render r;
	int rc = -1;

	memset(&env, 0, sizeof(env));
	memset(&none, 0, sizeof(none));
	none.has_chat = 1;
	none.chat_id = c->chat_id;
	memset(&s, 0, sizeof(s));
	step_out_init(&out);
	s.flow = f;
	s.chat = c;
	s.u = &none;
	s.env = &env;
	s.out = &out;
	s.lang = "";
	memset(&r, 0, sizeof(r));
	r.s = &s;
	buf_init(&r.esc, FLOW_TEXT_MAX * 4);
	snprintf(why, why_len, "out of memory");
	snprintf(rq->method, sizeof(rq->method), "%s", d->method);
	rq->timeout = d->timeout;
	rq->retries = d->retries;
	rq->url = http_render_text(&r, d->url, 1);
	if (rq->url == NULL || http_headers(d, rq, why, why_len) != 0)
		goto out;
	if (d->body || d->send_answers) {
		rq->body = http_body(d, &r);
		if (rq->body == NULL)
			goto out;
	}
	rc = 0;
out:
	buf_free(&r.esc);
	step_out_free(&out);
	return rc;
}

/* --- the answer --- */

/* Saves the "save" values of the answer. Returns 0, -1 (why in the
 * step's warning) when the answer is not JSON, NODE_FAIL-worthy -2. */
static int http_saves(struct step *s, const struct http_data *d,
	const struct http_answer *a)
{
	json_object *doc, *v;
	int rc = 0;

	if (d->n_saves == 0)
		return 0;
	doc = a->body ? json_tokener_parse(a->body) : NULL;
	if (doc == NULL) {
		snprintf(s->out->warning, sizeof(s->out->warning), "http: the "
			"answer is not JSON");
		return -1;
	}
	for (unsigned i = 0; i < d->n_saves && rc == 0; i++) {
		const char *val;
		if (json_pointer_get(doc, d->saves[i].pointer, &v) != 0)
			continue;
		val = json_object_is_type(v, json_type_string) ? json_object_get_string(v) :
			json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		if (step_save(s, d->saves[i].key, val, strlen(val)) < 0)
			rc = -2;
	}
	json_object_put(doc);
	return rc;
}

int http_node_answer(struct step *s, const struct flow_node *n,
	const struct http_answer *a)
{
	const struct http_data *d = n->data;
	int rc;

	if (a && a->ok) {
		rc = http_saves(s, d, a);
		if (rc == -2)
			return NODE_FAIL;
		if (rc == 0)
			return n->next >= 0 ? n->next : NODE_END;
	} else {
		snprintf(s->out->warning, sizeof(s->out->warning), "http: %s",
			a ? a->why : "no call was made");
	}
	if (d->on_error >= 0)
		return d->on_error;
	if (step_reason(s, n, "http_error", HTTP_ERROR_TEXT, NULL) != 0)
		return NODE_FAIL;
	s->chat->attempts = 1;   /* no call is pending: the next message calls */
	return NODE_STAY;
}

/* A message while the chat is at the node: after a failed call, the call
 * again; while one is pending, "http_wait" (a second call would do the
 * service's work twice). */
static int http_handle(struct step *s, const struct flow_node *n)
{
	if (s->chat->attempts > 0)
		return (int)(n - s->flow->nodes);
	if (step_reason(s, n, "http_wait", HTTP_WAIT_TEXT, NULL) != 0)
		return NODE_FAIL;
	return NODE_SAME;
}

const struct node_type node_http = {
	.name = "http",
	.summary = "A call to an outside service (a ticket system, a CRM): the "
		"chat waits while the bot's background process calls, then goes "
		"on to \"next\" with the \"save\" values of the answer, or to "
		"\"on_error\". The host must be in the bot's http_allow.",
	.waits = 0,
	.look = NODE_LOOK_DECISION,
	.keys = http_keys,
	.reasons = http_reasons,
	.data_size = sizeof(struct http_data),
	.validate = http_validate,
	.edges = http_edges,
	.enter = http_enter,
	.handle = http_handle,
};
