/* store.h - where chats, processed updates, the outbox and the
 * transcript live. One interface, a table of functions (in the manner of
 * SQLite's sqlite3_io_methods), with backends for SQLite (the embedded
 * default), PostgreSQL (production) and memory (replay and tests). What
 * differs between backends is an op or a field of that table; nothing
 * asks which backend it talks to.
 *
 * One update is one transaction, run by apply.c:
 *   store_start (begin, claim the update id: a repeat returns the first
 *   answer and stops; lock the chat) -> engine step -> store_finish
 *   (save, commit); store_rollback on any failure. The SQL backends look
 *   the id up under the database's or the chat's lock and write it once,
 *   with its reply, in save.
 *
 * A store handle belongs to one process: open it after fork. */
#ifndef BLUEFLOW_STORE_H
#define BLUEFLOW_STORE_H

#include "engine/buf.h"
#include "engine/crypto.h"
#include "engine/engine.h"
#include "engine/flow.h"
#include "engine/timer.h"

#define STORE_OK 0
#define STORE_TRANSIENT (-1)      /* retry later: connection lost, lock timeout, busy */
#define STORE_PERMANENT (-2)      /* will never succeed: bad data */

#define STORE_VERSION 4           /* of struct store_ops */
#define STORE_REPLY_MAX (64 * 1024)
#define STORE_LOCK_TIMEOUT_MS 5000

struct store_err {
	int code;                     /* STORE_TRANSIENT or STORE_PERMANENT */
	char msg[256];
};

/* A chat as stored: the engine's struct chat plus what only the store
 * needs. */
struct store_chat {
	struct chat chat;
	char flow_hash[65];
	int pending;                  /* the outbox holds unsent rows for it */
	int is_new;
};

/* What one update leaves behind, for store_save. */
struct store_save {
	const char *bot;
	long long update_id;
	const struct store_chat *sc;
	const char *flow_hash;
	const struct step_out *out;
	unsigned inline_call;         /* 1 + the index of the call given inline
	                               * instead of queued; 0: every call queued */
	unsigned refused_from;        /* 1 + the index of the first call to the
	                               * chat kept as a dead letter instead
	                               * (max_chat_outbox): it and the chat's
	                               * later ones are not queued; 0: none */
	const char *reply;            /* the inline reply given, or NULL */
	const char *said;             /* what the user sent, for the transcript */
	int quiet;                    /* no transcript: the update erased it */
	const struct timer_plan *timers;   /* the chat's timer changes (the
	                               * backend's timers_set), or NULL */
};

struct store;
struct sql_file;

/* A call leased from the outbox. */
struct store_outbox_row {
	long long id;
	char bot[33];
	long long chat_id;
	char method[48];
	char *params;                 /* JSON text, malloc'd */
	int attempts;
};

enum store_outbox_result {
	OUTBOX_SENT,                  /* delivered */
	OUTBOX_LATER,                 /* not tried (rate limit): again after delay, no attempt counted */
	OUTBOX_RETRY,                 /* failed for now: again after delay, one attempt more */
	OUTBOX_DEAD                   /* given up: a dead letter, with the error */
};

/* The kinds of timers timers_take leases: the http calls are made apart
 * from the other timers, so that a slow service holds up none of them. */
enum store_take {
	STORE_TAKE_ALL,
	STORE_TAKE_HTTP,              /* only kind "http" */
	STORE_TAKE_OTHERS             /* all but kind "http" */
};

/* The statements of the operators' commands (store_admin.c) whose SQL
 * differs between backends: clocks (unix seconds or timestamptz), casts
 * and row locks. Times come back as unix seconds. */
struct store_admin_sql {
	const char *lock_chat;        /* $1 bot, $2 chat_id: holds the chat's row lock */
	const char *outbox_list;      /* $1 state, $2 limit: id, bot, chat_id, method,
	                                 attempts, next_at, last_error, created_at,
	                                 params */
	const char *outbox_retry;     /* $1 id (0: every dead call): dead -> pending, due now */
	const char *outbox_drop;      /* $1 id (0: every dead call): deletes unsent calls */
	const char *chats;            /* $1 bot: chat_id, node, finished, context,
	                                 updated_at, member, by chat_id, member */
	const char *secs;             /* printf format: the time column %s as unix seconds */
	const char *time_of;          /* printf format: unix seconds %s (a parameter)
	                                 as a time to compare a time column with */
	/* timers (store_timer.c): set is one or two statements ($1 bot,
	 * $2 chat_id, $3 a JSON array of the kinds to delete, $4 a JSON array
	 * of timers {kind, node, visit, n, due_ms} to add, $5 member); take
	 * leases ($1 now_ms, $2 lease_until_ms, $3 owner, $4 max, $5 "all",
	 * "http" or "others": the kinds taken, enum store_take) and returns
	 * id, bot, chat_id, kind, node, visit, n, due_ms, member */
	const char *timers_set[2];
	const char *timers_take;
};

/* One row of an operator's query: n columns as text, NULL for SQL NULL.
 * Returns 0 to go on, non-zero to stop. */
typedef int (*store_row_fn)(void *arg, int n, const char *const *cols);

struct store_ops {
	int version;                  /* STORE_VERSION */
	const char *name;
	void (*close)(struct store *s);
	/* Applies missing migrations up to version target (0: all);
	 * *applied counts them. */
	int (*migrate)(struct store *s, int target, int *applied, struct store_err *e);
	/* Reads meta value name into out; *found 0 when there is none. */
	int (*meta_get)(struct store *s, const char *name, struct buf *out,
		int *found, struct store_err *e);
	int (*meta_set)(struct store *s, const char *name, const char *value,
		struct store_err *e);
	/* Re-seals every context and transcript text from old (NULL:
	 * plaintext) to the store's key (NULL: plaintext), in one
	 * transaction; *rows counts them. */
	int (*reseal)(struct store *s, const struct crypto_key *old, int *rows,
		struct store_err *e);
	int (*begin)(struct store *s, struct store_err *e);
	/* 0 and *repeat = 0 for a new update id; *repeat = 1 and the
	 * recorded reply in reply ("" for none) for one seen before. */
	int (*claim)(struct store *s, const char *bot, long long update_id,
		int *repeat, struct buf *reply, struct store_err *e);
	/* Locks the chat's row, creating it, and loads it into sc (sc->chat
	 * must be initialised by chat_init; its ctx is replaced). */
	int (*lock_chat)(struct store *s, const char *bot, struct store_chat *sc,
		struct store_err *e);
	int (*save)(struct store *s, const struct store_save *sv, struct store_err *e);
	int (*commit)(struct store *s, struct store_err *e);
	void (*rollback)(struct store *s);
	/* Optional fast paths, NULL where a backend has none: begin + claim
	 * + lock_chat in one round trip (on a repeat the chat is not
	 * loaded), and save + commit in another. */
	int (*start)(struct store *s, const char *bot, long long update_id,
		struct store_chat *sc, int *repeat, struct buf *reply,
		struct store_err *e);
	int (*finish)(struct store *s, const struct store_save *sv, struct store_err *e);
	/* Deletes processed updates older than update_hours and sent outbox
	 * rows older than sent_days, at most limit rows; *n counts them. */
	int (*prune)(struct store *s, int update_hours, int sent_days, int limit,
		int *n, struct store_err *e);
	/* 1 when the store answers, 0 otherwise. */
	int (*ping)(struct store *s);
	/* Applies s->lock_timeout_ms; NULL where nothing needs doing. */
	void (*set_lock_timeout)(struct store *s, int ms);
	/* Leases up to max due calls to owner (a sender's token) for lease_s
	 * seconds: of each chat only the oldest pending call, and none of a
	 * chat whose head is leased or not yet due. *n counts them; params
	 * are the caller's to free. */
	int (*outbox_take)(struct store *s, const char *owner, int max, int lease_s,
		struct store_outbox_row *rows, int *n, struct store_err *e);
	/* Extends owner's lease on call id to lease_s seconds from now, if
	 * owner still holds it (pending, and not taken by another sender
	 * since, even when the lease ran out): *held 1, else 0. */
	int (*outbox_renew)(struct store *s, const char *owner, long long id,
		int lease_s, int *held, struct store_err *e);
	/* Records what became of a leased call (see enum store_outbox_result):
	 * OUTBOX_SENT whoever holds it (it was delivered), the others only
	 * while owner holds it. */
	int (*outbox_done)(struct store *s, const char *owner, long long id,
		int result, int delay_s, const char *error, struct store_err *e);
	/* The chat blocked the bot: marks it, and its pending calls dead. */
	int (*outbox_blocked)(struct store *s, const char *bot, long long chat_id,
		const char *why, struct store_err *e);
	/* A group became a supergroup: its states (the chat's, each
	 * member's) with their timers, kept message ids and transcript, and its pending
	 * calls move to the new id, in one transaction; a state already at
	 * the new id stays, and so do the old one's and its rows. */
	int (*outbox_migrate)(struct store *s, const char *bot, long long from,
		long long to, struct store_err *e);
	/* Runs one statement off the hot path (operators' commands, the rare
	 * attachment row), inside the open transaction if there is one:
	 * parameters $1..$n as text; each result row goes to fn (NULL:
	 * none wanted); *changes (NULL: not wanted) counts rows changed.
	 * NULL where the backend has no SQL. */
	int (*query)(struct store *s, const char *sql, const char *const *params,
		int n, store_row_fn fn, void *arg, long long *changes,
		struct store_err *e);
	/* The backend's text of the statements that differ; NULL with query. */
	const struct store_admin_sql *admin;
	/* Timers (engine/timer.h). set: inside the open transaction, deletes
	 * the chat's timers of the kinds in p->cancel, then adds p's. take:
	 * leases up to max timers due by now_ms, not leased by another, to
	 * owner for lease_ms (in one statement, its own transaction), oldest
	 * first, of the kinds which says; *n counts them. claim: inside the open transaction, with the
	 * chat locked, deletes timer id; *found 0 when it is gone (cancelled,
	 * or fired by another). next: the earliest due time of the timers not
	 * leased at now_ms (*any 0: none). */
	int (*timers_set)(struct store *s, const char *bot, long long chat_id,
		long long member, const struct timer_plan *p, struct store_err *e);
	int (*timers_take)(struct store *s, const char *owner, long long now_ms,
		int max, int lease_ms, enum store_take which, struct timer *rows,
		int *n, struct store_err *e);
	int (*timer_claim)(struct store *s, long long id, int *found, struct store_err *e);
	int (*timers_next)(struct store *s, long long now_ms, long long *due_ms,
		int *any, struct store_err *e);
	/* Optional: start (the update id -t->id) and timer_claim (t->id) in
	 * one go; without it store_start_timer runs them one after the other. */
	int (*start_timer)(struct store *s, const char *bot, const struct timer *t,
		struct store_chat *sc, int *repeat, struct buf *reply, int *found,
		struct store_err *e);
};

struct store {
	const struct store_ops *ops;
	int transcript;               /* keep a transcript (default on) */
	int lock_timeout_ms;          /* longest wait for a chat's lock */
	const struct crypto_key *key; /* seals context and transcript, or NULL */
	struct buf seal;              /* scratch for sealing */
	struct buf open;              /* scratch for opening */
	struct buf said, told;        /* store_transcript's row */
	struct buf value;             /* store_reseal_value's result */
	struct json_tokener *tok;     /* parses the contexts loaded, reused */
};

/* Opens the store a config names: "sqlite:PATH", "postgresql://..." or
 * "memory:". Returns 0, or a STORE_ error with a message. */
int store_open(const char *uri, struct store **out, struct store_err *e);

/* Closes and frees; NULL is fine. */
void store_close(struct store *s);

/* Sets the longest wait for a chat's lock (PostgreSQL lock_timeout,
 * SQLite busy timeout); from the next transaction on. */
void store_set_lock_timeout(struct store *s, int ms);

/* Uses key (NULL: none) to seal what the store keeps, after checking it
 * against the database: a wrong key, or no key for a database that holds
 * sealed data, is refused with a clear error. The first key used is
 * recorded. The key must outlive the store. Needs a migrated database. */
int store_use_key(struct store *s, const struct crypto_key *key, struct store_err *e);

/* Opens one update's transaction: begins, claims update_id and, for a
 * new one, locks the chat's row (creating it) and loads it into sc
 * (sc->chat set up by chat_init). For an update seen before *repeat = 1,
 * the recorded reply is in reply ("" for none) and the chat is not
 * loaded. In one round trip where the backend can. On error the caller
 * rolls back. */
int store_start(struct store *s, const char *bot, long long update_id,
	struct store_chat *sc, int *repeat, struct buf *reply, struct store_err *e);

/* Saves what the update leaves behind and commits; in one round trip
 * where the backend can. On error the caller rolls back. */
int store_finish(struct store *s, const struct store_save *sv, struct store_err *e);

/* store_start for timer t (claiming the update id -t->id), then, unless a
 * repeat, its timer_claim: *found 0 when the timer is gone (cancelled, or
 * fired by another). */
int store_start_timer(struct store *s, const char *bot, const struct timer *t,
	struct store_chat *sc, int *repeat, struct buf *reply, int *found,
	struct store_err *e);

/* Ends the open transaction without a trace; nothing open is fine. */
void store_rollback(struct store *s);

/* Whether calls[i] of sv goes to the outbox (it was not given inline
 * nor refused). */
int store_queued(const struct store_save *sv, unsigned i);

/* The transcript row of one saved update, the same for every backend:
 * *said what the user sent, *told a JSON array of the texts of the
 * messages sent ("[]" for none), each text sealed when the store has a
 * key; both NULL when the store keeps no transcript or the update erased
 * it. The pointers live until the next call. Returns STORE_OK or an
 * error. */
int store_transcript(struct store *s, const struct store_save *sv,
	const char **said, const char **told, struct store_err *e);

/* One stored value re-sealed from key old (NULL: plaintext) to the
 * store's key (NULL: plaintext), for rekey: text as stored, or with list
 * a JSON array of such texts (the transcript's told). *out lives until
 * the next call. */
int store_reseal_value(struct store *s, const struct crypto_key *old,
	const char *text, int list, const char **out, struct store_err *e);

/* Backends' helpers: text as it is to be stored (sealed when the store
 * has a key; the pointer lives until the next call), and the chat's
 * context from stored text. */
int store_seal(struct store *s, const char *text, const char **out, struct store_err *e);
int store_load_context(struct store *s, struct store_chat *sc, const char *text,
	struct store_err *e);

/* The chat's context as it is to be stored, sealed when the store has a
 * key; the pointer lives until the next seal. */
int store_seal_context(struct store *s, const struct chat *c, const char **out,
	struct store_err *e);

/* Sets up and releases what struct store holds, for backends. */
void store_base_init(struct store *s, const struct store_ops *ops);
void store_base_free(struct store *s);

/* What a backend lends store_migrate_files(): run one SQL text, read the
 * schema version, and how it opens a migration's transaction. */
struct store_sql {
	int (*exec)(void *arg, const char *sql, struct store_err *e);
	/* runs sql, a SELECT of one integer, into *out */
	int (*number)(void *arg, const char *sql, int *out, struct store_err *e);
	void *arg;
	const char *begin;            /* "BEGIN" or "BEGIN IMMEDIATE" */
};

/* Applies the migrations of files (a backend's list in sql.h) that the
 * database lacks (each one not in schema_version, in order, also below the
 * highest applied), up to target (0: all), each in its own transaction,
 * refusing a schema newer than the binary; *applied counts them. The
 * schema_version table must exist. Returns STORE_OK or an error. */
int store_migrate_files(const struct sql_file *files, const struct store_sql *q,
	int target, int *applied, struct store_err *e);

/* Sets e and returns code. */
int store_fail(struct store_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- off the hot path (store_admin.c): operators' commands and the
 * attachment row; each needs a backend with SQL (not memory:). --- */

/* A kept file, as recorded in the attachments table. */
struct store_file {
	const char *node, *key, *path, *mime, *sha256, *file_unique_id;
	unsigned long size;
};

/* Records a kept file; runs inside the update's open transaction. */
int store_file_add(struct store *s, const char *bot, long long chat_id,
	long long update_id, const struct store_file *f, struct store_err *e);

/* Whether a kept file at path is recorded for bot (*found 1 or 0). */
int store_file_recorded(struct store *s, const char *bot, const char *path,
	int *found, struct store_err *e);

/* How many attachments the chat has (*files) and how many bytes those
 * of the whole bot take (*bytes); both 0 on a store without SQL. */
int store_file_usage(struct store *s, const char *bot, long long chat_id,
	long long *files, long long *bytes, struct store_err *e);
/* How many calls wait in the outbox for the chat, counted up to limit
 * (*n); 0 on a store without SQL. */
int store_outbox_waiting(struct store *s, const char *bot, long long chat_id,
	long long limit, long long *n, struct store_err *e);
/* Keeps a call that is not to be sent as a dead letter with reason why,
 * inside the open transaction (outbox retry may send it later). */
int store_outbox_dead_letter(struct store *s, const char *bot, long long chat_id,
	const char *method, const char *params, const char *why, struct store_err *e);
/* The chat as it is now, read without a lock and outside any
 * transaction, for deciding before an update's transaction what it will
 * need: loads sc (sc->chat set up by chat_init; left as it is for a chat
 * not stored yet) and sets *seen when update_id was claimed already. On
 * a store without tables (memory:) *known = 0 and nothing is read. */
int store_chat_peek(struct store *s, const char *bot, long long update_id,
	struct store_chat *sc, int *seen, int *known, struct store_err *e);

/* Deletes a chat's state, context, transcript, outbox calls, timers,
 * kept poison updates and attachment rows in one transaction (waiting for the chat's lock), and
 * clears inline replies addressed to it. Each kept file's path goes to
 * fn before the commit; *rows counts deleted rows. */
int store_forget(struct store *s, const char *bot, long long chat_id,
	int (*fn)(void *arg, const char *path), void *arg, long long *rows,
	struct store_err *e);

/* The forget command, inside the update's transaction: deletes the
 * chat's transcript, outbox calls, timers, kept poison updates and
 * attachment rows (its row is saved
 * as new by the step); of a member's state (member not 0, struct chat)
 * only that member's transcript, timers and kept message ids. Nothing
 * to do on the memory store. */
int store_erase(struct store *s, const char *bot, long long chat_id, long long member,
	struct store_err *e);

/* Outbox calls for operators. list: pending (dead = 0) or dead calls,
 * oldest first, at most limit, each row as id, bot, chat_id, method,
 * attempts, next_at (unix seconds), last_error, created_at (unix
 * seconds), params (the call's JSON). retry: dead calls back to pending, due now, attempts 0.
 * drop: deletes calls that are not sent. id 0 means every dead call. */
int store_outbox_list(struct store *s, int dead, int limit, store_row_fn fn,
	void *arg, struct store_err *e);
int store_outbox_retry(struct store *s, long long id, long long *n, struct store_err *e);
int store_outbox_drop(struct store *s, long long id, long long *n, struct store_err *e);

/* How many calls wait, and how many are dead. */
int store_outbox_counts(struct store *s, long long *pending, long long *dead,
	struct store_err *e);

/* Calls fn for every chat of bot, by chat id, with its context opened;
 * updated_at in unix seconds. fn returns non-zero to stop. */
int store_chats_each(struct store *s, const char *bot,
	int (*fn)(void *arg, const struct store_chat *sc, long long updated_at),
	void *arg, struct store_err *e);

/* The file_id bot was given for its local media file of kind whose
 * SHA-256 is sha_hex, into id (*found 1), or *found 0 (store_media.c).
 * A store without SQL finds none. */
int store_media_get(struct store *s, const char *bot, const char *kind,
	const char *sha_hex, char *id, size_t idlen, int *found, struct store_err *e);

/* Keeps, or replaces, the file_id of that file. A store without SQL
 * keeps nothing. */
int store_media_put(struct store *s, const char *bot, const char *kind,
	const char *sha_hex, const char *file_id, struct store_err *e);
/* Forgets the file_id of a bot's media file (Telegram refused it), so that
 * the next send uploads the file again (store_media.c). */
int store_media_forget(struct store *s, const char *bot, const char *kind,
	const char *sha_hex, struct store_err *e);
/* --- sent messages to remember (store_sent.c, engine/life.h) ---
 * A store without SQL keeps none: it finds none and forgets nothing. */

/* Keeps message_id of the chat, sent by node for the state of member
 * (struct chat), with its life class ("ephemeral", "system") and tag
 * (NULL: none); a tagged one replaces that state's earlier one of that
 * tag. */
int store_sent_put(struct store *s, const char *bot, long long chat_id,
	long long member, long long message_id, const char *node, const char *life,
	const char *tag, struct store_err *e);

/* The kept ids of node's ephemeral messages of the chat's state of
 * member, oldest first, up to max, into ids; *n counts them. */
int store_sent_ids(struct store *s, const char *bot, long long chat_id,
	long long member, const char *node, long long *ids, int max, int *n,
	struct store_err *e);

/* The last kept message with tag of the chat's state of member, into
 * *id (*found 1), or *found 0. */
int store_sent_tagged(struct store *s, const char *bot, long long chat_id,
	long long member, const char *tag, long long *id, int *found, struct store_err *e);

/* Forgets the kept message_id of the chat. */
int store_sent_drop(struct store *s, const char *bot, long long chat_id,
	long long message_id, struct store_err *e);

/* Forgets every kept message sent over STORE_SENT_KEEP seconds ago: a bot
 * can no longer delete it, and a system one past it is sent anew rather
 * than edited. *n counts them. */
#define STORE_SENT_KEEP (48 * 3600)
int store_sent_prune(struct store *s, long long *n, struct store_err *e);

/* --- timers (store_timer.c) --- */

#define STORE_TIMERS_JSON_MAX 4096

/* A plan as its statements take it: kinds, a JSON array of the kind
 * names to delete; arms, a JSON array of the timers to add ({kind, node,
 * visit, n, due_ms}). Returns non-zero when they do not fit. */
int store_timer_plan_json(const struct timer_plan *p, struct buf *kinds,
	struct buf *arms);

/* The timer ops of the SQL backends, from their admin statements. */
int store_sql_timers_set(struct store *s, const char *bot, long long chat_id,
	long long member, const struct timer_plan *p, struct store_err *e);
int store_sql_timers_take(struct store *s, const char *owner, long long now_ms,
	int max, int lease_ms, enum store_take which, struct timer *rows, int *n,
	struct store_err *e);
int store_sql_timer_claim(struct store *s, long long id, int *found, struct store_err *e);
int store_sql_timers_next(struct store *s, long long now_ms, long long *due_ms,
	int *any, struct store_err *e);

/* Calls fn for each timer of bot (chat_id 0: of every chat), by due
 * time, at most limit: id, chat_id, kind, node, n, due_ms, visit. */
int store_timers_list(struct store *s, const char *bot, long long chat_id,
	int limit, store_row_fn fn, void *arg, struct store_err *e);

/* How many timers wait, of every bot. */
int store_timers_count(struct store *s, long long *n, struct store_err *e);

/* After a flow reload: deletes bot's timers bound to a node f no longer
 * has; *n counts them. */
int store_timers_sweep(struct store *s, const char *bot, const struct flow *f,
	long long *n, struct store_err *e);

/* The chats of bot by status (enum timer_status): counts[status],
 * TIMER_CHAT_COUNT of them. */
int store_chat_statuses(struct store *s, const char *bot, const struct flow *f,
	long long counts[], struct store_err *e);

/* The chats of bot that have an inactivity timer pending, by chat id,
 * into *ids (malloc'd; the caller frees it), *n of them. */
int store_timers_inactive(struct store *s, const char *bot, long long **ids,
	size_t *n, struct store_err *e);

/* Backends. */
int store_sqlite_open(const char *path, struct store **out, struct store_err *e);
int store_pg_open(const char *uri, struct store **out, struct store_err *e);
int store_memory_open(struct store **out, struct store_err *e);

/* Memory store only: calls fn for every chat, in the order they were
 * made (fn returns non-zero to stop); and the node of one chat's state
 * of member (struct chat), or NULL. */
int store_memory_each(struct store *s, int (*fn)(void *arg, const struct store_chat *sc),
	void *arg, struct store_err *e);
const char *store_memory_node(struct store *s, const char *bot, long long chat_id,
	long long member);

#endif
