/* loadgen.c - a Telegram-like load generator for bench/run: POSTs JSON
 * Updates over HTTPS (libcurl multi) to URL with the secret-token header, as
 * Telegram delivers webhooks: up to --conns requests in flight, one each on
 * its own kept-alive connection; each chat's updates one after another
 * (never two of one chat in flight); many chats at once; unique update ids.
 *
 * What a chat says comes from a walk file (JSON, as bench/flows/NAME.walk.json):
 *   {"steps": [{"text": "..." | "press": "data" | ["data", ...],
 *               "inline": "must" | "may" | "press" | "none",
 *               "needle": "..." | ["...", ...]}]}
 * A chat goes through the steps in order, then again from the first. A
 * list of press data gives chat i the item i % n (so chats take different
 * branches); so does a list of needles (the branch's first message).
 * "inline" says what the answer's body may be: "must" an inline
 * sendMessage to the chat whose text holds the needle; "may" that or empty;
 * "press" that, the answer to the press (answerCallbackQuery) or empty;
 * "none" empty. Every answer is checked: HTTP 200 and the body as the step
 * says; anything else is counted as wrong (the first few are described on
 * stderr). A chat whose update got no 200 sends it again, with the same
 * update id, as Telegram does. --status-only checks only the status.
 *
 * Modes: closed loop (--rate 0: a new update as soon as a request ends)
 * or open loop (--rate R: update k is due at start + k / R; its latency is
 * counted from that time, so time spent waiting for a free connection is
 * not hidden). Either stops issuing at --seconds or --count, whichever
 * comes first, and gives up on what is still in flight at --seconds +
 * --timeout. Prints one line of key=value pairs: sent, ok, wrong, failed
 * (no answer or not 200), elapsed, rate (right answers a second) and the
 * latency's p50, p99, p99.9 and max in ms. Exit 0 when it ran; 1 on a
 * usage or set-up error.
 *
 * --log FILE writes one line per update answered with a 200, for the time
 * to the user (bench/to_user.py): "UPDATE_ID CHAT PRESS POSTED ANSWERED
 * METHOD", PRESS 1 for a callback query, POSTED and ANSWERED the wall
 * clock (seconds, Unix epoch) when the request was handed to libcurl and
 * when its answer was in, METHOD the inline reply's method or "-".
 *
 * The secret is read from the environment variable --secret-env names,
 * never from the command line. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LG_BODY_MAX 4096      /* one update's JSON */
#define LG_ANSWER_MAX 65536   /* one answer's body */
#define LG_STEPS_MAX 64
#define LG_PRESS_MAX 16
#define LG_WRONG_SHOWN 5

enum lg_inline { LG_MUST, LG_MAY, LG_PRESS, LG_NONE };

struct lg_step {
	int press;                      /* a callback_query, else a message */
	char *payload[LG_PRESS_MAX];    /* JSON-escaped, quotes included */
	int n_payload;
	enum lg_inline inline_reply;
	char *needle[LG_PRESS_MAX];     /* none: any text */
	int n_needle;
};

struct lg_chat {
	long long id;
	unsigned step;          /* the step its next update takes */
	long long resend;       /* the update id to send again, or 0 */
	int busy;
};

struct lg_slot {
	CURL *h;
	struct lg_chat *chat;
	long long uid;
	double due;             /* the time latency counts from */
	double posted;          /* wall clock when handed to libcurl */
	char body[LG_BODY_MAX];
	char answer[LG_ANSWER_MAX];
	size_t answer_len;
	int truncated;
	int busy;
};

struct lg_opts {
	const char *url, *ca, *secret_env, *walk, *log;
	int conns, chats, status_only;
	double rate, seconds, timeout;
	long long count, uid_base, chat_base;
};

struct lg {
	struct lg_opts o;
	struct lg_step steps[LG_STEPS_MAX];
	int n_steps;
	struct lg_chat *chats;
	struct lg_slot *slots;
	CURLM *multi;
	struct curl_slist *headers;
	FILE *log;              /* --log, or NULL */
	double *lat;
	size_t n_lat, cap_lat;
	long long issued, sent, ok, wrong, failed, next_uid;
	int next_chat, in_flight, wrong_shown;
	double t0, t_last;
};

static double lg_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The wall clock in seconds since the epoch (for --log: the fake Bot API
 * stamps its calls with the same clock). */
static double lg_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void lg_say(const char *fmt, ...)
{
	va_list ap;
	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A JSON string literal of s, quotes included, in a new allocation; NULL
 * when out of memory. */
static char *lg_quote(const char *s)
{
	json_object *j = json_object_new_string(s);
	char *q;
	if (j == NULL)
		return NULL;
	q = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
		JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return q;
}

/* A string, or a list of 1 to LG_PRESS_MAX strings, of the walk into out,
 * each through conv (a new allocation); how many, or -1 when not such a
 * list or out of memory. */
static int lg_strings(json_object *j, char **out, char *(*conv)(const char *))
{
	size_t n = json_object_is_type(j, json_type_array) ? json_object_array_length(j) : 1;

	if (n == 0 || n > LG_PRESS_MAX)
		return -1;
	for (size_t k = 0; k < n; k++) {
		json_object *v = json_object_is_type(j, json_type_array) ?
			json_object_array_get_idx(j, k) : j;
		out[k] = conv(json_object_get_string(v));
		if (out[k] == NULL)
			return -1;
	}
	return (int)n;
}

/* Reads one step of the walk; -1 (said why) when it is not one. */
static int lg_step_read(struct lg_step *st, json_object *j, int i)
{
	json_object *text = NULL, *press = NULL, *in = NULL, *needle = NULL;
	const char *mode;

	json_object_object_get_ex(j, "text", &text);
	json_object_object_get_ex(j, "press", &press);
	json_object_object_get_ex(j, "inline", &in);
	json_object_object_get_ex(j, "needle", &needle);
	if ((text == NULL) == (press == NULL)) {
		lg_say("walk step %d: give one of text and press", i);
		return -1;
	}
	st->press = press != NULL;
	st->n_payload = lg_strings(text ? text : press, st->payload, lg_quote);
	if (st->n_payload < 0) {
		lg_say("walk step %d: 1 to %d press data", i, LG_PRESS_MAX);
		return -1;
	}
	mode = in ? json_object_get_string(in) : "may";
	if (!strcmp(mode, "must"))
		st->inline_reply = LG_MUST;
	else if (!strcmp(mode, "may"))
		st->inline_reply = LG_MAY;
	else if (!strcmp(mode, "press"))
		st->inline_reply = LG_PRESS;
	else if (!strcmp(mode, "none"))
		st->inline_reply = LG_NONE;
	else {
		lg_say("walk step %d: inline is must, may, press or none, not '%s'", i, mode);
		return -1;
	}
	st->n_needle = needle ? lg_strings(needle, st->needle, strdup) : 0;
	if (st->n_needle < 0) {
		lg_say("walk step %d: 1 to %d needles", i, LG_PRESS_MAX);
		return -1;
	}
	return 0;
}

/* Loads the walk file; -1 (said why) on failure. */
static int lg_walk_load(struct lg *g)
{
	json_object *root = json_object_from_file(g->o.walk), *steps = NULL;
	int rc = -1;

	if (root == NULL) {
		lg_say("cannot read the walk %s: %s", g->o.walk, json_util_get_last_err());
		return -1;
	}
	if (!json_object_object_get_ex(root, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array) ||
	    json_object_array_length(steps) == 0 ||
	    json_object_array_length(steps) > LG_STEPS_MAX) {
		lg_say("%s: \"steps\" is a list of 1 to %d steps", g->o.walk, LG_STEPS_MAX);
		goto out;
	}
	g->n_steps = (int)json_object_array_length(steps);
	for (int i = 0; i < g->n_steps; i++)
		if (lg_step_read(&g->steps[i], json_object_array_get_idx(steps, i), i) != 0)
			goto out;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

/* The entities of a text (p, JSON-quoted): a command at its start is a
 * bot_command, as Telegram marks it; else none (""). */
static void lg_entities(const char *p, char *out, size_t size)
{
	size_t n = 1;
	out[0] = '\0';
	if (p[0] != '"' || p[1] != '/')
		return;
	while (p[n] != '\0' && p[n] != '"' && p[n] != ' ' && p[n] != '\\')
		n++;
	snprintf(out, size, ",\"entities\":[{\"offset\":0,\"length\":%zu,"
		"\"type\":\"bot_command\"}]", n - 1);
}

/* The update's JSON for chat c's current step into s->body; -1 when it
 * does not fit. */
static int lg_update_json(struct lg *g, struct lg_slot *s, int idx)
{
	const struct lg_step *st = &g->steps[s->chat->step % (unsigned)g->n_steps];
	const char *p = st->payload[idx % st->n_payload];
	long long c = s->chat->id, u = s->uid;
	long long now = (long long)time(NULL);
	char from[160], entities[96];
	int n;

	snprintf(from, sizeof(from), "{\"id\":%lld,\"is_bot\":false,\"first_name\":\"Ada\","
		"\"language_code\":\"en\"}", c);
	if (st->press)
		n = snprintf(s->body, sizeof(s->body), "{\"update_id\":%lld,\"callback_query\":"
			"{\"id\":\"q%lld\",\"chat_instance\":\"1\",\"data\":%s,\"from\":%s,"
			"\"message\":{\"message_id\":3,\"date\":%lld,\"chat\":{\"id\":%lld,"
			"\"type\":\"private\"}}}}", u, u, p, from, now, c);
	else {
		lg_entities(p, entities, sizeof(entities));
		n = snprintf(s->body, sizeof(s->body), "{\"update_id\":%lld,\"message\":"
			"{\"message_id\":%lld,\"date\":%lld,\"chat\":{\"id\":%lld,\"type\":"
			"\"private\",\"first_name\":\"Ada\"},\"from\":%s,\"text\":%s%s}}",
			u, u % 1000000000, now, c, from, p, entities);
	}
	return n > 0 && (size_t)n < sizeof(s->body) ? 0 : -1;
}

static size_t lg_write(char *p, size_t size, size_t n, void *arg)
{
	struct lg_slot *s = arg;
	size_t len = size * n, room = sizeof(s->answer) - 1 - s->answer_len;
	if (len > room) {
		s->truncated = 1;
		len = room;
	}
	memcpy(s->answer + s->answer_len, p, len);
	s->answer_len += len;
	s->answer[s->answer_len] = '\0';
	return size * n;
}

/* Describes a wrong answer on stderr, the first few only. */
static void lg_wrong(struct lg *g, const struct lg_slot *s, const char *why)
{
	char body[201];
	size_t n = 0;

	if (g->wrong_shown++ >= LG_WRONG_SHOWN)
		return;
	for (; n < sizeof(body) - 1 && n < s->answer_len; n++)   /* on one line */
		body[n] = (unsigned char)s->answer[n] < ' ' ? ' ' : s->answer[n];
	body[n] = '\0';
	lg_say("wrong answer to update %lld (chat %lld, step %u): %s; body: %s",
		s->uid, s->chat->id, s->chat->step % (unsigned)g->n_steps, why, body);
}

/* Checks a 200's body against the step; NULL when right, else why not. */
static const char *lg_check_body(struct lg *g, const struct lg_slot *s)
{
	const struct lg_step *st = &g->steps[s->chat->step % (unsigned)g->n_steps];
	const char *needle = st->n_needle ?
		st->needle[(s->chat - g->chats) % st->n_needle] : NULL;
	json_object *j, *v;
	const char *why = NULL;

	if (s->truncated)
		return "the body is too long";
	if (s->answer_len == 0)
		return st->inline_reply == LG_MUST ? "no inline reply" : NULL;
	if (st->inline_reply == LG_NONE)
		return "an inline reply where the step has several calls";
	j = json_tokener_parse(s->answer);
	if (j == NULL || !json_object_is_type(j, json_type_object))
		why = "not a JSON object";
	else if (st->inline_reply == LG_PRESS &&
	    json_object_object_get_ex(j, "method", &v) &&
	    strcmp(json_object_get_string(v), "answerCallbackQuery") == 0)
		why = json_object_object_get_ex(j, "callback_query_id", &v) ?
			NULL : "an answer to the press without its id";
	else if (!json_object_object_get_ex(j, "method", &v) ||
	    strcmp(json_object_get_string(v), "sendMessage") != 0)
		why = "not sendMessage";
	else if (!json_object_object_get_ex(j, "chat_id", &v) ||
	    json_object_get_int64(v) != s->chat->id)
		why = "another chat_id";
	else if (!json_object_object_get_ex(j, "text", &v))
		why = "no text";
	else if (needle && strstr(json_object_get_string(v), needle) == NULL)
		why = "not the step's question";
	json_object_put(j);
	return why;
}

/* The next chat with nothing in flight, round robin; NULL when all are. */
static struct lg_chat *lg_next_chat(struct lg *g)
{
	for (int k = 0; k < g->o.chats; k++) {
		struct lg_chat *c = &g->chats[g->next_chat];
		g->next_chat = (g->next_chat + 1) % g->o.chats;
		if (!c->busy)
			return c;
	}
	return NULL;
}

/* Starts c's next update (or its resend) in slot s; -1 on failure. */
static int lg_start(struct lg *g, struct lg_slot *s, struct lg_chat *c, double due)
{
	s->chat = c;
	s->uid = c->resend ? c->resend : g->next_uid++;
	s->due = due;
	s->answer_len = 0;
	s->answer[0] = '\0';
	s->truncated = 0;
	if (lg_update_json(g, s, (int)(c - g->chats)) != 0) {
		lg_say("an update is over %d bytes", LG_BODY_MAX);
		return -1;
	}
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
	if (curl_multi_add_handle(g->multi, s->h) != CURLM_OK) {
		lg_say("curl_multi_add_handle failed");
		return -1;
	}
	s->posted = lg_wall();
	c->busy = 1;
	s->busy = 1;
	g->in_flight++;
	g->sent++;
	return 0;
}

static void lg_latency(struct lg *g, double v)
{
	if (g->n_lat == g->cap_lat) {
		size_t cap = g->cap_lat ? g->cap_lat * 2 : 4096;
		double *p = realloc(g->lat, cap * sizeof(*p));
		if (p == NULL)
			return;   /* the figure goes uncounted; the counts stay right */
		g->lat = p;
		g->cap_lat = cap;
	}
	g->lat[g->n_lat++] = v;
}

/* The --log line of slot s's update, answered with a 200. */
static void lg_log(struct lg *g, const struct lg_slot *s)
{
	const struct lg_step *st = &g->steps[s->chat->step % (unsigned)g->n_steps];
	const char *m = strstr(s->answer, "\"method\":\"");
	int n = 0;

	if (m != NULL) {
		m += strlen("\"method\":\"");
		while (m[n] && m[n] != '"' && n < 64)
			n++;
	}
	fprintf(g->log, "%lld %lld %d %.6f %.6f %.*s\n", s->uid, s->chat->id, st->press,
		s->posted, lg_wall(), n ? n : 1, n ? m : "-");
}

/* A request of slot s ended with result rc. */
static void lg_done(struct lg *g, struct lg_slot *s, CURLcode rc)
{
	struct lg_chat *c = s->chat;
	long status = 0;
	const char *why;

	curl_multi_remove_handle(g->multi, s->h);
	g->t_last = lg_now();
	lg_latency(g, g->t_last - s->due);
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status != 200) {
		char why_buf[160];
		snprintf(why_buf, sizeof(why_buf), "%s, HTTP %ld",
			rc != CURLE_OK ? curl_easy_strerror(rc) : "answered", status);
		lg_wrong(g, s, why_buf);
		g->failed++;
		c->resend = s->uid;   /* as Telegram: the same update again */
	} else {
		if (g->log)
			lg_log(g, s);
		why = g->o.status_only ? NULL : lg_check_body(g, s);
		if (why) {
			lg_wrong(g, s, why);
			g->wrong++;
		} else {
			g->ok++;
		}
		c->resend = 0;
		c->step++;
	}
	c->busy = 0;
	s->busy = 0;
	g->in_flight--;
}

static int lg_setup(struct lg *g)
{
	char header[512];
	const char *secret = getenv(g->o.secret_env);

	if (secret == NULL || !*secret) {
		lg_say("the environment variable %s (the secret) is not set", g->o.secret_env);
		return -1;
	}
	if (snprintf(header, sizeof(header), "X-Telegram-Bot-Api-Secret-Token: %s",
	    secret) >= (int)sizeof(header)) {
		lg_say("the secret is too long");
		return -1;
	}
	g->headers = curl_slist_append(NULL, "Content-Type: application/json");
	g->headers = curl_slist_append(g->headers, header);
	g->headers = curl_slist_append(g->headers, "Expect:");
	g->chats = calloc((size_t)g->o.chats, sizeof(*g->chats));
	g->slots = calloc((size_t)g->o.conns, sizeof(*g->slots));
	g->multi = curl_multi_init();
	if (g->headers == NULL || g->chats == NULL || g->slots == NULL || g->multi == NULL) {
		lg_say("out of memory");
		return -1;
	}
	curl_multi_setopt(g->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)g->o.conns);
	curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)g->o.conns);
	for (int i = 0; i < g->o.chats; i++)
		g->chats[i].id = g->o.chat_base + i;
	for (int i = 0; i < g->o.conns; i++) {
		struct lg_slot *s = &g->slots[i];
		s->h = curl_easy_init();
		if (s->h == NULL) {
			lg_say("curl_easy_init failed");
			return -1;
		}
		curl_easy_setopt(s->h, CURLOPT_URL, g->o.url);
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, g->headers);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, lg_write);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, (long)(g->o.timeout * 1000));
		curl_easy_setopt(s->h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
		curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
		if (g->o.ca)
			curl_easy_setopt(s->h, CURLOPT_CAINFO, g->o.ca);
	}
	g->next_uid = g->o.uid_base;
	if (g->o.log && (g->log = fopen(g->o.log, "w")) == NULL) {
		lg_say("%s: %s", g->o.log, strerror(errno));
		return -1;
	}
	return 0;
}

/* Starts what is due: in the closed loop one update per free slot, in the
 * open loop every update whose time has come, as slots free up. */
static int lg_issue(struct lg *g, double now)
{
	for (int i = 0; i < g->o.conns; i++) {
		struct lg_slot *s = &g->slots[i];
		struct lg_chat *c;
		double due = now;

		if (s->busy)
			continue;
		if (g->issued >= g->o.count)
			return 0;
		if (g->o.rate > 0) {
			due = g->t0 + (double)g->issued / g->o.rate;
			if (due > now)
				return 0;
		}
		if (due >= g->t0 + g->o.seconds)
			return 0;
		c = lg_next_chat(g);
		if (c == NULL)
			return 0;
		if (lg_start(g, s, c, due) != 0)
			return -1;
		g->issued++;
	}
	return 0;
}

/* Runs the load until the count or time is up and nothing is in flight, or
 * the hard deadline passes; -1 on a set-up failure. */
static int lg_run(struct lg *g)
{
	double hard;
	int running;

	g->t0 = lg_now();
	g->t_last = g->t0;
	hard = g->t0 + g->o.seconds + g->o.timeout;
	for (;;) {
		double now = lg_now();
		CURLMsg *m;
		int left, wait_ms = 10;
		int more = g->issued < g->o.count && now < g->t0 + g->o.seconds;

		if (!more && g->in_flight == 0)
			break;
		if (now >= hard)
			break;
		if (curl_multi_perform(g->multi, &running) != CURLM_OK) {
			lg_say("curl_multi_perform failed");
			return -1;
		}
		while ((m = curl_multi_info_read(g->multi, &left)) != NULL) {
			struct lg_slot *s;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			lg_done(g, s, m->data.result);
		}
		/* a freed slot is refilled before waiting; a new handle's timer
		 * is due at once, so the poll below returns for it */
		if (more && lg_issue(g, lg_now()) != 0)
			return -1;
		if (g->o.rate > 0 && more) {
			double due = g->t0 + (double)g->issued / g->o.rate - lg_now();
			wait_ms = due <= 0 ? 0 : (int)ceil(due * 1000);
			if (wait_ms > 10 || g->in_flight >= g->o.conns)
				wait_ms = 10;   /* a slot freeing up wakes the poll */
		}
		if (curl_multi_poll(g->multi, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			lg_say("curl_multi_poll failed");
			return -1;
		}
	}
	g->failed += g->in_flight;   /* still in flight at the hard deadline */
	return 0;
}

static int lg_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile of the sorted latencies, in ms (nearest rank). */
static double lg_pct(const struct lg *g, double q)
{
	size_t k;
	if (g->n_lat == 0)
		return 0;
	k = (size_t)ceil(q * (double)g->n_lat);
	if (k > 0)
		k--;
	if (k >= g->n_lat)
		k = g->n_lat - 1;
	return g->lat[k] * 1000;
}

static void lg_report(struct lg *g)
{
	double elapsed = g->t_last - g->t0;
	qsort(g->lat, g->n_lat, sizeof(*g->lat), lg_cmp);
	printf("sent=%lld ok=%lld wrong=%lld failed=%lld elapsed=%.3f rate=%.1f "
		"p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f\n",
		g->sent, g->ok, g->wrong, g->failed, elapsed,
		elapsed > 0 ? (double)g->ok / elapsed : 0.0,
		lg_pct(g, 0.50), lg_pct(g, 0.99), lg_pct(g, 0.999), lg_pct(g, 1.0));
}

static void lg_free(struct lg *g)
{
	for (int i = 0; g->slots && i < g->o.conns; i++) {
		if (g->slots[i].busy)
			curl_multi_remove_handle(g->multi, g->slots[i].h);
		if (g->slots[i].h)
			curl_easy_cleanup(g->slots[i].h);
	}
	if (g->multi)
		curl_multi_cleanup(g->multi);
	curl_slist_free_all(g->headers);
	for (int i = 0; i < g->n_steps; i++) {
		for (int k = 0; k < g->steps[i].n_payload; k++)
			free(g->steps[i].payload[k]);
		for (int k = 0; k < g->steps[i].n_needle; k++)
			free(g->steps[i].needle[k]);
	}
	if (g->log)
		fclose(g->log);
	free(g->chats);
	free(g->slots);
	free(g->lat);
}

static void lg_usage(void)
{
	fputs("usage: loadgen --url URL --walk WALK.json --secret-env NAME [--ca FILE]\n"
		"  [--conns N (16)] [--chats N (1000)] [--rate R (0: closed loop)]\n"
		"  [--seconds S (10)] [--count N (no limit)] [--timeout S (30)]\n"
		"  [--uid-base N (1)] [--chat-base N (1000000)] [--status-only]\n"
		"  [--log FILE]\n", stderr);
}

/* A number option's value; -1 when it is not one, or outside [lo, hi]. */
static int lg_num(const char *name, const char *v, double lo, double hi, double *out)
{
	char *end;
	double x;
	if (v == NULL) {
		lg_say("%s needs a value", name);
		return -1;
	}
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !(x >= lo && x <= hi)) {
		lg_say("%s: '%s' is not a number from %g to %g", name, v, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int lg_args(struct lg_opts *o, int argc, char **argv)
{
	double conns = 16, chats = 1000, count = 1e15, uid = 1, chat = 1000000;

	o->rate = 0;
	o->seconds = 10;
	o->timeout = 30;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;
		if (!strcmp(a, "--status-only")) {
			o->status_only = 1;
			continue;
		}
		if (!strcmp(a, "--url"))
			o->url = v;
		else if (!strcmp(a, "--ca"))
			o->ca = v;
		else if (!strcmp(a, "--walk"))
			o->walk = v;
		else if (!strcmp(a, "--log"))
			o->log = v;
		else if (!strcmp(a, "--secret-env"))
			o->secret_env = v;
		else if (!strcmp(a, "--conns"))
			rc = lg_num(a, v, 1, 1000, &conns);
		else if (!strcmp(a, "--chats"))
			rc = lg_num(a, v, 1, 10000000, &chats);
		else if (!strcmp(a, "--rate"))
			rc = lg_num(a, v, 0, 1e6, &o->rate);
		else if (!strcmp(a, "--seconds"))
			rc = lg_num(a, v, 0.001, 86400, &o->seconds);
		else if (!strcmp(a, "--count"))
			rc = lg_num(a, v, 1, 1e15, &count);
		else if (!strcmp(a, "--timeout"))
			rc = lg_num(a, v, 0.1, 600, &o->timeout);
		else if (!strcmp(a, "--uid-base"))
			rc = lg_num(a, v, 1, 1e15, &uid);
		else if (!strcmp(a, "--chat-base"))
			rc = lg_num(a, v, 1, 1e15, &chat);
		else {
			lg_say("unknown option %s", a);
			return -1;
		}
		if (rc || v == NULL)
			return -1;
		i++;
	}
	if (!o->url || !o->walk || !o->secret_env) {
		lg_usage();
		return -1;
	}
	if (chats < conns) {
		lg_say("--chats (%g) is below --conns (%g)", chats, conns);
		return -1;
	}
	o->conns = (int)conns;
	o->chats = (int)chats;
	o->count = (long long)count;
	o->uid_base = (long long)uid;
	o->chat_base = (long long)chat;
	return 0;
}

int main(int argc, char **argv)
{
	struct lg g;
	int rc = 1;

	memset(&g, 0, sizeof(g));
	if (lg_args(&g.o, argc, argv) != 0)
		return 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		lg_say("curl_global_init failed");
		return 1;
	}
	if (lg_walk_load(&g) == 0 && lg_setup(&g) == 0 && lg_run(&g) == 0) {
		lg_report(&g);
		rc = 0;
	}
	lg_free(&g);
	curl_global_cleanup();
	return rc;
}
