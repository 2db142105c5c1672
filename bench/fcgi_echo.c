/* fcgi_echo.c - the transport ceiling's responder for bench/run: WORKERS
 * forked libfcgi processes on one listening socket, each reading a request's
 * whole body and answering a fixed 200 with an empty JSON body, as blueflow
 * does for an update answered through the outbox. Nothing else: no parsing,
 * no store. Usage: fcgi_echo SOCKET WORKERS SECONDS (SOCKET a path, or
 * :PORT for TCP on every address; use a path). Prints "ready" once
 * listening; exits after SECONDS or on SIGTERM, stopping its workers. */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ECHO_WORKERS_MAX 256

static const char echo_answer[] = "Status: 200 OK\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 0\r\n\r\n";

static volatile sig_atomic_t echo_stop;

static void echo_on_term(int sig)
{
	(void)sig;
	echo_stop = 1;
}

/* One worker: answers requests until killed or SECONDS pass. */
static void echo_worker(int fd, unsigned seconds)
{
	FCGX_Request req;
	char buf[8192];

	signal(SIGTERM, SIG_DFL);
	alarm(seconds);
	if (FCGX_InitRequest(&req, fd, 0) != 0)
		_exit(1);
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
			;
		FCGX_PutStr(echo_answer, (int)sizeof(echo_answer) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	pid_t kids[ECHO_WORKERS_MAX];
	struct sigaction sa;
	char *end;
	long workers, seconds;
	int fd, n = 0;

	if (argc != 4) {
		fputs("usage: fcgi_echo SOCKET WORKERS SECONDS\n", stderr);
		return 2;
	}
	workers = strtol(argv[2], &end, 10);
	if (*end || workers < 1 || workers > ECHO_WORKERS_MAX) {
		fprintf(stderr, "fcgi_echo: WORKERS is 1 to %d\n", ECHO_WORKERS_MAX);
		return 2;
	}
	seconds = strtol(argv[3], &end, 10);
	if (*end || seconds < 1 || seconds > 86400) {
		fputs("fcgi_echo: SECONDS is 1 to 86400\n", stderr);
		return 2;
	}
	if (FCGX_Init() != 0) {
		fputs("fcgi_echo: FCGX_Init failed\n", stderr);
		return 1;
	}
	fd = FCGX_OpenSocket(argv[1], 1024);
	if (fd < 0) {
		fprintf(stderr, "fcgi_echo: cannot listen on %s\n", argv[1]);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = echo_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (; n < workers; n++) {
		kids[n] = fork();
		if (kids[n] < 0) {
			perror("fcgi_echo: fork");
			break;
		}
		if (kids[n] == 0)
			echo_worker(fd, (unsigned)seconds);
	}
	printf("ready\n");
	fflush(stdout);
	alarm((unsigned)seconds);
	while (!echo_stop && n > 0)
		pause();
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGTERM);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	if (argv[1][0] != ':')
		unlink(argv[1]);
	return 0;
}
