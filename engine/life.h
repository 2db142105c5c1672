/* life.h - the life cycle of the messages a node sends ("lifecycle"):
 * onetime (the default: sent and never touched), ephemeral (the prompt
 * and its refusals are deleted once the node is answered, or after
 * "auto_delete_after"), system (the chat's last message with the node's
 * "tag" is edited in place instead of a new one being sent).
 *
 * The step cannot know the ids of messages the sender has not sent yet,
 * so it marks its calls, and the sender resolves the marks when it sends
 * them, in the chat's order: a message to remember carries
 * "blueflow": {"keep": CLASS, "node": ID[, "tag": TAG]} (the sender keeps
 * the message_id Telegram returns; a system one is an edit of the tagged
 * message when there is one), and deleteMessages carries
 * "blueflow": {"delete": ID} (the sender fills in the kept ids of node
 * ID's ephemeral messages). The "blueflow" object never reaches Telegram,
 * and a marked call never goes inline (its result is needed). */
#ifndef BLUEFLOW_LIFE_H
#define BLUEFLOW_LIFE_H

#include <json-c/json.h>

#include "engine/node.h"

enum life_class {
	LIFE_ONETIME,
	LIFE_EPHEMERAL,
	LIFE_SYSTEM
};

#define LIFE_KEY "blueflow"     /* the params' key of the marks */
#define LIFE_TAG_MAX 32
#define LIFE_IDS_MAX 100        /* ids deleteMessages takes at once */

/* The keys of the life cycle every node type takes, {NULL}-ended. */
extern const struct node_key life_keys[];

/* "onetime", "ephemeral", "system"; "?" for another value. */
const char *life_class_name(int life);

/* Checks what the keys say together (a tag needs system, ...); reports
 * through c. Called after the keys are read. */
void life_check(struct check *c, struct flow_node *n, const char *path);

/* Marks the messages to the chat among the step's calls from mark on,
 * made by node n as the chat entered it: each one of an ephemeral node,
 * the first sendMessage of a system node. Returns 0 or -1. */
int life_mark(struct step *s, const struct flow_node *n, unsigned mark);

/* The same for what n sends while the chat stays (refusals, reminders):
 * marked only for an ephemeral node (a system message is its entry's). */
int life_mark_stay(struct step *s, const struct flow_node *n, unsigned mark);

/* The chat leaves ephemeral node n: adds the deleteMessages of its kept
 * messages. Returns 0, or -1 when memory runs out; 0 and nothing for
 * another node. */
int life_leave(struct step *s, const struct flow_node *n);

/* Adds the deleteMessages of the kept ephemeral messages of the node
 * with id node (a fired "delete" timer). Returns 0 or -1. */
int life_delete(struct step *s, const char *node);

/* Whether params carry marks (such a call never goes inline). */
int life_marked(json_object *params);

#endif
