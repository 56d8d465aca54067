/* The reservation batch: one transaction on one SKU that decides a lane's batch of order requests (on a worker). */
#ifndef LIVEBUY_RESERVE_H
#define LIVEBUY_RESERVE_H

#include "livebuy/db/db.h"
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
 * Runs the batch's transaction: lock the SKU row, lock its live items, read the keys and per-buyer counts, allocate,
 * insert the orders, update the counters, commit. Returns 0 with every request decided, LB_EDB_RETRY to be run again
 * (deadlock, or a lost COMMIT whose outcome the next run reads back from the keys), or LB_EDB_DOWN.
 */
int lb_reserve_run(lb_db_t *db, lb_reserve_batch_t *batch);

#endif
