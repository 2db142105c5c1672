/* attach.h - keeping the files users upload, for voice_upload and
 * file_upload nodes: getFile, a download streamed to a temporary file in
 * the target folder and cut off past the node's cap (and Telegram's
 * 20 MB), sha256 on the way, the first bytes checked against the MIME
 * type Telegram reported, fsync and rename to
 *   STORAGE/BOT/CHAT_ID/UPDATE_ID-FILE_UNIQUE_ID.EXT
 * (folders 0700, files 0600, every part of the name from ids), and a row
 * in the attachments table inside the update's transaction. A failed
 * download is tried again after 1 s, 3 s and 9 s while the request's time
 * allows; a partial file never stays on disk (one a killed process left
 * is swept before the chat's next download; a download under way holds
 * a lock on its partial file, so none is swept from under it).
 *
 * The download happens before the update's transaction, so no database
 * lock is held while talking to Telegram (apply.c runs it): the step runs
 * once on the chat as it is, with attach_early()'s fetch, which downloads
 * and remembers the result; then, under the lock, the step runs again
 * with attach_bind()'s fetch, which hands over what was fetched and
 * records its row. attach_settle() then deletes a file the update did not
 * keep. struct attach does this for one worker, one update at a time. */
#ifndef BLUEFLOW_ATTACH_H
#define BLUEFLOW_ATTACH_H

#include <stddef.h>

#include "engine/botapi.h"
#include "engine/engine.h"
#include "engine/flow.h"
#include "engine/store.h"

#define ATTACH_TELEGRAM_MAX (20ul * 1024 * 1024)   /* getFile's limit */
#define ATTACH_TRIES 4

/* The file of the update in hand, fetched before its transaction. */
struct attach_got {
	int have;                     /* a fetch was made */
	int rc;                       /* its result: 0 or an ATTACH_ code */
	int used;                     /* the step under the lock took the file */
	char node_id[FLOW_ID_MAX + 1];/* what was asked for */
	char kind[16];
	char file_unique_id[65];
	char path[ENGINE_PATH_MAX];   /* where it is (rc 0) */
	char why[160];                /* why not (rc != 0) */
	char sha_hex[65];
	unsigned long size;
};

struct attach {
	struct botapi api;            /* set up on the first download */
	int have_api;
	const char *api_base;
	const char *storage;
	unsigned delay_ms[ATTACH_TRIES - 1];   /* before each retry: 1, 3, 9 s */
	double budget_s;              /* longest time one fetch may take */
	/* the update in hand (attach_bind) */
	const char *bot;
	const char *token;
	struct store *store;          /* NULL: no row is recorded */
	long long max_files;          /* files a chat may keep; 0: any */
	long long max_bytes;          /* bytes the bot's files may take; 0: any */
	int early;                    /* the fetch went before the transaction */
	int missed;                   /* the step under the lock asked for a
	                                 file that was not fetched before */
	struct attach_got got;
	struct attach_ops ops;        /* { attach_keep, this } */
	struct attach_ops early_ops;  /* { attach_fetch, this } */
};

/* Sets up a for files under storage, fetched from api_base; a fetch
 * gives up after budget_s seconds. Nothing is opened yet. */
void attach_init(struct attach *a, const char *api_base, const char *storage,
	double budget_s);
void attach_free(struct attach *a);

/* The bot (name and token) and store of the next update; returns the
 * ops to put in the engine_env of its transaction (attach_keep). */
const struct attach_ops *attach_bind(struct attach *a, const char *bot,
	const char *token, struct store *store);

/* The bot's quotas for the update bound (attach_bind clears them): files
 * per chat and bytes of all the bot's files, 0 meaning none. An upload
 * past either is refused (ATTACH_TOO_MANY, ATTACH_FULL) and nothing is
 * kept. Counted from the store's rows before the download; uploads under
 * way at once may each pass the bytes quota by one file. */
void attach_limit(struct attach *a, long long files, long long bytes);

/* The ops for the step run before the transaction (attach_fetch); from
 * then on attach_keep hands over only what attach_fetch fetched (missed
 * and used start clear: each try of an update begins here). */
const struct attach_ops *attach_early(struct attach *a);

/* Downloads the file and remembers it (and its result) for attach_keep;
 * asked again for the same file, gives what it remembers. No row is
 * recorded. Returns 0 (path set) or an ATTACH_ code (req->why set). */
int attach_fetch(void *arg, const struct attach_req *req, char *path, size_t pathlen);

/* The fetch of the transaction: the result attach_fetch remembered for
 * this file, its row recorded in the store; when attach_early was not
 * used, downloads now. A file asked for that was not fetched before (the
 * chat moved on in between) sets missed and returns ATTACH_FAILED: the
 * caller must not commit (attach_missed). */
int attach_keep(void *arg, const struct attach_req *req, char *path, size_t pathlen);

/* Whether attach_keep was asked for a file not fetched before. */
int attach_missed(const struct attach *a);

/* Ends the update: deletes the file fetched unless kept (its transaction
 * committed with the step taking it) or, on a repeat, recorded by the
 * update's first delivery; forgets it. */
void attach_settle(struct attach *a, int kept, int repeat);

/* Whether the first n bytes of a file fit the MIME type mime: checked
 * for PDF, OGG, JPEG, PNG and ZIP-based types; any other type passes. */
int attach_magic_ok(const char *mime, const unsigned char *head, size_t n);

/* Removes STORAGE/BOT/CHAT_ID and the files in it; *files counts them.
 * Returns 0 (also when there was no folder), or -1 with err set. */
int attach_forget(const char *storage, const char *bot, long long chat_id,
	int *files, char *err, size_t errlen);

#endif
