/* arena.h - a bump allocator whose blocks are all freed at once.
 *
 * Ownership: everything handed out by arena_alloc() and arena_strdup()
 * belongs to the arena and lives until arena_free(); callers never free
 * it themselves. An arena is not thread-safe. */
#ifndef BLUEFLOW_ARENA_H
#define BLUEFLOW_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used;      /* bytes taken in head */
	size_t total;     /* bytes taken in all blocks */
};

/* Sets up an empty arena; it allocates nothing until first used. */
void arena_init(struct arena *a);

/* Returns n zeroed bytes aligned for any type; NULL when memory runs out. */
void *arena_alloc(struct arena *a, size_t n);

/* Copies len bytes of s and a terminating NUL; NULL when memory runs out. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Copies the C string s; NULL when memory runs out. */
char *arena_strdup(struct arena *a, const char *s);

/* Frees every block; the arena is empty and usable again afterwards. */
void arena_free(struct arena *a);

#endif
