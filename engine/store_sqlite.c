/* store_sqlite.c - the embedded default store: one SQLite file in WAL
 * mode; BEGIN IMMEDIATE serializes writers, so one chat's updates (and
 * everyone else's) apply one at a time. blueflow's writers queue on a
 * process-shared mutex (the gate, in PATH-lock beside the database)
 * before BEGIN IMMEDIATE, so the next one starts the moment the last
 * commits instead of sleeping in SQLite's busy handler (1-100 ms a try);
 * busy_timeout stays for writers without the gate (sqlite3, an older
 * binary). Both waits are bounded by the lock timeout. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/crypto.h"
#include "engine/jdoc.h"
#include "engine/sql.h"
#include "engine/store.h"


enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_CLAIM, Q_CHAT_NEW, Q_CHAT_GET,
	Q_CHAT_SAVE, Q_OUTBOX, Q_UPDATE_ADD, Q_TRANSCRIPT, Q_PRUNE_UPDATES,
	Q_PRUNE_SENT, Q_META_GET, Q_META_SET, Q_TAKE, Q_RENEW, Q_SENT, Q_LATER,
	Q_RETRY, Q_DEAD, Q_BLOCK_CHAT, Q_BLOCK_CALLS, Q_MOVE_TIMERS, Q_MOVE_SENT, Q_MOVE_CHAT,
	Q_MOVE_CALLS, Q_MOVE_TRANSCRIPT, Q_COUNT
};

static const char *const sqlite_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	/* BEGIN IMMEDIATE holds the database: the update id looked up is
	 * written once, with its reply, by Q_UPDATE_ADD when saved */
	[Q_CLAIM] = "SELECT coalesce(reply, '') FROM updates WHERE bot = ?1 AND update_id = ?2",
	[Q_CHAT_NEW] = "INSERT INTO chats (bot, chat_id, member) VALUES (?1, ?2, ?3) "
		"ON CONFLICT DO NOTHING",
	[Q_CHAT_GET] = "SELECT node, flow_hash, context, attempts, finished, keyboard, "
		"EXISTS (SELECT 1 FROM outbox WHERE bot = ?1 AND chat_id = ?2 AND state = 'pending') "
		"FROM chats WHERE bot = ?1 AND chat_id = ?2 AND member = ?3",
	[Q_CHAT_SAVE] = "UPDATE chats SET node = ?3, flow_hash = ?4, context = ?5, "
		"attempts = ?6, finished = ?7, keyboard = ?8, last_update_id = ?9, "
		"updated_at = strftime('%s', 'now') WHERE bot = ?1 AND chat_id = ?2 "
		"AND member = ?10",
	[Q_OUTBOX] = "INSERT INTO outbox (bot, chat_id, method, params) VALUES (?1, ?2, ?3, ?4)",
	[Q_UPDATE_ADD] = "INSERT INTO updates (bot, update_id, reply) VALUES (?1, ?2, ?3)",
	[Q_TRANSCRIPT] = "INSERT INTO transcript (bot, chat_id, update_id, said, told, "
		"node_from, node_to, outcome, member) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[Q_PRUNE_UPDATES] = "DELETE FROM updates WHERE rowid IN (SELECT rowid FROM updates "
		"WHERE at < strftime('%s', 'now') - ?1 * 3600 LIMIT ?2)",
	[Q_PRUNE_SENT] = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE "
		"state = 'sent' AND sent_at < strftime('%s', 'now') - ?1 * 86400 LIMIT ?2)",
	[Q_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	/* the due calls in outbox_due's order, each its chat's first pending
	 * one: the scan stops after ?1 of them, however long the queue */
	[Q_TAKE] = "UPDATE outbox SET lease_until = strftime('%s', 'now') + ?2, lease_owner = ?3 "
		"WHERE id IN ("
		"SELECT o.id FROM outbox o WHERE o.state = 'pending' "
		"AND o.next_at <= strftime('%s', 'now') AND (o.lease_until IS NULL "
		"OR o.lease_until < strftime('%s', 'now')) AND NOT EXISTS (SELECT 1 FROM outbox p "
		"WHERE p.bot = o.bot AND p.chat_id = o.chat_id AND p.state = 'pending' "
		"AND p.id < o.id) ORDER BY o.next_at, o.id LIMIT ?1) "
		"RETURNING id, bot, chat_id, method, params, attempts",
	[Q_RENEW] = "UPDATE outbox SET lease_until = strftime('%s', 'now') + ?2 WHERE id = ?1 "
		"AND state = 'pending' AND lease_owner = ?3",
	[Q_SENT] = "UPDATE outbox SET state = 'sent', sent_at = strftime('%s', 'now'), "
		"lease_until = NULL WHERE id = ?1 AND state = 'pending'",
	[Q_LATER] = "UPDATE outbox SET next_at = strftime('%s', 'now') + ?2, "
		"lease_until = NULL WHERE id = ?1 AND state = 'pending' AND lease_owner = ?4",
	[Q_RETRY] = "UPDATE outbox SET next_at = strftime('%s', 'now') + ?2, lease_until = NULL, "
		"attempts = attempts + 1, last_error = ?3 WHERE id = ?1 AND state = 'pending' "
		"AND lease_owner = ?4",
	[Q_DEAD] = "UPDATE outbox SET state = 'dead', lease_until = NULL, "
		"attempts = attempts + 1, last_error = ?3 WHERE id = ?1 AND state = 'pending' "
		"AND lease_owner = ?4",
	[Q_BLOCK_CHAT] = "UPDATE chats SET blocked = 1 WHERE bot = ?1 AND chat_id = ?2",
	[Q_BLOCK_CALLS] = "UPDATE outbox SET state = 'dead', lease_until = NULL, last_error = ?3 "
		"WHERE bot = ?1 AND chat_id = ?2 AND state = 'pending'",
	/* what belongs to a state that moves (none is at the new id yet) */
	[Q_MOVE_TIMERS] = "UPDATE timers SET chat_id = ?3 WHERE bot = ?1 AND chat_id = ?2 "
		"AND member NOT IN (SELECT member FROM chats WHERE bot = ?1 AND chat_id = ?3)",
	[Q_MOVE_SENT] = "UPDATE OR IGNORE sent_messages SET chat_id = ?3 WHERE bot = ?1 "
		"AND chat_id = ?2 AND member NOT IN (SELECT member FROM chats WHERE bot = ?1 "
		"AND chat_id = ?3)",
	[Q_MOVE_TRANSCRIPT] = "UPDATE transcript SET chat_id = ?3 WHERE bot = ?1 AND chat_id = ?2 "
		"AND member NOT IN (SELECT member FROM chats WHERE bot = ?1 AND chat_id = ?3)",
	[Q_MOVE_CHAT] = "UPDATE OR IGNORE chats SET chat_id = ?3 WHERE bot = ?1 AND chat_id = ?2",
	[Q_MOVE_CALLS] = "UPDATE outbox SET chat_id = ?3 WHERE bot = ?1 AND chat_id = ?2 "
		"AND state = 'pending'",
	[Q_META_SET] = "INSERT INTO meta (name, value) VALUES (?1, ?2) "
		"ON CONFLICT (name) DO UPDATE SET value = excluded.value",
};

#define SQLITE_GATE_MAGIC 0x62666731u   /* "bfg1" */

/* The gate: the file PATH-lock holds it, mapped shared. Whoever opens the
 * file while nobody else has it open (flock LOCK_EX granted) sets it up
 * afresh; every handle keeps a LOCK_SH on the file while open. */
struct sqlite_gate {
	unsigned magic;
	pthread_mutex_t mutex;        /* process-shared, robust */
	atomic_int waiting;           /* writers waiting for it (one that died
	                                 waiting stays counted: harmless) */
};

/* sqlite_query's statements, prepared once: the same few texts come back
 * (timers, sent messages, media), so the last SQLITE_KEPT stay. */
enum { SQLITE_KEPT = 16 };

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	sqlite3_stmt *kept[SQLITE_KEPT];
	int kept_busy[SQLITE_KEPT];   /* stepping now (a row callback's query
	                                 of the same text prepares its own) */
	unsigned kept_next;           /* the slot a new text takes */
	int in_tx;
	int gate_fd;                  /* -1: no gate, the busy handler alone */
	struct sqlite_gate *gate;
	int gated;                    /* this handle holds the gate */
};

/* Sets up the gate of the database at path; without one (the file cannot
 * be made) writers wait in the busy handler alone. */
static void sqlite_gate_open(struct store_sqlite *s, const char *path)
{
	size_t n = strlen(path) + sizeof("-lock");
	char *name = malloc(n);
	struct stat st;
	void *m;
	int fresh;

	s->gate_fd = -1;
	if (name == NULL)
		return;
	snprintf(name, n, "%s-lock", path);
	s->gate_fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(name);
	if (s->gate_fd < 0)
		return;
	fresh = flock(s->gate_fd, LOCK_EX | LOCK_NB) == 0;
	if ((!fresh && flock(s->gate_fd, LOCK_SH) != 0) ||
	    (fresh && ftruncate(s->gate_fd, sizeof(struct sqlite_gate)) != 0) ||
	    fstat(s->gate_fd, &st) != 0 || (size_t)st.st_size < sizeof(struct sqlite_gate))
		goto none;
	m = mmap(NULL, sizeof(struct sqlite_gate), PROT_READ | PROT_WRITE, MAP_SHARED,
		s->gate_fd, 0);
	if (m == MAP_FAILED)
		goto none;
	s->gate = m;
	if (fresh) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
		pthread_mutex_init(&s->gate->mutex, &a);
		pthread_mutexattr_destroy(&a);
		atomic_init(&s->gate->waiting, 0);
		s->gate->magic = SQLITE_GATE_MAGIC;
		flock(s->gate_fd, LOCK_SH);
	}
	if (s->gate->magic == SQLITE_GATE_MAGIC)
		return;
	munmap(s->gate, sizeof(struct sqlite_gate));
	s->gate = NULL;
none:
	close(s->gate_fd);
	s->gate_fd = -1;
}

static void sqlite_gate_close(struct store_sqlite *s)
{
	if (s->gate)
		munmap(s->gate, sizeof(struct sqlite_gate));
	if (s->gate_fd >= 0)
		close(s->gate_fd);
}

/* Waits for the gate, at most the lock timeout. A holder that died leaves
 * it to the next; a gate that cannot be had otherwise (held by this
 * thread through another handle, unrecoverable) is passed, leaving the
 * wait to SQLite. */
static int sqlite_gate_take(struct store_sqlite *s, struct store_err *e)
{
	struct timespec t;
	int rc;

	if (s->gate == NULL || s->gated)
		return STORE_OK;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += s->base.lock_timeout_ms / 1000;
	t.tv_nsec += (long)(s->base.lock_timeout_ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	atomic_fetch_add(&s->gate->waiting, 1);
	rc = pthread_mutex_timedlock(&s->gate->mutex, &t);
	atomic_fetch_sub(&s->gate->waiting, 1);
	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(&s->gate->mutex);
	if (rc == ETIMEDOUT)
		return store_fail(e, STORE_TRANSIENT, "sqlite: the database stayed "
			"locked for %d ms", s->base.lock_timeout_ms);
	s->gated = rc == 0;
	return STORE_OK;
}

/* Gives the gate back and, when a writer waits, lets the one woken run
 * before this process could take it again (the mutex is not FIFO). */
static void sqlite_gate_give(struct store_sqlite *s)
{
	if (!s->gated)
		return;
	s->gated = 0;
	pthread_mutex_unlock(&s->gate->mutex);
	if (atomic_load(&s->gate->waiting) > 0)
		sched_yield();
}

static int sqlite_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_NOMEM:
		return STORE_TRANSIENT;
	default:
		return STORE_PERMANENT;
	}
}

static int sqlite_fail(struct store_sqlite *s, int rc, const char *what,
	struct store_err *e)
{
	return store_fail(e, sqlite_code(rc), "sqlite: %s: %s", what,
		sqlite3_errmsg(s->db));
}

/* The prepared statement for q, reset and with bindings cleared. */
static sqlite3_stmt *sqlite_stmt(struct store_sqlite *s, int q, struct store_err *e)
{
	int rc;
	if (s->q[q] == NULL) {
		rc = sqlite3_prepare_v3(s->db, sqlite_sql[q], -1,
			SQLITE_PREPARE_PERSISTENT, &s->q[q], NULL);
		if (rc != SQLITE_OK) {
			sqlite_fail(s, rc, "prepare", e);
			return NULL;
		}
	}
	sqlite3_reset(s->q[q]);
	sqlite3_clear_bindings(s->q[q]);
	return s->q[q];
}

/* Runs a statement that returns no rows. */
static int sqlite_done(struct store_sqlite *s, sqlite3_stmt *st, const char *what,
	struct store_err *e)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sqlite_fail(s, rc, what, e);
	sqlite3_reset(st);
	return STORE_OK;
}

/* Runs BEGIN IMMEDIATE (after taking the gate), COMMIT or ROLLBACK (and
 * gives the gate back once no transaction is open). */
static int sqlite_simple(struct store_sqlite *s, int q, struct store_err *e)
{
	sqlite3_stmt *st;
	int rc = q == Q_BEGIN ? sqlite_gate_take(s, e) : STORE_OK;

	if (rc)
		return rc;
	st = sqlite_stmt(s, q, e);
	rc = st ? sqlite_done(s, st, sqlite_sql[q], e) : e->code;
	if (sqlite3_get_autocommit(s->db))
		sqlite_gate_give(s);
	return rc;
}

/* Runs a write of its own (no transaction open) through the gate. */
static int sqlite_write(struct store_sqlite *s, sqlite3_stmt *st, const char *what,
	struct store_err *e)
{
	int rc = sqlite_gate_take(s, e);
	if (rc == STORE_OK)
		rc = sqlite_done(s, st, what, e);
	if (sqlite3_get_autocommit(s->db))
		sqlite_gate_give(s);
	return rc;
}

static void sqlite_close(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->q[i]);
	for (int i = 0; i < SQLITE_KEPT; i++)
		sqlite3_finalize(s->kept[i]);
	sqlite3_close(s->db);
	sqlite_gate_give(s);
	sqlite_gate_close(s);
	store_base_free(&s->base);
	free(s);
}

static int sqlite_exec(struct store_sqlite *s, const char *sql, struct store_err *e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		store_fail(e, sqlite_code(rc), "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return e->code;
	}
	return STORE_OK;
}

static int sqlite_number(struct store_sqlite *s, const char *sql, int *out,
	struct store_err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(s, rc, "schema version", e);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : sqlite_fail(s, rc, "schema version", e);
}

static int sqlite_q_exec(void *arg, const char *sql, struct store_err *e)
{
	return sqlite_exec(arg, sql, e);
}

static int sqlite_q_number(void *arg, const char *sql, int *out, struct store_err *e)
{
	return sqlite_number(arg, sql, out, e);
}

static int sqlite_migrate(struct store *base, int target, int *applied,
	struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	struct store_sql q = { sqlite_q_exec, sqlite_q_number, s, "BEGIN IMMEDIATE" };
	int rc;

	*applied = 0;
	rc = sqlite_exec(s, "CREATE TABLE IF NOT EXISTS schema_version ("
		"version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
		"applied_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now')))", e);
	if (rc)
		return rc;
	return store_migrate_files(sql_sqlite, &q, target, applied, e);
}

static int sqlite_begin(struct store *base, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int rc = sqlite_simple(s, Q_BEGIN, e);
	s->in_tx = rc == STORE_OK;
	return rc;
}

static int sqlite_commit(struct store *base, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int rc = sqlite_simple(s, Q_COMMIT, e);
	if (rc == STORE_OK)
		s->in_tx = 0;
	return rc;
}

static void sqlite_rollback(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	struct store_err e;
	if (s->in_tx && sqlite3_get_autocommit(s->db) == 0)
		sqlite_simple(s, Q_ROLLBACK, &e);
	s->in_tx = 0;
	sqlite_gate_give(s);
}

static int sqlite_claim(struct store *base, const char *bot, long long update_id,
	int *repeat, struct buf *reply, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, Q_CLAIM, e);
	int rc;

	*repeat = 0;
	if (st == NULL)
		return e->code;
	sqlite3_bind_text(st, 1, bot, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, update_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return STORE_OK;
	}
	if (rc != SQLITE_ROW)
		return sqlite_fail(s, rc, "claim update", e);
	*repeat = 1;
	buf_reset(reply);
	if (buf_adds(reply, (const char *)sqlite3_column_text(st, 0)) != 0)
		rc = store_fail(e, STORE_PERMANENT, "recorded reply too large");
	else
		rc = STORE_OK;
	sqlite3_reset(st);
	return rc;
}

static int sqlite_lock_chat(struct store *base, const char *bot,
	struct store_chat *sc, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, Q_CHAT_NEW, e);
	int rc;

	if (st == NULL)
		return e->code;
	sqlite3_bind_text(st, 1, bot, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sc->chat.chat_id);
	sqlite3_bind_int64(st, 3, sc->chat.member);
	rc = sqlite_done(s, st, "create chat", e);
	if (rc)
		return rc;
	sc->is_new = sqlite3_changes(s->db) == 1;
	st = sqlite_stmt(s, Q_CHAT_GET, e);
	if (st == NULL)
		return e->code;
	sqlite3_bind_text(st, 1, bot, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sc->chat.chat_id);
	sqlite3_bind_int64(st, 3, sc->chat.member);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return sqlite_fail(s, rc, "load chat", e);
	snprintf(sc->chat.node, sizeof(sc->chat.node), "%s",
		(const char *)sqlite3_column_text(st, 0));
	snprintf(sc->flow_hash, sizeof(sc->flow_hash), "%s",
		(const char *)sqlite3_column_text(st, 1));
	rc = store_load_context(&s->base, sc, (const char *)sqlite3_column_text(st, 2), e);
	sc->chat.attempts = sqlite3_column_int(st, 3);
	sc->chat.finished = sqlite3_column_int(st, 4);
	sc->chat.keyboard = sqlite3_column_int(st, 5);
	sc->pending = sqlite3_column_int(st, 6);
	sqlite3_reset(st);
	return rc;
}

/* The update's transcript row, if it has one. */
static int sqlite_transcript(struct store_sqlite *s, const struct store_save *sv,
	struct store_err *e)
{
	const char *said, *told;
	sqlite3_stmt *st;
	int rc = store_transcript(&s->base, sv, &said, &told, e);

	if (rc || said == NULL)
		return rc;
	st = sqlite_stmt(s, Q_TRANSCRIPT, e);
	if (st == NULL)
		return e->code;
	sqlite3_bind_text(st, 1, sv->bot, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sv->sc->chat.chat_id);
	sqlite3_bind_int64(st, 3, sv->update_id);
	sqlite3_bind_text(st, 4, said, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, told, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, sv->out->node_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, sv->sc->chat.node, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, engine_outcome_name(sv->out->outcome), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, sv->sc->chat.member);
	return sqlite_done(s, st, "transcript", e);
}

static int sqlite_save(struct store *base, const struct store_save *sv,
	struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	const struct chat *c = &sv->sc->chat;
	const struct step_out *o = sv->out;
	sqlite3_stmt *st = sqlite_stmt(s, Q_CHAT_SAVE, e);
	const char *ctx;
	int rc;

	if (st == NULL || store_seal_context(&s->base, c, &ctx, e) != STORE_OK)
		return e->code;
	sqlite3_bind_text(st, 1, sv->bot, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->chat_id);
	sqlite3_bind_text(st, 3, c->node, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sv->flow_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ctx, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, c->attempts);
	sqlite3_bind_int(st, 7, c->finished);
	sqlite3_bind_int(st, 8, c->keyboard);
	sqlite3_bind_int64(st, 9, sv->update_id);
	sqlite3_bind_int64(st, 10, c->member);
	rc = sqlite_done(s, st, "save chat", e);
	for (unsigned i = 0; rc == STORE_OK && i < o->n_calls; i++) {
		if (!store_queued(sv, i))
			continue;
		st = sqlite_stmt(s, Q_OUTBOX, e);
		if (st == NULL)
			return e->code;
		sqlite3_bind_text(st, 1, sv->bot, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, o->calls[i].chat_id ? o->calls[i].chat_id : c->chat_id);
		sqlite3_bind_text(st, 3, o->calls[i].method, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, json_object_to_json_string_ext(o->calls[i].params,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), -1,
			SQLITE_TRANSIENT);
		rc = sqlite_done(s, st, "queue call", e);
	}
	if (rc == STORE_OK) {
		st = sqlite_stmt(s, Q_UPDATE_ADD, e);
		if (st == NULL)
			return e->code;
		sqlite3_bind_text(st, 1, sv->bot, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, sv->update_id);
		if (sv->reply)
			sqlite3_bind_text(st, 3, sv->reply, -1, SQLITE_STATIC);
		rc = sqlite_done(s, st, "record update", e);
	}
	if (rc == STORE_OK)
		rc = sqlite_transcript(s, sv, e);
	return rc;
}

static int sqlite_prune(struct store *base, int update_hours, int sent_days,
	int limit, int *n, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	st = sqlite_stmt(s, Q_PRUNE_UPDATES, e);
	if (st == NULL)
		return e->code;
	sqlite3_bind_int(st, 1, update_hours);
	sqlite3_bind_int(st, 2, limit);
	rc = sqlite_write(s, st, "prune updates", e);
	if (rc)
		return rc;
	*n += sqlite3_changes(s->db);
	st = sqlite_stmt(s, Q_PRUNE_SENT, e);
	if (st == NULL)
		return e->code;
	sqlite3_bind_int(st, 1, sent_days);
	sqlite3_bind_int(st, 2, limit);
	rc = sqlite_write(s, st, "prune outbox", e);
	*n += rc ? 0 : sqlite3_changes(s->db);
	return rc;
}

static int sqlite_meta_get(struct store *base, const char *name, struct buf *out,
	int *found, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, Q_META_GET, e);
	int rc;

	*found = 0;
	if (st == NULL)
		return e->code;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		buf_reset(out);
		if (buf_adds(out, (const char *)sqlite3_column_text(st, 0)) != 0) {
			sqlite3_reset(st);
			return store_fail(e, STORE_PERMANENT, "meta %s too large", name);
		}
	} else if (rc != SQLITE_DONE) {
		return sqlite_fail(s, rc, "read meta", e);
	}
	sqlite3_reset(st);
	return STORE_OK;
}

static int sqlite_meta_set(struct store *base, const char *name, const char *value,
	struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, Q_META_SET, e);
	if (st == NULL)
		return e->code;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return sqlite_write(s, st, "write meta", e);
}

/* Re-seals one column of a table, row by row; list: the column holds
 * JSON arrays of texts. */
static int sqlite_reseal_column(struct store_sqlite *s, const char *table,
	const char *column, const struct crypto_key *old, int list, int *rows,
	struct store_err *e)
{
	char sql[160];
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT rowid, %s FROM %s", column, table);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &sel, NULL);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql), "UPDATE %s SET %s = ?2 WHERE rowid = ?1", table, column);
		rc = sqlite3_prepare_v2(s->db, sql, -1, &upd, NULL);
	}
	if (rc != SQLITE_OK) {
		rc = sqlite_fail(s, rc, "reseal", e);
		goto out;
	}
	rc = STORE_OK;
	while (rc == STORE_OK && sqlite3_step(sel) == SQLITE_ROW) {
		const char *sealed;
		rc = store_reseal_value(&s->base, old, (const char *)sqlite3_column_text(sel, 1),
			list, &sealed, e);
		if (rc) {
			char msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "%s", e->msg);
			store_fail(e, rc, "%s: %s", table, msg);
			break;
		}
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
		sqlite3_bind_text(upd, 2, sealed, -1, SQLITE_TRANSIENT);
		rc = sqlite_done(s, upd, "reseal", e);
		(*rows)++;
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return rc;
}

static int sqlite_reseal(struct store *base, const struct crypto_key *old,
	int *rows, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int rc = sqlite_exec(s, "BEGIN IMMEDIATE", e);

	*rows = 0;
	if (rc == STORE_OK)
		rc = sqlite_reseal_column(s, "chats", "context", old, 0, rows, e);
	if (rc == STORE_OK)
		rc = sqlite_reseal_column(s, "transcript", "said", old, 0, rows, e);
	if (rc == STORE_OK)
		rc = sqlite_reseal_column(s, "transcript", "told", old, 1, rows, e);
	if (rc == STORE_OK)
		rc = sqlite_reseal_column(s, "inbox_dead", "body", old, 0, rows, e);
	if (rc == STORE_OK)
		return sqlite_exec(s, "COMMIT", e);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int sqlite_outbox_take(struct store *base, const char *owner, int max, int lease_s,
	struct store_outbox_row *rows, int *n, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	rc = sqlite_simple(s, Q_BEGIN, e);
	if (rc)
		return rc;
	st = sqlite_stmt(s, Q_TAKE, e);
	if (st == NULL) {
		sqlite_simple(s, Q_ROLLBACK, e);
		return e->code;
	}
	sqlite3_bind_int(st, 1, max);
	sqlite3_bind_int(st, 2, lease_s);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	for (;;) {
		struct store_outbox_row *r = &rows[*n];
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		if (*n == max)
			continue;
		r->id = sqlite3_column_int64(st, 0);
		snprintf(r->bot, sizeof(r->bot), "%s", (const char *)sqlite3_column_text(st, 1));
		r->chat_id = sqlite3_column_int64(st, 2);
		snprintf(r->method, sizeof(r->method), "%s", (const char *)sqlite3_column_text(st, 3));
		r->params = strdup((const char *)sqlite3_column_text(st, 4));
		r->attempts = sqlite3_column_int(st, 5);
		if (r->params)
			(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = sqlite_fail(s, rc, "take calls", e);
		sqlite_simple(s, Q_ROLLBACK, e);
		return rc;
	}
	return sqlite_simple(s, Q_COMMIT, e);
}

static int sqlite_outbox_renew(struct store *base, const char *owner, long long id,
	int lease_s, int *held, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, Q_RENEW, e);
	int rc;

	*held = 0;
	if (st == NULL)
		return e->code;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, lease_s);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	rc = sqlite_write(s, st, "renew a lease", e);
	if (rc == STORE_OK)
		*held = sqlite3_changes(s->db) == 1;
	return rc;
}

static int sqlite_outbox_done(struct store *base, const char *owner, long long id,
	int result, int delay_s, const char *error, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int q = result == OUTBOX_SENT ? Q_SENT : result == OUTBOX_LATER ? Q_LATER :
		result == OUTBOX_RETRY ? Q_RETRY : Q_DEAD;
	sqlite3_stmt *st = sqlite_stmt(s, q, e);

	if (st == NULL)
		return e->code;
	sqlite3_bind_int64(st, 1, id);
	if (q != Q_SENT && q != Q_DEAD)
		sqlite3_bind_int(st, 2, delay_s);
	if (q == Q_RETRY || q == Q_DEAD)
		sqlite3_bind_text(st, 3, error ? error : "", -1, SQLITE_STATIC);
	if (q != Q_SENT)
		sqlite3_bind_text(st, 4, owner, -1, SQLITE_STATIC);
	return sqlite_write(s, st, "record a call", e);
}

/* Runs the n statements qs on (bot, a, b|text) in one transaction. */
static int sqlite_batch(struct store_sqlite *s, const int *qs, int n, const char *bot,
	long long a, long long b, const char *text, struct store_err *e)
{
	int rc = sqlite_simple(s, Q_BEGIN, e);
	for (int i = 0; rc == STORE_OK && i < n; i++) {
		sqlite3_stmt *st = sqlite_stmt(s, qs[i], e);
		if (st == NULL) {
			rc = e->code;
			break;
		}
		sqlite3_bind_text(st, 1, bot, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, a);
		if (text)
			sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		else if (sqlite3_bind_parameter_count(st) >= 3)
			sqlite3_bind_int64(st, 3, b);
		rc = sqlite_done(s, st, "outbox", e);
	}
	if (rc == STORE_OK)
		return sqlite_simple(s, Q_COMMIT, e);
	sqlite_simple(s, Q_ROLLBACK, e);
	return rc;
}

static int sqlite_outbox_blocked(struct store *base, const char *bot, long long chat_id,
	const char *why, struct store_err *e)
{
	static const int qs[] = { Q_BLOCK_CHAT, Q_BLOCK_CALLS };
	return sqlite_batch((struct store_sqlite *)base, qs, 2, bot, chat_id, 0, why, e);
}

static int sqlite_outbox_migrate(struct store *base, const char *bot, long long from,
	long long to, struct store_err *e)
{
	/* timers, kept messages and transcript first: they follow the states
	 * that move */
	static const int qs[] = { Q_MOVE_TIMERS, Q_MOVE_SENT, Q_MOVE_TRANSCRIPT,
		Q_MOVE_CHAT, Q_MOVE_CALLS };
	return sqlite_batch((struct store_sqlite *)base, qs, 5, bot, from, to, NULL, e);
}

static int sqlite_ping(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	return sqlite3_exec(s->db, "SELECT 1", NULL, NULL, NULL) == SQLITE_OK;
}

static void sqlite_set_lock_timeout(struct store *base, int ms)
{
	sqlite3_busy_timeout(((struct store_sqlite *)base)->db, ms);
}

/* The prepared statement for sql from the kept ones (*slot its index), or
 * prepared now and kept (or, when its slot is stepping, not: *slot -1). */
static int sqlite_kept(struct store_sqlite *s, const char *sql, sqlite3_stmt **st,
	int *slot)
{
	int rc;

	for (int i = 0; i < SQLITE_KEPT; i++) {
		if (s->kept[i] && !s->kept_busy[i] && strcmp(sqlite3_sql(s->kept[i]), sql) == 0) {
			sqlite3_reset(s->kept[i]);
			sqlite3_clear_bindings(s->kept[i]);
			*st = s->kept[i];
			*slot = i;
			return SQLITE_OK;
		}
	}
	*slot = -1;
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (rc != SQLITE_OK || *st == NULL)
		return rc;   /* a text of no statement runs as before: a misuse */
	for (unsigned k = 0; k < SQLITE_KEPT; k++) {
		int i = (int)((s->kept_next + k) % SQLITE_KEPT);
		if (s->kept_busy[i])
			continue;
		sqlite3_finalize(s->kept[i]);
		s->kept[i] = *st;
		s->kept_next = (unsigned)i + 1;
		*slot = i;
		break;
	}
	return SQLITE_OK;
}

/* Done with a statement sqlite_kept gave. */
static void sqlite_unkept(struct store_sqlite *s, sqlite3_stmt *st, int slot)
{
	if (slot < 0) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	s->kept_busy[slot] = 0;
}

static int sqlite_query(struct store *base, const char *sql,
	const char *const *params, int n, store_row_fn fn, void *arg,
	long long *changes, struct store_err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	const char *cols[16];
	sqlite3_stmt *st = NULL;
	char name[16];
	int rc, ncol, slot;

	rc = sqlite_kept(s, sql, &st, &slot);
	if (rc != SQLITE_OK)
		return sqlite_fail(s, rc, "prepare", e);
	if (slot >= 0)
		s->kept_busy[slot] = 1;
	/* bound by name: $N may appear in any order in the text */
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "$%d", i + 1);
		int idx = sqlite3_bind_parameter_index(st, name);
		if (idx > 0)
			sqlite3_bind_text(st, idx, params[i], -1, SQLITE_STATIC);
	}
	ncol = sqlite3_column_count(st);
	if (ncol > 16)
		ncol = 16;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++)
			cols[i] = (const char *)sqlite3_column_text(st, i);
		if (fn && fn(arg, ncol, cols) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = sqlite_fail(s, rc, "query", e);
		sqlite_unkept(s, st, slot);
		return rc;
	}
	if (changes)
		*changes = sqlite3_changes(s->db);
	sqlite_unkept(s, st, slot);
	return STORE_OK;
}

static const struct store_admin_sql sqlite_admin = {
	/* BEGIN IMMEDIATE has locked every row already */
	.lock_chat = "SELECT 1 FROM chats WHERE bot = $1 AND chat_id = $2",
	.outbox_list = "SELECT id, bot, chat_id, method, attempts, next_at, last_error, "
		"created_at, params FROM outbox WHERE state = $1 ORDER BY id "
		"LIMIT CAST($2 AS INTEGER)",
	.outbox_retry = "UPDATE outbox SET state = 'pending', attempts = 0, "
		"lease_until = NULL, next_at = strftime('%s', 'now') WHERE state = 'dead' "
		"AND (CAST($1 AS INTEGER) = 0 OR id = $1)",
	.outbox_drop = "DELETE FROM outbox WHERE (CAST($1 AS INTEGER) = 0 AND "
		"state = 'dead') OR (id = $1 AND state <> 'sent')",
	.chats = "SELECT chat_id, node, finished, context, updated_at, member FROM chats "
		"WHERE bot = $1 ORDER BY chat_id, member",
	.secs = "%s",
	.time_of = "CAST(%s AS INTEGER)",
	.timers_set = { "DELETE FROM timers WHERE bot = $1 AND chat_id = $2 AND "
		"member = CAST($5 AS INTEGER) AND kind IN (SELECT value FROM json_each($3))",
		"INSERT INTO timers (bot, chat_id, member, kind, node, visit, n, due_ms) "
		"SELECT $1, CAST($2 AS INTEGER), CAST($5 AS INTEGER), "
		"json_extract(value, '$.kind'), "
		"json_extract(value, '$.node'), json_extract(value, '$.visit'), "
		"json_extract(value, '$.n'), json_extract(value, '$.due_ms') "
		"FROM json_each($4)" },
	/* one statement: the database's write lock makes it atomic */
	.timers_take = "UPDATE timers SET lease_until_ms = CAST($2 AS INTEGER), "
		"lease_owner = $3 WHERE id IN (SELECT id FROM timers WHERE due_ms <= "
		"CAST($1 AS INTEGER) AND lease_until_ms < CAST($1 AS INTEGER) "
		"AND ($5 = 'all' OR (kind = 'http') = ($5 = 'http')) "
		"ORDER BY due_ms LIMIT CAST($4 AS INTEGER)) "
		"RETURNING id, bot, chat_id, kind, node, visit, n, due_ms, member",
};

static const struct store_ops sqlite_ops = {
	.version = STORE_VERSION,
	.name = "sqlite",
	.close = sqlite_close,
	.migrate = sqlite_migrate,
	.meta_get = sqlite_meta_get,
	.meta_set = sqlite_meta_set,
	.reseal = sqlite_reseal,
	.begin = sqlite_begin,
	.claim = sqlite_claim,
	.lock_chat = sqlite_lock_chat,
	.save = sqlite_save,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.prune = sqlite_prune,
	.ping = sqlite_ping,
	.set_lock_timeout = sqlite_set_lock_timeout,
	.outbox_take = sqlite_outbox_take,
	.outbox_renew = sqlite_outbox_renew,
	.outbox_done = sqlite_outbox_done,
	.outbox_blocked = sqlite_outbox_blocked,
	.outbox_migrate = sqlite_outbox_migrate,
	.query = sqlite_query,
	.admin = &sqlite_admin,
	.timers_set = store_sql_timers_set,
	.timers_take = store_sql_timers_take,
	.timer_claim = store_sql_timer_claim,
	.timers_next = store_sql_timers_next,
};

int store_sqlite_open(const char *path, struct store **out, struct store_err *e)
{
	struct store_sqlite *s;
	int fd, rc;

	*out = NULL;
	/* made 0600 before SQLite opens it (-wal and -shm inherit the mode).
	 * Only a file that does not exist yet is touched: closing any other
	 * descriptor of a database file would drop the POSIX locks of a
	 * connection this process already has on it. */
	if (access(path, F_OK) != 0) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return store_fail(e, STORE_PERMANENT, "sqlite: cannot create %s: %s; "
				"check that its folder exists and is writable", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	store_base_init(&s->base, &sqlite_ops);
	sqlite_gate_open(s, path);
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		store_fail(e, STORE_PERMANENT, "sqlite: cannot open %s: %s", path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		sqlite_close(&s->base);
		return e->code;
	}
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		store_fail(e, STORE_PERMANENT, "sqlite: %s is read-only for this user "
			"(uid %u): make it and its folder writable by the user blueflow "
			"runs as", path, (unsigned)getuid());
		sqlite_close(&s->base);
		return e->code;
	}
	sqlite3_busy_timeout(s->db, s->base.lock_timeout_ms);
	rc = sqlite_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
		"PRAGMA foreign_keys = ON", e);
	if (rc) {
		sqlite_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return STORE_OK;
}
