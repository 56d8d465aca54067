/* A merchant's orders, a page at a time (the co-op dashboard). */
#ifndef LIVEBUY_ORDER_MERCHANT_ORDERS_H
#define LIVEBUY_ORDER_MERCHANT_ORDERS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/model/order.h"

/*
 * A page of a merchant's orders by id, after `after`, at most limit (out must hold that many), of one status when
 * status is not NULL; *found gets the count. On a worker thread (db); 0 or an LB_E* code. Found through the merchant's
 * SKUs (orders has no merchant index): one statement per LB_STORE_SKUS_PER_STATEMENT of them, their pages merged.
 */
int lb_order_merchant_orders(lb_db_t *db, int64_t merchant_id, const char *status, int64_t after, int64_t limit, lb_order_t *out,
                             size_t *found);

#endif
