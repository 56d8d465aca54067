/*
 * libFuzzer targets for the body of every route (livebuy/http/bodies.h), one per wire format (FUZZ_MSGPACK 0:
 * fuzz_bodies_json, 1: fuzz_bodies_msgpack). The first byte picks the route's reader; the rest is the body, decoded as
 * the call layer decodes it and read as the handler reads it. A body that is taken holds what the route's limits say;
 * one that is refused has a status the API documents and a message that can go out in a JSON answer; and the same
 * document, written in the other format and decoded again, is taken or refused the same way, with the same message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/codec/codec.h"
#include "livebuy/http/bodies.h"
#include "fuzz_check.h"

#ifndef FUZZ_MSGPACK
#define FUZZ_MSGPACK 0
#endif

#define NOW 1796400000

static const lb_format_t format = FUZZ_MSGPACK ? LB_FORMAT_MSGPACK : LB_FORMAT_JSON;

/* Characters (code points) of a UTF-8 string. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; ++s)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int text_within(const char *s, size_t min, size_t max)
{
    size_t n = chars(s);
    return n >= min && n <= max;
}

/* Everything a route's reader made, and a summary of it to compare across formats. */
typedef struct st_outcome_t {
    int ret;
    lb_input_error_t err;
    char summary[256];
} outcome_t;

static const char *const refund_events[] = {"REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED", "TRANSACTION.SUCCESS"};

#define ROUTES 24

/* Runs route's reader on body and checks what it made when it took it. */
static void read_body(unsigned route, unsigned variant, const lb_value_t *body, outcome_t *o)
{
    lb_input_error_t *err = &o->err;
    int ret;
    memset(o, 0, sizeof(*o));
    switch (route) {
    case 0: {
        lb_merchant_body_t m;
        if ((ret = lb_body_merchant(body, &m, err)) == 0)
            CHECK(text_within(m.name, 1, 200) && m.kind >= 0 && m.kind <= 3);
        break;
    }
    case 1: {
        lb_product_body_t *p = lb_malloc(sizeof(*p));
        if ((ret = lb_body_product(body, p, err)) == 0) {
            CHECK(text_within(p->title, 1, 200) && text_within(p->unit, 1, 32) && text_within(p->origin, 0, 200));
            CHECK(text_within(p->description, 0, LB_DESCRIPTION_MAX) && (p->cold_chain == 0 || p->cold_chain == 1));
            CHECK(p->num_skus >= 1 && p->num_skus <= LB_PRODUCT_SKUS_MAX);
            for (size_t i = 0; i != p->num_skus; ++i)
                CHECK(text_within(p->skus[i].name, 1, 200) && p->skus[i].price_cents >= 0 &&
                      p->skus[i].price_cents <= LB_PRICE_MAX && p->skus[i].stock >= 0 && p->skus[i].stock <= LB_QUANTITY_MAX &&
                      p->skus[i].weight_grams >= 0 && p->skus[i].weight_grams <= LB_WEIGHT_MAX);
            snprintf(o->summary, sizeof(o->summary), "%zu %lld", p->num_skus, (long long)p->skus[p->num_skus - 1].price_cents);
        }
        free(p);
        break;
    }
    case 2: {
        lb_product_patch_t p;
        if ((ret = lb_body_product_patch(body, &p, err)) == 0)
            CHECK((p.title != NULL || p.unit != NULL || p.origin != NULL || p.description != NULL || p.cold_chain != -1) &&
                  (p.title == NULL || text_within(p.title, 1, 200)) && (p.unit == NULL || text_within(p.unit, 1, 32)));
        break;
    }
    case 3: {
        lb_sku_patch_t p;
        if ((ret = lb_body_sku_patch(body, &p, err)) == 0)
            CHECK((p.name != NULL || p.price_cents != -1 || p.weight_grams != -1) && p.price_cents <= LB_PRICE_MAX &&
                  p.weight_grams <= LB_WEIGHT_MAX);
        break;
    }
    case 4: {
        int64_t qty = 0;
        if ((ret = lb_body_restock(body, &qty, err)) == 0)
            CHECK(qty >= 1 && qty <= LB_RESTOCK_MAX);
        break;
    }
    case 5: {
        lb_ledger_entry_t e = {0};
        if ((ret = lb_body_adjust(body, &e, err)) == 0)
            CHECK(e.delta != 0 && e.delta >= -LB_STOCK_MAX && e.delta <= LB_STOCK_MAX &&
                  text_within(e.reason, 1, LB_LEDGER_REASON_MAX));
        break;
    }
    case 6: {
        lb_live_body_t l;
        if ((ret = lb_body_live(body, &l, err)) == 0)
            CHECK(text_within(l.title, 1, 200) && l.starts_at >= 0 && l.starts_at <= LB_TIME_MAX);
        break;
    }
    case 7: {
        lb_live_item_t item = {.reserve_ttl = 0};
        if ((ret = lb_body_live_item(body, &item, err)) == 0)
            CHECK(item.sku_id > 0 && item.quota >= 1 && item.per_buyer_limit >= 1 && item.per_buyer_limit <= LB_PER_BUYER_MAX &&
                  (item.reserve_ttl == 0 || (item.reserve_ttl >= LB_RESERVE_TTL_MIN && item.reserve_ttl <= LB_RESERVE_TTL_MAX)));
        break;
    }
    case 8: {
        lb_offer_t offer = {0};
        if ((ret = lb_body_offer(body, NOW, &offer, err)) == 0)
            CHECK(offer.ends_at > offer.starts_at && offer.ends_at > NOW && offer.commission_bp >= 0 &&
                  offer.commission_bp <= LB_COMMISSION_BP_MAX);
        break;
    }
    case 9: {
        lb_pickup_point_t p = {0};
        if ((ret = lb_body_pickup_point(body, &p, err)) == 0)
            CHECK(text_within(p.name, 1, 200) && text_within(p.village, 1, 100) && text_within(p.address, 1, 400) &&
                  p.station_id >= 0);
        break;
    }
    case 10: {
        int64_t station_id = 0;
        if ((ret = lb_body_pickup_point_bind(body, &station_id, err)) == 0)
            CHECK(station_id > 0);
        break;
    }
    case 11: {
        lb_group_buy_t gb = {0};
        if ((ret = lb_body_group_buy(body, NOW, &gb, err)) == 0)
            CHECK(gb.closes_at > NOW && gb.min_qty >= 1 && gb.sku_id > 0 && gb.pickup_point_id > 0);
        break;
    }
    case 12: {
        lb_order_body_t order;
        if ((ret = lb_body_order(body, &order, err)) == 0) {
            CHECK(order.target_id > 0 && order.qty >= 1 && order.qty <= LB_ORDER_QTY_MAX);
            if (order.target == LB_TARGET_GROUP_BUY)
                CHECK(!order.has_ship_to);
            else
                CHECK(order.has_ship_to != (order.pickup_point_id != 0));
            if (order.has_ship_to)
                CHECK(text_within(order.ship_to.name, 1, 100) && text_within(order.ship_to.phone, 5, 32) &&
                      strspn(order.ship_to.phone, "0123456789+- ") == strlen(order.ship_to.phone) &&
                      text_within(order.ship_to.address, 1, 400));
            snprintf(o->summary, sizeof(o->summary), "%d %lld %lld %lld %d", (int)order.target, (long long)order.target_id,
                     (long long)order.qty, (long long)order.pickup_point_id, order.has_ship_to);
        }
        break;
    }
    case 13: {
        lb_payment_body_t p;
        if ((ret = lb_body_payment(body, &p, err)) == 0)
            CHECK(p.order_id > 0 && p.amount_cents >= 0 && text_within(p.provider_txn_id, 1, LB_PROVIDER_TXN_ID_MAX));
        break;
    }
    case 14: {
        const char *reason = NULL;
        if ((ret = lb_body_refund_reason(body, &reason, err)) == 0)
            CHECK(reason == NULL || text_within(reason, 0, LB_REFUND_REASON_MAX));
        break;
    }
    case 15: {
        lb_refund_notice_t n = {0};
        if ((ret = lb_body_refund_notice(body, &n, err)) == 0)
            CHECK(n.refund_id > 0 && n.order_id > 0 && (n.refunded == 0 || n.refunded == 1) && n.amount_cents >= 0);
        break;
    }
    case 16: {
        lb_delivery_event_t e = {0};
        if ((ret = lb_body_delivery_event(body, &e, err)) == 0)
            CHECK(e.type <= LB_DELIVERY_DELIVERED && text_within(e.tracking_no, 1, LB_TRACKING_NO_MAX));
        break;
    }
    case 17: {
        int64_t order_id = 0;
        if ((ret = lb_body_collect(body, &order_id, err)) == 0)
            CHECK(order_id > 0);
        break;
    }
    case 18: {
        int outcome = -1;
        if ((ret = lb_body_sandbox_pay(body, &outcome, err)) == 0)
            CHECK(outcome == 0 || outcome == 1);
        break;
    }
    case 19: {
        int64_t refund_id = 0;
        if ((ret = lb_body_sandbox_refund(body, &refund_id, err)) == 0)
            CHECK(refund_id > 0);
        break;
    }
    case 20: {
        lb_wechatpay_envelope_t e;
        if ((ret = lb_body_wechatpay_envelope(body, 4096, &e, err)) == 0)
            CHECK(text_within(e.event_type, 1, 32) && text_within(e.ciphertext, 1, 4096) && text_within(e.nonce, 1, 128));
        else
            CHECK(err->status == 400);
        break;
    }
    case 23: {
        int64_t position = -1;
        if ((ret = lb_body_image_move(body, &position, err)) == 0)
            CHECK(position >= 0 && position < LB_PRODUCT_IMAGES_MAX);
        break;
    }
    case 21: {
        const char *trade_state;
        lb_wechatpay_payment_t p;
        if ((ret = lb_body_wechatpay_trade_state(body, &trade_state, err)) != 0) {
            CHECK(err->status == 400);
            break;
        }
        if ((ret = lb_body_wechatpay_payment(body, variant & 1 ? "1900000001" : NULL, &p, err)) == 0)
            CHECK(p.order_id > 0 && p.amount_cents >= 0 && strtoll(p.out_trade_no, NULL, 10) == p.order_id);
        break;
    }
    case 22: {
        lb_wechatpay_refund_t r;
        const char *event_type = refund_events[variant % LB_ARRAY_SIZE(refund_events)];
        ret = lb_body_wechatpay_refund(body, event_type, variant & 4 ? "1900000001" : NULL, &r, err);
        if (ret == LB_ENOTFOUND) {
            CHECK(strncmp(event_type, "REFUND.", 7) != 0);
            o->ret = ret;
            return;
        }
        if (ret == 0)
            CHECK(r.refund_id > 0 && r.order_id > 0 && r.amount_cents >= 0 &&
                  r.refunded == (strcmp(event_type, "REFUND.SUCCESS") == 0));
        break;
    }
    default:
        abort();
    }
    o->ret = ret;
    if (ret != 0) {
        CHECK(ret == LB_EINPUT);
        CHECK(err->status == 400 || err->status == 404 || err->status == 422);
        CHECK(err->code != NULL && err->message[0] != '\0' && err->field_prefix == NULL);
        lb_writer_t w; /* the message goes out in a JSON answer */
        lb_writer_init(&w, LB_FORMAT_JSON);
        lb_writer_string(&w, NULL, err->message);
        CHECK(!w.failed);
        free(w.out.bytes);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char decode_err[256];
    lb_fields_t f, other;
    outcome_t first, again;
    if (size == 0)
        return 0;
    unsigned route = data[0] % ROUTES, variant = data[0] / ROUTES;
    lb_fields_init(&f);
    lb_fields_init(&other);
    if (lb_codec_decode(format, (const char *)data + 1, size - 1, &f, decode_err, sizeof(decode_err)) != 0)
        return 0; /* the codec's own targets hold the decoders to their rules */
    read_body(route, variant, lb_fields_root(&f), &first);
    /* The same document in the other format reads the same. */
    lb_writer_t w;
    lb_writer_init(&w, FUZZ_MSGPACK ? LB_FORMAT_JSON : LB_FORMAT_MSGPACK);
    lb_writer_value(&w, lb_fields_root(&f));
    CHECK(!w.failed);
    CHECK(lb_codec_decode(w.format, w.out.bytes, w.out.len, &other, decode_err, sizeof(decode_err)) == 0);
    read_body(route, variant, lb_fields_root(&other), &again);
    CHECK(first.ret == again.ret && strcmp(first.summary, again.summary) == 0);
    CHECK(first.ret == 0 || (first.err.status == again.err.status && strcmp(first.err.message, again.err.message) == 0));
    free(w.out.bytes);
    lb_fields_dispose(&f);
    lb_fields_dispose(&other);
    return 0;
}
