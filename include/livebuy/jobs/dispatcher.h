/*
 * The shipping outbox: pushes pending shipments to --shipping-url (API.md "Shipping system"), signed, with the shipment
 * id as Idempotency-Key, through the outbox engine (livebuy/jobs/outbox.h): retried with exponential backoff and jitter,
 * given up as dead letters after --shipping-max-attempts. An acknowledged push hands the shipment's orders off.
 */
#ifndef LIVEBUY_DISPATCHER_H
#define LIVEBUY_DISPATCHER_H

#include <uv.h>
#include "livebuy/base/config.h"

/* Starts dispatching from loop (call on its thread, once, before other threads start; config must outlive it). */
void lb_dispatcher_start(uv_loop_t *loop, const lb_config_t *config);
/* Stops on the same thread (lb_outbox_stop: pushes in flight abandoned, this process's claims let go). */
void lb_dispatcher_stop(void);

#endif
