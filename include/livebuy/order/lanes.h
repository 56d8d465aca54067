/*
 * Order lanes: the lane engine (livebuy/order/lane.h) for reservation requests, one lane per SKU per loop thread. An
 * idle lane sends a request at once; while its batch is in flight, new requests queue and go together as the next batch
 * (natural batching). A lane whose last batch saw a target sold out (or a live item off air) refuses orders for it
 * without a database trip, with the same answer, until stock comes back in this process or a second has passed.
 */
#ifndef LIVEBUY_LANES_H
#define LIVEBUY_LANES_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "livebuy/order/order.h"

/*
 * Who hears of a live item's counts (available, reserved, sold) as a batch of this loop thread left them, on that
 * thread (the live stock feed, a layer above: it is handed down rather than called up). Set once before the loops
 * start; NULL: nobody.
 */
typedef void (*lb_lanes_publish_cb)(int64_t live_item_id, int64_t available, int64_t reserved, int64_t sold);
void lb_lanes_publish_to(lb_lanes_publish_cb publish);

/* Sets the limits: requests per batch (transaction), requests queued in all lanes of the process, default TTL. */
void lb_lanes_configure(unsigned max_batch, unsigned max_queued, unsigned reserve_ttl);
/*
 * How batches of different SKUs share a transaction (livebuy/order/lane.h): a loop thread has at most jobs reservation
 * transactions out (0: no limit, and no sharing), each with the batches of up to skus_per_job SKUs (1: none shared)
 * whose ids are equal modulo shards (the backends of a sharded database: SKU id modulo their number; 1 when unsharded).
 */
void lb_lanes_share_jobs(unsigned jobs, unsigned skus_per_job, unsigned shards);
/*
 * The order deadline: a request no batch has taken after wait_ms in its lane is answered LB_OUTCOME_TIMED_OUT (503)
 * instead of waiting for a database that does not answer; 0: none. Each loop thread looks four times a second.
 */
void lb_lanes_set_deadline(unsigned wait_ms);

/*
 * Queues a request (sku_id resolved) in its SKU's lane on this loop thread. Its on_decided runs later on this thread;
 * or at once, from inside this call, for the fast paths: LB_OUTCOME_SOLD_OUT or LB_OUTCOME_OFF_AIR from a lane's hint.
 * Returns LB_EBUSY (and does not call on_decided) when the process-wide queue is full.
 */
int lb_lanes_submit(uv_loop_t *loop, lb_order_request_t *request);
/*
 * The request's client has gone (its stream was reset, its connection closed): if no batch has taken it yet, none will;
 * it reserves nothing and its on_decided runs with LB_OUTCOME_GONE when a batch of its lane passes it. One already
 * taken is decided as usual (its key replays it). Loop thread.
 */
void lb_lanes_request_gone(lb_order_request_t *request);

/* Stock of the SKU came back in this process (restock, cancellation, expiry): every thread forgets its sold-out hints. */
void lb_lanes_stock_changed(int64_t sku_id);

/* Requests queued or in flight in all lanes of the process. */
size_t lb_lanes_pending(void);

#endif
