/* media.c - media in prompts (media.h): the "media" key, the send call
 * that carries it, and the sender's side of a local file. */
#include "engine/media.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/check.h"
#include "engine/html.h"
#include "engine/jdoc.h"
#include "engine/step.h"

static const struct {
	const char *kind;
	const char *method;
} media_kinds[] = {
	{ "photo", "sendPhoto" },
	{ "document", "sendDocument" },
	{ "voice", "sendVoice" },
	{ "video", "sendVideo" },
	{ "animation", "sendAnimation" },
};

#define MEDIA_KINDS (sizeof(media_kinds) / sizeof(media_kinds[0]))

unsigned long media_max(const char *field)
{
	return strcmp(field, "photo") == 0 ? MEDIA_PHOTO_MAX : MEDIA_FILE_MAX;
}

static int media_is_mp4(const unsigned char *d, size_t n)
{
	return n >= 12 && memcmp(d + 4, "ftyp", 4) == 0;
}

const char *media_mime(const unsigned char *d, size_t n)
{
	if (n >= 3 && memcmp(d, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 4 && memcmp(d, "OggS", 4) == 0)
		return "audio/ogg";
	if (media_is_mp4(d, n))
		return "video/mp4";
	return "application/octet-stream";
}

/* Whether a file beginning with head suits kind; what it should be goes
 * to want. */
static int media_head_ok(const char *kind, const unsigned char *head, size_t n,
	const char **want)
{
	const char *m = media_mime(head, n);
	*want = NULL;
	if (strcmp(kind, "photo") == 0) {
		*want = "a JPEG, PNG or WebP image";
		return !strcmp(m, "image/jpeg") || !strcmp(m, "image/png") ||
		       !strcmp(m, "image/webp");
	}
	if (strcmp(kind, "voice") == 0) {
		*want = "an OGG (Opus) voice note";
		return !strcmp(m, "audio/ogg");
	}
	if (strcmp(kind, "video") == 0) {
		*want = "an MP4 video";
		return !strcmp(m, "video/mp4");
	}
	if (strcmp(kind, "animation") == 0) {
		*want = "a GIF or an MP4 video without sound";
		return !strcmp(m, "image/gif") || !strcmp(m, "video/mp4");
	}
	return 1;
}

/* A file_id as Telegram writes them: base64url. */
static int media_is_file_id(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_-");
	return n > 0 && s[n] == '\0';
}

/* The local file's path: src as it is when absolute, else beside the
 * flow file; into out. Returns 0, or -1 when too long. */
static int media_path(const char *flow_file, const char *src, char *out, size_t len)
{
	const char *slash = strrchr(flow_file, '/');
	int n;
	if (src[0] == '/' || slash == NULL)
		n = snprintf(out, len, "%s", src);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - flow_file), flow_file, src);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Checks the local file at file for kind; reports at kpath. */
static int media_check_file(struct check *c, const char *kind, const char *src,
	const char *file, const char *kpath)
{
	unsigned char head[16];
	const char *want;
	struct stat st;
	ssize_t got;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "the file \"%s\" cannot be "
			"read (%s); a path is relative to the flow file", src, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (unsigned long long)st.st_size > media_max(kind)) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "the file \"%s\" %s", src,
			!S_ISREG(st.st_mode) ? "is not a regular file" : st.st_size == 0 ?
			"is empty" : strcmp(kind, "photo") == 0 ? "is over the Bot API's "
			"10 MB limit for a photo; send it as a document" :
			"is over the Bot API's 50 MB upload limit");
		close(fd);
		return -1;
	}
	got = read(fd, head, sizeof(head));
	close(fd);
	if (!media_head_ok(kind, head, got > 0 ? (size_t)got : 0, &want)) {
		const char *is = media_mime(head, got > 0 ? (size_t)got : 0);
		check_error(c, DIAG_NODE_SCHEMA, kpath, "the file \"%s\" is not %s: "
			"its first bytes are %s%s", src, want, strchr(is, '-') ?
			"not those of one" : "those of ", strchr(is, '-') ? "" : is);
		return -1;
	}
	return 0;
}

int media_read_key(struct check *c, struct flow_node *n, json_object *obj,
	const char *path, const struct node_key *k)
{
	char kpath[JDOC_PATH_MAX], vpath[JDOC_PATH_MAX], file[PATH_MAX], abs[PATH_MAX];
	struct flow_media *m;
	json_object *v = NULL, *media;
	const char *kind = NULL, *src;
	size_t i;

	if (!json_object_object_get_ex(obj, k->name, &media))
		return 0;
	jdoc_path(kpath, sizeof(kpath), path, k->name);
	if (!json_object_is_type(media, json_type_object) ||
	    json_object_object_length(media) != 1) {
		check_error(c, json_object_is_type(media, json_type_object) ?
			DIAG_NODE_SCHEMA : DIAG_SCHEMA, kpath, "must be an object with one "
			"key, e.g. {\"photo\": \"welcome.jpg\"}");
		return -1;
	}
	json_object_object_foreach(media, key, val) {
		kind = key;
		v = val;
	}
	for (i = 0; i < MEDIA_KINDS; i++)
		if (strcmp(media_kinds[i].kind, kind) == 0)
			break;
	jdoc_path(vpath, sizeof(vpath), kpath, kind);
	if (i == MEDIA_KINDS) {
		check_error(c, DIAG_NODE_SCHEMA, vpath, "\"%s\" is not a kind of media; "
			"use photo, document, voice, video or animation", kind);
		return -1;
	}
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
		check_error(c, DIAG_SCHEMA, vpath, "must be a path, an https URL or a "
			"file_id, not %s", json_object_is_type(v, json_type_string) ?
			"an empty string" : jdoc_type_name(v));
		return -1;
	}
	src = json_object_get_string(v);
	m = check_alloc(c, sizeof(*m));
	if (m == NULL)
		return -1;
	m->kind = media_kinds[i].kind;
	m->method = media_kinds[i].method;
	if (strncmp(src, "http://", 7) == 0) {
		check_error(c, DIAG_NODE_SCHEMA, vpath, "a URL must be https://");
		return -1;
	}
	if (strncmp(src, "https://", 8) == 0 || media_is_file_id(src)) {
		m->source = check_strdup(c, src);
		n->media = m;
		return m->source ? 1 : -1;
	}
	if (media_path(c->flow->file, src, file, sizeof(file)) != 0) {
		check_error(c, DIAG_NODE_SCHEMA, vpath, "the path is too long");
		return -1;
	}
	if (media_check_file(c, m->kind, src, file, vpath) != 0)
		return -1;
	/* absolute, so that the sender finds it whatever its folder */
	m->path = check_strdup(c, file[0] != '/' && realpath(file, abs) ? abs : file);
	n->media = m;
	return m->path ? 1 : -1;
}

/* The params of the media call: the chat, the source in its field. */
static json_object *media_params(struct step *s, const struct flow_media *m)
{
	json_object *p = step_params(s), *src;
	if (p == NULL)
		return NULL;
	if (m->path) {
		src = json_object_new_object();
		if (src)
			json_object_object_add(src, "file", json_object_new_string(m->path));
	} else {
		src = json_object_new_string(m->source);
	}
	if (src == NULL || json_object_object_add(p, m->kind, src) != 0) {
		json_object_put(src);
		json_object_put(p);
		return NULL;
	}
	return p;
}

int media_send(struct step *s, const struct flow_media *m, const struct flow_text *t,
	json_object *markup)
{
	json_object *p = NULL;
	int caption;

	if (step_render(s, t) != 0)
		goto fail;
	caption = s->text.len > 0 && html_text_len(s->text.p) <= MEDIA_CAPTION_MAX;
	p = media_params(s, m);
	if (p == NULL)
		goto fail;
	if (caption) {
		json_object_object_add(p, "caption",
			json_object_new_string_len(s->text.p, (int)s->text.len));
		json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
	}
	if (caption || s->text.len == 0) {
		markup = step_markup(s, markup);
		if (markup)
			json_object_object_add(p, "reply_markup", markup);
		return step_call(s, m->method, p);
	}
	/* over the caption limit: the media, then the text with the markup */
	if (step_call(s, m->method, p) != 0) {
		json_object_put(markup);
		return -1;
	}
	return step_send(s, t, markup);
fail:
	json_object_put(markup);
	return -1;
}

int media_local(json_object *params, const char **field, const char **path)
{
	json_object *v, *file;
	for (size_t i = 0; i < MEDIA_KINDS; i++) {
		if (json_object_object_get_ex(params, media_kinds[i].kind, &v) &&
		    json_object_is_type(v, json_type_object) &&
		    json_object_object_get_ex(v, "file", &file) &&
		    json_object_is_type(file, json_type_string)) {
			*field = media_kinds[i].kind;
			*path = json_object_get_string(file);
			return 1;
		}
	}
	return 0;
}

int media_load(const char *path, unsigned long max, struct buf *data,
	char sha_hex[65], char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE], chunk[65536];
	unsigned int mdlen = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	ssize_t got;

	buf_reset(data);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the media file: %s", strerror(errno));
		return -1;
	}
	while ((got = read(fd, chunk, sizeof(chunk))) > 0) {
		if (data->len + (size_t)got > max) {
			snprintf(err, errlen, "the media file is over %lu bytes", max);
			goto out;
		}
		if (buf_add(data, (const char *)chunk, (size_t)got) != 0) {
			snprintf(err, errlen, "out of memory reading the media file");
			goto out;
		}
	}
	if (got < 0 || data->len == 0) {
		snprintf(err, errlen, "the media file %s", got < 0 ? strerror(errno) : "is empty");
		goto out;
	}
	if (EVP_Digest(data->p, data->len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "cannot hash the media file");
		goto out;
	}
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(sha_hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	close(fd);
	return rc;
}

const char *media_file_id(json_object *result, const char *field)
{
	json_object *v, *id;
	size_t n;

	if (result == NULL || !json_object_object_get_ex(result, field, &v))
		return NULL;
	if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		if (n == 0)
			return NULL;
		v = json_object_array_get_idx(v, n - 1);   /* sizes go smallest first */
	}
	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "file_id", &id) ||
	    !json_object_is_type(id, json_type_string))
		return NULL;
	return json_object_get_string(id);
}
