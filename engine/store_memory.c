/* store_memory.c - the store kept in memory, for `blueflow replay` and
 * tests: the same interface and the same round trip through serialized
 * context as the real stores, nothing on disk, no outbox rows or
 * transcript kept (only whether a chat has calls pending). One process,
 * one thread; a transaction's undo is the update it claimed, the chat it
 * made and, when it changed them, the timers as they were. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jdoc.h"
#include "engine/store.h"

struct mem_chat {
	char *bot;
	long long chat_id;
	long long member;             /* struct chat's member */
	char node[FLOW_ID_MAX + 1];
	char flow_hash[65];
	char *context;                /* serialized JSON, maybe sealed */
	int attempts, finished, keyboard;
	unsigned pending;             /* outbox rows not sent */
};

struct mem_update {
	char *bot;
	long long update_id;
	char *reply;                  /* NULL: none */
};

struct store_memory {
	struct store base;
	struct mem_chat *chats;
	size_t n_chats, cap_chats;
	size_t *index;                /* open addressing: chat position + 1 */
	size_t cap_index;
	struct mem_update *updates;   /* open addressing; bot NULL: empty */
	size_t n_updates, cap_updates;
	struct timer *timers;         /* in the order they were armed */
	size_t n_timers, cap_timers;
	long long timer_id;           /* the last id given */
	int in_tx;
	struct mem_update *claimed;   /* undo: the update this transaction claimed */
	int created;                  /* undo: it made the last chat */
	int timers_saved;             /* undo: the timers before its first change */
	struct timer *undo_timers;
	size_t n_undo_timers, cap_undo_timers;
	long long undo_timer_id;
};

static uint64_t mem_hash(const char *bot, long long id)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)id;
	for (; *bot; bot++)
		h = (h ^ (unsigned char)*bot) * 1099511628211ULL;
	h ^= h >> 31;
	return h * 0x9E3779B97F4A7C15ULL;
}

static struct mem_update *mem_update_find(struct store_memory *s, const char *bot,
	long long id, int *found)
{
	size_t mask = s->cap_updates - 1, i = mem_hash(bot, id) & mask;
	for (; s->updates[i].bot; i = (i + 1) & mask) {
		if (s->updates[i].update_id == id && strcmp(s->updates[i].bot, bot) == 0) {
			*found = 1;
			return &s->updates[i];
		}
	}
	*found = 0;
	return &s->updates[i];
}

static int mem_updates_grow(struct store_memory *s)
{
	struct mem_update *old = s->updates;
	size_t old_cap = s->cap_updates, cap = old_cap ? old_cap * 2 : 1024;
	int found;

	s->updates = calloc(cap, sizeof(*s->updates));
	if (s->updates == NULL) {
		s->updates = old;
		return -1;
	}
	s->cap_updates = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].bot)
			*mem_update_find(s, old[i].bot, old[i].update_id, &found) = old[i];
	free(old);
	return 0;
}

/* The index slot of a chat: where it is, or the empty slot it would take. */
static size_t mem_chat_slot(struct store_memory *s, const char *bot, long long chat_id,
	long long member)
{
	size_t mask = s->cap_index - 1, i = (mem_hash(bot, chat_id) ^ (uint64_t)member) & mask;
	for (; s->index[i]; i = (i + 1) & mask) {
		const struct mem_chat *c = &s->chats[s->index[i] - 1];
		if (c->chat_id == chat_id && c->member == member && strcmp(c->bot, bot) == 0)
			break;
	}
	return i;
}

static struct mem_chat *mem_chat_find(struct store_memory *s, const char *bot,
	long long chat_id, long long member)
{
	size_t i;
	if (s->cap_index == 0)
		return NULL;
	i = mem_chat_slot(s, bot, chat_id, member);
	return s->index[i] ? &s->chats[s->index[i] - 1] : NULL;
}

/* Puts every chat in the (empty) index. */
static void mem_chat_index_fill(struct store_memory *s)
{
	for (size_t k = 0; k < s->n_chats; k++)
		s->index[mem_chat_slot(s, s->chats[k].bot, s->chats[k].chat_id,
			s->chats[k].member)] = k + 1;
}

/* Rebuilds the index for n chats (n_chats may be about to grow by one). */
static int mem_chat_reindex(struct store_memory *s, size_t want)
{
	size_t cap = 64, *old = s->index, old_cap = s->cap_index;
	while (cap < want * 2)
		cap *= 2;
	if (cap == old_cap)
		return 0;
	s->index = calloc(cap, sizeof(*s->index));
	if (s->index == NULL) {
		s->index = old;
		return -1;
	}
	s->cap_index = cap;
	mem_chat_index_fill(s);
	free(old);
	return 0;
}

static void mem_close(struct store *base)
{
	struct store_memory *s = (struct store_memory *)base;
	for (size_t i = 0; i < s->n_chats; i++) {
		free(s->chats[i].bot);
		free(s->chats[i].context);
	}
	for (size_t i = 0; i < s->cap_updates; i++) {
		free(s->updates[i].bot);
		free(s->updates[i].reply);
	}
	free(s->chats);
	free(s->index);
	free(s->updates);
	free(s->timers);
	free(s->undo_timers);
	store_base_free(&s->base);
	free(s);
}

static int mem_migrate(struct store *base, int target, int *applied, struct store_err *e)
{
	(void)base;
	(void)target;
	(void)e;
	*applied = 0;
	return STORE_OK;
}

static int mem_meta_get(struct store *base, const char *name, struct buf *out,
	int *found, struct store_err *e)
{
	(void)base;
	(void)name;
	(void)out;
	(void)e;
	*found = 0;
	return STORE_OK;
}

static int mem_meta_set(struct store *base, const char *name, const char *value,
	struct store_err *e)
{
	(void)base;
	(void)name;
	(void)value;
	(void)e;
	return STORE_OK;
}

static int mem_begin(struct store *base, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	(void)e;
	s->in_tx = 1;
	s->claimed = NULL;
	s->created = 0;
	s->timers_saved = 0;
	return STORE_OK;
}

static int mem_commit(struct store *base, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	(void)e;
	s->in_tx = 0;
	s->claimed = NULL;
	s->created = 0;
	s->timers_saved = 0;
	return STORE_OK;
}

/* Removes the update at u and re-inserts the run after it. */
static void mem_update_remove(struct store_memory *s, struct mem_update *u)
{
	size_t mask = s->cap_updates - 1, i = (size_t)(u - s->updates);
	int found;

	free(u->bot);
	free(u->reply);
	memset(u, 0, sizeof(*u));
	s->n_updates--;
	for (i = (i + 1) & mask; s->updates[i].bot; i = (i + 1) & mask) {
		struct mem_update moved = s->updates[i];
		memset(&s->updates[i], 0, sizeof(s->updates[i]));
		*mem_update_find(s, moved.bot, moved.update_id, &found) = moved;
	}
}

static void mem_rollback(struct store *base)
{
	struct store_memory *s = (struct store_memory *)base;
	if (s->claimed)
		mem_update_remove(s, s->claimed);
	if (s->created) {
		struct mem_chat *c = &s->chats[s->n_chats - 1];
		size_t mask = s->cap_index - 1, i = mem_chat_slot(s, c->bot, c->chat_id, c->member);
		s->index[i] = 0;
		for (i = (i + 1) & mask; s->index[i]; i = (i + 1) & mask) {
			size_t k = s->index[i];
			s->index[i] = 0;
			s->index[mem_chat_slot(s, s->chats[k - 1].bot,
				s->chats[k - 1].chat_id, s->chats[k - 1].member)] = k;
		}
		s->n_chats--;
		free(c->bot);
		free(c->context);
	}
	if (s->timers_saved) {
		struct timer *t = s->timers;
		size_t cap = s->cap_timers;
		s->timers = s->undo_timers;
		s->n_timers = s->n_undo_timers;
		s->cap_timers = s->cap_undo_timers;
		s->timer_id = s->undo_timer_id;
		s->undo_timers = t;
		s->cap_undo_timers = cap;
		s->timers_saved = 0;
	}
	s->in_tx = 0;
	s->claimed = NULL;
	s->created = 0;
}

static int mem_claim(struct store *base, const char *bot, long long update_id,
	int *repeat, struct buf *reply, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	struct mem_update *u;
	int found;

	if ((s->n_updates + 1) * 2 > s->cap_updates && mem_updates_grow(s) != 0)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	u = mem_update_find(s, bot, update_id, &found);
	*repeat = found;
	if (found) {
		buf_reset(reply);
		if (u->reply && buf_adds(reply, u->reply) != 0)
			return store_fail(e, STORE_PERMANENT, "recorded reply too large");
		return STORE_OK;
	}
	u->bot = strdup(bot);
	if (u->bot == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	u->update_id = update_id;
	s->n_updates++;
	s->claimed = u;
	return STORE_OK;
}

static int mem_lock_chat(struct store *base, const char *bot,
	struct store_chat *sc, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	struct mem_chat *c = mem_chat_find(s, bot, sc->chat.chat_id, sc->chat.member);

	if (c == NULL) {
		if (mem_chat_reindex(s, s->n_chats + 1) != 0)
			return store_fail(e, STORE_TRANSIENT, "out of memory");
		if (s->n_chats == s->cap_chats) {
			size_t cap = s->cap_chats ? s->cap_chats * 2 : 16;
			struct mem_chat *chats = realloc(s->chats, cap * sizeof(*chats));
			if (chats == NULL)
				return store_fail(e, STORE_TRANSIENT, "out of memory");
			s->chats = chats;
			s->cap_chats = cap;
		}
		c = &s->chats[s->n_chats];
		memset(c, 0, sizeof(*c));
		c->bot = strdup(bot);
		c->context = strdup("{}");
		if (c->bot == NULL || c->context == NULL) {
			free(c->bot);
			free(c->context);
			return store_fail(e, STORE_TRANSIENT, "out of memory");
		}
		c->chat_id = sc->chat.chat_id;
		c->member = sc->chat.member;
		s->index[mem_chat_slot(s, bot, c->chat_id, c->member)] = s->n_chats + 1;
		s->n_chats++;
		s->created = 1;
		sc->is_new = 1;
	}
	memcpy(sc->chat.node, c->node, sizeof(c->node));
	memcpy(sc->flow_hash, c->flow_hash, sizeof(c->flow_hash));
	sc->chat.attempts = c->attempts;
	sc->chat.finished = c->finished;
	sc->chat.keyboard = c->keyboard;
	sc->pending = c->pending > 0;
	return store_load_context(&s->base, sc, c->context, e);
}

static int mem_save(struct store *base, const struct store_save *sv,
	struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	const struct chat *ch = &sv->sc->chat;
	struct mem_chat *c = mem_chat_find(s, sv->bot, ch->chat_id, ch->member);
	const char *ctx;
	char *copy;
	int found;

	if (c == NULL)
		return store_fail(e, STORE_PERMANENT, "save: chat %lld not locked", ch->chat_id);
	if (store_seal_context(&s->base, ch, &ctx, e) != STORE_OK)
		return e->code;
	copy = strdup(ctx);
	if (copy == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	if (sv->reply) {
		struct mem_update *u = mem_update_find(s, sv->bot, sv->update_id, &found);
		if (found) {
			free(u->reply);
			u->reply = strdup(sv->reply);
		}
	}
	free(c->context);
	c->context = copy;
	memcpy(c->node, ch->node, sizeof(c->node));
	snprintf(c->flow_hash, sizeof(c->flow_hash), "%s", sv->flow_hash);
	c->attempts = ch->attempts;
	c->finished = ch->finished;
	c->keyboard = ch->keyboard;
	for (unsigned i = 0; i < sv->out->n_calls; i++)
		c->pending += store_queued(sv, i);
	return STORE_OK;
}

/* --- timers: a list, searched in full (replay holds few) --- */

/* Before a transaction's first change of the timers: keeps them as they
 * are, for a rollback. */
static int mem_timers_save(struct store_memory *s, struct store_err *e)
{
	if (!s->in_tx || s->timers_saved)
		return STORE_OK;
	if (s->cap_undo_timers < s->n_timers) {
		struct timer *grown = realloc(s->undo_timers, s->n_timers * sizeof(*grown));
		if (grown == NULL)
			return store_fail(e, STORE_TRANSIENT, "out of memory");
		s->undo_timers = grown;
		s->cap_undo_timers = s->n_timers;
	}
	if (s->n_timers)
		memcpy(s->undo_timers, s->timers, s->n_timers * sizeof(*s->timers));
	s->n_undo_timers = s->n_timers;
	s->undo_timer_id = s->timer_id;
	s->timers_saved = 1;
	return STORE_OK;
}

static int mem_timers_set(struct store *base, const char *bot, long long chat_id,
	long long member, const struct timer_plan *p, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	size_t k = 0;

	if (mem_timers_save(s, e) != STORE_OK)
		return e->code;
	for (size_t i = 0; i < s->n_timers; i++) {
		const struct timer *t = &s->timers[i];
		if (t->chat_id == chat_id && t->member == member && strcmp(t->bot, bot) == 0 &&
		    (p->cancel & (1u << t->kind)))
			continue;
		s->timers[k++] = *t;
	}
	s->n_timers = k;
	for (unsigned i = 0; i < p->n_arms; i++) {
		struct timer *t;
		if (s->n_timers == s->cap_timers) {
			size_t cap = s->cap_timers ? s->cap_timers * 2 : 16;
			struct timer *grown = realloc(s->timers, cap * sizeof(*grown));
			if (grown == NULL)
				return store_fail(e, STORE_TRANSIENT, "out of memory");
			s->timers = grown;
			s->cap_timers = cap;
		}
		t = &s->timers[s->n_timers++];
		*t = p->arms[i];
		t->id = ++s->timer_id;
		snprintf(t->bot, sizeof(t->bot), "%s", bot);
		t->chat_id = chat_id;
		t->member = member;
	}
	return STORE_OK;
}

/* Takes the max earliest due timers (no leases: one process). */
static int mem_timers_take(struct store *base, const char *owner, long long now_ms,
	int max, int lease_ms, enum store_take which, struct timer *rows, int *n,
	struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	(void)owner;
	(void)lease_ms;
	(void)e;
	*n = 0;
	while (*n < max) {
		const struct timer *best = NULL;
		for (size_t i = 0; i < s->n_timers; i++) {
			const struct timer *t = &s->timers[i];
			int taken = 0;
			for (int j = 0; j < *n && !taken; j++)
				taken = rows[j].id == t->id;
			if (which != STORE_TAKE_ALL &&
			    (t->kind == TIMER_HTTP) != (which == STORE_TAKE_HTTP))
				continue;
			if (!taken && t->due_ms <= now_ms && (best == NULL ||
			    t->due_ms < best->due_ms || (t->due_ms == best->due_ms && t->id < best->id)))
				best = t;
		}
		if (best == NULL)
			break;
		rows[(*n)++] = *best;
	}
	return STORE_OK;
}

static int mem_timer_claim(struct store *base, long long id, int *found,
	struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	*found = 0;
	for (size_t i = 0; i < s->n_timers; i++) {
		if (s->timers[i].id != id)
			continue;
		if (mem_timers_save(s, e) != STORE_OK)
			return e->code;
		memmove(&s->timers[i], &s->timers[i + 1],
			(s->n_timers - i - 1) * sizeof(s->timers[0]));
		s->n_timers--;
		*found = 1;
		break;
	}
	return STORE_OK;
}

static int mem_timers_next(struct store *base, long long now_ms, long long *due_ms,
	int *any, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	(void)now_ms;
	(void)e;
	*any = 0;
	*due_ms = 0;
	for (size_t i = 0; i < s->n_timers; i++)
		if (!*any || s->timers[i].due_ms < *due_ms) {
			*due_ms = s->timers[i].due_ms;
			*any = 1;
		}
	return STORE_OK;
}

static int mem_prune(struct store *base, int update_hours, int sent_days,
	int limit, int *n, struct store_err *e)
{
	(void)base;
	(void)update_hours;
	(void)sent_days;
	(void)limit;
	(void)e;
	*n = 0;   /* nothing is kept long enough to age */
	return STORE_OK;
}

static int mem_reseal(struct store *base, const struct crypto_key *old, int *rows,
	struct store_err *e)
{
	(void)base;
	(void)old;
	*rows = 0;
	return store_fail(e, STORE_PERMANENT, "the memory store keeps nothing to re-seal");
}

/* A group became a supergroup: each of its states (the chat's, each
 * member's) moves to the new id with its timers, unless the new id has
 * that state already; then both stay as they are. */
static int mem_outbox_migrate(struct store *base, const char *bot, long long from,
	long long to, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	int moved = 0;

	if (s->in_tx)
		return store_fail(e, STORE_PERMANENT, "a migration runs in its own transaction");
	for (size_t i = 0; i < s->n_timers; i++) {
		struct timer *t = &s->timers[i];
		if (t->chat_id == from && strcmp(t->bot, bot) == 0 &&
		    mem_chat_find(s, bot, to, t->member) == NULL)
			t->chat_id = to;
	}
	for (size_t i = 0; i < s->n_chats; i++) {
		struct mem_chat *c = &s->chats[i];
		if (c->chat_id == from && strcmp(c->bot, bot) == 0 &&
		    mem_chat_find(s, bot, to, c->member) == NULL) {
			c->chat_id = to;
			moved = 1;
		}
	}
	if (moved) {
		memset(s->index, 0, s->cap_index * sizeof(*s->index));
		mem_chat_index_fill(s);
	}
	return STORE_OK;
}

static int mem_ping(struct store *base)
{
	(void)base;
	return 1;
}

static const struct store_ops memory_ops = {
	.version = STORE_VERSION,
	.name = "memory",
	.close = mem_close,
	.migrate = mem_migrate,
	.meta_get = mem_meta_get,
	.meta_set = mem_meta_set,
	.reseal = mem_reseal,
	.begin = mem_begin,
	.claim = mem_claim,
	.lock_chat = mem_lock_chat,
	.save = mem_save,
	.commit = mem_commit,
	.rollback = mem_rollback,
	.prune = mem_prune,
	.ping = mem_ping,
	.outbox_migrate = mem_outbox_migrate,
	.timers_set = mem_timers_set,
	.timers_take = mem_timers_take,
	.timer_claim = mem_timer_claim,
	.timers_next = mem_timers_next,
};

int store_memory_open(struct store **out, struct store_err *e)
{
	struct store_memory *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (s == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	store_base_init(&s->base, &memory_ops);
	*out = &s->base;
	return STORE_OK;
}

int store_memory_each(struct store *base, int (*fn)(void *arg, const struct store_chat *sc),
	void *arg, struct store_err *e)
{
	struct store_memory *s = (struct store_memory *)base;
	int rc = STORE_OK;

	if (base->ops != &memory_ops)
		return store_fail(e, STORE_PERMANENT, "not a memory store");
	for (size_t i = 0; rc == STORE_OK && i < s->n_chats; i++) {
		struct store_chat sc;
		memset(&sc, 0, sizeof(sc));
		if (chat_init(&sc.chat, s->chats[i].chat_id) != 0)
			return store_fail(e, STORE_TRANSIENT, "out of memory");
		sc.chat.member = s->chats[i].member;
		memcpy(sc.chat.node, s->chats[i].node, sizeof(sc.chat.node));
		memcpy(sc.flow_hash, s->chats[i].flow_hash, sizeof(sc.flow_hash));
		sc.chat.attempts = s->chats[i].attempts;
		sc.chat.finished = s->chats[i].finished;
		sc.chat.keyboard = s->chats[i].keyboard;
		rc = store_load_context(base, &sc, s->chats[i].context, e);
		if (rc == STORE_OK && fn(arg, &sc) != 0)
			rc = store_fail(e, STORE_PERMANENT, "stopped");
		chat_free(&sc.chat);
	}
	return rc;
}

const char *store_memory_node(struct store *base, const char *bot, long long chat_id,
	long long member)
{
	struct store_memory *s = (struct store_memory *)base;
	struct mem_chat *c;
	if (base->ops != &memory_ops)
		return NULL;
	c = mem_chat_find(s, bot, chat_id, member);
	return c ? c->node : NULL;
}
