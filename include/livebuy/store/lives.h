/* The statements on lives and live items (a SKU on air with its own quota). Worker threads; 0 or an LB_E* code. */
#ifndef LIVEBUY_STORE_LIVES_H
#define LIVEBUY_STORE_LIVES_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/live.h"
#include "livebuy/model/reservation.h"

int lb_store_live_create(lb_db_t *db, int64_t merchant_id, const char *title, int64_t starts_at, int64_t *id);
/* *live, or LB_ENOTFOUND. */
int lb_store_live_get(lb_db_t *db, int64_t id, lb_live_t *live);
/*
 * Puts an item on air, taking its quota from the SKU's stock in one transaction (the SKU row locked); sets item->id.
 * LB_ENOTFOUND when there is no such SKU, LB_ECONFLICT with *sku_available set when the SKU has less than the quota.
 */
int lb_store_live_item_create(lb_db_t *db, lb_live_item_t *item, int64_t *sku_available);
/* The items of a live by id; *out is malloc'd (the caller frees it), *found its length. */
int lb_store_live_items(lb_db_t *db, int64_t live_id, lb_live_item_t **out, size_t *found);
/*
 * Takes a live item of host_id's off air: its quota shrinks to what it reserved and sold, the rest (*released) goes
 * back to the SKU; *item gets the item. LB_ENOTFOUND when there is no such item, LB_EFORBIDDEN for another host's
 * item, LB_ECONFLICT when it is off air already.
 */
int lb_store_live_item_close(lb_db_t *db, int64_t id, int64_t host_id, lb_live_item_t *item, int64_t *released);

/* ---- The order path ---------------------------------------------------------------------------------------------- */

/* Where a live item draws from, for routing a request to its SKU's lane; LB_ENOTFOUND when there is none. */
int lb_store_live_item_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *opens_at);
/* Locks a live item of this SKU and fills target; target->found = 0 (and 0 returned) when it does not exist or draws on
 * another SKU: the allocation refuses the requests for it. */
int lb_store_live_item_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target);
/* After a batch: the item's reserved += delta. */
int lb_store_live_item_add_reserved(lb_db_t *db, int64_t id, int64_t delta);
/* The general move behind it: each counter += its delta (payment moves reserved units to sold). */
int lb_store_live_item_add_counts(lb_db_t *db, int64_t id, int64_t reserved, int64_t sold);

#endif
