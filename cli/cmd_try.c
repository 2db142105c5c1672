/* cmd_try.c - `blueflow try FLOW.json`: plays a flow in the terminal as
 * one private chat. The author types; the bot's messages and buttons are
 * printed; lines starting with ':' simulate what a keyboard cannot. The
 * timers a step arms are kept as the store would keep them and fire on
 * :wait (the clock jumps to the first); an http node's call is not made
 * (there is no bot config, so no http_allow, and a try-out should reach
 * no real service): its request is shown and :http gives the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/buf.h"
#include "engine/diag.h"
#include "engine/engine.h"
#include "engine/flow.h"
#include "engine/http.h"
#include "engine/node_http.h"
#include "engine/timer.h"
#include "engine/update.h"

#define TRY_CHAT 1000
#define TRY_TIMERS 32

struct try_session {
	const struct flow *flow;
	struct chat chat;
	struct engine_env env;
	long long update_id;
	long long message_id;
	long long last_keyboard;     /* message id of the last inline keyboard */
	const char *lang;
	FILE *out;
	struct timer timers[TRY_TIMERS]; /* armed, as the store keeps them */
	unsigned n_timers;
	long long timer_ids;
	long long skew_ms;           /* how far :wait moved the clock ahead */
};

static void try_usage(FILE *f)
{
	fprintf(f, "usage: blueflow try [--lang CODE] FLOW.json\n\n"
		"Plays the flow in the terminal as one private chat: type answers as\n"
		"the user would; the bot's messages and buttons are printed.\n\n"
		"  :press KEY          press the button KEY of the last keyboard\n"
		"  :voice SECONDS      send a voice note that long\n"
		"  :file MIME BYTES    send a document of that type and size\n"
		"  :user NAME          share a user (as the \"choose a user\" button does)\n"
		"  :wait               let time pass until the next timer (a reminder,\n"
		"                      a timeout...) and fire it\n"
		"  :http STATUS [JSON] the answer of the http call pending (none is\n"
		"                      made), e.g. :http 200 {\"id\": 7}\n"
		"  :http fail          the call pending failed (no answer)\n"
		"  :state              show the current node and saved values\n"
		"  :restart            same as /start\n"
		"  :quit               leave (end of input does too)\n\n"
		"  --lang CODE         the user's language_code (default en)\n\n"
		"Nothing is sent to Telegram; uploads are not downloaded; http nodes\n"
		"call nothing (their request is shown; answer with :http).\n");
}

static int try_fetch(void *arg, const struct attach_req *req, char *path,
	size_t pathlen)
{
	(void)arg;
	snprintf(path, pathlen, "attach/%lld/%lld-%s", req->chat_id,
		req->update_id, req->file->file_unique_id);
	return 0;
}

/* Prints HTML as terminal text: tags dropped, entities decoded. */
static void try_print_html(FILE *out, const char *s)
{
	static const struct { const char *ent, *ch; } ents[] = {
		{ "&lt;", "<" }, { "&gt;", ">" }, { "&amp;", "&" }, { "&quot;", "\"" },
	};
	while (*s) {
		size_t i;
		if (*s == '<') {
			const char *end = strchr(s, '>');
			if (end) {
				s = end + 1;
				continue;
			}
		}
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t n = strlen(ents[i].ent);
			if (strncmp(s, ents[i].ent, n) == 0) {
				fputs(ents[i].ch, out);
				s += n;
				break;
			}
		}
		if (i == sizeof(ents) / sizeof(ents[0]))
			fputc(*s++, out);
	}
}

static void try_print_markup(struct try_session *t, json_object *markup)
{
	json_object *rows, *v;
	if (json_object_object_get_ex(markup, "inline_keyboard", &rows)) {
		t->last_keyboard = t->message_id;
		for (size_t r = 0; r < json_object_array_length(rows); r++) {
			json_object *row = json_object_array_get_idx(rows, r);
			fputs("     ", t->out);
			for (size_t b = 0; b < json_object_array_length(row); b++) {
				json_object *btn = json_object_array_get_idx(row, b), *text, *data;
				const char *d;
				json_object_object_get_ex(btn, "text", &text);
				json_object_object_get_ex(btn, "callback_data", &data);
				d = strchr(json_object_get_string(data), '|');
				fprintf(t->out, " [%s] %s", d ? d + 1 : "?", json_object_get_string(text));
			}
			fputc('\n', t->out);
		}
		fputs("      (answer with :press KEY)\n", t->out);
	} else if (json_object_object_get_ex(markup, "keyboard", &rows)) {
		fputs("      (a \"choose a user\" button: answer with :user NAME)\n", t->out);
	} else if (json_object_object_get_ex(markup, "remove_keyboard", &v)) {
		fputs("      (keyboard removed)\n", t->out);
	}
}

static void try_print_calls(struct try_session *t, const struct step_out *o)
{
	for (unsigned i = 0; i < o->n_calls; i++) {
		const struct engine_call *c = &o->calls[i];
		json_object *v;
		if (strcmp(c->method, "sendMessage") == 0) {
			t->message_id++;
			json_object_object_get_ex(c->params, "text", &v);
			fputs("bot> ", t->out);
			try_print_html(t->out, json_object_get_string(v));
			fputc('\n', t->out);
			if (json_object_object_get_ex(c->params, "reply_markup", &v))
				try_print_markup(t, v);
		} else if (strcmp(c->method, "answerCallbackQuery") == 0) {
			if (json_object_object_get_ex(c->params, "text", &v))
				fprintf(t->out, "     (popup: %s)\n", json_object_get_string(v));
		} else if (strcmp(c->method, "editMessageReplyMarkup") == 0) {
			fputs("     (buttons removed)\n", t->out);
		} else {
			fprintf(t->out, "     (%s)\n", c->method);
		}
	}
}

static long long try_now(const struct try_session *t)
{
	return timer_now_ms() + t->skew_ms;
}

/* What the bot's background process would do with timer a, armed. */
static void try_timer_note(struct try_session *t, const struct timer *a)
{
	const struct flow_node *n = flow_node(t->flow, a->node);
	struct http_request rq;
	char why[200];

	if (a->kind != TIMER_HTTP) {
		fprintf(t->out, "     (timer: %s in %lld s; :wait fires it)\n",
			timer_kind_name(a->kind), (a->due_ms - try_now(t) + 999) / 1000);
		return;
	}
	memset(&rq, 0, sizeof(rq));
	if (n == NULL || http_node_request(t->flow, n, &t->chat, &rq, why, sizeof(why)) != 0)
		fprintf(t->out, "     (http: the request cannot be made: %s)\n", why);
	else
		fprintf(t->out, "     (http: the bot would now call %s %s%s%s;\n"
			"      try calls nothing: answer with :http STATUS [JSON], e.g. "
			":http 200 {\"id\": 7}, or :http fail)\n", rq.method, rq.url,
			rq.body ? " with " : "", rq.body ? rq.body : "");
	http_request_free(&rq);
}

/* The chat's timers after a step (fired: the timer it ran for, gone
 * now), as the store would change them; a note on each one armed. */
static void try_timers(struct try_session *t, const struct step_out *o,
	const struct timer *fired)
{
	struct timer_plan p;
	unsigned k = 0;

	timer_plan(t->flow, &t->chat, o, fired, fired == NULL, try_now(t), &p);
	for (unsigned i = 0; i < t->n_timers; i++)
		if (!(p.cancel & (1u << t->timers[i].kind)))
			t->timers[k++] = t->timers[i];
	t->n_timers = k;
	for (unsigned i = 0; i < p.n_arms && t->n_timers < TRY_TIMERS; i++) {
		struct timer *a = &t->timers[t->n_timers++];
		*a = p.arms[i];
		a->id = ++t->timer_ids;
		try_timer_note(t, a);
	}
}

/* Prints what a step did. */
static void try_show(struct try_session *t, const struct step_out *o)
{
	try_print_calls(t, o);
	if (o->outcome == ENGINE_MALFORMED)
		fputs("     (no button has that key here: :press a key shown in [ ])\n", t->out);
	if (o->warning[0])
		fprintf(t->out, "     (warning: %s)\n", o->warning);
	if (t->chat.finished)
		fputs("     (the flow has finished; /start plays it again)\n", t->out);
}

/* Fires the first pending timer of kind http (http set) or of any other
 * kind (http NULL), as the background process would. */
static int try_fire(struct try_session *t, const struct http_answer *http)
{
	struct timer fired;
	struct step_out o;
	int first = -1, rc;

	for (unsigned i = 0; i < t->n_timers; i++)
		if ((t->timers[i].kind == TIMER_HTTP) == (http != NULL) &&
		    (first < 0 || t->timers[i].due_ms < t->timers[first].due_ms))
			first = (int)i;
	if (first < 0) {
		fputs(http ? "     (no http call is pending)\n" :
			"     (no timer is pending)\n", t->out);
		return 0;
	}
	fired = t->timers[first];
	t->timers[first] = t->timers[--t->n_timers];
	if (fired.due_ms > try_now(t))
		t->skew_ms += fired.due_ms - try_now(t);
	fprintf(t->out, "     (%s timer fires)\n", timer_kind_name(fired.kind));
	t->env.http = http;
	step_out_init(&o);
	rc = engine_fire(t->flow, &t->chat, &fired, try_now(t), &t->env, &o);
	t->env.http = NULL;
	if (rc == 0) {
		try_show(t, &o);
		try_timers(t, &o, &fired);
	}
	step_out_free(&o);
	return rc;
}

/* ":http STATUS [JSON]" or ":http fail": the pending call's answer. */
static int try_http(struct try_session *t, const char *arg)
{
	struct http_answer a;
	char *end;
	int rc;

	memset(&a, 0, sizeof(a));
	a.status = strtol(arg, &end, 10);
	if (strcmp(arg, "fail") == 0) {
		a.status = 0;
		snprintf(a.why, sizeof(a.why), "no answer (:http fail)");
	} else if (end == arg || a.status < 100 || a.status > 599) {
		fputs("     (write :http STATUS [JSON], e.g. :http 200 {\"id\": 7}, "
			"or :http fail)\n", t->out);
		return 0;
	} else {
		a.ok = a.status >= 200 && a.status < 300;
		if (!a.ok)
			snprintf(a.why, sizeof(a.why), "the service answered %ld", a.status);
		end += strspn(end, " ");
		a.body = strdup(end);
		a.len = a.body ? strlen(a.body) : 0;
	}
	rc = try_fire(t, &a);
	http_answer_free(&a);
	return rc;
}

/* Wraps the inner JSON of a message or callback into an Update, runs it. */
static int try_run(struct try_session *t, const char *kind, json_object *inner)
{
	json_object *upd = json_object_new_object(), *from = json_object_new_object();
	struct update u;
	struct step_out o;
	char err[256];
	const char *body;
	int rc;

	json_object_object_add(from, "id", json_object_new_int64(TRY_CHAT));
	json_object_object_add(from, "is_bot", json_object_new_boolean(0));
	json_object_object_add(from, "first_name", json_object_new_string("Author"));
	json_object_object_add(from, "language_code", json_object_new_string(t->lang));
	json_object_object_add(inner, "from", from);
	json_object_object_add(upd, "update_id", json_object_new_int64(++t->update_id));
	json_object_object_add(upd, kind, inner);
	body = json_object_to_json_string_ext(upd, JSON_C_TO_STRING_PLAIN);
	rc = update_parse(body, strlen(body), &u, err, sizeof(err));
	json_object_put(upd);
	if (rc != 0) {
		fprintf(t->out, "     (could not build the update: %s)\n", err);
		return 0;
	}
	step_out_init(&o);
	rc = engine_step(t->flow, &t->chat, &u, &t->env, &o);
	if (rc == 0) {
		try_show(t, &o);
		try_timers(t, &o, NULL);
	}
	step_out_free(&o);
	update_free(&u);
	return rc;
}

static json_object *try_message(struct try_session *t)
{
	json_object *m = json_object_new_object(), *chat = json_object_new_object();
	json_object_object_add(chat, "id", json_object_new_int64(TRY_CHAT));
	json_object_object_add(chat, "type", json_object_new_string("private"));
	json_object_object_add(m, "message_id", json_object_new_int64(++t->message_id));
	json_object_object_add(m, "date", json_object_new_int64(0));
	json_object_object_add(m, "chat", chat);
	return m;
}

static json_object *try_file(long long n, const char *mime, long long size,
	long long duration)
{
	json_object *f = json_object_new_object();
	char id[32];
	snprintf(id, sizeof(id), "file%lld", n);
	json_object_object_add(f, "file_id", json_object_new_string(id));
	json_object_object_add(f, "file_unique_id", json_object_new_string(id));
	if (mime)
		json_object_object_add(f, "mime_type", json_object_new_string(mime));
	json_object_object_add(f, "file_size", json_object_new_int64(size));
	if (duration >= 0)
		json_object_object_add(f, "duration", json_object_new_int64(duration));
	return f;
}

static void try_state(struct try_session *t)
{
	fprintf(t->out, "     node \"%s\"%s, %d failed answers here\n     saved: %s\n",
		t->chat.node, t->chat.finished ? " (finished)" : "", t->chat.attempts,
		json_object_to_json_string_ext(t->chat.ctx, JSON_C_TO_STRING_PLAIN |
			JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Runs one input line; returns 1 to quit, -1 on failure. */
static int try_line(struct try_session *t, char *line)
{
	json_object *m;
	char arg1[128];
	long long n;

	if (strcmp(line, ":quit") == 0 || strcmp(line, ":q") == 0)
		return 1;
	if (strcmp(line, ":state") == 0) {
		try_state(t);
		return 0;
	}
	if (strcmp(line, ":wait") == 0)
		return try_fire(t, NULL) < 0 ? -1 : 0;
	if (strncmp(line, ":http ", 6) == 0)
		return try_http(t, line + 6) < 0 ? -1 : 0;
	if (strcmp(line, ":restart") == 0)
		line = "/start";
	if (strncmp(line, ":press ", 7) == 0) {
		char data[160];
		json_object *cb = json_object_new_object(), *msg = try_message(t);
		t->message_id--;
		json_object_object_add(msg, "message_id", json_object_new_int64(t->last_keyboard));
		snprintf(data, sizeof(data), "%s|%s", t->chat.node, line + 7);
		json_object_object_add(cb, "id", json_object_new_string("try"));
		json_object_object_add(cb, "message", msg);
		json_object_object_add(cb, "chat_instance", json_object_new_string("try"));
		json_object_object_add(cb, "data", json_object_new_string(data));
		return try_run(t, "callback_query", cb);
	}
	m = try_message(t);
	if (sscanf(line, ":voice %lld", &n) == 1) {
		json_object_object_add(m, "voice", try_file(t->message_id, "audio/ogg", n * 4000, n));
	} else if (sscanf(line, ":file %127s %lld", arg1, &n) == 2) {
		json_object *d = try_file(t->message_id, arg1, n, -1);
		json_object_object_add(d, "file_name", json_object_new_string("upload"));
		json_object_object_add(m, "document", d);
	} else if (sscanf(line, ":user %127s", arg1) == 1) {
		json_object *shared = json_object_new_object(), *users = json_object_new_array();
		json_object *user = json_object_new_object();
		json_object_object_add(user, "user_id", json_object_new_int64(777));
		json_object_object_add(user, "username", json_object_new_string(arg1[0] == '@' ? arg1 + 1 : arg1));
		json_object_array_add(users, user);
		json_object_object_add(shared, "request_id", json_object_new_int(1));
		json_object_object_add(shared, "users", users);
		json_object_object_add(m, "users_shared", shared);
	} else if (line[0] == ':') {
		json_object_put(m);
		fputs("     (unknown command; :press KEY, :voice SECONDS, :file MIME "
			"BYTES, :user NAME, :wait, :http STATUS [JSON], :state, :restart, "
			":quit)\n", t->out);
		return 0;
	} else {
		json_object_object_add(m, "text", json_object_new_string(line));
	}
	return try_run(t, "message", m);
}

int cmd_try(int argc, char **argv)
{
	const struct attach_ops attach = { try_fetch, NULL };
	struct try_session t;
	struct flow *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int i, rc = CMD_OK;

	memset(&t, 0, sizeof(t));
	t.lang = "en";
	t.out = stdout;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			try_usage(stdout);
			return CMD_OK;
		} else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
			t.lang = argv[++i];
		} else {
			try_usage(stderr);
			return CMD_USAGE;
		}
	}
	if (argc - i != 1) {
		try_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_flow(argv[i], &f) != 0)
		return CMD_FAIL;
	if (chat_init(&t.chat, TRY_CHAT) != 0) {
		flow_free(f);
		return CMD_FAIL;
	}
	t.flow = f;
	t.env.attach = &attach;
	fprintf(t.out, "Playing %s (%u nodes). Type as the user; :quit to leave.\n",
		argv[i], f->n_nodes);
	if (try_line(&t, "/start") < 0)
		rc = CMD_FAIL;
	while (rc == CMD_OK) {
		int r;
		fputs("you> ", t.out);
		fflush(t.out);
		len = getline(&line, &cap, stdin);
		if (len < 0)
			break;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (!isatty(STDIN_FILENO))
			fprintf(t.out, "%s\n", line);   /* a script: show what was "typed" */
		r = try_line(&t, line);
		if (r < 0)
			rc = CMD_FAIL;
		if (r != 0)
			break;
	}
	fputc('\n', t.out);
	free(line);
	chat_free(&t.chat);
	flow_free(f);
	return rc;
}
