/*
 * The expiry sweeper. A timer on one loop thread starts a sweep each second (when none is in flight): a database job
 * that reads the blocks of the order directory with a reservation due (each block is up to 64 orders of a reservation
 * transaction, of one SKU or several: sql/021) and expires their due reservations in one short transaction, with the
 * blocks' SKUs' rows locked first, as a reservation job locks them (when the due blocks name more SKUs than a
 * transaction takes, or span shards, what is left goes in the next sweep, 10 ms later). Back on the loop, the lanes of
 * the SKUs that got units back forget their sold-out hints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/db/db.h"
#include "livebuy/db/periodic.h"
#include "livebuy/order/lanes.h"
#include "livebuy/base/metrics.h"
#include "livebuy/store/expiry.h"
#include "livebuy/store/reservations.h"
#include "livebuy/jobs/sweeper.h"

#define SWEEP_INTERVAL_MS 1000
#define SWEEP_AGAIN_MS    10 /* more were due than one sweep takes: the next one soon */
/* Due blocks read by one sweep: up to 4,096 orders of a hot SKU; as many blocks of orders spread over SKUs (a
 * transaction of a few orders each at a few thousand a second) as its SKUs allow (LB_EXPIRY_SKUS_MAX). */
#define SWEEP_LIMIT 64

typedef struct st_sweep_t {
    lb_periodic_t periodic;
    lb_order_block_t due[SWEEP_LIMIT];
    lb_block_skus_t lists[SWEEP_LIMIT];
    size_t num_due;
    int more; /* due blocks were left for the next sweep */
    /* Kept across the job's retries: what committed stays committed. */
    int64_t restocked[LB_EXPIRY_SKUS_MAX]; /* SKUs that got units back */
    size_t num_restocked;
    uint64_t expired;
} sweep_t;

static sweep_t sweep;
static unsigned shards = 1;

static int sweep_prepare(lb_periodic_t *periodic)
{
    sweep.num_due = sweep.num_restocked = 0;
    sweep.more = 0;
    sweep.expired = 0;
    return 0;
}

static int sweep_work(lb_periodic_t *periodic, lb_db_t *db)
{
    int64_t now = lb_now();
    size_t n = 0, expired;
    int ret = lb_store_order_blocks_due(db, now, SWEEP_LIMIT, sweep.due, sweep.lists, &sweep.num_due);
    if (ret != 0 || sweep.num_due == 0)
        return ret;
    /* The first block's shard's (SKU id modulo shards: a transaction stays on one backend), moved to the front. */
    for (size_t i = 0; i != sweep.num_due; ++i) {
        if ((uint64_t)sweep.due[i].sku_id % shards != (uint64_t)sweep.due[0].sku_id % shards)
            continue;
        lb_order_block_t block = sweep.due[i];
        memmove(sweep.due + n + 1, sweep.due + n, (i - n) * sizeof(*sweep.due));
        sweep.due[n] = block;
        lb_block_skus_t list;
        memcpy(list, sweep.lists[i], sizeof(list));
        memmove(sweep.lists + n + 1, sweep.lists + n, (i - n) * sizeof(*sweep.lists));
        memcpy(sweep.lists[n++], list, sizeof(list));
    }
    size_t taken = n;
    if ((ret = lb_store_order_blocks_expire(db, sweep.due, (const lb_block_skus_t *)sweep.lists, &taken, now, sweep.restocked,
                                            &sweep.num_restocked, &expired)) != 0)
        return ret;
    sweep.expired = expired;
    sweep.more = taken != sweep.num_due || sweep.num_due == SWEEP_LIMIT;
    return 0;
}

static void sweep_done(lb_periodic_t *periodic, int status)
{
    for (size_t i = 0; i != sweep.num_restocked; ++i)
        lb_lanes_stock_changed(sweep.restocked[i]);
    lb_metrics_orders_expired(sweep.expired);
    if (status != 0 && status != LB_EDB_DOWN)
        lb_log(LB_LOG_ERROR, "expiry sweep failed (%d); next try in a second", status);
    if (status == 0 && sweep.more)
        lb_periodic_again(periodic, SWEEP_AGAIN_MS);
}

void lb_sweeper_start(uv_loop_t *loop, unsigned num_shards)
{
    shards = num_shards > 1 ? num_shards : 1;
    lb_periodic_start(loop, &sweep.periodic, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS, sweep_prepare, sweep_work, sweep_done);
}

void lb_sweeper_stop(void)
{
    lb_periodic_stop(&sweep.periodic);
}
