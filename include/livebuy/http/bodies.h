/*
 * What the body of each route that takes one must hold: every route's field checks, read from a decoded body
 * (livebuy/codec/fields.h) into plain structs, strings pointing into the body. Pure: no h2o, no database, no clock (a
 * reader that needs the time takes now), so the handlers call them and the fuzz targets (tests/fuzz/fuzz_bodies.c) do
 * too, on JSON and msgpack alike. Each returns 0, or LB_EINPUT with err set (the handler answers it); out is filled only
 * as far as the fields were read.
 */
#ifndef LIVEBUY_BODIES_H
#define LIVEBUY_BODIES_H

#include <stdint.h>
#include "livebuy/base/limits.h"
#include "livebuy/codec/fields.h"
#include "livebuy/model/group_buy.h"
#include "livebuy/model/live.h"
#include "livebuy/model/offer.h"
#include "livebuy/model/product_image.h"
#include "livebuy/model/reservation.h"
#include "livebuy/model/sale.h"
#include "livebuy/model/sku.h"
#include "livebuy/model/stock.h"
#include "livebuy/order/payment.h"
#include "livebuy/order/refund.h"
#include "livebuy/order/shipping.h"

#define LB_PRODUCT_SKUS_MAX 50 /* SKUs of one POST /v1/products */
#define LB_RESTOCK_MAX      1000000000
#define LB_RESERVE_TTL_MIN  10     /* a live item's own reserve_ttl, seconds */
#define LB_RESERVE_TTL_MAX  604800 /* a week */
#define LB_OUT_TRADE_NO_MAX 32     /* WeChat Pay's out_trade_no and out_refund_no */

/* POST /v1/merchants */
typedef struct st_lb_merchant_body_t {
    const char *name;
    int kind; /* lb_merchant_kinds */
} lb_merchant_body_t;
int lb_body_merchant(const lb_value_t *body, lb_merchant_body_t *out, lb_input_error_t *err);

/* POST /v1/products: the product, and its SKUs' name, price_cents, stock and weight_grams (lb_sku_t's) */
typedef struct st_lb_product_body_t {
    const char *title, *unit, *origin, *description; /* origin and description "" when absent */
    int cold_chain;
    size_t num_skus;
    lb_sku_t skus[LB_PRODUCT_SKUS_MAX];
} lb_product_body_t;
int lb_body_product(const lb_value_t *body, lb_product_body_t *out, lb_input_error_t *err);
/* PATCH /v1/products/{id} and PATCH /v1/skus/{id}: at least one known field, each with its limits at creation */
int lb_body_product_patch(const lb_value_t *body, lb_product_patch_t *out, lb_input_error_t *err);
int lb_body_sku_patch(const lb_value_t *body, lb_sku_patch_t *out, lb_input_error_t *err);
/* PATCH /v1/products/{id}/images/{image_id}: position (0 first) */
int lb_body_image_move(const lb_value_t *body, int64_t *position, lb_input_error_t *err);
/* POST /v1/skus/{id}/restock: qty */
int lb_body_restock(const lb_value_t *body, int64_t *qty, lb_input_error_t *err);
/* POST /v1/skus/{id}/adjust: delta (not 0) and reason (into out->reason) */
int lb_body_adjust(const lb_value_t *body, lb_ledger_entry_t *out, lb_input_error_t *err);

/* POST /v1/lives */
typedef struct st_lb_live_body_t {
    const char *title;
    int64_t starts_at;
} lb_live_body_t;
int lb_body_live(const lb_value_t *body, lb_live_body_t *out, lb_input_error_t *err);
/* POST /v1/lives/{id}/items: sku_id, price_cents, quota, per_buyer_limit, opens_at, and reserve_ttl and offer_id when
 * given (left alone otherwise) */
int lb_body_live_item(const lb_value_t *body, lb_live_item_t *out, lb_input_error_t *err);
/* POST /v1/offers: its terms, ending after they start and after now */
int lb_body_offer(const lb_value_t *body, int64_t now, lb_offer_t *out, lb_input_error_t *err);

/* POST /v1/pickup-points: its names and address (copied into out's own buffers), station_id when given */
int lb_body_pickup_point(const lb_value_t *body, lb_pickup_point_t *out, lb_input_error_t *err);
/* PATCH /v1/pickup-points/{id}: station_id */
int lb_body_pickup_point_bind(const lb_value_t *body, int64_t *station_id, lb_input_error_t *err);
/* POST /v1/group-buys: closing after now */
int lb_body_group_buy(const lb_value_t *body, int64_t now, lb_group_buy_t *out, lb_input_error_t *err);

/* POST /v1/orders: one target, qty, and where it goes (ship_to or pickup_point_id; a group-buy's is its campaign's) */
typedef struct st_lb_order_body_t {
    lb_order_target_t target;
    int64_t target_id, qty, pickup_point_id; /* pickup_point_id 0 when not given */
    int has_ship_to;
    lb_ship_to_t ship_to;
} lb_order_body_t;
int lb_body_order(const lb_value_t *body, lb_order_body_t *out, lb_input_error_t *err);

/* POST /v1/payments/notify (generic) */
typedef struct st_lb_payment_body_t {
    int64_t order_id, amount_cents;
    const char *provider_txn_id;
} lb_payment_body_t;
int lb_body_payment(const lb_value_t *body, lb_payment_body_t *out, lb_input_error_t *err);
/* POST /v1/orders/{id}/refund and a refund's rejection: reason (0-200 characters), left alone when absent */
int lb_body_refund_reason(const lb_value_t *body, const char **reason, lb_input_error_t *err);
/* POST /v1/refunds/notify (generic) */
int lb_body_refund_notice(const lb_value_t *body, lb_refund_notice_t *out, lb_input_error_t *err);
/* POST /v1/shipments/{id}/events: type and tracking_no */
int lb_body_delivery_event(const lb_value_t *body, lb_delivery_event_t *out, lb_input_error_t *err);
/* POST /v1/shipments/{id}/collect: order_id */
int lb_body_collect(const lb_value_t *body, int64_t *order_id, lb_input_error_t *err);
/* POST /sandbox/pay/{id}: outcome (0 success, 1 failure); POST /sandbox/refunds: refund_id */
int lb_body_sandbox_pay(const lb_value_t *body, int *outcome, lb_input_error_t *err);
int lb_body_sandbox_refund(const lb_value_t *body, int64_t *refund_id, lb_input_error_t *err);

/*
 * POST /v1/payments/wechatpay/notify. The envelope (400 when it is wrong): event_type and the sealed resource, whose
 * ciphertext may be up to max_ciphertext characters (the body's length). Then the decrypted resource: of a
 * TRANSACTION.* event, trade_state first (the rest is read only for a successful payment: mchid, which must be mchid
 * when both are set, out_trade_no a livebuy order id, transaction_id, amount.total in CNY); of a REFUND.* event, its
 * fields, refund_status agreeing with the event (out_refund_no and out_trade_no livebuy ids: 404 otherwise).
 */
typedef struct st_lb_wechatpay_envelope_t {
    const char *event_type, *ciphertext, *nonce, *associated_data; /* associated_data "" when absent */
} lb_wechatpay_envelope_t;
int lb_body_wechatpay_envelope(const lb_value_t *body, size_t max_ciphertext, lb_wechatpay_envelope_t *out, lb_input_error_t *err);
int lb_body_wechatpay_trade_state(const lb_value_t *resource, const char **trade_state, lb_input_error_t *err);
typedef struct st_lb_wechatpay_payment_t {
    int64_t order_id, amount_cents;
    const char *out_trade_no, *transaction_id;
} lb_wechatpay_payment_t;
int lb_body_wechatpay_payment(const lb_value_t *resource, const char *mchid, lb_wechatpay_payment_t *out, lb_input_error_t *err);
typedef struct st_lb_wechatpay_refund_t {
    int64_t refund_id, order_id, amount_cents;
    int refunded;                                         /* 1 REFUND.SUCCESS; 0 REFUND.ABNORMAL or REFUND.CLOSED */
    const char *refund_id_text, *refund_status, *account; /* the provider's refund_id and user_received_account, or NULL */
} lb_wechatpay_refund_t;
/* LB_ENOTFOUND (err not set) for an event_type that is no refund outcome livebuy knows: taken, nothing to do */
int lb_body_wechatpay_refund(const lb_value_t *resource, const char *event_type, const char *mchid, lb_wechatpay_refund_t *out,
                             lb_input_error_t *err);

#endif
