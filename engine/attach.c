/* attach.c - downloads and keeps uploaded files (see attach.h). */
#include "engine/attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/mono.h"

#define ATTACH_CONNECT_MS 5000
#define ATTACH_GIVE_UP (-9)          /* internal: failed, and trying again is useless */

void attach_init(struct attach *a, const char *api_base, const char *storage,
	double budget_s)
{
	memset(a, 0, sizeof(*a));
	a->api_base = api_base;
	a->storage = storage;
	a->budget_s = budget_s;
	a->delay_ms[0] = 1000;
	a->delay_ms[1] = 3000;
	a->delay_ms[2] = 9000;
	a->ops.fetch = attach_keep;
	a->ops.arg = a;
	a->early_ops.fetch = attach_fetch;
	a->early_ops.arg = a;
}

void attach_free(struct attach *a)
{
	if (a->have_api)
		botapi_free(&a->api);
	a->have_api = 0;
}

const struct attach_ops *attach_bind(struct attach *a, const char *bot,
	const char *token, struct store *store)
{
	a->bot = bot;
	a->token = token;
	a->store = store;
	a->max_files = 0;
	a->max_bytes = 0;
	a->early = 0;
	a->missed = 0;
	memset(&a->got, 0, sizeof(a->got));
	return &a->ops;
}

void attach_limit(struct attach *a, long long files, long long bytes)
{
	a->max_files = files;
	a->max_bytes = bytes;
}

/* Whether the chat and the bot have room for size more bytes (0: not
 * known yet): 0, or ATTACH_TOO_MANY / ATTACH_FULL with req->why set.
 * A store that cannot tell lets the file in: the quota is not worth an
 * upload lost to a store hiccup. */
static int attach_room(struct attach *a, const struct attach_req *req,
	unsigned long long size)
{
	long long files, bytes;
	struct store_err e;

	if (a->store == NULL || (a->max_files <= 0 && a->max_bytes <= 0) ||
	    store_file_usage(a->store, a->bot, req->chat_id, &files, &bytes, &e) != STORE_OK)
		return 0;
	if (a->max_files > 0 && files >= a->max_files) {
		snprintf(req->why, req->whylen, "the chat keeps %lld files, the most "
			"allowed (max_chat_files)", files);
		return ATTACH_TOO_MANY;
	}
	if (a->max_bytes > 0 && (unsigned long long)bytes + size > (unsigned long long)a->max_bytes) {
		snprintf(req->why, req->whylen, "the bot's files take %lld bytes; %llu more "
			"would pass max_bot_bytes (%lld)", bytes, size, a->max_bytes);
		return ATTACH_FULL;
	}
	return 0;
}

const struct attach_ops *attach_early(struct attach *a)
{
	a->early = 1;
	a->missed = 0;
	a->got.used = 0;   /* a try before this one may have taken it */
	return &a->early_ops;
}

int attach_missed(const struct attach *a)
{
	return a->missed;
}

static void attach_sleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* An id that may become part of a file name: [A-Za-z0-9_-], 1 to 64. */
static int attach_id_ok(const char *s)
{
	size_t n;
	if (s == NULL)
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	return n >= 1 && n <= 64 && s[n] == '\0';
}

/* Telegram's file_path, which goes into the download URL: relative,
 * plain characters, no "..". */
static int attach_file_path_ok(const char *s)
{
	size_t n;
	if (s == NULL || s[0] == '/' || strstr(s, "..") != NULL)
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./");
	return n >= 1 && n <= 512 && s[n] == '\0';
}

static const struct {
	const char *mime;            /* a whole type, or a prefix ending in '.' or '/' */
	const char *ext;
	const char *magic;
	size_t magic_len;
} attach_types[] = {
	{ "application/pdf", "pdf", "%PDF-", 5 },
	{ "audio/ogg", "ogg", "OggS", 4 },
	{ "audio/opus", "ogg", "OggS", 4 },
	{ "image/jpeg", "jpg", "\xff\xd8\xff", 3 },
	{ "image/png", "png", "\x89PNG\r\n\x1a\n", 8 },
	{ "application/zip", "zip", "PK\x03\x04", 4 },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.", "docx", "PK\x03\x04", 4 },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.", "xlsx", "PK\x03\x04", 4 },
	{ "application/vnd.openxmlformats-officedocument.presentationml.", "pptx", "PK\x03\x04", 4 },
	{ "application/vnd.oasis.opendocument.text", "odt", "PK\x03\x04", 4 },
	{ "application/vnd.oasis.opendocument.spreadsheet", "ods", "PK\x03\x04", 4 },
	{ "application/epub+zip", "epub", "PK\x03\x04", 4 },
	{ "audio/mpeg", "mp3", NULL, 0 },
	{ "image/webp", "webp", NULL, 0 },
	{ "text/plain", "txt", NULL, 0 },
	{ "video/mp4", "mp4", NULL, 0 },
};

/* The table's entry for mime, or -1. */
static int attach_type(const char *mime)
{
	for (size_t i = 0; mime && i < sizeof(attach_types) / sizeof(attach_types[0]); i++) {
		const char *m = attach_types[i].mime;
		size_t n = strlen(m);
		if (m[n - 1] == '.' ? strncasecmp(mime, m, n) == 0 : strcasecmp(mime, m) == 0)
			return (int)i;
	}
	return -1;
}

int attach_magic_ok(const char *mime, const unsigned char *head, size_t n)
{
	int t = attach_type(mime);
	if (t < 0 || attach_types[t].magic == NULL)
		return 1;
	return n >= attach_types[t].magic_len &&
	       memcmp(head, attach_types[t].magic, attach_types[t].magic_len) == 0;
}

/* The MIME type a kept file is checked against: a voice note is OGG
 * whatever it claims. */
static const char *attach_mime(const struct attach_req *req)
{
	if (strcmp(req->kind, "voice") == 0)
		return "audio/ogg";
	return req->file->mime_type;
}

static int attach_mkdir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* Removes what a process killed during a download left in dir: a
 * partial file nobody holds the lock of (a download under way holds it
 * until its file is renamed). */
static void attach_sweep(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int fd;

	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, ".part-", 6) != 0)
			continue;
		fd = openat(dirfd(dp), d->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd(dp), d->d_name, 0);
		close(fd);
	}
	closedir(dp);
}

/* STORAGE/BOT/CHAT_ID into dir, each folder made 0700 if missing. */
static int attach_dir(struct attach *a, long long chat_id, char *dir, size_t len,
	char *why, size_t whylen)
{
	int n;
	if (attach_mkdir(a->storage) != 0)
		goto fail;
	n = snprintf(dir, len, "%s/%s", a->storage, a->bot);
	if (n < 0 || (size_t)n >= len || attach_mkdir(dir) != 0)
		goto fail;
	n = snprintf(dir, len, "%s/%s/%lld", a->storage, a->bot, chat_id);
	if (n < 0 || (size_t)n >= len || attach_mkdir(dir) != 0)
		goto fail;
	return 0;
fail:
	snprintf(why, whylen, "cannot make the folder for chat %lld under the storage "
		"folder: %s", chat_id, errno ? strerror(errno) : "name too long");
	return -1;
}

/* getFile: Telegram's file_path for the file, checked. */
static int attach_get_file(struct attach *a, const struct attach_req *req,
	unsigned long cap, char *file_path, size_t len)
{
	struct botapi_answer ans;
	json_object *p = json_object_new_object(), *v;
	int rc;

	if (p == NULL || json_object_object_add(p, "file_id",
	    json_object_new_string(req->file->file_id)) != 0) {
		json_object_put(p);
		snprintf(req->why, req->whylen, "out of memory");
		return ATTACH_FAILED;
	}
	rc = botapi_call(&a->api, a->token, "getFile", json_object_to_json_string(p), &ans);
	json_object_put(p);
	if (rc != 0 || botapi_verdict(&ans) != BOTAPI_DONE) {
		if (rc != 0)
			snprintf(req->why, req->whylen, "getFile: %s", ans.transport);
		else
			snprintf(req->why, req->whylen, "getFile: %d %s", ans.error_code,
				ans.description);
		rc = rc == 0 && botapi_verdict(&ans) == BOTAPI_FAIL ?
			(strstr(ans.description, "too big") ? ATTACH_TOO_BIG : ATTACH_GIVE_UP) :
			ATTACH_FAILED;
		botapi_answer_free(&ans);
		return rc;
	}
	rc = ATTACH_GIVE_UP;
	if (json_object_object_get_ex(ans.result, "file_size", &v) &&
	    (unsigned long long)json_object_get_int64(v) > cap) {
		snprintf(req->why, req->whylen, "getFile: %lld bytes, over the %lu allowed",
			(long long)json_object_get_int64(v), cap);
		rc = ATTACH_TOO_BIG;
	} else if (!json_object_object_get_ex(ans.result, "file_path", &v) ||
	    !attach_file_path_ok(json_object_get_string(v))) {
		snprintf(req->why, req->whylen, "getFile: no usable file_path");
	} else {
		snprintf(file_path, len, "%s", json_object_get_string(v));
		rc = 0;
	}
	botapi_answer_free(&ans);
	return rc;
}

static void attach_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Downloads into a temporary file in dir (locked while it is written:
 * attach_sweep leaves it alone), checks it, and renames it to path.
 * Nothing is left behind on failure. */
static int attach_download(struct attach *a, const struct attach_req *req,
	const char *file_path, unsigned long cap, const char *dir, const char *path,
	char sha_hex[65], unsigned long *size)
{
	unsigned char sha[32], head[8];
	char tmp[ENGINE_PATH_MAX + 16];
	ssize_t got;
	int fd, rc, dfd;

	snprintf(tmp, sizeof(tmp), "%s/.part-XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);   /* 0600 */
	if (fd < 0) {
		snprintf(req->why, req->whylen, "cannot make a file in the storage "
			"folder: %s", strerror(errno));
		return ATTACH_FAILED;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {   /* a sweep took it first */
		snprintf(req->why, req->whylen, "cannot lock the partial file: %s",
			strerror(errno));
		rc = ATTACH_FAILED;
		goto fail;
	}
	rc = botapi_download(&a->api, a->token, file_path, fd, cap, sha, size,
		req->why, req->whylen);
	if (rc != 0) {
		rc = rc == BOTAPI_OVER ? ATTACH_TOO_BIG : ATTACH_FAILED;
		goto fail;
	}
	got = pread(fd, head, sizeof(head), 0);
	if (!attach_magic_ok(attach_mime(req), head, got > 0 ? (size_t)got : 0)) {
		snprintf(req->why, req->whylen, "the content is not %s", attach_mime(req));
		rc = ATTACH_WRONG_TYPE;
		goto fail;
	}
	if (fsync(fd) != 0) {
		snprintf(req->why, req->whylen, "cannot write the file: %s", strerror(errno));
		rc = ATTACH_FAILED;
		goto fail;
	}
	if (rename(tmp, path) != 0) {   /* still locked: no sweep takes it */
		snprintf(req->why, req->whylen, "cannot rename the file: %s", strerror(errno));
		rc = ATTACH_FAILED;
		goto fail;
	}
	if (close(fd) != 0) {
		snprintf(req->why, req->whylen, "cannot write the file: %s", strerror(errno));
		unlink(path);
		return ATTACH_FAILED;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);   /* the rename itself survives a crash */
		close(dfd);
	}
	attach_hex(sha, sizeof(sha), sha_hex);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* One try: getFile, then the download. */
static int attach_once(struct attach *a, const struct attach_req *req,
	unsigned long cap, const char *dir, const char *path, double deadline,
	char sha_hex[65], unsigned long *size)
{
	char file_path[520];
	double left = deadline - mono_now();
	int rc;

	if (!a->have_api) {
		if (botapi_init(&a->api, a->api_base, ATTACH_CONNECT_MS, 10000) != 0) {
			snprintf(req->why, req->whylen, "cannot set up the Bot API client");
			return ATTACH_FAILED;
		}
		a->have_api = 1;
	}
	a->api.timeout_ms = left > 1 ? (long)(left * 1000) : 1000;
	a->api.connect_ms = a->api.timeout_ms < ATTACH_CONNECT_MS ? a->api.timeout_ms :
		ATTACH_CONNECT_MS;
	rc = attach_get_file(a, req, cap, file_path, sizeof(file_path));
	if (rc)
		return rc;
	left = deadline - mono_now();
	a->api.timeout_ms = left > 1 ? (long)(left * 1000) : 1000;
	return attach_download(a, req, file_path, cap, dir, path, sha_hex, size);
}

/* Downloads the file req names into path (a name from ids under the
 * chat's folder), with the retries; fills sha_hex and size. */
static int attach_get(struct attach *a, const struct attach_req *req, char *path,
	size_t pathlen, char sha_hex[65], unsigned long *size)
{
	const struct update_file *f = req->file;
	unsigned long cap = req->max_bytes < ATTACH_TELEGRAM_MAX ? req->max_bytes :
		ATTACH_TELEGRAM_MAX;
	double deadline = mono_now() + a->budget_s;
	char dir[ENGINE_PATH_MAX];
	int rc = ATTACH_FAILED, n, t = attach_type(attach_mime(req));

	if (!attach_id_ok(f->file_unique_id) || f->file_id == NULL || !*f->file_id) {
		snprintf(req->why, req->whylen, "the update carries no usable file id");
		return ATTACH_FAILED;
	}
	rc = attach_room(a, req, f->file_size > 0 ? (unsigned long long)f->file_size : 0);
	if (rc)
		return rc;
	if (attach_dir(a, req->chat_id, dir, sizeof(dir), req->why, req->whylen) != 0)
		return ATTACH_FAILED;
	attach_sweep(dir);
	n = snprintf(path, pathlen, "%s/%lld-%s.%s", dir, req->update_id,
		f->file_unique_id, t >= 0 ? attach_types[t].ext : "bin");
	if (n < 0 || (size_t)n >= pathlen) {
		snprintf(req->why, req->whylen, "the storage folder's path is too long");
		return ATTACH_FAILED;
	}
	for (int i = 0; i < ATTACH_TRIES; i++) {
		if (i > 0) {
			if (mono_now() + a->delay_ms[i - 1] / 1000.0 >= deadline)
				break;
			attach_sleep(a->delay_ms[i - 1]);
		}
		rc = attach_once(a, req, cap, dir, path, deadline, sha_hex, size);
		if (rc != ATTACH_FAILED)
			break;
	}
	if (rc == 0) {
		rc = attach_room(a, req, *size);   /* the size declared may be less */
		if (rc)
			unlink(path);
	}
	return rc == ATTACH_GIVE_UP ? ATTACH_FAILED : rc;
}

/* Whether g was fetched for what req asks. */
static int attach_same(const struct attach_got *g, const struct attach_req *req)
{
	const char *id = req->file->file_unique_id;
	return g->have && strcmp(g->node_id, req->node_id) == 0 &&
	       strcmp(g->kind, req->kind) == 0 &&
	       strcmp(g->file_unique_id, id ? id : "") == 0;
}

/* What g remembers, as the engine's fetch returns it. */
static int attach_give(const struct attach_got *g, const struct attach_req *req,
	char *path, size_t pathlen)
{
	if (g->rc != 0) {
		snprintf(req->why, req->whylen, "%s", g->why);
		return g->rc;
	}
	if (snprintf(path, pathlen, "%s", g->path) >= (int)pathlen) {
		snprintf(req->why, req->whylen, "the storage folder's path is too long");
		return ATTACH_FAILED;
	}
	return 0;
}

/* Deletes the file fetched (if any) and forgets it. */
static void attach_drop(struct attach *a)
{
	if (a->got.have && a->got.rc == 0)
		unlink(a->got.path);
	memset(&a->got, 0, sizeof(a->got));
}

int attach_fetch(void *arg, const struct attach_req *req, char *path, size_t pathlen)
{
	struct attach *a = arg;
	struct attach_got *g = &a->got;
	const char *id = req->file->file_unique_id;

	if (g->have && !attach_same(g, req))
		attach_drop(a);   /* the chat moved on between two tries */
	if (!g->have) {
		g->rc = attach_get(a, req, g->path, sizeof(g->path), g->sha_hex, &g->size);
		if (g->rc != 0)
			snprintf(g->why, sizeof(g->why), "%s", req->why);
		snprintf(g->node_id, sizeof(g->node_id), "%s", req->node_id);
		snprintf(g->kind, sizeof(g->kind), "%s", req->kind);
		snprintf(g->file_unique_id, sizeof(g->file_unique_id), "%s", id ? id : "");
		g->have = 1;
	}
	return attach_give(g, req, path, pathlen);
}

int attach_keep(void *arg, const struct attach_req *req, char *path, size_t pathlen)
{
	struct attach *a = arg;
	struct attach_got *g = &a->got;
	struct store_err e;
	int rc;

	if (a->early && !attach_same(g, req)) {
		a->missed = 1;
		snprintf(req->why, req->whylen, "the chat moved on while its file was fetched");
		return ATTACH_FAILED;
	}
	rc = a->early ? attach_give(g, req, path, pathlen) :
		attach_fetch(arg, req, path, pathlen);
	if (rc != 0)
		return rc;
	if (a->store) {
		struct store_file sf = { req->node_id, req->key, g->path, attach_mime(req),
			g->sha_hex, g->file_unique_id, g->size };
		if (store_file_add(a->store, a->bot, req->chat_id, req->update_id, &sf, &e) != 0) {
			snprintf(req->why, req->whylen, "%s", e.msg);
			return ATTACH_FAILED;
		}
	}
	g->used = 1;
	return 0;
}

void attach_settle(struct attach *a, int kept, int repeat)
{
	struct store_err e;
	int recorded = 0;

	if (a->got.have && a->got.rc == 0 && repeat && a->store &&
	    store_file_recorded(a->store, a->bot, a->got.path, &recorded, &e) != STORE_OK)
		recorded = 1;   /* cannot tell: keep it rather than lose a kept file */
	if (!(kept && a->got.used) && !recorded)
		attach_drop(a);
	memset(&a->got, 0, sizeof(a->got));
	a->early = 0;
	a->missed = 0;
}

int attach_forget(const char *storage, const char *bot, long long chat_id,
	int *files, char *err, size_t errlen)
{
	char dir[ENGINE_PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int n = snprintf(dir, sizeof(dir), "%s/%s/%lld", storage, bot, chat_id);

	*files = 0;
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		snprintf(err, errlen, "the storage folder's path is too long");
		return -1;
	}
	dp = opendir(dir);
	if (dp == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* only what attach put there: files, no folders */
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dp), d->d_name, 0) == 0)
			(*files)++;
	}
	closedir(dp);
	if (rmdir(dir) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}
