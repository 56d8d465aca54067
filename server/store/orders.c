/* Orders read and changed one at a time (or a page at a time): by id, under lock, their status, their release. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"
#include "livebuy/store/lives.h"
#include "livebuy/store/buyer_orders.h"
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

/* The SKU of order id ID (an SQL expression) in the order directory's row at hand. */
#define BLOCK_SKU_OF(ID) "COALESCE(CAST(JSON_VALUE(skus, CONCAT('$[', " ID " - first_id, ']')) AS UNSIGNED), sku_id)"

/*
 * An order read by its id alone goes through the order directory (sql/005_order_blocks.sql): its SKU is the one of
 * the nearest block at or below the id (or, in a block of several SKUs, the one its list gives the id: sql/021), and
 * the order is a primary-key read (sku_id, id) away, in the same statement.
 * For an id of the sequence the block is known and found by its key; only an id older than the sequence needs the
 * nearest-block search (which MariaDB takes some three times as long to plan and run).
 */
int lb_store_order_get(lb_db_t *db, int64_t id, lb_order_t *order)
{
    static const char block_sql[] = ORDER_SELECT "WHERE sku_id = (SELECT " BLOCK_SKU_OF("?") " FROM order_blocks "
                                                 "WHERE first_id = ? LIMIT 1) AND id = ?";
    static const char nearest_sql[] = ORDER_SELECT "WHERE sku_id = (SELECT " BLOCK_SKU_OF("?") " FROM order_blocks "
                                                   "WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1) AND id = ?";
    int ret = lb_store__read_lattice(db);
    int64_t first_id = lb_store_order_block_of(id);
    if (ret != 0)
        return ret;
    if (first_id == 0)
        return lb_db_query_row(db, nearest_sql, "iii", ORDER_TYPES, id, id, id, ORDER_OUTPUTS(order));
    return lb_db_query_row(db, block_sql, "iii", ORDER_TYPES, id, first_id, id, ORDER_OUTPUTS(order));
}

int lb_store_order_get_with_block(lb_db_t *db, int64_t id, lb_order_t *order, lb_order_block_t *block, int64_t *skus,
                                  size_t *num_skus)
{
#define WITH_BLOCK_SELECT                                                                                                          \
    "SELECT " ORDER_SELECT_LIST("o.") ", b.first_id, b.sku_id, b.size, COALESCE(b.skus, '') FROM order_blocks b JOIN orders o "    \
                                      "ON o.sku_id = COALESCE(CAST(JSON_VALUE(b.skus, CONCAT('$[', ? - b.first_id, ']')) AS "      \
                                      "UNSIGNED), b.sku_id) AND o.id = ? WHERE b.first_id = "
    static const char block_sql[] = WITH_BLOCK_SELECT "?";
    static const char nearest_sql[] = WITH_BLOCK_SELECT "(SELECT MAX(first_id) FROM order_blocks WHERE first_id <= ?)";
#undef WITH_BLOCK_SELECT
    char list[LB_ORDER_BLOCK_SKUS_MAX];
    int ret = lb_store__read_lattice(db);
    int64_t first_id = lb_store_order_block_of(id);
    *num_skus = 0;
    if (ret != 0)
        return ret;
    ret = lb_db_query_row(db, first_id != 0 ? block_sql : nearest_sql, "iii", ORDER_TYPES "iiis", id, id,
                          first_id != 0 ? first_id : id, ORDER_OUTPUTS(order), &block->first_id, &block->sku_id, &block->size, list,
                          sizeof(list));
    if (ret == 0)
        *num_skus = lb_store__add_block_skus(skus, 0, list); /* "": a block of one SKU, none */
    block->several = *num_skus != 0;
    return ret;
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

int lb_store_orders_lock_refs(lb_db_t *db, const lb_order_ref_t *refs, size_t n, const int64_t *skus, size_t num_skus,
                              lb_order_t *out, size_t *found)
{
    static const char shape[] = "orders_lock_refs";
    size_t size = lb_store__padded_size(num_skus), len = 1;
    char *json = lb_malloc(2 + n * 43);
    json[0] = '[';
    for (size_t i = 0; i != n; ++i)
        len += (size_t)sprintf(json + len, "%s[%lld,%lld]", i == 0 ? "" : ",", (long long)refs[i].sku_id, (long long)refs[i].id);
    json[len++] = ']';
    lb_db_param_t *params = lb_store__params(1 + size);
    params[0] = LB_DB_BYTES(json, len);
    for (size_t i = 0; i != size; ++i)
        params[1 + i] = LB_DB_ID(skus[i < num_skus ? i : num_skus - 1]);
    char *sql = lb_store__list_sql(db, shape, size,
                                   "SELECT STRAIGHT_JOIN " ORDER_SELECT_LIST("o.") "FROM JSON_TABLE(?, '$[*]' COLUMNS ("
                                   "sku_id BIGINT UNSIGNED PATH '$[0]', id BIGINT UNSIGNED PATH '$[1]')) AS k "
                                   "JOIN orders o FORCE INDEX (PRIMARY) ON o.sku_id = k.sku_id AND o.id = k.id WHERE o.sku_id IN (",
                                   "?", ") FOR UPDATE");
    int ret = lb_db_query_array(db, shape, size, sql, params, 1 + size);
    free(sql);
    free(json);
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

int lb_store_orders_write_status(lb_db_t *db, const lb_order_t *const *orders, size_t n)
{
    static const char sql[] = "UPDATE orders SET status = ?, updated_at = ? WHERE sku_id = ? AND id = ?";
    lb_db_rows_t *rows = lb_db_rows_start("biii", n);
    for (size_t i = 0; i != n; ++i) {
        lb_db_row_text(rows, 0, i, orders[i]->status);
        lb_db_row_int(rows, 1, i, orders[i]->updated_at);
        lb_db_row_int(rows, 2, i, orders[i]->sku_id);
        lb_db_row_int(rows, 3, i, orders[i]->id);
    }
    int64_t ret = lb_db_exec_rows(db, sql, rows->columns, 4, n);
    return ret < 0 ? (int)ret : 0;
}

/* *closed: whether the live item has been taken off air (its released units go to the SKU, not back to its quota). */
static int live_item_closed(lb_db_t *db, int64_t sku_id, int64_t id, int64_t *closed)
{
    static const char sql[] = "SELECT closed_at IS NOT NULL FROM live_items WHERE sku_id = ? AND id = ?";
    int ret = lb_db_query_row(db, sql, "ii", "i", sku_id, id, closed);
    if (ret == LB_ENOTFOUND)
        *closed = 0;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/* The index of id in ids[0..*n), added at the end when it is not there (the lists are short: a few SKUs or items). */
static size_t index_of(int64_t *ids, size_t *n, int64_t id)
{
    size_t i = 0;
    while (i != *n && ids[i] != id)
        ++i;
    if (i == *n)
        ids[(*n)++] = id;
    return i;
}

int lb_store_orders_release(lb_db_t *db, lb_order_t *orders, size_t n, const char *status, int64_t now, int64_t *restocked,
                            size_t *num_restocked)
{
    lb_order_t **each = lb_malloc((n + 1) * sizeof(*each));
    for (size_t i = 0; i != n; ++i)
        each[i] = &orders[i];
    int ret = lb_store_orders_release_each(db, each, n, status, now, restocked, num_restocked);
    free(each);
    return ret;
}

int lb_store_orders_release_each(lb_db_t *db, lb_order_t *const *orders, size_t n, const char *status, int64_t now,
                                 int64_t *restocked, size_t *num_restocked)
{
    static const char status_sql[] = "UPDATE orders SET status = ?, updated_at = ? WHERE sku_id = ? AND id = ?";
    static const char shrink_sql[] = "UPDATE live_items SET reserved = reserved - ?, quota = quota - ? WHERE sku_id = ? AND id = ?";
    /* What each SKU, live item and group-buy gets back (skus[i] is restocked[i]'s; items[k] item_ids[k]'s, ...). */
    lb_sku_counts_t *skus = lb_calloc(n + 1, sizeof(*skus));
    lb_live_item_counts_t *items = lb_calloc(n + 1, sizeof(*items));
    int64_t *item_ids = lb_malloc((n + 1) * sizeof(*item_ids)), *closed = lb_calloc(n + 1, sizeof(*closed));
    int64_t *joins = lb_malloc((n + 1) * sizeof(*joins)), *joined = lb_calloc(n + 1, sizeof(*joined));
    int64_t *join_skus = lb_malloc((n + 1) * sizeof(*join_skus));
    size_t num_items = 0, num_joins = 0, num_open = 0;
    int ret = 0;

    *num_restocked = 0;
    for (size_t i = 0; i != n; ++i) {
        const lb_order_t *o = orders[i];
        lb_sku_counts_t *sku = &skus[index_of(restocked, num_restocked, o->sku_id)];
        int off_air = 0;
        sku->sku_id = o->sku_id;
        sku->reserved -= o->qty;
        /* On air, a live item's units go back to its quota, which the SKU holds again; off air, to the
         * SKU, and the item's quota shrinks by them. A group-buy join's units leave its campaign's joined quantity. */
        if (o->live_item_id != 0) {
            size_t seen = num_items, k = index_of(item_ids, &num_items, o->live_item_id);
            if (k == seen && (ret = live_item_closed(db, o->sku_id, o->live_item_id, &closed[k])) != 0)
                goto Exit;
            off_air = closed[k] != 0;
            items[k].sku_id = o->sku_id;
            items[k].id = o->live_item_id;
            if (off_air || o->group_buy_id == 0)
                items[k].reserved -= o->qty;
            if (!off_air)
                sku->held += o->qty;
        }
        if (o->group_buy_id != 0 && !off_air) {
            size_t k = index_of(joins, &num_joins, o->group_buy_id);
            join_skus[k] = o->sku_id;
            joined[k] -= o->qty;
        }
    }
    if (n != 0) {
        lb_db_rows_t *rows = lb_db_rows_start("biii", n);
        for (size_t i = 0; i != n; ++i) {
            lb_db_row_text(rows, 0, i, status);
            lb_db_row_int(rows, 1, i, now);
            lb_db_row_int(rows, 2, i, orders[i]->sku_id);
            lb_db_row_int(rows, 3, i, orders[i]->id);
        }
        int64_t changed = lb_db_exec_rows(db, status_sql, rows->columns, 4, n);
        if (changed < 0 || (ret = lb_store_skus_add_counts(db, skus, *num_restocked, now)) != 0) {
            ret = changed < 0 ? (int)changed : ret;
            goto Exit;
        }
    }
    for (size_t k = 0; k != num_items && ret == 0; ++k) {
        if (!closed[k]) {
            items[num_open++] = items[k]; /* the items on air: one statement below */
            continue;
        }
        int64_t shrunk = lb_db_exec(db, shrink_sql, "iiii", -items[k].reserved, -items[k].reserved, items[k].sku_id, items[k].id);
        ret = shrunk < 0 ? (int)shrunk : 0;
    }
    if (ret == 0 && num_open != 0)
        ret = lb_store_live_items_add_counts(db, items, num_open);
    for (size_t k = 0; k != num_joins && ret == 0; ++k)
        ret = lb_store_group_buy_add_joined(db, join_skus[k], joins[k], joined[k]);
    for (size_t i = 0; ret == 0 && i != n; ++i) {
        snprintf(orders[i]->status, sizeof(orders[i]->status), "%s", status);
        orders[i]->updated_at = now;
    }
Exit:
    free(skus);
    free(items);
    free(item_ids);
    free(closed);
    free(joins);
    free(joined);
    free(join_skus);
    return ret;
}

/*
 * As lb_store_orders_release, for one paid order's units from sold: to its live item's quota, which the SKU holds
 * again, while the item is on air; else to the SKU (an item taken off air shrinks its quota); a group-buy join leaves
 * its campaign's joined quantity.
 */
int lb_store_order_unsell(lb_db_t *db, lb_order_t *order, int64_t now)
{
    static const char shrink_sql[] = "UPDATE live_items SET sold = sold - ?, quota = quota - ? WHERE sku_id = ? AND id = ?";
    int64_t qty = order->qty, from_live = order->live_item_id != 0 ? qty : 0, closed = 0;
    int ret;
    if (from_live != 0 && (ret = live_item_closed(db, order->sku_id, order->live_item_id, &closed)) != 0)
        return ret;
    if ((ret = lb_store_order_set_status(db, order, "refund_required", now)) != 0 ||
        (ret = lb_store_sku_add_counts(db, order->sku_id, 0, -qty, closed ? 0 : from_live, now)) != 0)
        return ret;
    if (closed) {
        int64_t changed = lb_db_exec(db, shrink_sql, "iiii", qty, qty, order->sku_id, order->live_item_id);
        return changed < 0 ? (int)changed : 0;
    }
    if (order->group_buy_id != 0)
        return lb_store_group_buy_add_joined(db, order->sku_id, order->group_buy_id, -qty);
    return from_live != 0 ? lb_store_live_item_add_counts(db, order->sku_id, order->live_item_id, 0, -qty) : 0;
}

#define ORDER_DETAILS_TYPES "sisssissiisss"
#define ORDER_DETAILS_OUTPUTS(row)                                                                                                 \
    (row)->title, sizeof((row)->title), &(row)->shipment_id, (row)->shipment_status, sizeof((row)->shipment_status),               \
        (row)->delivery_status, sizeof((row)->delivery_status), (row)->tracking_no, sizeof((row)->tracking_no),                   \
        &(row)->pickup_point_id, (row)->pickup_point_name, sizeof((row)->pickup_point_name), (row)->pickup_point_address,         \
        sizeof((row)->pickup_point_address), &(row)->refund_id, &(row)->refund_amount_cents, (row)->refund_status,                \
        sizeof((row)->refund_status), (row)->refund_cause, sizeof((row)->refund_cause), (row)->refund_reason,                     \
        sizeof((row)->refund_reason)

int lb_store_order_details(lb_db_t *db, const lb_order_t *order, lb_order_details_t *details)
{
    static const char sql[] =
        "SELECT CONCAT(p.title, ' ', s.name), sh.id, sh.status, sh.delivery_status, sh.tracking_no, "
        "pp.id, pp.name, pp.address, r.id, r.amount_cents, r.status, r.cause, r.reason "
        "FROM skus s JOIN products p ON p.id = s.product_id "
        "LEFT JOIN shipment_orders so ON so.sku_id = ? AND so.order_id = ? "
        "LEFT JOIN shipments sh ON sh.sku_id = ? AND sh.id = so.shipment_id "
        "LEFT JOIN pickup_points pp ON pp.id = ? "
        "LEFT JOIN refunds r ON r.sku_id = ? AND r.order_id = ? "
        "WHERE s.id = ? ORDER BY r.id DESC";
    lb_order_details_t row;
    int ret = lb_db_query(db, sql, "iiiiiii", order->sku_id, order->id, order->sku_id, order->pickup_point_id, order->sku_id,
                          order->id, order->sku_id);
    int found = 0;
    memset(details, 0, sizeof(*details));
    /* One row per refund of the order (a few at most), the latest first: it is the one shown. */
    while (ret == 0 && (ret = lb_db_fetch(db, ORDER_DETAILS_TYPES, ORDER_DETAILS_OUTPUTS(&row))) == 0)
        if (!found++)
            *details = row;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/*
 * The orders go as one JSON array of [sku_id, id, pickup_point_id] (lb_store__json_ids says why JSON_TABLE): each row is
 * primary-key look-ups (the SKU, its product, the order's shipment_orders row and pickup point) and one search of
 * refunds_order for the order's latest refund. ord (FOR ORDINALITY) says which order a row is for.
 */
int lb_store_orders_details(lb_db_t *db, const lb_order_t *orders, size_t n, lb_order_details_t *details)
{
    static const char sql[] =
        "SELECT STRAIGHT_JOIN k.ord, CONCAT(p.title, ' ', s.name), sh.id, sh.status, sh.delivery_status, sh.tracking_no, "
        "pp.id, pp.name, pp.address, r.id, r.amount_cents, r.status, r.cause, r.reason "
        "FROM JSON_TABLE(?, '$[*]' COLUMNS (ord FOR ORDINALITY, sku_id BIGINT UNSIGNED PATH '$[0]', "
        "id BIGINT UNSIGNED PATH '$[1]', point BIGINT UNSIGNED PATH '$[2]')) AS k "
        "JOIN skus s ON s.id = k.sku_id JOIN products p ON p.id = s.product_id "
        "LEFT JOIN shipment_orders so ON so.sku_id = k.sku_id AND so.order_id = k.id "
        "LEFT JOIN shipments sh ON sh.id = so.shipment_id "
        "LEFT JOIN pickup_points pp ON pp.id = k.point "
        "LEFT JOIN refunds r ON r.id = (SELECT MAX(l.id) FROM refunds l WHERE l.order_id = k.id AND l.sku_id = k.sku_id)";
    char *json = lb_malloc(2 + n * 64), *p = json;
    lb_order_details_t row;
    int64_t ord;
    *p++ = '[';
    for (size_t i = 0; i != n; ++i)
        p += sprintf(p, "%s[%lld,%lld,%lld]", i == 0 ? "" : ",", (long long)orders[i].sku_id, (long long)orders[i].id,
                     (long long)orders[i].pickup_point_id);
    *p++ = ']';
    memset(details, 0, n * sizeof(*details));
    int ret = lb_db_query(db, sql, "b", json, (size_t)(p - json));
    while (ret == 0 &&
           (ret = lb_db_fetch(db, "isisssissiisss", &ord, row.title, sizeof(row.title), &row.shipment_id, row.shipment_status,
                              sizeof(row.shipment_status), row.delivery_status, sizeof(row.delivery_status), row.tracking_no,
                              sizeof(row.tracking_no), &row.pickup_point_id, row.pickup_point_name, sizeof(row.pickup_point_name),
                              row.pickup_point_address, sizeof(row.pickup_point_address), &row.refund_id, &row.refund_amount_cents,
                              row.refund_status, sizeof(row.refund_status), row.refund_cause, sizeof(row.refund_cause),
                              row.refund_reason, sizeof(row.refund_reason))) == 0) {
        if (ord >= 1 && (size_t)ord <= n)
            details[ord - 1] = row;
    }
    free(json);
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_orders_details_each(lb_db_t *db, const lb_order_t *const *orders, size_t n, lb_order_details_t *const *details)
{
    int ret = 0;
    if (lb_db_is_sharded(db) || n == 1) {
        for (size_t i = 0; ret == 0 && i != n; ++i)
            ret = lb_store_order_details(db, orders[i], details[i]);
        return ret;
    }
    lb_order_t *copies = lb_malloc((n + 1) * sizeof(*copies));
    lb_order_details_t *read = lb_malloc((n + 1) * sizeof(*read));
    for (size_t i = 0; i != n; ++i)
        copies[i] = *orders[i];
    if ((ret = lb_store_orders_details(db, copies, n, read)) == 0)
        for (size_t i = 0; i != n; ++i)
            *details[i] = read[i];
    free(read);
    free(copies);
    return ret;
}

int lb_store_buyer_orders_page(lb_db_t *db, int64_t buyer_id, const char *status, int64_t before, int64_t limit, lb_order_t *out,
                               size_t *found)
{
#define BUYER_PAGE_SELECT                                                                                                          \
    "SELECT STRAIGHT_JOIN " ORDER_SELECT_LIST("o.") "FROM " LB_BUYER_ORDER_IDS                                                     \
                                                    " ids JOIN orders o ON o.sku_id = ids.sku_id AND o.id = ids.order_id "
    static const char all_sql[] = BUYER_PAGE_SELECT "ORDER BY o.id DESC LIMIT ?";
    static const char status_sql[] = BUYER_PAGE_SELECT "WHERE o.status = ? ORDER BY o.id DESC LIMIT ?";
#undef BUYER_PAGE_SELECT
    int ret = status != NULL ? lb_db_query(db, status_sql, "iiiiiisi", buyer_id, before, buyer_id, before, buyer_id, before, status,
                                           limit)
                             : lb_db_query(db, all_sql, "iiiiiii", buyer_id, before, buyer_id, before, buyer_id, before, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit && (ret = lb_db_fetch(db, ORDER_TYPES, ORDER_OUTPUTS(&out[*found]))) == 0)
        ++*found;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

void lb_store_order_sources_free(lb_order_source_t *sources, size_t n)
{
    for (size_t i = 0; i != n; ++i)
        free(sources[i].live_items);
    free(sources);
}

/* Appends ",id" (or "id" to an empty list) to a list of *len characters in *cap bytes. */
static char *append_id(char *list, size_t *len, size_t *cap, int64_t id)
{
    char digits[24];
    size_t n = (size_t)snprintf(digits, sizeof(digits), *len == 0 ? "%lld" : ",%lld", (long long)id);
    while (*len + n >= *cap)
        list = lb_grow(list, *len + n, cap, 1);
    memcpy(list + *len, digits, n + 1);
    *len += n;
    return list;
}

/*
 * A host's live items on other merchants' SKUs, a source per SKU (its own SKUs' orders are all its own already). Found
 * through lives_merchant and live_items_live: a host has some items per live, never as many as orders.
 */
static int host_item_sources(lb_db_t *db, int64_t host_id, lb_order_source_t **sources, size_t *n)
{
    static const char sql[] = "SELECT i.sku_id, i.id FROM lives l JOIN live_items i ON i.live_id = l.id "
                              "JOIN skus s ON s.id = i.sku_id WHERE l.merchant_id = ? AND s.merchant_id <> ? "
                              "ORDER BY i.sku_id, i.id";
    size_t capacity = *n, len = 0, size = 0;
    int64_t sku_id, item_id;
    int ret = lb_db_query(db, sql, "ii", host_id, host_id);
    while (ret == 0 && (ret = lb_db_fetch(db, "ii", &sku_id, &item_id)) == 0) {
        lb_order_source_t *last = *n != 0 ? &(*sources)[*n - 1] : NULL;
        if (last == NULL || last->live_items == NULL || last->sku_id != sku_id) {
            *sources = lb_grow(*sources, *n, &capacity, sizeof(**sources));
            last = &(*sources)[(*n)++];
            *last = (lb_order_source_t){sku_id, NULL};
            len = size = 0;
        }
        last->live_items = append_id(last->live_items, &len, &size, item_id);
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_merchant_order_sources(lb_db_t *db, const lb_merchant_t *merchant, lb_order_source_t **sources, size_t *n)
{
    int64_t *skus;
    int ret = lb_store_merchant_sku_ids(db, merchant->id, &skus, n);
    *sources = lb_malloc((*n != 0 ? *n : 1) * sizeof(**sources));
    for (size_t i = 0; i != *n; ++i)
        (*sources)[i] = (lb_order_source_t){skus[i], NULL};
    free(skus);
    if (ret == 0 && merchant->kind == LB_MERCHANT_HOST)
        ret = host_item_sources(db, merchant->id, sources, n);
    return ret;
}

/*
 * A UNION ALL of one primary-key range per SKU, each of which stops after limit rows; a source of some live items only
 * reads the rest of the SKU's orders of the range too, and skips them (FIND_IN_SET). The source list is padded to a
 * power of two with SKU 0 (there is none), so that a few prepared shapes serve every group.
 */
int lb_store_sku_orders_page(lb_db_t *db, const lb_order_source_t *sources, size_t n, const lb_order_filter_t *filter,
                             int64_t after, int64_t before, int64_t limit, lb_order_t *out, size_t *found)
{
    const char *status = filter->status;
    static const char all_shape[] = "merchant_orders", status_shape[] = "merchant_orders_status";
    static const char branch[] =
        "%s(" ORDER_SELECT "WHERE sku_id = ? AND id > ? AND id < ?%s "
        "AND created_at >= ? AND created_at < ? AND (? IS NULL OR FIND_IN_SET(live_item_id, ?) > 0) ORDER BY id LIMIT ?)";
    const char *shape = status != NULL ? status_shape : all_shape;
    size_t size = lb_store__padded_size(n), len = 0, p = 0;
    lb_db_param_t *params = lb_store__params(9 * size + 1);
    char *sql = NULL;
    int ret;

    if (!lb_db_is_prepared(db, shape, size)) {
        sql = lb_malloc(64 + size * (sizeof(branch) + 32));
        for (size_t i = 0; i != size; ++i)
            len += (size_t)sprintf(sql + len, branch, i == 0 ? "" : " UNION ALL ", status != NULL ? " AND status = ?" : "");
        strcpy(sql + len, " ORDER BY id LIMIT ?");
    }
    for (size_t i = 0; i != size; ++i) {
        const char *items = i < n ? sources[i].live_items : NULL;
        params[p++] = LB_DB_INT(i < n ? sources[i].sku_id : 0);
        params[p++] = LB_DB_INT(after);
        params[p++] = LB_DB_INT(before);
        if (status != NULL)
            params[p++] = LB_DB_TEXT(status);
        params[p++] = LB_DB_INT(filter->created_from);
        params[p++] = LB_DB_INT(filter->created_to);
        params[p++] = items != NULL ? LB_DB_TEXT(items) : LB_DB_NULL;
        params[p++] = items != NULL ? LB_DB_TEXT(items) : LB_DB_NULL;
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
