/*
 * The payment transaction: order state machine for a provider's notify, stock moved to sold, and for a direct order the
 * shipment written to the outbox in the same transaction (the dispatcher pushes it later).
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/codec/codec.h"
#include "livebuy/common.h"
#include "livebuy/order/order.h"
#include "livebuy/order/payment.h"
#include "livebuy/order/refund.h"
#include "livebuy/order/shipping.h"
#include "livebuy/order/sku_actions.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"
#include "livebuy/store/lives.h"
#include "livebuy/store/orders.h"

static int is_status(const lb_order_t *order, const char *status)
{
    return strcmp(order->status, status) == 0;
}

/* The document the shipping system gets (docs/api.md "Shipping system"): the order's goods, how they travel, and where
 * the parcel goes (the buyer's address, or the pickup point with its place in the county-township-village net). */
static int add_shipment(lb_db_t *db, const lb_order_t *order, lb_sku_view_t *view)
{
    const lb_sku_t *sku = &view->sku;
    lb_pickup_point_t point;
    lb_writer_t w;
    int ret;
    if ((ret = lb_sku_view_shipping(db, view)) != 0)
        return ret;
    if (!order->has_ship_to && (ret = lb_store_pickup_point_get(db, order->pickup_point_id, &point)) != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret;
    lb_writer_init(&w, LB_FORMAT_JSON);
    lb_writer_map(&w, NULL);
    lb_writer_array(&w, "orders");
    lb_writer_integer(&w, NULL, order->id);
    lb_writer_end(&w);
    lb_shipping_write_items(&w, sku->id, view->title, order->qty);
    lb_shipping_write_handling(&w, view->cold_chain != 0, sku->weight_grams * order->qty);
    if (order->has_ship_to)
        lb_writer_pack(&w, "ship_to:{name:s,phone:s,address:s}", order->ship_to_name, order->ship_to_phone, order->ship_to_address);
    else
        lb_shipping_write_pickup_point(&w, "pickup_point", &point);
    lb_writer_end(&w);
    if (w.failed) {
        free(w.out.bytes);
        return LB_EDB;
    }
    lb_sku_view_add_shipment(view, order, w.out.bytes, w.out.len); /* which frees it */
    return 0;
}

static int mark_paid(lb_db_t *db, lb_payment_t *payment, lb_sku_view_t *sku, int64_t now)
{
    int ret;
    lb_sku_view_set_status(sku, payment->order, "paid", now); /* written with the batch's others */
    payment->outcome = LB_PAYMENT_APPLIED;
    /*
     * A group-buy's joins ship together, to its pickup point, when the campaign succeeds (server/jobs/closer.c); a join paid
     * after that ships on its own. The closer takes the SKU row lock too, so the status read here stays true.
     */
    if (payment->order->group_buy_id != 0) {
        lb_group_buy_t gb;
        if ((ret = lb_store_group_buy_of_sku(db, payment->order->sku_id, payment->order->group_buy_id, &gb)) != 0 || strcmp(gb.status, "succeeded") != 0)
            return ret == LB_ENOTFOUND ? 0 : ret;
    }
    return add_shipment(db, payment->order, sku);
}

/* A reserved order: its units move from reserved to sold (in the SKU and in its live item). */
static int pay_reserved(lb_db_t *db, lb_payment_t *payment, lb_sku_view_t *sku, int64_t now)
{
    const lb_order_t *order = payment->order;
    int ret = lb_sku_view_add(db, sku, order->live_item_id, -order->qty, order->qty); /* written once per batch */
    return ret != 0 ? ret : mark_paid(db, payment, sku, now);
}

/* This transaction's money goes back: its refund, of cause, for the SKU's co-op to see and the outbox to push. */
static int refund_payment(lb_db_t *db, lb_payment_t *payment, const lb_sku_view_t *sku, const char *cause, int64_t now)
{
    lb_refund_t refund;
    int ret = lb_refund_for_payment(db, payment->order, sku->sku.merchant_id, payment->provider_txn_id, payment->amount_cents,
                                    cause, now, &refund);
    payment->refund_id = refund.id;
    payment->refund_cause = cause;
    return ret;
}

/*
 * An order that expired or was cancelled: its units went back, so it takes them again if they are still there (from the
 * SKU's available stock, or from its live item's quota, which the SKU holds), straight to sold; else (and always for a
 * group-buy join) the money goes back.
 */
static int pay_released(lb_db_t *db, lb_payment_t *payment, lb_sku_view_t *sku, int64_t now)
{
    lb_order_t *order = payment->order;
    lb_alloc_target_t item;
    int ret = lb_sku_view_fresh(db, sku); /* the stock as the batch's actions before this one left it */
    if (ret != 0)
        return ret;
    int64_t left = LB_SKU_AVAILABLE(&sku->sku), from_held = 0;
    if (order->live_item_id != 0) {
        if ((ret = lb_store_live_item_lock(db, order->live_item_id, order->sku_id, 0, &item)) != 0)
            return ret;
        left = item.found ? item.left : 0;
        from_held = order->qty;
    }
    /* A released group-buy join does not come back: its campaign counted without it (or has closed). */
    if (left < order->qty || order->group_buy_id != 0) {
        payment->outcome = LB_PAYMENT_REFUND_REQUIRED;
        if ((ret = lb_store_order_set_status(db, order, "refund_required", now)) != 0)
            return ret;
        return refund_payment(db, payment, sku, "late_payment", now);
    }
    ret = lb_store_sku_add_counts(db, order->sku_id, 0, order->qty, -from_held, now);
    if (ret == 0 && from_held != 0)
        ret = lb_store_live_item_add_counts(db, order->sku_id, order->live_item_id, 0, order->qty);
    return ret != 0 ? ret : mark_paid(db, payment, sku, now);
}

/* A transaction id seen before: a replay of that notify (or a provider's id reused for another order). */
static int replay(lb_payment_t *payment, int64_t recorded_order_id, int refund_required)
{
    payment->outcome = recorded_order_id == payment->order_id ? LB_PAYMENT_REPLAYED : LB_PAYMENT_TXN_REUSED;
    payment->refund_required = refund_required;
    return 0;
}

/* Under the SKU and order locks: decides, changes the order and the stock, records the payment. */
static int settle(lb_db_t *db, lb_payment_t *payment, lb_sku_view_t *sku, int64_t now)
{
    lb_order_t *order = payment->order;
    const lb_payment_row_t *seen = lb_sku_view_payment(sku, payment->provider_txn_id); /* by this batch */
    if (seen == NULL)
        seen = lb_sku_view_recorded(sku, payment->provider_txn_id); /* before it (read with the batch's others) */
    if (seen != NULL)
        return replay(payment, seen->order_id, seen->refund_required);
    int ret = 0;
    if (payment->amount_cents != order->amount_cents) {
        payment->outcome = LB_PAYMENT_WRONG_AMOUNT;
        return 0;
    }
    if (is_status(order, "reserved"))
        ret = pay_reserved(db, payment, sku, now);
    else if (is_status(order, "expired") || is_status(order, "cancelled"))
        ret = pay_released(db, payment, sku, now);
    else {
        payment->outcome = LB_PAYMENT_REFUND_REQUIRED; /* paid by another transaction already (or being refunded) */
        ret = refund_payment(db, payment, sku, "paid_twice", now);
    }
    if (ret != 0)
        return ret;
    payment->refund_required = payment->outcome == LB_PAYMENT_REFUND_REQUIRED;
    /* Recorded with the batch's others; one recorded meanwhile by a transaction that did not wait for the SKU row makes
     * the batch run again, where it is a replay (sku_actions.c). */
    lb_sku_view_add_payment(
        sku, &(lb_payment_row_t){order->id, payment->amount_cents, payment->provider_txn_id, payment->refund_required, order->sku_id});
    return 0;
}

int lb_payment_settle(lb_db_t *db, lb_payment_t *payment, lb_sku_view_t *sku, int64_t now)
{
    payment->refund_required = 0;
    payment->refund_id = 0;
    int ret = settle(db, payment, sku, now);
    if (ret != 0)
        return ret;
    return payment->outcome == LB_PAYMENT_APPLIED || payment->outcome == LB_PAYMENT_REFUND_REQUIRED;
}
