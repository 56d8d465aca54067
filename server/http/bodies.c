/* Every route's body read into plain structs (livebuy/http/bodies.h): pure, fuzzed in tests/fuzz/fuzz_bodies.c. */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/request.h"
#include "livebuy/http/bodies.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"

int lb_body_merchant(const lb_value_t *body, lb_merchant_body_t *out, lb_input_error_t *err)
{
    int ret = lb_field_string(body, "name", 1, 1, 200, &out->name, err);
    return ret != 0 ? ret : lb_field_enum(body, "kind", 1, lb_merchant_kinds, &out->kind, err);
}

/* skus[i] into sku; err names the field as skus[i].NAME. */
static int read_sku(const lb_value_t *item, size_t i, lb_sku_t *sku, lb_input_error_t *err)
{
    char prefix[32];
    const char *name;
    snprintf(prefix, sizeof(prefix), "skus[%zu].", i);
    err->field_prefix = prefix;
    int ret = lb_field_string(item, "name", 1, 1, 200, &name, err);
    if (ret == 0 && (ret = lb_field_int(item, "price_cents", 1, 0, LB_PRICE_MAX, &sku->price_cents, err)) == 0 &&
        (ret = lb_field_int(item, "stock", 1, 0, LB_QUANTITY_MAX, &sku->stock, err)) == 0)
        ret = lb_field_int(item, "weight_grams", 1, 0, LB_WEIGHT_MAX, &sku->weight_grams, err);
    err->field_prefix = NULL;
    if (ret == 0)
        snprintf(sku->name, sizeof(sku->name), "%s", name);
    return ret;
}

int lb_body_product(const lb_value_t *body, lb_product_body_t *out, lb_input_error_t *err)
{
    const lb_value_t *skus;
    int ret;
    out->origin = out->description = "";
    out->cold_chain = 0;
    out->num_skus = 0;
    if ((ret = lb_field_string(body, "title", 1, 1, 200, &out->title, err)) != 0 ||
        (ret = lb_field_string(body, "unit", 1, 1, 32, &out->unit, err)) != 0 ||
        (ret = lb_field_string(body, "origin", 0, 0, 200, &out->origin, err)) != 0 ||
        (ret = lb_field_string(body, "description", 0, 0, LB_DESCRIPTION_MAX, &out->description, err)) != 0 ||
        (ret = lb_field_bool(body, "cold_chain", 0, &out->cold_chain, err)) != 0 ||
        (ret = lb_field_object_array(body, "skus", 1, LB_PRODUCT_SKUS_MAX, &skus, err)) != 0)
        return ret;
    for (const lb_value_t *item = lb_value_first(skus); item != NULL; item = lb_value_next(item), ++out->num_skus)
        if ((ret = read_sku(item, out->num_skus, &out->skus[out->num_skus], err)) != 0)
            return ret;
    return 0;
}

int lb_body_product_patch(const lb_value_t *body, lb_product_patch_t *out, lb_input_error_t *err)
{
    static const char *const fields[] = {"title", "unit", "origin", "cold_chain", "description", NULL};
    int ret;
    *out = (lb_product_patch_t){.cold_chain = -1};
    if ((ret = lb_fields_some_of(body, fields, err)) != 0 ||
        (ret = lb_field_string(body, "title", 0, 1, 200, &out->title, err)) != 0 ||
        (ret = lb_field_string(body, "unit", 0, 1, 32, &out->unit, err)) != 0 ||
        (ret = lb_field_string(body, "origin", 0, 0, 200, &out->origin, err)) != 0 ||
        (ret = lb_field_string(body, "description", 0, 0, LB_DESCRIPTION_MAX, &out->description, err)) != 0)
        return ret;
    return lb_field_bool(body, "cold_chain", 0, &out->cold_chain, err);
}

int lb_body_sku_patch(const lb_value_t *body, lb_sku_patch_t *out, lb_input_error_t *err)
{
    static const char *const fields[] = {"name", "price_cents", "weight_grams", NULL};
    int ret;
    *out = (lb_sku_patch_t){NULL, -1, -1};
    if ((ret = lb_fields_some_of(body, fields, err)) != 0 ||
        (ret = lb_field_string(body, "name", 0, 1, 200, &out->name, err)) != 0 ||
        (ret = lb_field_int(body, "price_cents", 0, 0, LB_PRICE_MAX, &out->price_cents, err)) != 0)
        return ret;
    return lb_field_int(body, "weight_grams", 0, 0, LB_WEIGHT_MAX, &out->weight_grams, err);
}

int lb_body_image_move(const lb_value_t *body, int64_t *position, lb_input_error_t *err)
{
    static const char *const fields[] = {"position", NULL};
    int ret = lb_fields_some_of(body, fields, err);
    return ret != 0 ? ret : lb_field_int(body, "position", 1, 0, LB_PRODUCT_IMAGES_MAX - 1, position, err);
}

int lb_body_restock(const lb_value_t *body, int64_t *qty, lb_input_error_t *err)
{
    return lb_field_int(body, "qty", 1, 1, LB_RESTOCK_MAX, qty, err);
}

int lb_body_adjust(const lb_value_t *body, lb_ledger_entry_t *out, lb_input_error_t *err)
{
    const char *reason;
    int ret = lb_field_int(body, "delta", 1, -LB_STOCK_MAX, LB_STOCK_MAX, &out->delta, err);
    if (ret != 0)
        return ret;
    if (out->delta == 0)
        return lb_input_error(err, 422, "invalid", "delta must not be 0");
    if ((ret = lb_field_string(body, "reason", 1, 1, LB_LEDGER_REASON_MAX, &reason, err)) != 0)
        return ret;
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    return 0;
}

int lb_body_live(const lb_value_t *body, lb_live_body_t *out, lb_input_error_t *err)
{
    int ret = lb_field_string(body, "title", 1, 1, 200, &out->title, err);
    return ret != 0 ? ret : lb_field_int(body, "starts_at", 1, 0, LB_TIME_MAX, &out->starts_at, err);
}

int lb_body_live_item(const lb_value_t *body, lb_live_item_t *out, lb_input_error_t *err)
{
    int ret;
    if ((ret = lb_field_int(body, "sku_id", 1, 1, INT64_MAX, &out->sku_id, err)) != 0 ||
        (ret = lb_field_int(body, "price_cents", 1, 0, LB_PRICE_MAX, &out->price_cents, err)) != 0 ||
        (ret = lb_field_int(body, "quota", 1, 1, LB_QUANTITY_MAX, &out->quota, err)) != 0 ||
        (ret = lb_field_int(body, "per_buyer_limit", 1, 1, LB_PER_BUYER_MAX, &out->per_buyer_limit, err)) != 0 ||
        (ret = lb_field_int(body, "opens_at", 1, 0, LB_TIME_MAX, &out->opens_at, err)) != 0 ||
        (ret = lb_field_int(body, "reserve_ttl", 0, LB_RESERVE_TTL_MIN, LB_RESERVE_TTL_MAX, &out->reserve_ttl, err)) != 0)
        return ret;
    return lb_field_int(body, "offer_id", 0, 1, INT64_MAX, &out->offer_id, err);
}

int lb_body_offer(const lb_value_t *body, int64_t now, lb_offer_t *out, lb_input_error_t *err)
{
    int ret;
    if ((ret = lb_field_int(body, "sku_id", 1, 1, INT64_MAX, &out->sku_id, err)) != 0 ||
        (ret = lb_field_int(body, "host_id", 1, 1, INT64_MAX, &out->host_id, err)) != 0 ||
        (ret = lb_field_int(body, "max_quota", 1, 1, LB_QUANTITY_MAX, &out->max_quota, err)) != 0 ||
        (ret = lb_field_int(body, "min_price_cents", 1, 0, LB_PRICE_MAX, &out->min_price_cents, err)) != 0 ||
        (ret = lb_field_int(body, "commission_bp", 1, 0, LB_COMMISSION_BP_MAX, &out->commission_bp, err)) != 0 ||
        (ret = lb_field_int(body, "starts_at", 1, 0, LB_TIME_MAX, &out->starts_at, err)) != 0 ||
        (ret = lb_field_int(body, "ends_at", 1, 0, LB_TIME_MAX, &out->ends_at, err)) != 0)
        return ret;
    if (out->ends_at <= out->starts_at)
        return lb_input_error(err, 422, "invalid", "ends_at must be after starts_at");
    if (out->ends_at <= now)
        return lb_input_error(err, 422, "invalid", "ends_at %lld is in the past", (long long)out->ends_at);
    return 0;
}

/* A required string field copied into a buffer of out. */
static int read_text(const lb_value_t *body, const char *name, size_t max_chars, char *out, size_t size, lb_input_error_t *err)
{
    const char *value;
    int ret = lb_field_string(body, name, 1, 1, max_chars, &value, err);
    if (ret == 0)
        snprintf(out, size, "%s", value);
    return ret;
}

int lb_body_pickup_point(const lb_value_t *body, lb_pickup_point_t *out, lb_input_error_t *err)
{
    int ret;
    if ((ret = read_text(body, "name", 200, out->name, sizeof(out->name), err)) != 0 ||
        (ret = read_text(body, "county", 100, out->county, sizeof(out->county), err)) != 0 ||
        (ret = read_text(body, "township", 100, out->township, sizeof(out->township), err)) != 0 ||
        (ret = read_text(body, "village", 100, out->village, sizeof(out->village), err)) != 0 ||
        (ret = read_text(body, "address", 400, out->address, sizeof(out->address), err)) != 0)
        return ret;
    return lb_field_int(body, "station_id", 0, 1, INT64_MAX, &out->station_id, err);
}

int lb_body_pickup_point_bind(const lb_value_t *body, int64_t *station_id, lb_input_error_t *err)
{
    return lb_field_int(body, "station_id", 1, 1, INT64_MAX, station_id, err);
}

int lb_body_group_buy(const lb_value_t *body, int64_t now, lb_group_buy_t *out, lb_input_error_t *err)
{
    int ret;
    if ((ret = lb_field_int(body, "sku_id", 1, 1, INT64_MAX, &out->sku_id, err)) != 0 ||
        (ret = lb_field_int(body, "pickup_point_id", 1, 1, INT64_MAX, &out->pickup_point_id, err)) != 0 ||
        (ret = lb_field_int(body, "price_cents", 1, 0, LB_PRICE_MAX, &out->price_cents, err)) != 0 ||
        (ret = lb_field_int(body, "min_qty", 1, 1, LB_QUANTITY_MAX, &out->min_qty, err)) != 0 ||
        (ret = lb_field_int(body, "per_buyer_limit", 1, 1, LB_PER_BUYER_MAX, &out->per_buyer_limit, err)) != 0)
        return ret;
    return lb_field_int(body, "closes_at", 1, now + 1, LB_TIME_MAX, &out->closes_at, err);
}

/* The order's one target: sku_id, live_item_id or group_buy_id. */
static int read_target(const lb_value_t *body, lb_order_body_t *out, lb_input_error_t *err)
{
    static const char *const target_fields[] = {"sku_id", "live_item_id", "group_buy_id"};
    int found = 0;
    for (size_t i = 0; i != LB_ARRAY_SIZE(target_fields); ++i) {
        int64_t id = 0;
        if (lb_field_int(body, target_fields[i], 0, 1, INT64_MAX, &id, err) != 0)
            return LB_EINPUT;
        if (id == 0)
            continue;
        if (found++ != 0)
            return lb_input_error(err, 422, "invalid", "give only one of sku_id, live_item_id, group_buy_id");
        out->target = (lb_order_target_t)i;
        out->target_id = id;
    }
    if (!found)
        return lb_input_error(err, 422, "invalid", "one of sku_id, live_item_id, group_buy_id is required");
    return 0;
}

static int read_ship_to(const lb_value_t *object, lb_ship_to_t *ship_to, lb_input_error_t *err)
{
    if (object->kind != LB_VALUE_OBJECT)
        return lb_input_error(err, 422, "invalid", "ship_to must be an object {name, phone, address}");
    err->field_prefix = "ship_to.";
    int ret = lb_field_string(object, "name", 1, 1, 100, &ship_to->name, err);
    if (ret == 0 && (ret = lb_field_string(object, "phone", 1, 5, 32, &ship_to->phone, err)) == 0)
        ret = lb_field_string(object, "address", 1, 1, 400, &ship_to->address, err);
    err->field_prefix = NULL;
    if (ret != 0)
        return ret;
    if (strspn(ship_to->phone, "0123456789+- ") != strlen(ship_to->phone))
        return lb_input_error(err, 422, "invalid", "ship_to.phone may hold only digits, +, - and spaces");
    return 0;
}

static int read_destination(const lb_value_t *body, lb_order_body_t *out, lb_input_error_t *err)
{
    const lb_value_t *ship_to = lb_value_member(body, "ship_to");
    if (ship_to != NULL && ship_to->kind == LB_VALUE_NULL)
        ship_to = NULL;
    if (lb_field_int(body, "pickup_point_id", 0, 1, INT64_MAX, &out->pickup_point_id, err) != 0)
        return LB_EINPUT;
    if (out->target == LB_TARGET_GROUP_BUY) {
        if (ship_to != NULL)
            return lb_input_error(err, 422, "invalid", "ship_to: group-buy joins are collected at the campaign's pickup point");
        return 0;
    }
    if ((ship_to != NULL) == (out->pickup_point_id != 0))
        return lb_input_error(err, 422, "invalid", "give either ship_to or pickup_point_id");
    if (ship_to == NULL)
        return 0;
    out->has_ship_to = 1;
    return read_ship_to(ship_to, &out->ship_to, err);
}

int lb_body_order(const lb_value_t *body, lb_order_body_t *out, lb_input_error_t *err)
{
    int ret;
    *out = (lb_order_body_t){0};
    if ((ret = read_target(body, out, err)) != 0 || (ret = lb_field_int(body, "qty", 1, 1, LB_ORDER_QTY_MAX, &out->qty, err)) != 0)
        return ret;
    return read_destination(body, out, err);
}

int lb_body_payment(const lb_value_t *body, lb_payment_body_t *out, lb_input_error_t *err)
{
    int ret;
    if ((ret = lb_field_int(body, "order_id", 1, 1, INT64_MAX, &out->order_id, err)) != 0 ||
        (ret = lb_field_string(body, "provider_txn_id", 1, 1, LB_PROVIDER_TXN_ID_MAX, &out->provider_txn_id, err)) != 0)
        return ret;
    return lb_field_int(body, "amount_cents", 1, 0, INT64_MAX, &out->amount_cents, err);
}

int lb_body_refund_reason(const lb_value_t *body, const char **reason, lb_input_error_t *err)
{
    return lb_field_string(body, "reason", 0, 0, LB_REFUND_REASON_MAX, reason, err);
}

int lb_body_refund_notice(const lb_value_t *body, lb_refund_notice_t *out, lb_input_error_t *err)
{
    static const char *const statuses[] = {"failed", "refunded", NULL}; /* index = lb_refund_notice_t.refunded */
    int ret;
    if ((ret = lb_field_int(body, "refund_id", 1, 1, INT64_MAX, &out->refund_id, err)) != 0 ||
        (ret = lb_field_int(body, "order_id", 1, 1, INT64_MAX, &out->order_id, err)) != 0 ||
        (ret = lb_field_enum(body, "status", 1, statuses, &out->refunded, err)) != 0 ||
        (ret = lb_field_int(body, "amount_cents", 1, 0, INT64_MAX, &out->amount_cents, err)) != 0 ||
        (ret = lb_field_string(body, "provider_refund_id", 0, 1, LB_PROVIDER_REFUND_ID_MAX, &out->provider_refund_id, err)) != 0)
        return ret;
    return lb_field_string(body, "message", 0, 0, LB_REFUND_MESSAGE_MAX, &out->message, err);
}

int lb_body_delivery_event(const lb_value_t *body, lb_delivery_event_t *out, lb_input_error_t *err)
{
    int type;
    int64_t named = out->shipment_id; /* the path's */
    int ret = lb_field_enum(body, "type", 1, lb_delivery_event_types, &type, err);
    if (ret != 0 || (ret = lb_field_string(body, "tracking_no", 1, 1, LB_TRACKING_NO_MAX, &out->tracking_no, err)) != 0 ||
        (ret = lb_field_int(body, "shipment_id", 0, 1, INT64_MAX, &named, err)) != 0)
        return ret;
    /* Named in the signed body, the shipment is part of what is signed: the event cannot be sent to another one's path. */
    if (named != out->shipment_id)
        return lb_input_error(err, 422, "invalid", "shipment_id: %lld is not the shipment of the path (%lld)", (long long)named,
                              (long long)out->shipment_id);
    out->type = (lb_delivery_event_type_t)type;
    return 0;
}

int lb_body_collect(const lb_value_t *body, int64_t *order_id, lb_input_error_t *err)
{
    return lb_field_int(body, "order_id", 1, 1, INT64_MAX, order_id, err);
}

int lb_body_sandbox_pay(const lb_value_t *body, int *outcome, lb_input_error_t *err)
{
    static const char *const outcomes[] = {"success", "failure", NULL};
    return lb_field_enum(body, "outcome", 1, outcomes, outcome, err);
}

int lb_body_sandbox_refund(const lb_value_t *body, int64_t *refund_id, lb_input_error_t *err)
{
    return lb_field_int(body, "refund_id", 1, 1, INT64_MAX, refund_id, err);
}

/* WeChat Pay */

#define EVENT_TYPE_MAX 32

/* A member of object that must be an object; NULL (and err set, 400) when it is absent or not one. */
static const lb_value_t *object_member(const lb_value_t *object, const char *name, lb_input_error_t *err)
{
    const lb_value_t *member = lb_value_member(object, name);
    if (member == NULL || member->kind != LB_VALUE_OBJECT) {
        lb_input_error(err, 400, "malformed", "%s%s must be an object", err->field_prefix != NULL ? err->field_prefix : "", name);
        return NULL;
    }
    return member;
}

int lb_body_wechatpay_envelope(const lb_value_t *body, size_t max_ciphertext, lb_wechatpay_envelope_t *out, lb_input_error_t *err)
{
    static const char *const algorithms[] = {"AEAD_AES_256_GCM", NULL};
    const lb_value_t *sealed;
    int algorithm, ret = LB_EINPUT;
    out->associated_data = "";
    if (lb_field_string(body, "event_type", 1, 1, EVENT_TYPE_MAX, &out->event_type, err) != 0 ||
        (sealed = object_member(body, "resource", err)) == NULL)
        goto Exit;
    err->field_prefix = "resource.";
    if (lb_field_enum(sealed, "algorithm", 1, algorithms, &algorithm, err) != 0 ||
        lb_field_string(sealed, "ciphertext", 1, 1, max_ciphertext, &out->ciphertext, err) != 0 ||
        lb_field_string(sealed, "nonce", 1, 1, 128, &out->nonce, err) != 0 ||
        lb_field_string(sealed, "associated_data", 0, 0, 256, &out->associated_data, err) != 0)
        goto Exit;
    ret = 0;
Exit:
    err->field_prefix = NULL;
    if (ret != 0)
        err->status = 400; /* WeChat Pay's envelope is the protocol's, not a merchant's input: malformed */
    return ret;
}

int lb_body_wechatpay_trade_state(const lb_value_t *resource, const char **trade_state, lb_input_error_t *err)
{
    int ret = lb_field_string(resource, "trade_state", 1, 1, 32, trade_state, err);
    if (ret != 0)
        err->status = 400;
    return ret;
}

/* mchid, when both it and the setting are there, is this merchant's. */
static int check_mchid(const lb_value_t *resource, const char *expected, lb_input_error_t *err)
{
    const char *mchid = NULL;
    if (lb_field_string(resource, "mchid", 0, 1, 32, &mchid, err) != 0)
        return LB_EINPUT;
    if (mchid != NULL && expected != NULL && strcmp(mchid, expected) != 0)
        return lb_input_error(err, 422, "invalid", "mchid %s is not this merchant's", mchid);
    return 0;
}

/* amount.<total_name> in fen, and amount.currency when given (CNY: livebuy's cents are fen). */
static int read_amount(const lb_value_t *resource, const char *total_name, int64_t *total, lb_input_error_t *err)
{
    const lb_value_t *amount = object_member(resource, "amount", err);
    const char *currency = NULL;
    int ret = LB_EINPUT;
    if (amount == NULL)
        return LB_EINPUT;
    err->field_prefix = "amount.";
    if (lb_field_int(amount, total_name, 1, 0, INT64_MAX, total, err) == 0 &&
        lb_field_string(amount, "currency", 0, 1, 8, &currency, err) == 0)
        ret = 0;
    err->field_prefix = NULL;
    if (ret == 0 && currency != NULL && strcmp(currency, "CNY") != 0)
        ret = lb_input_error(err, 422, "invalid", "amount.currency must be CNY, not %s", currency);
    return ret;
}

/* livebuy's id in out_trade_no or out_refund_no (its decimal digits, as livebuy writes them); 0 when it names none. */
static int64_t id_of(const char *number)
{
    return lb_request_id(number, strlen(number));
}

int lb_body_wechatpay_payment(const lb_value_t *resource, const char *mchid, lb_wechatpay_payment_t *out, lb_input_error_t *err)
{
    int ret;
    if ((ret = check_mchid(resource, mchid, err)) != 0 ||
        (ret = lb_field_string(resource, "out_trade_no", 1, 1, LB_OUT_TRADE_NO_MAX, &out->out_trade_no, err)) != 0 ||
        (ret = lb_field_string(resource, "transaction_id", 1, 1, LB_PROVIDER_TXN_ID_MAX, &out->transaction_id, err)) != 0 ||
        (ret = read_amount(resource, "total", &out->amount_cents, err)) != 0)
        return ret;
    if ((out->order_id = id_of(out->out_trade_no)) == 0)
        return lb_input_error(err, 404, "not_found", "out_trade_no %s is not a livebuy order id", out->out_trade_no);
    return 0;
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

int lb_body_wechatpay_refund(const lb_value_t *resource, const char *event_type, const char *mchid, lb_wechatpay_refund_t *out,
                             lb_input_error_t *err)
{
    const char *expected_status, *out_refund_no, *out_trade_no;
    int ret;
    out->refund_id_text = out->account = NULL;
    if ((out->refunded = refund_outcome(event_type, &expected_status)) < 0)
        return LB_ENOTFOUND;
    if ((ret = check_mchid(resource, mchid, err)) != 0 ||
        (ret = lb_field_string(resource, "out_refund_no", 1, 1, LB_OUT_TRADE_NO_MAX, &out_refund_no, err)) != 0 ||
        (ret = lb_field_string(resource, "out_trade_no", 1, 1, LB_OUT_TRADE_NO_MAX, &out_trade_no, err)) != 0 ||
        (ret = lb_field_string(resource, "refund_status", 1, 1, 32, &out->refund_status, err)) != 0 ||
        (ret = lb_field_string(resource, "refund_id", 0, 1, LB_PROVIDER_REFUND_ID_MAX, &out->refund_id_text, err)) != 0 ||
        (ret = lb_field_string(resource, "user_received_account", 0, 0, 200, &out->account, err)) != 0 ||
        (ret = read_amount(resource, "refund", &out->amount_cents, err)) != 0)
        return ret;
    if (strcmp(out->refund_status, expected_status) != 0)
        return lb_input_error(err, 400, "malformed", "refund_status %s does not agree with %s", out->refund_status, event_type);
    out->refund_id = id_of(out_refund_no);
    out->order_id = id_of(out_trade_no);
    if (out->refund_id == 0 || out->order_id == 0)
        return lb_input_error(err, 404, "not_found", "%s %s is not a livebuy id",
                              out->refund_id == 0 ? "out_refund_no" : "out_trade_no",
                              out->refund_id == 0 ? out_refund_no : out_trade_no);
    return 0;
}
