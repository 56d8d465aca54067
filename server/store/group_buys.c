/* Group-buys and the pickup points they deliver to: campaigns, their joins, and their close. */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"
#include "internal.h"

int lb_store_pickup_point_get(lb_db_t *db, int64_t id, lb_pickup_point_t *point)
{
    static const char sql[] = "SELECT id, name, county, township, village, address FROM pickup_points WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "isssss", id, &point->id, point->name, sizeof(point->name), point->county,
                           sizeof(point->county), point->township, sizeof(point->township), point->village, sizeof(point->village),
                           point->address, sizeof(point->address));
}

int lb_store_pickup_point_create(lb_db_t *db, int64_t merchant_id, lb_pickup_point_t *point)
{
    static const char sql[] = "INSERT INTO pickup_points (merchant_id, name, county, township, village, address, created_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "isssssi", merchant_id, point->name, point->county, point->township, point->village,
                             point->address, lb_now());
    if (ret < 0)
        return (int)ret;
    point->id = lb_db_insert_id(db);
    return 0;
}

int lb_store_pickup_points_list(lb_db_t *db, int64_t after, int64_t limit, lb_pickup_point_t *points, size_t *found)
{
    static const char sql[] = "SELECT id, name, county, township, village, address FROM pickup_points WHERE id > ? "
                              "ORDER BY id LIMIT ?";
    int ret = lb_db_query(db, sql, "ii", after, limit);
    for (*found = 0; ret == 0 && *found < (size_t)limit; ++*found) {
        lb_pickup_point_t *p = &points[*found];
        if ((ret = lb_db_fetch(db, "isssss", &p->id, p->name, sizeof(p->name), p->county, sizeof(p->county), p->township,
                               sizeof(p->township), p->village, sizeof(p->village), p->address, sizeof(p->address))) != 0)
            break;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_pickup_point_exists(lb_db_t *db, int64_t id)
{
    static const char sql[] = "SELECT id FROM pickup_points WHERE id = ?";
    int64_t found;
    return lb_db_query_row(db, sql, "i", "i", id, &found);
}

int lb_store_group_buy_create(lb_db_t *db, lb_group_buy_t *gb)
{
    static const char sql[] = "INSERT INTO group_buys (merchant_id, sku_id, pickup_point_id, price_cents, min_qty, "
                              "per_buyer_limit, closes_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    lb_sku_t sku;
    int ret = lb_store_sku_get(db, gb->sku_id, &sku);
    if (ret != 0)
        return ret;
    if (sku.merchant_id != gb->merchant_id)
        return LB_EFORBIDDEN;
    if ((ret = lb_store_pickup_point_exists(db, gb->pickup_point_id)) != 0)
        return ret == LB_ENOTFOUND ? LB_EINPUT : ret;
    int64_t changed = lb_db_exec(db, sql, "iiiiiiii", gb->merchant_id, gb->sku_id, gb->pickup_point_id, gb->price_cents,
                                 gb->min_qty, gb->per_buyer_limit, gb->closes_at, lb_now());
    if (changed < 0)
        return (int)changed;
    gb->id = lb_db_insert_id(db);
    gb->joined_qty = 0;
    snprintf(gb->status, sizeof(gb->status), "open");
    return 0;
}

#define GROUP_BUY_SELECT                                                                                                           \
    "SELECT id, merchant_id, sku_id, pickup_point_id, price_cents, min_qty, per_buyer_limit, closes_at, joined_qty, status "       \
    "FROM group_buys "

/* Reads one group-buy row with sql (GROUP_BUY_SELECT and a WHERE on the id). */
static int read_group_buy(lb_db_t *db, const char *sql, int64_t id, lb_group_buy_t *gb)
{
    return lb_db_query_row(db, sql, "i", "iiiiiiiiis", id, &gb->id, &gb->merchant_id, &gb->sku_id, &gb->pickup_point_id,
                           &gb->price_cents, &gb->min_qty, &gb->per_buyer_limit, &gb->closes_at, &gb->joined_qty, gb->status,
                           sizeof(gb->status));
}

int lb_store_group_buy_get(lb_db_t *db, int64_t id, lb_group_buy_t *gb)
{
    static const char sql[] = GROUP_BUY_SELECT "WHERE id = ?";
    return read_group_buy(db, sql, id, gb);
}

/* ---- The order path ---------------------------------------------------------------------------------------------- */

int lb_store_group_buy_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *closes_at, int64_t *pickup_point_id)
{
    static const char sql[] = "SELECT sku_id, closes_at, pickup_point_id FROM group_buys WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "iii", id, sku_id, closes_at, pickup_point_id);
}

int lb_store_group_buy_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target)
{
    static const char sql[] = "SELECT price_cents, per_buyer_limit, closes_at, status = 'open' FROM group_buys "
                              "WHERE id = ? AND sku_id = ? FOR UPDATE";
    int64_t open;
    memset(target, 0, sizeof(*target));
    target->kind = LB_TARGET_GROUP_BUY;
    target->id = id;
    target->reserve_ttl = default_ttl;
    int ret = lb_db_query_row(db, sql, "ii", "iiii", id, sku_id, &target->price_cents, &target->per_buyer_limit, &target->closes_at,
                              &open);
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    target->found = ret == 0;
    target->open = ret == 0 && open != 0;
    return 0;
}

int lb_store_group_buy_add_joined(lb_db_t *db, int64_t id, int64_t delta)
{
    static const char sql[] = "UPDATE group_buys SET joined_qty = joined_qty + ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "ii", delta, id);
    return ret < 0 ? (int)ret : 0;
}

/* ---- The group-buy closer (server/jobs/closer.c) ---------------------------------------------------------------- */

/* Reads up to limit (sku_id, id) pairs that sql (parameters: now, limit) selects. */
static int read_due(lb_db_t *db, const char *sql, int64_t now, int64_t limit, lb_order_ref_t *out, size_t *found)
{
    int ret = lb_db_query(db, sql, "ii", now, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        if ((ret = lb_db_fetch(db, "ii", &out[*found].sku_id, &out[*found].id)) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_group_buys_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_ref_t *out, size_t *found)
{
    static const char sql[] = "SELECT sku_id, id FROM group_buys WHERE status = 'open' AND closes_at <= ? ORDER BY closes_at "
                              "LIMIT ?";
    return read_due(db, sql, now, limit, out, found);
}

int lb_store_group_buy_lock_row(lb_db_t *db, int64_t id, lb_group_buy_t *gb)
{
    static const char sql[] = GROUP_BUY_SELECT "WHERE id = ? FOR UPDATE";
    return read_group_buy(db, sql, id, gb);
}

int lb_store_group_buy_joins(lb_db_t *db, int64_t sku_id, int64_t group_buy_id, const char *status, lb_order_t **out, size_t *found)
{
    /* The campaign's index gives the order ids in order (ORDER BY j.order_id: no sort); each order by its primary key. */
    static const char sql[] = GROUP_BUY_JOIN_SELECT "WHERE j.sku_id = ? AND j.group_buy_id = ? AND o.status = ? "
                                                    "ORDER BY j.order_id FOR UPDATE";
    size_t cap = 0;
    int ret = lb_db_query(db, sql, "iis", sku_id, group_buy_id, status);
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        if ((ret = lb_db_fetch(db, ORDER_TYPES, ORDER_OUTPUTS(&(*out)[*found]))) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_group_buy_close(lb_db_t *db, int64_t id, const char *status, int64_t now)
{
    static const char sql[] = "UPDATE group_buys SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'";
    int64_t ret = lb_db_exec(db, sql, "sii", status, now, id);
    return ret < 0 ? (int)ret : 0;
}
