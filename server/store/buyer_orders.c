/* The buyers' index of orders: filled from the order directory's blocks not yet listed (sql/015_buyer_orders.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/model/order.h"
#include "livebuy/store/buyer_orders.h"
#include "livebuy/store/reservations.h"
#include "internal.h"

/* Blocks one run takes at most: with orders spread over many SKUs a block holds one or two orders. */
#define INDEX_LIMIT_MAX 256

/*
 * Runs a statement of shape with the blocks in IN lists (padded with the last block). With pairs: head, "(?, ?)" for
 * each block (its first_id and sku_id), ") AND sku_id IN (", each block's sku_id, tail; without: head, each SKU of
 * sku_list[0..n) (or each block's sku_id when it is NULL), tail. The parameters before[] come first. The SKUs' IN list is what
 * Spider prunes by (the pairs' row constructors alone are not pruned on the front: the buyers' index then tripped test_cluster's
 * trap). The pairs are what the range optimizer looks each block up by in the primary key; the two plain lists "first_id IN (...)
 * AND sku_id IN (...)" they replace made 256 x 256 ranges, past optimizer_max_sel_arg_weight (32,000), and the UPDATE then scanned
 * the whole directory (some 100,000 rows after a few seconds of orders spread over 1,000 SKUs) every 10 ms.
 */
static int skus_statement(lb_db_t *db, const char *shape, int query, const char *head, int pairs, const char *tail,
                          const lb_db_param_t *before, size_t num_before, const lb_order_block_t *blocks, const int64_t *sku_list,
                          size_t n)
{
    size_t size = lb_store__padded_size(n), num_params = num_before + (pairs ? 3 : 1) * size;
    lb_db_param_t *params = lb_store__params(num_params), *p = params + num_before, *skus = p + (pairs ? 2 * size : 0);
    for (size_t i = 0; i != num_before; ++i)
        params[i] = before[i];
    for (size_t i = 0; i != size; ++i) {
        size_t at = i < n ? i : n - 1;
        if (pairs) {
            *p++ = LB_DB_ID(blocks[at].first_id);
            *p++ = LB_DB_ID(blocks[at].sku_id);
        }
        skus[i] = LB_DB_ID(sku_list != NULL ? sku_list[at] : blocks[at].sku_id);
    }
    char *sql = NULL;
    if (!pairs) {
        sql = lb_store__list_sql(db, shape, size, head, "?", tail);
    } else if (!lb_db_is_prepared(db, shape, size)) {
        char *rest = lb_malloc(32 + 3 * size + strlen(tail));
        size_t len = (size_t)sprintf(rest, ") AND sku_id IN (");
        len += lb_store__print_list(rest + len, size, "?", ", ");
        strcpy(rest + len, tail);
        sql = lb_store__list_sql(db, shape, size, head, "(?, ?)", rest);
        free(rest);
    }
    int64_t ret = query ? lb_db_query_array(db, shape, size, sql, params, num_params)
                        : lb_db_exec_array(db, shape, size, sql, params, num_params);
    free(sql);
    return ret < 0 ? (int)ret : 0;
}

/* The same with the blocks' own SKUs. */
static int blocks_statement(lb_db_t *db, const char *shape, int query, const char *head, int pairs, const char *tail,
                            const lb_db_param_t *before, size_t num_before, const lb_order_block_t *blocks, size_t n)
{
    return skus_statement(db, shape, query, head, pairs, tail, before, num_before, blocks, NULL, n);
}

/*
 * Locks blocks[0..n) that are still unlisted (skipping those another process holds), copies their orders into
 * buyer_orders and marks them listed, in one transaction; *listed gets how many.
 */
static int index_blocks(lb_db_t *db, const lb_order_block_t *candidates, size_t n, size_t *listed)
{
    /* READ COMMITTED (db.c): no gap locks, so the batches inserting new blocks never wait for this. */
    lb_order_block_t blocks[INDEX_LIMIT_MAX];
    char list[LB_ORDER_BLOCK_SKUS_MAX];
    size_t m = 0, num_skus = 0;
    int ret;
    if ((ret = lb_db_begin(db)) != 0 ||
        (ret = blocks_statement(db, "buyer_index_lock", 1,
                                "SELECT sku_id, first_id, size, skus FROM order_blocks WHERE (first_id, sku_id) IN (", 1,
                                ") AND listed = 0 FOR UPDATE SKIP LOCKED", NULL, 0, candidates, n)) != 0)
        return ret;
    /* Their SKUs: each block's own, and the lists of those of several (sql/021). */
    int64_t *skus = lb_malloc(n * (LB_ORDER_ID_BLOCK + 1) * sizeof(*skus));
    while (m != n &&
           (ret = lb_db_fetch(db, "iiis", &blocks[m].sku_id, &blocks[m].first_id, &blocks[m].size, list, sizeof(list))) == 0) {
        skus[num_skus++] = blocks[m++].sku_id;
        num_skus = lb_store__add_block_skus(skus, num_skus, list);
    }
    num_skus = lb_store__sorted_unique(skus, num_skus);
    if (ret != 0 && ret != LB_ENOTFOUND)
        goto Exit;
    if (m == 0) {
        ret = lb_db_commit(db);
        goto Exit;
    }
    /*
     * Their orders: those of their SKUs with ids from the first block's first to the last one's end. Orders of blocks of
     * those SKUs in between that are not among these (listed already, or left for a later run) are copied too, and
     * ignored as duplicates when their turn comes: buyer_orders is a set.
     */
    int64_t low = blocks[0].first_id, high = blocks[0].first_id + blocks[0].size;
    for (size_t i = 1; i != m; ++i) {
        low = blocks[i].first_id < low ? blocks[i].first_id : low;
        high = blocks[i].first_id + blocks[i].size > high ? blocks[i].first_id + blocks[i].size : high;
    }
    lb_db_param_t range[] = {LB_DB_INT(low), LB_DB_INT(high)};
    if ((ret = skus_statement(db, "buyer_index_copy", 0,
                              "INSERT IGNORE INTO buyer_orders (buyer_id, order_id, sku_id) SELECT buyer_id, id, sku_id FROM "
                              "orders WHERE id >= ? AND id < ? AND sku_id IN (",
                              0, ")", range, 2, NULL, skus, num_skus)) != 0 ||
        (ret = blocks_statement(db, "buyer_index_mark", 0, "UPDATE order_blocks SET listed = 1 WHERE (first_id, sku_id) IN (", 1,
                                ")", NULL, 0, blocks, m)) != 0 ||
        (ret = lb_db_commit(db)) != 0)
        goto Exit;
    *listed += m;
Exit:
    free(skus);
    return ret;
}

int lb_store_buyer_orders_index(lb_db_t *db, size_t limit, unsigned shards, size_t *listed, int *more)
{
    /*
     * The oldest unlisted blocks, read without a lock; then those of the first one's shard (SKU id modulo shards) in one
     * transaction: every statement names their SKUs, so in a sharded deployment it stays on one backend
     * (docs/scale-out.md). One transaction for many SKUs: with orders spread over SKUs a block holds one or two.
     */
    static const char oldest_sql[] = "SELECT sku_id, first_id FROM order_blocks WHERE listed = 0 ORDER BY listed, first_id LIMIT ?";
    lb_order_block_t blocks[INDEX_LIMIT_MAX];
    size_t n = 0, seen = 0;
    int ret;
    *listed = 0;
    *more = 0;
    shards = shards > 1 ? shards : 1;
    limit = limit < INDEX_LIMIT_MAX ? limit : INDEX_LIMIT_MAX;
    if ((ret = lb_db_query(db, oldest_sql, "i", (int64_t)limit)) != 0)
        return ret;
    lb_order_block_t b = {0};
    for (; (ret = lb_db_fetch(db, "ii", &b.sku_id, &b.first_id)) == 0; ++seen)
        if (n == 0 || (uint64_t)b.sku_id % shards == (uint64_t)blocks[0].sku_id % shards)
            blocks[n++] = b;
    if (ret != LB_ENOTFOUND)
        return ret;
    *more = seen == limit; /* the other shards' blocks wait too, and a run takes one shard's */
    return n == 0 ? 0 : index_blocks(db, blocks, n, listed);
}
