/* Group-buys (a campaign on a SKU that succeeds at a minimum quantity) and the pickup points they deliver to. */
#ifndef LIVEBUY_MODEL_GROUP_BUY_H
#define LIVEBUY_MODEL_GROUP_BUY_H

#include <stdint.h>
#include "livebuy/base/image.h"
#include "livebuy/model/text.h"

/* A pickup point: a village station of a merchant's network, handed out by a station merchant (station_id, 0: none). */
typedef struct st_lb_pickup_point_t {
    int64_t id, merchant_id, station_id;
    char name[LB_TEXT_SIZE(200)], county[LB_TEXT_SIZE(100)], township[LB_TEXT_SIZE(100)], village[LB_TEXT_SIZE(100)];
    char address[LB_TEXT_SIZE(400)];
} lb_pickup_point_t;

/* A campaign's statuses as the API and the schema spell them, NULL-terminated. */
extern const char *const lb_group_buy_statuses[];

/*
 * A campaign. joined_qty: the units of its joins reserved or paid, now; joined_qty_at_close: the joined_qty its closer
 * decided on at the cut-off, -1 while it is open (the API's null).
 */
typedef struct st_lb_group_buy_t {
    int64_t id, merchant_id, sku_id, pickup_point_id, price_cents, min_qty, per_buyer_limit, closes_at, joined_qty;
    int64_t joined_qty_at_close;
    char status[16]; /* open, succeeded, failed */
} lb_group_buy_t;

/*
 * A group-buy as its pages show it: the campaign, what it sells, where it is collected and, once it has closed, how
 * many of its orders were collected at the station and how many are still to collect (paid, on their way, delivered).
 */
typedef struct st_lb_group_buy_view_t {
    lb_group_buy_t gb;
    char product_title[LB_TEXT_SIZE(200)], sku_name[LB_TEXT_SIZE(200)], unit[LB_TEXT_SIZE(32)];
    lb_pickup_point_t pickup_point;
    int64_t collected, not_collected;
    char photo[LB_IMAGE_NAME_SIZE]; /* the product's first photo's file name, "" when none */
} lb_group_buy_view_t;

#endif
