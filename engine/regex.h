/* regex.h - matching the PCRE2 patterns of a flow with limits, so that
 * no input can make a match spin. */
#ifndef BLUEFLOW_REGEX_H
#define BLUEFLOW_REGEX_H

#include <stddef.h>

#define REGEX_MATCH_LIMIT 100000
#define REGEX_DEPTH_LIMIT 1000

/* Matches len bytes of s against code (a pcre2_code compiled by the flow
 * loader to match the whole input). Returns 1 on a match, 0 when there is
 * none or a limit was hit, -1 when memory runs out. */
int regex_match(const void *code, const char *s, size_t len);

#endif
