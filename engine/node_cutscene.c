/* node_cutscene.c - a message that needs no answer: with "next" the flow
 * moves on at once, without it the flow ends. With "send_at" the message
 * waits for that hour of the flow's time zone (a timer sends it). */
#include <stdio.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/media.h"
#include "engine/node.h"
#include "engine/step.h"
#include "engine/timer.h"

/* "send_at": "HH:MM" -> n->send_at, minutes after midnight + 1. */
static int cutscene_read_send_at(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	char kpath[JDOC_PATH_MAX];
	const char *s;
	int m;

	if (check_string(c, obj, k->name, path, NULL, &s) <= 0)
		return 0;
	m = timer_clock_time(s);
	if (m < 0) {
		jdoc_path(kpath, sizeof(kpath), path, k->name);
		check_error(c, DIAG_NODE_SCHEMA, kpath, "\"%s\" is not an hour of "
			"the day; write \"HH:MM\" from \"00:00\" to \"23:59\"", s);
		return -1;
	}
	n->send_at = m + 1;
	c->flow->timed = 1;
	return 1;
}

static const struct node_key cutscene_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	{ "node_text", NODE_KEY_TEXT, .hint = "the message to send, e.g. "
	  "\"node_text\": \"Thanks!\"", .desc = "The message to send.",
	  NODE_AT(text) },
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .desc = "The node that follows; without it the "
	  "flow ends.", NODE_AT(next) },
	{ "send_at", NODE_KEY_CUSTOM, .desc = "Send the message at this hour "
	  "(\"HH:MM\") of the flow's \"timezone\", the next time it comes; the "
	  "chat waits until then.", NODE_AT(send_at), .read = cutscene_read_send_at,
	  .schema = "{\"type\": \"string\", \"pattern\": "
	  "\"^([01][0-9]|2[0-3]):[0-5][0-9]$(?!\\\\n)\"}", .doc = "\"HH:MM\"" },
	{ NULL }
};

static int cutscene_enter(struct step *s, const struct flow_node *n)
{
	if (n->send_at > 0)
		return NODE_WAIT;   /* its timer sends it at the hour (engine_fire) */
	if (step_show(s, n, NULL) != 0)
		return NODE_FAIL;
	return n->next >= 0 ? n->next : NODE_END;
}

const struct node_type node_cutscene = {
	.name = "cutscene",
	.summary = "A message that needs no answer: with \"next\" the flow "
		"moves on at once, without it the flow ends.",
	.waits = 0,
	.look = NODE_LOOK_MESSAGE,
	.shows = 1,
	.keys = cutscene_keys,
	.enter = cutscene_enter,
};
