/*
 * The statements on offers (a co-op's agreement that a host may put one of its SKUs on air): making, reading, listing
 * and moving them, and placing an item's quota under one. Worker threads; 0 or an LB_E* code (LB_ENOTFOUND).
 *
 * Lock order: a transaction that locks an offer row locks it before the SKU row (live item creation and closing); the
 * order path never locks offers.
 */
#ifndef LIVEBUY_STORE_OFFERS_H
#define LIVEBUY_STORE_OFFERS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/live.h"
#include "livebuy/model/offer.h"

/* Inserts a pending offer with offer's sku_id, coop_id, host_id and terms; sets its id, status, placed and created_at. */
int lb_store_offer_create(lb_db_t *db, lb_offer_t *offer, int64_t now);
/* *offer with its title and the parties' names, or LB_ENOTFOUND. */
int lb_store_offer_get(lb_db_t *db, int64_t id, lb_offer_t *offer);

/* Which offers a listing shows: those made by (side LB_OFFER_COOP) or to (LB_OFFER_HOST) merchant_id. */
typedef struct st_lb_offer_filter_t {
    lb_offer_party_t side;
    int64_t merchant_id;
    int status;     /* an lb_offer_status_t, or -1 for any */
    int64_t sku_id; /* 0 for any */
} lb_offer_filter_t;
/* A page of offers by id, after `after`, at most limit (out must hold that many); *found gets the count. */
int lb_store_offers_list(lb_db_t *db, const lb_offer_filter_t *filter, int64_t after, int64_t limit, lb_offer_t *out,
                         size_t *found);

/*
 * Applies action by merchant_id to offer id in one transaction (the row locked; lb_offer_move decides) and reads it back
 * into *offer. LB_ENOTFOUND when there is no such offer or merchant_id is neither of its parties; LB_EFORBIDDEN and
 * LB_ECONFLICT as lb_offer_move says (*offer then holds the offer as it is).
 */
int lb_store_offer_move(lb_db_t *db, int64_t id, int64_t merchant_id, lb_offer_action_t action, int64_t now, lb_offer_t *offer);

/*
 * Within the caller's transaction, before it locks the SKU row: locks the offer that item (its sku_id, quota,
 * price_cents) goes on air under for host_id and checks it (lb_offer_check). The offer is item->offer_id when that is
 * not 0 (*rule LB_OFFER_UNKNOWN when it is not an offer to host_id), else the host's offer of the SKU that is accepted
 * and current with most left, or failing that the one with most left, the latest of equals (LB_OFFER_NONE when there is
 * none). When *rule is LB_OFFER_USABLE, the item's quota is added to the offer's placed. *offer gets the offer (without
 * names). Returns 0 whatever the rule, or an LB_E* code of the database.
 */
int lb_store_offer_place(lb_db_t *db, const lb_live_item_t *item, int64_t host_id, int64_t now, lb_offer_t *offer,
                         lb_offer_rule_t *rule);
/* Within the caller's transaction: locks the offer row of that SKU (FOR UPDATE), or LB_ENOTFOUND. */
int lb_store_offer_lock(lb_db_t *db, int64_t sku_id, int64_t id);
/* Within the caller's transaction, the offer locked: what closing an item gave back comes off the offer's placed. */
int lb_store_offer_release(lb_db_t *db, int64_t sku_id, int64_t id, int64_t released);

#endif
