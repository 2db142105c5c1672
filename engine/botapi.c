/* botapi.c - Bot API calls and downloads with libcurl. */
#include "engine/botapi.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/jdoc.h"

int botapi_init(struct botapi *b, const char *api_base, long connect_ms, long timeout_ms)
{
	size_t n = strlen(api_base);
	memset(b, 0, sizeof(*b));
	while (n > 0 && api_base[n - 1] == '/')
		n--;
	b->base = strndup(api_base, n);
	b->curl = curl_easy_init();
	b->connect_ms = connect_ms;
	b->timeout_ms = timeout_ms;
	buf_init(&b->body, BOTAPI_ANSWER_MAX);
	if (b->base == NULL || b->curl == NULL) {
		botapi_free(b);
		return -1;
	}
	return 0;
}

void botapi_free(struct botapi *b)
{
	if (b->curl)
		curl_easy_cleanup(b->curl);
	free(b->base);
	buf_free(&b->body);
	memset(b, 0, sizeof(*b));
}

static size_t botapi_collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	return buf_add(b, p, size * n) == 0 ? size * n : 0;
}

/* The URL in a buffer that is wiped after use: it holds the token. */
static int botapi_url(const struct botapi *b, const char *kind, const char *token,
	const char *tail, struct buf *url)
{
	return buf_adds(url, b->base) || buf_adds(url, kind) || buf_adds(url, token) ||
	       buf_addc(url, '/') || buf_adds(url, tail);
}

static void botapi_wipe(struct buf *url)
{
	if (url->p)
		memset(url->p, 0, url->len);
	buf_free(url);
}

void botapi_parse(struct botapi_answer *a, long http, const char *body, size_t len)
{
	char err[256], path[256];
	json_object *root = NULL, *v, *params;

	a->http = http;
	if (len == 0 || jdoc_parse(body, len, 64, &root, err, sizeof(err),
	    path, sizeof(path)) != 0 || !json_object_is_type(root, json_type_object)) {
		snprintf(a->transport, sizeof(a->transport), "HTTP %ld without a Bot API "
			"answer", a->http);
		json_object_put(root);
		return;
	}
	a->ok = json_object_object_get_ex(root, "ok", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(root, "error_code", &v))
		a->error_code = json_object_get_int(v);
	if (json_object_object_get_ex(root, "description", &v))
		snprintf(a->description, sizeof(a->description), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(root, "parameters", &params)) {
		if (json_object_object_get_ex(params, "retry_after", &v))
			a->retry_after = (long)json_object_get_int64(v);
		if (json_object_object_get_ex(params, "migrate_to_chat_id", &v))
			a->migrate_to = (long long)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(root, "result", &v))
		a->result = json_object_get(v);
	json_object_put(root);
}

/* Sends the request set up on b->curl (URL, body, headers) and parses the
 * answer. Wipes the URL, which holds the token. */
static int botapi_perform(struct botapi *b, const char *method, struct buf *url,
	struct botapi_answer *a)
{
	CURLcode rc;

	curl_easy_setopt(b->curl, CURLOPT_URL, url->p);
	curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, botapi_collect);
	curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, &b->body);
	curl_easy_setopt(b->curl, CURLOPT_CONNECTTIMEOUT_MS, b->connect_ms);
	curl_easy_setopt(b->curl, CURLOPT_TIMEOUT_MS, b->timeout_ms);
	curl_easy_setopt(b->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(b->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	rc = curl_easy_perform(b->curl);
	botapi_wipe(url);
	curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &a->http);
	if (rc != CURLE_OK) {
		/* curl_easy_strerror() names the failure, never the URL */
		snprintf(a->transport, sizeof(a->transport), "%s: %s", method,
			curl_easy_strerror(rc));
		a->http = 0;
		return -1;
	}
	botapi_parse(a, a->http, b->body.p, b->body.len);
	return a->transport[0] ? -1 : 0;
}

/* Starts a call: the answer cleared, the URL built. */
static int botapi_start(struct botapi *b, const char *token, const char *method,
	struct buf *url, struct botapi_answer *a)
{
	memset(a, 0, sizeof(*a));
	buf_init(url, 4096);
	buf_reset(&b->body);
	if (botapi_url(b, "/bot", token, method, url) != 0) {
		snprintf(a->transport, sizeof(a->transport), "%s: URL too long", method);
		botapi_wipe(url);
		return -1;
	}
	curl_easy_reset(b->curl);
	return 0;
}

int botapi_call(struct botapi *b, const char *token, const char *method,
	const char *params, struct botapi_answer *a)
{
	struct curl_slist *headers = NULL;
	struct buf url;
	int rc;

	if (botapi_start(b, token, method, &url, a) != 0)
		return -1;
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(b->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(b->curl, CURLOPT_POSTFIELDS, params);
	curl_easy_setopt(b->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(params));
	curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, headers);
	rc = botapi_perform(b, method, &url, a);
	curl_slist_free_all(headers);
	return rc;
}

/* One text field of a multipart body: a JSON string as it is, anything
 * else as its JSON text (as Telegram reads form fields). */
static int botapi_mime_field(curl_mime *mime, const char *name, json_object *v)
{
	curl_mimepart *part = curl_mime_addpart(mime);
	const char *text = json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	return part == NULL || curl_mime_name(part, name) != CURLE_OK ||
	       curl_mime_data(part, text, CURL_ZERO_TERMINATED) != CURLE_OK;
}

void *botapi_form(void *curl, json_object *params, const struct botapi_file *file)
{
	curl_mime *mime = curl_mime_init(curl);
	curl_mimepart *part;
	int bad = mime == NULL;

	if (!bad) {
		json_object_object_foreach(params, key, v)
			bad |= botapi_mime_field(mime, key, v);
	}
	if (!bad) {
		part = curl_mime_addpart(mime);
		bad = part == NULL || curl_mime_name(part, file->field) != CURLE_OK ||
		      curl_mime_data(part, file->data, file->len) != CURLE_OK ||
		      curl_mime_filename(part, file->name) != CURLE_OK ||
		      curl_mime_type(part, file->type) != CURLE_OK;
	}
	if (bad) {
		curl_mime_free(mime);
		return NULL;
	}
	return mime;
}

int botapi_call_file(struct botapi *b, const char *token, const char *method,
	const char *params, const struct botapi_file *file, struct botapi_answer *a)
{
	struct curl_slist *headers = NULL;
	curl_mime *mime = NULL;
	json_object *root = NULL;
	char err[256], path[256];
	struct buf url;
	int rc = -1;

	if (botapi_start(b, token, method, &url, a) != 0)
		return -1;
	if (jdoc_parse(params, strlen(params), 16, &root, err, sizeof(err), path,
	    sizeof(path)) != 0 || !json_object_is_type(root, json_type_object)) {
		snprintf(a->transport, sizeof(a->transport), "%s: the parameters are not "
			"a JSON object", method);
		goto out;
	}
	mime = botapi_form(b->curl, root, file);
	if (mime == NULL) {
		snprintf(a->transport, sizeof(a->transport), "%s: cannot build the "
			"multipart body", method);
		goto out;
	}
	/* no "Expect: 100-continue" round trip before the body */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(b->curl, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, headers);
	rc = botapi_perform(b, method, &url, a);
out:
	botapi_wipe(&url);
	curl_easy_setopt(b->curl, CURLOPT_MIMEPOST, NULL);
	curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	curl_mime_free(mime);
	json_object_put(root);
	return rc;
}

void botapi_answer_free(struct botapi_answer *a)
{
	json_object_put(a->result);
	a->result = NULL;
}

int botapi_is_message(const char *method)
{
	if (strcmp(method, "sendChatAction") == 0)
		return 0;
	return strncmp(method, "send", 4) == 0 || strncmp(method, "forwardMessage", 14) == 0 ||
		strncmp(method, "copyMessage", 11) == 0;
}

int botapi_order_free(const char *method)
{
	return strcmp(method, "answerCallbackQuery") == 0 ||
		strncmp(method, "editMessage", 11) == 0;
}

enum botapi_verdict botapi_verdict(const struct botapi_answer *a)
{
	if (a->ok)
		return BOTAPI_DONE;
	if (a->http == 0 || a->http == 429 || a->http >= 500 || a->error_code == 429 ||
	    a->transport[0])
		return BOTAPI_RETRY;
	return BOTAPI_FAIL;
}

struct botapi_sink {
	int fd;
	unsigned long max, size;
	EVP_MD_CTX *md;
	int over, io_error;
};

static size_t botapi_write_file(char *p, size_t size, size_t n, void *arg)
{
	struct botapi_sink *s = arg;
	size_t len = size * n, done = 0;
	if (s->size + len > s->max) {
		s->over = 1;
		return 0;   /* curl aborts the transfer */
	}
	while (done < len) {
		ssize_t w = write(s->fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->io_error = errno ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	EVP_DigestUpdate(s->md, p, len);
	s->size += len;
	return len;
}

int botapi_download(struct botapi *b, const char *token, const char *file_path,
	int fd, unsigned long max, unsigned char sha256[32], unsigned long *size,
	char *err, size_t errlen)
{
	struct botapi_sink sink = { fd, max, 0, EVP_MD_CTX_new(), 0, 0 };
	struct buf url;
	unsigned len = 0;
	long http = 0;
	curl_off_t declared = -1;
	CURLcode rc;
	int ret = -1;

	buf_init(&url, 4096);
	if (sink.md == NULL || EVP_DigestInit_ex(sink.md, EVP_sha256(), NULL) != 1 ||
	    botapi_url(b, "/file/bot", token, file_path, &url) != 0) {
		snprintf(err, errlen, "download: cannot start");
		goto out;
	}
	curl_easy_reset(b->curl);
	curl_easy_setopt(b->curl, CURLOPT_URL, url.p);
	curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, botapi_write_file);
	curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(b->curl, CURLOPT_CONNECTTIMEOUT_MS, b->connect_ms);
	curl_easy_setopt(b->curl, CURLOPT_TIMEOUT_MS, b->timeout_ms);
	curl_easy_setopt(b->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(b->curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(b->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	rc = curl_easy_perform(b->curl);
	curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(b->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
	if (sink.over || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "download: the file is over %lu bytes", max);
		ret = BOTAPI_OVER;
		goto out;
	}
	if (rc != CURLE_OK) {
		if (http >= 400)
			snprintf(err, errlen, "download: HTTP %ld", http);
		else
			snprintf(err, errlen, "download: %s", sink.io_error ?
				strerror(sink.io_error) : curl_easy_strerror(rc));
		goto out;
	}
	if (declared >= 0 && (unsigned long)declared != sink.size) {
		snprintf(err, errlen, "download: got %lu bytes of %ld", sink.size, (long)declared);
		goto out;
	}
	EVP_DigestFinal_ex(sink.md, sha256, &len);
	*size = sink.size;
	ret = 0;
out:
	botapi_wipe(&url);
	EVP_MD_CTX_free(sink.md);
	return ret;
}
