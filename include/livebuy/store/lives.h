/* The statements on lives and live items (a SKU on air with its own quota). Worker threads; 0 or an LB_E* code. */
#ifndef LIVEBUY_STORE_LIVES_H
#define LIVEBUY_STORE_LIVES_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/live.h"
#include "livebuy/model/sku.h"
#include "livebuy/model/offer.h"
#include "livebuy/model/reservation.h"

int lb_store_live_create(lb_db_t *db, int64_t merchant_id, const char *title, int64_t starts_at, int64_t *id);
/* *live, or LB_ENOTFOUND. */
int lb_store_live_get(lb_db_t *db, int64_t id, lb_live_t *live);
/* A page of host_id's lives by id, after `after`, at most limit (out must hold that many); *found gets the count. */
int lb_store_host_lives(lb_db_t *db, int64_t host_id, int64_t after, int64_t limit, lb_live_summary_t *out, size_t *found);
/*
 * Puts an item on air in one transaction, for host_id (whose live it is) at now: for a co-op's SKU, or when
 * item->offer_id names one, under an offer (lb_store_offer_place: the offer row locked first, the quota added to its
 * placed), then the SKU row locked and the quota taken from its stock; sets item->id and item->offer_id (0: none).
 * LB_ENOTFOUND when there is no such SKU; LB_EFORBIDDEN when the offer refuses it (*rule says why, *offer is the offer
 * refused, if any); LB_ECONFLICT when the SKU is retired or has less available than the quota (*sku as locked tells
 * which). Nothing held then.
 */
int lb_store_live_item_create(lb_db_t *db, lb_live_item_t *item, int64_t host_id, int64_t now, lb_offer_t *offer,
                              lb_offer_rule_t *rule, lb_sku_t *sku);
/* The items of a live by id; *out is malloc'd (the caller frees it), *found its length. */
int lb_store_live_items(lb_db_t *db, int64_t live_id, lb_live_item_t **out, size_t *found);
/*
 * Takes a live item off air for merchant_id (the host whose live it is, or the co-op whose SKU it holds): its quota
 * shrinks to what it reserved and sold, the rest (*released) goes back to the SKU and comes off its offer's placed;
 * *item gets the item. Locks the offer, the SKU, then the item. LB_ENOTFOUND when there is no such item, LB_EFORBIDDEN
 * when merchant_id is neither, LB_ECONFLICT when it is off air already.
 */
int lb_store_live_item_close(lb_db_t *db, int64_t id, int64_t merchant_id, lb_live_item_t *item, int64_t *released);
/* A page of the live items on air (not closed) on coop_id's SKUs (sku_id's only, unless 0), by id after `after`, at most
 * limit (out must hold that many); *found gets the count. */
int lb_store_coop_holds(lb_db_t *db, int64_t coop_id, int64_t sku_id, int64_t after, int64_t limit, lb_hold_t *out, size_t *found);

/* ---- The order path ---------------------------------------------------------------------------------------------- */

/* Where a live item draws from, for routing a request to its SKU's lane; LB_ENOTFOUND when there is none. */
int lb_store_live_item_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *opens_at);
/* Locks a live item of this SKU and fills target; target->found = 0 (and 0 returned) when it does not exist or draws on
 * another SKU: the allocation refuses the requests for it. */
int lb_store_live_item_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target);
/* After a batch: the item's reserved += delta. */
int lb_store_live_item_add_reserved(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta);
/* The general move behind it: each counter += its delta (payment moves reserved units to sold). */
int lb_store_live_item_add_counts(lb_db_t *db, int64_t sku_id, int64_t id, int64_t reserved, int64_t sold);
/* A move of one live item's reserved and sold (lb_store_live_items_add_counts). */
typedef struct st_lb_live_item_counts_t {
    int64_t sku_id, id, reserved, sold;
} lb_live_item_counts_t;
/* The moves of several live items (distinct) in one round trip (bulk execution). */
int lb_store_live_items_add_counts(lb_db_t *db, const lb_live_item_counts_t *adds, size_t n);

#endif
