/* node_voice_upload.c - a voice note, up to max_seconds long. */
#include <stdio.h>

#include "engine/check.h"
#include "engine/step.h"
#include "engine/node.h"
#include "engine/node_upload.h"

static const char *const voice_upload_keys[] = {
	"type", "node_text", "key_to_save", "next", "max_seconds", "max_mb",
	"max_attempts", "on_max_attempts", "messages", NULL
};

static const char *const voice_upload_reasons[] = {
	"not_voice", "too_long", "too_big", "upload_failed", NULL
};

static int voice_upload_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct upload_data *d = check_alloc(c, sizeof(*d));
	unsigned errors = c->errors;
	long long secs;
	double mb = FLOW_MAX_MB;

	if (d == NULL)
		return -1;
	n->data = d;
	check_node_common(c, n, obj, path,
		"the node to go to after a good voice note, e.g. \"next\": \"2\"",
		"the name the stored file's path is saved under, e.g. "
		"\"key_to_save\": \"voice\"");
	if (check_int(c, obj, "max_seconds", path, "the longest voice note "
	    "accepted, in seconds, e.g. \"max_seconds\": 60", 1, 86400, &secs) > 0)
		d->max_seconds = (unsigned)secs;
	check_number(c, obj, "max_mb", path, NULL, 0, FLOW_MAX_MB, &mb);
	d->max_bytes = (unsigned long)(mb * 1024 * 1024);
	return c->errors == errors ? 0 : -1;
}

static int voice_upload_enter(struct step *s, const struct flow_node *n)
{
	return step_prompt(s, n, NULL);
}

static int voice_upload_handle(struct step *s, const struct flow_node *n)
{
	const struct upload_data *d = n->data;
	const struct update_file *v = &s->u->voice;
	char msg[160];

	if (v->file_id == NULL)
		return step_reason(s, n, "not_voice", "Please send a voice message.",
			NULL) ? NODE_FAIL : NODE_STAY;
	if (v->duration > (long long)d->max_seconds) {
		snprintf(msg, sizeof(msg), "That voice message is too long: the "
			"limit is %u seconds.", d->max_seconds);
		return step_reason(s, n, "too_long", msg, NULL) ? NODE_FAIL : NODE_STAY;
	}
	if (v->file_size > (long long)d->max_bytes) {
		snprintf(msg, sizeof(msg), "That voice message is too big: the "
			"limit is %g MB.", (double)d->max_bytes / (1024 * 1024));
		return step_reason(s, n, "too_big", msg, NULL) ? NODE_FAIL : NODE_STAY;
	}
	return step_fetch(s, n, "voice", v, d->max_bytes);
}

const struct node_type node_voice_upload = {
	.name = "voice_upload",
	.waits = 1,
	.keys = voice_upload_keys,
	.reasons = voice_upload_reasons,
	.validate = voice_upload_validate,
	.enter = voice_upload_enter,
	.handle = voice_upload_handle,
};
