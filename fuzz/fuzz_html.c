/* fuzz_html.c - libFuzzer target: html_check(), html_text_len() and
 * html_escape() on any text; html_from_entities() when the input is
 * "TEXT\0ENTITIES-JSON". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "engine/buf.h"
#include "engine/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), why[256];
	const char *nul;
	struct buf b;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	html_check(text, why, sizeof(why));
	html_text_len(text);
	buf_init(&b, 1u << 20);
	html_escape(&b, text, size);
	nul = memchr(data, '\0', size);
	if (nul) {
		size_t tlen = (size_t)(nul - (const char *)data);
		json_tokener *tok = json_tokener_new_ex(32);
		json_object *ents = tok ? json_tokener_parse_ex(tok, nul + 1,
			(int)(size - tlen - 1)) : NULL;
		buf_reset(&b);
		html_from_entities(&b, text, ents);
		json_object_put(ents);
		if (tok)
			json_tokener_free(tok);
	}
	buf_free(&b);
	free(text);
	return 0;
}
