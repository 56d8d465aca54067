/*
 * POST /v1/lives, GET /v1/lives?mine=1 and POST /v1/lives/{id}/items (hosts; a co-op's SKU only under an offer),
 * GET /v1/lives/{id} (public), POST /v1/live-items/{id}/close (the host, or the co-op whose SKU the item holds): live
 * sessions and their items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/order/lanes.h"
#include "livebuy/base/limits.h"
#include "livebuy/store/lives.h"

typedef struct st_live_create_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    char title[LB_TEXT_SIZE(200)];
    int64_t starts_at;
} live_create_job_t;

typedef struct st_live_item_create_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    lb_live_item_t item;
} live_item_create_job_t;

static int live_not_found(lb_call_job_t *job)
{
    return lb_call_job_fail(job, 404, "not_found", "no live %lld", (long long)job->call->id);
}

/* The fields every view of a live item shows, into the open map. */
static void write_live_item(lb_writer_t *w, const lb_live_item_t *item)
{
    lb_writer_pack(w, "id:I,sku_id:I,price_cents:I,quota:I,available:I,per_buyer_limit:I,opens_at:I,closed:b", item->id,
                   item->sku_id, item->price_cents, item->quota, LB_LIVE_ITEM_AVAILABLE(item), item->per_buyer_limit,
                   item->opens_at, item->closed);
}

static int live_create_work(lb_call_job_t *super, lb_db_t *db)
{
    live_create_job_t *job = (live_create_job_t *)super;
    lb_merchant_t merchant;
    int64_t id;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0 || (ret = lb_store_live_create(db, merchant.id, job->title, job->starts_at, &id)) != 0)
        return ret;
    lb_writer_t *w = lb_call_job_answer(super, 201);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,title:s,starts_at:I", id, job->title, job->starts_at);
    lb_writer_end(w);
    return 0;
}

void lb_handle_live_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    lb_live_body_t live;
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    if (lb_body_live(call->body, &live, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    live_create_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    snprintf(job->title, sizeof(job->title), "%s", live.title);
    job->starts_at = live.starts_at;
    lb_call_job_submit(&job->super, live_create_work);
}

static int lives_list_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_page_job_t *job = (lb_page_job_t *)super;
    lb_merchant_t merchant;
    size_t found;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0)
        return ret;
    lb_live_summary_t *lives = lb_malloc((size_t)job->limit * sizeof(*lives));
    if ((ret = lb_store_host_lives(db, merchant.id, job->after, job->limit, lives, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_array(w, "lives");
        for (size_t i = 0; i != found; ++i) {
            lb_writer_map(w, NULL);
            lb_writer_pack(w, "id:I,title:s,starts_at:I,num_items:I", lives[i].live.id, lives[i].live.title,
                           lives[i].live.starts_at, lives[i].num_items);
            lb_writer_end(w);
        }
        lb_writer_end(w);
        lb_writer_pack(w, "next:N", found != 0 && found == (size_t)job->limit ? lives[found - 1].live.id : 0);
        lb_writer_end(w);
    }
    free(lives);
    return ret;
}

void lb_handle_lives_list(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int64_t mine = 0;
    lb_page_job_t *job = lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    /* Lives are listed for their host only: there is no public listing to page through. */
    if (lb_call_query_int(call, "mine", 1, 1, &mine, &err) != 0 ||
        (mine != 1 && lb_input_error(&err, 422, "invalid", "mine=1 is required: a host lists its own lives") != 0)) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->super);
        return;
    }
    lb_call_job_submit(&job->super, lives_list_work);
}

static int live_item_created(lb_call_job_t *job, const lb_live_item_t *item)
{
    lb_writer_t *w = lb_call_job_answer(job, 201);
    lb_writer_map(w, NULL);
    write_live_item(w, item);
    lb_writer_pack(w, "live_id:I,offer_id:N,reserve_ttl:N", item->live_id, item->offer_id, item->reserve_ttl);
    lb_writer_end(w);
    return 0;
}

/* The answer to an item the offer rules refuse (lb_offer_check): 403 no_offer, or 422 for quota and price. */
static int live_item_refused(lb_call_job_t *job, const lb_live_item_t *item, int64_t host_id, const lb_offer_t *offer,
                             lb_offer_rule_t rule)
{
    char message[256];
    lb_offer_explain(message, sizeof(message), rule, offer, item->sku_id, host_id, item->quota, item->price_cents);
    switch (rule) {
    case LB_OFFER_EXCEEDED:
        return lb_call_job_fail(job, 422, "offer_exceeded", "%s", message);
    case LB_OFFER_BELOW_FLOOR:
        return lb_call_job_fail(job, 422, "below_floor", "%s", message);
    default:
        return lb_call_job_fail(job, 403, "no_offer", "%s", message);
    }
}

int lb_live_of_host(lb_call_job_t *job, lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], int64_t live_id, lb_live_t *live)
{
    lb_merchant_t merchant;
    int ret = lb_auth_merchant(job, db, token_hash, LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0 || ((ret = lb_store_live_get(db, live_id, live)) != 0 && ret != LB_ENOTFOUND))
        return ret;
    if (ret == LB_ENOTFOUND)
        return lb_call_job_fail(job, 404, "not_found", "no live %lld", (long long)live_id);
    if (live->merchant_id != merchant.id)
        return lb_call_job_fail(job, 403, "forbidden", "live %lld belongs to another host", (long long)live_id);
    return 0;
}

static int live_item_create_work(lb_call_job_t *super, lb_db_t *db)
{
    live_item_create_job_t *job = (live_item_create_job_t *)super;
    lb_live_t live;
    lb_offer_t offer;
    lb_offer_rule_t rule;
    lb_sku_t sku;
    int ret = lb_live_of_host(super, db, job->token_hash, job->item.live_id, &live);
    if (ret != 0)
        return ret;
    switch ((ret = lb_store_live_item_create(db, &job->item, live.merchant_id, lb_now(), &offer, &rule, &sku))) {
    case 0:
        return live_item_created(super, &job->item);
    case LB_ENOTFOUND:
        return lb_call_job_fail(super, 422, "invalid", "sku_id: no such SKU %lld", (long long)job->item.sku_id);
    case LB_EFORBIDDEN:
        return live_item_refused(super, &job->item, live.merchant_id, &offer, rule);
    case LB_ECONFLICT:
        if (sku.retired_at != 0)
            return lb_call_job_fail(super, 409, "conflict", "SKU %lld is retired", (long long)sku.id);
        return lb_call_job_fail(super, 409, "conflict", "quota %lld is more than SKU %lld has: only %lld available",
                                (long long)job->item.quota, (long long)job->item.sku_id, (long long)LB_SKU_AVAILABLE(&sku));
    default:
        return ret;
    }
}

void lb_handle_live_item_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    live_item_create_job_t *job = lb_call_job_new(call, sizeof(*job));
    if (lb_body_live_item(call->body, &job->item, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->super);
        return;
    }
    memcpy(job->token_hash, hash, sizeof(hash));
    job->item.live_id = call->id;
    lb_call_job_submit(&job->super, live_item_create_work);
}

static void write_live(lb_writer_t *w, const lb_live_t *live, const lb_live_item_t *items, size_t num_items)
{
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,title:s,starts_at:I", live->id, live->title, live->starts_at);
    lb_writer_array(w, "items");
    for (size_t i = 0; i != num_items; ++i) {
        lb_writer_map(w, NULL);
        write_live_item(w, &items[i]);
        lb_writer_string(w, "title", items[i].title);
        lb_photo_write(w, "photo_url", items[i].photo);
        lb_writer_end(w);
    }
    lb_writer_end(w);
    lb_writer_end(w);
}

static int live_get_work(lb_call_job_t *job, lb_db_t *db)
{
    lb_live_t live;
    lb_live_item_t *items;
    size_t num_items;
    int ret = lb_store_live_get(db, job->call->id, &live);
    if (ret != 0)
        return ret == LB_ENOTFOUND ? live_not_found(job) : ret;
    if ((ret = lb_store_live_items(db, live.id, &items, &num_items)) == 0)
        write_live(lb_call_job_answer(job, 200), &live, items, num_items);
    free(items);
    return ret;
}

void lb_handle_live_get(lb_call_t *call)
{
    lb_call_job_submit(lb_call_job_new(call, sizeof(lb_call_job_t)), live_get_work);
}

typedef struct st_live_item_close_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    int64_t sku_id; /* the closed item's, for the lanes */
} live_item_close_job_t;

static int live_item_close_work(lb_call_job_t *super, lb_db_t *db)
{
    live_item_close_job_t *job = (live_item_close_job_t *)super;
    int64_t id = super->call->id, released = 0;
    lb_merchant_t merchant;
    lb_live_item_t item;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_HOST) | LB_KIND(LB_MERCHANT_COOP), &merchant);
    if (ret != 0)
        return ret;
    switch ((ret = lb_store_live_item_close(db, id, merchant.id, &item, &released))) {
    case 0: {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        write_live_item(w, &item);
        lb_writer_pack(w, "live_id:I,offer_id:N,released:I", item.live_id, item.offer_id, released);
        lb_writer_end(w);
        job->sku_id = item.sku_id;
        return 0;
    }
    case LB_ENOTFOUND:
        return lb_call_job_fail(super, 404, "not_found", "no live item %lld", (long long)id);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(super, 403, "forbidden", "live item %lld is neither on your live nor on your SKU", (long long)id);
    case LB_ECONFLICT:
        return lb_call_job_fail(super, 409, "conflict", "live item %lld is off air already", (long long)id);
    default:
        return ret;
    }
}

/* Its SKU's stock came back: the lanes stop answering "sold out" from their hints. */
static void live_item_closed(lb_call_job_t *super)
{
    lb_lanes_stock_changed(((live_item_close_job_t *)super)->sku_id);
}

void lb_handle_live_item_close(lb_call_t *call)
{
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    live_item_close_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    job->super.on_done = live_item_closed;
    lb_call_job_submit(&job->super, live_item_close_work);
}
