/*
 * For unit tests of database jobs without a database: one worker thread (jobs finish in the order they were queued) and
 * a server that is not there, so that every job finishes with LB_EDB_DOWN and its work never runs.
 */
#ifndef LIVEBUY_TESTS_NO_DB_H
#define LIVEBUY_TESTS_NO_DB_H

#include <stdlib.h>
#include <uv.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/db/db.h"

static void no_db_init(uv_loop_t *loop)
{
    setenv("UV_THREADPOOL_SIZE", "1", 1);
    lb_db_url_t url = {.user = "nobody", .host = "localhost", .database = "none", .socket = "/nonexistent/livebuy-test.sock"};
    lb_db_global_init(&url, 0);
    uv_loop_init(loop);
}

/* 0 when the loop closed cleanly (no handle left open). */
static int no_db_dispose(uv_loop_t *loop)
{
    int ret = uv_loop_close(loop);
    lb_db_global_dispose();
    return ret;
}

/* A test program's main: runs each test on one loop, checks that the loop closes cleanly, prints the summary. */
typedef void (*no_db_test_cb)(uv_loop_t *loop);
static int no_db_run(const char *name, const no_db_test_cb *tests, size_t num_tests)
{
    uv_loop_t loop;
    no_db_init(&loop);
    for (size_t i = 0; i != num_tests; ++i)
        tests[i](&loop);
    CHECK(no_db_dispose(&loop) == 0);
    return CHECK_RESULT(name);
}

#endif
