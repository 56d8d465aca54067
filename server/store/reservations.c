/*
 * The reservation batch's statements (server/order/reserve.c runs them in one transaction on one SKU): the look-ups
 * that decide it and the inserts that write its orders, each one statement whatever the batch's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"
#include "livebuy/model/order.h"
#include "livebuy/store/reservations.h"
#include "internal.h"

/* Orders that count against a per-buyer limit: every one not let go of (collected at a station too, sql/016). */
#define ACTIVE_STATUSES "('reserved', 'paid', 'handed_off', 'shipped', 'delivered', 'collected')"

/*
 * Fetches the rows of an existing-order query that returned ret (order_id, amount_cents, expires_at after the key
 * columns, if any).
 */
static int fetch_existing(lb_db_t *db, int ret, int with_keys, lb_existing_order_t **out, size_t *found)
{
    size_t cap = 0;
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        lb_existing_order_t e = {0};
        size_t hash_len;
        if (with_keys)
            ret = lb_db_fetch(db, "isbiii", &e.buyer_id, e.idem_key, sizeof(e.idem_key), e.request_hash, sizeof(e.request_hash),
                              &hash_len, &e.order_id, &e.amount_cents, &e.expires_at);
        else
            ret = lb_db_fetch(db, "iii", &e.order_id, &e.amount_cents, &e.expires_at);
        if (ret != 0)
            break;
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        (*out)[(*found)++] = e;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/*
 * The buyers and keys of requests[0..n) as a JSON array of [buyer_id, "key"] pairs; malloc'd. Keys are printable ASCII
 * (orders.c checks the buyers' own; the server's are hex), so '"' and '\\' are the only bytes to escape.
 */
static char *json_keys(const lb_order_request_t *const *requests, size_t n, size_t *len)
{
    char *json = lb_malloc(2 + n * (24 + 2 * LB_IDEMPOTENCY_KEY_MAX + 4)), *p = json;
    *p++ = '[';
    for (size_t i = 0; i != n; ++i) {
        p += sprintf(p, "%s[%lld,\"", i == 0 ? "" : ",", (long long)requests[i]->buyer_id);
        for (const char *k = requests[i]->idem_key; *k != '\0'; ++k) {
            if (*k == '"' || *k == '\\')
                *p++ = '\\';
            *p++ = *k;
        }
        *p++ = '"';
        *p++ = ']';
    }
    *p++ = ']';
    *len = (size_t)(p - json);
    return json;
}

int lb_store_orders_by_keys(lb_db_t *db, int64_t sku_id, const lb_order_request_t *const *requests, size_t n,
                            lb_existing_order_t **out, size_t *found)
{
    /* Whole keys, each an eq_ref look-up of order_keys' primary key (see json_ids); DISTINCT: a key a batch names twice. */
    static const char sql[] = "SELECT DISTINCT STRAIGHT_JOIN k.buyer_id, k.idem_key, k.request_hash, k.order_id, o.amount_cents, "
                              "o.expires_at FROM JSON_TABLE(?, '$[*]' COLUMNS (buyer_id BIGINT UNSIGNED PATH '$[0]', "
                              "idem_key VARBINARY(64) PATH '$[1]')) AS ids JOIN order_keys k FORCE INDEX (PRIMARY) "
                              "ON k.sku_id = ? AND k.buyer_id = ids.buyer_id AND k.idem_key = ids.idem_key "
                              "JOIN orders o ON o.sku_id = k.sku_id AND o.id = k.order_id";
    size_t len;
    char *keys = json_keys(requests, n, &len);
    int ret = lb_store__query_json_list(db, sql, keys, len, sku_id);
    return fetch_existing(db, ret, 1, out, found);
}

int lb_store_orders_by_ids(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_existing_order_t **out, size_t *found)
{
    static const char sql[] = "SELECT STRAIGHT_JOIN o.id, o.amount_cents, o.expires_at " FROM_ORDERS_BY_JSON_IDS;
    size_t len;
    char *list = lb_store__json_ids(ids, n, &len);
    int ret = lb_store__query_json_list(db, sql, list, len, sku_id);
    return fetch_existing(db, ret, 0, out, found);
}

#define BUYER_USAGE_COLUMNS "k.buyer_id, COALESCE(o.live_item_id, 0), COALESCE(o.group_buy_id, 0), o.qty "
#define BUYER_USAGE_WHERE   "(o.live_item_id IS NOT NULL OR o.group_buy_id IS NOT NULL) AND o.status IN " ACTIVE_STATUSES

/*
 * The buyers' look-up on a sharded front: Spider runs the JSON_TABLE join below as a SELECT of order_keys per buyer and
 * one of orders per key found, but sends this one, "sku_id = ? AND buyer_id IN (...)" over both tables of one SKU, to
 * the SKU's backend as one statement (the whole join). The list is padded with its last buyer (lb_store__padded_size).
 */
static int query_buyer_usage_in_list(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n)
{
    static const char shape[] = "buyer_usage_in_list";
    size_t size = lb_store__padded_size(n);
    lb_db_param_t *params = lb_store__params(1 + size);
    params[0] = LB_DB_INT(sku_id);
    for (size_t i = 0; i != size; ++i)
        params[1 + i] = LB_DB_INT(buyers[i < n ? i : n - 1]);
    char *sql = lb_store__list_sql(db, shape, size,
                                   "SELECT " BUYER_USAGE_COLUMNS
                                   "FROM order_keys k JOIN orders o ON o.sku_id = k.sku_id AND o.id = k.order_id "
                                   "WHERE k.sku_id = ? AND k.buyer_id IN (",
                                   "?", ") AND " BUYER_USAGE_WHERE);
    int ret = lb_db_query_array(db, shape, size, sql, params, 1 + size);
    free(sql);
    return ret;
}

int lb_store_buyer_usage(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n, lb_buyer_usage_t **out, size_t *found)
{
    /*
     * Every order on a live item or group-buy has its row in order_keys (see insert_order_keys). A row per order, not
     * per target: the allocation adds them up (units_held), and a GROUP BY cost MariaDB a temporary table and a sort
     * per statement (mariadb client, 100 buyers: 1.0 -> 0.35 ms a statement).
     */
    static const char sql[] =
        "SELECT STRAIGHT_JOIN " BUYER_USAGE_COLUMNS "FROM JSON_TABLE(?, '$[*]' COLUMNS (buyer_id BIGINT UNSIGNED PATH '$')) AS ids "
        "JOIN order_keys k FORCE INDEX (PRIMARY) ON k.sku_id = ? AND k.buyer_id = ids.buyer_id "
        "JOIN orders o ON o.sku_id = k.sku_id AND o.id = k.order_id WHERE " BUYER_USAGE_WHERE;
    size_t cap = 0, len;
    int ret;
    if (lb_db_is_sharded(db)) {
        ret = query_buyer_usage_in_list(db, sku_id, buyers, n);
    } else {
        char *ids = lb_store__json_ids(buyers, n, &len);
        ret = lb_store__query_json_list(db, sql, ids, len, sku_id);
    }
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        lb_buyer_usage_t u;
        int64_t live_item_id, group_buy_id;
        if ((ret = lb_db_fetch(db, "iiii", &u.buyer_id, &live_item_id, &group_buy_id, &u.qty)) != 0)
            break;
        u.kind = live_item_id != 0 ? LB_TARGET_LIVE_ITEM : LB_TARGET_GROUP_BUY;
        u.target_id = live_item_id != 0 ? live_item_id : group_buy_id;
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        (*out)[(*found)++] = u;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/*
 * The order directory's list of SKUs for a block of several (sql/021): "[sku,sku,...]", the SKU of each of its ids, into
 * out (room for LB_ORDER_ID_BLOCK numbers); returns it.
 */
static char *block_skus(lb_order_request_t *const *granted, size_t start, size_t end, char *out)
{
    char *p = out;
    *p++ = '[';
    for (size_t i = start; i != end; ++i)
        p += sprintf(p, "%s%lld", i == start ? "" : ",", (long long)granted[i]->sku_id);
    *p++ = ']';
    *p = '\0';
    return out;
}

/*
 * Takes the blocks of order ids that granted[0..n) need (lb_order_block_begins), each with its row in the order directory
 * (sql/005, 006 and 021: its first SKU and, when it has several, the SKU of each id; its size; and when its first
 * reservation falls due for the sweeper), in one multi-row INSERT; gives each order its id.
 */
static int take_order_ids(lb_db_t *db, lb_order_request_t *const *granted, size_t n)
{
    static const char shape[] = "order_blocks_insert";
    size_t *starts = lb_malloc((n + 1) * sizeof(*starts)), num_blocks = 0;
    for (size_t i = 0; i != n; ++i)
        if (lb_order_block_begins(granted, i, num_blocks != 0 ? starts[num_blocks - 1] : 0))
            starts[num_blocks++] = i;
    starts[num_blocks] = n;
    lb_db_param_t *params = lb_store__params(4 * num_blocks);
    int64_t *first_ids = lb_malloc(num_blocks * sizeof(*first_ids));
    char *skus = lb_malloc(num_blocks * LB_ORDER_BLOCK_SKUS_MAX);
    for (size_t b = 0; b != num_blocks; ++b) {
        int64_t due_at = granted[starts[b]]->expires_at;
        for (size_t i = starts[b] + 1; i != starts[b + 1]; ++i)
            due_at = granted[i]->expires_at < due_at ? granted[i]->expires_at : due_at;
        params[4 * b] = LB_DB_INT(granted[starts[b]]->sku_id);
        params[4 * b + 1] = LB_DB_INT((int64_t)(starts[b + 1] - starts[b]));
        params[4 * b + 2] = LB_DB_INT(due_at);
        params[4 * b + 3] = LB_DB_NULL;
        if (!lb_order_block_single(granted, starts[b], starts[b + 1]))
            params[4 * b + 3] = LB_DB_TEXT(block_skus(granted, starts[b], starts[b + 1], skus + b * LB_ORDER_BLOCK_SKUS_MAX));
    }
    /* The lattice, for lb_store_order_block_of: the order directory learns these blocks once they are inserted. */
    int ret = lb_store__read_lattice(db);
    if (ret == 0)
        ret = lb_store__insert_returning(db, shape, "INSERT INTO order_blocks (first_id, sku_id, size, due_at, skus) VALUES ",
                                         "(NEXTVAL(order_ids), ?, ?, ?, ?)", "first_id", params, 4 * num_blocks, num_blocks,
                                         first_ids);
    for (size_t b = 0; ret == 0 && b != num_blocks; ++b)
        for (size_t i = starts[b]; i != starts[b + 1]; ++i)
            granted[i]->order_id = first_ids[b] + (int64_t)(i - starts[b]);
    free(skus);
    free(first_ids);
    free(starts);
    return ret;
}

/* Inserts granted[0..n), their ids taken, as one statement. Their status is the column's default, 'reserved' (010). */
static int insert_orders(lb_db_t *db, lb_order_request_t *const *granted, size_t n, int64_t now)
{
    static const char sql[] =
        "INSERT INTO orders (id, sku_id, buyer_id, live_item_id, group_buy_id, qty, amount_cents, ship_to_name, "
        "ship_to_phone, ship_to_address, pickup_point_id, expires_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    enum { ID, SKU, BUYER, LIVE_ITEM, GROUP_BUY, QTY, AMOUNT, NAME, PHONE, ADDRESS, PICKUP, EXPIRES, CREATED };
    lb_db_rows_t *rows = lb_db_rows_start("iiiiiiibbbiii", n);
    for (size_t i = 0; i != n; ++i) {
        const lb_order_request_t *r = granted[i];
        lb_db_row_int(rows, ID, i, r->order_id);
        lb_db_row_int(rows, SKU, i, r->sku_id);
        lb_db_row_int(rows, BUYER, i, r->buyer_id);
        lb_db_row_id_or_null(rows, LIVE_ITEM, i, r->live_item_id);
        lb_db_row_id_or_null(rows, GROUP_BUY, i, r->group_buy_id);
        lb_db_row_int(rows, QTY, i, r->qty);
        lb_db_row_int(rows, AMOUNT, i, r->amount_cents);
        /* Bytes: MariaDB takes a binary parameter into a utf8mb4 column for less than a utf8mb4 one (callgrind: 1k
         * instructions per order), and the codec has already checked the UTF-8. */
        lb_db_row_text(rows, NAME, i, r->ship_to != NULL ? r->ship_to->name : NULL);
        lb_db_row_text(rows, PHONE, i, r->ship_to != NULL ? r->ship_to->phone : NULL);
        lb_db_row_text(rows, ADDRESS, i, r->ship_to != NULL ? r->ship_to->address : NULL);
        lb_db_row_id_or_null(rows, PICKUP, i, r->pickup_point_id);
        lb_db_row_int(rows, EXPIRES, i, r->expires_at);
        lb_db_row_int(rows, CREATED, i, now);
    }
    int64_t inserted = lb_db_exec_rows(db, sql, rows->columns, CREATED + 1, n);
    return inserted < 0 ? (int)inserted : 0;
}

/* Whether an order's key goes into order_keys (sql/007_order_keys.sql says why these and no others). */
static int keeps_key(const lb_order_request_t *r)
{
    return r->key_given || r->target != LB_TARGET_SKU;
}

/*
 * The keys of the inserted orders that can be asked for again: the buyers' own, and those of orders on live items and
 * group-buys (per-buyer limits read through them). A key taken already fails the statement with LB_EDB_DUP.
 */
static int insert_order_keys(lb_db_t *db, lb_order_request_t *const *inserted, size_t n)
{
    static const char sql[] = "INSERT INTO order_keys (sku_id, buyer_id, idem_key, order_id, request_hash) VALUES (?, ?, ?, ?, ?)";
    size_t num_keys = 0;
    for (size_t i = 0; i != n; ++i)
        num_keys += keeps_key(inserted[i]);
    if (num_keys == 0)
        return 0;
    lb_db_rows_t *rows = lb_db_rows_start("iibib", num_keys);
    for (size_t i = 0, j = 0; i != n; ++i) {
        const lb_order_request_t *r = inserted[i];
        if (!keeps_key(r))
            continue;
        lb_db_row_int(rows, 0, j, r->sku_id);
        lb_db_row_int(rows, 1, j, r->buyer_id);
        lb_db_row_text(rows, 2, j, r->idem_key);
        lb_db_row_int(rows, 3, j, r->order_id);
        lb_db_row_bytes(rows, 4, j++, r->request_hash, sizeof(r->request_hash));
    }
    int64_t ret = lb_db_exec_rows(db, sql, rows->columns, 5, num_keys);
    return ret < 0 ? (int)ret : 0;
}

/* The group-buy joins among the inserted orders, each in its campaign's index (group_buy_orders); most batches have none. */
static int insert_group_buy_orders(lb_db_t *db, lb_order_request_t *const *inserted, size_t n)
{
    static const char sql[] = "INSERT INTO group_buy_orders (sku_id, group_buy_id, order_id) VALUES (?, ?, ?)";
    size_t num_joins = 0;
    for (size_t i = 0; i != n; ++i)
        num_joins += inserted[i]->group_buy_id != 0;
    if (num_joins == 0)
        return 0;
    lb_db_rows_t *rows = lb_db_rows_start("iii", num_joins);
    for (size_t i = 0, j = 0; i != n; ++i) {
        if (inserted[i]->group_buy_id == 0)
            continue;
        lb_db_row_int(rows, 0, j, inserted[i]->sku_id);
        lb_db_row_int(rows, 1, j, inserted[i]->group_buy_id);
        lb_db_row_int(rows, 2, j++, inserted[i]->order_id);
    }
    int64_t ret = lb_db_exec_rows(db, sql, rows->columns, 3, num_joins);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_orders_insert(lb_db_t *db, lb_order_request_t *const *granted, size_t n, int64_t now)
{
    int ret;
    if ((ret = take_order_ids(db, granted, n)) != 0 || (ret = insert_orders(db, granted, n, now)) != 0 ||
        (ret = insert_order_keys(db, granted, n)) != 0)
        return ret;
    return insert_group_buy_orders(db, granted, n);
}
