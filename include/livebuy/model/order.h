/* Orders as they are kept: the row, its statuses, and the blocks of ids that tell an order's SKU. */
#ifndef LIVEBUY_MODEL_ORDER_H
#define LIVEBUY_MODEL_ORDER_H

#include <stdint.h>
#include "livebuy/model/text.h"

/* The order statuses as the schema spells them, NULL-terminated; and in Chinese, in the same order (the pages' words). */
extern const char *const lb_order_statuses[];
extern const char *const lb_order_status_names_zh[];

/* One order. Nullable ids read as 0; has_ship_to (0 or 1) tells whether the ship_to_* fields are set. */
typedef struct st_lb_order_t {
    int64_t id, sku_id, buyer_id, live_item_id, group_buy_id, pickup_point_id;
    int64_t qty, unit_price_cents, amount_cents, expires_at, created_at, updated_at;
    char status[16];
    int64_t has_ship_to;
    char ship_to_name[LB_TEXT_SIZE(100)], ship_to_phone[LB_TEXT_SIZE(32)], ship_to_address[LB_TEXT_SIZE(400)];
} lb_order_t;

/*
 * What an order's answers show beside its row (GET /v1/orders/{id}, the buyer's list, the merchant's, cancel, refund):
 * its product's title and SKU name, the shipment it is in, its pickup point, its latest refund. Ids read as 0 and text as
 * "" when there is none. Read with lb_store_orders_details (livebuy/store/orders.h).
 */
typedef struct st_lb_order_details_t {
    char title[LB_TEXT_SIZE(401)]; /* the product's title, a space, the SKU's name */
    int64_t shipment_id;
    char shipment_status[16], delivery_status[16], tracking_no[LB_TEXT_SIZE(64)];
    int64_t pickup_point_id;
    char pickup_point_name[LB_TEXT_SIZE(200)], pickup_point_address[LB_TEXT_SIZE(400)];
    int64_t refund_id, refund_amount_cents;
    char refund_status[16], refund_cause[16], refund_reason[LB_TEXT_SIZE(200)];
} lb_order_details_t;

/* Which of a merchant's orders a listing takes: of one status (NULL: any), created in [created_from, created_to). */
typedef struct st_lb_order_filter_t {
    const char *status;
    int64_t created_from, created_to;
} lb_order_filter_t;

/* Where an order (or a group-buy) is: its SKU (the shard key) and id. */
typedef struct st_lb_order_ref_t {
    int64_t sku_id, id;
} lb_order_ref_t;

/*
 * A block of order ids in the order directory (sql/005_order_blocks.sql, 006_order_expiry_by_block.sql, 021): the ids
 * from first_id to first_id + size - 1 are orders of sku_id (or unused), or of several SKUs when several is set
 * (sku_id is then its first id's).
 */
typedef struct st_lb_order_block_t {
    int64_t sku_id, first_id, size;
    int several;
} lb_order_block_t;

/* Bytes of a block's list of SKUs, "[sku,...]" (sql/021): 64 ids of up to 20 digits, their commas and brackets. */
#define LB_ORDER_BLOCK_SKUS_MAX 1400

#endif
