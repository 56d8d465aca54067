/* Orders read and changed one at a time (or a page at a time): by id, under lock, their status, their release. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"
#include "livebuy/store/lives.h"
#include "livebuy/store/orders.h"
#include "internal.h"

/* The order id sequence's lattice: its blocks start at start_value + k * increment. Read once: it is never altered. */
static atomic_llong lattice_start, lattice_increment;

int lb_store__read_lattice(lb_db_t *db)
{
    static const char sql[] = "SELECT start_value, increment FROM order_ids";
    int64_t s, i;
    int ret;
    if (atomic_load(&lattice_increment) != 0)
        return 0;
    if ((ret = lb_db_query_row(db, sql, "", "ii", &s, &i)) != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret;
    atomic_store(&lattice_start, s);
    atomic_store(&lattice_increment, i);
    return 0;
}

int64_t lb_store_order_block_of(int64_t id)
{
    int64_t s = atomic_load(&lattice_start), i = atomic_load(&lattice_increment);
    return i != 0 && id >= s ? s + (id - s) / i * i : 0;
}

/*
 * An order read by its id alone goes through the order directory (sql/005_order_blocks.sql): its SKU is the one of
 * the nearest block at or below the id, and the order is a primary-key read (sku_id, id) away, in the same statement.
 * For an id of the sequence the block is known and found by its key; only an id older than the sequence needs the
 * nearest-block search (which MariaDB takes some three times as long to plan and run).
 */
int lb_store_order_get(lb_db_t *db, int64_t id, lb_order_t *order)
{
    static const char block_sql[] = ORDER_SELECT "WHERE sku_id = (SELECT sku_id FROM order_blocks WHERE first_id = ? LIMIT 1) "
                                                 "AND id = ?";
    static const char nearest_sql[] = ORDER_SELECT "WHERE sku_id = (SELECT sku_id FROM order_blocks WHERE first_id <= ? "
                                                   "ORDER BY first_id DESC LIMIT 1) AND id = ?";
    int ret = lb_store__read_lattice(db);
    int64_t first_id = lb_store_order_block_of(id);
    if (ret != 0)
        return ret;
    if (first_id == 0)
        return lb_db_query_row(db, nearest_sql, "ii", ORDER_TYPES, id, id, ORDER_OUTPUTS(order));
    return lb_db_query_row(db, block_sql, "ii", ORDER_TYPES, first_id, id, ORDER_OUTPUTS(order));
}

int lb_store_order_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_order_t *order)
{
    static const char sql[] = ORDER_SELECT "WHERE sku_id = ? AND id = ? FOR UPDATE";
    return lb_db_query_row(db, sql, "ii", ORDER_TYPES, sku_id, id, ORDER_OUTPUTS(order));
}

int lb_store_orders_lock(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_order_t *out, size_t *found)
{
    /* In the order of their ids (lb_store__json_ids sorts them), as every batch locks its orders. */
    static const char sql[] = ORDERS_BY_IDS_SELECT "FOR UPDATE";
    size_t len;
    char *list = lb_store__json_ids(ids, n, &len);
    int ret = lb_store__query_json_list(db, sql, list, len, sku_id);
    *found = 0;
    while (ret == 0 && *found != n && (ret = lb_db_fetch(db, ORDER_TYPES, ORDER_OUTPUTS(&out[*found]))) == 0)
        ++*found;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_order_set_status(lb_db_t *db, lb_order_t *order, const char *status, int64_t now)
{
    static const char sql[] = "UPDATE orders SET status = ?, updated_at = ? WHERE sku_id = ? AND id = ?";
    int64_t ret = lb_db_exec(db, sql, "siii", status, now, order->sku_id, order->id);
    if (ret < 0)
        return (int)ret;
    snprintf(order->status, sizeof(order->status), "%s", status);
    order->updated_at = now;
    return 0;
}

/* *closed: whether the live item has been taken off air (its released units go to the SKU, not back to its quota). */
static int live_item_closed(lb_db_t *db, int64_t id, int64_t *closed)
{
    static const char sql[] = "SELECT closed_at IS NOT NULL FROM live_items WHERE id = ?";
    int ret = lb_db_query_row(db, sql, "i", "i", id, closed);
    if (ret == LB_ENOTFOUND)
        *closed = 0;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_order_release(lb_db_t *db, lb_order_t *order, const char *status, int64_t now)
{
    static const char shrink_sql[] = "UPDATE live_items SET reserved = reserved - ?, quota = quota - ? WHERE id = ?";
    int64_t from_live = order->live_item_id != 0 ? order->qty : 0, closed = 0;
    int ret;
    if (from_live != 0 && (ret = live_item_closed(db, order->live_item_id, &closed)) != 0)
        return ret;
    if (closed) {
        if ((ret = lb_store_order_set_status(db, order, status, now)) != 0 ||
            (ret = lb_store_sku_add_reserved(db, order->sku_id, -order->qty, 0, now)) != 0)
            return ret;
        int64_t changed = lb_db_exec(db, shrink_sql, "iii", order->qty, order->qty, order->live_item_id);
        return changed < 0 ? (int)changed : 0;
    }
    if ((ret = lb_store_order_set_status(db, order, status, now)) != 0 ||
        (ret = lb_store_sku_add_reserved(db, order->sku_id, -order->qty, -from_live, now)) != 0)
        return ret;
    if (order->group_buy_id != 0)
        return lb_store_group_buy_add_joined(db, order->group_buy_id, -order->qty);
    return from_live != 0 ? lb_store_live_item_add_reserved(db, order->live_item_id, -order->qty) : 0;
}

int lb_store_order_cancel_locked(lb_db_t *db, lb_order_t *order, int64_t buyer_id, int64_t now)
{
    if (order->buyer_id != buyer_id)
        return LB_ENOTFOUND;
    if (strcmp(order->status, "reserved") != 0)
        return LB_ECONFLICT;
    return lb_store_order_release(db, order, "cancelled", now);
}

/*
 * A UNION ALL of one primary-key range per SKU, each of which stops after limit rows. The SKU list is padded to a power
 * of two with SKU 0 (there is none), so that a few prepared shapes serve every group.
 */
int lb_store_sku_orders_page(lb_db_t *db, const int64_t *skus, size_t n, const char *status, int64_t after, int64_t before,
                             int64_t limit, lb_order_t *out, size_t *found)
{
    static const char all_shape[] = "merchant_orders", status_shape[] = "merchant_orders_status";
    static const char branch[] = "%s(" ORDER_SELECT "WHERE sku_id = ? AND id > ? AND id < ?%s ORDER BY id LIMIT ?)";
    const char *shape = status != NULL ? status_shape : all_shape;
    size_t size = lb_store__padded_size(n), len = 0, p = 0;
    lb_db_param_t *params = lb_store__params(5 * size + 1);
    char *sql = NULL;
    int ret;

    if (!lb_db_is_prepared(db, shape, size)) {
        sql = lb_malloc(64 + size * (sizeof(branch) + 32));
        for (size_t i = 0; i != size; ++i)
            len += (size_t)sprintf(sql + len, branch, i == 0 ? "" : " UNION ALL ", status != NULL ? " AND status = ?" : "");
        strcpy(sql + len, " ORDER BY id LIMIT ?");
    }
    for (size_t i = 0; i != size; ++i) {
        params[p++] = LB_DB_INT(i < n ? skus[i] : 0);
        params[p++] = LB_DB_INT(after);
        params[p++] = LB_DB_INT(before);
        if (status != NULL)
            params[p++] = LB_DB_TEXT(status);
        params[p++] = LB_DB_INT(limit);
    }
    params[p++] = LB_DB_INT(limit);
    ret = lb_db_query_array(db, shape, size, sql, params, p);
    free(sql);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        if ((ret = lb_db_fetch(db, ORDER_TYPES, ORDER_OUTPUTS(&out[*found]))) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}
