/*
 * The reservation transaction's statements: the batches of one or several SKUs, their rows locked first
 * (lb_store_skus_lock); server/order/reserve.c runs them. Worker threads; 0 or an LB_E* code.
 */
#ifndef LIVEBUY_STORE_RESERVATIONS_H
#define LIVEBUY_STORE_RESERVATIONS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/reservation.h"

/* Ids per block of the sequence order_ids (INCREMENT BY in sql/005_order_blocks.sql). */
#define LB_ORDER_ID_BLOCK 64

/*
 * Whether granted[i] (orders inserted together, SKU by SKU) begins a block of ids, the block before it beginning at
 * granted[start]: a block is up to LB_ORDER_ID_BLOCK orders of a transaction, of one SKU or several
 * (sql/021_order_blocks_skus.sql).
 */
static inline int lb_order_block_begins(lb_order_request_t *const *granted, size_t i, size_t start)
{
    (void)granted;
    return i == 0 || i - start == LB_ORDER_ID_BLOCK;
}

/* Whether the orders granted[start..end) of one block are all of one SKU (the directory then needs no list of SKUs). */
static inline int lb_order_block_single(lb_order_request_t *const *granted, size_t start, size_t end)
{
    for (size_t i = start + 1; i < end; ++i)
        if (granted[i]->sku_id != granted[start]->sku_id)
            return 0;
    return 1;
}

/* Orders of this SKU that hold one of the requests' (buyer, key) pairs; *out is malloc'd (the caller frees it). */
int lb_store_orders_by_keys(lb_db_t *db, int64_t sku_id, const lb_order_request_t *const *requests, size_t n,
                            lb_existing_order_t **out, size_t *found);
/* Those of the ids that are orders of this SKU (order_id, amount_cents and expires_at set; no key); *out as above. */
int lb_store_orders_by_ids(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_existing_order_t **out, size_t *found);
/* Units each of the buyers holds through live items and group-buys of this SKU (active orders): one entry per order. */
int lb_store_buyer_usage(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n, lb_buyer_usage_t **out, size_t *found);
/*
 * Inserts the granted requests (outcome RESERVED, in list order, each SKU's together) as orders and sets their order_id;
 * the keys that can be asked for again get their order_keys rows (LB_EDB_DUP when one is taken), and the group-buy joins
 * among them their group_buy_orders rows (the index lb_store_group_buy_joins reads). The ids come in blocks of the order
 * directory, where lb_order_block_begins says: each such order's id is the first of its block.
 */
int lb_store_orders_insert(lb_db_t *db, lb_order_request_t *const *granted, size_t n, int64_t now);

#endif
