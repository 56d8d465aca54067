/*
 * The shipping outbox, a kind of the outbox engine (server/jobs/outbox.c): what a claimed shipment's push looks like
 * (the stored payload with shipment_id first, in --shipping-format, HMAC-signed under --shipping-secret) and what its
 * outcome does (acknowledged: the shipment's orders handed off; else a retry or a dead letter). Every failure is
 * retried: the shipping system's refusal of today may be fixed tomorrow, and the row stays visible meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <h2o/memory.h>
#include "livebuy/base/metrics.h"
#include "livebuy/codec/codec.h"
#include "livebuy/common.h"
#include "livebuy/jobs/dispatcher.h"
#include "livebuy/jobs/outbox.h"
#include "livebuy/order/shipping.h"
#include "livebuy/store/shipments.h"

typedef struct st_shipping_t {
    const lb_config_t *config;
    lb_format_t format;
} shipping_t;

static lb_outbox_t outbox;
static shipping_t shipping;

/* The body the shipping system gets: the stored payload with shipment_id first, in the configured format. */
static void make_body(lb_outbox_push_t *push, const lb_shipment_row_t *row)
{
    lb_fields_t payload;
    lb_fields_init(&payload);
    payload.max_values = UINT32_MAX; /* our own document, not a body: a campaign's shipment lists every order */
    if (lb_codec_decode(LB_FORMAT_JSON, row->payload, row->payload_len, &payload, NULL, 0) == 0) {
        lb_writer_t w;
        lb_writer_init(&w, shipping.format);
        lb_writer_map(&w, NULL);
        lb_writer_integer(&w, "shipment_id", row->id);
        for (const lb_value_t *member = lb_value_first(lb_fields_root(&payload)); member != NULL; member = lb_value_next(member))
            if (!lb_value_named(member, "shipment_id"))
                lb_writer_value(&w, member);
        lb_writer_end(&w);
        if (w.failed)
            free(w.out.bytes);
        else
            lb_outbox_push_body(push, w.out.bytes, w.out.len);
    }
    lb_fields_dispose(&payload);
    if (push->body == NULL)
        snprintf(push->error, sizeof(push->error), "the stored payload is not a JSON object");
}

/* The signed request (API.md "Auth": HMAC-SHA256 of "TIMESTAMP.BODY" under --shipping-secret), the shipment id its key. */
static void sign(lb_outbox_push_t *push)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)push->id);
    lb_outbox_push_sign(push, shipping.config->shipping_secret, lb_codec_media_type(shipping.format), key);
}

static int claim(lb_outbox_t *o, lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit,
                 lb_outbox_push_t **out, size_t *found)
{
    lb_shipment_row_t rows[LB_OUTBOX_MAX_IN_FLIGHT];
    int ret = lb_store_shipments_claim(db, claimer, now, claimed_until, limit, shipping.config->shards, rows, found);
    if (ret != 0)
        return ret;
    for (size_t i = 0; i != *found; ++i) {
        lb_outbox_push_t *push = out[i] = lb_calloc(1, sizeof(*push));
        push->id = rows[i].id;
        push->sku_id = rows[i].sku_id;
        push->attempts = rows[i].attempts;
        make_body(push, &rows[i]);
        if (push->body != NULL)
            sign(push);
    }
    lb_store_shipment_rows_free(rows, *found);
    return 0;
}

static int record(lb_outbox_t *o, lb_db_t *db, lb_outbox_push_t *push, const char *claimer)
{
    if (push->result == LB_OUTBOX_DELIVERED)
        return lb_shipping_ack(db, push->sku_id, push->id, lb_now());
    return lb_store_shipment_retry(db, push->sku_id, push->id, claimer, push->attempts, push->next_attempt_at, push->dead,
                                   push->error);
}

static void pushed(const lb_outbox_push_t *push)
{
    lb_metrics_shipping_push(push->result == LB_OUTBOX_DELIVERED ? LB_METRICS_PUSH_ACKED : LB_METRICS_PUSH_FAILED);
}

static void recorded(const lb_outbox_push_t *push, int status)
{
    if (status == 0 && push->result != LB_OUTBOX_DELIVERED && push->dead)
        lb_metrics_shipping_dead_letter();
}

static void push_free(lb_outbox_push_t *push)
{
    free(push);
}

static const lb_outbox_kind_t shipment_kind = {
    .name = "shipment",
    .refuse_4xx = 0,
    .claim = claim,
    .release = lb_store_shipments_release,
    .record = record,
    .pushed = pushed,
    .recorded = recorded,
    .free = push_free,
};

void lb_dispatcher_start(uv_loop_t *loop, const lb_config_t *config)
{
    shipping.config = config;
    shipping.format = strcmp(config->shipping_format, "msgpack") == 0 ? LB_FORMAT_MSGPACK : LB_FORMAT_JSON;
    lb_outbox_settings_t settings = {config->shipping_url, config->shipping_max_attempts, config->shipping_backoff_ms};
    lb_outbox_start(&outbox, loop, &shipment_kind, &settings);
}

void lb_dispatcher_stop(void)
{
    lb_outbox_stop(&outbox);
}
