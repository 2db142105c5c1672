/* tmpl.h - the {{key}} templates of flow texts. */
#ifndef BLUEFLOW_TMPL_H
#define BLUEFLOW_TMPL_H

#include <stddef.h>

#include "engine/buf.h"

#define TMPL_KEY_MAX 64

/* Finds the next well-formed {{key}} (spaces inside the braces allowed;
 * key of letters, digits, '_' and '.'; {{state.key}} and {{context.key}}
 * give key itself) at or after s. Returns a pointer
 * to its "{{" and sets *key and *klen to the key and *end just past "}}";
 * returns NULL when there is none. */
const char *tmpl_next(const char *s, const char **key, size_t *klen,
	const char **end);

/* Names built into every chat, usable in any text: user.first_name,
 * user.last_name, user.username, user.id, user.language_code, chat.id,
 * start_param.
 * Returns 1 when key (klen bytes) is one of them. */
int tmpl_builtin(const char *key, size_t klen);

/* The built-in names above, NULL-terminated. */
const char *const *tmpl_builtins(void);

/* Appends text with each {{key}} replaced by lookup(arg, key, klen,
 * &raw), HTML-escaped when escape is non-zero and lookup did not set raw
 * (a value that is HTML already); a NULL lookup result renders empty.
 * A value that would fill b is cut (between characters, outside the
 * tags and entities of HTML, its open tags closed) so that the rest of
 * text's own words still fit. Returns 0, or -1 when memory runs out or
 * text's own words do not fit b. */
int tmpl_render(struct buf *b, const char *text, int escape,
	const char *(*lookup)(void *arg, const char *key, size_t klen, int *raw),
	void *arg);

#endif
