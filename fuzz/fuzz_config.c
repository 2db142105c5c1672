/* fuzz_config.c - libFuzzer target: config_load() of any file contents
 * (written to an in-memory file, read through its /proc/self/fd path). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/config.h"
#include "engine/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct config c;
	struct diag d;

	if (fd < 0) {
		fd = memfd_create("blueflow.conf", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	diag_init(&d);
	if (config_load(path, &c, &d) == 0)
		config_free(&c);
	diag_free(&d);
	return 0;
}
