/* cmd_serve.c - `blueflow serve`: validates everything, prepares the
 * store, opens the listening socket and runs the pool. Started by a web
 * server with a listening socket on fd 0 (mod_fcgid, spawn-fcgi) it is
 * one worker; run as plain CGI it answers one request and exits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/diag.h"
#include "engine/log.h"
#include "engine/metrics.h"
#include "engine/store.h"
#include "fcgi/app.h"
#include "fcgi/cmd.h"
#include "fcgi/listen.h"
#include "fcgi/super.h"
#include "fcgi/worker.h"

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: blueflow serve [-c blueflow.conf] [--foreground]\n\n"
		"Checks the config and every flow (exit 1 with the errors), brings the\n"
		"store's schema up to date, checks the encryption key, opens [server]\n"
		"listen and runs the pool: `workers` FastCGI workers and one sender.\n"
		"SIGHUP reloads (a broken config or flow is refused and the running\n"
		"ones keep serving), SIGTERM or SIGINT stop after the requests in hand\n"
		"(a second one stops at once). Logs are JSON lines on stderr.\n\n"
		"  -c FILE        the config (default $BLUEFLOW_CONF, else ./blueflow.conf)\n"
		"  --foreground   stay attached to the terminal (default: run in the\n"
		"                 background, writing pid_file if the config names one)\n\n"
		"Run by a web server instead: with a listening socket on fd 0 (Apache\n"
		"mod_fcgid, spawn-fcgi) it serves as one worker; as plain CGI\n"
		"(GATEWAY_INTERFACE set) it answers one request and exits.\n");
}

/* Migrates and checks the key once, before anything serves. */
static int serve_store(struct app *app)
{
	struct store *s = NULL;
	struct store_err e;
	int applied = 0, rc = store_open(app->config.db, &s, &e);

	if (rc == STORE_OK)
		rc = s->ops->migrate(s, 0, &applied, &e);
	if (rc == STORE_OK)
		rc = store_use_key(s, app->have_key ? &app->key : NULL, &e);
	if (rc != STORE_OK)
		fprintf(stderr, "blueflow serve: %s\n", e.msg);
	store_close(s);
	return rc;
}

static int serve_pid_file(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), n;
	if (fd < 0) {
		fprintf(stderr, "blueflow serve: pid_file %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int serve_daemon(void)
{
	pid_t pid = fork();
	int fd;
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	const char *conf = config_path(&argc, argv);
	struct app *app = NULL;
	struct metrics *m;
	struct diag d;
	char err[512];
	int foreground = 0, listen_fd, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--foreground") == 0 || strcmp(argv[i], "-f") == 0) {
			foreground = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			serve_usage(stdout);
			return CMD_OK;
		} else {
			serve_usage(stderr);
			return CMD_USAGE;
		}
	}
	if (conf == NULL) {
		serve_usage(stderr);
		return CMD_USAGE;
	}
	diag_init(&d);
	if (app_load(conf, &app, &d) != 0) {
		diag_print(&d, stderr, conf, 0);
		fprintf(stderr, "blueflow serve: nothing served: fix the above first\n");
		diag_free(&d);
		return CMD_FAIL;
	}
	diag_free(&d);
	m = metrics_create();
	if (m == NULL || serve_store(app) != STORE_OK) {
		app_free(app);
		metrics_destroy(m);
		return CMD_FAIL;
	}
	if (worker_is_listener(STDIN_FILENO)) {
		for (unsigned i = 0; i < app->n_bots; i++)
			app->bots[i].metrics = metrics_bot(m, app->bots[i].cfg->name,
				app->bots[i].flow->hash_hex);
		rc = worker_run(app, m, 0, STDIN_FILENO, -1);
		app_free(app);
		return rc;
	}
	if (getenv("GATEWAY_INTERFACE")) {
		rc = worker_cgi(app, m);
		app_free(app);
		return rc;
	}
	listen_fd = listen_open(&app->config, err, sizeof(err));
	if (listen_fd < 0) {
		fprintf(stderr, "blueflow serve: %s\n", err);
		app_free(app);
		metrics_destroy(m);
		return CMD_FAIL;
	}
	if (!foreground && serve_daemon() != 0) {
		fprintf(stderr, "blueflow serve: cannot run in the background: %s\n",
			strerror(errno));
		return CMD_FAIL;
	}
	if (app->config.pid_file && serve_pid_file(app->config.pid_file) != 0)
		return CMD_FAIL;
	{
		struct config keep = { 0 };
		keep.listen = strdup(app->config.listen);
		keep.pid_file = app->config.pid_file ? strdup(app->config.pid_file) : NULL;
		rc = super_run(conf, app, m, listen_fd);   /* owns app from here */
		listen_close(&keep, listen_fd);
		if (keep.pid_file)
			unlink(keep.pid_file);
		config_free(&keep);
	}
	metrics_destroy(m);
	return rc;
}
