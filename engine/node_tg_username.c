/* node_tg_username.c - a Telegram @username, typed or shared with a
 * "choose a user" keyboard button. Saves the username in key_to_save and,
 * when the user was shared, the id in key_to_save + "_id". */
#include <stdio.h>

#include "engine/check.h"
#include "engine/jdoc.h"
#include "engine/node.h"

static const char *const tg_username_keys[] = {
	"type", "node_text", "key_to_save", "next", "request_button",
	"max_attempts", "on_max_attempts", "messages", NULL
};

static const char *const tg_username_reasons[] = { "bad_username", NULL };

struct tg_username_data {
	struct flow_text request_button;   /* n == 0: no button */
};

static int tg_username_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct tg_username_data *d = check_alloc(c, sizeof(*d));
	char kpath[JDOC_PATH_MAX], id_key[80];
	unsigned errors = c->errors;

	if (d == NULL)
		return -1;
	n->data = d;
	check_node_common(c, n, obj, path,
		"the node to go to after a good answer, e.g. \"next\": \"2\"",
		"the name the username is saved under, e.g. \"key_to_save\": \"contact\"");
	check_text(c, obj, "request_button", path, NULL, 64, &d->request_button);
	if (n->key) {
		jdoc_path(kpath, sizeof(kpath), path, "key_to_save");
		snprintf(id_key, sizeof(id_key), "%s_id", n->key);
		check_note_save(c, kpath, id_key);
	}
	return c->errors == errors ? 0 : -1;
}

const struct node_type node_tg_username = {
	.name = "tg_username",
	.waits = 1,
	.keys = tg_username_keys,
	.reasons = tg_username_reasons,
	.validate = tg_username_validate,
};
