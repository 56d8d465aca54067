/* Expiry: the sweeper's statements, which find the order directory's blocks that fall due and expire their orders. */
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/expiry.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/reservations.h"
#include "internal.h"

int lb_store_order_blocks_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_block_t *out, size_t *found)
{
    static const char sql[] = "SELECT sku_id, first_id, size, skus IS NOT NULL FROM order_blocks WHERE due_at <= ? "
                              "ORDER BY due_at LIMIT ?";
    int ret = lb_db_query(db, sql, "ii", now, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_order_block_t *block = &out[*found];
        int64_t several;
        if ((ret = lb_db_fetch(db, "iiii", &block->sku_id, &block->first_id, &block->size, &several)) != 0)
            break;
        block->several = several != 0;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

#define BLOCK_PAGE 64 /* a block's reserved orders read at a time (a block made before migration 005 can be larger) */

/*
 * Expires the reserved orders of sku_id with ids from first_id up to first_id + size - 1 that are due at now (the SKU row
 * locked); *next_due gets the earliest expiry of those left if it is earlier (or it was 0).
 */
static int expire_orders(lb_db_t *db, int64_t sku_id, int64_t first_id, int64_t size, int64_t now, size_t *expired,
                         int64_t *next_due)
{
    static const char sql[] = "SELECT id, expires_at FROM orders WHERE sku_id = ? AND id > ? AND id < ? "
                              "AND status = 'reserved' ORDER BY id LIMIT ?";
    int64_t ids[BLOCK_PAGE], expiries[BLOCK_PAGE], after = first_id - 1;
    size_t n;
    lb_order_t order;
    int ret;
    do {
        if ((ret = lb_db_query(db, sql, "iiii", sku_id, after, first_id + size, (int64_t)BLOCK_PAGE)) != 0)
            return ret;
        for (n = 0; n != BLOCK_PAGE && (ret = lb_db_fetch(db, "ii", &ids[n], &expiries[n])) == 0; ++n)
            ;
        if (ret != 0 && ret != LB_ENOTFOUND)
            return ret;
        for (size_t i = 0; i != n; ++i) {
            if (expiries[i] > now) {
                *next_due = *next_due == 0 || expiries[i] < *next_due ? expiries[i] : *next_due;
                continue;
            }
            /* Read again under its lock: a payment or another process's sweeper may have got there first. */
            if ((ret = lb_store_order_lock(db, sku_id, ids[i], &order)) == LB_ENOTFOUND)
                continue;
            if (ret != 0)
                return ret;
            if (strcmp(order.status, "reserved") != 0)
                continue;
            if ((ret = lb_store_order_release(db, &order, "expired", now)) != 0)
                return ret;
            ++*expired;
        }
        after = n != 0 ? ids[n - 1] : after;
    } while (n == BLOCK_PAGE);
    return 0;
}

/* Sets block's due_at to next_due, or NULL when it is 0 (none of its orders is reserved any more). */
static int set_due(lb_db_t *db, const lb_order_block_t *block, int64_t next_due)
{
    static const char due_sql[] = "UPDATE order_blocks SET due_at = ? WHERE first_id = ? AND sku_id = ?";
    lb_db_param_t params[] = {next_due != 0 ? LB_DB_INT(next_due) : LB_DB_NULL, LB_DB_INT(block->first_id),
                              LB_DB_INT(block->sku_id)};
    int64_t changed = lb_db_exec_array(db, due_sql, 0, due_sql, params, LB_ARRAY_SIZE(params));
    return changed < 0 ? (int)changed : 0;
}

int lb_store_order_blocks_expire(lb_db_t *db, int64_t sku_id, const lb_order_block_t *blocks, size_t n, int64_t now,
                                 size_t *expired)
{
    lb_sku_t sku;
    int ret;

    /* The SKU row first, as everywhere on the order path. */
    *expired = 0;
    if ((ret = lb_db_begin(db)) != 0 || ((ret = lb_store_sku_lock(db, sku_id, &sku)) != 0 && ret != LB_ENOTFOUND))
        goto Exit;
    for (size_t i = 0; i != n; ++i) {
        int64_t next_due = 0;
        if ((ret = expire_orders(db, sku_id, blocks[i].first_id, blocks[i].size, now, expired, &next_due)) != 0 ||
            (ret = set_due(db, &blocks[i], next_due)) != 0)
            goto Exit;
    }
    ret = lb_db_commit(db);
Exit:
    if (ret < 0) {
        lb_db_rollback(db);
        *expired = 0;
    }
    return ret < 0 ? ret : 0;
}

int lb_store_order_block_expire_skus(lb_db_t *db, const lb_order_block_t *block, int64_t now, int64_t *restocked,
                                     size_t *num_restocked, size_t *expired)
{
    static const char skus_sql[] = "SELECT skus FROM order_blocks WHERE first_id = ? AND sku_id = ?";
    char list[LB_ORDER_BLOCK_SKUS_MAX];
    int64_t skus[LB_ORDER_ID_BLOCK + 1], next_due = 0;
    lb_sku_t locked[LB_ORDER_ID_BLOCK + 1];
    size_t num_skus = 1;
    int ret;

    *expired = *num_restocked = 0;
    if ((ret = lb_db_query_row(db, skus_sql, "ii", "s", block->first_id, block->sku_id, list, sizeof(list))) != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    skus[0] = block->sku_id;
    num_skus = lb_store__sorted_unique(skus, lb_store__add_block_skus(skus, num_skus, list));
    /* Its SKUs' rows first, in ascending order, as a reservation job locks them. */
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_skus_lock(db, skus, num_skus, locked)) != 0)
        goto Exit;
    for (size_t i = 0; i != num_skus; ++i) {
        size_t before = *expired;
        if ((ret = expire_orders(db, skus[i], block->first_id, block->size, now, expired, &next_due)) != 0)
            goto Exit;
        if (*expired != before)
            restocked[(*num_restocked)++] = skus[i];
    }
    if ((ret = set_due(db, block, next_due)) == 0)
        ret = lb_db_commit(db);
Exit:
    if (ret < 0) {
        lb_db_rollback(db);
        *expired = *num_restocked = 0;
    }
    return ret < 0 ? ret : 0;
}
