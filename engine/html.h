/* html.h - Telegram HTML: escaping text, and turning a message's
 * formatting entities into HTML. */
#ifndef BLUEFLOW_HTML_H
#define BLUEFLOW_HTML_H

#include <json-c/json.h>
#include <stddef.h>

#include "engine/buf.h"

/* Appends len bytes of s with <, > and & escaped. Returns 0 or -1. */
int html_escape(struct buf *b, const char *s, size_t len);

/* Appends text with its MessageEntity array (UTF-16 offsets, as Telegram
 * sends them) rendered as Telegram HTML: bold, italic, underline,
 * strikethrough, spoiler, code, pre (with language), text_link,
 * text_mention, blockquote, custom_emoji; other entities stay plain.
 * Entities out of range or malformed are skipped. Returns 0 or -1 when b
 * is full. */
int html_from_entities(struct buf *b, const char *text, json_object *entities);

/* Length of the text Telegram shows for html, in UTF-16 units (as
 * Telegram counts): tags are not counted, an entity counts as one. */
size_t html_text_len(const char *html);

/* Bytes of the first characters of s (len bytes) that take at most room
 * bytes, HTML-escaped when escape is non-zero; cut between UTF-8
 * characters. */
size_t html_fit(const char *s, size_t len, int escape, size_t room);

/* Appends html (Telegram HTML, tags closed in order) to b, cut when it
 * would show more than max_units UTF-16 units (as html_text_len) or take
 * more than max_bytes bytes: between characters, never inside a tag or
 * an entity, then tail (when cut) and the closing tags of those open
 * there, all within both limits. Returns 0 or -1 when b is full. */
int html_cut(struct buf *b, const char *html, size_t max_units, size_t max_bytes,
	const char *tail);

/* Cuts the HTML in b as html_cut() to max_units with tail when it shows
 * more. Returns 0 or -1 when memory runs out. */
int html_shorten(struct buf *b, size_t max_units, const char *tail);

/* Checks that text is Telegram HTML: only the tags Telegram accepts (b,
 * strong, i, em, u, ins, s, strike, del, tg-spoiler, span
 * class="tg-spoiler", a, code, pre, blockquote, tg-emoji), each closed in
 * order, and '&' only in entities. Returns 0, or -1 with the reason in
 * why. */
int html_check(const char *text, char *why, size_t whylen);

#endif
