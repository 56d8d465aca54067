/*
 * The refunds' statements (sql/013_refunds.sql): a refund is written in the transaction that decides it
 * (server/order/refund.c), decided by its co-op, pushed by the refund outbox and confirmed by the provider. Worker
 * threads; 0 or an LB_E* code (LB_ENOTFOUND).
 */
#ifndef LIVEBUY_STORE_REFUNDS_H
#define LIVEBUY_STORE_REFUNDS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/order.h"
#include "livebuy/model/refund.h"

/* A refund, read without a lock (to find its SKU: the SKU row is locked before it), or LB_ENOTFOUND. */
int lb_store_refund_get(lb_db_t *db, int64_t id, lb_refund_t *refund);
/*
 * Inside a transaction that holds the refund's SKU row: locks the refund (FOR UPDATE) and reads it, or LB_ENOTFOUND. By
 * id and SKU (lb_store_refund_get's), so that a sharded database looks on one backend; the calls below that write a
 * refund name its SKU too.
 */
int lb_store_refund_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_refund_t *refund);
/*
 * A (locked) refund's provider outcome: status refunded or failed, last_error (NULL: as it was), provider_refund_id
 * (NULL: as it was), claim let go; updated in the row and in *refund.
 */
int lb_store_refund_set_outcome(lb_db_t *db, lb_refund_t *refund, const char *status, const char *last_error,
                                const char *provider_refund_id, int64_t now);

/*
 * Inserts a refund (refund's sku_id, order_id, buyer_id, coop_id, provider_txn_id, amount_cents, cause, reason and
 * status), due now; sets its id, created_at and the other columns as the row has them. LB_EDB_DUP when the payment has
 * a refund already (refunds_payment).
 */
int lb_store_refund_create(lb_db_t *db, lb_refund_t *refund, int64_t now);
/* The refund of a payment transaction of the SKU, or LB_ENOTFOUND. */
int lb_store_refund_of_payment(lb_db_t *db, int64_t sku_id, const char *provider_txn_id, lb_refund_t *refund);
/* The latest refund of an order, or LB_ENOTFOUND. */
int lb_store_refund_of_order(lb_db_t *db, int64_t sku_id, int64_t order_id, lb_refund_t *refund);
/*
 * A co-op's decision on a (locked) refund: its status; reason (NULL: as it was); for a refund sent again (pending), the
 * push starts afresh: attempts 0, due now, no claim. Updated in the row and in *refund.
 */
int lb_store_refund_set_status(lb_db_t *db, lb_refund_t *refund, const char *status, const char *reason, int64_t now);
/* A page of a co-op's refunds by id (ids above after), in status (NULL: any); out has room for limit. */
int lb_store_coop_refunds(lb_db_t *db, int64_t coop_id, const char *status, int64_t after, int64_t limit, lb_refund_t *out,
                          size_t *found);
/*
 * The goods of an order refunded after they were handed to shipping have left: its units leave the SKU's sold and its
 * stock (a live item's sold and quota too), and the stock ledger gets the change (refund_after_handoff, by livebuy:
 * merchant_id NULL, whoever approved). Inside the transaction that holds the SKU row.
 */
int lb_store_refund_goods_gone(lb_db_t *db, const lb_order_t *order, int64_t now);

#endif
