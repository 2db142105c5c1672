/* engine.c - the conversation step: one update moves a chat through the
 * flow (the helpers node types use are in step.c). */
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/back.h"
#include "engine/jdoc.h"
#include "engine/intent.h"
#include "engine/life.h"
#include "engine/node_http.h"
#include "engine/node.h"
#include "engine/step.h"
#include "engine/timer.h"

#define ENGINE_TEXT_MAX (64 * 1024)

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
		unsigned mark = s->out->n_calls;
		s->out->transitions++;
		s->out->entered[s->out->n_entered++] = idx;
		engine_set_node(s, idx);
		r = n->type->enter(s, n);
		if (r != NODE_FAIL && life_mark(s, n, mark) != 0)
			return -1;
		if (r == NODE_WAIT)
			return s->flow->has_back ? back_push(s, n->id) : 0;
		if (r == NODE_END) {
			s->chat->finished = 1;
			s->out->finished = 1;
			return 0;
		}
		if (r < 0)
			return -1;
		idx = r;
	}
}

/* The chat leaves its node by a command or an intent, not by an answer:
 * an ephemeral node's messages go as after an answer. Returns 0 or -1. */
static int engine_leave(struct step *s)
{
	int cur = s->chat->finished ? -1 : flow_find(s->flow, s->chat->node);
	return cur >= 0 ? life_leave(s, &s->flow->nodes[cur]) : 0;
}

static int engine_restart(struct step *s, const char *payload, size_t len)
{
	json_object *ctx = json_object_new_object();
	if (ctx == NULL || engine_leave(s) != 0) {
		json_object_put(ctx);
		return -1;
	}
	json_object_put(s->chat->ctx);
	s->chat->ctx = ctx;
	s->chat->finished = 0;
	if (len && step_save(s, "start_param", payload, len) < 0)
		return -1;
	s->out->outcome = ENGINE_ADVANCED;
	return engine_goto(s, s->flow->start);
}

const char *engine_outcome_name(enum engine_outcome o)
{
	static const char *const names[] = {
		"ignored", "advanced", "stayed", "stale", "finished", "limit", "expired",
		"forgotten", "malformed", "reminded"
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
	if ((r == NODE_SAME || r == NODE_STAY) && life_mark_stay(s, n, mark) != 0)
		return -1;
	if (r == NODE_END) {
		if (life_leave(s, n) != 0)
			return -1;
		s->chat->finished = 1;
		s->out->finished = 1;
		s->out->outcome = ENGINE_ADVANCED;
		return 0;
	}
	if (r == NODE_SAME) {
		s->out->outcome = ENGINE_STAYED;
		return 0;
	}
	if (r == NODE_STAY) {
		s->chat->attempts++;
		s->out->outcome = ENGINE_STAYED;
		if (n->max_attempts && s->chat->attempts >= n->max_attempts) {
			/* no "try again" when there is no again */
			engine_drop_calls(s->out, mark);
			s->out->outcome = ENGINE_ADVANCED;
			if (life_leave(s, n) != 0)
				return -1;
			return engine_goto(s, n->on_max_attempts);
		}
		return 0;
	}
	s->out->outcome = ENGINE_ADVANCED;
	if (life_leave(s, n) != 0)
		return -1;
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
		if (engine_leave(s) != 0)
			return -1;
		s->chat->finished = 0;
		s->out->outcome = ENGINE_ADVANCED;
		return engine_goto(s, f->commands[i].node) ? -1 : 1;
	}
	return 0;
}

/* The Back button at node cur: to the previous waiting node of the
 * chat's path, or cur again when there is none. */
static int engine_back(struct step *s, int cur)
{
	int to = back_pop(s, s->flow->nodes[cur].id);
	if (to == NODE_FAIL)
		return -1;
	s->out->outcome = ENGINE_ADVANCED;
	if (life_leave(s, &s->flow->nodes[cur]) != 0)
		return -1;
	return engine_goto(s, to >= 0 ? to : cur);
}

/* Whether the text is the Back button of node n (a reply keyboard's
 * button sends its label). Returns 1, 0, or -1 when memory runs out. */
static int engine_typed_back(struct step *s, const struct flow_node *n)
{
	if (!n->back || s->u->text == NULL)
		return 0;
	if (step_back_label(s, &s->text) != 0)
		return -1;
	return s->text.p && strcmp(s->text.p, s->u->text) == 0;
}

/* A keyword intent (intent.h) on a text that the chat's node takes no
 * typed answer for, or that comes after the flow ended. Returns 1 when
 * one took the chat to its node, 0 when none did, -1 on failure. */
static int engine_intent(struct step *s)
{
	int cur = s->chat->finished ? -1 : flow_find(s->flow, s->chat->node);
	int to;

	if (s->flow->n_intents == 0 || s->u->text == NULL ||
	    (!s->chat->finished && (cur < 0 || s->flow->nodes[cur].type->takes_text ||
	    s->flow->nodes[cur].type->handle == NULL)))
		return 0;
	to = intent_match(s);
	if (to == NODE_FAIL || (to >= 0 && engine_leave(s) != 0))
		return -1;
	if (to < 0)
		return 0;
	s->chat->finished = 0;
	s->out->outcome = ENGINE_ADVANCED;
	return engine_goto(s, to) ? -1 : 1;
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
		rc = engine_intent(s);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
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
	rc = engine_typed_back(s, &s->flow->nodes[cur]);
	if (rc != 0)
		return rc < 0 ? -1 : engine_back(s, cur);
	rc = engine_intent(s);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
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

/* The node whose button has the callback data NODE|KEY split at bar,
 * with the button's key in *key; -1 when the flow has no such button. */
static int engine_button(const struct flow *f, const char *data,
	const char *bar, const char **key)
{
	char id[FLOW_ID_MAX + 1];
	const struct flow_node *n;
	int at;

	*key = NULL;
	if (bar == data || (size_t)(bar - data) > FLOW_ID_MAX)
		return -1;
	memcpy(id, data, (size_t)(bar - data));
	id[bar - data] = '\0';
	at = flow_find(f, id);
	if (at < 0)
		return -1;
	n = &f->nodes[at];
	if (n->back && strcmp(bar + 1, STEP_BACK_DATA) == 0)
		*key = STEP_BACK_DATA;
	else
		*key = n->type->press ? n->type->press(n, bar + 1) : NULL;
	return *key ? at : -1;
}


/* The choice key of a press on the keyboard of the chat's current node
 * (*cur set to the node). NULL with *why set when there is none:
 * ENGINE_MALFORMED when the flow has no such button (the data is not
 * NODE|KEY, or names no node or no key of it: an older version of the
 * flow made it, or someone else), ENGINE_STALE when the button is the
 * flow's but the chat is not at its node (an old keyboard). Ids and keys
 * may hold '|', so each '|' is tried. */
static const char *engine_pressed(struct step *s, int *cur, enum engine_outcome *why)
{
	const char *data = s->data, *key;

	*cur = -1;
	*why = ENGINE_MALFORMED;
	for (const char *bar = data ? strchr(data, '|') : NULL; bar;
	     bar = strchr(bar + 1, '|')) {
		int at = engine_button(s->flow, data, bar, &key);
		if (at < 0)
			continue;
		*why = ENGINE_STALE;
		if (s->flow->nodes[at].type->anywhere ||
		    (!s->chat->finished && strcmp(s->chat->node, s->flow->nodes[at].id) == 0)) {
			*cur = at;
			return key;
		}
	}
	return NULL;
}

/* A press on a menu (n) while the chat is elsewhere: the chat leaves its
 * node (and its ephemeral messages go) or its ended flow, for the
 * button's node. */
static int engine_menu_away(struct step *s, const struct flow_node *n)
{
	int to = n->type->handle(s, n);

	if (to < 0)
		return to == NODE_FAIL ? -1 : 0;
	if (engine_leave(s) != 0)
		return -1;
	s->chat->finished = 0;
	s->out->outcome = ENGINE_ADVANCED;
	return engine_goto(s, to);
}

/* The member a button's data "MEMBER:NODE|KEY" was made for, with *rest
 * after the ':'; 0 (and *rest data) when it names none. */
static long long engine_data_member(const char *data, const char **rest)
{
	long long m = 0;
	const char *p = data;

	*rest = data;
	if (data == NULL)
		return 0;
	for (; *p >= '0' && *p <= '9' && p - data < FLOW_MEMBER_DATA - 1; p++)
		m = m * 10 + (*p - '0');
	if (p == data || *p != ':' || m == 0)
		return 0;
	*rest = p + 1;
	return m;
}

long long engine_member(const struct flow *f, const struct update *u)
{
	const char *rest;
	long long m;

	if (!f->scope_user || u->chat_type == NULL || strcmp(u->chat_type, "private") == 0)
		return 0;
	m = u->kind == UPDATE_CALLBACK_QUERY ?
		engine_data_member(u->callback_data, &rest) : 0;
	return m ? m : u->from.id;
}

/* Puts "MEMBER:" before the callback data of each button of rows (an
 * inline keyboard). Returns 0, or -1 when memory runs out. */
static int engine_own_keyboard(json_object *rows, long long member)
{
	char data[FLOW_MEMBER_DATA + FLOW_CALLBACK_MAX + 1];

	for (size_t r = 0; r < json_object_array_length(rows); r++) {
		json_object *row = json_object_array_get_idx(rows, r);
		for (size_t b = 0; b < json_object_array_length(row); b++) {
			json_object *d;
			if (!json_object_object_get_ex(json_object_array_get_idx(row, b),
			    "callback_data", &d))
				continue;
			snprintf(data, sizeof(data), "%lld:%s", member, json_object_get_string(d));
			if (json_object_set_string(d, data) == 0)
				return -1;
		}
	}
	return 0;
}

/* A member's state: the buttons of its calls to the chat say whose they
 * are ("MEMBER:" before NODE|KEY), so that another member's press is
 * told apart (engine_callback). */
static int engine_own_buttons(struct step *s)
{
	for (unsigned i = 0; s->chat->member && i < s->out->n_calls; i++) {
		json_object *markup, *rows;
		if (s->out->calls[i].chat_id == 0 &&
		    json_object_object_get_ex(s->out->calls[i].params, "reply_markup", &markup) &&
		    json_object_object_get_ex(markup, "inline_keyboard", &rows) &&
		    engine_own_keyboard(rows, s->chat->member) != 0)
			return -1;
	}
	return 0;
}

/* A press on a button made for another member: told so, nothing else. */
static int engine_not_yours(struct step *s)
{
	const struct flow_text *t = step_override(s->flow->msgs, s->flow->n_msgs,
		"not_yours");

	s->out->outcome = ENGINE_STALE;
	if (t == NULL)
		return engine_answer_callback(s, "This question is for another member.");
	if (step_render_plain(s, t, &s->text) != 0)
		return -1;
	return engine_answer_callback(s, s->text.p ? s->text.p : "");
}

static int engine_callback(struct step *s)
{
	enum engine_outcome why;
	const struct flow_text *t;
	const struct flow_node *n;
	int cur;

	if (s->u->callback_id == NULL)
		return 0;
	if (!s->u->has_chat)
		return engine_answer_callback(s, NULL);
	if (s->chat->member && engine_data_member(s->u->callback_data, &s->data) &&
	    s->chat->member != s->u->from.id)
		return engine_not_yours(s);
	s->press = engine_pressed(s, &cur, &why);
	if (s->press == NULL) {
		int stale = why == ENGINE_STALE;
		s->out->outcome = why;
		t = step_override(s->flow->msgs, s->flow->n_msgs,
			stale ? "stale_button" : "malformed_button");
		if (t == NULL)
			return engine_answer_callback(s, stale ?
				"This button is no longer active." :
				"This button belongs to an older version of this bot; "
				"please use the latest message.");
		if (step_render_plain(s, t, &s->text) != 0)
			return -1;
		return engine_answer_callback(s, s->text.p ? s->text.p : "");
	}
	if (engine_answer_callback(s, NULL) != 0)
		return -1;
	n = &s->flow->nodes[cur];
	if (n->type->anywhere && (s->chat->finished || strcmp(s->chat->node, n->id) != 0))
		return engine_menu_away(s, n);
	if (strcmp(s->press, STEP_BACK_DATA) == 0)
		return step_remove_keyboard(s) ? -1 : engine_back(s, cur);
	if (n->type->pressed ? n->type->pressed(s, n) : step_remove_keyboard(s))
		return -1;
	return engine_after(s, n, n->type->handle(s, n), s->out->n_calls);
}

int engine_step(const struct flow *f, struct chat *chat,
	const struct update *u, const struct engine_env *env,
	struct step_out *out)
{
	struct step s;
	char lang[FLOW_LANG_MAX + 1];
	json_object *v;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.flow = f;
	s.chat = chat;
	s.u = u;
	s.env = env;
	s.out = out;
	s.lang = u->from.language_code ? u->from.language_code : "";
	if (f->lang_key && json_object_object_get_ex(chat->ctx, f->lang_key, &v)) {
		/* a copy: the context may change under it */
		snprintf(lang, sizeof(lang), "%s", json_object_get_string(v));
		s.lang = lang;
	}
	buf_init(&s.text, ENGINE_TEXT_MAX);
	out->outcome = ENGINE_IGNORED;
	snprintf(out->node_from, sizeof(out->node_from), "%s", chat->node);
	s.data = u->callback_data;
	if (u->kind == UPDATE_CALLBACK_QUERY)
		rc = engine_callback(&s);
	else if (engine_takes(u))
		rc = engine_message(&s);
	if (rc == 0)
		rc = engine_own_buttons(&s);
	buf_free(&s.text);
	return rc;
}

/* --- a timer's step --- */

/* Why timer t no longer applies to the chat, or NULL when it does. */
static const char *engine_fire_stale(const struct flow *f, const struct chat *c,
	const struct timer *t, const struct flow_node *n, long long now_ms)
{
	if (c->node[0] == '\0' || c->finished)
		return "the chat is not in the flow";
	if (n == NULL)
		return "the chat's node is gone from the flow";
	if (t->kind == TIMER_INACTIVE)
		return f->inactive_after > 0 && f->on_inactive >= 0 ? NULL :
			"the flow has no inactive_after";
	if (strcmp(c->node, t->node) != 0)
		return "the chat is on another node";
	if (t->kind == TIMER_REMIND && n->remind_after <= 0)
		return "the node has no remind_after";
	if (t->kind == TIMER_REMIND && n->timeout > 0 &&
	    now_ms >= t->visit + n->timeout * 1000LL)
		return "the node's timeout is due: the reminder is dropped for it";
	if (t->kind == TIMER_TIMEOUT && n->timeout <= 0)
		return "the node has no timeout";
	if (t->kind == TIMER_SEND_AT && n->send_at <= 0)
		return "the node has no send_at";
	if (t->kind == TIMER_HTTP && n->type != &node_http)
		return "the node is no http node";
	return NULL;
}

/* An http node's answer (s->env->http) at n. */
static int engine_fire_http(struct step *s, const struct flow_node *n)
{
	int to = http_node_answer(s, n, s->env->http);

	if (to == NODE_FAIL)
		return -1;
	if (to == NODE_STAY) {
		s->out->outcome = ENGINE_STAYED;
		return 0;
	}
	if (to == NODE_END) {
		s->chat->finished = 1;
		return 0;
	}
	return engine_goto(s, to);
}

/* What timer t does to the chat at node n. */
static int engine_fire_kind(struct step *s, const struct timer *t,
	const struct flow_node *n)
{
	unsigned mark = s->out->n_calls;

	s->out->outcome = ENGINE_ADVANCED;
	switch (t->kind) {
	case TIMER_REMIND:
		s->out->outcome = ENGINE_REMINDED;
		if (n->reminder.n ? step_send(s, &n->reminder, NULL) != 0 :
		    n->type->enter(s, n) == NODE_FAIL)
			return -1;
		return life_mark_stay(s, n, mark);
	case TIMER_TIMEOUT:
		if (life_leave(s, n) != 0)
			return -1;
		if (n->on_timeout >= 0)
			return engine_goto(s, n->on_timeout);
		s->chat->finished = 1;
		return s->flow->timeout_text.n ? step_send(s, &s->flow->timeout_text, NULL) : 0;
	case TIMER_INACTIVE:
		return engine_goto(s, s->flow->on_inactive);
	case TIMER_HTTP:
		return engine_fire_http(s, n);
	default:   /* TIMER_SEND_AT: the cutscene's message, then on */
		if (step_show(s, n, NULL) != 0)
			return -1;
		if (n->next >= 0)
			return engine_goto(s, n->next);
		s->chat->finished = 1;
		return 0;
	}
}

int engine_fire(const struct flow *f, struct chat *chat, const struct timer *t,
	long long now_ms, const struct engine_env *env, struct step_out *out)
{
	struct update none;
	struct step s;
	const struct flow_node *n = flow_node(f, chat->node);
	const char *stale;
	int rc = 0;

	memset(&none, 0, sizeof(none));
	none.has_chat = 1;
	none.chat_id = chat->chat_id;
	none.from.id = chat->member;
	memset(&s, 0, sizeof(s));
	s.flow = f;
	s.chat = chat;
	s.u = &none;
	s.env = env;
	s.out = out;
	s.lang = "";
	out->outcome = ENGINE_IGNORED;
	snprintf(out->node_from, sizeof(out->node_from), "%s", chat->node);
	if (t->kind == TIMER_DELETE) {
		/* whatever the chat does now, the messages go */
		out->outcome = ENGINE_STAYED;
		return life_delete(&s, t->node);
	}
	stale = engine_fire_stale(f, chat, t, n, now_ms);
	if (stale) {
		snprintf(out->warning, sizeof(out->warning), "%s timer dropped: %s",
			timer_kind_name(t->kind), stale);
		return 0;
	}
	buf_init(&s.text, ENGINE_TEXT_MAX);
	rc = engine_fire_kind(&s, t, n);
	if (rc == 0)
		rc = engine_own_buttons(&s);
	buf_free(&s.text);
	return rc;
}
