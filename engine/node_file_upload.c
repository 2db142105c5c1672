/* node_file_upload.c - a document of an allowed MIME type, up to max_mb. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/media.h"
#include "engine/node.h"
#include "engine/node_upload.h"
#include "engine/step.h"

static const char *const file_upload_reasons[] = {
	"not_document", "wrong_type", "too_big", "upload_failed", "too_many_files",
	"storage_full", NULL
};

/* "type/subtype" or a whole type written "type/" and a star; lowercase. */
static int file_upload_mime_ok(const char *m)
{
	static const char tok[] = "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-";
	size_t a = strspn(m, tok), b;
	if (a == 0 || m[a] != '/')
		return 0;
	m += a + 1;
	if (strcmp(m, "*") == 0)
		return 1;
	b = strspn(m, tok);
	return b > 0 && m[b] == '\0';
}

static int file_upload_mimes(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k)
{
	struct upload_data *d = n->data;
	char kpath[JDOC_PATH_MAX], ipath[JDOC_PATH_MAX], idx[24];
	const char **mimes;
	json_object *v;
	size_t count;
	int bad = 0;

	jdoc_path(kpath, sizeof(kpath), path, k->name);
	if (!json_object_object_get_ex(obj, k->name, &v)) {
		check_missing(c, path, k->name, k->hint);
		return -1;
	}
	if (json_object_get_type(v) != json_type_array) {
		check_error(c, DIAG_SCHEMA, kpath, "must be an array of MIME types "
			"such as [\"application/pdf\"], not %s", jdoc_type_name(v));
		return -1;
	}
	count = json_object_array_length(v);
	if (count == 0) {
		check_error(c, DIAG_NODE_SCHEMA, kpath, "is empty, so no file could "
			"ever be accepted; list at least one type, e.g. \"application/pdf\"");
		return -1;
	}
	mimes = check_alloc(c, count * sizeof(*mimes));
	if (mimes == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		json_object *m = json_object_array_get_idx(v, i);
		snprintf(idx, sizeof(idx), "%zu", i);
		jdoc_path(ipath, sizeof(ipath), kpath, idx);
		if (json_object_get_type(m) != json_type_string) {
			check_error(c, DIAG_SCHEMA, ipath, "must be a string, not %s",
				jdoc_type_name(m));
			bad++;
			continue;
		}
		if (!file_upload_mime_ok(json_object_get_string(m))) {
			check_error(c, DIAG_NODE_SCHEMA, ipath, "\"%s\" is not a MIME "
				"type; write it as \"type/subtype\" or \"type/*\" in lowercase, "
				"e.g. \"application/pdf\"", json_object_get_string(m));
			bad++;
			continue;
		}
		mimes[d->n_mimes++] = check_strdup(c, json_object_get_string(m));
	}
	d->mimes = mimes;
	return bad ? -1 : 1;
}

static const struct node_key file_upload_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after a good file, "
	  "e.g. \"next\": \"2\"", .desc = "Where a good answer goes.",
	  NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the stored file's path "
	  "is saved under, e.g. \"key_to_save\": \"brief\"", .desc = "The name "
	  "the stored file's path is saved under.", NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	NODE_KEY_BACK_ENTRY,
	{ "allowed_mime", NODE_KEY_CUSTOM, .hint = "the accepted file types, "
	  "e.g. \"allowed_mime\": [\"application/pdf\", \"image/*\"]",
	  .read = file_upload_mimes, .desc = "The accepted MIME types, at least one.",
	  .doc = "list of `type/subtype` or `type/*`, at least one",
	  .schema = "{\"type\": \"array\", \"minItems\": 1, \"items\": "
	  "{\"description\": \"A MIME type in lowercase, \\\"type/subtype\\\" or a "
	  "whole type \\\"type/*\\\", e.g. \\\"application/pdf\\\" or "
	  "\\\"image/*\\\".\", \"type\": \"string\", \"pattern\": "
	  "\"^[a-z0-9!#$&^_.+-]+/(?:[a-z0-9!#$&^_.+-]+|\\\\*)$(?!\\\\n)\"}}" },
	NODE_UPLOAD_MAX_MB_ENTRY,
	{ "photos", NODE_KEY_BOOL, .has_def = 1, .def = 0,
	  .desc = "Also take a photo sent as a photo (Telegram's JPEG, its "
	  "largest size), not only as a document; allowed_mime must take "
	  "image/jpeg.", NODE_DATA_AT(struct upload_data, photos) },
	{ NULL }
};

static int file_upload_allowed(const struct upload_data *d, const char *mime);

static int file_upload_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	const struct upload_data *d = n->data;
	char kpath[JDOC_PATH_MAX];

	upload_validate(c, n, obj, path);
	if (d->photos && d->n_mimes > 0 && !file_upload_allowed(d, "image/jpeg")) {
		jdoc_path(kpath, sizeof(kpath), path, "photos");
		check_error(c, DIAG_NODE_SCHEMA, kpath, "a photo is a JPEG, which "
			"allowed_mime does not take; add \"image/jpeg\" or \"image/*\"");
		return -1;
	}
	return 0;
}

static int file_upload_enter(struct step *s, const struct flow_node *n)
{
	return step_prompt(s, n, NULL);
}

/* Whether mime is allowed: an exact entry, or "type/" + "*" for its type. */
static int file_upload_allowed(const struct upload_data *d, const char *mime)
{
	for (unsigned i = 0; i < d->n_mimes; i++) {
		const char *m = d->mimes[i];
		size_t n = strlen(m);
		if (n >= 2 && m[n - 1] == '*' && m[n - 2] == '/') {
			if (strncasecmp(m, mime, n - 1) == 0)
				return 1;
		} else if (strcasecmp(m, mime) == 0) {
			return 1;
		}
	}
	return 0;
}

static int file_upload_handle(struct step *s, const struct flow_node *n)
{
	const struct upload_data *d = n->data;
	const struct update_file *f = &s->u->document;
	struct update_file photo;
	char msg[512];
	size_t len;

	/* a photo sent as a photo (its largest size) is a JPEG document to a
	 * node with "photos" */
	if (f->file_id == NULL && s->u->photo.file_id && d->photos) {
		photo = s->u->photo;
		photo.mime_type = "image/jpeg";
		f = &photo;
	}
	if (f->file_id == NULL)
		return step_reason(s, n, "not_document", "Please send the file as "
			"a document.", NULL) ? NODE_FAIL : NODE_STAY;
	if (f->mime_type == NULL || !file_upload_allowed(d, f->mime_type)) {
		len = (size_t)snprintf(msg, sizeof(msg), "That file type is not accepted. Please send:");
		for (unsigned i = 0; i < d->n_mimes && len < sizeof(msg); i++)
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s %s",
				i ? "," : "", d->mimes[i]);
		return step_reason(s, n, "wrong_type", msg, NULL) ? NODE_FAIL : NODE_STAY;
	}
	if (f->file_size > (long long)d->max_bytes) {
		snprintf(msg, sizeof(msg), "That file is too big: the limit is %g MB.",
			(double)d->max_bytes / (1024 * 1024));
		return step_reason(s, n, "too_big", msg, NULL) ? NODE_FAIL : NODE_STAY;
	}
	return step_fetch(s, n, "document", f, d->max_bytes);
}

const struct node_type node_file_upload = {
	.name = "file_upload",
	.summary = "A document of an allowed MIME type up to max_mb large (with "
		"\"photos\", a photo sent as a photo too); saves the stored file's path.",
	.waits = 1,
	.look = NODE_LOOK_UPLOAD,
	.data_size = sizeof(struct upload_data),
	.validate = file_upload_validate,
	.keys = file_upload_keys,
	.reasons = file_upload_reasons,
	.enter = file_upload_enter,
	.handle = file_upload_handle,
};
