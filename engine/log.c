/* log.c - JSON lines on stderr. */
#include "engine/log.h"

#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine/jdoc.h"

static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static int log_min = 1;

/* The rank of level in log_levels; -1 when it is none of them. */
static int log_rank(const char *level)
{
	for (int i = 0; log_levels[i]; i++)
		if (strcmp(log_levels[i], level) == 0)
			return i;
	return -1;
}

int log_set_level(const char *level)
{
	int r = log_rank(level);
	if (r < 0)
		return -1;
	log_min = r;
	return 0;
}

void log_start(struct log_line *l, const char *level, const char *event)
{
	struct timeval tv;
	struct tm tm;
	char ts[40];

	l->quiet = log_rank(level) < log_min;
	buf_init(&l->b, 16 * 1024);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_addf(&l->b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"pid\":%ld,\"event\":",
		ts, (long)(tv.tv_usec / 1000), level, (long)getpid());
	jdoc_quote(&l->b, event, strlen(event));
}

void log_str(struct log_line *l, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_addc(&l->b, ',');
	jdoc_quote(&l->b, key, strlen(key));
	buf_addc(&l->b, ':');
	jdoc_quote(&l->b, value, strlen(value));
}

void log_int(struct log_line *l, const char *key, long long value)
{
	buf_addc(&l->b, ',');
	jdoc_quote(&l->b, key, strlen(key));
	buf_addf(&l->b, ":%lld", value);
}

void log_num(struct log_line *l, const char *key, double value)
{
	buf_addc(&l->b, ',');
	jdoc_quote(&l->b, key, strlen(key));
	buf_addf(&l->b, ":%.3f", value);
}

void log_end(struct log_line *l)
{
	ssize_t n;
	if (l->quiet || buf_adds(&l->b, "}\n") != 0) {
		buf_free(&l->b);
		return;
	}
	n = write(STDERR_FILENO, l->b.p, l->b.len);
	(void)n;
	buf_free(&l->b);
}

void log_msg(const char *level, const char *event, const char *msg)
{
	struct log_line l;
	log_start(&l, level, event);
	log_str(&l, "msg", msg);
	log_end(&l);
}
