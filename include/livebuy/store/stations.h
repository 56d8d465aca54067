/*
 * The statements of village stations: the shipments coming to a station's pickup points, a shipment's pick list, and
 * the collections that record an order handed out. Worker threads; 0 or an LB_E* code (LB_ENOTFOUND).
 */
#ifndef LIVEBUY_STORE_STATIONS_H
#define LIVEBUY_STORE_STATIONS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/station.h"

/*
 * A page of the shipments to the pickup points bound to station, newest first: ids below before (0: from the newest),
 * at most limit of them into out (which holds that many).
 */
int lb_store_station_shipments(lb_db_t *db, int64_t station_id, int64_t before, int64_t limit, lb_station_shipment_t *out,
                               size_t *found);
/* One shipment as its station sees it, with the station its pickup point is bound to (*station_id, 0: none). */
int lb_store_station_shipment_get(lb_db_t *db, int64_t id, lb_station_shipment_t *shipment, int64_t *station_id);
/* The shipment's orders by id into *out (malloc'd, *found long; the caller frees it, also on error). */
int lb_store_pick_list(lb_db_t *db, int64_t shipment_id, lb_pick_entry_t **out, size_t *found);

/* The shipment an order is in (*shipment_id), or LB_ENOTFOUND when it is in none. */
int lb_store_order_shipment(lb_db_t *db, int64_t sku_id, int64_t order_id, int64_t *shipment_id);
/* Inside the caller's transaction: records that station handed the order out at now; LB_EDB_DUP when it was already. */
int lb_store_collection_insert(lb_db_t *db, int64_t sku_id, int64_t order_id, int64_t shipment_id, int64_t station_id, int64_t now);
/* Who handed the order out (*station_id) and when (*collected_at), or LB_ENOTFOUND when nobody has. */
int lb_store_collection_get(lb_db_t *db, int64_t sku_id, int64_t order_id, int64_t *station_id, int64_t *collected_at);

#endif
