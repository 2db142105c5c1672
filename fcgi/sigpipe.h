/* sigpipe.h - the self-pipe of a process's main loop: each signal it
 * catches becomes one byte (the signal's number) on a pipe the loop
 * polls, and sets a flag the loop tests. One per process: the
 * supervisor's, a worker's, the sender's. */
#ifndef BLUEFLOW_SIGPIPE_H
#define BLUEFLOW_SIGPIPE_H

#include <sys/types.h>

/* Makes the pipe (both ends non-blocking, closed on exec). Returns 0, or
 * -1 with errno set. */
int sigpipe_open(void);

/* From now on sig is caught: it writes to the pipe and sets the flag.
 * It is also unblocked, so one that arrived while blocked comes now. */
void sigpipe_catch(int sig);

/* sig gets its default action, or is ignored. */
void sigpipe_default(int sig);
void sigpipe_ignore(int sig);

/* The end to poll for reading. */
int sigpipe_fd(void);

/* Reads the numbers of the signals caught since the last call, at most
 * size of them. Returns how many (0 when none). */
ssize_t sigpipe_read(unsigned char *sigs, size_t size);

/* Whether a caught signal has arrived since sigpipe_open. */
int sigpipe_caught(void);

/* In a forked child: every caught signal back to its default action and
 * the pipe closed, before the child opens its own. */
void sigpipe_close(void);

#endif
