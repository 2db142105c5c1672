/* node_tg_username.c - a Telegram @username, typed or shared with a
 * "choose a user" keyboard button. Saves the username in key_to_save and,
 * when the user was shared, the id in key_to_save + "_id". */
#include <stdio.h>
#include <string.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/media.h"
#include "engine/node.h"
#include "engine/step.h"

static const char *const tg_username_reasons[] = { "bad_username", NULL };

struct tg_username_data {
	struct flow_text request_button;   /* n == 0: no button */
};

static const struct node_key tg_username_keys[] = {
	NODE_KEY_TYPE_ENTRY,
	NODE_KEY_PROMPT_ENTRY,
	NODE_KEY_MEDIA_ENTRY,
	{ "next", NODE_KEY_REF, .hint = "the node to go to after a good answer, "
	  "e.g. \"next\": \"2\"", .desc = "Where a good answer goes.", NODE_AT(next) },
	{ "key_to_save", NODE_KEY_SAVE, .hint = "the name the username is saved "
	  "under, e.g. \"key_to_save\": \"contact\"", .desc = "The name the "
	  "username is saved under (and the user's id under it + \"_id\").",
	  NODE_AT(key) },
	NODE_KEY_ATTEMPTS_ENTRIES,
	NODE_KEY_MESSAGES_ENTRY,
	NODE_KEY_BACK_ENTRY,
	{ "request_button", NODE_KEY_BUTTON, .desc = "The label of a \"choose "
	  "a user\" keyboard button.",
	  NODE_DATA_AT(struct tg_username_data, request_button) },
	{ NULL }
};

/* The id of a shared user is saved too, under KEY_id. */
static int tg_username_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	char kpath[JDOC_PATH_MAX], id_key[80];

	(void)obj;
	if (n->key) {
		jdoc_path(kpath, sizeof(kpath), path, "key_to_save");
		snprintf(id_key, sizeof(id_key), "%s_id", n->key);
		check_note_save(c, kpath, id_key);
	}
	return 0;
}

#define TG_USERNAME_REQUEST_ID 1

/* A reply keyboard with one "choose a user" button, or NULL for none. */
static int tg_username_keyboard(struct step *s, const struct tg_username_data *d,
	json_object **out)
{
	json_object *markup, *rows, *row, *btn, *req;
	struct buf label;

	*out = NULL;
	if (d->request_button.n == 0)
		return 0;
	buf_init(&label, 4096);
	if (step_render_plain(s, &d->request_button, &label) != 0) {
		buf_free(&label);
		return -1;
	}
	markup = json_object_new_object();
	rows = json_object_new_array();
	row = json_object_new_array();
	btn = json_object_new_object();
	req = json_object_new_object();
	if (!markup || !rows || !row || !btn || !req) {
		json_object_put(markup);
		json_object_put(rows);
		json_object_put(row);
		json_object_put(btn);
		json_object_put(req);
		buf_free(&label);
		return -1;
	}
	json_object_object_add(req, "request_id", json_object_new_int(TG_USERNAME_REQUEST_ID));
	json_object_object_add(req, "user_is_bot", json_object_new_boolean(0));
	json_object_object_add(req, "request_username", json_object_new_boolean(1));
	json_object_object_add(btn, "text", json_object_new_string(label.p ? label.p : ""));
	json_object_object_add(btn, "request_users", req);
	json_object_array_add(row, btn);
	json_object_array_add(rows, row);
	json_object_object_add(markup, "keyboard", rows);
	json_object_object_add(markup, "resize_keyboard", json_object_new_boolean(1));
	json_object_object_add(markup, "one_time_keyboard", json_object_new_boolean(1));
	buf_free(&label);
	s->chat->keyboard = 1;
	*out = markup;
	return 0;
}

static int tg_username_enter(struct step *s, const struct flow_node *n)
{
	json_object *kb;
	if (tg_username_keyboard(s, n->data, &kb) != 0)
		return NODE_FAIL;
	return step_prompt(s, n, kb);
}

/* Telegram's rules: 5 to 32 of a-z, 0-9 and '_', starting with a letter. */
static int tg_username_valid(const char *s, size_t len)
{
	if (len < 5 || len > 32)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static int tg_username_handle(struct step *s, const struct flow_node *n)
{
	const struct update *u = s->u;
	char id_key[80], id[32];
	const char *name;
	int rc;
	size_t len;
	json_object *kb;

	if (u->shared_user_id) {
		name = u->shared_username ? u->shared_username : "";
		snprintf(id_key, sizeof(id_key), "%s_id", n->key);
		snprintf(id, sizeof(id), "%lld", u->shared_user_id);
		rc = step_save(s, n->key, name, strlen(name));
		if (rc == 0)
			rc = step_save(s, id_key, id, strlen(id));
		return step_kept(s, n, rc, n->next);
	}
	if (u->text && !u->voice.file_id && !u->document.file_id && !u->photo.file_id) {
		name = u->text + strspn(u->text, " \t\n");
		if (*name == '@')
			name++;
		len = strcspn(name, " \t\n");
		if (name[len + strspn(name + len, " \t\n")] == '\0' &&
		    tg_username_valid(name, len))
			return step_kept(s, n, step_save(s, n->key, name, len), n->next);
	}
	if (tg_username_keyboard(s, n->data, &kb) != 0)
		return NODE_FAIL;
	return step_reason(s, n, "bad_username", "Please send a Telegram "
		"username like @example: 5 to 32 letters, digits or underscores, "
		"starting with a letter.", kb) ? NODE_FAIL : NODE_STAY;
}

const struct node_type node_tg_username = {
	.name = "tg_username",
	.summary = "A Telegram @username, typed or shared with a \"choose a "
		"user\" button; saves KEY and KEY_id.",
	.waits = 1,
	.takes_text = 1,
	.look = NODE_LOOK_QUESTION,
	.data_size = sizeof(struct tg_username_data),
	.keys = tg_username_keys,
	.reasons = tg_username_reasons,
	.validate = tg_username_validate,
	.enter = tg_username_enter,
	.handle = tg_username_handle,
};
