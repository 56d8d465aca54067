/*
 * POST /v1/orders (buyer): decode and validate the request, hand it to the order path (server/order/targets.c routes
 * it to its SKU's lane), answer what was decided.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "livebuy/common.h"
#include "livebuy/base/civil_time.h"
#include "livebuy/base/request.h"
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/base/metrics.h"
#include "livebuy/order/fairness.h"
#include "livebuy/order/lanes.h"
#include "livebuy/order/order.h"
#include "livebuy/order/targets.h"

typedef struct st_order_call_t {
    lb_order_request_t request;
    lb_call_t *call; /* whose body's strings ship_to points to */
    lb_ship_to_t ship_to;
    uint64_t connection_id;
    int counted; /* it counts among its buyer's and connection's waiting orders (fairness.h) */
} order_call_t;

static const char *const target_fields[] = {"sku_id", "live_item_id", "group_buy_id"};

static void reply_order(lb_call_t *call, const lb_order_request_t *r)
{
    lb_writer_t w;
    lb_writer_start(call, &w);
    lb_writer_map(&w, NULL);
    lb_writer_integer(&w, "id", r->order_id);
    lb_writer_string(&w, "status", "reserved");
    lb_writer_integer(&w, "sku_id", r->sku_id);
    lb_writer_integer(&w, "qty", r->qty);
    lb_writer_integer(&w, "amount_cents", r->amount_cents);
    lb_writer_integer(&w, "expires_at", r->expires_at);
    if (r->live_item_id != 0)
        lb_writer_integer(&w, "live_item_id", r->live_item_id);
    if (r->group_buy_id != 0)
        lb_writer_integer(&w, "group_buy_id", r->group_buy_id);
    lb_writer_end(&w);
    lb_reply_written(call, 201, &w);
}

static void finish(order_call_t *oc)
{
    if (oc->counted)
        lb_fairness_leave(oc->request.buyer_id, oc->connection_id);
    oc->call->on_gone = NULL;
    lb_call_release(oc->call);
    free(oc);
}

/* The buyer's stream was reset (or the connection closed) while the order waited: a batch that has not taken it never will. */
static void order_gone(lb_call_t *call, void *data)
{
    order_call_t *oc = data;
    (void)call;
    lb_fairness_reset(oc->connection_id);
    lb_lanes_request_gone(&oc->request);
}

/*
 * Whether the buyer and the connection may have one more order waiting; else answers 429 for that client alone, or
 * closes a connection that resets orders as an attack does (h2o 2.2.5 has no way to send GOAWAY from a handler: the
 * socket is shut down, and h2o closes the connection as when its client leaves).
 */
static int admit(lb_call_t *call, order_call_t *oc)
{
    switch (lb_fairness_enter(oc->request.buyer_id, oc->connection_id)) {
    case LB_FAIRNESS_OK:
        oc->counted = 1;
        return 0;
    case LB_FAIRNESS_BUYER_FULL:
        lb_metrics_order(LB_OUTCOME_BUSY);
        lb_reply_error(call, 429, "busy", "buyer %lld has %u orders waiting for an answer already; retry once one is answered",
                       (long long)oc->request.buyer_id, lb_fairness_buyer_cap());
        return LB_EBUSY;
    case LB_FAIRNESS_CONNECTION_FULL:
        lb_metrics_order(LB_OUTCOME_BUSY);
        lb_reply_error(call, 429, "busy", "this connection has %u orders waiting for an answer already",
                       lb_fairness_connection_cap());
        return LB_EBUSY;
    case LB_FAIRNESS_CLOSE:
    default:
        lb_metrics_connection_closed_for_resets();
        lb_call_shutdown_connection(call, "too many orders reset on this connection");
        return LB_EBUSY;
    }
}

/* A 409 conflict for a reason that comes with a time (field, Unix seconds), said in China time between before and after. */
static void reply_conflict_at(lb_call_t *call, const char *reason, const char *field, int64_t t, const char *before,
                              const char *after)
{
    char when[LB_CHINA_TIME_SIZE];
    lb_time_format_china(t, when);
    lb_error_detail_t detail = {reason, {{field, t}}, 1};
    lb_reply_error_detail(call, 409, "conflict", &detail, "%s%s China time%s", before, when, after);
}

static void on_decided(lb_order_request_t *r)
{
    order_call_t *oc = (order_call_t *)r;
    lb_call_t *call = oc->call;
    lb_error_detail_t detail;

    lb_metrics_order(r->outcome);
    switch (r->outcome) {
    case LB_OUTCOME_REPLAYED:
        lb_call_add_header(call, "idempotent-replayed", "true");
        /* fallthrough */
    case LB_OUTCOME_RESERVED:
        reply_order(call, r);
        break;
    case LB_OUTCOME_KEY_REUSED:
        lb_reply_error(call, 422, "invalid", "Idempotency-Key %s was already used for a different order", r->idem_key);
        break;
    case LB_OUTCOME_SOLD_OUT:
        detail = (lb_error_detail_t){NULL, {{"left", r->left}}, 1};
        if (r->left > 0)
            lb_reply_error_detail(call, 409, "sold_out", &detail, "only %lld left", (long long)r->left);
        else
            lb_reply_error_detail(call, 409, "sold_out", &detail, "sold out");
        break;
    case LB_OUTCOME_LIMIT:
        detail = (lb_error_detail_t){NULL, {{"limit", r->limit}, {"held", r->held}}, 2};
        if (r->held > 0)
            lb_reply_error_detail(call, 422, "limit_exceeded", &detail, "at most %lld per buyer, and this buyer holds %lld already",
                                  (long long)r->limit, (long long)r->held);
        else
            lb_reply_error_detail(call, 422, "limit_exceeded", &detail, "at most %lld per buyer", (long long)r->limit);
        break;
    case LB_OUTCOME_NOT_OPEN:
        reply_conflict_at(call, "not_open", "opens_at", r->opens_at, "not open yet: opens at ", " (UTC+8)");
        break;
    case LB_OUTCOME_OFF_AIR:
        detail = (lb_error_detail_t){"off_air", {{0}}, 0};
        lb_reply_error_detail(call, 409, "conflict", &detail, "live item %lld is off air", (long long)r->target_id);
        break;
    case LB_OUTCOME_CLOSED:
        reply_conflict_at(call, "closed", "closes_at", r->closes_at, "the group-buy is closed (cut-off ", ")");
        break;
    case LB_OUTCOME_RETIRED:
        detail = (lb_error_detail_t){"retired", {{0}}, 0};
        lb_reply_error_detail(call, 409, "conflict", &detail, "SKU %lld is retired", (long long)r->sku_id);
        break;
    case LB_OUTCOME_NOT_FOUND:
        lb_reply_error(call, 404, "not_found", "no %s %lld", target_fields[r->target], (long long)r->target_id);
        break;
    case LB_OUTCOME_NO_PICKUP_POINT:
        lb_reply_error(call, 422, "invalid", "pickup_point_id: no pickup point %lld", (long long)r->pickup_point_id);
        break;
    case LB_OUTCOME_WRONG_PICKUP_POINT:
        lb_reply_error(call, 422, "invalid", "pickup_point_id: this group-buy delivers to pickup point %lld",
                       (long long)r->group_buy_pickup_point_id);
        break;
    case LB_OUTCOME_BUSY:
        lb_reply_failure(call, LB_EBUSY);
        break;
    case LB_OUTCOME_TIMED_OUT:
        lb_reply_error(call, 503, "unavailable", "the database did not take the order within %u ms; nothing was reserved",
                       call->config->order_wait_ms);
        break;
    case LB_OUTCOME_GONE:
        break; /* nobody to answer: the request was never worked */
    default:
        lb_reply_failure(call, LB_EDB_DOWN);
        break;
    }
    finish(oc);
}

/* Idempotency-Key (lb_call_idempotency_key); without one the server makes a key of its own. */
static int read_idempotency_key(lb_call_t *call, char *key, int *key_given, lb_input_error_t *err)
{
    /* A server key: this thread's random 64-bit prefix and a counter, unique without a random draw per order. */
    static _Thread_local uint64_t prefix, counter;
    int ret = lb_call_idempotency_key(call, key, err);
    if (ret != LB_ENOTFOUND) {
        *key_given = ret == 0;
        return ret;
    }
    while (prefix == 0)
        RAND_bytes((unsigned char *)&prefix, sizeof(prefix));
    /* "srv-%016llx-%llx" of prefix and counter, without printf's cost on every order */
    memcpy(key, "srv-", 4);
    char *end = lb_request_put_hex(key + 4, prefix, 16);
    *end++ = '-';
    *lb_request_put_hex(end, ++counter, 1) = '\0';
    return 0;
}

/* What the body asks for, into the request (the ship_to strings stay the call's body's). */
static void take_body(order_call_t *oc, const lb_order_body_t *body)
{
    lb_order_request_t *r = &oc->request;
    r->target = body->target;
    r->target_id = body->target_id;
    r->sku_id = r->target == LB_TARGET_SKU ? r->target_id : 0;
    r->live_item_id = r->target == LB_TARGET_LIVE_ITEM ? r->target_id : 0;
    r->group_buy_id = r->target == LB_TARGET_GROUP_BUY ? r->target_id : 0;
    r->qty = body->qty;
    r->pickup_point_id = body->pickup_point_id;
    if (body->has_ship_to) {
        oc->ship_to = body->ship_to;
        r->ship_to = &oc->ship_to;
    }
}

/*
 * The hash of everything the key stands for, to refuse the key's reuse with another order: SHA-256 of
 * "target|target_id|qty|pickup_point_id|name<US>phone<US>address", the bytes every stored hash was made of. Written
 * with copies: its longest (a 100-character name, an address of 400, four bytes a character) is over 2 KB.
 */
static void hash_request(lb_order_request_t *r)
{
    const char *name = r->ship_to != NULL ? r->ship_to->name : "", *phone = r->ship_to != NULL ? r->ship_to->phone : "",
               *address = r->ship_to != NULL ? r->ship_to->address : "";
    size_t name_len = strlen(name), phone_len = strlen(phone), address_len = strlen(address);
    size_t size = 4 * (20 + 1) + name_len + 1 + phone_len + 1 + address_len;
    char on_stack[2560], *text = size <= sizeof(on_stack) ? on_stack : lb_malloc(size), *p = text;
    const int64_t numbers[] = {(int64_t)r->target, r->target_id, r->qty, r->pickup_point_id};
    for (size_t i = 0; i != LB_ARRAY_SIZE(numbers); ++i) {
        p = lb_request_put_decimal(p, numbers[i], 1);
        *p++ = '|';
    }
    memcpy(p, name, name_len);
    p += name_len;
    *p++ = '\x1f';
    memcpy(p, phone, phone_len);
    p += phone_len;
    *p++ = '\x1f';
    memcpy(p, address, address_len);
    p += address_len;
    SHA256((const unsigned char *)text, (size_t)(p - text), r->request_hash);
    if (text != on_stack)
        free(text);
}

void lb_handle_order_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int64_t buyer_id;
    /* The body was read first (LB_ROUTE_BODY): a 415 or 400 comes before a 401. */
    if (lb_auth_buyer(call, &buyer_id) != 0)
        return;
    order_call_t *oc = lb_calloc(1, sizeof(*oc));
    lb_order_request_t *r = &oc->request;
    oc->call = call;
    oc->connection_id = call->req->conn->id;
    lb_call_retain(call);
    r->buyer_id = buyer_id;
    r->owner = oc;
    r->on_decided = on_decided;
    lb_order_body_t body;
    int ret = read_idempotency_key(call, r->idem_key, &r->key_given, &err);
    if (ret == 0 && (ret = lb_body_order(call->body, &body, &err)) == 0)
        take_body(oc, &body);
    if (ret != 0) {
        lb_reply_input_error(call, &err);
        finish(oc);
        return;
    }
    /* Only a key the buyer sent can come back with another body; a server key's hash stays zero. */
    if (r->key_given)
        hash_request(r);
    if (admit(call, oc) != 0) {
        finish(oc);
        return;
    }
    call->on_gone = order_gone;
    call->on_gone_data = oc;
    lb_targets_submit(call->loop, r);
}
