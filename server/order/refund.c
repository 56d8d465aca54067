/*
 * Refunds: the one place that decides what a refund does to its order and the SKU's counters (docs/design.md
 * "Refunds"): the creation rule (each cause), the co-op's decisions and the provider's confirmation.
 */
#include <stdio.h>
#include <string.h>
#include "livebuy/base/metrics.h"
#include "livebuy/common.h"
#include "livebuy/model/refund.h"
#include "livebuy/order/refund.h"
#include "livebuy/order/payment.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"
#include "livebuy/store/payments.h"
#include "livebuy/store/shipments.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/refunds.h"

/* Copies at most max characters of text (UTF-8) into buf, cut at a character boundary. */
static void copy_chars(char *buf, size_t size, const char *text, size_t max)
{
    size_t at = 0, chars = 0;
    while (text[at] != '\0' && chars != max) {
        size_t next = at + 1;
        while ((text[next] & 0xC0) == 0x80)
            ++next;
        if (next >= size)
            break;
        at = next;
        ++chars;
    }
    memcpy(buf, text, at);
    buf[at] = '\0';
}

/* The refund's order goes from refund_required to refunded when the refund gave back the order's own payment. */
static int settle_order(lb_db_t *db, const lb_refund_t *refund, int64_t now)
{
    lb_order_t order;
    if (!lb_refund_is_orders_own(refund->cause))
        return 0;
    int ret = lb_store_order_lock(db, refund->sku_id, refund->order_id, &order);
    if (ret != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret; /* a refund always has its order */
    return strcmp(order.status, "refund_required") == 0 ? lb_store_order_set_status(db, &order, "refunded", now) : 0;
}

static int apply_notice(lb_db_t *db, lb_refund_t *refund, const lb_refund_notice_t *notice, int64_t now)
{
    char error[LB_REFUND_MESSAGE_MAX * 4 + 1], provider_id[LB_PROVIDER_REFUND_ID_MAX * 4 + 1];
    const char *last_error = NULL, *provider_refund_id = NULL;
    if (!notice->refunded) {
        copy_chars(error, sizeof(error), notice->message != NULL && notice->message[0] != '\0' ? notice->message : "failed",
                   LB_REFUND_MESSAGE_MAX);
        last_error = error;
    }
    if (notice->provider_refund_id != NULL && notice->provider_refund_id[0] != '\0') {
        copy_chars(provider_id, sizeof(provider_id), notice->provider_refund_id, LB_PROVIDER_REFUND_ID_MAX);
        provider_refund_id = provider_id;
    }
    int ret =
        lb_store_refund_set_outcome(db, refund, notice->refunded ? "refunded" : "failed", last_error, provider_refund_id, now);
    return ret != 0 || !notice->refunded ? ret : settle_order(db, refund, now);
}

int lb_refund_confirm(lb_db_t *db, const lb_refund_notice_t *notice, int64_t now, lb_refund_confirm_result_t *out)
{
    lb_refund_t refund;
    lb_sku_t sku;
    int ret;
    memset(out, 0, sizeof(*out));
    out->outcome = LB_REFUND_NOT_FOUND;
    /* Its SKU first, outside the transaction: the transaction then names it in every statement (one backend). */
    if ((ret = lb_store_refund_get(db, notice->refund_id, &refund)) != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    /* The SKU row lock comes before every order row (catalog.h); the refund's SKU never changes. */
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_sku_lock(db, refund.sku_id, &sku)) != 0 ||
        (ret = lb_store_refund_lock(db, refund.sku_id, notice->refund_id, &refund)) != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret;
    if (notice->order_id != 0 && notice->order_id != refund.order_id)
        return 0;
    out->order_id = refund.order_id;
    out->sku_id = refund.sku_id;
    snprintf(out->status, sizeof(out->status), "%s", refund.status);
    if (notice->amount_cents >= 0 && notice->amount_cents != refund.amount_cents) {
        out->outcome = LB_REFUND_WRONG_AMOUNT;
        return 0;
    }
    switch (lb_refund_notice_rule(refund.status, notice->refunded)) {
    case LB_REFUND_NOTICE_SAME:
        out->outcome = LB_REFUND_REPLAYED;
        return 0;
    case LB_REFUND_NOTICE_REFUSED:
        out->outcome = LB_REFUND_CONFLICT;
        return 0;
    case LB_REFUND_NOTICE_APPLY:
        break;
    }
    if ((ret = apply_notice(db, &refund, notice, now)) != 0)
        return ret;
    out->outcome = LB_REFUND_CONFIRMED;
    snprintf(out->status, sizeof(out->status), "%s", refund.status);
    return 1;
}

void lb_refund_count_confirmed(const lb_refund_confirm_result_t *result)
{
    if (result->outcome == LB_REFUND_CONFIRMED)
        lb_metrics_refund_event(strcmp(result->status, "refunded") == 0 ? LB_METRICS_REFUND_REFUNDED : LB_METRICS_REFUND_FAILED);
}

/* ---- Creation: the one rule (docs/design.md "Refunds") ---------------------------------------------------------------- */

static lb_metrics_refund_cause_t cause_metric(const char *cause)
{
    for (int i = 0; lb_refund_causes[i] != NULL; ++i)
        if (strcmp(cause, lb_refund_causes[i]) == 0)
            return (lb_metrics_refund_cause_t)i;
    return LB_METRICS_REFUND_BUYER;
}

void lb_refund_count_created(const char *cause, const char *status)
{
    lb_metrics_refund_created(cause_metric(cause));
    if (strcmp(status, "requested") == 0)
        lb_metrics_refund_event(LB_METRICS_REFUND_REQUESTED);
}

/* Writes the refund of a payment of order: cause, status, reason ("" for none); fills *out. */
static int create(lb_db_t *db, const lb_order_t *order, int64_t coop_id, const char *provider_txn_id, int64_t amount_cents,
                  const char *cause, const char *status, const char *reason, int64_t now, lb_refund_t *out)
{
    memset(out, 0, sizeof(*out));
    out->sku_id = order->sku_id;
    out->order_id = order->id;
    out->buyer_id = order->buyer_id;
    out->coop_id = coop_id;
    out->amount_cents = amount_cents;
    snprintf(out->provider_txn_id, sizeof(out->provider_txn_id), "%s", provider_txn_id);
    snprintf(out->cause, sizeof(out->cause), "%s", cause);
    snprintf(out->status, sizeof(out->status), "%s", status);
    snprintf(out->reason, sizeof(out->reason), "%s", reason != NULL ? reason : "");
    return lb_store_refund_create(db, out, now);
}

int lb_refund_for_payment(lb_db_t *db, const lb_order_t *order, int64_t coop_id, const char *provider_txn_id, int64_t amount_cents,
                          const char *cause, int64_t now, lb_refund_t *out)
{
    int ret = create(db, order, coop_id, provider_txn_id, amount_cents, cause, "pending", NULL, now, out);
    if (ret == LB_EDB_DUP) /* this money is going back already (refunds_payment): never twice */
        out->id = 0;
    return ret == LB_EDB_DUP ? 0 : ret;
}

/* The refund of the payment that paid order (locked), or LB_ENOTFOUND; the payment's transaction id and amount too. */
static int payment_of(lb_db_t *db, const lb_order_t *order, char *txn, size_t size, int64_t *amount_cents, lb_refund_t *refund)
{
    int ret = lb_store_order_payment(db, order->sku_id, order->id, txn, size, amount_cents);
    if (ret != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret; /* a paid order has its payment */
    return lb_store_refund_of_payment(db, order->sku_id, txn, refund);
}

int lb_refund_campaign_failed(lb_db_t *db, lb_order_t *join, int64_t coop_id, int64_t now, lb_refund_t *out)
{
    char txn[LB_TEXT_SIZE(LB_PROVIDER_TXN_ID_MAX)];
    int64_t amount_cents;
    int ret = payment_of(db, join, txn, sizeof(txn), &amount_cents, out);
    if (ret != LB_ENOTFOUND) {
        out->id = 0;
        return ret; /* refunded already (an older closer's run, the back-fill): its units left sold then */
    }
    if ((ret = lb_store_order_set_status(db, join, "refund_required", now)) != 0 ||
        (ret = lb_store_sku_add_counts(db, join->sku_id, 0, -join->qty, 0, now)) != 0)
        return ret;
    return create(db, join, coop_id, txn, amount_cents, "campaign_failed", "pending", NULL, now, out);
}

static int is_paid_or_further(const char *status)
{
    return strcmp(status, "paid") == 0 || strcmp(status, "handed_off") == 0 || strcmp(status, "shipped") == 0 ||
           strcmp(status, "delivered") == 0 || strcmp(status, "collected") == 0;
}

/*
 * Whether a paid order is still out of shipping's hands, so that its units can go back at once: a join of a campaign
 * still open (no shipment yet), or an order whose own shipment is pending and no dispatcher has claimed it (then the
 * shipment is cancelled here).
 */
static int take_back(lb_db_t *db, const lb_order_t *order, int *at_once)
{
    int ret;
    *at_once = 0;
    if (strcmp(order->status, "paid") != 0)
        return 0;
    if (order->group_buy_id != 0) {
        lb_group_buy_t gb;
        if ((ret = lb_store_group_buy_of_sku(db, order->sku_id, order->group_buy_id, &gb)) != 0)
            return ret == LB_ENOTFOUND ? LB_EDB : ret;
        if (strcmp(gb.status, "open") == 0) {
            *at_once = 1;
            return 0;
        }
    }
    return lb_store_order_shipment_cancel(db, order->sku_id, order->id, at_once);
}

int lb_refund_request(lb_db_t *db, lb_order_t *order, int64_t coop_id, const char *reason, int64_t now, lb_refund_request_t *req)
{
    char txn[LB_TEXT_SIZE(LB_PROVIDER_TXN_ID_MAX)];
    int64_t amount_cents;
    int at_once, ret;
    req->outcome = LB_REFUND_REQUEST_NOT_PAID;
    if (!is_paid_or_further(order->status)) {
        /* refund_required or refunded: its money is going back, or has, under a refund of its own */
        if ((ret = lb_store_refund_of_order(db, order->sku_id, order->id, &req->refund)) == 0)
            req->outcome = LB_REFUND_REQUEST_HAS_REFUND;
        return ret == LB_ENOTFOUND ? 0 : ret;
    }
    if ((ret = payment_of(db, order, txn, sizeof(txn), &amount_cents, &req->refund)) != LB_ENOTFOUND) {
        if (ret == 0)
            req->outcome = LB_REFUND_REQUEST_HAS_REFUND;
        return ret;
    }
    if ((ret = take_back(db, order, &at_once)) != 0 || (at_once && (ret = lb_store_order_unsell(db, order, now)) != 0))
        return ret;
    req->outcome = at_once ? LB_REFUND_REQUEST_AT_ONCE : LB_REFUND_REQUEST_REQUESTED;
    ret = create(db, order, coop_id, txn, amount_cents, "buyer", at_once ? "pending" : "requested", reason, now, &req->refund);
    return ret != 0 ? ret : 1;
}

/* ---- The co-op's decisions ------------------------------------------------------------------------------------------- */

/*
 * An approved request: the order's money goes back, and its goods have left (they were handed to shipping); a join
 * leaves its campaign's joined quantity, which counts the joins reserved or paid.
 */
static int approve(lb_db_t *db, const lb_refund_t *refund, int64_t now)
{
    lb_order_t order;
    int ret = lb_store_order_lock(db, refund->sku_id, refund->order_id, &order);
    if (ret != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret;
    if (!is_paid_or_further(order.status))
        return LB_EDB; /* one refund per payment: nothing else can have taken this order's money back */
    if ((ret = lb_store_order_set_status(db, &order, "refund_required", now)) != 0 ||
        (order.group_buy_id != 0 && (ret = lb_store_group_buy_add_joined(db, order.sku_id, order.group_buy_id, -order.qty)) != 0))
        return ret;
    return lb_store_refund_goods_gone(db, &order, now);
}

int lb_refund_decide_by(lb_db_t *db, int64_t refund_id, int64_t coop_id, lb_refund_decision_t decision, const char *reason,
                        int64_t now, lb_refund_decision_result_t *out)
{
    lb_sku_t sku;
    int ret;
    out->outcome = LB_REFUND_DECISION_NOT_FOUND;
    if ((ret = lb_store_refund_get(db, refund_id, &out->refund)) != 0 || out->refund.coop_id != coop_id)
        return ret == LB_ENOTFOUND ? 0 : ret;
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_store_sku_lock(db, out->refund.sku_id, &sku)) != 0 ||
        (ret = lb_store_refund_lock(db, out->refund.sku_id, refund_id, &out->refund)) != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret;
    const char *to = lb_refund_decide(out->refund.status, decision);
    if (to == NULL) {
        out->outcome = LB_REFUND_DECISION_CONFLICT;
        return 0;
    }
    if (decision == LB_REFUND_APPROVE && (ret = approve(db, &out->refund, now)) != 0)
        return ret;
    if ((ret = lb_store_refund_set_status(db, &out->refund, to, decision == LB_REFUND_REJECT ? reason : NULL, now)) != 0)
        return ret;
    out->outcome = LB_REFUND_DECIDED;
    return 1;
}

void lb_refund_count_decided(lb_refund_decision_t decision)
{
    static const lb_metrics_refund_event_t events[] = {LB_METRICS_REFUND_APPROVED, LB_METRICS_REFUND_REJECTED,
                                                       LB_METRICS_REFUND_RETRIED};
    lb_metrics_refund_event(events[decision]);
}
