/*
 * GET /v1/merchant/skus?after=&limit= (a co-op's or host's token): the merchant's SKUs with their product's title and
 * the stock counters, a page at a time by SKU id, for the co-op dashboard.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/store.h"

static json_t *merchant_sku_to_json(const lb_merchant_sku_t *m)
{
    json_t *answer = lb_sku_to_json(&m->sku);
    json_object_set_new(answer, "title", json_string(m->title));
    json_object_set_new(answer, "unit", json_string(m->unit));
    json_object_set_new(answer, "cold_chain", json_boolean(m->cold_chain != 0));
    return answer;
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
        json_t *array = json_array();
        for (size_t i = 0; i != found; ++i)
            json_array_append_new(array, merchant_sku_to_json(&skus[i]));
        json_t *next = found != 0 && found == (size_t)job->limit ? json_integer(skus[found - 1].sku.id) : json_null();
        ret = lb_call_job_answer(super, 200, json_pack("{s:o,s:o}", "skus", array, "next", next));
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
