/*
 * The refund outbox: pushes pending refunds to --refund-url (docs/payments.md "The refund push") through the outbox
 * engine (livebuy/jobs/outbox.h), in the shape --payment-provider speaks: generic (JSON, HMAC-signed under
 * --payment-secret, Idempotency-Key refund-ID) or wechatpay (the API v3 refund request, signed with the merchant key).
 * The provider's answer moves the refund: taken (sent), done already (confirmed as a notification would,
 * lb_refund_confirm), refused for good (failed), or retried with backoff and jitter until --refund-max-attempts (dead).
 */
#ifndef LIVEBUY_JOBS_REFUND_PUSH_H
#define LIVEBUY_JOBS_REFUND_PUSH_H

#include <stddef.h>
#include <uv.h>
#include "livebuy/base/config.h"

/*
 * Starts pushing from loop (call on its thread, once, before other threads start; config must outlive it). 0, or
 * LB_EINPUT with a reason in err when the provider's keys cannot be loaded (nothing started).
 */
int lb_refund_push_start(uv_loop_t *loop, const lb_config_t *config, char *err, size_t errsize);
/* Stops on the same thread (lb_outbox_stop: pushes in flight abandoned, this process's claims let go). */
void lb_refund_push_stop(void);
/*
 * Any thread, after the commit of a transaction that made a refund pending (created, approved, sent again): pushes it
 * now rather than at the next poll. Does nothing when no refund push runs in this process.
 */
void lb_refund_push_wake(void);

#endif
