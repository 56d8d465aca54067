/*
 * A village station hands an order out: POST /v1/shipments/{id}/collect. One transaction on a worker that locks the
 * shipment's SKU row first, as everything that moves an order does, then the order; the order goes delivered ->
 * collected and order_collections records who and when. Idempotent: an order collected already is answered as it was.
 */
#ifndef LIVEBUY_ORDER_COLLECTION_H
#define LIVEBUY_ORDER_COLLECTION_H

#include <stdint.h>
#include "livebuy/db/db.h"

typedef enum en_lb_collection_outcome_t {
    LB_COLLECTION_COLLECTED,          /* collected now */
    LB_COLLECTION_ALREADY,            /* collected before: nothing changed, collected_at and station_id are the first's */
    LB_COLLECTION_NO_SHIPMENT,        /* no such shipment */
    LB_COLLECTION_OTHER_STATION,      /* the shipment goes to no point bound to this station (pickup_point_id says where) */
    LB_COLLECTION_NOT_IN_SHIPMENT,    /* the order is not one the shipment carries */
    LB_COLLECTION_NOT_DELIVERED,      /* the shipment has not been delivered yet (delivery_status says how far it is) */
    LB_COLLECTION_ORDER_NOT_DELIVERED /* the order is not delivered (refunded, say): order_status says what it is */
} lb_collection_outcome_t;

typedef struct st_lb_collection_t {
    /* In. */
    int64_t shipment_id, order_id, station_id;
    /* Out. */
    lb_collection_outcome_t outcome;
    int64_t collected_at, collected_by;
    /* The shipment's pickup point (0: none, it goes to an address) and the station bound to that point (0: none). */
    int64_t pickup_point_id, point_station_id;
    char delivery_status[16], order_status[16];
} lb_collection_t;

/* Applies a station's collection; 0 with c->outcome set, or an LB_EDB_* code (nothing changed then). */
int lb_collection_apply(lb_db_t *db, lb_collection_t *c);

#endif
