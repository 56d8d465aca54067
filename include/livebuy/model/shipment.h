/* Shipments: the outbox rows pushed to the shipping system and offered in its feed. */
#ifndef LIVEBUY_MODEL_SHIPMENT_H
#define LIVEBUY_MODEL_SHIPMENT_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/model/text.h"

/* A shipment to make: the JSON document to push and the orders it carries (all of one SKU). The caller owns the memory. */
typedef struct st_lb_shipment_t {
    int64_t sku_id, group_buy_id, pickup_point_id; /* 0 when none */
    const char *payload;
    size_t payload_len;
    const int64_t *order_ids;
    size_t num_orders;
} lb_shipment_t;

/* A shipment as the dispatcher and the feed read it; payload is malloc'd (lb_store_shipment_rows_free frees it). */
typedef struct st_lb_shipment_row_t {
    int64_t id, sku_id, attempts, created_at;
    int64_t feed_seq;         /* its place in the feed, 0 until it has one */
    char status[16];          /* pending, acked, dead, cancelled */
    char delivery_status[16]; /* none, picked_up, in_transit, delivered */
    char tracking_no[LB_TEXT_SIZE(64)];
    char *payload; /* the JSON document, NUL-terminated */
    size_t payload_len;
} lb_shipment_row_t;

/* The event types in the order a parcel goes through them, as the API and the schema spell them; NULL-terminated. */
typedef enum en_lb_delivery_event_type_t {
    LB_DELIVERY_PICKED_UP,
    LB_DELIVERY_IN_TRANSIT,
    LB_DELIVERY_DELIVERED
} lb_delivery_event_type_t;
extern const char *const lb_delivery_event_types[];

#endif
