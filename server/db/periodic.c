/* A database job on a timer, one run in flight at a time (livebuy/db/periodic.h). */
#include <h2o/memory.h>
#include "livebuy/db/periodic.h"

static int periodic_work(lb_db_job_t *job, lb_db_t *db)
{
    lb_periodic_t *periodic = H2O_STRUCT_FROM_MEMBER(lb_periodic_t, job, job);
    return periodic->work(periodic, db);
}

static void periodic_done(lb_db_job_t *job, int status)
{
    lb_periodic_t *periodic = H2O_STRUCT_FROM_MEMBER(lb_periodic_t, job, job);
    periodic->running = 0;
    periodic->done(periodic, status);
}

static void on_tick(uv_timer_t *timer)
{
    lb_periodic_run(H2O_STRUCT_FROM_MEMBER(lb_periodic_t, timer, timer));
}

void lb_periodic_start(uv_loop_t *loop, lb_periodic_t *periodic, uint64_t first_ms, uint64_t interval_ms,
                       lb_periodic_prepare_cb prepare, lb_periodic_work_cb work, lb_periodic_done_cb done)
{
    periodic->prepare = prepare;
    periodic->work = work;
    periodic->done = done;
    periodic->running = periodic->stopping = 0;
    uv_timer_init(loop, &periodic->timer);
    uv_timer_start(&periodic->timer, on_tick, first_ms, interval_ms);
}

void lb_periodic_run(lb_periodic_t *periodic)
{
    if (periodic->running || periodic->stopping || (periodic->prepare != NULL && periodic->prepare(periodic) != 0))
        return;
    periodic->running = 1;
    lb_db_submit(periodic->timer.loop, &periodic->job, periodic_work, periodic_done);
}

void lb_periodic_again(lb_periodic_t *periodic, uint64_t delay_ms)
{
    if (!periodic->stopping)
        uv_timer_start(&periodic->timer, on_tick, delay_ms, uv_timer_get_repeat(&periodic->timer));
}

void lb_periodic_stop(lb_periodic_t *periodic)
{
    periodic->stopping = 1;
    uv_timer_stop(&periodic->timer);
    uv_close((uv_handle_t *)&periodic->timer, NULL);
}
