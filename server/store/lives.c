/* Lives and live items: a host's broadcast, and SKUs put on air with a quota set aside from their stock. */
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/lives.h"
#include "livebuy/store/offers.h"
#include "livebuy/store/product_images.h"
#include "internal.h"

int lb_store_live_create(lb_db_t *db, int64_t merchant_id, const char *title, int64_t starts_at, int64_t *id)
{
    static const char sql[] = "INSERT INTO lives (merchant_id, title, starts_at, created_at) VALUES (?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "isii", merchant_id, title, starts_at, lb_now());
    if (ret < 0)
        return (int)ret;
    *id = lb_db_insert_id(db);
    return 0;
}

int lb_store_live_get(lb_db_t *db, int64_t id, lb_live_t *live)
{
    static const char sql[] = "SELECT id, merchant_id, title, starts_at FROM lives WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "iisi", id, &live->id, &live->merchant_id, live->title, sizeof(live->title),
                           &live->starts_at);
}

int lb_store_host_lives(lb_db_t *db, int64_t host_id, int64_t after, int64_t limit, lb_live_summary_t *out, size_t *found)
{
    /* lives_merchant for the page, then live_items_live to count each live's items */
    static const char sql[] = "SELECT l.id, l.merchant_id, l.title, l.starts_at, "
                              "(SELECT COUNT(*) FROM live_items i WHERE i.live_id = l.id) FROM lives l "
                              "WHERE l.merchant_id = ? AND l.id > ? ORDER BY l.id LIMIT ?";
    int ret = lb_db_query(db, sql, "iii", host_id, after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_live_summary_t *s = &out[*found];
        if ((ret = lb_db_fetch(db, "iisii", &s->live.id, &s->live.merchant_id, s->live.title, sizeof(s->live.title),
                               &s->live.starts_at, &s->num_items)) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_live_item_create(lb_db_t *db, lb_live_item_t *item, int64_t host_id, int64_t now, lb_offer_t *offer,
                              lb_offer_rule_t *rule, lb_sku_t *sku)
{
    static const char insert_sql[] = "INSERT INTO live_items (live_id, sku_id, offer_id, price_cents, quota, per_buyer_limit, "
                                     "opens_at, reserve_ttl, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    static const char hold_sql[] = "UPDATE skus SET held = held + ?, updated_at = ? WHERE id = ?";
    int64_t ret;

    *rule = LB_OFFER_USABLE;
    offer->id = 0;
    /* The SKU's merchant decides whether an offer is needed (read without a lock: a SKU's merchant never changes). */
    if ((ret = lb_store_sku_get(db, item->sku_id, sku)) != 0)
        return (int)ret;
    if ((ret = lb_db_begin(db)) != 0)
        goto Exit;
    /* The offer row before the SKU row (store/offers.h): processes sharing the database place under it one at a time. */
    if (item->offer_id != 0 || sku->merchant_id != host_id) {
        if ((ret = lb_store_offer_place(db, item, host_id, now, offer, rule)) != 0)
            goto Exit;
        if (*rule != LB_OFFER_USABLE) {
            ret = LB_EFORBIDDEN;
            goto Exit;
        }
    }
    if ((ret = lb_store_sku_lock(db, item->sku_id, sku)) != 0)
        goto Exit;
    if (sku->retired_at != 0 || LB_SKU_AVAILABLE(sku) < item->quota) {
        ret = LB_ECONFLICT;
        goto Exit;
    }
    lb_db_param_t params[] = {LB_DB_INT(item->live_id),
                              LB_DB_INT(item->sku_id),
                              offer->id != 0 ? LB_DB_INT(offer->id) : LB_DB_NULL,
                              LB_DB_INT(item->price_cents),
                              LB_DB_INT(item->quota),
                              LB_DB_INT(item->per_buyer_limit),
                              LB_DB_INT(item->opens_at),
                              item->reserve_ttl != 0 ? LB_DB_INT(item->reserve_ttl) : LB_DB_NULL,
                              LB_DB_INT(now)};
    if ((ret = lb_db_exec_array(db, insert_sql, 0, insert_sql, params, LB_ARRAY_SIZE(params))) < 0)
        goto Exit;
    int64_t id = lb_db_insert_id(db);
    if ((ret = lb_db_exec(db, hold_sql, "iii", item->quota, now, item->sku_id)) >= 0 && (ret = lb_db_commit(db)) == 0) {
        /* Only now: a run again after a deadlock starts from the request's offer_id. */
        item->id = id;
        item->offer_id = offer->id;
        item->reserved = item->sold = 0;
    }
Exit:
    if (ret != 0)
        lb_db_rollback(db);
    return (int)ret;
}

int lb_store_live_items(lb_db_t *db, int64_t live_id, lb_live_item_t **out, size_t *found)
{
    static const char sql[] =
        "SELECT i.id, i.live_id, i.sku_id, CONCAT(p.title, ' ', s.name), i.price_cents, i.quota, "
        "i.reserved, i.sold, i.per_buyer_limit, i.opens_at, COALESCE(i.reserve_ttl, 0), "
        "i.closed_at IS NOT NULL, " LB_STORE_FIRST_PHOTO("s.product_id") " "
        "FROM live_items i JOIN skus s ON s.id = i.sku_id JOIN products p ON p.id = s.product_id "
        "WHERE i.live_id = ? ORDER BY i.id";
    size_t cap = 0;
    int ret = lb_db_query(db, sql, "i", live_id);
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        lb_live_item_t *item = &(*out)[*found];
        int64_t closed;
        if ((ret = lb_db_fetch(db, "iiisiiiiiiiis", &item->id, &item->live_id, &item->sku_id, item->title, sizeof(item->title),
                               &item->price_cents, &item->quota, &item->reserved, &item->sold, &item->per_buyer_limit,
                               &item->opens_at, &item->reserve_ttl, &closed, item->photo, sizeof(item->photo))) != 0)
            break;
        item->closed = closed != 0;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_live_item_close(lb_db_t *db, int64_t id, int64_t merchant_id, lb_live_item_t *item, int64_t *released)
{
    static const char find_sql[] = "SELECT i.sku_id, COALESCE(i.offer_id, 0), l.merchant_id, s.merchant_id FROM live_items i "
                                   "JOIN lives l ON l.id = i.live_id JOIN skus s ON s.id = i.sku_id WHERE i.id = ?";
    static const char lock_sql[] = "SELECT live_id, sku_id, COALESCE(offer_id, 0), price_cents, quota, reserved, sold, "
                                   "per_buyer_limit, opens_at, COALESCE(reserve_ttl, 0), closed_at IS NOT NULL FROM live_items "
                                   "WHERE sku_id = ? AND id = ? FOR UPDATE";
    static const char close_sql[] = "UPDATE live_items SET quota = reserved + sold, closed_at = ? WHERE sku_id = ? AND id = ?";
    static const char unhold_sql[] = "UPDATE skus SET held = held - ?, updated_at = ? WHERE id = ?";
    int64_t sku_id, offer_id, host_id, coop_id, closed, now = lb_now();
    lb_sku_t sku;
    int64_t ret;

    /*
     * The lock order of item creation: the offer row, then the SKU row as everywhere on the order path, then the item
     * (all found without a lock: an item's SKU and offer never change).
     */
    if ((ret = lb_db_query_row(db, find_sql, "i", "iiii", id, &sku_id, &offer_id, &host_id, &coop_id)) != 0)
        return (int)ret;
    if (merchant_id != host_id && merchant_id != coop_id)
        return LB_EFORBIDDEN;
    if ((ret = lb_db_begin(db)) != 0 || (offer_id != 0 && (ret = lb_store_offer_lock(db, sku_id, offer_id)) != 0) ||
        (ret = lb_store_sku_lock(db, sku_id, &sku)) != 0 ||
        (ret = lb_db_query_row(db, lock_sql, "ii", "iiiiiiiiiii", sku_id, id, &item->live_id, &item->sku_id, &item->offer_id,
                               &item->price_cents, &item->quota, &item->reserved, &item->sold, &item->per_buyer_limit,
                               &item->opens_at, &item->reserve_ttl, &closed)) != 0)
        goto Exit;
    item->id = id;
    if (closed) {
        ret = LB_ECONFLICT;
        goto Exit;
    }
    *released = item->quota - item->reserved - item->sold;
    if ((ret = lb_db_exec(db, close_sql, "iii", now, sku_id, id)) < 0 ||
        (ret = lb_db_exec(db, unhold_sql, "iii", *released, now, sku_id)) < 0 ||
        (offer_id != 0 && (ret = lb_store_offer_release(db, sku_id, offer_id, *released)) != 0) || (ret = lb_db_commit(db)) != 0)
        goto Exit;
    item->quota = item->reserved + item->sold;
    item->closed = 1;
Exit:
    if (ret != 0)
        lb_db_rollback(db);
    return (int)ret;
}

int lb_store_coop_holds(lb_db_t *db, int64_t coop_id, int64_t sku_id, int64_t after, int64_t limit, lb_hold_t *out, size_t *found)
{
    static const char sql[] = "SELECT " HOLD_SELECT_LIST HOLD_FROM "WHERE s.merchant_id = ? AND (? = 0 OR s.id = ?) "
                              "AND i.closed_at IS NULL AND i.id > ? ORDER BY i.id LIMIT ?";
    int ret = lb_db_query(db, sql, "iiiii", coop_id, sku_id, sku_id, after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        memset(&out[*found], 0, sizeof(out[*found]));
        if ((ret = lb_db_fetch(db, HOLD_TYPES, HOLD_OUTPUTS(&out[*found]))) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/* ---- The order path ---------------------------------------------------------------------------------------------- */

int lb_store_live_item_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *opens_at)
{
    static const char sql[] = "SELECT sku_id, opens_at FROM live_items WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "ii", id, sku_id, opens_at);
}

int lb_store_live_item_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target)
{
    /*
     * reserved and sold only go to the host's sales stream (after the batch): two more columns of the row it locks, as
     * closed_at is, so that an item off air is told from one sold out without a round trip of its own.
     */
    static const char sql[] = "SELECT price_cents, quota - reserved - sold, reserved, sold, per_buyer_limit, opens_at, "
                              "COALESCE(reserve_ttl, 0), closed_at IS NOT NULL FROM live_items WHERE id = ? AND sku_id = ? "
                              "FOR UPDATE";
    memset(target, 0, sizeof(*target));
    target->kind = LB_TARGET_LIVE_ITEM;
    target->id = id;
    int64_t closed = 0;
    int ret = lb_db_query_row(db, sql, "ii", "iiiiiiii", id, sku_id, &target->price_cents, &target->left, &target->reserved,
                              &target->sold, &target->per_buyer_limit, &target->opens_at, &target->reserve_ttl, &closed);
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    target->found = ret == 0;
    target->closed = closed != 0;
    if (target->reserve_ttl == 0)
        target->reserve_ttl = default_ttl;
    return 0;
}

int lb_store_live_item_add_counts(lb_db_t *db, int64_t sku_id, int64_t id, int64_t reserved, int64_t sold)
{
    static const char sql[] = "UPDATE live_items SET reserved = reserved + ?, sold = sold + ? WHERE sku_id = ? AND id = ?";
    int64_t ret = lb_db_exec(db, sql, "iiii", reserved, sold, sku_id, id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_live_items_add_counts(lb_db_t *db, const lb_live_item_counts_t *adds, size_t n)
{
    static const char sql[] = "UPDATE live_items SET reserved = reserved + ?, sold = sold + ? WHERE sku_id = ? AND id = ?";
    lb_db_rows_t *rows = lb_db_rows_start("iiii", n);
    for (size_t i = 0; i != n; ++i) {
        lb_db_row_int(rows, 0, i, adds[i].reserved);
        lb_db_row_int(rows, 1, i, adds[i].sold);
        lb_db_row_int(rows, 2, i, adds[i].sku_id);
        lb_db_row_int(rows, 3, i, adds[i].id);
    }
    int64_t ret = lb_db_exec_rows(db, sql, rows->columns, 4, n);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_live_item_add_reserved(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta)
{
    return lb_store_live_item_add_counts(db, sku_id, id, delta, 0);
}
