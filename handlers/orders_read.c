/*
 * GET /v1/orders/{id} and POST /v1/orders/{id}/cancel (the order's buyer; anyone else's order is answered 404 like a
 * missing one), GET /v1/merchant/orders (a co-op's or host's orders, a page at a time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/lanes.h"
#include "livebuy/store.h"

typedef struct st_buyer_order_job_t {
    lb_call_job_t super;
    int64_t buyer_id;
    int64_t sku_id; /* of the order cancelled, for the lanes */
} buyer_order_job_t;

typedef struct st_merchant_orders_job_t {
    lb_page_job_t page;
    const char *status; /* one of lb_order_statuses, or NULL for all */
} merchant_orders_job_t;

static json_t *id_or_null(int64_t id)
{
    return id != 0 ? json_integer(id) : json_null();
}

/* An order as GET /v1/orders/{id} shows it. */
static json_t *order_to_json(const lb_order_t *order)
{
    json_t *ship_to = order->has_ship_to ? json_pack("{s:s,s:s,s:s}", "name", order->ship_to_name, "phone", order->ship_to_phone,
                                                     "address", order->ship_to_address)
                                         : json_null();
    return json_pack("{s:I,s:I,s:o,s:o,s:I,s:I,s:I,s:s,s:I,s:I,s:o,s:o}", "id", (json_int_t)order->id, "sku_id",
                     (json_int_t)order->sku_id, "live_item_id", id_or_null(order->live_item_id), "group_buy_id",
                     id_or_null(order->group_buy_id), "qty", (json_int_t)order->qty, "unit_price_cents",
                     (json_int_t)order->unit_price_cents, "amount_cents", (json_int_t)order->amount_cents, "status", order->status,
                     "expires_at", (json_int_t)order->expires_at, "created_at", (json_int_t)order->created_at, "ship_to", ship_to,
                     "pickup_point_id", id_or_null(order->pickup_point_id));
}

static int order_not_found(lb_call_job_t *job)
{
    return lb_call_job_fail(job, 404, "not_found", "no order %lld", (long long)job->call->id);
}

static int order_get_work(lb_call_job_t *super, lb_db_t *db)
{
    buyer_order_job_t *job = (buyer_order_job_t *)super;
    lb_order_t order;
    int ret = lb_store_order_get(db, super->call->id, &order);
    if (ret < 0)
        return ret;
    if (ret == 0 || order.buyer_id != job->buyer_id)
        return order_not_found(super);
    return lb_call_job_answer(super, 200, order_to_json(&order));
}

static int order_cancel_work(lb_call_job_t *super, lb_db_t *db)
{
    buyer_order_job_t *job = (buyer_order_job_t *)super;
    lb_order_t order;
    int ret;
    switch ((ret = lb_store_order_cancel(db, super->call->id, job->buyer_id, &order))) {
    case 1:
        job->sku_id = order.sku_id;
        return lb_call_job_answer(super, 200, order_to_json(&order));
    case 0:
        return order_not_found(super);
    case LB_ECONFLICT:
        return lb_call_job_fail(super, 409, "conflict", "order %lld is %s: only reserved orders can be cancelled",
                                (long long)order.id, order.status);
    default:
        return ret;
    }
}

/* On the loop thread: the units are back, so this thread's lane for the SKU may sell again. */
static void order_cancelled(lb_call_job_t *super)
{
    lb_lanes_stock_changed(((buyer_order_job_t *)super)->sku_id);
}

static void submit_buyer_order_job(lb_call_t *call, lb_call_work_cb work, void (*on_done)(lb_call_job_t *job))
{
    int64_t buyer_id;
    if (lb_auth_buyer(call, &buyer_id) != 0)
        return;
    buyer_order_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->buyer_id = buyer_id;
    job->super.on_done = on_done;
    lb_call_job_submit(&job->super, work);
}

void lb_handle_order_get(lb_call_t *call)
{
    submit_buyer_order_job(call, order_get_work, NULL);
}

void lb_handle_order_cancel(lb_call_t *call)
{
    submit_buyer_order_job(call, order_cancel_work, order_cancelled);
}

static json_t *orders_page_to_json(const lb_order_t *orders, size_t n, int64_t limit)
{
    json_t *array = json_array();
    for (size_t i = 0; i != n; ++i) {
        json_t *order = order_to_json(&orders[i]);
        json_object_set_new(order, "buyer_id", json_integer(orders[i].buyer_id));
        json_array_append_new(array, order);
    }
    json_t *next = n != 0 && n == (size_t)limit ? json_integer(orders[n - 1].id) : json_null();
    return json_pack("{s:o,s:o}", "orders", array, "next", next);
}

static int merchant_orders_work(lb_call_job_t *super, lb_db_t *db)
{
    merchant_orders_job_t *job = (merchant_orders_job_t *)super;
    const lb_page_job_t *page = &job->page;
    lb_merchant_t merchant;
    size_t found;
    int ret = lb_auth_merchant(super, db, page->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &merchant);
    if (ret != 0)
        return ret;
    lb_order_t *orders = lb_malloc((size_t)page->limit * sizeof(*orders));
    if ((ret = lb_store_merchant_orders(db, merchant.id, job->status, page->after, page->limit, orders, &found)) == 0)
        ret = lb_call_job_answer(super, 200, orders_page_to_json(orders, found, page->limit));
    free(orders);
    return ret;
}

/* Reads the optional status parameter: one of lb_order_statuses. */
static int query_status(lb_call_t *call, const char **status, lb_input_error_t *err)
{
    h2o_iovec_t value = lb_call_query(call, "status");
    char allowed[256];
    size_t len = 0;
    if (value.base == NULL)
        return 0;
    for (const char *const *s = lb_order_statuses; *s != NULL; ++s) {
        if (h2o_memis(value.base, value.len, *s, strlen(*s))) {
            *status = *s;
            return 0;
        }
        len += (size_t)snprintf(allowed + len, sizeof(allowed) - len, "%s%s", s == lb_order_statuses ? "" : ", ", *s);
    }
    return lb_input_error(err, 422, "invalid", "status must be one of %s", allowed);
}

void lb_handle_merchant_orders(lb_call_t *call)
{
    lb_input_error_t err = {0};
    merchant_orders_job_t *job = (merchant_orders_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    if (query_status(call, &job->status, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    lb_call_job_submit(&job->page.super, merchant_orders_work);
}
