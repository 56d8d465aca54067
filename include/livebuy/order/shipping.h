/*
 * The shipping system's side of an order's life: a push acknowledged hands the shipment's orders off, and delivery events
 * (API.md "Shipping system") move them to shipped and delivered, forward only. One transaction each, on a worker, the
 * SKU row locked first as everywhere on the order path.
 */
#ifndef LIVEBUY_SHIPPING_H
#define LIVEBUY_SHIPPING_H

#include <stdint.h>
#include "livebuy/base/token.h"
#include "livebuy/codec/codec.h"
#include "livebuy/db/db.h"
#include "livebuy/model/group_buy.h"
#include "livebuy/model/shipment.h"

#define LB_TRACKING_NO_MAX 64

typedef enum en_lb_delivery_outcome_t {
    LB_DELIVERY_RECORDED,       /* the first event of this type: recorded; the shipment and its orders moved if it is news */
    LB_DELIVERY_REPEATED,       /* this type was recorded before: nothing changed */
    LB_DELIVERY_NOT_FOUND,      /* no such shipment */
    LB_DELIVERY_SIGNATURE_USED, /* its signature came for another shipment first: a replay, nothing changed */
    LB_DELIVERY_CANCELLED       /* the shipment is cancelled and this type was not recorded before: nothing changed */
} lb_delivery_outcome_t;

typedef struct st_lb_delivery_event_t {
    /* In. */
    int64_t shipment_id;
    lb_delivery_event_type_t type;
    const char *tracking_no;
    uint8_t signature[LB_SIGNATURE_SIZE]; /* the request's X-Livebuy-Signature, bound to the first shipment it names */
    /* Out. */
    lb_delivery_outcome_t outcome;
    lb_shipment_row_t shipment; /* as it is after the transaction (no payload) */
} lb_delivery_event_t;

/*
 * Applies a delivery event: refused (LB_DELIVERY_SIGNATURE_USED) when its signature was taken for another shipment;
 * refused (LB_DELIVERY_CANCELLED) on a cancelled shipment, unless it repeats a type recorded before the cancellation
 * (LB_DELIVERY_REPEATED, as on any shipment); recorded once per (shipment, type); the shipment's delivery status,
 * tracking number and orders move only when the event is further on than what was seen (an in_transit after delivered
 * changes nothing).
 * Returns 0 with event->outcome set, or an LB_EDB_* code.
 */
int lb_shipping_event_apply(lb_db_t *db, lb_delivery_event_t *event);
/*
 * A push the shipping system acknowledged: the shipment (of SKU sku_id) acked and its paid orders handed_off. 0 or an
 * LB_EDB_* code.
 */
int lb_shipping_ack(lb_db_t *db, int64_t sku_id, int64_t shipment_id, int64_t now);

/*
 * The shipment documents the shipping system gets, written as JSON into the outbox (payment.c for a paid direct order,
 * jobs/closer.c for a succeeded group-buy) and pushed later with shipment_id first. The parts both kinds have:
 */
/* "items": [{sku_id, title, qty}], the one SKU a shipment carries. */
void lb_shipping_write_items(lb_writer_t *w, int64_t sku_id, const char *title, int64_t qty);
/* cold_chain, weight_grams and service_level: how the parcel travels. */
void lb_shipping_write_handling(lb_writer_t *w, int cold_chain, int64_t weight_grams);
/* A pickup point as the documents (and the API's answers) show it: a map of its six fields. */
void lb_shipping_write_pickup_point(lb_writer_t *w, const char *key, const lb_pickup_point_t *point);

#endif
