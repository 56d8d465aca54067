/*
 * GET /v1/orders/{id} and POST /v1/orders/{id}/cancel (the order's buyer; anyone else's order is answered 404 like a
 * missing one), GET /v1/orders (the buyer's own, newest first, a page at a time), GET /v1/merchant/orders (a co-op's or
 * host's orders, a page at a time, by status and date, with the commission of those on live items; or as CSV pages);
 * lb_order_write, the one writer of an order as every answer shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/order/lanes.h"
#include "livebuy/order/sku_actions.h"
#include "livebuy/order/directory.h"
#include "livebuy/order/merchant_orders.h"
#include "livebuy/model/sale.h"
#include "livebuy/store/orders.h"

/* A buyer's list is read on a phone: shorter pages than a merchant's. */
#define BUYER_PAGE_DEFAULT 20
#define BUYER_PAGE_MAX     100

typedef struct st_buyer_order_job_t {
    lb_call_job_t super;
    int64_t buyer_id;
} buyer_order_job_t;

typedef struct st_buyer_orders_job_t {
    lb_call_job_t super;
    int64_t buyer_id, before, limit;
    const char *status; /* one of lb_order_statuses, or NULL for all */
} buyer_orders_job_t;

/* What GET /v1/merchant/orders answers in, by Accept: the first is the default. */
static const char *const merchant_orders_types[] = {"application/json", "application/msgpack", "text/csv"};
enum { MERCHANT_ORDERS_JSON, MERCHANT_ORDERS_MSGPACK, MERCHANT_ORDERS_CSV };

typedef struct st_merchant_orders_job_t {
    lb_page_job_t page;
    lb_order_filter_t filter; /* status: one of lb_order_statuses, or NULL for all */
    int csv;
    int64_t next; /* the last order's id when the page is full (more may follow), else 0 */
} merchant_orders_job_t;

void lb_order_write(lb_writer_t *w, const lb_order_t *order, const lb_order_details_t *details)
{
    lb_writer_map(w, NULL);
    lb_writer_pack(
        w, "id:I,sku_id:I,live_item_id:N,group_buy_id:N,qty:I,unit_price_cents:I,amount_cents:I,status:s,expires_at:I,created_at:I",
        order->id, order->sku_id, order->live_item_id, order->group_buy_id, order->qty, order->unit_price_cents,
        order->amount_cents, order->status, order->expires_at, order->created_at);
    if (order->has_ship_to)
        lb_writer_pack(w, "ship_to:{name:s,phone:s,address:s}", order->ship_to_name, order->ship_to_phone, order->ship_to_address);
    else
        lb_writer_null(w, "ship_to");
    lb_writer_pack(w, "pickup_point_id:N,title:s", order->pickup_point_id, details->title);
    /* Only a reservation has a time to pay by; once paid (or gone) expires_at is history. */
    lb_writer_pack(w, "pay_by:N", strcmp(order->status, "reserved") == 0 ? order->expires_at : (int64_t)0);
    if (details->shipment_id != 0) {
        lb_writer_map(w, "shipment");
        lb_writer_pack(w, "id:I,status:s", details->shipment_id, details->shipment_status);
        if (details->tracking_no[0] != '\0')
            lb_writer_string(w, "tracking_no", details->tracking_no);
        else
            lb_writer_null(w, "tracking_no");
        lb_writer_pack(w, "delivery_status:s", details->delivery_status);
        lb_writer_end(w);
    } else {
        lb_writer_null(w, "shipment");
    }
    if (details->pickup_point_id != 0)
        lb_writer_pack(w, "pickup_point:{id:I,name:s,address:s}", details->pickup_point_id, details->pickup_point_name,
                       details->pickup_point_address);
    else
        lb_writer_null(w, "pickup_point");
    if (details->refund_id != 0)
        lb_writer_pack(w, "refund:{id:I,status:s,cause:s,amount_cents:I,reason:s}", details->refund_id, details->refund_status,
                       details->refund_cause, details->refund_amount_cents, details->refund_reason);
    else
        lb_writer_null(w, "refund");
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
    if (ret == LB_ENOTFOUND)
        return order_not_found(super);
    if (ret != 0)
        return ret;
    lb_order_directory_learn(order.id, order.sku_id);
    if (order.buyer_id != job->buyer_id)
        return order_not_found(super);
    lb_order_details_t details;
    if ((ret = lb_store_orders_details(db, &order, 1, &details)) != 0)
        return ret;
    lb_writer_t *w = lb_call_job_answer(super, 200);
    lb_order_write(w, &order, &details);
    lb_writer_end(w);
    return 0;
}

/* A buyer's cancellation, applied in its SKU's action lane (server/order/sku_actions.c) with the SKU's other such actions. */
typedef struct st_cancel_t {
    lb_sku_action_t action;
    lb_call_t *call;
    int64_t buyer_id;
    int conflict;               /* the order is not reserved (any more) */
    lb_order_details_t details; /* read in the transaction that cancelled it, for the answer */
} cancel_t;

static void cancel_reset(lb_sku_action_t *action)
{
    ((cancel_t *)action)->conflict = 0;
}

static int cancel_apply(lb_db_t *db, lb_sku_action_t *action, lb_sku_view_t *sku, int64_t now)
{
    cancel_t *cancel = (cancel_t *)action;
    (void)db;
    (void)now;
    /* Not this buyer's order: answered 404 by cancel_done. */
    if (action->order.buyer_id != cancel->buyer_id)
        return 0;
    if ((cancel->conflict = strcmp(action->order.status, "reserved") != 0) != 0)
        return 0;
    /* Written with the job's other cancellations, and the details read with theirs; 1: the stock changed. */
    lb_sku_view_cancel(sku, &action->order);
    action->details = &cancel->details;
    return 1;
}

static void cancel_done(lb_sku_action_t *action, int status)
{
    cancel_t *cancel = (cancel_t *)action;
    const lb_order_t *order = &action->order;
    if (status != 0)
        lb_reply_failure(cancel->call, status);
    else if (!action->found || order->buyer_id != cancel->buyer_id)
        lb_reply_error(cancel->call, 404, "not_found", "no order %lld", (long long)action->order_id);
    else if (cancel->conflict)
        lb_reply_error(cancel->call, 409, "conflict", "order %lld is %s: only reserved orders can be cancelled",
                       (long long)order->id, order->status);
    else {
        /* the units are back, so this thread's order lane for the SKU may sell again */
        lb_lanes_stock_changed(order->sku_id);
        lb_writer_t w;
        lb_writer_start(cancel->call, &w);
        lb_order_write(&w, order, &cancel->details);
        lb_writer_end(&w);
        lb_reply_written(cancel->call, 200, &w);
    }
    lb_call_release(cancel->call);
    free(cancel);
}

static const lb_sku_action_type_t cancel_type = {cancel_reset, cancel_apply, cancel_done};

void lb_handle_order_get(lb_call_t *call)
{
    int64_t buyer_id;
    if (lb_auth_buyer(call, &buyer_id) != 0)
        return;
    buyer_order_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->buyer_id = buyer_id;
    lb_call_job_submit(&job->super, order_get_work);
}

void lb_handle_order_cancel(lb_call_t *call)
{
    int64_t buyer_id;
    if (lb_auth_buyer(call, &buyer_id) != 0)
        return;
    cancel_t *cancel = lb_calloc(1, sizeof(*cancel));
    cancel->action.type = &cancel_type;
    cancel->action.order_id = call->id;
    cancel->call = call;
    lb_call_retain(call);
    cancel->buyer_id = buyer_id;
    lb_sku_action_submit(call->loop, &cancel->action);
}

/* An order on a live item shows how its amount splits between the host and the co-op (livebuy/model/sale.h). */
static void write_order_money(lb_writer_t *w, const lb_order_t *order, int64_t commission_bp)
{
    if (order->live_item_id == 0)
        return;
    lb_sale_money_t money = lb_sale_money(order->qty, order->unit_price_cents, commission_bp);
    lb_writer_pack(w, "commission_cents:I,coop_share_cents:I", money.commission_cents, money.coop_share_cents);
}

/*
 * A page of orders, {"orders": [...], "next"}, each with its details; a merchant's (commission_bp not NULL) also with
 * buyer_id and how its amount splits.
 */
static void write_orders_page(lb_writer_t *w, const lb_order_t *orders, const lb_order_details_t *details,
                              const int64_t *commission_bp, size_t n, int64_t limit)
{
    lb_writer_map(w, NULL);
    lb_writer_array(w, "orders");
    for (size_t i = 0; i != n; ++i) {
        lb_order_write(w, &orders[i], &details[i]);
        if (commission_bp != NULL) {
            lb_writer_integer(w, "buyer_id", orders[i].buyer_id);
            write_order_money(w, &orders[i], commission_bp[i]);
        }
        lb_writer_end(w);
    }
    lb_writer_end(w);
    lb_writer_pack(w, "next:N", n != 0 && n == (size_t)limit ? orders[n - 1].id : 0);
    lb_writer_end(w);
}

/* Reads the details of a page of orders and answers the page: as a map, or (csv) as a CSV of its own. */
static int answer_orders_page(lb_call_job_t *job, lb_db_t *db, const lb_order_t *orders, const int64_t *commission_bp, size_t n,
                              int64_t limit, int csv)
{
    lb_order_details_t *details = lb_malloc((n != 0 ? n : 1) * sizeof(*details));
    int ret = lb_store_orders_details(db, orders, n, details);
    if (ret == 0 && csv)
        lb_orders_csv_write(&lb_call_job_answer(job, 200)->out, orders, details, n);
    else if (ret == 0)
        write_orders_page(lb_call_job_answer(job, 200), orders, details, commission_bp, n, limit);
    free(details);
    return ret;
}

static int buyer_orders_work(lb_call_job_t *super, lb_db_t *db)
{
    buyer_orders_job_t *job = (buyer_orders_job_t *)super;
    lb_order_t *orders = lb_malloc((size_t)job->limit * sizeof(*orders));
    size_t found;
    int ret = lb_store_buyer_orders_page(db, job->buyer_id, job->status, job->before, job->limit, orders, &found);
    if (ret == 0)
        ret = answer_orders_page(super, db, orders, NULL, found, job->limit, 0);
    free(orders);
    return ret;
}

void lb_handle_buyer_orders(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int64_t buyer_id, after = INT64_MAX, limit = BUYER_PAGE_DEFAULT;
    int status = -1;
    if (lb_auth_buyer(call, &buyer_id) != 0)
        return;
    if (lb_call_query_enum(call, "status", lb_order_statuses, &status, &err) != 0 ||
        lb_call_query_int(call, "after", 1, INT64_MAX, &after, &err) != 0 ||
        lb_call_query_int(call, "limit", 1, BUYER_PAGE_MAX, &limit, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    buyer_orders_job_t *job = lb_call_job_new(call, sizeof(*job));
    job->buyer_id = buyer_id;
    job->before = after;
    job->limit = limit;
    job->status = status >= 0 ? lb_order_statuses[status] : NULL;
    lb_call_job_submit(&job->super, buyer_orders_work);
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
    int64_t *commission_bp = lb_malloc((size_t)page->limit * sizeof(*commission_bp));
    if ((ret = lb_order_merchant_orders(db, &merchant, &job->filter, page->after, page->limit, orders, commission_bp, &found)) == 0)
        ret = answer_orders_page(super, db, orders, commission_bp, found, page->limit, job->csv);
    job->next = found != 0 && found == (size_t)page->limit ? orders[found - 1].id : 0;
    free(commission_bp);
    free(orders);
    return ret;
}

/* Appends "&name=value" (the value as the request spelt it) when the request has the parameter. */
static size_t append_query(lb_call_t *call, const char *name, char *out, size_t len, size_t size)
{
    h2o_iovec_t value = lb_call_query_raw(call, name);
    if (value.base != NULL && len < size)
        len += (size_t)snprintf(out + len, size - len, "&%s=%.*s", name, (int)value.len, value.base);
    return len;
}

/*
 * On the loop, before the answer: a full page links to the next one with the same filter (Link: <...>; rel="next"), so
 * that a client (the dashboard's CSV export) follows the links to the end; a CSV is a file to save.
 */
static void merchant_orders_headers(lb_call_job_t *super)
{
    merchant_orders_job_t *job = (merchant_orders_job_t *)super;
    lb_call_t *call = super->call;
    if (call->req == NULL)
        return;
    if (job->next != 0) {
        char link[1024];
        size_t len = (size_t)snprintf(link, sizeof(link), "</v1/merchant/orders?after=%lld", (long long)job->next);
        static const char *const kept[] = {"status", "from", "to", "limit"};
        for (size_t i = 0; i != sizeof(kept) / sizeof(kept[0]); ++i)
            len = append_query(call, kept[i], link, len, sizeof(link));
        if (len + sizeof(">; rel=\"next\"") <= sizeof(link)) {
            strcpy(link + len, ">; rel=\"next\"");
            lb_call_add_header_copy(call, "link", link);
        }
    }
    if (job->csv)
        lb_call_add_header(call, "content-disposition", "attachment; filename=\"livebuy-orders.csv\"");
}

/* ?from= and ?to= (a day in China time or an RFC 3339 time; to takes the whole of a day) into the filter. */
static int read_date_range(lb_call_t *call, lb_order_filter_t *filter, lb_input_error_t *err)
{
    filter->created_from = 0;
    filter->created_to = INT64_MAX;
    if (lb_call_query_time(call, "from", 0, &filter->created_from, err) != 0 ||
        lb_call_query_time(call, "to", 1, &filter->created_to, err) != 0)
        return LB_EINPUT;
    if (filter->created_from >= filter->created_to)
        return lb_input_error(err, 422, "invalid", "from must be before to");
    return 0;
}

void lb_handle_merchant_orders(lb_call_t *call)
{
    lb_input_error_t err = {0};
    int type = lb_call_negotiate(call, merchant_orders_types, sizeof(merchant_orders_types) / sizeof(merchant_orders_types[0]));
    if (type < 0)
        return;
    if (type != MERCHANT_ORDERS_CSV)
        call->answer_format = type == MERCHANT_ORDERS_MSGPACK ? LB_FORMAT_MSGPACK : LB_FORMAT_JSON;
    merchant_orders_job_t *job = (merchant_orders_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    int status = -1;
    if (lb_call_query_enum(call, "status", lb_order_statuses, &status, &err) != 0 ||
        read_date_range(call, &job->filter, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    job->filter.status = status >= 0 ? lb_order_statuses[status] : NULL;
    job->csv = type == MERCHANT_ORDERS_CSV;
    if (job->csv) {
        /* An export takes the largest page unless it asks for less: fewer requests for a whole month. */
        if (lb_call_query(call, "limit").base == NULL)
            job->page.limit = LB_PAGE_MAX;
        job->page.super.answer_type = "text/csv; charset=utf-8";
    }
    job->page.super.on_done = merchant_orders_headers;
    lb_call_job_submit(&job->page.super, merchant_orders_work);
}
