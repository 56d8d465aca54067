/* Every SQL statement of livebuy, each a prepared statement cached per connection (db.h). */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/store.h"

/* Orders that count against a per-buyer limit. */
#define ACTIVE_STATUSES "('reserved', 'paid', 'handed_off', 'shipped', 'delivered')"

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

#define SKU_SELECT "SELECT id, product_id, merchant_id, name, price_cents, weight_grams, stock, reserved, sold, held FROM skus "

/* Reads one SKU row with sql (SKU_SELECT and a WHERE on the id). */
static int read_sku(lb_db_t *db, const char *sql, int64_t id, lb_sku_t *sku)
{
    return lb_db_query_row(db, sql, "i", "iiisiiiiii", id, &sku->id, &sku->product_id, &sku->merchant_id, sku->name,
                           sizeof(sku->name), &sku->price_cents, &sku->weight_grams, &sku->stock, &sku->reserved, &sku->sold,
                           &sku->held);
}

int lb_store_sku_get(lb_db_t *db, int64_t id, lb_sku_t *sku)
{
    static const char sql[] = SKU_SELECT "WHERE id = ?";
    return read_sku(db, sql, id, sku);
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
    static const char sql[] = SKU_SELECT "WHERE id = ? FOR UPDATE";
    return read_sku(db, sql, id, sku);
}

int lb_store_live_item_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target)
{
    static const char sql[] = "SELECT price_cents, quota - reserved - sold, per_buyer_limit, opens_at, "
                              "COALESCE(reserve_ttl, 0) FROM live_items WHERE id = ? AND sku_id = ? FOR UPDATE";
    memset(target, 0, sizeof(*target));
    target->kind = LB_TARGET_LIVE_ITEM;
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

/* A worker's parameter array for the batch statements, grown as needed and kept (thousands of entries a batch). */
static lb_db_param_t *batch_params(size_t n)
{
    static _Thread_local lb_db_param_t *params;
    static _Thread_local size_t capacity;
    if (n > capacity) {
        params = lb_realloc(params, n * sizeof(*params));
        capacity = n;
    }
    return params;
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
    if (ret < 0)
        return ret;
    target->found = ret;
    target->open = open != 0;
    return 0;
}

int lb_store_group_buy_add_joined(lb_db_t *db, int64_t id, int64_t delta)
{
    static const char sql[] = "UPDATE group_buys SET joined_qty = joined_qty + ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "ii", delta, id);
    return ret < 0 ? (int)ret : 0;
}

/* IN lists are padded (with their last value) to a power of two, so a handful of prepared shapes serve every size. */
static size_t padded_size(size_t n)
{
    size_t size = 1;
    while (size < n)
        size *= 2;
    return size;
}

/*
 * A list look-up written as rows, "(sku_id, x) IN ((?, ?), ...)", with the index forced (lb_store_payments_recorded;
 * the order path's look-ups go through JSON_TABLE, below). With "sku_id = ? AND x IN (...)" MariaDB may read every row
 * of the SKU instead: past eq_range_index_dive_limit (200) it estimates the list's ranges from index statistics, and
 * its cost model rates a thousand ranges dearer than one pass over the SKU's rows. A drop once slowed down that way as
 * its SKU filled up: 40,000 orders/s held for two seconds, then 20,000/s and latencies near a second (perf:
 * in_vector::find, ha_index_next_same). Rows leave it no such plan, and FORCE INDEX none but the ranges.
 */

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * Reading a batch's rows by a list of ids of one SKU: the ids go as one JSON array, a row each from JSON_TABLE, and each
 * row is one look-up of the primary key (STRAIGHT_JOIN keeps JSON_TABLE first, so the access is by reference). With a
 * list of rows, "(sku_id, buyer_id) IN ((?, ?), ...)", MariaDB spent more on planning the list (a range each, sorted)
 * than on the look-ups: with 2,000 buyers, 123 ms a statement against 3.5 ms (the same rows; mariadb client, text).
 * The statement is one, whatever the number of ids. JSON_TABLE needs MariaDB 10.6.
 *
 * json_ids gives ids[0..n) as such an array, each id once (a batch may name one twice, which would count its rows
 * twice), in ascending order (the order its rows are locked in); malloc'd.
 */
static char *json_ids(const int64_t *ids, size_t n, size_t *len)
{
    int64_t *sorted = lb_malloc((n != 0 ? n : 1) * sizeof(*sorted));
    char *json = lb_malloc(2 + n * 21), *p = json;
    memcpy(sorted, ids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), by_value);
    *p++ = '[';
    for (size_t i = 0; i != n; ++i)
        if (i == 0 || sorted[i] != sorted[i - 1])
            p += sprintf(p, "%s%lld", p == json + 1 ? "" : ",", (long long)sorted[i]);
    *p++ = ']';
    *len = (size_t)(p - json);
    free(sorted);
    return json;
}

/* The orders (as o) of one SKU (the second parameter) whose ids the first lists as a JSON array (json_ids). */
#define FROM_ORDERS_BY_JSON_IDS                                                                                                    \
    "FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS ids JOIN orders o FORCE INDEX (PRIMARY) "                 \
    "ON o.sku_id = ? AND o.id = ids.id "

/* Runs sql (a JSON_TABLE statement) with the JSON list (which it frees) and the SKU as its two parameters. */
static int query_json_list(lb_db_t *db, const char *sql, char *list, size_t len, int64_t sku_id)
{
    lb_db_param_t params[] = {LB_DB_BYTES(list, len), LB_DB_INT(sku_id)};
    int ret = lb_db_query_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params));
    free(list);
    return ret;
}

/*
 * The text of a statement of shape with a list of n items: head, item n times comma-separated ("(?, ?), (?, ?)"), tail;
 * from malloc. NULL when the connection has that shape and n prepared already (lb_db_query_array needs no text then).
 */
static char *list_sql(lb_db_t *db, const char *shape, size_t n, const char *head, const char *item, const char *tail)
{
    if (lb_db_is_prepared(db, shape, n))
        return NULL;
    char *sql = lb_malloc(strlen(head) + n * (strlen(item) + 2) + strlen(tail) + 1);
    size_t len = (size_t)sprintf(sql, "%s", head);
    for (size_t i = 0; i != n; ++i)
        len += (size_t)sprintf(sql + len, "%s%s", i == 0 ? "" : ", ", item);
    strcpy(sql + len, tail);
    return sql;
}

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
        if (ret != 1)
            break;
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        (*out)[(*found)++] = e;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
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
    int ret = query_json_list(db, sql, keys, len, sku_id);
    return fetch_existing(db, ret, 1, out, found);
}

int lb_store_orders_by_ids(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_existing_order_t **out, size_t *found)
{
    static const char sql[] = "SELECT STRAIGHT_JOIN o.id, o.amount_cents, o.expires_at " FROM_ORDERS_BY_JSON_IDS;
    size_t len;
    char *list = json_ids(ids, n, &len);
    int ret = query_json_list(db, sql, list, len, sku_id);
    return fetch_existing(db, ret, 0, out, found);
}

int lb_store_buyer_usage(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n, lb_buyer_usage_t **out, size_t *found)
{
    /*
     * Every order on a live item or group-buy has its row in order_keys (see insert_order_keys). A row per order, not
     * per target: the allocation adds them up (units_held), and a GROUP BY cost MariaDB a temporary table and a sort
     * per statement (mariadb client, 100 buyers: 1.0 -> 0.35 ms a statement).
     */
    static const char sql[] = "SELECT STRAIGHT_JOIN k.buyer_id, COALESCE(o.live_item_id, 0), COALESCE(o.group_buy_id, 0), "
                              "o.qty FROM JSON_TABLE(?, '$[*]' COLUMNS (buyer_id BIGINT UNSIGNED PATH '$')) AS ids "
                              "JOIN order_keys k FORCE INDEX (PRIMARY) ON k.sku_id = ? AND k.buyer_id = ids.buyer_id "
                              "JOIN orders o ON o.sku_id = k.sku_id AND o.id = k.order_id "
                              "WHERE (o.live_item_id IS NOT NULL OR o.group_buy_id IS NOT NULL) AND o.status IN " ACTIVE_STATUSES;
    size_t cap = 0, len;
    char *ids = json_ids(buyers, n, &len);
    int ret = query_json_list(db, sql, ids, len, sku_id);
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        lb_buyer_usage_t u;
        int64_t live_item_id, group_buy_id;
        if ((ret = lb_db_fetch(db, "iiii", &u.buyer_id, &live_item_id, &group_buy_id, &u.qty)) != 1)
            break;
        u.kind = live_item_id != 0 ? LB_TARGET_LIVE_ITEM : LB_TARGET_GROUP_BUY;
        u.target_id = live_item_id != 0 ? live_item_id : group_buy_id;
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        (*out)[(*found)++] = u;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

/*
 * Rows for lb_db_exec_rows (array binding: a batch's orders go to MariaDB as one statement and one packet, instead of
 * a statement per 64 rows), column by column, in a buffer of the calling thread's that grows as needed.
 */
typedef struct st_rows_t {
    size_t num_rows;
    lb_db_column_t *columns;
    int64_t *ints;
    const char **bytes;
    unsigned long *lengths;
    char *nulls;
} rows_t;

/* Rows of num_rows values in each of the columns described by types ('i' or 'b', one per column); all not NULL. */
static rows_t *rows_start(const char *types, size_t num_rows)
{
    static _Thread_local rows_t rows;
    static _Thread_local void *buffer;
    static _Thread_local size_t capacity;
    size_t num_columns = strlen(types), cells = num_columns * num_rows;
    size_t size = num_columns * sizeof(lb_db_column_t) + cells * (sizeof(int64_t) + sizeof(char *) + sizeof(unsigned long) + 1);
    if (size > capacity)
        buffer = lb_realloc(buffer, capacity = size);
    rows.num_rows = num_rows;
    rows.columns = buffer;
    rows.ints = (int64_t *)(rows.columns + num_columns);
    rows.bytes = (const char **)(rows.ints + cells);
    rows.lengths = (unsigned long *)(rows.bytes + cells);
    rows.nulls = (char *)(rows.lengths + cells);
    memset(rows.nulls, 0, cells);
    for (size_t c = 0; c != num_columns; ++c) {
        size_t at = c * num_rows;
        rows.columns[c] = (lb_db_column_t){types[c], rows.ints + at, rows.bytes + at, rows.lengths + at, rows.nulls + at};
    }
    return &rows;
}

static void row_int(rows_t *rows, size_t column, size_t row, int64_t value)
{
    rows->ints[column * rows->num_rows + row] = value;
}

/* An id, or NULL for 0 (no live item, group-buy or pickup point). */
static void row_id_or_null(rows_t *rows, size_t column, size_t row, int64_t id)
{
    rows->ints[column * rows->num_rows + row] = id;
    rows->nulls[column * rows->num_rows + row] = id == 0;
}

/* bytes[0..len), or NULL for a NULL pointer. */
static void row_bytes(rows_t *rows, size_t column, size_t row, const void *bytes, size_t len)
{
    size_t at = column * rows->num_rows + row;
    rows->bytes[at] = bytes;
    rows->lengths[at] = (unsigned long)len;
    rows->nulls[at] = bytes == NULL;
}

/*
 * Runs a multi-row INSERT of n rows (head, then row n times; prepared once per shape and n) that ends in
 * "RETURNING returned", and reads what it returns for each row, in the order of VALUES, into out[0..n).
 */
static int insert_returning(lb_db_t *db, const char *shape, const char *head, const char *row, const char *returned,
                            const lb_db_param_t *params, size_t num_params, size_t n, int64_t *out)
{
    char tail[64];
    snprintf(tail, sizeof(tail), " RETURNING %s", returned);
    char *sql = list_sql(db, shape, n, head, row, tail);
    int ret = lb_db_query_array(db, shape, n, sql, params, num_params);
    free(sql);
    for (size_t i = 0; ret == 0 && i != n; ++i) {
        if ((ret = lb_db_fetch(db, "i", &out[i])) != 1)
            return ret < 0 ? ret : LB_EDB;
        ret = 0;
    }
    return ret;
}

/* A NUL-terminated text, as bytes; NULL for a NULL pointer. */
static void row_text(rows_t *rows, size_t column, size_t row, const char *text)
{
    row_bytes(rows, column, row, text, text != NULL ? strlen(text) : 0);
}

/* Ids per block of the sequence order_ids (INCREMENT BY in sql/005_order_blocks.sql). */
#define ORDER_ID_BLOCK 64

/* The order id sequence's lattice: its blocks start at start_value + k * increment. Read once: it is never altered. */
static atomic_llong lattice_start, lattice_increment;

static int read_lattice(lb_db_t *db)
{
    static const char sql[] = "SELECT start_value, increment FROM order_ids";
    int64_t s, i;
    int ret;
    if (atomic_load(&lattice_increment) != 0)
        return 0;
    if ((ret = lb_db_query_row(db, sql, "", "ii", &s, &i)) != 1)
        return ret < 0 ? ret : LB_EDB;
    atomic_store(&lattice_start, s);
    atomic_store(&lattice_increment, i);
    return 0;
}

/* The first id of the sequence block that holds id, or 0 for an id older than the sequence (or a lattice not read). */
static int64_t block_of(int64_t id)
{
    int64_t s = atomic_load(&lattice_start), i = atomic_load(&lattice_increment);
    return i != 0 && id >= s ? s + (id - s) / i * i : 0;
}

/*
 * Which SKU each block of the order directory belongs to, as this process has learnt it (from the blocks it made and
 * the orders it read): a block's SKU never changes, so a payment or cancellation of an order in a known block goes
 * straight to its SKU's lane without a look-up. Direct-mapped: a block overwrites the one it collides with.
 */
#define KNOWN_BLOCKS 65536 /* a power of two: 1 MiB, the blocks of the last 4 million orders or so */
static struct {
    int64_t first_id, sku_id;
} known_blocks[KNOWN_BLOCKS];
static pthread_mutex_t known_blocks_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t known_block_slot(int64_t first_id)
{
    return (size_t)((first_id - atomic_load(&lattice_start)) / atomic_load(&lattice_increment)) & (KNOWN_BLOCKS - 1);
}

static void learn_block(int64_t first_id, int64_t sku_id)
{
    if (first_id == 0)
        return;
    pthread_mutex_lock(&known_blocks_lock);
    size_t slot = known_block_slot(first_id);
    known_blocks[slot].first_id = first_id;
    known_blocks[slot].sku_id = sku_id;
    pthread_mutex_unlock(&known_blocks_lock);
}

int64_t lb_store_order_sku_known(int64_t id)
{
    int64_t first_id = block_of(id), sku_id = 0;
    if (first_id == 0)
        return 0;
    pthread_mutex_lock(&known_blocks_lock);
    size_t slot = known_block_slot(first_id);
    if (known_blocks[slot].first_id == first_id)
        sku_id = known_blocks[slot].sku_id;
    pthread_mutex_unlock(&known_blocks_lock);
    return sku_id;
}

/*
 * Takes the blocks of order ids that granted[0..n) need, one per ORDER_ID_BLOCK orders, each with its row in the order
 * directory (sql/005 and 006: its size, and when its first reservation falls due for the sweeper), in one multi-row
 * INSERT; gives each order its id.
 */
static int take_order_ids(lb_db_t *db, lb_order_request_t *const *granted, size_t n)
{
    static const char shape[] = "order_blocks_insert";
    size_t num_blocks = (n + ORDER_ID_BLOCK - 1) / ORDER_ID_BLOCK;
    lb_db_param_t *params = batch_params(3 * num_blocks);
    int64_t *first_ids = lb_malloc(num_blocks * sizeof(*first_ids));
    for (size_t b = 0; b != num_blocks; ++b) {
        size_t first = b * ORDER_ID_BLOCK, end = first + ORDER_ID_BLOCK < n ? first + ORDER_ID_BLOCK : n;
        int64_t due_at = granted[first]->expires_at;
        for (size_t i = first + 1; i != end; ++i)
            due_at = granted[i]->expires_at < due_at ? granted[i]->expires_at : due_at;
        params[3 * b] = LB_DB_INT(granted[first]->sku_id);
        params[3 * b + 1] = LB_DB_INT((int64_t)(end - first));
        params[3 * b + 2] = LB_DB_INT(due_at);
    }
    int ret = read_lattice(db);
    if (ret == 0)
        ret = insert_returning(db, shape, "INSERT INTO order_blocks (first_id, sku_id, size, due_at) VALUES ",
                               "(NEXTVAL(order_ids), ?, ?, ?)", "first_id", params, 3 * num_blocks, num_blocks, first_ids);
    for (size_t i = 0; ret == 0 && i != n; ++i)
        granted[i]->order_id = first_ids[i / ORDER_ID_BLOCK] + (int64_t)(i % ORDER_ID_BLOCK);
    /* Before COMMIT: a block of a batch rolled back holds no order, and its ids are never given again. */
    for (size_t b = 0; ret == 0 && b != num_blocks; ++b)
        learn_block(first_ids[b], granted[b * ORDER_ID_BLOCK]->sku_id);
    free(first_ids);
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
    rows_t *rows = rows_start("iiiiiiibbbiii", n);
    for (size_t i = 0; i != n; ++i) {
        const lb_order_request_t *r = granted[i];
        row_int(rows, ID, i, r->order_id);
        row_int(rows, SKU, i, r->sku_id);
        row_int(rows, BUYER, i, r->buyer_id);
        row_id_or_null(rows, LIVE_ITEM, i, r->live_item_id);
        row_id_or_null(rows, GROUP_BUY, i, r->group_buy_id);
        row_int(rows, QTY, i, r->qty);
        row_int(rows, AMOUNT, i, r->amount_cents);
        /* Bytes: MariaDB takes a binary parameter into a utf8mb4 column for less than a utf8mb4 one (callgrind: 1k
         * instructions per order), and the codec has already checked the UTF-8. */
        row_text(rows, NAME, i, r->ship_to != NULL ? r->ship_to->name : NULL);
        row_text(rows, PHONE, i, r->ship_to != NULL ? r->ship_to->phone : NULL);
        row_text(rows, ADDRESS, i, r->ship_to != NULL ? r->ship_to->address : NULL);
        row_id_or_null(rows, PICKUP, i, r->pickup_point_id);
        row_int(rows, EXPIRES, i, r->expires_at);
        row_int(rows, CREATED, i, now);
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
    rows_t *rows = rows_start("iibib", num_keys);
    for (size_t i = 0, j = 0; i != n; ++i) {
        const lb_order_request_t *r = inserted[i];
        if (!keeps_key(r))
            continue;
        row_int(rows, 0, j, r->sku_id);
        row_int(rows, 1, j, r->buyer_id);
        row_text(rows, 2, j, r->idem_key);
        row_int(rows, 3, j, r->order_id);
        row_bytes(rows, 4, j++, r->request_hash, sizeof(r->request_hash));
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
    rows_t *rows = rows_start("iii", num_joins);
    for (size_t i = 0, j = 0; i != n; ++i) {
        if (inserted[i]->group_buy_id == 0)
            continue;
        row_int(rows, 0, j, inserted[i]->sku_id);
        row_int(rows, 1, j, inserted[i]->group_buy_id);
        row_int(rows, 2, j++, inserted[i]->order_id);
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

int lb_store_sku_add_counts(lb_db_t *db, int64_t sku_id, int64_t reserved, int64_t sold, int64_t held, int64_t now)
{
    static const char sql[] =
        "UPDATE skus SET reserved = reserved + ?, sold = sold + ?, held = held + ?, updated_at = ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "iiiii", reserved, sold, held, now, sku_id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_sku_add_reserved(lb_db_t *db, int64_t sku_id, int64_t reserved_delta, int64_t from_held, int64_t now)
{
    return lb_store_sku_add_counts(db, sku_id, reserved_delta, 0, -from_held, now);
}

int lb_store_live_item_add_counts(lb_db_t *db, int64_t id, int64_t reserved, int64_t sold)
{
    static const char sql[] = "UPDATE live_items SET reserved = reserved + ?, sold = sold + ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "iii", reserved, sold, id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_live_item_add_reserved(lb_db_t *db, int64_t id, int64_t delta)
{
    return lb_store_live_item_add_counts(db, id, delta, 0);
}

int lb_store_group_buy_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *closes_at, int64_t *pickup_point_id)
{
    static const char sql[] = "SELECT sku_id, closes_at, pickup_point_id FROM group_buys WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "iii", id, sku_id, closes_at, pickup_point_id);
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

/* ---- Lives, live items and order reads (handlers/lives.c, handlers/orders_read.c) ---------------------------------- */

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

int lb_store_live_item_create(lb_db_t *db, lb_live_item_t *item, int64_t *sku_available)
{
    static const char insert_sql[] = "INSERT INTO live_items (live_id, sku_id, price_cents, quota, per_buyer_limit, opens_at, "
                                     "reserve_ttl, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    static const char hold_sql[] = "UPDATE skus SET held = held + ?, updated_at = ? WHERE id = ?";
    lb_db_param_t params[] = {LB_DB_INT(item->live_id),
                              LB_DB_INT(item->sku_id),
                              LB_DB_INT(item->price_cents),
                              LB_DB_INT(item->quota),
                              LB_DB_INT(item->per_buyer_limit),
                              LB_DB_INT(item->opens_at),
                              item->reserve_ttl != 0 ? LB_DB_INT(item->reserve_ttl) : LB_DB_NULL,
                              LB_DB_INT(lb_now())};
    lb_sku_t sku;
    int64_t ret;

    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_sku_lock(db, item->sku_id, &sku)) <= 0)
        goto Exit;
    if ((*sku_available = LB_SKU_AVAILABLE(&sku)) < item->quota) {
        ret = LB_ECONFLICT;
        goto Exit;
    }
    if ((ret = lb_db_exec_array(db, insert_sql, 0, insert_sql, params, LB_ARRAY_SIZE(params))) < 0)
        goto Exit;
    item->id = lb_db_insert_id(db);
    item->reserved = item->sold = 0;
    if ((ret = lb_db_exec(db, hold_sql, "iii", item->quota, lb_now(), item->sku_id)) < 0 || (ret = lb_db_commit(db)) != 0)
        goto Exit;
    ret = 1;
Exit:
    if (ret <= 0)
        lb_db_rollback(db);
    return (int)ret;
}

int lb_store_live_items(lb_db_t *db, int64_t live_id, lb_live_item_t **out, size_t *found)
{
    static const char sql[] = "SELECT i.id, i.live_id, i.sku_id, CONCAT(p.title, ' ', s.name), i.price_cents, i.quota, "
                              "i.reserved, i.sold, i.per_buyer_limit, i.opens_at, COALESCE(i.reserve_ttl, 0) "
                              "FROM live_items i JOIN skus s ON s.id = i.sku_id JOIN products p ON p.id = s.product_id "
                              "WHERE i.live_id = ? ORDER BY i.id";
    size_t cap = 0;
    int ret = lb_db_query(db, sql, "i", live_id);
    *out = NULL;
    *found = 0;
    while (ret == 0) {
        *out = lb_grow(*out, *found, &cap, sizeof(**out));
        lb_live_item_t *item = &(*out)[*found];
        if ((ret = lb_db_fetch(db, "iiisiiiiiii", &item->id, &item->live_id, &item->sku_id, item->title, sizeof(item->title),
                               &item->price_cents, &item->quota, &item->reserved, &item->sold, &item->per_buyer_limit,
                               &item->opens_at, &item->reserve_ttl)) != 1)
            break;
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

/* The columns of an order row, in the order lb_order_t's outputs are listed by ORDER_OUTPUTS, each after prefix t. */
#define ORDER_SELECT_LIST(t)                                                                                                       \
    t "id, " t "sku_id, " t "buyer_id, " t "live_item_id, " t "group_buy_id, " t "pickup_point_id, " t "qty, " t                   \
      "amount_cents DIV " t "qty, " t "amount_cents, " t "expires_at, " t "created_at, IFNULL(" t "updated_at, " t                 \
      "created_at), " t "status, " t "ship_to_name IS NOT NULL, " t "ship_to_name, " t "ship_to_phone, " t "ship_to_address "
#define ORDER_SELECT "SELECT " ORDER_SELECT_LIST("") "FROM orders "
/* Whole order rows by ids (FROM_ORDERS_BY_JSON_IDS). */
#define ORDERS_BY_IDS_SELECT "SELECT STRAIGHT_JOIN " ORDER_SELECT_LIST("o.") FROM_ORDERS_BY_JSON_IDS
/* A campaign's joins (group_buy_orders) and their orders; WHERE on j.group_buy_id. */
#define GROUP_BUY_JOIN_SELECT                                                                                                      \
    "SELECT " ORDER_SELECT_LIST("o.") "FROM group_buy_orders j JOIN orders o ON o.sku_id = j.sku_id AND o.id = j.order_id "
#define ORDER_TYPES "iiiiiiiiiiiisisss"
#define ORDER_OUTPUTS(o)                                                                                                           \
    &(o)->id, &(o)->sku_id, &(o)->buyer_id, &(o)->live_item_id, &(o)->group_buy_id, &(o)->pickup_point_id, &(o)->qty,              \
        &(o)->unit_price_cents, &(o)->amount_cents, &(o)->expires_at, &(o)->created_at, &(o)->updated_at, (o)->status,             \
        sizeof((o)->status), &(o)->has_ship_to, (o)->ship_to_name, sizeof((o)->ship_to_name), (o)->ship_to_phone,                  \
        sizeof((o)->ship_to_phone), (o)->ship_to_address, sizeof((o)->ship_to_address)

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
    int ret = read_lattice(db);
    int64_t first_id = block_of(id);
    if (ret != 0)
        return ret;
    if (first_id == 0)
        return lb_db_query_row(db, nearest_sql, "ii", ORDER_TYPES, id, id, ORDER_OUTPUTS(order));
    if ((ret = lb_db_query_row(db, block_sql, "ii", ORDER_TYPES, first_id, id, ORDER_OUTPUTS(order))) == 1)
        learn_block(first_id, order->sku_id);
    return ret;
}

int lb_store_order_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_order_t *order)
{
    static const char sql[] = ORDER_SELECT "WHERE sku_id = ? AND id = ? FOR UPDATE";
    return lb_db_query_row(db, sql, "ii", ORDER_TYPES, sku_id, id, ORDER_OUTPUTS(order));
}

int lb_store_orders_lock(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_order_t *out, size_t *found)
{
    /* In the order of their ids (json_ids sorts them), as every batch locks its orders. */
    static const char sql[] = ORDERS_BY_IDS_SELECT "FOR UPDATE";
    size_t len;
    char *list = json_ids(ids, n, &len);
    int ret = query_json_list(db, sql, list, len, sku_id);
    *found = 0;
    while (ret == 0 && *found != n && (ret = lb_db_fetch(db, ORDER_TYPES, ORDER_OUTPUTS(&out[*found]))) == 1) {
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
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

/*
 * Marks a locked, reserved order cancelled or expired (status) and returns its units to the SKU, or to its live item's
 * quota (which the SKU holds again); a group-buy join no longer counts in its campaign's joined quantity.
 */
/* 1 when the live item has been taken off air (its released units go to the SKU, not back to its quota). */
static int live_item_closed(lb_db_t *db, int64_t id)
{
    static const char sql[] = "SELECT closed_at IS NOT NULL FROM live_items WHERE id = ?";
    int64_t closed = 0;
    int ret = lb_db_query_row(db, sql, "i", "i", id, &closed);
    return ret < 0 ? ret : closed != 0;
}

int lb_store_order_release(lb_db_t *db, lb_order_t *order, const char *status, int64_t now)
{
    static const char shrink_sql[] = "UPDATE live_items SET reserved = reserved - ?, quota = quota - ? WHERE id = ?";
    int64_t from_live = order->live_item_id != 0 ? order->qty : 0;
    int ret;
    if (from_live != 0 && (ret = live_item_closed(db, order->live_item_id)) != 0) {
        if (ret < 0 || (ret = lb_store_order_set_status(db, order, status, now)) != 0 ||
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
        return 0;
    if (strcmp(order->status, "reserved") != 0)
        return LB_ECONFLICT;
    int ret = lb_store_order_release(db, order, "cancelled", now);
    return ret < 0 ? ret : 1;
}

/* ---- Expiry (server/jobs/sweeper.c) --------------------------------------------------------------------------------------- */

/* Reads up to limit (sku_id, id) pairs that sql (parameters: now, limit) selects. */
static int read_due(lb_db_t *db, const char *sql, int64_t now, int64_t limit, lb_order_ref_t *out, size_t *found)
{
    int ret = lb_db_query(db, sql, "ii", now, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        if ((ret = lb_db_fetch(db, "ii", &out[*found].sku_id, &out[*found].id)) != 1)
            break;
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

int lb_store_order_blocks_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_block_t *out, size_t *found)
{
    static const char sql[] = "SELECT sku_id, first_id, size FROM order_blocks WHERE due_at <= ? ORDER BY due_at LIMIT ?";
    int ret = lb_db_query(db, sql, "ii", now, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_order_block_t *block = &out[*found];
        if ((ret = lb_db_fetch(db, "iii", &block->sku_id, &block->first_id, &block->size)) != 1)
            break;
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

#define BLOCK_PAGE 64 /* a block's reserved orders read at a time (a block made before migration 005 can be larger) */

/*
 * Expires the reserved orders of block that are due at now (its SKU row locked), then sets the block's due_at to the
 * earliest expiry of those left, or NULL when none is left.
 */
static int expire_block(lb_db_t *db, const lb_order_block_t *block, int64_t now, size_t *expired)
{
    static const char sql[] = "SELECT id, expires_at FROM orders WHERE sku_id = ? AND id > ? AND id < ? "
                              "AND status = 'reserved' ORDER BY id LIMIT ?";
    static const char due_sql[] = "UPDATE order_blocks SET due_at = ? WHERE first_id = ? AND sku_id = ?";
    int64_t ids[BLOCK_PAGE], expiries[BLOCK_PAGE], after = block->first_id - 1, next_due = 0;
    size_t n;
    lb_order_t order;
    int ret;
    do {
        if ((ret = lb_db_query(db, sql, "iiii", block->sku_id, after, block->first_id + block->size, (int64_t)BLOCK_PAGE)) != 0)
            return ret;
        for (n = 0; n != BLOCK_PAGE && (ret = lb_db_fetch(db, "ii", &ids[n], &expiries[n])) == 1; ++n)
            ;
        if (ret < 0)
            return ret;
        for (size_t i = 0; i != n; ++i) {
            if (expiries[i] > now) {
                next_due = next_due == 0 || expiries[i] < next_due ? expiries[i] : next_due;
                continue;
            }
            /* Read again under its lock: a payment or another process's sweeper may have got there first. */
            if ((ret = lb_store_order_lock(db, block->sku_id, ids[i], &order)) < 0)
                return ret;
            if (ret == 0 || strcmp(order.status, "reserved") != 0)
                continue;
            if ((ret = lb_store_order_release(db, &order, "expired", now)) != 0)
                return ret;
            ++*expired;
        }
        after = n != 0 ? ids[n - 1] : after;
    } while (n == BLOCK_PAGE);
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
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_sku_lock(db, sku_id, &sku)) < 0)
        goto Exit;
    for (size_t i = 0; i != n; ++i)
        if ((ret = expire_block(db, &blocks[i], now, expired)) != 0)
            goto Exit;
    ret = lb_db_commit(db);
Exit:
    if (ret < 0) {
        lb_db_rollback(db);
        *expired = 0;
    }
    return ret < 0 ? ret : 0;
}

/* ---- Payments and the shipping outbox (server/order/payment.c) ------------------------------------------------------------ */

int lb_store_payments_recorded(lb_db_t *db, int64_t sku_id, const char *const *txns, size_t n, lb_payment_row_t *out, size_t *found)
{
    static const char shape[] = "payments_recorded";
    size_t size = padded_size(n), p = 0;
    lb_db_param_t *params = batch_params(2 * size);
    char *sql = list_sql(db, shape, size,
                         "SELECT provider_txn_id, order_id, outcome = 'refund_required' FROM payments FORCE INDEX (payments_txn) "
                         "WHERE (sku_id, provider_txn_id) IN (",
                         "(?, ?)", ")");
    for (size_t i = 0; i != size; ++i) {
        const char *txn = txns[i < n ? i : n - 1];
        params[p++] = LB_DB_INT(sku_id);
        params[p++] = LB_DB_BYTES(txn, strlen(txn));
    }
    int ret = lb_db_query_array(db, shape, size, sql, params, p);
    free(sql);
    *found = 0;
    while (ret == 0) {
        char txn[LB_TEXT_SIZE(128)]; /* payments.provider_txn_id VARCHAR(128) */
        int64_t order_id, refund_required;
        if ((ret = lb_db_fetch(db, "sii", txn, sizeof(txn), &order_id, &refund_required)) != 1)
            break;
        ret = 0;
        /* Byte for byte, as payments_txn compares (sql/009); a transaction id two notifies carry is found once. */
        for (size_t i = 0; i != n; ++i) {
            if (strcmp(txns[i], txn) == 0) {
                out[(*found)++] =
                    (lb_payment_row_t){.order_id = order_id, .provider_txn_id = txns[i], .refund_required = (int)refund_required};
                break;
            }
        }
    }
    return ret < 0 ? ret : 0;
}

int lb_store_payments_insert(lb_db_t *db, int64_t sku_id, const lb_payment_row_t *rows, size_t n, int64_t now)
{
    static const char sql[] = "INSERT INTO payments (sku_id, order_id, provider_txn_id, amount_cents, outcome, created_at) "
                              "VALUES (?, ?, ?, ?, ?, ?)";
    static const char applied[] = "applied", refund_required[] = "refund_required";
    rows_t *columns = rows_start("iibibi", n);
    for (size_t i = 0; i != n; ++i) {
        const char *outcome = rows[i].refund_required ? refund_required : applied;
        row_int(columns, 0, i, sku_id);
        row_int(columns, 1, i, rows[i].order_id);
        row_text(columns, 2, i, rows[i].provider_txn_id);
        row_int(columns, 3, i, rows[i].amount_cents);
        row_text(columns, 4, i, outcome);
        row_int(columns, 5, i, now);
    }
    int64_t ret = lb_db_exec_rows(db, sql, columns->columns, 6, n);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_sku_shipping(lb_db_t *db, int64_t sku_id, char title[LB_TEXT_SIZE(401)], int64_t *cold_chain)
{
    static const char sql[] = "SELECT CONCAT(p.title, ' ', s.name), p.cold_chain FROM skus s "
                              "JOIN products p ON p.id = s.product_id WHERE s.id = ?";
    return lb_db_query_row(db, sql, "i", "si", sku_id, title, (size_t)LB_TEXT_SIZE(401), cold_chain);
}

int lb_store_pickup_point_get(lb_db_t *db, int64_t id, lb_pickup_point_t *point)
{
    static const char sql[] = "SELECT id, name, county, township, village, address FROM pickup_points WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "isssss", id, &point->id, point->name, sizeof(point->name), point->county,
                           sizeof(point->county), point->township, sizeof(point->township), point->village, sizeof(point->village),
                           point->address, sizeof(point->address));
}

int lb_store_shipment_create(lb_db_t *db, const lb_shipment_t *shipment, int64_t now, int64_t *id)
{
    static const char shipment_sql[] = "INSERT INTO shipments (sku_id, group_buy_id, pickup_point_id, payload, status, "
                                       "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)";
    static const char link_sql[] = "INSERT INTO shipment_orders (shipment_id, sku_id, order_id) VALUES (?, ?, ?)";
    lb_db_param_t params[] = {LB_DB_INT(shipment->sku_id),
                              shipment->group_buy_id != 0 ? LB_DB_INT(shipment->group_buy_id) : LB_DB_NULL,
                              shipment->pickup_point_id != 0 ? LB_DB_INT(shipment->pickup_point_id) : LB_DB_NULL,
                              LB_DB_BYTES(shipment->payload, shipment->payload_len),
                              LB_DB_INT(now),
                              LB_DB_INT(now)};
    int64_t ret = lb_db_exec_array(db, shipment_sql, 0, shipment_sql, params, LB_ARRAY_SIZE(params));
    if (ret < 0)
        return (int)ret;
    *id = lb_db_insert_id(db);
    for (size_t i = 0; i != shipment->num_orders; ++i)
        if ((ret = lb_db_exec(db, link_sql, "iii", *id, shipment->sku_id, shipment->order_ids[i])) < 0)
            return (int)ret;
    return 0;
}

#define SHIPMENTS_PER_STATEMENT 32

/* Inserts shipments[0..n) (n a power of two, at most SHIPMENTS_PER_STATEMENT) as one statement; ids[0..n) get theirs. */
static int insert_shipments(lb_db_t *db, const lb_shipment_t *shipments, size_t n, int64_t now, int64_t *ids)
{
    static const char shape[] = "shipments_insert";
    lb_db_param_t *params = batch_params(5 * n);
    for (size_t i = 0; i != n; ++i) {
        const lb_shipment_t *s = &shipments[i];
        params[5 * i] = LB_DB_INT(s->sku_id);
        params[5 * i + 1] = s->pickup_point_id != 0 ? LB_DB_INT(s->pickup_point_id) : LB_DB_NULL;
        params[5 * i + 2] = LB_DB_BYTES(s->payload, s->payload_len);
        params[5 * i + 3] = LB_DB_INT(now);
        params[5 * i + 4] = LB_DB_INT(now);
    }
    return insert_returning(db, shape,
                            "INSERT INTO shipments (sku_id, group_buy_id, pickup_point_id, payload, status, next_attempt_at, "
                            "created_at) VALUES ",
                            "(?, NULL, ?, ?, 'pending', ?, ?)", "id", params, 5 * n, n, ids);
}

int lb_store_shipments_create(lb_db_t *db, const lb_shipment_t *shipments, size_t n, int64_t now)
{
    static const char link_sql[] = "INSERT INTO shipment_orders (shipment_id, sku_id, order_id) VALUES (?, ?, ?)";
    int64_t *ids = lb_malloc(n * sizeof(*ids));
    int ret = 0;
    for (size_t done = 0, chunk; ret == 0 && done != n; done += chunk) {
        for (chunk = SHIPMENTS_PER_STATEMENT; chunk > n - done; chunk /= 2)
            ;
        ret = insert_shipments(db, shipments + done, chunk, now, ids + done);
    }
    if (ret == 0) {
        rows_t *links = rows_start("iii", n);
        for (size_t i = 0; i != n; ++i) {
            assert(shipments[i].num_orders == 1 && shipments[i].group_buy_id == 0);
            row_int(links, 0, i, ids[i]);
            row_int(links, 1, i, shipments[i].sku_id);
            row_int(links, 2, i, shipments[i].order_ids[0]);
        }
        int64_t linked = lb_db_exec_rows(db, link_sql, links->columns, 3, n);
        ret = linked < 0 ? (int)linked : 0;
    }
    free(ids);
    return ret;
}

/*
 * orders has no index on merchant_id (every order would pay for it, docs/design.md): a merchant's orders are found
 * through its SKUs, each SKU's a range of the primary key (sku_id, id), up to SKUS_PER_STATEMENT SKUs a statement.
 */
#define SKUS_PER_STATEMENT 32

/* The merchant's SKU ids, by id, into *skus (malloc'd, the caller frees it, also on error). */
static int merchant_sku_ids(lb_db_t *db, int64_t merchant_id, int64_t **skus, size_t *n)
{
    static const char sql[] = "SELECT id FROM skus WHERE merchant_id = ? ORDER BY id";
    size_t cap = 0;
    int ret = lb_db_query(db, sql, "i", merchant_id);
    *skus = NULL;
    *n = 0;
    while (ret == 0) {
        *skus = lb_grow(*skus, *n, &cap, sizeof(**skus));
        if ((ret = lb_db_fetch(db, "i", &(*skus)[*n])) != 1)
            break;
        ++*n;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

/*
 * The first limit orders by id of skus[0..n) (n <= SKUS_PER_STATEMENT) with ids in (after, before), of status unless it
 * is NULL, into out: a UNION ALL of one primary-key range per SKU, each of which stops after limit rows. The SKU list is
 * padded to a power of two with SKU 0 (there is none), so that a few prepared shapes serve every group.
 */
static int sku_orders_page(lb_db_t *db, const int64_t *skus, size_t n, const char *status, int64_t after, int64_t before,
                           int64_t limit, lb_order_t *out, size_t *found)
{
    static const char all_shape[] = "merchant_orders", status_shape[] = "merchant_orders_status";
    static const char branch[] = "%s(" ORDER_SELECT "WHERE sku_id = ? AND id > ? AND id < ?%s ORDER BY id LIMIT ?)";
    const char *shape = status != NULL ? status_shape : all_shape;
    size_t size = padded_size(n), len = 0, p = 0;
    lb_db_param_t *params = batch_params(5 * size + 1);
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
        if ((ret = lb_db_fetch(db, ORDER_TYPES, ORDER_OUTPUTS(&out[*found]))) != 1)
            break;
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

/* Merges more[0..m) into out[0..*n), both by id, keeping the first limit (out holds that many). */
static void merge_by_id(lb_order_t *out, size_t *n, const lb_order_t *more, size_t m, size_t limit)
{
    size_t i = 0, j = 0, k;
    while (i + j != limit && (i != *n || j != m)) {
        if (j == m || (i != *n && out[i].id < more[j].id))
            ++i;
        else
            ++j;
    }
    /* Backwards, so that out[0..i) moves up in place; once more's j are placed, the rest of out is where it belongs. */
    for (*n = k = i + j; j != 0;)
        out[--k] = i != 0 && out[i - 1].id > more[j - 1].id ? out[--i] : more[--j];
}

int lb_store_merchant_orders(lb_db_t *db, int64_t merchant_id, const char *status, int64_t after, int64_t limit, lb_order_t *out,
                             size_t *found)
{
    int64_t *skus;
    size_t num_skus, num_group;
    lb_order_t *group = NULL;
    int ret = merchant_sku_ids(db, merchant_id, &skus, &num_skus);

    *found = 0;
    for (size_t done = 0, n; ret == 0 && done != num_skus; done += n) {
        n = num_skus - done < SKUS_PER_STATEMENT ? num_skus - done : SKUS_PER_STATEMENT;
        /* Once the page is full, a later group's orders can only take the place of ones with higher ids. */
        int64_t before = *found == (size_t)limit ? out[*found - 1].id : INT64_MAX;
        if (*found == 0) {
            ret = sku_orders_page(db, skus + done, n, status, after, before, limit, out, found);
            continue;
        }
        if (group == NULL)
            group = lb_malloc((size_t)limit * sizeof(*group));
        if ((ret = sku_orders_page(db, skus + done, n, status, after, before, limit, group, &num_group)) == 0)
            merge_by_id(out, found, group, num_group, (size_t)limit);
    }
    free(group);
    free(skus);
    return ret;
}

/* ---- Pickup points and group-buys ---------------------------------------------------------------------------- */

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
                               sizeof(p->township), p->village, sizeof(p->village), p->address, sizeof(p->address))) != 1)
            break;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

int lb_store_group_buy_create(lb_db_t *db, lb_group_buy_t *gb)
{
    static const char sql[] = "INSERT INTO group_buys (merchant_id, sku_id, pickup_point_id, price_cents, min_qty, "
                              "per_buyer_limit, closes_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    lb_sku_t sku;
    int ret = lb_store_sku_get(db, gb->sku_id, &sku);
    if (ret <= 0)
        return ret;
    if (sku.merchant_id != gb->merchant_id)
        return LB_EFORBIDDEN;
    if ((ret = lb_store_pickup_point_exists(db, gb->pickup_point_id)) <= 0)
        return ret < 0 ? ret : LB_ENOTFOUND;
    int64_t changed = lb_db_exec(db, sql, "iiiiiiii", gb->merchant_id, gb->sku_id, gb->pickup_point_id, gb->price_cents,
                                 gb->min_qty, gb->per_buyer_limit, gb->closes_at, lb_now());
    if (changed < 0)
        return (int)changed;
    gb->id = lb_db_insert_id(db);
    gb->joined_qty = 0;
    snprintf(gb->status, sizeof(gb->status), "open");
    return 1;
}

int lb_store_group_buy_get(lb_db_t *db, int64_t id, lb_group_buy_t *gb)
{
    static const char sql[] = "SELECT id, merchant_id, sku_id, pickup_point_id, price_cents, min_qty, per_buyer_limit, "
                              "closes_at, joined_qty, status FROM group_buys WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "iiiiiiiiis", id, &gb->id, &gb->merchant_id, &gb->sku_id, &gb->pickup_point_id,
                           &gb->price_cents, &gb->min_qty, &gb->per_buyer_limit, &gb->closes_at, &gb->joined_qty, gb->status,
                           sizeof(gb->status));
}

/* ---- The group-buy closer (server/jobs/closer.c) ------------------------------------------------------------------------ */

int lb_store_group_buys_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_ref_t *out, size_t *found)
{
    static const char sql[] = "SELECT sku_id, id FROM group_buys WHERE status = 'open' AND closes_at <= ? ORDER BY closes_at "
                              "LIMIT ?";
    return read_due(db, sql, now, limit, out, found);
}

int lb_store_group_buy_lock_row(lb_db_t *db, int64_t id, lb_group_buy_t *gb)
{
    static const char sql[] = "SELECT id, merchant_id, sku_id, pickup_point_id, price_cents, min_qty, per_buyer_limit, "
                              "closes_at, joined_qty, status FROM group_buys WHERE id = ? FOR UPDATE";
    return lb_db_query_row(db, sql, "i", "iiiiiiiiis", id, &gb->id, &gb->merchant_id, &gb->sku_id, &gb->pickup_point_id,
                           &gb->price_cents, &gb->min_qty, &gb->per_buyer_limit, &gb->closes_at, &gb->joined_qty, gb->status,
                           sizeof(gb->status));
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
        if ((ret = lb_db_fetch(db, ORDER_TYPES, ORDER_OUTPUTS(&(*out)[*found]))) != 1)
            break;
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

int lb_store_group_buy_close(lb_db_t *db, int64_t id, const char *status, int64_t now)
{
    static const char sql[] = "UPDATE group_buys SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'";
    int64_t ret = lb_db_exec(db, sql, "sii", status, now, id);
    return ret < 0 ? (int)ret : 0;
}

/* ---- The co-op dashboard's SKU list (handlers/merchant_skus.c) ----------------------------------------------------- */

int lb_store_merchant_skus(lb_db_t *db, int64_t merchant_id, int64_t after, int64_t limit, lb_merchant_sku_t *out, size_t *found)
{
    static const char sql[] = "SELECT s.id, s.product_id, s.merchant_id, s.name, s.price_cents, s.weight_grams, s.stock, "
                              "s.reserved, s.sold, s.held, p.title, p.unit, p.cold_chain FROM skus s "
                              "JOIN products p ON p.id = s.product_id WHERE s.merchant_id = ? AND s.id > ? ORDER BY s.id LIMIT ?";
    int ret = lb_db_query(db, sql, "iii", merchant_id, after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_merchant_sku_t *m = &out[*found];
        lb_sku_t *s = &m->sku;
        if ((ret = lb_db_fetch(db, "iiisiiiiiissi", &s->id, &s->product_id, &s->merchant_id, s->name, sizeof(s->name),
                               &s->price_cents, &s->weight_grams, &s->stock, &s->reserved, &s->sold, &s->held, m->title,
                               sizeof(m->title), m->unit, sizeof(m->unit), &m->cold_chain)) != 1)
            break;
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

/* ---- The shipping dispatcher, feed and events (server/jobs/dispatcher.c, server/order/shipping.c) ---------------------------- */

/* The columns of lb_shipment_row_t but the payload, and its length (read in a second step, into a buffer that fits). */
#define SHIPMENT_SELECT                                                                                                            \
    "SELECT id, sku_id, attempts, created_at, COALESCE(feed_seq, 0), status, delivery_status, tracking_no, LENGTH(payload) "       \
    "FROM shipments "
#define SHIPMENT_TYPES "iiiiisssi"
#define SHIPMENT_OUTPUTS(r, len)                                                                                                   \
    &(r)->id, &(r)->sku_id, &(r)->attempts, &(r)->created_at, &(r)->feed_seq, (r)->status, sizeof((r)->status),                    \
        (r)->delivery_status, sizeof((r)->delivery_status), (r)->tracking_no, sizeof((r)->tracking_no), (len)

void lb_store_shipment_rows_free(lb_shipment_row_t *rows, size_t n)
{
    for (size_t i = 0; i != n; ++i) {
        free(rows[i].payload);
        rows[i].payload = NULL;
    }
}

/* Reads the rest of an open SHIPMENT_SELECT query into out; the payloads' lengths go to payload_len. */
static int fetch_shipments(lb_db_t *db, int ret, size_t limit, lb_shipment_row_t *out, size_t *found)
{
    *found = 0;
    while (ret == 0 && *found != limit) {
        lb_shipment_row_t *row = &out[*found];
        int64_t len;
        if ((ret = lb_db_fetch(db, SHIPMENT_TYPES, SHIPMENT_OUTPUTS(row, &len))) != 1)
            break;
        row->payload = NULL;
        row->payload_len = (size_t)len;
        ++*found;
        ret = 0;
    }
    return ret < 0 ? ret : 0;
}

/* Reads each row's payload (a MEDIUMBLOB: a pick list may be long) into a buffer of its size. */
static int fetch_payloads(lb_db_t *db, lb_shipment_row_t *rows, size_t n)
{
    static const char sql[] = "SELECT payload FROM shipments WHERE id = ?";
    for (size_t i = 0; i != n; ++i) {
        size_t len;
        rows[i].payload = lb_malloc(rows[i].payload_len + 1);
        int ret = lb_db_query_row(db, sql, "i", "b", rows[i].id, rows[i].payload, rows[i].payload_len, &len);
        if (ret <= 0) {
            lb_store_shipment_rows_free(rows, i + 1);
            return ret < 0 ? ret : LB_EDB;
        }
        rows[i].payload[len] = '\0';
        rows[i].payload_len = len;
    }
    return 0;
}

int lb_store_shipments_claim(lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit,
                             lb_shipment_row_t *out, size_t *found)
{
    static const char due_sql[] = SHIPMENT_SELECT "WHERE status = 'pending' AND next_attempt_at <= ? AND "
                                                  "(claimed_until IS NULL OR claimed_until <= ?) ORDER BY next_attempt_at, id "
                                                  "LIMIT ? FOR UPDATE SKIP LOCKED";
    static const char claim_sql[] = "UPDATE shipments SET claimed_by = ?, claimed_until = ? WHERE id = ?";
    int64_t changed;
    int ret;
    *found = 0;
    if ((ret = lb_db_begin(db)) != 0 ||
        (ret = fetch_shipments(db, lb_db_query(db, due_sql, "iii", now, now, (int64_t)limit), limit, out, found)) != 0)
        return ret;
    for (size_t i = 0; i != *found; ++i)
        if ((changed = lb_db_exec(db, claim_sql, "sii", claimer, claimed_until, out[i].id)) < 0)
            return (int)changed;
    if ((ret = fetch_payloads(db, out, *found)) != 0)
        return ret;
    if ((ret = lb_db_commit(db)) != 0)
        lb_store_shipment_rows_free(out, *found);
    return ret;
}

int lb_store_shipments_release(lb_db_t *db, const char *claimer)
{
    static const char sql[] = "UPDATE shipments SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ? AND "
                              "status = 'pending'";
    int64_t ret = lb_db_exec(db, sql, "s", claimer);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipments_backlog(lb_db_t *db, int64_t *pending)
{
    static const char sql[] = "SELECT COUNT(*) FROM shipments WHERE status = 'pending'";
    int ret = lb_db_query_row(db, sql, "", "i", pending);
    return ret < 0 ? ret : 0;
}

int lb_store_shipment_retry(lb_db_t *db, int64_t id, const char *claimer, int64_t attempts, int64_t next_attempt_at, int dead,
                            const char *error)
{
    static const char sql[] = "UPDATE shipments SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
                              "claimed_by = NULL, claimed_until = NULL WHERE id = ? AND status = 'pending' AND claimed_by = ?";
    int64_t ret = lb_db_exec(db, sql, "siisis", dead ? "dead" : "pending", attempts, next_attempt_at, error, id, claimer);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_lock(lb_db_t *db, int64_t id, lb_shipment_row_t *row)
{
    static const char sql[] = SHIPMENT_SELECT "WHERE id = ? FOR UPDATE";
    int64_t len;
    row->payload = NULL;
    int ret = lb_db_query_row(db, sql, "i", SHIPMENT_TYPES, id, SHIPMENT_OUTPUTS(row, &len));
    row->payload_len = (size_t)len;
    return ret;
}

int lb_store_shipment_sku(lb_db_t *db, int64_t id, int64_t *sku_id)
{
    static const char sql[] = "SELECT sku_id FROM shipments WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "i", id, sku_id);
}

int lb_store_shipment_set_acked(lb_db_t *db, int64_t id, int64_t now, int *changed)
{
    static const char sql[] = "UPDATE shipments SET status = 'acked', acked_at = ?, claimed_by = NULL, claimed_until = NULL "
                              "WHERE id = ? AND status <> 'acked'";
    int64_t ret = lb_db_exec(db, sql, "ii", now, id);
    *changed = ret == 1;
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_event_insert(lb_db_t *db, int64_t id, const char *type, const char *tracking_no, int64_t now)
{
    static const char sql[] = "INSERT INTO shipment_events (shipment_id, type, tracking_no, received_at) VALUES (?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "issi", id, type, tracking_no, now);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_set_delivery(lb_db_t *db, int64_t id, const char *delivery_status, const char *tracking_no)
{
    static const char sql[] = "UPDATE shipments SET delivery_status = ?, tracking_no = ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "ssi", delivery_status, tracking_no, id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_orders_advance(lb_db_t *db, int64_t id, const char *status, int64_t now)
{
    /* FIELD() ranks the shipping states (0 for any other): only orders ranked below the target move, and only forward. */
    static const char sql[] = "UPDATE orders o JOIN shipment_orders so ON o.sku_id = so.sku_id AND o.id = so.order_id "
                              "SET o.status = ?, o.updated_at = ? WHERE so.shipment_id = ? AND "
                              "FIELD(o.status, 'paid', 'handed_off', 'shipped', 'delivered') BETWEEN 1 AND "
                              "FIELD(?, 'paid', 'handed_off', 'shipped', 'delivered') - 1";
    int64_t ret = lb_db_exec(db, sql, "siis", status, now, id, status);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipments_sequence(lb_db_t *db, size_t limit, size_t *sequenced)
{
    static const char head_sql[] = "SELECT last_seq FROM shipment_feed WHERE id = 1 FOR UPDATE";
    static const char new_sql[] = "SELECT id FROM shipments WHERE feed_seq IS NULL ORDER BY id LIMIT ?";
    static const char place_sql[] = "UPDATE shipments SET feed_seq = ? WHERE id = ?";
    static const char move_sql[] = "UPDATE shipment_feed SET last_seq = ? WHERE id = 1";
    rows_t *rows = rows_start("ii", limit);
    int64_t last, id, ret;
    size_t n = 0;
    *sequenced = 0;
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_db_query_row(db, head_sql, "", "i", &last)) < 0)
        goto Exit;
    if (ret == 0) {
        ret = LB_EDB; /* sql/008_shipment_feed.sql makes the row */
        goto Exit;
    }
    /* Without a lock, in READ COMMITTED: the shipments committed by now, never one whose transaction is still open. */
    ret = lb_db_query(db, new_sql, "i", (int64_t)limit);
    while (ret == 0 && (ret = lb_db_fetch(db, "i", &id)) == 1) {
        row_int(rows, 0, n, last + 1 + (int64_t)n);
        row_int(rows, 1, n++, id);
        ret = 0;
    }
    if (ret < 0 || (n != 0 && ((ret = lb_db_exec_rows(db, place_sql, rows->columns, 2, n)) < 0 ||
                               (ret = lb_db_exec(db, move_sql, "i", last + (int64_t)n)) < 0)))
        goto Exit;
    if ((ret = lb_db_commit(db)) == 0)
        *sequenced = n;
Exit:
    if (ret < 0)
        lb_db_rollback(db);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipments_page(lb_db_t *db, int64_t after, int64_t limit, lb_shipment_row_t *out, size_t *found)
{
    static const char sql[] = SHIPMENT_SELECT "WHERE feed_seq > ? ORDER BY feed_seq LIMIT ?";
    int ret = fetch_shipments(db, lb_db_query(db, sql, "ii", after, limit), (size_t)limit, out, found);
    return ret != 0 ? ret : fetch_payloads(db, out, *found);
}

/* ---- Taking a live item off air ---------------------------------------------------------------------------------- */

int lb_store_live_item_close(lb_db_t *db, int64_t id, int64_t host_id, lb_live_item_t *item, int64_t *released)
{
    static const char find_sql[] = "SELECT i.sku_id, l.merchant_id FROM live_items i JOIN lives l ON l.id = i.live_id "
                                   "WHERE i.id = ?";
    static const char lock_sql[] = "SELECT live_id, sku_id, price_cents, quota, reserved, sold, per_buyer_limit, opens_at, "
                                   "COALESCE(reserve_ttl, 0), closed_at IS NOT NULL FROM live_items WHERE id = ? FOR UPDATE";
    static const char close_sql[] = "UPDATE live_items SET quota = reserved + sold, closed_at = ? WHERE id = ?";
    static const char unhold_sql[] = "UPDATE skus SET held = held - ?, updated_at = ? WHERE id = ?";
    int64_t sku_id, owner, closed, now = lb_now();
    lb_sku_t sku;
    int64_t ret;

    /* As everywhere on the order path: the SKU row first (found without a lock: an item's SKU never changes). */
    if ((ret = lb_db_query_row(db, find_sql, "i", "ii", id, &sku_id, &owner)) <= 0)
        return (int)ret;
    if (owner != host_id)
        return LB_EFORBIDDEN;
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_sku_lock(db, sku_id, &sku)) < 0 ||
        (ret = lb_db_query_row(db, lock_sql, "i", "iiiiiiiiii", id, &item->live_id, &item->sku_id, &item->price_cents, &item->quota,
                               &item->reserved, &item->sold, &item->per_buyer_limit, &item->opens_at, &item->reserve_ttl,
                               &closed)) <= 0)
        goto Exit;
    item->id = id;
    if (closed) {
        ret = LB_ECONFLICT;
        goto Exit;
    }
    *released = item->quota - item->reserved - item->sold;
    if ((ret = lb_db_exec(db, close_sql, "ii", now, id)) < 0 ||
        (ret = lb_db_exec(db, unhold_sql, "iii", *released, now, sku_id)) < 0 || (ret = lb_db_commit(db)) != 0)
        goto Exit;
    item->quota = item->reserved + item->sold;
    ret = 1;
Exit:
    if (ret <= 0)
        lb_db_rollback(db);
    return (int)ret;
}
