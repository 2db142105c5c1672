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
 * is swept before the chat's next download).
 *
 * struct attach is the engine's attach_ops for one worker: attach_bind()
 * points it at the bot and store of the update in hand. */
#ifndef BLUEFLOW_ATTACH_H
#define BLUEFLOW_ATTACH_H

#include <stddef.h>

#include "engine/botapi.h"
#include "engine/engine.h"
#include "engine/store.h"

#define ATTACH_TELEGRAM_MAX (20ul * 1024 * 1024)   /* getFile's limit */
#define ATTACH_TRIES 4

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
	struct attach_ops ops;        /* { attach_fetch, this } */
};

/* Sets up a for files under storage, fetched from api_base; a fetch
 * gives up after budget_s seconds. Nothing is opened yet. */
void attach_init(struct attach *a, const char *api_base, const char *storage,
	double budget_s);
void attach_free(struct attach *a);

/* The bot (name and token) and store of the next fetches; returns the
 * ops to put in engine_env. */
const struct attach_ops *attach_bind(struct attach *a, const char *bot,
	const char *token, struct store *store);

/* The engine's fetch (arg is a struct attach). */
int attach_fetch(void *arg, const struct attach_req *req, char *path, size_t pathlen);

/* Whether the first n bytes of a file fit the MIME type mime: checked
 * for PDF, OGG, JPEG, PNG and ZIP-based types; any other type passes. */
int attach_magic_ok(const char *mime, const unsigned char *head, size_t n);

/* Removes STORAGE/BOT/CHAT_ID and the files in it; *files counts them.
 * Returns 0 (also when there was no folder), or -1 with err set. */
int attach_forget(const char *storage, const char *bot, long long chat_id,
	int *files, char *err, size_t errlen);

#endif
