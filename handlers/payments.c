/*
 * POST /v1/payments/notify (the payment provider): check the signature over the raw body, then decode and validate it,
 * and apply the payment (server/order/payment.c) through its SKU's action lane (server/order/sku_actions.c), in a batch with the
 * SKU's other notifies and cancellations. A provider's own notify (handlers/wechatpay.c) applies its payments the same way,
 * through lb_payment_submit.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/http/auth.h"
#include "livebuy/jobs/refund_push.h"
#include "livebuy/handlers.h"
#include "livebuy/base/metrics.h"
#include "livebuy/order/payment.h"
#include "livebuy/order/refund.h"
#include "livebuy/order/sku_actions.h"
#include "livebuy/base/token.h"

typedef struct st_notify_t {
    lb_sku_action_t action;
    lb_call_t *call;
    lb_payment_answer_cb answer;
    lb_payment_t payment;
    char provider_txn_id[LB_PROVIDER_TXN_ID_MAX * 4 + 1]; /* UTF-8: up to 4 bytes a character */
} notify_t;

/* Counts a decided payment in the metrics. */
static void count(const lb_payment_t *payment)
{
    switch (payment->outcome) {
    case LB_PAYMENT_NOT_FOUND:
    case LB_PAYMENT_WRONG_AMOUNT:
    case LB_PAYMENT_TXN_REUSED:
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        break;
    case LB_PAYMENT_APPLIED:
        lb_metrics_payment(LB_METRICS_PAYMENT_APPLIED);
        break;
    case LB_PAYMENT_REPLAYED:
        lb_metrics_payment(LB_METRICS_PAYMENT_REPLAYED);
        break;
    default:
        lb_metrics_payment(LB_METRICS_PAYMENT_REFUND_REQUIRED);
        if (payment->refund_id != 0) {
            lb_refund_count_created(payment->refund_cause, "pending");
            lb_refund_push_wake();
        }
        break;
    }
}

static void notify_reset(lb_sku_action_t *action)
{
    ((notify_t *)action)->payment.outcome = LB_PAYMENT_NOT_FOUND; /* what an order that is not found leaves */
}

static int notify_apply(lb_db_t *db, lb_sku_action_t *action, lb_sku_view_t *sku, int64_t now)
{
    return lb_payment_settle(db, &((notify_t *)action)->payment, sku, now);
}

/* On the loop thread, once per notify whatever the retries. */
static void notify_done(lb_sku_action_t *action, int status)
{
    notify_t *n = (notify_t *)action;
    if (status == 0)
        count(&n->payment); /* a failure is not counted: nothing was decided, and the provider retries */
    n->answer(n->call, status, &n->payment);
    lb_call_release(n->call);
    free(n);
}

static const lb_sku_action_type_t notify_type = {notify_reset, notify_apply, notify_done};

void lb_payment_submit(lb_call_t *call, const lb_payment_t *notice, lb_payment_answer_cb answer)
{
    notify_t *n = lb_calloc(1, sizeof(*n));
    size_t txn_len = strlen(notice->provider_txn_id);
    assert(txn_len < sizeof(n->provider_txn_id));
    memcpy(n->provider_txn_id, notice->provider_txn_id, txn_len + 1);
    n->action.type = &notify_type;
    n->action.order_id = notice->order_id;
    n->action.provider_txn_id = n->provider_txn_id;
    n->call = call;
    lb_call_retain(call);
    n->answer = answer;
    n->payment.order_id = notice->order_id;
    n->payment.amount_cents = notice->amount_cents;
    n->payment.provider_txn_id = n->provider_txn_id;
    n->payment.order = &n->action.order;
    lb_sku_action_submit(call->loop, &n->action);
}

/* The generic notify's answer: the order's status, or the API's error body. */
static void answer(lb_call_t *call, int status, const lb_payment_t *payment)
{
    if (status != 0) {
        lb_reply_failure(call, status);
        return;
    }
    switch (payment->outcome) {
    case LB_PAYMENT_NOT_FOUND:
        lb_reply_error(call, 404, "not_found", "no order %lld", (long long)payment->order_id);
        return;
    case LB_PAYMENT_WRONG_AMOUNT:
        lb_reply_error(call, 422, "invalid", "amount_cents is %lld but order %lld costs %lld", (long long)payment->amount_cents,
                       (long long)payment->order_id, (long long)payment->order->amount_cents);
        return;
    case LB_PAYMENT_TXN_REUSED:
        lb_reply_error(call, 422, "invalid", "provider_txn_id was already used for another order");
        return;
    default:
        break;
    }
    lb_writer_t w;
    lb_writer_start(call, &w);
    lb_writer_map(&w, NULL);
    lb_writer_pack(&w, "order_id:I,status:s", payment->order_id, payment->order->status);
    if (payment->refund_required)
        lb_writer_string(&w, "payment", "refund_required");
    lb_writer_end(&w);
    lb_reply_written(call, 200, &w);
}

/* The notification's fields: 0, or LB_EINPUT having answered 422. */
static int read_notify(lb_call_t *call, lb_payment_t *payment)
{
    lb_input_error_t err = {0};
    lb_payment_body_t body;
    if (lb_body_payment(call->body, &body, &err) != 0) {
        lb_reply_input_error(call, &err);
        return LB_EINPUT;
    }
    payment->order_id = body.order_id;
    payment->provider_txn_id = body.provider_txn_id;
    payment->amount_cents = body.amount_cents;
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
    if (lb_auth_signed(call, call->config->payment_secret, NULL) != 0 || lb_call_read_body(call) != 0 ||
        read_notify(call, &payment) != 0) {
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        return;
    }
    lb_payment_submit(call, &payment, answer);
}
