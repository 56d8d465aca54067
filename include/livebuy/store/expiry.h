/* Expiry: the statements of the sweeper (server/jobs/sweeper.c). Worker threads; 0 or an LB_E* code. */
#ifndef LIVEBUY_STORE_EXPIRY_H
#define LIVEBUY_STORE_EXPIRY_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/order.h"

/* A block's list of SKUs as its skus column holds it ("" for a block of one SKU). */
typedef char lb_block_skus_t[LB_ORDER_BLOCK_SKUS_MAX];

/*
 * Up to limit blocks with a reserved order due at now, soonest first (index order_blocks_due); out and lists hold limit.
 * A block of several SKUs (sql/021) has several set and its SKUs in lists.
 */
int lb_store_order_blocks_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_block_t *out, lb_block_skus_t *lists,
                              size_t *found);

/* SKUs one expiry transaction locks at most (those of the blocks it takes). */
#define LB_EXPIRY_SKUS_MAX 256
/*
 * In one transaction, the first blocks of blocks[0..*n) (of one shard) that name at most LB_EXPIRY_SKUS_MAX SKUs
 * together (one at least; *n gets how many): their SKUs' rows locked first, in ascending order (as a reservation job
 * locks them), then their reserved orders; those due at now expire, their units given back as a cancellation's are, and
 * each block's due time moves to its next reserved order's expiry (none when none of it is reserved any more). A payment
 * or another process's sweeper may have got there first: such orders are not read. restocked (room for
 * LB_EXPIRY_SKUS_MAX) gets the SKUs that had orders expired, *expired how many orders.
 */
int lb_store_order_blocks_expire(lb_db_t *db, const lb_order_block_t *blocks, const lb_block_skus_t *lists, size_t *n,
                                 int64_t now, int64_t *restocked, size_t *num_restocked, size_t *expired);

#endif
