/*
 * Refunds: the one place that decides what a refund does to its order and the SKU's counters (docs/design.md
 * "Refunds"). This file holds the provider's confirmation; the creation rule (each cause) follows.
 */
#include <stdio.h>
#include <string.h>
#include "livebuy/base/metrics.h"
#include "livebuy/common.h"
#include "livebuy/model/refund.h"
#include "livebuy/order/refund.h"
#include "livebuy/store/catalog.h"
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
    if ((ret = lb_store_refund_get(db, notice->refund_id, &refund)) != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    /* The SKU row lock comes before every order row (catalog.h); the refund's SKU never changes. */
    if ((ret = lb_store_sku_lock(db, refund.sku_id, &sku)) != 0 ||
        (ret = lb_store_refund_lock(db, notice->refund_id, &refund)) != 0)
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
