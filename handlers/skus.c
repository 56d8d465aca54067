/*
 * A SKU: GET /v1/skus/{id} (public), and for the merchant that owns it POST /v1/skus/{id}/restock, PATCH /v1/skus/{id}
 * (name, price, weight) and POST /v1/skus/{id}/retire. Its stock corrections and ledger are handlers/ledger.c's.
 */
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/base/limits.h"
#include "livebuy/order/lanes.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/ledger.h"
#include "livebuy/store/product_images.h"
#include "livebuy/store/products.h"

typedef struct st_sku_job_t {
    lb_merchant_job_t base;
    int64_t qty;          /* restock */
    int retire;           /* POST .../retire rather than PATCH */
    lb_sku_patch_t patch; /* PATCH: its strings point into the call's body */
} sku_job_t;

void lb_sku_write(lb_writer_t *w, const lb_sku_t *sku)
{
    lb_writer_pack(w,
                   "id:I,product_id:I,name:s,price_cents:I,weight_grams:I,stock:I,reserved:I,sold:I,held:I,available:I,retired:b",
                   sku->id, sku->product_id, sku->name, sku->price_cents, sku->weight_grams, sku->stock, sku->reserved, sku->sold,
                   sku->held, LB_SKU_AVAILABLE(sku), sku->retired_at != 0);
}

int lb_sku_answer(lb_call_job_t *job, lb_db_t *db, const lb_sku_t *sku)
{
    char photo[LB_IMAGE_NAME_SIZE];
    int ret = lb_store_product_photo(db, sku->product_id, photo);
    if (ret != 0)
        return ret;
    lb_writer_t *w = lb_call_job_answer(job, 200);
    lb_writer_map(w, NULL);
    lb_sku_write(w, sku);
    lb_photo_write(w, "photo_url", photo);
    lb_writer_end(w);
    return 0;
}

int lb_sku_refused(lb_call_job_t *job, int ret, int64_t sku_id)
{
    switch (ret) {
    case LB_ENOTFOUND:
        return lb_call_job_fail(job, 404, "not_found", "no SKU %lld", (long long)sku_id);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(job, 403, "forbidden", "SKU %lld belongs to another merchant", (long long)sku_id);
    default:
        return ret;
    }
}

int lb_sku_merchant(lb_call_job_t *job, lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], lb_merchant_t *merchant)
{
    return lb_auth_merchant(job, db, token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), merchant);
}

int lb_sku_merchant_to_change(lb_call_job_t *job, lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE],
                              lb_merchant_t *merchant)
{
    lb_sku_t sku;
    int ret = lb_sku_merchant(job, db, token_hash, merchant);
    /* Visible now, visible for good: a product leaves the making once, never goes back into it. */
    if (ret == 0 && (ret = lb_store_sku_get(db, job->call->id, &sku)) != 0)
        ret = lb_sku_refused(job, ret, job->call->id);
    return ret;
}

/* ---- GET /v1/skus/{id} ------------------------------------------------------------------------------------------- */

static int sku_get_work(lb_call_job_t *job, lb_db_t *db)
{
    lb_sku_t sku;
    int ret = lb_store_sku_get(db, job->call->id, &sku);
    return ret != 0 ? lb_sku_refused(job, ret, job->call->id) : lb_sku_answer(job, db, &sku);
}

void lb_handle_sku_get(lb_call_t *call)
{
    lb_call_job_submit(lb_call_job_new(call, sizeof(lb_call_job_t)), sku_get_work);
}

/* A merchant's job on /v1/skus/{id}, its bearer token read; NULL when it was answered 401. */
static sku_job_t *sku_job_new(lb_call_t *call)
{
    return (sku_job_t *)lb_auth_merchant_job_new(call, sizeof(sku_job_t));
}

/* ---- POST /v1/skus/{id}/restock ---------------------------------------------------------------------------------- */

static int sku_restock_work(lb_call_job_t *super, lb_db_t *db)
{
    sku_job_t *job = (sku_job_t *)super;
    lb_merchant_t merchant;
    lb_sku_t sku;
    lb_ledger_entry_t entry = {.sku_id = super->call->id, .kind = LB_LEDGER_RESTOCK, .delta = job->qty};
    char why[200];
    int ret = lb_sku_merchant_to_change(super, db, job->base.token_hash, &merchant);
    if (ret != 0)
        return ret;
    if ((ret = lb_store_sku_change_stock(db, merchant.id, &entry, &sku)) == LB_ECONFLICT) {
        lb_stock_change_explain(why, sizeof(why), &sku, job->qty);
        return lb_call_job_fail(super, 422, "invalid", "qty: %s", why);
    }
    return ret != 0 ? lb_sku_refused(super, ret, super->call->id) : lb_sku_answer(super, db, &sku);
}

void lb_sku_stock_changed(lb_call_job_t *job)
{
    lb_lanes_stock_changed(job->call->id);
}

void lb_handle_sku_restock(lb_call_t *call)
{
    lb_input_error_t err = {0};
    sku_job_t *job = sku_job_new(call);
    if (job == NULL)
        return;
    if (lb_body_restock(call->body, &job->qty, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->base.super);
        return;
    }
    /* Stock came back: the lanes of the SKU stop answering "sold out" from their hints. */
    job->base.super.on_done = lb_sku_stock_changed;
    lb_call_job_submit(&job->base.super, sku_restock_work);
}

/* ---- PATCH /v1/skus/{id}, POST /v1/skus/{id}/retire ------------------------------------------------------------- */

static int sku_change_work(lb_call_job_t *super, lb_db_t *db)
{
    sku_job_t *job = (sku_job_t *)super;
    int64_t id = super->call->id;
    lb_merchant_t merchant;
    lb_sku_t sku;
    int ret = lb_sku_merchant_to_change(super, db, job->base.token_hash, &merchant);
    if (ret != 0)
        return ret;
    if (job->retire)
        ret = lb_store_sku_retire(db, id, merchant.id, lb_now(), &sku);
    else
        ret = lb_store_sku_patch(db, id, merchant.id, &job->patch, &sku);
    return ret != 0 ? lb_sku_refused(super, ret, id) : lb_sku_answer(super, db, &sku);
}

void lb_handle_sku_patch(lb_call_t *call)
{
    lb_input_error_t err = {0};
    sku_job_t *job = sku_job_new(call);
    if (job == NULL)
        return;
    if (lb_body_sku_patch(call->body, &job->patch, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->base.super);
        return;
    }
    lb_call_job_submit(&job->base.super, sku_change_work);
}

void lb_handle_sku_retire(lb_call_t *call)
{
    sku_job_t *job = sku_job_new(call);
    if (job == NULL)
        return;
    job->retire = 1;
    /* A "sold out" hint would answer for the retired SKU for up to a second: the batch's word is "retired". */
    job->base.super.on_done = lb_sku_stock_changed;
    lb_call_job_submit(&job->base.super, sku_change_work);
}
