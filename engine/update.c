/* update.c - parsing a Telegram Update (a webhook body) into struct update.
 *
 * The body goes through jdoc_parse (strict, depth-bounded); then the kind
 * is chosen and its fields are read. Required fields are checked with
 * upd_need, which names the JSON path of what is wrong; optional ones go
 * through the upd_opt_* readers, which answer "absent" for anything that
 * is not exactly what belongs there. Every pointer stored in the struct
 * points into the tree that u->root owns. */
#include "engine/update.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/jdoc.h"

#define UPD_PATH_MAX 128
#define UPD_SIDE_MAX 2147483647LL   /* a photo side past this is nonsense */

/* Update kinds the engine handles, in order of preference. */
static const struct {
	const char *key;
	enum update_kind kind;
} upd_kinds[] = {
	{ "message", UPDATE_MESSAGE },
	{ "business_message", UPDATE_MESSAGE },
	{ "edited_message", UPDATE_EDITED_MESSAGE },
	{ "edited_business_message", UPDATE_EDITED_MESSAGE },
	{ "callback_query", UPDATE_CALLBACK_QUERY },
};

/* --- reading values ---------------------------------------------------- */

/* True when v is an integer within +-UPDATE_INT_MAX. json-c clamps what
 * does not fit in 64 bits, so the bound also catches clamped values. */
static int upd_int_ok(json_object *v)
{
	int64_t n;
	if (!json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	return n >= -UPDATE_INT_MAX && n <= UPDATE_INT_MAX;
}

/* True when v is a string without an embedded NUL byte. */
static int upd_str_ok(json_object *v)
{
	if (!json_object_is_type(v, json_type_string))
		return 0;
	return strlen(json_object_get_string(v)) ==
		(size_t)json_object_get_string_len(v);
}

/* The value of key in o; NULL when o is not an object, the key is
 * absent, or its value is null (json-c keeps null as a NULL pointer). */
static json_object *upd_member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_is_type(o, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* An optional object member, or NULL. */
static json_object *upd_opt_obj(json_object *o, const char *key)
{
	json_object *v = upd_member(o, key);
	return json_object_is_type(v, json_type_object) ? v : NULL;
}

/* An optional array member, or NULL. */
static json_object *upd_opt_arr(json_object *o, const char *key)
{
	json_object *v = upd_member(o, key);
	return json_object_is_type(v, json_type_array) ? v : NULL;
}

/* An optional string member, or NULL. */
static const char *upd_opt_str(json_object *o, const char *key)
{
	json_object *v = upd_member(o, key);
	return upd_str_ok(v) ? json_object_get_string(v) : NULL;
}

/* An optional integer member, or 0. */
static long long upd_opt_int(json_object *o, const char *key)
{
	json_object *v = upd_member(o, key);
	return upd_int_ok(v) ? (long long)json_object_get_int64(v) : 0;
}

/* An optional integer member that cannot be negative (sizes, durations,
 * dates), or 0. */
static long long upd_opt_count(json_object *o, const char *key)
{
	long long n = upd_opt_int(o, key);
	return n > 0 ? n : 0;
}

/* An optional boolean member as 0 or 1; 0 when absent. */
static int upd_opt_bool(json_object *o, const char *key)
{
	json_object *v = upd_member(o, key);
	if (!json_object_is_type(v, json_type_boolean))
		return 0;
	return json_object_get_boolean(v) ? 1 : 0;
}

/* True when key in o holds a number (integer or not). */
static int upd_opt_number(json_object *o, const char *key)
{
	json_object *v = upd_member(o, key);
	return json_object_is_type(v, json_type_int) ||
		json_object_is_type(v, json_type_double);
}

/* Names v's type for a message; "a floating-point number" is clearer
 * than jdoc's "a number" next to "not an integer". */
static const char *upd_type_name(json_object *v)
{
	if (json_object_is_type(v, json_type_double))
		return "a floating-point number";
	return jdoc_type_name(v);
}

static const char *upd_want_name(json_type want)
{
	switch (want) {
	case json_type_int: return "an integer";
	case json_type_string: return "a string";
	case json_type_object: return "an object";
	default: return "a value";
	}
}

/* Reads the required member key of object o (whose path is base) as a
 * value of type want. Returns 0 and the value in *out, or -1 with a
 * message in err that names the path, says what is wrong and ends with
 * why the field is needed. */
static int upd_need(json_object *o, const char *base, const char *key,
	json_type want, const char *why, json_object **out,
	char *err, size_t errlen)
{
	char path[UPD_PATH_MAX];
	json_object *v = NULL;
	int rc = -1;

	*out = NULL;
	jdoc_path(path, sizeof(path), base, key);
	if (!json_object_object_get_ex(o, key, &v)) {
		snprintf(err, errlen, "%s is missing (%s)", path, why);
		goto out;
	}
	if (!json_object_is_type(v, want)) {
		snprintf(err, errlen, "%s is %s, not %s (%s)", path,
			upd_type_name(v), upd_want_name(want), why);
		goto out;
	}
	if (want == json_type_int && !upd_int_ok(v)) {
		snprintf(err, errlen, "%s is out of range: Telegram's integers "
			"fit in 53 bits (%s)", path, why);
		goto out;
	}
	if (want == json_type_string && !upd_str_ok(v)) {
		snprintf(err, errlen, "%s holds a NUL byte (%s)", path, why);
		goto out;
	}
	*out = v;
	rc = 0;
out:
	return rc;
}

/* --- parts of a message ------------------------------------------------ */

/* Fills a user from a User object; anything missing stays 0 / NULL. */
static void upd_user(struct update_user *user, json_object *o)
{
	user->id = upd_opt_int(o, "id");
	user->is_bot = upd_opt_bool(o, "is_bot");
	user->username = upd_opt_str(o, "username");
	user->first_name = upd_opt_str(o, "first_name");
	user->last_name = upd_opt_str(o, "last_name");
	user->language_code = upd_opt_str(o, "language_code");
}

/* Fills f from a file object (Voice, Document, PhotoSize, ...); without
 * a usable file_id the whole file counts as absent. */
static void upd_file(struct update_file *f, json_object *o)
{
	const char *file_id = upd_opt_str(o, "file_id");
	if (file_id == NULL)
		return;
	f->file_id = file_id;
	f->file_unique_id = upd_opt_str(o, "file_unique_id");
	f->mime_type = upd_opt_str(o, "mime_type");
	f->file_name = upd_opt_str(o, "file_name");
	f->file_size = upd_opt_count(o, "file_size");
	f->duration = upd_opt_count(o, "duration");
}

/* The area of a PhotoSize, with sides clamped so it cannot overflow. */
static long long upd_photo_area(json_object *o)
{
	long long w = upd_opt_count(o, "width");
	long long h = upd_opt_count(o, "height");
	if (w > UPD_SIDE_MAX)
		w = UPD_SIDE_MAX;
	if (h > UPD_SIDE_MAX)
		h = UPD_SIDE_MAX;
	return w * h;
}

/* Picks the largest PhotoSize of the array: by width*height, then by
 * file_size; on a full tie the later one (Telegram lists them smallest
 * first). Elements without a file_id are skipped. */
static void upd_photo(struct update_file *f, json_object *arr)
{
	json_object *best = NULL;
	long long best_area = 0, best_size = 0;
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		long long area, size;
		if (upd_opt_str(p, "file_id") == NULL)
			continue;
		area = upd_photo_area(p);
		size = upd_opt_count(p, "file_size");
		if (best == NULL || area > best_area ||
		    (area == best_area && size >= best_size)) {
			best = p;
			best_area = area;
			best_size = size;
		}
	}
	if (best == NULL)
		return;
	upd_file(f, best);
	f->duration = 0;
}

/* The first element of arr (which may be NULL), or NULL. */
static json_object *upd_first(json_object *arr)
{
	if (arr == NULL || json_object_array_length(arr) == 0)
		return NULL;
	return json_object_array_get_idx(arr, 0);
}

/* Fills the shared-user fields from users_shared or user_shared. */
static void upd_shared(struct update *u, json_object *m)
{
	json_object *us = upd_opt_obj(m, "users_shared");
	json_object *legacy = upd_opt_obj(m, "user_shared");
	json_object *first;

	if (us != NULL) {
		u->shared_request_id = upd_opt_int(us, "request_id");
		first = upd_first(upd_opt_arr(us, "users"));
		if (json_object_is_type(first, json_type_object)) {
			u->shared_user_id = upd_opt_int(first, "user_id");
			u->shared_username = upd_opt_str(first, "username");
			u->shared_first_name = upd_opt_str(first, "first_name");
			return;
		}
		first = upd_first(upd_opt_arr(us, "user_ids"));
		if (upd_int_ok(first))
			u->shared_user_id = (long long)json_object_get_int64(first);
		return;
	}
	if (legacy != NULL) {
		u->shared_request_id = upd_opt_int(legacy, "request_id");
		u->shared_user_id = upd_opt_int(legacy, "user_id");
	}
}

/* Whether m is a service message (someone joined, a pin, a title
 * change, ...): nothing a user answered with. */
static int upd_service(json_object *m)
{
	static const char *const keys[] = {
		"new_chat_members", "left_chat_member", "new_chat_title",
		"new_chat_photo", "delete_chat_photo", "group_chat_created",
		"supergroup_chat_created", "channel_chat_created",
		"message_auto_delete_timer_changed", "migrate_to_chat_id",
		"migrate_from_chat_id", "pinned_message", "successful_payment",
		"refunded_payment", "connected_website", "write_access_allowed",
		"passport_data", "proximity_alert_triggered", "boost_added",
		"chat_background_set", "forum_topic_created", "forum_topic_edited",
		"forum_topic_closed", "forum_topic_reopened",
		"general_forum_topic_hidden", "general_forum_topic_unhidden",
		"giveaway_created", "giveaway_winners", "giveaway_completed",
		"video_chat_scheduled", "video_chat_started", "video_chat_ended",
		"video_chat_participants_invited", "chat_shared", NULL
	};
	for (int i = 0; keys[i]; i++)
		if (json_object_object_get_ex(m, keys[i], NULL))
			return 1;
	return 0;
}

/* Fills what a message says beyond its chat: sender, text, media. */
static void upd_content(struct update *u, json_object *m)
{
	json_object *o;

	upd_user(&u->from, upd_opt_obj(m, "from"));
	u->date = upd_opt_count(m, "date");
	u->text = upd_opt_str(m, "text");
	if (u->text != NULL) {
		u->entities = upd_opt_arr(m, "entities");
	} else {
		u->text = upd_opt_str(m, "caption");
		if (u->text != NULL)
			u->entities = upd_opt_arr(m, "caption_entities");
	}
	upd_file(&u->voice, upd_opt_obj(m, "voice"));
	upd_file(&u->document, upd_opt_obj(m, "document"));
	upd_file(&u->audio, upd_opt_obj(m, "audio"));
	upd_file(&u->video, upd_opt_obj(m, "video"));
	o = upd_opt_arr(m, "photo");
	if (o != NULL)
		upd_photo(&u->photo, o);
	u->has_sticker = upd_opt_str(upd_opt_obj(m, "sticker"), "file_id") != NULL;
	o = upd_opt_obj(m, "location");
	u->has_location = upd_opt_number(o, "latitude") &&
		upd_opt_number(o, "longitude");
	o = upd_opt_obj(m, "contact");
	u->contact_phone = upd_opt_str(o, "phone_number");
	u->contact_user_id = upd_opt_int(o, "user_id");
	upd_shared(u, m);
	u->service = upd_service(m);
	u->migrate_to = upd_opt_int(m, "migrate_to_chat_id");
	if (u->migrate_to != 0) {
		u->migrate_from = u->chat_id;
	} else if ((u->migrate_from = upd_opt_int(m, "migrate_from_chat_id")) != 0) {
		u->migrate_to = u->chat_id;
	}
}

/* Reads the chat and message_id of the message m at path base, which
 * must have them (the message_id only when need_id is set: a button
 * press's message from an emulator or a proxy may lack it, and is then 0).
 * Returns 0, or -1 with a message in err. */
static int upd_message_head(struct update *u, json_object *m,
	const char *base, int need_id, char *err, size_t errlen)
{
	char path[UPD_PATH_MAX];
	json_object *chat, *id, *mid;
	int rc;

	rc = upd_need(m, base, "chat", json_type_object,
		"a message belongs to a chat", &chat, err, errlen);
	if (rc)
		goto out;
	jdoc_path(path, sizeof(path), base, "chat");
	rc = upd_need(chat, path, "id", json_type_int,
		"the chat's id says where to answer", &id, err, errlen);
	if (rc)
		goto out;
	if (need_id) {
		rc = upd_need(m, base, "message_id", json_type_int,
			"every message has an integer message_id", &mid, err, errlen);
		if (rc)
			goto out;
		u->message_id = (long long)json_object_get_int64(mid);
	} else {
		u->message_id = upd_opt_int(m, "message_id");
	}
	u->has_chat = 1;
	u->chat_id = (long long)json_object_get_int64(id);
	u->chat_type = upd_opt_str(chat, "type");
	u->chat_title = upd_opt_str(chat, "title");
out:
	return rc;
}

/* --- update kinds ------------------------------------------------------ */

/* A message or edited message under root's key. */
static int upd_message(struct update *u, const char *key,
	char *err, size_t errlen)
{
	char path[UPD_PATH_MAX];
	json_object *m;
	int rc;

	rc = upd_need(u->root, "", key, json_type_object,
		"a message is an object", &m, err, errlen);
	if (rc)
		goto out;
	jdoc_path(path, sizeof(path), "", key);
	rc = upd_message_head(u, m, path, 1, err, errlen);
	if (rc)
		goto out;
	upd_content(u, m);
out:
	return rc;
}

/* A callback query: the button press, and the message that carried the
 * keyboard when Telegram sends it (absent for inline messages, null or
 * an InaccessibleMessage with date 0 when too old). */
static int upd_callback(struct update *u, char *err, size_t errlen)
{
	static const char base[] = "/callback_query";
	char path[UPD_PATH_MAX];
	json_object *cq, *id, *from, *from_id, *m;
	int rc;

	rc = upd_need(u->root, "", "callback_query", json_type_object,
		"a callback query is an object", &cq, err, errlen);
	if (rc)
		goto out;
	rc = upd_need(cq, base, "id", json_type_string,
		"answerCallbackQuery needs the query's id", &id, err, errlen);
	if (rc)
		goto out;
	rc = upd_need(cq, base, "from", json_type_object,
		"a callback query says who pressed the button", &from, err, errlen);
	if (rc)
		goto out;
	jdoc_path(path, sizeof(path), base, "from");
	rc = upd_need(from, path, "id", json_type_int,
		"the user who pressed the button has an id", &from_id, err, errlen);
	if (rc)
		goto out;
	u->callback_id = json_object_get_string(id);
	upd_user(&u->from, from);
	u->callback_data = upd_opt_str(cq, "data");
	u->inline_message_id = upd_opt_str(cq, "inline_message_id");
	m = upd_opt_obj(cq, "message");
	if (m != NULL) {
		jdoc_path(path, sizeof(path), base, "message");
		rc = upd_message_head(u, m, path, 0, err, errlen);
		if (rc)
			goto out;
	}
out:
	return rc;
}

/* Copies, for logs, the chat, message_id, date and sender of an update
 * kind the engine does not handle. Never fails. */
static void upd_other(struct update *u, json_object *v)
{
	json_object *chat = upd_opt_obj(v, "chat");
	json_object *from = upd_opt_obj(v, "from");

	if (upd_int_ok(upd_member(chat, "id"))) {
		u->has_chat = 1;
		u->chat_id = upd_opt_int(chat, "id");
		u->chat_type = upd_opt_str(chat, "type");
		u->chat_title = upd_opt_str(chat, "title");
	}
	u->message_id = upd_opt_int(v, "message_id");
	u->date = upd_opt_count(v, "date");
	if (from == NULL)
		from = upd_opt_obj(v, "user");
	upd_user(&u->from, from);
}

/* Chooses the kind of the Update (see update.h for the order); the
 * chosen value is not null. Sets kind, kind_name; *v gets the value of
 * an OTHER kind. */
static void upd_choose_kind(struct update *u, json_object **v)
{
	*v = NULL;
	for (size_t i = 0; i < sizeof(upd_kinds) / sizeof(upd_kinds[0]); i++) {
		if (upd_member(u->root, upd_kinds[i].key) != NULL) {
			u->kind = upd_kinds[i].kind;
			u->kind_name = upd_kinds[i].key;
			return;
		}
	}
	u->kind = UPDATE_OTHER;
	u->kind_name = "";
	json_object_object_foreach(u->root, key, val) {
		if (val == NULL || strcmp(key, "update_id") == 0)
			continue;
		u->kind_name = key;
		*v = val;
		return;
	}
}

/* --- the API ----------------------------------------------------------- */

/* Parses the body into *root, which must be a JSON object. Returns 0,
 * or -1 with a message in err. A body that does not start with "{" is
 * judged here: jdoc's messages suit documents, and json-c cannot finish
 * a bare top-level number or null without more input. */
static int upd_root(const char *body, size_t len, json_object **root,
	char *err, size_t errlen)
{
	char path[JDOC_PATH_MAX];
	size_t lead = 0;
	int rc = -1;

	*root = NULL;
	if (len > UPDATE_BODY_MAX) {
		snprintf(err, errlen, "the body is %zu bytes; an Update may have "
			"at most %u", len, UPDATE_BODY_MAX);
		goto out;
	}
	while (lead < len && (body[lead] == ' ' || body[lead] == '\t' ||
	    body[lead] == '\r' || body[lead] == '\n'))
		lead++;
	if (lead == len) {
		snprintf(err, errlen, "the body is empty: an Update is a JSON object");
		goto out;
	}
	if (body[lead] != '{') {
		rc = jdoc_parse(body, len, UPDATE_DEPTH_MAX, root, err, errlen,
			path, sizeof(path));
		if (rc == 0)
			snprintf(err, errlen, "the body is %s, not a JSON object: an "
				"Update is an object", upd_type_name(*root));
		else
			snprintf(err, errlen, "the body is not a JSON object: an "
				"Update starts with \"{\"");
		json_object_put(*root);
		*root = NULL;
		rc = -1;
		goto out;
	}
	rc = jdoc_parse(body, len, UPDATE_DEPTH_MAX, root, err, errlen,
		path, sizeof(path));
out:
	return rc;
}

int update_parse(const char *body, size_t len, struct update *u,
	char *err, size_t errlen)
{
	json_object *root = NULL, *id, *other;
	int rc;

	memset(u, 0, sizeof(*u));
	if (errlen > 0)
		err[0] = '\0';
	rc = upd_root(body ? body : "", body ? len : 0, &root, err, errlen);
	if (rc)
		goto out;
	u->root = root;
	rc = UPDATE_INVALID;
	if (upd_need(root, "", "update_id", json_type_int,
		"every Update carries an integer update_id", &id, err, errlen) != 0)
		goto out;
	rc = 0;
	u->update_id = (long long)json_object_get_int64(id);
	upd_choose_kind(u, &other);
	switch (u->kind) {
	case UPDATE_MESSAGE:
	case UPDATE_EDITED_MESSAGE:
		rc = upd_message(u, u->kind_name, err, errlen) ? UPDATE_INVALID : 0;
		break;
	case UPDATE_CALLBACK_QUERY:
		rc = upd_callback(u, err, errlen) ? UPDATE_INVALID : 0;
		break;
	case UPDATE_OTHER:
		upd_other(u, other);
		break;
	}
out:
	if (rc) {
		json_object_put(root);
		memset(u, 0, sizeof(*u));
	}
	return rc;
}

void update_free(struct update *u)
{
	json_object_put(u->root);
	memset(u, 0, sizeof(*u));
}
