/* mono.h - the monotonic clock, for deadlines and durations. */
#ifndef BLUEFLOW_MONO_H
#define BLUEFLOW_MONO_H

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. */
double mono_now(void);

#endif
