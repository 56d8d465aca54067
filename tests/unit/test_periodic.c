/*
 * Unit tests of the periodic job (server/db/periodic.c), without a database: every run meets a server that is not there
 * and finishes with LB_EDB_DOWN, which is enough to see when runs start and end. Runs come on the timer, never two at
 * once, not when prepare says to skip, sooner after lb_periodic_again, and none after a stop (the one in flight still
 * ends).
 */
#include <stdlib.h>
#include <h2o/memory.h>
#include "check.h"
#include "no_db.h"
#include "livebuy/common.h"
#include "livebuy/db/periodic.h"

#define HOUR_MS (3600 * 1000)

typedef struct st_test_periodic_t {
    lb_periodic_t periodic;
    unsigned prepares, works, dones;
    unsigned skips;     /* prepare says to skip this many turns first */
    unsigned stop_at;   /* done stops the job at this many dones */
    unsigned run_at;    /* done starts another run at once at this many dones (0: never) */
    unsigned again_for; /* done asks for the next run at once while dones is below this */
    int statuses_down;  /* every done so far had LB_EDB_DOWN */
    int stopping_seen;  /* the last done saw stopping set */
} test_periodic_t;

static test_periodic_t t;

static int prepare(lb_periodic_t *periodic)
{
    test_periodic_t *tp = H2O_STRUCT_FROM_MEMBER(test_periodic_t, periodic, periodic);
    ++tp->prepares;
    if (tp->skips != 0) {
        --tp->skips;
        return LB_EBUSY;
    }
    return 0;
}

static int work(lb_periodic_t *periodic, lb_db_t *db)
{
    ++H2O_STRUCT_FROM_MEMBER(test_periodic_t, periodic, periodic)->works;
    return 0;
}

static void done(lb_periodic_t *periodic, int status)
{
    test_periodic_t *tp = H2O_STRUCT_FROM_MEMBER(test_periodic_t, periodic, periodic);
    ++tp->dones;
    tp->statuses_down &= status == LB_EDB_DOWN;
    tp->stopping_seen = periodic->stopping;
    CHECK(!periodic->running);
    if (periodic->stopping) {
        /* Neither may start anything, nor touch the closed timer. */
        lb_periodic_again(periodic, 0);
        lb_periodic_run(periodic);
        return;
    }
    if (tp->dones == tp->run_at) {
        lb_periodic_run(periodic);
        CHECK(periodic->running);
    } else if (tp->dones == tp->stop_at) {
        lb_periodic_stop(periodic);
    } else if (tp->dones < tp->again_for) {
        lb_periodic_again(periodic, 0);
    }
}

static void reset(void)
{
    memset(&t, 0, sizeof(t));
    t.statuses_down = 1;
}

static void test_runs_on_the_timer(uv_loop_t *loop)
{
    reset();
    t.stop_at = 3;
    lb_periodic_start(loop, &t.periodic, 5, 5, prepare, work, done);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(t.prepares == 3 && t.dones == 3);
    CHECK(t.works == 0); /* no connection: the work never ran */
    CHECK(t.statuses_down);
}

static void test_one_run_in_flight(uv_loop_t *loop)
{
    reset();
    t.run_at = 1;
    t.stop_at = 2;
    lb_periodic_start(loop, &t.periodic, HOUR_MS, HOUR_MS, prepare, work, done);
    lb_periodic_run(&t.periodic);
    lb_periodic_run(&t.periodic); /* the first is in flight: nothing */
    CHECK(t.periodic.running && t.prepares == 1);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(t.prepares == 2 && t.dones == 2); /* the second, started from the first's done */
}

static void test_prepare_skips(uv_loop_t *loop)
{
    reset();
    t.skips = 2;
    t.stop_at = 1;
    lb_periodic_start(loop, &t.periodic, 5, 5, prepare, work, done);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(t.prepares == 3 && t.dones == 1);
}

static void test_again_sooner(uv_loop_t *loop)
{
    reset();
    t.again_for = 4;
    t.stop_at = 4;
    uint64_t started = lb_monotonic_ns();
    lb_periodic_start(loop, &t.periodic, 0, HOUR_MS, prepare, work, done);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(t.dones == 4);
    CHECK(lb_monotonic_ns() - started < 60 * 1000000000ull); /* not an hour apart */
}

static void test_stop_with_a_run_in_flight(uv_loop_t *loop)
{
    reset();
    lb_periodic_start(loop, &t.periodic, HOUR_MS, HOUR_MS, prepare, work, done);
    lb_periodic_run(&t.periodic);
    lb_periodic_stop(&t.periodic);
    lb_periodic_run(&t.periodic); /* stopped: nothing */
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(t.prepares == 1 && t.dones == 1);
    CHECK(t.stopping_seen);
    CHECK(lb_db_jobs_pending() == 0);
}

int main(void)
{
    static const no_db_test_cb tests[] = {test_runs_on_the_timer, test_one_run_in_flight, test_prepare_skips, test_again_sooner,
                                          test_stop_with_a_run_in_flight};
    return no_db_run("periodic", tests, LB_ARRAY_SIZE(tests));
}
