/* The buyers' index of orders: filled from the order directory's blocks not yet listed (sql/015_buyer_orders.sql). */
#include "livebuy/common.h"
#include "livebuy/model/order.h"
#include "livebuy/store/buyer_orders.h"

#define INDEX_LIMIT_MAX 64

int lb_store_buyer_orders_index(lb_db_t *db, size_t limit, size_t *listed)
{
    /* READ COMMITTED (db.c): no gap locks, so the batches inserting new blocks never wait for this. */
    static const char blocks_sql[] = "SELECT sku_id, first_id, size FROM order_blocks WHERE listed = 0 ORDER BY listed, first_id "
                                     "LIMIT ? FOR UPDATE SKIP LOCKED";
    static const char copy_sql[] = "INSERT IGNORE INTO buyer_orders (buyer_id, order_id, sku_id) SELECT buyer_id, id, sku_id "
                                   "FROM orders WHERE sku_id = ? AND id >= ? AND id < ?";
    static const char mark_sql[] = "UPDATE order_blocks SET listed = 1 WHERE first_id = ? AND sku_id = ?";
    lb_order_block_t blocks[INDEX_LIMIT_MAX];
    size_t n = 0;
    int64_t changed;
    int ret;
    *listed = 0;
    limit = limit < INDEX_LIMIT_MAX ? limit : INDEX_LIMIT_MAX;
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_db_query(db, blocks_sql, "i", (int64_t)limit)) != 0)
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
        *listed = n;
    return ret;
}
