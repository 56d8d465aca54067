/* GET /v1/skus/{id} (public) and POST /v1/skus/{id}/restock (the owning merchant). */
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/order/lanes.h"
#include "livebuy/store/catalog.h"

#define RESTOCK_MAX 1000000000

typedef struct st_sku_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    int64_t qty;
} sku_job_t;

void lb_sku_write(lb_writer_t *w, const lb_sku_t *sku)
{
    lb_writer_pack(w, "id:I,product_id:I,name:s,price_cents:I,weight_grams:I,stock:I,reserved:I,sold:I,held:I,available:I", sku->id,
                   sku->product_id, sku->name, sku->price_cents, sku->weight_grams, sku->stock, sku->reserved, sku->sold, sku->held,
                   LB_SKU_AVAILABLE(sku));
}

/* The answer of the SKU's routes: the SKU alone. */
static int sku_answer(lb_call_job_t *job, const lb_sku_t *sku)
{
    lb_writer_t *w = lb_call_job_answer(job, 200);
    lb_writer_map(w, NULL);
    lb_sku_write(w, sku);
    lb_writer_end(w);
    return 0;
}

static int sku_not_found(lb_call_job_t *job)
{
    return lb_call_job_fail(job, 404, "not_found", "no SKU %lld", (long long)job->call->id);
}

static int sku_get_work(lb_call_job_t *job, lb_db_t *db)
{
    lb_sku_t sku;
    int ret = lb_store_sku_get(db, job->call->id, &sku);
    if (ret != 0)
        return ret == LB_ENOTFOUND ? sku_not_found(job) : ret;
    return sku_answer(job, &sku);
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
    case 0:
        return sku_answer(super, &sku);
    case LB_ENOTFOUND:
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
