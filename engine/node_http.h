/* node_http.h - the http node's two halves outside the step that parks
 * the chat: the request, rendered from the chat as it is, and the step
 * that takes the answer (engine_fire, for a timer of kind "http"). */
#ifndef BLUEFLOW_NODE_HTTP_H
#define BLUEFLOW_NODE_HTTP_H

#include <stddef.h>

#include "engine/engine.h"
#include "engine/flow.h"
#include "engine/http.h"

struct step;

extern const struct node_type node_http;

/* Renders n's request for chat c into rq (zeroed by the caller): the URL
 * with {{key}} values URL-escaped, headers with $NAME taken from the
 * environment, the body with {{key}} values in its strings. Returns 0,
 * or -1 with why (e.g. a header's variable is not set). */
int http_node_request(const struct flow *f, const struct flow_node *n,
	struct chat *c, struct http_request *rq, char *why, size_t why_len);

/* Takes the answer a (NULL: none came) at n: saves the "save" values and
 * returns "next" (NODE_END without it); on a failure returns "on_error",
 * or NODE_STAY after the node's "http_error" message. NODE_FAIL when
 * memory runs out. */
int http_node_answer(struct step *s, const struct flow_node *n,
	const struct http_answer *a);

/* n's URL template. */
const char *http_node_url(const struct flow_node *n);

/* Whether a header value looks like a literal secret (a header that
 * carries credentials, with no $NAME in it). */
int http_node_literal_secret(const char *name, const char *value);

#endif
