/*
 * Acknowledged pushes and delivery events: each one transaction that locks the shipment's SKU row, then the shipment,
 * then moves its orders (forward only), so that it queues behind the order path's batches instead of deadlocking them.
 * The shipment's SKU is read first, without a lock, and named in every statement (one backend of a sharded database).
 */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/order/shipping.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/shipments.h"

/* What an event makes of the shipment's orders. */
static const char *const order_status_after[] = {"shipped", "shipped", "delivered"};

/* How far a delivery status is along the parcel's way: none 0, picked_up 1, in_transit 2, delivered 3. */
static int delivery_rank(const char *delivery_status)
{
    for (int i = 0; lb_delivery_event_types[i] != NULL; ++i)
        if (strcmp(delivery_status, lb_delivery_event_types[i]) == 0)
            return i + 1;
    return 0;
}

/*
 * Under the SKU and shipment locks: takes the event's signature for its shipment (a signature that came for another
 * shipment first is a replay: refused), records the event, and moves the shipment and its orders if it is news. A
 * cancelled shipment was never to ship: a type recorded before its cancellation repeats as anywhere, any other event is
 * refused (its insert rolled back with the signature's).
 */
static int record_event(lb_db_t *db, lb_delivery_event_t *event, int64_t now)
{
    lb_shipment_row_t *shipment = &event->shipment;
    const char *type = lb_delivery_event_types[event->type];
    int64_t signed_for;
    int ret = lb_store_shipment_signature_take(db, event->signature, event->shipment_id, now, &signed_for);
    if (ret != 0)
        return ret;
    if (signed_for != event->shipment_id) {
        event->outcome = LB_DELIVERY_SIGNATURE_USED;
        return 0;
    }
    ret = lb_store_shipment_event_insert(db, event->shipment_id, type, event->tracking_no, now);
    if (ret == LB_EDB_DUP) {
        event->outcome = LB_DELIVERY_REPEATED;
        return 0;
    }
    if (ret == 0 && strcmp(shipment->status, "cancelled") == 0) {
        event->outcome = LB_DELIVERY_CANCELLED;
        return 0;
    }
    event->outcome = LB_DELIVERY_RECORDED;
    if (ret != 0 || delivery_rank(shipment->delivery_status) >= (int)event->type + 1)
        return ret;
    if ((ret = lb_store_shipment_set_delivery(db, shipment->sku_id, event->shipment_id, type, event->tracking_no)) != 0 ||
        (ret = lb_store_shipment_orders_advance(db, shipment->sku_id, event->shipment_id, order_status_after[event->type], now)) !=
            0)
        return ret;
    snprintf(shipment->delivery_status, sizeof(shipment->delivery_status), "%s", type);
    snprintf(shipment->tracking_no, sizeof(shipment->tracking_no), "%s", event->tracking_no);
    return 0;
}

int lb_shipping_event_apply(lb_db_t *db, lb_delivery_event_t *event)
{
    lb_sku_t sku;
    int64_t sku_id;
    int ret;

    event->outcome = LB_DELIVERY_NOT_FOUND;
    if ((ret = lb_store_shipment_sku(db, event->shipment_id, &sku_id)) != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    if ((ret = lb_db_begin(db)) != 0 || ((ret = lb_store_sku_lock(db, sku_id, &sku)) != 0 && ret != LB_ENOTFOUND) ||
        (ret = lb_store_shipment_lock(db, sku_id, event->shipment_id, &event->shipment)) != 0 ||
        (ret = record_event(db, event, lb_now())) != 0)
        goto Exit;
    if (event->outcome != LB_DELIVERY_SIGNATURE_USED && event->outcome != LB_DELIVERY_CANCELLED)
        return lb_db_commit(db); /* a repeat keeps its signature taken, for its shipment */
Exit:
    lb_db_rollback(db);
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_shipping_ack(lb_db_t *db, int64_t sku_id, int64_t shipment_id, int64_t now)
{
    lb_sku_t sku;
    int changed, ret;

    if ((ret = lb_db_begin(db)) != 0 || ((ret = lb_store_sku_lock(db, sku_id, &sku)) != 0 && ret != LB_ENOTFOUND) ||
        (ret = lb_store_shipment_set_acked(db, sku_id, shipment_id, now, &changed)) != 0)
        return ret;
    /* Acked already (by another process's push, after this one's claim ran out): its orders moved then. */
    if (changed && (ret = lb_store_shipment_orders_advance(db, sku_id, shipment_id, "handed_off", now)) != 0)
        return ret;
    return lb_db_commit(db);
}

void lb_shipping_write_items(lb_writer_t *w, int64_t sku_id, const char *title, int64_t qty)
{
    lb_writer_array(w, "items");
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "sku_id:I,title:s,qty:I", sku_id, title, qty);
    lb_writer_end(w);
    lb_writer_end(w);
}

void lb_shipping_write_handling(lb_writer_t *w, int cold_chain, int64_t weight_grams)
{
    lb_writer_pack(w, "cold_chain:b,weight_grams:I,service_level:s", cold_chain, weight_grams,
                   cold_chain ? "next_morning" : "standard");
}

void lb_shipping_write_pickup_point(lb_writer_t *w, const char *key, const lb_pickup_point_t *point)
{
    lb_writer_map(w, key);
    lb_writer_pack(w, "id:I,name:s,county:s,township:s,village:s,address:s", point->id, point->name, point->county, point->township,
                   point->village, point->address);
    lb_writer_end(w);
}
