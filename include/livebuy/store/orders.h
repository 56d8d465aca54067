/*
 * The statements on orders one at a time (or a page at a time): reads by id, locks, status changes, releases.
 * Worker threads; 0 or an LB_E* code (LB_ENOTFOUND for a row that is not there).
 */
#ifndef LIVEBUY_STORE_ORDERS_H
#define LIVEBUY_STORE_ORDERS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"

/* *order, or LB_ENOTFOUND. Found through the order directory (sql/005_order_blocks.sql). */
int lb_store_order_get(lb_db_t *db, int64_t id, lb_order_t *order);
/*
 * The same, and the order directory's block that holds it: its first id, SKU and size, and, for a block of several
 * SKUs (block->several), the SKU of each of its ids (first_id + i at skus[i]; *num_skus of them, at most
 * LB_ORDER_ID_BLOCK). In one statement.
 */
int lb_store_order_get_with_block(lb_db_t *db, int64_t id, lb_order_t *order, lb_order_block_t *block, int64_t *skus,
                                  size_t *num_skus);
/*
 * The first id of the order directory's block that holds id (any thread, no database), or 0 for an id older than the
 * sequence or before this process has read the sequence's lattice (its first batch or order read does).
 */
int64_t lb_store_order_block_of(int64_t id);
/* Inside a transaction that holds the SKU row: locks the order (FOR UPDATE) and reads it, or LB_ENOTFOUND. */
int lb_store_order_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_order_t *order);
/* Locks and reads those of the n orders (distinct ids) that exist on this SKU, in one statement; out holds n. */
int lb_store_orders_lock(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_order_t *out, size_t *found);
/*
 * The same for orders of several SKUs, refs[0..n) sorted by SKU, then id (locked in that order); skus[0..num_skus)
 * their distinct SKUs, which the statement names (a sharded front prunes by them).
 */
int lb_store_orders_lock_refs(lb_db_t *db, const lb_order_ref_t *refs, size_t n, const int64_t *skus, size_t num_skus,
                              lb_order_t *out, size_t *found);
/* Sets a (locked) order's status and updated_at, in the row and in *order. */
int lb_store_order_set_status(lb_db_t *db, lb_order_t *order, const char *status, int64_t now);
/* Writes the status and updated_at that orders[0..n) (locked) hold in memory into their rows, in one round trip. */
int lb_store_orders_write_status(lb_db_t *db, const lb_order_t *const *orders, size_t n);
/*
 * Marks locked, reserved orders[0..n) cancelled or expired (status), their SKUs' rows locked too, and returns their units
 * to their SKUs, or to their live items' quotas (which the SKUs hold again); a group-buy join no longer counts in its
 * campaign's joined quantity. At once: one statement for the orders, one for the SKUs' counters, one for the live items
 * on air; a statement each for a live item off air and a group-buy. *restocked gets the distinct SKUs (at most n, the
 * caller's array), *num_restocked how many.
 */
int lb_store_orders_release(lb_db_t *db, lb_order_t *orders, size_t n, const char *status, int64_t now, int64_t *restocked,
                            size_t *num_restocked);
/* The same for the orders that orders[0..n) point to (an action lane's job gathers its cancellations so). */
int lb_store_orders_release_each(lb_db_t *db, lb_order_t *const *orders, size_t n, const char *status, int64_t now,
                                 int64_t *restocked, size_t *num_restocked);
/*
 * Marks a locked, paid order refund_required (refunded before it was handed to shipping) and returns its units from
 * sold where a released reservation's go (lb_store_orders_release).
 */
int lb_store_order_unsell(lb_db_t *db, lb_order_t *order, int64_t now);

/*
 * The details the answers show of orders[0..n) (distinct ids, of any SKUs) into details[0..n), in one statement of plain
 * reads (livebuy/model/order.h): inside the caller's transaction they are what it sees, its own changes included.
 */
int lb_store_orders_details(lb_db_t *db, const lb_order_t *orders, size_t n, lb_order_details_t *details);
/*
 * The same for one order, every table read under its SKU: what a transaction of the SKU's reads, so that on a sharded
 * deployment it stays on the SKU's backend (docs/scale-out.md; the list above joins SKUs that come from JSON, which
 * Spider cannot tell apart and asks every backend for).
 */
int lb_store_order_details(lb_db_t *db, const lb_order_t *order, lb_order_details_t *details);
/*
 * The details of the orders that orders[0..n) point to, into *details[i], inside a transaction that holds their SKUs
 * (of one shard): in one statement (lb_store_orders_details), or, on a sharded deployment, one per order under its SKU
 * (lb_store_order_details), so that the transaction stays on its backend.
 */
int lb_store_orders_details_each(lb_db_t *db, const lb_order_t *const *orders, size_t n, lb_order_details_t *const *details);
/*
 * A page of a buyer's orders, newest first: those with ids below before, of status unless it is NULL, at most limit of
 * them into out (which holds limit); *found gets the count. Through the buyers' index (livebuy/store/buyer_orders.h),
 * which has every committed order.
 */
int lb_store_buyer_orders_page(lb_db_t *db, int64_t buyer_id, const char *status, int64_t before, int64_t limit, lb_order_t *out,
                               size_t *found);

/*
 * orders has no index on merchant_id, nor on live_item_id (every order would pay for them, docs/design.md): a merchant's
 * orders are found through its SKUs and a host's through its live items, each SKU's a range of the primary key
 * (sku_id, id), up to LB_STORE_SKUS_PER_STATEMENT SKUs a statement (livebuy/order/merchant_orders.h merges the
 * statements' pages).
 */
#define LB_STORE_SKUS_PER_STATEMENT 32
/* One SKU's orders that a merchant sees: all of them (the SKU is its own), or only those on some of its live items. */
typedef struct st_lb_order_source_t {
    int64_t sku_id;
    char *live_items; /* NULL: all; else the live items' ids, comma-separated ("3,17"), malloc'd */
} lb_order_source_t;
/*
 * Where merchant's orders are, into *sources (malloc'd, *n long; free it with lb_store_order_sources_free, also on
 * error): each of its own SKUs, all of their orders; and for a host, each other merchant's SKU that the host's live
 * items are on, the orders on those items. Each SKU once, so each order is in one source.
 */
int lb_store_merchant_order_sources(lb_db_t *db, const lb_merchant_t *merchant, lb_order_source_t **sources, size_t *n);
void lb_store_order_sources_free(lb_order_source_t *sources, size_t n);
/*
 * The first limit orders by id of sources[0..n) (n <= LB_STORE_SKUS_PER_STATEMENT) with ids in (after, before) that
 * the filter takes, into out (which holds limit); *found gets the count. created_at has no index: a range reads the
 * SKU's orders from after on and skips those outside it.
 */
int lb_store_sku_orders_page(lb_db_t *db, const lb_order_source_t *sources, size_t n, const lb_order_filter_t *filter,
                             int64_t after, int64_t before, int64_t limit, lb_order_t *out, size_t *found);

#endif
