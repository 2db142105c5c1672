/* step.c - what node types use while the engine steps a chat (step.h):
 * the step's list of calls, sending, rendering texts, saving values. */
#include "engine/step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/html.h"
#include "engine/node.h"
#include "engine/media.h"
#include "engine/tmpl.h"


void step_out_init(struct step_out *o)
{
	memset(o, 0, sizeof(*o));
}

void step_out_free(struct step_out *o)
{
	for (unsigned i = 0; i < o->n_calls; i++)
		json_object_put(o->calls[i].params);
	free(o->calls);
	step_out_init(o);
}

int step_out_add(struct step_out *o, const char *method, json_object *params)
{
	if (params == NULL)
		return -1;
	if (o->n_calls == o->cap_calls) {
		unsigned cap = o->cap_calls ? o->cap_calls * 2 : 4;
		struct engine_call *calls = realloc(o->calls, cap * sizeof(*calls));
		if (calls == NULL) {
			json_object_put(params);
			return -1;
		}
		o->calls = calls;
		o->cap_calls = cap;
	}
	o->calls[o->n_calls].method = method;
	o->calls[o->n_calls].params = params;
	o->calls[o->n_calls].chat_id = 0;
	o->n_calls++;
	return 0;
}

const char *step_value(struct step *s, const char *key, char *tmp, size_t tmplen)
{
	const struct update_user *from = &s->u->from;
	json_object *v;

	if (strncmp(key, "user.", 5) == 0) {
		const char *f = key + 5;
		if (strcmp(f, "first_name") == 0)
			return from->first_name;
		if (strcmp(f, "last_name") == 0)
			return from->last_name;
		if (strcmp(f, "username") == 0)
			return from->username;
		if (strcmp(f, "language_code") == 0)
			return from->language_code;
		if (strcmp(f, "id") == 0 && from->id) {
			snprintf(tmp, tmplen, "%lld", from->id);
			return tmp;
		}
		return NULL;
	}
	if (strcmp(key, "chat.id") == 0) {
		snprintf(tmp, tmplen, "%lld", s->chat->chat_id);
		return tmp;
	}
	if (json_object_object_get_ex(s->chat->ctx, key, &v))
		return json_object_get_string(v);
	return NULL;
}

struct step_lookup_arg {
	struct step *s;
	char tmp[32];
	char key[TMPL_KEY_MAX + 1];
	struct buf label;            /* a {{key.label}} value */
};

/* {{key.label}}: the label of the value saved under key, from a node
 * that saves key and knows its labels; NULL when there is none. */
static const char *step_label(struct step_lookup_arg *a)
{
	const struct flow *f = a->s->flow;
	size_t base = strlen(a->key) - 6;
	const char *value;
	json_object *v;

	a->key[base] = '\0';
	value = json_object_object_get_ex(a->s->chat->ctx, a->key, &v) ?
		json_object_get_string(v) : NULL;
	for (unsigned i = 0; value && i < f->n_nodes; i++) {
		const struct flow_node *n = &f->nodes[i];
		if (n->type->label == NULL || n->key == NULL || strcmp(n->key, a->key) != 0)
			continue;
		buf_reset(&a->label);
		if (n->type->label(a->s, n, value, &a->label) == 1)
			return a->label.p ? a->label.p : "";
	}
	return NULL;
}

static const char *step_lookup(void *arg, const char *key, size_t klen, int *raw)
{
	struct step_lookup_arg *a = arg;
	memcpy(a->key, key, klen);
	a->key[klen] = '\0';
	*raw = flow_html_key(a->s->flow, a->key);
	if (klen > 6 && strcmp(a->key + klen - 6, ".label") == 0)
		return step_label(a);
	return step_value(a->s, a->key, a->tmp, sizeof(a->tmp));
}

/* The variant of t for the user's language: exact, then the language
 * without its region, then the default. */
unsigned step_variant(const struct step *s, const struct flow_text *t)
{
	const char *lang = s->lang;
	size_t base = strcspn(lang, "-_");
	if (t->n == 1 || lang[0] == '\0')
		return t->def;
	for (unsigned i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].lang, lang) == 0)
			return i;
	for (unsigned i = 0; i < t->n; i++)
		if (strlen(t->v[i].lang) == base && strncasecmp(t->v[i].lang, lang, base) == 0)
			return i;
	return t->def;
}

const char *step_text(const struct step *s, const struct flow_text *t)
{
	return t->v[step_variant(s, t)].text;
}

/* Renders text into out, escaped or not. */
static int step_render_to(struct step *s, const char *text, int escape,
	struct buf *out)
{
	struct step_lookup_arg a = { .s = s };
	int rc;

	buf_init(&a.label, FLOW_TEXT_MAX * 4);
	rc = tmpl_render(out, text, escape, step_lookup, &a);
	buf_free(&a.label);
	return rc;
}

int step_render(struct step *s, const struct flow_text *t)
{
	buf_reset(&s->text);
	if (t->n == 0)
		return 0;
	if (step_render_to(s, step_text(s, t), 1, &s->text) != 0)
		return -1;
	/* long saved values: Telegram refuses a message over its limit */
	return html_shorten(&s->text, FLOW_TEXT_MAX, "…");
}

int step_render_plain(struct step *s, const struct flow_text *t, struct buf *out)
{
	buf_reset(out);
	if (t->n == 0)
		return 0;
	return step_render_to(s, step_text(s, t), 0, out);
}

int step_show(struct step *s, const struct flow_node *n, json_object *markup)
{
	if (n->media)
		return media_send(s, n->media, &n->text, markup);
	return step_send(s, &n->text, markup);
}

int step_prompt(struct step *s, const struct flow_node *n, json_object *markup)
{
	if (step_back_button(s, n, &markup) != 0)
		return NODE_FAIL;
	return step_show(s, n, markup) ? NODE_FAIL : NODE_WAIT;
}

int step_back_label(struct step *s, struct buf *out)
{
	const struct flow_text *t = step_override(s->flow->msgs, s->flow->n_msgs,
		"back_button");
	if (t)
		return step_render_plain(s, t, out);
	buf_reset(out);
	return buf_adds(out, "⬅ Back");
}

/* Appends a row of the one button btn to the keyboard kind of markup
 * (creating it). Takes btn. Returns 0 or -1. */
static int step_add_row(json_object *markup, const char *kind, json_object *btn)
{
	json_object *rows = NULL, *row = json_object_new_array();

	if (row == NULL || btn == NULL || json_object_array_add(row, btn) != 0) {
		json_object_put(row);
		json_object_put(btn);
		return -1;
	}
	if (!json_object_object_get_ex(markup, kind, &rows)) {
		rows = json_object_new_array();
		if (rows == NULL || json_object_object_add(markup, kind, rows) != 0) {
			json_object_put(rows);
			json_object_put(row);
			return -1;
		}
	}
	if (json_object_array_add(rows, row) != 0) {
		json_object_put(row);
		return -1;
	}
	return 0;
}

int step_back_button(struct step *s, const struct flow_node *n, json_object **markup)
{
	json_object *btn;
	struct buf label;
	char data[FLOW_ID_MAX + 2];
	int reply, rc = -1;

	if (!n->back)
		return 0;
	buf_init(&label, 4096);
	if (*markup == NULL)
		*markup = json_object_new_object();
	btn = json_object_new_object();
	if (*markup == NULL || btn == NULL || step_back_label(s, &label) != 0)
		goto out;
	reply = json_object_object_get_ex(*markup, "keyboard", NULL);
	json_object_object_add(btn, "text", json_object_new_string(label.p ? label.p : ""));
	if (!reply) {
		snprintf(data, sizeof(data), "%s|" STEP_BACK_DATA, n->id);
		json_object_object_add(btn, "callback_data", json_object_new_string(data));
	}
	rc = step_add_row(*markup, reply ? "keyboard" : "inline_keyboard", btn);
	btn = NULL;
out:
	json_object_put(btn);
	buf_free(&label);
	if (rc != 0) {
		json_object_put(*markup);
		*markup = NULL;
	}
	return rc;
}

int step_remove_keyboard(struct step *s)
{
	json_object *p, *markup, *rows;

	if (s->u->message_id == 0)
		return 0;   /* a sender that left out the message id: nothing to edit */
	p = step_params(s);
	markup = json_object_new_object();
	rows = json_object_new_array();
	if (p == NULL || markup == NULL || rows == NULL) {
		json_object_put(p);
		json_object_put(markup);
		json_object_put(rows);
		return -1;
	}
	json_object_object_add(p, "message_id", json_object_new_int64(s->u->message_id));
	json_object_object_add(markup, "inline_keyboard", rows);
	json_object_object_add(p, "reply_markup", markup);
	return step_call(s, "editMessageReplyMarkup", p);
}

int step_fetch(struct step *s, const struct flow_node *n, const char *kind,
	const struct update_file *file, unsigned long max_bytes)
{
	const struct attach_ops *a = s->env->attach;
	char path[ENGINE_PATH_MAX], why[160] = "no attachment store";
	struct attach_req req = {
		.chat_id = s->chat->chat_id, .update_id = s->u->update_id,
		.node_id = n->id, .key = n->key, .kind = kind, .file = file, .max_bytes = max_bytes,
		.why = why, .whylen = sizeof(why),
	};
	char msg[160];
	int rc = a ? a->fetch(a->arg, &req, path, sizeof(path)) : ATTACH_FAILED;

	if (rc == 0)
		return step_kept(s, n, n->key ? step_save(s, n->key, path, strlen(path)) : 0,
			n->next);
	snprintf(s->out->warning, sizeof(s->out->warning), "%s %s: %s", kind,
		rc == ATTACH_FAILED ? "download failed" : "refused", why);
	if (rc == ATTACH_TOO_BIG) {
		snprintf(msg, sizeof(msg), "That file is too big: the limit is %g MB.",
			(double)max_bytes / (1024 * 1024));
		rc = step_reason(s, n, "too_big", msg, NULL);
	} else if (rc == ATTACH_TOO_MANY) {
		rc = step_reason(s, n, "too_many_files", "You have sent as many files as "
			"this bot keeps.", NULL);
	} else if (rc == ATTACH_FULL) {
		rc = step_reason(s, n, "storage_full", "This bot cannot keep more files "
			"just now; please try again later.", NULL);
	} else if (rc == ATTACH_WRONG_TYPE && strcmp(kind, "voice") == 0) {
		rc = step_reason(s, n, "not_voice", "Please send a voice message.", NULL);
	} else if (rc == ATTACH_WRONG_TYPE) {
		snprintf(msg, sizeof(msg), "That file is not a real %s file; please "
			"send it again.", file->mime_type ? file->mime_type : "document");
		rc = step_reason(s, n, "wrong_type", msg, NULL);
	} else {
		rc = step_reason(s, n, "upload_failed", "Upload failed, try again.", NULL);
	}
	return rc ? NODE_FAIL : NODE_STAY;
}

json_object *step_params(struct step *s)
{
	json_object *p = json_object_new_object();
	if (p && json_object_object_add(p, "chat_id",
	    json_object_new_int64(s->chat->chat_id)) != 0) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

int step_call(struct step *s, const char *method, json_object *params)
{
	return step_out_add(s->out, method, params);
}

json_object *step_markup(struct step *s, json_object *markup)
{
	if (markup == NULL && s->chat->keyboard) {
		markup = json_object_new_object();
		if (markup)
			json_object_object_add(markup, "remove_keyboard",
				json_object_new_boolean(1));
		s->chat->keyboard = 0;
	}
	return markup;
}

static int step_send_html(struct step *s, const char *html, size_t len,
	json_object *markup)
{
	json_object *p = step_params(s);
	if (p == NULL) {
		json_object_put(markup);
		return -1;
	}
	markup = step_markup(s, markup);
	json_object_object_add(p, "text", json_object_new_string_len(html, (int)len));
	json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
	if (markup)
		json_object_object_add(p, "reply_markup", markup);
	return step_call(s, "sendMessage", p);
}

int step_send(struct step *s, const struct flow_text *t, json_object *markup)
{
	if (step_render(s, t) != 0) {
		json_object_put(markup);
		return -1;
	}
	return step_send_html(s, s->text.p ? s->text.p : "", s->text.len, markup);
}

const struct flow_text *step_override(const struct flow_msg *msgs,
	unsigned n, const char *reason)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(msgs[i].reason, reason) == 0)
			return &msgs[i].text;
	return NULL;
}

int step_reason(struct step *s, const struct flow_node *n, const char *reason,
	const char *fallback, json_object *markup)
{
	const struct flow_text *t = NULL;
	snprintf(s->out->refused, sizeof(s->out->refused), "%s", reason);
	if (n)
		t = step_override(n->msgs, n->n_msgs, reason);
	if (t == NULL)
		t = step_override(s->flow->msgs, s->flow->n_msgs, reason);
	if (t)
		return step_send(s, t, markup);
	return step_send_html(s, fallback, strlen(fallback), markup);
}

static size_t step_ctx_size(json_object *ctx)
{
	size_t n = 2;
	json_object_object_foreach(ctx, k, v)
		n += strlen(k) + (size_t)json_object_get_string_len(v) + 6;
	return n;
}

int step_save(struct step *s, const char *key, const char *value, size_t len)
{
	json_object *old = NULL, *v;
	size_t size = step_ctx_size(s->chat->ctx) + strlen(key) + len + 6;

	if (json_object_object_get_ex(s->chat->ctx, key, &old))
		size -= strlen(key) + (size_t)json_object_get_string_len(old) + 6;
	if (size > ENGINE_CONTEXT_MAX) {
		snprintf(s->out->warning, sizeof(s->out->warning), "context full: "
			"saving \"%s\" (%zu bytes) would pass %d bytes; not saved",
			key, len, ENGINE_CONTEXT_MAX);
		return STEP_FULL;
	}
	v = json_object_new_string_len(value, (int)len);
	if (v == NULL || json_object_object_add(s->chat->ctx, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int step_kept(struct step *s, const struct flow_node *n, int rc, int next)
{
	if (rc < 0)
		return NODE_FAIL;
	if (rc == 0)
		return next;
	return step_reason(s, n, "context_full", "That answer is too long to "
		"keep. Please send a shorter one.", NULL) ? NODE_FAIL : NODE_STAY;
}
