/*
 * The order path. A reservation request is validated on the loop thread, queued in its SKU's lane, and decided in a
 * batch: one transaction on one SKU that allocates first-come-first-served. The request and what a batch reads are
 * plain structs of the model (livebuy/model/reservation.h); this header holds the pure allocation step (unit-tested
 * without a database).
 */
#ifndef LIVEBUY_ORDER_H
#define LIVEBUY_ORDER_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/base/idmap.h"
#include "livebuy/model/reservation.h"

/* Everything the allocation needs from the database for one batch on one SKU. */
typedef struct st_lb_alloc_input_t {
    int64_t now;
    lb_alloc_target_t *targets; /* targets[0] is the SKU itself; then each live item and group-buy of the batch */
    size_t num_targets;
    const lb_existing_order_t *existing;
    size_t num_existing;
    const lb_buyer_usage_t *usage;
    size_t num_usage;
} lb_alloc_input_t;

/*
 * Decides every pending request of the batch (a list linked by next, in arrival order): replays for known keys, then
 * not-found / not-open or closed / retired (direct orders and group-buy joins) / per-buyer limit / sold-out checks, and grants in
 * arrival order (a request gets all it asked for or nothing; a later, smaller request may still fit). Sets outcome, order amounts
 * and expiry; adds to targets' granted. Granted requests then need an order id (set by the caller after the insert). Pure: no I/O.
 */
void lb_allocate(lb_order_request_t *batch, lb_alloc_input_t *input);

/*
 * The rule of when a live item or group-buy takes orders, for the batch (lb_allocate) and for the routing that refuses
 * orders early by what it has cached (targets.c), so that both refuse alike: before opens_at a request is NOT_OPEN
 * (r->opens_at set for its message); a group-buy at or after closes_at, or no longer open, is CLOSED (r->closes_at
 * set); PENDING when the target takes orders at now. Pure.
 */
lb_order_outcome_t lb_alloc_check_window(lb_order_request_t *r, int64_t opens_at, int64_t closes_at, int open, int64_t now);

/* The index in input->targets of the target a request draws on, or -1. */
int lb_alloc_target_of(const lb_alloc_input_t *input, const lb_order_request_t *request);

#endif
