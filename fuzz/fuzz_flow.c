/* fuzz_flow.c - libFuzzer target: flow_load_mem() (the loader and the
 * whole validator) on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "engine/diag.h"
#include "engine/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow *f = NULL;
	struct diag d;
	diag_init(&d);
	flow_load_mem("fuzz", (const char *)data, size, &f, &d);
	flow_free(f);
	diag_free(&d);
	return 0;
}
