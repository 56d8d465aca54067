/*
 * A fake job runner for the lane tests (lb_lane_run_jobs_with): it keeps the jobs the lanes submit, and the test runs
 * each when it chooses, on its own thread, as a database worker and the loop would: work again while it asks for a
 * retry, then done, then release. Or it answers a job without running it, as for a database that cannot be reached.
 */
#ifndef LIVEBUY_TEST_FAKE_JOBS_H
#define LIVEBUY_TEST_FAKE_JOBS_H

#undef NDEBUG /* the runner's own checks hold in every build */
#include <assert.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/order/lane.h"

#define FAKE_JOBS_MAX  4096
#define FAKE_JOB_TRIES 6 /* like db.c: the first run and five retries */

typedef struct st_fake_job_t {
    lb_db_job_t *job;
    lb_db_work_cb work;
    lb_db_done_cb done, release;
    unsigned runs; /* how often work ran */
    int answered;
} fake_job_t;

static fake_job_t fake_jobs[FAKE_JOBS_MAX];
static size_t num_fake_jobs;

static void fake_submit(uv_loop_t *loop, lb_db_job_t *job, lb_db_work_cb work, lb_db_done_cb done, lb_db_done_cb release)
{
    (void)loop;
    assert(num_fake_jobs != FAKE_JOBS_MAX);
    fake_jobs[num_fake_jobs++] = (fake_job_t){job, work, done, release, 0, 0};
}

/*
 * Runs job i's work as a worker would (again while it returns LB_EDB_RETRY, at most FAKE_JOB_TRIES times), on any thread.
 */
static int fake_work(size_t i)
{
    fake_job_t *f = &fake_jobs[i];
    int status;
    assert(!f->answered);
    do
        status = f->work(f->job, NULL); /* the lane tests' work never touches the connection */
    while (++f->runs != FAKE_JOB_TRIES && status == LB_EDB_RETRY);
    return status;
}

/* Answers job i with status on the loop thread: done, then release. */
static void fake_answer(size_t i, int status)
{
    fake_job_t *f = &fake_jobs[i];
    assert(i < num_fake_jobs && !f->answered);
    f->answered = 1;
    f->done(f->job, status);
    f->release(f->job, status);
}

static void fake_run(size_t i)
{
    assert(i < num_fake_jobs);
    fake_answer(i, fake_work(i));
}

/* Forgets the jobs (all answered) before the next test. */
static void fake_jobs_reset(void)
{
    for (size_t i = 0; i != num_fake_jobs; ++i)
        assert(fake_jobs[i].answered);
    num_fake_jobs = 0;
}

#endif
