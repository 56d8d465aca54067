/*
 * Payment notifies (API.md "Payment provider"): what a provider's "this order is paid" does to the order, the stock and
 * the shipping outbox, in one transaction on the order's SKU (on a worker).
 */
#ifndef LIVEBUY_PAYMENT_H
#define LIVEBUY_PAYMENT_H

#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/order/sku_actions.h"
#include "livebuy/model/order.h"

#define LB_PROVIDER_TXN_ID_MAX 128

typedef enum en_lb_payment_outcome_t {
    LB_PAYMENT_APPLIED,         /* the order is paid now (reserved, or re-reserved after it expired) */
    LB_PAYMENT_REPLAYED,        /* this transaction id was recorded before: nothing changed */
    LB_PAYMENT_REFUND_REQUIRED, /* recorded, but the money goes back: paid otherwise already, or its stock is gone */
    LB_PAYMENT_WRONG_AMOUNT,    /* not the order's amount: nothing changed */
    LB_PAYMENT_TXN_REUSED,      /* the transaction id was recorded for another order: nothing changed */
    LB_PAYMENT_NOT_FOUND,       /* no such order */
} lb_payment_outcome_t;

typedef struct st_lb_payment_t {
    /* In. */
    int64_t order_id, amount_cents;
    const char *provider_txn_id;
    lb_order_t *order; /* the caller's, as locked; lb_payment_settle leaves it as the transaction left it */
    /* Out. */
    lb_payment_outcome_t outcome;
    int refund_required; /* this transaction's money must go back (now, or when it was first recorded) */
    int64_t refund_id;   /* the refund made now for it (0: none made now), of cause refund_cause */
    const char *refund_cause;
} lb_payment_t;

/*
 * Applies a notify to payment->order, with the SKU row and the order locked (sku: the batch's view of it): sets payment->outcome
 * and returns 1 when it changed something (the caller commits), 0 when not, or an LB_EDB_* code (LB_EDB_RETRY: run
 * the transaction again). The same transaction id applied twice, even at once from many processes, changes the order
 * once (the SKU row lock orders them, payments_txn refuses a second row). Notifies reach it through the SKU's action
 * lane (livebuy/sku_actions.h).
 */
int lb_payment_settle(lb_db_t *db, lb_payment_t *payment, lb_sku_view_t *sku, int64_t now);

#endif
