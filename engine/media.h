/* media.h - media in prompts: a node's "media" key ({"photo" | "document"
 * | "voice" | "video" | "animation": SOURCE}), read and checked with the
 * flow; the step's send call that carries it (node_text as the caption,
 * or as a message of its own when it is over the caption limit); and
 * what the sender needs to deliver a local file (read it, hash it, find
 * the file id Telegram gave it before, or upload it and keep the id).
 *
 * SOURCE is an https URL, a Telegram file_id (letters, digits, '_' and
 * '-'), or a path to a file (anything holding '/' or '.'), relative to
 * the flow file. A URL or a file_id goes to Telegram as it is; a local
 * file is queued as {"file": "/absolute/path"} in its field and the
 * sender replaces that. */
#ifndef BLUEFLOW_MEDIA_H
#define BLUEFLOW_MEDIA_H

#include <json-c/json.h>
#include <stddef.h>

#include "engine/buf.h"
#include "engine/node.h"

struct step;
struct flow_text;

#define MEDIA_CAPTION_MAX 1024          /* characters of a caption */
#define MEDIA_PHOTO_MAX (10ul << 20)    /* bytes of a photo upload */
#define MEDIA_FILE_MAX (50ul << 20)     /* bytes of any other upload */

/* A node's media, read by media_read_key. */
struct flow_media {
	const char *kind;             /* "photo", "document", ... */
	const char *method;           /* "sendPhoto", "sendDocument", ... */
	const char *source;           /* a URL or file_id as written; NULL: a file */
	const char *path;             /* the local file's path, or NULL */
};

/* The "media" key of every node type that sends a message. */
#define NODE_KEY_MEDIA_ENTRY \
	{ "media", NODE_KEY_CUSTOM, .read = media_read_key, NODE_AT(media), \
	  .desc = "A photo, document, voice note, video or animation sent " \
	  "with node_text as its caption: {\"photo\": SOURCE}, SOURCE a " \
	  "path relative to the flow file, an https URL or a Telegram file_id.", \
	  .doc = "object: one of `photo`, `document`, `voice`, `video`, " \
	  "`animation` → a path, an https URL or a file_id", \
	  .schema = MEDIA_SCHEMA }

#define MEDIA_SCHEMA "{\"type\": \"object\", \"minProperties\": 1, " \
	"\"maxProperties\": 1, \"additionalProperties\": false, \"properties\": {" \
	"\"photo\": {\"type\": \"string\", \"minLength\": 1}, " \
	"\"document\": {\"type\": \"string\", \"minLength\": 1}, " \
	"\"voice\": {\"type\": \"string\", \"minLength\": 1}, " \
	"\"video\": {\"type\": \"string\", \"minLength\": 1}, " \
	"\"animation\": {\"type\": \"string\", \"minLength\": 1}}}"

/* Reads and checks a node's "media" (NODE_KEY_CUSTOM's read): one kind,
 * a source; a local file must exist, be within the Bot API's upload
 * limit for its kind and begin as its kind does (JPEG, PNG or WebP for a
 * photo, OGG for a voice note, MP4 for a video, GIF or MP4 for an
 * animation). Returns 1 / 0 / -1 as check.h says. */
int media_read_key(struct check *c, struct flow_node *n, json_object *obj,
	const char *path, const struct node_key *k);

/* Sends node n's text t with its media m (the call takes the markup
 * reference): one call with t as the caption, or, when the rendered text
 * is over MEDIA_CAPTION_MAX, the media and then the text with the
 * markup. Returns 0 or -1. */
int media_send(struct step *s, const struct flow_media *m, const struct flow_text *t,
	json_object *markup);

/* The local file a queued call carries: its field's name and the file's
 * path (pointers into params). Returns 1 when there is one, else 0. */
int media_local(json_object *params, const char **field, const char **path);

/* Reads the file at path (at most max bytes) into data and its SHA-256
 * as hex into sha_hex. Returns 0, or -1 with the reason in err. */
int media_load(const char *path, unsigned long max, struct buf *data,
	char sha_hex[65], char *err, size_t errlen);

/* The most a file for field (a send method's media field) may be. */
unsigned long media_max(const char *field);

/* The MIME type data's first bytes show, "application/octet-stream"
 * when they show none we know. */
const char *media_mime(const unsigned char *data, size_t len);

/* The file_id Telegram gave the file sent in field, from the message of
 * a send call's result (a photo's largest size); NULL when none. */
const char *media_file_id(json_object *result, const char *field);

#endif
