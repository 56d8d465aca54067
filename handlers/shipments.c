/*
 * The shipping system's routes: GET /v1/shipments/feed (a shipper merchant pulls the outbox by cursor) and the signed
 * POST /v1/shipments/{id}/events (picked_up, in_transit, delivered), applied by server/order/shipping.c.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/order/shipping.h"

typedef struct st_event_job_t {
    lb_call_job_t super;
    lb_delivery_event_t event;
} event_job_t;

/* One feed entry: the outbox row's state, then the document the push carries. */
static json_t *shipment_to_json(const lb_shipment_row_t *row)
{
    json_t *entry = json_pack("{s:I,s:s,s:s,s:I}", "shipment_id", (json_int_t)row->id, "status", row->status, "delivery_status",
                              row->delivery_status, "created_at", (json_int_t)row->created_at);
    json_t *payload = json_loadb(row->payload, row->payload_len, 0, NULL);
    if (row->tracking_no[0] != '\0')
        json_object_set_new(entry, "tracking_no", json_string(row->tracking_no));
    if (json_is_object(payload))
        json_object_update_missing(entry, payload);
    json_decref(payload);
    return entry;
}

#define FEED_SEQUENCE_MAX 1000

static int feed_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_page_job_t *job = (lb_page_job_t *)super;
    lb_merchant_t merchant;
    size_t found;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_SHIPPER), &merchant);
    if (ret != 0)
        return ret;
    /* Shipments committed since the last poll get their places first (a thousand at a time; the next poll goes on). */
    if ((ret = lb_store_shipments_sequence(db, FEED_SEQUENCE_MAX, &found)) != 0)
        return ret;
    lb_shipment_row_t *rows = lb_malloc((size_t)job->limit * sizeof(*rows));
    if ((ret = lb_store_shipments_page(db, job->after, job->limit, rows, &found)) == 0) {
        json_t *shipments = json_array();
        for (size_t i = 0; i != found; ++i)
            json_array_append_new(shipments, shipment_to_json(&rows[i]));
        /* The cursor to poll with next: the last place seen, or the same cursor when nothing is new. */
        int64_t next = found != 0 ? rows[found - 1].feed_seq : job->after;
        ret = lb_call_job_answer(super, 200, json_pack("{s:o,s:I}", "shipments", shipments, "next", (json_int_t)next));
        lb_store_shipment_rows_free(rows, found);
    }
    free(rows);
    return ret;
}

void lb_handle_shipments_feed(lb_call_t *call)
{
    lb_page_job_t *job = lb_auth_page_job_new(call, sizeof(*job));
    if (job != NULL)
        lb_call_job_submit(&job->super, feed_work);
}

static int event_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_delivery_event_t *event = &((event_job_t *)super)->event;
    int ret = lb_shipping_event_apply(db, event);
    if (ret != 0)
        return ret;
    if (event->outcome == LB_DELIVERY_NOT_FOUND)
        return lb_call_job_fail(super, 404, "not_found", "no shipment %lld", (long long)event->shipment_id);
    json_t *answer = json_pack("{s:I,s:s,s:s,s:b}", "shipment_id", (json_int_t)event->shipment_id, "delivery_status",
                               event->shipment.delivery_status, "tracking_no", event->shipment.tracking_no, "replayed",
                               event->outcome == LB_DELIVERY_REPEATED);
    return lb_call_job_answer(super, 200, answer);
}

/* The event's fields: 0, or LB_EINPUT having answered 422. */
static int read_event(lb_call_t *call, lb_delivery_event_t *event)
{
    lb_input_error_t err = {0};
    int type;
    if (lb_field_enum(call->body, "type", 1, lb_delivery_event_types, &type, &err) != 0 ||
        lb_field_string(call->body, "tracking_no", 1, 1, LB_TRACKING_NO_MAX, &event->tracking_no, &err) != 0) {
        lb_reply_input_error(call, &err);
        return LB_EINPUT;
    }
    event->type = (lb_delivery_event_type_t)type;
    return 0;
}

void lb_handle_shipment_event(lb_call_t *call)
{
    lb_delivery_event_t event = {.shipment_id = call->id};
    if (call->config->shipping_secret == NULL) {
        lb_reply_error(call, 503, "unavailable", "shipping is not configured");
        return;
    }
    /* The signature covers the raw body: checked before the body is decoded. */
    if (lb_auth_signed(call, call->config->shipping_secret) != 0 || lb_call_decode_body(call) != 0 || read_event(call, &event) != 0)
        return;
    /* tracking_no points into call->body, which the job's reference on the call keeps. */
    event_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->event = event;
    lb_call_job_submit(&job->super, event_work);
}
