/*
 * The refund outbox, a kind of the outbox engine (server/jobs/outbox.c): what a claimed refund's push looks like for
 * the configured provider, and what the provider's answer does to the refund. A 4xx other than 408 and 429 is a refusal
 * for good (the refund fails, visible, and the co-op may send it again); anything else but a 2xx is retried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <h2o/memory.h>
#include "livebuy/base/metrics.h"
#include "livebuy/base/wechatpay_sign.h"
#include "livebuy/codec/codec.h"
#include "livebuy/codec/fields.h"
#include "livebuy/common.h"
#include "livebuy/jobs/outbox.h"
#include "livebuy/jobs/refund_push.h"
#include "livebuy/order/refund.h"
#include "livebuy/store/refund_outbox.h"

#define WECHATPAY_REASON_MAX 80 /* bytes: WeChat Pay refuses a longer refund reason (string(80), "不可超过80个字节") */

/* What the refund push was started with: the settings, and the merchant's key for wechatpay. */
typedef struct st_refund_push_config_t {
    const lb_config_t *config;
    lb_wechatpay_merchant_t *merchant; /* NULL for generic */
    const char *path;                  /* what a WeChat Pay signature covers of --refund-url */
} refund_push_config_t;

/* One refund's push, and what its outcome did (read on the loop thread for /metrics once it committed). */
typedef struct st_refund_push_t {
    lb_outbox_push_t push;
    int64_t order_id;
    int confirmed; /* the answer (or a refusal) went through lb_refund_confirm, which changed the refund */
    lb_refund_confirm_result_t confirm;
    int retried; /* a failed push was recorded (attempts, next try; dead when push.dead) */
} refund_push_t;

static lb_outbox_t outbox;
static refund_push_config_t refunds;
static int started;

/* ---- Requests ----------------------------------------------------------------------------------------------------- */

/* UTF-8 text s cut to at most max bytes at a character boundary, into out (max + 1 bytes). */
static void cut_utf8(const char *s, size_t max, char *out)
{
    size_t len = strlen(s);
    if (len > max) {
        len = max;
        while (len != 0 && ((unsigned char)s[len] & 0xc0) == 0x80) /* s[len] continues a character: cut before it */
            --len;
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

/* Generic: the refund as livebuy knows it, signed like the payment notify (--payment-secret), refund-ID its key. */
static void generic_request(lb_outbox_push_t *push, const lb_refund_push_row_t *row)
{
    lb_writer_t w;
    lb_writer_init(&w, LB_FORMAT_JSON);
    lb_writer_map(&w, NULL);
    lb_writer_pack(&w, "refund_id:I,order_id:I,sku_id:I,provider_txn_id:s,amount_cents:I,cause:s,reason:s", row->id, row->order_id,
                   row->sku_id, row->provider_txn_id, row->amount_cents, row->cause, row->reason);
    lb_writer_end(&w);
    lb_outbox_push_body(push, w.out.bytes, w.out.len);
    char key[32];
    snprintf(key, sizeof(key), "refund-%lld", (long long)row->id);
    lb_outbox_push_sign(push, refunds.config->payment_secret, "application/json", key);
}

/*
 * WeChat Pay API v3's refund request (POST /v3/refund/domestic/refunds): out_refund_no is the refund's id, which WeChat
 * Pay keeps one refund per (the push's idempotency), transaction_id the payment's.
 */
static void wechatpay_request(lb_outbox_push_t *push, const lb_refund_push_row_t *row)
{
    const lb_config_t *config = refunds.config;
    char out_refund_no[24], reason[WECHATPAY_REASON_MAX + 1];
    snprintf(out_refund_no, sizeof(out_refund_no), "%lld", (long long)row->id);
    cut_utf8(row->reason, WECHATPAY_REASON_MAX, reason);
    lb_writer_t w;
    lb_writer_init(&w, LB_FORMAT_JSON);
    lb_writer_map(&w, NULL);
    lb_writer_pack(&w, "transaction_id:s,out_refund_no:s", row->provider_txn_id, out_refund_no);
    if (reason[0] != '\0')
        lb_writer_string(&w, "reason", reason);
    if (config->wechatpay_notify_url != NULL)
        lb_writer_string(&w, "notify_url", config->wechatpay_notify_url);
    lb_writer_pack(&w, "amount:{refund:I,total:I,currency:s}", row->amount_cents, row->total_cents, "CNY");
    lb_writer_end(&w);
    lb_outbox_push_body(push, w.out.bytes, w.out.len);

    char timestamp[24], nonce[LB_WECHATPAY_NONCE_SIZE + 1], authorization[LB_WECHATPAY_AUTHORIZATION_SIZE];
    snprintf(timestamp, sizeof(timestamp), "%lld", (long long)lb_now());
    lb_wechatpay_nonce(nonce);
    if (lb_wechatpay_authorization(refunds.merchant, "POST", refunds.path, timestamp, nonce, push->body, push->body_len,
                                   authorization, sizeof(authorization)) != 0) {
        lb_outbox_push_body(push, NULL, 0);
        snprintf(push->error, sizeof(push->error), "signing the WeChat Pay refund request failed");
        return;
    }
    lb_outbox_push_header(push, "Authorization: %s", authorization);
    lb_outbox_push_header(push, "Content-Type: application/json");
    lb_outbox_push_header(push, "Accept: application/json");
    lb_outbox_push_header(push, "Expect:");
}

static int claim(lb_outbox_t *o, lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit,
                 lb_outbox_push_t **out, size_t *found)
{
    lb_refund_push_row_t rows[LB_OUTBOX_MAX_IN_FLIGHT];
    int ret = lb_store_refunds_claim(db, claimer, now, claimed_until, limit, refunds.config->shards, rows, found);
    if (ret != 0)
        return ret;
    for (size_t i = 0; i != *found; ++i) {
        refund_push_t *push = lb_calloc(1, sizeof(*push));
        push->push.id = rows[i].id;
        push->push.sku_id = rows[i].sku_id;
        push->push.attempts = rows[i].attempts;
        push->order_id = rows[i].order_id;
        if (refunds.merchant != NULL)
            wechatpay_request(&push->push, &rows[i]);
        else
            generic_request(&push->push, &rows[i]);
        out[i] = &push->push;
    }
    return 0;
}

/* ---- Answers ------------------------------------------------------------------------------------------------------ */

/* What a 2xx answer says of the refund. */
typedef enum en_answer_t {
    ANSWER_TAKEN,    /* the provider has it and will notify */
    ANSWER_REFUNDED, /* done already */
    ANSWER_FAILED    /* WeChat Pay: ABNORMAL or CLOSED */
} answer_t;

/* A string member of object, or NULL. */
static const char *string_member(const lb_value_t *object, const char *name)
{
    const lb_value_t *member = object != NULL ? lb_value_member(object, name) : NULL;
    return member != NULL && member->kind == LB_VALUE_STRING ? member->string : NULL;
}

/*
 * Reads a 2xx answer's JSON (anything else is "taken": the 2xx is what counts): generic {"status": "refunded",
 * "provider_refund_id"}, WeChat Pay {"status": "SUCCESS" | "PROCESSING" | "ABNORMAL" | "CLOSED", "refund_id"}. The
 * provider's refund id goes to provider_refund_id ("" when none), why it failed to message.
 */
static answer_t read_answer(const lb_outbox_push_t *push, char *provider_refund_id, size_t id_size, char *message, size_t message_size)
{
    lb_fields_t fields;
    lb_fields_init(&fields);
    answer_t answer = ANSWER_TAKEN;
    provider_refund_id[0] = message[0] = '\0';
    if (lb_codec_decode(LB_FORMAT_JSON, push->answer, push->answer_len, &fields, NULL, 0) == 0) {
        const lb_value_t *root = lb_fields_root(&fields);
        const char *status = string_member(root, "status"), *id;
        if (refunds.merchant != NULL) {
            id = string_member(root, "refund_id");
            if (status != NULL && strcmp(status, "SUCCESS") == 0) {
                answer = ANSWER_REFUNDED;
            } else if (status != NULL && (strcmp(status, "ABNORMAL") == 0 || strcmp(status, "CLOSED") == 0)) {
                answer = ANSWER_FAILED;
                snprintf(message, message_size, "WeChat Pay refund status %s", status);
            }
        } else {
            id = string_member(root, "provider_refund_id");
            if (status != NULL && strcmp(status, "refunded") == 0)
                answer = ANSWER_REFUNDED;
        }
        if (id != NULL && strlen(id) < id_size)
            strcpy(provider_refund_id, id);
    }
    lb_fields_dispose(&fields);
    return answer;
}

/* The provider's word on the refund, applied as a notification's is, in a transaction of its own. */
static int confirm(lb_db_t *db, refund_push_t *push, int refunded, const char *provider_refund_id, const char *message)
{
    lb_refund_notice_t notice = {push->push.id, push->order_id, refunded, -1, provider_refund_id, message};
    int ret = lb_refund_confirm(db, &notice, lb_now(), &push->confirm);
    if (ret < 0)
        return ret;
    if (ret == 0) {
        lb_db_rollback(db);
        return 0;
    }
    if ((ret = lb_db_commit(db)) == 0)
        push->confirmed = 1;
    return ret;
}

static int record(lb_outbox_t *o, lb_db_t *db, lb_outbox_push_t *p, const char *claimer)
{
    refund_push_t *push = H2O_STRUCT_FROM_MEMBER(refund_push_t, push, p);
    char provider_refund_id[LB_PROVIDER_REFUND_ID_MAX + 1], message[LB_REFUND_MESSAGE_MAX + 1];
    push->confirmed = push->retried = 0;
    switch (p->result) {
    case LB_OUTBOX_RETRY:
        return lb_store_refund_retry(db, p->sku_id, p->id, claimer, p->attempts, p->next_attempt_at, p->dead, p->error, lb_now(),
                                     &push->retried);
    case LB_OUTBOX_REFUSED:
        return confirm(db, push, 0, NULL, p->error);
    case LB_OUTBOX_DELIVERED:
        switch (read_answer(p, provider_refund_id, sizeof(provider_refund_id), message, sizeof(message))) {
        case ANSWER_REFUNDED:
            return confirm(db, push, 1, provider_refund_id[0] != '\0' ? provider_refund_id : NULL, NULL);
        case ANSWER_FAILED:
            return confirm(db, push, 0, provider_refund_id[0] != '\0' ? provider_refund_id : NULL, message);
        case ANSWER_TAKEN:
            break;
        }
        return lb_store_refund_sent(db, p->sku_id, p->id, claimer, provider_refund_id[0] != '\0' ? provider_refund_id : NULL,
                                    lb_now());
    }
    return LB_EDB;
}

static void pushed(const lb_outbox_push_t *push)
{
    static const lb_metrics_refund_push_t results[] = {
        [LB_OUTBOX_DELIVERED] = LB_METRICS_REFUND_PUSH_SENT,
        [LB_OUTBOX_REFUSED] = LB_METRICS_REFUND_PUSH_REFUSED,
        [LB_OUTBOX_RETRY] = LB_METRICS_REFUND_PUSH_FAILED,
    };
    lb_metrics_refund_push(results[push->result]);
}

static void recorded(const lb_outbox_push_t *p, int status)
{
    const refund_push_t *push = H2O_STRUCT_FROM_MEMBER(refund_push_t, push, p);
    if (status != 0)
        return;
    if (push->confirmed)
        lb_refund_count_confirmed(&push->confirm);
    else if (push->retried && p->dead)
        lb_metrics_refund_event(LB_METRICS_REFUND_DEAD);
}

static void push_free(lb_outbox_push_t *p)
{
    free(H2O_STRUCT_FROM_MEMBER(refund_push_t, push, p));
}

static const lb_outbox_kind_t refund_kind = {
    .name = "refund",
    .refuse_4xx = 1,
    .claim = claim,
    .release = lb_store_refunds_release,
    .record = record,
    .pushed = pushed,
    .recorded = recorded,
    .free = push_free,
};

/* ---- Start, stop and wake ----------------------------------------------------------------------------------------- */

int lb_refund_push_start(uv_loop_t *loop, const lb_config_t *config, char *err, size_t errsize)
{
    refunds.config = config;
    refunds.merchant = NULL;
    if (strcmp(config->payment_provider, "wechatpay") == 0) {
        char reason[256];
        refunds.merchant = lb_wechatpay_merchant_load(config->wechatpay_merchant_key, config->wechatpay_mchid,
                                                      config->wechatpay_merchant_serial, reason, sizeof(reason));
        if (refunds.merchant == NULL) {
            snprintf(err, errsize, "--wechatpay-merchant-key: %s", reason);
            return LB_EINPUT;
        }
        refunds.path = lb_wechatpay_url_path(config->refund_url);
    }
    lb_outbox_settings_t settings = {config->refund_url, config->refund_max_attempts, config->refund_backoff_ms};
    lb_outbox_start(&outbox, loop, &refund_kind, &settings);
    started = 1;
    return 0;
}

void lb_refund_push_stop(void)
{
    lb_outbox_stop(&outbox);
}

void lb_refund_push_wake(void)
{
    if (started)
        lb_outbox_wake(&outbox);
}
