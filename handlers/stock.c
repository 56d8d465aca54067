/*
 * The live streams, from this thread's feed of the live: GET /v1/lives/{id}/stock (public) and
 * GET /v1/lives/{id}/sales/stream (the live's host, its token checked in the database before the stream starts).
 */
#include <string.h>
#include "livebuy/handlers.h"
#include "livebuy/feed/stock_feed.h"
#include "livebuy/http/auth.h"

typedef struct st_sales_stream_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
} sales_stream_job_t;

void lb_handle_live_stock(lb_call_t *call)
{
    lb_stock_feed_watch(call);
}

static int sales_stream_allowed(lb_call_job_t *super, lb_db_t *db)
{
    lb_live_t live;
    return lb_live_of_host(super, db, ((sales_stream_job_t *)super)->token_hash, super->call->id, &live);
}

void lb_handle_live_sales_stream(lb_call_t *call)
{
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    sales_stream_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    job->super.start_stream = lb_stock_feed_watch_sales;
    lb_call_job_submit(&job->super, sales_stream_allowed);
}
