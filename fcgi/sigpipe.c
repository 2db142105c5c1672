/* sigpipe.c - the self-pipe of a process's main loop. */
#include "fcgi/sigpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int sigpipe_ends[2] = { -1, -1 };
static volatile sig_atomic_t sigpipe_flag;
static sigset_t sigpipe_caught_set;   /* what sigpipe_close gives back */

static void sigpipe_on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;
	ssize_t n;
	sigpipe_flag = 1;
	n = write(sigpipe_ends[1], &c, 1);
	(void)n;
	errno = saved;
}

static void sigpipe_set(int sig, void (*handler)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, NULL);
}

int sigpipe_open(void)
{
	if (pipe(sigpipe_ends) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(sigpipe_ends[i], F_SETFL, fcntl(sigpipe_ends[i], F_GETFL) | O_NONBLOCK);
		fcntl(sigpipe_ends[i], F_SETFD, FD_CLOEXEC);
	}
	sigpipe_flag = 0;
	sigemptyset(&sigpipe_caught_set);
	return 0;
}

void sigpipe_catch(int sig)
{
	sigset_t one;
	sigpipe_set(sig, sigpipe_on_signal);
	sigaddset(&sigpipe_caught_set, sig);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
}

void sigpipe_default(int sig)
{
	sigpipe_set(sig, SIG_DFL);
}

void sigpipe_ignore(int sig)
{
	sigpipe_set(sig, SIG_IGN);
}

int sigpipe_fd(void)
{
	return sigpipe_ends[0];
}

ssize_t sigpipe_read(unsigned char *sigs, size_t size)
{
	ssize_t n = read(sigpipe_ends[0], sigs, size);
	return n > 0 ? n : 0;
}

int sigpipe_caught(void)
{
	return sigpipe_flag;
}

void sigpipe_close(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&sigpipe_caught_set, sig) == 1)
			sigpipe_default(sig);
	sigemptyset(&sigpipe_caught_set);
	for (int i = 0; i < 2; i++) {
		if (sigpipe_ends[i] >= 0)
			close(sigpipe_ends[i]);
		sigpipe_ends[i] = -1;
	}
}
