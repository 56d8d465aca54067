/* Expiry: the sweeper's statements, which find the order directory's blocks that fall due and expire their orders. */
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/expiry.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/reservations.h"
#include "internal.h"

int lb_store_order_blocks_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_block_t *out, lb_block_skus_t *lists, size_t *found)
{
    static const char sql[] = "SELECT sku_id, first_id, size, skus FROM order_blocks WHERE due_at <= ? ORDER BY due_at LIMIT ?";
    int ret = lb_db_query(db, sql, "ii", now, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_order_block_t *block = &out[*found];
        if ((ret = lb_db_fetch(db, "iiis", &block->sku_id, &block->first_id, &block->size, lists[*found], sizeof(lists[*found]))) !=
            0)
            break;
        block->several = lists[*found][0] != '\0';
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

/* Sets each block's due_at to its next due time, or NULL for 0 (none of its orders is reserved any more). */
static int set_due(lb_db_t *db, const lb_order_block_t *blocks, const int64_t *next_due, size_t n)
{
    static const char sql[] = "UPDATE order_blocks SET due_at = ? WHERE first_id = ? AND sku_id = ?";
    lb_db_rows_t *rows = lb_db_rows_start("iii", n);
    for (size_t i = 0; i != n; ++i) {
        lb_db_row_id_or_null(rows, 0, i, next_due[i]);
        lb_db_row_int(rows, 1, i, blocks[i].first_id);
        lb_db_row_int(rows, 2, i, blocks[i].sku_id);
    }
    int64_t changed = lb_db_exec_rows(db, sql, rows->columns, 3, n);
    return changed < 0 ? (int)changed : 0;
}

/* The SKUs of a block (its own, and its list's when it has several), sorted, each once; how many. */
static size_t block_skus(const lb_order_block_t *block, const char *list, int64_t *skus)
{
    skus[0] = block->sku_id;
    return lb_store__sorted_unique(skus, block->several ? lb_store__add_block_skus(skus, 1, list) : 1);
}

/* Locks the reserved orders of a block of several SKUs (skus[0..n)), all in one statement (the block's ids are its own:
 * those of its SKUs in its range are its orders), and keeps those due in due. */
static int read_block_skus(lb_db_t *db, const lb_order_block_t *block, const int64_t *skus, size_t n, int64_t now, due_t *due)
{
    static const char shape[] = "expiry_block_skus";
    size_t size = lb_store__padded_size(n), read;
    int64_t last_id;
    lb_db_param_t *params = lb_store__params(2 + size);
    params[0] = LB_DB_INT(block->first_id);
    params[1] = LB_DB_INT(block->first_id + block->size);
    for (size_t i = 0; i != size; ++i)
        params[2 + i] = LB_DB_ID(skus[i < n ? i : n - 1]);
    char *sql = lb_store__list_sql(db, shape, size, DUE_COLUMNS "WHERE id >= ? AND id < ? AND status = 'reserved' AND sku_id IN (",
                                   "?", ") FOR UPDATE");
    int ret = read_due(db, lb_db_query_array(db, shape, size, sql, params, 2 + size), due, now, &read, &last_id);
    free(sql);
    return ret;
}

int lb_store_order_blocks_expire(lb_db_t *db, const lb_order_block_t *blocks, const lb_block_skus_t *lists, size_t *n, int64_t now,
                                 int64_t *restocked, size_t *num_restocked, size_t *expired)
{
    int64_t skus[LB_EXPIRY_SKUS_MAX + LB_ORDER_ID_BLOCK + 1], more[LB_EXPIRY_SKUS_MAX + LB_ORDER_ID_BLOCK + 1];
    int64_t *next_due = lb_calloc(*n + 1, sizeof(*next_due));
    lb_sku_t *locked = NULL;
    due_t due = {0};
    size_t num_skus = 0, taken = 0;
    int ret;

    *expired = *num_restocked = 0;
    /* The blocks taken, and all their SKUs: the next block's are added to a copy, kept if they fit. */
    while (taken != *n) {
        memcpy(more, skus, num_skus * sizeof(*skus));
        size_t num_more = lb_store__sorted_unique(more, num_skus + block_skus(&blocks[taken], lists[taken], more + num_skus));
        if (taken != 0 && num_more > LB_EXPIRY_SKUS_MAX)
            break;
        memcpy(skus, more, num_more * sizeof(*skus));
        num_skus = num_more;
        ++taken;
    }
    *n = taken;
    locked = lb_malloc(num_skus * sizeof(*locked));
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_skus_lock(db, skus, num_skus, locked)) != 0)
        goto Exit;
    for (size_t i = 0; i != taken; ++i) {
        int64_t own[LB_ORDER_ID_BLOCK + 1];
        due.next_due = 0;
        if (blocks[i].several)
            ret = read_block_skus(db, &blocks[i], own, block_skus(&blocks[i], lists[i], own), now, &due);
        else
            ret = read_block(db, blocks[i].sku_id, blocks[i].first_id, blocks[i].size, now, &due);
        if (ret != 0)
            goto Exit;
        next_due[i] = due.next_due;
    }
    if ((ret = set_due(db, blocks, next_due, taken)) != 0 ||
        (ret = lb_store_orders_release(db, due.orders, due.num, "expired", now, restocked, num_restocked)) != 0 ||
        (ret = lb_db_commit(db)) != 0)
        goto Exit;
    *expired = due.num;
Exit:
    if (ret < 0) {
        lb_db_rollback(db);
        *expired = *num_restocked = 0;
    }
    free(locked);
    free(next_due);
    free(due.orders);
    return ret < 0 ? ret : 0;
}
