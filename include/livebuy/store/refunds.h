/*
 * The refunds' statements (sql/013_refunds.sql): a refund is written in the transaction that decides it
 * (server/order/refund.c), decided by its co-op, pushed by the refund outbox and confirmed by the provider. Worker
 * threads; 0 or an LB_E* code (LB_ENOTFOUND).
 */
#ifndef LIVEBUY_STORE_REFUNDS_H
#define LIVEBUY_STORE_REFUNDS_H

#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/refund.h"

/* A refund, read without a lock (to find its SKU: the SKU row is locked before it), or LB_ENOTFOUND. */
int lb_store_refund_get(lb_db_t *db, int64_t id, lb_refund_t *refund);
/* Inside a transaction that holds the refund's SKU row: locks the refund (FOR UPDATE) and reads it, or LB_ENOTFOUND. */
int lb_store_refund_lock(lb_db_t *db, int64_t id, lb_refund_t *refund);
/*
 * A (locked) refund's provider outcome: status refunded or failed, last_error (NULL: as it was), provider_refund_id
 * (NULL: as it was), claim let go; updated in the row and in *refund.
 */
int lb_store_refund_set_outcome(lb_db_t *db, lb_refund_t *refund, const char *status, const char *last_error,
                                const char *provider_refund_id, int64_t now);

#endif
