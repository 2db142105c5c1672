/* cmd_replay.c - `blueflow replay FLOW.json UPDATES.jsonl`: runs updates
 * through the engine with chats kept in memory and prints each Bot API
 * call as one JSON line, then every chat's final state. Same input, same
 * bytes out: the golden tests of flows rest on it. Updates go through
 * apply_update() on the memory store, as a webhook's go through the real
 * ones. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/apply.h"
#include "engine/buf.h"
#include "engine/diag.h"
#include "engine/engine.h"
#include "engine/flow.h"
#include "engine/jdoc.h"
#include "engine/store.h"
#include "engine/tick.h"
#include "engine/update.h"

#define REPLAY_BOT "replay"

static void replay_usage(FILE *f)
{
	fprintf(f, "usage: blueflow replay [--bot NAME] [--admin-chat ID] [--trace] FLOW.json UPDATES.jsonl\n\n"
		"Runs each line of UPDATES.jsonl (one Telegram Update per line; blank\n"
		"lines and lines starting with # are skipped) through the flow, with\n"
		"chats kept in memory, and prints every Bot API call as one JSON line,\n"
		"then one line per chat with its final state. A repeated update_id is\n"
		"applied once (its trace says \"repeat\"). Nothing is sent to Telegram and no file is downloaded:\n"
		"an upload is stored as attach/CHAT/UPDATE-FILE_UNIQUE_ID, and a file_id\n"
		"starting with \"fail\" simulates a download that failed, \"big\" a file\n"
		"over the limit once downloaded, \"fake\" content not of its type.\n\n"
		"Time: the timers' clock is the latest update's date; a line \"tick at\n"
		"T\" (unix seconds) moves it to T and fires every timer due by then\n"
		"(reminders, timeouts, nudges, send_at), each printed as its calls\n"
		"and, with --trace, a line {\"tick\":T,\"timer\":KIND,...}.\n\n"
		"HTTP: no call is made. A line \"http answer STATUS BODY\" is the\n"
		"answer of every http node call due (BODY: the rest of the line), and\n"
		"\"http answer fail WHY\" a call that failed; a tick fails them.\n\n"
		"  --bot NAME   the bot's username, so /start@NAME is ours and\n"
		"               /start@other is not (default: accept any)\n"
		"  --admin-chat ID  where notify nodes send (default: none; they\n"
		"               send nothing)\n"
		"  --trace      also print one line per update with its outcome\n"
		"  --now SECS   the clock, in unix seconds: messages sent over a day\n"
		"               before it are not applied (default: no clock)\n\n"
		"Exit status: 0 done, 1 invalid flow or unreadable file, 2 usage.\n\n"
		"Example:\n  blueflow replay flows/onboarding.json tests/flows/onboarding_happy/updates.jsonl\n");
}

static int replay_fetch(void *arg, const struct attach_req *req, char *path,
	size_t pathlen)
{
	static const struct { const char *prefix; int rc; const char *why; } fakes[] = {
		{ "fail", ATTACH_FAILED, "simulated: the download failed" },
		{ "big", ATTACH_TOO_BIG, "simulated: the file is over the limit" },
		{ "fake", ATTACH_WRONG_TYPE, "simulated: the content is not its type" },
	};
	(void)arg;
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++)
		if (strncmp(req->file->file_id, fakes[i].prefix, strlen(fakes[i].prefix)) == 0) {
			snprintf(req->why, req->whylen, "%s", fakes[i].why);
			return fakes[i].rc;
		}
	snprintf(path, pathlen, "attach/%lld/%lld-%s", req->chat_id, req->update_id,
		req->file->file_unique_id ? req->file->file_unique_id : "file");
	return 0;
}

static void replay_trace(const struct update *u, const struct apply_result *r,
	const char *to, struct buf *b)
{
	const struct step_out *o = &r->out;

	buf_reset(b);
	buf_addf(b, "{\"trace\":%lld,\"kind\":", u->update_id);
	jdoc_quote(b, u->kind_name ? u->kind_name : "", strlen(u->kind_name ? u->kind_name : ""));
	buf_addf(b, ",\"outcome\":\"%s\",\"from\":", apply_outcome_name(r));
	jdoc_quote(b, o->node_from, strlen(o->node_from));
	buf_adds(b, ",\"to\":");
	jdoc_quote(b, to ? to : "", strlen(to ? to : ""));
	if (o->warning[0]) {
		buf_adds(b, ",\"warning\":");
		jdoc_quote(b, o->warning, strlen(o->warning));
	}
	buf_adds(b, "}\n");
	fwrite(b->p, 1, b->len, stdout);
}

static int replay_chat(void *arg, const struct store_chat *sc)
{
	struct buf *b = arg;
	const struct chat *c = &sc->chat;
	const char *ctx = json_object_to_json_string_ext(c->ctx,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_reset(b);
	buf_addf(b, "{\"chat\":%lld,", c->chat_id);
	if (c->member)   /* a member's state (struct chat) */
		buf_addf(b, "\"member\":%lld,", c->member);
	buf_adds(b, "\"node\":");
	jdoc_quote(b, c->node, strlen(c->node));
	buf_addf(b, ",\"finished\":%s,\"attempts\":%d,\"context\":%s}\n",
		c->finished ? "true" : "false", c->attempts, ctx);
	fwrite(b->p, 1, b->len, stdout);
	return 0;
}

/* A button press on a message sent inline (no chat): answered, nothing
 * stored. */
static int replay_chatless(const struct flow *f, const struct update *u,
	const struct engine_env *env, struct step_out *out)
{
	struct chat none;
	int rc = chat_init(&none, 0);
	if (rc == 0)
		rc = engine_step(f, &none, u, env, out);
	chat_free(&none);
	return rc;
}

/* The replay's timers' clock, unix ms, and how to print. */
struct replay_clock {
	long long ms;
	int trace;
	struct buf *b;
};

/* Prints the calls of a step. Returns 0 or -1. */
static int replay_calls(const struct apply_result *r, struct buf *b)
{
	for (unsigned i = 0; !r->repeat && i < r->out.n_calls; i++) {
		buf_reset(b);
		if (engine_call_json(&r->out.calls[i], b) || buf_addc(b, '\n'))
			return -1;
		fwrite(b->p, 1, b->len, stdout);
	}
	return 0;
}

/* tick_run's report of one timer: its calls, and a trace line. */
static void replay_fired(void *arg, const struct timer *t, int rc,
	const struct apply_result *r, const struct store_err *e, long long late_ms)
{
	struct replay_clock *clk = arg;
	struct buf *b = clk->b;

	(void)late_ms;
	if (rc != STORE_OK) {
		fprintf(stderr, "blueflow replay: timer %lld: %s\n", t->id, e->msg);
		return;
	}
	replay_calls(r, b);
	if (!clk->trace)
		return;
	buf_reset(b);
	buf_addf(b, "{\"tick\":%lld,\"timer\":\"%s\",\"chat\":%lld,\"outcome\":\"%s\","
		"\"from\":", clk->ms / 1000, timer_kind_name(t->kind), t->chat_id,
		r->repeat ? "cancelled" : apply_outcome_name(r));
	jdoc_quote(b, r->out.node_from, strlen(r->out.node_from));
	buf_adds(b, ",\"to\":");
	jdoc_quote(b, r->node_to, strlen(r->repeat ? "" : r->node_to));
	if (r->out.warning[0]) {
		buf_adds(b, ",\"warning\":");
		jdoc_quote(b, r->out.warning, strlen(r->out.warning));
	}
	buf_adds(b, "}\n");
	fwrite(b->p, 1, b->len, stdout);
}

/* The answer an "http answer" line gives (NULL: a tick's, none). */
struct replay_http {
	const char *line;   /* "STATUS BODY" or "fail WHY" */
};

static void replay_http_answer(void *arg, const struct tick_bot *b, struct store *s,
	const struct timer *t, struct http_answer *a)
{
	const struct replay_http *h = arg;
	char *end;

	(void)b;
	(void)s;
	(void)t;
	if (h == NULL || h->line == NULL) {
		snprintf(a->why, sizeof(a->why), "replay makes no call; write an "
			"\"http answer\" line");
		return;
	}
	if (strncmp(h->line, "fail", 4) == 0) {
		snprintf(a->why, sizeof(a->why), "%s", h->line[4] ? h->line + 5 : "failed");
		return;
	}
	a->status = strtol(h->line, &end, 10);
	end += strspn(end, " ");
	a->body = strdup(end);
	a->len = a->body ? strlen(a->body) : 0;
	a->ok = a->status >= 200 && a->status < 300;
	if (!a->ok)
		snprintf(a->why, sizeof(a->why), "the service answered %ld", a->status);
}

/* "tick at T": the clock moves to T (never back) and the timers due by
 * then fire. Returns 0, or -1 when the line is not one or the store
 * failed. */
static int replay_tick(const struct flow *f, struct store *s, struct engine_env *env,
	const char *line, unsigned long lineno, struct replay_clock *clk)
{
	struct tick_bot bot = { .name = REPLAY_BOT, .flow = f, .http = replay_http_answer };
	struct replay_http h = { NULL };
	struct engine_env tenv = *env;
	struct store_err e;
	char *end;
	long long t;
	int fired;

	if (strncmp(line, "http answer ", 12) == 0) {
		h.line = line + 12;
		bot.http_arg = &h;
		if (strncmp(h.line, "fail", 4) && (h.line[0] < '1' || h.line[0] > '5')) {
			fprintf(stderr, "blueflow replay: line %lu: write \"http answer "
				"STATUS BODY\" or \"http answer fail WHY\"\n", lineno);
			return -1;
		}
		t = clk->ms / 1000;
	} else {
		t = strtoll(line + 8, &end, 10);
		if (end == line + 8 || *end != '\0')
			t = 0;
	}
	if (t <= 0) {
		fprintf(stderr, "blueflow replay: line %lu: write \"tick at T\", T in unix "
			"seconds\n", lineno);
		return -1;
	}
	if (t * 1000 > clk->ms)
		clk->ms = t * 1000;
	if (tick_run(s, &bot, 1, "replay", clk->ms, 1 << 20, STORE_TAKE_ALL,
	    &tenv, replay_fired, clk,
	    &fired, &e) != STORE_OK) {
		fprintf(stderr, "blueflow replay: line %lu: %s\n", lineno, e.msg);
		return -1;
	}
	return 0;
}

/* Runs one update line. Returns 0, or -1 when the store failed. */
static int replay_line(const struct flow *f, struct store *s,
	const struct engine_env *env, const char *line, size_t len,
	unsigned long lineno, struct replay_clock *clk, struct buf *b)
{
	struct apply_job job = { .bot = REPLAY_BOT, .flow = f, .env = env, .inline_reply = 1 };
	int trace = clk->trace;
	struct apply_result r;
	struct store_err e;
	struct update u;
	const char *node;
	char err[256];
	int rc = 0;

	if (update_parse(line, len, &u, err, sizeof(err)) != 0) {
		buf_reset(b);
		buf_addf(b, "{\"line\":%lu,\"error\":", lineno);
		jdoc_quote(b, err, strlen(err));
		buf_adds(b, "}\n");
		fwrite(b->p, 1, b->len, stdout);
		return 0;
	}
	job.u = &u;
	if (u.date * 1000 > clk->ms)
		clk->ms = u.date * 1000;
	job.now_ms = clk->ms > 0 ? clk->ms : 1;
	apply_result_init(&r);
	node = u.has_chat ? store_memory_node(s, REPLAY_BOT, u.chat_id,
		engine_member(f, &u)) : NULL;
	snprintf(r.out.node_from, sizeof(r.out.node_from), "%s", node ? node : "");
	if (engine_takes(&u))
		rc = apply_update(s, &job, &r, &e);
	else if (u.kind == UPDATE_CALLBACK_QUERY && !u.has_chat)
		rc = replay_chatless(f, &u, env, &r.out);
	if (rc != 0) {
		fprintf(stderr, "blueflow replay: line %lu: %s\n", lineno,
			engine_takes(&u) ? e.msg : "out of memory");
		rc = -1;
	}
	if (rc == 0)
		rc = replay_calls(&r, b);
	if (rc == 0 && trace)
		replay_trace(&u, &r, u.has_chat ?
			store_memory_node(s, REPLAY_BOT, u.chat_id, engine_member(f, &u)) :
			NULL, b);
	apply_result_free(&r);
	update_free(&u);
	return rc;
}

int cmd_replay(int argc, char **argv)
{
	const struct attach_ops attach = { replay_fetch, NULL };
	struct engine_env env = { .now = 0, .bot_username = NULL, .attach = &attach };
	struct store *s = NULL;
	struct store_err e;
	struct flow *f = NULL;
	struct buf b;
	FILE *in = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int trace = 0, rc = CMD_FAIL, i;
	struct replay_clock clk = { 0, 0, NULL };

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			replay_usage(stdout);
			return CMD_OK;
		} else if (strcmp(argv[i], "--trace") == 0) {
			trace = 1;
		} else if (strcmp(argv[i], "--bot") == 0 && i + 1 < argc) {
			env.bot_username = argv[++i];
		} else if (strcmp(argv[i], "--admin-chat") == 0 && i + 1 < argc) {
			env.admin_chat = strtoll(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			env.now = strtoll(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "blueflow replay: unknown option \"%s\"\n", argv[i]);
			replay_usage(stderr);
			return CMD_USAGE;
		}
	}
	if (argc - i != 2) {
		replay_usage(stderr);
		return CMD_USAGE;
	}
	if (cli_flow(argv[i], &f) != 0)
		return CMD_FAIL;
	in = strcmp(argv[i + 1], "-") == 0 ? stdin : fopen(argv[i + 1], "r");
	if (in == NULL) {
		fprintf(stderr, "blueflow replay: %s: %s\n", argv[i + 1], strerror(errno));
		flow_free(f);
		return CMD_FAIL;
	}
	buf_init(&b, UPDATE_BODY_MAX * 2);
	if (store_open("memory:", &s, &e) != STORE_OK) {
		fprintf(stderr, "blueflow replay: %s\n", e.msg);
		goto out;
	}
	for (;;) {
		len = getline(&line, &cap, in);
		if (len < 0)
			break;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[strspn(line, " \t")] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		clk.trace = trace;
		clk.b = &b;
		if (strncmp(line, "tick at ", 8) == 0 || strncmp(line, "http answer ", 12) == 0) {
			if (replay_tick(f, s, &env, line, lineno, &clk) != 0)
				goto out;
			continue;
		}
		if (replay_line(f, s, &env, line, (size_t)len, lineno, &clk, &b) != 0)
			goto out;
	}
	if (store_memory_each(s, replay_chat, &b, &e) != STORE_OK) {
		fprintf(stderr, "blueflow replay: %s\n", e.msg);
		goto out;
	}
	rc = CMD_OK;
out:
	fflush(stdout);
	free(line);
	if (in != stdin)
		fclose(in);
	store_close(s);
	buf_free(&b);
	flow_free(f);
	return rc;
}
