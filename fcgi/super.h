/* super.h - the supervisor of `blueflow serve`, in the manner of
 * php-fpm: forks the workers and the sender, buries and replaces those
 * that die (backing off when they die young), reloads on SIGHUP (a new
 * generation only when the new config and flows are valid; the old one
 * finishes its requests and leaves), stops gracefully on SIGTERM/SIGINT
 * (a second one, or a timeout, escalates to TERM then KILL). Signals
 * reach the main loop through a self-pipe. */
#ifndef BLUEFLOW_SUPER_H
#define BLUEFLOW_SUPER_H

#include "engine/metrics.h"
#include "fcgi/app.h"

/* Runs the pool until it is stopped. app (owned from now on) is the first
 * generation, loaded from conf; listen_fd the listening socket. Returns
 * the process exit code. */
int super_run(const char *conf, struct app *app, struct metrics *m, int listen_fd);

#endif
