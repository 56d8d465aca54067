/* A station's collection of an order: the rules of POST /v1/shipments/{id}/collect in one transaction. */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/order/collection.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/stations.h"

/* Under the SKU and order locks: decides, and collects the order when it may. */
static int collect_locked(lb_db_t *db, lb_collection_t *c, const lb_station_shipment_t *shipment, lb_order_t *order)
{
    int64_t now = lb_now();
    int ret;
    snprintf(c->order_status, sizeof(c->order_status), "%s", order->status);
    if (strcmp(order->status, "collected") == 0) {
        c->outcome = LB_COLLECTION_ALREADY;
        return lb_store_collection_get(db, order->sku_id, order->id, &c->collected_by, &c->collected_at);
    }
    if (strcmp(shipment->delivery_status, "delivered") != 0) {
        c->outcome = LB_COLLECTION_NOT_DELIVERED;
        return 0;
    }
    if (strcmp(order->status, "delivered") != 0) {
        c->outcome = LB_COLLECTION_ORDER_NOT_DELIVERED;
        return 0;
    }
    if ((ret = lb_store_collection_insert(db, order->sku_id, order->id, shipment->id, c->station_id, now)) != 0 ||
        (ret = lb_store_order_set_status(db, order, "collected", now)) != 0)
        return ret;
    snprintf(c->order_status, sizeof(c->order_status), "collected");
    c->outcome = LB_COLLECTION_COLLECTED;
    c->collected_at = now;
    c->collected_by = c->station_id;
    return 0;
}

int lb_collection_apply(lb_db_t *db, lb_collection_t *c)
{
    lb_station_shipment_t shipment;
    lb_order_t order;
    lb_sku_t sku;
    int64_t station_id, in_shipment;
    int ret;

    c->outcome = LB_COLLECTION_NO_SHIPMENT;
    if ((ret = lb_store_station_shipment_get(db, c->shipment_id, &shipment, &station_id)) != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    c->pickup_point_id = shipment.pickup_point.id;
    c->point_station_id = station_id;
    if (station_id != c->station_id) {
        c->outcome = LB_COLLECTION_OTHER_STATION;
        return 0;
    }
    /* Under the SKU row lock the shipment's delivery status is read again: an event moving it queues behind this. */
    if ((ret = lb_db_begin(db)) != 0 || ((ret = lb_store_sku_lock(db, shipment.sku_id, &sku)) != 0 && ret != LB_ENOTFOUND) ||
        (ret = lb_store_station_shipment_get(db, c->shipment_id, &shipment, &station_id)) != 0)
        goto Exit;
    snprintf(c->delivery_status, sizeof(c->delivery_status), "%s", shipment.delivery_status);
    c->outcome = LB_COLLECTION_NOT_IN_SHIPMENT;
    if ((ret = lb_store_order_shipment(db, shipment.sku_id, c->order_id, &in_shipment)) != 0 || in_shipment != c->shipment_id ||
        (ret = lb_store_order_lock(db, shipment.sku_id, c->order_id, &order)) != 0 ||
        (ret = collect_locked(db, c, &shipment, &order)) != 0)
        goto Exit;
    if (c->outcome == LB_COLLECTION_COLLECTED)
        return lb_db_commit(db);
Exit:
    lb_db_rollback(db);
    return ret == LB_ENOTFOUND ? 0 : ret;
}
