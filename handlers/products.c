/* POST /v1/products (co-op or host): a product with its SKUs, created together. */
#include <stdio.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/base/limits.h"
#include "livebuy/store/catalog.h"

#define MAX_SKUS 50

typedef struct st_product_create_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    char title[LB_TEXT_SIZE(200)], unit[LB_TEXT_SIZE(32)], origin[LB_TEXT_SIZE(200)];
    int cold_chain;
    size_t num_skus;
    lb_sku_t skus[MAX_SKUS];
} product_create_job_t;

static int product_create_work(lb_call_job_t *super, lb_db_t *db)
{
    product_create_job_t *job = (product_create_job_t *)super;
    lb_product_t product = {job->title, job->unit, job->origin, job->cold_chain};
    lb_merchant_t merchant;
    int64_t product_id;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0 || (ret = lb_store_product_create(db, merchant.id, &product, job->skus, job->num_skus, &product_id)) != 0)
        return ret;

    lb_writer_t *w = lb_call_job_answer(super, 201);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,title:s,unit:s,origin:s,cold_chain:b", product_id, job->title, job->unit, job->origin, job->cold_chain);
    lb_writer_array(w, "skus");
    for (size_t i = 0; i != job->num_skus; ++i) {
        const lb_sku_t *sku = &job->skus[i];
        lb_writer_map(w, NULL);
        lb_writer_pack(w, "id:I,name:s,price_cents:I,stock:I,weight_grams:I", sku->id, sku->name, sku->price_cents, sku->stock,
                       sku->weight_grams);
        lb_writer_end(w);
    }
    lb_writer_end(w);
    lb_writer_end(w);
    return 0;
}

/* Reads skus[i] into sku; err names the field as skus[i].NAME. */
static int read_sku(const lb_value_t *item, size_t i, lb_sku_t *sku, lb_input_error_t *err)
{
    char prefix[32];
    const char *name;
    snprintf(prefix, sizeof(prefix), "skus[%zu].", i);
    err->field_prefix = prefix;
    int ret = lb_field_string(item, "name", 1, 1, 200, &name, err);
    if (ret == 0 && (ret = lb_field_int(item, "price_cents", 1, 0, LB_PRICE_MAX, &sku->price_cents, err)) == 0 &&
        (ret = lb_field_int(item, "stock", 1, 0, LB_QUANTITY_MAX, &sku->stock, err)) == 0)
        ret = lb_field_int(item, "weight_grams", 1, 0, LB_WEIGHT_MAX, &sku->weight_grams, err);
    err->field_prefix = NULL;
    if (ret == 0)
        snprintf(sku->name, sizeof(sku->name), "%s", name);
    return ret;
}

static int read_product(const lb_value_t *body, product_create_job_t *job, lb_input_error_t *err)
{
    const char *title, *unit, *origin = "";
    const lb_value_t *skus;
    int ret;
    if ((ret = lb_field_string(body, "title", 1, 1, 200, &title, err)) != 0 ||
        (ret = lb_field_string(body, "unit", 1, 1, 32, &unit, err)) != 0 ||
        (ret = lb_field_string(body, "origin", 0, 0, 200, &origin, err)) != 0 ||
        (ret = lb_field_bool(body, "cold_chain", 0, &job->cold_chain, err)) != 0 ||
        (ret = lb_field_object_array(body, "skus", 1, MAX_SKUS, &skus, err)) != 0)
        return ret;
    snprintf(job->title, sizeof(job->title), "%s", title);
    snprintf(job->unit, sizeof(job->unit), "%s", unit);
    snprintf(job->origin, sizeof(job->origin), "%s", origin);
    job->num_skus = skus->len;
    size_t i = 0;
    for (const lb_value_t *item = lb_value_first(skus); item != NULL; item = lb_value_next(item), ++i)
        if ((ret = read_sku(item, i, &job->skus[i], err)) != 0)
            return ret;
    return 0;
}

void lb_handle_product_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    product_create_job_t *job = lb_call_job_new(call, sizeof(*job));
    if (read_product(call->body, job, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->super);
        return;
    }
    memcpy(job->token_hash, hash, sizeof(hash));
    lb_call_job_submit(&job->super, product_create_work);
}
