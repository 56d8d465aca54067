/*
 * POST /v1/payments/wechatpay/notify (--payment-provider wechatpay): WeChat Pay API v3 notifications. The signature
 * headers are checked over the raw body and the resource decrypted (server/base/wechatpay.c); then a payment goes
 * exactly the way of the generic notify (lb_payment_submit, handlers/payments.c), and a refund's outcome to
 * lb_refund_confirm (server/order/refund.c) in a transaction of its own. Answers as WeChat Pay expects: 204
 * without a body when the notification is taken, else 4xx/5xx with {"code": "FAIL", "message"}, and WeChat Pay sends
 * it again later (docs/payments.md "WeChat Pay API v3").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/handlers.h"
#include "livebuy/base/metrics.h"
#include "livebuy/base/wechatpay.h"
#include "livebuy/order/payment.h"
#include "livebuy/order/refund.h"

#define FAIL_MESSAGE_MAX 64 /* characters: WeChat Pay's message is string[1,64] */

/* Answers {"code": "FAIL", "message"} with status; the message is cut to FAIL_MESSAGE_MAX characters. */
static void reply_fail(lb_call_t *call, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_fail(lb_call_t *call, int status, const char *fmt, ...)
{
    char message[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    lb_utf8_mend(message);
    size_t at = 0;
    for (unsigned chars = 0; message[at] != '\0' && chars != FAIL_MESSAGE_MAX; ++chars)
        for (++at; (message[at] & 0xC0) == 0x80; ++at) /* past the character's continuation bytes */
            ;
    message[at] = '\0';
    lb_writer_t w;
    lb_writer_init(&w, LB_FORMAT_JSON);
    lb_writer_map(&w, NULL);
    lb_writer_pack(&w, "code:s,message:s", "FAIL", message);
    lb_writer_end(&w);
    lb_reply_written(call, status, &w);
}

/* An LB_E* code (nothing was decided) with the status the API gives it: WeChat Pay sends the notification again. */
static void reply_failure(lb_call_t *call, int lb_error)
{
    const char *code, *message;
    int status = lb_call_failure_status(lb_error, &code, &message);
    reply_fail(call, status, "%s", message);
}

static lb_wechatpay_text_t header(lb_call_t *call, const char *name)
{
    h2o_iovec_t value = lb_call_header_named(call, name);
    return (lb_wechatpay_text_t){value.base, value.len};
}

/* The signature over the raw body; 0, or LB_EAUTH having answered 401. */
static int check_signature(lb_call_t *call)
{
    lb_wechatpay_signed_t notice = {.serial = header(call, "wechatpay-serial"),
                                    .timestamp = header(call, "wechatpay-timestamp"),
                                    .nonce = header(call, "wechatpay-nonce"),
                                    .signature = header(call, "wechatpay-signature"),
                                    .signature_type = header(call, "wechatpay-signature-type"),
                                    .body = {call->req->entity.base, call->req->entity.len}};
    const char *why;
    if (lb_wechatpay_verify(call->wechatpay, &notice, lb_now(), &why) == 0)
        return 0;
    reply_fail(call, 401, "%s", why);
    return LB_EAUTH;
}

/*
 * The notification's envelope, read from the raw body into the call's fields, and its resource decrypted and decoded into
 * resource. 0, or LB_EINPUT having answered 400.
 */
static int open_resource(lb_call_t *call, const char **event_type, lb_fields_t *resource)
{
    lb_input_error_t err = {0};
    lb_wechatpay_envelope_t envelope;
    const char *why;
    char *plain = NULL;
    size_t plain_len;
    char decode_err[200];

    if (lb_codec_decode(LB_FORMAT_JSON, call->req->entity.base, call->req->entity.len, &call->fields, decode_err,
                        sizeof(decode_err)) != 0) {
        reply_fail(call, 400, "the body is not JSON: %s", decode_err);
        return LB_EINPUT;
    }
    call->body = lb_fields_root(&call->fields);
    if (lb_body_wechatpay_envelope(call->body, call->req->entity.len, &envelope, &err) != 0) {
        reply_fail(call, 400, "%s", err.message);
        return LB_EINPUT;
    }
    *event_type = envelope.event_type;
    lb_wechatpay_text_t key = {call->config->wechatpay_apiv3_key, LB_WECHATPAY_APIV3_KEY_SIZE};
    if (lb_wechatpay_decrypt(key.base, (lb_wechatpay_text_t){envelope.nonce, strlen(envelope.nonce)},
                             (lb_wechatpay_text_t){envelope.associated_data, strlen(envelope.associated_data)},
                             (lb_wechatpay_text_t){envelope.ciphertext, strlen(envelope.ciphertext)}, &plain, &plain_len,
                             &why) != 0) {
        reply_fail(call, 400, "%s", why);
        return LB_EINPUT;
    }
    int ret = lb_codec_decode(LB_FORMAT_JSON, plain, plain_len, resource, decode_err, sizeof(decode_err));
    free(plain);
    if (ret != 0) {
        reply_fail(call, 400, "the decrypted resource is not JSON: %s", decode_err);
        return LB_EINPUT;
    }
    return 0;
}

/* What the payment's lane decided, as WeChat Pay expects it. */
static void answer_transaction(lb_call_t *call, int status, const lb_payment_t *payment)
{
    if (status != 0) {
        reply_failure(call, status);
        return;
    }
    switch (payment->outcome) {
    case LB_PAYMENT_NOT_FOUND:
        reply_fail(call, 404, "out_trade_no %lld: no such order", (long long)payment->order_id);
        return;
    case LB_PAYMENT_WRONG_AMOUNT:
        reply_fail(call, 422, "amount.total is %lld but order %lld costs %lld", (long long)payment->amount_cents,
                   (long long)payment->order_id, (long long)payment->order->amount_cents);
        return;
    case LB_PAYMENT_TXN_REUSED:
        reply_fail(call, 422, "transaction_id was recorded for another order");
        return;
    default: /* applied, replayed, or recorded with its refund on the way */
        lb_reply_no_content(call);
        return;
    }
}

/*
 * A TRANSACTION.* notification: a successful payment (trade_state SUCCESS) is applied as the generic notify applies one;
 * any other is acknowledged and changes nothing.
 */
static void take_transaction(lb_call_t *call, const char *event_type, const lb_value_t *resource)
{
    lb_input_error_t err = {0};
    const char *trade_state;
    lb_wechatpay_payment_t paid;
    lb_payment_t payment = {0};
    if (lb_body_wechatpay_trade_state(resource, &trade_state, &err) != 0) {
        reply_fail(call, err.status, "%s", err.message);
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        return;
    }
    if (strcmp(event_type, "TRANSACTION.SUCCESS") != 0 || strcmp(trade_state, "SUCCESS") != 0) {
        lb_reply_no_content(call);
        return;
    }
    if (lb_body_wechatpay_payment(resource, call->config->wechatpay_mchid, &paid, &err) != 0) {
        reply_fail(call, err.status, "%s", err.message);
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        return;
    }
    payment.order_id = paid.order_id;
    payment.amount_cents = paid.amount_cents;
    payment.provider_txn_id = paid.transaction_id;
    lb_payment_submit(call, &payment, answer_transaction);
}

/* A refund notification's decision, made in a transaction of its own on a worker. */
typedef struct st_refund_job_t {
    lb_db_job_t db;
    lb_call_t *call;
    lb_refund_notice_t notice;
    lb_refund_confirm_result_t result;
    char provider_refund_id[LB_PROVIDER_REFUND_ID_MAX * 4 + 1];
    char message[LB_REFUND_MESSAGE_MAX * 4 + 1];
} refund_job_t;

static int refund_work(lb_db_job_t *db_job, lb_db_t *db)
{
    refund_job_t *job = H2O_STRUCT_FROM_MEMBER(refund_job_t, db, db_job);
    int ret = lb_refund_confirm(db, &job->notice, lb_now(), &job->result);
    if (ret == 1)
        ret = lb_db_commit(db);
    else if (ret >= 0)
        lb_db_rollback(db); /* nothing changed */
    return ret < 0 ? ret : 0;
}

static void refund_done(lb_db_job_t *db_job, int status)
{
    refund_job_t *job = H2O_STRUCT_FROM_MEMBER(refund_job_t, db, db_job);
    lb_call_t *call = job->call;
    const lb_refund_confirm_result_t *result = &job->result;
    if (status != 0) {
        reply_failure(call, status);
    } else {
        switch (result->outcome) {
        case LB_REFUND_CONFIRMED:
            lb_refund_count_confirmed(result);
            lb_reply_no_content(call);
            break;
        case LB_REFUND_REPLAYED:
            lb_reply_no_content(call);
            break;
        case LB_REFUND_NOT_FOUND:
            reply_fail(call, 404, "out_refund_no %lld: no such refund of order %lld", (long long)job->notice.refund_id,
                       (long long)job->notice.order_id);
            break;
        case LB_REFUND_WRONG_AMOUNT:
            reply_fail(call, 422, "amount.refund %lld is not refund %lld's amount", (long long)job->notice.amount_cents,
                       (long long)job->notice.refund_id);
            break;
        case LB_REFUND_CONFLICT:
            reply_fail(call, 409, "refund %lld is %s: it cannot take this outcome", (long long)job->notice.refund_id,
                       result->status);
            break;
        }
    }
    lb_call_release(call);
    free(job);
}

/*
 * A REFUND.* notification: the outcome of a refund livebuy requested (out_refund_no its id), confirmed as every
 * provider's word on a refund is (lb_refund_confirm).
 */
static void take_refund(lb_call_t *call, const char *event_type, const lb_value_t *resource)
{
    lb_input_error_t err = {0};
    lb_wechatpay_refund_t refund;
    int ret = lb_body_wechatpay_refund(resource, event_type, call->config->wechatpay_mchid, &refund, &err);
    if (ret == LB_ENOTFOUND) {
        lb_reply_no_content(call); /* a refund event livebuy does not know: nothing to do */
        return;
    }
    if (ret != 0) {
        reply_fail(call, err.status, "%s", err.message);
        return;
    }
    refund_job_t *job = lb_calloc(1, sizeof(*job));
    job->notice.refund_id = refund.refund_id;
    job->notice.order_id = refund.order_id;
    job->notice.refunded = refund.refunded;
    job->notice.amount_cents = refund.amount_cents;
    if (refund.refund_id_text != NULL) {
        snprintf(job->provider_refund_id, sizeof(job->provider_refund_id), "%s", refund.refund_id_text);
        job->notice.provider_refund_id = job->provider_refund_id;
    }
    if (!refund.refunded) {
        snprintf(job->message, sizeof(job->message), "WeChat Pay %s%s%s%s", event_type, refund.account != NULL ? " (" : "",
                 refund.account != NULL ? refund.account : "", refund.account != NULL ? ")" : "");
        job->notice.message = job->message;
    }
    job->call = call;
    lb_call_retain(call);
    lb_db_submit(call->loop, &job->db, refund_work, refund_done);
}

void lb_handle_wechatpay_notify(lb_call_t *call)
{
    const char *event_type;
    lb_fields_t resource;
    if (call->wechatpay == NULL) {
        lb_reply_error(call, 404, "not_found", "WeChat Pay notifications are off here (--payment-provider wechatpay)");
        return;
    }
    /* The signature covers the raw body: checked before anything in it is read. */
    lb_fields_init(&resource);
    if (check_signature(call) != 0 || open_resource(call, &event_type, &resource) != 0) {
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        lb_fields_dispose(&resource);
        return;
    }
    if (strncmp(event_type, "TRANSACTION.", strlen("TRANSACTION.")) == 0)
        take_transaction(call, event_type, lb_fields_root(&resource));
    else if (strncmp(event_type, "REFUND.", strlen("REFUND.")) == 0)
        take_refund(call, event_type, lb_fields_root(&resource));
    else
        lb_reply_no_content(call); /* an event livebuy does not subscribe to: taken, nothing to do */
    lb_fields_dispose(&resource);
}
