/* Operations: /healthz (the process answers), /readyz (the database answers), /metrics (Prometheus text). */
#include <stdlib.h>
#include "livebuy/handlers.h"
#include "livebuy/base/metrics.h"
#include "livebuy/store/catalog.h"

/* {"status": status}, the whole answer of both probes. */
static void write_status(lb_writer_t *w, const char *status)
{
    lb_writer_map(w, NULL);
    lb_writer_string(w, "status", status);
    lb_writer_end(w);
}

void lb_handle_healthz(lb_call_t *call)
{
    lb_writer_t w;
    lb_writer_start(call, &w);
    write_status(&w, "ok");
    lb_reply_written(call, 200, &w);
}

static int readyz_work(lb_call_job_t *job, lb_db_t *db)
{
    int ret = lb_store_ping(db);
    if (ret == 0)
        write_status(lb_call_job_answer(job, 200), "ready");
    return ret;
}

void lb_handle_readyz(lb_call_t *call)
{
    /* A database that hangs (stopped, a network that drops packets) holds its workers for the I/O time-out: a probe
     * needs its answer sooner. */
    lb_call_deadline(call, 1000, 503, "unavailable", "the database did not answer within 1 s");
    lb_call_job_submit_first(lb_call_job_new(call, sizeof(lb_call_job_t)), readyz_work);
}

/*
 * The latest rendering of /metrics on this thread. Scrapes that come while it is still on its way to an earlier one (its
 * refs say so) and within a second of it get the same bytes: a flood of scrapes costs one rendering, shared, not one
 * each (a client that never reads them would otherwise hold a copy per stream).
 */
static _Thread_local lb_body_t *latest_metrics;
static _Thread_local uint64_t latest_metrics_ns;
#define METRICS_SHARED_NS 1000000000ull

void lb_handle_metrics(lb_call_t *call)
{
    uint64_t now = lb_monotonic_ns();
    if (latest_metrics == NULL || latest_metrics->refs == 1 || now - latest_metrics_ns >= METRICS_SHARED_NS) {
        size_t len;
        char *text = lb_metrics_render(&len);
        lb_body_release(latest_metrics);
        latest_metrics = lb_body_adopt(text, len);
        latest_metrics->shared = 1;
        latest_metrics_ns = now;
    }
    lb_reply_body(call, 200, "text/plain; version=0.0.4; charset=utf-8", latest_metrics);
}
