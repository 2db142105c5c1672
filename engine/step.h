/* step.h - what node types use while the engine steps a chat: sending,
 * rendering texts, re-prompting, saving values. Internal to the engine. */
#ifndef BLUEFLOW_STEP_H
#define BLUEFLOW_STEP_H

#include <json-c/json.h>

#include "engine/buf.h"
#include "engine/engine.h"

/* What a node's enter() and handle() return besides a node index. */
#define NODE_WAIT (-2)   /* enter: the node now waits for the user */
#define NODE_STAY (-3)   /* handle: a bad answer, re-prompted */
#define NODE_END (-4)    /* the flow is finished */
#define NODE_FAIL (-5)   /* out of memory */
#define NODE_SAME (-6)   /* handle: stays, not a bad answer (a toggle) */

#define STEP_BACK_DATA ""        /* the key of a Back button's NODE|KEY */
#define STEP_PATH_KEY "flow.path" /* the context key of the chat's path */
#define STEP_PATH_MAX 16         /* waiting nodes the path remembers */

struct step {
	const struct flow *flow;
	struct chat *chat;
	const struct update *u;
	const struct engine_env *env;
	struct step_out *out;
	const char *lang;            /* the user's language_code, or "" */
	const char *press;           /* the choice key pressed, or NULL */
	const char *data;            /* the pressed button's NODE|KEY, without
	                                the member it was made for */
	struct buf text;             /* scratch for rendering */
};

/* Renders t for the user's language with {{key}} values HTML-escaped
 * into s->text (replacing what was there), cut with "…" to the
 * FLOW_TEXT_MAX characters Telegram takes in a message. Returns 0 or -1
 * when memory runs out. */
int step_render(struct step *s, const struct flow_text *t);

/* Renders t like step_render() but without HTML escaping (for button
 * labels, which Telegram shows as plain text) into out. */
int step_render_plain(struct step *s, const struct flow_text *t, struct buf *out);

/* The index of t's variant for the chat's language: exact, then the
 * language without its region, then the default. */
unsigned step_variant(const struct step *s, const struct flow_text *t);

/* The variant of t for the chat's language, as written (not rendered). */
const char *step_text(const struct step *s, const struct flow_text *t);

/* Sends the node's node_text, with its media when it has some, and
 * markup (the call takes the reference). Returns 0 or -1. */
int step_show(struct step *s, const struct flow_node *n, json_object *markup);

/* markup, or when it is NULL and the chat shows a reply keyboard, one
 * that removes it (the chat's keyboard is then gone). */
json_object *step_markup(struct step *s, json_object *markup);

/* Sends the node's node_text (and media) with markup, as step_show,
 * and the Back button when the node has one; returns NODE_WAIT or
 * NODE_FAIL. */
int step_prompt(struct step *s, const struct flow_node *n, json_object *markup);

/* Renders the Back button's label (the flow's "back_button" message, or
 * "⬅ Back") into out. Returns 0 or -1. */
int step_back_label(struct step *s, struct buf *out);

/* Adds n's Back button (when it has one) to *markup: a row of the reply
 * keyboard or of the inline keyboard it holds, or a new inline keyboard
 * when *markup is NULL. Returns 0, or -1 (*markup put and NULL). */
int step_back_button(struct step *s, const struct flow_node *n, json_object **markup);

/* Removes the inline keyboard of the pressed message. Returns 0 or -1. */
int step_remove_keyboard(struct step *s);

/* Has the attachment store fetch file for upload node n; saves the path
 * under n->key. Returns n->next, NODE_STAY after telling the user the
 * upload failed, or NODE_FAIL. */
int step_fetch(struct step *s, const struct flow_node *n, const char *kind,
	const struct update_file *file, unsigned long max_bytes);

/* Sends t as an HTML message with an optional reply_markup (the call
 * takes the markup reference). Returns 0 or -1. */
int step_send(struct step *s, const struct flow_text *t, json_object *markup);

/* Sends the message for reason: the node's override, the flow's, or
 * fallback (HTML). markup as for step_send. Returns 0 or -1. */
int step_reason(struct step *s, const struct flow_node *n, const char *reason,
	const char *fallback, json_object *markup);

/* A new params object holding the chat's chat_id; NULL when memory
 * runs out. */
json_object *step_params(struct step *s);

/* The text msgs (n of them) give for reason, or NULL. */
const struct flow_text *step_override(const struct flow_msg *msgs, unsigned n,
	const char *reason);

/* Adds a Bot API call addressed to the chat (chat_id is filled in).
 * Takes the params reference. Returns 0 or -1. */
int step_call(struct step *s, const char *method, json_object *params);

/* Saves value (len bytes) under key in the chat's context. Returns 0, or
 * -1 when memory runs out. A save that would take the context past
 * ENGINE_CONTEXT_MAX is refused with a warning and returns STEP_FULL. */
#define STEP_FULL 1
int step_save(struct step *s, const char *key, const char *value, size_t len);

/* Where a node goes after a save that returned rc: next when it was
 * kept, NODE_FAIL when memory ran out, NODE_STAY after telling the user
 * (reason "context_full") when the answer was too long to keep. */
int step_kept(struct step *s, const struct flow_node *n, int rc, int next);

/* The value of key: a saved value or a built-in (user.first_name, ...);
 * NULL when there is none. The pointer lives until the next save. */
const char *step_value(struct step *s, const char *key, char *tmp, size_t tmplen);

#endif
