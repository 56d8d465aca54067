/*
 * POST /v1/payments/notify (the payment provider): check the signature over the raw body, then decode and validate it,
 * and apply the payment (server/payment.c) in a batch of its SKU's payments.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/idmap.h"
#include "livebuy/metrics.h"
#include "livebuy/payment.h"
#include "livebuy/token.h"

/*
 * Notifies go through per-SKU payment lanes, like orders: every notify locks its SKU's row, so a hot SKU's payments are
 * applied in batches (one transaction, one lock, one COMMIT for many) rather than each holding a database worker while
 * it waits for the row, which starved every other request of workers in a busy sale.
 */
#define MAX_PAYMENTS_PER_BATCH 200

typedef struct st_notify_t {
    lb_call_t *call;
    lb_payment_t payment;
    struct st_notify_t *next;
} notify_t;

typedef struct st_pay_lane_t {
    int64_t sku_id;
    notify_t *head, **tail;
    int in_flight;
} pay_lane_t;

static _Thread_local lb_idmap_t pay_lanes;

typedef struct st_resolve_job_t {
    lb_db_job_t job;
    notify_t *notify;
    int found;
} resolve_job_t;

typedef struct st_pay_batch_t {
    lb_db_job_t job;
    pay_lane_t *lane;
    notify_t *notifies;
    size_t count;
} pay_batch_t;

static json_t *payment_answer(const lb_payment_t *payment)
{
    json_t *answer = json_pack("{s:I,s:s}", "order_id", (json_int_t)payment->order_id, "status", payment->order.status);
    if (payment->refund_required)
        json_object_set_new(answer, "payment", json_string("refund_required"));
    return answer;
}

static void reject(lb_call_t *call, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void reject(lb_call_t *call, int status, const char *fmt, ...)
{
    char message[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
    lb_reply_error(call, status, status == 404 ? "not_found" : "invalid", "%s", message);
}

/* On the loop thread, once per notify whatever the retries: count the outcome and answer. */
static void answer(notify_t *n)
{
    const lb_payment_t *payment = &n->payment;
    switch (payment->outcome) {
    case LB_PAYMENT_NOT_FOUND:
        reject(n->call, 404, "no order %lld", (long long)payment->order_id);
        return;
    case LB_PAYMENT_WRONG_AMOUNT:
        reject(n->call, 422, "amount_cents is %lld but order %lld costs %lld", (long long)payment->amount_cents,
               (long long)payment->order_id, (long long)payment->order.amount_cents);
        return;
    case LB_PAYMENT_TXN_REUSED:
        reject(n->call, 422, "provider_txn_id was already used for another order");
        return;
    case LB_PAYMENT_APPLIED:
        lb_metrics_payment(LB_METRICS_PAYMENT_APPLIED);
        break;
    case LB_PAYMENT_REPLAYED:
        lb_metrics_payment(LB_METRICS_PAYMENT_REPLAYED);
        break;
    default:
        lb_metrics_payment(LB_METRICS_PAYMENT_REFUND_REQUIRED);
        break;
    }
    lb_reply(n->call, 200, payment_answer(payment));
}

static void finish(notify_t *n)
{
    lb_call_release(n->call);
    free(n);
}

static int batch_work(lb_db_job_t *job, lb_db_t *db)
{
    pay_batch_t *batch = H2O_STRUCT_FROM_MEMBER(pay_batch_t, job, job);
    lb_payment_t **payments = lb_malloc(batch->count * sizeof(*payments));
    size_t i = 0;
    for (notify_t *n = batch->notifies; n != NULL; n = n->next)
        payments[i++] = &n->payment;
    int ret = lb_payment_apply_batch(db, batch->lane->sku_id, payments, batch->count);
    free(payments);
    return ret;
}

static void send_batch(uv_loop_t *loop, pay_lane_t *lane);

static void batch_done(lb_db_job_t *job, int status)
{
    pay_batch_t *batch = H2O_STRUCT_FROM_MEMBER(pay_batch_t, job, job);
    pay_lane_t *lane = batch->lane;
    uv_loop_t *loop = batch->job.uv.loop;
    for (notify_t *n = batch->notifies, *next; n != NULL; n = next) {
        next = n->next;
        if (status != 0) {
            lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
            lb_reply_failure(n->call, status);
        } else {
            answer(n);
        }
        finish(n);
    }
    free(batch);
    lane->in_flight = 0;
    if (lane->head != NULL) {
        send_batch(loop, lane);
    } else {
        lb_idmap_remove(&pay_lanes, lane->sku_id);
        free(lane);
    }
}

/* Sends what the lane has queued, up to a batch's worth, as one transaction. */
static void send_batch(uv_loop_t *loop, pay_lane_t *lane)
{
    pay_batch_t *batch = lb_calloc(1, sizeof(*batch));
    notify_t **tail = &batch->notifies;
    batch->lane = lane;
    while (lane->head != NULL && batch->count != MAX_PAYMENTS_PER_BATCH) {
        notify_t *n = lane->head;
        if ((lane->head = n->next) == NULL)
            lane->tail = &lane->head;
        n->next = NULL;
        *tail = n;
        tail = &n->next;
        ++batch->count;
    }
    lane->in_flight = 1;
    lb_db_submit(loop, &batch->job, batch_work, batch_done);
}

static void enqueue(uv_loop_t *loop, notify_t *n, int64_t sku_id)
{
    pay_lane_t *lane = lb_idmap_get(&pay_lanes, sku_id);
    if (lane == NULL) {
        lane = lb_calloc(1, sizeof(*lane));
        lane->sku_id = sku_id;
        lane->tail = &lane->head;
        lb_idmap_set(&pay_lanes, sku_id, lane);
    }
    *lane->tail = n;
    lane->tail = &n->next;
    if (!lane->in_flight)
        send_batch(loop, lane);
}

/* Which SKU the order draws on (it never changes): read without a lock. */
static int resolve_work(lb_db_job_t *job, lb_db_t *db)
{
    resolve_job_t *resolve = H2O_STRUCT_FROM_MEMBER(resolve_job_t, job, job);
    int ret = lb_store_order_get(db, resolve->notify->payment.order_id, &resolve->notify->payment.order);
    resolve->found = ret > 0;
    return ret < 0 ? ret : 0;
}

static void resolve_done(lb_db_job_t *job, int status)
{
    resolve_job_t *resolve = H2O_STRUCT_FROM_MEMBER(resolve_job_t, job, job);
    notify_t *n = resolve->notify;
    uv_loop_t *loop = resolve->job.uv.loop;
    int found = resolve->found;
    free(resolve);
    if (status != 0 || !found) {
        if (status != 0) {
            lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
            lb_reply_failure(n->call, status);
        } else {
            n->payment.outcome = LB_PAYMENT_NOT_FOUND;
            answer(n);
        }
        finish(n);
        return;
    }
    enqueue(loop, n, n->payment.order.sku_id);
}

static int read_notify(lb_call_t *call, lb_payment_t *payment)
{
    lb_input_error_t err = {0};
    if (lb_field_int(call->body, "order_id", 1, 1, INT64_MAX, &payment->order_id, &err) != 0 ||
        lb_field_string(call->body, "provider_txn_id", 1, 1, LB_PROVIDER_TXN_ID_MAX, &payment->provider_txn_id, &err) != 0 ||
        lb_field_int(call->body, "amount_cents", 1, 0, INT64_MAX, &payment->amount_cents, &err) != 0) {
        lb_reply_input_error(call, &err);
        return -1;
    }
    return 0;
}

void lb_handle_payment_notify(lb_call_t *call)
{
    lb_payment_t payment = {0};
    if (call->config->payment_secret == NULL) {
        lb_reply_error(call, 503, "unavailable", "payments are not configured");
        return;
    }
    /* The signature covers the raw body: checked before the body is decoded. */
    if (lb_auth_signed(call, call->config->payment_secret) != 0 || lb_call_decode_body(call) != 0 ||
        read_notify(call, &payment) != 0) {
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        return;
    }
    /* provider_txn_id points into call->body, which the notify's reference on the call keeps. */
    notify_t *n = lb_calloc(1, sizeof(*n));
    n->call = call;
    lb_call_retain(call);
    n->payment = payment;
    resolve_job_t *resolve = lb_calloc(1, sizeof(*resolve));
    resolve->notify = n;
    lb_db_submit(call->loop, &resolve->job, resolve_work, resolve_done);
}
