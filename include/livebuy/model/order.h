/* Orders as they are kept: the row, its statuses, and the blocks of ids that tell an order's SKU. */
#ifndef LIVEBUY_MODEL_ORDER_H
#define LIVEBUY_MODEL_ORDER_H

#include <stdint.h>
#include "livebuy/model/text.h"

/* The order statuses as the schema spells them, NULL-terminated. */
extern const char *const lb_order_statuses[];

/* One order. Nullable ids read as 0; has_ship_to (0 or 1) tells whether the ship_to_* fields are set. */
typedef struct st_lb_order_t {
    int64_t id, sku_id, buyer_id, live_item_id, group_buy_id, pickup_point_id;
    int64_t qty, unit_price_cents, amount_cents, expires_at, created_at, updated_at;
    char status[16];
    int64_t has_ship_to;
    char ship_to_name[LB_TEXT_SIZE(100)], ship_to_phone[LB_TEXT_SIZE(32)], ship_to_address[LB_TEXT_SIZE(400)];
} lb_order_t;

/* Where an order (or a group-buy) is: its SKU (the shard key) and id. */
typedef struct st_lb_order_ref_t {
    int64_t sku_id, id;
} lb_order_ref_t;

/*
 * A block of order ids in the order directory (sql/005_order_blocks.sql, 006_order_expiry_by_block.sql): the ids from
 * first_id to first_id + size - 1 are orders of sku_id (or unused).
 */
typedef struct st_lb_order_block_t {
    int64_t sku_id, first_id, size;
} lb_order_block_t;

#endif
