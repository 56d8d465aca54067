/*
 * Unit tests of the database jobs' answers (server/db/db.c), without a database: every job meets a server that is not
 * there and finishes with LB_EDB_DOWN, which is enough to see when done and release run. A prompt job is answered by
 * the first lb_db_answer_finished after its work, before libuv reports it, and released only after that report; jobs
 * are answered oldest first; an answer never runs inside another; a plain job waits for libuv.
 */
#include <stdlib.h>
#include <time.h>
#include <h2o/memory.h>
#include "check.h"
#include "no_db.h"
#include "livebuy/common.h"
#include "livebuy/db/db.h"

#define NUM_JOBS 3

typedef struct st_test_job_t {
    lb_db_job_t job;
    int index;
    int status;
    unsigned done_calls, release_calls;
    unsigned done_turn, release_turn; /* when each ran, counted over all jobs */
} test_job_t;

static test_job_t jobs[NUM_JOBS];
static unsigned turns;
static uv_loop_t *nest_loop;       /* set: jobs[0]'s done submits jobs[1], lets it finish, calls lb_db_answer_finished */
static unsigned done_calls_nested; /* how often jobs[1] had been answered by then */

static void pause_ms(long ms)
{
    struct timespec pause = {0, ms * 1000000};
    nanosleep(&pause, NULL);
}

static int work(lb_db_job_t *job, lb_db_t *db)
{
    (void)job, (void)db;
    return 0;
}

static void release(lb_db_job_t *job, int status);

static void done(lb_db_job_t *job, int status)
{
    test_job_t *t = H2O_STRUCT_FROM_MEMBER(test_job_t, job, job);
    t->status = status;
    ++t->done_calls;
    t->done_turn = ++turns;
    if (nest_loop != NULL && t == &jobs[0]) {
        lb_db_submit_prompt(nest_loop, &jobs[1].job, work, done, release);
        pause_ms(300); /* jobs[1] finishes meanwhile (one worker, no server to wait for) */
        lb_db_answer_finished();
        done_calls_nested = jobs[1].done_calls;
    }
}

static void release(lb_db_job_t *job, int status)
{
    (void)status;
    test_job_t *t = H2O_STRUCT_FROM_MEMBER(test_job_t, job, job);
    ++t->release_calls;
    t->release_turn = ++turns;
}

/* Calls lb_db_answer_finished (without running the loop) until job has been answered; 0 after 10 s without. */
static int answer_until_done(const test_job_t *t)
{
    for (int i = 0; i != 10000 && t->done_calls == 0; ++i) {
        lb_db_answer_finished();
        if (t->done_calls == 0)
            pause_ms(1);
    }
    return t->done_calls != 0;
}

static void reset(void)
{
    memset(jobs, 0, sizeof(jobs));
    turns = 0;
}

static void test_prompt_answered_before_libuv(uv_loop_t *loop)
{
    reset();
    lb_db_submit_prompt(loop, &jobs[0].job, work, done, release);
    CHECK(answer_until_done(&jobs[0]));
    CHECK(jobs[0].status == LB_EDB_DOWN);
    CHECK(jobs[0].release_calls == 0); /* libuv has not reported it yet: the job must stay */
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(jobs[0].done_calls == 1);
    CHECK(jobs[0].release_calls == 1);
    CHECK(jobs[0].done_turn < jobs[0].release_turn);
    CHECK(lb_db_jobs_pending() == 0);
}

static void test_prompt_answered_by_libuv(uv_loop_t *loop)
{
    reset();
    lb_db_submit_prompt(loop, &jobs[0].job, work, done, release);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(jobs[0].done_calls == 1);
    CHECK(jobs[0].release_calls == 1);
    CHECK(jobs[0].done_turn < jobs[0].release_turn);
    lb_db_answer_finished(); /* nothing left to answer */
    CHECK(jobs[0].done_calls == 1);
}

static void test_oldest_first(uv_loop_t *loop)
{
    reset();
    for (int i = 0; i != NUM_JOBS; ++i) {
        jobs[i].index = i;
        lb_db_submit_prompt(loop, &jobs[i].job, work, done, release);
    }
    /* One worker thread (main sets the pool's size): they finish in the order they were queued. */
    CHECK(answer_until_done(&jobs[NUM_JOBS - 1]));
    for (int i = 0; i != NUM_JOBS; ++i)
        CHECK(jobs[i].done_calls == 1 && jobs[i].done_turn == (unsigned)i + 1);
    uv_run(loop, UV_RUN_DEFAULT);
    for (int i = 0; i != NUM_JOBS; ++i)
        CHECK(jobs[i].done_calls == 1 && jobs[i].release_calls == 1);
}

static void test_answers_not_nested(uv_loop_t *loop)
{
    reset();
    nest_loop = loop;
    lb_db_submit_prompt(loop, &jobs[0].job, work, done, release);
    CHECK(answer_until_done(&jobs[0]));
    CHECK(done_calls_nested == 0); /* jobs[1] had finished, but the call inside jobs[0]'s done answered nothing */
    nest_loop = NULL;
    CHECK(answer_until_done(&jobs[1]));
    CHECK(jobs[0].done_turn == 1 && jobs[1].done_turn == 2);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(jobs[0].done_calls == 1 && jobs[1].done_calls == 1);
    CHECK(jobs[0].release_calls == 1 && jobs[1].release_calls == 1);
}

static void test_plain_job_waits_for_libuv(uv_loop_t *loop)
{
    reset();
    lb_db_submit(loop, &jobs[0].job, work, done);
    pause_ms(300); /* long enough for the worker to fail to connect; either way the job must not be answered here */
    lb_db_answer_finished();
    CHECK(jobs[0].done_calls == 0);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(jobs[0].done_calls == 1);
    CHECK(jobs[0].release_calls == 0);
}

int main(void)
{
    static const no_db_test_cb tests[] = {test_prompt_answered_before_libuv, test_prompt_answered_by_libuv, test_oldest_first,
                                          test_answers_not_nested, test_plain_job_waits_for_libuv};
    return no_db_run("db_jobs", tests, LB_ARRAY_SIZE(tests));
}
