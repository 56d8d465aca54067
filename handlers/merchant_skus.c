/*
 * GET /v1/merchant/skus?after=&limit= (a co-op's or host's token): the merchant's SKUs with their product's title and
 * the stock counters, a page at a time by SKU id, for the co-op dashboard.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/catalog.h"

static void write_merchant_sku(lb_writer_t *w, const lb_merchant_sku_t *m)
{
    lb_writer_map(w, NULL);
    lb_sku_write(w, &m->sku);
    lb_writer_pack(w, "title:s,unit:s,cold_chain:b", m->title, m->unit, m->cold_chain != 0);
    lb_writer_end(w);
}

static int merchant_skus_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_page_job_t *job = (lb_page_job_t *)super;
    lb_merchant_t merchant;
    size_t found;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0)
        return ret;
    lb_merchant_sku_t *skus = lb_malloc((size_t)job->limit * sizeof(*skus));
    if ((ret = lb_store_merchant_skus(db, merchant.id, job->after, job->limit, skus, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_array(w, "skus");
        for (size_t i = 0; i != found; ++i)
            write_merchant_sku(w, &skus[i]);
        lb_writer_end(w);
        lb_writer_pack(w, "next:N", found != 0 && found == (size_t)job->limit ? skus[found - 1].sku.id : 0);
        lb_writer_end(w);
    }
    free(skus);
    return ret;
}

void lb_handle_merchant_skus(lb_call_t *call)
{
    lb_page_job_t *job = lb_auth_page_job_new(call, sizeof(*job));
    if (job != NULL)
        lb_call_job_submit(&job->super, merchant_skus_work);
}
