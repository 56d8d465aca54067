/* Village stations: the shipments coming to their pickup points, pick lists, and the collections of orders. */
#include <ctype.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/stations.h"
#include "internal.h"

/*
 * A shipment with its pickup point (p), SKU (k) and product (pr); its orders, their units and its collections counted
 * through shipment_orders_shipment and order_collections_shipment, each order by its primary key. The point is a left
 * join so that a shipment to an address is found too (no point: id and station 0), to be refused as no station's
 * rather than not found; a condition on p's columns makes it an inner join for the station's list.
 */
#define STATION_SHIPMENT_SELECT                                                                                                    \
    "SELECT s.id, s.sku_id, COALESCE(s.group_buy_id, 0), s.created_at, s.status, s.delivery_status, "                              \
    "COALESCE(s.tracking_no, ''), CONCAT(pr.title, ' ', k.name), " PICKUP_POINT_SELECT_LIST(                                       \
        "p.") ", "                                                                                                                 \
              "(SELECT COUNT(*) FROM shipment_orders so WHERE so.shipment_id = s.id), "                                            \
              "(SELECT COALESCE(SUM(o.qty), 0) FROM shipment_orders so JOIN orders o ON o.sku_id = so.sku_id AND o.id = "          \
              "so.order_id "                                                                                                       \
              "WHERE so.shipment_id = s.id), "                                                                                     \
              "(SELECT COUNT(*) FROM order_collections c WHERE c.shipment_id = s.id) "                                             \
              "FROM shipments s LEFT JOIN pickup_points p ON p.id = s.pickup_point_id JOIN skus k ON k.id = s.sku_id "             \
              "JOIN products pr ON pr.id = k.product_id "
#define STATION_SHIPMENT_TYPES                                                                                                     \
    "iiiisss"                                                                                                                      \
    "s" PICKUP_POINT_TYPES "iii"
#define STATION_SHIPMENT_OUTPUTS(r)                                                                                                \
    &(r)->id, &(r)->sku_id, &(r)->group_buy_id, &(r)->created_at, (r)->status, sizeof((r)->status), (r)->delivery_status,          \
        sizeof((r)->delivery_status), (r)->tracking_no, sizeof((r)->tracking_no), (r)->title, sizeof((r)->title),                  \
        PICKUP_POINT_OUTPUTS(&(r)->pickup_point), &(r)->orders, &(r)->qty, &(r)->collected

int lb_store_station_shipments(lb_db_t *db, int64_t station_id, int64_t before, int64_t limit, lb_station_shipment_t *out,
                               size_t *found)
{
    /* The station's points by pickup_points_station, each point's shipments by shipments_pickup_point (sql/016). */
    static const char sql[] = STATION_SHIPMENT_SELECT "WHERE p.station_id = ? AND (? = 0 OR s.id < ?) ORDER BY s.id DESC LIMIT ?";
    int ret = lb_db_query(db, sql, "iiii", station_id, before, before, limit);
    for (*found = 0; ret == 0 && *found < (size_t)limit; ++*found)
        if ((ret = lb_db_fetch(db, STATION_SHIPMENT_TYPES, STATION_SHIPMENT_OUTPUTS(&out[*found]))) != 0)
            break;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_station_shipment_get(lb_db_t *db, int64_t id, lb_station_shipment_t *shipment, int64_t *station_id)
{
    static const char sql[] = STATION_SHIPMENT_SELECT "WHERE s.id = ?";
    int ret = lb_db_query_row(db, sql, "i", STATION_SHIPMENT_TYPES, id, STATION_SHIPMENT_OUTPUTS(shipment));
    *station_id = ret == 0 ? shipment->pickup_point.station_id : 0;
    return ret;
}

/* The last four digits of a phone number ("" when it has fewer than four). */
static void last_four_digits(const char *phone, char out[5])
{
    size_t n = 0;
    for (const char *p = phone + strlen(phone); p != phone && n != 4;)
        if (isdigit((unsigned char)*--p))
            out[3 - n++] = *p;
    if (n == 4)
        out[4] = '\0';
    else
        out[0] = '\0';
}

int lb_store_pick_list(lb_db_t *db, int64_t shipment_id, lb_pick_entry_t **out, size_t *found)
{
    static const char sql[] =
        "SELECT o.id, o.buyer_id, o.qty, COALESCE(c.collected_at, 0), o.status, COALESCE(o.ship_to_name, ''), "
        "COALESCE(o.ship_to_phone, '') FROM shipment_orders so "
        "JOIN orders o ON o.sku_id = so.sku_id AND o.id = so.order_id "
        "LEFT JOIN order_collections c ON c.sku_id = so.sku_id AND c.order_id = so.order_id "
        "WHERE so.shipment_id = ? ORDER BY o.id";
    char phone[LB_TEXT_SIZE(32)];
    size_t cap = 0;
    int ret = lb_db_query(db, sql, "i", shipment_id);
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        lb_pick_entry_t *e = &(*out)[*found];
        if ((ret = lb_db_fetch(db, "iiiisss", &e->order_id, &e->buyer_id, &e->qty, &e->collected_at, e->status, sizeof(e->status),
                               e->buyer_name, sizeof(e->buyer_name), phone, sizeof(phone))) != 0)
            break;
        last_four_digits(phone, e->phone_last4);
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_order_shipment(lb_db_t *db, int64_t sku_id, int64_t order_id, int64_t *shipment_id)
{
    static const char sql[] = "SELECT shipment_id FROM shipment_orders WHERE sku_id = ? AND order_id = ?";
    return lb_db_query_row(db, sql, "ii", "i", sku_id, order_id, shipment_id);
}

int lb_store_collection_insert(lb_db_t *db, int64_t sku_id, int64_t order_id, int64_t shipment_id, int64_t station_id, int64_t now)
{
    static const char sql[] = "INSERT INTO order_collections (sku_id, order_id, shipment_id, station_id, collected_at) "
                              "VALUES (?, ?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "iiiii", sku_id, order_id, shipment_id, station_id, now);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_collection_get(lb_db_t *db, int64_t sku_id, int64_t order_id, int64_t *station_id, int64_t *collected_at)
{
    static const char sql[] = "SELECT station_id, collected_at FROM order_collections WHERE sku_id = ? AND order_id = ?";
    return lb_db_query_row(db, sql, "ii", "ii", sku_id, order_id, station_id, collected_at);
}
