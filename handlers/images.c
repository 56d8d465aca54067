/*
 * A product's photos, for its merchant (the bearer token, as the product's other routes): POST /v1/products/{id}/images
 * (the body is the photo's bytes, its type found from them), PATCH /v1/products/{id}/images/{image_id} {"position"} and
 * DELETE /v1/products/{id}/images/{image_id}. The check, the hash, the file and the row are a worker's: nothing of a
 * photo is decoded or written on the loop.
 */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/media.h"
#include "livebuy/store/product_images.h"

typedef struct st_image_job_t {
    lb_merchant_job_t base;
    lb_image_change_t change;
    lb_product_image_t image;
    int checked;  /* upload: the bytes were checked and hashed (a transaction run again does not do it again) */
    size_t len;   /* upload: the body's length */
    char bytes[]; /* upload: the body, copied (the job may outlive the request) */
} image_job_t;

void lb_photo_write(lb_writer_t *w, const char *key, const char *name)
{
    char url[sizeof(LB_MEDIA_URL_PREFIX) + LB_IMAGE_NAME_SIZE];
    if (name[0] == '\0') {
        lb_writer_null(w, key);
        return;
    }
    snprintf(url, sizeof(url), LB_MEDIA_URL_PREFIX "%s", name);
    lb_writer_string(w, key, url);
}

void lb_product_image_write(lb_writer_t *w, const lb_product_image_t *image)
{
    char name[LB_IMAGE_NAME_SIZE];
    lb_media_name(image->sha256, image->type, name);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,product_id:I,type:s,sha256:s,bytes:I,width:I,height:I,position:I,created_at:I", image->id,
                   image->product_id, lb_image_type_name(image->type), image->sha256, image->bytes, image->width, image->height,
                   image->position, image->created_at);
    lb_photo_write(w, "url", name);
    lb_writer_end(w);
}

void lb_product_images_write(lb_writer_t *w, const lb_product_image_t *images, size_t n)
{
    lb_writer_array(w, "images");
    for (size_t i = 0; i != n; ++i)
        lb_product_image_write(w, &images[i]);
    lb_writer_end(w);
}

/* Records the answer to a refused change (and returns other codes as they are). */
static int image_refused(lb_call_job_t *job, int ret, const lb_image_change_t *change)
{
    long long product = (long long)change->product_id;
    switch (ret) {
    case LB_ENOTFOUND:
        if (change->image_missing)
            return lb_call_job_fail(job, 404, "not_found", "product %lld has no photo %lld", product, (long long)change->image_id);
        return lb_call_job_fail(job, 404, "not_found", "no product %lld", product);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(job, 403, "forbidden", "product %lld belongs to another merchant", product);
    case LB_ECONFLICT:
        if (change->retired_at != 0)
            return lb_call_job_fail(job, 409, "retired", "product %lld is retired: it keeps its photos and takes no new ones",
                                    product);
        return lb_call_job_fail(job, 409, "too_many_images", "product %lld has %lld photos, the most it may have", product,
                                (long long)change->num_images);
    case LB_EINPUT:
        return lb_call_job_fail(job, 422, "invalid", "position must be from 0 to %lld (product %lld has %lld photos)",
                                (long long)change->num_images - 1, product, (long long)change->num_images);
    default:
        return ret;
    }
}

/* The caller's merchant into the change: the co-op or host whose token it is (else a 401 or 403 recorded). */
static int image_merchant(image_job_t *job, lb_db_t *db)
{
    lb_merchant_t merchant = {0};
    int ret = lb_sku_merchant(&job->base.super, db, job->base.token_hash, &merchant);
    job->change.merchant_id = merchant.id;
    return ret;
}

/* Answers the product's photos in order, after a change. */
static int images_answer(lb_call_job_t *job, lb_db_t *db, int64_t product_id)
{
    lb_product_image_t images[LB_PRODUCT_IMAGES_MAX];
    size_t n;
    int ret = lb_store_product_images(db, product_id, images, &n);
    if (ret == 0) {
        lb_writer_t *w = lb_call_job_answer(job, 200);
        lb_writer_map(w, NULL);
        lb_product_images_write(w, images, n);
        lb_writer_end(w);
    }
    return ret;
}

/* A job on /v1/products/{id}/images[/{image_id}] of size bytes; NULL when it was answered 401. */
static image_job_t *image_job_new(lb_call_t *call, size_t size)
{
    image_job_t *job = (image_job_t *)lb_auth_merchant_job_new(call, size);
    if (job != NULL)
        job->change = (lb_image_change_t){.media_dir = call->config->media_dir, .product_id = call->id, .image_id = call->sub_id};
    return job;
}

/* ---- POST /v1/products/{id}/images ------------------------------------------------------------------------------- */

/* The photo's type, size in pixels and hash, from its bytes: 415 when it is none of the three, 422 when not whole. */
static int check_upload(image_job_t *job)
{
    lb_image_info_t info;
    char why[256];
    switch (lb_image_check(job->bytes, job->len, &info, why, sizeof(why))) {
    case LB_IMAGE_OK:
        break;
    case LB_IMAGE_UNSUPPORTED:
        return lb_call_job_fail(&job->base.super, 415, "unsupported_media_type", "%s; send a JPEG, PNG or WebP photo", why);
    case LB_IMAGE_TOO_MANY_PIXELS:
        return lb_call_job_fail(&job->base.super, 422, "too_many_pixels", "%s", why);
    case LB_IMAGE_CORRUPT:
        return lb_call_job_fail(&job->base.super, 422, "invalid_image", "%s", why);
    }
    job->image = (lb_product_image_t){.type = info.type, .bytes = (int64_t)job->len, .width = info.width, .height = info.height};
    lb_media_hash(job->bytes, job->len, job->image.sha256);
    job->checked = 1;
    return 0;
}

static int image_upload_work(lb_call_job_t *super, lb_db_t *db)
{
    image_job_t *job = (image_job_t *)super;
    int created, ret;
    if ((ret = image_merchant(job, db)) != 0 || (!job->checked && (ret = check_upload(job)) != 0))
        return ret;
    if ((ret = lb_store_product_image_add(db, &job->change, job->bytes, job->len, &job->image, &created)) != 0)
        return image_refused(super, ret, &job->change);
    lb_product_image_write(lb_call_job_answer(super, created ? 201 : 200), &job->image);
    return 0;
}

void lb_handle_product_image_upload(lb_call_t *call)
{
    h2o_iovec_t body = call->req->entity;
    image_job_t *job = image_job_new(call, sizeof(image_job_t) + body.len);
    if (job == NULL)
        return;
    job->len = body.len;
    memcpy(job->bytes, body.base, body.len);
    lb_call_job_submit(&job->base.super, image_upload_work);
}

/* ---- PATCH /v1/products/{id}/images/{image_id} ------------------------------------------------------------------- */

static int image_move_work(lb_call_job_t *super, lb_db_t *db)
{
    image_job_t *job = (image_job_t *)super;
    int ret;
    if ((ret = image_merchant(job, db)) != 0)
        return ret;
    if ((ret = lb_store_product_image_move(db, &job->change)) != 0)
        return image_refused(super, ret, &job->change);
    return images_answer(super, db, job->change.product_id);
}

void lb_handle_product_image_move(lb_call_t *call)
{
    lb_input_error_t err = {0};
    image_job_t *job = image_job_new(call, sizeof(image_job_t));
    if (job == NULL)
        return;
    if (lb_body_image_move(call->body, &job->change.position, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->base.super);
        return;
    }
    lb_call_job_submit(&job->base.super, image_move_work);
}

/* ---- DELETE /v1/products/{id}/images/{image_id} ------------------------------------------------------------------ */

static int image_delete_work(lb_call_job_t *super, lb_db_t *db)
{
    image_job_t *job = (image_job_t *)super;
    int ret;
    if ((ret = image_merchant(job, db)) != 0)
        return ret;
    if ((ret = lb_store_product_image_delete(db, &job->change)) != 0)
        return image_refused(super, ret, &job->change);
    return images_answer(super, db, job->change.product_id);
}

void lb_handle_product_image_delete(lb_call_t *call)
{
    image_job_t *job = image_job_new(call, sizeof(image_job_t));
    if (job != NULL)
        lb_call_job_submit(&job->base.super, image_delete_work);
}
