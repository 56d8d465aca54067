/* Group-buys and the pickup points they deliver to: campaigns, their joins, and their close. */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/product_images.h"
#include "livebuy/store/group_buys.h"
#include "internal.h"

#define PICKUP_POINT_SELECT "SELECT " PICKUP_POINT_SELECT_LIST("") "FROM pickup_points "

int lb_store_pickup_point_get(lb_db_t *db, int64_t id, lb_pickup_point_t *point)
{
    static const char sql[] = PICKUP_POINT_SELECT "WHERE id = ?";
    return lb_db_query_row(db, sql, "i", PICKUP_POINT_TYPES, id, PICKUP_POINT_OUTPUTS(point));
}

int lb_store_pickup_point_create(lb_db_t *db, int64_t merchant_id, lb_pickup_point_t *point)
{
    static const char sql[] = "INSERT INTO pickup_points (merchant_id, name, county, township, village, address, station_id, "
                              "created_at) VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?)";
    int64_t ret = lb_db_exec(db, sql, "isssssii", merchant_id, point->name, point->county, point->township, point->village,
                             point->address, point->station_id, lb_now());
    if (ret < 0)
        return (int)ret;
    point->id = lb_db_insert_id(db);
    point->merchant_id = merchant_id;
    return 0;
}

int lb_store_pickup_point_set_station(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t station_id, lb_pickup_point_t *point)
{
    static const char owner_sql[] = "SELECT merchant_id FROM pickup_points WHERE id = ?";
    static const char sql[] = "UPDATE pickup_points SET station_id = ? WHERE id = ?";
    int64_t owner, changed;
    int ret = lb_db_query_row(db, owner_sql, "i", "i", id, &owner);
    if (ret != 0)
        return ret;
    if (owner != merchant_id)
        return LB_EFORBIDDEN;
    if ((changed = lb_db_exec(db, sql, "ii", station_id, id)) < 0)
        return (int)changed;
    return lb_store_pickup_point_get(db, id, point);
}

int lb_store_pickup_points_list(lb_db_t *db, int64_t after, int64_t limit, lb_pickup_point_t *points, size_t *found)
{
    static const char sql[] = PICKUP_POINT_SELECT "WHERE id > ? ORDER BY id LIMIT ?";
    int ret = lb_db_query(db, sql, "ii", after, limit);
    for (*found = 0; ret == 0 && *found < (size_t)limit; ++*found)
        if ((ret = lb_db_fetch(db, PICKUP_POINT_TYPES, PICKUP_POINT_OUTPUTS(&points[*found]))) != 0)
            break;
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
    /* Read without the SKU row lock: a campaign made in the instant its SKU is retired takes no joins anyway. */
    if (sku.retired_at != 0)
        return LB_ECONFLICT;
    if ((ret = lb_store_pickup_point_exists(db, gb->pickup_point_id)) != 0)
        return ret == LB_ENOTFOUND ? LB_EINPUT : ret;
    int64_t changed = lb_db_exec(db, sql, "iiiiiiii", gb->merchant_id, gb->sku_id, gb->pickup_point_id, gb->price_cents,
                                 gb->min_qty, gb->per_buyer_limit, gb->closes_at, lb_now());
    if (changed < 0)
        return (int)changed;
    gb->id = lb_db_insert_id(db);
    gb->joined_qty = 0;
    gb->joined_qty_at_close = -1;
    snprintf(gb->status, sizeof(gb->status), "open");
    return 0;
}

#define GROUP_BUY_SELECT                                                                                                           \
    "SELECT id, merchant_id, sku_id, pickup_point_id, price_cents, min_qty, per_buyer_limit, closes_at, joined_qty, "              \
    "IFNULL(joined_qty_at_close, -1), status FROM group_buys "
#define GROUP_BUY_TYPES "iiiiiiiiiis"
#define GROUP_BUY_OUTPUTS(gb)                                                                                                      \
    &(gb)->id, &(gb)->merchant_id, &(gb)->sku_id, &(gb)->pickup_point_id, &(gb)->price_cents, &(gb)->min_qty,                      \
        &(gb)->per_buyer_limit, &(gb)->closes_at, &(gb)->joined_qty, &(gb)->joined_qty_at_close, (gb)->status,                     \
        sizeof((gb)->status)

/* Reads one group-buy row with sql (GROUP_BUY_SELECT and a WHERE on the id). */
static int read_group_buy(lb_db_t *db, const char *sql, int64_t id, lb_group_buy_t *gb)
{
    return lb_db_query_row(db, sql, "i", GROUP_BUY_TYPES, id, GROUP_BUY_OUTPUTS(gb));
}

int lb_store_group_buy_get(lb_db_t *db, int64_t id, lb_group_buy_t *gb)
{
    static const char sql[] = GROUP_BUY_SELECT "WHERE id = ?";
    return read_group_buy(db, sql, id, gb);
}

/*
 * A campaign with what it sells and where it is collected; once it has closed, its joins collected at the station and
 * those still to collect, counted through its index (group_buy_orders, sql/003) and each order's primary key.
 */
#define JOINS_IN(statuses)                                                                                                         \
    "(SELECT COUNT(*) FROM group_buy_orders j JOIN orders o ON o.sku_id = j.sku_id AND o.id = j.order_id "                         \
    "WHERE j.sku_id = g.sku_id AND j.group_buy_id = g.id AND o.status IN (" statuses "))"
/* A count of the campaign's joins in statuses once it has closed (0 while open: the API's null). */
#define JOINS_ONCE_CLOSED(statuses) "IF(g.status = 'open', 0, " JOINS_IN(statuses) ")"
#define GROUP_BUY_VIEW_COUNTS                                                                                                      \
    JOINS_ONCE_CLOSED("'collected'") ", " JOINS_ONCE_CLOSED("'paid', 'handed_off', 'shipped', 'delivered'")
#define GROUP_BUY_VIEW_POINT PICKUP_POINT_SELECT_LIST("p.")
#define GROUP_BUY_VIEW_PHOTO LB_STORE_FIRST_PHOTO("k.product_id")
#define GROUP_BUY_VIEW_SELECT                                                                                                      \
    "SELECT g.id, g.merchant_id, g.sku_id, g.pickup_point_id, g.price_cents, g.min_qty, g.per_buyer_limit, g.closes_at, "          \
    "g.joined_qty, IFNULL(g.joined_qty_at_close, -1), g.status, pr.title, k.name, pr.unit, " GROUP_BUY_VIEW_POINT                  \
    ", " GROUP_BUY_VIEW_COUNTS ", " GROUP_BUY_VIEW_PHOTO " "                                                                       \
    "FROM group_buys g JOIN skus k ON k.id = g.sku_id JOIN products pr ON pr.id = k.product_id "                                   \
    "JOIN pickup_points p ON p.id = g.pickup_point_id "
#define GROUP_BUY_VIEW_TYPES GROUP_BUY_TYPES "sss" PICKUP_POINT_TYPES "iis"
#define GROUP_BUY_VIEW_OUTPUTS(v)                                                                                                  \
    GROUP_BUY_OUTPUTS(&(v)->gb), (v)->product_title, sizeof((v)->product_title), (v)->sku_name, sizeof((v)->sku_name), (v)->unit,  \
        sizeof((v)->unit), PICKUP_POINT_OUTPUTS(&(v)->pickup_point), &(v)->collected, &(v)->not_collected, (v)->photo,             \
        sizeof((v)->photo)

int lb_store_group_buy_view_get(lb_db_t *db, int64_t id, lb_group_buy_view_t *view)
{
    static const char sql[] = GROUP_BUY_VIEW_SELECT "WHERE g.id = ?";
    return lb_db_query_row(db, sql, "i", GROUP_BUY_VIEW_TYPES, id, GROUP_BUY_VIEW_OUTPUTS(view));
}

int lb_store_group_buys_list(lb_db_t *db, const lb_group_buy_filter_t *filter, int64_t after, int64_t limit,
                             lb_group_buy_view_t *out, size_t *found)
{
    /* A co-op's campaigns by (merchant_id, id); the optional filters as "? = any OR column = ?". */
    static const char sql[] = GROUP_BUY_VIEW_SELECT "WHERE g.merchant_id = ? AND (? < 0 OR g.status + 0 - 1 = ?) AND "
                                                    "(? = 0 OR g.sku_id = ?) AND g.id > ? ORDER BY g.id LIMIT ?";
    int64_t status = filter->status;
    int ret = lb_db_query(db, sql, "iiiiiii", filter->merchant_id, status, status, filter->sku_id, filter->sku_id, after, limit);
    for (*found = 0; ret == 0 && *found < (size_t)limit; ++*found)
        if ((ret = lb_db_fetch(db, GROUP_BUY_VIEW_TYPES, GROUP_BUY_VIEW_OUTPUTS(&out[*found]))) != 0)
            break;
    return ret == LB_ENOTFOUND ? 0 : ret;
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

int lb_store_group_buy_add_joined(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta)
{
    static const char sql[] = "UPDATE group_buys SET joined_qty = joined_qty + ? WHERE sku_id = ? AND id = ?";
    int64_t ret = lb_db_exec(db, sql, "iii", delta, sku_id, id);
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

int lb_store_group_buy_lock_row(lb_db_t *db, int64_t sku_id, int64_t id, lb_group_buy_t *gb)
{
    static const char sql[] = GROUP_BUY_SELECT "WHERE sku_id = ? AND id = ? FOR UPDATE";
    return lb_db_query_row(db, sql, "ii", GROUP_BUY_TYPES, sku_id, id, GROUP_BUY_OUTPUTS(gb));
}

int lb_store_group_buy_of_sku(lb_db_t *db, int64_t sku_id, int64_t id, lb_group_buy_t *gb)
{
    static const char sql[] = GROUP_BUY_SELECT "WHERE sku_id = ? AND id = ?";
    return lb_db_query_row(db, sql, "ii", GROUP_BUY_TYPES, sku_id, id, GROUP_BUY_OUTPUTS(gb));
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

int lb_store_group_buy_close(lb_db_t *db, const lb_group_buy_t *gb, const char *status, int64_t refunded_qty, int64_t now)
{
    /* One statement whatever the outcome: the figure decided on, and the failed campaign's refunded joins leaving it. */
    static const char sql[] = "UPDATE group_buys SET status = ?, closed_at = ?, joined_qty_at_close = ?, "
                              "joined_qty = joined_qty - ? WHERE sku_id = ? AND id = ? AND status = 'open'";
    int64_t ret = lb_db_exec(db, sql, "siiiii", status, now, gb->joined_qty, refunded_qty, gb->sku_id, gb->id);
    return ret < 0 ? (int)ret : 0;
}
