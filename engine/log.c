/* log.c - JSON lines on stderr. */
#include "engine/log.h"

#include <math.h>
#include <pthread.h>
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

/* This process's id, looked up once and again in a forked child. */
static _Atomic long log_pid;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_forked(void)
{
	log_pid = 0;
}

static void log_watch_forks(void)
{
	pthread_atfork(NULL, NULL, log_forked);
}

static long log_getpid(void)
{
	long pid;
	pthread_once(&log_once, log_watch_forks);
	pid = log_pid;
	if (pid == 0) {
		pid = (long)getpid();
		log_pid = pid;
	}
	return pid;
}

/* Appends the decimal digits of v: the lines are built without printf,
 * a line for every update. */
static void log_digits(struct buf *b, long long v)
{
	char d[24], *p = d + sizeof(d);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(d + sizeof(d) - p));
}

/* Appends "YYYY-MM-DDTHH:MM:SS" for sec, formatted once a second. */
static void log_time(struct buf *b, time_t sec)
{
	static _Thread_local time_t last = (time_t)-1;
	static _Thread_local char ts[40];
	if (sec != last) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		last = sec;
	}
	buf_adds(b, ts);
}

void log_start(struct log_line *l, const char *level, const char *event)
{
	struct timeval tv;
	long ms;

	l->quiet = log_rank(level) < log_min;
	buf_init(&l->b, 16 * 1024);
	buf_reserve(&l->b, 384);
	gettimeofday(&tv, NULL);
	ms = (long)(tv.tv_usec / 1000);
	buf_adds(&l->b, "{\"ts\":\"");
	log_time(&l->b, tv.tv_sec);
	buf_addc(&l->b, '.');
	buf_addc(&l->b, (char)('0' + ms / 100));
	buf_addc(&l->b, (char)('0' + ms / 10 % 10));
	buf_addc(&l->b, (char)('0' + ms % 10));
	buf_adds(&l->b, "Z\",\"level\":\"");
	buf_adds(&l->b, level);
	buf_adds(&l->b, "\",\"pid\":");
	log_digits(&l->b, log_getpid());
	buf_adds(&l->b, ",\"event\":");
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
	buf_addc(&l->b, ':');
	log_digits(&l->b, value);
}

void log_num(struct log_line *l, const char *key, double value)
{
	double ths = value * 1000;
	long long n;

	buf_addc(&l->b, ',');
	jdoc_quote(&l->b, key, strlen(key));
	/* as "%.3f" would write it: whole thousandths, digit by digit, for
	 * what a duration is; printf for the rest */
	if (!(ths >= 0 && ths < 1e15)) {
		buf_addf(&l->b, ":%.3f", value);
		return;
	}
	n = llround(ths);
	buf_addc(&l->b, ':');
	log_digits(&l->b, n / 1000);
	buf_addc(&l->b, '.');
	buf_addc(&l->b, (char)('0' + n / 100 % 10));
	buf_addc(&l->b, (char)('0' + n / 10 % 10));
	buf_addc(&l->b, (char)('0' + n % 10));
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
