/*
 * The outboxes' backlogs for /metrics: every 2 s, on one loop thread, a database job counts the pending shipments and
 * refunds. It runs whether or not a dispatcher pushes them (without --shipping-url nothing is pushed and the backlog
 * grows), and apart from the outboxes' claims (which stop while all their slots are busy).
 */
#ifndef LIVEBUY_BACKLOGS_H
#define LIVEBUY_BACKLOGS_H

#include <uv.h>

/* Starts counting on loop (call on its thread, once). */
void lb_backlogs_start(uv_loop_t *loop);
/* Stops on the same thread; a count in flight finishes as a database job (the server waits for those). */
void lb_backlogs_stop(void);

#endif
