/* store_media.c - the file ids of uploaded media (store.h): which
 * file_id Telegram gave a bot's local media file, by its SHA-256, so
 * that the sender uploads it once. Plain statements through the
 * backend's query op; a store without SQL (memory:) keeps none. */
#include "engine/store.h"

#include <stdio.h>

struct store_media_arg {
	char *id;
	size_t len;
	int *found;
};

static int store_media_row(void *arg, int n, const char *const *cols)
{
	struct store_media_arg *a = arg;
	if (n >= 1 && cols[0] && snprintf(a->id, a->len, "%s", cols[0]) < (int)a->len)
		*a->found = 1;
	return 1;
}

int store_media_get(struct store *s, const char *bot, const char *kind,
	const char *sha_hex, char *id, size_t idlen, int *found, struct store_err *e)
{
	const char *p[3] = { bot, kind, sha_hex };
	struct store_media_arg a = { id, idlen, found };

	*found = 0;
	if (s->ops->query == NULL)
		return STORE_OK;
	return s->ops->query(s, "SELECT file_id FROM media_files WHERE bot = $1 AND "
		"kind = $2 AND sha256 = $3", p, 3, store_media_row, &a, NULL, e);
}

int store_media_put(struct store *s, const char *bot, const char *kind,
	const char *sha_hex, const char *file_id, struct store_err *e)
{
	const char *p[4] = { bot, kind, sha_hex, file_id };

	if (s->ops->query == NULL)
		return STORE_OK;
	return s->ops->query(s, "INSERT INTO media_files (bot, kind, sha256, file_id) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT (bot, kind, sha256) DO UPDATE SET "
		"file_id = excluded.file_id", p, 4, NULL, NULL, NULL, e);
}

int store_media_forget(struct store *s, const char *bot, const char *kind,
	const char *sha_hex, struct store_err *e)
{
	const char *p[3] = { bot, kind, sha_hex };

	if (s->ops->query == NULL)
		return STORE_OK;
	return s->ops->query(s, "DELETE FROM media_files WHERE bot = $1 AND kind = $2 "
		"AND sha256 = $3", p, 3, NULL, NULL, NULL, e);
}
