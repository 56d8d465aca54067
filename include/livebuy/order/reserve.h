/*
 * The reservation batch: a lane's batch of order requests for one SKU, decided in one transaction (on a worker) with the
 * batches of other SKUs that share its job (livebuy/order/lane.h).
 */
#ifndef LIVEBUY_RESERVE_H
#define LIVEBUY_RESERVE_H

#include "livebuy/db/db.h"
#include "livebuy/model/sku.h"
#include "livebuy/store/catalog.h"
#include "livebuy/order/order.h"

#define LB_MAX_TARGETS_PER_BATCH 16

typedef struct st_lb_reserve_batch_t {
    /* In. */
    int64_t sku_id;
    lb_order_request_t *requests; /* linked by next, in arrival order */
    size_t count;
    /*
     * When requests is NULL: fills requests and count once the SKU row is locked, so that the batch takes the lane's
     * oldest requests at the moment it can decide them (what arrives while another batch holds the lock goes in this one).
     */
    void (*take)(struct st_lb_reserve_batch_t *batch);
    int64_t default_ttl;
    /*
     * Look the buyers' own keys up before deciding? A batch starts without: a key a buyer sends is almost always new,
     * and one that is not either meets the unique key on insert or belongs to a request the batch refused; either way
     * the batch is rolled back and run again with the look-up (lb_reserve_run), which then stays on.
     */
    int look_up_keys;
    /* Out: what was left after the batch, for the lane's sold-out hints. */
    int sku_found;
    lb_alloc_target_t targets[1 + LB_MAX_TARGETS_PER_BATCH]; /* [0]: the SKU itself */
    size_t num_targets;
} lb_reserve_batch_t;

/*
 * What the batch transaction asks of the database: its statements (the store's, livebuy/store/) and the transaction
 * around them. Each as the store function of the same name documents it.
 */
typedef struct st_lb_reserve_store_t {
    int (*begin)(lb_db_t *db);
    int (*commit)(lb_db_t *db); /* LB_EDB_DOWN: the outcome is unknown */
    void (*rollback)(lb_db_t *db);
    int (*skus_lock)(lb_db_t *db, const int64_t *ids, size_t n, lb_sku_t *skus);
    int (*live_item_lock)(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target);
    int (*group_buy_lock)(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target);
    int (*orders_by_keys)(lb_db_t *db, int64_t sku_id, const lb_order_request_t *const *requests, size_t n,
                          lb_existing_order_t **out, size_t *found);
    int (*orders_by_ids)(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_existing_order_t **out, size_t *found);
    int (*buyer_usage)(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n, lb_buyer_usage_t **out, size_t *found);
    int (*orders_insert)(lb_db_t *db, lb_order_request_t *const *granted, size_t n, int64_t now);
    int (*live_item_add_reserved)(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta);
    int (*group_buy_add_joined)(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta);
    int (*skus_add_reserved)(lb_db_t *db, const lb_sku_reserved_t *adds, size_t n, int64_t now);
} lb_reserve_store_t;

/*
 * Where batches read and write: the database, unless a unit test puts its own store here (an in-memory SKU). Set
 * before the first batch; NULL restores the database.
 */
void lb_reserve_use_store(const lb_reserve_store_t *store);

/*
 * Runs the transaction of batches[0..n) (distinct SKUs in ascending id order, all on one shard): lock the SKU rows, and
 * for each batch take its requests, lock its live items and campaigns, read the keys and per-buyer counts, allocate;
 * then insert every batch's orders, update the counters, commit. Returns 0 with every request decided, LB_EDB_RETRY to
 * be run again (deadlock, or a lost COMMIT whose outcome the next run reads back from the keys), or LB_EDB_DOWN.
 */
int lb_reserve_run(lb_db_t *db, lb_reserve_batch_t *const *batches, size_t n);

#endif
