/* engine.c - the conversation step, and the helpers node types use. */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/jdoc.h"
#include "engine/node.h"
#include "engine/step.h"
#include "engine/tmpl.h"

#define ENGINE_TEXT_MAX (64 * 1024)

void step_out_init(struct step_out *o)
{
	memset(o, 0, sizeof(*o));
}

void step_out_free(struct step_out *o)
{
	for (unsigned i = 0; i < o->n_calls; i++)
		json_object_put(o->calls[i].params);
	free(o->calls);
	step_out_init(o);
}

int step_out_add(struct step_out *o, const char *method, json_object *params)
{
	if (params == NULL)
		return -1;
	if (o->n_calls == o->cap_calls) {
		unsigned cap = o->cap_calls ? o->cap_calls * 2 : 4;
		struct engine_call *calls = realloc(o->calls, cap * sizeof(*calls));
		if (calls == NULL) {
			json_object_put(params);
			return -1;
		}
		o->calls = calls;
		o->cap_calls = cap;
	}
	o->calls[o->n_calls].method = method;
	o->calls[o->n_calls].params = params;
	o->n_calls++;
	return 0;
}

int engine_call_json(const struct engine_call *c, struct buf *b)
{
	const char *params = json_object_to_json_string_ext(c->params,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (buf_adds(b, "{\"method\":") || jdoc_quote(b, c->method, strlen(c->method)))
		return -1;
	if (strcmp(params, "{}") == 0)
		return buf_addc(b, '}');
	return buf_addc(b, ',') || buf_adds(b, params + 1);
}

int chat_init(struct chat *c, long long chat_id)
{
	memset(c, 0, sizeof(*c));
	c->chat_id = chat_id;
	c->ctx = json_object_new_object();
	return c->ctx ? 0 : -1;
}

void chat_free(struct chat *c)
{
	json_object_put(c->ctx);
	c->ctx = NULL;
}

/* --- helpers for node types (step.h) --- */

const char *step_value(struct step *s, const char *key, char *tmp, size_t tmplen)
{
	const struct update_user *from = &s->u->from;
	json_object *v;

	if (strncmp(key, "user.", 5) == 0) {
		const char *f = key + 5;
		if (strcmp(f, "first_name") == 0)
			return from->first_name;
		if (strcmp(f, "last_name") == 0)
			return from->last_name;
		if (strcmp(f, "username") == 0)
			return from->username;
		if (strcmp(f, "language_code") == 0)
			return from->language_code;
		if (strcmp(f, "id") == 0 && from->id) {
			snprintf(tmp, tmplen, "%lld", from->id);
			return tmp;
		}
		return NULL;
	}
	if (strcmp(key, "chat.id") == 0) {
		snprintf(tmp, tmplen, "%lld", s->chat->chat_id);
		return tmp;
	}
	if (json_object_object_get_ex(s->chat->ctx, key, &v))
		return json_object_get_string(v);
	return NULL;
}

struct step_lookup_arg {
	struct step *s;
	char tmp[32];
	char key[TMPL_KEY_MAX + 1];
};

static const char *step_lookup(void *arg, const char *key, size_t klen, int *raw)
{
	struct step_lookup_arg *a = arg;
	memcpy(a->key, key, klen);
	a->key[klen] = '\0';
	*raw = flow_html_key(a->s->flow, a->key);
	return step_value(a->s, a->key, a->tmp, sizeof(a->tmp));
}

/* The variant of t for the user's language: exact, then the language
 * without its region, then the default. */
static const char *step_variant(const struct step *s, const struct flow_text *t)
{
	const char *lang = s->lang;
	size_t base = strcspn(lang, "-_");
	if (t->n == 1 || lang[0] == '\0')
		return t->v[t->def].text;
	for (unsigned i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].lang, lang) == 0)
			return t->v[i].text;
	for (unsigned i = 0; i < t->n; i++)
		if (strlen(t->v[i].lang) == base && strncasecmp(t->v[i].lang, lang, base) == 0)
			return t->v[i].text;
	return t->v[t->def].text;
}

int step_render(struct step *s, const struct flow_text *t)
{
	struct step_lookup_arg a = { .s = s };
	buf_reset(&s->text);
	if (t->n == 0)
		return 0;
	return tmpl_render(&s->text, step_variant(s, t), 1, step_lookup, &a);
}

int step_render_plain(struct step *s, const struct flow_text *t, struct buf *out)
{
	struct step_lookup_arg a = { .s = s };
	buf_reset(out);
	if (t->n == 0)
		return 0;
	return tmpl_render(out, step_variant(s, t), 0, step_lookup, &a);
}

int step_prompt(struct step *s, const struct flow_node *n, json_object *markup)
{
	return step_send(s, &n->text, markup) ? NODE_FAIL : NODE_WAIT;
}

int step_fetch(struct step *s, const struct flow_node *n, const char *kind,
	const struct update_file *file, unsigned long max_bytes)
{
	const struct attach_ops *a = s->env->attach;
	char path[ENGINE_PATH_MAX], why[160] = "no attachment store";
	struct attach_req req = {
		.chat_id = s->chat->chat_id, .update_id = s->u->update_id,
		.node_id = n->id, .key = n->key, .kind = kind, .file = file, .max_bytes = max_bytes,
		.why = why, .whylen = sizeof(why),
	};
	char msg[160];
	int rc = a ? a->fetch(a->arg, &req, path, sizeof(path)) : ATTACH_FAILED;

	if (rc == 0)
		return n->key && step_save(s, n->key, path, strlen(path)) ? NODE_FAIL : n->next;
	snprintf(s->out->warning, sizeof(s->out->warning), "%s %s: %s", kind,
		rc == ATTACH_FAILED ? "download failed" : "refused", why);
	if (rc == ATTACH_TOO_BIG) {
		snprintf(msg, sizeof(msg), "That file is too big: the limit is %g MB.",
			(double)max_bytes / (1024 * 1024));
		rc = step_reason(s, n, "too_big", msg, NULL);
	} else if (rc == ATTACH_WRONG_TYPE && strcmp(kind, "voice") == 0) {
		rc = step_reason(s, n, "not_voice", "Please send a voice message.", NULL);
	} else if (rc == ATTACH_WRONG_TYPE) {
		snprintf(msg, sizeof(msg), "That file is not a real %s file; please "
			"send it again.", file->mime_type ? file->mime_type : "document");
		rc = step_reason(s, n, "wrong_type", msg, NULL);
	} else {
		rc = step_reason(s, n, "upload_failed", "Upload failed, try again.", NULL);
	}
	return rc ? NODE_FAIL : NODE_STAY;
}

static json_object *step_params(struct step *s)
{
	json_object *p = json_object_new_object();
	if (p && json_object_object_add(p, "chat_id",
	    json_object_new_int64(s->chat->chat_id)) != 0) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

int step_call(struct step *s, const char *method, json_object *params)
{
	return step_out_add(s->out, method, params);
}

static int step_send_html(struct step *s, const char *html, size_t len,
	json_object *markup)
{
	json_object *p = step_params(s);
	if (p == NULL) {
		json_object_put(markup);
		return -1;
	}
	if (markup == NULL && s->chat->keyboard) {
		markup = json_object_new_object();
		if (markup)
			json_object_object_add(markup, "remove_keyboard",
				json_object_new_boolean(1));
		s->chat->keyboard = 0;
	}
	json_object_object_add(p, "text", json_object_new_string_len(html, (int)len));
	json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
	if (markup)
		json_object_object_add(p, "reply_markup", markup);
	return step_call(s, "sendMessage", p);
}

int step_send(struct step *s, const struct flow_text *t, json_object *markup)
{
	if (step_render(s, t) != 0) {
		json_object_put(markup);
		return -1;
	}
	return step_send_html(s, s->text.p ? s->text.p : "", s->text.len, markup);
}

static const struct flow_text *step_override(const struct flow_msg *msgs,
	unsigned n, const char *reason)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(msgs[i].reason, reason) == 0)
			return &msgs[i].text;
	return NULL;
}

int step_reason(struct step *s, const struct flow_node *n, const char *reason,
	const char *fallback, json_object *markup)
{
	const struct flow_text *t = NULL;
	if (n)
		t = step_override(n->msgs, n->n_msgs, reason);
	if (t == NULL)
		t = step_override(s->flow->msgs, s->flow->n_msgs, reason);
	if (t)
		return step_send(s, t, markup);
	return step_send_html(s, fallback, strlen(fallback), markup);
}

static size_t step_ctx_size(json_object *ctx)
{
	size_t n = 2;
	json_object_object_foreach(ctx, k, v)
		n += strlen(k) + (size_t)json_object_get_string_len(v) + 6;
	return n;
}

int step_save(struct step *s, const char *key, const char *value, size_t len)
{
	json_object *old = NULL, *v;
	size_t size = step_ctx_size(s->chat->ctx) + strlen(key) + len + 6;

	if (json_object_object_get_ex(s->chat->ctx, key, &old))
		size -= strlen(key) + (size_t)json_object_get_string_len(old) + 6;
	if (size > ENGINE_CONTEXT_MAX) {
		snprintf(s->out->warning, sizeof(s->out->warning), "context full: "
			"saving \"%s\" (%zu bytes) would pass %d bytes; not saved",
			key, len, ENGINE_CONTEXT_MAX);
		return 0;
	}
	v = json_object_new_string_len(value, (int)len);
	if (v == NULL || json_object_object_add(s->chat->ctx, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* --- the step --- */

static void engine_set_node(struct step *s, int idx)
{
	snprintf(s->chat->node, sizeof(s->chat->node), "%s", s->flow->nodes[idx].id);
	s->chat->attempts = 0;
}

/* Enters node idx and follows nodes that do not wait. */
static int engine_goto(struct step *s, int idx)
{
	for (;;) {
		const struct flow_node *n = &s->flow->nodes[idx];
		int r;
		if (s->out->transitions >= ENGINE_TRANSITIONS_MAX) {
			/* the next update goes on from here, nothing sent twice */
			engine_set_node(s, idx);
			s->out->outcome = ENGINE_LIMIT;
			snprintf(s->out->warning, sizeof(s->out->warning), "stopped "
				"after %d transitions at node \"%s\"",
				ENGINE_TRANSITIONS_MAX, n->id);
			return 0;
		}
		s->out->transitions++;
		engine_set_node(s, idx);
		r = n->type->enter(s, n);
		if (r == NODE_WAIT)
			return 0;
		if (r == NODE_END) {
			s->chat->finished = 1;
			return 0;
		}
		if (r < 0)
			return -1;
		idx = r;
	}
}

static int engine_restart(struct step *s, const char *payload, size_t len)
{
	json_object *ctx = json_object_new_object();
	if (ctx == NULL)
		return -1;
	json_object_put(s->chat->ctx);
	s->chat->ctx = ctx;
	s->chat->finished = 0;
	if (len && step_save(s, "start_param", payload, len) != 0)
		return -1;
	s->out->outcome = ENGINE_ADVANCED;
	return engine_goto(s, s->flow->start);
}

const char *engine_outcome_name(enum engine_outcome o)
{
	static const char *const names[] = {
		"ignored", "advanced", "stayed", "stale", "finished", "limit", "expired",
		"forgotten"
	};
	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

/* The forget command: the chat is as new (the store erases the rest in
 * the same transaction), and told so. */
static int engine_forget(struct step *s)
{
	json_object *ctx = json_object_new_object();
	if (ctx == NULL)
		return -1;
	json_object_put(s->chat->ctx);
	s->chat->ctx = ctx;
	s->chat->node[0] = '\0';
	s->chat->finished = 0;
	s->chat->attempts = 0;
	s->out->outcome = ENGINE_FORGOTTEN;
	return step_reason(s, NULL, "forgotten", "Done: everything this bot kept "
		"about you is deleted. Send /start to begin again.", NULL);
}

/* Drops the calls made after the first mark. */
static void engine_drop_calls(struct step_out *o, unsigned mark)
{
	while (o->n_calls > mark)
		json_object_put(o->calls[--o->n_calls].params);
}

/* After a node handled input (its calls start at mark): where the chat
 * goes. */
static int engine_after(struct step *s, const struct flow_node *n, int r,
	unsigned mark)
{
	if (r == NODE_FAIL)
		return -1;
	if (r == NODE_END) {
		s->chat->finished = 1;
		s->out->outcome = ENGINE_ADVANCED;
		return 0;
	}
	if (r == NODE_STAY) {
		s->chat->attempts++;
		s->out->outcome = ENGINE_STAYED;
		if (n->max_attempts && s->chat->attempts >= n->max_attempts) {
			/* no "try again" when there is no again */
			engine_drop_calls(s->out, mark);
			s->out->outcome = ENGINE_ADVANCED;
			return engine_goto(s, n->on_max_attempts);
		}
		return 0;
	}
	s->out->outcome = ENGINE_ADVANCED;
	return engine_goto(s, r);
}

int engine_takes(const struct update *u)
{
	if (!u->has_chat)
		return 0;
	if (u->kind == UPDATE_CALLBACK_QUERY)
		return u->callback_id != NULL;
	return u->kind == UPDATE_MESSAGE && !u->service;
}

/* Handles "/name[@bot] [payload]". Returns 1 when the command was taken,
 * 0 when the text is to be treated as an answer, -1 on failure. */
static int engine_command(struct step *s, const char *text)
{
	const struct flow *f = s->flow;
	size_t name = strcspn(text, " \t\n@");
	const char *payload = text + name;
	char cmd[40];

	if (text[0] != '/' || name < 2 || name >= sizeof(cmd))
		return 0;
	if (*payload == '@') {
		size_t blen = strcspn(payload + 1, " \t\n");
		const char *bot = s->env->bot_username;
		if (bot && (strlen(bot) != blen || strncasecmp(bot, payload + 1, blen) != 0)) {
			s->out->outcome = ENGINE_IGNORED;
			return 1;   /* addressed to another bot */
		}
		payload += 1 + blen;
	}
	payload += strspn(payload, " \t\n");
	memcpy(cmd, text, name);
	cmd[name] = '\0';
	for (size_t i = 0; i < name; i++)
		if (cmd[i] >= 'A' && cmd[i] <= 'Z')
			cmd[i] = (char)(cmd[i] - 'A' + 'a');
	if (strcmp(cmd, "/start") == 0) {
		size_t len = strlen(payload);
		while (len && (payload[len - 1] == ' ' || payload[len - 1] == '\n'))
			len--;
		return engine_restart(s, payload, len) ? -1 : 1;
	}
	if (f->forget_command && strcmp(cmd, f->forget_command) == 0)
		return engine_forget(s) ? -1 : 1;
	for (unsigned i = 0; i < f->n_commands; i++) {
		if (strcmp(f->commands[i].name, cmd) != 0)
			continue;
		s->chat->finished = 0;
		s->out->outcome = ENGINE_ADVANCED;
		return engine_goto(s, f->commands[i].node) ? -1 : 1;
	}
	return 0;
}

static int engine_message(struct step *s)
{
	const struct update *u = s->u;
	unsigned mark;
	int cur, rc;

	if (s->env->now > 0 && u->date > 0 && s->env->now - u->date > ENGINE_MESSAGE_TTL) {
		/* a day-old answer may no longer fit the question: ask again */
		s->out->outcome = ENGINE_EXPIRED;
		return step_reason(s, NULL, "expired", "Sorry, this message reached "
			"me too late. Please send it again.", NULL);
	}
	if (u->text && u->text[0] == '/') {
		rc = engine_command(s, u->text);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	if (s->chat->node[0] == '\0')
		return engine_restart(s, NULL, 0);
	if (s->chat->finished) {
		if (s->flow->finished_text.n == 0)
			return 0;
		s->out->outcome = ENGINE_FINISHED_REPLY;
		return step_send(s, &s->flow->finished_text, NULL);
	}
	cur = flow_find(s->flow, s->chat->node);
	if (cur < 0) {
		/* the flow changed under the chat and its node is gone */
		int to = s->flow->on_missing_node >= 0 ? s->flow->on_missing_node :
			s->flow->start;
		snprintf(s->out->warning, sizeof(s->out->warning), "node \"%s\" is "
			"gone from the flow; chat moved to \"%s\"", s->chat->node,
			s->flow->nodes[to].id);
		s->out->outcome = ENGINE_ADVANCED;
		return engine_goto(s, to);
	}
	if (s->flow->nodes[cur].type->handle == NULL) {
		s->out->outcome = ENGINE_ADVANCED;
		return engine_goto(s, cur);
	}
	mark = s->out->n_calls;
	return engine_after(s, &s->flow->nodes[cur],
		s->flow->nodes[cur].type->handle(s, &s->flow->nodes[cur]), mark);
}

static int engine_answer_callback(struct step *s, const char *text)
{
	json_object *p = json_object_new_object();
	if (p == NULL)
		return -1;
	json_object_object_add(p, "callback_query_id",
		json_object_new_string(s->u->callback_id));
	if (text)
		json_object_object_add(p, "text", json_object_new_string(text));
	return step_out_add(s->out, "answerCallbackQuery", p);
}

/* The choice key of a press on the keyboard of the chat's current node,
 * or NULL when the button belongs to another node (a stale keyboard). */
static const char *engine_pressed(struct step *s, int *cur)
{
	const char *data = s->u->callback_data;
	size_t idlen = strlen(s->chat->node);
	const struct node_type *t;

	*cur = -1;
	if (data == NULL || s->chat->finished || idlen == 0 ||
	    strncmp(data, s->chat->node, idlen) != 0 || data[idlen] != '|')
		return NULL;
	*cur = flow_find(s->flow, s->chat->node);
	if (*cur < 0)
		return NULL;
	t = s->flow->nodes[*cur].type;
	return t->press ? t->press(&s->flow->nodes[*cur], data + idlen + 1) : NULL;
}

static int engine_callback(struct step *s)
{
	const struct flow_text *t;
	json_object *p, *markup, *rows;
	int cur;

	if (s->u->callback_id == NULL)
		return 0;
	if (!s->u->has_chat)
		return engine_answer_callback(s, NULL);
	s->press = engine_pressed(s, &cur);
	if (s->press == NULL) {
		s->out->outcome = ENGINE_STALE;
		t = step_override(s->flow->msgs, s->flow->n_msgs, "stale_button");
		if (t == NULL)
			return engine_answer_callback(s, "This button is no longer active.");
		if (step_render_plain(s, t, &s->text) != 0)
			return -1;
		return engine_answer_callback(s, s->text.p ? s->text.p : "");
	}
	if (engine_answer_callback(s, NULL) != 0)
		return -1;
	p = step_params(s);
	markup = json_object_new_object();
	rows = json_object_new_array();
	if (p == NULL || markup == NULL || rows == NULL) {
		json_object_put(p);
		json_object_put(markup);
		json_object_put(rows);
		return -1;
	}
	json_object_object_add(p, "message_id", json_object_new_int64(s->u->message_id));
	json_object_object_add(markup, "inline_keyboard", rows);
	json_object_object_add(p, "reply_markup", markup);
	if (step_call(s, "editMessageReplyMarkup", p) != 0)
		return -1;
	return engine_after(s, &s->flow->nodes[cur],
		s->flow->nodes[cur].type->handle(s, &s->flow->nodes[cur]),
		s->out->n_calls);
}

int engine_step(const struct flow *f, struct chat *chat,
	const struct update *u, const struct engine_env *env,
	struct step_out *out)
{
	struct step s;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.flow = f;
	s.chat = chat;
	s.u = u;
	s.env = env;
	s.out = out;
	s.lang = u->from.language_code ? u->from.language_code : "";
	buf_init(&s.text, ENGINE_TEXT_MAX);
	out->outcome = ENGINE_IGNORED;
	snprintf(out->node_from, sizeof(out->node_from), "%s", chat->node);
	if (u->kind == UPDATE_CALLBACK_QUERY)
		rc = engine_callback(&s);
	else if (engine_takes(u))
		rc = engine_message(&s);
	buf_free(&s.text);
	return rc;
}
