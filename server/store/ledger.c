/* The stock ledger: every change of a SKU's stock, with who made it and why, written with the change itself. */
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/ledger.h"

int lb_store_ledger_append(lb_db_t *db, lb_ledger_entry_t *entry)
{
    /* kind + 0 would read the ENUM's position; it is written by name, the way the schema spells it. */
    static const char sql[] = "INSERT INTO stock_ledger (sku_id, kind, delta, stock_after, merchant_id, order_id, reason, "
                              "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    lb_db_param_t params[] = {LB_DB_INT(entry->sku_id),
                              LB_DB_TEXT(lb_ledger_kinds[entry->kind]),
                              LB_DB_INT(entry->delta),
                              LB_DB_INT(entry->stock_after),
                              entry->merchant_id != 0 ? LB_DB_INT(entry->merchant_id) : LB_DB_NULL,
                              entry->order_id != 0 ? LB_DB_INT(entry->order_id) : LB_DB_NULL,
                              LB_DB_TEXT(entry->reason),
                              LB_DB_INT(entry->created_at)};
    int64_t ret = lb_db_exec_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params));
    if (ret < 0)
        return (int)ret;
    entry->id = lb_db_insert_id(db);
    return 0;
}

int lb_store_sku_change_stock(lb_db_t *db, int64_t merchant_id, lb_ledger_entry_t *entry, lb_sku_t *sku)
{
    static const char sql[] = "UPDATE skus SET stock = ?, updated_at = ? WHERE id = ?";
    int64_t now = lb_now();
    int ret;
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_sku_lock(db, entry->sku_id, sku)) != 0)
        goto Exit;
    if (sku->merchant_id != merchant_id) {
        ret = LB_EFORBIDDEN;
        goto Exit;
    }
    /* Under the row lock: what orders, payments and items committed is in the counters the rule reads. */
    if (lb_stock_change_check(sku, entry->delta) != LB_STOCK_CHANGE_OK) {
        ret = LB_ECONFLICT;
        goto Exit;
    }
    entry->stock_after = sku->stock + entry->delta;
    entry->merchant_id = merchant_id;
    entry->created_at = now;
    int64_t changed = lb_db_exec(db, sql, "iii", entry->stock_after, now, entry->sku_id);
    if (changed < 0) {
        ret = (int)changed;
        goto Exit;
    }
    if ((ret = lb_store_ledger_append(db, entry)) != 0 || (ret = lb_db_commit(db)) != 0)
        goto Exit;
    sku->stock = entry->stock_after;
Exit:
    if (ret != 0)
        lb_db_rollback(db);
    return ret;
}

int lb_store_ledger_page(lb_db_t *db, int64_t sku_id, int64_t after, int64_t limit, lb_ledger_entry_t *out, size_t *found)
{
    /* kind - 1: the ENUM's position from 0, lb_ledger_kind_t's order. */
    static const char sql[] = "SELECT id, sku_id, kind - 1, delta, stock_after, merchant_id, order_id, reason, created_at "
                              "FROM stock_ledger WHERE sku_id = ? AND id > ? ORDER BY id LIMIT ?";
    int ret = lb_db_query(db, sql, "iii", sku_id, after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_ledger_entry_t *e = &out[*found];
        int64_t kind;
        if ((ret = lb_db_fetch(db, "iiiiiiisi", &e->id, &e->sku_id, &kind, &e->delta, &e->stock_after, &e->merchant_id,
                               &e->order_id, e->reason, sizeof(e->reason), &e->created_at)) != 0)
            break;
        e->kind = (lb_ledger_kind_t)kind;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}
