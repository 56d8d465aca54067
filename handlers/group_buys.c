/*
 * Village pickup points (POST/GET /v1/pickup-points, merchants; PATCH by the owner binds a station; GET of one is
 * public) and community group-buys: POST and GET /v1/group-buys (the co-op that owns the SKU) and GET
 * /v1/group-buys/{id} (public). Buyers join through POST /v1/orders {group_buy_id}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/base/limits.h"
#include "livebuy/order/shipping.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"

typedef struct st_pickup_point_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    lb_pickup_point_t point;
} pickup_point_job_t;

/* 0 when station_id names a station merchant; else a 422 recorded in job (LB_EINPUT) or an LB_EDB_* code. */
static int check_station(lb_call_job_t *job, lb_db_t *db, int64_t station_id)
{
    lb_merchant_t station;
    int ret = lb_store_merchant_get(db, station_id, &station);
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    if (ret == LB_ENOTFOUND || station.kind != LB_MERCHANT_STATION)
        return lb_call_job_fail(job, 422, "invalid", "station_id: merchant %lld is not a station", (long long)station_id);
    return 0;
}

static int pickup_point_create_work(lb_call_job_t *super, lb_db_t *db)
{
    pickup_point_job_t *job = (pickup_point_job_t *)super;
    lb_merchant_t merchant;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0 || (job->point.station_id != 0 && (ret = check_station(super, db, job->point.station_id)) != 0) ||
        (ret = lb_store_pickup_point_create(db, merchant.id, &job->point)) != 0)
        return ret;
    lb_shipping_write_pickup_point(lb_call_job_answer(super, 201), NULL, &job->point);
    return 0;
}

void lb_handle_pickup_point_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    pickup_point_job_t *job = lb_call_job_new(call, sizeof(*job));
    if (lb_body_pickup_point(call->body, &job->point, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->super);
        return;
    }
    memcpy(job->token_hash, hash, sizeof(hash));
    lb_call_job_submit(&job->super, pickup_point_create_work);
}

static int pickup_points_list_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_page_job_t *job = (lb_page_job_t *)super;
    lb_merchant_t merchant;
    size_t found;
    int ret = lb_auth_merchant(super, db, job->token_hash,
                               LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST) | LB_KIND(LB_MERCHANT_SHIPPER), &merchant);
    if (ret != 0)
        return ret;
    lb_pickup_point_t *points = lb_malloc((size_t)job->limit * sizeof(*points));
    if ((ret = lb_store_pickup_points_list(db, job->after, job->limit, points, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_array(w, "pickup_points");
        for (size_t i = 0; i != found; ++i)
            lb_shipping_write_pickup_point(w, NULL, &points[i]);
        lb_writer_end(w);
        lb_writer_pack(w, "next:N", found != 0 && found == (size_t)job->limit ? points[found - 1].id : 0);
        lb_writer_end(w);
    }
    free(points);
    return ret;
}

void lb_handle_pickup_points_list(lb_call_t *call)
{
    lb_page_job_t *job = lb_auth_page_job_new(call, sizeof(*job));
    if (job != NULL)
        lb_call_job_submit(&job->super, pickup_points_list_work);
}

static int pickup_point_get_work(lb_call_job_t *job, lb_db_t *db)
{
    lb_pickup_point_t point;
    int ret = lb_store_pickup_point_get(db, job->call->id, &point);
    if (ret != 0)
        return ret != LB_ENOTFOUND ? ret
                                   : lb_call_job_fail(job, 404, "not_found", "no pickup point %lld", (long long)job->call->id);
    lb_shipping_write_pickup_point(lb_call_job_answer(job, 200), NULL, &point);
    return 0;
}

void lb_handle_pickup_point_get(lb_call_t *call)
{
    lb_call_job_submit(lb_call_job_new(call, sizeof(lb_call_job_t)), pickup_point_get_work);
}

static int pickup_point_bind_work(lb_call_job_t *super, lb_db_t *db)
{
    pickup_point_job_t *job = (pickup_point_job_t *)super;
    int64_t id = super->call->id;
    lb_merchant_t merchant;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0 || (ret = check_station(super, db, job->point.station_id)) != 0)
        return ret;
    switch ((ret = lb_store_pickup_point_set_station(db, id, merchant.id, job->point.station_id, &job->point))) {
    case 0:
        lb_shipping_write_pickup_point(lb_call_job_answer(super, 200), NULL, &job->point);
        return 0;
    case LB_ENOTFOUND:
        return lb_call_job_fail(super, 404, "not_found", "no pickup point %lld", (long long)id);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(super, 403, "forbidden", "pickup point %lld is another merchant's", (long long)id);
    default:
        return ret;
    }
}

void lb_handle_pickup_point_bind(lb_call_t *call)
{
    lb_input_error_t err = {0};
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    int64_t station_id;
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    if (lb_body_pickup_point_bind(call->body, &station_id, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    pickup_point_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    job->point.station_id = station_id;
    lb_call_job_submit(&job->super, pickup_point_bind_work);
}

typedef struct st_group_buy_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    lb_group_buy_t gb;
} group_buy_job_t;

/* A group-buy as its routes answer it. */
static int group_buy_answer(lb_call_job_t *job, int status, const lb_group_buy_t *gb)
{
    lb_writer_t *w = lb_call_job_answer(job, status);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,status:s,joined_qty:I,min_qty:I,closes_at:I,sku_id:I,pickup_point_id:I,price_cents:I,per_buyer_limit:I",
                   gb->id, gb->status, gb->joined_qty, gb->min_qty, gb->closes_at, gb->sku_id, gb->pickup_point_id, gb->price_cents,
                   gb->per_buyer_limit);
    lb_writer_end(w);
    return 0;
}

static int group_buy_create_work(lb_call_job_t *super, lb_db_t *db)
{
    group_buy_job_t *job = (group_buy_job_t *)super;
    lb_merchant_t merchant;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_COOP), &merchant);
    if (ret != 0)
        return ret;
    job->gb.merchant_id = merchant.id;
    switch ((ret = lb_store_group_buy_create(db, &job->gb))) {
    case 0:
        return group_buy_answer(super, 201, &job->gb);
    case LB_ENOTFOUND:
        return lb_call_job_fail(super, 422, "invalid", "sku_id: no SKU %lld", (long long)job->gb.sku_id);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(super, 403, "forbidden", "SKU %lld belongs to another merchant", (long long)job->gb.sku_id);
    case LB_EINPUT:
        return lb_call_job_fail(super, 422, "invalid", "pickup_point_id: no pickup point %lld", (long long)job->gb.pickup_point_id);
    case LB_ECONFLICT:
        return lb_call_job_fail(super, 409, "conflict", "SKU %lld is retired", (long long)job->gb.sku_id);
    default:
        return ret;
    }
}

void lb_handle_group_buy_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    lb_group_buy_t gb = {0};
    if (lb_auth_bearer_hash(call, hash) != 0)
        return;
    if (lb_body_group_buy(call->body, lb_now(), &gb, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    group_buy_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    job->gb = gb;
    lb_call_job_submit(&job->super, group_buy_create_work);
}

/*
 * A campaign as its pages show it: the fields of group_buy_answer, what it sells, where it is collected and, once
 * closed, the joined quantity it was decided on and its joins collected and still to collect (null while open).
 */
static void group_buy_view_write(lb_writer_t *w, const lb_group_buy_view_t *view)
{
    const lb_group_buy_t *gb = &view->gb;
    lb_writer_map(w, NULL);
    lb_writer_pack(w,
                   "id:I,status:s,joined_qty:I,min_qty:I,closes_at:I,sku_id:I,pickup_point_id:I,price_cents:I,per_buyer_limit:I,"
                   "title:s,sku_name:s,unit:s",
                   gb->id, gb->status, gb->joined_qty, gb->min_qty, gb->closes_at, gb->sku_id, gb->pickup_point_id, gb->price_cents,
                   gb->per_buyer_limit, view->product_title, view->sku_name, view->unit);
    lb_shipping_write_pickup_point(w, "pickup_point", &view->pickup_point);
    lb_photo_write(w, "photo_url", view->photo);
    if (gb->joined_qty_at_close >= 0)
        lb_writer_integer(w, "joined_qty_at_close", gb->joined_qty_at_close);
    else
        lb_writer_null(w, "joined_qty_at_close");
    if (strcmp(gb->status, "open") != 0)
        lb_writer_pack(w, "collected:I,not_collected:I", view->collected, view->not_collected);
    else
        lb_writer_pack(w, "collected:n,not_collected:n");
    lb_writer_end(w);
}

static int group_buy_get_work(lb_call_job_t *job, lb_db_t *db)
{
    lb_group_buy_view_t view;
    int ret = lb_store_group_buy_view_get(db, job->call->id, &view);
    if (ret != 0)
        return ret != LB_ENOTFOUND ? ret : lb_call_job_fail(job, 404, "not_found", "no group-buy %lld", (long long)job->call->id);
    group_buy_view_write(lb_call_job_answer(job, 200), &view);
    return 0;
}

void lb_handle_group_buy_get(lb_call_t *call)
{
    lb_call_job_submit(lb_call_job_new(call, sizeof(lb_call_job_t)), group_buy_get_work);
}

typedef struct st_group_buys_list_job_t {
    lb_page_job_t page;
    lb_group_buy_filter_t filter; /* merchant_id set on the worker */
} group_buys_list_job_t;

static int group_buys_list_work(lb_call_job_t *super, lb_db_t *db)
{
    group_buys_list_job_t *job = (group_buys_list_job_t *)super;
    const lb_page_job_t *page = &job->page;
    lb_merchant_t merchant;
    size_t found;
    int ret = lb_auth_merchant(super, db, page->token_hash, LB_KIND(LB_MERCHANT_COOP), &merchant);
    if (ret != 0)
        return ret;
    job->filter.merchant_id = merchant.id;
    lb_group_buy_view_t *views = lb_malloc((size_t)page->limit * sizeof(*views));
    if ((ret = lb_store_group_buys_list(db, &job->filter, page->after, page->limit, views, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_array(w, "group_buys");
        for (size_t i = 0; i != found; ++i)
            group_buy_view_write(w, &views[i]);
        lb_writer_end(w);
        lb_writer_pack(w, "next:N", found != 0 && found == (size_t)page->limit ? views[found - 1].gb.id : 0);
        lb_writer_end(w);
    }
    free(views);
    return ret;
}

void lb_handle_group_buys_list(lb_call_t *call)
{
    lb_input_error_t err = {0};
    group_buys_list_job_t *job = (group_buys_list_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    job->filter.status = -1;
    if (lb_call_query_enum(call, "status", lb_group_buy_statuses, &job->filter.status, &err) != 0 ||
        lb_call_query_int(call, "sku_id", 1, INT64_MAX, &job->filter.sku_id, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    lb_call_job_submit(&job->page.super, group_buys_list_work);
}
