/* http.c - an http node's call, made with libcurl (http.h). */
#include "engine/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

#include "engine/log.h"
#include "engine/mono.h"

void http_request_free(struct http_request *r)
{
	free(r->url);
	for (unsigned i = 0; i < r->n_headers; i++)
		free(r->headers[i]);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void http_answer_free(struct http_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}

/* The parts of a URL: scheme, host (lower case), port. Returns 0 or -1. */
static int http_url_parts(const char *url, char *scheme, size_t slen,
	char *host, size_t hlen, long *port)
{
	CURLU *u = curl_url();
	char *sc = NULL, *h = NULL, *p = NULL;
	int rc = -1;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		snprintf(scheme, slen, "%s", sc);
		snprintf(host, hlen, "%s", h);
		for (char *c = host; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		*port = strtol(p, NULL, 10);
		rc = 0;
	}
	curl_free(sc);
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

/* Whether host is an IP address written as such. */
static int http_ip_literal(const char *host)
{
	unsigned char a[16];
	char tmp[64];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		return inet_pton(AF_INET6, tmp, a) == 1;
	}
	return inet_pton(AF_INET, host, a) == 1;
}

/* Whether one entry allows scheme://host:port. */
static int http_entry_allows(const char *entry, const char *scheme,
	const char *host, long port, int *literal)
{
	char es[16], eh[256];
	long ep;

	*literal = 0;
	if (strstr(entry, "://")) {
		if (http_url_parts(entry, es, sizeof(es), eh, sizeof(eh), &ep) != 0)
			return 0;
		if (strcmp(es, scheme) || strcmp(eh, host) || ep != port)
			return 0;
		*literal = http_ip_literal(eh);
		return 1;
	}
	if (strcmp(scheme, "https") != 0)
		return 0;
	if (strncmp(entry, "*.", 2) == 0) {
		size_t hl = strlen(host), el = strlen(entry + 1);
		return hl > el && strcasecmp(host + hl - el, entry + 1) == 0;
	}
	if (strcasecmp(entry, host) != 0)
		return 0;
	*literal = http_ip_literal(host);
	return 1;
}

int http_allow_entry_check(const char *entry, char *why, size_t why_len)
{
	char es[16], eh[256];
	long ep;

	if (strstr(entry, "://")) {
		if (http_url_parts(entry, es, sizeof(es), eh, sizeof(eh), &ep) != 0 ||
		    (strcmp(es, "http") && strcmp(es, "https"))) {
			snprintf(why, why_len, "\"%s\" is not scheme://host:port with "
				"http or https", entry);
			return -1;
		}
		return 0;
	}
	if (*entry == '\0' || strchr(entry, '/') || strchr(entry, ':') ||
	    strchr(entry + (strncmp(entry, "*.", 2) == 0 ? 2 : 0), '*')) {
		snprintf(why, why_len, "\"%s\" is not a host, *.domain or "
			"scheme://host:port", entry);
		return -1;
	}
	return 0;
}

int http_allowed(const char *list, const char *url, int *literal,
	char *why, size_t why_len)
{
	char scheme[16], host[256], entry[300];
	long port;
	const char *p = list ? list : "";

	*literal = 0;
	if (http_url_parts(url, scheme, sizeof(scheme), host, sizeof(host), &port) != 0 ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(why, why_len, "not an http or https URL");
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, ", \t");
		if (n > 0 && n < sizeof(entry)) {
			memcpy(entry, p, n);
			entry[n] = '\0';
			if (http_entry_allows(entry, scheme, host, port, literal))
				return 1;
		}
		p += n;
		p += strspn(p, ", \t");
	}
	snprintf(why, why_len, "%s://%s:%ld is not in the bot's http_allow",
		scheme, host, port);
	return 0;
}

/* Whether an address must not be called unless named literally:
 * loopback, private, link-local, multicast, unspecified. */
static int http_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		unsigned long a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 24) == 0 ||
			(a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
			(a >> 16) == 0xa9fe || (a >> 28) == 0xe || (a >> 22) == 0x191;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			struct sockaddr_in v4;
			memset(&v4, 0, sizeof(v4));
			v4.sin_family = AF_INET;
			memcpy(&v4.sin_addr, &a->s6_addr[12], 4);
			return http_private((const struct sockaddr *)&v4);
		}
		return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) ||
			IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MULTICAST(a) ||
			(a->s6_addr[0] & 0xfe) == 0xfc;
	}
	return 1;
}

/* One try's state. */
struct http_try {
	int literal;          /* the URL names an allowed address literally */
	int refused_addr;     /* a private address was refused */
	int too_big;
	char *body;
	size_t len;
};

static curl_socket_t http_open(void *arg, curlsocktype purpose,
	struct curl_sockaddr *addr)
{
	struct http_try *t = arg;
	(void)purpose;
	if (!t->literal && http_private(&addr->addr)) {
		t->refused_addr = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t http_write(char *p, size_t size, size_t n, void *arg)
{
	struct http_try *t = arg;
	size_t add = size * n;
	char *b;

	if (t->len + add > HTTP_BODY_MAX) {
		t->too_big = 1;
		return 0;
	}
	b = realloc(t->body, t->len + add + 1);
	if (b == NULL)
		return 0;
	memcpy(b + t->len, p, add);
	t->len += add;
	b[t->len] = '\0';
	t->body = b;
	return add;
}

/* The URL without its query string or fragment, for the log. */
static void http_log_url(const char *url, char *out, size_t len)
{
	size_t n = strcspn(url, "?#");
	snprintf(out, len, "%.*s", (int)n, url);
}

static void http_log(const char *url, long status, long long ms,
	const char *why)
{
	struct log_line l;
	char shown[512];

	http_log_url(url, shown, sizeof(shown));
	log_start(&l, why ? "warn" : "info", "http");
	log_str(&l, "url", shown);
	log_int(&l, "status", status);
	log_int(&l, "ms", ms);
	if (why)
		log_str(&l, "msg", why);
	log_end(&l);
}

/* One request to url (checked against list first); a redirect's target
 * goes to *next (malloc'd). Returns 1 when it may be tried again (a
 * fault of the network or a 5xx), else 0. */
static int http_once(const char *list, const struct http_request *rq,
	const char *url, struct http_answer *a, char **next)
{
	struct http_try t;
	struct curl_slist *hl = NULL;
	char err[CURL_ERROR_SIZE] = "", *loc = NULL;
	long long start = mono_now();
	CURL *c;
	CURLcode rc;
	int again = 0;

	memset(&t, 0, sizeof(t));
	*next = NULL;
	a->ok = 0;
	a->status = 0;
	http_answer_free(a);
	if (!http_allowed(list, url, &t.literal, a->why, sizeof(a->why))) {
		http_log(url, 0, 0, a->why);
		return 0;
	}
	c = curl_easy_init();
	if (c == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return 1;
	}
	for (unsigned i = 0; i < rq->n_headers; i++)
		hl = curl_slist_append(hl, rq->headers[i]);
	if (rq->body)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	if (rq->body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
	if (strcmp(rq->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)rq->timeout * 1000);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_BODY_MAX);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, http_open);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "blueflow");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	if (t.refused_addr)
		snprintf(a->why, sizeof(a->why), "the host resolves to a loopback, "
			"private, link-local or multicast address; refused (name the "
			"address itself in http_allow to call it)");
	else if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(a->why, sizeof(a->why), "the answer is over %d bytes; refused",
			HTTP_BODY_MAX);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(a->why, sizeof(a->why), "no answer within %d s", rq->timeout);
	else if (rc != CURLE_OK)
		snprintf(a->why, sizeof(a->why), "%s", err[0] ? err : curl_easy_strerror(rc));
	if (rc == CURLE_OK && a->status >= 300 && a->status < 400 &&
	    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		*next = strdup(loc);
	if (rc == CURLE_OK && *next == NULL) {
		a->ok = a->status >= 200 && a->status < 300;
		if (!a->ok)
			snprintf(a->why, sizeof(a->why), "the service answered %ld", a->status);
		again = a->status >= 500;
		a->body = t.body;
		a->len = t.len;
		t.body = NULL;
	} else if (rc != CURLE_OK) {
		again = !t.refused_addr && !t.too_big;
	}
	http_log(url, a->status, (long long)((mono_now() - start) * 1000),
		a->ok || *next ? NULL : a->why);
	free(t.body);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return again;
}

/* Whether a redirect with status turns the request into a GET without
 * body, as browsers and curl do: 303 always, 301 and 302 after a POST;
 * 307 and 308 keep the method and the body. */
static int http_redirect_to_get(long status, const char *method)
{
	return status == 303 ||
		((status == 301 || status == 302) && strcmp(method, "POST") == 0);
}

/* One try: the request and the redirects it is sent on (each within the
 * list). Returns 1 when it may be tried again. */
static int http_try_once(const char *list, const struct http_request *rq,
	struct http_answer *a)
{
	struct http_request hop = *rq;   /* shares rq's strings */
	char *url = strdup(rq->url), *next = NULL;
	int again = 0;

	for (int n = 0; url && n <= HTTP_REDIRECTS_MAX; n++) {
		again = http_once(list, &hop, url, a, &next);
		free(url);
		url = next;
		if (next == NULL)
			return again;
		if (http_redirect_to_get(a->status, hop.method)) {
			snprintf(hop.method, sizeof(hop.method), "GET");
			hop.body = NULL;
		}
	}
	free(url);
	if (a->why[0] == '\0' || a->ok == 0)
		snprintf(a->why, sizeof(a->why), "more than %d redirects", HTTP_REDIRECTS_MAX);
	return 0;
}

void http_call(const char *list, const struct http_request *rq,
	struct http_answer *a)
{
	long wait_ms = 250;

	for (int i = 0; ; i++) {
		int again = http_try_once(list, rq, a);
		if (a->ok || !again || i >= rq->retries)
			return;
		struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		wait_ms *= 2;
	}
}
