/* Counting the outboxes' backlogs (livebuy/jobs/backlogs.h). */
#include "livebuy/common.h"
#include "livebuy/base/metrics.h"
#include "livebuy/db/periodic.h"
#include "livebuy/jobs/backlogs.h"
#include "livebuy/store/refund_outbox.h"
#include "livebuy/store/shipments.h"

#define COUNT_INTERVAL_MS 2000

static struct {
    lb_periodic_t periodic;
    int64_t shipments, refunds; /* counted by the worker, published on the loop */
} backlogs;

static int count_work(lb_periodic_t *periodic, lb_db_t *db)
{
    (void)periodic;
    int ret = lb_store_shipments_backlog(db, &backlogs.shipments);
    return ret != 0 ? ret : lb_store_refunds_pending(db, &backlogs.refunds);
}

/* A failed count keeps the last one: the database's state shows in livebuy_database_up. */
static void count_done(lb_periodic_t *periodic, int status)
{
    (void)periodic;
    if (status != 0)
        return;
    lb_metrics_outbox_backlog(backlogs.shipments);
    lb_metrics_refunds_pending(backlogs.refunds);
}

void lb_backlogs_start(uv_loop_t *loop)
{
    lb_periodic_start(loop, &backlogs.periodic, 0, COUNT_INTERVAL_MS, NULL, count_work, count_done);
}

void lb_backlogs_stop(void)
{
    lb_periodic_stop(&backlogs.periodic);
}
