/* worker.c - the FastCGI accept loop, and plain CGI. */
#include "fcgi/worker.h"

#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/log.h"
#include "fcgi/sigpipe.h"
#include "fcgi/webhook.h"

static const char *fcgx_param(void *arg, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

static int fcgx_read(void *arg, char *buf, int n)
{
	return FCGX_GetStr(buf, n, ((FCGX_Request *)arg)->in);
}

static int fcgx_write(void *arg, const char *buf, int n)
{
	return FCGX_PutStr(buf, n, ((FCGX_Request *)arg)->out) == n ? 0 : -1;
}

int worker_is_listener(int fd)
{
	int yes = 0;
	socklen_t len = sizeof(yes);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &yes, &len) == 0 && yes;
}

static int worker_signals(void)
{
	if (sigpipe_open() != 0)
		return -1;
	sigpipe_catch(SIGQUIT);
	sigpipe_default(SIGTERM);
	sigpipe_default(SIGALRM);   /* request_timeout: the supervisor replaces us */
	sigpipe_default(SIGCHLD);
	sigpipe_ignore(SIGINT);     /* Ctrl-C reaches the supervisor, which stops us */
	sigpipe_ignore(SIGHUP);
	sigpipe_ignore(SIGPIPE);
	return 0;
}

int worker_run(struct app *app, struct metrics *m, int slot, int listen_fd,
	int wake_fd)
{
	struct http_io io = { fcgx_param, fcgx_read, fcgx_write, NULL };
	struct webhook w;
	FCGX_Request req;
	pid_t parent = getppid();

	/* FCGX_Init() installs its own SIGTERM handler; ours come after it */
	if (FCGX_Init() != 0 || worker_signals() != 0 ||
	    FCGX_InitRequest(&req, listen_fd, 0) != 0) {
		log_msg("error", "worker", "cannot set up the worker");
		return 1;
	}
	io.arg = &req;
	webhook_init(&w, app, m);
	w.wake_fd = wake_fd;
	metrics_worker(m, slot, MW_IDLE);
	/* until told to stop, or the supervisor is gone */
	while (!sigpipe_caught() && getppid() == parent) {
		struct pollfd p[2] = {
			{ listen_fd, POLLIN, 0 }, { sigpipe_fd(), POLLIN, 0 }
		};
		if (poll(p, 2, 1000) <= 0 || sigpipe_caught())
			continue;
		if (!(p[0].revents & POLLIN) || FCGX_Accept_r(&req) < 0)
			continue;   /* another worker took it */
		metrics_worker(m, slot, MW_BUSY);
		alarm((unsigned)app->config.request_timeout);
		webhook_serve(&w, &io);
		FCGX_Finish_r(&req);
		alarm(0);
		metrics_worker(m, slot, MW_IDLE);
	}
	metrics_worker(m, slot, MW_NONE);
	webhook_free(&w);
	FCGX_Free(&req, 1);
	return 0;
}

static const char *cgi_param(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

static int cgi_read(void *arg, char *buf, int n)
{
	(void)arg;
	return (int)fread(buf, 1, (size_t)n, stdin);
}

static int cgi_write(void *arg, const char *buf, int n)
{
	(void)arg;
	return fwrite(buf, 1, (size_t)n, stdout) == (size_t)n ? 0 : -1;
}

int worker_cgi(struct app *app, struct metrics *m)
{
	struct http_io io = { cgi_param, cgi_read, cgi_write, NULL };
	struct webhook w;

	webhook_init(&w, app, m);
	w.wake_fd = -1;
	alarm((unsigned)app->config.request_timeout);
	webhook_serve(&w, &io);
	alarm(0);
	fflush(stdout);
	webhook_free(&w);
	return 0;
}
