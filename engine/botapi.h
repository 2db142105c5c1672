/* botapi.h - the Telegram Bot API client: JSON POSTs to
 * {api_base}/bot{token}/{method} over one reused connection (keep-alive),
 * with connect and total timeouts; the answer parsed into what callers
 * decide on. The URL holds the token: it is never logged, never put in an
 * error message (errors name the method). */
#ifndef BLUEFLOW_BOTAPI_H
#define BLUEFLOW_BOTAPI_H

#include <json-c/json.h>
#include <stddef.h>

#include "engine/buf.h"

#define BOTAPI_ANSWER_MAX (1u << 20)

struct botapi {
	void *curl;                  /* CURL *, kept for keep-alive */
	char *base;                  /* api_base, no trailing slash */
	long connect_ms;
	long timeout_ms;
	struct buf body;
};

struct botapi_answer {
	long http;                   /* HTTP status; 0 when none came */
	int ok;                      /* Telegram's "ok" */
	int error_code;
	char description[256];
	long retry_after;            /* parameters.retry_after, seconds */
	long long migrate_to;        /* parameters.migrate_to_chat_id */
	json_object *result;         /* "result"; owned by the answer */
	char transport[160];         /* what went wrong below HTTP, in words */
};

/* What a caller should do with an answer. */
enum botapi_verdict {
	BOTAPI_DONE,                 /* ok */
	BOTAPI_RETRY,                /* 429, 5xx, no answer: try again later */
	BOTAPI_FAIL                  /* any other 4xx: it will never work */
};

/* Sets up a client for api_base. Returns 0, or -1 when libcurl cannot. */
int botapi_init(struct botapi *b, const char *api_base, long connect_ms, long timeout_ms);
void botapi_free(struct botapi *b);

/* Calls method with params (a JSON object's text) as bot token. Returns
 * 0 with Telegram's answer in a (also for ok=false), or -1 when no
 * answer came (a->transport says why; a->http is 0 or the status of a
 * body that was not Telegram's JSON). Release a with
 * botapi_answer_free. */
int botapi_call(struct botapi *b, const char *token, const char *method,
	const char *params, struct botapi_answer *a);

/* A file for botapi_call_file: sent as the form field `field`, named
 * `name`, of MIME type `type`. */
struct botapi_file {
	const char *field;
	const char *name;
	const char *type;
	const void *data;
	size_t len;
};

/* Like botapi_call, but as multipart/form-data, the only way Telegram
 * takes a file (setWebhook's certificate): each member of params (a JSON
 * object's text) becomes a form field, a string as it is and anything
 * else as its JSON text, then the file. Returns as botapi_call. */
int botapi_call_file(struct botapi *b, const char *token, const char *method,
	const char *params, const struct botapi_file *file, struct botapi_answer *a);

/* The multipart/form-data body botapi_call_file sends, for the easy
 * handle curl (a CURL *): params' members (a JSON object) as fields,
 * then file. Returns a curl_mime * for CURLOPT_MIMEPOST, which the caller
 * frees with curl_mime_free, or NULL when it cannot be built. */
void *botapi_form(void *curl, json_object *params, const struct botapi_file *file);

void botapi_answer_free(struct botapi_answer *a);

/* Fills a from an HTTP answer (status http, body of len bytes). Sets
 * a->transport when the body is not Telegram's JSON. */
void botapi_parse(struct botapi_answer *a, long http, const char *body, size_t len);

enum botapi_verdict botapi_verdict(const struct botapi_answer *a);

/* Whether a call of method makes a new message in its chat (send*,
 * forwardMessage, copyMessage, ...): these count against the chat's
 * message limits and keep their order among the chat's messages. */
int botapi_is_message(const char *method);

/* Whether a call of method may reach Telegram before or after the chat's
 * messages alike: answerCallbackQuery, and edits of messages already sent
 * (editMessage*). */
int botapi_order_free(const char *method);

#define BOTAPI_OVER (-2)             /* botapi_download: the file is over max */

/* Downloads {api_base}/file/bot{token}/{file_path} into fd within the
 * client's total timeout, refusing more than max bytes (the transfer is
 * cut off there). Fills sha256 and *size. Returns 0, BOTAPI_OVER, or -1
 * (anything else: worth another try) with the reason in err (no URL in
 * it). */
int botapi_download(struct botapi *b, const char *token, const char *file_path,
	int fd, unsigned long max, unsigned char sha256[32], unsigned long *size,
	char *err, size_t errlen);

#endif
