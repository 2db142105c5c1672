/* fuzz_update.c - libFuzzer target: update_parse() on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "engine/update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct update u;
	char err[256];
	if (update_parse((const char *)data, size, &u, err, sizeof(err)) == 0)
		update_free(&u);
	return 0;
}
