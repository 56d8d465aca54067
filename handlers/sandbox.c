/*
 * The payment sandbox (--payment-sandbox; the routes are 404 without it): POST /sandbox/pay/{order_id} gives the
 * cashier page (web/pay.html) the generic payment notify a provider would send for the order, signed with
 * --payment-secret, which the page then posts to /v1/payments/notify itself, so that the payment takes exactly the
 * provider's path and passes every check; POST /sandbox/refunds is a refund receiver that verifies the refund push and
 * says the money went back. For demos and tests only: a buyer pays without paying.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "livebuy/common.h"
#include "livebuy/base/token.h"
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/orders.h"

#define OUTCOME_SUCCESS 0

typedef struct st_sandbox_pay_job_t {
    lb_call_job_t super;
    int64_t buyer_id;
    int outcome;
} sandbox_pay_job_t;

/*
 * Answers the signed notify for order: {"outcome", "url", "headers", "body"}, body being the exact bytes to post (the
 * signature covers them). The transaction id is new each time, as each attempt to pay is a payment of its own.
 */
static void write_signed_notify(lb_writer_t *answer, const char *secret, const lb_order_t *order)
{
    char txn[64], random[17], timestamp[24], signature[65], header[72];
    lb_writer_t notify;

    lb_token_random_hex(random, 8);
    snprintf(txn, sizeof(txn), "sandbox-%lld-%s", (long long)order->id, random);
    lb_writer_init(&notify, LB_FORMAT_JSON);
    lb_writer_map(&notify, NULL);
    lb_writer_pack(&notify, "order_id:I,provider_txn_id:s,amount_cents:I", order->id, txn, order->amount_cents);
    lb_writer_end(&notify);
    char *body = lb_malloc(notify.out.len + 1);
    memcpy(body, notify.out.bytes, notify.out.len);
    body[notify.out.len] = '\0';
    free(notify.out.bytes);

    int ts_len = snprintf(timestamp, sizeof(timestamp), "%lld", (long long)time(NULL));
    lb_token_signature_hex(secret, timestamp, (size_t)ts_len, body, strlen(body), signature);
    snprintf(header, sizeof(header), "sha256=%s", signature);
    lb_writer_map(answer, NULL);
    lb_writer_pack(answer, "outcome:s,url:s,headers:{Content-Type:s,X-Livebuy-Timestamp:s,X-Livebuy-Signature:s},body:s", "success",
                   "/v1/payments/notify", "application/json", timestamp, header, body);
    lb_writer_end(answer);
    free(body);
}

static int sandbox_pay_work(lb_call_job_t *super, lb_db_t *db)
{
    sandbox_pay_job_t *job = (sandbox_pay_job_t *)super;
    lb_order_t order;
    int ret = lb_store_order_get(db, super->call->id, &order);
    if (ret == LB_ENOTFOUND || (ret == 0 && order.buyer_id != job->buyer_id))
        return lb_call_job_fail(super, 404, "not_found", "no order %lld", (long long)super->call->id);
    if (ret != 0)
        return ret;
    lb_writer_t *w = lb_call_job_answer(super, 200);
    if (job->outcome == OUTCOME_SUCCESS) {
        write_signed_notify(w, super->call->config->payment_secret, &order);
        return 0;
    }
    /* A failed payment sends the provider's notify nowhere: the order is as it was. */
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "outcome:s,order_id:I,status:s", "failure", order.id, order.status);
    lb_writer_end(w);
    return 0;
}

void lb_handle_sandbox_pay(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int64_t buyer_id;
    int outcome;
    if (lb_auth_buyer(call, &buyer_id) != 0)
        return;
    if (lb_body_sandbox_pay(call->body, &outcome, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    sandbox_pay_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->buyer_id = buyer_id;
    job->outcome = outcome;
    lb_call_job_submit(&job->super, sandbox_pay_work);
}

void lb_handle_sandbox_refund(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int64_t refund_id;
    char provider_refund_id[48];
    /* The push is signed like a payment notify (docs/payments.md, "The refund push"): checked before the body is read. */
    if (lb_auth_signed(call, call->config->payment_secret, NULL) != 0 || lb_call_read_body(call) != 0)
        return;
    if (lb_body_sandbox_refund(call->body, &refund_id, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    snprintf(provider_refund_id, sizeof(provider_refund_id), "sandbox-refund-%lld", (long long)refund_id);
    lb_writer_t w;
    lb_writer_start(call, &w);
    lb_writer_map(&w, NULL);
    lb_writer_pack(&w, "status:s,provider_refund_id:s", "refunded", provider_refund_id);
    lb_writer_end(&w);
    lb_reply_written(call, 200, &w);
}
