/*
 * Refunds (docs/api.md "Refunds"): POST /v1/orders/{id}/refund (the order's buyer, through its SKU's action lane like a
 * cancellation), GET /v1/merchant/refunds and POST /v1/refunds/{id}/approve|reject|retry (the SKU's co-op), and the
 * provider's signed POST /v1/refunds/notify. The rules are in server/order/refund.c.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/http/auth.h"
#include "livebuy/jobs/refund_push.h"
#include "livebuy/handlers.h"
#include "livebuy/order/lanes.h"
#include "livebuy/order/refund.h"
#include "livebuy/order/sku_actions.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/refunds.h"

void lb_refund_write(lb_writer_t *w, const lb_refund_t *refund)
{
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,order_id:I,sku_id:I,buyer_id:I,amount_cents:I,cause:s,reason:s,status:s,attempts:I", refund->id,
                   refund->order_id, refund->sku_id, refund->buyer_id, refund->amount_cents, refund->cause, refund->reason,
                   refund->status, refund->attempts);
    if (refund->last_error[0] != '\0')
        lb_writer_string(w, "last_error", refund->last_error);
    else
        lb_writer_null(w, "last_error");
    if (refund->provider_refund_id[0] != '\0')
        lb_writer_string(w, "provider_refund_id", refund->provider_refund_id);
    else
        lb_writer_null(w, "provider_refund_id");
    lb_writer_pack(w, "created_at:I,updated_at:I", refund->created_at, refund->updated_at);
    lb_writer_end(w);
}

/*
 * The optional body of a route that may come without one ({"reason"}: 0-200 characters). 0 with *reason set (or left
 * alone when absent), or LB_EINPUT having answered.
 */
static int read_reason(lb_call_t *call, const char **reason)
{
    lb_input_error_t err = {0};
    if (call->req->entity.len == 0)
        return 0;
    if (lb_call_read_body(call) != 0)
        return LB_EINPUT;
    if (lb_body_refund_reason(call->body, reason, &err) != 0) {
        lb_reply_input_error(call, &err);
        return LB_EINPUT;
    }
    return 0;
}

/* ---- POST /v1/orders/{id}/refund ------------------------------------------------------------------------------------ */

typedef struct st_refund_request_t {
    lb_sku_action_t action;
    lb_call_t *call;
    int64_t buyer_id;
    const char *reason; /* a string of the call's body, or "" */
    lb_refund_request_t request;
    int decided;                /* request holds what lb_refund_request decided */
    lb_order_details_t details; /* read in the transaction that made the refund, for the answer */
} refund_request_t;

static void request_reset(lb_sku_action_t *action)
{
    ((refund_request_t *)action)->decided = 0;
}

static int request_apply(lb_db_t *db, lb_sku_action_t *action, lb_sku_view_t *sku, int64_t now)
{
    refund_request_t *rr = (refund_request_t *)action;
    if (action->order.buyer_id != rr->buyer_id)
        return 0; /* answered 404 by request_done */
    int ret = lb_refund_request(db, &action->order, sku->sku.merchant_id, rr->reason, now, &rr->request);
    if (ret < 0)
        return ret;
    rr->decided = 1;
    if (ret == 1) {
        int read = lb_store_order_details(db, &action->order, &rr->details);
        return read != 0 ? read : 1;
    }
    return 0;
}

static void request_answer(refund_request_t *rr)
{
    const lb_order_t *order = &rr->action.order;
    const lb_refund_t *refund = &rr->request.refund;
    switch (rr->request.outcome) {
    case LB_REFUND_REQUEST_NOT_PAID:
        lb_reply_error(rr->call, 409, "conflict", "order %lld is %s: only a paid order's money can go back", (long long)order->id,
                       order->status);
        return;
    case LB_REFUND_REQUEST_HAS_REFUND:
        lb_reply_error(rr->call, 409, "conflict", "order %lld has refund %lld already (%s)", (long long)order->id,
                       (long long)refund->id, refund->status);
        return;
    case LB_REFUND_REQUEST_AT_ONCE:
        lb_lanes_stock_changed(order->sku_id); /* its units are back: this thread's order lane may sell again */
        break;
    case LB_REFUND_REQUEST_REQUESTED:
        break;
    }
    lb_refund_count_created(refund->cause, refund->status);
    if (strcmp(refund->status, "pending") == 0)
        lb_refund_push_wake();
    lb_writer_t w;
    lb_writer_start(rr->call, &w);
    lb_order_write(&w, order, &rr->details);
    lb_writer_end(&w);
    lb_reply_written(rr->call, 200, &w);
}

static void request_done(lb_sku_action_t *action, int status)
{
    refund_request_t *rr = (refund_request_t *)action;
    if (status != 0)
        lb_reply_failure(rr->call, status);
    else if (!action->found || action->order.buyer_id != rr->buyer_id || !rr->decided)
        lb_reply_error(rr->call, 404, "not_found", "no order %lld", (long long)action->order_id);
    else
        request_answer(rr);
    lb_call_release(rr->call);
    free(rr);
}

static const lb_sku_action_type_t request_type = {request_reset, request_apply, request_done};

void lb_handle_order_refund(lb_call_t *call)
{
    int64_t buyer_id;
    const char *reason = "";
    if (lb_auth_buyer(call, &buyer_id) != 0 || read_reason(call, &reason) != 0)
        return;
    refund_request_t *rr = lb_calloc(1, sizeof(*rr));
    rr->action.type = &request_type;
    rr->action.order_id = call->id;
    rr->call = call;
    lb_call_retain(call); /* which keeps reason, a string of its body */
    rr->buyer_id = buyer_id;
    rr->reason = reason;
    lb_sku_action_submit(call->loop, &rr->action);
}

/* ---- GET /v1/merchant/refunds --------------------------------------------------------------------------------------- */

typedef struct st_refunds_list_job_t {
    lb_page_job_t page;
    const char *status; /* one of lb_refund_statuses, or NULL for all */
} refunds_list_job_t;

static int refunds_list_work(lb_call_job_t *super, lb_db_t *db)
{
    refunds_list_job_t *job = (refunds_list_job_t *)super;
    lb_page_job_t *page = &job->page;
    lb_merchant_t coop;
    size_t found;
    int ret = lb_auth_merchant(super, db, page->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &coop);
    if (ret != 0)
        return ret;
    lb_refund_t *refunds = lb_malloc((size_t)page->limit * sizeof(*refunds));
    if ((ret = lb_store_coop_refunds(db, coop.id, job->status, page->after, page->limit, refunds, &found)) == 0) {
        lb_writer_t *w = lb_page_answer_start(page, "refunds");
        for (size_t i = 0; i != found; ++i)
            lb_refund_write(w, &refunds[i]);
        lb_page_answer_end(w, page, found, found != 0 ? refunds[found - 1].id : 0);
    }
    free(refunds);
    return ret;
}

void lb_handle_merchant_refunds(lb_call_t *call)
{
    lb_input_error_t err = {0};
    refunds_list_job_t *job = (refunds_list_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    int status = -1;
    if (lb_call_query_enum(call, "status", lb_refund_statuses, &status, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    job->status = status >= 0 ? lb_refund_statuses[status] : NULL;
    lb_call_job_submit(&job->page.super, refunds_list_work);
}

/* ---- POST /v1/refunds/{id}/approve, /reject, /retry ----------------------------------------------------------------- */

typedef struct st_decision_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    lb_refund_decision_t decision;
    const char *reason; /* reject's, a string of the call's body; else NULL */
} decision_job_t;

static const char *const decision_names[] = {"approved", "rejected", "sent again"};
static const char *const decision_needs[] = {"requested", "requested", "failed or dead"};

static int decision_work(lb_call_job_t *super, lb_db_t *db)
{
    decision_job_t *job = (decision_job_t *)super;
    lb_refund_decision_result_t result;
    lb_merchant_t coop;
    int64_t id = super->call->id;
    /* a host decides the refunds of the SKUs it made itself (a refund's coop_id is the SKU's merchant) */
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &coop);
    if (ret != 0 || (ret = lb_refund_decide_by(db, id, coop.id, job->decision, job->reason, lb_now(), &result)) < 0 ||
        (ret == 1 && (ret = lb_db_commit(db)) != 0))
        return ret;
    /* Nothing decided: the transaction still open is rolled back after the job (livebuy/db.h). */
    switch (result.outcome) {
    case LB_REFUND_DECISION_NOT_FOUND:
        return lb_call_job_fail(super, 404, "not_found", "no refund %lld", (long long)id);
    case LB_REFUND_DECISION_CONFLICT:
        return lb_call_job_fail(super, 409, "conflict", "refund %lld is %s: only a %s refund can be %s", (long long)id,
                                result.refund.status, decision_needs[job->decision], decision_names[job->decision]);
    case LB_REFUND_DECIDED:
        break;
    }
    lb_refund_write(lb_call_job_answer(super, 200), &result.refund);
    return 0;
}

static void decision_done(lb_call_job_t *super)
{
    lb_refund_decision_t decision = ((decision_job_t *)super)->decision;
    lb_refund_count_decided(decision);
    if (decision != LB_REFUND_REJECT) /* approved or sent again: pending, to be pushed now */
        lb_refund_push_wake();
}

static void decide(lb_call_t *call, lb_refund_decision_t decision)
{
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    const char *reason = NULL;
    if (lb_auth_bearer_hash(call, hash) != 0 || (decision == LB_REFUND_REJECT && read_reason(call, &reason) != 0))
        return;
    decision_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    job->decision = decision;
    job->reason = reason;
    job->super.on_done = decision_done;
    lb_call_job_submit(&job->super, decision_work);
}

void lb_handle_refund_approve(lb_call_t *call)
{
    decide(call, LB_REFUND_APPROVE);
}

void lb_handle_refund_reject(lb_call_t *call)
{
    decide(call, LB_REFUND_REJECT);
}

void lb_handle_refund_retry(lb_call_t *call)
{
    decide(call, LB_REFUND_RETRY);
}

/* ---- POST /v1/refunds/notify ---------------------------------------------------------------------------------------- */

static const char *const notify_statuses[] = {"failed", "refunded", NULL}; /* index = lb_refund_notice_t.refunded */

typedef struct st_refund_notify_job_t {
    lb_call_job_t super;
    lb_refund_notice_t notice; /* its strings the call's body's */
    lb_refund_confirm_result_t result;
} refund_notify_job_t;

static int notify_work(lb_call_job_t *super, lb_db_t *db)
{
    refund_notify_job_t *job = (refund_notify_job_t *)super;
    const lb_refund_notice_t *notice = &job->notice;
    lb_refund_confirm_result_t *result = &job->result;
    int ret;
    if ((ret = lb_refund_confirm(db, notice, lb_now(), result)) < 0 || (ret == 1 && (ret = lb_db_commit(db)) != 0))
        return ret;
    switch (result->outcome) {
    case LB_REFUND_NOT_FOUND:
        return lb_call_job_fail(super, 404, "not_found", "no refund %lld of order %lld", (long long)notice->refund_id,
                                (long long)notice->order_id);
    case LB_REFUND_WRONG_AMOUNT:
        return lb_call_job_fail(super, 422, "invalid", "amount_cents is %lld but refund %lld gives back another amount",
                                (long long)notice->amount_cents, (long long)notice->refund_id);
    case LB_REFUND_CONFLICT:
        return lb_call_job_fail(super, 409, "conflict", "refund %lld is %s: it cannot be %s", (long long)notice->refund_id,
                                result->status, notify_statuses[notice->refunded]);
    case LB_REFUND_CONFIRMED:
    case LB_REFUND_REPLAYED:
        break;
    }
    lb_writer_t *w = lb_call_job_answer(super, 200);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "refund_id:I,status:s", notice->refund_id, result->status);
    lb_writer_end(w);
    return 0;
}

static void notify_done(lb_call_job_t *super)
{
    lb_refund_count_confirmed(&((refund_notify_job_t *)super)->result);
}

/* The notification's fields: 0, or LB_EINPUT having answered 422. */
static int read_notice(lb_call_t *call, lb_refund_notice_t *notice)
{
    lb_input_error_t err = {0};
    if (lb_body_refund_notice(call->body, notice, &err) != 0) {
        lb_reply_input_error(call, &err);
        return LB_EINPUT;
    }
    return 0;
}

void lb_handle_refund_notify(lb_call_t *call)
{
    lb_refund_notice_t notice = {0};
    if (call->config->payment_secret == NULL) {
        lb_reply_error(call, 503, "unavailable", "payments are not configured");
        return;
    }
    /* The signature covers the raw body: checked before the body is decoded. */
    if (lb_auth_signed(call, call->config->payment_secret, NULL) != 0 || lb_call_read_body(call) != 0 || read_notice(call, &notice) != 0)
        return;
    refund_notify_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->notice = notice;
    job->super.on_done = notify_done;
    lb_call_job_submit(&job->super, notify_work);
}
