/*
 * The stock ledger's statements (sql/014_catalogue.sql): a change of a SKU's stock and its entry, written in one
 * transaction, and the entries read back. Like every store function, each runs on a worker thread with that thread's
 * connection (livebuy/db/db.h) and returns 0 or an LB_E* code (livebuy/common.h).
 */
#ifndef LIVEBUY_STORE_LEDGER_H
#define LIVEBUY_STORE_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/model/sku.h"
#include "livebuy/model/stock.h"

/*
 * Inserts entry (its sku_id, kind, delta, stock_after, merchant_id, order_id, reason, created_at; id set after) in the
 * caller's transaction, which changed the SKU's stock by entry->delta under the SKU row lock: every place that changes
 * skus.stock calls this in the same transaction, so that a SKU's entries always add up to its stock.
 */
int lb_store_ledger_append(lb_db_t *db, lb_ledger_entry_t *entry);

/*
 * Changes a SKU's stock by entry->delta (kind restock or adjust) for merchant_id, in one transaction: the SKU row locked,
 * the rule (lb_stock_change_check) applied, the stock changed and the entry written (stock_after, created_at and
 * merchant_id filled in). *sku gets the SKU after the change; on LB_ECONFLICT (the rule refused it) the SKU as it was,
 * to explain why (lb_stock_change_explain). LB_ENOTFOUND: no such SKU; LB_EFORBIDDEN: another merchant's (sku->id set).
 */
int lb_store_sku_change_stock(lb_db_t *db, int64_t merchant_id, lb_ledger_entry_t *entry, lb_sku_t *sku);

/* A page of a SKU's entries by id (oldest first), after `after`, at most limit (out must hold that many). */
int lb_store_ledger_page(lb_db_t *db, int64_t sku_id, int64_t after, int64_t limit, lb_ledger_entry_t *out, size_t *found);

#endif
