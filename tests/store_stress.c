/* store_stress.c - drives the store from many processes for the store
 * tests and the store benchmark (not a unit test by itself).
 *
 *   store_stress apply URI FLOW PROC COUNT CHATS
 *       applies COUNT updates (ids PROC*1000000+1...) spread over CHATS
 *       chats, retrying transient failures as Telegram would re-send;
 *       prints "applied A repeats R transient T seconds S p99_ms P max_ms M"
 *       (P, M: an update's time through the store, retries included)
 *   store_stress one URI FLOW UPDATE_ID CHAT TEXT
 *       applies one update; prints the chat's node and any warning
 *   store_stress pause URI FLOW UPDATE_ID
 *       runs one update up to just before COMMIT, prints "paused" and
 *       waits to be killed
 * With BF_TEST_KEY set (64 hex digits) the store seals with that key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/apply.h"
#include "engine/crypto.h"
#include "engine/flow.h"
#include "engine/store.h"

#define STRESS_DEADLINE 120   /* seconds a process may keep retrying */

static double stress_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stress_update(long long update_id, long long chat, struct update *u)
{
	char body[512], err[256];
	snprintf(body, sizeof(body), "{\"update_id\":%lld,\"message\":{\"message_id\":%lld,"
		"\"date\":1700000000,\"chat\":{\"id\":%lld,\"type\":\"private\"},"
		"\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"S\"},"
		"\"text\":\"answer %lld\"}}", update_id, update_id, chat, chat, update_id);
	if (update_parse(body, strlen(body), u, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_stress: %s\n", err);
		return -1;
	}
	return 0;
}

/* Opens the store and applies the test key (or none). */
static int stress_open(const char *uri, struct store **s, struct store_err *e)
{
	static struct crypto_key key;
	char err[256];
	int rc = store_open(uri, s, e);

	if (rc != STORE_OK)
		return rc;
	if (getenv("BF_TEST_KEY") == NULL)
		return store_use_key(*s, NULL, e);
	if (crypto_key_from_env("BF_TEST_KEY", &key, err, sizeof(err)) != 0)
		return store_fail(e, STORE_PERMANENT, "%s", err);
	return store_use_key(*s, &key, e);
}

static int stress_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static struct flow *stress_flow(const char *file)
{
	struct flow *f = NULL;
	struct diag d;
	diag_init(&d);
	if (flow_load(file, &f, &d) != 0)
		diag_print(&d, stderr, file, 0);
	diag_free(&d);
	return f;
}

static int stress_apply(const char *uri, struct flow *f, long long proc,
	long long count, long long chats)
{
	struct engine_env env = { 0 };
	struct store *s = NULL;
	struct store_err e;
	long long applied = 0, repeats = 0, transient = 0;
	double t0 = stress_now();
	double *took = calloc((size_t)(count > 0 ? count : 1), sizeof(double));

	if (took == NULL || stress_open(uri, &s, &e) != STORE_OK) {
		fprintf(stderr, "store_stress: %s\n", took ? e.msg : "out of memory");
		store_close(s);
		free(took);
		return 1;
	}
	for (long long i = 1; i <= count; i++) {
		struct apply_job job = { .bot = "stress", .flow = f, .env = &env, .inline_reply = 1 };
		struct update u;
		double start = stress_now();
		int rc;
		if (stress_update(proc * 1000000 + i, 1 + (i % chats) + proc * chats * (chats > 1), &u))
			return 1;
		job.u = &u;
		for (;;) {
			struct apply_result r;
			apply_result_init(&r);
			rc = apply_update(s, &job, &r, &e);
			if (rc == STORE_OK) {
				applied += !r.repeat;
				repeats += r.repeat;
			}
			apply_result_free(&r);
			if (rc != STORE_TRANSIENT)
				break;
			transient++;
			if (stress_now() - t0 > STRESS_DEADLINE) {
				fprintf(stderr, "store_stress: still failing: %s\n", e.msg);
				return 1;
			}
			usleep(20000);
		}
		update_free(&u);
		if (rc != STORE_OK) {
			fprintf(stderr, "store_stress: update %lld: %s\n", i, e.msg);
			return 1;
		}
		took[i - 1] = stress_now() - start;
	}
	qsort(took, (size_t)count, sizeof(double), stress_cmp);
	printf("applied %lld repeats %lld transient %lld seconds %.3f p99_ms %.2f max_ms %.2f\n",
		applied, repeats, transient, stress_now() - t0,
		count > 0 ? took[(count * 99 - 1) / 100] * 1e3 : 0.0,
		count > 0 ? took[count - 1] * 1e3 : 0.0);
	free(took);
	store_close(s);
	return 0;
}

/* One update with the given text; prints "node N warning W". */
static int stress_one(const char *uri, struct flow *f, long long update_id,
	long long chat, const char *text)
{
	struct engine_env env = { 0 };
	struct store *s = NULL;
	struct store_err e;
	struct apply_result r;
	struct apply_job job = { .bot = "stress", .flow = f, .env = &env, .inline_reply = 1 };
	struct update u;
	char body[1024], err[256];
	int rc;

	snprintf(body, sizeof(body), "{\"update_id\":%lld,\"message\":{\"message_id\":1,"
		"\"date\":1,\"chat\":{\"id\":%lld,\"type\":\"private\"},\"from\":{\"id\":%lld,"
		"\"is_bot\":false,\"first_name\":\"S\"},\"text\":\"%s\"}}", update_id, chat,
		chat, text);
	if (update_parse(body, strlen(body), &u, err, sizeof(err)) != 0 ||
	    stress_open(uri, &s, &e) != STORE_OK) {
		fprintf(stderr, "store_stress: %s\n", s ? e.msg : err);
		store_close(s);
		return 1;
	}
	job.u = &u;
	apply_result_init(&r);
	rc = apply_update(s, &job, &r, &e);
	if (rc == STORE_OK)
		printf("to %s warning %s\n", r.out.n_calls ? "sent" : "silent",
			r.out.warning[0] ? r.out.warning : "none");
	else
		fprintf(stderr, "store_stress: %s\n", e.msg);
	apply_result_free(&r);
	update_free(&u);
	store_close(s);
	return rc == STORE_OK ? 0 : 1;
}

/* Everything of one update but the COMMIT, then wait to be killed. */
static int stress_pause(const char *uri, struct flow *f, long long update_id)
{
	struct engine_env env = { 0 };
	struct store *s = NULL;
	struct store_err e;
	struct store_chat sc;
	struct store_save sv;
	struct step_out out;
	struct update u;
	struct buf reply;
	int repeat;

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	buf_init(&reply, 1024);
	step_out_init(&out);
	if (stress_open(uri, &s, &e) != STORE_OK || stress_update(update_id, 1, &u) ||
	    chat_init(&sc.chat, 1) || s->ops->begin(s, &e) ||
	    s->ops->claim(s, "stress", update_id, &repeat, &reply, &e) ||
	    s->ops->lock_chat(s, "stress", &sc, &e) ||
	    engine_step(f, &sc.chat, &u, &env, &out)) {
		fprintf(stderr, "store_stress: %s\n", e.msg);
		return 1;
	}
	sv.bot = "stress";
	sv.update_id = update_id;
	sv.sc = &sc;
	sv.flow_hash = f->hash_hex;
	sv.out = &out;
	sv.said = "paused";
	if (s->ops->save(s, &sv, &e) != STORE_OK) {
		fprintf(stderr, "store_stress: %s\n", e.msg);
		return 1;
	}
	printf("paused\n");
	fflush(stdout);
	sleep(120);
	return 1;
}

int main(int argc, char **argv)
{
	struct flow *f;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: store_stress apply URI FLOW PROC COUNT CHATS | "
			"pause URI FLOW UPDATE_ID\n");
		return 2;
	}
	f = stress_flow(argv[3]);
	if (f == NULL)
		return 1;
	if (strcmp(argv[1], "apply") == 0 && argc == 7)
		rc = stress_apply(argv[2], f, strtoll(argv[4], NULL, 10),
			strtoll(argv[5], NULL, 10), strtoll(argv[6], NULL, 10));
	else if (strcmp(argv[1], "one") == 0 && argc == 7)
		rc = stress_one(argv[2], f, strtoll(argv[4], NULL, 10),
			strtoll(argv[5], NULL, 10), argv[6]);
	else if (strcmp(argv[1], "pause") == 0 && argc == 5)
		rc = stress_pause(argv[2], f, strtoll(argv[4], NULL, 10));
	else
		rc = 2;
	flow_free(f);
	return rc;
}
