/* node_voice_upload.c - a voice note, up to max_seconds long. */
#include <stdio.h>

#include "engine/check.h"
#include "engine/media.h"
#include "engine/node.h"
#include "engine/node_upload.h"
#include "engine/step.h"

static const struct node_key voice_upload_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after a good voice "
	  "note, e.g. \"next\": \"2\"", .desc = "Where a good answer goes.",
	  NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the stored file's path "
	  "is saved under, e.g. \"key_to_save\": \"voice\"", .desc = "The name "
	  "the stored file's path is saved under.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	NODE_KEY_BACK_ENTRY,
	{ "max_seconds", NODE_KEY_INT, .hint = "the longest voice note accepted, "
	  "in seconds, e.g. \"max_seconds\": 60", .min = 1, .max = 86400,
	  .desc = "The longest voice note accepted, in seconds.",
	  NODE_DATA_AT(struct upload_data, max_seconds) },
	NODE_UPLOAD_MAX_MB_ENTRY,
	{ NULL }
};

static const char *const voice_upload_reasons[] = {
	"not_voice", "too_long", "too_big", "upload_failed", "too_many_files",
	"storage_full", NULL
};

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
			"limit is %d seconds.", d->max_seconds);
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
	.summary = "A voice note up to max_seconds long and max_mb large; saves "
		"the stored file's path.",
	.waits = 1,
	.look = NODE_LOOK_UPLOAD,
	.data_size = sizeof(struct upload_data),
	.validate = upload_validate,
	.keys = voice_upload_keys,
	.reasons = voice_upload_reasons,
	.enter = voice_upload_enter,
	.handle = voice_upload_handle,
};
