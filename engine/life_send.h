/* life_send.h - the sender's side of the life cycle (life.h): resolves
 * the marks of a queued call when it is sent (the ids to delete, the
 * message to edit in place) and records what Telegram answered. */
#ifndef BLUEFLOW_LIFE_SEND_H
#define BLUEFLOW_LIFE_SEND_H

#include <json-c/json.h>

#include "engine/flow.h"
#include "engine/life.h"
#include "engine/store.h"

struct life_send {
	int keep;                      /* 1: keep the message_id of the answer */
	char life[16];                 /* its class: "ephemeral", "system" */
	char node[FLOW_ID_MAX + 1];    /* the node that sent it, or whose
	                                  messages are deleted */
	char tag[LIFE_TAG_MAX + 1];    /* "": none */
	long long member;              /* whose state of the chat (struct chat) */
	int delete;                    /* 1: deleteMessages of node's messages */
	long long ids[LIFE_IDS_MAX];   /* ... these */
	int n_ids;
	long long edit_id;             /* > 0: sent as an edit of this message */
	int no_edit;                   /* the edit was refused: send anew */
	int skip;                      /* nothing to send (no ids to delete) */
};

/* Takes the marks out of p, the params of method for bot's chat_id, and
 * resolves them into l (its no_edit as the caller set it): a delete gets
 * its "message_ids" (l->skip when there are none), a system sendMessage
 * whose tag the chat has becomes editMessageText of it (*method then
 * names it). Returns STORE_OK, or the store's error in e. */
int life_send_prepare(struct store *s, const char *bot, long long chat_id,
	const char **method, json_object *p, struct life_send *l, struct store_err *e);

/* After Telegram accepted the call (result is its answer's "result"):
 * keeps the new message's id, or forgets the deleted ones. Returns
 * STORE_OK, or the store's error in e. */
int life_send_done(struct store *s, const char *bot, long long chat_id,
	const struct life_send *l, json_object *result, struct store_err *e);

/* Whether a refusal of the call with HTTP status http means: send it
 * anew as a new message (1; the tagged message is forgotten, and l says
 * no edit) rather than fail (0). Only an edit in place that Telegram
 * refuses (too old, deleted) is sent anew. -1: sent anew all the same,
 * but the store failed forgetting the old one (e says why). */
int life_send_refused(struct store *s, const char *bot, long long chat_id,
	struct life_send *l, long http, struct store_err *e);

#endif
