/* test_outbox_take.c - unit tests of the SQLite store's outbox
 * (engine/store_sqlite.c is included to reach its statements): the take
 * hands out each chat's first pending call, due and not leased, oldest
 * first, and its work does not grow with the queue behind those calls;
 * queueing a call builds no temporary index. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/store_sqlite.c"

#include "tests/unit/unit.h"

#define TAKE_CHATS 2000      /* chats with three calls queued each */

static char take_dir[64];
static char take_path[96];

/* A migrated store in a new folder, its outbox holding three calls for
 * each of TAKE_CHATS chats (ids in the order a step queues them), and
 * before them: chat 1's first call leased by another sender, chat 2's
 * first call due only in an hour. */
static struct store_sqlite *take_store(void)
{
	struct store *base;
	struct store_err e;
	char sql[1024];
	int applied;

	snprintf(take_dir, sizeof(take_dir), "%s/bf-take.XXXXXX",
		getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(take_dir));
	snprintf(take_path, sizeof(take_path), "%s/t.db", take_dir);
	ck_assert_int_eq(store_sqlite_open(take_path, &base, &e), STORE_OK);
	ck_assert_int_eq(base->ops->migrate(base, 0, &applied, &e), STORE_OK);
	snprintf(sql, sizeof(sql),
		"INSERT INTO outbox (bot, chat_id, method, params, next_at, lease_until, "
		"lease_owner) VALUES "
		"('b', 1, 'sendMessage', '{}', strftime('%%s', 'now') - 5, "
		"strftime('%%s', 'now') + 60, 'other'), "
		"('b', 2, 'sendMessage', '{}', strftime('%%s', 'now') + 3600, NULL, NULL), "
		"('b', 1, 'sendMessage', '{}', strftime('%%s', 'now') - 5, NULL, NULL), "
		"('b', 2, 'sendMessage', '{}', strftime('%%s', 'now') - 5, NULL, NULL); "
		"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
		"INSERT INTO outbox (bot, chat_id, method, params, next_at) "
		"SELECT 'b', 100 + i / 3, 'sendMessage', '{}', strftime('%%s', 'now') - 1 "
		"FROM n", TAKE_CHATS * 3 - 1);
	ck_assert_int_eq(sqlite_exec((struct store_sqlite *)base, sql, &e), STORE_OK);
	return (struct store_sqlite *)base;
}

static void take_done(struct store_sqlite *s)
{
	sqlite_close(&s->base);
	snprintf(take_path, sizeof(take_path), "rm -rf '%s'", take_dir);
	ck_assert_int_eq(system(take_path), 0);
}

START_TEST(heads_oldest_first)
{
	struct store_sqlite *s = take_store();
	struct store_outbox_row rows[8];
	struct store_err e;
	int n;

	ck_assert_int_eq(sqlite_outbox_take(&s->base, "me", 8, 15, rows, &n, &e), STORE_OK);
	ck_assert_int_eq(n, 8);
	/* not chat 1 (its first call is leased), nor chat 2 (not due): chats
	 * 100, 101, ... by their first call, which was due the earliest */
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(rows[i].chat_id, 100 + i);
		ck_assert_int_eq(rows[i].id, 5 + 3 * i);
		free(rows[i].params);
	}
	/* taken: the next take hands out the next chats */
	ck_assert_int_eq(sqlite_outbox_take(&s->base, "me", 2, 15, rows, &n, &e), STORE_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(rows[0].chat_id, 108);
	ck_assert_int_eq(rows[1].chat_id, 109);
	free(rows[0].params);
	free(rows[1].params);
	take_done(s);
}
END_TEST

/* A take of 8 calls reads about as many rows as it hands out, not the
 * TAKE_CHATS * 3 queued (a scan of every pending call took tens of
 * milliseconds a take once thousands were queued, in the writers' lock). */
START_TEST(work_bounded_by_the_batch)
{
	struct store_sqlite *s = take_store();
	struct store_outbox_row rows[8];
	struct store_err e;
	int n, steps;

	ck_assert_int_eq(sqlite_outbox_take(&s->base, "me", 8, 15, rows, &n, &e), STORE_OK);
	ck_assert_int_eq(n, 8);
	for (int i = 0; i < n; i++)
		free(rows[i].params);
	steps = sqlite3_stmt_status(s->q[Q_TAKE], SQLITE_STMTSTATUS_VM_STEP, 0);
	ck_assert_int_lt(steps, 2000);
	take_done(s);
}
END_TEST

/* The state check as IN (...) made SQLite build a temporary index at
 * every insert, as costly as the rest of it (016_outbox_state_check). */
START_TEST(queue_builds_no_index)
{
	struct store_sqlite *s = take_store();
	char sql[256];
	sqlite3_stmt *st;
	int ephemeral = 0;

	snprintf(sql, sizeof(sql), "EXPLAIN %s", sqlite_sql[Q_OUTBOX]);
	ck_assert_int_eq(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		ephemeral += strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
	sqlite3_finalize(st);
	ck_assert_int_eq(ephemeral, 0);
	take_done(s);
}
END_TEST

/* Counts rows; the first row of the outer query runs the same text
 * again (its statement is stepping, so the inner one is its own). */
struct kept_walk {
	struct store_sqlite *s;
	int rows, inner_rows, nested;
};

static int kept_row(void *arg, int n, const char *const *cols)
{
	struct kept_walk *w = arg;
	(void)n;
	(void)cols;
	w->rows++;
	if (w->nested && w->rows == 1) {
		struct kept_walk in = { w->s, 0, 0, 0 };
		const char *p[] = { "b", "100" };
		struct store_err e;
		ck_assert_int_eq(sqlite_query(&w->s->base, "SELECT id FROM outbox WHERE "
			"bot = $1 AND chat_id = $2", p, 2, kept_row, &in, NULL, &e), STORE_OK);
		w->inner_rows = in.rows;
	}
	return 0;
}

START_TEST(query_statements_kept)
{
	struct store_sqlite *s = take_store();
	const char *p[] = { "b", "101" };
	struct kept_walk w = { s, 0, 0, 1 };
	struct store_err e;
	long long changes = -1;
	char sql[128];

	/* more texts than are kept, each twice, with the answers they ought to give */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < SQLITE_KEPT + 4; i++) {
			struct kept_walk c = { s, 0, 0, 0 };
			snprintf(sql, sizeof(sql), "SELECT id FROM outbox WHERE bot = $1 "
				"AND chat_id = $2 AND %d = %d", i, i);
			ck_assert_int_eq(sqlite_query(&s->base, sql, p, 2, kept_row, &c, NULL,
				&e), STORE_OK);
			ck_assert_int_eq(c.rows, 3);
		}
	}
	/* the same text inside its own row callback */
	ck_assert_int_eq(sqlite_query(&s->base, "SELECT id FROM outbox WHERE "
		"bot = $1 AND chat_id = $2", p, 2, kept_row, &w, NULL, &e), STORE_OK);
	ck_assert_int_eq(w.rows, 3);
	ck_assert_int_eq(w.inner_rows, 3);
	/* bindings do not carry over: an unbound $2 is NULL and matches nothing */
	w.rows = 0;
	w.nested = 0;
	ck_assert_int_eq(sqlite_query(&s->base, "SELECT id FROM outbox WHERE "
		"bot = $1 AND chat_id = $2", p, 1, kept_row, &w, NULL, &e), STORE_OK);
	ck_assert_int_eq(w.rows, 0);
	ck_assert_int_eq(sqlite_query(&s->base, "UPDATE outbox SET attempts = 1 WHERE "
		"bot = $1 AND chat_id = $2", p, 2, NULL, NULL, &changes, &e), STORE_OK);
	ck_assert_int_eq(changes, 3);
	ck_assert_int_eq(sqlite_query(&s->base, "SELECT nonsense FROM", p, 2, NULL, NULL,
		NULL, &e), STORE_PERMANENT);
	take_done(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("outbox_take");
	TCase *tc = tcase_create("sqlite");
	tcase_add_test(tc, heads_oldest_first);
	tcase_add_test(tc, work_bounded_by_the_batch);
	tcase_add_test(tc, queue_builds_no_index);
	tcase_add_test(tc, query_statements_kept);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
