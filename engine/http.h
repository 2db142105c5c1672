/* http.h - the calls an http node makes: where a flow may call (the
 * bot's http_allow), and one call made with libcurl outside any
 * transaction, safe by default (TLS verified, redirects only within the
 * allow-list, no private addresses unless the list names them literally,
 * the answer capped at HTTP_BODY_MAX).
 *
 * The step parks the chat at the http node and arms a due-now timer of
 * kind "http"; the background process (or `blueflow tick`) builds the
 * request from the chat as it is (http_node_request), calls (http_call),
 * and applies the answer through apply_timer (engine_env.http). */
#ifndef BLUEFLOW_HTTP_H
#define BLUEFLOW_HTTP_H

#include <stddef.h>

#define HTTP_BODY_MAX (64 * 1024)   /* bytes of an answer */
#define HTTP_TIMEOUT_MAX 5          /* seconds of one try */
#define HTTP_RETRIES_MAX 3
#define HTTP_HEADERS_MAX 16
#define HTTP_REDIRECTS_MAX 3

/* One request, as the node renders it for one chat. */
struct http_request {
	char method[8];
	char *url;                        /* malloc'd */
	char *headers[HTTP_HEADERS_MAX];  /* "Name: value", malloc'd */
	unsigned n_headers;
	char *body;                       /* JSON, malloc'd; NULL: none */
	int timeout;                      /* seconds of one try */
	int retries;                      /* tries after the first */
};

/* What came of a call. */
struct http_answer {
	int ok;                /* 1: an answer came within the rules */
	long status;           /* its HTTP status; 0 when none came */
	char *body;            /* malloc'd, NUL-ended; NULL when none */
	size_t len;
	char why[200];         /* when not ok: why, for the log */
};

void http_request_free(struct http_request *r);
void http_answer_free(struct http_answer *a);

/* Whether url's scheme, host and port are allowed by list (the config's
 * http_allow: entries separated by commas or spaces: "host" = https on
 * any port, "*.domain" = https to its subdomains, "scheme://host:port").
 * Returns 1, or 0 with why. *literal is set to 1 when the matching entry
 * names an IP address (private addresses are then allowed). */
int http_allowed(const char *list, const char *url, int *literal,
	char *why, size_t why_len);

/* Checks one http_allow entry; returns 0, or -1 with why. */
int http_allow_entry_check(const char *entry, char *why, size_t why_len);

/* Makes the call rq under list, with its retries (back-off 250 ms,
 * doubling), and logs its URL without query string, status and duration
 * (never headers). Fills a (zeroed by the caller). */
void http_call(const char *list, const struct http_request *rq,
	struct http_answer *a);

#endif
