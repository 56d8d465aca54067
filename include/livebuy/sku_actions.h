/*
 * Per-SKU lanes for actions on one order each (a payment notify, a buyer's cancellation). Each such action locks its
 * order's SKU row, like the reservation batches: run one transaction per action and, on a hot SKU, every one of them
 * holds a database worker while it waits for the row, until the workers are all waiting and every other request
 * queues behind them. A lane instead applies its SKU's queued actions as one batch: one transaction, the SKU row
 * locked once, each order locked and decided in turn (each on what the ones before it left), one COMMIT. An idle lane
 * sends at once; a busy one gathers the next batch while one is in flight.
 */
#ifndef LIVEBUY_SKU_ACTIONS_H
#define LIVEBUY_SKU_ACTIONS_H

#include <stdint.h>
#include <uv.h>
#include "livebuy/db.h"
#include "livebuy/store.h"

typedef struct st_lb_sku_action_t lb_sku_action_t;

typedef struct st_lb_sku_action_type_t {
    /* Before each run of the batch (a retried transaction starts from its inputs): forget what apply decided. */
    void (*reset)(lb_sku_action_t *action);
    /*
     * In the batch's transaction, the SKU row and action->order locked (sku as the actions before left it): decide and
     * write. Returns 0 when nothing changed, 1 when something did (the batch commits), or an LB_E* code (the whole batch
     * fails with it; LB_EDB_RETRY runs it again).
     */
    int (*apply)(lb_db_t *db, lb_sku_action_t *action, const lb_sku_t *sku, int64_t now);
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
    lb_order_t order; /* read without a lock to find the SKU, then as locked in the batch */
    lb_sku_action_t *next;
};

/* Looks the order up (without a lock: its SKU never changes), then queues the action on its SKU's lane (this thread's). */
void lb_sku_action_submit(uv_loop_t *loop, lb_sku_action_t *action);

#endif
