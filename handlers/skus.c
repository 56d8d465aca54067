/* GET /v1/skus/{id} (public) and POST /v1/skus/{id}/restock (the owning merchant). */
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/order/lanes.h"
#include "livebuy/store/store.h"

#define RESTOCK_MAX 1000000000

typedef struct st_sku_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    int64_t qty;
} sku_job_t;

json_t *lb_sku_to_json(const lb_sku_t *sku)
{
    return json_pack("{s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "id", (json_int_t)sku->id, "product_id",
                     (json_int_t)sku->product_id, "name", sku->name, "price_cents", (json_int_t)sku->price_cents, "weight_grams",
                     (json_int_t)sku->weight_grams, "stock", (json_int_t)sku->stock, "reserved", (json_int_t)sku->reserved, "sold",
                     (json_int_t)sku->sold, "held", (json_int_t)sku->held, "available", (json_int_t)LB_SKU_AVAILABLE(sku));
}

static int sku_not_found(lb_call_job_t *job)
{
    return lb_call_job_fail(job, 404, "not_found", "no SKU %lld", (long long)job->call->id);
}

static int sku_get_work(lb_call_job_t *job, lb_db_t *db)
{
    lb_sku_t sku;
    int ret = lb_store_sku_get(db, job->call->id, &sku);
    if (ret <= 0)
        return ret == 0 ? sku_not_found(job) : ret;
    return lb_call_job_answer(job, 200, lb_sku_to_json(&sku));
}

void lb_handle_sku_get(lb_call_t *call)
{
    lb_call_job_submit(lb_call_job_new(call, sizeof(lb_call_job_t)), sku_get_work);
}

static int sku_restock_work(lb_call_job_t *super, lb_db_t *db)
{
    sku_job_t *job = (sku_job_t *)super;
    lb_merchant_t merchant;
    lb_sku_t sku;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0)
        return ret;
    switch ((ret = lb_store_sku_restock(db, super->call->id, merchant.id, job->qty, &sku))) {
    case 1:
        return lb_call_job_answer(super, 200, lb_sku_to_json(&sku));
    case 0:
        return sku_not_found(super);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(super, 403, "forbidden", "SKU %lld belongs to another merchant", (long long)sku.id);
    case LB_ECONFLICT:
        return lb_call_job_fail(super, 422, "invalid", "qty would take the stock past %lld", LB_STOCK_MAX);
    default:
        return ret;
    }
}

/* Stock came back: the lanes of the SKU stop answering "sold out" from their hints. */
static void sku_restocked(lb_call_job_t *job)
{
    lb_lanes_stock_changed(job->call->id);
}

void lb_handle_sku_restock(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int64_t qty;
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    if (lb_field_int(call->body, "qty", 1, 1, RESTOCK_MAX, &qty, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    sku_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    job->qty = qty;
    job->super.on_done = sku_restocked;
    lb_call_job_submit(&job->super, sku_restock_work);
}
