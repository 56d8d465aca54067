/*
 * The shipping system's routes: GET /v1/shipments/feed (a shipper merchant pulls the outbox by cursor) and the signed
 * POST /v1/shipments/{id}/events (picked_up, in_transit, delivered), applied by server/order/shipping.c.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/order/shipping.h"
#include "livebuy/store/shipments.h"

typedef struct st_event_job_t {
    lb_call_job_t super;
    lb_delivery_event_t event;
} event_job_t;

/* One feed entry: the outbox row's state, then the members of the document the push carries that it has not shown. */
static void write_shipment(lb_writer_t *w, const lb_shipment_row_t *row)
{
    static const char *const own[] = {"shipment_id", "status", "delivery_status", "created_at", "tracking_no"};
    size_t num_own = row->tracking_no[0] != '\0' ? 5 : 4;
    lb_fields_t payload;
    lb_fields_init(&payload);
    payload.max_values = UINT32_MAX; /* our own document, not a body: a campaign's shipment lists every order */
    lb_codec_decode(LB_FORMAT_JSON, row->payload, row->payload_len, &payload, NULL, 0); /* written by us: an object */
    const lb_value_t *document = lb_fields_root(&payload);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "shipment_id:I,status:s,delivery_status:s,created_at:I", row->id, row->status, row->delivery_status,
                   row->created_at);
    if (num_own == 5)
        lb_writer_string(w, "tracking_no", row->tracking_no);
    for (const lb_value_t *member = document != NULL ? lb_value_first(document) : NULL; member != NULL;
         member = lb_value_next(member)) {
        size_t i = 0;
        while (i != num_own && !lb_value_named(member, own[i]))
            ++i;
        if (i == num_own)
            lb_writer_value(w, member);
    }
    lb_writer_end(w);
    lb_fields_dispose(&payload);
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
    if ((ret = lb_store_shipments_sequence(db, FEED_SEQUENCE_MAX, super->call->config->shards, &found)) != 0)
        return ret;
    lb_shipment_row_t *rows = lb_malloc((size_t)job->limit * sizeof(*rows));
    if ((ret = lb_store_shipments_page(db, job->after, job->limit, rows, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_array(w, "shipments");
        for (size_t i = 0; i != found; ++i)
            write_shipment(w, &rows[i]);
        lb_writer_end(w);
        /* The cursor to poll with next: the last place seen, or the same cursor when nothing is new. */
        lb_writer_integer(w, "next", found != 0 ? rows[found - 1].feed_seq : job->after);
        lb_writer_end(w);
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
    if (event->outcome == LB_DELIVERY_SIGNATURE_USED)
        return lb_call_job_fail(super, 401, "unauthorized",
                                "this signature came with another shipment's event first: each event is signed anew "
                                "(name shipment_id in the body)");
    if (event->outcome == LB_DELIVERY_CANCELLED)
        return lb_call_job_fail(super, 409, "conflict", "shipment %lld is cancelled: it takes no delivery events",
                                (long long)event->shipment_id);
    lb_writer_t *w = lb_call_job_answer(super, 200);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "shipment_id:I,delivery_status:s,tracking_no:s,replayed:b", event->shipment_id,
                   event->shipment.delivery_status, event->shipment.tracking_no, event->outcome == LB_DELIVERY_REPEATED);
    lb_writer_end(w);
    return 0;
}

/* The event's fields: 0, or LB_EINPUT having answered 422. */
static int read_event(lb_call_t *call, lb_delivery_event_t *event)
{
    lb_input_error_t err = {0};
    if (lb_body_delivery_event(call->body, event, &err) != 0) {
        lb_reply_input_error(call, &err);
        return LB_EINPUT;
    }
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
    if (lb_auth_signed(call, call->config->shipping_secret, event.signature) != 0 || lb_call_read_body(call) != 0 || read_event(call, &event) != 0)
        return;
    /* tracking_no is a string of the call's body, which the job's reference on the call keeps. */
    event_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->event = event;
    lb_call_job_submit(&job->super, event_work);
}
