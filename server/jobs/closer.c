/*
 * The group-buy closer. Once a second, on one loop thread, a database job closes the campaigns whose cut-off has come,
 * each in one transaction that locks its SKU row, then the campaign row, and reads the status again: when several
 * livebuyd processes race, exactly one closes a campaign. A campaign whose joined quantity reached min_qty succeeds:
 * its paid joins become one consolidated shipment to the pickup point, with a pick list; its unpaid joins keep their
 * normal expiry. Otherwise it fails: unpaid joins are released (stock back), paid joins are refunded (refund_required,
 * their units leave sold, a refund each for the outbox to push). Either way the campaign keeps the joined quantity it
 * was decided on (joined_qty_at_close), and joined_qty goes on counting only the joins still reserved or paid.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/jobs/closer.h"
#include "livebuy/codec/codec.h"
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/db/db.h"
#include "livebuy/db/periodic.h"
#include "livebuy/order/lanes.h"
#include "livebuy/jobs/refund_push.h"
#include "livebuy/order/refund.h"
#include "livebuy/order/shipping.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/shipments.h"

#define CLOSE_INTERVAL_MS 1000
#define CLOSE_LIMIT       50 /* campaigns closed by one job */

typedef struct st_closing_t {
    lb_periodic_t periodic;
    lb_order_ref_t due[CLOSE_LIMIT];
    size_t num_due;
    int64_t failed_skus[CLOSE_LIMIT]; /* SKUs that got units back, for the lanes */
    size_t num_failed;
    size_t num_stuck; /* due campaigns this run could not close (LB_EDB): the next run waits its interval */
} closing_t;

static closing_t closing;

/* The document of a succeeded campaign's shipment, with its pick list (docs/api.md "Shipping system"), in w. */
static int write_consolidated(lb_db_t *db, const lb_group_buy_t *gb, const lb_order_t *joins, size_t n, lb_writer_t *w)
{
    lb_pickup_point_t point;
    lb_sku_t sku;
    char title[LB_TEXT_SIZE(401)];
    int64_t cold_chain = 0, qty = 0;
    int ret;
    /* The rows a campaign names exist (foreign keys): LB_ENOTFOUND cannot happen, and is a database error if it does. */
    if ((ret = lb_store_pickup_point_get(db, gb->pickup_point_id, &point)) != 0 ||
        (ret = lb_store_sku_shipping(db, gb->sku_id, title, &cold_chain)) != 0 ||
        (ret = lb_store_sku_get(db, gb->sku_id, &sku)) != 0)
        return ret == LB_ENOTFOUND ? LB_EDB : ret;
    for (size_t i = 0; i != n; ++i)
        qty += joins[i].qty;
    lb_writer_map(w, NULL);
    lb_writer_integer(w, "group_buy_id", gb->id);
    lb_writer_array(w, "orders");
    for (size_t i = 0; i != n; ++i)
        lb_writer_integer(w, NULL, joins[i].id);
    lb_writer_end(w);
    lb_shipping_write_items(w, gb->sku_id, title, qty);
    lb_shipping_write_pickup_point(w, "pickup_point", &point);
    lb_writer_array(w, "pick_list");
    for (size_t i = 0; i != n; ++i) {
        lb_writer_map(w, NULL);
        lb_writer_pack(w, "order_id:I,buyer_id:I,qty:I", joins[i].id, joins[i].buyer_id, joins[i].qty);
        lb_writer_end(w);
    }
    lb_writer_end(w);
    lb_shipping_write_handling(w, cold_chain != 0, sku.weight_grams * qty);
    lb_writer_end(w);
    return w->failed ? LB_EDB : 0;
}

static int ship_paid_joins(lb_db_t *db, const lb_group_buy_t *gb, int64_t now)
{
    lb_order_t *joins;
    lb_writer_t w;
    size_t n;
    int ret = lb_store_group_buy_joins(db, gb->sku_id, gb->id, "paid", &joins, &n);
    if (ret != 0 || n == 0)
        goto Exit;
    lb_writer_init(&w, LB_FORMAT_JSON);
    if ((ret = write_consolidated(db, gb, joins, n, &w)) == 0) {
        int64_t *ids = lb_malloc(n * sizeof(*ids)), shipment_id;
        for (size_t i = 0; i != n; ++i)
            ids[i] = joins[i].id;
        lb_shipment_t shipment = {gb->sku_id, gb->id, gb->pickup_point_id, w.out.bytes, w.out.len, ids, n};
        ret = lb_store_shipment_create(db, &shipment, now, &shipment_id);
        free(ids);
    }
    free(w.out.bytes);
Exit:
    free(joins);
    return ret;
}

/*
 * A failed campaign: its unpaid joins are released (their units leave joined_qty with them), its paid joins refunded
 * (server/order/refund.c); *refunds counts the refunds, *refunded_qty their units, which lb_store_group_buy_close takes
 * off joined_qty.
 */
static int refund_or_release_joins(lb_db_t *db, const lb_group_buy_t *gb, int64_t coop_id, int64_t now, size_t *refunds,
                                   int64_t *refunded_qty)
{
    lb_order_t *joins;
    lb_refund_t refund;
    int64_t sku_id;
    size_t n, num_skus;
    /* The unpaid ones (locked) all at once: one statement for them, one for the SKU's counters, one for the campaign. */
    int ret = lb_store_group_buy_joins(db, gb->sku_id, gb->id, "reserved", &joins, &n);
    if (ret == 0 && n != 0)
        ret = lb_store_orders_release(db, joins, n, "cancelled", now, &sku_id, &num_skus);
    free(joins);
    if (ret != 0 || (ret = lb_store_group_buy_joins(db, gb->sku_id, gb->id, "paid", &joins, &n)) != 0)
        return ret;
    for (size_t i = 0; ret == 0 && i != n; ++i)
        if ((ret = lb_refund_campaign_failed(db, &joins[i], coop_id, now, &refund)) == 0 && refund.id != 0) {
            ++*refunds;
            *refunded_qty += joins[i].qty;
        }
    free(joins);
    return ret;
}

/* Closes one campaign; *failed is set when it failed (its SKU got units back). Another process may have closed it. */
static int close_one(lb_db_t *db, const lb_order_ref_t *due, int64_t now, int *failed)
{
    lb_sku_t sku;
    lb_group_buy_t gb;
    int ret;
    *failed = 0;
    if ((ret = lb_db_begin(db)) != 0 || ((ret = lb_store_sku_lock(db, due->sku_id, &sku)) != 0 && ret != LB_ENOTFOUND) ||
        ((ret = lb_store_group_buy_lock_row(db, due->sku_id, due->id, &gb)) != 0 && ret != LB_ENOTFOUND))
        return ret;
    if (ret == LB_ENOTFOUND || strcmp(gb.status, "open") != 0 || gb.closes_at > now) {
        lb_db_rollback(db);
        return 0;
    }
    int succeeded = gb.joined_qty >= gb.min_qty;
    size_t refunds = 0;
    int64_t refunded_qty = 0;
    if ((ret = succeeded ? ship_paid_joins(db, &gb, now)
                         : refund_or_release_joins(db, &gb, sku.merchant_id, now, &refunds, &refunded_qty)) != 0 ||
        (ret = lb_store_group_buy_close(db, &gb, succeeded ? "succeeded" : "failed", refunded_qty, now)) != 0 ||
        (ret = lb_db_commit(db)) != 0)
        return ret;
    for (size_t i = 0; i != refunds; ++i)
        lb_refund_count_created("campaign_failed", "pending");
    if (refunds != 0)
        lb_refund_push_wake();
    *failed = !succeeded;
    return 0;
}

static int closing_prepare(lb_periodic_t *periodic)
{
    closing.num_due = closing.num_failed = closing.num_stuck = 0;
    return 0;
}

static int closing_work(lb_periodic_t *periodic, lb_db_t *db)
{
    int64_t now = lb_now();
    int ret = lb_store_group_buys_due(db, now, CLOSE_LIMIT, closing.due, &closing.num_due);
    for (size_t i = 0; ret == 0 && i != closing.num_due; ++i) {
        int failed;
        /* After a deadlock the job runs again: a campaign it closed already is skipped, its SKU is counted once. */
        if ((ret = close_one(db, &closing.due[i], now, &failed)) == 0 && failed && closing.num_failed != CLOSE_LIMIT)
            closing.failed_skus[closing.num_failed++] = closing.due[i].sku_id;
        if (ret == LB_EDB) {
            /* This campaign's own trouble (a row it needs is not as it should be): said, and the campaigns due after
             * it are closed all the same; it is tried again at the next run. */
            lb_db_rollback(db);
            lb_log(LB_LOG_ERROR, "closing group-buy %lld of SKU %lld failed: left open, tried again in %d ms",
                   (long long)closing.due[i].id, (long long)closing.due[i].sku_id, CLOSE_INTERVAL_MS);
            ++closing.num_stuck;
            ret = 0;
        }
    }
    return ret;
}

static void closing_done(lb_periodic_t *periodic, int status)
{
    for (size_t i = 0; i != closing.num_failed; ++i)
        lb_lanes_stock_changed(closing.failed_skus[i]);
    /* A full page means more campaigns are due: go again at once rather than in a second. */
    if (status == 0 && closing.num_due == CLOSE_LIMIT && closing.num_stuck == 0)
        lb_periodic_again(periodic, 0);
}

void lb_closer_start(uv_loop_t *loop)
{
    lb_periodic_start(loop, &closing.periodic, CLOSE_INTERVAL_MS, CLOSE_INTERVAL_MS, closing_prepare, closing_work, closing_done);
}

void lb_closer_stop(void)
{
    lb_periodic_stop(&closing.periodic);
}
