/* engine.h - the conversation step: a chat's state + one update + the
 * flow -> the chat's new state and the Bot API calls to make.
 *
 * The step is pure: no network, no database, no clock but env->now. The
 * one outside effect, fetching an uploaded file, goes through
 * env->attach, an interface the caller provides. */
#ifndef BLUEFLOW_ENGINE_H
#define BLUEFLOW_ENGINE_H

#include <json-c/json.h>
#include <stddef.h>

#include "engine/buf.h"
#include "engine/flow.h"
#include "engine/update.h"

#define ENGINE_TRANSITIONS_MAX 200     /* node entries in one update */
#define ENGINE_CONTEXT_MAX (64 * 1024) /* serialized context, bytes */
#define ENGINE_PATH_MAX 512
#define ENGINE_MESSAGE_TTL (24 * 3600) /* older messages are not applied */

/* What a chat carries from one update to the next. The caller owns it;
 * ctx is a json-c object of key -> string (the engine replaces it; the
 * chat holds one reference). */
struct chat {
	long long chat_id;
	long long member;              /* the member whose state this is (a flow
	                                  with "scope": "user", in a group); 0:
	                                  the chat's one state */
	char node[FLOW_ID_MAX + 1];    /* current node id; "" before the first update */
	int finished;                  /* the flow ended; only /start restarts it */
	int attempts;                  /* failed answers at the current node */
	int keyboard;                  /* a reply keyboard is showing */
	json_object *ctx;
};

/* What an upload node asks the attachment store to keep. */
struct attach_req {
	long long chat_id;
	long long update_id;
	const char *node_id;
	const char *key;               /* the node's key_to_save, or NULL */
	const char *kind;              /* "voice" or "document" */
	const struct update_file *file;
	unsigned long max_bytes;
	char *why;                     /* fetch says here why it failed */
	size_t whylen;
};

/* What fetch() returns besides 0; the user is told and stays on the node. */
#define ATTACH_FAILED (-1)             /* no file after the retries: "upload_failed" */
#define ATTACH_TOO_BIG (-2)            /* bigger than allowed: "too_big" */
#define ATTACH_WRONG_TYPE (-3)         /* not what its MIME type says: "wrong_type" */
#define ATTACH_TOO_MANY (-4)           /* the chat keeps max_chat_files: "too_many_files" */
#define ATTACH_FULL (-5)               /* the bot's max_bot_bytes reached: "storage_full" */

/* The attachment store: fetch() downloads and keeps the file, writes
 * where it lives into path and returns 0, or an ATTACH_ code. */
struct attach_ops {
	int (*fetch)(void *arg, const struct attach_req *req, char *path,
		size_t pathlen);
	void *arg;
};

struct http_answer;

struct engine_env {
	long long now;                 /* unix seconds; 0: no clock (no expiry) */
	const char *bot_username;      /* for /start@name; NULL: accept any */
	const struct attach_ops *attach;
	long long admin_chat;          /* the bot's admin_chat, for notify; 0: none */
	const struct http_answer *http; /* an http timer's answer (engine_fire);
	                                  NULL: no call was made */
};

/* One Bot API call. params is a json-c object owned by the step_out. */
struct engine_call {
	const char *method;            /* static string */
	json_object *params;
	long long chat_id;             /* queued for another chat than the
	                                  update's (notify); 0: the update's */
};

enum engine_outcome {
	ENGINE_IGNORED,                /* nothing for the flow: no calls, no change */
	ENGINE_ADVANCED,               /* moved to another node (or restarted) */
	ENGINE_STAYED,                 /* a bad answer: re-prompted */
	ENGINE_STALE,                  /* an old button was pressed */
	ENGINE_FINISHED_REPLY,         /* the flow had ended; told so */
	ENGINE_LIMIT,                  /* the transition guard stopped the step */
	ENGINE_EXPIRED,                /* a message that arrived over a day late */
	ENGINE_FORGOTTEN,              /* the forget command: the chat starts over
	                                  and the store erases what it kept */
	ENGINE_MALFORMED,              /* a button this flow has no such button for:
	                                  not NODE|KEY, or no such node or key (an
	                                  older version of the flow made it) */
	ENGINE_REMINDED                /* a timer reminded the chat of its question */
};

/* The outcome's name for logs and traces: "advanced", "forgotten", ... */
const char *engine_outcome_name(enum engine_outcome o);

struct step_out {
	struct engine_call *calls;
	unsigned n_calls, cap_calls;
	enum engine_outcome outcome;
	int transitions;
	char node_from[FLOW_ID_MAX + 1];
	char warning[256];             /* a problem worth a log line, or "" */
	int entered[ENGINE_TRANSITIONS_MAX]; /* the nodes entered, by index, in order */
	unsigned n_entered;
	char refused[32];              /* why the answer was refused (a message
	                                  reason, e.g. "no_match"), or "" */
	int finished;                  /* the flow ended in this step */
};

/* Initialises an empty result. */
void step_out_init(struct step_out *o);

/* Frees the calls; the result is empty again. */
void step_out_free(struct step_out *o);

/* Appends one call; the step_out takes the params reference. Returns 0,
 * or -1 (params put) when memory runs out. */
int step_out_add(struct step_out *o, const char *method, json_object *params);

/* Advances chat by one update. Fills out (initialised by the caller) and
 * updates chat. Returns 0, or -1 when memory ran out (chat unchanged
 * except possibly ctx; discard both). */
int engine_step(const struct flow *f, struct chat *chat,
	const struct update *u, const struct engine_env *env,
	struct step_out *out);

struct timer;

/* Advances chat by a timer that came due (engine/timer.h): a reminder
 * repeats the question, a timeout moves to on_timeout (or ends the flow
 * with timeout_text), an inactivity nudge goes to on_inactive, send_at
 * sends the cutscene's message and moves on. A timer that no longer
 * applies (the chat moved, the node lost the key, a reminder whose
 * node's timeout is due) changes nothing: outcome ENGINE_IGNORED with
 * out->warning saying why. now_ms is the clock (unix ms). Returns 0, or
 * -1 when memory ran out (discard chat and out). */
int engine_fire(const struct flow *f, struct chat *chat, const struct timer *t,
	long long now_ms, const struct engine_env *env, struct step_out *out);

/* Whether the update is one a chat's flow could act on (a message that
 * is not a service message, or a button press in a chat). Others need
 * neither a chat nor the store. */
int engine_takes(const struct update *u);

/* Whose state of the chat the update is for (struct chat's member): 0
 * but for a flow with "scope": "user" in a chat that is not private,
 * where it is the sender, or for a press on a button made for a member
 * (its data "MEMBER:NODE|KEY"), that member. */
long long engine_member(const struct flow *f, const struct update *u);

/* Sets up a chat with an empty context; -1 when memory runs out. */
int chat_init(struct chat *c, long long chat_id);

/* Releases the context. */
void chat_free(struct chat *c);

/* Appends a call as one JSON object {"method": ..., params...} to b.
 * Returns 0, or -1 when b is full. */
int engine_call_json(const struct engine_call *c, struct buf *b);

#endif
