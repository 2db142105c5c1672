/* listen.h - the pool's listening socket: a unix socket path (with its
 * mode and owner) or host:port. It outlives worker generations. */
#ifndef BLUEFLOW_LISTEN_H
#define BLUEFLOW_LISTEN_H

#include <stddef.h>

#include "engine/config.h"

/* Opens, binds and listens (non-blocking, so workers can share it).
 * Returns the fd, or -1 with the problem and its fix in err: the path
 * taken by a running server, a folder that does not exist, a port below
 * 1024 without privileges... */
int listen_open(const struct config *c, char *err, size_t errlen);

/* Removes a unix socket's path at shutdown; nothing for host:port. */
void listen_close(const struct config *c, int fd);

#endif
