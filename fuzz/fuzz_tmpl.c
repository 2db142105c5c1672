/* fuzz_tmpl.c - libFuzzer target: tmpl_render() of any text, with a
 * lookup that knows some keys (one of them raw HTML) and not others. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_lookup(void *arg, const char *key, size_t klen, int *raw)
{
	(void)arg;
	if (klen == 4 && memcmp(key, "name", 4) == 0)
		return "Ada <&> \"Lovelace\"";
	if (klen == 3 && memcmp(key, "bio", 3) == 0) {
		*raw = 1;
		return "<b>bold</b> &amp;";
	}
	if (tmpl_builtin(key, klen))
		return "{{name}}";   /* never rendered again */
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct buf b;

	if (text == NULL || size < 1) {
		free(text);
		return 0;
	}
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	buf_init(&b, (data[0] & 1) ? 64 : 1u << 20);   /* a small buffer too */
	tmpl_render(&b, text, data[0] & 2, fuzz_lookup, NULL);
	buf_free(&b);
	free(text);
	return 0;
}
