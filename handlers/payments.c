/*
 * POST /v1/payments/notify (the payment provider): check the signature over the raw body, then decode and validate it,
 * and apply the payment in one transaction (server/payment.c).
 */
#include <stdio.h>
#include <string.h>
#include "livebuy/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/metrics.h"
#include "livebuy/payment.h"
#include "livebuy/token.h"

typedef struct st_payment_job_t {
    lb_call_job_t super;
    lb_payment_t payment;
} payment_job_t;

static json_t *payment_answer(const lb_payment_t *payment)
{
    json_t *answer = json_pack("{s:I,s:s}", "order_id", (json_int_t)payment->order_id, "status", payment->order.status);
    if (payment->refund_required)
        json_object_set_new(answer, "payment", json_string("refund_required"));
    return answer;
}

static int rejected(lb_call_job_t *job, int status, const char *message)
{
    lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
    return lb_call_job_fail(job, status, status == 404 ? "not_found" : "invalid", "%s", message);
}

static int notify_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_payment_t *payment = &((payment_job_t *)super)->payment;
    char message[256];
    int ret = lb_payment_apply(db, payment);
    if (ret != 0)
        return ret;
    switch (payment->outcome) {
    case LB_PAYMENT_NOT_FOUND:
        snprintf(message, sizeof(message), "no order %lld", (long long)payment->order_id);
        return rejected(super, 404, message);
    case LB_PAYMENT_WRONG_AMOUNT:
        snprintf(message, sizeof(message), "amount_cents is %lld but order %lld costs %lld", (long long)payment->amount_cents,
                 (long long)payment->order_id, (long long)payment->order.amount_cents);
        return rejected(super, 422, message);
    case LB_PAYMENT_TXN_REUSED:
        return rejected(super, 422, "provider_txn_id was already used for another order");
    default:
        return lb_call_job_answer(super, 200, payment_answer(payment));
    }
}

/* On the loop thread, once per notify whatever the retries: count the outcome. */
static void notify_done(lb_call_job_t *super)
{
    switch (((payment_job_t *)super)->payment.outcome) {
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
    /* provider_txn_id points into call->body, which the job's reference on the call keeps. */
    payment_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->payment = payment;
    job->super.on_done = notify_done;
    lb_call_job_submit(&job->super, notify_work);
}
