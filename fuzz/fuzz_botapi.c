/* fuzz_botapi.c - libFuzzer target: botapi_parse() and botapi_verdict()
 * on any answer body, the first two bytes choosing the HTTP status. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/botapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 401, 403, 404, 409, 429, 500, 502, 0 };
	struct botapi_answer a;
	long http = size ? statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))] : 200;

	memset(&a, 0, sizeof(a));
	if (size) {
		data++;
		size--;
	}
	botapi_parse(&a, http, (const char *)data, size);
	botapi_verdict(&a);
	botapi_answer_free(&a);
	return 0;
}
