/* regex.c - bounded PCRE2 matching. One match context per process,
 * made on first use (workers are single-threaded). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine/regex.h"

#include <pcre2.h>

static pcre2_match_context *regex_ctx;

int regex_match(const void *code, const char *s, size_t len)
{
	pcre2_match_data *md;
	int rc;

	if (regex_ctx == NULL) {
		regex_ctx = pcre2_match_context_create(NULL);
		if (regex_ctx == NULL)
			return -1;
		pcre2_set_match_limit(regex_ctx, REGEX_MATCH_LIMIT);
		pcre2_set_depth_limit(regex_ctx, REGEX_DEPTH_LIMIT);
		pcre2_set_heap_limit(regex_ctx, 4096);   /* KiB */
	}
	md = pcre2_match_data_create_from_pattern(code, NULL);
	if (md == NULL)
		return -1;
	rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, md, regex_ctx);
	pcre2_match_data_free(md);
	return rc >= 0 ? 1 : 0;
}
