/* Village stations: the shipments coming to their pickup points, the pick lists the keepers hand goods out by. */
#ifndef LIVEBUY_MODEL_STATION_H
#define LIVEBUY_MODEL_STATION_H

#include <stdint.h>
#include "livebuy/model/group_buy.h"
#include "livebuy/model/text.h"

/* A shipment as its station sees it: where it goes, what it carries, how far it is, how much was collected. */
typedef struct st_lb_station_shipment_t {
    int64_t id, sku_id, group_buy_id; /* group_buy_id 0 for a direct order's shipment */
    int64_t created_at;
    char status[16], delivery_status[16], tracking_no[LB_TEXT_SIZE(64)];
    char title[LB_TEXT_SIZE(401)]; /* the product's title, a space, the SKU's name */
    lb_pickup_point_t pickup_point;
    int64_t orders, qty, collected; /* orders in it, their units, the orders collected */
} lb_station_shipment_t;

/* One line of a pick list: an order of the shipment, whom to give it to, and whether it was collected. */
typedef struct st_lb_pick_entry_t {
    int64_t order_id, buyer_id, qty, collected_at; /* collected_at 0 until collected */
    char status[16];
    char buyer_name[LB_TEXT_SIZE(100)]; /* the order's ship_to name, "" when it has none (a group-buy join) */
    char phone_last4[5];                /* the last four digits of its ship_to phone, "" when none */
} lb_pick_entry_t;

#endif
