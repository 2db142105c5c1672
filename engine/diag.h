/* diag.h - a list of errors and warnings, each tied to a JSON path.
 *
 * The flow validator and the config loader report every problem they
 * find into one list, so an operator sees all of them in one run. */
#ifndef BLUEFLOW_DIAG_H
#define BLUEFLOW_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Error classes of `blueflow check` (DESIGN.md, "Flow files"). */
#define DIAG_SCHEMA "schema"
#define DIAG_UNKNOWN_TYPE "unknown-type"
#define DIAG_DANGLING "dangling-reference"
#define DIAG_NODE_SCHEMA "node-schema"
/* Warning classes. */
#define DIAG_UNREACHABLE "unreachable"
#define DIAG_TEMPLATE "template"
#define DIAG_CONDITION "condition"

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag_item {
	enum diag_level level;
	const char *cls;   /* one of the DIAG_ class names above (static) */
	char *path;        /* JSON pointer, "/" for the whole document */
	char *msg;
};

struct diag {
	struct diag_item *items;
	size_t n, cap;
	size_t errors, warnings;
	int oom;           /* an item was lost for want of memory */
};

/* Sets up an empty list. */
void diag_init(struct diag *d);

/* Appends an item; cls must be a static string. When memory runs out
 * the item is counted but dropped and d->oom is set. */
void diag_add(struct diag *d, enum diag_level level, const char *cls,
	const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void diag_vadd(struct diag *d, enum diag_level level, const char *cls,
	const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* Writes every error as "FILE: PATH: CLASS: message" and, when warnings
 * is non-zero, every warning as "FILE: PATH: warning: CLASS: message",
 * one per line, in the order they were added. */
void diag_print(const struct diag *d, FILE *f, const char *file, int warnings);

/* Frees the items; the list is empty and usable again. */
void diag_free(struct diag *d);

#endif
