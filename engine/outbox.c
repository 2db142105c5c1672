/* outbox.c - the sender's delivery loop. */
#include "engine/outbox.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine/botapi.h"
#include "engine/life_send.h"
#include "engine/log.h"
#include "engine/media.h"
#include "engine/mono.h"

/* F_DONE: its outcome is known but not yet in the store (outbox_settle) */
enum flight_state { F_FREE, F_WAITING, F_ACTIVE, F_DONE };

struct outbox_flight {
	enum flight_state state;
	struct store_outbox_row row;
	struct outbox_bot *bot;
	double start_at;
	double leased_at;            /* when its lease was last taken or renewed */
	unsigned long long seq;      /* order taken: the oldest waiting goes first */
	CURL *easy;
	int requests;                /* requests its transfer began (outbox_once) */
	struct curl_slist *headers;
	struct buf url;              /* holds the token: wiped after use */
	struct buf body;             /* what is sent */
	struct buf answer;
	const char *method;          /* the call made: row.method, or the edit
	                              * it became (life_send.h) */
	struct life_send life;       /* its life-cycle marks, resolved */
	int result, delay;           /* F_DONE: the outcome to record */
	char error[400];
	/* a local media file to upload (media.h): its field, content and
	 * hash; the file_id Telegram gives it is kept by the hash */
	int upload;
	int by_id;      /* sent by the file_id kept for it */
	char field[16];
	char name[128];              /* the file's name, as Telegram is told */
	char sha[65];
	struct buf file;
	curl_mime *mime;
};

/* A token no other sender has: random, or the pid and the time. */
static void outbox_owner(struct outbox *o)
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(o->owner, sizeof(o->owner), "%ld.%lld.%ld", (long)getpid(),
			(long long)ts.tv_sec, ts.tv_nsec);
		return;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(o->owner + 2 * i, 3, "%02x", r[i]);
}

int outbox_init(struct outbox *o, struct store *store, const char *api_base,
	struct outbox_bot *bots, unsigned n_bots, double rate_bot, double rate_chat,
	double rate_group, int burst)
{
	memset(o, 0, sizeof(*o));
	o->store = store;
	o->api_base = api_base;
	o->bots = bots;
	o->n_bots = n_bots;
	o->rate_bot = rate_bot;
	o->rate_chat = rate_chat;
	o->rate_group = rate_group;
	o->burst = burst > 0 ? burst : 1;
	outbox_owner(o);
	o->multi = curl_multi_init();
	o->flights = calloc(OUTBOX_FLIGHTS, sizeof(*o->flights));
	o->chats = calloc(OUTBOX_CHATS, sizeof(*o->chats));
	if (o->multi == NULL || o->flights == NULL || o->chats == NULL) {
		outbox_free(o);
		return -1;
	}
	for (unsigned i = 0; i < n_bots; i++)
		bots[i].next = 0;
	for (int i = 0; i < OUTBOX_FLIGHTS; i++) {
		buf_init(&o->flights[i].url, 4096);
		buf_init(&o->flights[i].body, 1u << 20);
		buf_init(&o->flights[i].answer, BOTAPI_ANSWER_MAX);
		buf_init(&o->flights[i].file, MEDIA_FILE_MAX);
	}
	return 0;
}

/* Lets go of f's transfer (its handle, headers, form and file); the
 * call itself stays. */
static void outbox_transfer_free(struct outbox *o, struct outbox_flight *f)
{
	if (f->easy) {
		curl_multi_remove_handle(o->multi, f->easy);
		curl_easy_cleanup(f->easy);
		f->easy = NULL;
	}
	curl_slist_free_all(f->headers);
	f->headers = NULL;
	curl_mime_free(f->mime);
	f->mime = NULL;
	buf_free(&f->file);   /* up to 50 MB: not kept for the next call */
	f->upload = 0;
	f->by_id = 0;
}

static void outbox_release(struct outbox *o, struct outbox_flight *f)
{
	outbox_transfer_free(o, f);
	if (f->url.p)
		memset(f->url.p, 0, f->url.len);
	buf_reset(&f->url);
	free(f->row.params);
	f->row.params = NULL;
	f->state = F_FREE;
}

void outbox_free(struct outbox *o)
{
	for (int i = 0; o->flights && i < OUTBOX_FLIGHTS; i++) {
		outbox_release(o, &o->flights[i]);
		buf_free(&o->flights[i].url);
		buf_free(&o->flights[i].body);
		buf_free(&o->flights[i].answer);
	}
	if (o->multi)
		curl_multi_cleanup(o->multi);
	free(o->flights);
	free(o->chats);
	o->flights = NULL;
	o->chats = NULL;
	o->multi = NULL;
}

/* The slot keeping chat's message bucket: a cache probed over a few
 * slots; a new chat takes the slot whose bucket has been full longest (a
 * chat that may be sent to anyway), never one still waiting. */
static struct outbox_chat_slot *outbox_chat(struct outbox *o, const char *bot,
	long long chat_id)
{
	unsigned long long h = (unsigned long long)chat_id * 0x9E3779B97F4A7C15ULL;
	struct outbox_chat_slot *c, *oldest = NULL;
	for (const char *p = bot; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (unsigned i = 0; i < 16; i++) {
		c = &o->chats[((h >> 20) + i) % OUTBOX_CHATS];
		if (c->chat_id == chat_id && strcmp(c->bot, bot) == 0)
			return c;
		if (oldest == NULL || c->tat < oldest->tat)
			oldest = c;
	}
	snprintf(oldest->bot, sizeof(oldest->bot), "%s", bot);
	oldest->chat_id = chat_id;
	oldest->tat = 0;
	return oldest;
}

/* The time one message of a chat refills in its bucket. */
static double outbox_chat_gap(const struct outbox *o, long long chat_id)
{
	return chat_id < 0 ? 60.0 / o->rate_group : 1.0 / o->rate_chat;
}

/* When f's call may start as far as its chat's limit goes: at once for a
 * call that makes no message, else once the chat's bucket holds one. */
static double outbox_chat_due(struct outbox *o, const struct outbox_flight *f)
{
	struct outbox_chat_slot *c;
	if (!botapi_is_message(f->row.method))
		return 0;
	c = outbox_chat(o, f->row.bot, f->row.chat_id);
	return c->tat - (o->burst - 1) * outbox_chat_gap(o, f->row.chat_id);
}

/* Takes one message out of f's chat's bucket (none for a call that makes
 * no message). */
static void outbox_chat_spend(struct outbox *o, const struct outbox_flight *f, double now)
{
	struct outbox_chat_slot *c;
	if (!botapi_is_message(f->row.method))
		return;
	c = outbox_chat(o, f->row.bot, f->row.chat_id);
	c->tat = (c->tat > now ? c->tat : now) + outbox_chat_gap(o, f->row.chat_id);
}

/* Whether the bot may send now; if so the send is counted. Sends are
 * spaced 1/rate apart in virtual time (no saving up while idle), so no
 * second holds more than rate + 1 of them. */
static int outbox_bot_token(struct outbox *o, struct outbox_bot *b, double now)
{
	double gap = 1.0 / o->rate_bot;
	if (b->next > now)
		return 0;
	b->next = (b->next < now - gap ? now : b->next) + gap;
	return 1;
}

static struct outbox_bot *outbox_bot(struct outbox *o, const char *name)
{
	for (unsigned i = 0; i < o->n_bots; i++)
		if (strcmp(o->bots[i].name, name) == 0)
			return &o->bots[i];
	return NULL;
}

/* Writes the outcome f holds (F_DONE) to the store and lets f go; when
 * the store fails (o->last_error says why), f keeps it for the next
 * try. */
static int outbox_settle(struct outbox *o, struct outbox_flight *f)
{
	struct store_err e;
	int result = f->result;
	const char *error = f->error[0] ? f->error : NULL;
	int rc = o->store->ops->outbox_done(o->store, o->owner, f->row.id, result, f->delay,
		error, &e);
	if (rc != STORE_OK) {
		snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
		return rc;
	}
	if (result == OUTBOX_SENT || result == OUTBOX_DEAD)
		o->take_soon = 1;   /* the chat's next call may be due now */
	if (result == OUTBOX_SENT)
		o->stats.sent++;
	else if (result == OUTBOX_RETRY)
		o->stats.retried++;
	else if (result == OUTBOX_DEAD)
		o->stats.dead++;
	else
		o->stats.later++;
	if (result == OUTBOX_DEAD) {
		struct log_line l;
		log_start(&l, "warn", "dead letter");
		log_str(&l, "bot", f->row.bot);
		log_int(&l, "chat_id", f->row.chat_id);
		log_str(&l, "method", f->row.method);
		log_str(&l, "error", error);
		log_end(&l);
	}
	outbox_release(o, f);
	return STORE_OK;
}

/* What became of f's call: recorded now, or (the store failing) kept
 * until it can be, by outbox_settle. A call that was made and forgotten
 * would be made again once its lease ran out. */
static int outbox_record(struct outbox *o, struct outbox_flight *f, int result,
	int delay, const char *error)
{
	outbox_transfer_free(o, f);
	f->result = result;
	f->delay = delay;
	snprintf(f->error, sizeof(f->error), "%s", error ? error : "");
	f->state = F_DONE;
	return outbox_settle(o, f);
}

/* A local media file in p (media_local): read and hashed; sent by the
 * file_id it was given before, or else marked for upload (f->upload)
 * and left out of p. Returns 0, or -1 with the reason in err. */
static int outbox_media(struct outbox *o, struct outbox_flight *f, json_object *p,
	char *err, size_t errlen)
{
	const char *field, *path;
	char id[256];
	struct store_err e;
	int found = 0;

	if (!media_local(p, &field, &path))
		return 0;
	snprintf(f->field, sizeof(f->field), "%s", field);
	snprintf(f->name, sizeof(f->name), "%s", strrchr(path, '/') ?
		strrchr(path, '/') + 1 : path);
	if (media_load(path, media_max(field), &f->file, f->sha, err, errlen) != 0)
		return -1;
	if (store_media_get(o->store, f->row.bot, f->field, f->sha, id, sizeof(id),
	    &found, &e) != STORE_OK)
		snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
	f->by_id = found;
	if (found) {
		json_object_object_add(p, f->field, json_object_new_string(id));
		buf_free(&f->file);
	} else {
		json_object_object_del(p, f->field);
		f->upload = 1;
	}
	return 0;
}

/* The params with chat_id set to the row's (a moved chat's calls), the
 * life-cycle marks resolved (life_send_prepare), and a local media file
 * resolved (outbox_media). Returns 0; -1 with the reason in err; -2 when
 * the store failed (o->last_error says why: try later). */
static int outbox_body(struct outbox *o, struct outbox_flight *f, char *err,
	size_t errlen)
{
	json_object *p = json_tokener_parse(f->row.params), *v;
	struct store_err e;
	int rc = -1;
	buf_reset(&f->body);
	snprintf(err, errlen, "the queued call is not a JSON object");
	if (p == NULL || !json_object_is_type(p, json_type_object))
		goto out;
	if (json_object_object_get_ex(p, "chat_id", &v))
		json_object_object_add(p, "chat_id", json_object_new_int64(f->row.chat_id));
	f->method = f->row.method;
	if (life_send_prepare(o->store, f->row.bot, f->row.chat_id, &f->method, p,
	    &f->life, &e) != STORE_OK) {
		snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
		rc = -2;
		goto out;
	}
	if (outbox_media(o, f, p, err, errlen) != 0)
		goto out;
	rc = buf_adds(&f->body, json_object_to_json_string_ext(p,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (rc == 0 && f->upload) {
		struct botapi_file file = { f->field, f->name, media_mime(
			(const unsigned char *)f->file.p, f->file.len), f->file.p, f->file.len };
		snprintf(err, errlen, "cannot build the upload");
		f->easy = curl_easy_init();
		f->mime = f->easy ? botapi_form(f->easy, p, &file) : NULL;
		rc = f->mime ? 0 : -1;
		buf_free(&f->file);   /* the form holds a copy */
	}
out:
	json_object_put(p);
	return rc;
}

static size_t outbox_collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	return buf_add(b, p, size * n) == 0 ? size * n : 0;
}

/* libcurl sends a request again at once, on a new connection, when a
 * kept-alive connection it reused closed without a byte of answer; but
 * Telegram may have done the call and only its answer was lost. So a
 * transfer sends its request once: a second start is refused here, the
 * transfer fails, and the call comes back only through the outbox's own
 * retry (delayed, counted in its attempts, under its lease). */
static int outbox_once(void *arg, char *ip, char *local_ip, int port, int local_port)
{
	struct outbox_flight *f = arg;
	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	return f->requests++ == 0 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

static int outbox_start(struct outbox *o, struct outbox_flight *f)
{
	char err[256];
	int rc = outbox_body(o, f, err, sizeof(err));

	if (rc == -2)
		return outbox_record(o, f, OUTBOX_LATER, 1, NULL);
	if (rc != 0)
		return outbox_record(o, f, OUTBOX_DEAD, 0, err);
	if (f->life.skip)
		return outbox_record(o, f, OUTBOX_SENT, 0, NULL);   /* nothing to delete */
	buf_reset(&f->url);
	buf_reset(&f->answer);
	if (buf_adds(&f->url, o->api_base) || buf_adds(&f->url, "/bot") ||
	    buf_adds(&f->url, f->bot->token) || buf_addc(&f->url, '/') ||
	    buf_adds(&f->url, f->method))
		return outbox_record(o, f, OUTBOX_DEAD, 0, "URL too long");
	if (f->easy == NULL)
		f->easy = curl_easy_init();
	/* a form goes without "Expect: 100-continue" and its round trip */
	f->headers = curl_slist_append(NULL, f->upload ? "Expect:" :
		"Content-Type: application/json");
	if (f->easy == NULL || f->headers == NULL)
		return outbox_record(o, f, OUTBOX_LATER, 1, NULL);
	curl_easy_setopt(f->easy, CURLOPT_URL, f->url.p);
	if (f->upload) {
		curl_easy_setopt(f->easy, CURLOPT_MIMEPOST, f->mime);
	} else {
		curl_easy_setopt(f->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(f->easy, CURLOPT_POSTFIELDS, f->body.p);
		curl_easy_setopt(f->easy, CURLOPT_POSTFIELDSIZE, (long)f->body.len);
	}
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, outbox_collect);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, &f->answer);
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f);
	f->requests = 0;
	curl_easy_setopt(f->easy, CURLOPT_PREREQFUNCTION, outbox_once);
	curl_easy_setopt(f->easy, CURLOPT_PREREQDATA, f);
	if (curl_multi_add_handle(o->multi, f->easy) != CURLM_OK)
		return outbox_record(o, f, OUTBOX_LATER, 1, NULL);
	f->state = F_ACTIVE;
	return STORE_OK;
}

/* Whether f's call is still this sender's to start, its lease renewed
 * unless taken or renewed just now (so that more of it is left than a
 * call may take). 1 yes; 0 no: another sender took it over after the
 * lease ran out, or it is done, and f is let go; -1 the store failed. */
static int outbox_hold(struct outbox *o, struct outbox_flight *f)
{
	struct store_err e;
	struct log_line l;
	double now = mono_now();
	int held = 0;

	if (now - f->leased_at <= OUTBOX_FRESH)
		return 1;
	if (o->store->ops->outbox_renew(o->store, o->owner, f->row.id, OUTBOX_LEASE,
	    &held, &e) != STORE_OK) {
		snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
		return -1;
	}
	if (held) {
		f->leased_at = now;
		return 1;
	}
	log_start(&l, "info", "call taken over");
	log_str(&l, "bot", f->row.bot);
	log_int(&l, "chat_id", f->row.chat_id);
	log_end(&l);
	outbox_release(o, f);
	return 0;
}

/* The flight holding call id, or NULL. */
static struct outbox_flight *outbox_in_hand(struct outbox *o, long long id)
{
	for (int i = 0; i < OUTBOX_FLIGHTS; i++)
		if (o->flights[i].state != F_FREE && o->flights[i].row.id == id)
			return &o->flights[i];
	return NULL;
}

static int outbox_retry_delay(int attempts)
{
	return attempts <= 0 ? 1 : attempts == 1 ? 3 : 9;
}

static int outbox_contains(const char *s, const char *part)
{
	return strstr(s, part) != NULL;
}

/* After an upload: keeps the file_id Telegram gave the file, so that the
 * next send of it goes by id. A failure is logged; the call was sent. */
static void outbox_keep_file_id(struct outbox *o, struct outbox_flight *f,
	const struct botapi_answer *a)
{
	const char *id = media_file_id(a->result, f->field);
	struct store_err e;
	struct log_line l;
	int rc = id ? store_media_put(o->store, f->row.bot, f->field, f->sha, id, &e) :
		STORE_PERMANENT;

	log_start(&l, rc == STORE_OK ? "info" : "warn", "media uploaded");
	log_str(&l, "bot", f->row.bot);
	log_str(&l, "kind", f->field);
	log_str(&l, "sha256", f->sha);
	if (rc != STORE_OK)
		log_str(&l, "error", id ? e.msg : "the answer holds no file_id");
	log_end(&l);
}

/* Whether Telegram refused the file_id that f's call sent its local file
 * by (a file_id of another bot, say, after the token changed): then that
 * id is forgotten, logged, and the call goes again with an upload. */
static int outbox_file_id_refused(struct outbox *o, struct outbox_flight *f,
	const struct botapi_answer *a)
{
	struct store_err e;
	struct log_line l;

	if (!f->by_id || a->ok || (a->error_code != 400 && a->http != 400) ||
	    (!outbox_contains(a->description, "file identifier") &&
	     !outbox_contains(a->description, "FILE_REFERENCE")))
		return 0;
	if (store_media_forget(o->store, f->row.bot, f->field, f->sha, &e) != STORE_OK) {
		snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
		return 0;
	}
	log_start(&l, "warn", "media file_id refused: uploading again");
	log_str(&l, "bot", f->row.bot);
	log_str(&l, "kind", f->field);
	log_str(&l, "sha256", f->sha);
	log_end(&l);
	return 1;
}

/* f's call again from the start (its edit in place was refused: now a
 * new message). */
static int outbox_again(struct outbox *o, struct outbox_flight *f)
{
	outbox_transfer_free(o, f);
	return outbox_start(o, f);
}

/* After Telegram accepted f's call: what it means for the life cycle
 * (life_send_done). A failure is logged; the call was made. */
static void outbox_life_done(struct outbox *o, struct outbox_flight *f,
	json_object *result)
{
	struct store_err e;
	if (life_send_done(o->store, f->row.bot, f->row.chat_id, &f->life, result,
	    &e) != STORE_OK)
		log_msg("warn", "sent message not kept", e.msg);
}

/* Decides what became of a finished call. */
static int outbox_finish(struct outbox *o, struct outbox_flight *f, CURLcode cc)
{
	struct botapi_answer a;
	struct store_err le;
	double now = mono_now();
	char why[320];
	long http = 0;
	int same, rc;

	memset(&a, 0, sizeof(a));
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &http);
	if (cc == CURLE_ABORTED_BY_CALLBACK && f->requests > 1)
		snprintf(a.transport, sizeof(a.transport), "%s: the connection closed "
			"without an answer (the call may have been done)", f->row.method);
	else if (cc != CURLE_OK)
		snprintf(a.transport, sizeof(a.transport), "%s: %s", f->row.method,
			curl_easy_strerror(cc));
	else
		botapi_parse(&a, http, f->answer.p ? f->answer.p : "", f->answer.len);
	same = !a.ok && outbox_contains(a.description, "message is not modified");
	if (outbox_file_id_refused(o, f, &a)) {
		botapi_answer_free(&a);
		return outbox_again(o, f);   /* now an upload */
	}
	if (!a.ok && !same && botapi_verdict(&a) == BOTAPI_FAIL && a.migrate_to == 0 &&
	    life_send_refused(o->store, f->row.bot, f->row.chat_id, &f->life,
	    a.error_code ? a.error_code : a.http, &le) != 0) {
		botapi_answer_free(&a);
		return outbox_again(o, f);   /* the tagged message is gone: a new one */
	}
	if (!a.ok && f->life.delete && botapi_verdict(&a) == BOTAPI_FAIL &&
	    a.http != 403 && a.error_code != 403 && a.migrate_to == 0)
		a.ok = 1;   /* too old to delete, or deleted: forgotten all the same */
	if (a.ok || same) {
		if (a.ok && f->upload)
			outbox_keep_file_id(o, f, &a);
		if (a.ok)
			outbox_life_done(o, f, a.result);
		rc = outbox_record(o, f, OUTBOX_SENT, 0, NULL);
	} else if (a.http == 429 || a.error_code == 429) {
		long wait = a.retry_after > 0 ? a.retry_after : 1;
		struct outbox_chat_slot *c = outbox_chat(o, f->row.bot, f->row.chat_id);
		/* nothing for wait seconds, then one message at a time */
		c->tat = now + (double)wait + (o->burst - 1) * outbox_chat_gap(o, f->row.chat_id);
		rc = outbox_record(o, f, OUTBOX_LATER, (int)wait, NULL);
	} else if (botapi_verdict(&a) == BOTAPI_RETRY) {
		snprintf(why, sizeof(why), "%s", a.transport[0] ? a.transport : a.description);
		if (why[0] == '\0')
			snprintf(why, sizeof(why), "HTTP %ld", a.http);
		if (f->row.attempts + 1 >= OUTBOX_TRIES) {
			char dead[400];
			snprintf(dead, sizeof(dead), "gave up after %d tries: %s", OUTBOX_TRIES, why);
			rc = outbox_record(o, f, OUTBOX_DEAD, 0, dead);
		} else {
			rc = outbox_record(o, f, OUTBOX_RETRY, outbox_retry_delay(f->row.attempts), why);
		}
	} else if (a.migrate_to != 0) {
		struct store_err e;
		char bot[33];
		long long from = f->row.chat_id;
		snprintf(bot, sizeof(bot), "%s", f->row.bot);
		rc = outbox_record(o, f, OUTBOX_LATER, 0, NULL);
		if (rc == STORE_OK)
			rc = o->store->ops->outbox_migrate(o->store, bot, from, a.migrate_to, &e);
		if (rc != STORE_OK)
			snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
	} else if (a.http == 403 || a.error_code == 403) {
		struct store_err e;
		char bot[33];
		long long chat = f->row.chat_id;
		snprintf(bot, sizeof(bot), "%s", f->row.bot);
		snprintf(why, sizeof(why), "%s", a.description[0] ? a.description : "Forbidden");
		rc = outbox_record(o, f, OUTBOX_DEAD, 0, why);
		if (rc == STORE_OK)
			rc = o->store->ops->outbox_blocked(o->store, bot, chat, why, &e);
		if (rc != STORE_OK)
			snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
	} else {
		snprintf(why, sizeof(why), "%s", a.description[0] ? a.description : "refused");
		rc = outbox_record(o, f, OUTBOX_DEAD, 0, why);
	}
	botapi_answer_free(&a);
	return rc;
}

static int outbox_take(struct outbox *o)
{
	struct store_outbox_row rows[OUTBOX_FLIGHTS];
	struct store_err e;
	double at = mono_now();
	int free_slots = 0, n = 0, rc;

	for (int i = 0; i < OUTBOX_FLIGHTS; i++) {
		struct outbox_flight *f = &o->flights[i];
		free_slots += f->state == F_FREE;
		if (o->draining && f->state == F_WAITING)
			outbox_record(o, f, OUTBOX_LATER, 0, NULL);   /* give it back */
	}
	if (free_slots == 0 || o->draining)
		return STORE_OK;
	rc = o->store->ops->outbox_take(o->store, o->owner, free_slots, OUTBOX_LEASE, rows,
		&n, &e);
	if (rc != STORE_OK) {
		snprintf(o->last_error, sizeof(o->last_error), "%s", e.msg);
		return rc;
	}
	for (int i = 0, slot = 0; i < n; i++) {
		struct outbox_flight *f = outbox_in_hand(o, rows[i].id);
		if (f) {
			/* its lease ran out while it waited or was in flight; ours again */
			f->leased_at = at;
			free(rows[i].params);
			continue;
		}
		while (o->flights[slot].state != F_FREE)
			slot++;
		f = &o->flights[slot];
		f->row = rows[i];
		memset(&f->life, 0, sizeof(f->life));
		f->bot = outbox_bot(o, rows[i].bot);
		f->start_at = outbox_chat_due(o, f);
		f->leased_at = at;
		f->seq = ++o->seq;
		f->state = F_WAITING;
		if (f->bot == NULL || f->bot->token[0] == '\0')
			rc = outbox_record(o, f, OUTBOX_LATER, OUTBOX_LEASE, NULL);
	}
	return rc;
}

int outbox_step(struct outbox *o, int wait_ms, int extra_fd)
{
	struct curl_waitfd extra = { extra_fd, CURL_WAIT_POLLIN, 0 };
	double now = mono_now(), soonest = now + (double)wait_ms / 1000;
	int running = 0, in_hand = 0, msgs, timeout, failed = 0;
	CURLMsg *m;

	/* outcomes the store did not take yet come first; while it fails,
	 * nothing new is taken or started, but what is in flight goes on */
	for (int i = 0; i < OUTBOX_FLIGHTS && !failed; i++)
		if (o->flights[i].state == F_DONE)
			failed = outbox_settle(o, &o->flights[i]) != STORE_OK;
	if (!failed && (now - o->last_take >= OUTBOX_TAKE_EVERY || o->draining ||
	    (o->take_soon && now - o->last_take >= OUTBOX_TAKE_MIN))) {
		o->last_take = now;
		o->take_soon = 0;
		failed = outbox_take(o) != STORE_OK;
	}
	/* start what may go, oldest taken first, so none waits for ever */
	while (!failed) {
		struct outbox_flight *oldest = NULL;
		double due;
		int held;
		for (int i = 0; i < OUTBOX_FLIGHTS; i++) {
			struct outbox_flight *f = &o->flights[i];
			if (f->state == F_WAITING && f->start_at <= now && f->bot->next <= now &&
			    (oldest == NULL || f->seq < oldest->seq))
				oldest = f;
		}
		if (oldest == NULL)
			break;
		due = outbox_chat_due(o, oldest);
		if (due > now) {
			oldest->start_at = due;   /* its chat's bucket is empty */
			continue;
		}
		held = outbox_hold(o, oldest);
		if (held < 0) {
			failed = 1;
			break;
		}
		if (held == 0)
			continue;
		if (!outbox_bot_token(o, oldest->bot, now))
			break;
		outbox_chat_spend(o, oldest, now);
		failed = outbox_start(o, oldest) != STORE_OK;
	}
	for (int i = 0; i < OUTBOX_FLIGHTS; i++) {
		struct outbox_flight *f = &o->flights[i];
		double at;
		if (f->state == F_ACTIVE)
			soonest = now + 0.02;
		if (f->state != F_WAITING)
			continue;
		at = f->start_at > f->bot->next ? f->start_at : f->bot->next;
		if (at < soonest)
			soonest = at;
	}
	curl_multi_perform(o->multi, &running);
	for (int i = 0; i < OUTBOX_FLIGHTS; i++)
		in_hand += o->flights[i].state != F_FREE;
	if (in_hand == 0 && soonest > now + OUTBOX_TAKE_EVERY && wait_ms > 50)
		soonest = now + (double)wait_ms / 1000;   /* idle: the wake fd or the poll */
	else if (soonest > now + OUTBOX_TAKE_EVERY)
		soonest = now + OUTBOX_TAKE_EVERY;
	if (o->take_soon && soonest > o->last_take + OUTBOX_TAKE_MIN)
		soonest = o->last_take + OUTBOX_TAKE_MIN;
	timeout = (int)((soonest - now) * 1000);
	curl_multi_poll(o->multi, extra_fd >= 0 ? &extra : NULL, extra_fd >= 0 ? 1 : 0,
		timeout > 0 ? timeout : 0, NULL);
	if (extra.revents & CURL_WAIT_POLLIN)
		o->take_soon = 1;   /* a step committed calls */
	curl_multi_perform(o->multi, &running);
	for (m = curl_multi_info_read(o->multi, &msgs); m; m = curl_multi_info_read(o->multi, &msgs)) {
		struct outbox_flight *f = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
		if (f && outbox_finish(o, f, m->data.result) != STORE_OK)
			failed = 1;   /* its outcome is kept (F_DONE) */
	}
	in_hand = 0;
	for (int i = 0; i < OUTBOX_FLIGHTS; i++)
		in_hand += o->flights[i].state != F_FREE;
	return failed ? -1 : in_hand;
}
