/* The statements on payments (server/order/sku_actions.c runs them in a SKU's transaction). Worker threads; 0 or LB_E*. */
#ifndef LIVEBUY_STORE_PAYMENTS_H
#define LIVEBUY_STORE_PAYMENTS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/payment.h"

/*
 * The payments recorded under the n transaction ids txns, each on its SKU skus[i], in one statement: out (room for n)
 * gets one row for each pair that has one (provider_txn_id pointing to the txns entry; amount_cents not read), *found
 * their number.
 */
int lb_store_payments_recorded(lb_db_t *db, const int64_t *skus, const char *const *txns, size_t n, lb_payment_row_t *out,
                               size_t *found);
/* Records rows[0..n) (of any SKUs) as one statement; LB_EDB_DUP when a transaction id is recorded already. */
int lb_store_payments_insert(lb_db_t *db, const lb_payment_row_t *rows, size_t n, int64_t now);

/* The payment that paid an order (applied): its transaction id (room for LB_TEXT_SIZE(128)) and amount, or LB_ENOTFOUND. */
int lb_store_order_payment(lb_db_t *db, int64_t sku_id, int64_t order_id, char *provider_txn_id, size_t size,
                           int64_t *amount_cents);

#endif
