/*
 * The outbox dispatcher: pushes pending shipments to --shipping-url (API.md "Shipping system"), signed, with the
 * shipment id as Idempotency-Key, a few at a time per process, retried with exponential backoff and jitter, given up as
 * dead letters after --shipping-max-attempts. Runs on one loop thread; its database work runs as jobs.
 */
#ifndef LIVEBUY_DISPATCHER_H
#define LIVEBUY_DISPATCHER_H

#include <stdint.h>
#include <uv.h>
#include "livebuy/base/config.h"

#define LB_DISPATCHER_BACKOFF_MAX_MS (5 * 60 * 1000)

/* Starts dispatching from loop (call on its thread, once, before other threads start; config must outlive it). */
void lb_dispatcher_start(uv_loop_t *loop, const lb_config_t *config);
/*
 * Stops on the same thread: no new claims or pushes; pushes in flight are abandoned and this process's claims let go
 * (in a database job the server waits for), so that another process, or the next start, sends them again.
 */
void lb_dispatcher_stop(void);

/*
 * The delay before the next push after attempts failed ones (attempts >= 1): first_ms, doubled per further attempt,
 * capped at LB_DISPATCHER_BACKOFF_MAX_MS, then spread by +-20% with random in [0, 1). Pure, for tests.
 */
uint64_t lb_dispatcher_backoff_ms(uint64_t first_ms, int64_t attempts, double random);

#endif
