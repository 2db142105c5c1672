/* store_pg.c - the production store: PostgreSQL through libpq. Every
 * statement is prepared once per connection and parameterized. The chat
 * row lock is taken by the SELECT ... FOR UPDATE that loads it (a new
 * chat's by the insert that makes it), bounded by lock_timeout; the
 * update id is looked up under that lock (a copy of an update in flight
 * waits for it, then finds it) and written once, with its reply, when
 * the update is saved. Per update that is one new row in updates, one
 * new version of the chat's row, one transcript row and the outbox's.
 * A lost connection is re-opened on the next transaction. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crypto.h"
#include "engine/jdoc.h"
#include "engine/sql.h"
#include "engine/store.h"

#define PG_STATEMENT_TIMEOUT "15s"
#define PG_MIGRATE_LOCK 0x626c7565   /* advisory lock key: "blue" */

enum {
	P_CLAIM, P_LOCK, P_CHAT_NEW, P_SAVE, P_PRUNE_UPDATES, P_PRUNE_SENT,
	P_META_GET, P_META_SET, P_TAKE, P_RENEW, P_SENT, P_LATER, P_RETRY, P_DEAD,
	P_BLOCK, P_MOVE, P_TIMER_CLAIM, P_TIMERS_SET, P_COUNT
};

/* The values statements bind, by name. Each statement lists its own
 * under its SQL, [n] = A_... for $n; its caller fills them by name and
 * pg_binds() puts them in $n order. */
enum pg_arg {
	A_END,                        /* after a statement's last parameter */
	A_BOT, A_CHAT_ID, A_UPDATE_ID, A_NODE, A_FLOW_HASH, A_CONTEXT, A_ATTEMPTS,
	A_FINISHED, A_KEYBOARD, A_METHODS, A_PARAMS, A_REPLY, A_SAID, A_TOLD,
	A_HOURS, A_DAYS, A_LIMIT, A_LEASE, A_NAME, A_VALUE, A_ID, A_DELAY, A_ERROR,
	A_TO, A_OWNER, A_NODE_FROM, A_OUTCOME, A_CHATS, A_KINDS, A_ARMS, A_MEMBER,
	A_COUNT
};

/* A chat's timer changes (store_timer_plan_json): the kinds deleted,
 * then the timers added. Also the admin statement timers_set. */
#define PG_TIMERS_SET "WITH d AS (DELETE FROM timers WHERE bot = $1 AND chat_id = " \
	"$2::bigint AND member = $5::bigint AND " \
	"kind IN (SELECT json_array_elements_text($3::json))) " \
	"INSERT INTO timers (bot, chat_id, member, kind, node, visit, n, due_ms) " \
	"SELECT $1, $2::bigint, $5::bigint, a.kind, a.node, a.visit, a.n, a.due_ms FROM " \
	"json_to_recordset($4::json) AS a(kind text, node text, visit bigint, " \
	"n int, due_ms bigint)"

#define PG_PARAMS_MAX 18

static const struct {
	const char *name;
	const char *sql;
	unsigned char args[PG_PARAMS_MAX + 2];   /* [n]: what $n binds; [0] unused */
} pg_stmts[P_COUNT] = {
	/* a row: the update was applied, with this reply ("" for none) */
	[P_CLAIM] = { "bf_claim",
		"SELECT coalesce(reply, '') FROM updates WHERE bot = $1 AND update_id = $2",
		{ [1] = A_BOT, [2] = A_UPDATE_ID } },
	[P_LOCK] = { "bf_lock",
		"SELECT node, flow_hash, context, attempts, finished, keyboard, false, "
		"EXISTS (SELECT 1 FROM outbox o WHERE o.bot = $1 AND o.chat_id = $2 "
		"AND o.state = 'pending') FROM chats WHERE bot = $1 AND chat_id = $2 "
		"AND member = $3 FOR UPDATE OF chats",
		{ [1] = A_BOT, [2] = A_CHAT_ID, [3] = A_MEMBER } },
	/* a chat bf_lock did not find; one made meanwhile is locked as is */
	[P_CHAT_NEW] = { "bf_chat_new",
		"INSERT INTO chats AS c (bot, chat_id, member) VALUES ($1, $2, $3) "
		"ON CONFLICT (bot, chat_id, member) DO UPDATE SET chat_id = c.chat_id "
		"RETURNING node, flow_hash, context, attempts, finished, keyboard, "
		"(xmax = 0), EXISTS (SELECT 1 FROM outbox o WHERE o.bot = $1 "
		"AND o.chat_id = $2 AND o.state = 'pending')",
		{ [1] = A_BOT, [2] = A_CHAT_ID, [3] = A_MEMBER } },
	[P_SAVE] = { "bf_save",
		"WITH c AS (UPDATE chats SET node = $3, flow_hash = $4, context = $5, "
		"attempts = $6, finished = $7, keyboard = $8, last_update_id = $9, "
		"updated_at = now() WHERE bot = $1 AND chat_id = $2 AND member = $18), "
		"o AS (INSERT INTO outbox (bot, chat_id, method, params) "
		"SELECT $1, coalesce(m.chat, $2), m.method, m.params FROM unnest($10::text[], "
		"$11::text[], $17::bigint[]) WITH ORDINALITY AS m(method, params, chat, n) "
		"ORDER BY m.n), "
		"u AS (INSERT INTO updates (bot, update_id, reply) VALUES ($1, $9, $12)), "
		"t AS (INSERT INTO transcript (bot, chat_id, update_id, said, told, "
		"node_from, node_to, outcome, member) SELECT $1, $2, $9, $13::text, $14::text, "
		"$15::text, $3, $16::text, $18 WHERE $13::text IS NOT NULL) SELECT 1",
		{ [1] = A_BOT, [2] = A_CHAT_ID, [3] = A_NODE, [4] = A_FLOW_HASH,
		  [5] = A_CONTEXT, [6] = A_ATTEMPTS, [7] = A_FINISHED, [8] = A_KEYBOARD,
		  [9] = A_UPDATE_ID, [10] = A_METHODS, [11] = A_PARAMS, [12] = A_REPLY,
		  [13] = A_SAID, [14] = A_TOLD, [15] = A_NODE_FROM, [16] = A_OUTCOME,
		  [17] = A_CHATS, [18] = A_MEMBER } },
	[P_PRUNE_UPDATES] = { "bf_prune_updates",
		"DELETE FROM updates WHERE ctid = ANY (ARRAY (SELECT ctid FROM updates "
		"WHERE at < now() - make_interval(hours => $1::int) LIMIT $2::int))",
		{ [1] = A_HOURS, [2] = A_LIMIT } },
	[P_PRUNE_SENT] = { "bf_prune_sent",
		"DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'sent' "
		"AND sent_at < now() - make_interval(days => $1::int) LIMIT $2::int)",
		{ [1] = A_DAYS, [2] = A_LIMIT } },
	[P_META_GET] = { "bf_meta_get", "SELECT value FROM meta WHERE name = $1",
		{ [1] = A_NAME } },
	[P_META_SET] = { "bf_meta_set", "INSERT INTO meta (name, value) VALUES ($1, $2) "
		"ON CONFLICT (name) DO UPDATE SET value = excluded.value",
		{ [1] = A_NAME, [2] = A_VALUE } },
	/* the head of each chat's queue, due and not leased, in outbox_due's
	 * order (the scan stops after $1 of them, however long the queue);
	 * SKIP LOCKED lets senders on several hosts take different chats. The
	 * conditions on o are checked again on the row as locked (the earlier
	 * calls are the statement's snapshot): a call another sender leased
	 * or sent meanwhile is not taken twice. */
	[P_TAKE] = { "bf_take",
		"WITH due AS (SELECT o.id FROM outbox o "
		"WHERE o.state = 'pending' AND o.next_at <= now() "
		"AND (o.lease_until IS NULL OR o.lease_until < now()) "
		"AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.bot = o.bot "
		"AND p.chat_id = o.chat_id AND p.state = 'pending' AND p.id < o.id) "
		"ORDER BY o.next_at, o.id LIMIT $1::int FOR UPDATE OF o SKIP LOCKED) "
		"UPDATE outbox SET lease_until = now() + make_interval(secs => $2::int), "
		"lease_owner = $3 WHERE id IN (SELECT id FROM due) "
		"RETURNING id, bot, chat_id, method, params, attempts",
		{ [1] = A_LIMIT, [2] = A_LEASE, [3] = A_OWNER } },
	[P_RENEW] = { "bf_renew", "UPDATE outbox SET lease_until = now() + "
		"make_interval(secs => $2::int) WHERE id = $1::bigint AND state = 'pending' "
		"AND lease_owner = $3",
		{ [1] = A_ID, [2] = A_LEASE, [3] = A_OWNER } },
	[P_SENT] = { "bf_sent", "UPDATE outbox SET state = 'sent', sent_at = now(), "
		"lease_until = NULL WHERE id = $1::bigint AND state = 'pending'",
		{ [1] = A_ID } },
	[P_LATER] = { "bf_later", "UPDATE outbox SET next_at = now() + make_interval(secs => $2::int), "
		"lease_until = NULL WHERE id = $1::bigint AND state = 'pending' "
		"AND lease_owner = $3",
		{ [1] = A_ID, [2] = A_DELAY, [3] = A_OWNER } },
	[P_RETRY] = { "bf_retry", "UPDATE outbox SET next_at = now() + make_interval(secs => $2::int), "
		"lease_until = NULL, attempts = attempts + 1, last_error = $3 WHERE id = $1::bigint "
		"AND state = 'pending' AND lease_owner = $4",
		{ [1] = A_ID, [2] = A_DELAY, [3] = A_ERROR, [4] = A_OWNER } },
	[P_DEAD] = { "bf_dead", "UPDATE outbox SET state = 'dead', lease_until = NULL, "
		"attempts = attempts + 1, last_error = $2 WHERE id = $1::bigint AND state = 'pending' "
		"AND lease_owner = $3",
		{ [1] = A_ID, [2] = A_ERROR, [3] = A_OWNER } },
	[P_BLOCK] = { "bf_block", "WITH c AS (UPDATE chats SET blocked = true WHERE bot = $1 "
		"AND chat_id = $2::bigint) UPDATE outbox SET state = 'dead', lease_until = NULL, "
		"last_error = $3 WHERE bot = $1 AND chat_id = $2::bigint AND state = 'pending'",
		{ [1] = A_BOT, [2] = A_CHAT_ID, [3] = A_ERROR } },
	/* every state of the chat not at the new id yet, with its timers,
	 * kept messages and transcript (one snapshot: "not at the new id" is
	 * as before) */
	[P_MOVE] = { "bf_move", "WITH c AS (UPDATE chats SET chat_id = $3::bigint WHERE bot = $1 "
		"AND chat_id = $2::bigint AND member NOT IN (SELECT member FROM chats WHERE "
		"bot = $1 AND chat_id = $3::bigint)), t AS (UPDATE timers SET chat_id = $3::bigint "
		"WHERE bot = $1 AND chat_id = $2::bigint AND member NOT IN (SELECT member FROM "
		"chats WHERE bot = $1 AND chat_id = $3::bigint)), m AS (UPDATE sent_messages "
		"SET chat_id = $3::bigint WHERE bot = $1 AND chat_id = $2::bigint AND member NOT "
		"IN (SELECT member FROM chats WHERE bot = $1 AND chat_id = $3::bigint) AND "
		"message_id NOT IN (SELECT message_id FROM sent_messages WHERE bot = $1 AND "
		"chat_id = $3::bigint)), r AS (UPDATE transcript SET chat_id = $3::bigint WHERE "
		"bot = $1 AND chat_id = $2::bigint AND member NOT IN (SELECT member FROM chats "
		"WHERE bot = $1 AND chat_id = $3::bigint)) UPDATE outbox SET chat_id = $3::bigint WHERE bot = $1 "
		"AND chat_id = $2::bigint AND state = 'pending'",
		{ [1] = A_BOT, [2] = A_CHAT_ID, [3] = A_TO } },
	/* a timer being fired, after its chat's lock (pg_start_timer) */
	[P_TIMER_CLAIM] = { "bf_timer_claim", "DELETE FROM timers WHERE id = $1::bigint",
		{ [1] = A_ID } },
	[P_TIMERS_SET] = { "bf_timers_set", PG_TIMERS_SET,
		{ [1] = A_BOT, [2] = A_CHAT_ID, [3] = A_KINDS, [4] = A_ARMS,
		  [5] = A_MEMBER } },
};

#define PG_QUERIES_MAX 16   /* statements of the query op kept prepared */

struct store_pg {
	struct store base;
	PGconn *conn;
	char *uri;
	int prepared;
	struct buf a[3];             /* array parameters of bf_save */
	char *queries[PG_QUERIES_MAX];   /* the query op's SQL prepared as bf_qN */
	int n_queries;
};

/* Transient: the connection, lock timeouts, serialization, resources, and
 * a unique violation (a copy of the update saved first: a retry finds
 * it). */
static int pg_code(const PGresult *res, PGconn *conn)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL || PQstatus(conn) != CONNECTION_OK)
		return STORE_TRANSIENT;
	if (!strncmp(state, "08", 2) || !strncmp(state, "40", 2) ||
	    !strncmp(state, "53", 2) || !strncmp(state, "57", 2) ||
	    !strncmp(state, "58", 2) || !strcmp(state, "55P03") ||
	    !strcmp(state, "55006") || !strcmp(state, "23505"))
		return STORE_TRANSIENT;
	return STORE_PERMANENT;
}

/* Copies libpq's message without its trailing newline. */
static int pg_fail(struct store_pg *s, PGresult *res, const char *what,
	struct store_err *e)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn);
	int code = pg_code(res, s->conn);
	size_t n = strcspn(msg, "\n");
	store_fail(e, code, "postgresql: %s: %.*s", what, (int)n, msg);
	PQclear(res);
	return code;
}

static int pg_command(struct store_pg *s, const char *sql, struct store_err *e)
{
	PGresult *res = PQexec(s->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, sql, e);
	PQclear(res);
	return STORE_OK;
}

/* How many parameters statement q has. */
static int pg_nparams(int q)
{
	int n = 0;
	while (n < PG_PARAMS_MAX && pg_stmts[q].args[n + 1] != A_END)
		n++;
	return n;
}

/* Puts the values of statement q's parameters, found by name in args, in
 * $n order into vals; returns how many. */
static int pg_binds(int q, const char *const *args, const char **vals)
{
	int n = pg_nparams(q);
	for (int i = 0; i < n; i++)
		vals[i] = args[pg_stmts[q].args[i + 1]];
	return n;
}

/* The query op's statements are no longer prepared (a new connection,
 * or DEALLOCATE ALL). */
static void pg_forget_queries(struct store_pg *s)
{
	for (int i = 0; i < s->n_queries; i++)
		free(s->queries[i]);
	s->n_queries = 0;
}

static int pg_prepare(struct store_pg *s, struct store_err *e)
{
	char set[128];
	int rc;

	snprintf(set, sizeof(set), "DEALLOCATE ALL; SET lock_timeout = %d; "
		"SET statement_timeout = '" PG_STATEMENT_TIMEOUT "'", s->base.lock_timeout_ms);
	pg_forget_queries(s);
	rc = pg_command(s, set, e);
	for (int i = 0; rc == STORE_OK && i < P_COUNT; i++) {
		PGresult *res = PQprepare(s->conn, pg_stmts[i].name, pg_stmts[i].sql,
			pg_nparams(i), NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return pg_fail(s, res, pg_stmts[i].name, e);
		PQclear(res);
	}
	s->prepared = rc == STORE_OK;
	return rc;
}

/* Makes sure the connection is up, re-opening it after PostgreSQL went
 * away. */
static int pg_connected(struct store_pg *s, struct store_err *e)
{
	if (PQstatus(s->conn) != CONNECTION_OK) {
		s->prepared = 0;
		pg_forget_queries(s);
		PQfinish(s->conn);
		s->conn = PQconnectdb(s->uri);
		if (s->conn == NULL)
			return store_fail(e, STORE_TRANSIENT, "out of memory");
		if (PQstatus(s->conn) != CONNECTION_OK)
			return pg_fail(s, NULL, "connect", e);
	}
	return STORE_OK;
}

/* Makes sure the connection is up and prepared (after a migration, or
 * after PostgreSQL went away). */
static int pg_ready(struct store_pg *s, struct store_err *e)
{
	int rc = pg_connected(s, e);
	if (rc == STORE_OK && !s->prepared)
		rc = pg_prepare(s, e);
	return rc;
}

/* Runs statement q with its parameters from args (A_COUNT values by
 * name). */
static PGresult *pg_exec(struct store_pg *s, int q, const char *const *args)
{
	const char *vals[PG_PARAMS_MAX];
	int n = pg_binds(q, args, vals);
	return PQexecPrepared(s->conn, pg_stmts[q].name, n, vals, NULL, NULL, 0);
}

static void pg_close(struct store *base)
{
	struct store_pg *s = (struct store_pg *)base;
	PQfinish(s->conn);
	free(s->uri);
	for (int i = 0; i < 3; i++)
		buf_free(&s->a[i]);
	pg_forget_queries(s);
	store_base_free(&s->base);
	free(s);
}

static int pg_number(struct store_pg *s, const char *sql, int *out, struct store_err *e)
{
	PGresult *res = PQexec(s->conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, "schema version", e);
	*out = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

static int pg_q_exec(void *arg, const char *sql, struct store_err *e)
{
	return pg_command(arg, sql, e);
}

static int pg_q_number(void *arg, const char *sql, int *out, struct store_err *e)
{
	return pg_number(arg, sql, out, e);
}

static int pg_migrate(struct store *base, int target, int *applied,
	struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	struct store_sql q = { pg_q_exec, pg_q_number, s, "BEGIN" };
	char sql[64];
	int rc;

	*applied = 0;
	rc = pg_connected(s, e);
	if (rc)
		return rc;
	/* one host at a time: the others wait, then find nothing to do */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)", PG_MIGRATE_LOCK);
	rc = pg_command(s, sql, e);
	if (rc)
		return rc;
	rc = pg_command(s, "CREATE TABLE IF NOT EXISTS schema_version ("
		"version integer PRIMARY KEY, name text NOT NULL, "
		"applied_at timestamptz NOT NULL DEFAULT now())", e);
	if (rc == STORE_OK)
		rc = store_migrate_files(sql_postgres, &q, target, applied, e);
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)", PG_MIGRATE_LOCK);
	PQclear(PQexec(s->conn, sql));
	s->prepared = 0;
	return rc;
}

static int pg_begin(struct store *base, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	int rc = pg_ready(s, e);
	if (rc)
		return rc;
	return pg_command(s, "BEGIN", e);
}

static int pg_commit(struct store *base, struct store_err *e)
{
	return pg_command((struct store_pg *)base, "COMMIT", e);
}

static void pg_rollback(struct store *base)
{
	struct store_pg *s = (struct store_pg *)base;
	if (PQstatus(s->conn) == CONNECTION_OK &&
	    PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* Reads bf_claim's result: *repeat = 1 and the reply when there is a
 * row. */
static int pg_claimed(PGresult *res, int *repeat, struct buf *reply,
	struct store_err *e)
{
	*repeat = PQntuples(res) == 1;
	if (!*repeat)
		return STORE_OK;
	buf_reset(reply);
	if (buf_adds(reply, PQgetvalue(res, 0, 0)) != 0)
		return store_fail(e, STORE_PERMANENT, "recorded reply too large");
	return STORE_OK;
}

/* Without the chat's lock held this only looks: bf_save's insert is what
 * refuses a second copy (a unique violation, transient). */
static int pg_claim(struct store *base, const char *bot, long long update_id,
	int *repeat, struct buf *reply, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char id[32];
	const char *args[A_COUNT] = { [A_BOT] = bot, [A_UPDATE_ID] = id };
	PGresult *res;
	int rc;

	*repeat = 0;
	snprintf(id, sizeof(id), "%lld", update_id);
	res = pg_exec(s, P_CLAIM, args);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, "claim update", e);
	rc = pg_claimed(res, repeat, reply, e);
	PQclear(res);
	return rc;
}

static int pg_chat_row(struct store_pg *s, PGresult *res, struct store_chat *sc,
	struct store_err *e);

static int pg_lock_chat(struct store *base, const char *bot,
	struct store_chat *sc, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char id[32], mid[32];
	const char *args[A_COUNT] = { [A_BOT] = bot, [A_CHAT_ID] = id,
		[A_MEMBER] = mid };
	PGresult *res;
	int rc;

	snprintf(id, sizeof(id), "%lld", sc->chat.chat_id);
	snprintf(mid, sizeof(mid), "%lld", sc->chat.member);
	res = pg_exec(s, P_LOCK, args);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 0) {
		PQclear(res);
		res = pg_exec(s, P_CHAT_NEW, args);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		return pg_fail(s, res, "lock chat", e);
	rc = pg_chat_row(s, res, sc, e);
	PQclear(res);
	return rc;
}

/* Fills sc from the row bf_lock or bf_chat_new returned. */
static int pg_chat_row(struct store_pg *s, PGresult *res, struct store_chat *sc,
	struct store_err *e)
{
	int rc;

	snprintf(sc->chat.node, sizeof(sc->chat.node), "%s", PQgetvalue(res, 0, 0));
	snprintf(sc->flow_hash, sizeof(sc->flow_hash), "%s", PQgetvalue(res, 0, 1));
	rc = store_load_context(&s->base, sc, PQgetvalue(res, 0, 2), e);
	sc->chat.attempts = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
	sc->chat.finished = PQgetvalue(res, 0, 4)[0] == 't';
	sc->chat.keyboard = PQgetvalue(res, 0, 5)[0] == 't';
	sc->is_new = PQgetvalue(res, 0, 6)[0] == 't';
	sc->pending = PQgetvalue(res, 0, 7)[0] == 't';
	return rc;
}

/* Appends s to a PostgreSQL array literal being built in b (which holds
 * "{" and the elements so far). */
static int pg_array_add(struct buf *b, const char *s)
{
	if ((b->len > 1 && buf_addc(b, ',')) || buf_addc(b, '"'))
		return -1;
	for (; *s; s++)
		if ((*s == '"' || *s == '\\') ? buf_addc(b, '\\') || buf_addc(b, *s) :
		    buf_addc(b, *s))
			return -1;
	return buf_addc(b, '"');
}

/* Builds bf_save's arrays: the calls for the outbox ($10, $11), and the
 * chat of each, NULL for the update's own ($15). */
static int pg_arrays(struct store_pg *s, const struct store_save *sv,
	struct store_err *e)
{
	const struct step_out *o = sv->out;
	int rc = 0;

	for (int i = 0; i < 3; i++) {
		buf_reset(&s->a[i]);
		rc |= buf_addc(&s->a[i], '{');
	}
	for (unsigned i = 0; rc == 0 && i < o->n_calls; i++) {
		if (!store_queued(sv, i))
			continue;
		rc |= pg_array_add(&s->a[0], o->calls[i].method);
		rc |= pg_array_add(&s->a[1], json_object_to_json_string_ext(o->calls[i].params,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		rc |= (s->a[2].len > 1 && buf_addc(&s->a[2], ',')) ||
			(o->calls[i].chat_id ? buf_addf(&s->a[2], "%lld", o->calls[i].chat_id) :
			 buf_adds(&s->a[2], "NULL"));
	}
	for (int i = 0; i < 3; i++)
		rc |= buf_addc(&s->a[i], '}');
	if (rc)
		return store_fail(e, STORE_PERMANENT, "the update's calls are too large to queue");
	return STORE_OK;
}

/* bf_save's parameters by name, and the numbers they point to. */
struct pg_save_params {
	char chat_id[32], member[32], attempts[16], update_id[32];
	const char *args[A_COUNT];
};

static int pg_save_params(struct store_pg *s, const struct store_save *sv,
	struct pg_save_params *p, struct store_err *e)
{
	const struct chat *c = &sv->sc->chat;
	const char **a = p->args;
	int rc;

	memset(p->args, 0, sizeof(p->args));
	rc = pg_arrays(s, sv, e);
	if (rc == STORE_OK)
		rc = store_transcript(&s->base, sv, &a[A_SAID], &a[A_TOLD], e);
	if (rc)
		return rc;
	/* sealed last: the pointer lives until the next seal */
	if (store_seal_context(&s->base, c, &a[A_CONTEXT], e) != STORE_OK)
		return e->code;
	snprintf(p->chat_id, sizeof(p->chat_id), "%lld", c->chat_id);
	snprintf(p->member, sizeof(p->member), "%lld", c->member);
	snprintf(p->attempts, sizeof(p->attempts), "%d", c->attempts);
	snprintf(p->update_id, sizeof(p->update_id), "%lld", sv->update_id);
	a[A_BOT] = sv->bot;
	a[A_CHAT_ID] = p->chat_id;
	a[A_MEMBER] = p->member;
	a[A_NODE] = c->node;
	a[A_FLOW_HASH] = sv->flow_hash;
	a[A_ATTEMPTS] = p->attempts;
	a[A_FINISHED] = c->finished ? "t" : "f";
	a[A_KEYBOARD] = c->keyboard ? "t" : "f";
	a[A_UPDATE_ID] = p->update_id;
	a[A_METHODS] = s->a[0].p;
	a[A_PARAMS] = s->a[1].p;
	a[A_CHATS] = s->a[2].p;
	a[A_REPLY] = sv->reply;
	a[A_NODE_FROM] = sv->out->node_from;
	a[A_OUTCOME] = engine_outcome_name(sv->out->outcome);
	return STORE_OK;
}

static int pg_save(struct store *base, const struct store_save *sv,
	struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	struct pg_save_params p;
	PGresult *res;
	int rc = pg_save_params(s, sv, &p, e);

	if (rc)
		return rc;
	res = pg_exec(s, P_SAVE, p.args);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, "save", e);
	PQclear(res);
	return STORE_OK;
}

/* --- pipelines: several statements in one round trip --- */

#define PG_BEGIN (-1)
#define PG_COMMIT (-2)
#define PG_PIPE_MAX 4

struct pg_step {
	int q;                        /* a P_ statement, PG_BEGIN or PG_COMMIT */
	const char *const *args;      /* its parameters by name (A_COUNT) */
};

/* Sends the steps and a sync, reads every result into res (the caller
 * clears them). Returns STORE_OK when all succeeded, else the error of
 * the first that failed. */
static int pg_pipeline(struct store_pg *s, const struct pg_step *steps, int n,
	PGresult **res, struct store_err *e)
{
	int rc = STORE_OK, sent = 0;

	for (int i = 0; i < n; i++)
		res[i] = NULL;
	if (PQenterPipelineMode(s->conn) != 1)
		return pg_fail(s, NULL, "pipeline", e);
	for (; sent < n; sent++) {
		const struct pg_step *st = &steps[sent];
		const char *vals[PG_PARAMS_MAX];
		int ok;
		if (st->q < 0)
			ok = PQsendQueryParams(s->conn, st->q == PG_BEGIN ? "BEGIN" : "COMMIT",
				0, NULL, NULL, NULL, NULL, 0);
		else
			ok = PQsendQueryPrepared(s->conn, pg_stmts[st->q].name,
				pg_binds(st->q, st->args, vals), vals, NULL, NULL, 0);
		if (ok != 1)
			break;
	}
	if (sent < n || PQpipelineSync(s->conn) != 1)
		rc = pg_fail(s, NULL, "send", e);
	for (int i = 0; i < sent && PQstatus(s->conn) == CONNECTION_OK; i++) {
		PGresult *end;
		res[i] = PQgetResult(s->conn);
		if (res[i] == NULL)
			break;
		end = PQgetResult(s->conn);   /* the NULL after each statement */
		PQclear(end);
	}
	if (PQstatus(s->conn) == CONNECTION_OK) {
		PGresult *sync = PQgetResult(s->conn);
		PQclear(sync);
	}
	PQexitPipelineMode(s->conn);
	for (int i = 0; rc == STORE_OK && i < n; i++) {
		ExecStatusType st = res[i] ? PQresultStatus(res[i]) : PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			continue;
		rc = pg_code(res[i], s->conn);
		store_fail(e, rc, "postgresql: %s: %.*s", steps[i].q < 0 ? "transaction" :
			pg_stmts[steps[i].q].name,
			(int)strcspn(res[i] ? PQresultErrorMessage(res[i]) : PQerrorMessage(s->conn), "\n"),
			res[i] ? PQresultErrorMessage(res[i]) : PQerrorMessage(s->conn));
	}
	return rc;
}

static void pg_clear(PGresult **res, int n)
{
	for (int i = 0; i < n; i++)
		PQclear(res[i]);
}

/* The chat bf_lock did not find: made (or, made meanwhile, locked) by
 * bf_chat_new; the update id looked up again under that lock. */
static int pg_start_new(struct store_pg *s, const char *const *args,
	struct store_chat *sc, int *repeat, struct buf *reply, struct store_err *e)
{
	const struct pg_step steps[2] = { { P_CHAT_NEW, args }, { P_CLAIM, args } };
	PGresult *res[2];
	int rc = pg_pipeline(s, steps, 2, res, e);

	if (rc == STORE_OK)
		rc = pg_claimed(res[1], repeat, reply, e);
	if (rc == STORE_OK && !*repeat)
		rc = PQntuples(res[0]) == 1 ? pg_chat_row(s, res[0], sc, e) :
			store_fail(e, STORE_TRANSIENT, "postgresql: lock chat: no row");
	pg_clear(res, 2);
	return rc;
}

/* Locks the chat first: a copy of an update in flight waits for it, and
 * the look-up after the lock (a statement of its own, so a snapshot
 * taken after the wait) finds it. With a timer (timer_id not 0), its row
 * is deleted after that, in the same round trip: *found 0 when it was
 * gone. */
static int pg_start_steps(struct store_pg *s, const char *bot, long long update_id,
	long long timer_id, struct store_chat *sc, int *repeat, struct buf *reply,
	int *found, struct store_err *e)
{
	char uid[32], cid[32], tid[32], mid[32];
	const char *args[A_COUNT] = { [A_BOT] = bot, [A_UPDATE_ID] = uid,
		[A_CHAT_ID] = cid, [A_ID] = tid, [A_MEMBER] = mid };
	const struct pg_step steps[4] = {
		{ PG_BEGIN, NULL }, { P_LOCK, args }, { P_CLAIM, args },
		{ P_TIMER_CLAIM, args }
	};
	PGresult *res[4];
	int n = timer_id ? 4 : 3, rc = pg_ready(s, e);

	*repeat = 0;
	*found = 0;
	if (rc)
		return rc;
	snprintf(uid, sizeof(uid), "%lld", update_id);
	snprintf(cid, sizeof(cid), "%lld", sc->chat.chat_id);
	snprintf(mid, sizeof(mid), "%lld", sc->chat.member);
	snprintf(tid, sizeof(tid), "%lld", timer_id);
	rc = pg_pipeline(s, steps, n, res, e);
	if (rc == STORE_OK)
		rc = pg_claimed(res[2], repeat, reply, e);
	if (rc == STORE_OK && timer_id)
		*found = strtoll(PQcmdTuples(res[3]), NULL, 10) > 0;
	if (rc == STORE_OK && !*repeat && (*found || !timer_id))
		rc = PQntuples(res[1]) == 1 ? pg_chat_row(s, res[1], sc, e) :
			pg_start_new(s, args, sc, repeat, reply, e);
	pg_clear(res, n);
	return rc;
}

static int pg_start(struct store *base, const char *bot, long long update_id,
	struct store_chat *sc, int *repeat, struct buf *reply, struct store_err *e)
{
	int found;
	return pg_start_steps((struct store_pg *)base, bot, update_id, 0, sc, repeat,
		reply, &found, e);
}

static int pg_start_timer(struct store *base, const char *bot, const struct timer *t,
	struct store_chat *sc, int *repeat, struct buf *reply, int *found,
	struct store_err *e)
{
	return pg_start_steps((struct store_pg *)base, bot, -t->id, t->id, sc, repeat,
		reply, found, e);
}

static int pg_finish(struct store *base, const struct store_save *sv,
	struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	struct pg_save_params p;
	struct pg_step steps[3];
	struct buf kinds, arms;
	PGresult *res[3];
	int n = 0, rc = pg_save_params(s, sv, &p, e);

	if (rc)
		return rc;
	buf_init(&kinds, STORE_TIMERS_JSON_MAX);
	buf_init(&arms, STORE_TIMERS_JSON_MAX);
	steps[n++] = (struct pg_step){ P_SAVE, p.args };
	if (sv->timers) {   /* in the same round trip as the save */
		if (store_timer_plan_json(sv->timers, &kinds, &arms) != 0)
			rc = store_fail(e, STORE_PERMANENT, "the chat's timers are too large");
		p.args[A_KINDS] = kinds.p;
		p.args[A_ARMS] = arms.p;
		steps[n++] = (struct pg_step){ P_TIMERS_SET, p.args };
	}
	steps[n++] = (struct pg_step){ PG_COMMIT, NULL };
	if (rc == STORE_OK) {
		rc = pg_pipeline(s, steps, n, res, e);
		pg_clear(res, n);
	}
	buf_free(&kinds);
	buf_free(&arms);
	return rc;
}

static int pg_prune(struct store *base, int update_hours, int sent_days,
	int limit, int *n, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char hours[16], days[16], limit_t[16];
	const char *args[A_COUNT] = { [A_HOURS] = hours, [A_DAYS] = days, [A_LIMIT] = limit_t };
	PGresult *res;
	int rc = pg_ready(s, e);

	*n = 0;
	if (rc)
		return rc;
	snprintf(hours, sizeof(hours), "%d", update_hours);
	snprintf(days, sizeof(days), "%d", sent_days);
	snprintf(limit_t, sizeof(limit_t), "%d", limit);
	res = pg_exec(s, P_PRUNE_UPDATES, args);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(s, res, "prune updates", e);
	*n += (int)strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	res = pg_exec(s, P_PRUNE_SENT, args);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(s, res, "prune outbox", e);
	*n += (int)strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

static int pg_meta_get(struct store *base, const char *name, struct buf *out,
	int *found, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	const char *args[A_COUNT] = { [A_NAME] = name };
	PGresult *res;
	int rc = pg_ready(s, e);

	*found = 0;
	if (rc)
		return rc;
	res = pg_exec(s, P_META_GET, args);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, "read meta", e);
	if (PQntuples(res) == 1) {
		*found = 1;
		buf_reset(out);
		rc = buf_adds(out, PQgetvalue(res, 0, 0)) ?
			store_fail(e, STORE_PERMANENT, "meta %s too large", name) : STORE_OK;
	}
	PQclear(res);
	return rc;
}

static int pg_meta_set(struct store *base, const char *name, const char *value,
	struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	const char *args[A_COUNT] = { [A_NAME] = name, [A_VALUE] = value };
	PGresult *res;
	int rc = pg_ready(s, e);

	if (rc)
		return rc;
	res = pg_exec(s, P_META_SET, args);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(s, res, "write meta", e);
	PQclear(res);
	return STORE_OK;
}

/* Re-seals one column of a table, row by row, inside the caller's
 * transaction; list: the column holds JSON arrays of texts. */
static int pg_reseal_column(struct store_pg *s, const char *select,
	const char *update, const struct crypto_key *old, int list, int *rows,
	struct store_err *e)
{
	PGresult *res = PQexec(s->conn, select);
	int rc = STORE_OK;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, "reseal", e);
	for (int i = 0; rc == STORE_OK && i < PQntuples(res); i++) {
		const char *vals[2] = { PQgetvalue(res, i, 0), NULL };
		PGresult *u;
		rc = store_reseal_value(&s->base, old, PQgetvalue(res, i, 1), list, &vals[1], e);
		if (rc)
			break;
		u = PQexecParams(s->conn, update, 2, NULL, vals, NULL, NULL, 0);
		if (PQresultStatus(u) != PGRES_COMMAND_OK)
			rc = pg_fail(s, u, "reseal", e);
		else
			PQclear(u);
		(*rows)++;
	}
	PQclear(res);
	return rc;
}

static int pg_reseal(struct store *base, const struct crypto_key *old, int *rows,
	struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	int rc = pg_ready(s, e);

	*rows = 0;
	if (rc == STORE_OK)
		rc = pg_command(s, "BEGIN", e);
	if (rc == STORE_OK)
		rc = pg_reseal_column(s, "SELECT ctid, context FROM chats FOR UPDATE",
			"UPDATE chats SET context = $2 WHERE ctid = $1::tid", old, 0, rows, e);
	if (rc == STORE_OK)
		rc = pg_reseal_column(s, "SELECT ctid, said FROM transcript FOR UPDATE",
			"UPDATE transcript SET said = $2 WHERE ctid = $1::tid", old, 0, rows, e);
	if (rc == STORE_OK)
		rc = pg_reseal_column(s, "SELECT ctid, told FROM transcript FOR UPDATE",
			"UPDATE transcript SET told = $2 WHERE ctid = $1::tid", old, 1, rows, e);
	if (rc == STORE_OK)
		rc = pg_reseal_column(s, "SELECT ctid, body FROM inbox_dead FOR UPDATE",
			"UPDATE inbox_dead SET body = $2 WHERE ctid = $1::tid", old, 0, rows, e);
	if (rc == STORE_OK)
		return pg_command(s, "COMMIT", e);
	pg_rollback(base);
	return rc;
}

static int pg_outbox_take(struct store *base, const char *owner, int max, int lease_s,
	struct store_outbox_row *rows, int *n, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char m[16], l[16];
	const char *args[A_COUNT] = { [A_LIMIT] = m, [A_LEASE] = l, [A_OWNER] = owner };
	PGresult *res;
	int rc = pg_ready(s, e);

	*n = 0;
	if (rc)
		return rc;
	snprintf(m, sizeof(m), "%d", max);
	snprintf(l, sizeof(l), "%d", lease_s);
	res = pg_exec(s, P_TAKE, args);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, "take calls", e);
	for (int i = 0; i < PQntuples(res) && *n < max; i++) {
		struct store_outbox_row *r = &rows[*n];
		r->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		snprintf(r->bot, sizeof(r->bot), "%s", PQgetvalue(res, i, 1));
		r->chat_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		snprintf(r->method, sizeof(r->method), "%s", PQgetvalue(res, i, 3));
		r->params = strdup(PQgetvalue(res, i, 4));
		r->attempts = (int)strtol(PQgetvalue(res, i, 5), NULL, 10);
		if (r->params)
			(*n)++;
	}
	PQclear(res);
	return STORE_OK;
}

static int pg_outbox_renew(struct store *base, const char *owner, long long id,
	int lease_s, int *held, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char idt[32], l[16];
	const char *args[A_COUNT] = { [A_ID] = idt, [A_LEASE] = l, [A_OWNER] = owner };
	PGresult *res;
	int rc = pg_ready(s, e);

	*held = 0;
	if (rc)
		return rc;
	snprintf(idt, sizeof(idt), "%lld", id);
	snprintf(l, sizeof(l), "%d", lease_s);
	res = pg_exec(s, P_RENEW, args);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(s, res, "renew a lease", e);
	*held = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	return STORE_OK;
}

static int pg_outbox_done(struct store *base, const char *owner, long long id,
	int result, int delay_s, const char *error, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char idt[32], d[16];
	const char *args[A_COUNT] = { [A_ID] = idt, [A_DELAY] = d,
		[A_ERROR] = error ? error : "", [A_OWNER] = owner };
	int q = result == OUTBOX_SENT ? P_SENT : result == OUTBOX_LATER ? P_LATER :
		result == OUTBOX_RETRY ? P_RETRY : P_DEAD;
	PGresult *res;
	int rc = pg_ready(s, e);

	if (rc)
		return rc;
	snprintf(idt, sizeof(idt), "%lld", id);
	snprintf(d, sizeof(d), "%d", delay_s);
	res = pg_exec(s, q, args);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(s, res, "record a call", e);
	PQclear(res);
	return STORE_OK;
}

/* Runs q on a chat's row and calls: args holds all but its chat_id. */
static int pg_outbox_chat(struct store_pg *s, int q, const char **args,
	long long chat_id, struct store_err *e)
{
	char id[32];
	PGresult *res;
	int rc = pg_ready(s, e);

	if (rc)
		return rc;
	snprintf(id, sizeof(id), "%lld", chat_id);
	args[A_CHAT_ID] = id;
	res = pg_exec(s, q, args);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(s, res, "outbox", e);
	PQclear(res);
	return STORE_OK;
}

static int pg_outbox_blocked(struct store *base, const char *bot, long long chat_id,
	const char *why, struct store_err *e)
{
	const char *args[A_COUNT] = { [A_BOT] = bot, [A_ERROR] = why };
	return pg_outbox_chat((struct store_pg *)base, P_BLOCK, args, chat_id, e);
}

static int pg_outbox_migrate(struct store *base, const char *bot, long long from,
	long long to, struct store_err *e)
{
	char tt[32];
	const char *args[A_COUNT] = { [A_BOT] = bot, [A_TO] = tt };
	snprintf(tt, sizeof(tt), "%lld", to);
	return pg_outbox_chat((struct store_pg *)base, P_MOVE, args, from, e);
}

static int pg_ping(struct store *base)
{
	struct store_pg *s = (struct store_pg *)base;
	struct store_err e;
	if (pg_ready(s, &e) != STORE_OK)
		return 0;
	return pg_command(s, "SELECT 1", &e) == STORE_OK;
}

static void pg_set_lock_timeout(struct store *base, int ms)
{
	(void)ms;
	((struct store_pg *)base)->prepared = 0;   /* SET again with the statements */
}

/* Runs sql with params as a prepared statement: prepared at its first
 * run on this connection while there is room, else unprepared. A
 * statement that cannot be prepared returns the error. */
static PGresult *pg_query_exec(struct store_pg *s, const char *sql,
	const char *const *params, int n)
{
	char name[16];
	int i = 0;

	while (i < s->n_queries && strcmp(s->queries[i], sql) != 0)
		i++;
	if (i == s->n_queries && i < PG_QUERIES_MAX) {
		PGresult *res;
		snprintf(name, sizeof(name), "bf_q%d", i);
		res = PQprepare(s->conn, name, sql, n, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;   /* the statement's error */
		PQclear(res);
		if ((s->queries[i] = strdup(sql)) != NULL)
			s->n_queries++;
	}
	if (i == s->n_queries)
		return PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
	snprintf(name, sizeof(name), "bf_q%d", i);
	return PQexecPrepared(s->conn, name, n, params, NULL, NULL, 0);
}

static int pg_query(struct store *base, const char *sql, const char *const *params,
	int n, store_row_fn fn, void *arg, long long *changes, struct store_err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	const char *cols[16];
	PGresult *res;
	int rc = pg_ready(s, e), ncol;

	if (rc)
		return rc;
	res = pg_query_exec(s, sql, params, n);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(s, res, "query", e);
	ncol = PQnfields(res) > 16 ? 16 : PQnfields(res);
	for (int r = 0; fn && r < PQntuples(res); r++) {
		for (int i = 0; i < ncol; i++)
			cols[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
		if (fn(arg, ncol, cols) != 0)
			break;
	}
	if (changes)
		*changes = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

static const struct store_admin_sql pg_admin = {
	.lock_chat = "SELECT 1 FROM chats WHERE bot = $1 AND chat_id = $2::bigint FOR UPDATE",
	.outbox_list = "SELECT id, bot, chat_id, method, attempts, "
		"extract(epoch FROM next_at)::bigint, last_error, "
		"extract(epoch FROM created_at)::bigint, params FROM outbox "
		"WHERE state = $1 ORDER BY id LIMIT $2::int",
	.outbox_retry = "UPDATE outbox SET state = 'pending', attempts = 0, "
		"lease_until = NULL, next_at = now() WHERE state = 'dead' AND "
		"($1::bigint = 0 OR id = $1::bigint)",
	.outbox_drop = "DELETE FROM outbox WHERE ($1::bigint = 0 AND state = 'dead') OR "
		"($1::bigint <> 0 AND id = $1::bigint AND state <> 'sent')",
	.chats = "SELECT chat_id, node, finished, context, "
		"extract(epoch FROM updated_at)::bigint, member FROM chats WHERE bot = $1 "
		"ORDER BY chat_id, member",
	.secs = "extract(epoch FROM %s)::bigint",
	.time_of = "to_timestamp(CAST(%s AS bigint))",
	.timers_set = { PG_TIMERS_SET, NULL },
	/* the due index in order; a row another process holds is skipped; an
	 * array, not IN, so the update finds its rows by id, never by a scan */
	.timers_take = "UPDATE timers SET lease_until_ms = $2::bigint, lease_owner = $3 "
		"WHERE id = ANY (ARRAY (SELECT id FROM timers WHERE due_ms <= $1::bigint AND "
		"lease_until_ms < $1::bigint "
		"AND ($5::text = 'all' OR (kind = 'http') = ($5::text = 'http')) ORDER BY due_ms LIMIT $4::int "
		"FOR UPDATE SKIP LOCKED)) "
		"RETURNING id, bot, chat_id, kind, node, visit, n, due_ms, member",
};

static const struct store_ops pg_ops = {
	.version = STORE_VERSION,
	.name = "postgresql",
	.close = pg_close,
	.migrate = pg_migrate,
	.meta_get = pg_meta_get,
	.meta_set = pg_meta_set,
	.reseal = pg_reseal,
	.begin = pg_begin,
	.claim = pg_claim,
	.lock_chat = pg_lock_chat,
	.save = pg_save,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.start = pg_start,
	.finish = pg_finish,
	.prune = pg_prune,
	.ping = pg_ping,
	.set_lock_timeout = pg_set_lock_timeout,
	.outbox_take = pg_outbox_take,
	.outbox_renew = pg_outbox_renew,
	.outbox_done = pg_outbox_done,
	.outbox_blocked = pg_outbox_blocked,
	.outbox_migrate = pg_outbox_migrate,
	.query = pg_query,
	.admin = &pg_admin,
	.timers_set = store_sql_timers_set,
	.timers_take = store_sql_timers_take,
	.timer_claim = store_sql_timer_claim,
	.timers_next = store_sql_timers_next,
	.start_timer = pg_start_timer,
};

int store_pg_open(const char *uri, struct store **out, struct store_err *e)
{
	struct store_pg *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	store_base_init(&s->base, &pg_ops);
	for (int i = 0; i < 3; i++)
		buf_init(&s->a[i], 8u << 20);
	s->uri = strdup(uri);
	s->conn = s->uri ? PQconnectdb(uri) : NULL;
	if (s->conn == NULL) {
		pg_close(&s->base);
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		int rc = pg_fail(s, NULL, "connect", e);
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return STORE_OK;
}
