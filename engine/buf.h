/* buf.h - a growable byte buffer born with its maximum size.
 *
 * The contents are always NUL-terminated (the NUL is not counted in len).
 * The buffer owns its memory; buf_free() releases it. */
#ifndef BLUEFLOW_BUF_H
#define BLUEFLOW_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;   /* len never exceeds this */
};

/* Sets up an empty buffer that will refuse to grow past max bytes. */
void buf_init(struct buf *b, size_t max);

/* Appends len bytes. Returns 0, or -1 (buffer unchanged) when the result
 * would pass the maximum or memory runs out. */
int buf_add(struct buf *b, const void *data, size_t len);

/* Makes room for n more bytes, so that adding them allocates nothing.
 * Returns 0, or -1 as buf_add(). */
int buf_reserve(struct buf *b, size_t n);

/* Appends a C string; as buf_add(). */
int buf_adds(struct buf *b, const char *s);

/* Appends one byte; as buf_add(). */
int buf_addc(struct buf *b, char c);

/* Appends printf-style output; as buf_add(). */
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Empties the buffer and keeps its memory for reuse. */
void buf_reset(struct buf *b);

/* Releases the memory; the buffer is empty afterwards. */
void buf_free(struct buf *b);

#endif
