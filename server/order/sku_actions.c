/*
 * Per-SKU lanes for single-order actions (see livebuy/sku_actions.h): the lane engine's kind (livebuy/order/lane.h) whose
 * batches take their actions when sent, one batch in flight per lane. Lanes belong to one loop thread each.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <h2o/memory.h>
#include "livebuy/common.h"
#include "livebuy/base/metrics.h"
#include "livebuy/order/lane.h"
#include "livebuy/order/sku_actions.h"
#include "livebuy/order/directory.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/lives.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/payments.h"
#include "livebuy/store/reservations.h"
#include "livebuy/store/shipments.h"

/* Actions per transaction at most: a batch holds its SKU's row for as long as it runs. */
#define MAX_ACTIONS_PER_BATCH 200

static int batch_work(lb_lane_batch_t *const *batches, size_t n, lb_db_t *db);
static void batch_done(lb_lane_batch_t *batch, int status);

static lb_lane_kind_t action_lanes = {
    .link_offset = offsetof(lb_sku_action_t, next),
    .lane_size = sizeof(lb_lane_t),
    .batch_size = sizeof(lb_lane_batch_t),
    .max_batch = MAX_ACTIONS_PER_BATCH,
    .max_in_flight = 1,
    .max_queued = SIZE_MAX,
    .work = batch_work,
    .done = batch_done,
};

typedef struct st_resolve_job_t {
    lb_db_job_t job;
    lb_sku_action_t *action;
} resolve_job_t;

void lb_sku_view_add_payment(lb_sku_view_t *view, const lb_payment_row_t *payment)
{
    view->payments = lb_grow(view->payments, view->num_payments, &view->payments_capacity, sizeof(*view->payments));
    view->payments[view->num_payments] = *payment;
    view->payments[view->num_payments++].sku_id = view->sku.id;
}

const lb_payment_row_t *lb_sku_view_payment(const lb_sku_view_t *view, const char *provider_txn_id)
{
    for (size_t i = 0; i != view->num_payments; ++i)
        if (strcmp(view->payments[i].provider_txn_id, provider_txn_id) == 0)
            return &view->payments[i];
    return NULL;
}

const lb_payment_row_t *lb_sku_view_recorded(const lb_sku_view_t *view, const char *provider_txn_id)
{
    for (size_t i = 0; i != view->num_recorded; ++i)
        if (strcmp(view->recorded[i].provider_txn_id, provider_txn_id) == 0)
            return &view->recorded[i];
    return NULL;
}

void lb_sku_view_add_shipment(lb_sku_view_t *view, const lb_order_t *order, char *payload, size_t payload_len)
{
    view->shipments = lb_grow(view->shipments, view->num_shipments, &view->shipments_capacity, sizeof(*view->shipments));
    /* order_ids points at the action's order, which lives until the batch is answered */
    view->shipments[view->num_shipments++] = (lb_shipment_t){.sku_id = order->sku_id,
                                                             .pickup_point_id = order->pickup_point_id,
                                                             .payload = payload,
                                                             .payload_len = payload_len,
                                                             .order_ids = &order->id,
                                                             .num_orders = 1};
}

void lb_sku_view_set_status(lb_sku_view_t *view, lb_order_t *order, const char *status, int64_t now)
{
    snprintf(order->status, sizeof(order->status), "%s", status);
    order->updated_at = now;
    for (size_t i = 0; i != view->num_statuses; ++i)
        if (view->statuses[i] == order)
            return;
    view->statuses = lb_grow(view->statuses, view->num_statuses, &view->statuses_capacity, sizeof(*view->statuses));
    view->statuses[view->num_statuses++] = order;
}

void lb_sku_view_cancel(lb_sku_view_t *view, lb_order_t *order)
{
    view->cancels = lb_grow(view->cancels, view->num_cancels, &view->cancels_capacity, sizeof(*view->cancels));
    view->cancels[view->num_cancels++] = order;
}

static void drop_shipments(lb_sku_view_t *view)
{
    for (size_t i = 0; i != view->num_shipments; ++i)
        free((char *)view->shipments[i].payload);
    view->num_shipments = 0;
}

/* What the views of a job's SKUs gathered, to be written in one statement of each kind for all of them. */
typedef struct st_gathered_t {
    lb_sku_counts_t *skus;
    lb_live_item_counts_t *items;
    lb_payment_row_t *payments;
    lb_shipment_t *shipments;
    const lb_order_t **statuses;
    lb_order_t **cancels;
    size_t num_skus, num_items, num_payments, num_shipments, num_statuses, num_cancels;
} gathered_t;

static void gather(gathered_t *g, const lb_sku_view_t *views, size_t n)
{
    size_t items = 0, payments = 0, shipments = 0, statuses = 0, cancels = 0;
    for (size_t i = 0; i != n; ++i) {
        items += views[i].num_items;
        payments += views[i].num_payments - views[i].payments_written;
        shipments += views[i].num_shipments;
        statuses += views[i].num_statuses;
        cancels += views[i].num_cancels;
    }
    *g = (gathered_t){.skus = lb_malloc(n * sizeof(*g->skus)),
                      .items = lb_malloc((items + 1) * sizeof(*g->items)),
                      .payments = lb_malloc((payments + 1) * sizeof(*g->payments)),
                      .shipments = lb_malloc((shipments + 1) * sizeof(*g->shipments)),
                      .statuses = lb_malloc((statuses + 1) * sizeof(*g->statuses)),
                      .cancels = lb_malloc((cancels + 1) * sizeof(*g->cancels))};
    for (size_t i = 0; i != n; ++i) {
        const lb_sku_view_t *v = &views[i];
        if (v->reserved != 0 || v->sold != 0)
            g->skus[g->num_skus++] = (lb_sku_counts_t){v->sku.id, v->reserved, v->sold, 0};
        for (size_t k = 0; k != v->num_items; ++k)
            g->items[g->num_items++] = (lb_live_item_counts_t){v->sku.id, v->items[k].id, v->items[k].reserved, v->items[k].sold};
        for (size_t k = v->payments_written; k != v->num_payments; ++k)
            g->payments[g->num_payments++] = v->payments[k];
        for (size_t k = 0; k != v->num_shipments; ++k)
            g->shipments[g->num_shipments++] = v->shipments[k];
        for (size_t k = 0; k != v->num_statuses; ++k)
            g->statuses[g->num_statuses++] = v->statuses[k];
        for (size_t k = 0; k != v->num_cancels; ++k)
            g->cancels[g->num_cancels++] = v->cancels[k];
    }
}

/*
 * Writes what views[0..n) gathered: one statement for the SKUs' counters, one for the live items', one for the
 * payments, the shipments' few, the cancellations' few (lb_store_orders_release_each); a job of many SKUs' actions
 * makes as many round trips as one SKU's.
 */
static int flush_views(lb_db_t *db, lb_sku_view_t *views, size_t n, int64_t now)
{
    gathered_t g;
    int ret = 0;
    gather(&g, views, n);
    if (g.num_statuses != 0)
        ret = lb_store_orders_write_status(db, g.statuses, g.num_statuses);
    if (ret == 0 && g.num_cancels != 0) {
        int64_t *restocked = lb_malloc(g.num_cancels * sizeof(*restocked)); /* the SKUs: each cancel's done tells its lanes */
        size_t num_restocked;
        ret = lb_store_orders_release_each(db, g.cancels, g.num_cancels, "cancelled", now, restocked, &num_restocked);
        free(restocked);
    }
    if (ret == 0 && g.num_skus != 0)
        ret = lb_store_skus_add_counts(db, g.skus, g.num_skus, now);
    if (ret == 0 && g.num_items != 0)
        ret = lb_store_live_items_add_counts(db, g.items, g.num_items);
    if (ret == 0 && g.num_payments != 0)
        ret = lb_store_payments_insert(db, g.payments, g.num_payments, now);
    if (ret == 0 && g.num_shipments != 0)
        ret = lb_store_shipments_create(db, g.shipments, g.num_shipments, now);
    for (size_t i = 0; i != n; ++i) {
        views[i].reserved = views[i].sold = 0;
        views[i].num_items = views[i].num_statuses = views[i].num_cancels = 0;
        views[i].payments_written = views[i].num_payments;
        drop_shipments(&views[i]);
    }
    free(g.statuses);
    free(g.cancels);
    free(g.skus);
    free(g.items);
    free(g.payments);
    free(g.shipments);
    return ret;
}

int lb_sku_view_flush(lb_db_t *db, lb_sku_view_t *view)
{
    return flush_views(db, view, 1, view->now);
}

void lb_sku_view_dispose(lb_sku_view_t *view)
{
    drop_shipments(view);
    free(view->payments);
    free(view->shipments);
    free(view->recorded);
    free(view->statuses);
    free(view->cancels);
}

int lb_sku_view_add(lb_db_t *db, lb_sku_view_t *view, int64_t live_item_id, int64_t reserved, int64_t sold)
{
    size_t i = 0;
    if (live_item_id != 0) {
        while (i != view->num_items && view->items[i].id != live_item_id)
            ++i;
        if (i == LB_SKU_VIEW_ITEMS) {
            int ret = lb_sku_view_flush(db, view);
            if (ret != 0)
                return ret;
            i = 0;
        }
        if (i == view->num_items) {
            view->items[i].id = live_item_id;
            view->items[i].reserved = view->items[i].sold = 0;
            ++view->num_items;
        }
        view->items[i].reserved += reserved;
        view->items[i].sold += sold;
    }
    view->reserved += reserved;
    view->sold += sold;
    return 0;
}

int lb_sku_view_fresh(lb_db_t *db, lb_sku_view_t *view)
{
    int ret = lb_sku_view_flush(db, view);
    if (ret != 0 || !view->stale)
        return ret;
    ret = lb_store_sku_lock(db, view->sku.id, &view->sku);
    view->stale = 0;
    return ret == LB_ENOTFOUND ? LB_EDB : ret;
}

int lb_sku_view_shipping(lb_db_t *db, lb_sku_view_t *view)
{
    if (view->shipping_read)
        return 0;
    int ret = lb_store_sku_shipping(db, view->sku.id, view->title, &view->cold_chain);
    view->shipping_read = ret == 0;
    return ret == LB_ENOTFOUND ? LB_EDB : ret;
}

/* Whether another action of the batch names the same order. */
static int order_named_twice(const lb_sku_action_t *actions, const lb_sku_action_t *action)
{
    for (const lb_sku_action_t *a = actions; a != NULL; a = a->next)
        if (a != action && a->order_id == action->order_id)
            return 1;
    return 0;
}

static int by_ref(const void *a, const void *b)
{
    const lb_order_ref_t *x = a, *y = b;
    if (x->sku_id != y->sku_id)
        return x->sku_id < y->sku_id ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/*
 * Locks and reads the orders of the job's batches (views[i].sku.id 0: a SKU not found, skipped) in one statement,
 * instead of one per action. An order that two actions of a batch name (a notify sent twice, a payment and a
 * cancellation) is left to each action's own lock when its turn comes, so that the later one sees what the earlier one
 * changed. Sets each action's locked (1: a->order and a->found are read).
 */
static int lock_orders(lb_db_t *db, lb_lane_batch_t *const *batches, size_t n, const lb_sku_view_t *views)
{
    size_t num_refs = 0, num_skus = 0, found = 0;
    for (size_t i = 0; i != n; ++i)
        num_refs += views[i].sku.id != 0 ? batches[i]->count : 0;
    lb_order_ref_t *refs = lb_malloc((num_refs + 1) * sizeof(*refs));
    int64_t *skus = lb_malloc((n + 1) * sizeof(*skus));
    num_refs = 0;
    for (size_t i = 0; i != n; ++i) {
        lb_sku_action_t *actions = batches[i]->items;
        if (views[i].sku.id == 0)
            continue;
        for (lb_sku_action_t *a = actions; a != NULL; a = a->next)
            if ((a->locked = !order_named_twice(actions, a)) != 0)
                refs[num_refs++] = (lb_order_ref_t){views[i].sku.id, a->order_id};
        if (num_skus == 0 || skus[num_skus - 1] != views[i].sku.id)
            skus[num_skus++] = views[i].sku.id;
    }
    lb_order_t *rows = lb_malloc((num_refs + 1) * sizeof(*rows));
    int ret = 0;
    if (num_refs != 0 && num_skus == 1) { /* a hot SKU's batch: the one-SKU statement */
        int64_t *ids = lb_malloc(num_refs * sizeof(*ids));
        for (size_t k = 0; k != num_refs; ++k)
            ids[k] = refs[k].id;
        ret = lb_store_orders_lock(db, skus[0], ids, num_refs, rows, &found);
        free(ids);
    } else if (num_refs != 0) {
        qsort(refs, num_refs, sizeof(*refs), by_ref);
        ret = lb_store_orders_lock_refs(db, refs, num_refs, skus, num_skus, rows, &found);
    }
    for (size_t i = 0; ret == 0 && i != n; ++i) {
        for (lb_sku_action_t *a = batches[i]->items; a != NULL && views[i].sku.id != 0; a = a->next)
            for (size_t k = 0; a->locked && k != found && !a->found; ++k)
                if (rows[k].id == a->order_id && rows[k].sku_id == views[i].sku.id) {
                    a->order = rows[k];
                    a->found = 1;
                }
    }
    free(rows);
    free(skus);
    free(refs);
    return ret;
}

/* The payments recorded already under the transaction ids of the job's notifies, in one statement; each view gets its SKU's. */
static int read_recorded(lb_db_t *db, lb_lane_batch_t *const *batches, size_t n, lb_sku_view_t *views)
{
    size_t num = 0, found = 0;
    for (size_t i = 0; i != n; ++i)
        for (lb_sku_action_t *a = batches[i]->items; a != NULL && views[i].sku.id != 0; a = a->next)
            num += a->provider_txn_id != NULL;
    if (num == 0)
        return 0;
    int64_t *skus = lb_malloc(num * sizeof(*skus));
    const char **txns = lb_malloc(num * sizeof(*txns));
    lb_payment_row_t *rows = lb_malloc(num * sizeof(*rows));
    num = 0;
    for (size_t i = 0; i != n; ++i)
        for (lb_sku_action_t *a = batches[i]->items; a != NULL && views[i].sku.id != 0; a = a->next)
            if (a->provider_txn_id != NULL) {
                skus[num] = views[i].sku.id;
                txns[num++] = a->provider_txn_id;
            }
    int ret = lb_store_payments_recorded(db, skus, txns, num, rows, &found);
    for (size_t i = 0; ret == 0 && i != n; ++i) {
        lb_sku_view_t *v = &views[i];
        for (size_t k = 0; k != found; ++k)
            if (rows[k].sku_id == v->sku.id) {
                if (v->recorded == NULL)
                    v->recorded = lb_malloc(found * sizeof(*v->recorded));
                v->recorded[v->num_recorded++] = rows[k];
            }
    }
    free(rows);
    free(txns);
    free(skus);
    return ret;
}

/*
 * One SKU's actions inside the job's transaction, its row and its orders locked and read by the job: each action
 * applied; what they write in gathered numbers stays in the view for the job to write. Sets *changed
 * when something is to be committed. Returns 0, or an LB_E* code for the transaction.
 */
static int run_batch(lb_db_t *db, lb_lane_batch_t *batch, lb_sku_view_t *view, int64_t now, int *changed)
{
    lb_sku_action_t *actions = batch->items;
    int64_t sku_id = batch->lane->sku_id;
    int ret, mine = 0;

    if (view->sku.id == 0)
        return 0; /* no such SKU: no action finds its order, which is their answer */
    for (lb_sku_action_t *a = actions; a != NULL; a = a->next) {
        if (!a->locked) {
            /* Named by an action before it too, perhaps: what that one set is written first, then read. */
            if ((ret = lb_sku_view_flush(db, view)) != 0)
                return ret;
            if ((ret = lb_store_order_lock(db, sku_id, a->order_id, &a->order)) != 0 && ret != LB_ENOTFOUND)
                return ret;
            a->found = ret == 0;
        }
        if (!a->found)
            continue;
        if ((ret = a->type->apply(db, a, view, now)) < 0)
            return ret == LB_ENOTFOUND ? 0 : ret; /* a row the action needs is gone: the rest of the batch finds nothing */
        if (ret == 1)
            mine = view->stale = 1; /* the next action that decides on the stock reads it again */
    }
    *changed |= mine;
    return 0;
}

/* Locks the rows of the batches' SKUs (ascending, as the batches are) in one statement, each into its batch's view. */
static int lock_skus(lb_db_t *db, lb_lane_batch_t *const *batches, size_t n, lb_sku_view_t *views)
{
    int64_t *ids = lb_malloc(n * sizeof(*ids));
    lb_sku_t *skus = lb_malloc(n * sizeof(*skus));
    size_t m = 0;
    for (size_t i = 0; i != n; ++i)
        if (batches[i]->items != NULL) /* none: every client went while the batch waited for its job */
            ids[m++] = batches[i]->lane->sku_id;
    int ret = m != 0 ? lb_store_skus_lock(db, ids, m, skus) : 0;
    for (size_t i = 0, j = 0; ret == 0 && i != n; ++i)
        if (batches[i]->items != NULL)
            views[i].sku = skus[j++]; /* id 0: no such SKU */
    free(skus);
    free(ids);
    return ret;
}

/*
 * What shipments say about the SKUs of the batches with a payment among their actions (a payment may make a shipment),
 * read in one statement when there are several: a payment spread over SKUs read its SKU's title in a round trip of
 * its own (lb_sku_view_shipping), some 20 a job of the catalog scenario. One SKU's batch keeps reading it when needed.
 */
static int read_shipping(lb_db_t *db, lb_lane_batch_t *const *batches, size_t n, lb_sku_view_t *views)
{
    int64_t *ids = lb_malloc(n * sizeof(*ids));
    size_t *of = lb_malloc(n * sizeof(*of)), m = 0;
    for (size_t i = 0; i != n; ++i) {
        const lb_sku_action_t *a = batches[i]->items;
        while (a != NULL && a->provider_txn_id == NULL)
            a = a->next;
        if (a != NULL && views[i].sku.id != 0) {
            of[m] = i;
            ids[m++] = views[i].sku.id;
        }
    }
    int ret = 0;
    if (m > 1) {
        lb_sku_shipping_t *rows = lb_malloc(m * sizeof(*rows));
        ret = lb_store_skus_shipping(db, ids, m, rows);
        for (size_t j = 0; ret == 0 && j != m; ++j) {
            lb_sku_view_t *view = &views[of[j]];
            if (rows[j].sku_id == 0)
                continue; /* its product gone: lb_sku_view_shipping says so if a payment needs it */
            memcpy(view->title, rows[j].title, sizeof(view->title));
            view->cold_chain = rows[j].cold_chain;
            view->shipping_read = 1;
        }
        free(rows);
    }
    free(of);
    free(ids);
    return ret;
}

/* The details that the job's actions asked for (lb_sku_action_t.details), read together at its end. */
static int read_details(lb_db_t *db, lb_lane_batch_t *const *batches, size_t n)
{
    size_t num = 0;
    for (size_t i = 0; i != n; ++i)
        for (lb_sku_action_t *a = batches[i]->items; a != NULL; a = a->next)
            num += a->details != NULL;
    if (num == 0)
        return 0;
    const lb_order_t **orders = lb_malloc(num * sizeof(*orders));
    lb_order_details_t **details = lb_malloc(num * sizeof(*details));
    num = 0;
    for (size_t i = 0; i != n; ++i)
        for (lb_sku_action_t *a = batches[i]->items; a != NULL; a = a->next)
            if (a->details != NULL) {
                orders[num] = &a->order;
                details[num++] = a->details;
            }
    int ret = lb_store_orders_details_each(db, orders, num, details);
    free(details);
    free(orders);
    return ret;
}

/*
 * A job's transaction: the batches of one or more SKUs (in ascending sku_id order, so two jobs lock their rows in the
 * same order), their rows locked at once, their counters, payments and shipments written at once, committed once.
 */
static int batch_work(lb_lane_batch_t *const *batches, size_t n, lb_db_t *db)
{
    int64_t now = lb_now();
    lb_sku_view_t *views = lb_calloc(n, sizeof(*views));
    int ret, changed = 0;

    for (size_t i = 0; i != n; ++i) {
        views[i].now = now;
        for (lb_sku_action_t *a = batches[i]->items; a != NULL; a = a->next) {
            a->found = 0;
            a->details = NULL;
            a->type->reset(a);
        }
    }
    if ((ret = lb_db_begin(db)) == 0 && (ret = lock_skus(db, batches, n, views)) == 0 &&
        (ret = read_shipping(db, batches, n, views)) == 0 && (ret = lock_orders(db, batches, n, views)) == 0 &&
        (ret = read_recorded(db, batches, n, views)) == 0) {
        for (size_t i = 0; ret == 0 && i != n; ++i)
            if (batches[i]->items != NULL)
                ret = run_batch(db, batches[i], &views[i], now, &changed);
        if (ret == 0 && changed)
            ret = flush_views(db, views, n, now);
        if (ret == 0)
            ret = read_details(db, batches, n);
    }
    for (size_t i = 0; i != n; ++i)
        lb_sku_view_dispose(&views[i]);
    free(views);
    if (ret == 0 && changed)
        return lb_db_commit(db);
    lb_db_rollback(db);
    /* A transaction id recorded meanwhile by a transaction that did not wait for the SKU row: run again, a replay. */
    return ret == LB_EDB_DUP ? LB_EDB_RETRY : ret;
}

void lb_sku_actions_share_jobs(unsigned jobs, unsigned skus_per_job, unsigned shards)
{
    action_lanes.max_jobs = jobs;
    action_lanes.max_lanes_per_job = skus_per_job;
    action_lanes.shards = shards;
}

static void batch_done(lb_lane_batch_t *batch, int status)
{
    for (lb_sku_action_t *a = batch->items, *next; a != NULL; a = next) {
        next = a->next;
        a->type->done(a, status);
    }
}

static void enqueue(uv_loop_t *loop, lb_sku_action_t *action)
{
    lb_lane_submit(loop, lb_lane_open(&action_lanes, action->order.sku_id), action); /* never full: no LB_EBUSY */
}

static int resolve_work(lb_db_job_t *job, lb_db_t *db)
{
    lb_sku_action_t *action = H2O_STRUCT_FROM_MEMBER(resolve_job_t, job, job)->action;
    lb_order_block_t block;
    int64_t skus[LB_ORDER_ID_BLOCK];
    size_t num_skus;
    int ret = lb_store_order_get_with_block(db, action->order_id, &action->order, &block, skus, &num_skus);
    action->found = ret == 0;
    /* The whole block: a sale's payments that reach a process which did not take its orders find their SKUs so. */
    if (action->found)
        lb_order_directory_learn_block(&block, skus, num_skus);
    return ret == LB_ENOTFOUND ? 0 : ret;
}

static void resolve_done(lb_db_job_t *job, int status)
{
    resolve_job_t *resolve = H2O_STRUCT_FROM_MEMBER(resolve_job_t, job, job);
    lb_sku_action_t *action = resolve->action;
    uv_loop_t *loop = resolve->job.uv.loop;
    free(resolve);
    if (status != 0 || !action->found) {
        action->type->reset(action);
        action->type->done(action, status);
        return;
    }
    enqueue(loop, action);
}

void lb_sku_action_submit(uv_loop_t *loop, lb_sku_action_t *action)
{
    /* An order whose block this process knows needs no look-up: its SKU's lane locks and reads it (or finds none). */
    if ((action->order.sku_id = lb_order_directory_sku(action->order_id)) != 0) {
        action->order.id = action->order_id;
        enqueue(loop, action);
        return;
    }
    lb_metrics_order_lookup();
    resolve_job_t *resolve = lb_calloc(1, sizeof(*resolve));
    resolve->action = action;
    lb_db_submit(loop, &resolve->job, resolve_work, resolve_done);
}
