/*
 * The order directory as this process knows it: which SKU each block of order ids belongs to (sql/005_order_blocks.sql)
 * when the block is one SKU's, learnt from the blocks it made, and which SKU an order is (sql/021: a block of several
 * SKUs), learnt from the orders it made and read. An order's SKU never changes, so a payment or cancellation of an
 * order this process knows goes straight to its SKU's lane without a look-up. A process-wide cache: any thread.
 */
#ifndef LIVEBUY_ORDER_DIRECTORY_H
#define LIVEBUY_ORDER_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/model/order.h"
#include "livebuy/model/reservation.h"

/* Learns that order_id is sku_id's. */
void lb_order_directory_learn(int64_t order_id, int64_t sku_id);
/* Learns the blocks of granted[0..n), just inserted by lb_store_orders_insert (their blocks where lb_order_block_begins says). */
void lb_order_directory_learn_inserted(lb_order_request_t *const *granted, size_t n);
/*
 * Learns a block of the directory read from the database (lb_store_order_get_with_block: the SKU of its ids first_id + i
 * at skus[i], num_skus of them, for a block of several), so that the orders of a block another process made need one
 * look-up between them, not one each.
 */
void lb_order_directory_learn_block(const lb_order_block_t *block, const int64_t *skus, size_t num_skus);
/* The SKU of order id when this process knows its block or the order, else 0. The order itself may not exist. */
int64_t lb_order_directory_sku(int64_t id);

#endif
