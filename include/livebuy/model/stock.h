/*
 * The stock ledger: every change of a SKU's stock is one entry, with who made it and why, so that a SKU's entries add
 * up to its stock (sql/014_catalogue.sql). The rule of a change (how far stock may go down or up) is pure
 * (server/model/stock.c) and unit-tested; the store writes the entry in the change's own transaction.
 */
#ifndef LIVEBUY_MODEL_STOCK_H
#define LIVEBUY_MODEL_STOCK_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/model/sku.h"
#include "livebuy/model/text.h"

/* Why the stock changed; the names (lb_ledger_kinds) are the schema's and the API's. */
typedef enum en_lb_ledger_kind_t {
    LB_LEDGER_OPENING,              /* the stock a SKU was made with (or had when the ledger began) */
    LB_LEDGER_RESTOCK,              /* POST /v1/skus/{id}/restock */
    LB_LEDGER_ADJUST,               /* POST /v1/skus/{id}/adjust: a correction up or down, with a reason */
    LB_LEDGER_REFUND_AFTER_HANDOFF, /* an order refunded after it was handed to shipping: its goods left the stock */
} lb_ledger_kind_t;
extern const char *const lb_ledger_kinds[]; /* NULL-terminated */

/* The longest reason of an entry, in characters (stock_ledger.reason). */
#define LB_LEDGER_REASON_MAX 200

/* One entry of the ledger. merchant_id 0: livebuy itself; order_id 0: none. */
typedef struct st_lb_ledger_entry_t {
    int64_t id, sku_id;
    lb_ledger_kind_t kind;
    int64_t delta, stock_after, merchant_id, order_id;
    char reason[LB_TEXT_SIZE(LB_LEDGER_REASON_MAX)];
    int64_t created_at;
} lb_ledger_entry_t;

/* What a change of delta units would do to a SKU's stock. */
typedef enum en_lb_stock_change_t {
    LB_STOCK_CHANGE_OK,
    LB_STOCK_CHANGE_BELOW_COMMITTED, /* the new stock would be below reserved + sold + held (or below zero) */
    LB_STOCK_CHANGE_PAST_MAX,        /* the new stock would pass LB_STOCK_MAX */
} lb_stock_change_t;

/* What is promised already: the units the stock may not go below. */
#define LB_SKU_COMMITTED(sku) ((sku)->reserved + (sku)->sold + (sku)->held)

/* The rule of a change of a SKU's stock by delta, as the SKU is (read under its row lock). Pure. */
lb_stock_change_t lb_stock_change_check(const lb_sku_t *sku, int64_t delta);
/*
 * Says why a change was refused, with the numbers, into buf: "stock 100 - 30 = 70 is below reserved 20 + sold 45 +
 * held 10 = 75", or "stock 900000000000 + 200000000000 would pass 1000000000000". Pure.
 */
void lb_stock_change_explain(char *buf, size_t size, const lb_sku_t *sku, int64_t delta);

#endif
