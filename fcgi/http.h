/* http.h - one request as the webhook code sees it, whatever carries it
 * (a FastCGI connection, or plain CGI's environment and stdio). */
#ifndef BLUEFLOW_HTTP_H
#define BLUEFLOW_HTTP_H

struct http_io {
	/* A request parameter (REQUEST_METHOD, DOCUMENT_URI, CONTENT_LENGTH,
	 * HTTP_X_...), or NULL. */
	const char *(*param)(void *arg, const char *name);
	/* Reads up to n bytes of the body: the count, 0 at its end, -1. */
	int (*read)(void *arg, char *buf, int n);
	/* Writes n bytes of the response; -1 on failure. */
	int (*write)(void *arg, const char *buf, int n);
	void *arg;
};

#endif
