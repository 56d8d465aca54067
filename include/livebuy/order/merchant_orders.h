/* A merchant's orders, a page at a time (the co-op dashboard, the host console). */
#ifndef LIVEBUY_ORDER_MERCHANT_ORDERS_H
#define LIVEBUY_ORDER_MERCHANT_ORDERS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"

/*
 * A page of a merchant's orders by id, after `after`, at most limit (out and commission_bp must hold that many), those
 * the filter takes; *found gets the count, commission_bp[i] the commission out[i] sells under (its
 * live item's offer's, 0 for none). A co-op's orders are those of its SKUs; a host's, those of its own SKUs and those
 * on its live items. On a worker thread (db); 0 or an LB_E* code. Found without an index of orders but the primary key
 * (lb_store_merchant_order_sources): one statement per LB_STORE_SKUS_PER_STATEMENT sources, their pages merged.
 */
int lb_order_merchant_orders(lb_db_t *db, const lb_merchant_t *merchant, const lb_order_filter_t *filter, int64_t after,
                             int64_t limit, lb_order_t *out, int64_t *commission_bp, size_t *found);

#endif
