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
    lb_call_job_submit(lb_call_job_new(call, sizeof(lb_call_job_t)), readyz_work);
}

void lb_handle_metrics(lb_call_t *call)
{
    size_t len;
    char *text = lb_metrics_render(&len);
    lb_reply_raw(call, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}
