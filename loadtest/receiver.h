/*
 * livebuy-load's own shipping receiver (--receiver PORT): takes livebuyd's signed shipment pushes on its own thread so
 * the check can tell whether every paid order was handed to shipping, once.
 */
#ifndef LIVEBUY_LOAD_RECEIVER_H
#define LIVEBUY_LOAD_RECEIVER_H

#include <stdint.h>
#include <uv.h>

typedef struct st_lb_receiver_t lb_receiver_t;

typedef struct st_lb_receiver_stats_t {
    uint64_t pushes, shipments, bad, conflicts, orders_twice;
    char first_problem[256];
} lb_receiver_stats_t;

/* Listens on 127.0.0.1:port; NULL (with the reason on stderr) when it cannot. */
lb_receiver_t *lb_receiver_start(unsigned port, const char *secret);
/* Whether a push handed over order_id. */
int lb_receiver_has_order(lb_receiver_t *receiver, int64_t order_id);
void lb_receiver_stats(lb_receiver_t *receiver, lb_receiver_stats_t *stats);
void lb_receiver_stop(lb_receiver_t *receiver);

#endif
