/* worker.h - a worker process: accepts FastCGI requests on the shared
 * listening socket and serves them one at a time until told to stop. */
#ifndef BLUEFLOW_WORKER_H
#define BLUEFLOW_WORKER_H

#include "engine/metrics.h"
#include "fcgi/app.h"

/* Serves requests on listen_fd (non-blocking, shared with the other
 * workers) until SIGQUIT (finish the request in hand, then return) or
 * SIGTERM (at once). slot is this worker's metrics slot; wake_fd (or -1)
 * is where to tell the sender that calls were queued. Returns the
 * process exit code. */
int worker_run(struct app *app, struct metrics *m, int slot, int listen_fd,
	int wake_fd);

/* Serves one plain CGI request from the environment and stdin. */
int worker_cgi(struct app *app, struct metrics *m);

/* Whether fd is a listening socket (a web server started us with one). */
int worker_is_listener(int fd);

#endif
