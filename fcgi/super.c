/* super.c - the supervisor's state machine. */
#include "fcgi/super.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mono.h"
#include "fcgi/sender.h"
#include "fcgi/sigpipe.h"
#include "fcgi/worker.h"

#define SUPER_KIDS METRICS_WORKERS
#define SUPER_YOUNG 2.0          /* a child dying sooner died young */
#define SUPER_BACKOFF_MAX 30.0
#define SUPER_KILL_GRACE 3.0     /* after TERM, before KILL */

enum super_state { S_RUNNING, S_FINISHING, S_TERMINATING };
enum super_kind { K_WORKER, K_SENDER };

struct super_kid {
	pid_t pid;                   /* 0: free slot */
	enum super_kind kind;
	unsigned gen;
	double started;
	double respawn_at;           /* > 0: to be started again then */
	int young_deaths;
};

struct super {
	const char *conf;
	struct app *app;
	struct metrics *m;
	int listen_fd;
	int wake[2];                 /* workers -> sender: calls were queued */
	unsigned gen;
	int workers;
	enum super_state state;
	double deadline;
	struct super_kid kids[SUPER_KIDS];
};

static int super_signals(void)
{
	int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT };

	if (sigpipe_open() != 0)
		return -1;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigpipe_catch(sigs[i]);
	sigpipe_ignore(SIGPIPE);
	return 0;
}

/* In the child (SIGQUIT blocked until the child catches it): back to
 * default signals, the supervisor's descriptors closed, then the child's
 * own work. The child ends with the supervisor, whatever ends that: the
 * parent-death signal is SIGQUIT (finish what is in hand, then leave);
 * when parent has gone already, before the signal was set, it is sent
 * now. */
static void super_child(struct super *s, int slot, enum super_kind kind, pid_t parent)
{
	int code;

	prctl(PR_SET_PDEATHSIG, SIGQUIT);
	if (getppid() != parent)
		raise(SIGQUIT);
	sigpipe_close();
	if (kind == K_WORKER) {
		close(s->wake[0]);
		code = worker_run(s->app, s->m, slot, s->listen_fd, s->wake[1]);
	} else {
		close(s->wake[1]);
		close(s->listen_fd);   /* only the workers hold the port */
		code = sender_run(s->app, s->m, s->wake[0], 0);
	}
	_exit(code);
}

static int super_spawn(struct super *s, int slot, enum super_kind kind)
{
	struct super_kid *k = &s->kids[slot];
	pid_t parent = getpid(), pid;
	sigset_t quit, mask;

	sigemptyset(&quit);
	sigaddset(&quit, SIGQUIT);
	sigprocmask(SIG_BLOCK, &quit, &mask);
	pid = fork();
	if (pid == 0)
		super_child(s, slot, kind, parent);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (pid < 0) {
		log_msg("error", "fork", strerror(errno));
		k->respawn_at = mono_now() + 1;
		return -1;
	}
	k->pid = pid;
	k->kind = kind;
	k->gen = s->gen;
	k->started = mono_now();
	k->respawn_at = 0;
	return 0;
}

static int super_free_slot(struct super *s)
{
	for (int i = 0; i < SUPER_KIDS; i++)
		if (s->kids[i].pid == 0 && s->kids[i].respawn_at == 0)
			return i;
	return -1;
}

/* Starts a generation: the workers and one sender. */
static void super_generation(struct super *s)
{
	for (int n = 0; n <= s->workers; n++) {
		int slot = super_free_slot(s);
		if (slot < 0) {
			log_msg("error", "spawn", "no free worker slot");
			return;
		}
		s->kids[slot].young_deaths = 0;
		super_spawn(s, slot, n < s->workers ? K_WORKER : K_SENDER);
	}
}

static void super_signal_kids(struct super *s, int sig, int old_only)
{
	for (int i = 0; i < SUPER_KIDS; i++) {
		if (s->kids[i].pid > 0 && (!old_only || s->kids[i].gen != s->gen))
			kill(s->kids[i].pid, sig);
		if (!old_only)
			s->kids[i].respawn_at = 0;   /* nothing more is started */
	}
}

/* A child's end is news (warn) unless it exited 0 or a TERM or QUIT
 * ended it: a stop someone asked for (the supervisor's second signal, a
 * service manager or `kill -- -PGID` signalling every process). */
static void super_log_exit(const struct super_kid *k, int status)
{
	struct log_line l;
	int asked = WIFSIGNALED(status) &&
		(WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGQUIT);
	log_start(&l, (WIFEXITED(status) && WEXITSTATUS(status) == 0) || asked ?
		"info" : "warn", "child exit");
	log_int(&l, "child", k->pid);
	log_str(&l, "kind", k->kind == K_WORKER ? "worker" : "sender");
	log_int(&l, "generation", k->gen);
	if (WIFEXITED(status))
		log_int(&l, "code", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_str(&l, "signal", strsignal(WTERMSIG(status)));
	log_end(&l);
}

/* Buries dead children; those of the running generation come back, at
 * once or, when they keep dying young, after a growing pause. */
static void super_reap(struct super *s)
{
	int status;
	for (;;) {
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		for (int i = 0; i < SUPER_KIDS; i++) {
			struct super_kid *k = &s->kids[i];
			double lived, delay = 0;
			if (k->pid != pid)
				continue;
			super_log_exit(k, status);
			metrics_worker(s->m, i, MW_NONE);
			lived = mono_now() - k->started;
			k->pid = 0;
			if (k->gen != s->gen || s->state != S_RUNNING)
				break;
			metrics_add(&s->m->restarts);
			if (lived < SUPER_YOUNG) {
				k->young_deaths++;
				delay = 0.25 * (double)(1 << (k->young_deaths < 8 ? k->young_deaths : 8));
				if (delay > SUPER_BACKOFF_MAX)
					delay = SUPER_BACKOFF_MAX;
			} else {
				k->young_deaths = 0;
			}
			k->respawn_at = mono_now() + delay;
			break;
		}
	}
}

/* The new generation's flows kept as versions, and a rollback's served;
 * a store that fails leaves the flow files served (logged). */
static void super_versions(struct app *next)
{
	struct store *st = NULL;
	struct store_err e;
	int rc = store_open(next->config.db, &st, &e);

	if (rc == STORE_OK)
		rc = app_versions(next, st, &e);
	if (rc != STORE_OK)
		log_msg("warn", "reload", e.msg);
	store_close(st);
}

static void super_reload(struct super *s)
{
	struct app *next = NULL;
	struct diag d;
	struct log_line l;

	diag_init(&d);
	if (app_load(s->conf, &next, &d) != 0) {
		for (size_t i = 0; i < d.n; i++) {
			log_start(&l, "error", "reload refused");
			log_str(&l, "where", d.items[i].path);
			log_str(&l, "msg", d.items[i].msg);
			log_end(&l);
		}
		log_msg("warn", "reload", "the new config or a flow is invalid; "
			"still serving the previous ones");
		diag_free(&d);
		return;
	}
	diag_free(&d);
	super_versions(next);
	if (strcmp(next->config.listen, s->app->config.listen) != 0)
		log_msg("warn", "reload", "listen changed; it takes effect on restart");
	for (unsigned i = 0; i < next->n_bots; i++) {
		next->bots[i].metrics = metrics_bot(s->m, next->bots[i].cfg->name,
			next->bots[i].flow->hash_hex);
		metrics_flow(s->m, next->bots[i].metrics, next->bots[i].flow);
	}
	app_free(s->app);   /* the old generation has its own copy */
	s->app = next;
	s->gen++;
	super_generation(s);
	super_signal_kids(s, SIGQUIT, 1);
	metrics_add(&s->m->reloads);
	log_start(&l, "info", "reloaded");
	log_int(&l, "generation", s->gen);
	log_end(&l);
}

static void super_stop(struct super *s, int sig)
{
	if (s->state == S_RUNNING) {
		s->state = S_FINISHING;
		s->deadline = mono_now() + s->app->config.request_timeout + 2;
		/* no new connections from now on, in every process sharing the
		 * socket: nginx gets a refusal at connect time and tries the
		 * next host instead of a reset after sending the update */
		shutdown(s->listen_fd, SHUT_RDWR);
		super_signal_kids(s, SIGQUIT, 0);
		log_msg("info", "stopping", sig == SIGQUIT ? "SIGQUIT" : "finishing "
			"the requests in hand");
	} else if (s->state == S_FINISHING) {
		s->state = S_TERMINATING;
		s->deadline = mono_now() + SUPER_KILL_GRACE;
		super_signal_kids(s, SIGTERM, 0);
		log_msg("warn", "stopping", "stopping the children now");
	}
}

static int super_alive(const struct super *s)
{
	for (int i = 0; i < SUPER_KIDS; i++)
		if (s->kids[i].pid > 0)
			return 1;
	return 0;
}

static void super_tick(struct super *s)
{
	double now = mono_now();

	if (s->state == S_RUNNING) {
		for (int i = 0; i < SUPER_KIDS; i++) {
			struct super_kid *k = &s->kids[i];
			if (k->pid == 0 && k->respawn_at > 0 && k->respawn_at <= now)
				super_spawn(s, i, k->kind);
		}
	} else if (now >= s->deadline) {
		if (s->state == S_FINISHING) {
			super_stop(s, SIGTERM);
		} else {
			super_signal_kids(s, SIGKILL, 0);
			s->deadline = now + SUPER_KILL_GRACE;
		}
	}
}

int super_run(const char *conf, struct app *app, struct metrics *m, int listen_fd)
{
	struct super *s = calloc(1, sizeof(*s));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct log_line l;

	if (s == NULL || super_signals() != 0) {
		free(s);
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, s->wake) != 0) {
		free(s);
		return 1;
	}
	fcntl(s->wake[1], F_SETFL, O_NONBLOCK);
	s->conf = conf;
	s->app = app;
	s->m = m;
	s->listen_fd = listen_fd;
	s->workers = app->config.workers ? app->config.workers : (int)(2 * (cores > 0 ? cores : 1));
	if (s->workers > SUPER_KIDS / 2 - 1)
		s->workers = SUPER_KIDS / 2 - 1;
	for (unsigned i = 0; i < app->n_bots; i++) {
		app->bots[i].metrics = metrics_bot(m, app->bots[i].cfg->name,
			app->bots[i].flow->hash_hex);
		metrics_flow(m, app->bots[i].metrics, app->bots[i].flow);
	}
	super_generation(s);
	log_start(&l, "info", "serving");
	log_str(&l, "listen", app->config.listen);
	log_int(&l, "workers", s->workers);
	log_int(&l, "bots", app->n_bots);
	log_end(&l);
	while (s->state == S_RUNNING || super_alive(s)) {
		struct pollfd p = { sigpipe_fd(), POLLIN, 0 };
		unsigned char sigs[64];
		ssize_t n;

		poll(&p, 1, 200);
		n = sigpipe_read(sigs, sizeof(sigs));
		for (ssize_t i = 0; i < n; i++) {
			if (sigs[i] == SIGCHLD)
				super_reap(s);
			else if (sigs[i] == SIGHUP && s->state == S_RUNNING)
				super_reload(s);
			else if (sigs[i] == SIGTERM || sigs[i] == SIGINT || sigs[i] == SIGQUIT)
				super_stop(s, sigs[i]);
		}
		super_reap(s);
		super_tick(s);
	}
	log_msg("info", "stopped", "every child has finished");
	close(s->wake[0]);
	close(s->wake[1]);
	app_free(s->app);
	free(s);
	return 0;
}
