/*
 * The expiry sweeper. A timer on one loop thread starts a sweep each second (when none is in flight): a database job
 * that reads the blocks of the order directory with a reservation due (each block is up to 64 orders of one SKU, or of
 * several: sql/021), groups those of one SKU by SKU and expires each group's due reservations in its own short
 * transaction, and each block of several SKUs in one of its own. Back on the loop, the lanes of
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
#define SWEEP_LIMIT       8  /* due blocks read by one sweep: up to 512 orders */

typedef struct st_sweep_t {
    lb_periodic_t periodic;
    lb_order_block_t due[SWEEP_LIMIT];
    size_t num_due;
    /* Kept across the job's retries: what committed stays committed. */
    int64_t restocked[SWEEP_LIMIT * LB_ORDER_ID_BLOCK]; /* SKUs that got units back */
    size_t num_restocked;
    uint64_t expired;
} sweep_t;

static sweep_t sweep;

/* Blocks of one SKU by SKU, then those of several. */
static int by_sku_then_id(const void *a, const void *b)
{
    const lb_order_block_t *x = a, *y = b;
    if (x->several != y->several)
        return x->several - y->several;
    if (x->sku_id != y->sku_id)
        return x->sku_id < y->sku_id ? -1 : 1;
    return x->first_id < y->first_id ? -1 : x->first_id > y->first_id;
}

static void note_restocked(int64_t sku_id, size_t expired)
{
    sweep.expired += expired;
    for (size_t i = 0; i != sweep.num_restocked; ++i)
        if (sweep.restocked[i] == sku_id)
            return;
    /* Past the array (only after retries) a lane keeps its hint for at most a second: no harm. */
    if (sweep.num_restocked != LB_ARRAY_SIZE(sweep.restocked))
        sweep.restocked[sweep.num_restocked++] = sku_id;
}

/* Expires the due orders of a block of several SKUs, due[start]. */
static int expire_skus(lb_db_t *db, size_t start, int64_t now)
{
    int64_t restocked[LB_ORDER_ID_BLOCK];
    size_t num_restocked, expired;
    int ret = lb_store_order_block_expire_skus(db, &sweep.due[start], now, restocked, &num_restocked, &expired);
    sweep.expired += ret == 0 ? expired : 0;
    for (size_t i = 0; ret == 0 && i != num_restocked; ++i)
        note_restocked(restocked[i], 0);
    return ret;
}

/*
 * Expires the due orders of one SKU's blocks, due[start..) (or of a block of several SKUs): returns where the next
 * SKU's blocks start, or an LB_E* code.
 */
static int expire_sku(lb_db_t *db, size_t start, int64_t now, size_t *next)
{
    int64_t sku_id = sweep.due[start].sku_id;
    size_t expired;
    if (sweep.due[start].several) {
        *next = start + 1;
        return expire_skus(db, start, now);
    }
    for (*next = start; *next != sweep.num_due && !sweep.due[*next].several && sweep.due[*next].sku_id == sku_id; ++*next)
        ;
    int ret = lb_store_order_blocks_expire(db, sku_id, sweep.due + start, *next - start, now, &expired);
    if (ret == 0 && expired != 0)
        note_restocked(sku_id, expired);
    return ret;
}

static int sweep_prepare(lb_periodic_t *periodic)
{
    sweep.num_due = sweep.num_restocked = 0;
    sweep.expired = 0;
    return 0;
}

static int sweep_work(lb_periodic_t *periodic, lb_db_t *db)
{
    int64_t now = lb_now();
    int ret = lb_store_order_blocks_due(db, now, SWEEP_LIMIT, sweep.due, &sweep.num_due);
    if (ret != 0)
        return ret;
    qsort(sweep.due, sweep.num_due, sizeof(sweep.due[0]), by_sku_then_id);
    for (size_t start = 0, next; start != sweep.num_due; start = next)
        if ((ret = expire_sku(db, start, now, &next)) != 0)
            return ret;
    return 0;
}

static void sweep_done(lb_periodic_t *periodic, int status)
{
    for (size_t i = 0; i != sweep.num_restocked; ++i)
        lb_lanes_stock_changed(sweep.restocked[i]);
    lb_metrics_orders_expired(sweep.expired);
    if (status != 0 && status != LB_EDB_DOWN)
        lb_log(LB_LOG_ERROR, "expiry sweep failed (%d); next try in a second", status);
    if (status == 0 && sweep.num_due == SWEEP_LIMIT)
        lb_periodic_again(periodic, SWEEP_AGAIN_MS);
}

void lb_sweeper_start(uv_loop_t *loop)
{
    lb_periodic_start(loop, &sweep.periodic, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS, sweep_prepare, sweep_work, sweep_done);
}

void lb_sweeper_stop(void)
{
    lb_periodic_stop(&sweep.periodic);
}
