/* cmd_serve.c - `blueflow serve`: validates everything, prepares the
 * store, opens the listening socket and runs the pool. Started by a web
 * server with a listening socket on fd 0 (mod_fcgid, spawn-fcgi) it is
 * one worker; run as plain CGI it answers one request and exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/log.h"
#include "engine/metrics.h"
#include "engine/store.h"
#include "fcgi/app.h"
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
		"                 background, writing pid_file if the config names one,\n"
		"                 and print the pid and where the log goes)\n\n"
		"Run by a web server instead: with a listening socket on fd 0 (Apache\n"
		"mod_fcgid, spawn-fcgi) it serves as one worker; as plain CGI\n"
		"(GATEWAY_INTERFACE set) it answers one request and exits.\n");
}

/* Migrates, checks the key and keeps the flows' versions once, before
 * anything serves. */
static int serve_store(struct app *app)
{
	struct store *s = NULL;
	struct store_err e;
	int applied = 0, rc = store_open(app->config.db, &s, &e);

	if (rc == STORE_OK)
		rc = s->ops->migrate(s, 0, &applied, &e);
	if (rc == STORE_OK)
		rc = store_use_key(s, app->have_key ? &app->key : NULL, &e);
	if (rc == STORE_OK)
		rc = app_versions(app, s, &e);
	if (rc != STORE_OK)
		fprintf(stderr, "blueflow serve: %s\n", e.msg);
	store_close(s);
	return rc;
}

/* The folder path is in ("." for a bare name). */
static void serve_dirname(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(out, size, ".");
	else if (slash == path)
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(slash - path), path);
}

/* A SQLite file this user cannot write opens read-only: serve would start
 * and then fail every update. SQLite also keeps PATH-wal and PATH-shm
 * beside it. A file that does not exist yet is store_open's to create. */
static int serve_db_writable(const char *db)
{
	char dir[PATH_MAX], wal[PATH_MAX], shm[PATH_MAX];
	const char *path;

	if (strncmp(db, "sqlite:", 7) != 0)
		return 0;
	path = db + 7;
	if (access(path, F_OK) != 0)
		return 0;
	if (access(path, R_OK | W_OK) != 0) {
		fprintf(stderr, "blueflow serve: db = %s: the file is not writable by "
			"this user (uid %u): %s; chown it to the user blueflow runs as, "
			"or run blueflow as its owner\n", db, (unsigned)getuid(),
			strerror(errno));
		return -1;
	}
	serve_dirname(path, dir, sizeof(dir));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	if ((access(wal, W_OK) != 0 || access(shm, W_OK) != 0) &&
	    access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "blueflow serve: db = %s: its folder %s is not "
			"writable by this user (uid %u): %s; SQLite keeps its -wal and "
			"-shm files there: chown the folder to the user blueflow runs as\n",
			db, dir, (unsigned)getuid(), strerror(errno));
		return -1;
	}
	return 0;
}

/* Makes the attachments folder (0700) when it is missing, and checks this
 * user may write there: better refused now than every upload failing. */
static int serve_storage(const char *dir)
{
	char parent[PATH_MAX];
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int saved = errno;
		serve_dirname(dir, parent, sizeof(parent));
		fprintf(stderr, "blueflow serve: storage = %s: cannot create the "
			"attachments folder: %s; %s%s%s\n", dir, strerror(saved),
			saved == ENOENT ? "create its parent first (mkdir -p " :
			saved == ENOTDIR ? "a part of that path is a file, not a folder: "
			"point storage at a folder" : "create it and chown it to the user "
			"blueflow runs as, or point storage at a folder that user may write",
			saved == ENOENT ? parent : "",
			saved == ENOENT ? "), or point storage at another folder" : "");
		return -1;
	}
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "blueflow serve: storage = %s: is a file, not a "
			"folder; point storage at a folder for the attachments (it is "
			"created if missing)\n", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "blueflow serve: storage = %s: the attachments folder "
			"is not writable by this user (uid %u): %s; chown it to the user "
			"blueflow runs as, or point storage at a folder that user may "
			"write\n", dir, (unsigned)getuid(), strerror(errno));
		return -1;
	}
	return 0;
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

/* The process pid_file names, when it still runs; else 0. */
static long serve_pid_running(const char *path)
{
	char buf[32] = "";
	long pid;
	FILE *f = path ? fopen(path, "r") : NULL;

	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	pid = strtol(buf, NULL, 10);
	if (pid <= 0 || pid == (long)getpid() ||
	    (kill((pid_t)pid, 0) != 0 && errno != EPERM))
		return 0;
	return pid;
}

/* Where the log (stderr) goes, in words. */
static void serve_log_where(char *out, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/fd/2", path, sizeof(path) - 1);

	if (n > 0)
		path[n] = '\0';
	if (isatty(STDERR_FILENO))
		snprintf(out, len, "this terminal (redirect stderr to keep it, e.g. "
			"2>>blueflow.log)");
	else if (n > 0 && strcmp(path, "/dev/null") == 0)
		snprintf(out, len, "/dev/null: lost (redirect stderr to keep it, e.g. "
			"2>>blueflow.log)");
	else if (n > 0 && path[0] == '/')
		snprintf(out, len, "%s", path);
	else
		snprintf(out, len, "stderr (%s)", n > 0 ? path : "?");
}

/* Goes to the background; the parent says where to, then exits 0. */
static int serve_daemon(const char *pid_file)
{
	char where[PATH_MAX + 64];
	pid_t pid;
	int fd;

	serve_log_where(where, sizeof(where));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		printf("blueflow serve: running in the background, pid %ld\n"
			"  log:   %s\n"
			"  stop:  kill %ld (%s%s%s)\n", (long)pid, where, (long)pid,
			pid_file ? "pid_file " : "set pid_file in [server] to keep the "
			"pid in a file", pid_file ? pid_file : "",
			pid_file ? " holds the pid" : "");
		fflush(stdout);
		_exit(0);
	}
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
	char err[1024];
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
	if (cli_app(conf, &app) != 0) {
		fprintf(stderr, "blueflow serve: nothing served: fix the above first\n");
		return CMD_FAIL;
	}
	m = metrics_create();
	rc = serve_db_writable(app->config.db);
	if (serve_storage(app->config.storage) != 0)
		rc = -1;
	if (m == NULL || rc != 0 || serve_store(app) != STORE_OK) {
		app_free(app);
		metrics_destroy(m);
		return CMD_FAIL;
	}
	if (worker_is_listener(STDIN_FILENO)) {
		for (unsigned i = 0; i < app->n_bots; i++) {
			app->bots[i].metrics = metrics_bot(m, app->bots[i].cfg->name,
				app->bots[i].flow->hash_hex);
			metrics_flow(m, app->bots[i].metrics, app->bots[i].flow);
		}
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
		long running = serve_pid_running(app->config.pid_file);
		fprintf(stderr, "blueflow serve: %s\n", err);
		if (running)
			fprintf(stderr, "blueflow serve: pid_file %s: process %ld still "
				"runs, a blueflow serve started earlier? stop it: kill %ld\n",
				app->config.pid_file, running, running);
		app_free(app);
		metrics_destroy(m);
		return CMD_FAIL;
	}
	if (!foreground && serve_daemon(app->config.pid_file) != 0) {
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
