/* outbox.h - delivering the outbox: leases the head of each chat's queue,
 * sends many chats at once with the libcurl multi interface (one call in
 * flight per chat, so each chat's calls keep their order; a chat's next
 * call is taken the moment the last is answered, and the connections are
 * kept alive), keeps to the rate limits as Telegram counts them: a chat's
 * messages (botapi_is_message) from a token bucket of burst calls that
 * refills at the chat's rate (rate_chat a second, a group's rate_group a
 * minute); the callback's answers and edits are not held back by it; every
 * call of a bot spaced 1/rate_bot apart. It honours retry_after on 429,
 * retries 5xx and network failures after 1, 3 and 9 s, and turns what can
 * never work into dead letters (a blocked chat drops its pending calls; a
 * group that became a supergroup has its chat moved).
 *
 * A lease is the sender's (its owner token) until another sender takes
 * the call over, which it may once the lease ran out. A call is started
 * only while the sender still holds it (renewed first unless taken just
 * now), so a sender that stalled past its lease (a loaded machine, a
 * stopped process) drops what was taken over instead of sending it
 * again. Delivery is at least once only where a sender dies, or stalls
 * longer than a lease's rest, after a request left and before its
 * answer was recorded: another sender then sends that call again; and
 * where the answer is lost on the way (the connection closes after
 * Telegram did the call): libcurl does not send it again at once, the
 * outbox retries it after its delay, counted in its attempts. */
#ifndef BLUEFLOW_OUTBOX_H
#define BLUEFLOW_OUTBOX_H

#include "engine/store.h"

#define OUTBOX_FLIGHTS 64        /* calls in flight or waiting at once */
#define OUTBOX_LEASE 15          /* seconds a taken call stays ours (> the call timeout) */
#define OUTBOX_FRESH 2.0         /* a lease older than this is renewed before its call starts */
#define OUTBOX_TRIES 4           /* a call is tried at most this often */
#define OUTBOX_CHATS 4096        /* chats whose last send time is kept */
#define OUTBOX_TAKE_EVERY 0.05   /* seconds between asking the store for calls */
#define OUTBOX_TAKE_MIN 0.01     /* ... at least, when woken or a call was done */

struct outbox_bot {
	const char *name;
	const char *token;
	double next;                 /* monotonic time the bot may send again */
};

struct outbox_chat_slot {
	char bot[33];
	long long chat_id;
	double tat;                  /* its message bucket, as the time it is full
	                              * again (GCRA); 0: full */
};

struct outbox_flight;

struct outbox_stats {
	unsigned long long sent, retried, dead, later;
};

struct outbox {
	struct store *store;
	const char *api_base;
	void *multi;                 /* CURLM * */
	struct outbox_bot *bots;
	unsigned n_bots;
	double rate_bot, rate_chat, rate_group;
	int burst;                   /* messages a chat may get at once */
	struct outbox_flight *flights;
	struct outbox_chat_slot *chats;
	struct outbox_stats stats;
	int draining;                /* stopping: take nothing new */
	double last_take;            /* when the store was last asked for calls */
	int take_soon;               /* woken, or a call done: ask again soon */
	unsigned long long seq;      /* calls taken so far */
	char owner[33];              /* this sender's lease token: random hex */
	char last_error[256];
};

/* Sets up delivery for bots (name and token each) through store, with
 * the rates and a chat's burst (at least 1). Returns 0 or -1. bots must
 * outlive the outbox. */
int outbox_init(struct outbox *o, struct store *store, const char *api_base,
	struct outbox_bot *bots, unsigned n_bots, double rate_bot, double rate_chat,
	double rate_group, int burst);

/* Takes due calls, starts what the limits allow, waits at most wait_ms
 * (or until extra_fd is readable, when >= 0: then the store is asked for
 * calls again at once) for answers and records them. Returns the number
 * of calls in hand, or -1 when the store failed (o->last_error says why):
 * nothing new was taken or started, but the calls in hand stay, those in
 * flight go on, and an outcome the store did not take is kept and
 * written first by the next step, so that a call made is not made again
 * when its lease runs out. Call it again (after a pause) either way. */
int outbox_step(struct outbox *o, int wait_ms, int extra_fd);

void outbox_free(struct outbox *o);

#endif
