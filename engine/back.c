/* back.c - the chat's path of waiting nodes for the Back button (back.h). */
#include "engine/back.h"

#include <string.h>

/* The path as a new JSON array (empty when there is none or it is
 * broken); NULL when memory runs out. */
static json_object *back_read(struct step *s)
{
	json_object *v, *path = NULL;

	if (json_object_object_get_ex(s->chat->ctx, STEP_PATH_KEY, &v))
		path = json_tokener_parse(json_object_get_string(v));
	if (path && json_object_get_type(path) == json_type_array)
		return path;
	json_object_put(path);
	return json_object_new_array();
}

/* Saves path (and puts it). Returns 0 or -1. */
static int back_write(struct step *s, json_object *path)
{
	const char *text = json_object_to_json_string_ext(path,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = text ? step_save(s, STEP_PATH_KEY, text, strlen(text)) : -1;
	json_object_put(path);
	return rc;
}

static const char *back_at(json_object *path, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(path, i));
}

int back_push(struct step *s, const char *id)
{
	json_object *path = back_read(s);
	size_t n;

	if (path == NULL)
		return -1;
	n = json_object_array_length(path);
	if (n > 0 && strcmp(back_at(path, n - 1), id) == 0) {
		json_object_put(path);
		return 0;
	}
	if (json_object_array_add(path, json_object_new_string(id)) != 0) {
		json_object_put(path);
		return -1;
	}
	if (n + 1 > STEP_PATH_MAX)
		json_object_array_del_idx(path, 0, n + 1 - STEP_PATH_MAX);
	return back_write(s, path);
}

int back_pop(struct step *s, const char *cur)
{
	json_object *path = back_read(s);
	size_t n;
	int to = -1;

	if (path == NULL)
		return NODE_FAIL;
	n = json_object_array_length(path);
	while (n > 0 && strcmp(back_at(path, n - 1), cur) == 0)
		n--;
	while (n > 0 && to < 0)
		to = flow_find(s->flow, back_at(path, --n));
	json_object_array_del_idx(path, n, json_object_array_length(path) - n);
	if (back_write(s, path) != 0)
		return NODE_FAIL;
	return to;
}
