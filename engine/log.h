/* log.h - one JSON object per line on stderr: ts, level, pid, event and
 * the fields a caller adds. A line is built in a buffer and written with
 * one write(), so lines from several processes never mix. Never pass a
 * token, a secret or a Bot API URL. */
#ifndef BLUEFLOW_LOG_H
#define BLUEFLOW_LOG_H

#include "engine/buf.h"

struct log_line {
	struct buf b;
	int quiet;                 /* below the level set: not written */
};

/* Sets the least level written: "debug", "info" (the default), "warn" or
 * "error". Returns 0, or -1 (nothing changed) for another name. */
int log_set_level(const char *level);

/* Starts a line: {"ts":..., "level":..., "pid":..., "event":...}. */
void log_start(struct log_line *l, const char *level, const char *event);

void log_str(struct log_line *l, const char *key, const char *value);
void log_int(struct log_line *l, const char *key, long long value);
void log_num(struct log_line *l, const char *key, double value);

/* Ends the line, writes it to stderr and frees the buffer. */
void log_end(struct log_line *l);

/* A line with one message field, for the common case. */
void log_msg(const char *level, const char *event, const char *msg);

#endif
