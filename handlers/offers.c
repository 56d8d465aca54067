/*
 * Offers, a co-op's agreement that a host may put one of its SKUs on air: POST /v1/offers (the co-op), GET /v1/offers
 * (the offers a co-op made or a host was made), GET /v1/offers/{id} (either party), POST /v1/offers/{id}/accept and
 * /decline (the host) and /end (either party). The rules are in server/model/offer.c, the statements in
 * server/store/offers.c.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/base/limits.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/offers.h"

typedef struct st_offer_job_t {
    lb_merchant_job_t base;
    lb_offer_t offer;         /* the terms of a new offer */
    lb_offer_action_t action; /* of a move */
} offer_job_t;

typedef struct st_offers_list_job_t {
    lb_page_job_t page;
    int status;     /* an lb_offer_status_t, or -1 for any */
    int64_t sku_id; /* 0 for any */
} offers_list_job_t;

void lb_offer_write(lb_writer_t *w, const lb_offer_t *offer, int64_t now)
{
    lb_writer_map(w, NULL);
    lb_writer_pack(
        w,
        "id:I,sku_id:I,title:s,coop_id:I,coop_name:s,host_id:I,host_name:s,max_quota:I,placed:I,left:I,min_price_cents:I,"
        "commission_bp:I,starts_at:I,ends_at:I,status:s",
        offer->id, offer->sku_id, offer->title, offer->coop_id, offer->coop_name, offer->host_id, offer->host_name,
        offer->max_quota, offer->placed, LB_OFFER_LEFT(offer), offer->min_price_cents, offer->commission_bp, offer->starts_at,
        offer->ends_at, lb_offer_statuses[offer->status]);
    if (offer->ended_by != LB_OFFER_NOBODY)
        lb_writer_string(w, "ended_by", lb_offer_parties[offer->ended_by]);
    else
        lb_writer_null(w, "ended_by");
    lb_writer_pack(w, "current:b,created_at:I", lb_offer_is_current(offer, now), offer->created_at);
    lb_writer_end(w);
}

static int answer_offer(lb_call_job_t *job, int status, const lb_offer_t *offer)
{
    lb_offer_write(lb_call_job_answer(job, status), offer, lb_now());
    return 0;
}

static int offer_not_found(lb_call_job_t *job)
{
    return lb_call_job_fail(job, 404, "not_found", "no offer %lld", (long long)job->call->id);
}

/* A job of a merchant's call on /v1/offers or /v1/offers/{id}, its bearer token read; NULL when it was answered 401. */
static offer_job_t *offer_job_new(lb_call_t *call)
{
    return (offer_job_t *)lb_auth_merchant_job_new(call, sizeof(offer_job_t));
}

/* ---- POST /v1/offers --------------------------------------------------------------------------------------------- */

static int offer_create_work(lb_call_job_t *super, lb_db_t *db)
{
    offer_job_t *job = (offer_job_t *)super;
    lb_offer_t *offer = &job->offer;
    lb_merchant_t coop, host;
    lb_sku_t sku;
    int ret = lb_auth_merchant(super, db, job->base.token_hash, LB_KIND(LB_MERCHANT_COOP), &coop);
    if (ret != 0 || ((ret = lb_store_sku_get(db, offer->sku_id, &sku)) != 0 && ret != LB_ENOTFOUND))
        return ret;
    if (ret == LB_ENOTFOUND)
        return lb_call_job_fail(super, 422, "invalid", "sku_id: no such SKU %lld", (long long)offer->sku_id);
    if (sku.merchant_id != coop.id)
        return lb_call_job_fail(super, 403, "forbidden", "SKU %lld is another merchant's", (long long)sku.id);
    /* Read without the SKU row lock: an item under an offer made as its SKU is retired is refused under that lock. */
    if (sku.retired_at != 0)
        return lb_call_job_fail(super, 409, "conflict", "SKU %lld is retired", (long long)sku.id);
    if ((ret = lb_store_merchant_get(db, offer->host_id, &host)) != 0 && ret != LB_ENOTFOUND)
        return ret;
    if (ret == LB_ENOTFOUND || host.kind != LB_MERCHANT_HOST)
        return lb_call_job_fail(super, 422, "invalid", "host_id: merchant %lld is not a host", (long long)offer->host_id);
    offer->coop_id = coop.id;
    if ((ret = lb_store_offer_create(db, offer, lb_now())) != 0 || (ret = lb_store_offer_get(db, offer->id, offer)) != 0)
        return ret;
    return answer_offer(super, 201, offer);
}

void lb_handle_offer_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    offer_job_t *job = offer_job_new(call);
    if (job == NULL)
        return;
    if (lb_body_offer(call->body, lb_now(), &job->offer, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->base.super);
        return;
    }
    lb_call_job_submit(&job->base.super, offer_create_work);
}

/* ---- GET /v1/offers ---------------------------------------------------------------------------------------------- */

static int offers_list_work(lb_call_job_t *super, lb_db_t *db)
{
    offers_list_job_t *job = (offers_list_job_t *)super;
    const lb_page_job_t *page = &job->page;
    lb_merchant_t merchant;
    size_t found;
    int ret = lb_auth_merchant(super, db, page->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0)
        return ret;
    lb_offer_filter_t filter = {merchant.kind == LB_MERCHANT_COOP ? LB_OFFER_COOP : LB_OFFER_HOST, merchant.id, job->status,
                                job->sku_id};
    lb_offer_t *offers = lb_malloc((size_t)page->limit * sizeof(*offers));
    if ((ret = lb_store_offers_list(db, &filter, page->after, page->limit, offers, &found)) == 0) {
        int64_t now = lb_now();
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_array(w, "offers");
        for (size_t i = 0; i != found; ++i)
            lb_offer_write(w, &offers[i], now);
        lb_writer_end(w);
        lb_writer_pack(w, "next:N", found != 0 && found == (size_t)page->limit ? offers[found - 1].id : 0);
        lb_writer_end(w);
    }
    free(offers);
    return ret;
}

void lb_handle_offers_list(lb_call_t *call)
{
    lb_input_error_t err = {0};
    offers_list_job_t *job = (offers_list_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    job->status = -1;
    if (lb_call_query_enum(call, "status", lb_offer_statuses, &job->status, &err) != 0 ||
        lb_call_query_int(call, "sku_id", 1, INT64_MAX, &job->sku_id, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    lb_call_job_submit(&job->page.super, offers_list_work);
}

/* ---- GET /v1/offers/{id} ----------------------------------------------------------------------------------------- */

static int offer_get_work(lb_call_job_t *super, lb_db_t *db)
{
    offer_job_t *job = (offer_job_t *)super;
    lb_merchant_t merchant;
    int ret = lb_auth_merchant(super, db, job->base.token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0 || ((ret = lb_store_offer_get(db, super->call->id, &job->offer)) != 0 && ret != LB_ENOTFOUND))
        return ret;
    /* Anyone but its two parties is told what a missing offer gets. */
    if (ret == LB_ENOTFOUND || (merchant.id != job->offer.coop_id && merchant.id != job->offer.host_id))
        return offer_not_found(super);
    return answer_offer(super, 200, &job->offer);
}

void lb_handle_offer_get(lb_call_t *call)
{
    offer_job_t *job = offer_job_new(call);
    if (job != NULL)
        lb_call_job_submit(&job->base.super, offer_get_work);
}

/* ---- POST /v1/offers/{id}/accept, /decline, /end ----------------------------------------------------------------- */

static int offer_move_work(lb_call_job_t *super, lb_db_t *db)
{
    offer_job_t *job = (offer_job_t *)super;
    const lb_offer_t *offer = &job->offer;
    const char *action = lb_offer_actions[job->action];
    lb_merchant_t merchant;
    int64_t id = super->call->id, now = lb_now();
    int ret = lb_auth_merchant(super, db, job->base.token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0)
        return ret;
    switch ((ret = lb_store_offer_move(db, id, merchant.id, job->action, now, &job->offer))) {
    case 0:
        return answer_offer(super, 200, offer);
    case LB_ENOTFOUND:
        return offer_not_found(super);
    case LB_EFORBIDDEN:
        return lb_call_job_fail(super, 403, "forbidden", "only the host may %s offer %lld", action, (long long)id);
    case LB_ECONFLICT:
        if (offer->status == LB_OFFER_PENDING)
            return lb_call_job_fail(super, 409, "conflict", "offer %lld ended at %lld: too late to accept it", (long long)id,
                                    (long long)offer->ends_at);
        return lb_call_job_fail(super, 409, "conflict", "offer %lld is %s: it cannot be %s", (long long)id,
                                lb_offer_statuses[offer->status],
                                job->action == LB_OFFER_ACCEPT    ? "accepted"
                                : job->action == LB_OFFER_DECLINE ? "declined"
                                                                  : "ended");
    default:
        return ret;
    }
}

static void offer_move(lb_call_t *call, lb_offer_action_t action)
{
    offer_job_t *job = offer_job_new(call);
    if (job == NULL)
        return;
    job->action = action;
    lb_call_job_submit(&job->base.super, offer_move_work);
}

void lb_handle_offer_accept(lb_call_t *call)
{
    offer_move(call, LB_OFFER_ACCEPT);
}

void lb_handle_offer_decline(lb_call_t *call)
{
    offer_move(call, LB_OFFER_DECLINE);
}

void lb_handle_offer_end(lb_call_t *call)
{
    offer_move(call, LB_OFFER_END);
}
