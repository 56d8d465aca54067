/* The buyers' index of orders: filled from the order directory's blocks not yet listed (sql/015_buyer_orders.sql). */
#include "livebuy/common.h"
#include "livebuy/model/order.h"
#include "livebuy/store/buyer_orders.h"

#define INDEX_LIMIT_MAX 64

/* One SKU's unlisted blocks (up to limit), copied and marked in one transaction; *listed gets their count. */
static int index_sku(lb_db_t *db, int64_t sku_id, size_t limit, size_t *listed)
{
    /* READ COMMITTED (db.c): no gap locks, so the batches inserting new blocks never wait for this. */
    static const char blocks_sql[] = "SELECT sku_id, first_id, size FROM order_blocks WHERE listed = 0 AND sku_id = ? "
                                     "ORDER BY listed, first_id LIMIT ? FOR UPDATE SKIP LOCKED";
    static const char copy_sql[] = "INSERT IGNORE INTO buyer_orders (buyer_id, order_id, sku_id) SELECT buyer_id, id, sku_id "
                                   "FROM orders WHERE sku_id = ? AND id >= ? AND id < ?";
    static const char mark_sql[] = "UPDATE order_blocks SET listed = 1 WHERE first_id = ? AND sku_id = ?";
    lb_order_block_t blocks[INDEX_LIMIT_MAX];
    size_t n = 0;
    int64_t changed;
    int ret;
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_db_query(db, blocks_sql, "ii", sku_id, (int64_t)limit)) != 0)
        return ret;
    while (n != limit && (ret = lb_db_fetch(db, "iii", &blocks[n].sku_id, &blocks[n].first_id, &blocks[n].size)) == 0)
        ++n;
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    for (size_t i = 0; i != n; ++i) {
        const lb_order_block_t *b = &blocks[i];
        if ((changed = lb_db_exec(db, copy_sql, "iii", b->sku_id, b->first_id, b->first_id + b->size)) < 0 ||
            (changed = lb_db_exec(db, mark_sql, "ii", b->first_id, b->sku_id)) < 0)
            return (int)changed;
    }
    if ((ret = lb_db_commit(db)) == 0)
        *listed += n;
    return ret;
}

int lb_store_buyer_orders_index(lb_db_t *db, size_t limit, size_t *listed)
{
    /*
     * The oldest unlisted blocks' SKUs, read without a lock, then each SKU's blocks in a transaction of its own: every
     * statement names the SKU, so a sharded deployment's transaction stays on one backend (docs/scale-out.md).
     */
    static const char skus_sql[] = "SELECT sku_id FROM order_blocks WHERE listed = 0 ORDER BY listed, first_id LIMIT ?";
    int64_t skus[INDEX_LIMIT_MAX];
    size_t n = 0;
    int ret;
    *listed = 0;
    limit = limit < INDEX_LIMIT_MAX ? limit : INDEX_LIMIT_MAX;
    if ((ret = lb_db_query(db, skus_sql, "i", (int64_t)limit)) != 0)
        return ret;
    int64_t sku_id;
    while ((ret = lb_db_fetch(db, "i", &sku_id)) == 0) {
        size_t i = 0;
        while (i != n && skus[i] != sku_id)
            ++i;
        if (i == n && n != INDEX_LIMIT_MAX)
            skus[n++] = sku_id;
    }
    if (ret != LB_ENOTFOUND)
        return ret;
    for (size_t i = 0; i != n && *listed < limit; ++i)
        if ((ret = index_sku(db, skus[i], limit - *listed, listed)) != 0)
            return ret;
    return 0;
}
