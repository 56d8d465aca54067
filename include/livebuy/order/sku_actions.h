/*
 * Per-SKU lanes for actions on one order each (a payment notify, a buyer's cancellation). Each such action locks its
 * order's SKU row, like the reservation batches: run one transaction per action and, on a hot SKU, every one of them
 * holds a database worker while it waits for the row, until the workers are all waiting and every other request
 * queues behind them. A lane instead applies its SKU's queued actions as one batch: one transaction, the SKU row
 * locked once, each order locked and decided in turn (each on what the ones before it left), one COMMIT. An idle lane
 * sends at once; a busy one gathers the next batch while one is in flight. Like the reservations (lb_lanes_share_jobs),
 * the batches of several SKUs share a transaction when a loop thread has its jobs out already.
 */
#ifndef LIVEBUY_SKU_ACTIONS_H
#define LIVEBUY_SKU_ACTIONS_H

#include <stdint.h>
#include <uv.h>
#include "livebuy/db/db.h"
#include "livebuy/model/order.h"
#include "livebuy/model/payment.h"
#include "livebuy/model/shipment.h"
#include "livebuy/model/sku.h"

typedef struct st_lb_sku_action_t lb_sku_action_t;

/*
 * The batch's SKU as its transaction last read it. After an action changed the SKU's counters it is stale: an action
 * that decides on the stock calls lb_sku_view_fresh first; the others need no read. What does not change within the
 * transaction (the shipping title) is read once per batch, by lb_sku_view_shipping.
 *
 * Writes that decide nothing are gathered here and made once, before anything reads the counters again
 * (lb_sku_view_fresh, lb_sku_view_flush) and before the batch commits: counter changes (a reserved order paid moves
 * units from reserved to sold; lb_sku_view_add), one UPDATE of the SKU and one per live item instead of two per
 * payment; the payments recorded and the shipments written (lb_sku_view_add_payment, lb_sku_view_add_shipment), a few
 * multi-row statements instead of three per payment.
 */
#define LB_SKU_VIEW_ITEMS 16
typedef struct st_lb_sku_view_t {
    lb_sku_t sku;
    int stale, shipping_read;
    char title[LB_TEXT_SIZE(401)]; /* product title and SKU name, for shipments */
    int64_t cold_chain;
    int64_t now; /* the batch's time, for what the view writes */
    /* not written yet: the SKU's reserved and sold, and those of up to LB_SKU_VIEW_ITEMS live items */
    int64_t reserved, sold;
    struct {
        int64_t id, reserved, sold;
    } items[LB_SKU_VIEW_ITEMS];
    size_t num_items;
    /* payments recorded before the batch under its actions' transaction ids (provider_txn_id points to the action's) */
    lb_payment_row_t *recorded;
    size_t num_recorded;
    /* the batch's payments to record, not written yet from payments_written on, and shipments (their payloads the
     * view's), not written yet */
    lb_payment_row_t *payments;
    lb_shipment_t *shipments;
    size_t num_payments, num_shipments, payments_capacity, shipments_capacity;
    /* payments[0..payments_written) are written already (a flush before an action read its order again), and still
     * the batch's: a copy of a notice later in the batch is their replay, not a second payment of a paid order */
    size_t payments_written;
    /* not written yet: the actions' orders whose new status is in memory only (they live until the batch is answered) */
    const lb_order_t **statuses;
    size_t num_statuses, statuses_capacity;
    /* not released yet: the actions' reserved orders cancelled (their status and units written by lb_sku_view_flush) */
    lb_order_t **cancels;
    size_t num_cancels, cancels_capacity;
} lb_sku_view_t;

/* Reads the SKU row again (still locked) if an action changed it since, after writing what is added up; 0 or an LB_E*. */
int lb_sku_view_fresh(lb_db_t *db, lb_sku_view_t *view);
/*
 * Adds to the SKU's reserved and sold (and to those of live item live_item_id, if not 0), to be written by
 * lb_sku_view_flush; 0, or an LB_E* code when it had to write what was added up to make room.
 */
int lb_sku_view_add(lb_db_t *db, lb_sku_view_t *view, int64_t live_item_id, int64_t reserved, int64_t sold);
/*
 * A payment to record (provider_txn_id must outlive the batch); and the one the batch gathered for a transaction id
 * (written since or not), or NULL.
 */
void lb_sku_view_add_payment(lb_sku_view_t *view, const lb_payment_row_t *payment);
const lb_payment_row_t *lb_sku_view_payment(const lb_sku_view_t *view, const char *provider_txn_id);
/* The payment recorded before this batch under a transaction id of one of its actions, or NULL. */
const lb_payment_row_t *lb_sku_view_recorded(const lb_sku_view_t *view, const char *provider_txn_id);
/*
 * Sets an action's (locked) order's status and updated_at in memory, to be written with the batch's others by
 * lb_sku_view_flush (before the batch reads an order again, and at its end): one round trip for a job's payments.
 */
void lb_sku_view_set_status(lb_sku_view_t *view, lb_order_t *order, const char *status, int64_t now);
/*
 * Cancels an action's (locked, reserved) order: its status and units (back to the SKU, or its live item's quota, or out
 * of its group-buy) are written with the job's others by lb_sku_view_flush (lb_store_orders_release_each), which sets
 * the order's status in memory then. The SKU's counters change: apply returns 1.
 */
void lb_sku_view_cancel(lb_sku_view_t *view, lb_order_t *order);
/* A direct order's shipment to write; the view takes payload (malloc'd). */
void lb_sku_view_add_shipment(lb_sku_view_t *view, const lb_order_t *order, char *payload, size_t payload_len);
/* Writes what was gathered; 0 or an LB_E* code (LB_EDB_DUP: a transaction id was recorded meanwhile). */
int lb_sku_view_flush(lb_db_t *db, lb_sku_view_t *view);
/* Frees what the view holds (after the batch, whether it committed or not). */
void lb_sku_view_dispose(lb_sku_view_t *view);
/* Fills title and cold_chain (once per batch); 0 or an LB_E* code. */
int lb_sku_view_shipping(lb_db_t *db, lb_sku_view_t *view);

typedef struct st_lb_sku_action_type_t {
    /* Before each run of the batch (a retried transaction starts from its inputs): forget what apply decided. */
    void (*reset)(lb_sku_action_t *action);
    /*
     * In the batch's transaction, the SKU row and action->order locked: decide and write. Returns 0 when nothing
     * changed, 1 when something did (the batch commits; the SKU view is then stale), or an LB_E* code (the whole batch
     * fails with it; LB_EDB_RETRY runs it again).
     */
    int (*apply)(lb_db_t *db, lb_sku_action_t *action, lb_sku_view_t *sku, int64_t now);
    /*
     * On the loop thread, once: status 0 with action->found (0: no such order) and what apply decided, or an LB_E* code.
     * Answers, then frees the action.
     */
    void (*done)(lb_sku_action_t *action, int status);
} lb_sku_action_type_t;

struct st_lb_sku_action_t {
    const lb_sku_action_type_t *type;
    int64_t order_id;
    int found;
    int locked;                  /* the batch locked its order with the others' (sku_actions.c, lock_orders) */
    const char *provider_txn_id; /* a payment's, looked up with the batch's others before any decides; else NULL */
    lb_order_t order;            /* read without a lock to find the SKU, then as locked in the batch */
    lb_order_details_t *details; /* set by apply: the job reads the order's details into it, with the others', at its end */
    lb_sku_action_t *next;
};

/*
 * Lets a loop thread have jobs transactions of actions out (0: no limit, and no sharing), each with the batches of up to
 * skus_per_job SKUs whose ids are equal modulo shards (see lb_lanes_share_jobs).
 */
void lb_sku_actions_share_jobs(unsigned jobs, unsigned skus_per_job, unsigned shards);

/* Looks the order up (without a lock: its SKU never changes), then queues the action on its SKU's lane (this thread's). */
void lb_sku_action_submit(uv_loop_t *loop, lb_sku_action_t *action);

#endif
