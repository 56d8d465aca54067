/*
 * The buyers' index job (livebuy/jobs/buyer_index.h). A listing never waits for it: it reads the blocks not yet listed
 * too (server/store/buyer_orders.c). It only keeps that part small.
 */
#include <stdio.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/db/periodic.h"
#include "livebuy/jobs/buyer_index.h"
#include "livebuy/store/buyer_orders.h"

#define INDEX_INTERVAL_MS 250
#define INDEX_AGAIN_MS    10 /* more blocks wait (of this shard or others): the next run soon */
#define INDEX_BLOCKS      256 /* blocks per run: up to 16,384 orders, or a few hundred spread over SKUs */

typedef struct st_index_run_t {
    lb_periodic_t periodic;
    size_t listed;
    int more;
} index_run_t;

static index_run_t run;
static unsigned shards = 1;

static int index_prepare(lb_periodic_t *periodic)
{
    run.listed = 0;
    run.more = 0;
    return 0;
}

static int index_work(lb_periodic_t *periodic, lb_db_t *db)
{
    return lb_store_buyer_orders_index(db, INDEX_BLOCKS, shards, &run.listed, &run.more);
}

static void index_done(lb_periodic_t *periodic, int status)
{
    if (status != 0 && status != LB_EDB_DOWN)
        lb_log(LB_LOG_ERROR, "listing orders for their buyers failed (%d); next try in %d ms", status, INDEX_INTERVAL_MS);
    if (status == 0 && (run.listed == INDEX_BLOCKS || run.more))
        lb_periodic_again(periodic, INDEX_AGAIN_MS);
}

void lb_buyer_index_start(uv_loop_t *loop, unsigned num_shards)
{
    shards = num_shards;
    lb_periodic_start(loop, &run.periodic, INDEX_INTERVAL_MS, INDEX_INTERVAL_MS, index_prepare, index_work, index_done);
}

void lb_buyer_index_stop(void)
{
    lb_periodic_stop(&run.periodic);
}
