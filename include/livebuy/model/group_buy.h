/* Group-buys (a campaign on a SKU that succeeds at a minimum quantity) and the pickup points they deliver to. */
#ifndef LIVEBUY_MODEL_GROUP_BUY_H
#define LIVEBUY_MODEL_GROUP_BUY_H

#include <stdint.h>
#include "livebuy/model/text.h"

/* A pickup point: a village station of a merchant's network. */
typedef struct st_lb_pickup_point_t {
    int64_t id, merchant_id;
    char name[LB_TEXT_SIZE(200)], county[LB_TEXT_SIZE(100)], township[LB_TEXT_SIZE(100)], village[LB_TEXT_SIZE(100)];
    char address[LB_TEXT_SIZE(400)];
} lb_pickup_point_t;

typedef struct st_lb_group_buy_t {
    int64_t id, merchant_id, sku_id, pickup_point_id, price_cents, min_qty, per_buyer_limit, closes_at, joined_qty;
    char status[16]; /* open, succeeded, failed */
} lb_group_buy_t;

#endif
