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
#define EVENT_TYPE_MAX   32
#define OUT_TRADE_NO_MAX 32

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

/* A member of object that must be an object; NULL (and err set) when it is absent or not one. */
static const lb_value_t *object_member(const lb_value_t *object, const char *name, lb_input_error_t *err)
{
    const lb_value_t *member = lb_value_member(object, name);
    if (member == NULL || member->kind != LB_VALUE_OBJECT) {
        lb_input_error(err, 400, "malformed", "%s%s must be an object", err->field_prefix != NULL ? err->field_prefix : "", name);
        return NULL;
    }
    return member;
}

/*
 * The notification's envelope, read from the raw body into the call's fields, and its resource decrypted and decoded into
 * resource. 0, or LB_EINPUT having answered 400.
 */
static int open_resource(lb_call_t *call, const char **event_type, lb_fields_t *resource)
{
    static const char *const algorithms[] = {"AEAD_AES_256_GCM", NULL};
    lb_input_error_t err = {0};
    const char *ciphertext, *nonce, *associated_data = "", *why;
    char *plain = NULL;
    size_t plain_len;
    char decode_err[200];
    int algorithm;

    if (lb_codec_decode(LB_FORMAT_JSON, call->req->entity.base, call->req->entity.len, &call->fields, decode_err,
                        sizeof(decode_err)) != 0) {
        reply_fail(call, 400, "the body is not JSON: %s", decode_err);
        return LB_EINPUT;
    }
    call->body = lb_fields_root(&call->fields);
    const lb_value_t *sealed = NULL;
    if (lb_field_string(call->body, "event_type", 1, 1, EVENT_TYPE_MAX, event_type, &err) == 0 &&
        (sealed = object_member(call->body, "resource", &err)) != NULL) {
        err.field_prefix = "resource.";
        if (lb_field_enum(sealed, "algorithm", 1, algorithms, &algorithm, &err) != 0 ||
            lb_field_string(sealed, "ciphertext", 1, 1, call->req->entity.len, &ciphertext, &err) != 0 ||
            lb_field_string(sealed, "nonce", 1, 1, 128, &nonce, &err) != 0 ||
            lb_field_string(sealed, "associated_data", 0, 0, 256, &associated_data, &err) != 0)
            sealed = NULL;
    }
    if (sealed == NULL) {
        reply_fail(call, 400, "%s", err.message);
        return LB_EINPUT;
    }
    lb_wechatpay_text_t key = {call->config->wechatpay_apiv3_key, LB_WECHATPAY_APIV3_KEY_SIZE};
    if (lb_wechatpay_decrypt(key.base, (lb_wechatpay_text_t){nonce, strlen(nonce)},
                             (lb_wechatpay_text_t){associated_data, strlen(associated_data)},
                             (lb_wechatpay_text_t){ciphertext, strlen(ciphertext)}, &plain, &plain_len, &why) != 0) {
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

/* livebuy's id from out_trade_no or out_refund_no (its decimal digits, as livebuy writes them); 0 when it names none. */
static int64_t id_of(const char *number)
{
    int64_t id = 0;
    if (number[0] == '\0' || number[0] == '0' || strlen(number) > 19)
        return 0;
    for (const char *p = number; *p != '\0'; ++p) {
        if (*p < '0' || *p > '9' || id > (INT64_MAX - (*p - '0')) / 10)
            return 0;
        id = id * 10 + (*p - '0');
    }
    return id;
}

/* The notification was for another merchant than --wechatpay-mchid (when set); LB_EINPUT with err set. */
static int check_mchid(const lb_value_t *resource, const lb_config_t *config, lb_input_error_t *err)
{
    const char *mchid = NULL;
    if (lb_field_string(resource, "mchid", 0, 1, 32, &mchid, err) != 0)
        return LB_EINPUT;
    if (mchid != NULL && config->wechatpay_mchid != NULL && strcmp(mchid, config->wechatpay_mchid) != 0)
        return lb_input_error(err, 422, "invalid", "mchid %s is not this merchant's", mchid);
    return 0;
}

/* amount.<total_name> in fen, and amount.currency when given (CNY: livebuy's cents are fen). */
static int read_amount(const lb_value_t *resource, const char *total_name, int64_t *total, lb_input_error_t *err)
{
    const lb_value_t *amount = object_member(resource, "amount", err);
    const char *currency = NULL;
    if (amount == NULL)
        return LB_EINPUT;
    err->field_prefix = "amount.";
    if (lb_field_int(amount, total_name, 1, 0, INT64_MAX, total, err) != 0 ||
        lb_field_string(amount, "currency", 0, 1, 8, &currency, err) != 0)
        return LB_EINPUT;
    if (currency != NULL && strcmp(currency, "CNY") != 0)
        return lb_input_error(err, 422, "invalid", "amount.currency must be CNY, not %s", currency);
    err->field_prefix = NULL;
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
    const char *trade_state, *out_trade_no;
    lb_payment_t payment = {0};
    if (lb_field_string(resource, "trade_state", 1, 1, 32, &trade_state, &err) != 0) {
        reply_fail(call, 400, "%s", err.message);
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        return;
    }
    if (strcmp(event_type, "TRANSACTION.SUCCESS") != 0 || strcmp(trade_state, "SUCCESS") != 0) {
        lb_reply_no_content(call);
        return;
    }
    if (check_mchid(resource, call->config, &err) != 0 ||
        lb_field_string(resource, "out_trade_no", 1, 1, OUT_TRADE_NO_MAX, &out_trade_no, &err) != 0 ||
        lb_field_string(resource, "transaction_id", 1, 1, LB_PROVIDER_TXN_ID_MAX, &payment.provider_txn_id, &err) != 0 ||
        read_amount(resource, "total", &payment.amount_cents, &err) != 0) {
        reply_fail(call, err.status, "%s", err.message);
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        return;
    }
    if ((payment.order_id = id_of(out_trade_no)) == 0) {
        reply_fail(call, 404, "out_trade_no %s is not a livebuy order id", out_trade_no);
        lb_metrics_payment(LB_METRICS_PAYMENT_REJECTED);
        return;
    }
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
    int ret = lb_db_begin(db);
    if (ret == 0 && (ret = lb_refund_confirm(db, &job->notice, lb_now(), &job->result)) == 1)
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

/* The refund's outcome as the event names it: 1 refunded, 0 failed, -1 not a refund event livebuy knows. */
static int refund_outcome(const char *event_type, const char **refund_status)
{
    static const struct {
        const char *event_type, *refund_status;
        int refunded;
    } events[] = {{"REFUND.SUCCESS", "SUCCESS", 1}, {"REFUND.ABNORMAL", "ABNORMAL", 0}, {"REFUND.CLOSED", "CLOSED", 0}};
    for (size_t i = 0; i != LB_ARRAY_SIZE(events); ++i) {
        if (strcmp(event_type, events[i].event_type) == 0) {
            *refund_status = events[i].refund_status;
            return events[i].refunded;
        }
    }
    return -1;
}

/*
 * A REFUND.* notification: the outcome of a refund livebuy requested (out_refund_no its id), confirmed as every
 * provider's word on a refund is (lb_refund_confirm).
 */
static void take_refund(lb_call_t *call, const char *event_type, const lb_value_t *resource)
{
    lb_input_error_t err = {0};
    const char *expected_status, *refund_status, *out_refund_no, *out_trade_no, *refund_id = NULL, *account = NULL;
    int64_t amount;
    int refunded = refund_outcome(event_type, &expected_status);
    if (refunded < 0) {
        lb_reply_no_content(call); /* a refund event livebuy does not know: nothing to do */
        return;
    }
    if (check_mchid(resource, call->config, &err) != 0 ||
        lb_field_string(resource, "out_refund_no", 1, 1, OUT_TRADE_NO_MAX, &out_refund_no, &err) != 0 ||
        lb_field_string(resource, "out_trade_no", 1, 1, OUT_TRADE_NO_MAX, &out_trade_no, &err) != 0 ||
        lb_field_string(resource, "refund_status", 1, 1, 32, &refund_status, &err) != 0 ||
        lb_field_string(resource, "refund_id", 0, 1, LB_PROVIDER_REFUND_ID_MAX, &refund_id, &err) != 0 ||
        lb_field_string(resource, "user_received_account", 0, 0, 200, &account, &err) != 0 ||
        read_amount(resource, "refund", &amount, &err) != 0) {
        reply_fail(call, err.status, "%s", err.message);
        return;
    }
    if (strcmp(refund_status, expected_status) != 0) {
        reply_fail(call, 400, "refund_status %s does not agree with %s", refund_status, event_type);
        return;
    }
    refund_job_t *job = lb_calloc(1, sizeof(*job));
    job->notice.refund_id = id_of(out_refund_no);
    job->notice.order_id = id_of(out_trade_no);
    if (job->notice.refund_id == 0 || job->notice.order_id == 0) {
        reply_fail(call, 404, "%s %s is not a livebuy id", job->notice.refund_id == 0 ? "out_refund_no" : "out_trade_no",
                   job->notice.refund_id == 0 ? out_refund_no : out_trade_no);
        free(job);
        return;
    }
    job->notice.refunded = refunded;
    job->notice.amount_cents = amount;
    if (refund_id != NULL) {
        snprintf(job->provider_refund_id, sizeof(job->provider_refund_id), "%s", refund_id);
        job->notice.provider_refund_id = job->provider_refund_id;
    }
    if (!refunded) {
        snprintf(job->message, sizeof(job->message), "WeChat Pay %s%s%s%s", event_type, account != NULL ? " (" : "",
                 account != NULL ? account : "", account != NULL ? ")" : "");
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
