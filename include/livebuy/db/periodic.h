/*
 * A database job run again and again on one loop thread, never two runs at once: a timer starts a run each interval
 * unless the last one is still in flight. The expiry sweeper, the group-buy closer and the outbox dispatcher's claims
 * are such jobs.
 */
#ifndef LIVEBUY_DB_PERIODIC_H
#define LIVEBUY_DB_PERIODIC_H

#include <stdint.h>
#include <uv.h>
#include "livebuy/db/db.h"

typedef struct st_lb_periodic_t lb_periodic_t;
/*
 * On the loop thread, before a run: sets the run's inputs and clears its outputs. Returns 0 to run now, or an LB_E*
 * code to skip this turn (LB_EBUSY: no room for what a run would bring).
 */
typedef int (*lb_periodic_prepare_cb)(lb_periodic_t *periodic);
/* On a worker: the run's database work, under db.h's rules for a job's work (it may run again after a deadlock). */
typedef int (*lb_periodic_work_cb)(lb_periodic_t *periodic, lb_db_t *db);
/* On the loop thread, after a run, with work's status (LB_EDB_DOWN when there was no connection). */
typedef void (*lb_periodic_done_cb)(lb_periodic_t *periodic, int status);

/*
 * One periodic job. Embed it in the struct that holds the runs' inputs and outputs and find that struct in the
 * callbacks with H2O_STRUCT_FROM_MEMBER; it must outlive the last run's done (static storage does). Owned by the loop
 * thread that started it: only that thread calls the functions below.
 */
struct st_lb_periodic_t {
    lb_db_job_t job;
    uv_timer_t timer;
    lb_periodic_prepare_cb prepare; /* NULL: nothing to set up */
    lb_periodic_work_cb work;
    lb_periodic_done_cb done;
    int running;  /* a run is in flight (cleared before done is called) */
    int stopping; /* lb_periodic_stop was called */
};

/* Starts the timer on loop: the first run in first_ms, then one every interval_ms. */
void lb_periodic_start(uv_loop_t *loop, lb_periodic_t *periodic, uint64_t first_ms, uint64_t interval_ms,
                       lb_periodic_prepare_cb prepare, lb_periodic_work_cb work, lb_periodic_done_cb done);
/* Starts a run now (what the timer does), unless one is in flight, it is stopping, or prepare says to skip. */
void lb_periodic_run(lb_periodic_t *periodic);
/* The next run in delay_ms instead of a whole interval from now (more work is due); does nothing once stopping. */
void lb_periodic_again(lb_periodic_t *periodic, uint64_t delay_ms);
/*
 * No run starts any more and the timer is closed. A run in flight still finishes as a database job (the server waits
 * for those) and its done is called, with stopping set.
 */
void lb_periodic_stop(lb_periodic_t *periodic);

#endif
