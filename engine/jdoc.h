/* jdoc.h - reading JSON documents safely: bounded size and depth, strict
 * syntax, positions in words, JSON pointers and a canonical form for
 * hashing. json-c does the parsing. */
#ifndef BLUEFLOW_JDOC_H
#define BLUEFLOW_JDOC_H

#include <json-c/json.h>
#include <stddef.h>

#include "engine/buf.h"

#define JDOC_ERR_MAX 512
#define JDOC_PATH_MAX 512

/* Reads a whole regular file of at most max bytes into out (which must be
 * initialised with a maximum of at least max). Returns 0, or -1 with a
 * message in err: cannot open, a directory, too big, empty. */
int jdoc_read_file(const char *file, size_t max, struct buf *out,
	char *err, size_t errlen);

/* Parses len bytes as one strict JSON value nested at most max_depth
 * deep, rejecting invalid UTF-8, trailing text and duplicate object keys.
 * Returns 0 and a new reference in *out (the caller puts it), or -1 with
 * a message naming the line and column in err, and the JSON pointer of
 * the problem (or "/") in path. */
int jdoc_parse(const char *text, size_t len, int max_depth, json_object **out,
	char *err, size_t errlen, char *path, size_t pathlen);

/* Appends the canonical serialization of o (object keys sorted bytewise,
 * no white space) to b. Returns 0, or -1 when b is full. */
int jdoc_canon(const json_object *o, struct buf *b);

/* Appends s to b as a JSON string literal with quotes. Returns 0 or -1. */
int jdoc_quote(struct buf *b, const char *s, size_t len);

/* Writes base + "/" + key (key escaped as RFC 6901 says) into out,
 * truncated to size. */
void jdoc_path(char *out, size_t size, const char *base, const char *key);

/* Names a json-c type in words: "a string", "an object", ... */
const char *jdoc_type_name(const json_object *o);

#endif
