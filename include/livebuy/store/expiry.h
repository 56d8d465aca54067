/* Expiry: the statements of the sweeper (server/jobs/sweeper.c). Worker threads; 0 or an LB_E* code. */
#ifndef LIVEBUY_STORE_EXPIRY_H
#define LIVEBUY_STORE_EXPIRY_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/order.h"

/*
 * Up to limit blocks with a reserved order due at now, soonest first (index order_blocks_due); out holds limit. A block
 * of several SKUs (sql/021) has several set: lb_store_order_block_expire_skus expires it.
 */
int lb_store_order_blocks_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_block_t *out, size_t *found);
/*
 * In one transaction (the SKU row locked first): expires the reserved orders of the SKU's blocks[0..n) that are due at
 * now, returning their units as a cancellation does, and moves each block's due time to its next reserved order's
 * expiry (none when no order of it is reserved any more); *expired gets how many. Another process's sweeper or a
 * payment may have got there first: such orders are skipped.
 */
int lb_store_order_blocks_expire(lb_db_t *db, int64_t sku_id, const lb_order_block_t *blocks, size_t n, int64_t now,
                                 size_t *expired);
/*
 * The same for one block of several SKUs (its SKUs' rows locked first, in ascending order): restocked[0..*num_restocked)
 * gets the SKUs that had orders expired (room for LB_ORDER_ID_BLOCK).
 */
int lb_store_order_block_expire_skus(lb_db_t *db, const lb_order_block_t *block, int64_t now, int64_t *restocked,
                                     size_t *num_restocked, size_t *expired);

#endif
