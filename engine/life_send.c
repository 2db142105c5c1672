/* life_send.c - the sender's side of the life cycle (life_send.h). */
#include "engine/life_send.h"

#include <stdio.h>
#include <string.h>

/* The string member key of m into out ("" when there is none). */
static void life_send_str(json_object *m, const char *key, char *out, size_t len)
{
	json_object *v;
	snprintf(out, len, "%s", json_object_object_get_ex(m, key, &v) &&
		json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
}

/* Whether the markup of p may go with an edit: none, or an inline
 * keyboard (a reply keyboard comes only with a new message). */
static int life_send_editable(json_object *p)
{
	json_object *markup;
	if (!json_object_object_get_ex(p, "reply_markup", &markup))
		return 1;
	return json_object_object_get_ex(markup, "inline_keyboard", NULL);
}

int life_send_prepare(struct store *s, const char *bot, long long chat_id,
	const char **method, json_object *p, struct life_send *l, struct store_err *e)
{
	int no_edit = l->no_edit, found = 0, rc;
	json_object *m, *ids;

	memset(l, 0, sizeof(*l));
	l->no_edit = no_edit;
	if (!json_object_object_get_ex(p, LIFE_KEY, &m))
		return STORE_OK;
	json_object_get(m);
	json_object_object_del(p, LIFE_KEY);
	l->keep = json_object_object_get_ex(m, "keep", NULL);
	l->delete = json_object_object_get_ex(m, "delete", NULL);
	life_send_str(m, "keep", l->life, sizeof(l->life));
	life_send_str(m, l->delete ? "delete" : "node", l->node, sizeof(l->node));
	life_send_str(m, "tag", l->tag, sizeof(l->tag));
	l->member = json_object_object_get_ex(m, "member", &ids) ?
		json_object_get_int64(ids) : 0;
	json_object_put(m);
	if (l->delete) {
		rc = store_sent_ids(s, bot, chat_id, l->member, l->node, l->ids, LIFE_IDS_MAX,
			&l->n_ids, e);
		if (rc)
			return rc;
		l->skip = l->n_ids == 0;
		ids = json_object_new_array();
		for (int i = 0; ids && i < l->n_ids; i++)
			json_object_array_add(ids, json_object_new_int64(l->ids[i]));
		json_object_object_add(p, "message_ids", ids);
		return STORE_OK;
	}
	if (l->no_edit || l->tag[0] == '\0' || strcmp(*method, "sendMessage") != 0 ||
	    !life_send_editable(p))
		return STORE_OK;
	rc = store_sent_tagged(s, bot, chat_id, l->member, l->tag, &l->edit_id, &found, e);
	if (rc || !found)
		return rc;
	json_object_object_add(p, "message_id", json_object_new_int64(l->edit_id));
	*method = "editMessageText";
	return STORE_OK;
}

int life_send_done(struct store *s, const char *bot, long long chat_id,
	const struct life_send *l, json_object *result, struct store_err *e)
{
	json_object *id;
	int rc = STORE_OK;

	if (l->delete) {
		for (int i = 0; rc == STORE_OK && i < l->n_ids; i++)
			rc = store_sent_drop(s, bot, chat_id, l->ids[i], e);
		return rc;
	}
	if (!l->keep || l->edit_id > 0 || !json_object_object_get_ex(result,
	    "message_id", &id))
		return STORE_OK;
	return store_sent_put(s, bot, chat_id, l->member, json_object_get_int64(id),
		l->node, l->life, l->tag[0] ? l->tag : NULL, e);
}

int life_send_refused(struct store *s, const char *bot, long long chat_id,
	struct life_send *l, long http, struct store_err *e)
{
	if (l->edit_id <= 0 || http != 400)
		return 0;
	l->no_edit = 1;
	return store_sent_drop(s, bot, chat_id, l->edit_id, e) == STORE_OK ? 1 : -1;
}
