/*
 * Fairness on the order path: no one buyer and no one connection may fill the queue that every buyer shares. A loop
 * thread counts the orders each buyer and each connection has waiting (queued in a lane or in a batch, until answered or
 * dropped); past a cap, that client alone gets 429. A connection whose orders are reset faster than any honest client
 * would (HTTP/2 Rapid Reset) is marked, and its next order closes it.
 *
 * Counts are per loop thread (a buyer on two threads' connections has two counts): a cap bounds what one client can
 * hold in one place, not a global quota.
 */
#ifndef LIVEBUY_ORDER_FAIRNESS_H
#define LIVEBUY_ORDER_FAIRNESS_H

#include <stdint.h>

/*
 * Caps: orders waiting per buyer and per connection, and orders a connection may reset in a second before it is to be
 * closed; 0 turns one off. Set before the loops start.
 */
void lb_fairness_configure(unsigned buyer_orders, unsigned connection_orders, unsigned resets_per_second);

typedef enum en_lb_fairness_verdict_t {
    LB_FAIRNESS_OK,
    LB_FAIRNESS_BUYER_FULL,      /* the buyer has buyer_orders waiting */
    LB_FAIRNESS_CONNECTION_FULL, /* the connection has connection_orders waiting */
    LB_FAIRNESS_CLOSE,           /* the connection resets orders as an attack does: close it */
} lb_fairness_verdict_t;

/* An order of the buyer on the connection asks to wait: counted when LB_FAIRNESS_OK, else nothing changes. */
lb_fairness_verdict_t lb_fairness_enter(int64_t buyer_id, uint64_t connection_id);
/* That order was answered or dropped. */
void lb_fairness_leave(int64_t buyer_id, uint64_t connection_id);
/* An order of the connection was reset by its client before it was answered. */
void lb_fairness_reset(uint64_t connection_id);
/* The caps as configured (for error messages). */
unsigned lb_fairness_buyer_cap(void);
unsigned lb_fairness_connection_cap(void);

#endif
