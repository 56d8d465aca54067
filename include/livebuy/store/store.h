/*
 * The data-access module: every SQL statement of livebuy lives here, run through the prepared-statement helpers of
 * db.h on a worker thread. Functions return 0 (or 1/0 for "found") or an LB_E* code.
 */
#ifndef LIVEBUY_STORE_H
#define LIVEBUY_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/base/token.h"
#include "livebuy/model/group_buy.h"
#include "livebuy/model/live.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"
#include "livebuy/model/payment.h"
#include "livebuy/model/reservation.h"
#include "livebuy/model/shipment.h"
#include "livebuy/model/sku.h"

/* A trivial round trip: is the database there? */
int lb_store_ping(lb_db_t *db);

int lb_store_merchant_create(lb_db_t *db, const char *name, lb_merchant_kind_t kind, const uint8_t token_hash[LB_TOKEN_HASH_SIZE],
                             int64_t *id);
/* 1 and *merchant when a merchant has this token hash, 0 when none has. */
int lb_store_merchant_by_token(lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], lb_merchant_t *merchant);

/* Inserts a product and its SKUs in one transaction; fills skus[i].id and the product's id. */
int lb_store_product_create(lb_db_t *db, int64_t merchant_id, const lb_product_t *product, lb_sku_t *skus, size_t num_skus,
                            int64_t *product_id);

/* 1 and *sku when it exists, 0 when not. */
int lb_store_sku_get(lb_db_t *db, int64_t id, lb_sku_t *sku);
/*
 * Adds qty to a SKU's stock, if merchant_id owns it; returns 1 with the SKU after the change, 0 when there is no such
 * SKU, LB_EFORBIDDEN when another merchant owns it, LB_ECONFLICT when the stock would pass LB_STOCK_MAX.
 */
int lb_store_sku_restock(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t qty, lb_sku_t *sku);

/* The order path's statements (one batch = one transaction on one SKU; see reserve.c). */
/* Locks the SKU row (FOR UPDATE) and reads it; 1 found, 0 not. */
int lb_store_sku_lock(lb_db_t *db, int64_t id, lb_sku_t *sku);
/* Locks a live item of this SKU and fills target (found = 0 when it does not exist or draws on another SKU). */
int lb_store_live_item_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target);
/* Locks a group-buy of this SKU and fills target (found = 0 when it does not exist or sells another SKU). */
int lb_store_group_buy_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target);
int lb_store_group_buy_add_joined(lb_db_t *db, int64_t id, int64_t delta);
/* Orders of this SKU that hold one of the requests' (buyer, key) pairs; *out is malloc'd (the caller frees it). */
int lb_store_orders_by_keys(lb_db_t *db, int64_t sku_id, const lb_order_request_t *const *requests, size_t n,
                            lb_existing_order_t **out, size_t *found);
/* Those of the ids that are orders of this SKU (order_id, amount_cents and expires_at set; no key); *out as above. */
int lb_store_orders_by_ids(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_existing_order_t **out, size_t *found);
/* Units each of the buyers holds through live items and group-buys of this SKU (active orders): one entry per order. */
int lb_store_buyer_usage(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n, lb_buyer_usage_t **out, size_t *found);
/*
 * Inserts the granted requests (outcome RESERVED, in list order) as orders and sets their order_id; the keys that can be
 * asked for again get their order_keys rows (LB_EDB_DUP when one is taken), and the group-buy joins among them their
 * group_buy_orders rows (the index lb_store_group_buy_joins reads).
 */
int lb_store_orders_insert(lb_db_t *db, lb_order_request_t *const *granted, size_t n, int64_t now);
/* Moves units between the SKU's counters after a batch: reserved += reserved_delta, held -= from_held. */
int lb_store_sku_add_reserved(lb_db_t *db, int64_t sku_id, int64_t reserved_delta, int64_t from_held, int64_t now);
int lb_store_live_item_add_reserved(lb_db_t *db, int64_t id, int64_t delta);
/* The general moves behind those two: each counter += its delta (payment moves reserved or held units to sold). */
int lb_store_sku_add_counts(lb_db_t *db, int64_t sku_id, int64_t reserved, int64_t sold, int64_t held, int64_t now);
int lb_store_live_item_add_counts(lb_db_t *db, int64_t id, int64_t reserved, int64_t sold);

/* Where a live item draws from, for routing a request to its SKU's lane: 1 and the fields, or 0 when there is none. */
int lb_store_live_item_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *opens_at);
/* Where a group-buy draws from and delivers to: 1 and the fields, or 0 when there is none. */
int lb_store_group_buy_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *closes_at, int64_t *pickup_point_id);
/* 1 when the pickup point exists, 0 when not. */
int lb_store_pickup_point_exists(lb_db_t *db, int64_t id);

/* ---- Lives, live items and order reads (handlers/lives.c, handlers/orders_read.c) ---------------------------------- */

int lb_store_live_create(lb_db_t *db, int64_t merchant_id, const char *title, int64_t starts_at, int64_t *id);
/* 1 and *live when it exists, 0 when not. */
int lb_store_live_get(lb_db_t *db, int64_t id, lb_live_t *live);
/*
 * Puts an item on air, taking its quota from the SKU's stock in one transaction (the SKU row locked): 1 with item->id
 * set, 0 when there is no such SKU, LB_ECONFLICT with *sku_available set when the SKU has less than the quota available.
 */
int lb_store_live_item_create(lb_db_t *db, lb_live_item_t *item, int64_t *sku_available);
/* The items of a live by id; *out is malloc'd (the caller frees it), *found its length. */
int lb_store_live_items(lb_db_t *db, int64_t live_id, lb_live_item_t **out, size_t *found);

/* 1 and *order when it exists, 0 when not. */
int lb_store_order_get(lb_db_t *db, int64_t id, lb_order_t *order);
/*
 * The SKU of order id when this process knows the block of the order directory that holds it (from the blocks it made
 * and the orders it read; any thread, no database), else 0. The order itself may not exist.
 */
int64_t lb_store_order_sku_known(int64_t id);
/*
 * A buyer's cancellation, inside a transaction that holds the SKU row and the order (livebuy/sku_actions.h): 1 when
 * it is cancelled now and its units are back (to the live item's quota when it has one); 0 when it is not this buyer's
 * order; LB_ECONFLICT when it is not reserved; or an LB_EDB_* code.
 */
int lb_store_order_cancel_locked(lb_db_t *db, lb_order_t *order, int64_t buyer_id, int64_t now);
/* Inside a transaction that holds the SKU row: locks the order (FOR UPDATE) and reads it; 1 found, 0 not. */
int lb_store_order_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_order_t *order);
/* Locks and reads those of the n orders (distinct ids) that exist on this SKU, in one statement; out holds n. */
int lb_store_orders_lock(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_order_t *out, size_t *found);
/* Sets a (locked) order's status and updated_at, in the row and in *order. */
int lb_store_order_set_status(lb_db_t *db, lb_order_t *order, const char *status, int64_t now);
/*
 * A page of a merchant's orders by id, after `after`, at most limit (out must hold that many), of one status when
 * status is not NULL; *found gets the count. Found through the merchant's SKUs (orders has no merchant index): one
 * statement per 32 of them.
 */
int lb_store_merchant_orders(lb_db_t *db, int64_t merchant_id, const char *status, int64_t after, int64_t limit, lb_order_t *out,
                             size_t *found);

/* Inserts a pickup point of the merchant's network; sets point->id. */
int lb_store_pickup_point_create(lb_db_t *db, int64_t merchant_id, lb_pickup_point_t *point);
/* Up to limit pickup points with ids above after, in id order; *found of them. */
int lb_store_pickup_points_list(lb_db_t *db, int64_t after, int64_t limit, lb_pickup_point_t *points, size_t *found);
/*
 * Opens a group-buy on a SKU the merchant owns: 1 with gb->id set, 0 when there is no such SKU, LB_EFORBIDDEN when
 * another merchant owns it, LB_ENOTFOUND when there is no such pickup point.
 */
int lb_store_group_buy_create(lb_db_t *db, lb_group_buy_t *gb);
/* 1 and *gb when it exists, 0 when not. */
int lb_store_group_buy_get(lb_db_t *db, int64_t id, lb_group_buy_t *gb);
/* 1 and *point when it exists, 0 when not. */
int lb_store_pickup_point_get(lb_db_t *db, int64_t id, lb_pickup_point_t *point);

/* ---- Expiry (server/jobs/sweeper.c) ----------------------------------------------------------------------------------- */

/* Up to limit blocks with a reserved order due at now, soonest first (index order_blocks_due); out holds limit. */
int lb_store_order_blocks_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_block_t *out, size_t *found);
/*
 * In one transaction (the SKU row locked first): expires the reserved orders of the SKU's blocks[0..n) that are due at
 * now, returning their units as a cancellation does, and moves each block's due time to its next reserved order's
 * expiry (none when no order of it is reserved any more); *expired gets how many. Another process's sweeper or a
 * payment may have got there first: such orders are skipped.
 */
int lb_store_order_blocks_expire(lb_db_t *db, int64_t sku_id, const lb_order_block_t *blocks, size_t n, int64_t now,
                                 size_t *expired);

/* ---- Payments and the shipping outbox (server/order/payment.c) --------------------------------------------------------- */

/*
 * The payments recorded on this SKU under the n transaction ids txns, in one statement: out (room for n) gets one row
 * for each id that has one (provider_txn_id pointing to the txns entry; amount_cents not read), *found their number.
 */
int lb_store_payments_recorded(lb_db_t *db, int64_t sku_id, const char *const *txns, size_t n, lb_payment_row_t *out,
                               size_t *found);
/* Records rows[0..n), payments of SKU sku_id, as one statement; LB_EDB_DUP when a transaction id is recorded already. */
int lb_store_payments_insert(lb_db_t *db, int64_t sku_id, const lb_payment_row_t *rows, size_t n, int64_t now);
/* What a shipment says about a SKU: the product's title and the SKU's name, and whether it travels cold. 1, or 0. */
int lb_store_sku_shipping(lb_db_t *db, int64_t sku_id, char title[LB_TEXT_SIZE(401)], int64_t *cold_chain);

/* Inserts a pending shipment, due now, and its shipment_orders rows; *id gets its id (the shipment_id it is sent as). */
int lb_store_shipment_create(lb_db_t *db, const lb_shipment_t *shipment, int64_t now, int64_t *id);
/* Inserts shipments[0..n) (no group-buy, one order each) as lb_store_shipment_create would, in a few statements. */
int lb_store_shipments_create(lb_db_t *db, const lb_shipment_t *shipments, size_t n, int64_t now);

/* ---- The group-buy closer (server/jobs/closer.c) ------------------------------------------------------------------- */

/* Marks a locked, reserved order as status (cancelled, expired) and returns its units where they came from. */
int lb_store_order_release(lb_db_t *db, lb_order_t *order, const char *status, int64_t now);
/* Open group-buys whose cut-off has come, as (sku_id, id) pairs, oldest cut-off first. */
int lb_store_group_buys_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_ref_t *out, size_t *found);
/* Locks a group-buy row (after its SKU row) and reads it: 1, or 0 when there is none. */
int lb_store_group_buy_lock_row(lb_db_t *db, int64_t id, lb_group_buy_t *gb);
/* The campaign's joins in a status, locked, in id order; *out is malloc'd (the caller frees it). */
int lb_store_group_buy_joins(lb_db_t *db, int64_t sku_id, int64_t group_buy_id, const char *status, lb_order_t **out,
                             size_t *found);
/* Sets the outcome of an open campaign (succeeded, failed). */
int lb_store_group_buy_close(lb_db_t *db, int64_t id, const char *status, int64_t now);

/* ---- The shipping dispatcher, feed and events (server/jobs/dispatcher.c, server/order/shipping.c) -----------------------------
 */

/* Frees the payloads of rows[0..n). */
void lb_store_shipment_rows_free(lb_shipment_row_t *rows, size_t n);
/*
 * In its own transaction: claims up to limit pending shipments that are due at now and not claimed by anyone (or whose
 * claim has run out), skipping rows other transactions hold (SKIP LOCKED), for claimer until claimed_until; reads them
 * with their payloads into out. Several processes claiming at once never get the same row.
 */
int lb_store_shipments_claim(lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit,
                             lb_shipment_row_t *out, size_t *found);
/* Lets go of claimer's claims on pending shipments (a clean stop: another process may send them at once). */
int lb_store_shipments_release(lb_db_t *db, const char *claimer);
/* How many shipments are pending (the outbox backlog). */
int lb_store_shipments_backlog(lb_db_t *db, int64_t *pending);
/*
 * A failed push by claimer: the shipment's attempts, next try and last error are recorded and the claim let go; status
 * becomes dead when dead. Nothing changes when the row was acked meanwhile or is claimed by another process now.
 */
int lb_store_shipment_retry(lb_db_t *db, int64_t id, const char *claimer, int64_t attempts, int64_t next_attempt_at, int dead,
                            const char *error);
/* Inside a transaction: locks a shipment row (FOR UPDATE) and reads it without its payload; 1 found, 0 not. */
int lb_store_shipment_lock(lb_db_t *db, int64_t id, lb_shipment_row_t *row);
/* The SKU of a shipment, read without a lock (it never changes): 1 found, 0 not. */
int lb_store_shipment_sku(lb_db_t *db, int64_t id, int64_t *sku_id);
/* Marks a (locked) pending or dead shipment acked at now; *changed is 0 when it was acked already. */
int lb_store_shipment_set_acked(lb_db_t *db, int64_t id, int64_t now, int *changed);
/* Records a delivery event once: LB_EDB_DUP when this type was recorded for the shipment already. */
int lb_store_shipment_event_insert(lb_db_t *db, int64_t id, const char *type, const char *tracking_no, int64_t now);
/* Sets a (locked) shipment's delivery status and tracking number. */
int lb_store_shipment_set_delivery(lb_db_t *db, int64_t id, const char *delivery_status, const char *tracking_no);
/*
 * Moves the shipment's orders (their SKU row locked first) forward to status along paid -> handed_off -> shipped ->
 * delivered; orders already there or further on, and orders in other states (refunds), are left alone.
 */
int lb_store_shipment_orders_advance(lb_db_t *db, int64_t id, const char *status, int64_t now);
/*
 * In its own transaction: gives up to limit committed shipments that have no place in the feed yet the next places
 * (feed_seq), in id order, under the feed counter's row lock. A place is given only once every shipment before it
 * is committed and placed, so a shipper polling by place never passes one it has not seen (sql/008).
 */
int lb_store_shipments_sequence(lb_db_t *db, size_t limit, size_t *sequenced);
/* A page of the feed: places after `after`, at most limit rows (out holds that many), payloads included. */
int lb_store_shipments_page(lb_db_t *db, int64_t after, int64_t limit, lb_shipment_row_t *out, size_t *found);

/* ---- The co-op dashboard's SKU list (handlers/merchant_skus.c) ----------------------------------------------------- */

/* A page of a merchant's SKUs by id, after `after`, at most limit (out must hold that many); *found gets the count. */
int lb_store_merchant_skus(lb_db_t *db, int64_t merchant_id, int64_t after, int64_t limit, lb_merchant_sku_t *out, size_t *found);

/*
 * Takes a live item of host_id's off air: its quota shrinks to what it reserved and sold, the rest (*released) goes
 * back to the SKU. 1 with the item, 0 when there is no such item, LB_EFORBIDDEN for another host's item,
 * LB_ECONFLICT when it is off air already.
 */
int lb_store_live_item_close(lb_db_t *db, int64_t id, int64_t host_id, lb_live_item_t *item, int64_t *released);

#endif
