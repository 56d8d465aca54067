/*
 * The statements of sales: what live items sold, for their host and for the co-op whose SKU they sell, and the
 * commission each sells under (its offer's). Worker threads; 0 or an LB_E* code. The money rule is livebuy/model/sale.h.
 */
#ifndef LIVEBUY_STORE_SALES_H
#define LIVEBUY_STORE_SALES_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"
#include "livebuy/model/sale.h"

/* Which live items a sales listing covers. */
typedef struct st_lb_sales_scope_t {
    lb_merchant_t merchant;   /* a host: the items of its lives; a co-op: the items on its SKUs */
    int64_t live_id, host_id; /* only this live's, only this host's; 0: any */
} lb_sales_scope_t;

/*
 * What a sales listing shows, read from one snapshot (the page and the sums agree while a sale goes on): a page of the
 * scope's items by id, after `after`, at most limit, into items (which holds limit; *num_items gets the count), and the
 * sums over every item of the scope, into *totals and per host into *hosts (malloc'd, by host id, *num_hosts long; the
 * caller frees it, also on error).
 */
int lb_store_sales(lb_db_t *db, const lb_sales_scope_t *scope, int64_t after, int64_t limit, lb_sale_item_t *items,
                   size_t *num_items, lb_sales_t *totals, lb_host_sales_t **hosts, size_t *num_hosts);

/*
 * The commission (basis points) each of orders[0..n) sells under, into commission_bp[0..n): its live item's offer's; 0
 * for an order of no live item or of an item under no offer. One statement for the lot.
 */
int lb_store_orders_commission(lb_db_t *db, const lb_order_t *orders, size_t n, int64_t *commission_bp);

#endif
