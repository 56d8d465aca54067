/*
 * The buyers' index of orders (sql/015_buyer_orders.sql): buyer_orders, written after the fact from the order
 * directory's blocks by server/jobs/buyer_index.c. Worker threads; 0 or an LB_E* code.
 */
#ifndef LIVEBUY_STORE_BUYER_ORDERS_H
#define LIVEBUY_STORE_BUYER_ORDERS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"

/*
 * A derived table of one buyer's orders, (sku_id, order_id), for a listing's FROM: the ones in buyer_orders and, read in
 * the same statement, those of the blocks not listed yet (of one SKU: a range of its orders; of several, sql/021: each
 * id with the SKU its list gives it), so an order is there from its commit on. Its parameters, in order: buyer id, ids
 * below (INT64_MAX: from the newest), then buyer id and ids below again twice ("iiiiii"). Join orders on
 * (sku_id, id) = (sku_id, order_id) for the rest.
 */
#define LB_BUYER_ORDER_IDS                                                                                                         \
    "(SELECT sku_id, order_id FROM buyer_orders WHERE buyer_id = ? AND order_id < ? UNION ALL "                                    \
    "SELECT o.sku_id, o.id FROM order_blocks b JOIN orders o ON o.sku_id = b.sku_id AND o.id >= b.first_id AND "                   \
    "o.id < b.first_id + b.size WHERE b.listed = 0 AND b.skus IS NULL AND o.buyer_id = ? AND o.id < ? UNION ALL "                  \
    "SELECT o.sku_id, o.id FROM order_blocks b JOIN JSON_TABLE(b.skus, '$[*]' COLUMNS (n FOR ORDINALITY, "                         \
    "sku BIGINT UNSIGNED PATH '$')) s JOIN orders o ON o.sku_id = s.sku AND o.id = b.first_id + s.n - 1 "                          \
    "WHERE b.listed = 0 AND b.skus IS NOT NULL AND o.buyer_id = ? AND o.id < ?)"

/*
 * Takes up to limit blocks of the order directory not yet listed (the oldest, of the oldest one's shard: SKU id modulo
 * shards; skipping those another process holds), copies their orders into buyer_orders and marks them listed, in one
 * transaction; *listed gets how many blocks, *more whether limit blocks or more were waiting (of any shard).
 */
int lb_store_buyer_orders_index(lb_db_t *db, size_t limit, unsigned shards, size_t *listed, int *more);

#endif
