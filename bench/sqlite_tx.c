/* sqlite_tx.c - the SQLite store ceiling for bench/run: blueflow's
 * per-update transaction (engine/store_sqlite.c's statements, verbatim, in
 * its order, with its pragmas) in a tight loop in one process, on a
 * database `blueflow db migrate` made: BEGIN IMMEDIATE; the update id
 * looked up; the chat row made and read; the chat saved; the update id
 * written with its inline reply; one transcript row; COMMIT. No engine, no JSON, no HTTP. Usage: sqlite_tx
 * DB SECONDS COUNT CHATS; stops at whichever of SECONDS and COUNT comes
 * first. Prints "tx=N elapsed=S rate=R"; exit 1 on an error (said why). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { TX_BEGIN, TX_COMMIT, TX_CLAIM, TX_CHAT_NEW, TX_CHAT_GET, TX_CHAT_SAVE,
	TX_SET_REPLY, TX_TRANSCRIPT, TX_COUNT };

static const char *const tx_sql[TX_COUNT] = {
	[TX_BEGIN] = "BEGIN IMMEDIATE",
	[TX_COMMIT] = "COMMIT",
	[TX_CLAIM] = "SELECT coalesce(reply, '') FROM updates WHERE bot = ?1 AND update_id = ?2",
	[TX_CHAT_NEW] = "INSERT INTO chats (bot, chat_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
	[TX_CHAT_GET] = "SELECT node, flow_hash, context, attempts, finished, keyboard, "
		"EXISTS (SELECT 1 FROM outbox WHERE bot = ?1 AND chat_id = ?2 AND state = 'pending') "
		"FROM chats WHERE bot = ?1 AND chat_id = ?2",
	[TX_CHAT_SAVE] = "UPDATE chats SET node = ?3, flow_hash = ?4, context = ?5, "
		"attempts = ?6, finished = ?7, keyboard = ?8, last_update_id = ?9, "
		"updated_at = strftime('%s', 'now') WHERE bot = ?1 AND chat_id = ?2",
	[TX_SET_REPLY] = "INSERT INTO updates (bot, update_id, reply) VALUES (?1, ?2, ?3)",
	[TX_TRANSCRIPT] = "INSERT INTO transcript (bot, chat_id, update_id, said, told) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
};

static const char tx_bot[] = "bench";
static const char tx_hash[] =
	"5c6fb63eed8c0000000000000000000000000000000000000000000000000000";
static const char tx_ctx[] = "{\"v\":\"answer\"}";
static const char tx_reply[] =
	"{\"method\":\"sendMessage\",\"chat_id\":1000000,\"text\":\"b?\",\"parse_mode\":\"HTML\"}";

static double tx_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs statement q (bound as the update uid of chat needs) to its end;
 * -1 (said why) on an error. */
static int tx_step(sqlite3 *db, sqlite3_stmt *st[], int q, long long uid, long long chat,
	const char *said, const char *told)
{
	sqlite3_stmt *s = st[q];
	int rc;

	if (q != TX_BEGIN && q != TX_COMMIT) {
		sqlite3_bind_text(s, 1, tx_bot, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, q == TX_CLAIM || q == TX_SET_REPLY ? uid : chat);
	}
	if (q == TX_CHAT_SAVE) {
		sqlite3_bind_text(s, 3, uid % 2 ? "b" : "a", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, tx_hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, tx_ctx, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, 0);
		sqlite3_bind_int(s, 7, 0);
		sqlite3_bind_int(s, 8, 0);
		sqlite3_bind_int64(s, 9, uid);
	} else if (q == TX_SET_REPLY) {
		sqlite3_bind_text(s, 3, tx_reply, -1, SQLITE_STATIC);
	} else if (q == TX_TRANSCRIPT) {
		sqlite3_bind_int64(s, 3, uid);
		sqlite3_bind_text(s, 4, said, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, told, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "sqlite_tx: %s: %s\n", tx_sql[q], sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* One update's transaction. */
static int tx_one(sqlite3 *db, sqlite3_stmt *st[], long long uid, long long chat)
{
	if (tx_step(db, st, TX_BEGIN, uid, chat, NULL, NULL) ||
	    tx_step(db, st, TX_CLAIM, uid, chat, NULL, NULL) ||
	    tx_step(db, st, TX_CHAT_NEW, uid, chat, NULL, NULL) ||
	    tx_step(db, st, TX_CHAT_GET, uid, chat, NULL, NULL) ||
	    tx_step(db, st, TX_CHAT_SAVE, uid, chat, NULL, NULL) ||
	    tx_step(db, st, TX_SET_REPLY, uid, chat, NULL, NULL) ||
	    tx_step(db, st, TX_TRANSCRIPT, uid, chat, "answer", "[\"b?\"]") ||
	    tx_step(db, st, TX_COMMIT, uid, chat, NULL, NULL))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	sqlite3_stmt *st[TX_COUNT] = { 0 };
	sqlite3 *db = NULL;
	double t0, t1, seconds;
	long long count, chats, n = 0;
	int rc = 1;

	if (argc != 5) {
		fputs("usage: sqlite_tx DB SECONDS COUNT CHATS\n", stderr);
		return 2;
	}
	seconds = strtod(argv[2], NULL);
	count = strtoll(argv[3], NULL, 10);
	chats = strtoll(argv[4], NULL, 10);
	if (!(seconds > 0) || count < 1 || chats < 1) {
		fputs("sqlite_tx: SECONDS, COUNT and CHATS are above 0\n", stderr);
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite_tx: cannot open %s: %s\n", argv[1],
			db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
	    "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite_tx: pragmas: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	for (int q = 0; q < TX_COUNT; q++) {
		if (sqlite3_prepare_v2(db, tx_sql[q], -1, &st[q], NULL) != SQLITE_OK) {
			fprintf(stderr, "sqlite_tx: %s: %s\n", tx_sql[q], sqlite3_errmsg(db));
			goto out;
		}
	}
	t0 = tx_now();
	t1 = t0;
	while (n < count && t1 - t0 < seconds) {
		if (tx_one(db, st, n + 1, 1000000 + n % chats) != 0)
			goto out;
		n++;
		if (n % 64 == 0 || n == count)
			t1 = tx_now();
	}
	t1 = tx_now();
	printf("tx=%lld elapsed=%.3f rate=%.1f\n", n, t1 - t0, (double)n / (t1 - t0));
	rc = 0;
out:
	for (int q = 0; q < TX_COUNT; q++)
		sqlite3_finalize(st[q]);
	sqlite3_close(db);
	return rc;
}
