/* diag.c - collecting and printing validation problems. */
#include "engine/diag.h"

#include <stdlib.h>
#include <string.h>

#define DIAG_MSG_MAX 2048

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_vadd(struct diag *d, enum diag_level level, const char *cls,
	const char *path, const char *fmt, va_list ap)
{
	char buf[DIAG_MSG_MAX];
	struct diag_item *it;

	if (level == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag_item *items = realloc(d->items, cap * sizeof(*items));
		if (items == NULL) {
			d->oom = 1;
			return;
		}
		d->items = items;
		d->cap = cap;
	}
	vsnprintf(buf, sizeof(buf), fmt, ap);
	it = &d->items[d->n];
	it->level = level;
	it->cls = cls;
	it->path = strdup(path[0] ? path : "/");
	it->msg = strdup(buf);
	if (it->path == NULL || it->msg == NULL) {
		free(it->path);
		free(it->msg);
		d->oom = 1;
		return;
	}
	d->n++;
}

void diag_add(struct diag *d, enum diag_level level, const char *cls,
	const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, level, cls, path, fmt, ap);
	va_end(ap);
}

void diag_print(const struct diag *d, FILE *f, const char *file, int warnings)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_item *it = &d->items[i];
		if (it->level == DIAG_WARNING && !warnings)
			continue;
		fprintf(f, "%s: %s: %s%s: %s\n", file, it->path,
			it->level == DIAG_WARNING ? "warning: " : "", it->cls, it->msg);
	}
	if (d->oom)
		fprintf(f, "%s: /: out of memory: some problems were not listed\n", file);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].path);
		free(d->items[i].msg);
	}
	free(d->items);
	diag_init(d);
}
