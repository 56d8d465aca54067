/*
 * Products: POST /v1/products (co-op or host: a product with its SKUs, created together), GET /v1/products/{id}
 * (public), and for its merchant PATCH /v1/products/{id} and POST /v1/products/{id}/retire (the product and every SKU
 * of it). The merchant's own list is handlers/merchant_products.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/base/limits.h"
#include "livebuy/order/lanes.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/product_images.h"
#include "livebuy/store/products.h"

typedef struct st_product_create_job_t {
    lb_merchant_job_t base;
    char title[LB_TEXT_SIZE(200)], unit[LB_TEXT_SIZE(32)], origin[LB_TEXT_SIZE(200)];
    char description[LB_TEXT_SIZE(LB_DESCRIPTION_MAX)];
    int cold_chain;
    size_t num_skus;
    lb_sku_t skus[LB_PRODUCT_SKUS_MAX];
    int64_t product_id; /* once known: the product a run again of the job goes on with (lb_store_product_create) */
    char idem_key[LB_IDEMPOTENCY_KEY_MAX + 1];
    int key_given;
    int replayed; /* the key's product was made before: the answer is a replay */
} product_create_job_t;

void lb_product_write(lb_writer_t *w, const lb_product_record_t *product, const lb_sku_t *skus, size_t num_skus,
                      const lb_product_image_t *images, size_t num_images)
{
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,merchant_id:I,title:s,unit:s,origin:s,description:s,cold_chain:b,retired:b,created_at:I,updated_at:N",
                   product->id, product->merchant_id, product->title, product->unit, product->origin, product->description,
                   product->cold_chain != 0, product->retired_at != 0, product->created_at, product->updated_at);
    lb_photo_write(w, "photo_url", product->photo);
    if (images != NULL)
        lb_product_images_write(w, images, num_images);
    lb_writer_array(w, "skus");
    for (size_t i = 0; i != num_skus; ++i) {
        lb_writer_map(w, NULL);
        lb_sku_write(w, &skus[i]);
        lb_writer_end(w);
    }
    lb_writer_end(w);
    lb_writer_end(w);
}

/*
 * Answers product id with its SKUs and photos (read here); *product is read too unless it holds that product already
 * (a PATCH's answer). LB_ENOTFOUND when there is none.
 */
static int product_answer(lb_call_job_t *job, lb_db_t *db, int status, int64_t id, lb_product_record_t *product)
{
    lb_product_image_t images[LB_PRODUCT_IMAGES_MAX];
    lb_sku_t *skus = NULL;
    size_t n, num_images;
    int ret = product->id == id ? 0 : lb_store_product_get(db, id, product);
    if (ret == 0 && (ret = lb_store_products_skus(db, product->merchant_id, id, id, &skus, &n)) == 0 &&
        (ret = lb_store_product_images(db, id, images, &num_images)) == 0)
        lb_product_write(lb_call_job_answer(job, status), product, skus, n, images, num_images);
    free(skus);
    return ret;
}

static int product_refused(lb_call_job_t *job, int ret, int64_t id)
{
    switch (ret) {
    case LB_ENOTFOUND:
        return lb_call_job_fail(job, 404, "not_found", "no product %lld", (long long)id);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(job, 403, "forbidden", "product %lld belongs to another merchant", (long long)id);
    default:
        return ret;
    }
}

/* ---- POST /v1/products ------------------------------------------------------------------------------------------- */

static int product_create_work(lb_call_job_t *super, lb_db_t *db)
{
    product_create_job_t *job = (product_create_job_t *)super;
    lb_product_t product = {job->title, job->unit, job->origin, job->description, job->cold_chain};
    lb_product_record_t created = {0};
    lb_merchant_t merchant;
    int ret = lb_sku_merchant(super, db, job->base.token_hash, &merchant);
    if (ret == 0 && (ret = lb_store_product_create(db, merchant.id, &product, job->skus, job->num_skus,
                                                   job->key_given ? job->idem_key : NULL, &job->product_id, &job->replayed)) == 0)
        ret = product_answer(super, db, 201, job->product_id, &created);
    if (ret == LB_ECONFLICT)
        return lb_call_job_fail(super, 422, "invalid", "Idempotency-Key %s was already used for another product", job->idem_key);
    /* The connection went once the product was begun: the job runs again on a new one, which goes on with that product
     * or finds it published and answers it, never making a second. */
    if (ret == LB_EDB_DOWN && job->product_id != 0)
        return LB_EDB_RETRY;
    /* Another product of the merchant was in the making all along: a 503, to retry shortly. */
    return ret == LB_EBUSY ? LB_EDB_DOWN : ret;
}

static void product_created(lb_call_job_t *super)
{
    if (((product_create_job_t *)super)->replayed)
        lb_call_add_header(super->call, "idempotent-replayed", "true");
}

void lb_handle_product_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    product_create_job_t *job = (product_create_job_t *)lb_auth_merchant_job_new(call, sizeof(product_create_job_t));
    if (job == NULL)
        return;
    lb_product_body_t *product = lb_malloc(sizeof(*product)); /* some 20 KB with its SKUs */
    int ret = lb_call_idempotency_key(call, job->idem_key, &err);
    job->key_given = ret == 0;
    if ((ret != 0 && ret != LB_ENOTFOUND) || lb_body_product(call->body, product, &err) != 0) {
        free(product);
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->base.super);
        return;
    }
    snprintf(job->title, sizeof(job->title), "%s", product->title);
    snprintf(job->unit, sizeof(job->unit), "%s", product->unit);
    snprintf(job->origin, sizeof(job->origin), "%s", product->origin);
    snprintf(job->description, sizeof(job->description), "%s", product->description);
    job->cold_chain = product->cold_chain;
    job->product_id = 0;
    job->num_skus = product->num_skus;
    memcpy(job->skus, product->skus, product->num_skus * sizeof(job->skus[0]));
    free(product);
    job->base.super.on_done = product_created;
    lb_call_job_submit(&job->base.super, product_create_work);
}

/* ---- GET /v1/products/{id} --------------------------------------------------------------------------------------- */

static int product_get_work(lb_call_job_t *job, lb_db_t *db)
{
    lb_product_record_t product = {0};
    int ret = product_answer(job, db, 200, job->call->id, &product);
    return ret != 0 ? product_refused(job, ret, job->call->id) : 0;
}

void lb_handle_product_get(lb_call_t *call)
{
    lb_call_job_submit(lb_call_job_new(call, sizeof(lb_call_job_t)), product_get_work);
}

/* ---- PATCH /v1/products/{id}, POST /v1/products/{id}/retire ------------------------------------------------------ */

typedef struct st_product_job_t {
    lb_merchant_job_t base;
    lb_product_patch_t patch;             /* its strings point into the call's body */
    int64_t sku_ids[LB_PRODUCT_SKUS_MAX]; /* retire: the SKUs retired with it, whose lanes then drop their hints */
    size_t num_skus;
} product_job_t;

/* A merchant's job on /v1/products/{id}, its bearer token read; NULL when it was answered 401. */
static product_job_t *product_job_new(lb_call_t *call)
{
    return (product_job_t *)lb_auth_merchant_job_new(call, sizeof(product_job_t));
}

static int product_patch_work(lb_call_job_t *super, lb_db_t *db)
{
    product_job_t *job = (product_job_t *)super;
    lb_product_record_t product;
    lb_merchant_t merchant;
    int64_t id = super->call->id;
    int ret = lb_sku_merchant(super, db, job->base.token_hash, &merchant);
    if (ret != 0)
        return ret;
    if ((ret = lb_store_product_patch(db, id, merchant.id, &job->patch, &product)) != 0)
        return product_refused(super, ret, id);
    return product_answer(super, db, 200, id, &product);
}

void lb_handle_product_patch(lb_call_t *call)
{
    lb_input_error_t err = {0};
    product_job_t *job = product_job_new(call);
    if (job == NULL)
        return;
    if (lb_body_product_patch(call->body, &job->patch, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->base.super);
        return;
    }
    lb_call_job_submit(&job->base.super, product_patch_work);
}

static int product_retire_work(lb_call_job_t *super, lb_db_t *db)
{
    product_job_t *job = (product_job_t *)super;
    lb_product_record_t product;
    lb_merchant_t merchant;
    lb_sku_t *skus = NULL;
    int64_t id = super->call->id;
    int ret = lb_sku_merchant(super, db, job->base.token_hash, &merchant);
    if (ret != 0)
        return ret;
    if ((ret = lb_store_product_retire(db, id, merchant.id, lb_now(), &product)) != 0)
        return product_refused(super, ret, id);
    size_t n;
    if ((ret = lb_store_products_skus(db, product.merchant_id, id, id, &skus, &n)) == 0) {
        for (job->num_skus = 0; job->num_skus != n && job->num_skus != LB_PRODUCT_SKUS_MAX; ++job->num_skus)
            job->sku_ids[job->num_skus] = skus[job->num_skus].id;
    }
    free(skus);
    /* The answer of every route of one product, its photos (which it keeps) with it. */
    return ret != 0 ? ret : product_answer(super, db, 200, id, &product);
}

/* Its SKUs' lanes drop their "sold out" hints: the batch's word on a retired SKU is "retired". */
static void product_retired(lb_call_job_t *super)
{
    product_job_t *job = (product_job_t *)super;
    for (size_t i = 0; i != job->num_skus; ++i)
        lb_lanes_stock_changed(job->sku_ids[i]);
}

void lb_handle_product_retire(lb_call_t *call)
{
    product_job_t *job = product_job_new(call);
    if (job == NULL)
        return;
    job->base.super.on_done = product_retired;
    lb_call_job_submit(&job->base.super, product_retire_work);
}
