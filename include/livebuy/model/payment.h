/* Payments as they are recorded, one per provider transaction. */
#ifndef LIVEBUY_MODEL_PAYMENT_H
#define LIVEBUY_MODEL_PAYMENT_H

#include <stdint.h>

/* A payment to record: of order_id (of SKU sku_id), under a provider's transaction id, applied or (refund_required) not. */
typedef struct st_lb_payment_row_t {
    int64_t order_id, amount_cents;
    const char *provider_txn_id;
    int refund_required;
    int64_t sku_id;
} lb_payment_row_t;

#endif
