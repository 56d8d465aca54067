/* Every SQL statement of livebuy, each a prepared statement cached per connection (db.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/order.h"
#include "livebuy/store.h"

/* Orders that count against a per-buyer limit. */
#define ACTIVE_STATUSES "('reserved', 'paid', 'handed_off', 'shipped', 'delivered')"

const char *const lb_merchant_kinds[] = {"coop", "host", "shipper", NULL};

int lb_store_ping(lb_db_t *db)
{
    static const char sql[] = "SELECT 1";
    int64_t one;
    int ret = lb_db_query_row(db, sql, "", "i", &one);
    return ret < 0 ? ret : 0;
}

int lb_store_merchant_create(lb_db_t *db, const char *name, lb_merchant_kind_t kind, const uint8_t token_hash[LB_TOKEN_HASH_SIZE],
                             int64_t *id)
{
    static const char sql[] = "INSERT INTO merchants (name, kind, token_hash, created_at) VALUES (?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "ssbi", name, lb_merchant_kinds[kind], token_hash, (size_t)LB_TOKEN_HASH_SIZE, lb_now());
    if (ret < 0)
        return (int)ret;
    *id = lb_db_insert_id(db);
    return 0;
}

int lb_store_merchant_by_token(lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], lb_merchant_t *merchant)
{
    static const char sql[] = "SELECT id, kind - 1 FROM merchants WHERE token_hash = ?";
    int64_t kind;
    int ret = lb_db_query_row(db, sql, "b", "ii", token_hash, (size_t)LB_TOKEN_HASH_SIZE, &merchant->id, &kind);
    merchant->kind = (lb_merchant_kind_t)kind;
    return ret;
}

int lb_store_product_create(lb_db_t *db, int64_t merchant_id, const lb_product_t *product, lb_sku_t *skus, size_t num_skus,
                            int64_t *product_id)
{
    static const char product_sql[] =
        "INSERT INTO products (merchant_id, title, unit, origin, cold_chain, created_at) VALUES (?, ?, ?, ?, ?, ?)";
    static const char sku_sql[] = "INSERT INTO skus (product_id, merchant_id, name, price_cents, weight_grams, stock, "
                                  "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    int64_t now = lb_now(), ret;

    if ((ret = lb_db_begin(db)) != 0)
        return (int)ret;
    if ((ret = lb_db_exec(db, product_sql, "isssii", merchant_id, product->title, product->unit, product->origin,
                          (int64_t)product->cold_chain, now)) < 0)
        return (int)ret;
    *product_id = lb_db_insert_id(db);
    for (size_t i = 0; i != num_skus; ++i) {
        lb_sku_t *sku = &skus[i];
        if ((ret = lb_db_exec(db, sku_sql, "iisiiiii", *product_id, merchant_id, sku->name, sku->price_cents, sku->weight_grams,
                              sku->stock, now, now)) < 0)
            return (int)ret;
        sku->id = lb_db_insert_id(db);
        sku->product_id = *product_id;
        sku->merchant_id = merchant_id;
        sku->reserved = sku->sold = sku->held = 0;
    }
    return lb_db_commit(db);
}

int lb_store_sku_get(lb_db_t *db, int64_t id, lb_sku_t *sku)
{
    static const char sql[] = "SELECT id, product_id, merchant_id, name, price_cents, weight_grams, stock, reserved, sold, held "
                              "FROM skus WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "iiisiiiiii", id, &sku->id, &sku->product_id, &sku->merchant_id, sku->name,
                           sizeof(sku->name), &sku->price_cents, &sku->weight_grams, &sku->stock, &sku->reserved, &sku->sold,
                           &sku->held);
}

int lb_store_sku_restock(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t qty, lb_sku_t *sku)
{
    static const char sql[] = "UPDATE skus SET stock = stock + ?, updated_at = ? WHERE id = ? AND merchant_id = ? "
                              "AND stock + ? <= ?";
    int64_t changed = lb_db_exec(db, sql, "iiiiii", qty, lb_now(), id, merchant_id, qty, (int64_t)LB_STOCK_MAX);
    if (changed < 0)
        return (int)changed;
    int found = lb_store_sku_get(db, id, sku);
    if (found <= 0 || changed == 1)
        return found;
    return sku->merchant_id != merchant_id ? LB_EFORBIDDEN : LB_ECONFLICT;
}

int lb_store_sku_lock(lb_db_t *db, int64_t id, lb_sku_t *sku)
{
    static const char sql[] = "SELECT id, product_id, merchant_id, name, price_cents, weight_grams, stock, reserved, sold, held "
                              "FROM skus WHERE id = ? FOR UPDATE";
    return lb_db_query_row(db, sql, "i", "iiisiiiiii", id, &sku->id, &sku->product_id, &sku->merchant_id, sku->name,
                           sizeof(sku->name), &sku->price_cents, &sku->weight_grams, &sku->stock, &sku->reserved, &sku->sold,
                           &sku->held);
}

int lb_store_live_item_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target)
{
    static const char sql[] = "SELECT price_cents, quota - reserved - sold, per_buyer_limit, opens_at, "
                              "COALESCE(reserve_ttl, 0) FROM live_items WHERE id = ? AND sku_id = ? FOR UPDATE";
    memset(target, 0, sizeof(*target));
    target->id = id;
    int ret = lb_db_query_row(db, sql, "ii", "iiiii", id, sku_id, &target->price_cents, &target->left, &target->per_buyer_limit,
                              &target->opens_at, &target->reserve_ttl);
    if (ret < 0)
        return ret;
    target->found = ret;
    if (target->reserve_ttl == 0)
        target->reserve_ttl = default_ttl;
    return 0;
}

/* IN lists are padded (with their last value) to a power of two, so a handful of prepared shapes serve every size. */
static size_t padded_size(size_t n)
{
    size_t size = 1;
    while (size < n)
        size *= 2;
    return size;
}

/* Appends "?, ?, ..., ?" (n of them) to sql at *len. */
static void append_placeholders(char *sql, size_t *len, size_t n)
{
    for (size_t i = 0; i != n; ++i)
        *len += (size_t)sprintf(sql + *len, i == 0 ? "?" : ", ?");
}

int lb_store_orders_by_keys(lb_db_t *db, int64_t sku_id, const lb_order_request_t *requests, size_t n, lb_existing_order_t **out,
                            size_t *found)
{
    static const char shape[] = "orders_by_keys";
    size_t size = padded_size(n), len = 0, p = 0;
    char *sql = lb_malloc(256 + size * 8);
    lb_db_param_t *params = lb_malloc((1 + 2 * size) * sizeof(*params));
    const lb_order_request_t *r = requests;
    int ret;

    /* Buyers and keys are matched in pairs by the caller; the two lists only narrow the index range. */
    len = (size_t)sprintf(sql, "SELECT buyer_id, idem_key, request_hash, id, amount_cents, expires_at FROM orders "
                               "WHERE sku_id = ? AND buyer_id IN (");
    append_placeholders(sql, &len, size);
    len += (size_t)sprintf(sql + len, ") AND idem_key IN (");
    append_placeholders(sql, &len, size);
    strcpy(sql + len, ")");
    params[p++] = LB_DB_INT(sku_id);
    for (size_t i = 0; i != size; ++i, r = r->next != NULL ? r->next : r)
        params[p++] = LB_DB_INT(r->buyer_id);
    r = requests;
    for (size_t i = 0; i != size; ++i, r = r->next != NULL ? r->next : r)
        params[p++] = LB_DB_BYTES(r->idem_key, strlen(r->idem_key));
    ret = lb_db_query_array(db, shape, size, sql, params, p);
    size_t cap = 0;
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        lb_existing_order_t e;
        size_t hash_len;
        if ((ret = lb_db_fetch(db, "isbiii", &e.buyer_id, e.idem_key, sizeof(e.idem_key), e.request_hash, sizeof(e.request_hash),
                               &hash_len, &e.order_id, &e.amount_cents, &e.expires_at)) != 1)
            break;
        if (*found == cap)
            *out = lb_realloc(*out, (cap = cap * 2 + 16) * sizeof(**out));
        (*out)[(*found)++] = e;
        ret = 0;
    }
    free(sql);
    free(params);
    return ret < 0 ? ret : 0;
}

int lb_store_buyer_usage(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n, lb_buyer_usage_t **out, size_t *found)
{
    static const char shape[] = "buyer_usage";
    size_t size = padded_size(n), len, p = 0, cap = 0;
    char *sql = lb_malloc(256 + size * 4);
    lb_db_param_t *params = lb_malloc((1 + size) * sizeof(*params));
    int ret;

    len = (size_t)sprintf(sql, "SELECT buyer_id, live_item_id, SUM(qty) FROM orders WHERE sku_id = ? AND buyer_id IN (");
    append_placeholders(sql, &len, size);
    strcpy(sql + len, ") AND live_item_id IS NOT NULL AND status IN " ACTIVE_STATUSES " GROUP BY buyer_id, live_item_id");
    params[p++] = LB_DB_INT(sku_id);
    for (size_t i = 0; i != size; ++i)
        params[p++] = LB_DB_INT(buyers[i < n ? i : n - 1]);
    ret = lb_db_query_array(db, shape, size, sql, params, p);
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        lb_buyer_usage_t u;
        if ((ret = lb_db_fetch(db, "iii", &u.buyer_id, &u.target_id, &u.qty)) != 1)
            break;
        if (*found == cap)
            *out = lb_realloc(*out, (cap = cap * 2 + 16) * sizeof(**out));
        (*out)[(*found)++] = u;
        ret = 0;
    }
    free(sql);
    free(params);
    return ret < 0 ? ret : 0;
}

#define ORDER_COLUMNS 17

/* Inserts granted[0..n) as one multi-row INSERT; their ids are consecutive from the first (innodb_autoinc_lock_mode < 2). */
static int insert_orders_chunk(lb_db_t *db, int64_t merchant_id, lb_order_request_t *const *granted, size_t n, int64_t now)
{
    static const char shape[] = "orders_insert";
    static const char row[] = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'reserved', ?, ?, ?, ?, ?, ?, ?)";
    char *sql = lb_malloc(512 + n * sizeof(row));
    lb_db_param_t *params = lb_malloc(n * ORDER_COLUMNS * sizeof(*params)), *p = params;
    size_t len = (size_t)sprintf(sql, "INSERT INTO orders (sku_id, merchant_id, buyer_id, idem_key, request_hash, live_item_id, "
                                      "group_buy_id, qty, unit_price_cents, amount_cents, status, ship_to_name, ship_to_phone, "
                                      "ship_to_address, pickup_point_id, expires_at, created_at, updated_at) VALUES ");
    for (size_t i = 0; i != n; ++i) {
        const lb_order_request_t *r = granted[i];
        len += (size_t)sprintf(sql + len, "%s%s", i == 0 ? "" : ", ", row);
        *p++ = LB_DB_INT(r->sku_id);
        *p++ = LB_DB_INT(merchant_id);
        *p++ = LB_DB_INT(r->buyer_id);
        *p++ = LB_DB_BYTES(r->idem_key, strlen(r->idem_key));
        *p++ = LB_DB_BYTES(r->request_hash, sizeof(r->request_hash));
        *p++ = r->live_item_id != 0 ? LB_DB_INT(r->live_item_id) : LB_DB_NULL;
        *p++ = r->group_buy_id != 0 ? LB_DB_INT(r->group_buy_id) : LB_DB_NULL;
        *p++ = LB_DB_INT(r->qty);
        *p++ = LB_DB_INT(r->amount_cents / r->qty);
        *p++ = LB_DB_INT(r->amount_cents);
        *p++ = r->ship_to != NULL ? LB_DB_TEXT(r->ship_to->name) : LB_DB_NULL;
        *p++ = r->ship_to != NULL ? LB_DB_TEXT(r->ship_to->phone) : LB_DB_NULL;
        *p++ = r->ship_to != NULL ? LB_DB_TEXT(r->ship_to->address) : LB_DB_NULL;
        *p++ = r->pickup_point_id != 0 ? LB_DB_INT(r->pickup_point_id) : LB_DB_NULL;
        *p++ = LB_DB_INT(r->expires_at);
        *p++ = LB_DB_INT(now);
        *p++ = LB_DB_INT(now);
    }
    int64_t ret = lb_db_exec_array(db, shape, n, sql, params, (size_t)(p - params));
    free(sql);
    free(params);
    if (ret < 0)
        return (int)ret;
    int64_t id = lb_db_insert_id(db);
    for (size_t i = 0; i != n; ++i)
        granted[i]->order_id = id + (int64_t)i;
    return 0;
}

int lb_store_orders_insert(lb_db_t *db, int64_t merchant_id, lb_order_request_t *const *granted, size_t n, int64_t now)
{
    /* Chunks of power-of-two sizes (binary decomposition of n): a few prepared shapes serve every batch size. */
    size_t done = 0;
    for (size_t chunk = padded_size(n + 1) / 2; done != n; chunk /= 2) {
        if (n - done < chunk)
            continue;
        int ret = insert_orders_chunk(db, merchant_id, granted + done, chunk, now);
        if (ret != 0)
            return ret;
        done += chunk;
    }
    return 0;
}

int lb_store_sku_add_reserved(lb_db_t *db, int64_t sku_id, int64_t reserved_delta, int64_t from_held, int64_t now)
{
    static const char sql[] = "UPDATE skus SET reserved = reserved + ?, held = held - ?, updated_at = ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "iiii", reserved_delta, from_held, now, sku_id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_live_item_add_reserved(lb_db_t *db, int64_t id, int64_t delta)
{
    static const char sql[] = "UPDATE live_items SET reserved = reserved + ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "ii", delta, id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_live_item_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *opens_at)
{
    static const char sql[] = "SELECT sku_id, opens_at FROM live_items WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "ii", id, sku_id, opens_at);
}

int lb_store_pickup_point_exists(lb_db_t *db, int64_t id)
{
    static const char sql[] = "SELECT id FROM pickup_points WHERE id = ?";
    int64_t found;
    return lb_db_query_row(db, sql, "i", "i", id, &found);
}
