/* Expiry: the sweeper's statements, which find the order directory's blocks that fall due and expire their orders. */
#include <stdlib.h>
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

/* The reserved orders read for expiry, locked: what lb_store_orders_release needs of them. */
#define DUE_COLUMNS "SELECT id, sku_id, qty, live_item_id, group_buy_id, expires_at FROM orders "
#define DUE_TYPES   "iiiiii"

/* The due orders read, to be expired together, and the soonest expiry of the other reserved ones of a block. */
typedef struct st_due_t {
    lb_order_t *orders;
    size_t num, capacity;
    int64_t next_due; /* 0: none */
} due_t;

/*
 * Reads the rows of the query run (ret: how it started), keeping those due at now in due and the soonest expiry of the
 * others; *read gets how many rows there were, *last_id the last one's id.
 */
static int read_due(lb_db_t *db, int ret, due_t *due, int64_t now, size_t *read, int64_t *last_id)
{
    lb_order_t o = {0};
    *read = 0;
    while (ret == 0 &&
           (ret = lb_db_fetch(db, DUE_TYPES, &o.id, &o.sku_id, &o.qty, &o.live_item_id, &o.group_buy_id, &o.expires_at)) == 0) {
        ++*read;
        *last_id = o.id;
        if (o.expires_at > now) {
            due->next_due = due->next_due == 0 || o.expires_at < due->next_due ? o.expires_at : due->next_due;
            continue;
        }
        strcpy(o.status, "reserved");
        due->orders = lb_grow(due->orders, due->num, &due->capacity, sizeof(*due->orders));
        due->orders[due->num++] = o;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/*
 * Locks the reserved orders of sku_id with ids from first_id up to first_id + size - 1 (a payment of one waits for this
 * transaction; one paid or cancelled before is not read) and keeps those due in due.
 */
static int read_block(lb_db_t *db, int64_t sku_id, int64_t first_id, int64_t size, int64_t now, due_t *due)
{
    static const char sql[] = DUE_COLUMNS "WHERE sku_id = ? AND id > ? AND id < ? AND status = 'reserved' ORDER BY id LIMIT ? "
                                          "FOR UPDATE";
    int64_t after = first_id - 1;
    size_t read;
    int ret;
    do {
        if ((ret = read_due(db, lb_db_query(db, sql, "iiii", sku_id, after, first_id + size, (int64_t)BLOCK_PAGE), due, now, &read,
                            &after)) != 0)
            return ret;
    } while (read == BLOCK_PAGE);
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

/* Expires what due holds, all at once (lb_store_orders_release), and commits; rolls back on failure. */
static int expire_due(lb_db_t *db, due_t *due, int64_t now, int64_t *restocked, size_t *num_restocked, size_t *expired)
{
    int ret = lb_store_orders_release(db, due->orders, due->num, "expired", now, restocked, num_restocked);
    if (ret == 0)
        ret = lb_db_commit(db);
    *expired = ret == 0 ? due->num : 0;
    return ret;
}

int lb_store_order_blocks_expire(lb_db_t *db, int64_t sku_id, const lb_order_block_t *blocks, size_t n, int64_t now,
                                 size_t *expired)
{
    due_t due = {0};
    lb_sku_t sku;
    int64_t restocked[1];
    size_t num_restocked;
    int ret;

    /* The SKU row first, as everywhere on the order path. */
    *expired = 0;
    if ((ret = lb_db_begin(db)) != 0 || ((ret = lb_store_sku_lock(db, sku_id, &sku)) != 0 && ret != LB_ENOTFOUND))
        goto Exit;
    for (size_t i = 0; i != n; ++i) {
        due.next_due = 0;
        if ((ret = read_block(db, sku_id, blocks[i].first_id, blocks[i].size, now, &due)) != 0 ||
            (ret = set_due(db, &blocks[i], due.next_due)) != 0)
            goto Exit;
    }
    ret = expire_due(db, &due, now, restocked, &num_restocked, expired);
Exit:
    if (ret < 0)
        lb_db_rollback(db);
    free(due.orders);
    return ret < 0 ? ret : 0;
}

int lb_store_order_block_expire_skus(lb_db_t *db, const lb_order_block_t *block, int64_t now, int64_t *restocked,
                                     size_t *num_restocked, size_t *expired)
{
    static const char skus_sql[] = "SELECT skus FROM order_blocks WHERE first_id = ? AND sku_id = ?";
    static const char shape[] = "expiry_block_skus";
    char list[LB_ORDER_BLOCK_SKUS_MAX];
    int64_t skus[LB_ORDER_ID_BLOCK + 1];
    lb_sku_t locked[LB_ORDER_ID_BLOCK + 1];
    due_t due = {0};
    size_t num_skus = 1, read;
    int64_t last_id;
    int ret;

    *expired = *num_restocked = 0;
    if ((ret = lb_db_query_row(db, skus_sql, "ii", "s", block->first_id, block->sku_id, list, sizeof(list))) != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    skus[0] = block->sku_id;
    num_skus = lb_store__sorted_unique(skus, lb_store__add_block_skus(skus, num_skus, list));
    /* Its SKUs' rows first, in ascending order, as a reservation job locks them; then its reserved orders, all of them
     * in one statement (the block's ids are its own: those of its SKUs in its range are its orders). */
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_skus_lock(db, skus, num_skus, locked)) != 0)
        goto Exit;
    size_t size = lb_store__padded_size(num_skus);
    lb_db_param_t *params = lb_store__params(2 + size);
    params[0] = LB_DB_INT(block->first_id);
    params[1] = LB_DB_INT(block->first_id + block->size);
    for (size_t i = 0; i != size; ++i)
        params[2 + i] = LB_DB_ID(skus[i < num_skus ? i : num_skus - 1]);
    char *sql = lb_store__list_sql(db, shape, size, DUE_COLUMNS "WHERE id >= ? AND id < ? AND status = 'reserved' AND sku_id IN (",
                                   "?", ") FOR UPDATE");
    ret = read_due(db, lb_db_query_array(db, shape, size, sql, params, 2 + size), &due, now, &read, &last_id);
    free(sql);
    if (ret != 0 || (ret = set_due(db, block, due.next_due)) != 0)
        goto Exit;
    ret = expire_due(db, &due, now, restocked, num_restocked, expired);
Exit:
    if (ret < 0) {
        lb_db_rollback(db);
        *expired = *num_restocked = 0;
    }
    free(due.orders);
    return ret < 0 ? ret : 0;
}
