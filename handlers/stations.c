/*
 * Village stations, the keepers who hand a shipment's goods out at their pickup points: GET /v1/station/shipments (the
 * shipments coming to the station's points, newest first), GET /v1/shipments/{id}/pick-list and POST
 * /v1/shipments/{id}/collect {order_id} (the rules in server/order/collection.c). Station merchants only.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/order/collection.h"
#include "livebuy/order/shipping.h"
#include "livebuy/store/stations.h"

typedef struct st_station_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    lb_collection_t collection;
} station_job_t;

/* A text field, or null when it is empty (the order or shipment has none). */
static void write_text_or_null(lb_writer_t *w, const char *key, const char *value)
{
    if (value[0] != '\0')
        lb_writer_string(w, key, value);
    else
        lb_writer_null(w, key);
}

/* A shipment as the station's routes show it, into the open map (key) or array (NULL). */
static void write_shipment(lb_writer_t *w, const char *key, const lb_station_shipment_t *s)
{
    lb_writer_map(w, key);
    lb_writer_pack(w, "shipment_id:I,status:s,delivery_status:s,created_at:I,group_buy_id:N,sku_id:I,title:s", s->id, s->status,
                   s->delivery_status, s->created_at, s->group_buy_id, s->sku_id, s->title);
    write_text_or_null(w, "tracking_no", s->tracking_no);
    lb_shipping_write_pickup_point(w, "pickup_point", &s->pickup_point);
    lb_writer_pack(w, "orders:I,qty:I,collected:I", s->orders, s->qty, s->collected);
    lb_writer_end(w);
}

/* ---- GET /v1/station/shipments ----------------------------------------------------------------------------------- */

static int shipments_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_page_job_t *job = (lb_page_job_t *)super;
    lb_merchant_t station;
    size_t found;
    int ret = lb_auth_merchant(super, db, job->token_hash, LB_KIND(LB_MERCHANT_STATION), &station);
    if (ret != 0)
        return ret;
    lb_station_shipment_t *rows = lb_malloc((size_t)job->limit * sizeof(*rows));
    if ((ret = lb_store_station_shipments(db, station.id, job->after, job->limit, rows, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_array(w, "shipments");
        for (size_t i = 0; i != found; ++i)
            write_shipment(w, NULL, &rows[i]);
        lb_writer_end(w);
        lb_writer_pack(w, "next:N", found != 0 && found == (size_t)job->limit ? rows[found - 1].id : 0);
        lb_writer_end(w);
    }
    free(rows);
    return ret;
}

void lb_handle_station_shipments(lb_call_t *call)
{
    lb_page_job_t *job = lb_auth_page_job_new(call, sizeof(*job));
    if (job != NULL)
        lb_call_job_submit(&job->super, shipments_work);
}

/* ---- GET /v1/shipments/{id}/pick-list ---------------------------------------------------------------------------- */

/*
 * The 403 for a shipment that exists but goes to no point of the calling station: a point bound to another station or
 * to none (point_station_id 0), or an address (point_id 0). 404 is for no such shipment only.
 */
static int fail_not_this_station(lb_call_job_t *job, int64_t shipment_id, int64_t point_id, int64_t point_station_id)
{
    long long id = (long long)shipment_id;
    if (point_id == 0)
        return lb_call_job_fail(job, 403, "forbidden", "shipment %lld goes to an address, not to a station's pickup point", id);
    if (point_station_id == 0)
        return lb_call_job_fail(job, 403, "forbidden", "shipment %lld goes to pickup point %lld, which no station is bound to", id,
                                (long long)point_id);
    return lb_call_job_fail(job, 403, "forbidden", "shipment %lld goes to a pickup point of another station", id);
}

/*
 * On a worker: the station calling (*station) and the shipment, when it goes to one of the station's points; else a
 * 401/403/404 recorded in job and LB_EINPUT, or an LB_EDB_* code.
 */
static int station_shipment(lb_call_job_t *job, lb_db_t *db, const uint8_t *token_hash, lb_merchant_t *station,
                            lb_station_shipment_t *shipment)
{
    int64_t id = job->call->id, station_id;
    int ret = lb_auth_merchant(job, db, token_hash, LB_KIND(LB_MERCHANT_STATION), station);
    if (ret != 0 || ((ret = lb_store_station_shipment_get(db, id, shipment, &station_id)) != 0 && ret != LB_ENOTFOUND))
        return ret;
    if (ret == LB_ENOTFOUND)
        return lb_call_job_fail(job, 404, "not_found", "no shipment %lld", (long long)id);
    if (station_id != station->id)
        return fail_not_this_station(job, id, shipment->pickup_point.id, station_id);
    return 0;
}

static int pick_list_work(lb_call_job_t *super, lb_db_t *db)
{
    station_job_t *job = (station_job_t *)super;
    lb_merchant_t station;
    lb_station_shipment_t shipment;
    lb_pick_entry_t *entries = NULL;
    size_t found = 0;
    int ret = station_shipment(super, db, job->token_hash, &station, &shipment);
    if (ret == 0 && (ret = lb_store_pick_list(db, shipment.id, &entries, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        write_shipment(w, "shipment", &shipment);
        lb_writer_array(w, "pick_list");
        for (size_t i = 0; i != found; ++i) {
            const lb_pick_entry_t *e = &entries[i];
            lb_writer_map(w, NULL);
            lb_writer_pack(w, "order_id:I,buyer_id:I", e->order_id, e->buyer_id);
            write_text_or_null(w, "buyer_name", e->buyer_name);
            write_text_or_null(w, "phone_last4", e->phone_last4);
            lb_writer_pack(w, "qty:I,status:s,collected:b,collected_at:N", e->qty, e->status, e->collected_at != 0,
                           e->collected_at);
            lb_writer_end(w);
        }
        lb_writer_end(w);
        lb_writer_end(w);
    }
    free(entries);
    return ret;
}

/* A job of a station's call on /v1/shipments/{id}/..., its bearer token read; NULL when it was answered 401. */
static station_job_t *station_job_new(lb_call_t *call)
{
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return NULL;
    station_job_t *job = lb_call_job_new(call, sizeof(*job));
    memcpy(job->token_hash, hash, sizeof(hash));
    return job;
}

void lb_handle_pick_list(lb_call_t *call)
{
    station_job_t *job = station_job_new(call);
    if (job != NULL)
        lb_call_job_submit(&job->super, pick_list_work);
}

/* ---- POST /v1/shipments/{id}/collect ----------------------------------------------------------------------------- */

static int collect_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_collection_t *c = &((station_job_t *)super)->collection;
    lb_merchant_t station;
    int ret = lb_auth_merchant(super, db, ((station_job_t *)super)->token_hash, LB_KIND(LB_MERCHANT_STATION), &station);
    if (ret != 0)
        return ret;
    c->station_id = station.id;
    if ((ret = lb_collection_apply(db, c)) != 0)
        return ret;
    long long shipment_id = (long long)c->shipment_id, order_id = (long long)c->order_id;
    switch (c->outcome) {
    case LB_COLLECTION_COLLECTED:
    case LB_COLLECTION_ALREADY:
        break;
    case LB_COLLECTION_NO_SHIPMENT:
        return lb_call_job_fail(super, 404, "not_found", "no shipment %lld", shipment_id);
    case LB_COLLECTION_OTHER_STATION:
        return fail_not_this_station(super, c->shipment_id, c->pickup_point_id, c->point_station_id);
    case LB_COLLECTION_NOT_IN_SHIPMENT:
        return lb_call_job_fail(super, 422, "invalid", "order_id: order %lld is not in shipment %lld", order_id, shipment_id);
    case LB_COLLECTION_NOT_DELIVERED:
        return lb_call_job_fail(super, 409, "conflict",
                                "shipment %lld is not delivered yet (%s): its orders are collected once it is", shipment_id,
                                c->delivery_status);
    case LB_COLLECTION_ORDER_NOT_DELIVERED:
        return lb_call_job_fail(super, 409, "conflict", "order %lld is %s: only a delivered order is collected", order_id,
                                c->order_status);
    }
    lb_writer_t *w = lb_call_job_answer(super, 200);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "shipment_id:I,order_id:I,status:s,collected_at:I,collected_by:I", c->shipment_id, c->order_id, "collected",
                   c->collected_at, c->collected_by);
    lb_writer_end(w);
    return 0;
}

void lb_handle_shipment_collect(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int64_t order_id;
    if (lb_body_collect(call->body, &order_id, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    station_job_t *job = station_job_new(call);
    if (job == NULL)
        return;
    job->collection.shipment_id = call->id;
    job->collection.order_id = order_id;
    lb_call_job_submit(&job->super, collect_work);
}
