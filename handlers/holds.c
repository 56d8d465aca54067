/*
 * GET /v1/merchant/holds?sku_id=&after=&limit= (a co-op's token): the live items on air on the co-op's SKUs, whoever's
 * live they are on: how much of which SKU each host holds, at what price, and how much of it is reserved and sold.
 */
#include <stdlib.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/lives.h"

typedef struct st_holds_job_t {
    lb_page_job_t page;
    int64_t sku_id; /* 0 for all the co-op's SKUs */
} holds_job_t;

void lb_hold_write(lb_writer_t *w, const lb_hold_t *hold)
{
    const lb_live_item_t *item = &hold->item;
    lb_writer_pack(w,
                   "live_item_id:I,live_id:I,live_title:s,host_id:I,host_name:s,offer_id:N,sku_id:I,title:s,price_cents:I,quota:I,"
                   "reserved:I,sold:I,available:I",
                   item->id, item->live_id, hold->live_title, hold->host_id, hold->host_name, item->offer_id, item->sku_id,
                   item->title, item->price_cents, item->quota, item->reserved, item->sold, LB_LIVE_ITEM_AVAILABLE(item));
}

static void write_hold(lb_writer_t *w, const lb_hold_t *hold)
{
    lb_writer_map(w, NULL);
    lb_hold_write(w, hold);
    lb_writer_integer(w, "opens_at", hold->item.opens_at);
    lb_writer_end(w);
}

static int holds_work(lb_call_job_t *super, lb_db_t *db)
{
    holds_job_t *job = (holds_job_t *)super;
    lb_page_job_t *page = &job->page;
    lb_merchant_t coop;
    size_t found;
    int ret = lb_auth_merchant(super, db, page->token_hash, LB_KIND(LB_MERCHANT_COOP), &coop);
    if (ret != 0)
        return ret;
    lb_hold_t *holds = lb_malloc((size_t)page->limit * sizeof(*holds));
    if ((ret = lb_store_coop_holds(db, coop.id, job->sku_id, page->after, page->limit, holds, &found)) == 0) {
        lb_writer_t *w = lb_page_answer_start(page, "holds");
        for (size_t i = 0; i != found; ++i)
            write_hold(w, &holds[i]);
        lb_page_answer_end(w, page, found, found != 0 ? holds[found - 1].item.id : 0);
    }
    free(holds);
    return ret;
}

void lb_handle_merchant_holds(lb_call_t *call)
{
    lb_input_error_t err = {0};
    holds_job_t *job = (holds_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    if (lb_call_query_int(call, "sku_id", 1, INT64_MAX, &job->sku_id, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    lb_call_job_submit(&job->page.super, holds_work);
}
