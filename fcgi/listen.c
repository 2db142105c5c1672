/* listen.c - opening the listening socket. */
#include "fcgi/listen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

static int listen_owner(const char *path, const char *owner, char *err, size_t errlen)
{
	char user[128];
	const char *colon = strchr(owner, ':');
	struct passwd *pw;
	gid_t gid = (gid_t)-1;

	snprintf(user, sizeof(user), "%.*s", (int)(colon ? (size_t)(colon - owner) :
		strlen(owner)), owner);
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "listen_owner: no user \"%s\"", user);
		return -1;
	}
	if (colon) {
		struct group *gr = getgrnam(colon + 1);
		if (gr == NULL) {
			snprintf(err, errlen, "listen_owner: no group \"%s\"", colon + 1);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (chown(path, pw->pw_uid, gid) != 0) {
		snprintf(err, errlen, "listen_owner: cannot chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

#define LISTEN_HOLDERS 3         /* processes named in a "taken" message */

/* The inode of the listening TCP socket on port (IPv4 or IPv6), from
 * /proc/net; 0 when none is found. */
static unsigned long listen_tcp_inode(unsigned port)
{
	const char *tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned long found = 0;

	for (size_t t = 0; t < 2 && found == 0; t++) {
		char line[512];
		FILE *f = fopen(tables[t], "r");
		if (f == NULL)
			continue;
		while (found == 0 && fgets(line, sizeof(line), f)) {
			unsigned p, st;
			unsigned long inode;
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%X %*[0-9A-Fa-f]:%*X %X "
			    "%*X:%*X %*X:%*X %*X %*u %*u %lu", &p, &st, &inode) == 3 &&
			    p == port && st == 0x0A)
				found = inode;
		}
		fclose(f);
	}
	return found;
}

/* The inode of the unix socket bound to path, from /proc/net/unix; 0 when
 * none is found. */
static unsigned long listen_unix_inode(const char *path)
{
	char line[512], bound[PATH_MAX];
	unsigned long inode, found = 0;
	FILE *f = fopen("/proc/net/unix", "r");

	if (f == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*X %*X %*X %*X %*X %lu %4095s", &inode, bound) == 2 &&
		    strcmp(bound, path) == 0)
			found = inode;
	fclose(f);
	return found;
}

/* Whether process pid has socket inode open. */
static int listen_holds(const char *pid, const char *want)
{
	char path[300], link[64];
	struct dirent *e;
	DIR *fds;
	int yes = 0;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	fds = opendir(path);
	if (fds == NULL)
		return 0;   /* gone, or another user's */
	while (!yes && (e = readdir(fds)) != NULL) {
		ssize_t n;
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			yes = strcmp(link, want) == 0;
		}
	}
	closedir(fds);
	return yes;
}

/* Appends "process PID (its command line)" to out. */
static void listen_name_process(const char *pid, char *out, size_t size)
{
	char path[300], cmd[80] = "";
	size_t n = 0, len = strlen(out);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	while (n > 0 && cmd[n - 1] == ' ')
		cmd[--n] = '\0';
	snprintf(out + len, size - len, "%sprocess %s%s%s%s", len ? ", " : "", pid,
		n ? " (" : "", cmd, n ? ")" : "");
}

/* Says which processes hold socket inode: "; it is held by process 1234
 * (blueflow serve -c ...), ...: a blueflow serve still running, or what
 * is left of one? stop it: kill 1234 ..." appended to err; nothing when
 * none is seen. */
static void listen_holders(unsigned long inode, char *err, size_t errlen)
{
	char want[64], names[512] = "", pids[64] = "";
	struct dirent *e;
	DIR *proc = inode ? opendir("/proc") : NULL;
	int n = 0;

	if (proc == NULL)
		return;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (n < LISTEN_HOLDERS && (e = readdir(proc)) != NULL) {
		size_t len = strlen(pids);
		if (strspn(e->d_name, "0123456789") != strlen(e->d_name) ||
		    strtol(e->d_name, NULL, 10) == (long)getpid() ||
		    !listen_holds(e->d_name, want))
			continue;
		listen_name_process(e->d_name, names, sizeof(names));
		snprintf(pids + len, sizeof(pids) - len, " %s", e->d_name);
		n++;
	}
	closedir(proc);
	if (n > 0) {
		size_t len = strlen(err);
		snprintf(err + len, errlen - len, "; it is held by %s: a blueflow serve "
			"still running, or what is left of one? stop it: kill%s", names, pids);
	}
}

static int listen_unix(const struct config *c, char *err, size_t errlen)
{
	const char *path = strncmp(c->listen, "unix:", 5) == 0 ? c->listen + 5 : c->listen;
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "listen = %s: a socket path may have at most %zu "
			"bytes", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "listen = %s: another server is already "
			"listening there; stop it, or choose another path", path);
		listen_holders(listen_unix_inode(path), err, errlen);
		close(fd);
		return -1;
	}
	unlink(path);   /* a stale socket from a server that died */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, errlen, "listen = %s: cannot bind: %s%s", path, strerror(errno),
			errno == ENOENT ? " (create its folder first, e.g. "
			"mkdir -p /run/blueflow)" : errno == EACCES ? " (the folder is not "
			"writable by this user)" : "");
		close(fd);
		return -1;
	}
	if (chmod(path, (mode_t)c->listen_mode) != 0 ||
	    (c->listen_owner && listen_owner(path, c->listen_owner, err, errlen) != 0)) {
		if (err[0] == '\0')
			snprintf(err, errlen, "listen = %s: chmod: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int listen_tcp(const struct config *c, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(c->listen, ':');
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, rc;

	if (colon == NULL) {
		snprintf(err, errlen, "listen = %s: use a socket path, or host:port "
			"such as 127.0.0.1:9000", c->listen);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - c->listen), c->listen);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "listen = %s: %s", c->listen, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		int saved = errno;
		long port = strtol(colon + 1, NULL, 10);
		snprintf(err, errlen, "listen = %s: cannot bind: %s%s", c->listen,
			strerror(saved), saved == EACCES && port < 1024 ? " (ports below "
			"1024 need root or CAP_NET_BIND_SERVICE; let nginx take 443 and "
			"listen on a unix socket or a high port behind it)" :
			saved == EADDRINUSE ? " (another program uses that port)" : "");
		if (saved == EADDRINUSE)
			listen_holders(listen_tcp_inode((unsigned)port), err, errlen);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int listen_open(const struct config *c, char *err, size_t errlen)
{
	int fd, flags;

	err[0] = '\0';
	fd = config_listen_is_path(c->listen) ? listen_unix(c, err, errlen) :
		listen_tcp(c, err, errlen);
	if (fd < 0)
		return -1;
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "listen = %s: %s", c->listen, strerror(errno));
		close(fd);
		return -1;
	}
	/* workers poll it and accept() must not block the losers */
	flags = fcntl(fd, F_GETFL, 0);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	return fd;
}

void listen_close(const struct config *c, int fd)
{
	if (fd >= 0)
		close(fd);
	if (config_listen_is_path(c->listen))
		unlink(strncmp(c->listen, "unix:", 5) == 0 ? c->listen + 5 : c->listen);
}
