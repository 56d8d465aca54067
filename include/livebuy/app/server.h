/* The HTTP side of livebuyd: h2o contexts on libuv loops, one per thread, listeners, TLS, a clean stop on a signal. */
#ifndef LIVEBUY_SERVER_H
#define LIVEBUY_SERVER_H

#include <stddef.h>
#include "livebuy/base/config.h"

/*
 * Listens, serves until SIGTERM or SIGINT, then stops accepting, lets database jobs in flight finish (up to a few
 * seconds) and closes the database. Returns the process exit code: 0 after a clean stop, 2 when it cannot start (the
 * reason is printed on one line).
 */
int lb_server_run(const lb_config_t *config);
/* What gives freed memory back to the system (the allocator's purge), called on a loop thread after its clients let go
 * of answers, thorough once they are gone (livebuy/http/connections.h); before lb_server_run. */
void lb_server_set_memory_purge(void (*purge)(int clients_gone));

#endif
